"""Parse stage, fast path: fastfeedparser's native extractor mapped to the records that
aggregator.parse produces from feedparser. Pure: no network, no clock. It never guesses:
whatever it cannot map exactly it declines (None), and the caller parses with feedparser.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any
from urllib.parse import urljoin, urlparse

from lxml import etree

from aggregator.dates import order_dependent, parse_date
from aggregator.encoding import to_utf8, utf8_unchecked
from aggregator.errors import ParseError
from aggregator.parse import parse_ttl
from aggregator.types import ParsedFeed, RawEntry

try:  # the native extractor is what makes this path fast; without it, always decline
    from fastfeedparser import _core as _ffp_core
except ImportError:  # pragma: no cover - depends on the installed wheel
    _ffp_core = None

__all__ = ["parse_fast"]

_ATOM_NS = "http://www.w3.org/2005/Atom"
_XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"
_DC_NS = b"http://purl.org/dc/elements/1.1/"
_ITUNES_DECLARED = b'xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"'


# Anything feedparser reads in a way the extractor does not report: a doctype (entities
# feedparser may expand), xhtml constructs, Atom's <source> (dates inside it belong to
# the source, not the entry), dcterms dates and iTunes summaries. RSS 1.0, Atom 0.3 and
# base64 content the extractor refuses itself, or _atom_html does.
_UNSUPPORTED = (b"dcterms", b"<itunes:summary")
_SOURCE = (b"<source", b":source")  # looked for only where b"source" is
# Unescaped markup inside a text element (`<description><p>a</p></description>`): feedparser
# keeps it as HTML, fastfeedparser keeps only the text before the first child element.
# Possessive runs: nothing after a run of [^<] can start inside it, and backtracking over
# a long escaped body one character at a time costs more than the scan itself.
# Looked for by _spans, at each "<" of these names: _CHILD_START, then the next "<".
_CHILD_MARKUP = re.compile(
    rb"<(title|description|summary|content|content:encoded)(?:\s[^>]*+)?>[^<]*+<(?!/\1>|!\[CDATA\[)"
)
_CHILD_NAMES = (b"title", b"description", b"summary", b"content")
_CHILD_START = re.compile(rb"<(title|description|summary|content|content:encoded)(?:\s[^>]*+)?>")
_DOCTYPE = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.I)
_ROOT_START = re.compile(rb"<(?:rss|feed)[\s>]")
_XHTML_TYPE = re.compile(rb"""type\s*=\s*["']xhtml["']""")
_RELATIVE_BASE = re.compile(rb"""xml:base\s*=\s*["'](?!https?://)""")
# Date elements, as feedparser names what they hold (pubDate: published; dc:date and
# Atom 0.3's modified: updated). Atom's dates under another prefix than atom: in RSS
# (.NET's a10:) are read by _rss_atom; Dublin Core under another prefix is declined.
_DATE_NAMES = rb"(pubDate|dc:date|published|updated|issued|modified|atom:published|atom:updated)"
_DATE = re.compile(rb"<" + _DATE_NAMES + rb">\s*([^<]*?)\s*</\1\s*>")
# Tags of elements an item's author may be read from (see _RSS_AUTHORS).
_AUTHOR_TAG = re.compile(rb"<((?:[A-Za-z_][A-Za-z0-9_.-]*:)?(?:author|creator|name))[\s/>]")
_DATE_KEY = {
    b"pubDate": "published",
    b"published": "published",
    b"atom:published": "published",
    b"issued": "published",
    b"dc:date": "updated",
    b"updated": "updated",
    b"atom:updated": "updated",
    b"modified": "updated",
}
# Zone names that mean UTC. Any other name (CST, CET, IST, PT...) parse_date keeps for
# normalize to reread ("CST" in a Chinese feed): left to the reference, which is exact.
_UTC_NAMES = frozenset({"UT", "UTC", "GMT", "Z"})
_ATOM_TYPE = re.compile(rb"""\btype\s*=\s*["']([^"']*)["']""")
_ATOM_HTML_TYPES = frozenset({"html", "text/html", "application/xhtml+xml"})
_TEXT_TYPES = frozenset({"", "text", "text/plain"})


class _Decline(Exception):
    """The fast path cannot map this feed exactly; feedparser must read it."""


def parse_fast(content: bytes, headers: Mapping[str, str], *, url: str) -> ParsedFeed | None:
    """Parse a well-formed RSS 2.0 or Atom feed quickly, in any encoding.

    Returns the same ParsedFeed that aggregator.parse.parse returns for these bytes, or
    None when the feed is anything this path does not map exactly (malformed XML, xhtml
    content, RSS 1.0, feeds that are not feeds...): the caller then
    parses with feedparser, which also produces the right error for a broken body.

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
        raise _Decline  # FeedBurner's origLink replaces the item's link in aggregator.parse
    assert _ffp_core is not None
    result = _ffp_core.parse_entries(
        body, dict, _seen_date, html.unescape, True, True, False, False
    )
    if isinstance(result, str):
        raise _Decline  # the extractor's own refusal (not well-formed, not RSS/Atom...)
    feed_type, _namespace, header, entries = result
    if feed_type not in ("rss", "atom"):
        raise _Decline
    atom = feed_type == "atom"
    root = etree.fromstring(header, parser=_HEADER_PARSER)
    if atom:
        if root.tag != f"{{{_ATOM_NS}}}feed":
            raise _Decline  # Atom 0.3 (and the https namespace variant) stay with feedparser
        spans = _spans(body, atom=True)
        if len(spans.items) != len(entries):
            raise _Decline
        feed, root_base = _atom_feed(root)
        media = spans.media and _media_bound(body, found)
        raw = tuple(
            _atom_entry(e, body[i.start : i.end], i, root_base=root_base, url=url, media=media)
            for e, i in zip(entries, spans.items, strict=True)
        )
    else:
        if b"xml:base" in found:
            raise _Decline
        prefixes = _atom_prefixes(header)
        spans = _spans(body, atom=False, prefixes=prefixes.names)
        if len(spans.items) != len(entries):
            raise _Decline
        feed = _rss_feed(root)
        media = spans.media and _media_bound(body, found)
        raw = tuple(
            _rss_entry(e, body[i.start : i.end], i, prefixes, media=media)
            for e, i in zip(entries, spans.items, strict=True)
        )
    if not raw and not feed.title and not feed.link:
        raise _Decline  # nothing recognisable: feedparser says what is wrong with it
    return ParsedFeed(
        title=feed.title,
        link=feed.link,
        feed_id=feed.feed_id,
        updated=feed.updated,
        ttl=feed.ttl,
        entries=raw,
    )


_HEADER_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)


def _seen_date(_value: str) -> str:
    # Dates are read from the bytes (_DATE): the extractor folds published, updated and
    # even the guid into one value, and drops a zone-less date's "no zone". What it
    # returns only tells that the extractor saw a date at all.
    return "seen"


# ------------------------------------------------------------------- encoding


def _utf8(content: bytes, headers: Mapping[str, str]) -> tuple[bytes, frozenset[bytes]]:
    """The body as UTF-8 with a prolog that says so (aggregator.encoding, as the reference
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


# ----------------------------------------------------------------------- spans


# The same scan finds what feedparser reads and the extractor drops (declined: see
# _spans); Media RSS (media:); in RSS, each item's <link> elements and its elements under
# an Atom prefix; and each item's date elements and author tags.
_XHTML_NS = b"www.w3.org/1999/xhtml"


def _entry_tag_pattern(date_group: int) -> bytes:
    """A date element (groups date_group, date_group + 1: its name, and its text, None when
    it holds more than text) or an author tag (date_group + 2), after a "<"."""
    return (
        _DATE_NAMES + rb">(?:\s*([^<]*?)\s*</" + b"\\%d" % date_group + rb"\s*>)?"
        rb"|" + _AUTHOR_TAG.pattern[1:]
    )


@lru_cache(maxsize=32)
def _span_pattern(item: bytes, prefixes: tuple[bytes, ...], *, tags: bool) -> re.Pattern[bytes]:
    """The item scan's pattern; with `tags`, for markup outside CDATA and comments, it finds
    date elements and author tags too."""
    atom = b"|".join(re.escape(p) for p in prefixes) or b"(?!)"
    return re.compile(
        rb"<(?:(" + item + rb"[\s>])|(/" + item + rb"\s*>)|(link\b)|(media:)|((?:" + atom + rb"):)"
        rb"|fullitem|body[\s>]|itunes:keywords|itunes:category|dc:description"
        rb"|pubdate|PubDate|Link\b|LINK\b|(title|description|summary|content)"
        + (b"|" + _entry_tag_pattern(_DATE_ELEMENT) if tags else b"")
        + rb")"
    )


# The kinds of _span_pattern's matches (m.lastindex).
_ITEM_START, _ITEM_END, _LINK, _MEDIA, _PREFIXED, _CHILD = range(1, 7)
_DATE_ELEMENT, _DATE_TEXT, _AUTHOR = 7, 8, 9
_ENTRY_TAGS = re.compile(b"<(?:" + _entry_tag_pattern(1) + b")")  # groups 1, 2; 3


@dataclass(slots=True)
class _Item:
    """One item's byte range, and what it holds that the extractor does not tell."""

    start: int
    end: int = -1
    links: int = 0  # <link elements (not under a prefix)
    atom: bool = False  # elements under an Atom prefix
    # Outside CDATA and comments: (name, text) of its date elements (_DATE's matches), and
    # the names of its author tags (_AUTHOR_TAG's), in document order.
    dates: list[tuple[bytes, bytes]] = field(default_factory=list)
    authors: list[bytes] = field(default_factory=list)


@dataclass(slots=True)
class _Spans:
    """The items, in document order."""

    items: list[_Item]
    media: bool = False  # media: anywhere in the document


_TEXT_SECTIONS = ((b"<![CDATA[", b"]]>"), (b"<!--", b"-->"))
# Bytes that may go on after a name in _AUTHOR_TAG's prefix ([A-Za-z0-9_.-]*:), one by one.
_NAME_GOES_ON = frozenset(
    bytes([c]) for c in b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-:"
)


def _sections(body: bytes) -> list[tuple[int, int, bool]]:
    """(start, end, text) of the body's parts, in order: markup, or (text) the inside of a
    CDATA section or a comment, which holds no element (a "<![CDATA[" in a comment opens
    nothing, nor a "<!--" in CDATA). An unclosed one runs to the end."""
    sections: list[tuple[int, int, bool]] = []
    pos = 0
    end = len(body)
    while (at := body.find(b"<!", pos)) >= 0:
        for opener, closer in _TEXT_SECTIONS:
            if body.startswith(opener, at):
                sections.append((pos, at, False))
                inside = at + len(opener)
                close = body.find(closer, inside)
                sections.append((inside, end if close < 0 else close, True))
                pos = end if close < 0 else close + len(closer)
                break
        else:
            sections.append((pos, at + 2, False))  # a doctype's "<!" is no match of the scan
            pos = at + 2
    sections.append((pos, end, False))
    return sections


def _spans(body: bytes, *, atom: bool, prefixes: tuple[bytes, ...] = ()) -> _Spans:
    """The items, in document order; a decline when they do not pair up."""
    name = b"entry" if atom else b"item"
    markup = _span_pattern(name, prefixes, tags=True)
    text = _span_pattern(name, prefixes, tags=False)
    found = _Spans(items=[])
    item: _Item | None = None
    for start, end, in_text in _sections(body):
        # Matches end before the section does: none holds a "<" but a date's end tag.
        for m in (text if in_text else markup).finditer(body, start, end):
            kind = m.lastindex
            if kind is not None and kind >= _DATE_ELEMENT:
                if item is not None:
                    _entry_tag(item, m, _DATE_ELEMENT)
                continue
            if (
                item is not None
                and not in_text
                and _LINK <= (kind or 0) <= _CHILD
                and (kind in (_MEDIA, _PREFIXED) or body[m.end() : m.end() + 1] in _NAME_GOES_ON)
            ):
                # A tag this scan reads otherwise may be an author or date tag too
                # (atom:author, atom:updated...): each "<" is one match, so look again. No
                # date or author name starts like <link or <title: only a prefix (link:,
                # content.x:) can make one of those, so the name must go on.
                tag = _ENTRY_TAGS.match(body, m.start())
                if tag is not None:
                    _entry_tag(item, tag, 1)
            if kind == _CHILD:
                _child_markup(body, m.start())
            elif kind == _LINK:
                if item is not None:
                    item.links += 1
            elif kind == _PREFIXED:
                if item is not None:
                    item.atom = True
                if body.startswith(_CHILD_NAMES, m.start() + 1):
                    _child_markup(body, m.start())  # an Atom prefix named like one (content:)
            elif kind == _MEDIA:
                if body.startswith((b"keywords", b"category"), m.end()):
                    raise _Decline  # tags feedparser adds beside <category>, in document order
                found.media = True
            elif kind == _ITEM_END:
                if item is None or in_text:
                    raise _Decline
                item.end = m.end()
                found.items.append(item)
                item = None
            elif kind == _ITEM_START:
                if item is not None or in_text:
                    # Nested; or in CDATA or a comment, where the extractor does not count it.
                    raise _Decline
                at = m.start()
                item = _Item(start=at)
                if b"xmlns" in body[at : body.find(b">", at)]:
                    raise _Decline  # namespaces bound on an item: prefixes are read off the root
            else:
                # <fullitem>, <body>; tags from itunes:keywords and itunes:category; a
                # dc:description (a second description becomes the content); element names
                # in another case (feedparser lowercases them all).
                raise _Decline
    if item is not None:
        raise _Decline
    # Every "<" that _CHILD_MARKUP can match at starts one of this scan's matches (none of
    # them holds another "<"): _child_markup saw them all, in CDATA and comments too. Every
    # "<" that _DATE or _AUTHOR_TAG matches at outside those starts either a match of their
    # own kinds or one of the kinds looked at again.
    return found


def _entry_tag(item: _Item, m: re.Match[bytes], date_group: int) -> None:
    """Keep a date element or author tag (a match of _entry_tag_pattern(date_group))."""
    if m.lastindex == date_group + 2:
        item.authors.append(m.group(date_group + 2))
    elif m.lastindex == date_group + 1:
        item.dates.append((m.group(date_group), m.group(date_group + 1)))
    else:
        # CDATA, a comment or an element inside a date element: feedparser reads its text,
        # which _DATE does not.
        raise _Decline


def _child_markup(body: bytes, at: int) -> None:
    """Decline when _CHILD_MARKUP matches at `at`: its start tag (_CHILD_START), text, and a
    "<" that does not close the element or open CDATA. Its runs are possessive and its
    names exclusive (content takes no ":"), so no other way to match is left to try."""
    start = _CHILD_START.match(body, at)
    if start is None:
        return
    after = body.find(b"<", start.end()) + 1
    if after == 0:
        return
    if not body.startswith((b"/" + start.group(1) + b">", b"![CDATA["), after):
        raise _Decline


def _dates(
    found_dates: list[tuple[bytes, bytes]],
    e: Mapping[str, Any],
    more: tuple[tuple[str, bytes], ...] = (),
) -> dict[str, datetime | None]:
    """The entry's dates; `found_dates` are its date elements (_Item.dates), `more` Atom
    dates under another prefix, read by _rss_atom."""
    found: dict[str, datetime | None] = {}
    if "published" not in e and "updated" not in e:
        # The extractor saw no date: any date-like text here is inside a comment.
        if found_dates:
            raise _Decline
    else:
        read: dict[bytes, datetime | None] = {}  # Atom's published and updated are often one
        for name, raw in found_dates:
            key = _DATE_KEY[name]
            if key in found:
                raise _Decline  # which of two dates feedparser keeps is its business
            if raw not in read:
                read[raw] = _date(raw)
            found[key] = read[raw]
    for key, raw in more:
        if key in found:
            raise _Decline
        found[key] = _date(raw)
    return found


def _date(raw: bytes) -> datetime | None:
    text = html.unescape(raw.decode("utf-8")) if b"&" in raw else raw.decode("utf-8")
    if not text.strip():
        return None
    if order_dependent(text):
        raise _Decline  # 03/04/2023 reads through the source's date_order, which parse has
    value = parse_date(text)
    name = value.tzname() if value is not None else None
    if name is not None and name.isalpha() and name not in _UTC_NAMES:
        raise _Decline
    return value  # None (refused) is aggregator.parse's reading too


# ------------------------------------------------------------------------ RSS


def _rss_feed(root: Any) -> ParsedFeed:
    channel = root.find("channel")
    if root.tag != "rss" or channel is None:
        raise _Decline
    ns = f"{{{_ATOM_NS}}}"
    link = None
    for el in channel:
        # feedparser keeps the last link of the channel: an RSS <link>'s text, or an
        # atom:link's href when it is an alternate HTML page (its _start_link).
        if el.tag == "link":
            if el.attrib:
                raise _Decline
            link = _text(el.text)
            if link is not None and "&" in link:
                link = _LINK_REFERENCE.sub(r"&\1", link)
        elif el.tag == f"{ns}link":
            href = _alternate_href({k.lower(): v for k, v in el.attrib.items()})
            if href is not None:
                link = _text(href)
        elif el.tag in (f"{ns}title", f"{ns}published"):
            raise _Decline
    updated = _feed_date(
        channel, ("lastBuildDate", "{http://purl.org/dc/elements/1.1/}date", f"{ns}updated")
    )
    published = _feed_date(channel, ("pubDate",))
    return ParsedFeed(
        title=_text(channel.findtext("title")),
        link=link,
        feed_id=_text(channel.findtext(f"{ns}id")) or link,
        updated=updated or published,
        ttl=parse_ttl(channel.findtext("ttl")),
    )


def _rss_entry(
    e: dict[str, Any], span: bytes, scan: _Item, prefixes: _AtomPrefixes, *, media: bool
) -> RawEntry:
    links = scan.links
    elements = _rss_atom(span, prefixes) if scan.atom else None
    dates = _dates(scan.dates, e, elements.dates if elements is not None else ())
    content_list = e.get("content") or []
    if len(content_list) > 1 or span.count(b"<content:encoded") > 1:
        raise _Decline  # feedparser keeps every one (and aggregator.parse the longest)
    description = e.get("description")
    summary = description if isinstance(description, str) and description.strip() else None
    content = summary
    if content_list:
        value = content_list[0].get("value")
        # feedparser strips an element's text; the extractor keeps content as written.
        if isinstance(value, str) and value.strip():
            content = value.strip()
    if elements is not None and elements.content is not None:
        if b"<content:encoded" in span:
            raise _Decline
        # atom:content in RSS (a10:content): feedparser's content; a copy of it is the
        # summary unless the item has a description.
        content = elements.content or summary
        if b"<description" not in span:
            summary = elements.content
    elif b"<description" not in span:
        # The extractor makes a plain-text teaser of the content; feedparser copies the
        # content itself into the summary.
        summary = content
    if media and b"<media:description" in span:
        _rss_media_captions(span)
    guid_tag = _GUID_TAG.search(span)
    if guid_tag is not None and span.find(b"<guid", guid_tag.end()) >= 0:
        raise _Decline  # which of two guids feedparser keeps is its business
    # Without a <guid>, or with an empty one, the extractor uses the link as id; feedparser
    # leaves it empty.
    empty = guid_tag is not None and _EMPTY_GUID.match(span, guid_tag.start()) is not None
    guid = _text(e.get("id")) if guid_tag is not None and not empty else None
    if links and _EMPTY_LINK.search(span):
        raise _Decline  # the extractor fills an empty <link> from the guid; feedparser does not
    if (elements is not None and elements.link) or links > 1 or (links and b"<link>" not in span):
        # Atom links beside or instead of <link> (the extractor keeps only some of them),
        # or a <link> with attributes: read as feedparser reads them, the last one wins.
        link = _rss_link(span, prefixes)
    elif links:
        link = _text(e.get("link"))
        if link is None:
            raise _Decline
        if "&" in link:
            link = _rss_link_text(link)
    else:
        link = None
    if link is None and guid is not None and guid_tag is not None and _permalink(guid_tag.group(1)):
        # feedparser: a guid that is a permalink stands in for the link, unless the item
        # has one (a link element that sets none, as rel="self", leaves the guid's).
        link = guid
    title = e.get("title")
    if media and b"<media:title" in span:
        title = _media_titled(span, "text/plain")[0]
    if elements is not None and elements.author is not None:
        author = _text(e.get("author"))
        if author not in (None, elements.author):
            raise _Decline  # which of two authors feedparser keeps is its business
        author = elements.author
    else:
        author = _author(e, scan.authors, _RSS_AUTHORS)
    return RawEntry(
        guid=guid,
        link=link,
        title=title.replace("&", "&amp;") if isinstance(title, str) and title.strip() else None,
        content=content,
        summary=summary,
        published=dates.get("published"),
        updated=dates.get("updated"),
        author=author,
        categories=_terms(e),
        base=None,
    )


_EMPTY_LINK = re.compile(rb"<link\s*/>|<link>\s*</link>")
_GUID_TAG = re.compile(rb"<guid\b([^>]*)>")
_EMPTY_GUID = re.compile(rb"<guid\b[^>]*(?:/>|>\s*</guid\s*>)")
_PERMALINK = re.compile(rb"""isPermaLink\s*=\s*["']([^"']*)["']""", re.I)


def _permalink(attrs: bytes) -> bool:
    m = _PERMALINK.search(attrs)
    if m is None:
        return True
    value = m.group(1)
    if value not in (b"true", b"false"):
        raise _Decline  # "False", "no": how feedparser reads those is its business
    return value == b"true"


# ---------------------------------------------------- elements read from the bytes
#
# What the extractor does not report (Atom elements inside RSS, Media RSS titles and
# descriptions), read from an item's bytes as feedparser reads it, or declined.


@dataclass(frozen=True, slots=True)
class _AtomPrefixes:
    """The prefixes an RSS document binds to Atom's namespace (atom: always counts)."""

    names: tuple[bytes, ...]


_NS_DECLARATION = re.compile(rb"""xmlns(?::([A-Za-z_][\w.-]*))?\s*=\s*["']$""")
_ATOM_NS_BYTES = _ATOM_NS.encode()


def _atom_prefixes(header: bytes) -> _AtomPrefixes:
    """Read off the document without its items (declarations on an item are declined)."""
    body = header
    names = {b"atom"}
    pos = body.find(_ATOM_NS_BYTES)
    while pos >= 0:
        end = pos + len(_ATOM_NS_BYTES)
        declaration = _NS_DECLARATION.search(body, max(0, pos - 80), pos)
        if declaration is not None and body[end : end + 1] in (b'"', b"'"):
            if declaration.group(1) is None:
                raise _Decline  # Atom as the default namespace of some RSS element
            names.add(declaration.group(1))
        pos = body.find(_ATOM_NS_BYTES, end)
    for name in names - {b"atom"}:
        if body.count(b"xmlns:" + name + b"=") != 1:
            raise _Decline  # the prefix is bound again somewhere: scopes are feedparser's
    ordered = tuple(sorted(names))
    return _AtomPrefixes(names=ordered)


_MRSS_DECLARATION = (
    b'xmlns:media="http://search.yahoo.com/mrss/"',
    b"xmlns:media='http://search.yahoo.com/mrss/'",
)


def _media_bound(body: bytes, found: frozenset[bytes]) -> bool:
    """Whether media: may be read as Media RSS: bound to it once, and to nothing else."""
    if b"<media:" not in found:
        return False
    if body.count(b"xmlns:media=") != 1 or not any(d in body for d in _MRSS_DECLARATION):
        raise _Decline
    return True


@dataclass(frozen=True, slots=True)
class _RssAtom:
    """Atom elements of one RSS item, as feedparser reads them."""

    link: bool = False  # an atom:link: _rss_link reads every link of the item
    dates: tuple[tuple[str, bytes], ...] = ()  # under prefixes other than atom:
    author: str | None = None
    content: str | None = None  # HTML; "" when the element is empty


def _rss_atom(span: bytes, prefixes: _AtomPrefixes) -> _RssAtom:
    link = False
    dates: list[tuple[str, bytes]] = []
    author = content = None
    alternatives = b"|".join(re.escape(n) + rb":[A-Za-z][\w.-]*" for n in prefixes.names)
    for name, _start, attrs, inner in _elements(span, alternatives):
        prefix, _, local = name.partition(b":")
        if local == b"link":
            link = True
        elif local in (b"updated", b"published"):
            if prefix != b"atom":  # atom:updated and atom:published are read by _DATE
                dates.append((local.decode("ascii"), inner or b""))
        elif local == b"author" and author is None and inner is not None:
            m = _author_pattern(prefix).fullmatch(inner)
            if m is None:
                raise _Decline  # an email, or more than a name: feedparser composes those
            author = _text(_xml_text(m.group(1)))
            if author is None:
                raise _Decline
        elif local == b"content" and content is None and "src" not in attrs:
            ctype = _content_type(attrs.get("type", "text"))
            if ctype not in _HTML_TYPES | {"text/plain"}:
                raise _Decline  # xhtml, base64 and other media types stay with feedparser
            content = _html_or_escaped(_xml_text(inner or b"").strip(), ctype)
        else:
            raise _Decline  # atom:id, atom:title...: feedparser maps them, we do not
    return _RssAtom(link=link, dates=tuple(dates), author=author, content=content)


@lru_cache(maxsize=16)
def _author_pattern(prefix: bytes) -> re.Pattern[bytes]:
    p = re.escape(prefix)
    return re.compile(
        rb"\s*<" + p + rb":name>([^<]*)</" + p + rb":name>\s*"
        rb"(?:<" + p + rb":uri>[^<]*</" + p + rb":uri>\s*)?"
    )


def _rss_link(span: bytes, prefixes: _AtomPrefixes) -> str | None:
    """An RSS item's link as feedparser's _start_link leaves it: the last <link> text or
    alternate HTML atom:link href, in document order; None when no element sets one."""
    alternatives = b"|".join([*(re.escape(n) + b":link" for n in prefixes.names), b"link"])
    link = None
    for name, _start, attrs, inner in _elements(span, alternatives):
        if "href" in attrs or "url" in attrs or "uri" in attrs:
            href = _alternate_href(attrs)
            if href is not None:
                link = _text(href)
        elif name == b"link" or inner is not None:
            text = _text(_xml_text(inner or b""))
            if text is None:
                raise _Decline  # an empty link empties the item's link in feedparser
            link = _rss_link_text(text)
        else:
            raise _Decline  # <atom:link/> with no href: feedparser reads its text (none)
    return link


# feedparser's fix for query strings read as entity references ("?a=1&b;=2"), which also
# takes one level of &amp; off an item's link: `&amp;amp;` in the XML gives `&`.
_LINK_REFERENCE = re.compile("&([A-Za-z0-9_]+);")


def _rss_link_text(text: str) -> str:
    return _LINK_REFERENCE.sub(r"&\1", text.replace("&amp;", "&"))


def _alternate_href(attrs: Mapping[str, str]) -> str | None:
    """The href of a link element when feedparser makes it the link, else None."""
    if "url" in attrs or "uri" in attrs or any(k.startswith("xmlns") for k in attrs):
        raise _Decline  # feedparser prefers url= and uri= to href=, even empty ones
    href = attrs.get("href")
    if href is None or not href.strip() or ":///" in href or "[" in href:
        raise _Decline  # an empty href resolves to the base; urljoin's own corrections
    rel = attrs.get("rel", "alternate").lower()
    default = "application/atom+xml" if rel == "self" else "text/html"
    if rel == "alternate" and _content_type(attrs.get("type", default)) in _HTML_TYPES:
        return href
    return None


def _rss_media_captions(span: bytes) -> None:
    """Accept an item's media:descriptions as aggregator.parse reads them, or decline.

    After the item's own description they are captions of its media, kept aside: the
    item's text stays its description (Mastodon's alt texts, the New York Times' photo
    captions). Before it, or without one, feedparser makes a summary or content of
    them: declined.
    """
    found = _elements(span, rb"media:description")
    description = span.find(b"<description")
    if not found or description < 0 or description > found[0][1]:
        raise _Decline


def _media_titled(span: bytes, default_type: str) -> tuple[str | None, str]:
    """An item's title and its type where media:title may stand in for <title>.

    feedparser keeps a non-empty <title> over any media:title, and takes a media:title
    when the item has no <title> at all.
    """
    found = _elements(span, rb"title|media:title")
    titles = [f for f in found if f[0] == b"title"]
    if len(titles) > 1:
        raise _Decline
    if titles:
        _name, _start, attrs, inner = titles[0]
        text = _text(_xml_text(inner or b""))
        if text is None:
            raise _Decline  # an empty title lets a media:title in only at its own depth
    elif len(found) == 1:
        _name, _start, attrs, inner = found[0]
        text = _text(_xml_text(inner or b""))
    else:
        raise _Decline  # several media:titles: which one wins depends on their depth
    return text, _content_type(attrs.get("type", default_type))


@lru_cache(maxsize=64)
def _element_pattern(alternatives: bytes) -> re.Pattern[bytes]:
    return re.compile(
        rb"<!\[CDATA\[.*?\]\]>|<!--.*?-->|<(" + alternatives + rb")(?=[\s/>])([^>]*?)(/?)>",
        re.S,
    )


def _elements(
    span: bytes, alternatives: bytes
) -> list[tuple[bytes, int, dict[str, str], bytes | None]]:
    """(name, offset, attributes, inner bytes or None when empty-element) of each element
    whose name matches `alternatives`, outside CDATA and comments, in document order."""
    pattern = _element_pattern(alternatives)
    found: list[tuple[bytes, int, dict[str, str], bytes | None]] = []
    pos = 0
    while (m := pattern.search(span, pos)) is not None:
        name = m.group(1)
        pos = m.end()
        if name is None:
            continue
        inner = None
        if not m.group(3):
            close = span.find(b"</" + name, pos)
            after = span[close + 2 + len(name) : close + 3 + len(name)]
            if close < 0 or after not in (b">", b" ", b"\n", b"\t", b"\r"):
                raise _Decline
            inner = span[pos:close]
            pos = close
        found.append((name, m.start(), _attributes(m.group(2)), inner))
    return found


_ATTRIBUTE = re.compile(rb"""\s+([^\s=/>]+)\s*=\s*(?:"([^"<]*)"|'([^'<]*)')""")


def _attributes(raw: bytes) -> dict[str, str]:
    """An element's attributes as feedparser sees them (names, rel and type lowercased)."""
    attrs: dict[str, str] = {}
    raw = raw.rstrip()
    pos = 0
    while pos < len(raw):
        m = _ATTRIBUTE.match(raw, pos)
        if m is None:
            raise _Decline
        value_bytes = m.group(2) if m.group(2) is not None else m.group(3)
        if any(c in value_bytes for c in b"\t\n\r"):
            raise _Decline  # XML normalizes whitespace in attribute values
        key = m.group(1).decode("utf-8").lower()
        value = _unescape(value_bytes)
        attrs[key] = value.lower() if key in ("rel", "type") else value
        pos = m.end()
    return attrs


_CDATA = re.compile(rb"<!\[CDATA\[(.*?)\]\]>", re.S)


def _xml_text(inner: bytes) -> str:
    """The text of an element holding text and CDATA only; child elements are declined."""
    if b"<" not in inner:
        return _unescape(inner)
    parts: list[str] = []
    pos = 0
    for m in _CDATA.finditer(inner):
        parts.append(_unescape(inner[pos : m.start()]))
        parts.append(_feedparser_text(m.group(1).decode("utf-8")))
        pos = m.end()
    parts.append(_unescape(inner[pos:]))
    return "".join(parts)


def _unescape(raw: bytes) -> str:
    if b"<" in raw or b"&#" in raw or b"\r" in raw:
        # Markup, or numeric references and CRs (the charset and newline rules of
        # aggregator.parse read those, not this path).
        raise _Decline
    text = raw.decode("utf-8")
    # Only XML's own entities are well-formed here (a doctype is declined).
    return _feedparser_text(html.unescape(text) if "&" in text else text)


def _feedparser_text(text: str) -> str:
    # No C1 control reaches here: _parse declines a body holding one, raw or referenced.
    if text.isascii():
        return text
    try:
        text.encode("iso-8859-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text
    raise _Decline  # feedparser "repairs" such text in UTF-8 feeds only


def _content_type(value: str) -> str:
    """feedparser's map_content_type."""
    value = value.lower()
    return _CONTENT_TYPE_NAMES.get(value, value)


_CONTENT_TYPE_NAMES = {
    "text": "text/plain",
    "plain": "text/plain",
    "html": "text/html",
    "xhtml": "application/xhtml+xml",
}
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})


def _html_or_escaped(text: str, content_type: str) -> str:
    """aggregator.parse's _as_html for a known type: plain text escaped."""
    return text if content_type in _HTML_TYPES else html.escape(text, quote=False)


# ----------------------------------------------------------------------- Atom


def _atom_feed(root: Any) -> tuple[ParsedFeed, str | None]:
    base = root.get(_XML_BASE)
    ns = f"{{{_ATOM_NS}}}"
    link = None
    for el in root.iterchildren(f"{ns}link"):
        if el.get("rel", "alternate") == "alternate" and el.get("href"):
            link = _resolve(base, el.get("href"))
            break
    link = _text(link)
    title_el = root.find(f"{ns}title")
    if title_el is not None and title_el.get("type", "text") not in _TEXT_TYPES | _ATOM_HTML_TYPES:
        raise _Decline
    updated = _feed_date(root, (f"{ns}updated",))
    published = _feed_date(root, (f"{ns}published",))
    feed = ParsedFeed(
        title=_text(title_el.text if title_el is not None else None),
        link=link,
        feed_id=_text(root.findtext(f"{ns}id")) or link,
        updated=updated or published,
        ttl=None,
    )
    return feed, base


_TITLE_TAG = re.compile(rb"<title\b([^>]*)>")
_SUMMARY_TAG = re.compile(rb"<summary\b([^>]*)>")
_ENTRY_TAG = re.compile(rb"<entry\b([^>]*)>")


def _atom_entry(
    e: dict[str, Any],
    span: bytes,
    scan: _Item,
    *,
    root_base: str | None,
    url: str,
    media: bool,
) -> RawEntry:
    entry_tag = _ENTRY_TAG.match(span)
    if entry_tag is None or b"xml:base" in entry_tag.group(1):
        raise _Decline
    dates = _dates(scan.dates, e)
    title_type = _tag_type(_TITLE_TAG, span)
    summary_tag = _SUMMARY_TAG.search(span)
    summary_type = _type_of(summary_tag)
    if summary_tag is not None and b"xml:base" in summary_tag.group(1):
        raise _Decline
    if b"<email" in span:
        raise _Decline  # feedparser writes the author as "name (email)"
    content_list = e.get("content") or []
    if len(content_list) > 1:
        raise _Decline
    content = None
    base = root_base
    if content_list:
        item = content_list[0]
        ctype = (item.get("type") or "").lower()
        value = item.get("value")
        content = _atom_html(value.strip() if isinstance(value, str) else None, ctype)
        if item.get("base"):
            base = _resolve(root_base, item["base"])
    description = e.get("description")
    summary = None
    if summary_tag is not None:
        summary = _atom_html(description, summary_type)
    elif content_list:
        # feedparser copies an Atom entry's content into its summary when it has none.
        summary = content
    # feedparser resolves the id against xml:base too, and lets an entry without a link
    # use its id as the link.
    guid = e.get("id")
    guid = _text(_resolve(root_base, guid) if isinstance(guid, str) else None)
    link = next(
        (
            x.get("href")
            for x in e.get("links") or []
            if (x.get("rel") or "alternate") == "alternate" and x.get("href")
        ),
        None,
    )
    link = _text(_resolve(root_base, link)) if isinstance(link, str) else guid
    if media and b"<media:description" in span:
        # YouTube: the video's description is the entry's only text. feedparser reads it
        # as the summary (HTML unless its type says otherwise); beside a summary or
        # content it takes another role, declined here.
        found = _elements(span, rb"media:description")
        if len(found) != 1 or summary_tag is not None or b"<content" in span:
            raise _Decline
        _name, _start, attrs, inner = found[0]
        ctype = _content_type(attrs.get("type", "text/html"))
        summary = _html_or_escaped(_xml_text(inner or b"").strip(), ctype) or None
    elif not content_list and summary_tag is None:
        base = None  # aggregator.parse reads the base off the content or the summary
    title = e.get("title")
    if media and b"<media:title" in span:
        if _TITLE_TAG.search(span) is None:
            raise _Decline  # a prefixed Atom title, or a media:title alone
        title, title_type = _media_titled(span, "text/plain")
    return RawEntry(
        guid=guid,
        link=link,
        title=_atom_html(title, title_type) if isinstance(title, str) else None,
        content=content or summary,
        summary=summary,
        published=dates.get("published"),
        updated=dates.get("updated"),
        author=_author(e, scan.authors, _ATOM_AUTHORS),
        categories=_terms(e),
        base=_resolve(url, base) if base else None,
    )


def _tag_type(pattern: re.Pattern[bytes], span: bytes) -> str:
    return _type_of(pattern.search(span))


def _type_of(tag: re.Match[bytes] | None) -> str:
    if tag is None:
        return ""
    m = _ATOM_TYPE.search(tag.group(1))
    return m.group(1).decode("utf-8").lower() if m else ""


def _atom_html(value: object, content_type: str) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    if content_type in _ATOM_HTML_TYPES:
        return value
    if content_type in _TEXT_TYPES:
        return html.escape(value, quote=False)
    raise _Decline  # base64 or other media types


# ---------------------------------------------------------------------- shared


# Elements an item's author may be read from. The extractor takes the first of several and
# any prefix's "author" (googleplay:author too); feedparser keeps the last it maps and maps
# only these: an item with more than one, or another, is declined. Their tags: _AUTHOR_TAG.
_RSS_AUTHORS = frozenset({b"author", b"dc:creator", b"itunes:author"})
_ATOM_AUTHORS = frozenset({b"author"})


def _author(e: Mapping[str, Any], found: list[bytes], allowed: frozenset[bytes]) -> str | None:
    """The item's author as aggregator.parse reads it from feedparser, or a decline.
    `found`: the item's author tags (_Item.authors)."""
    authors = [tag for tag in found if not tag.endswith(b"name")]
    if not authors:
        if e.get("author"):
            raise _Decline
        return None
    if len(authors) > 1 or any(tag not in allowed for tag in authors):
        raise _Decline
    if allowed is _ATOM_AUTHORS and authors:
        # An Atom author's name: one <name> in the entry (a contributor's is one more).
        names = [tag for tag in found if tag.endswith(b"name")]
        if names != [b"name"]:
            raise _Decline
    return _text(e.get("author"))


def _text(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    return value.strip() or None


def _terms(e: Mapping[str, Any]) -> tuple[str, ...]:
    tags = e.get("tags") or []
    return tuple(t for t in (_text(tag.get("term")) for tag in tags) if t is not None)


def _resolve(base: str | None, href: str) -> str:
    if not base:
        return href
    if _unchanged_by_join(base, href):
        return href
    try:
        return urljoin(base, href)
    except ValueError:
        raise _Decline from None


# What urljoin returns as it is, whatever the base (one urlparse reads): an http(s) URL of
# printable ASCII with a plain host and nothing urlunparse would drop (params, an empty
# query or fragment); or a URI of another scheme than the base's with no authority
# ("tag:", "urn:"), whose parts urlparse checks no further.
_PLAIN_ABSOLUTE = re.compile(
    r'https?://[A-Za-z0-9.-]+(?::[0-9]*)?(?:/[!-"$-:<->@-~]*)?(?:\?[!-"$-~]+)?(?:#[!-~]+)?'
)
_OPAQUE = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):(?!/)[^\t\n\r]*")


def _unchanged_by_join(base: str, href: str) -> bool:
    base_scheme = _base_scheme(base)
    if base_scheme is None:
        return False  # urljoin refuses the base: the caller declines
    if _PLAIN_ABSOLUTE.fullmatch(href):
        return True
    opaque = _OPAQUE.fullmatch(href)
    return opaque is not None and opaque.group(1).lower() != base_scheme


@lru_cache(maxsize=64)
def _base_scheme(base: str) -> str | None:
    try:
        return urlparse(base).scheme
    except ValueError:
        return None


def _feed_date(el: Any, tags: tuple[str, ...]) -> datetime | None:
    found = [x for tag in tags for x in el.findall(tag)]
    if len(found) > 1:
        raise _Decline  # feedparser keeps the last of them: one key for all these tags
    if found and found[0].text and found[0].text.strip():
        return _date(found[0].text.strip().encode("utf-8"))
    return None
