"""The fast path's combined scans find exactly what the single patterns they replace find:
aggregator.parse.fast_scan looks for unescaped child markup (_CHILD_MARKUP) and for each item's
dates and author tags (_DATE, _AUTHOR_TAG outside CDATA) inside its item scan (_spans), and
notes what the mappers once searched each item's bytes for; fast_body finds the markers a
body is declined for, and whether it is UTF-8, with one set of patterns (_markers); and it
reads a body as UTF-8 without decoding it first (utf8_unchecked).
"""

from __future__ import annotations

import itertools
import re
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aggregator.parse import fast_body
from aggregator.parse import fast_scan as fastparse
from aggregator.parse.charset import to_utf8, utf8_unchecked
from aggregator.parse.fast_body import _NOT_UTF8
from aggregator.parse.fast_markup import _Decline
from aggregator.parse.fast_scan import (
    _AUTHOR_TAG,
    _CHILD_MARKUP,
    _DATE,
    _span_pattern,
    _spans,
)

DATA = Path(__file__).parent / "data"

# Pieces the patterns care about, joined at random into bodies.
_PIECES = [
    "<title>", "</title>", "<title type='html'>", "<description>", "</description>",
    "<summary>", "</summary>", "<content>", "</content>", "<content:encoded>",
    "</content:encoded>", "<content:x>", "<![CDATA[", "]]>", "<p>", "</p>", "text ",
    "&lt;b&gt;", "<", ">", " ", "\n", "<pubDate>", "</pubDate>", "<dc:date>", "</dc:date>",
    "<updated>", "</updated >", "<published>", "</published>", "Tue, 02 Jan 2024 07:05:11 GMT",
    "2024-01-02T08:03:40Z", "<author>", "</author>", "<dc:creator>", "<name>", "</name>",
    "<itunes:author/>", "<atom:updated>", "</atom:updated>", "<titles>", "</",
]  # fmt: skip
_BODIES = st.lists(st.sampled_from(_PIECES), max_size=30).map(lambda p: "".join(p).encode())
# Items of such pieces; now and then an item tag inside them, or an Atom author.
_ITEM_PIECES = [
    *_PIECES, "<atom:author>", "<a10:name>", "<media:credit>", "<content:author>",
    "<link>", "<link:author>", "<!-- <author> -->", "<item>", "</item>", "<!--", "-->",
]  # fmt: skip
_ITEMS = st.lists(
    st.lists(st.sampled_from(_ITEM_PIECES), max_size=12).map(
        lambda p: "<item>" + "".join(p) + "</item>"
    ),
    min_size=1,
    max_size=3,
).map(lambda items: ("<rss><channel>" + "".join(items) + "</channel></rss>").encode())


def _child_found(body: bytes, prefixes: tuple[bytes, ...]) -> bool:
    """Whether _spans' scan declines for child markup; the other reasons it declines are
    left out by scanning only the matches of its child-markup names."""
    try:
        for start, end, text in fastparse._sections(body):
            pattern = _span_pattern(b"item", prefixes, tags=not text)
            for m in pattern.finditer(body, start, end):
                if m.lastindex == 6 or (
                    m.lastindex == 5 and body.startswith(fastparse._CHILD_NAMES, m.start() + 1)
                ):
                    fastparse._child_markup(body, m.start())
    except _Decline:
        return True
    return False


@settings(max_examples=3000, deadline=None)
@given(_BODIES, st.sampled_from([(b"atom",), (b"atom", b"content"), (b"atom", b"title")]))
def test_child_markup_found_as_the_pattern_finds_it(
    body: bytes, prefixes: tuple[bytes, ...]
) -> None:
    assert _child_found(body, prefixes) == (_CHILD_MARKUP.search(body) is not None)


# Pieces that make no reason for _spans to decline but child markup: CDATA sections and
# comments come whole, and nothing spells an item tag.
_CHILD_PIECES = [
    "<title>", "</title>", "<title type='html'>", "<description>", "</description>",
    "<summary>", "</summary>", "<content>", "</content>", "<content:encoded>",
    "</content:encoded>", "<content:x>", "<content:encodedx>", "<p>", "</p>", "text ",
    "&lt;b&gt;", "<", ">", " ", "\n", "<titles>", "</", "<![CDATA[<p>a</p>]]>", "<![CDATA[x]]>",
    "<!-- <title>a<b> -->", "<guid>", "</guid>", "<link>", "</link>", "<dc:creator>",
]  # fmt: skip


