from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import builders
import pytest
from builders import CONTENT_NS, DC_NS, atom, bind_namespace, xmlns

from aggregator.errors import ParseError
from aggregator.parse import parse, parse_date
from aggregator.types import DateOrder

DATA = Path(__file__).parent / "data"
GOLDEN = DATA / "golden" / "tianjinribao.rss"
URL = "https://feeds.example.org/feed.xml"
XML = {"content-type": "application/xml"}

GOLDEN_TITLE = (
    "《天津市新一代信息技术产业发展“十四五”专项规划》出台 2025年电子信息制造业产值超3000亿元"
)
CHINESE_TITLE = "《天津市新一代信息技术产业发展“十四五”专项规划》出台"
CHINESE_BODY = "<p>日前，市工信局正式印发专项规划，电子信息制造业产值将突破3000亿元。</p>"


# RSS with the content: namespace bound, Atom as builders.atom writes it.
rss = functools.partial(builders.rss, namespaces=xmlns("content", CONTENT_NS))


# ---------------------------------------------------------------------- golden


def test_golden_item() -> None:
    feed = parse(GOLDEN.read_bytes(), {"content-type": "application/rss+xml"}, url=URL)
    assert feed.title == "天津日报"
    assert feed.link == "http://finews.zning.xyz/"
    (entry,) = feed.entries
    assert entry.title == GOLDEN_TITLE
    assert entry.guid == "NW202112262225980186"
    assert entry.link == (
        "http://finews.zning.xyz/html_News/NewsShare.html?infoCode=NW202112262225980186"
    )
    assert entry.published == datetime(2021, 12, 26, 1, 35, 42, tzinfo=UTC)
    assert entry.published is not None and entry.published.utcoffset() == timedelta(0)
    assert entry.updated is None
    assert entry.content is not None
    assert entry.content.startswith("<p>日前，市工信局正式印发")
    assert entry.content.endswith("逐步成长为专业细分领域的领袖和单项冠军。</p>")
    assert "</p>\n <p>产业基础扎实</p>" in entry.content


# ------------------------------------------------------------------- encodings


def _gbk_feed(prolog: str) -> bytes:
    text = (
        f'{prolog}<rss version="2.0"><channel><title>天津日报</title>'
        f"<link>http://gbk.example.cn/</link><item><title>{CHINESE_TITLE}</title>"
        f"<link>http://gbk.example.cn/1</link>"
        f"<description><![CDATA[{CHINESE_BODY}]]></description></item></channel></rss>"
    )
    return text.encode("gbk")


@pytest.mark.parametrize(
    ("prolog", "content_type"),
    [
        pytest.param('<?xml version="1.0"?>', "application/rss+xml; charset=gbk", id="header-only"),
        pytest.param('<?xml version="1.0"?>', "text/xml; charset=GBK", id="header-only-text-xml"),
        pytest.param('<?xml version="1.0" encoding="GBK"?>', "application/xml", id="prolog-only"),
        pytest.param('<?xml version="1.0" encoding="gbk"?>', "text/xml", id="prolog-text-xml"),
    ],
)
def test_gbk_feed_decodes_to_chinese(prolog: str, content_type: str) -> None:
    feed = parse(_gbk_feed(prolog), {"Content-Type": content_type}, url=URL)
    assert feed.title == "天津日报"
    (entry,) = feed.entries
    assert entry.title == CHINESE_TITLE
    assert entry.content == CHINESE_BODY


def test_undeclared_gbk_is_detected() -> None:
    # No header charset, no encoding declaration: feedparser alone would read windows-1252.
    feed = parse(_gbk_feed('<?xml version="1.0"?>'), XML, url=URL)
    assert feed.title == "天津日报"
    assert feed.entries[0].title == CHINESE_TITLE
    assert feed.entries[0].content == CHINESE_BODY


def test_declared_charset_is_not_second_guessed() -> None:
    # A charset the header declares is taken as given, even a wrong one: proof that the
    # header is what test_gbk_feed_decodes_to_chinese exercises, not the detection.
    headers = {"content-type": "application/xml; charset=windows-1252"}
    feed = parse(_gbk_feed('<?xml version="1.0"?>'), headers, url=URL)
    assert feed.entries[0].title != CHINESE_TITLE


