"""The JSON Feed backend (aggregator.parse.jsonfeed): its fixtures parsed and normalized to
the posts each .expected.json names, the mapping field by field, which bodies it takes and
which it leaves to the XML backends, hostile values, and the real CLI publishing a JSON
Feed source.
"""

from __future__ import annotations

import functools
import json
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import builders
import pytest
import yaml
from builders import rss
from clirunner import run_cli, validate_feeds
from httpserver import FeedServer
from hypothesis import given, settings
from hypothesis import strategies as st

from aggregator.errors import ParseError
from aggregator.normalize import normalize
from aggregator.parse import FAST_FIRST, REFERENCE_ONLY, parse
from aggregator.parse.fast import parse_fast
from aggregator.parse.jsonfeed import parse_jsonfeed
from aggregator.types import ParsedFeed, RawEntry, Source

DATA = Path(__file__).parent / "data"
JSONFEEDS = DATA / "feeds" / "jsonfeed"
FEED_JSON = {"content-type": "application/feed+json"}
URL = "https://feeds.example.org/feed.json"
NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
SITE_TZ = "Asia/Shanghai"
V11 = "https://jsonfeed.org/version/1.1"
ATOM = "{http://www.w3.org/2005/Atom}"


def source(url: str = URL) -> Source:
    return Source(
        name="Fixture", url=url, category="news", tags=("News",), interval=timedelta(minutes=30)
    )


def body(**feed: Any) -> bytes:
    return json.dumps({"version": V11, "title": "T"} | feed).encode()


def entries(*items: Any, **feed: Any) -> tuple[RawEntry, ...]:
    return parse(body(items=list(items), **feed), FEED_JSON, url=URL).entries


def one(**item: Any) -> RawEntry:
    (entry,) = entries(item)
    return entry


# --------------------------------------------------------------------- corpus

FIXTURES = sorted(p for p in JSONFEEDS.glob("*.json") if not p.name.endswith(".expected.json"))


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_corpus(path: Path) -> None:
    expected = json.loads(path.with_name(f"{path.stem}.expected.json").read_text("utf-8"))
    url = f"https://feeds.example.org/{path.name}"
    if "error" in expected:
        with pytest.raises(ParseError) as info:
            parse(path.read_bytes(), expected["headers"], url=url)
        assert str(info.value) == expected["error"]
        return
    feed = parse(path.read_bytes(), expected["headers"], url=url)
    got_feed = {
        "title": feed.title,
        "link": feed.link,
        "feed_id": feed.feed_id,
        "updated": _iso(feed.updated),
        "ttl_minutes": None,
    }
    assert got_feed == expected["feed"]
    assert feed.ttl is None
    assert [list(e.categories) for e in feed.entries] == expected["tags"]
    posts = normalize(feed, source(url), now=NOW, site_timezone=SITE_TZ, feed_url=url)
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
    assert [p.author for p in posts] == expected["authors"]


def test_corpus_is_complete() -> None:
    expectations = sorted(JSONFEEDS.glob("*.expected.json"))
    assert [p.name.removesuffix(".expected.json") for p in expectations] == [
        p.stem for p in FIXTURES
    ]
    names = {p.stem for p in FIXTURES}
    assert {"spec10_simple", "spec10_podcast", "spec10_microblog", "spec11_simple"} <= names
    assert {"spec11_microblog", "microblog_style", "podcast_attachments"} <= names
    assert {"content_text_only", "hostile"} <= names


def test_spec_examples_read_alike_in_both_versions() -> None:
    def read(name: str) -> ParsedFeed:
        return parse((JSONFEEDS / f"{name}.json").read_bytes(), FEED_JSON, url=URL)

    # 1.1 renamed `author` to `authors` and changed nothing these examples use.
    assert read("spec10_simple") == read("spec11_simple")
    assert read("spec10_microblog") == read("spec11_microblog")


# -------------------------------------------------------------------- mapping


