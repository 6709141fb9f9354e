from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import yaml
from builders import LOWER_UTF8_PROLOG, atom, rss
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aggregator.errors import ParseError
from aggregator.normalize import (
    AUTHOR_LENGTH,
    TITLE_LENGTH,
    canonical_link,
    clean_author,
    clean_title,
    normalize,
    post_key,
    sanitize_html,
)
from aggregator.parse import parse
from aggregator.publish import Publisher
from aggregator.store import open_store
from aggregator.types import Category, Config, ParsedFeed, Post, RawEntry, Schedule, Site, Source

DATA = Path(__file__).parent / "data"
FEEDS = DATA / "feeds"
GOLDEN = DATA / "golden"
NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
FEED_URL = "https://feeds.example.org/feed.xml"
SITE_TZ = "Asia/Shanghai"


def source(**changes: Any) -> Source:
    base = Source(
        name="Fixture",
        url=FEED_URL,
        category="news",
        tags=("News",),
        interval=timedelta(minutes=30),
    )
    return replace(base, **changes)


def run(
    *entries: RawEntry, feed_link: str | None = "https://site.example.org/", **src: Any
) -> list[Post]:
    feed = ParsedFeed(title="T", link=feed_link, entries=entries)
    return normalize(feed, source(**src), now=NOW, site_timezone=SITE_TZ, feed_url=FEED_URL)


def one(entry: RawEntry, **kwargs: Any) -> Post:
    (post,) = run(entry, **kwargs)
    return post


# ---------------------------------------------------------------------- golden


def golden_post() -> Post:
    content = (GOLDEN / "tianjinribao.rss").read_bytes()
    feed = parse(content, {"content-type": "application/rss+xml"}, url=FEED_URL)
    src = source(name="天津日报", category="tianjinribao", tags=("天津日报新闻",))
    (post,) = normalize(feed, src, now=NOW, site_timezone=SITE_TZ, feed_url=FEED_URL)
    return post


def golden_body() -> str:
    text = (GOLDEN / "post.md").read_text(encoding="utf-8")
    body = text.split("---\n", 2)[2]
    return body.split('<p class="em_media">', 1)[0]


def test_golden_post() -> None:
    post = golden_post()
    assert post.title == (
        "《天津市新一代信息技术产业发展“十四五”专项规划》出台 2025年电子信息制造业产值超3000亿元"
    )
    assert post.published == datetime(2021, 12, 26, 1, 35, 42, tzinfo=UTC)
    assert post.published.isoformat() == "2021-12-26T01:35:42+00:00"
    assert post.updated == post.published
    assert post.dated
    assert post.link == (
        "http://finews.zning.xyz/html_News/NewsShare.html?infoCode=NW202112262225980186"
    )
    assert post.category == "tianjinribao"
    assert post.tags == ("天津日报新闻",)
    assert post.source == "天津日报"
    assert post.slug.startswith("tian-jin-shi")
    assert re.fullmatch(r"[0-9a-f]{32}", post.key)
    assert re.fullmatch(r"[0-9a-f]{64}", post.content_hash)


def test_golden_body_is_byte_for_byte() -> None:
    assert golden_post().content_html == golden_body()


def test_golden_description_sanitizes_to_the_golden_body() -> None:
    content = (GOLDEN / "tianjinribao.rss").read_bytes()
    feed = parse(content, {"content-type": "application/rss+xml"}, url=FEED_URL)
    description = feed.entries[0].content
    assert description is not None
    assert sanitize_html(description, base_url=FEED_URL) == golden_body()


# ------------------------------------------------------------------- sanitizer

BASE = "https://news.example.org/2021/12/story.html"


@pytest.mark.parametrize(
    ("dirty", "clean"),
    [
        pytest.param("<p>a<script>alert(1)</script>b</p>", "<p>ab</p>", id="script"),
        pytest.param("<SCRIPT SRC=//x.example/a.js></SCRIPT>ok", "ok", id="script-upper"),
        pytest.param("<style>p{color:red}</style><p>x</p>", "<p>x</p>", id="style"),
        pytest.param('<iframe src="https://x.example/">fallback</iframe>x', "x", id="iframe"),
        pytest.param('<object data="x.swf"><embed src="x.swf"></object>x', "x", id="object"),
        pytest.param(
            '<form action="/x"><input name="q"><button>Go</button></form>', "Go", id="form"
        ),
        pytest.param(
            '<img src="https://i.example/a.png" onerror="alert(1)">',
            '<img src="https://i.example/a.png">',
            id="onerror",
        ),
        pytest.param(
            '<p onclick="x()" style="color:red" class="c" id="i">t</p>', "<p>t</p>", id="attributes"
        ),
        pytest.param(
            '<a href="javascript:alert(1)">x</a>',
            '<a rel="noopener noreferrer">x</a>',
            id="javascript-href",
        ),
        pytest.param(
            '<a href=" JaVaScRiPt:alert(1)">x</a>',
            '<a rel="noopener noreferrer">x</a>',
            id="javascript-mixed-case",
        ),
        pytest.param(
            '<a href="java&#x09;script:alert(1)">x</a>',
            '<a rel="noopener noreferrer">x</a>',
            id="javascript-tab",
        ),
        pytest.param(
            '<a href="vbscript:msgbox(1)">x</a>',
            '<a rel="noopener noreferrer">x</a>',
            id="vbscript",
        ),
        pytest.param('<img src="data:image/png;base64,iVBORw0KGgo=">', "<img>", id="data-src"),
        pytest.param(
            '<a href="https://o.example/">o</a>',
            '<a href="https://o.example/" rel="noopener noreferrer">o</a>',
            id="rel-added",
        ),
        pytest.param(
            '<a href="https://o.example/" rel="opener" target="_blank">o</a>',
            '<a href="https://o.example/" rel="noopener noreferrer">o</a>',
            id="rel-replaced",
        ),
        pytest.param(
            '<a href="mailto:ed@example.org">m</a>',
            '<a href="mailto:ed@example.org" rel="noopener noreferrer">m</a>',
            id="mailto",
        ),
        pytest.param(
            '<a href="more.html">m</a>',
            '<a href="https://news.example.org/2021/12/more.html" rel="noopener noreferrer">m</a>',
            id="relative-href",
        ),
        pytest.param(
            '<img src="/img/a.png" alt="a">',
            '<img src="https://news.example.org/img/a.png" alt="a">',
            id="root-relative-src",
        ),
        pytest.param(
            '<img src="../a.png">', '<img src="https://news.example.org/2021/a.png">', id="dot-dot"
        ),
        pytest.param(
            '<img src="//cdn.example.org/a.png">',
            '<img src="https://cdn.example.org/a.png">',
            id="protocol-relative",
        ),
        pytest.param(
            '<a href="?page=2">2</a>',
            '<a href="https://news.example.org/2021/12/story.html?page=2"'
            ' rel="noopener noreferrer">2</a>',
            id="query-only",
        ),
        pytest.param("<p>a</p>\n <p>b</p>\n", "<p>a</p>\n <p>b</p>\n", id="whitespace-kept"),
        pytest.param(
            "<p>a&nbsp;b &amp; c &lt; d</p>", "<p>a&nbsp;b &amp; c &lt; d</p>", id="entities-kept"
        ),
        pytest.param("<!-- hidden --><p>x</p>", "<p>x</p>", id="comment"),
        pytest.param("<br/>", "<br>", id="void"),
        pytest.param("<svg><script>alert(1)</script></svg>x", "x", id="svg"),
        pytest.param("<math><mi>x</mi></math>y", "y", id="math"),
        pytest.param("<p>\x00nul \x08 ctl</p>", "<p>nul  ctl</p>", id="control-chars"),
    ],
)
def test_sanitize_html(dirty: str, clean: str) -> None:
    assert sanitize_html(dirty, base_url=BASE) == clean