@settings(max_examples=3000, deadline=None)
@given(
    st.lists(
        st.lists(st.sampled_from(_CHILD_PIECES), max_size=12).map(
            lambda p: "<item>" + "".join(p) + "</item>"
        ),
        min_size=1,
        max_size=3,
    )
)
def test_spans_declines_child_markup_as_the_pattern_finds_it(items: list[str]) -> None:
    # _spans reads most start tags without _child_markup's pattern, and skips their text.
    body = ("<rss><channel>" + "".join(items) + "</channel></rss>").encode()
    try:
        _spans(body, atom=False, prefixes=(b"atom",))
    except _Decline:
        declined = True
    else:
        declined = False
    assert declined == (_CHILD_MARKUP.search(body) is not None)


def test_child_markup_in_fixtures_found_as_the_pattern_finds_it() -> None:
    bodies = [p.read_bytes() for d in ("feeds", "platforms") for p in (DATA / d).glob("*.xml")]
    assert len(bodies) > 300
    found = 0
    for body in bodies:
        expected = _CHILD_MARKUP.search(body) is not None
        found += expected
        assert _child_found(body, (b"atom",)) == expected
    assert found >= 5  # the fixtures hold child markup, so both answers are compared


@settings(max_examples=2000, deadline=None)
@given(
    st.lists(st.sampled_from([b"<", b"!", b"<!", b"a", b"!!!!!!!!!!!!!!!!", b"<<"]), max_size=40),
    st.integers(min_value=0, max_value=300),
)
def test_find_bang_is_the_two_byte_search(pieces: list[bytes], pos: int) -> None:
    # Runs of "!" past _find_bang's budget of misses send it to the two-byte search.
    body = b"".join(pieces)
    assert fastparse._find_bang(body, pos) == body.find(b"<!", pos)


def _without_text(span: bytes) -> bytes:
    # What the item's tags are looked for in: CDATA and comments hold text, never an element.
    return re.sub(rb"<!\[CDATA\[.*?(?:\]\]>|\Z)|<!--.*?(?:-->|\Z)", b" ", span, flags=re.S)


def _tags_one_by_one(
    body: bytes, start: int, end: int
) -> tuple[list[tuple[bytes, bytes]], list[bytes]]:
    bare = _without_text(body[start:end])
    return [m.group(1, 2) for m in _DATE.finditer(bare)], _AUTHOR_TAG.findall(bare)


def _compare_item_tags(body: bytes, prefixes: tuple[bytes, ...] = (b"atom",)) -> int | None:
    """The items _spans finds in `body` (None: it declines), each with the tags the single
    patterns find in it."""
    try:
        spans = _spans(body, atom=False, prefixes=prefixes)
    except _Decline:
        return None
    for item in spans.items:
        assert (item.dates, item.authors) == _tags_one_by_one(body, item.start, item.end)
    return len(spans.items)


@settings(max_examples=2000, deadline=None)
@given(_ITEMS)
def test_item_tags_are_what_each_pattern_finds(body: bytes) -> None:
    _compare_item_tags(body)


def _bench_corpus() -> list[bytes]:
    root = str(Path(__file__).resolve().parent.parent)
    if root not in sys.path:
        sys.path.insert(0, root)
    from bench.corpus import generate_feed

    return [generate_feed(1, i, 5, version=0) for i in range(20)]


def test_item_tags_in_fixtures_are_what_each_pattern_finds() -> None:
    bodies = [p.read_bytes() for d in ("feeds", "platforms") for p in (DATA / d).glob("*.xml")]
    items = 0
    for body in [*bodies, *_bench_corpus()]:
        atom = b"<feed" in body[:4096] and b"<rss" not in body[:4096]
        try:
            spans = _spans(body, atom=atom, prefixes=() if atom else (b"atom",))
        except _Decline:
            continue
        for item in spans.items:
            assert (item.dates, item.authors) == _tags_one_by_one(body, item.start, item.end)
            items += 1
    assert items > 1000  # most fixtures' items are compared


def _notes_one_by_one(span: bytes) -> tuple[int, int, bool, bool]:
    # What fast_rss and fast_atom asked of an item's bytes before _spans noted it.
    last_guid = span.rfind(b"<guid")
    return (
        last_guid,
        span.count(b"<content:encoded"),
        b"<email" in span,
        fastparse._EMPTY_LINK.search(span) is not None,
    )