def test_an_item_maps_field_by_field() -> None:
    entry = one(
        id="https://example.org/p/1",
        url="https://example.org/p/1.html",
        title="Tom & Jerry <3",
        content_html="<p>Body</p>",
        summary="A <summary> & more",
        date_published="2024-02-03T04:05:06+08:00",
        date_modified="2024-02-04T00:00:00Z",
        authors=[{"name": "Ann"}, {"url": "https://nameless.example"}, {"name": "Bo"}],
        tags=["one", " two ", ""],
        language="en",
    )
    assert entry == RawEntry(
        guid="https://example.org/p/1",
        link="https://example.org/p/1.html",
        title="Tom &amp; Jerry &lt;3",  # plain text, as HTML (normalize reads titles so)
        content="<p>Body</p>",
        summary="A &lt;summary&gt; &amp; more",
        published=datetime(2024, 2, 3, 4, 5, 6, tzinfo=timezone(timedelta(hours=8))),
        updated=datetime(2024, 2, 4, tzinfo=UTC),
        author="Ann, Bo",
        categories=("one", "two"),
        base=None,
    )


def test_websub_hubs_are_read_with_feed_url_as_the_topic() -> None:
    feed = parse(
        body(
            feed_url="https://example.org/feed.json",
            hubs=[
                {"type": "WebSub", "url": "https://hub.example/"},
                {"type": "rssCloud", "url": "https://cloud.example/"},
                {"type": "websub", "url": "/relative"},
                "not a hub",
                {"type": "WebSub", "url": "https://hub2.example/"},
            ],
            items=[],
        ),
        FEED_JSON,
        url=URL,
    )
    assert feed.hubs == ("https://hub.example/", "https://hub2.example/")
    assert feed.self_url == "https://example.org/feed.json"


def test_the_feed_maps_its_title_links_and_id() -> None:
    feed = parse(
        body(
            title=" Site ",
            home_page_url="https://example.org/",
            feed_url="https://example.org/feed.json",
            next_url="https://example.org/feed.json?page=2",
            description="d",
            icon="https://example.org/icon.png",
            expired=True,
            items=[],
        ),
        FEED_JSON,
        url=URL,
    )
    assert feed == ParsedFeed(
        title="Site",
        link="https://example.org/",
        feed_id="https://example.org/feed.json",
        self_url="https://example.org/feed.json",  # the topic of a WebSub subscription
    )
    without_feed_url = parse(
        body(home_page_url="https://example.org/", items=[]), FEED_JSON, url=URL
    )
    assert without_feed_url.feed_id == "https://example.org/"


@pytest.mark.parametrize(
    "language",
    [
        pytest.param("en-US", id="a-tag"),
        pytest.param("", id="empty"),
        pytest.param("</language><script>alert(1)</script>", id="markup"),
        pytest.param('\n---\nlayout: evil\ntitle: "x', id="yaml-document"),
        pytest.param("{{ site.title }} {% raise %}", id="liquid"),
        pytest.param("zh\x00\ud800\u2028", id="controls-and-a-lone-surrogate"),
        pytest.param("x" * 100_000, id="huge"),
        pytest.param(["en", "fr"], id="list"),
        pytest.param({"code": "en"}, id="object"),
        pytest.param(7, id="number"),
        pytest.param(None, id="null"),
    ],
)
def test_language_is_left_out_whatever_it_holds(language: object) -> None:
    # A post has no language (DESIGN's post format): what a feed or an item names changes
    # nothing read, neither the feed nor its posts; the site's language is what is published.
    item = {"id": "1", "title": "It", "content_html": "<p>x</p>", "date_published": "2024-01-01"}
    plain = parse(body(items=[item]), FEED_JSON, url=URL)
    for feed, items in (
        ({"language": language}, [item]),
        ({}, [item | {"language": language}]),
        ({"language": language}, [item | {"language": language}]),
    ):
        parsed = parse(body(items=items, **feed), FEED_JSON, url=URL)
        assert parsed == plain
        assert normalize(parsed, source(), now=NOW, site_timezone=SITE_TZ, feed_url=URL) == (
            normalize(plain, source(), now=NOW, site_timezone=SITE_TZ, feed_url=URL)
        )