@pytest.mark.parametrize(
    "fragment",
    [
        pytest.param(
            '<figure><img src="https://i.example/a.png" width="10" height="5" title="t">'
            "<figcaption>c</figcaption></figure>",
            id="figure",
        ),
        pytest.param(
            '<table><thead><tr><th colspan="2">h</th></tr></thead>'
            "<tbody><tr><td>1</td><td>2</td></tr></tbody></table>",
            id="table",
        ),
        pytest.param(
            "<h2>h</h2><ul><li>a</li></ul><ol><li>b</li></ol><dl><dt>t</dt><dd>d</dd></dl>"
            "<blockquote>q</blockquote><pre><code>c</code></pre><hr>",
            id="blocks",
        ),
        pytest.param(
            "<em>e</em><strong>s</strong><b>b</b><i>i</i><u>u</u><s>s</s>"
            "<sub>1</sub><sup>2</sup><span>sp</span><div>d</div>",
            id="inline",
        ),
        pytest.param("<h1>1</h1><h3>3</h3><h4>4</h4><h5>5</h5><h6>6</h6>", id="headings"),
    ],
)
def test_allowed_markup_is_kept(fragment: str) -> None:
    assert sanitize_html(fragment, base_url=BASE) == fragment


def test_sanitize_without_base_keeps_relative_urls() -> None:
    got = sanitize_html('<a href="more.html">m</a>', base_url=None)
    assert got == '<a href="more.html" rel="noopener noreferrer">m</a>'


def test_sanitize_ignores_a_non_http_base() -> None:
    got = sanitize_html('<a href="more.html">m</a>', base_url="javascript:alert(1)//")
    assert got == '<a href="more.html" rel="noopener noreferrer">m</a>'


def test_sanitize_bases_do_not_mix() -> None:
    first = sanitize_html('<img src="a.png">', base_url="https://one.example/x/")
    second = sanitize_html('<img src="a.png">', base_url="https://two.example/y/")
    assert first == '<img src="https://one.example/x/a.png">'
    assert second == '<img src="https://two.example/y/a.png">'


# ---------------------------------------------------------------------- titles


@pytest.mark.parametrize(
    ("raw", "title"),
    [
        pytest.param("Plain", "Plain", id="plain"),
        pytest.param("AT&amp;T", "AT&T", id="one-entity"),
        pytest.param("AT&amp;amp;T", "AT&T", id="escaped-twice-decoded-once-more"),
        pytest.param("AT&amp;amp;amp;T", "AT&amp;T", id="escaped-thrice-decoded-once-more"),
        pytest.param("AT&T", "AT&T", id="bare-ampersand"),
        pytest.param("It&#8217;s &eacute;t&eacute;", "It’s été", id="numeric-and-named"),
        pytest.param("&amp;quot;Hi&amp;quot; &amp;#39;x&amp;#39;", "\"Hi\" 'x'", id="quotes-twice"),
        pytest.param("a &amp;mdash; b &amp;#x0024;5", "a — b $5", id="dash-and-hex-twice"),
        pytest.param("&copy 2024 &notit; Q&A", "&copy 2024 &notit; Q&A", id="unterminated-refs"),
        pytest.param("&amp;bogus;", "&bogus;", id="unknown-entity-stays"),
        pytest.param("<b>Bold</b> <i>move</i>", "Bold move", id="markup"),
        pytest.param("Wo<b>rd</b>", "Word", id="inline-markup-joins"),
        pytest.param("One<br>Two<p>Three</p>", "One Two Three", id="breaks-leave-spaces"),
        pytest.param('<span class="x">Open', "Open", id="tag-with-attribute-is-markup"),
        pytest.param("<script>alert(1)</script>Safe", "Safe", id="script-content"),
        pytest.param("<style>b{}</style>Safe", "Safe", id="style-content"),
        pytest.param("The <script> tag", "The <script> tag", id="unclosed-script-is-a-name"),
        pytest.param(
            "&lt;script&gt;alert(1)&lt;/script&gt;",
            "<script>alert(1)</script>",
            id="escaped-script-is-text",
        ),
        pytest.param(
            "History of the <blink> tag", "History of the <blink> tag", id="lone-tag-is-text"
        ),
        pytest.param(
            "History of the &amp;lt;blink&amp;gt; tag",
            "History of the <blink> tag",
            id="decoded-tag-is-text",
        ),
        pytest.param("List<String> and Map<K, V>", "List<String> and Map<K, V>", id="generics"),
        pytest.param("Safe<img src=x onerror=alert(1)>", "Safe", id="img"),
        pytest.param("1 < 2 and a<b", "1 < 2 and a<b", id="lone-less-than"),
        pytest.param("<!-- c -->Title", "Title", id="comment"),
        pytest.param("<![CDATA[x]]>y", "xy", id="cdata-markers"),
        pytest.param("  a \n\t b\u3000c\xa0d  ", "a b\u3000c d", id="whitespace-but-ideographic"),
        pytest.param("a\x00b\x07c", "abc", id="control-chars"),
        pytest.param("&#0;x&#1;", "\ufffdx", id="control-char-references"),
        pytest.param("a&amp;#1;b", "ab", id="control-char-reference-twice"),
        pytest.param("《专项规划》出台 2025年", "《专项规划》出台 2025年", id="chinese"),
    ],
)
def test_clean_title(raw: str, title: str) -> None:
    assert clean_title(raw, fallback_text="") == title


def test_long_title_is_cut_on_a_word_boundary() -> None:
    raw = " ".join(f"word{i}" for i in range(100))
    title = clean_title(raw, fallback_text="")
    assert len(title) <= TITLE_LENGTH
    assert title.endswith("…")
    assert raw.startswith(title[:-1])
    assert title[:-1].split(" ")[-1] in raw.split(" ")  # no word cut in half


def test_long_chinese_title_is_cut_at_the_limit() -> None:
    raw = "天津市新一代信息技术产业发展" * 30
    title = clean_title(raw, fallback_text="")
    assert len(title) == TITLE_LENGTH
    assert title == raw[: TITLE_LENGTH - 1] + "…"


def test_title_at_the_limit_is_kept() -> None:
    raw = "x" * TITLE_LENGTH
    assert clean_title(raw, fallback_text="") == raw