def _compare_item_notes(
    body: bytes, prefixes: tuple[bytes, ...] = (b"atom",), *, atom: bool = False
) -> int:
    """The items _spans finds in `body` (0 when it declines), each noted as the single
    searches over its bytes find."""
    try:
        spans = _spans(body, atom=atom, prefixes=() if atom else prefixes)
    except _Decline:
        return 0
    for item in spans.items:
        span = body[item.start : item.end]
        last_guid = item.last_guid - item.start if item.last_guid >= 0 else -1
        assert (last_guid, item.encoded, item.email, item.empty_link) == _notes_one_by_one(span)
    return len(spans.items)


_NOTED_PIECES = [
    "<guid>", "<guid isPermaLink='false'>", "</guid>", "<guidX:author>", "<guid:x>", "<email>",
    "<email:name>", "</email>", "<content:encoded>", "</content:encoded>", "<content:x>",
    "<link>", "<link/>", "<link />", "</link>", "<link href='h'/>", "<linkx>", " ", "\n", "t",
    "<![CDATA[", "]]>", "<!--", "-->", "<title>", "</title>", "<author>", "<a10:link/>",
]  # fmt: skip


@settings(max_examples=3000, deadline=None)
@given(
    st.lists(
        st.lists(st.sampled_from(_NOTED_PIECES), max_size=12).map(
            lambda p: "<item>" + "".join(p) + "</item>"
        ),
        min_size=1,
        max_size=3,
    ),
    st.sampled_from([(b"atom",), (b"atom", b"a10"), (b"atom", b"guid"), (b"atom", b"content")]),
)
def test_item_notes_are_what_each_search_finds(
    items: list[str], prefixes: tuple[bytes, ...]
) -> None:
    body = ("<rss><channel>" + "".join(items) + "</channel></rss>").encode()
    _compare_item_notes(body, prefixes)


def test_item_notes_in_fixtures_are_what_each_search_finds() -> None:
    bodies = [p.read_bytes() for d in ("feeds", "platforms") for p in (DATA / d).glob("*.xml")]
    items = 0
    for body in [*bodies, *_bench_corpus()]:
        atom = b"<feed" in body[:4096] and b"<rss" not in body[:4096]
        items += _compare_item_notes(body, atom=atom)
    assert items > 1000


@pytest.mark.parametrize(
    "item",
    [
        pytest.param("<pubDate><![CDATA[Tue, 02 Jan 2024 07:05:11 GMT]]></pubDate>", id="cdata"),
        pytest.param("<pubDate>Tue, 02 Jan 2024 <![CDATA[07:05:11 GMT]]></pubDate>", id="half"),
        pytest.param("<dc:date><!-- x -->2024-01-02</dc:date>", id="comment"),
        pytest.param("<atom:updated><b>2024</b></atom:updated>", id="element"),
        pytest.param("<description><![CDATA[<item>]]></description>", id="item-in-cdata"),
    ],
)
def test_spans_declines_what_the_tags_do_not_read(item: str) -> None:
    body = f"<rss><channel><item><title>t</title>{item}</item></channel></rss>".encode()
    with pytest.raises(_Decline):
        _spans(body, atom=False, prefixes=(b"atom",))


def test_dates_and_authors_inside_cdata_are_text() -> None:
    body = (
        b"<rss><channel><item><title>t</title><description><![CDATA[<pubDate>x</pubDate>"
        b"<author>a</author>]]></description><dc:creator>C</dc:creator></item></channel></rss>"
    )
    (item,) = _spans(body, atom=False, prefixes=(b"atom",)).items
    assert item.dates == [] and item.authors == [b"dc:creator"]


def test_spans_declines_child_markup() -> None:
    body = b"<rss><channel><item><description>a <b>bold</b></description></item></channel></rss>"
    try:
        _spans(body, atom=False, prefixes=(b"atom",))
    except _Decline:
        return
    raise AssertionError("child markup in a description was not declined")


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _markers_one_by_one(body: bytes) -> frozenset[bytes]:
    found = {m for m in fast_body._MARKERS if m in body}
    if re.search(fast_body._C1_PATTERN, body):
        found.add(fast_body._C1_FOUND)
    if not _is_utf8(body):
        found.add(_NOT_UTF8)
    return frozenset(found)


_MARKER_PIECES = [m.decode("latin-1") for m in fast_body._MARKERS] + [
    "\x85", "\xc2", "&#146;", "&#x92;", "&#128;", "&#160;", "text ", "<", "dcterm", "ource",
]  # fmt: skip