@pytest.mark.parametrize(
    ("value", "guid"),
    [
        pytest.param("  abc ", "abc", id="string-stripped"),
        pytest.param(123, "123", id="integer"),
        pytest.param(12.0, "12", id="integral-float"),
        pytest.param(1.5, "1.5", id="float"),
        pytest.param(True, "true", id="boolean"),
        pytest.param({"a": 1}, None, id="object"),
        pytest.param([1], None, id="list"),
        pytest.param(None, None, id="null"),
        pytest.param("", None, id="empty"),
    ],
)
def test_an_id_is_coerced_to_a_string_as_the_spec_asks(value: object, guid: str | None) -> None:
    assert one(id=value, title="t").guid == guid


@pytest.mark.parametrize(
    ("item", "link", "shows_external"),
    [
        pytest.param({"url": "https://a.example/p"}, "https://a.example/p", False, id="url"),
        pytest.param(
            {"external_url": "https://b.example/x"},
            "https://b.example/x",
            False,
            id="external-only",
        ),
        pytest.param(
            {"url": "  ", "external_url": "https://b.example/x"},
            "https://b.example/x",
            False,
            id="blank-url",
        ),
        pytest.param(
            {"url": "https://a.example/p", "external_url": "https://b.example/x"},
            "https://a.example/p",
            True,
            id="linkblog",
        ),
        pytest.param(
            {"url": "https://a.example/p", "external_url": "https://a.example/p"},
            "https://a.example/p",
            False,
            id="same-page",
        ),
        pytest.param(
            {"url": "https://a.example/p", "external_url": "javascript:alert(1)"},
            "https://a.example/p",
            False,
            id="hostile-external",
        ),
    ],
)
def test_the_link_is_the_items_page_else_the_external_one(
    item: dict[str, str], link: str, shows_external: bool
) -> None:
    entry = one(id="1", content_html="<p>x</p>", **item)
    assert entry.link == link
    assert entry.content is not None
    assert ('<a href="https://b.example/x">b.example</a>' in entry.content) is shows_external


def test_authors_then_author_then_the_feeds() -> None:
    feed_authors = [{"name": "Feed Person"}]
    assert one(id="1", authors=[{"name": "A"}], author={"name": "Old"}).author == "A"
    assert one(id="1", author={"name": "Old"}).author == "Old"  # 1.0
    assert one(id="1", authors=[], author={"name": "Old"}).author == "Old"
    assert one(id="1", authors=[{"name": "A"}, {"name": "A"}]).author == "A"
    (inherited,) = entries({"id": "1"}, authors=feed_authors)
    assert inherited.author == "Feed Person"
    (inherited_10,) = entries({"id": "1"}, author={"name": "Feed Person"})
    assert inherited_10.author == "Feed Person"
    (own,) = entries({"id": "1", "authors": [{"name": "Own"}]}, authors=feed_authors)
    assert own.author == "Own"
    assert one(id="1", authors=[{"url": "https://x.example"}]).author is None


def test_content_html_wins_over_content_text_and_text_is_escaped() -> None:
    both = one(id="1", content_html="<p>html</p>", content_text="text")
    assert both.content == "<p>html</p>"
    text = one(id="1", content_text="a <b>\n\nb & c\nd")
    assert text.content == "<p>a &lt;b&gt;</p><p>b &amp; c<br>d</p>"
    assert one(id="1", content_html="  ", content_text="t").content == "<p>t</p>"


def test_the_image_opens_the_content_unless_the_content_shows_it() -> None:
    img = "https://a.example/i.jpg"
    shown = one(id="1", image=img, content_html="<p>x</p>")
    assert shown.content == f'<p><img src="{img}" alt=""></p><p>x</p>'
    already = one(id="1", image=img, content_html=f'<p><img src="{img}"></p>')
    assert already.content == f'<p><img src="{img}"></p>'
    banner = one(id="1", banner_image=img, summary="s")
    assert banner.content == f'<p><img src="{img}" alt=""></p>s'
    assert banner.summary == "s"
    assert one(id="1", image="javascript:alert(1)", content_html="<p>x</p>").content == "<p>x</p>"


