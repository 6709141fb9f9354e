"""Parse stage, fast path: an RSS 2.0 document mapped to the records the reference
(feedparser) gives: the channel, each item, and the Atom and Media RSS elements inside
items, read from the item's bytes. Pure: no network, no clock. It never guesses: whatever
feedparser would read otherwise raises _Decline. The whole-body scans are fast_body's and
fast_scan's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from aggregator.parse.fast_fields import _RSS_AUTHORS, _author, _dates, _feed_date, _terms
from aggregator.parse.fast_markup import (
    _ATOM_NS,
    _HTML_TYPES,
    _content_type,
    _Decline,
    _elements,
    _html_or_escaped,
    _media_titled,
    _text,
    _xml_text,
)
from aggregator.parse.fast_scan import _Item, _media_bound, _spans
from aggregator.parse.hubs import websub_links
from aggregator.parse.ttl import parse_ttl
from aggregator.types import ParsedFeed, RawEntry


def _rss_document(
    body: bytes, found: frozenset[bytes], root: Any, header: bytes, entries: list[dict[str, Any]]
) -> tuple[ParsedFeed, tuple[RawEntry, ...]]:
    """The channel (`root`: the document without its items) and its items (`entries`:
    the extractor's), from the body as UTF-8 and its markers (fast_body)."""
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
    return feed, raw


def _rss_feed(root: Any) -> ParsedFeed:
    channel = root.find("channel")
    if root.tag != "rss" or channel is None:
        raise _Decline
    ns = f"{{{_ATOM_NS}}}"
    link = None
    discovery: list[tuple[object, object]] = []
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
            attrs = {k.lower(): v for k, v in el.attrib.items()}
            href = _alternate_href(attrs)
            if href is not None:
                link = _text(href)
            discovery.append((attrs.get("rel"), attrs.get("href")))
        elif el.tag in (f"{ns}title", f"{ns}published"):
            raise _Decline
    updated = _feed_date(
        channel, ("lastBuildDate", "{http://purl.org/dc/elements/1.1/}date", f"{ns}updated")
    )
    published = _feed_date(channel, ("pubDate",))
    hubs, self_url = websub_links(discovery)
    return ParsedFeed(
        title=_text(channel.findtext("title")),
        link=link,
        feed_id=_text(channel.findtext(f"{ns}id")) or link,
        updated=updated or published,
        ttl=parse_ttl(channel.findtext("ttl")),
        hubs=hubs,
        self_url=self_url,
    )


def _rss_entry(
    e: dict[str, Any], span: bytes, scan: _Item, prefixes: _AtomPrefixes, *, media: bool
) -> RawEntry:
    elements = _rss_atom(span, prefixes) if scan.atom else None
    dates = _dates(scan.dates, e, elements.dates if elements is not None else ())
    content, summary = _rss_texts(e, span, scan, elements)
    if media and b"<media:description" in span:
        _rss_media_captions(span)
    guid, link = _rss_guid_and_link(e, span, scan, prefixes, elements)
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


def _rss_texts(
    e: dict[str, Any], span: bytes, scan: _Item, elements: _RssAtom | None
) -> tuple[str | None, str | None]:
    """The item's content and summary, as the reference reads them."""
    content_list = e.get("content") or []
    if len(content_list) > 1 or scan.encoded > 1:
        raise _Decline  # feedparser keeps every one (and the reference the longest)
    description = e.get("description")
    summary = description if isinstance(description, str) and description.strip() else None
    content = summary
    if content_list:
        value = content_list[0].get("value")
        # feedparser strips an element's text; the extractor keeps content as written.
        if isinstance(value, str) and value.strip():
            content = value.strip()
    if elements is not None and elements.content is not None:
        if scan.encoded:
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
    return content, summary


def _rss_guid_and_link(
    e: dict[str, Any],
    span: bytes,
    scan: _Item,
    prefixes: _AtomPrefixes,
    elements: _RssAtom | None,
) -> tuple[str | None, str | None]:
    """The item's guid and link; `scan`: what the item scan noted of it (_Item)."""
    guid_tag = _GUID_TAG.search(span)
    if guid_tag is not None and scan.last_guid - scan.start >= guid_tag.end():
        raise _Decline  # which of two guids feedparser keeps is its business
    # Without a <guid>, or with an empty one, the extractor uses the link as id; feedparser
    # leaves it empty.
    empty = guid_tag is not None and _EMPTY_GUID.match(span, guid_tag.start()) is not None
    guid = _text(e.get("id")) if guid_tag is not None and not empty else None
    links = scan.links
    if scan.empty_link:
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
    return guid, link


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
# What the extractor does not report (Atom elements inside RSS, Media RSS descriptions),
# read from an item's bytes as feedparser reads it, or declined.


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
    """Accept an item's media:descriptions as the reference reads them, or decline.

    After the item's own description they are captions of its media, kept aside: the
    item's text stays its description (Mastodon's alt texts, the New York Times' photo
    captions). Before it, or without one, feedparser makes a summary or content of
    them: declined.
    """
    found = _elements(span, rb"media:description")
    description = span.find(b"<description")
    if not found or description < 0 or description > found[0][1]:
        raise _Decline