@pytest.mark.parametrize("raw", [None, "", "   ", "<br>", "<img src=x>"])
def test_missing_title_falls_back_to_the_text(raw: str | None) -> None:
    body = "<p>First paragraph of the story.</p><p>Second paragraph, which goes on.</p>"
    title = clean_title(raw, fallback_text=body)
    assert title == "First paragraph of the story. Second paragraph, which goes on."


def test_fallback_title_is_short() -> None:
    body = "<p>" + " ".join(["word"] * 100) + "</p>"
    title = clean_title(None, fallback_text=body)
    assert 0 < len(title) <= 80
    assert title.endswith("…")


RLO, LRO, RLE, PDF = "\u202e", "\u202d", "\u202b", "\u202c"
RLI, FSI, PDI = "\u2067", "\u2068", "\u2069"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param(f"evil {RLO}txt.exe", f"evil {RLO}txt.exe{PDF}", id="override-left-open"),
        pytest.param(f"a {RLE}b {LRO}c", f"a {RLE}b {LRO}c{PDF}{PDF}", id="nested"),
        pytest.param(f"{RLI}x{RLO}y", f"{RLI}x{RLO}y{PDF}{PDI}", id="override-in-isolate"),
        pytest.param(f"{RLO}{FSI}x{PDF}", f"{RLO}{FSI}x{PDF}{PDI}{PDF}", id="pdf-inside-isolate"),
        pytest.param(f"{RLI}x{RLO}y{PDI} z", f"{RLI}x{RLO}y{PDI} z", id="pdi-closes-all-in-it"),
        pytest.param(f"ok {RLO}b{PDF} c", f"ok {RLO}b{PDF} c", id="closed"),
        pytest.param(f"stray {PDF}{PDI}", f"stray {PDF}{PDI}", id="closers-alone"),
        pytest.param("عنوان عربي", "عنوان عربي", id="arabic"),
    ],
)
def test_bidi_controls_left_open_are_closed(raw: str, expected: str) -> None:
    # An override left open in a title or an author runs on into what a page shows after
    # it (a list item's date and source, reversed), as far as the end of the paragraph.
    assert clean_title(raw, fallback_text="") == expected
    assert clean_title(None, fallback_text=f"<p>{raw}</p>") == expected
    assert clean_author(raw) == expected


def test_bidi_override_cut_off_with_a_long_title_is_closed() -> None:
    title = clean_title("x" * (TITLE_LENGTH - 3) + f"{RLO}abcdef{PDF}", fallback_text="")
    assert title == "x" * (TITLE_LENGTH - 3) + f"{RLO}a…{PDF}"


# ----------------------------------------------------------------- links, keys


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        pytest.param("https://example.org/a?b=1", "https://example.org/a?b=1", id="unchanged"),
        pytest.param("HTTPS://Example.ORG/Path", "https://example.org/Path", id="case"),
        pytest.param("https://example.org:443/a", "https://example.org/a", id="default-port"),
        pytest.param("http://example.org:80/a", "http://example.org/a", id="default-port-http"),
        pytest.param("http://example.org:8080/a", "http://example.org:8080/a", id="other-port"),
        pytest.param("https://example.org/a#comments", "https://example.org/a", id="fragment"),
        pytest.param("https://example.org", "https://example.org/", id="empty-path"),
        pytest.param(
            "https://example.org/a?utm_source=rss&id=7&utm_medium=feed&fbclid=x",
            "https://example.org/a?id=7",
            id="tracking",
        ),
        pytest.param("  https://example.org/a  ", "https://example.org/a", id="spaces"),
        pytest.param("https://user:pw@example.org/a", "https://example.org/a", id="userinfo"),
        pytest.param("/relative/path", "/relative/path", id="relative"),
        pytest.param("mailto:a@example.org", "mailto:a@example.org", id="not-http"),
        pytest.param("http://[broken/a", "http://[broken/a", id="unparseable"),
    ],
)
def test_canonical_link(url: str, canonical: str) -> None:
    assert canonical_link(url) == canonical


def test_key_is_short_hex_and_stable() -> None:
    entry = RawEntry(guid="123", title="t")
    key = post_key("A", entry, "")
    assert re.fullmatch(r"[0-9a-f]{32}", key)
    assert post_key("A", entry, "") == key
    assert post_key("A", replace(entry, title="changed"), "<p>changed</p>") == key


def test_bare_guid_is_scoped_by_source() -> None:
    entry = RawEntry(guid="123")
    assert post_key("A", entry, "") != post_key("B", entry, "")


@pytest.mark.parametrize(
    "guid",
    ["https://example.org/p/1", "http://example.org/?p=1", "tag:example.org,2021:1", "urn:uuid:1"],
)
def test_global_guid_is_scoped_by_source_too(guid: str) -> None:
    # Whether two sources' items under one guid are one post is their category's `dedupe`
    # setting's to decide (reconcile), not the key's.
    entry = RawEntry(guid=guid)
    assert post_key("A", entry, "") != post_key("B", entry, "")
    assert post_key("A", entry, "") == post_key("A", replace(entry, link="https://x.example/"), "")


def test_guid_wins_over_link() -> None:
    a = RawEntry(guid="g", link="https://example.org/1")
    b = RawEntry(guid="g", link="https://example.org/2")
    assert post_key("A", a, "") == post_key("A", b, "")


def test_key_from_canonical_link_without_guid() -> None:
    a = RawEntry(link="https://Example.org:443/1?utm_source=x#top", title="a")
    b = RawEntry(link="https://example.org/1#top", title="b")
    c = RawEntry(link="https://example.org/2", title="a")
    assert post_key("A", a, "") == post_key("A", b, "")
    assert post_key("A", a, "") != post_key("A", c, "")
    assert post_key("A", a, "") != post_key("B", b, "")


@pytest.mark.parametrize(
    ("one_link", "other_link"),
    [
        pytest.param("https://example.org/list#a", "https://example.org/list#b", id="anchors"),
        pytest.param("https://example.org/list", "https://example.org/list#b", id="page-anchor"),
        pytest.param("list.html#1", "list.html#2", id="relative"),
    ],
)
def test_links_differing_by_fragment_are_two_keys(one_link: str, other_link: str) -> None:
    a, b = RawEntry(link=one_link), RawEntry(link=other_link)
    assert post_key("A", a, "") != post_key("A", b, "")
    # An empty fragment names the page itself.
    assert post_key("A", RawEntry(link="https://e.org/p#"), "") == post_key(
        "A", RawEntry(link="https://e.org/p"), ""
    )


def test_key_from_content_without_guid_or_link() -> None:
    a = RawEntry(title="t", content="<p>x</p>")
    assert post_key("A", a, "<p>x</p>") == post_key("A", a, "<p>x</p>")
    assert post_key("A", a, "<p>x</p>") != post_key("A", a, "<p>y</p>")
    assert post_key("A", a, "<p>x</p>") != post_key("B", a, "<p>x</p>")