def test_attachments_close_the_content_as_links() -> None:
    entry = one(
        id="1",
        content_html="<p>notes</p>",
        attachments=[
            {
                "url": "https://cdn.example/ep1.mp3",
                "mime_type": "audio/mpeg",
                "duration_in_seconds": 3725,
            },
            {
                "url": "https://cdn.example/ep1.m4a",
                "title": "AAC <hi>",
                "duration_in_seconds": "long",
            },
            {"url": "data:audio/mpeg;base64,AAAA"},
            {"mime_type": "audio/mpeg"},
            "not an attachment",
        ],
    )
    assert entry.content == (
        "<p>notes</p>"
        '<p><a href="https://cdn.example/ep1.mp3">ep1.mp3</a> (audio/mpeg, 1:02:05)</p>'
        '<p><a href="https://cdn.example/ep1.m4a">AAC &lt;hi&gt;</a></p>'
    )


def test_a_url_attribute_cannot_break_out_of_its_quotes() -> None:
    entry = one(id="1", image='https://a.example/"><script>x()</script>')
    assert entry.content == (
        '<p><img src="https://a.example/&quot;&gt;&lt;script&gt;x()&lt;/script&gt;" alt=""></p>'
    )
    (post,) = normalize(
        ParsedFeed(entries=(entry,)), source(), now=NOW, site_timezone=SITE_TZ, feed_url=URL
    )
    assert "<script" not in post.content_html


def test_html_in_content_reaches_the_sanitizer_and_text_stays_text() -> None:
    feed = parse(
        body(
            items=[
                {"id": "1", "content_html": '<p onclick="x()">a<script>alert(1)</script></p>'},
                {"id": "2", "content_text": "<script>alert(1)</script>"},
            ]
        ),
        FEED_JSON,
        url=URL,
    )
    html_post, text_post = normalize(feed, source(), now=NOW, site_timezone=SITE_TZ, feed_url=URL)
    assert html_post.content_html == "<p>a</p>"
    assert text_post.content_html == "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"
    assert text_post.title == "<script>alert(1)</script>"  # plain text: escaped where written


def test_dates_go_through_the_date_parser_and_garbage_is_undated() -> None:
    entry = one(id="1", date_published="Tue, 10 Jun 2003 04:00:00 GMT", date_modified="soon")
    assert entry.published == datetime(2003, 6, 10, 4, tzinfo=UTC)
    assert entry.updated is None
    assert one(id="1", date_published=1700000000).published is None
    zoneless = one(id="1", date_published="2024-01-01T10:00:00")
    assert zoneless.published == datetime(2024, 1, 1, 10)  # naive: normalize gives it a zone


# ------------------------------------------------------------ which bodies


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param(FEED_JSON, id="feed+json"),
        pytest.param({"content-type": "application/json; charset=utf-8"}, id="json"),
        pytest.param({"content-type": "text/plain"}, id="text-plain"),
        pytest.param({"content-type": "application/xml"}, id="labelled-xml"),
        pytest.param({}, id="no-content-type"),
        pytest.param({"Content-Type": "text/html"}, id="html-label"),
    ],
)
def test_a_json_feed_is_read_whatever_it_is_served_as(headers: dict[str, str]) -> None:
    content = body(items=[{"id": "1", "title": "It"}])
    for backends in (FAST_FIRST, REFERENCE_ONLY):
        (entry,) = parse(content, headers, url=URL, backends=backends).entries
        assert entry.title == "It"


def test_parser_feedparser_sources_read_json_feed_too() -> None:
    content = body(items=[{"id": "1", "title": "It"}])
    assert parse(content, FEED_JSON, url=URL, fast=False) == parse(content, FEED_JSON, url=URL)
    assert parse_fast(content, FEED_JSON, url=URL) is None  # the XML fast path declines JSON


