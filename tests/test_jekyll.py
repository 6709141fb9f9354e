"""Hostile feeds and a hostile OPML file through the real CLI, the posts built by a real
Jekyll (kramdown, Liquid), and the built pages opened in headless Chromium: no script
runs, no `javascript:` link, no config value leaks, and the build succeeds."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from chromium import MISSING, chromium
from clirunner import run_cli, validate_feeds
from httpserver import FeedServer

pytestmark = pytest.mark.slow

JEKYLL = shutil.which("jekyll")
SECRET = "SECRET-7f3a9c"  # in the site's _config.yml: must never reach a built page

webdriver = pytest.importorskip(
    "selenium.webdriver", reason="selenium is missing (pip install -e '.[test]')"
)
if JEKYLL is None:
    pytest.skip(
        "jekyll is missing (apt-get install jekyll; .ci/run installs it)", allow_module_level=True
    )
if MISSING:
    pytest.skip(MISSING, allow_module_level=True)

# Each payload, should it run, sets window.__pwned or calls alert().
RUN = "window.__pwned=1"
LIQUID_LEAK = "{{ site.secret_api_key }}"
LIQUID_ABORT = "{% raise %}"
MARKDOWN_LINK = f"[click me](javascript:{RUN})"
KRAMDOWN_IAL = f'*x*{{: autofocus onfocus="{RUN}" tabindex="1"}}'
NESTED = "<div>" * 2000 + "deep" + "</div>" * 2000


def _xml(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def hostile_rss(port: int) -> bytes:
    channel_title = f"Channel {LIQUID_LEAK} {MARKDOWN_LINK}"
    items = [
        # A link holding ">" and '"' (XML-escaped in the feed): an autolink must not end early.
        dict(
            title=f'Quote " and {LIQUID_LEAK}',
            link=f'https://ex.org/a"><script>{RUN}</script><x y="',
            guid="g1",
            description=f"<p>First {LIQUID_LEAK}</p>",
        ),
        # A plain-text body: Markdown and a kramdown attribute list in it are only text.
        dict(
            title="Plain text body",
            link="https://ex.org/b",
            guid="g2",
            description=f"Text {MARKDOWN_LINK} and {KRAMDOWN_IAL} then {LIQUID_ABORT}",
            plain=True,
        ),
        # Liquid in the link alone: a leaked value and a tag that would abort the build.
        dict(
            title="Liquid link",
            link=f"https://ex.org/{LIQUID_LEAK}?q={LIQUID_ABORT}",
            guid="g3",
            description="<p>third</p>",
        ),
        # 2,000 nested divs: kramdown's stack must not run out.
        dict(title="Deep", link="https://ex.org/d", guid="g4", description=NESTED),
        # Text after a closing tag, an image and a link at the top level, an IAL after a block.
        dict(
            title=f"Mixed {MARKDOWN_LINK}",
            link="https://ex.org/e",
            guid="g5",
            description=(
                f"<p>para</p>{MARKDOWN_LINK}<a href='https://ex.org/'>top link</a>"
                f'<p>x</p>\n{{: onmouseover="{RUN}"}}\n    <p>indented</p>'
            ),
        ),
        # Schemes that must never be links, in every field that holds a URL.
        dict(
            title="Schemes",
            link=f"javascript:{RUN}",
            guid=f"javascript:{RUN}",
            description=(
                f'<p><a href="javascript:{RUN}">a</a><img src="x" onerror="{RUN}">'
                f'<a href="data:text/html,&lt;script&gt;{RUN}&lt;/script&gt;">d</a></p>'
            ),
            enclosure=f"javascript:{RUN}",
        ),
    ]
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>',
        f"<title>{_xml(channel_title)}</title><link>javascript:{RUN}</link>",
        "<description>hostile</description>",
    ]
    for n, item in enumerate(items):
        body = str(item["description"])
        description = _xml(body) if item.get("plain") else f"<![CDATA[{body}]]>"
        enclosure = (
            f'<enclosure url="{_xml(str(item["enclosure"]))}" type="audio/mpeg" length="1"/>'
            if "enclosure" in item
            else ""
        )
        parts.append(
            f"<item><title>{_xml(str(item['title']))}</title><link>{_xml(str(item['link']))}</link>"
            f'<guid isPermaLink="false">{_xml(str(item["guid"]))}</guid>'
            f"<author>{_xml(LIQUID_LEAK)} {_xml(MARKDOWN_LINK)}</author>"
            f"<category>{_xml(LIQUID_LEAK)}</category>"
            f"<pubDate>Sun, 26 Dec 2021 0{n}:35:42 GMT</pubDate>"
            f"<description>{description}</description>{enclosure}</item>"
        )
    parts.append("</channel></rss>")
    return "".join(parts).encode()


def hostile_opml(url: str) -> str:
    name = f"OPML {LIQUID_LEAK} {MARKDOWN_LINK} {KRAMDOWN_IAL} &lt;b&gt;"
    group = f"Group {LIQUID_LEAK} {MARKDOWN_LINK}"
    return (
        '<?xml version="1.0"?><opml version="2.0"><head><title>t</title></head><body>'
        f'<outline text="{_xml(group)}">'
        f'<outline type="rss" text="{_xml(name)}" title="{_xml(name)}" xmlUrl="{_xml(url)}"/>'
        "</outline></body></opml>"
    )


@pytest.fixture
def built_site(tmp_path: Path, feed_server: FeedServer) -> Iterator[Path]:
    """The hostile posts published by the real CLI, then built by Jekyll."""
    feed_server.add("/hostile.rss", hostile_rss(feed_server.port))
    feed_server.add("/opml.rss", hostile_rss(feed_server.port).replace(b'false">g', b'false">o'))
    config = {
        "site": {
            "title": "Site",
            "base_url": "https://news.example.org/",
            "output_dir": "out",
            "timezone": "UTC",
            "language": "en",
        },
        "database": "sqlite:///test.db",
        "fetch": {"connect_timeout": "1s", "read_timeout": "2s", "total_timeout": "3s"},
        "categories": {
            "evil": {"title": f"Evil {LIQUID_LEAK} {LIQUID_ABORT} {MARKDOWN_LINK} {KRAMDOWN_IAL}"}
        },
        "sources": [
            {
                "name": f"Name {LIQUID_LEAK} {MARKDOWN_LINK} </p><script>{RUN}</script>",
                "url": feed_server.url("/hostile.rss"),
                "category": "evil",
            }
        ],
        "source_lists": ["feeds/*.yaml"],
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    (tmp_path / "feeds").mkdir()
    opml = tmp_path / "hostile.opml"
    opml.write_text(hostile_opml(feed_server.url("/opml.rss")), encoding="utf-8")
    run_cli(path, "sources", "import", str(opml))
    proc = run_cli(path, "run", "--once")
    # The javascript: link is left out, and the operator is told.
    assert "item link(s) left out, not http(s) URLs (first: 'javascript:window" in proc.stderr
    out = tmp_path / "out"
    posts = sorted((out / "_posts").glob("*.md"))
    assert len(posts) >= 10, [p.name for p in posts]
    assert validate_feeds(out) >= 2

    # A Jekyll site around the posts, with a value in _config.yml that must not leak.
    (out / "_config.yml").write_text(
        f"secret_api_key: {SECRET}\nexclude: [atom.xml, category, tag, '*.xml']\n",
        encoding="utf-8",
    )
    layouts = out / "_layouts"
    layouts.mkdir()
    (layouts / "post.html").write_text(
        "<!doctype html><html><head><meta charset='utf-8'><title>{{ page.title | escape }}"
        "</title></head><body><h1>{{ page.title | escape }}</h1>{{ content }}</body></html>\n",
        encoding="utf-8",
    )
    built = tmp_path / "built"
    proc = subprocess.run(
        [str(JEKYLL), "build", "--source", str(out), "--destination", str(built), "--trace"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env={**os.environ, "JEKYLL_ENV": "production"},
    )
    assert proc.returncode == 0, f"jekyll build failed:\n{proc.stdout}\n{proc.stderr}"
    assert "Liquid" not in proc.stderr, proc.stderr
    yield built


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    with chromium(tmp_path / "chromium-profile", window=None) as driver:
        yield driver


# Run in each page: anything that could run script (handlers, javascript:/data: URLs,
# script elements) and whether a payload already ran.
_PROBE = """
const bad = [];
for (const el of document.querySelectorAll('*')) {
  for (const a of el.attributes) {
    const name = a.name.toLowerCase(), value = a.value.trim().toLowerCase();
    if (name.startsWith('on')) bad.push(el.tagName + ' ' + name);
    if (['href', 'src', 'action', 'formaction'].includes(name)
        && (value.startsWith('javascript:') || value.startsWith('data:text')
            || value.startsWith('vbscript:')))
      bad.push(el.tagName + ' ' + name + '=' + value);
  }
}
for (const s of document.querySelectorAll('script, iframe, object, embed')) bad.push(s.tagName);
return {pwned: typeof window.__pwned, bad: bad, text: document.body.innerText};
"""


def test_hostile_fields_are_inert_in_the_built_site(built_site: Path, browser: Any) -> None:
    pages = sorted(built_site.rglob("*.html"))
    # <category>/<yyyy>/<mm>/<dd>/<slug>.html: the posts of both sources
    post_pages = [p for p in pages if len(p.relative_to(built_site).parts) == 5]
    assert len(post_pages) == 12, [str(p) for p in pages]
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert SECRET not in html, page
        assert "Liquid error" not in html, page
    for page in post_pages:
        browser.get(page.as_uri())
        # Let autofocus and focus handlers fire, should any exist.
        browser.execute_script("window.focus(); document.body && document.body.focus();")
        time.sleep(0.05)
        # The back links stay one paragraph (a "|" in a line makes a kramdown table).
        assert "<table" not in page.read_text(encoding="utf-8"), page
        found = browser.execute_script(_PROBE)
        assert found["pwned"] == "undefined", page
        assert found["bad"] == [], (page, found["bad"])
        text = found["text"]
        assert SECRET not in text
        # The attribution is a paragraph of its own, not swallowed by a bare-text body.
        attribution = browser.execute_script(
            "return [...document.querySelectorAll('p.em_media')].map(p => p.innerText)"
        )
        assert len(attribution) == 1 and attribution[0].startswith("(Source: "), (page, text)
        # Every link that is left goes to a web page (a dropped URL leaves <a> without one).
        hrefs = browser.execute_script(
            "return [...document.querySelectorAll('a[href]')].map(a => a.getAttribute('href'))"
        )
        assert all(h.startswith(("https://", "http://", "//")) for h in hrefs), hrefs


def test_hostile_text_reads_back_as_text(built_site: Path, browser: Any) -> None:
    """What the feed said is shown, not interpreted: Markdown, IALs and Liquid as text."""
    pages = {p.read_text(encoding="utf-8"): p for p in built_site.rglob("plain-text-body*.html")}
    assert len(pages) == 2, list(pages.values())
    for page in pages.values():
        browser.get(page.as_uri())
        text = browser.execute_script("return document.body.innerText")
        assert MARKDOWN_LINK in text
        assert "{: autofocus" in text
        assert LIQUID_ABORT in text
        back = browser.execute_script(
            "return [...document.querySelectorAll('a')].map(a => a.innerText)"
        )
        # The category title, Markdown and Liquid included, is the link's text.
        assert any(LIQUID_LEAK in t and MARKDOWN_LINK in t for t in back), back
    deep = next(built_site.rglob("deep*.html")).read_text(encoding="utf-8")
    assert "deep" in deep
    assert deep.count("<div") <= 70


def _jekyll_build(source: Path, destination: Path) -> None:
    proc = subprocess.run(
        [str(JEKYLL), "build", "--source", str(source), "--destination", str(destination)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=source.parent,
        env={**os.environ, "JEKYLL_ENV": "production"},
    )
    assert proc.returncode == 0, f"jekyll build failed:\n{proc.stdout}\n{proc.stderr}"


@pytest.mark.parametrize("jekyll_zone", ["Asia/Shanghai", "UTC"])
def test_jekyll_builds_post_pages_at_our_paths_in_the_same_zone(
    tmp_path: Path, feed_server: FeedServer, jekyll_zone: str
) -> None:
    # README (Output): Jekyll's permalink of a post is our page's path when its
    # `timezone` is site.timezone; in another zone a post near midnight moves a day.
    items = "".join(
        f"<item><title>{title}</title><link>https://ex.org/{title}</link><guid>{title}</guid>"
        f"<pubDate>{when}</pubDate><description>&lt;p&gt;{title}&lt;/p&gt;</description></item>"
        for title, when in (
            ("early", "Sun, 26 Dec 2021 00:30:00 +0800"),
            ("late", "Sun, 26 Dec 2021 23:30:00 +0800"),
        )
    )
    feed_server.add("/zone.rss", f"<rss version='2.0'><channel>{items}</channel></rss>".encode())
    config = {
        "site": {
            "title": "Site",
            "base_url": "https://ex.org/",
            "output_dir": "out",
            "timezone": "Asia/Shanghai",
        },
        "database": "sqlite:///test.db",
        "categories": {"news": {"title": "News"}},
        "sources": [{"name": "Zone", "url": feed_server.url("/zone.rss"), "category": "news"}],
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    run_cli(path, "run", "--once")
    out = tmp_path / "out"
    ours = sorted(p.relative_to(out).as_posix() for p in out.glob("news/*/*/*/*.html"))
    assert ours == ["news/2021/12/26/early.html", "news/2021/12/26/late.html"]
    (out / "_config.yml").write_text(f"timezone: {jekyll_zone}\n", encoding="utf-8")
    (out / "_layouts").mkdir()
    (out / "_layouts" / "post.html").write_text("{{ content }}\n", encoding="utf-8")
    for page in ours:  # leave only Jekyll's pages to look at
        (out / page).unlink()
    built = tmp_path / "built"
    _jekyll_build(out, built)
    theirs = sorted(p.relative_to(built).as_posix() for p in built.glob("news/*/*/*/*.html"))
    if jekyll_zone == "Asia/Shanghai":
        assert theirs == ours
    else:  # 00:30 in Shanghai is the day before in UTC
        assert theirs == ["news/2021/12/25/early.html", "news/2021/12/26/late.html"]