def test_undeclared_latin1_is_left_to_feedparser() -> None:
    body = rss("<item><title>Caf\xe9</title></item>".encode("latin-1").decode("latin-1"))
    body = body.replace("Café".encode(), "Caf\xe9".encode("latin-1"))
    feed = parse(body, XML, url=URL)
    assert feed.entries[0].title == "Café"


def test_content_encoding_header_is_not_applied_again() -> None:
    headers = {"content-type": "application/rss+xml", "content-encoding": "gzip"}
    feed = parse(rss("<item><title>Plain</title></item>"), headers, url=URL)
    assert feed.entries[0].title == "Plain"


# --------------------------------------------------------------------- formats


def test_rss091() -> None:
    feed = parse((DATA / "feeds" / "rss091.xml").read_bytes(), XML, url=URL)
    assert [e.title for e in feed.entries] == ["Crème brûlée season opens", "Second item"]
    assert all(e.published is None and e.updated is None for e in feed.entries)


def test_rss10_rdf() -> None:
    feed = parse((DATA / "feeds" / "rss10_rdf.xml").read_bytes(), XML, url=URL)
    first = feed.entries[0]
    assert first.guid == "http://rdf.example.org/a"
    assert first.content == "<p>The <em>full</em> text of the first item.</p>"
    assert first.summary == "Short summary"
    assert first.published is None  # dc:date is the modification date
    assert first.updated == datetime(2021, 12, 26, 1, 35, 42, tzinfo=UTC)
    assert first.author == "Li Lei"
    assert first.categories == ("economy",)


def test_atom03() -> None:
    feed = parse((DATA / "feeds" / "atom03.xml").read_bytes(), XML, url=URL)
    first = feed.entries[0]
    assert first.guid == "tag:old.example.org,2004:entry-1"
    assert first.link == "http://old.example.org/weblog/2004/05/01/entry.html"
    assert first.published == datetime(2004, 5, 1, 12, 0, tzinfo=UTC)  # <issued>
    assert first.updated == datetime(2004, 5, 1, 13, 30, tzinfo=UTC)  # <modified>
    assert first.base == "http://old.example.org/weblog/"
    assert first.content is not None and '<a href="../about.html">' in first.content


def test_atom10() -> None:
    feed = parse((DATA / "feeds" / "atom10.xml").read_bytes(), XML, url=URL)
    assert feed.feed_id == "urn:uuid:60a76c80-d399-11d9-b93C-0003939e0af6"
    assert feed.updated == datetime(2021, 12, 26, 12, tzinfo=UTC)
    html_entry, text_entry, xhtml_entry = feed.entries
    assert html_entry.content == "<p>HTML content.</p>"
    assert html_entry.summary == "The summary loses to the content."
    assert html_entry.published == datetime(
        2021, 12, 26, 9, 35, 42, tzinfo=timezone(timedelta(hours=8))
    )
    # Atom says which titles are text: those come out escaped, as HTML that reads
    # back to the same text.
    assert html_entry.title == "Markup <em>in</em> an HTML title"
    assert text_entry.title == "Plain text title: 1 &lt; 2 &amp; &lt;b&gt;not bold&lt;/b&gt;"
    assert text_entry.content == "Plain text content: a &lt; b"
    assert xhtml_entry.title == "An <b>XHTML</b> title"


def test_content_encoded_preferred_over_description() -> None:
    body = (
        "<item><title>x</title><description>teaser</description>"
        "<content:encoded><![CDATA[<p>the whole text</p>]]></content:encoded></item>"
    )
    (entry,) = parse(rss(body), XML, url=URL).entries
    assert entry.content == "<p>the whole text</p>"
    assert entry.summary == "teaser"


def test_description_used_when_no_content() -> None:
    body = "<item><title>x</title><description>&lt;p&gt;only&lt;/p&gt;</description></item>"
    (entry,) = parse(rss(body), XML, url=URL).entries
    assert entry.content == entry.summary == "<p>only</p>"


def test_rss_title_keeps_literal_entities_for_one_decoding() -> None:
    # XML decodes one level: the title text is "AT&amp;T", so the HTML handed on must
    # decode to exactly that.
    (entry,) = parse(rss("<item><title>AT&amp;amp;T</title></item>"), XML, url=URL).entries
    assert entry.title == "AT&amp;amp;T"