def test_a_bom_and_whitespace_before_the_object_are_read() -> None:
    content = b"\xef\xbb\xbf \n" + body(items=[{"id": "1", "title": "It"}])
    assert parse(content, FEED_JSON, url=URL).entries[0].title == "It"


def test_bytes_that_are_not_utf8_are_read_in_the_charset_served() -> None:
    content = body(items=[{"id": "1", "title": "Café"}]).decode().encode("latin-1")
    headers = {"content-type": "application/json; charset=iso-8859-1"}
    assert parse(content, headers, url=URL).entries[0].title == "Café"


def test_xml_served_as_json_goes_to_the_xml_backends() -> None:
    content = rss("<item><title>RSS item</title><guid>g</guid></item>")
    for media in ("application/json", "application/feed+json"):
        assert parse_jsonfeed(content, {"content-type": media}, url=URL) is None
        (entry,) = parse(content, {"content-type": media}, url=URL).entries
        assert entry.title == "RSS item"


@pytest.mark.parametrize(
    ("content", "content_type", "message"),
    [
        pytest.param(b"[1, 2]", "application/json", "not a feed (JSON, but not", id="array"),
        pytest.param(
            b'{"items": []}', "application/json", "not a feed (JSON, but not", id="no-version"
        ),
        pytest.param(b"{not json", "application/feed+json", "malformed JSON: ", id="not-json"),
        pytest.param(
            b'{"version": "https://jsonfeed.org/version/1", "items": [',
            "text/plain",
            "malformed JSON: ",
            id="cut-off-named-version",
        ),
        pytest.param(
            b"{" * 200_000, "application/feed+json", "malformed JSON: ", id="deep-objects"
        ),
        pytest.param(
            b'{"version": "https://jsonfeed.org/version/1.1", "items": ['
            + b"[" * 200_000
            + b"]" * 200_000
            + b"]}",
            "application/feed+json",
            "malformed JSON: nested too deeply",
            id="deep-lists",
        ),
        pytest.param(
            b'{"version": "https://jsonfeed.org/version/1.1", "items": [{"id": 1'
            + b"9" * 10_000
            + b"}]}",
            "application/feed+json",
            "malformed JSON: ",
            id="huge-number",
        ),
        pytest.param(
            body(items="x"),
            "application/feed+json",
            "malformed JSON Feed: items is a string",
            id="items-string",
        ),
        pytest.param(b"{not json", "text/plain", "malformed XML:", id="brace-garbage-goes-to-xml"),
    ],
)
def test_unusable_json_gives_one_clear_line(
    content: bytes, content_type: str, message: str
) -> None:
    with pytest.raises(ParseError) as info:
        parse(content, {"content-type": content_type}, url=URL)
    text = str(info.value)
    assert text.startswith(message)
    assert "\n" not in text and len(text) < 250


def test_items_missing_or_null_is_an_empty_feed() -> None:
    assert entries() == ()
    feed = parse(json.dumps({"version": V11, "title": "T"}).encode(), FEED_JSON, url=URL)
    assert feed.title == "T" and feed.entries == ()
    assert parse(body(items=None), FEED_JSON, url=URL).entries == ()


# -------------------------------------------------------------- hostile values

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
ITEM_KEYS = [
    "id",
    "url",
    "external_url",
    "title",
    "content_html",
    "content_text",
    "summary",
    "image",
    "banner_image",
    "date_published",
    "date_modified",
    "authors",
    "author",
    "tags",
    "language",
    "attachments",
]


@settings(max_examples=300, deadline=None)
@given(
    item=st.dictionaries(st.sampled_from(ITEM_KEYS), JSON_VALUES, max_size=10),
    feed=st.dictionaries(
        st.sampled_from(["title", "home_page_url", "feed_url", "authors", "author", "language"]),
        JSON_VALUES,
        max_size=4,
    ),
)
def test_any_values_give_a_feed_and_normalize_never_raises(
    item: dict[str, Any], feed: dict[str, Any]
) -> None:
    content = json.dumps({"version": V11, **feed, "items": [item]}).encode()
    parsed = parse(content, FEED_JSON, url=URL)
    normalize(parsed, source(), now=NOW, site_timezone=SITE_TZ, feed_url=URL)