# ------------------------------------------------------------------- normalize


def test_fields_come_from_the_source() -> None:
    post = one(RawEntry(guid="1", title="t"), name="Src", category="cat", tags=("A", "B"))
    assert (post.source, post.category, post.tags) == ("Src", "cat", ("A", "B"))


def test_zone_less_date_is_read_in_the_site_zone() -> None:
    post = one(RawEntry(guid="1", title="t", published=datetime(2021, 12, 26, 9, 35, 42)))
    assert post.published == datetime(2021, 12, 26, 1, 35, 42, tzinfo=UTC)
    assert post.published.utcoffset() == timedelta(0)


def test_zone_less_date_uses_the_source_zone_first() -> None:
    entry = RawEntry(guid="1", title="t", published=datetime(2021, 12, 26, 9, 35, 42))
    post = one(entry, timezone="America/New_York")
    assert post.published == datetime(2021, 12, 26, 14, 35, 42, tzinfo=UTC)


def test_aware_date_is_converted_to_utc() -> None:
    from datetime import timezone

    pub = datetime(2021, 12, 26, 9, 35, 42, tzinfo=timezone(timedelta(hours=8)))
    post = one(RawEntry(guid="1", title="t", published=pub), timezone="America/New_York")
    assert post.published == datetime(2021, 12, 26, 1, 35, 42, tzinfo=UTC)
    assert post.published.tzinfo is UTC


def test_missing_date_is_now_and_undated() -> None:
    post = one(RawEntry(guid="1", title="t"))
    assert post.published == NOW
    assert post.updated == NOW
    assert post.dated is False


@pytest.mark.parametrize(
    "year",
    [pytest.param(1, id="year-1"), pytest.param(99, id="year-99"), pytest.param(999, id="999")],
)
def test_dates_before_year_1000_are_undated(year: int) -> None:
    post = one(RawEntry(guid="1", title="t", published=datetime(year, 12, 31, tzinfo=UTC)))
    assert post.published == NOW
    assert post.dated is False
    kept = one(RawEntry(guid="1", title="t", published=datetime(1000, 1, 2, tzinfo=UTC)))
    assert kept.dated is True


def test_updated_only_is_the_published_date() -> None:
    post = one(RawEntry(guid="1", title="t", updated=datetime(2021, 12, 26, tzinfo=UTC)))
    assert post.published == post.updated == datetime(2021, 12, 26, tzinfo=UTC)
    assert post.dated


def test_updated_is_never_before_published() -> None:
    pub = datetime(2021, 12, 26, tzinfo=UTC)
    post = one(RawEntry(guid="1", title="t", published=pub, updated=pub - timedelta(days=3)))
    assert post.updated == pub
    later = one(RawEntry(guid="1", title="t", published=pub, updated=pub + timedelta(hours=1)))
    assert later.updated == pub + timedelta(hours=1)


def test_dates_at_the_edge_of_the_calendar_do_not_raise() -> None:
    post = one(RawEntry(guid="1", title="t", published=datetime(1, 1, 1)))
    assert post.published == NOW and not post.dated
    post = one(RawEntry(guid="2", title="t", published=datetime(9999, 12, 31, 23, 59)))
    assert post.published == NOW and not post.dated  # the far future is clamped


@pytest.mark.parametrize(
    ("ahead", "clamped"),
    [
        pytest.param(timedelta(minutes=5), False, id="clock-skew-tolerated"),
        pytest.param(timedelta(hours=3), True, id="future-clamped"),
        pytest.param(timedelta(days=400), True, id="next-year-clamped"),
    ],
)
def test_future_dates_are_clamped_to_the_fetch(ahead: timedelta, clamped: bool) -> None:
    post = one(RawEntry(guid="1", title="t", published=NOW + ahead))
    assert (post.published == NOW) is clamped
    assert post.dated is not clamped
    assert post.updated >= post.published


def test_date_offset_corrects_a_wrong_clock() -> None:
    pub = datetime(2021, 12, 26, 9, 35, 42, tzinfo=UTC)
    post = one(RawEntry(guid="1", title="t", published=pub), date_offset=timedelta(hours=-8))
    assert post.published == datetime(2021, 12, 26, 1, 35, 42, tzinfo=UTC)


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        pytest.param("Asia/Shanghai", datetime(2021, 12, 26, 1, 35, 42, tzinfo=UTC), id="china"),
        pytest.param("America/Chicago", datetime(2021, 12, 26, 15, 35, 42, tzinfo=UTC), id="us"),
        pytest.param("UTC", datetime(2021, 12, 26, 15, 35, 42, tzinfo=UTC), id="rfc822"),
    ],
)
def test_cst_follows_the_source_zone(zone: str, expected: datetime) -> None:
    content = rss(
        "<item><guid>1</guid><title>t</title>"
        "<pubDate>Sun, 26 Dec 2021 09:35:42 CST</pubDate></item>"
    )
    feed = parse(content, {"content-type": "application/rss+xml"}, url=FEED_URL)
    (post,) = normalize(
        feed, source(timezone=zone), now=NOW, site_timezone="UTC", feed_url=FEED_URL
    )
    assert post.published == expected


def test_cst_follows_the_site_zone_when_the_source_has_none() -> None:
    content = rss(
        "<item><guid>1</guid><title>t</title>"
        "<pubDate>Sun, 26 Dec 2021 09:35:42 CST</pubDate></item>"
    )
    feed = parse(content, {"content-type": "application/rss+xml"}, url=FEED_URL)
    (post,) = normalize(feed, source(), now=NOW, site_timezone=SITE_TZ, feed_url=FEED_URL)
    assert post.published == datetime(2021, 12, 26, 1, 35, 42, tzinfo=UTC)


# ---------------------------------------------------------------- images, paragraphs


@pytest.mark.parametrize(
    ("dirty", "clean"),
    [
        pytest.param(
            '<img data-src="/a.jpg" src="data:image/gif;base64,R0lGOD">',
            '<img src="https://news.example.org/a.jpg">',
            id="data-src-over-placeholder",
        ),
        pytest.param(
            '<img data-original="b.jpg" src="grey.gif" alt="x">',
            '<img src="https://news.example.org/2021/12/b.jpg" alt="x">',
            id="data-original",
        ),
        pytest.param(
            '<img srcset="/s.jpg 1x, /l.jpg 2x">',
            '<img src="https://news.example.org/s.jpg">',
            id="srcset-only",
        ),
        pytest.param('<img data-src="javascript:alert(1)">', "<img>", id="lazy-script-url-refused"),
        pytest.param(
            '<p>a<img src="https://t.example/p.gif" width="1" height="1"></p>',
            "<p>a</p>",
            id="tracking-pixel",
        ),
        pytest.param(
            '<img src="https://t.example/p.gif" width="0" height="0px">', "", id="zero-pixel"
        ),
        pytest.param(
            '<img src="https://x.example/i.png" width="1" height="300">',
            '<img src="https://x.example/i.png" width="1" height="300">',
            id="thin-image-kept",
        ),
        pytest.param("<p><script>x()</script></p><p>b</p>", "<p>b</p>", id="emptied-paragraph"),
        pytest.param("<p> <br> &nbsp;</p>x", "x", id="blank-paragraph"),
        pytest.param(
            '<p><img src="https://t.example/p.gif" width="1" height="1"></p>',
            "",
            id="pixel-in-paragraph",
        ),
        pytest.param('<img src="data:image/png;base64,iVBO">', "<img>", id="data-image-refused"),
        pytest.param("a\x0bb\ufffec&#x1;d", "abcd", id="xml-forbidden-characters"),
    ],
)
def test_sanitize_images_and_paragraphs(dirty: str, clean: str) -> None:
    assert sanitize_html(dirty, base_url=BASE) == clean
    assert sanitize_html(clean, base_url=BASE) == clean