def test_xml_base_does_not_leak_into_later_entries() -> None:
    feed = parse((DATA / "feeds" / "atom10_xml_base.xml").read_bytes(), XML, url=URL)
    first, second = feed.entries
    assert first.base == "https://cdn.example.org/posts/"
    assert first.link == "https://cdn.example.org/posts/one.html"
    assert second.base is None
    assert second.link == "/two.html"


def test_relative_xml_base_is_not_honoured() -> None:
    # Known limit: feedparser only keeps an xml:base it can make absolute, and we give it
    # no document URL (that would turn bare ids into URLs). The entry then has no base
    # and normalize resolves against the entry link or the feed's own link.
    entries = (
        '<entry xml:base="/posts/"><title>x</title><id>urn:1</id><link href="a"/>'
        '<updated>2021-12-26T00:00:00Z</updated><content type="html">x</content></entry>'
    )
    (entry,) = parse(atom(entries), XML, url=URL).entries
    assert entry.base is None
    assert entry.link == "a"


def test_bare_atom_id_stays_bare() -> None:
    entries = '<entry><title>x</title><id>123</id><link href="a"/></entry>'
    (entry,) = parse(atom(entries), XML, url=URL).entries
    assert entry.guid == "123"


def test_bare_guid_stays_bare() -> None:
    body = "<item><title>x</title><guid>123</guid><link>/a.html</link></item>"
    (entry,) = parse(rss(body), XML, url=URL).entries
    assert entry.guid == "123"
    assert entry.link == "/a.html"


def test_feed_level_fields() -> None:
    channel = "<ttl>90</ttl><lastBuildDate>Sun, 26 Dec 2021 01:35:42 GMT</lastBuildDate>"
    feed = parse(rss("", channel=channel), XML, url=URL)
    assert feed.title == "T"
    assert feed.link == "https://site.example.org/"
    assert feed.feed_id == "https://site.example.org/"
    assert feed.ttl == timedelta(minutes=90)
    assert feed.updated == datetime(2021, 12, 26, 1, 35, 42, tzinfo=UTC)
    assert feed.entries == ()


@pytest.mark.parametrize("ttl", ["soon", "-5", "0", ""])
def test_bad_ttl_is_ignored(ttl: str) -> None:
    assert parse(rss("", channel=f"<ttl>{ttl}</ttl>"), XML, url=URL).ttl is None


# ----------------------------------------------------------------------- dates


def test_updated_does_not_fall_back_to_published() -> None:
    body = "<item><title>x</title><pubDate>Sun, 26 Dec 2021 01:35:42 GMT</pubDate></item>"
    (entry,) = parse(rss(body), XML, url=URL).entries
    assert entry.published == datetime(2021, 12, 26, 1, 35, 42, tzinfo=UTC)
    assert entry.updated is None


def test_zone_less_date_is_naive() -> None:
    body = "<item><title>x</title><pubDate>2021-12-26 09:35:42</pubDate></item>"
    (entry,) = parse(rss(body), XML, url=URL).entries
    assert entry.published == datetime(2021, 12, 26, 9, 35, 42)
    assert entry.published.tzinfo is None


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param("2023-10-30T25:14:55Z", id="hour-25"),  # feedparser: 31 Oct, 01:14
        pytest.param("Tue, 31 Feb 2023 10:00:00 GMT", id="feb-31"),  # feedparser: 3 March
        pytest.param("2021-12", id="month-only"),  # feedparser: 1 Dec, UTC assumed
        pytest.param("99-12-31", id="two-digit-year"),
    ],
)
@pytest.mark.parametrize("fast", [True, False], ids=["fast", "reference"])
def test_feedparser_reading_of_a_refused_date_is_not_used(raw: str, fast: bool) -> None:
    body = f"<item><title>x</title><pubDate>{raw}</pubDate><dc:date>{raw}</dc:date></item>"
    feed = bind_namespace(rss(body), "dc", DC_NS)
    (entry,) = parse(feed, XML, url=URL, fast=fast).entries
    assert entry.published is None and entry.updated is None


def test_feedparser_rolls_impossible_dates_over() -> None:
    # Why its *_parsed values are not used: they are wrong by hours or days.
    import feedparser

    body = "<item><title>x</title><pubDate>2023-10-30T25:14:55Z</pubDate></item>"
    (entry,) = feedparser.parse(rss(body)).entries
    assert tuple(entry.published_parsed)[:5] == (2023, 10, 31, 1, 14)