def test_huge_strings_are_cut_by_normalize_not_by_a_crash() -> None:
    big = "word " * 400_000  # 2,000,000 characters
    feed = parse(body(items=[{"id": "1", "title": big, "content_text": big}]), FEED_JSON, url=URL)
    (post,) = normalize(feed, source(), now=NOW, site_timezone=SITE_TZ, feed_url=URL)
    assert len(post.title) < 1000
    assert len(post.content_html) <= 1_100_000


def test_duplicate_ids_make_one_post() -> None:
    feed = parse(
        body(items=[{"id": "same", "title": "first"}, {"id": "same", "title": "second"}]),
        FEED_JSON,
        url=URL,
    )
    posts = normalize(feed, source(), now=NOW, site_timezone=SITE_TZ, feed_url=URL)
    assert [p.title for p in posts] == ["first"]


# ------------------------------------------------------------------ end to end

write_config = functools.partial(
    builders.write_config,
    site=builders.site_section(timezone="UTC", language="en"),
    fetch=builders.timeouts("1s", "2s", "3s"),
)


@pytest.mark.slow
def test_the_cli_publishes_a_json_feed_source(tmp_path: Path, feed_server: FeedServer) -> None:
    feed = {
        "version": V11,
        "title": "Jay's notes",
        "home_page_url": "https://jay.example.org/",
        "feed_url": feed_server.url("/feed.json"),
        "next_url": feed_server.url("/page-2.json"),
        "authors": [{"name": "Jay Doe"}],
        "items": [
            {
                "id": "https://jay.example.org/2024/json",
                "url": "https://jay.example.org/2024/json.html",
                "title": "Reading JSON Feed & more",
                "content_html": "<p>Hello <b>JSON</b><script>alert(1)</script></p>",
                "date_published": "2024-03-05T10:30:00+01:00",
                "tags": ["feeds"],
            }
        ],
    }
    feed_server.add(
        "/feed.json",
        json.dumps(feed).encode(),
        content_type="application/feed+json; charset=utf-8",
    )
    broken = b'{"version": "https://jsonfeed.org/version/1.1", "items": {"id": "1"}}'
    feed_server.add("/broken.json", broken, content_type="application/feed+json")
    config = write_config(
        tmp_path,
        [
            {"name": "Jay", "url": feed_server.url("/feed.json"), "category": "news"},
            {"name": "Broken", "url": feed_server.url("/broken.json"), "category": "news"},
        ],
    )

    proc = run_cli(config, "run", "--once")
    assert "Traceback" not in proc.stderr
    rows = {r["name"]: r for r in json.loads(run_cli(config, "status", "--json").stdout)}
    assert "malformed JSON Feed: items is an object, not a list" in str(rows["Broken"])
    assert "malformed JSON Feed: items is an object" in run_cli(config, "status").stdout

    (request,) = feed_server.requests("/feed.json")
    assert "application/feed+json" in request.headers["accept"]
    assert feed_server.hits("/page-2.json") == 0  # next_url is never followed
    out = tmp_path / "out"
    assert validate_feeds(out) >= 2
    root = ElementTree.parse(out / "category" / "news.xml").getroot()
    (entry,) = root.findall(f"{ATOM}entry")
    assert entry.findtext(f"{ATOM}title") == "Reading JSON Feed & more"
    links = [link.get("href") for link in entry.findall(f"{ATOM}link")]
    assert "https://jay.example.org/2024/json.html" in links
    assert entry.findtext(f"{ATOM}published") == "2024-03-05T09:30:00+00:00"
    assert entry.findtext(f"{ATOM}author/{ATOM}name") == "Jay Doe"
    content = entry.findtext(f"{ATOM}content") or ""
    assert "<p>Hello <b>JSON</b></p>" in content and "script" not in content
    (post,) = (out / "_posts").glob("*.md")
    assert post.name.startswith("2024-03-05-")
    text = post.read_text(encoding="utf-8")
    assert text.startswith('---\nlayout: post\ntitle: "Reading JSON Feed & more"\n')
    assert "date: 2024-03-05 09:30:00 +0000\n" in text
    assert "<p>Hello <b>JSON</b></p>" in text