def test_data_images_only_when_allowed() -> None:
    png = '<img src="data:image/png;base64,iVBORw0KGgo=">'
    assert sanitize_html(png, base_url=BASE, allow_data_images=True) == png
    svg = '<img src="data:image/svg+xml;base64,PHN2Zz4=">'
    assert sanitize_html(svg, base_url=BASE, allow_data_images=True) == "<img>"
    link = '<a href="data:image/png;base64,iVBORw0KGgo=">x</a>'
    assert "data:" not in sanitize_html(link, base_url=BASE, allow_data_images=True)
    post = one(RawEntry(guid="1", title="t", content=png), allow_data_images=True)
    assert post.content_html == png
    assert one(RawEntry(guid="1", title="t", content=png)).content_html == "<img>"


def test_known_raw_hashes_are_skipped() -> None:
    entries = (RawEntry(guid="1", title="a"), RawEntry(guid="2", title="b"))
    feed = ParsedFeed(title="T", link="https://site.example.org/", entries=entries)
    first = normalize(feed, source(), now=NOW, site_timezone=SITE_TZ, feed_url=FEED_URL)
    assert len(first) == 2 and all(p.raw_hash for p in first)
    known = {first[0].raw_hash}
    again = normalize(
        feed, source(), now=NOW, site_timezone=SITE_TZ, feed_url=FEED_URL, known=known
    )
    assert [p.title for p in again] == ["b"]
    # A config change re-normalizes everything: the rules shape the post.
    changed = normalize(
        feed,
        source(tags=("Other",)),
        now=NOW,
        site_timezone=SITE_TZ,
        feed_url=FEED_URL,
        known=known,
    )
    assert len(changed) == 2


def test_unknown_zone_name_does_not_raise() -> None:
    post = one(RawEntry(guid="1", title="t", published=datetime(2021, 1, 1)), timezone="Nowhere/X")
    assert post.published == datetime(2021, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("link", "feed_link", "expected"),
    [
        pytest.param("https://a.example/1", None, "https://a.example/1", id="absolute"),
        # Against the feed's own URL (RFC 3986 §5.1.3), never the channel's link.
        pytest.param(
            "/news/1.html",
            "https://site.example.org/x/",
            "https://feeds.example.org/news/1.html",
            id="root-relative",
        ),
        pytest.param(
            "1.html",
            "https://site.example.org/x/",
            "https://feeds.example.org/1.html",
            id="relative",
        ),
        pytest.param(
            "1.html", None, "https://feeds.example.org/1.html", id="relative-no-feed-link"
        ),
        pytest.param("1.html", "/x/", "https://feeds.example.org/1.html", id="relative-feed-link"),
        pytest.param(
            'https://ex.org/a"><script>x</script>',
            None,
            "https://ex.org/a%22%3E%3Cscript%3Ex%3C/script%3E",
            id="markup-characters-percent-encoded",
        ),
        pytest.param(
            'https://ex.org/a b?q=<1>#"f"',
            None,
            "https://ex.org/a%20b?q=%3C1%3E#%22f%22",
            id="space-query-fragment",
        ),
        pytest.param(
            '/p?q="x"', "https://ex.org/", "https://feeds.example.org/p?q=%22x%22", id="quoted"
        ),
        pytest.param("javascript:alert(1)", None, "", id="javascript"),
        pytest.param("data:text/html,x", None, "", id="data"),
        pytest.param(None, None, "", id="none"),
    ],
)
def test_link(link: str | None, feed_link: str | None, expected: str) -> None:
    assert one(RawEntry(guid="1", title="t", link=link), feed_link=feed_link).link == expected


def test_content_urls_resolve_against_the_entry_base_first() -> None:
    entry = RawEntry(
        guid="1",
        link="https://a.example/post/1",
        content='<img src="x.png">',
        base="https://cdn.example/b/",
    )
    assert one(entry).content_html == '<img src="https://cdn.example/b/x.png">'
    assert one(replace(entry, base=None)).content_html == '<img src="https://a.example/post/x.png">'
    no_link = replace(entry, base=None, link=None)
    # Then the feed's own URL, whatever the channel's link says.
    assert one(no_link).content_html == '<img src="https://feeds.example.org/x.png">'
    assert (
        one(no_link, feed_link=None).content_html == '<img src="https://feeds.example.org/x.png">'
    )


def test_summary_is_used_when_there_is_no_content() -> None:
    post = one(RawEntry(guid="1", title="t", summary="<p>s</p>"))
    assert post.content_html == "<p>s</p>"


def test_entry_without_anything_is_skipped() -> None:
    posts = run(RawEntry(), RawEntry(author="a", categories=("c",)), RawEntry(guid="1"))
    assert len(posts) == 1


def test_entry_with_only_a_guid_gets_a_title() -> None:
    post = one(RawEntry(guid="1"))
    assert post.title == "Fixture"
    assert post.slug == "fixture"


def test_slug_falls_back() -> None:
    assert one(RawEntry(guid="1", title="!!!")).slug == "post"


def test_repeated_keys_keep_the_first() -> None:
    posts = run(RawEntry(guid="1", title="first"), RawEntry(guid="1", title="second"))
    assert [p.title for p in posts] == ["first"]


def test_content_hash_follows_what_the_post_shows() -> None:
    entry = RawEntry(guid="1", title="t", link="https://a.example/1", content="<p>x</p>")
    base = one(entry).content_hash
    assert one(entry).content_hash == base
    assert one(replace(entry, title="u")).content_hash != base
    assert one(replace(entry, link="https://a.example/2")).content_hash != base
    assert one(replace(entry, content="<p>y</p>")).content_hash != base
    assert one(entry, tags=("Other",)).content_hash != base
    # Not shown: a change of date alone is no update.
    assert one(replace(entry, updated=datetime(2022, 1, 1, tzinfo=UTC))).content_hash == base


def _rss_with_title(title_xml: str) -> bytes:
    return rss(
        f"<item><title>{title_xml}</title><guid>https://titles.example.org/1</guid>"
        "<link>https://titles.example.org/1</link><description>Body text.</description></item>",
        title="t",
        link="https://titles.example.org/",
        prolog=LOWER_UTF8_PROLOG,
    )


