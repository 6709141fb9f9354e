"""Parse stage, fast path: the item scan over a whole body, each item's byte range with
what the extractor does not report (links, Atom-prefixed elements, dates and author tags,
what the mappers would otherwise search the item's bytes for). Pure: no network, no
clock. It maps no element to a record (fast_rss, fast_atom) and reads no encoding
(fast_body); what it cannot pair up exactly raises _Decline.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from aggregator.parse.fast_markup import _Decline

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
# Date elements, as feedparser names what they hold (pubDate: published; dc:date and
# Atom 0.3's modified: updated). Atom's dates under another prefix than atom: in RSS
# (.NET's a10:) are read by _rss_atom; Dublin Core under another prefix is declined.
_DATE_NAMES = rb"(pubDate|dc:date|published|updated|issued|modified|atom:published|atom:updated)"
_DATE = re.compile(rb"<" + _DATE_NAMES + rb">\s*([^<]*?)\s*</\1\s*>")
# Tags of elements an item's author may be read from (see _RSS_AUTHORS).
_AUTHOR_TAG = re.compile(rb"<((?:[A-Za-z_][A-Za-z0-9_.-]*:)?(?:author|creator|name))[\s/>]")


# ----------------------------------------------------------------------- spans


# The same scan finds what feedparser reads and the extractor drops (declined: see
# _spans); Media RSS (media:); in RSS, each item's <link> elements and its elements under
# an Atom prefix; and each item's date elements and author tags.


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
        rb"|pubdate|PubDate|Link\b|LINK\b|(title|description|summary|content)|(guid|email)"
        + (b"|" + _entry_tag_pattern(_DATE_ELEMENT) if tags else b"")
        + rb")"
    )


# The kinds of _span_pattern's matches (m.lastindex).
_ITEM_START, _ITEM_END, _LINK, _MEDIA, _PREFIXED, _CHILD, _NOTED = range(1, 8)
_DATE_ELEMENT, _DATE_TEXT, _AUTHOR = 8, 9, 10
# An empty <link>: the extractor fills it from the guid, feedparser does not (fast_rss).
_EMPTY_LINK = re.compile(rb"<link\s*/>|<link>\s*</link>")
# What _Item notes of the tags _NOTED and _PREFIXED matches start with.
_GUID, _EMAIL, _ENCODED = b"<guid", b"<email", b"<content:encoded"
_ENTRY_TAGS = re.compile(b"<(?:" + _entry_tag_pattern(1) + b")")  # groups 1, 2; 3


@dataclass(slots=True)
class _Item:
    """One item's byte range, and what it holds that the extractor does not tell."""

    start: int
    end: int = -1
    links: int = 0  # <link elements (not under a prefix)
    atom: bool = False  # elements under an Atom prefix
    # What the mappers ask of the item's bytes, CDATA and comments included, noted here
    # so that none of them reads the item again: where its last "<guid" starts (-1: none),
    # how many "<content:encoded" it holds, whether it holds "<email", and whether one of
    # its links is empty (_EMPTY_LINK matches at one of them).
    last_guid: int = -1
    encoded: int = 0
    email: bool = False
    empty_link: bool = False
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
    while (at := _find_bang(body, pos)) >= 0:
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


# How many "!" not after a "<" _find_bang looks past before it searches for both bytes.
_BANG_MISSES = 32


def _find_bang(body: bytes, pos: int) -> int:
    """body.find(b"<!", pos), found through its "!": a one-byte find is a memchr, some
    twenty times faster than a two-byte search, and "!" outside "<!" is rare in markup.
    Past _BANG_MISSES other "!" (prose that shouts), the two-byte search goes on."""
    bang = pos
    for _ in range(_BANG_MISSES):
        bang = body.find(b"!", bang + 1)
        if bang < 0:
            return -1
        if body[bang - 1] == 0x3C:  # "<", and bang - 1 >= pos: the search began at pos + 1
            return bang - 1
    # Every "!" from pos + 1 to bang follows no "<": the next "<!" starts past bang.
    return body.find(b"<!", bang)