# Each spec example (1.0 and 1.1) and the hostile fixture, served as a server may label
# JSON: the body is read the same whatever the label, and sniffed when there is none.
SERVED_AS = [
    pytest.param("spec10_simple", "application/feed+json", id="spec10_simple-feed+json"),
    pytest.param("spec10_podcast", "application/json", id="spec10_podcast-json"),
    pytest.param("spec10_microblog", "text/plain", id="spec10_microblog-text-plain"),
    pytest.param("spec11_simple", "application/json; charset=utf-8", id="spec11_simple-json"),
    pytest.param(
        "spec11_microblog", "application/feed+json; charset=utf-8", id="spec11_microblog-feed+json"
    ),
    pytest.param("spec11_microblog", None, id="spec11_microblog-no-content-type"),
    pytest.param("hostile", None, id="hostile-no-content-type"),
    pytest.param("hostile", "text/plain; charset=utf-8", id="hostile-text-plain"),
]
NAV = "[Back to News](//news.example.org/category/news.html) &#124; [Home](//news.example.org/)"


@pytest.mark.slow
@pytest.mark.parametrize(("name", "content_type"), SERVED_AS)
def test_the_cli_publishes_each_fixture_as_the_parser_reads_it(
    tmp_path: Path, feed_server: FeedServer, name: str, content_type: str | None
) -> None:
    from test_normalize import assert_safe
    from test_publish_formats import assert_agree, atom_entries

    from aggregator.htmlshape import kramdown_body

    path = JSONFEEDS / f"{name}.json"
    expected = json.loads(path.with_name(f"{name}.expected.json").read_text("utf-8"))
    feed_server.add("/feed.json", path.read_bytes(), content_type=content_type)
    config = write_config(
        tmp_path,
        [{"name": "Fixture", "url": feed_server.url("/feed.json"), "category": "news"}],
        site=builders.site_section(timezone="UTC", language="en", formats=["atom", "rss", "json"]),
    )
    before = datetime.now(UTC).replace(microsecond=0)
    proc = run_cli(config, "run", "--once")
    after = datetime.now(UTC)
    status = run_cli(config, "status", "--json")
    for text in (proc.stdout, proc.stderr, status.stdout, status.stderr):
        assert "Traceback" not in text
    (row,) = json.loads(status.stdout)
    assert (row["last_error"], row["last_status"], row["posts"]) == (None, 200, expected["count"])

    # The expectations were made reading the fixture from feeds.example.org; relative URLs
    # resolve against the URL the feed came from.
    def served(value: str) -> str:
        return value.replace("https://feeds.example.org/", feed_server.url("/"))

    want = {p["title"]: p for p in expected["posts"]}
    assert len(want) == expected["count"]  # the titles tell the posts apart

    def assert_dated(title: str, got: datetime) -> None:
        post = want[title]
        if post["dated"]:
            assert got == datetime.fromisoformat(post["published"]), title
        else:  # undated (or dated in the future): the time it was fetched
            assert before <= got <= after, (title, got)

    out = tmp_path / "out"
    # The post files: YAML front matter that reads back to the fixture's title, and a body
    # of sanitized HTML kramdown reads as HTML only, then the original link as an autolink.
    titles = []
    for post_file in sorted((out / "_posts").glob("*.md")):
        text = post_file.read_text(encoding="utf-8")  # strict UTF-8: no lone surrogate
        assert "\x00" not in text
        front_text, body_text = text.removeprefix("---\n").split("\n---\n", 1)
        front = yaml.safe_load(front_text)
        assert set(front) == {"layout", "title", "date", "categories", "tags"}
        assert (front["layout"], front["categories"], front["tags"]) == ("post", "news", "News")
        title = front["title"]
        titles.append(title)
        when = datetime.strptime(str(front["date"]), "%Y-%m-%d %H:%M:%S %z")
        assert post_file.name.startswith(when.strftime("%Y-%m-%d-"))
        assert_dated(title, when)
        content, rest = body_text.split('<p class="em_media">(Source: Fixture)</p>\n\n', 1)
        link_line, nav = rest.split("\n\n", 1)
        assert content == kramdown_body(served(want[title]["content_html"]))
        assert_safe(content)
        link = want[title]["link"]
        assert link_line == (f"<{link}>" if link else "")
        assert nav == NAV
    assert sorted(titles) == sorted(want)

    # The feeds: Atom's entries hold the fixture's titles, original links and dates, and
    # the RSS and JSON feeds agree with them entry for entry.
    assert validate_feeds(out) == 3 * 2  # combined and the category's, in each format
    for atom_path, rss_path, json_path in (
        ("atom.xml", "rss.xml", "feed.json"),
        ("category/news.xml", "category/news.rss", "category/news.json"),
    ):
        assert assert_agree(out, atom_path, rss_path, json_path) == expected["count"]
        for entry in atom_entries(out / atom_path):
            title = entry["title"]
            assert entry["via"] == (want[title]["link"] or None)
            assert_dated(title, entry["published"])
            assert entry["content"] == served(want[title]["content_html"])
            assert_safe(entry["content"])
        document = json.loads((out / json_path).read_bytes())
        assert document["language"] == "en"  # the site's, never the feed's
        for item in document["items"]:
            assert_safe(item["content_html"])
        rss_language = ElementTree.parse(out / rss_path).getroot().findtext("channel/language")
        assert rss_language == "en"
    authors = {e["title"]: e["author"] for e in atom_entries(out / "atom.xml")}
    wanted_authors = dict(zip(want, expected["authors"], strict=True))
    assert authors == {t: a or "Fixture" for t, a in wanted_authors.items()}

    # Nothing the fixture holds is code anywhere: no javascript: URL, no event handler, no
    # NUL, no feed's language; no script element in a page, a post file or an XML feed (a
    # JSON Feed's `summary` is plain text, where "<script>" is words); every file is UTF-8.
    for written in out.rglob("*"):
        if written.is_file():
            data = written.read_bytes()
            data.decode("utf-8")
            words = [b"javascript", b"onerror", b"onclick", b"\x00", b"hostile-language"]
            for word in words if written.suffix == ".json" else [*words, b"<script"]:
                assert word not in data.lower(), (written, word)