def _atom_with_title(title_xml: str, kind: str | None) -> bytes:
    type_attribute = f' type="{kind}"' if kind else ""
    return atom(
        "<entry><id>tag:titles.example.org,2024:1</id>"
        f"<title{type_attribute}>{title_xml}</title>"
        '<link href="https://titles.example.org/1"/><updated>2024-05-01T08:00:00Z</updated>'
        '<content type="html">&lt;p&gt;Body text.&lt;/p&gt;</content></entry>',
        title="t",
        feed_id="tag:titles.example.org,2024:feed",
        head='<link href="https://titles.example.org/"/><updated>2024-05-01T08:00:00Z</updated>',
        prolog=LOWER_UTF8_PROLOG,
    )


# Titles as feeds write them (the element's XML), and what a reader reads. RSS says nothing
# of its titles' syntax: they are read as HTML, as readers do. Atom's type="text" is text,
# "html" HTML. Whatever a feed escaped once more than its syntax asks is decoded once more,
# and what decoding yields is text, never markup.
FEED_TITLES = [
    pytest.param("rss", "Plain title", "Plain title", id="rss-plain"),
    pytest.param("rss", "AT&amp;T", "AT&T", id="rss-ampersand"),
    pytest.param("rss", "AT&amp;amp;T", "AT&T", id="rss-ampersand-twice"),
    pytest.param("rss", "Q&amp;amp;amp;A", "Q&amp;A", id="rss-ampersand-thrice"),
    pytest.param("rss", "&amp;quot;Quoted&amp;quot; words", '"Quoted" words', id="rss-quot-twice"),
    pytest.param("rss", "It&amp;#39;s here", "It's here", id="rss-numeric-twice"),
    pytest.param("rss", "Before &amp;mdash; after", "Before — after", id="rss-mdash-twice"),
    pytest.param("rss", "Price &amp;#x0024;5", "Price $5", id="rss-hex-twice"),
    pytest.param("rss", "a&amp;nbsp;b", "a b", id="rss-nbsp-twice"),
    pytest.param("rss", "&amp;bogus; stays", "&bogus; stays", id="rss-unknown-entity"),
    pytest.param("rss", "AT&amp;T &amp;copy 2024", "AT&T &copy 2024", id="rss-unterminated"),
    pytest.param("rss", "a&amp;#1;b", "ab", id="rss-control-reference-twice"),
    pytest.param("rss", "It&#8217;s &#x2014; here", "It’s — here", id="rss-xml-numeric"),
    pytest.param(
        "rss",
        "History of the &lt;blink&gt; tag",
        "History of the <blink> tag",
        id="rss-blink-escaped-once",
    ),
    pytest.param(
        "rss",
        "History of the &amp;lt;blink&amp;gt; tag",
        "History of the <blink> tag",
        id="rss-blink-escaped-twice",
    ),
    pytest.param("rss", "&lt;b&gt;Escaped&lt;/b&gt; markup", "Escaped markup", id="rss-escaped-b"),
    pytest.param(
        "rss", "&lt;p&gt;One&lt;/p&gt;&lt;p&gt;Two&lt;/p&gt;", "One Two", id="rss-paragraphs"
    ),
    pytest.param(
        "rss", "&lt;script&gt;alert(1)&lt;/script&gt;Safe", "Safe", id="rss-script-escaped-once"
    ),
    pytest.param(
        "rss",
        "&amp;lt;script&amp;gt;alert(1)&amp;lt;/script&amp;gt;",
        "<script>alert(1)</script>",
        id="rss-script-escaped-twice",
    ),
    pytest.param("rss", "Why List&lt;String&gt; fails", "Why List<String> fails", id="rss-generic"),
    pytest.param("rss", "5 &lt; 6 and a&lt;b", "5 < 6 and a<b", id="rss-less-than"),
    pytest.param("rss", "&amp;lt;3 you", "<3 you", id="rss-heart-twice"),
    pytest.param("rss", "<![CDATA[<b>Breaking</b> news]]>", "Breaking news", id="rss-cdata-markup"),
    pytest.param("rss", "<![CDATA[Tom &amp; Jerry]]>", "Tom & Jerry", id="rss-cdata-entity"),
    pytest.param("rss", "<![CDATA[Q&A]]>", "Q&A", id="rss-cdata-bare-ampersand"),
    pytest.param(
        "rss", "<![CDATA[Caf&eacute; &amp; cr&egrave;me]]>", "Café & crème", id="rss-cdata-named"
    ),
    pytest.param(
        "rss",
        '<![CDATA[<a href="https://x.example/">Linked</a> title]]>',
        "Linked title",
        id="rss-cdata-link",
    ),
    pytest.param("rss", "<![CDATA[Line<br/>break]]>", "Line break", id="rss-cdata-br"),
    pytest.param(
        "rss",
        '<![CDATA[<span style="color:red">Red</span> alert]]>',
        "Red alert",
        id="rss-cdata-styled-span",
    ),
    pytest.param(
        "rss", '<![CDATA[<span class="x">Open span]]>', "Open span", id="rss-cdata-unclosed-span"
    ),
    pytest.param(
        "rss",
        "<![CDATA[Array<T> and Map<K, V>]]>",
        "Array<T> and Map<K, V>",
        id="rss-cdata-generics",
    ),
    pytest.param("rss", "<![CDATA[<!-- x -->Title]]>", "Title", id="rss-cdata-comment"),
    pytest.param("rss", "  Spaced\n   out  ", "Spaced out", id="rss-whitespace"),
    pytest.param("rss", "《专项规划》出台", "《专项规划》出台", id="rss-chinese"),
    pytest.param(
        "rss", "&amp;quot;十四五&amp;quot;规划", '"十四五"规划', id="rss-chinese-quot-twice"
    ),
    pytest.param("atom", "Plain", "Plain", id="atom-plain"),
    pytest.param("atom", "AT&amp;T", "AT&T", id="atom-text-ampersand"),
    pytest.param("atom", "AT&amp;amp;T", "AT&T", id="atom-text-ampersand-twice"),
    pytest.param("atom", "&amp;quot;Hi&amp;quot;", '"Hi"', id="atom-text-quot-twice"),
    pytest.param(
        "atom",
        "History of the &lt;blink&gt; tag",
        "History of the <blink> tag",
        id="atom-text-blink",
    ),
    pytest.param(
        "atom-text", "&lt;b&gt;Not bold&lt;/b&gt;", "<b>Not bold</b>", id="atom-text-is-text"
    ),
    pytest.param("atom-text", "<![CDATA[<b>x</b>]]>", "<b>x</b>", id="atom-text-cdata"),
    pytest.param("atom-html", "&lt;b&gt;Bold&lt;/b&gt; move", "Bold move", id="atom-html-markup"),
    pytest.param(
        "atom-html",
        "History of the &amp;lt;blink&amp;gt; tag",
        "History of the <blink> tag",
        id="atom-html-blink-as-text",
    ),
    pytest.param(
        "atom-html",
        "History of the &lt;blink&gt; tag",
        "History of the <blink> tag",
        id="atom-html-lone-tag",
    ),
    pytest.param("atom-html", "&amp;amp;quot;Hi&amp;amp;quot;", '"Hi"', id="atom-html-quot-twice"),
    pytest.param("atom-html", "Caf&amp;eacute;", "Café", id="atom-html-entity"),
    pytest.param(
        "atom-html", "<![CDATA[<em>New</em> release]]>", "New release", id="atom-html-cdata"
    ),
    pytest.param(
        "atom-html", "&lt;script&gt;alert(1)&lt;/script&gt;Safe", "Safe", id="atom-html-script"
    ),
    pytest.param(
        "atom-xhtml",
        '<div xmlns="http://www.w3.org/1999/xhtml">X <b>bold</b> &amp; more</div>',
        "X bold & more",
        id="atom-xhtml",
    ),
]


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "feedparser"])
@pytest.mark.parametrize(("kind", "title_xml", "title"), FEED_TITLES)
def test_feed_titles_read_as_a_reader_reads_them(
    kind: str, title_xml: str, title: str, fast: bool
) -> None:
    if kind == "rss":
        body = _rss_with_title(title_xml)
    else:
        attribute = {"atom": None, "atom-text": "text", "atom-html": "html"}.get(kind, "xhtml")
        body = _atom_with_title(title_xml, attribute)
    feed = parse(body, {"content-type": "application/xml"}, url=FEED_URL, fast=fast)
    (post,) = normalize(feed, source(), now=NOW, site_timezone=SITE_TZ, feed_url=FEED_URL)
    assert post.title == title


