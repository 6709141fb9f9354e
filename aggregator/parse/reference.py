"""Parse stage, the reference backend: response bytes + headers -> ParsedFeed through
feedparser (imported here only). It reads every body and never declines: what is no feed
raises ParseError. Pure: no network, no clock; nothing is cleaned here beyond what the
format itself defines, and it chooses no backend (aggregator.parse does).
"""

from __future__ import annotations

import html
import re
import xml.sax
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urljoin

import feedparser
from feedparser.namespaces import mediarss as _mediarss

from aggregator.errors import ParseError
from aggregator.parse.charset import to_utf8
from aggregator.parse.dates import parse_date
from aggregator.parse.hubs import websub_links
from aggregator.parse.ttl import parse_ttl
from aggregator.types import DateOrder, ParsedFeed, RawEntry

__all__ = ["parse_reference"]

# feedparser restores the base URI on leaving an element only when the outer base is
# non-empty, so with no document base one entry's xml:base leaks into the entries after
# it. A real document URL would cure that but also turn bare RSS guids ("123") into URLs
# and resolve RSS links against the feed URL. A non-hierarchical URI is a base that
# urljoin never joins onto, so it keeps the stack honest and changes nothing else.
_NO_BASE = "magnet:?xt=urn:aggregator:no-base"

_HTML_START = re.compile(
    rb"^\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body)\b", re.I | re.S
)
_DECLARATION = re.compile(rb"^\s*<\?xml\b[^>]*\?>")
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
# A character reference to no Unicode scalar value (a surrogate, past U+10FFFF) makes
# feedparser raise instead of flagging the feed: one such reference anywhere would fail the
# whole source. It is read as HTML reads it, as U+FFFD.
_CHARREF = re.compile(rb"&#(?:[xX]([0-9A-Fa-f]+)|([0-9]+));")


def _scalar_ref(m: re.Match[bytes]) -> bytes:
    hex_digits, digits = m.group(1), m.group(2)
    text = (hex_digits or digits).lstrip(b"0")
    if len(text) > 7:
        return b"&#xFFFD;"
    code = int(text or b"0", 16 if hex_digits else 10)
    return b"&#xFFFD;" if 0xD800 <= code <= 0xDFFF or code > 0x10FFFF else m.group()


def _captions_aside() -> None:
    """Make feedparser leave an item's own text alone when a media:description follows it.

    feedparser reads media:description as a description, and a description after the
    item's own becomes its content: every Mastodon post with an image (the alt text) and
    every New York Times item (the photo caption) then shows the caption instead of its
    text. A media:description after the item's description or content describes the media
    only; it is kept aside (as `media_caption`). Alone (YouTube's media:group), it is
    still the item's summary, as feedparser reads it.
    """
    namespace = _mediarss.Namespace
    start, end = namespace._start_media_description, namespace._end_media_description

    def _start_media_description(self: Any, attrs_d: Any) -> None:
        aside = "summary" in self._get_context() or bool(self.hasContent)
        self.__dict__.setdefault("_captions_aside", []).append(aside)
        if aside:
            self.push("media_caption", 1)
        else:
            start(self, attrs_d)

    def _end_media_description(self: Any) -> None:
        stack = self.__dict__.get("_captions_aside") or [False]
        if stack.pop():
            self.pop("media_caption")
        else:
            end(self)

    namespace._start_media_description = _start_media_description
    namespace._end_media_description = _end_media_description


_captions_aside()


