"""Parse stage, fast path: fastfeedparser's native extractor mapped to the records that
the reference (feedparser, reference.py) produces. Pure: no network, no clock. It never
guesses: whatever it cannot map exactly it declines (None), and parse() hands the body
to the next backend. tests/test_parse_differential.py keeps the two equal.

fast.py runs the steps; fast_body.py reads the whole body (encoding, markers) and
fast_scan.py scans it for the items, fast_rss.py and fast_atom.py map each format,
fast_fields.py reads dates and authors, fast_markup.py reads elements out of an item's
bytes.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping

from lxml import etree

from aggregator.parse.fast_atom import _atom_document
from aggregator.parse.fast_body import _C1_FOUND, _DC_NS, _SOURCE, _UNSUPPORTED, _utf8
from aggregator.parse.fast_markup import _Decline
from aggregator.parse.fast_rss import _rss_document
from aggregator.types import DateOrder, ParsedFeed

try:  # the native extractor is what makes this path fast; without it, always decline
    from fastfeedparser import _core as _ffp_core
except ImportError:  # pragma: no cover - depends on the installed wheel
    _ffp_core = None

__all__ = ["parse_fast"]

_ITUNES_DECLARED = b'xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"'
_DOCTYPE = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.I)
_ROOT_START = re.compile(rb"<(?:rss|feed)[\s>]")
_XHTML_TYPE = re.compile(rb"""type\s*=\s*["']xhtml["']""")
_RELATIVE_BASE = re.compile(rb"""xml:base\s*=\s*["'](?!https?://)""")
_XHTML_NS = b"www.w3.org/1999/xhtml"


def parse_fast(
    content: bytes,
    headers: Mapping[str, str],
    *,
    url: str,
    date_order: DateOrder | None = None,
) -> ParsedFeed | None:
    """Parse a well-formed RSS 2.0 or Atom feed quickly, in any encoding.

    Returns the same ParsedFeed that the reference returns for these bytes, or None when
    the feed is anything this path does not map exactly (malformed XML, xhtml content,
    RSS 1.0, feeds that are not feeds...): the next backend then parses it, and the
    reference also produces the right error for a broken body. `date_order` changes
    nothing here: every date it could change is declined.

    Raises nothing: every failure inside is a decline.
    """
    if _ffp_core is None:
        return None
    try:
        return _parse(content, headers, url=url)
    except _Decline:
        return None
    except (ValueError, TypeError, KeyError, IndexError, etree.LxmlError):
        # The extractor or lxml refusing is a decline too: feedparser decides.
        return None


def _parse(content: bytes, headers: Mapping[str, str], *, url: str) -> ParsedFeed:
    body, found = _utf8(content, headers)
    _refuse_unmapped(body, found)
    assert _ffp_core is not None
    result = _ffp_core.parse_entries(
        body, dict, _seen_date, html.unescape, True, True, False, False
    )
    if isinstance(result, str):
        raise _Decline  # the extractor's own refusal (not well-formed, not RSS/Atom...)
    feed_type, _namespace, header, entries = result
    if feed_type not in ("rss", "atom"):
        raise _Decline
    root = etree.fromstring(header, parser=_HEADER_PARSER)
    if feed_type == "atom":
        feed, raw = _atom_document(body, found, root, entries, url=url)
    else:
        feed, raw = _rss_document(body, found, root, header, entries)
    if not raw and not feed.title and not feed.link:
        raise _Decline  # nothing recognisable: feedparser says what is wrong with it
    return ParsedFeed(
        title=feed.title,
        link=feed.link,
        feed_id=feed.feed_id,
        updated=feed.updated,
        ttl=feed.ttl,
        hubs=feed.hubs,
        self_url=feed.self_url,
        entries=raw,
    )


def _refuse_unmapped(body: bytes, found: frozenset[bytes]) -> None:
    """Decline a body holding what feedparser reads and the extractor does not report
    (`found`: its markers, fast_body._markers)."""
    # A doctype sits in the prolog; a prolog longer than this is declined as a whole.
    if _ROOT_START.search(body, 0, 8192) is None or _DOCTYPE.search(body, 0, 8192):
        raise _Decline
    if _C1_FOUND in found:
        # feedparser reads C1 controls (U+0080-U+009F), raw or written "&#146;", as
        # windows-1252 in every element's text but not in attributes (its mixin's pop).
        raise _Decline
    if b"source" in found and any(marker in body for marker in _SOURCE):
        raise _Decline
    if any(marker in found for marker in _UNSUPPORTED):
        raise _Decline
    if b"xhtml" in found and (_XHTML_TYPE.search(body) or _XHTML_NS in body):
        raise _Decline  # xhtml content, or <xhtml:body>: feedparser serializes it its own way
    if b"xml:base" in found and _RELATIVE_BASE.search(body):
        raise _Decline
    if _DC_NS in found and b'xmlns:dc="http://purl.org/dc/elements/1.1/"' not in body:
        raise _Decline  # Dublin Core under a prefix other than dc:
    if b"itunes:author" in found and _ITUNES_DECLARED not in body:
        raise _Decline  # itunes: bound to another namespace: feedparser reads no author there
    if b"origLink" in found:
        raise _Decline  # FeedBurner's origLink replaces the item's link in the reference


_HEADER_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)


def _seen_date(_value: str) -> str:
    # Dates are read from the bytes (_DATE): the extractor folds published, updated and
    # even the guid into one value, and drops a zone-less date's "no zone". What it
    # returns only tells that the extractor saw a date at all.
    return "seen"
