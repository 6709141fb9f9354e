"""Parse stage, fast path: the scan over a whole body before anything is mapped: the body
as UTF-8 (as charset.to_utf8 reads it) and the markers it holds, found in one RE2 pass.
Pure: no network, no clock. It reads no element and pairs up no item (fast_scan); a body
it cannot read raises _Decline.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from aggregator.errors import ParseError
from aggregator.parse.charset import to_utf8, utf8_unchecked
from aggregator.parse.fast_markup import _Decline

_DC_NS = b"http://purl.org/dc/elements/1.1/"


# Anything feedparser reads in a way the extractor does not report: a doctype (entities
# feedparser may expand), xhtml constructs, Atom's <source> (dates inside it belong to
# the source, not the entry), dcterms dates and iTunes summaries. RSS 1.0, Atom 0.3 and
# base64 content the extractor refuses itself, or _atom_html does.
_UNSUPPORTED = (b"dcterms", b"<itunes:summary")
_SOURCE = (b"<source", b":source")  # looked for only where b"source" is


# ------------------------------------------------------------------- encoding


def _utf8(content: bytes, headers: Mapping[str, str]) -> tuple[bytes, frozenset[bytes]]:
    """The body as UTF-8 with a prolog that says so (charset.to_utf8, as the reference
    reads it), and its _markers; or a decline.

    A body to_utf8 would return as it is if it is valid UTF-8 (the common case) is not
    decoded to find out: the marker scan tells it, and only invalid bytes go through
    to_utf8's whole reading (then scanned again)."""
    if not content or content.isspace():  # `not content.strip()`, without copying it
        raise _Decline
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), None)
    try:
        body = utf8_unchecked(content, content_type)
        if body is not None:
            found = _markers(body)
            if _NOT_UTF8 not in found:
                return body, found
        body = to_utf8(content, content_type).body
    except ParseError:
        raise _Decline from None
    return body, _markers(body)


# What _parse looks for in a whole body, found in one pass: each `marker in body` costs as
# much as this scan of all of them (RE2: a DFA, no backtracking, bytes read as Latin-1).
_MARKERS = (
    b"source",
    *_UNSUPPORTED,
    b"xhtml",
    b"xml:base",
    _DC_NS,
    b"itunes:author",
    b"origLink",
    b"<media:",
)
_C1_FOUND = b"C1"  # a C1 control, raw (UTF-8 \xc2\x80-\xc2\x9f) or as a reference (&#146;)
_C1_PATTERN = rb"\xc2[\x80-\x9f]|&#(?:0*1(?:2[89]|[3-5][0-9])|[xX]0*[89][0-9a-fA-F]);"
_NOT_UTF8 = b"not UTF-8"  # bytes that are no well-formed UTF-8, as bytes.decode("utf-8") reads it
# Anchored at the start: the longest run of well-formed sequences (Unicode's table 3-7: no
# overlong forms, no surrogates, nothing past U+10FFFF), then a byte that starts none.
# From the start, the sequences are the only way to cut well-formed UTF-8, so this matches
# exactly when the body is not UTF-8.
_CONT = rb"[\x80-\xbf]"
_UTF8_SEQUENCE = (
    rb"(?:[\x00-\x7f]|[\xc2-\xdf]" + _CONT + rb"|\xe0[\xa0-\xbf]" + _CONT
    + rb"|[\xe1-\xec\xee\xef]" + _CONT + rb"{2}|\xed[\x80-\x9f]" + _CONT
    + rb"|\xf0[\x90-\xbf]" + _CONT + rb"{2}|[\xf1-\xf3]" + _CONT + rb"{3}"
    + rb"|\xf4[\x80-\x8f]" + _CONT + rb"{2})"
)  # fmt: skip
_NOT_UTF8_PATTERN = (
    rb"\A" + _UTF8_SEQUENCE + rb"*(?:[^\x00-\x7f\xc2-\xf4]"  # a byte no sequence starts with
    rb"|[\xc2-\xf4](?:[^\x80-\xbf]|\z)"  # a lead byte, then no continuation
    rb"|\xe0[^\xa0-\xbf]|\xed[^\x80-\x9f]|\xf0[^\x90-\xbf]|\xf4[^\x80-\x8f]"  # out of range
    rb"|[\xe0-\xf4]" + _CONT + rb"(?:[^\x80-\xbf]|\z)"  # cut after two bytes
    rb"|[\xf0-\xf4]" + _CONT + rb"{2}(?:[^\x80-\xbf]|\z))"  # cut after three
)


def _marker_scanner() -> Any:
    import re2  # type: ignore[import-untyped,unused-ignore]

    options = re2.Options()
    options.encoding = re2.Options.Encoding.LATIN1
    # A set, not one alternation: which of them occur is all _parse asks, and a set's one
    # pass tells that without finding where each occurrence starts and ends.
    # The set's DFA runs out of memory (and finds nothing) only past its budget: give it
    # room. RE2 takes memory as states are met, not up front.
    options.max_mem = 64 << 20
    scanner = re2.Set.SearchSet(options)
    for marker in _MARKERS:
        scanner.Add(re.escape(marker))
    scanner.Add(_C1_PATTERN)
    scanner.Add(_NOT_UTF8_PATTERN)
    scanner.Compile()
    return scanner


_MARKER_SCAN = _marker_scanner()
_MARKER_FOUND = (*_MARKERS, _C1_FOUND, _NOT_UTF8)  # by the scanner's index


def _markers(body: bytes) -> frozenset[bytes]:
    """The _MARKERS `body` holds, _C1_FOUND when it holds a C1 control, and _NOT_UTF8 when
    it is not well-formed UTF-8."""
    return frozenset(_MARKER_FOUND[i] for i in _MARKER_SCAN.Match(body) or ())  # None: none
