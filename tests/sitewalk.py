"""Walk a published output tree the way a reader and a crawler would: every internal link of
every page, post file, feed and the OPML file, and every page's menu and site title.

`walk(out, base_url)` returns what it found; the checks in it fail with the file and the
link that is wrong. An absolute link under `base_url` counts as internal (feeds and OPML
link so), as does a protocol-relative one (post files); a link to one of `old_bases` is
stale wherever it points.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from lxml import etree

ATOM = "{http://www.w3.org/2005/Atom}"
_MARKDOWN_LINK = re.compile(r"\]\((//[^)\s]+)\)")
_HIDDEN = (".tmp", ".fingerprint.json")


@dataclass(slots=True)
class Walk:
    """What the walk found: the menu of each page (its links' targets and texts), the site
    title each page shows, and how many internal links resolved."""

    menus: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    titles: dict[str, str] = field(default_factory=dict)
    links: int = 0

    def menu(self) -> list[tuple[str, str]]:
        """The one menu every page shows (fails when two pages differ)."""
        menus = {tuple(m) for m in self.menus.values()}
        assert len(menus) == 1, f"pages show {len(menus)} different menus: {sorted(menus)}"
        return list(menus.pop())


def _files(out: Path, suffix: str) -> list[Path]:
    return [
        p
        for p in sorted(out.rglob(f"*{suffix}"))
        if not any(part in _HIDDEN for part in p.relative_to(out).parts)
    ]


def _html(path: Path) -> etree._Element:
    return etree.parse(str(path), etree.HTMLParser(encoding="utf-8")).getroot()


def walk(out: Path, base_url: str, *, old_bases: Iterable[str] = ()) -> Walk:
    """Check every internal link under `out` resolves to a file, and none goes to an old
    base; gather each page's menu and site title."""
    result = Walk()
    stale = [b for b in old_bases if not base_url.startswith(b)]
    site = "https://" + base_url.split("://", 1)[1]

    def check(where: Path, link: str | None, page_url: str) -> None:
        if not link or link.startswith(("mailto:", "#")):
            return
        for old in stale:
            assert not link.startswith((old, "//" + old.split("://", 1)[1])), (
                f"{where.relative_to(out)}: {link} links the old base {old}"
            )
        url = urljoin(page_url, "https:" + link if link.startswith("//") else link)
        url = "https://" + url.split("://", 1)[1] if "://" in url else url
        if not url.startswith(site):
            return  # another site's
        path = urlsplit(url).path.removeprefix(urlsplit(site).path)
        target = out / (path + "index.html" if path.endswith("/") or not path else path)
        assert target.is_file(), f"{where.relative_to(out)}: {link} -> {target.relative_to(out)}"
        result.links += 1

    for page in _files(out, ".html"):
        here = page.relative_to(out).as_posix()
        doc = _html(page)
        url = site + here
        for element in doc.iter("a", "link", "img", "script"):
            check(page, element.get("href") or element.get("src"), url)
        result.menus[here] = [
            (urljoin(url, a.get("href", "")).removeprefix(site), a.text or "")
            for a in doc.iterfind(".//nav[@class='categories']/a")
        ]
        result.titles[here] = "".join(doc.find(".//header//h1/a").itertext())
    for feed in _files(out, ".xml"):
        root = etree.parse(str(feed)).getroot()
        for link in root.iter(f"{ATOM}link"):
            if link.get("rel") != "hub":
                check(feed, link.get("href"), site)
    for opml in _files(out, ".opml"):
        for outline in etree.parse(str(opml)).getroot().iter("outline"):
            for name in ("xmlUrl", "htmlUrl"):
                check(opml, outline.get(name), site)
    for post in _files(out, ".md"):
        for link in _MARKDOWN_LINK.findall(post.read_text(encoding="utf-8")):
            check(post, link, site)
    return result