CST = timezone(timedelta(hours=8))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param(
            "Sun, 26 Dec 2021 01:35:42 GMT",
            datetime(2021, 12, 26, 1, 35, 42, tzinfo=UTC),
            id="rfc822-gmt",
        ),
        pytest.param(
            "Sun, 26 Dec 2021 09:35:42 +0800",
            datetime(2021, 12, 26, 9, 35, 42, tzinfo=CST),
            id="rfc822-offset",
        ),
        pytest.param(
            "Sun, 26 Dec 2021 09:35:42 +08:00",
            datetime(2021, 12, 26, 9, 35, 42, tzinfo=CST),
            id="rfc822-colon-offset",
        ),
        pytest.param(
            "Sun, 26 Dec 2021 01:35:42 -0000",
            datetime(2021, 12, 26, 1, 35, 42, tzinfo=UTC),
            id="rfc822-minus-zero-is-utc",
        ),
        pytest.param(
            "Sun, 26 Dec 2021 09:35:42",
            datetime(2021, 12, 26, 9, 35, 42),
            id="rfc822-no-zone-naive",
        ),
        pytest.param("Sun, 26 Dec 2021 09:35:42 XYZ", None, id="rfc822-unknown-zone-refused"),
        pytest.param(
            "26 Dec 21 09:35 EST",
            datetime(2021, 12, 26, 9, 35, tzinfo=timezone(timedelta(hours=-5))),
            id="rfc822-short",
        ),
        pytest.param(
            "Sun, 26 Dec 2021 09:35:42 +0800 (CST)",
            datetime(2021, 12, 26, 9, 35, 42, tzinfo=CST),
            id="rfc822-comment",
        ),
        pytest.param(
            "2021-12-26T01:35:42Z", datetime(2021, 12, 26, 1, 35, 42, tzinfo=UTC), id="iso-z"
        ),
        pytest.param(
            "2021-12-26T01:35:42z", datetime(2021, 12, 26, 1, 35, 42, tzinfo=UTC), id="iso-lower-z"
        ),
        pytest.param(
            "2021-12-26T09:35:42.250+08:00",
            datetime(2021, 12, 26, 9, 35, 42, 250000, tzinfo=CST),
            id="iso-fraction",
        ),
        pytest.param("2021-12-26T09:35:42", datetime(2021, 12, 26, 9, 35, 42), id="iso-naive"),
        pytest.param(
            "2021-12-26 09:35:42", datetime(2021, 12, 26, 9, 35, 42), id="iso-space-naive"
        ),
        pytest.param("2021-12-26", datetime(2021, 12, 26), id="date-only-naive"),
        pytest.param("2021/12/26 09:35:42", datetime(2021, 12, 26, 9, 35, 42), id="slashes-naive"),
        pytest.param("yesterday", None, id="words"),
        pytest.param("", None, id="empty"),
        pytest.param("Sun, 26 Dec 2021 09:35:42 +9999", None, id="impossible-offset"),
        pytest.param("Sun, 31 Feb 2021 09:35:42 GMT", None, id="impossible-day"),
    ],
)
def test_parse_date(raw: str, expected: datetime | None) -> None:
    got = parse_date(raw)
    assert got == expected
    if expected is not None and got is not None:
        assert (got.tzinfo is None) == (expected.tzinfo is None)


# ---------------------------------------------------------------------- refusal


@pytest.mark.parametrize(
    ("content", "content_type", "message"),
    [
        pytest.param(b"", "application/xml", "empty body", id="empty"),
        pytest.param(b"  \n\t ", "application/xml", "empty body", id="whitespace"),
        pytest.param(
            b"<!DOCTYPE html><html><head><title>Hi</title></head><body><p>page</p></body></html>",
            "text/html; charset=utf-8",
            "not a feed (HTML page)",
            id="html-page",
        ),
        pytest.param(
            b"<html><body>no doctype</body></html>",
            "application/xml",
            "not a feed (HTML page)",
            id="html-without-doctype",
        ),
        pytest.param(
            b'<?xml version="1.0"?>\n<html xmlns="http://www.w3.org/1999/xhtml"><body/></html>',
            "application/xhtml+xml",
            "not a feed (HTML page)",
            id="xhtml-page",
        ),
        pytest.param(
            b"<rss><channel><item><title>x</ti",
            "application/rss+xml",
            "malformed XML:",
            id="cut-off-before-any-item",
        ),
        pytest.param(b'{"items": []}', "application/json", "not a feed (JSON", id="json"),
        pytest.param(
            b"\x00\x01\xff garbage", "application/octet-stream", "malformed XML:", id="binary"
        ),
        pytest.param(
            b'<?xml version="1.0"?><urlset><url><loc>x</loc></url></urlset>',
            "application/xml",
            "not a feed",
            id="other-xml",
        ),
    ],
)
def test_unusable_bodies_are_refused(content: bytes, content_type: str, message: str) -> None:
    with pytest.raises(ParseError) as info:
        parse(content, {"content-type": content_type}, url=URL)
    assert str(info.value).startswith(message)
    assert len(str(info.value)) < 250


