"""The fast parser against the reference: wherever aggregator.fastparse accepts a feed, its
ParsedFeed must equal aggregator.parse's (feedparser's) for the same bytes and headers.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from aggregator.errors import ParseError
from aggregator.fastparse import parse_fast
from aggregator.parse import parse
from aggregator.types import ParsedFeed

DATA = Path(__file__).parent / "data"
URL = "https://feeds.example.org/feed.xml"
XML = {"content-type": "application/xml"}

# Fixtures on which both parsers give different records although the fast path accepts
# them: fixture name -> why. Empty while every known difference is fixed in the mapping;
# an entry whose difference disappears fails test_listed_difference_still_differs.
KNOWN_DIFFERENCES: dict[str, str] = {}

# Fixtures the fast path hands to feedparser, with the reason; the list must stay true
# (test_listed_fixture_is_declined). Fixtures named in neither list may go either way.
DECLINED: dict[str, str] = {
    "atom03.xml": "Atom 0.3 namespace",
    "blogger_atom.xml": "an Atom author's email (feedparser writes 'name (email)')",
    "atom10.xml": "xhtml title and content",
    "atom10_xml_base.xml": "xml:base on an entry",
    "broken_no_items.xml": "not well-formed",
    "empty.xml": "empty body",
    "garbage.xml": "not XML",
    "html_page.xml": "an HTML page",
    "not_a_feed_xml.xml": "XML but not RSS or Atom",
    "odd_dates.xml": "dates parse_date cannot read and US zone names",
    "rss091.xml": "doctype",
    "rss10_rdf.xml": "RSS 1.0 (RDF)",
    "rss20_extensions.xml": "itunes:summary replaces the description in feedparser",
    "truncated.xml": "not well-formed",
    "undefined_entity.xml": "an HTML entity XML does not define",
    "utf16.xml": "UTF-16",
}
# Generated fixtures (gen-<format>-<quirk>.xml) declined for their quirk or format.
DECLINED_KINDS: dict[str, str] = {
    "-bare-ampersand": "not well-formed",
    "-gbk-undeclared": "an undeclared charset is detected by aggregator.parse",
    "-latin1": "an undeclared charset is detected by aggregator.parse",
    "-utf16": "UTF-16",
    "-cst": "a US zone name that normalize may reread as the source's zone",
    "gen-rss090-": "RSS 0.90 (RDF)",
    "gen-atom03-": "Atom 0.3 namespace",
}
# The ordinary feeds: declining one of these would quietly cost speed.
MUST_ACCEPT = (
    "tianjinribao.rss",
    "cdata_titles.xml",
    "gbk_header.xml",
    "gbk_prolog.xml",
    "gb2312_text_xml.xml",
    "hostile.xml",
    "relative_links.xml",
    "rss20_content_encoded.xml",
    "entities.xml",
    "wordpress_authors.xml",
    "podcast_itunes_author.xml",
    "rss_author_email.xml",
    "atom_authors.xml",
)


def _fixture_feeds() -> list[tuple[str, bytes, dict[str, str]]]:
    feeds = []
    for path in sorted((DATA / "feeds").glob("*.xml")):
        expected = path.with_suffix(".expected.json")
        headers = XML
        if expected.exists():
            headers = json.loads(expected.read_text(encoding="utf-8")).get("headers", XML)
        feeds.append((path.name, path.read_bytes(), headers))
    for path in sorted((DATA / "golden").glob("*.rss")):
        feeds.append((path.name, path.read_bytes(), {"content-type": "application/rss+xml"}))
    return feeds


FIXTURES = _fixture_feeds()


def _reference(content: bytes, headers: dict[str, str]) -> ParsedFeed | ParseError:
    try:
        return parse(content, headers, url=URL, fast=False)
    except ParseError as e:
        return e


@pytest.mark.parametrize(("name", "content", "headers"), FIXTURES, ids=[f[0] for f in FIXTURES])
def test_fast_path_agrees_with_feedparser(
    name: str, content: bytes, headers: dict[str, str]
) -> None:
    fast = parse_fast(content, headers, url=URL)
    if fast is None or name in KNOWN_DIFFERENCES:
        return
    reference = _reference(content, headers)
    assert not isinstance(reference, ParseError), "fast path accepted a feed feedparser refuses"
    assert fast == reference


def _listed_as_declined(name: str) -> bool:
    return name in DECLINED or any(kind in name for kind in DECLINED_KINDS)


@pytest.mark.parametrize(("name", "content", "headers"), FIXTURES, ids=[f[0] for f in FIXTURES])
def test_listed_fixture_is_declined(name: str, content: bytes, headers: dict[str, str]) -> None:
    if _listed_as_declined(name):
        assert parse_fast(content, headers, url=URL) is None, f"{name} is accepted now"


@pytest.mark.parametrize("name", MUST_ACCEPT)
def test_ordinary_fixture_is_accepted(name: str) -> None:
    _, content, headers = next(f for f in FIXTURES if f[0] == name)
    assert parse_fast(content, headers, url=URL) is not None


def test_every_fixture_is_compared() -> None:
    names = {f[0] for f in FIXTURES}
    assert len(names) >= 30 and set(MUST_ACCEPT) <= names
    assert set(DECLINED) <= names
    assert set(KNOWN_DIFFERENCES) <= names
    # The fast path must carry most ordinary fixtures, or the comparison proves little.
    accepted = [f for f in FIXTURES if parse_fast(f[1], f[2], url=URL) is not None]
    assert len(accepted) >= len(names) // 3


def test_listed_differences_still_differ() -> None:
    # One test over the list (empty today) rather than one per entry: an empty
    # parametrization would show as a skip.
    for name in sorted(KNOWN_DIFFERENCES):
        _, content, headers = next(f for f in FIXTURES if f[0] == name)
        fast = parse_fast(content, headers, url=URL)
        assert fast is not None and fast != _reference(content, headers), (
            f"{name} no longer differs: remove it from KNOWN_DIFFERENCES"
        )


# --------------------------------------------------------------- inline cases


def rss(items: str, *, channel: str = "", ns: str = "") -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"'
        ' xmlns:content="http://purl.org/rss/1.0/modules/content/"'
        f' xmlns:dc="http://purl.org/dc/elements/1.1/"{ns}>'
        f"<channel><title>T</title><link>https://site.example.org/</link>{channel}"
        f"{items}</channel></rss>"
    ).encode()


def atom(entries: str, *, base: str = "") -> bytes:
    return (
        f'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"{base}><title>A</title>'
        "<id>tag:example.org,2021:feed</id><updated>2021-12-26T00:00:00Z</updated>"
        f'<link href="https://atom.example.org/"/>{entries}</feed>'
    ).encode()


BASE = ' xml:base="https://b.example.org/d/"'
ACCEPTED = {
    "no-guid": rss("<item><title>x</title><link>http://a/1</link></item>"),
    "guid-permalink": rss("<item><title>x</title><guid>http://a/g</guid></item>"),
    "guid-not-permalink": rss("<item><title>x</title><guid isPermaLink='false'>g</guid></item>"),
    "bare-guid": rss("<item><title>x</title><guid>123</guid><link>/a.html</link></item>"),
    "amp-title": rss("<item><title>AT&amp;amp;T &lt;b&gt;</title><guid>1</guid></item>"),
    "cdata-title": rss("<item><title><![CDATA[<b>x</b> & y]]></title><guid>1</guid></item>"),
    "zoneless-iso": rss("<item><title>x</title><pubDate>2021-12-26 09:35:42</pubDate></item>"),
    "zoneless-rfc822": rss(
        "<item><title>x</title><pubDate>Sun, 26 Dec 2021 09:35:42</pubDate></item>"
    ),
    "gmt": rss("<item><title>x</title><pubDate>Sun, 26 Dec 2021 09:35:42 GMT</pubDate></item>"),
    "plus8": rss("<item><title>x</title><pubDate>Sun, 26 Dec 2021 09:35:42 +0800</pubDate></item>"),
    "dc-date-is-updated": rss(
        "<item><title>x</title><pubDate>Sun, 26 Dec 2021 09:35:42 +0800</pubDate>"
        "<dc:date>2021-12-27T09:35:42Z</dc:date></item>"
    ),
    "description-only": rss(
        "<item><title>x</title><description>&lt;p&gt;o&lt;/p&gt;</description></item>"
    ),
    "description-padded": rss(
        "<item><title>x</title><description> <![CDATA[ <p>a</p> ]]> </description></item>"
    ),
    "content-only": rss(
        "<item><title>x</title><content:encoded><![CDATA[<p>c</p>]]></content:encoded></item>"
    ),
    "content-and-teaser": rss(
        "<item><title>x</title><description>teaser</description>"
        "<content:encoded><![CDATA[<p>c</p>\n]]></content:encoded></item>"
    ),
    "author-email": rss("<item><title>x</title><author>a@b.com (A B)</author></item>"),
    "dc-creator": rss("<item><title>x</title><dc:creator>王五</dc:creator></item>"),
    "dc-creator-cdata-markup": rss(
        "<item><title>x</title><dc:creator><![CDATA[<b>Bob</b> &amp; Al]]></dc:creator></item>"
    ),
    "itunes-author": rss(
        "<item><title>x</title><itunes:author>Pod &amp;amp; Cast</itunes:author></item>",
        ns=' xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"',
    ),
    "atom-author-name": atom(
        "<entry><title>t</title><id>1</id><author><name> Ann </name>"
        "<uri>https://a.example/</uri></author></entry>"
    ),
    "atom-contributor-only": atom(
        "<entry><title>t</title><id>1</id><contributor><name>Co</name></contributor></entry>"
    ),
    "categories": rss(
        "<item><title>x</title><category>a</category><category> b </category></item>"
    ),
    "atom-text-title": atom("<entry><title>1 &lt; 2 &amp;amp;</title><id>urn:1</id></entry>"),
    "atom-html-title": atom(
        '<entry><title type="html">&lt;b&gt;2&lt;/b&gt;</title><id>u</id></entry>'
    ),
    "atom-text-summary": atom(
        "<entry><title>t</title><id>1</id><summary>a &lt; b</summary></entry>"
    ),
    "atom-html-summary-text-content": atom(
        '<entry><title>t</title><id>1</id><summary type="html">&lt;p&gt;a&lt;/p&gt;</summary>'
        '<content type="text">c &lt; d</content></entry>'
    ),
    "atom-mime-content": atom(
        '<entry><title>t</title><id>1</id><content type="text/html">x</content></entry>'
    ),
    "atom-feed-base": atom(
        '<entry><title>t</title><id>1</id><link href="p/1"/>'
        '<content type="html">x</content></entry>',
        base=BASE,
    ),
    "atom-content-base": atom(
        '<entry><title>t</title><id>1</id><link href="p/1"/>'
        '<content type="html" xml:base="https://c.example.org/">x</content></entry>'
        '<entry><title>u</title><id>2</id><content type="html">y</content></entry>'
    ),
    "atom-id-resolved": atom("<entry><title>t</title><id>123</id></entry>", base=BASE),
    "atom-enclosure-only": atom(
        '<entry><title>t</title><id>u</id><link rel="enclosure" href="http://e/"/></entry>'
    ),
    "atom-related-first": atom(
        '<entry><title>t</title><id>u</id><link rel="related" href="http://r/"/>'
        '<link href="http://a/"/></entry>'
    ),
    "atom-published-only": atom(
        "<entry><title>t</title><id>1</id><published>2021-12-26T09:35:42+08:00</published></entry>"
    ),
}
DECLINED_INLINE = {
    "us-zone-name": rss(
        "<item><title>x</title><pubDate>Sun, 26 Dec 2021 09:35:42 CST</pubDate></item>"
    ),
    "unreadable-date": rss("<item><title>x</title><pubDate>26 December 2021</pubDate></item>"),
    "two-contents": rss(
        "<item><title>x</title><content:encoded>a</content:encoded><content:encoded>bb</content:encoded></item>"
    ),
    "empty-link": rss("<item><title>x</title><guid>http://g/</guid><link></link></item>"),
    "html-entity": rss("<item><title>a&nbsp;b</title></item>"),
    "two-creators": rss(
        "<item><title>x</title><dc:creator>A</dc:creator><dc:creator>B</dc:creator></item>"
    ),
    "author-and-creator": rss(
        "<item><title>x</title><author>a@b.c (A)</author><dc:creator>B</dc:creator></item>"
    ),
    "googleplay-author": rss(
        "<item><title>x</title><googleplay:author>G</googleplay:author></item>",
        ns=' xmlns:googleplay="http://www.google.com/schemas/play-podcasts/1.0"',
    ),
    "itunes-elsewhere": rss(
        "<item><title>x</title><itunes:author>I</itunes:author></item>",
        ns=' xmlns:itunes="https://example.org/not-itunes"',
    ),
    "atom-two-authors": atom(
        "<entry><title>t</title><id>1</id><author><name>A</name></author>"
        "<author><name>B</name></author></entry>"
    ),
    "atom-author-and-contributor": atom(
        "<entry><title>t</title><id>1</id><author><name>A</name></author>"
        "<contributor><name>C</name></contributor></entry>"
    ),
    "atom-author-email": atom(
        "<entry><title>t</title><id>1</id><author><name>N</name><email>n@x</email></author></entry>"
    ),
    "markup-in-description": rss(
        "<item><title>x</title><description>Text <b>bold</b> more</description></item>"
    ),
    "paragraphs-in-description": rss(
        "<item><title>x</title><description><p>a</p><p>b</p></description></item>"
    ),
    "markup-in-title": rss("<item><title>T <i>x</i></title><description>d</description></item>"),
    "atom-xhtml": atom(
        '<entry><title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">x</div></title><id>1</id></entry>'
    ),
}


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_inline_feed_agrees(name: str) -> None:
    fast = parse_fast(ACCEPTED[name], XML, url=URL)
    assert fast is not None
    assert fast == parse(ACCEPTED[name], XML, url=URL, fast=False)


@pytest.mark.parametrize("name", sorted(DECLINED_INLINE))
def test_inline_feed_is_declined(name: str) -> None:
    assert parse_fast(DECLINED_INLINE[name], XML, url=URL) is None


def test_us_zone_name_would_lose_its_name() -> None:
    # Why "CST" is declined: the reference keeps the name for normalize to reread.
    published = (
        parse(DECLINED_INLINE["us-zone-name"], XML, url=URL, fast=False).entries[0].published
    )
    assert published is not None and published.tzname() == "CST"


def test_zoneless_date_stays_naive() -> None:
    fast = parse_fast(ACCEPTED["zoneless-iso"], XML, url=URL)
    assert fast is not None and fast.entries[0].published is not None
    assert fast.entries[0].published.tzinfo is None


@pytest.mark.parametrize(
    ("charset_header", "accepted"),
    [
        pytest.param("application/rss+xml; charset=gbk", True, id="header-gbk"),
        pytest.param("application/rss+xml; charset=utf-8", False, id="header-contradicts-prolog"),
        pytest.param("application/rss+xml; charset=big5", False, id="header-big5"),
    ],
)
def test_gbk_transcoded_or_declined(charset_header: str, accepted: bool) -> None:
    body = (
        '<?xml version="1.0" encoding="GBK"?><rss version="2.0"><channel><title>天津日报</title>'
        "<link>http://gbk.example.cn/</link><item><title>专项规划出台</title>"
        "<link>http://gbk.example.cn/1</link></item></channel></rss>"
    ).encode("gbk")
    headers = {"content-type": charset_header}
    fast = parse_fast(body, headers, url=URL)
    assert (fast is not None) == accepted
    if fast is not None:
        assert fast == parse(body, headers, url=URL, fast=False)
        assert fast.entries[0].title == "专项规划出台"


# ---------------------------------------------------------------- the corpus


def _corpus() -> list[tuple[str, bytes, dict[str, str]]]:
    root = str(Path(__file__).resolve().parent.parent)
    if root not in sys.path:
        sys.path.insert(0, root)
    from bench.corpus import feed_spec, generate_feed

    return [
        (
            f"corpus-{i}",
            generate_feed(1, i, 4, version=i % 3),
            {"content-type": feed_spec(1, i).content_type},
        )
        for i in range(40)
    ]


@pytest.mark.parametrize(("name", "content", "headers"), _corpus(), ids=lambda v: "")
def test_benchmark_corpus_takes_the_fast_path_and_agrees(
    name: str, content: bytes, headers: dict[str, str]
) -> None:
    # RSS and Atom, CDATA and escaped HTML, UTF-8 and GBK declared three ways: the feeds
    # the speed targets are measured on must all be accepted, and read the same.
    fast = parse_fast(content, headers, url=URL)
    assert fast is not None, name
    assert fast == parse(content, headers, url=URL, fast=False), name


@pytest.mark.parametrize(
    ("name", "author"),
    [
        pytest.param("author-email", "a@b.com (A B)", id="rss-author"),
        pytest.param("dc-creator", "王五", id="dc-creator"),
        pytest.param("dc-creator-cdata-markup", "<b>Bob</b> &amp; Al", id="cdata"),
        pytest.param("itunes-author", "Pod &amp; Cast", id="itunes"),
        pytest.param("atom-author-name", "Ann", id="atom-name"),
    ],
)
def test_fast_path_reads_the_author_feedparser_reads(name: str, author: str) -> None:
    fast = parse_fast(ACCEPTED[name], XML, url=URL)
    assert fast is not None and fast.entries[0].author == author
    assert parse(ACCEPTED[name], XML, url=URL, fast=False).entries[0].author == author
