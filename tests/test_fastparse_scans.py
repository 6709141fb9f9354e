"""The fast path's combined scans find exactly what the single patterns they replace find:
aggregator.fastparse looks for unescaped child markup (_CHILD_MARKUP) inside its item scan
(_spans), for an entry's dates and author tags in one pass (_entry_tags), and for the
markers a body is declined for with one set of patterns (_markers).
"""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from aggregator import fastparse
from aggregator.fastparse import (
    _AUTHOR_TAG,
    _CHILD_MARKUP,
    _DATE,
    _Decline,
    _entry_tags,
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


def _child_found(body: bytes, prefixes: tuple[bytes, ...]) -> bool:
    """Whether _spans' scan declines for child markup; the other reasons it declines are
    left out by scanning only the matches of its child-markup names."""
    pattern = _span_pattern(b"item", prefixes)
    try:
        for m in pattern.finditer(body):
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


def test_child_markup_in_fixtures_found_as_the_pattern_finds_it() -> None:
    bodies = [p.read_bytes() for d in ("feeds", "platforms") for p in (DATA / d).glob("*.xml")]
    assert len(bodies) > 300
    found = 0
    for body in bodies:
        expected = _CHILD_MARKUP.search(body) is not None
        found += expected
        assert _child_found(body, (b"atom",)) == expected
    assert found >= 5  # the fixtures hold child markup, so both answers are compared


@settings(max_examples=3000, deadline=None)
@given(_BODIES)
def test_entry_tags_find_what_each_pattern_finds(body: bytes) -> None:
    dates, authors = _entry_tags(body)
    assert [m.group(1, 2) for m in dates] == [m.group(1, 2) for m in _DATE.finditer(body)]
    assert [m.span() for m in dates] == [m.span() for m in _DATE.finditer(body)]
    assert authors == _AUTHOR_TAG.findall(body)


def test_spans_declines_child_markup() -> None:
    body = b"<rss><channel><item><description>a <b>bold</b></description></item></channel></rss>"
    try:
        _spans(body, atom=False, prefixes=(b"atom",))
    except _Decline:
        return
    raise AssertionError("child markup in a description was not declined")


def _markers_one_by_one(body: bytes) -> frozenset[bytes]:
    found = {m for m in fastparse._MARKERS if m in body}
    if re.search(fastparse._C1_PATTERN, body):
        found.add(fastparse._C1_FOUND)
    return frozenset(found)


_MARKER_PIECES = [m.decode("latin-1") for m in fastparse._MARKERS] + [
    "\x85", "\xc2", "&#146;", "&#x92;", "&#128;", "&#160;", "text ", "<", "dcterm", "ource",
]  # fmt: skip


@settings(max_examples=2000, deadline=None)
@given(st.lists(st.sampled_from(_MARKER_PIECES), max_size=12))
def test_markers_are_those_the_body_holds(pieces: list[str]) -> None:
    body = "".join(pieces).encode("utf-8")
    assert fastparse._markers(body) == _markers_one_by_one(body)


def test_markers_in_fixtures_are_those_the_body_holds() -> None:
    for d in ("feeds", "platforms"):
        for path in (DATA / d).glob("*.xml"):
            body = path.read_bytes()
            assert fastparse._markers(body) == _markers_one_by_one(body), path.name