def test_recoverable_problems_are_accepted() -> None:
    # &nbsp; is not an XML entity: feedparser flags the feed but reads it all.
    body = "<item><title>a&nbsp;b</title><link>https://x.example/1</link></item>"
    (entry,) = parse(rss(body), XML, url=URL).entries
    assert entry.title == "a\xa0b"


@pytest.mark.parametrize(
    "reference",
    ["&#xD800;", "&#56319;", "&#xDFFF;", "&#x110000;", "&#99999999999;", "&#x00000000D800;"],
)
def test_reference_to_no_character_reads_as_replacement(reference: str) -> None:
    # Not well-formed, so feedparser reads it; it raised on these, failing the source.
    body = (
        f"<item><title>a {reference} b</title><link>https://x.example/1</link>"
        f"<description>&lt;p&gt;c {reference} d&lt;/p&gt;</description></item>"
        f"<item><title>next &#x4E2D;</title><link>https://x.example/2</link></item>"
    )
    first, second = parse(rss(body), XML, url=URL).entries
    assert first.title == "a \ufffd b"
    assert first.summary == "<p>c \ufffd d</p>"
    assert second.title == "next 中"


@pytest.mark.parametrize("well_formed", [True, False], ids=["strict", "loose"])
def test_guid_and_categories_read_the_same_from_a_feed_not_well_formed(
    well_formed: bool,
) -> None:
    # A stray control character sends the whole body to feedparser's loose parser, which
    # left "&amp;" in a guid: the item got another key (a second post of it) and its
    # category another name than when the feed is well-formed.
    escaped = "item?id=1&amp;lang=en&amp;q=&lt;a&gt;&quot;b&quot;&apos;c&apos;&amp;amp;"
    body = (
        f'<item><title>t</title><guid isPermaLink="false">{escaped}</guid>'
        f"<category>Science &amp; Tech</category><category>{escaped}</category></item>"
    )
    channel = "" if well_formed else "<description>stray \x01</description>"
    (entry,) = parse(rss(body, channel=channel), XML, url=URL).entries
    text = "item?id=1&lang=en&q=<a>\"b\"'c'&amp;"
    assert entry.guid == text
    assert entry.categories == ("Science & Tech", text)


def test_atom_id_reads_the_same_from_a_feed_not_well_formed() -> None:
    entry_xml = "<entry><id>tag:x,2026:a&amp;b&lt;c</id><title>t</title></entry>"
    ids = [
        parse(atom(entry_xml, title=title), XML, url=URL).entries[0].guid
        for title in ("T", "T\x01")
    ]
    assert ids == ["tag:x,2026:a&b<c", "tag:x,2026:a&b<c"]


def test_truncated_feed_keeps_what_was_read() -> None:
    content = (DATA / "feeds" / "truncated.xml").read_bytes()
    feed = parse(content, XML, url=URL)
    assert feed.entries[0].title == "Complete item"


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "reference"])
@pytest.mark.parametrize(
    ("order", "expected"),
    [
        pytest.param(None, None, id="no-order-refused"),
        pytest.param("dmy", datetime(2023, 4, 3, 10, 0), id="dmy"),
        pytest.param("mdy", datetime(2023, 3, 4, 10, 0), id="mdy"),
    ],
)
def test_date_order_reaches_parse_date(
    fast: bool, order: DateOrder | None, expected: datetime | None
) -> None:
    body = "<item><title>x</title><pubDate>03/04/2023 10:00</pubDate></item>"
    (entry,) = parse(rss(body), XML, url=URL, fast=fast, date_order=order).entries
    assert entry.published == expected