def parse_reference(
    content: bytes,
    headers: Mapping[str, str],
    *,
    url: str,
    date_order: DateOrder | None = None,
) -> ParsedFeed:
    """Parse one response body into a feed and its raw entries, as feedparser reads it.

    `date_order` is the source's (aggregator.parse.dates.parse_date).

    aggregator.parse.parse refuses an empty body before any backend reads it.

    Raises:
        ParseError: the body is an HTML page, or XML from which feedparser recovered
            neither a feed nor a single item.
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    content, response_headers = _for_feedparser(content, lowered)
    try:
        d = feedparser.parse(
            content,
            response_headers=response_headers,
            sanitize_html=False,
            resolve_relative_uris=False,
        )
    except Exception as e:  # feedparser's own bugs on hostile bytes are this feed's problem
        raise ParseError(f"malformed feed: {type(e).__name__}: {e}") from e

    entries = d.get("entries") or []
    if not d.get("version") and not entries:
        raise ParseError(_refusal(content, lowered.get("content-type", ""), d))

    version: str = d.get("version") or ""
    loose = isinstance(d.get("bozo_exception"), xml.sax.SAXException)
    raw_entries = tuple(
        _entry(e, version=version, url=url, date_order=date_order, loose=loose) for e in entries
    )
    if d.get("bozo") and not any(map(_usable, raw_entries)):
        # feedparser flags recoverable faults too (an &nbsp;, a wrong charset label), so a
        # flagged feed is kept when it yields items; one that yields none is a broken
        # response (cut off, not XML), not an empty feed, and must show as an error.
        raise ParseError(_refusal(content, lowered.get("content-type", ""), d))
    feed = d.get("feed") or {}
    feed_link = _text(feed.get("link"))
    hubs, self_url = websub_links(
        (link.get("rel"), link.get("href"))
        for link in feed.get("links") or ()
        if isinstance(link, dict)
    )
    return ParsedFeed(
        title=_text(feed.get("title")),
        link=feed_link,
        feed_id=_escaped_text(feed.get("id"), loose) or feed_link,
        updated=_entry_date(feed, "updated", date_order)
        or _entry_date(feed, "published", date_order),
        ttl=parse_ttl(feed.get("ttl")),
        hubs=hubs,
        self_url=self_url,
        entries=raw_entries,
    )


def _for_feedparser(content: bytes, lowered: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    """The body as UTF-8 that says so, and the response headers feedparser is given
    (`lowered`: the response's, names in lower case)."""
    # Only the headers feedparser reads for decoding: Content-Type carries the charset
    # (a GBK feed may declare it nowhere else). Content-Encoding must not reach it: the
    # body is already decoded.
    response_headers = {"content-location": _NO_BASE}
    for name in ("content-type", "content-language"):
        if name in lowered:
            response_headers[name] = lowered[name]
    # Decoded here, as the fast path decodes: feedparser gets UTF-8 that says so, and its
    # own choice of codec (ISO-8859-1 as such, Shift_JIS as such) never applies.
    content = to_utf8(content, lowered.get("content-type")).body
    if b"&#" in content:
        content = _CHARREF.sub(_scalar_ref, content)
    if "content-type" in response_headers:
        media = response_headers["content-type"].split(";", 1)[0].strip()
        response_headers["content-type"] = f"{media}; charset=utf-8"
    else:  # feedparser reads a body served without a Content-Type as ISO-8859-1
        content = _DECLARATION.sub(b"", content, count=1)
        content = b'<?xml version="1.0" encoding="utf-8"?>' + content
    return content, response_headers


def _usable(entry: RawEntry) -> bool:
    return bool(entry.link or entry.guid or entry.title or entry.content or entry.summary)


def _refusal(content: bytes, content_type: str, d: Any) -> str:
    head = content[:2048].lstrip(b"\xef\xbb\xbf")
    if _HTML_START.match(head) or (
        "html" in content_type.lower() and b"<html" in content[:8192].lower()
    ):
        return "not a feed (HTML page)"
    if d.get("bozo"):
        reason = str(d.get("bozo_exception") or "unreadable").strip().splitlines()[0]
        return f"malformed XML: {reason[:200]}"
    return "not a feed (no RSS or Atom document found)"


def _entry(
    e: Any, *, version: str, url: str, date_order: DateOrder | None, loose: bool
) -> RawEntry:
    content_values = [
        _as_html(c.get("value"), c.get("type"))
        for c in e.get("content") or []
        if isinstance(c, Mapping)
    ]
    summary_detail = e.get("summary_detail") or {}
    # Without summary_detail, feedparser copied the summary from the content (Atom
    # entries with content only): it has the content's type.
    summary_type = summary_detail.get("type") or (
        e["content"][0].get("type") if e.get("content") else None
    )
    summary = _as_html(e.get("summary"), summary_type)
    content = max((c for c in content_values if c), key=len, default=None) or summary

    base = None
    if e.get("content"):
        base = e["content"][0].get("base")
    if not base:
        base = summary_detail.get("base")
    return RawEntry(
        guid=_escaped_text(e.get("id"), loose),
        link=_link(e),
        title=_title_html(e.get("title"), (e.get("title_detail") or {}).get("type"), version),
        content=content,
        summary=summary,
        published=_entry_date(e, "published", date_order),
        updated=_entry_date(e, "updated", date_order),
        author=_text(e.get("author")),
        categories=tuple(
            t
            for t in (_escaped_text(tag.get("term"), loose) for tag in e.get("tags") or [])
            if t is not None
        ),
        base=_explicit_base(base, url),
    )


def _link(e: Any) -> str | None:
    """The item's link: FeedBurner's feedburner:origLink over its feedproxy redirect
    (feedproxy.google.com no longer answers), when it is an absolute http(s) URL."""
    original = _text(e.get("feedburner_origlink"))
    if original is not None and original.lower().startswith(("http://", "https://")):
        return original
    return _text(e.get("link"))


def _text(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    return value.strip() or None


# A body that is not well-formed XML goes to feedparser's loose parser, which leaves the
# text of an element escaped: `<guid>a&amp;b</guid>` reads "a&amp;b", where the strict
# parser reads "a&b". The same item then had another guid (another post: a duplicate) and
# its categories other names (category_map missed "Science & Tech") whenever its feed was
# not well-formed. In an element's text the loose parser writes the five XML entities
# and no other reference.
_XML_ENTITY = re.compile(r"&(amp|lt|gt|quot|apos);")
_XML_ENTITIES = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}


def _escaped_text(value: object, loose: bool) -> str | None:
    """_text of a guid, an id or a category: as the strict parser reads it, `loose` or not.

    (Atom's term, an attribute, the loose parser leaves with `&amp;` alone decoded and
    the rest as written: the four others are decoded here too, which is right but for the
    text "&lt;" itself, written `&amp;lt;`; character references stay as they are.)"""
    text = _text(value)
    if loose and text is not None and "&" in text:
        return _XML_ENTITY.sub(lambda m: _XML_ENTITIES[m.group(1)], text)
    return text


def _as_html(value: object, content_type: object) -> str | None:
    """Content as HTML: plain text is escaped so that it reads back as the same text."""
    if not isinstance(value, str) or not value.strip():
        return None
    if content_type in _HTML_TYPES:
        return value
    return html.escape(value, quote=False)


def _title_html(value: object, content_type: object, version: str) -> str | None:
    """The title as HTML, so that normalize reads every title the same way.

    Atom says what its title is (type="text" or "html"). RSS does not: the XML parser has
    already decoded one level of entities, and what it gives is handed on as that text
    (`<title>AT&amp;amp;T</title>` as the HTML of the text "AT&amp;T"), its tags (from
    `&lt;b&gt;` or CDATA) left as they are. normalize.clean_title then strips what is
    markup and decodes the references the text still holds once more, as readers do.
    """
    if not isinstance(value, str) or not value.strip():
        return None
    if version.startswith("atom"):
        return _as_html(value, content_type)
    return value.replace("&", "&amp;")


def _explicit_base(base: object, url: str) -> str | None:
    """The xml:base in effect, absolute; None when the feed declared none."""
    if not isinstance(base, str) or not base or base == _NO_BASE:
        return None
    try:
        return urljoin(url, base)
    except ValueError:
        return None


def _entry_date(e: Any, key: str, date_order: DateOrder | None) -> datetime | None:
    # dict.get, not e.get(key): FeedParserDict's own lookup answers "updated" with the
    # published date (and a DeprecationWarning) when the entry has no updated date.
    # feedparser's own reading (`*_parsed`) is never used: it rolls impossible dates over
    # ("25:14" to the next day) and reads zone-less and unknown zones as UTC. What
    # parse_date refuses is undated.
    raw = dict.get(e, key)
    return parse_date(raw, date_order=date_order) if isinstance(raw, str) else None
