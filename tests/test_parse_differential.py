"""The fast parser against the reference: wherever aggregator.parse.fast accepts a feed, its
ParsedFeed must equal aggregator.parse's (feedparser's) for the same bytes and headers.
"""

from __future__ import annotations

import functools
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import builders
import pytest
from builders import (
    ATOM_NS,
    CONTENT_NS,
    DC_NS,
    LOWER_UTF8_PROLOG,
    MEDIA_NS,
    atom,
    bind_namespace,
    xmlns,
)

from aggregator.errors import ParseError
from aggregator.parse import parse
from aggregator.parse.fast import parse_fast
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
    "c1_numeric_references.xml": "feedparser reads &#146; as windows-1252 in element text",
    "empty.xml": "empty body",
    "garbage.xml": "not XML",
    "html_page.xml": "an HTML page",
    "not_a_feed_xml.xml": "XML but not RSS or Atom",
    "odd_dates.xml": "US zone names (EST) that normalize may reread as the source's zone",
    "rss091.xml": "doctype",
    "rss10_rdf.xml": "RSS 1.0 (RDF)",
    "rss20_extensions.xml": "itunes:summary replaces the description in feedparser",
    "rss_fullitem_xhtml_body.xml": "<fullitem> and <xhtml:body>, which only feedparser reads",
    "truncated.xml": "not well-formed",
    "undefined_entity.xml": "an HTML entity XML does not define",
}
# Generated fixtures (gen-<format>-<quirk>.xml) declined for their quirk or format.
DECLINED_KINDS: dict[str, str] = {
    "-bare-ampersand": "not well-formed",
    "-cst": "a zone name (CST) that normalize may reread as the source's zone",
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
    "rss_atom_link_first.xml",
    "rss_dotnet_a10.xml",
    "rss_double_escaped_link.xml",
    "rss_media_title_only.xml",
    "youtube_channel.xml",
    # Every charset aggregator.parse.charset reads: both paths decode through it.
    "shift_jis_windows31j.xml",
    "euc_kr_windows949.xml",
    "gb2312_gb18030.xml",
    "big5_hkscs.xml",
    "iso8859_1_windows1252.xml",
    "iso8859_9_windows1254.xml",
    "utf32le_bom.xml",
    "utf32be_bom.xml",
    "thai_undeclared.xml",
    "hebrew_undeclared.xml",
    "utf16.xml",
    "wordpress_authors.xml",
    "podcast_itunes_author.xml",
    "rss_author_email.xml",
    "atom_authors.xml",
)


def _fixture_feeds() -> list[tuple[str, bytes, dict[str, str]]]:
    # tests/data/feeds/ by file name; tests/data/platforms/ (real platforms' shapes) as
    # "platforms/<name>".
    feeds = []
    for folder, prefix in (("feeds", ""), ("platforms", "platforms/")):
        for path in sorted((DATA / folder).glob("*.xml")):
            expected = path.with_suffix(".expected.json")
            headers = XML
            if expected.exists():
                headers = json.loads(expected.read_text(encoding="utf-8")).get("headers", XML)
            feeds.append((prefix + path.name, path.read_bytes(), headers))
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
    generated = name.startswith("gen-")  # DECLINED_KINDS names make_corpus.py's quirks
    return name in DECLINED or (generated and any(kind in name for kind in DECLINED_KINDS))


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
    assert sum(name.startswith("platforms/") for name in names) >= 150
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


ITUNES = ' xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"'


# RSS with content:, dc: and (unless told otherwise) itunes: bound; Atom as builders.atom
# writes it.
NAMESPACES = xmlns("content", CONTENT_NS) + xmlns("dc", DC_NS)
rss = functools.partial(builders.rss, namespaces=NAMESPACES + ITUNES, prolog=LOWER_UTF8_PROLOG)


def rss_atom(items: str, *, prefix: str = "atom", channel: str = "") -> bytes:
    """RSS with Atom's namespace bound to `prefix` on the root, as WordPress (atom:) and
    .NET's SyndicationFeed (a10:) write it."""
    return bind_namespace(rss(items, channel=channel), prefix, ATOM_NS)