# ---------------------------------------------------------- the bench corpus


def _bench_pairs() -> list[tuple[int, bytes, bytes, str]]:
    root = str(Path(__file__).resolve().parent.parent)
    if root not in sys.path:
        sys.path.insert(0, root)
    from bench.corpus import feed_spec, generate_feed
    from bench.jsonfeed import generate_jsonfeed

    return [
        (i, generate_feed(1, i, 4), generate_jsonfeed(1, i, 4), feed_spec(1, i).content_type)
        for i in range(20)
    ]


@pytest.mark.parametrize(("index", "xml", "jsonfeed", "content_type"), _bench_pairs(), ids=str)
def test_the_bench_json_corpus_makes_the_posts_its_rss_and_atom_twins_make(
    index: int, xml: bytes, jsonfeed: bytes, content_type: str
) -> None:
    # The JSON Feed parse figure is comparable with the RSS/Atom one only if the bodies
    # hold the same items: the same posts, field for field.
    def posts(content: bytes, headers: dict[str, str]) -> list[tuple[Any, ...]]:
        feed = parse(content, headers, url=URL)
        return [
            (p.key, p.title, p.link, p.published, p.author, p.content_html, p.category)
            for p in normalize(feed, source(), now=NOW, site_timezone=SITE_TZ, feed_url=URL)
        ]

    from_json = posts(jsonfeed, FEED_JSON)
    assert len(from_json) == 4
    assert from_json == posts(xml, {"content-type": content_type})