def test_feed_title_table_is_long_and_the_fast_path_carries_most_of_it() -> None:
    from aggregator.parse.fast import parse_fast

    assert len(FEED_TITLES) >= 40
    carried = 0
    for row in FEED_TITLES:
        kind, title_xml, _ = row.values
        assert isinstance(kind, str) and isinstance(title_xml, str)
        if kind == "rss":
            body = _rss_with_title(title_xml)
        else:
            attribute = {"atom": None, "atom-text": "text", "atom-html": "html"}.get(kind, "xhtml")
            body = _atom_with_title(title_xml, attribute)
        carried += parse_fast(body, {"content-type": "application/xml"}, url=FEED_URL) is not None
    # Both paths are compared only where the fast one reads the feed itself.
    assert carried >= len(FEED_TITLES) // 2


# -------------------------------------------------------------------- authors


@pytest.mark.parametrize(
    ("raw", "author"),
    [
        pytest.param("王五", "王五", id="chinese"),
        pytest.param("Jane Doe", "Jane Doe", id="plain"),
        pytest.param("jane@example.com (Jane Doe)", "Jane Doe", id="rss-address-then-name"),
        pytest.param("Jane Doe (jane@example.com)", "Jane Doe", id="name-then-address"),
        pytest.param("Jane Doe <jane@example.com>", "Jane Doe", id="name-angle-address"),
        pytest.param("jane@example.com", "jane@example.com", id="address-alone"),
        pytest.param("Tom &amp; Jerry", "Tom & Jerry", id="entity-decoded"),
        pytest.param("Tom &amp;amp; Jerry", "Tom &amp; Jerry", id="decoded-once-only"),
        pytest.param("O&#8217;Brien", "O’Brien", id="numeric"),
        pytest.param("<b>Bob</b> &amp; Al", "Bob & Al", id="markup"),
        pytest.param("<script>alert(1)</script>Eve", "Eve", id="script"),
        pytest.param("&lt;script&gt;x&lt;/script&gt;", "<script>x</script>", id="escaped-text"),
        pytest.param("  Spaced\n\tout\u2028 ", "Spaced out", id="one-line"),
        pytest.param("a\x00b\x07c\ud800", "abc", id="unsafe-characters"),
        pytest.param("   ", None, id="blank"),
        pytest.param("<br>", None, id="markup-only"),
        pytest.param(None, None, id="none"),
        pytest.param("(Name Only)", "(Name Only)", id="parentheses-without-address"),
    ],
)
def test_clean_author(raw: str | None, author: str | None) -> None:
    assert clean_author(raw) == author


def test_long_author_is_cut() -> None:
    author = clean_author("Name " * 100)
    assert author is not None and len(author) <= AUTHOR_LENGTH and author.endswith("…")


def test_author_reaches_the_post_and_no_author_stays_none() -> None:
    named = one(RawEntry(guid="1", title="t", author="jane@example.com (Jane Doe)"))
    assert named.author == "Jane Doe"
    assert one(RawEntry(guid="2", title="t")).author is None
    # Not part of what counts as an edit: a byline alone changes no content hash.
    assert named.content_hash == one(RawEntry(guid="1", title="t")).content_hash


# --------------------------------------------------------------------- corpus


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize("path", sorted(FEEDS.glob("*.xml")), ids=lambda p: p.stem)
def test_corpus(path: Path) -> None:
    expected = json.loads(path.with_suffix(".expected.json").read_text(encoding="utf-8"))
    # Where the feed was retrieved from: the base of its relative links (RFC 3986 §5.1.3).
    url = expected.get("url", f"https://feeds.example.org/{path.name}")
    headers = expected.get("headers", {"content-type": "application/xml"})
    if "error" in expected:
        with pytest.raises(ParseError) as info:
            parse(path.read_bytes(), headers, url=url)
        assert str(info.value).startswith(expected["error"])
        return

    feed = parse(path.read_bytes(), headers, url=url)
    ttl = None if feed.ttl is None else int(feed.ttl.total_seconds() // 60)
    got_feed = {
        "title": feed.title,
        "link": feed.link,
        "feed_id": feed.feed_id,
        "updated": _iso(feed.updated),
        "ttl_minutes": ttl,
    }
    assert got_feed == expected["feed"]

    posts = normalize(feed, source(url=url), now=NOW, site_timezone=SITE_TZ, feed_url=url)
    assert len(posts) == expected["count"]
    got = [
        {
            "title": p.title,
            "link": p.link,
            "published": _iso(p.published),
            "updated": _iso(p.updated),
            "dated": p.dated,
            "content_html": p.content_html,
        }
        for p in posts
    ]
    assert got == expected["posts"]
    if "authors" in expected:  # the fixtures about bylines say whose each post is
        assert [p.author for p in posts] == expected["authors"]


def test_corpus_is_complete() -> None:
    feeds = sorted(p.stem for p in FEEDS.glob("*.xml"))
    expectations = sorted(p.name.removesuffix(".expected.json") for p in FEEDS.glob("*.json"))
    assert feeds == expectations
    assert len(feeds) >= 150


# ------------------------------------------------------------------ invariants

HOSTILE = [
    "<script>alert(1)</script>",
    "<SCRIPT>",
    "<scr<script>ipt>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    '<a href="javascript:alert(1)">x</a>',
    '<a href="  jav&#x09;ascript:alert(1)">x</a>',
    '<a href="JAVASCRIPT:alert(1)">x</a>',
    '<svg onload="alert(1)"><a xlink:href="javascript:alert(1)">x</a></svg>',
    '<iframe src="javascript:alert(1)"></iframe>',
    '<body onload="alert(1)">',
    '<p style="background:url(javascript:alert(1))">x</p>',
    "<style>@import 'x';</style>",
    "<!--<script>-->",
    "<![CDATA[<script>]]>",
    "&lt;script&gt;",
    "&amp;amp;",
    "]]>",
    "<a href='x.html'>rel</a>",
    '<img src="data:text/html,<script>alert(1)</script>">',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    "\x00",
    "\ud800",
    "---\n",
    "\u2028",
    "{{ site.title }}",
    "{% include x %}",
]

hostile_text = st.lists(st.one_of(st.text(max_size=30), st.sampled_from(HOSTILE)), max_size=8).map(
    "".join
)


class _Inspector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"script", "style", "iframe", "object", "embed", "form", "svg", "math"}:
            self.problems.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on") or name == "style":
                self.problems.append(f"{tag}[{name}]")
            if name in {"href", "src"} and value is not None:
                scheme = re.sub(r"[\s\x00-\x1f]", "", value).split(":", 1)[0].lower()
                if ":" in value and scheme not in {"http", "https", "mailto"}:
                    self.problems.append(f"{tag}[{name}]={value!r}")