def rss_media(items: str) -> bytes:
    return bind_namespace(rss(items), "media", MEDIA_NS)


BASE = ' xml:base="https://b.example.org/d/"'
ACCEPTED = {
    # WebSub discovery (W3C WebSub §4): the hubs and the self URL, in RSS (atom:link, as
    # WordPress writes them) and in Atom; a relative one counts in neither.
    "rss-websub-links": rss_atom(
        "<item><title>x</title><link>http://a/1</link></item>",
        channel='<atom:link rel="hub" href="https://hub.example/"/>'
        '<atom:link rel="self" href="https://example.org/feed" type="application/rss+xml"/>'
        '<atom:link rel="hub" href=" https://hub2.example/ "/>'
        '<atom:link rel="hub" href="/relative-hub"/>',
    ),
    "atom-websub-links": atom(
        "<entry><title>t</title><id>1</id></entry>",
        head='<link rel="HUB" href="https://hub.example/"/><link rel="self" href="/feed"/>'
        '<link rel="self" href="https://example.org/atom"/><link href="https://example.org/"/>',
    ),
    # Tags inside CDATA are text: neither a second date nor a second author.
    "tags-in-cdata": rss(
        "<item><title>x</title><description><![CDATA[<pubDate>1999</pubDate> <author>z</author>"
        "]]></description><pubDate>Sun, 26 Dec 2021 09:35:42 GMT</pubDate>"
        "<dc:creator>B</dc:creator></item>"
    ),
    # A comment holds text too: no second date, and no CDATA opened in it.
    "date-in-comment": rss(
        "<item><title>x</title><guid>1</guid><pubDate>Sun, 26 Dec 2021 09:35:42 GMT</pubDate>"
        "<!-- <dc:date>2020-01-01T00:00:00Z</dc:date> --></item>"
    ),
    "cdata-opener-in-comment": rss(
        "<item><title>x</title><guid>1</guid><!-- <![CDATA[ -->"
        "<pubDate>Sun, 26 Dec 2021 09:35:42 GMT</pubDate><!-- ]]> --></item>"
    ),
    "no-guid": rss("<item><title>x</title><link>http://a/1</link></item>"),
    "guid-permalink": rss("<item><title>x</title><guid>http://a/g</guid></item>"),
    "guid-not-permalink": rss("<item><title>x</title><guid isPermaLink='false'>g</guid></item>"),
    "bare-guid": rss("<item><title>x</title><guid>123</guid><link>/a.html</link></item>"),
    # An empty guid is no guid: the extractor fills it from the link, feedparser does not
    # (the key would then be made of a guid on one path and of the link on the other).
    "empty-guid": rss("<item><title>x</title><link>http://a/1</link><guid></guid></item>"),
    "self-closed-guid": rss("<item><title>x</title><link>http://a/1</link><guid/></item>"),
    "empty-guid-not-permalink": rss(
        "<item><title>x</title><link>http://a/1</link><guid isPermaLink='false'></guid></item>"
    ),
    "empty-guid-no-link": rss("<item><title>x</title><guid/><description>d</description></item>"),
    "references-beyond-c1": rss(
        "<item><title>It&#8217;s&#160;&#x2014; &#1460; &#127;</title><guid>1</guid></item>"
    ),
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
        namespaces=NAMESPACES + ' xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"',
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
        attributes=BASE,
    ),
    "atom-content-base": atom(
        '<entry><title>t</title><id>1</id><link href="p/1"/>'
        '<content type="html" xml:base="https://c.example.org/">x</content></entry>'
        '<entry><title>u</title><id>2</id><content type="html">y</content></entry>'
    ),
    "atom-id-resolved": atom("<entry><title>t</title><id>123</id></entry>", attributes=BASE),
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
    # Dates parse_date reads beyond RFC 822 and ISO 8601, or refuses: both paths alike.
    "long-month-name": rss("<item><title>x</title><pubDate>26 December 2021</pubDate></item>"),
    "german-date": rss(
        "<item><title>x</title><pubDate>Mo, 16 Okt 2023 10:00:00 +0200</pubDate></item>"
    ),
    "chinese-date": rss("<item><title>x</title><pubDate>2023年10月30日 21:55</pubDate></item>"),
    "twelve-hour-gmt-offset": rss(
        "<item><title>x</title><pubDate>Nov 16, 2020 10:57 p.m. GMT-05:00</pubDate></item>"
    ),
    "impossible-date": rss("<item><title>x</title><pubDate>2023-10-30T25:14:55Z</pubDate></item>"),
    "no-date-words": rss("<item><title>x</title><pubDate>yesterday</pubDate></item>"),
    "atom-self-link-first": rss_atom(
        '<item><title>x</title><atom:link href="http://a/self" rel="self"/>'
        "<link>http://a/1</link></item>"
    ),
    "atom-alternate-link-first": rss_atom(
        '<item><title>x</title><atom:link href="http://a/alt" rel="alternate"/>'
        "<link>http://a/1</link></item>"
    ),
    "atom-alternate-link-last": rss_atom(
        '<item><title>x</title><link>http://a/1</link><atom:link href="http://a/alt"/></item>'
    ),
    "atom-feed-link-not-html": rss_atom(
        "<item><title>x</title><link>http://a/1</link>"
        '<atom:link href="http://a/1.json" type="application/json"/></item>'
    ),
    "atom-self-link-and-permalink-guid": rss_atom(
        '<item><title>x</title><atom:link href="http://a/self" rel="self"/>'
        "<guid>http://a/g</guid></item>"
    ),
    "link-in-cdata-content": rss(
        "<item><title>x</title><guid>http://a/g</guid><content:encoded><![CDATA["
        '<link rel="stylesheet" href="s.css"><p>c</p>]]></content:encoded></item>'
    ),
    "double-escaped-link": rss(
        "<item><title>x</title><link>http://a/?a=1&amp;amp;b=2</link></item>"
    ),
    "reference-like-query": rss(
        "<item><title>x</title><link>http://a/?a=1&amp;copy;=2</link></item>"
    ),
    "a10-elements": rss_atom(
        "<item><title>x</title><a10:link href='http://a/1'/><a10:author><a10:name>N</a10:name>"
        "</a10:author><a10:updated>2021-12-26T09:35:42+08:00</a10:updated>"
        '<a10:content type="html">&lt;p&gt;c&lt;/p&gt;</a10:content></item>',
        prefix="a10",
    ),
    "a10-text-content-and-description": rss_atom(
        "<item><title>x</title><link>http://a/1</link><description>d</description>"
        "<a10:content>1 &lt; 2</a10:content></item>",
        prefix="a10",
    ),
    "a10-channel": rss_atom(
        "<item><title>x</title><link>http://a/1</link></item>",
        prefix="a10",
        channel="<a10:id>urn:feed</a10:id><a10:updated>2021-12-27T00:00:00Z</a10:updated>",
    ),
    "media-caption-after-description": rss_media(
        "<item><title>x</title><description>teaser</description>"
        '<media:content url="http://a/i.jpg"/>'
        "<media:description>1 &lt; 2</media:description></item>"
    ),
    "media-title-only": rss_media(
        '<item><link>http://a/1</link><media:content url="http://a/i.jpg">'
        '<media:title type="plain">A &amp; B</media:title></media:content></item>'
    ),
    "media-title-beside-title": rss_media(
        "<item><media:title>M</media:title><title>T</title><link>http://a/1</link></item>"
    ),
    "youtube-description": atom(
        "<entry><title>t</title><id>yt:video:1</id><media:group><media:title>t</media:title>"
        "<media:description>a &amp; b</media:description></media:group></entry>",
        attributes=' xmlns:media="http://search.yahoo.com/mrss/"',
    ),
}
DECLINED_INLINE = {
    # feedparser reads the text of a date element whatever it is written in.
    "cdata-date": rss(
        "<item><title>x</title><guid>1</guid>"
        "<pubDate><![CDATA[Sun, 26 Dec 2021 09:35:42 GMT]]></pubDate></item>"
    ),
    "date-cut-by-cdata": rss(
        "<item><title>x</title><guid>1</guid>"
        "<pubDate>Sun, 26 Dec 2021 <![CDATA[09:35:42 GMT]]></pubDate></item>"
    ),
    "date-with-comment": rss(
        "<item><title>x</title><guid>1</guid>"
        "<dc:date><!-- c -->2021-12-26T09:35:42Z</dc:date></item>"
    ),
    "two-guids": rss("<item><title>x</title><guid>http://a/g</guid><guid>123</guid></item>"),
    "us-zone-name": rss(
        "<item><title>x</title><pubDate>Sun, 26 Dec 2021 09:35:42 CST</pubDate></item>"
    ),
    "zone-name": rss(
        "<item><title>x</title><pubDate>Mon, 16 Oct 2023 10:00:00 CEST</pubDate></item>"
    ),
    "generic-zone-name": rss(
        "<item><title>x</title><pubDate>Oct 16, 2023 1:55 PM PT</pubDate></item>"
    ),
    # Read through the source's date_order, which only aggregator.parse is given.
    "numeric-year-last": rss("<item><title>x</title><pubDate>31/12/2023</pubDate></item>"),
    "two-contents": rss(
        "<item><title>x</title><content:encoded>a</content:encoded><content:encoded>bb</content:encoded></item>"
    ),
    "empty-link": rss("<item><title>x</title><guid>http://g/</guid><link></link></item>"),
    "html-entity": rss("<item><title>a&nbsp;b</title></item>"),
    # feedparser reads C1 controls as windows-1252 in element text (’), not in attributes.
    "c1-reference": rss("<item><title>It&#146;s</title><guid>1</guid></item>"),
    "c1-hex-reference": rss("<item><title>x</title><description>&#x96;</description></item>"),
    "c1-raw": rss("<item><title>It\u0092s</title><guid>1</guid></item>"),
    "two-creators": rss(
        "<item><title>x</title><dc:creator>A</dc:creator><dc:creator>B</dc:creator></item>"
    ),
    "author-and-creator": rss(
        "<item><title>x</title><author>a@b.c (A)</author><dc:creator>B</dc:creator></item>"
    ),
    "googleplay-author": rss(
        "<item><title>x</title><googleplay:author>G</googleplay:author></item>",
        namespaces=NAMESPACES
        + ' xmlns:googleplay="http://www.google.com/schemas/play-podcasts/1.0"',
    ),
    "itunes-elsewhere": rss(
        "<item><title>x</title><itunes:author>I</itunes:author></item>",
        namespaces=NAMESPACES + ' xmlns:itunes="https://example.org/not-itunes"',
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
    "fullitem": rss("<item><title>x</title><fullitem>&lt;p&gt;c&lt;/p&gt;</fullitem></item>"),
    "xhtml-body": rss(
        '<item><title>x</title><xhtml:body xmlns:xhtml="http://www.w3.org/1999/xhtml">'
        "<xhtml:p>c</xhtml:p></xhtml:body></item>"
    ),
    "plain-body": rss("<item><title>x</title><body>c</body></item>"),
    "itunes-keywords": rss("<item><title>x</title><itunes:keywords>a, b</itunes:keywords></item>"),
    "media-keywords": rss_media(
        "<item><title>x</title><media:keywords>a, b</media:keywords></item>"
    ),
    "dc-description-after-description": rss(
        "<item><title>x</title><description>d</description><dc:description>e</dc:description></item>"
    ),
    "lowercase-pubdate": rss(
        "<item><title>x</title><pubdate>Sun, 26 Dec 2021 09:35:42 GMT</pubdate></item>"
    ),
    "uppercase-link": rss("<item><title>x</title><LINK>http://a/1</LINK></item>"),
    "a10-id": rss_atom("<item><title>x</title><a10:id>urn:1</a10:id></item>", prefix="a10"),
    "atom-declared-on-item": rss(
        '<item xmlns:a="http://www.w3.org/2005/Atom"><title>x</title><a:link href="http://a/"/>'
        "</item>"
    ),
    "atom-link-without-href": rss_atom("<item><title>x</title><atom:link rel='self'/></item>"),
    "media-caption-before-description": rss_media(
        "<item><title>x</title><media:description>c</media:description>"
        "<description>d</description></item>"
    ),
    "media-caption-beside-content": rss_media(
        "<item><title>x</title><content:encoded>c</content:encoded>"
        "<media:description>m</media:description></item>"
    ),
    "two-media-titles": rss_media(
        "<item><link>http://a/1</link><media:title>A</media:title><media:title>B</media:title></item>"
    ),
    "youtube-description-beside-summary": atom(
        "<entry><title>t</title><id>1</id><summary>s</summary>"
        "<media:description>d</media:description></entry>",
        attributes=' xmlns:media="http://search.yahoo.com/mrss/"',
    ),
    "atom-xhtml": atom(
        '<entry><title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">x</div></title><id>1</id></entry>'
    ),
}


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_inline_feed_agrees(name: str) -> None:
    fast = parse_fast(ACCEPTED[name], XML, url=URL)
    assert fast is not None
    assert fast == parse(ACCEPTED[name], XML, url=URL, fast=False)


@pytest.mark.parametrize("fast", [True, False])
def test_websub_hubs_and_self_are_read(fast: bool) -> None:
    rss_feed = parse(ACCEPTED["rss-websub-links"], XML, url=URL, fast=fast)
    assert rss_feed.hubs == ("https://hub.example/", "https://hub2.example/")
    assert rss_feed.self_url == "https://example.org/feed"
    atom_feed = parse(ACCEPTED["atom-websub-links"], XML, url=URL, fast=fast)
    assert (atom_feed.hubs, atom_feed.self_url) == (
        ("https://hub.example/",),
        "https://example.org/atom",
    )
    assert parse(ACCEPTED["tags-in-cdata"], XML, url=URL, fast=fast).hubs == ()


@pytest.mark.parametrize("name", sorted(DECLINED_INLINE))
def test_inline_feed_is_declined(name: str) -> None:
    assert parse_fast(DECLINED_INLINE[name], XML, url=URL) is None


def test_us_zone_name_would_lose_its_name() -> None:
    # Why "CST" is declined: the reference keeps the name for normalize to reread.
    published = (
        parse(DECLINED_INLINE["us-zone-name"], XML, url=URL, fast=False).entries[0].published
    )
    assert published is not None and published.tzname() == "CST"


def test_cdata_date_is_a_date_to_feedparser() -> None:
    # Why a date in CDATA is declined: the item scan reads plain text only.
    for name in ("cdata-date", "date-cut-by-cdata", "date-with-comment"):
        reference = parse(DECLINED_INLINE[name], XML, url=URL, fast=False).entries[0]
        assert reference.published or reference.updated, name


def test_zoneless_date_stays_naive() -> None:
    fast = parse_fast(ACCEPTED["zoneless-iso"], XML, url=URL)
    assert fast is not None and fast.entries[0].published is not None
    assert fast.entries[0].published.tzinfo is None


@pytest.mark.parametrize(
    ("charset_header", "title"),
    [
        pytest.param("application/rss+xml; charset=gbk", "专项规划出台", id="header-gbk"),
        # Bytes that are no UTF-8: the declaration in the document is the better witness.
        pytest.param("application/rss+xml; charset=utf-8", "专项规划出台", id="header-utf-8"),
        # Big5 decodes these bytes too: the header wins (RFC 7303 §3.2), as in a browser.
        pytest.param("application/rss+xml; charset=big5", "蚳砐寞赫堤怢", id="header-big5"),
    ],
)
def test_both_paths_read_the_same_charset(charset_header: str, title: str) -> None:
    body = (
        '<?xml version="1.0" encoding="GBK"?><rss version="2.0"><channel><title>天津日报</title>'
        "<link>http://gbk.example.cn/</link><item><title>专项规划出台</title>"
        "<link>http://gbk.example.cn/1</link></item></channel></rss>"
    ).encode("gbk")
    headers = {"content-type": charset_header}
    fast = parse_fast(body, headers, url=URL)
    assert fast is not None
    assert fast == parse(body, headers, url=URL, fast=False)
    assert fast.entries[0].title == title


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


# What feedparser reads in these shapes, written out: both paths must give it.
@pytest.mark.parametrize(
    ("name", "link"),
    [
        pytest.param("atom-self-link-first", "http://a/1", id="self-link-is-not-the-link"),
        pytest.param("atom-alternate-link-first", "http://a/1", id="last-link-wins"),
        pytest.param("atom-alternate-link-last", "http://a/alt", id="atom-alternate-last"),
        pytest.param("atom-feed-link-not-html", "http://a/1", id="alternate-of-other-type"),
        pytest.param("atom-self-link-and-permalink-guid", "http://a/g", id="guid-stays-link"),
        pytest.param("link-in-cdata-content", "http://a/g", id="link-tag-in-cdata"),
        pytest.param("double-escaped-link", "http://a/?a=1&b=2", id="amp-amp"),
        pytest.param("reference-like-query", "http://a/?a=1&copy=2", id="reference-fix"),
        pytest.param("a10-elements", "http://a/1", id="a10-link"),
    ],
)
def test_rss_link_as_feedparser_reads_it(name: str, link: str) -> None:
    for fast in (True, False):
        assert parse(ACCEPTED[name], XML, url=URL, fast=fast).entries[0].link == link


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "feedparser"])
def test_atom_elements_under_another_prefix(fast: bool) -> None:
    (entry,) = parse(ACCEPTED["a10-elements"], XML, url=URL, fast=fast).entries
    assert (entry.author, entry.content, entry.summary) == ("N", "<p>c</p>", "<p>c</p>")
    assert entry.updated == datetime(2021, 12, 26, 1, 35, 42, tzinfo=UTC)
    (entry,) = parse(ACCEPTED["a10-text-content-and-description"], XML, url=URL, fast=fast).entries
    assert (entry.content, entry.summary) == ("1 &lt; 2", "d")
    feed = parse(ACCEPTED["a10-channel"], XML, url=URL, fast=fast)
    assert feed.feed_id == "urn:feed"
    assert feed.updated == datetime(2021, 12, 27, tzinfo=UTC)


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "feedparser"])
def test_media_rss_titles_and_descriptions(fast: bool) -> None:
    (entry,) = parse(ACCEPTED["media-caption-after-description"], XML, url=URL, fast=fast).entries
    # A caption after the item's description describes the media, not the item.
    assert (entry.content, entry.summary) == ("teaser", "teaser")
    (entry,) = parse(ACCEPTED["media-title-only"], XML, url=URL, fast=fast).entries
    assert entry.title == "A &amp; B"
    (entry,) = parse(ACCEPTED["media-title-beside-title"], XML, url=URL, fast=fast).entries
    assert entry.title == "T"
    (entry,) = parse(ACCEPTED["youtube-description"], XML, url=URL, fast=fast).entries
    assert (entry.content, entry.summary) == ("a & b", "a & b")


def test_declined_content_elements_are_read_by_feedparser() -> None:
    for name in ("fullitem", "xhtml-body"):
        (entry,) = parse(DECLINED_INLINE[name], XML, url=URL).entries
        assert entry.content == "<p>c</p>", name


def test_declined_tag_elements_are_read_by_feedparser() -> None:
    # Why itunes:keywords and media:keywords are declined: feedparser makes tags of them.
    for name in ("itunes-keywords", "media-keywords"):
        (entry,) = parse(DECLINED_INLINE[name], XML, url=URL).entries
        assert entry.categories == ("a", "b"), name


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