@settings(max_examples=2000, deadline=None)
@given(st.lists(st.sampled_from(_MARKER_PIECES), max_size=12))
def test_markers_are_those_the_body_holds(pieces: list[str]) -> None:
    body = "".join(pieces).encode("utf-8")
    assert fast_body._markers(body) == _markers_one_by_one(body)


def test_markers_in_fixtures_are_those_the_body_holds() -> None:
    for d in ("feeds", "platforms"):
        for path in (DATA / d).glob("*.xml"):
            body = path.read_bytes()
            assert fast_body._markers(body) == _markers_one_by_one(body), path.name


# Bytes around UTF-8's edges: leads of each length and their limits, continuations,
# bytes no sequence uses, ASCII.
_UTF8_EDGES = [0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF,
               0xE0, 0xE1, 0xEC, 0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xFF]  # fmt: skip


def test_not_utf8_is_what_decoding_refuses() -> None:
    # Every string of one or two bytes, and of three and four edge bytes, after ASCII and
    # after a well-formed sequence (the scan is anchored at the start).
    bodies = [bytes([a, b]) for a in range(256) for b in range(256)]
    bodies += [bytes(t) for t in itertools.product(_UTF8_EDGES, repeat=3)]
    bodies += [bytes(t) for t in itertools.product(_UTF8_EDGES, repeat=4)]
    for tail in bodies:
        for body in (tail, b"a" + tail, "é".encode() + tail):
            assert (_NOT_UTF8 in fast_body._markers(body)) == (not _is_utf8(body)), body


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=200), st.binary(max_size=3))
def test_not_utf8_found_anywhere_in_a_long_body(text: str, cut: bytes) -> None:
    body = text.encode("utf-8") * 50 + cut + "é".encode() * 10
    assert (_NOT_UTF8 in fast_body._markers(body)) == (not _is_utf8(body))


def test_not_utf8_found_past_megabytes() -> None:
    valid = "<p>中文 é ok</p>".encode() * 400_000  # 8 MB
    assert _NOT_UTF8 not in fast_body._markers(valid)
    assert _NOT_UTF8 in fast_body._markers(valid + b"\xe4\xb8")
    assert _NOT_UTF8 in fast_body._markers(valid + b"\xe4\xb8" + valid)  # cut in the middle
    assert _NOT_UTF8 in fast_body._markers(valid + "\ud800".encode("utf-8", "surrogatepass"))


_CONTENT_TYPES = [
    None,
    "application/xml",
    "application/rss+xml; charset=utf-8",
    "text/xml; charset=gbk",
    "text/xml; charset=iso-8859-1",
    "text/xml; charset=utf-16",
    "text/xml; charset=iso-2022-kr",
]


def test_utf8_unchecked_is_to_utf8_for_valid_utf8() -> None:
    bodies = [p.read_bytes() for d in ("feeds", "platforms") for p in (DATA / d).glob("*.xml")]
    answered = 0
    for body in bodies:
        for content_type in _CONTENT_TYPES:
            _compare_unchecked(body, content_type)
            answered += 1
    assert answered > 2000


@settings(max_examples=2000, deadline=None)
@given(
    st.sampled_from(["", "\ufeff", " "]),
    st.sampled_from(["", "UTF-8", "utf8", "GBK", "ISO-8859-1", "UTF-16", "bogus", "iso-2022-kr"]),
    st.sampled_from(_CONTENT_TYPES),
    st.sampled_from(["é", "中", "a", "\x85"]),
)
def test_utf8_unchecked_is_to_utf8_when_declared_any_way(
    start: str, label: str, content_type: str | None, text: str
) -> None:
    prolog = f'<?xml version="1.0" encoding="{label}"?>' if label else ""
    for body in (
        f"{start}{prolog}<rss><channel><title>{text}</title></channel></rss>".encode(),
        f"{start}{prolog}<rss><channel><title>{text}</title></channel></rss>".encode("gb18030"),
    ):
        _compare_unchecked(body, content_type)


def _compare_unchecked(body: bytes, content_type: str | None) -> None:
    """utf8_unchecked refuses as to_utf8 does, and where it answers for valid UTF-8 (after
    a BOM) it answers as to_utf8 does; where it answers None, to_utf8 reads the bytes."""
    try:
        expected = to_utf8(body, content_type).body
    except Exception as e:
        with pytest.raises(type(e)):
            utf8_unchecked(body, content_type)
        return
    got = utf8_unchecked(body, content_type)
    if got is not None and _is_utf8(body):
        assert got == expected