def _spans(body: bytes, *, atom: bool, prefixes: tuple[bytes, ...] = ()) -> _Spans:
    """The items, in document order; a decline when they do not pair up."""
    # One function, ~70 lines: it runs once per match of the whole body, the hot loop of
    # this path, and a call per match would cost more than most matches do.
    name = b"entry" if atom else b"item"
    markup = _span_pattern(name, prefixes, tags=True)
    text = _span_pattern(name, prefixes, tags=False)
    found = _Spans(items=[])
    item: _Item | None = None
    for start, end, in_text in _sections(body):
        # Matches end before the section does: none holds a "<" but a date's end tag.
        search = (text if in_text else markup).search
        pos = start
        while (m := search(body, pos, end)) is not None:
            pos = m.end()
            kind = m.lastindex
            # The commonest kinds first: element starts, dates, authors.
            if kind == _CHILD:
                at = m.start()
                if body[pos : pos + 1] == b">":  # <title>, <description>: a whole start tag
                    # _child_markup, the start tag read without its pattern.
                    after = body.find(b"<", pos + 1)
                    ends = _CHILD_ENDS[body[at + 1 : pos]]
                    if after >= 0 and not body.startswith(ends, after + 1):
                        raise _Decline
                    pos = after
                else:
                    if item is not None:
                        encoded = body.startswith(_ENCODED, at)
                        if encoded:
                            item.encoded += 1
                        if (
                            not in_text
                            and body[pos : pos + 1] in _NAME_GOES_ON
                            and not (encoded and body[at + 16 : at + 17] not in _NAME_GOES_ON)
                        ):
                            _tag_again(item, body, at)  # no tag's name is content:encoded
                    _child_markup(body, at)
                    pos = body.find(b"<", pos)
                # Every match starts with "<": the scan goes on at the next one, found by a
                # memchr. Past a title, description or content that is most of the body
                # (their escaped text), which the pattern's own scan reads a byte at a time.
                if not 0 <= pos < end:
                    break
                continue
            if kind == _DATE_TEXT:
                if item is not None:
                    item.dates.append((m.group(_DATE_ELEMENT), m.group(_DATE_TEXT)))
                continue
            if kind == _AUTHOR:
                if item is not None:
                    item.authors.append(m.group(_AUTHOR))
                continue
            if kind == _DATE_ELEMENT:
                if item is not None:
                    # CDATA, a comment or an element inside a date element: feedparser
                    # reads its text, which _DATE does not.
                    raise _Decline
                continue
            if (
                item is not None
                and not in_text
                and _LINK <= (kind or 0) <= _NOTED
                and (kind in (_MEDIA, _PREFIXED) or body[pos : pos + 1] in _NAME_GOES_ON)
            ):
                _tag_again(item, body, m.start())
            if kind == _NOTED:
                if item is not None:
                    _note(item, body, m.start())
            elif kind == _LINK:
                if item is not None:
                    item.links += 1
                    if not item.empty_link and _EMPTY_LINK.match(body, m.start()):
                        item.empty_link = True
            elif kind == _PREFIXED:
                if item is not None:
                    item.atom = True
                    _note(item, body, m.start())  # an Atom prefix named guid... or content:
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
    # own kinds or one of the kinds looked at again. So does every "<guid", "<email" and
    # "<content:encoded" (a _NOTED, _CHILD or _PREFIXED match), and every _EMPTY_LINK match
    # (a _LINK one, which no earlier kind can take): _Item's notes miss none.
    return found


def _note(item: _Item, body: bytes, at: int) -> None:
    """Note a "<guid", "<email" or "<content:encoded" at `at` (a _NOTED match, or a
    _PREFIXED one whose prefix starts like one of them)."""
    if body.startswith(_GUID, at):
        item.last_guid = at
    elif body.startswith(_EMAIL, at):
        item.email = True
    elif body.startswith(_ENCODED, at):
        item.encoded += 1


def _tag_again(item: _Item, body: bytes, at: int) -> None:
    """Keep the date element or author tag at `at`, if one starts there.

    A tag _spans reads as another kind may be an author or date tag too (atom:author,
    atom:updated...): each "<" is one match, so it looks again. No date or author name
    starts like <link or <title: only a prefix (link:, content.x:) can make one of those,
    so it looks again only where the name goes on."""
    m = _ENTRY_TAGS.match(body, at)
    if m is None:
        return
    if m.lastindex == 3:
        item.authors.append(m.group(3))
    elif m.lastindex == 2:
        item.dates.append((m.group(1), m.group(2)))
    else:
        raise _Decline  # an element inside a date element (see _spans)


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
    if not body.startswith(_CHILD_ENDS[start.group(1)], after):
        raise _Decline


# What may follow the first "<" after a start tag of _CHILD_START's names.
_CHILD_ENDS = {
    name: (b"/" + name + b">", b"![CDATA[") for name in (*_CHILD_NAMES, b"content:encoded")
}


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
