"""Parse stage, fast path: an Atom 1.0 document mapped to the records the reference
(feedparser) gives: the feed and each entry, with xml:base applied as feedparser applies
it. Pure: no network, no clock. It never guesses: whatever feedparser would read
otherwise (Atom 0.3, xhtml or base64 content, an author's email) raises _Decline.
"""

from __future__ import annotations

import html
import re
from typing import Any

from aggregator.parse.fast_fields import _ATOM_AUTHORS, _author, _dates, _feed_date, _terms
from aggregator.parse.fast_markup import (
    _ATOM_NS,
    _content_type,
    _Decline,
    _elements,
    _html_or_escaped,
    _media_titled,
    _resolve,
    _text,
    _xml_text,
)
from aggregator.parse.fast_scan import _Item, _media_bound, _spans
from aggregator.parse.hubs import websub_links
from aggregator.types import ParsedFeed, RawEntry

_XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"
_ATOM_TYPE = re.compile(rb"""\btype\s*=\s*["']([^"']*)["']""")
_ATOM_HTML_TYPES = frozenset({"html", "text/html", "application/xhtml+xml"})
_TEXT_TYPES = frozenset({"", "text", "text/plain"})


def _atom_document(
    body: bytes, found: frozenset[bytes], root: Any, entries: list[dict[str, Any]], *, url: str
) -> tuple[ParsedFeed, tuple[RawEntry, ...]]:
    """The feed (`root`: the document without its entries) and its entries (`entries`:
    the extractor's), from the body as UTF-8 and its markers (fast_body)."""
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
    return feed, raw


def _atom_feed(root: Any) -> tuple[ParsedFeed, str | None]:
    base = root.get(_XML_BASE)
    ns = f"{{{_ATOM_NS}}}"
    link = None
    for el in root.iterchildren(f"{ns}link"):
        if el.get("rel", "alternate") == "alternate" and el.get("href"):
            link = _resolve(base, el.get("href"))
            break
    link = _text(link)
    hubs, self_url = websub_links(
        (el.get("rel"), _resolve(base, el.get("href")) if el.get("href") else None)
        for el in root.iterchildren(f"{ns}link")
    )
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
        hubs=hubs,
        self_url=self_url,
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
    if scan.email:
        raise _Decline  # feedparser writes the author as "name (email)"
    content, summary, base = _atom_texts(e, span, root_base=root_base, media=media)
    guid, link = _atom_guid_and_link(e, root_base)
    title = e.get("title")
    title_type = _tag_type(_TITLE_TAG, span)
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


def _atom_texts(
    e: dict[str, Any], span: bytes, *, root_base: str | None, media: bool
) -> tuple[str | None, str | None, str | None]:
    """The entry's content, summary and the xml:base in effect for them."""
    summary_tag = _SUMMARY_TAG.search(span)
    if summary_tag is not None and b"xml:base" in summary_tag.group(1):
        raise _Decline
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
    summary = None
    if summary_tag is not None:
        summary = _atom_html(e.get("description"), _type_of(summary_tag))
    elif content_list:
        # feedparser copies an Atom entry's content into its summary when it has none.
        summary = content
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
        base = None  # the reference reads the base off the content or the summary
    return content, summary, base


def _atom_guid_and_link(e: dict[str, Any], root_base: str | None) -> tuple[str | None, str | None]:
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
    return guid, _text(_resolve(root_base, link)) if isinstance(link, str) else guid


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