def assert_safe(fragment: str) -> None:
    assert "<script" not in fragment.lower()
    inspector = _Inspector()
    inspector.feed(fragment)
    inspector.close()
    assert inspector.problems == []


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    title=st.one_of(st.none(), hostile_text),
    body=st.one_of(st.none(), hostile_text),
    link=st.one_of(
        st.none(),
        st.sampled_from(["x.html", "javascript:alert(1)", "http://[::1"]),
        st.text(max_size=20),
    ),
    guid=st.one_of(st.none(), st.text(max_size=20)),
    published=st.one_of(st.none(), st.datetimes()),
)
def test_normalize_is_total_safe_and_stable(
    title: str | None,
    body: str | None,
    link: str | None,
    guid: str | None,
    published: datetime | None,
) -> None:
    entry = RawEntry(guid=guid, link=link, title=title, content=body, published=published)
    posts = run(entry)
    assert posts == run(entry)
    for post in posts:
        assert_safe(post.content_html)
        assert post.link == "" or post.link.startswith(("http://", "https://"))
        assert "\n" not in post.title and "\x00" not in post.title
        assert 0 < len(post.title) <= TITLE_LENGTH
        assert post.published.tzinfo is UTC and post.updated >= post.published
        assert re.fullmatch(r"[0-9a-f]{32}", post.key)
        # What we publish reads back as itself: the title as escaped text, the body
        # as already-clean HTML. A title whose text still spells a character reference
        # ("&amp;" as text) reads as escaped twice, and is decoded once more.
        again = one(
            replace(
                entry,
                title=html.escape(post.title),
                content=post.content_html,
                link=post.link or link,
            )
        )
        if not re.search(r"&(?:#[xX][0-9A-Fa-f]+|#[0-9]+|[A-Za-z][A-Za-z0-9]*);", post.title):
            assert again.title == post.title
        assert again.content_html == post.content_html


@settings(max_examples=200, deadline=None)
@given(fragment=hostile_text)
def test_sanitize_html_is_safe_and_idempotent(fragment: str) -> None:
    once = sanitize_html(fragment, base_url=BASE)
    assert_safe(once)
    assert sanitize_html(once, base_url=BASE) == once


@pytest.fixture(scope="module")
def publisher(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Publisher]:
    tmp = tmp_path_factory.mktemp("publish")
    config = Config(
        path=tmp / "config.yaml",
        site=Site(
            title="T",
            base_url="https://news.example.org/",
            output_dir=tmp / "out",
            timezone=SITE_TZ,
        ),
        database=f"sqlite:///{tmp / 'p.db'}",
        schedule=Schedule(),
        categories={"news": Category(slug="news", title="News")},
        sources=(),
    )
    store = open_store(config.database)
    yield Publisher(config, store, now=NOW)
    store.close()


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(title=st.one_of(st.none(), hostile_text), body=st.one_of(st.none(), hostile_text))
def test_front_matter_reads_back_and_body_is_safe(
    publisher: Publisher, title: str | None, body: str | None
) -> None:
    entry = RawEntry(guid="g", link="https://news.example.org/a", title=title, content=body)
    posts = run(entry)
    assert posts == run(entry)  # normalizing twice gives the same post
    for post in posts:
        text = publisher.render_post_file(post)
        _, front, rest = text.split("---\n", 2)
        data = yaml.safe_load(front)
        assert data["title"] == post.title
        assert data["categories"] == "news"
        assert_safe(rest)
        # Each field on its own: a title "{" and a body "{" are no "{{" (neither is written
        # beside the other).
        liquid = any(m in f for f in (post.title, post.content_html) for m in ("{{", "{%"))
        assert data.get("render_with_liquid", True) is not liquid


def test_links_that_are_no_web_urls_are_left_out_and_reported() -> None:
    from aggregator.normalize import normalize_with_keys

    feed = ParsedFeed(
        title="T",
        link="https://site.example.org/",
        entries=(
            RawEntry(guid="1", title="a", link="javascript:alert(1)"),
            RawEntry(guid="2", title="b", link="data:text/html,x"),
            RawEntry(guid="3", title="c", link="https://ex.org/ok"),
            RawEntry(guid="4", title="d"),
        ),
    )
    dropped: list[str] = []
    posts, _ = normalize_with_keys(
        feed, source(), now=NOW, site_timezone=SITE_TZ, feed_url=FEED_URL, dropped_links=dropped
    )
    assert [p.link for p in posts] == ["", "", "https://ex.org/ok", ""]
    assert dropped == ["javascript:alert(1)", "data:text/html,x"]


@pytest.mark.parametrize(
    "fast", [pytest.param(True, id="fast"), pytest.param(False, id="feedparser")]
)
@pytest.mark.parametrize("name", ["relative_subpath_atom", "relative_subpath_rss"])
def test_relative_links_resolve_against_the_feed_url_on_both_parse_paths(
    name: str, fast: bool
) -> None:
    # The feed declares no xml:base: RawEntry.base stays None and the retrieval URL is
    # the base (RFC 3986 §5.1.3), whichever parser read it.
    path = FEEDS / f"{name}.xml"
    expected = json.loads(path.with_suffix(".expected.json").read_text(encoding="utf-8"))
    feed = parse(
        path.read_bytes(), {"content-type": "application/xml"}, url=expected["url"], fast=fast
    )
    assert all(entry.base is None for entry in feed.entries)
    posts = normalize(
        feed, source(url=expected["url"]), now=NOW, site_timezone=SITE_TZ, feed_url=expected["url"]
    )
    got = [{"link": p.link, "content_html": p.content_html} for p in posts]
    assert got == [
        {"link": p["link"], "content_html": p["content_html"]} for p in expected["posts"]
    ]
