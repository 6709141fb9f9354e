"""Writes the generated part of the corpus: tests/data/feeds/gen-*.xml and their expectations.

Every format (RSS 0.90 to 2.0, RSS 1.0/RDF, Atom 0.3 and 1.0) crossed with every quirk. The
expectations are written from what each quirk means, not from running the code under test.
Run: python tests/data/make_corpus.py
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

FEEDS = Path(__file__).parent / "feeds"
NOW = "2024-05-01T12:00:00Z"  # tests/test_normalize.py: NOW
WHEN = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
WHEN_ISO = "2024-05-01T08:00:00Z"
RFC822 = "Wed, 01 May 2024 08:00:00 GMT"


@dataclass
class Item:
    title_xml: str | None  # None: no title element
    title: str  # expected
    body_xml: str | None  # escaped HTML for the description/content element
    body: str  # expected content_html
    date: tuple[str, str] | None = ("std", "")  # ("std"|"dc"|"raw", raw text)
    published: str = WHEN_ISO
    dated: bool = True
    link: str = "1.html"  # relative to the feed's folder (see "url") unless absolute
    link_expected: str | None = None
    extra_xml: str = ""
    content_encoded: str | None = None  # RSS: content:encoded (wins over description)


@dataclass
class Variant:
    name: str
    item: Callable[[str], Item]  # format -> item
    encoding: str = "utf-8"
    declared: str | None = "utf-8"
    formats: tuple[str, ...] = field(default_factory=tuple)  # empty: every format


def esc(html: str) -> str:
    return html.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def plain(fmt: str) -> Item:
    return Item(
        title_xml="Plain item",
        title="Plain item",
        body_xml=esc("<p>Body.</p>"),
        body="<p>Body.</p>",
    )


def entities(fmt: str) -> Item:
    return Item(
        title_xml="Fish &amp; Chips &#8212; &quot;fresh&quot;",
        title='Fish & Chips — "fresh"',
        body_xml=esc("<p>caf&eacute; &amp; bar</p>"),
        body="<p>café &amp; bar</p>",
    )


def cdata(fmt: str) -> Item:
    return Item(
        title_xml="<![CDATA[Q&A: 1 < 2]]>",
        title="Q&A: 1 < 2",
        body_xml="<![CDATA[<p>Body with <em>markup</em></p>]]>",
        body="<p>Body with <em>markup</em></p>",
    )


def relative(fmt: str) -> Item:
    return Item(
        title_xml="Relative",
        title="Relative",
        body_xml=esc('<p><a href="x.html">x</a> <img src="../i.png"></p>'),
        body=(
            '<p><a href="{base}news/x.html" rel="noopener noreferrer">x</a> '
            '<img src="{base}i.png"></p>'
        ),
        link="/{name}/news/rel.html",
        link_expected="{base}news/rel.html",
    )


def dc_date(fmt: str) -> Item:
    return Item(
        title_xml="Dated by dc:date",
        title="Dated by dc:date",
        body_xml=None,
        body="",
        date=("dc", WHEN_ISO),
    )


def no_date(fmt: str) -> Item:
    return Item(
        title_xml="No date",
        title="No date",
        body_xml=None,
        body="",
        date=None,
        published=NOW,
        dated=False,
    )


def zoneless(fmt: str) -> Item:
    # Read in the site's zone, Asia/Shanghai (+08:00).
    raw = (
        "2024-05-01T16:00:00"
        if fmt.startswith(("atom", "rss10", "rss090"))
        else ("Wed, 01 May 2024 16:00:00")
    )
    return Item(title_xml="Zone-less", title="Zone-less", body_xml=None, body="", date=("raw", raw))


def cst(fmt: str) -> Item:
    # A Chinese site's "CST" is +08:00 (the site zone uses that name), not US Central.
    return Item(
        title_xml="CST",
        title="CST",
        body_xml=None,
        body="",
        date=("raw", "Wed, 01 May 2024 16:00:00 CST"),
    )


def future(fmt: str) -> Item:
    return Item(
        title_xml="From the future",
        title="From the future",
        body_xml=None,
        body="",
        date=("raw", "2031-01-01T00:00:00Z"),
        published=NOW,
        dated=False,
    )


def no_title(fmt: str) -> Item:
    return Item(
        title_xml=None,
        title="Only the body speaks here",
        body_xml=esc("<p>Only the body <b>speaks</b> here</p>"),
        body="<p>Only the body <b>speaks</b> here</p>",
    )


def hostile(fmt: str) -> Item:
    return Item(
        title_xml=esc("<script>x()</script>Safe title"),
        # Atom's default title type is text: the escaped tag is literal text there (it is
        # escaped again when published); RSS titles are read as HTML.
        title="<script>x()</script>Safe title" if fmt.startswith("atom") else "Safe title",
        body_xml=esc(
            '<p>Safe</p><script>alert(1)</script><p onclick="x()">Click</p>'
            '<a href="javascript:alert(1)">j</a><iframe src="https://e.example/"></iframe>'
        ),
        body='<p>Safe</p><p>Click</p><a rel="noopener noreferrer">j</a>',
    )


def images(fmt: str) -> Item:
    return Item(
        title_xml="Images",
        title="Images",
        body_xml=esc(
            '<p>Text<img src="https://t.example/p.gif" width="1" height="1"></p>'
            '<p><img data-src="/img/a.jpg" src="data:image/gif;base64,R0lGOD"></p><p></p>'
        ),
        body='<p>Text</p><p><img src="https://corpus.example.com/img/a.jpg"></p>',
    )


def content_encoded(fmt: str) -> Item:
    return Item(
        title_xml="Full content",
        title="Full content",
        body_xml=esc("<p>Summary only.</p>"),
        body="<p>The full article.</p>",
        content_encoded="<![CDATA[<p>The full article.</p>]]>",
    )


def tracking_link(fmt: str) -> Item:
    return Item(
        title_xml="Tracked",
        title="Tracked",
        body_xml=None,
        body="",
        link="https://Corpus.Example.com:443/{name}/t.html?utm_source=rss#top",
        link_expected="https://Corpus.Example.com:443/{name}/t.html?utm_source=rss#top",
    )


def chinese(fmt: str) -> Item:
    return Item(
        title_xml="天津市召开新闻发布会",
        title="天津市召开新闻发布会",
        body_xml=esc("<p>会议介绍了今年的经济发展情况。</p>"),
        body="<p>会议介绍了今年的经济发展情况。</p>",
    )


def latin(fmt: str) -> Item:
    return Item(
        title_xml="Café crème à Zürich",
        title="Café crème à Zürich",
        body_xml=esc("<p>Déjà vu</p>"),
        body="<p>Déjà vu</p>",
    )


def bare_ampersand(fmt: str) -> Item:
    # Not well-formed XML: feedparser's loose parser recovers the item.
    return Item(title_xml="Tom & Jerry", title="Tom & Jerry", body_xml=None, body="")


VARIANTS = [
    Variant(name="plain", item=plain),
    Variant(name="entities", item=entities),
    Variant(name="cdata", item=cdata),
    Variant(name="relative", item=relative),
    Variant(name="dcdate", item=dc_date),
    Variant(name="nodate", item=no_date),
    Variant(name="zoneless", item=zoneless),
    Variant(name="cst", item=cst, formats=("rss091", "rss092", "rss093", "rss094", "rss20")),
    Variant(name="future", item=future),
    Variant(name="notitle", item=no_title),
    Variant(name="hostile", item=hostile),
    Variant(name="images", item=images),
    Variant(
        name="content-encoded",
        item=content_encoded,
        formats=("rss091", "rss092", "rss093", "rss094", "rss20", "rss10"),
    ),
    Variant(name="tracking-link", item=tracking_link),
    Variant(name="gbk-undeclared", item=chinese, encoding="gbk", declared=None),
    Variant(name="gbk-declared", item=chinese, encoding="gbk", declared="GBK"),
    Variant(name="gb18030-declared", item=chinese, encoding="gb18030", declared="GB18030"),
    Variant(name="utf16", item=chinese, encoding="utf-16", declared="utf-16"),
    Variant(name="latin1", item=latin, encoding="iso-8859-1", declared="iso-8859-1"),
    Variant(name="bare-ampersand", item=bare_ampersand),
]
FORMATS = ("rss090", "rss091", "rss092", "rss093", "rss094", "rss20", "rss10", "atom03", "atom10")
NAMESPACES = (
    'xmlns:dc="http://purl.org/dc/elements/1.1/" '
    'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
    'xmlns:media="http://search.yahoo.com/mrss/"'
)


def render(fmt: str, name: str, item: Item, declared: str | None) -> str:
    base = f"https://corpus.example.com/{name}/"
    link = item.link.format(name=name)
    link_abs = link if link.startswith("http") else base + link.removeprefix(f"/{name}/")
    title = f"<title>{item.title_xml}</title>" if item.title_xml is not None else ""
    prolog = f'<?xml version="1.0" encoding="{declared}"?>' if declared else '<?xml version="1.0"?>'
    iso = fmt.startswith(("atom", "rss10", "rss090"))
    date = ""
    if item.date is not None:
        kind, raw = item.date
        if kind == "dc":
            date = f"<dc:date>{raw}</dc:date>"
        else:
            text = raw or (WHEN_ISO if iso else RFC822)
            if fmt == "atom10":
                date = f"<published>{text}</published><updated>{text}</updated>"
            elif fmt == "atom03":
                date = f"<issued>{text}</issued><modified>{text}</modified>"
            elif iso:
                date = f"<dc:date>{text}</dc:date>"
            else:
                date = f"<pubDate>{text}</pubDate>"
    control_date = (
        f"<updated>{WHEN_ISO}</updated>"
        if fmt == "atom10"
        else f"<modified>{WHEN_ISO}</modified>"
        if fmt == "atom03"
        else f"<dc:date>{WHEN_ISO}</dc:date>"
        if iso
        else f"<pubDate>{RFC822}</pubDate>"
    )
    if fmt.startswith("atom"):
        ns = "http://www.w3.org/2005/Atom" if fmt == "atom10" else "http://purl.org/atom/ns#"
        version = "" if fmt == "atom10" else ' version="0.3"'
        ctype = 'type="html"' if fmt == "atom10" else 'type="text/html" mode="escaped"'
        body = f"<content {ctype}>{item.body_xml}</content>" if item.body_xml is not None else ""
        head_date = (
            f"<updated>{WHEN_ISO}</updated>"
            if fmt == "atom10"
            else f"<modified>{WHEN_ISO}</modified>"
        )
        return (
            f'{prolog}\n<feed xmlns="{ns}"{version} {NAMESPACES}>'
            f'<title>Corpus {name}</title><link rel="alternate" href="{base}"/>'
            f"<id>tag:corpus.example.com,2024:{name}</id>{head_date}"
            f"<entry><id>tag:corpus.example.com,2024:{name}/1</id>{title}"
            f'<link rel="alternate" href="{link}"/>{date}{body}</entry>'
            f"<entry><id>tag:corpus.example.com,2024:{name}/2</id><title>Control</title>"
            f'<link rel="alternate" href="{base}2.html"/>{control_date}</entry></feed>\n'
        )
    body = f"<description>{item.body_xml}</description>" if item.body_xml is not None else ""
    if item.content_encoded is not None:
        body += f"<content:encoded>{item.content_encoded}</content:encoded>"
    if fmt in ("rss10", "rss090"):
        ns = (
            "http://purl.org/rss/1.0/"
            if fmt == "rss10"
            else "http://my.netscape.com/rdf/simple/0.9/"
        )
        return (
            f'{prolog}\n<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
            f'xmlns="{ns}" {NAMESPACES}><channel rdf:about="{base}"><title>Corpus {name}</title>'
            f"<link>{base}</link><description>d</description></channel>"
            f'<item rdf:about="{link_abs}">{title}<link>{link}</link>{date}{body}</item>'
            f'<item rdf:about="{base}2.html"><title>Control</title><link>{base}2.html</link>'
            f"{control_date}</item></rdf:RDF>\n"
        )
    version = {"rss091": "0.91", "rss092": "0.92", "rss093": "0.93", "rss094": "0.94"}.get(
        fmt, "2.0"
    )
    return (
        f'{prolog}\n<rss version="{version}" {NAMESPACES}><channel><title>Corpus {name}</title>'
        f"<link>{base}</link><description>d</description>"
        f"<item>{title}<link>{link}</link>{date}{body}{item.extra_xml}</item>"
        f"<item><title>Control</title><link>{base}2.html</link>{control_date}</item>"
        "</channel></rss>\n"
    )


def expected(fmt: str, name: str, item: Item) -> dict[str, object]:
    base = f"https://corpus.example.com/{name}/"
    link = item.link_expected or item.link
    link = link.format(name=name, base=base)
    if not link.startswith("http"):
        link = base + link.removeprefix(f"/{name}/")
    feed_updated = WHEN_ISO if fmt.startswith("atom") else None
    feed_id = f"tag:corpus.example.com,2024:{name}" if fmt.startswith("atom") else base
    control = {
        "title": "Control",
        "link": f"{base}2.html",
        "published": WHEN_ISO,
        "updated": WHEN_ISO,
        "dated": True,
        "content_html": "",
    }
    first = {
        "title": item.title,
        "link": link,
        "published": item.published,
        "updated": item.published,
        "dated": item.dated,
        "content_html": item.body.format(base=base),
    }
    result: dict[str, object] = {
        # Where the feed is retrieved from: its folder, the base of its relative links.
        "url": f"{base}feed.xml",
        "feed": {
            "title": f"Corpus {name}",
            "link": base,
            "feed_id": feed_id,
            "updated": feed_updated,
            "ttl_minutes": None,
        },
        "count": 2,
        "posts": [first, control],
    }
    return result


def main() -> int:
    for old in FEEDS.glob("gen-*"):
        old.unlink()
    written = 0
    for variant in VARIANTS:
        for fmt in variant.formats or FORMATS:
            name = f"gen-{fmt}-{variant.name}"
            item = variant.item(fmt)
            text = render(fmt, name, item, variant.declared)
            data = text.encode(variant.encoding)
            (FEEDS / f"{name}.xml").write_bytes(data)
            expect = expected(fmt, name, item)
            (FEEDS / f"{name}.expected.json").write_text(
                json.dumps(expect, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
            )
            written += 1
    print(f"{written} feeds written to {FEEDS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
