"""The fast paths of normalize and fastparse against the general readings they replace.

Post keys, content hashes and text hashes are stored: the reference implementations below
are the ones those values were first computed with, kept here so that every speed-up is
held to them byte for byte.
"""

from __future__ import annotations

import dataclasses
import hashlib
import html
import json
import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urljoin, urlsplit, urlunsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aggregator import normalize as norm
from aggregator.normalize.identity import _GLOBAL_ID, _digest, _json_clean_string, _salt
from aggregator.normalize.text import _UNSAFE_CHARS, _html_to_text, _sanitized_text
from aggregator.normalize.urls import _absolute
from aggregator.parse import fast_fields, fast_markup, fast_scan, parse, parse_date
from aggregator.parse.dates import _parse_date, order_dependent
from aggregator.types import ParsedFeed, Post, RawEntry, Source
from aggregator.urls import clean_url as _clean_url
from aggregator.urls import http_url as _http_url

FEEDS = Path(__file__).parent / "data" / "feeds"
NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
SITE_TZ = "Asia/Shanghai"

# ------------------------------------------------------------------ references


def ref_digest(parts: Sequence[object]) -> str:
    data = json.dumps(parts, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(data.encode("utf-8", "surrogatepass")).hexdigest()


_DROPPED = re.compile(r"<(script|style)\b[^>]*>.*?(?:</\1\s*>|$)", re.I | re.S)
_MARKUP = re.compile(r"<!--.*?(?:-->|$)|<!\[CDATA\[|\]\]>|</?[a-zA-Z][^<>]*>|<[!?][^<>]*>", re.S)
_UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def _windows_1252(c: int) -> str | None:
    try:
        return bytes([c]).decode("cp1252")
    except UnicodeDecodeError:
        return None


# C1 controls as windows-1252 reads their bytes; the five it leaves undefined dropped.
_C1 = {c: _windows_1252(c) for c in range(0x80, 0xA0)}


def _safe(text: str) -> str:
    return _UNSAFE.sub("", text).translate(_C1)


def ref_text(fragment: str, tag_gap: str = " ") -> str:
    text = _safe(fragment)
    if "<" in text:
        text = _DROPPED.sub(tag_gap, text)
    if "<" in text or "]]>" in text:
        text = _MARKUP.sub(tag_gap, text)
    if "&" in text:
        text = _safe(html.unescape(text))
    return " ".join(text.split())


def ref_text_hash(content_html: str) -> str:
    text = ref_text(content_html).casefold()
    return ref_digest(["text", text])[:32] if text else ""


_TRACKING = frozenset(
    {"fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "igshid", "_hsenc", "_hsmi"}
)


def ref_canonical_link(url: str) -> str:
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return url
    host = parts.hostname
    if ":" in host:
        host = f"[{host}]"
    if port is not None and port != (443 if scheme == "https" else 80):
        host = f"{host}:{port}"

    def tracking(name: str) -> bool:
        name = name.lower()
        return name.startswith("utm_") or name in _TRACKING

    query = "&".join(p for p in parts.query.split("&") if p and not tracking(p.split("=", 1)[0]))
    return urlunsplit((scheme, host, parts.path or "/", query, ""))


def ref_post_key(source_name: str, entry: RawEntry, content_html: str) -> str:
    guid = (entry.guid or "").strip()
    link = (entry.link or "").strip()
    if guid:
        material = ["guid", source_name, guid]
    elif link:
        fragment = urlsplit(link).fragment if "#" in link else ""
        canonical = ref_canonical_link(link)
        if fragment and _http_url(canonical) is not None:
            canonical = f"{canonical}#{fragment}"
        material = ["link", source_name, canonical]
    else:
        material = ["content", source_name, entry.title or "", content_html]
    return ref_digest(material)[:32]


def ref_legacy_key(source_name: str, entry: RawEntry, content_html: str) -> str:
    # The formula before store version 6: keys stored then are made of it.
    guid = (entry.guid or "").strip()
    link = (entry.link or "").strip()
    if guid:
        material = ["guid", guid] if _GLOBAL_ID.match(guid) else ["guid", source_name, guid]
    elif link:
        canonical = ref_canonical_link(link)
        absolute = _http_url(canonical) is not None
        material = ["link", canonical] if absolute else ["link", source_name, canonical]
    else:
        material = ["content", source_name, entry.title or "", content_html]
    return ref_digest(material)[:32]


def ref_absolute(url: str | None, base: str | None) -> str | None:
    url = _clean_url(url or "")
    if not url:
        return None
    try:
        joined = urljoin(base or "", url)
    except ValueError:
        return None
    return _http_url(joined)


def ref_resolve(base: str | None, href: str) -> str | None:
    if not base:
        return href
    try:
        return urljoin(base, href)
    except ValueError:
        return None  # a decline


def check_post(
    post: Post, entry: RawEntry, source: Source, feed_url: str, channel_link: str | None
) -> None:
    """`post` carries exactly the identity and hashes the reference gives `entry`."""
    link = ref_absolute(entry.link, feed_url) or ""  # the content's base is not the link's
    assert post.link == link
    assert post.canonical_link == (ref_canonical_link(link) if link else "")
    assert post.key == post.identity_key
    # A link still relative after parsing keys as written: the URL it resolves against
    # moves with redirects.
    written = (entry.link or "").strip()
    key_link = written if link and not ref_absolute(written, None) else link
    assert post.key == ref_post_key(
        source.name, replace(entry, link=key_link or entry.link), post.content_html
    )
    # Relative links resolved against the channel's link, as they were then.
    legacy_home = ref_absolute(channel_link, feed_url) or feed_url
    legacy_link = ref_absolute(entry.link, entry.base or legacy_home) or ""
    if not (entry.guid or "").strip() and not (legacy_link or entry.link or "").strip():
        body = entry.content or entry.summary or ""
        legacy_content = norm.sanitize_html(body, base_url=entry.base or legacy_home)
    else:
        legacy_content = ""  # not read
    assert post.legacy_key == ref_legacy_key(
        source.name, replace(entry, link=legacy_link or entry.link), legacy_content
    )
    assert post.content_hash == ref_digest([post.title, link, post.content_html, list(post.tags)])
    assert post.text_hash == ref_text_hash(post.content_html)


# -------------------------------------------------------------------- hypothesis

_PIECES = st.sampled_from(
    [
        "<p>", "</p>", "<br>", "<b>", "</b>", "<div>", "</div>", "<pre>", "</pre>",
        "<script>x()</script>", "<style>p{}</style>", "<!-- c -->", "<![CDATA[c]]>", "]]>",
        '<a href="/rel/x?a=1&amp;utm_source=y#f">', '<a href="https://x.example/a">', "</a>",
        '<a title="a<b>c&quot;d\'">', '<img src="p.png" width="1" height="1">',
        '<img data-src="/lazy.jpg" src="data:image/gif;base64,R0lGOD">',
        "<img srcset=\"a.jpg 1x, b.jpg 2x\" alt='q\"'>", "<p>&nbsp;</p>", "<iframe>i</iframe>",
        "&amp;", "&lt;", "&gt;", "&quot;", "&nbsp;", "&#1;", "&#0;", "&#x1f;", "&Tab;",
        "&NewLine;", "&amp;lt;", "&copy;", "&#xfffe;", "&#128512;",
        " ", "  ", "\t", "\n", "\r\n", "\xa0", "\u3000", "\u2028", "\x0b", "\x1c", "\x00",
        "\ud800", "\ufffe", "\\", '"', "'", "<", ">", "&", "a < b", "1 > 0",
        "word", "Ünïcode", "中文标题", "text",
    ]
)  # fmt: skip
_BODIES = st.lists(st.one_of(_PIECES, st.text(max_size=8)), max_size=40).map("".join)
_URLS = st.one_of(
    st.none(),
    st.sampled_from(
        [
            "https://site.example.org/post/1",
            "http://Site.Example.org:80/a?utm_source=x&b=2#frag",
            "https://site.example.org/a?",
            "https://site.example.org/a#",
            "https://site.example.org/a;p",
            "https://site.example.org?utm_source=x",
            "http://a.example/p?a=1&&utm_medium=y&fbclid=z&UTM_x=1#f",
            "https://a.example",
            "https://a.example/?",
            "https://a.example:/x",
            "https://a.example/x?q#",
            "/relative/path",
            "../up",
            "  https://site.example.org/spaced  ",
            "https://[::1]/v6",
            "https://[bad/x",
            "tag:example.org,2024:1",
            "urn:uuid:1",
            "mailto:a@example.org",
            "https://site.example.org:99999/x",
            "https://site.example.org/a b",
            "https://site.example.org/中文",
            "",
            " ",
        ]
    ),
    st.text(max_size=20),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=_BODIES, base=_URLS)
def test_sanitized_text_is_the_general_reading(body: str, base: str | None) -> None:
    clean = norm.sanitize_html(body, base_url=base)
    assert _UNSAFE_CHARS.search(clean) is None  # what the hashes' escaping relies on
    assert re.search("[\x80-\x9f]", clean) is None
    assert _sanitized_text(clean) == ref_text(clean)
    assert _sanitized_text(clean) == _html_to_text(clean, tag_gap=" ")


@pytest.mark.parametrize(
    "clean",
    [
        '<a title="a>b">x</a>',  # a serializer that left ">" in an attribute
        '<a title="a<b">x</a>',
        "a>b<c",  # as many of each, paired the wrong way round
        "<p>a</p><!-- c -->",
        "a &amp;lt; b &nbsp; &amp;nbsp; c",
        "",
    ],
)
def test_sanitized_text_falls_back_where_its_reading_would_differ(clean: str) -> None:
    assert _sanitized_text(clean) == ref_text(clean)


@settings(max_examples=400, deadline=None)
@given(parts=st.lists(st.one_of(st.text(), st.lists(st.text(), max_size=3)), max_size=5))
def test_digest_is_json_dumps(parts: list[str | list[str]]) -> None:
    assert _digest(parts) == ref_digest(parts)


@settings(max_examples=300, deadline=None)
@given(text=st.text(st.characters(blacklist_categories=["Cc"]) | st.sampled_from('\t\r\n\\"')))
def test_clean_json_string_is_json_dumps(text: str) -> None:
    text = text * 20  # past the length where the C encoder is taken anyway
    assert _json_clean_string(text) == json.dumps(text, ensure_ascii=False)


@settings(max_examples=300, deadline=None)
@given(url=_URLS)
def test_canonical_link_is_the_reference(url: str | None) -> None:
    assert norm.canonical_link(url or "") == ref_canonical_link(url or "")


@settings(max_examples=300, deadline=None)
@given(url=_URLS, base=_URLS)
def test_absolute_is_the_reference(url: str | None, base: str | None) -> None:
    assert _absolute(url, base) == ref_absolute(url, base)


@settings(max_examples=300, deadline=None)
@given(href=st.one_of(_URLS.filter(lambda u: u is not None), st.text(max_size=12)), base=_URLS)
def test_fastparse_resolve_is_urljoin(href: str, base: str | None) -> None:
    expected = ref_resolve(base, href)
    try:
        got: str | None = fast_markup._resolve(base, href)
    except fast_markup._Decline:
        got = None
    assert got == expected


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    body=_BODIES,
    title=st.one_of(st.none(), _BODIES),
    guid=st.one_of(st.none(), st.sampled_from(["1", " ", "tag:x,2024:1", "https://g.example/1"])),
    link=_URLS,
    base=_URLS,
)
def test_posts_carry_the_reference_identity(
    body: str, title: str | None, guid: str | None, link: str | None, base: str | None
) -> None:
    entry = RawEntry(guid=guid, link=link, title=title, content=body or None, base=base or None)
    src = Source(
        name="S", url="https://feeds.example.org/f.xml", category="news",
        tags=("News", 'quote"d'), interval=timedelta(minutes=30),
    )  # fmt: skip
    feed = ParsedFeed(title="T", link="https://site.example.org/", entries=(entry,))
    posts, keys = norm.normalize_with_keys(
        feed, src, now=NOW, site_timezone=SITE_TZ, feed_url=src.url
    )
    assert keys == norm.entry_keys(feed, src, feed_url=src.url)
    for post in posts:
        check_post(post, entry, src, src.url, "https://site.example.org/")
        assert post.title == norm.clean_title(title, fallback_text=post.content_html) or (
            post.title in (post.link, src.name)
        )


# ------------------------------------------------------------------ fixtures


def _fixture_feeds() -> list[tuple[Path, ParsedFeed, str]]:
    feeds = []
    for path in sorted(FEEDS.glob("*.xml")):
        expected = json.loads(path.with_suffix(".expected.json").read_text(encoding="utf-8"))
        if "error" in expected:
            continue
        url = expected.get("url", f"https://feeds.example.org/{path.name}")
        headers = expected.get("headers", {"content-type": "application/xml"})
        feeds.append((path, parse(path.read_bytes(), headers, url=url), url))
    return feeds


def test_fixture_posts_carry_the_reference_identity() -> None:
    checked = 0
    for _, feed, url in _fixture_feeds():
        src = Source(
            name="Fixture", url=url, category="news", tags=("News",),
            interval=timedelta(minutes=30),
        )  # fmt: skip
        posts, keys = norm.normalize_with_keys(
            feed, src, now=NOW, site_timezone=SITE_TZ, feed_url=url
        )
        assert posts == norm.normalize(feed, src, now=NOW, site_timezone=SITE_TZ, feed_url=url)
        assert keys == norm.entry_keys(feed, src, feed_url=url)
        legacy_home = ref_absolute(feed.link, url) or _http_url(url)
        by_key = {p.key: p for p in posts}
        for entry in feed.entries:
            link = ref_absolute(entry.link, url) or ""
            for post in by_key.values():
                if post.link == link and post.raw_hash == norm.raw_hash(
                    entry, _salt(src, None, SITE_TZ, url, legacy_home)
                ):
                    check_post(post, entry, src, url, feed.link)
                    assert _sanitized_text(post.content_html) == ref_text(post.content_html)
                    checked += 1
    assert checked > 300


# ------------------------------------------------------------------- raw hash


def test_raw_hash_reads_every_field() -> None:
    base = RawEntry(
        guid="g", link="https://e.example/1", title="t", content="c", summary="s",
        published=datetime(2024, 1, 1, 8, 0), updated=datetime(2024, 1, 2, 8, 0),
        author="a", categories=("x",), base="https://e.example/",
    )  # fmt: skip
    changed = {
        "guid": "g2",
        "link": "https://e.example/2",
        "title": "t2",
        "content": "c2",
        "summary": "c",  # the content again: the marker, not the text
        "published": datetime(2024, 1, 1, 8, 0, tzinfo=timezone(timedelta(hours=8), "CST")),
        "updated": datetime(2024, 1, 2, 8, 0, tzinfo=UTC),
        "author": "b",
        "categories": ("x", "y"),
        "base": None,
    }
    assert set(changed) == {f.name for f in dataclasses.fields(RawEntry)}
    hashes = {norm.raw_hash(base, "salt"), norm.raw_hash(base, "other salt")}
    for name, value in changed.items():
        hashes.add(norm.raw_hash(replace(base, **{name: value}), "salt"))
    assert len(hashes) == len(changed) + 2
    # Framing: moving text from one body to the other is another entry.
    assert norm.raw_hash(RawEntry(content="ab", summary=None)) != norm.raw_hash(
        RawEntry(content="a", summary="b")
    )
    assert norm.raw_hash(RawEntry(content=None, summary="x")) != norm.raw_hash(
        RawEntry(content="x", summary=None)
    )
    # The same zone offset under another name reads differently ("CST" in a Chinese feed).
    cst = datetime(2024, 1, 1, tzinfo=timezone(timedelta(hours=-6), "CST"))
    plain = datetime(2024, 1, 1, tzinfo=timezone(timedelta(hours=-6)))
    assert norm.raw_hash(RawEntry(published=cst)) != norm.raw_hash(RawEntry(published=plain))


# ------------------------------------------------------------------ fastparse

_CHILD_MARKUP_BACKTRACKING = re.compile(
    rb"<(title|description|summary|content|content:encoded)(?:\s[^>]*)?>[^<]*<(?!/\1>|!\[CDATA\[)"
)
_XML_PIECES = st.sampled_from(
    [
        b"<title>", b"</title>", b"<title type='html'>", b"<description>", b"</description>",
        b"<summary>", b"</summary>", b"<content:encoded>", b"</content:encoded>",
        b"<content type=\"html\">", b"</content>", b"<![CDATA[", b"]]>", b"<p>", b"</p>",
        b"&lt;p&gt;", b"text", b" ", b"\n", b">", b"<", b"/", b"<title", b"<content",
    ]
)  # fmt: skip


@settings(max_examples=500, deadline=None)
@given(st.lists(_XML_PIECES, max_size=16).map(b"".join))
def test_child_markup_pattern_finds_what_the_backtracking_one_finds(body: bytes) -> None:
    found = fast_scan._CHILD_MARKUP.search(body)
    expected = _CHILD_MARKUP_BACKTRACKING.search(body)
    assert (found and found.span()) == (expected and expected.span())


_ZONES = [
    "GMT", "UT", "UTC", "Z", "+0800", "-0000", "-0500", "+2400", "+0160", "+1500",
    "EST", "CST", "PDT", "MDT", "CET", "PT", "",
]  # fmt: skip


@settings(max_examples=500, deadline=None)
@given(
    day_name=st.sampled_from(["", "Thu, ", "Mon, ", "thu, "]),
    day=st.integers(0, 99).map(str) | st.integers(0, 9).map("0{}".format),
    month=st.sampled_from(["Jan", "Feb", "Jun", "Dec", "jan", "June"]),
    year=st.integers(0, 9999).map("{:04d}".format) | st.sampled_from(["24", "999"]),
    clock=st.tuples(st.integers(0, 99), st.integers(0, 99), st.integers(0, 99)).map(
        lambda t: "{:02d}:{:02d}:{:02d}".format(*t)
    )
    | st.tuples(st.integers(0, 99), st.integers(0, 99)).map(lambda t: "{:02d}:{:02d}".format(*t)),
    zone=st.sampled_from(_ZONES),
)
def test_common_rfc822_dates_read_as_the_general_steps_read_them(
    day_name: str, day: str, month: str, year: str, clock: str, zone: str
) -> None:
    text = f"{day_name}{day} {month} {year} {clock} {zone}".strip()
    assert repr(parse_date(text)) == repr(_parse_date(text))


_OFFSETS = ["Z", "+08:00", "-00:00", "+00:00", "-05:00", "+05:30", "+14:00", "+14:01", "-14:30",
            "+24:00", "+05:60", "z", "+0800", ""]  # fmt: skip


@settings(max_examples=1000, deadline=None)
@given(
    year=st.integers(0, 9999).map("{:04d}".format),
    month=st.integers(0, 13).map("{:02d}".format),
    day=st.integers(0, 32).map("{:02d}".format),
    clock=st.tuples(st.integers(0, 25), st.integers(0, 61), st.integers(0, 61)).map(
        lambda t: "{:02d}:{:02d}:{:02d}".format(*t)
    ),
    fraction=st.sampled_from(["", ".5", ".123", ".123456", ".1234567", "."]),
    zone=st.sampled_from(_OFFSETS),
)
def test_common_rfc3339_dates_read_as_the_general_steps_read_them(
    year: str, month: str, day: str, clock: str, fraction: str, zone: str
) -> None:
    text = f"{year}-{month}-{day}T{clock}{fraction}{zone}"
    assert repr(parse_date(text)) == repr(_parse_date(text))


def _fast_date_one_by_one(raw: bytes) -> datetime | str | None:
    """fast_fields._date as it read every date before parse_common: "decline" for a
    decline."""
    text = html.unescape(raw.decode("utf-8")) if b"&" in raw else raw.decode("utf-8")
    if not text.strip():
        return None
    if order_dependent(text):
        return "decline"
    value = parse_date(text)
    name = value.tzname() if value is not None else None
    if name is not None and name.isalpha() and name not in fast_fields._UTC_NAMES:
        return "decline"
    return value


_FAST_DATES = st.sampled_from(
    [
        "2024-01-04T15:18:23+08:00", "2024-01-04T07:18:23Z", "2023-10-30T12:55:00.123-04:00",
        "2023-02-29T10:00:00Z", "0999-12-31T23:59:59Z", "2023-10-30T21:55:00+14:01",
        "Thu, 04 Jan 2024 07:18:23 GMT", "Wed, 03 Jan 2024 23:59:51 +0800",
        "Tue, 03 Jan 2023 14:05:00 CST", "Mon, 16 Oct 2023 10:00:00 EDT", "4 Jan 2024 07:18 UT",
        "Thu, 31 Feb 2024 07:18:23 GMT", "03/04/2023 10:00", "2023-10-30 12:55:00 UTC",
        "16.10.2023", "Oct 16, 2023 1:55 PM PT", "&#50;024", "  ", "",
    ]
)  # fmt: skip


@settings(max_examples=500, deadline=None)
@given(st.tuples(st.sampled_from(["", " ", "\n  "]), _FAST_DATES, st.sampled_from(["", " ", "\n"])))
def test_fast_path_dates_read_as_before_parse_common(parts: tuple[str, str, str]) -> None:
    raw = "".join(parts).encode()
    expected = _fast_date_one_by_one(raw)
    try:
        got: datetime | str | None = fast_fields._date(raw)
    except fast_markup._Decline:
        got = "decline"
    assert repr(got) == repr(expected)
