"""Parse stage, fast path: fastfeedparser's native extractor mapped to the records that
aggregator.parse produces from feedparser. Pure: no network, no clock. It never guesses:
whatever it cannot map exactly it declines (None), and the caller parses with feedparser.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any
from urllib.parse import urljoin, urlparse

from lxml import etree

from aggregator.parse import parse_date, parse_ttl
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

_UTF8 = frozenset({"utf-8", "utf8"})
# Declared charsets transcoded here: Python's codec is the one feedparser decodes with.
_TRANSCODED = frozenset({"gbk", "gb2312", "gb18030"})
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9._:-]+)", re.I)
_PROLOG = re.compile(rb"^(\s*<\?xml[^>]*?\bencoding\s*=\s*[\"'])([A-Za-z0-9._:-]+)([\"'])", re.I)

# Anything feedparser reads in a way the extractor does not report: a doctype (entities
# feedparser may expand), xhtml constructs, Atom's <source> (dates inside it belong to
# the source, not the entry), dcterms dates and iTunes summaries. RSS 1.0, Atom 0.3 and
# base64 content the extractor refuses itself, or _atom_html does.
# Plain substring tests: a regular expression over a whole body costs more than parsing it.
_UNSUPPORTED = (b"dcterms", b"<itunes:summary")
_SOURCE = (b"<source", b":source")  # looked for only where b"source" is
# Unescaped markup inside a text element (`<description><p>a</p></description>`): feedparser
# keeps it as HTML, fastfeedparser keeps only the text before the first child element.
# Possessive runs: nothing after a run of [^<] can start inside it, and backtracking over
# a long escaped body one character at a time costs more than the scan itself.
_CHILD_MARKUP = re.compile(
    rb"<(title|description|summary|content|content:encoded)(?:\s[^>]*+)?>[^<]*+<(?!/\1>|!\[CDATA\[)"
)
_DOCTYPE = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.I)
_ROOT_START = re.compile(rb"<(?:rss|feed)[\s>]")
_XHTML_TYPE = re.compile(rb"""type\s*=\s*["']xhtml["']""")
_RELATIVE_BASE = re.compile(rb"""xml:base\s*=\s*["'](?!https?://)""")
# Date elements, as feedparser names what they hold (pubDate: published; dc:date and
# Atom 0.3's modified: updated). A prefix other than these for the same namespaces is
# declined through _foreign_prefixes.
_DATE = re.compile(
    rb"<(pubDate|dc:date|published|updated|issued|modified|atom:published|atom:updated)>"
    rb"\s*([^<]*?)\s*</\1\s*>"
)
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
# Zone names that mean UTC. Any other name (RFC 822's US zones) parse_date keeps for
# normalize to reread ("CST" in a Chinese feed): left to the reference, which is exact.
_UTC_NAMES = frozenset({"UT", "UTC", "GMT", "Z"})
_ATOM_TYPE = re.compile(rb"""\btype\s*=\s*["']([^"']*)["']""")
_HTML_TYPES = frozenset({"html", "text/html", "application/xhtml+xml"})
_TEXT_TYPES = frozenset({"", "text", "text/plain"})


class _Decline(Exception):
    """The fast path cannot map this feed exactly; feedparser must read it."""


def parse_fast(content: bytes, headers: Mapping[str, str], *, url: str) -> ParsedFeed | None:
    """Parse a well-formed UTF-8 (or declared GBK) RSS 2.0 or Atom feed quickly.

    Returns the same ParsedFeed that aggregator.parse.parse returns for these bytes, or
    None when the feed is anything this path does not map exactly (other encodings,
    malformed XML, xhtml content, RSS 1.0, feeds that are not feeds...): the caller then
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
    body = _utf8(content, headers)
    # A doctype sits in the prolog; a prolog longer than this is declined as a whole.
    if _ROOT_START.search(body, 0, 8192) is None or _DOCTYPE.search(body, 0, 8192):
        raise _Decline
    if b"source" in body and any(marker in body for marker in _SOURCE):
        raise _Decline
    if any(marker in body for marker in _UNSUPPORTED) or _CHILD_MARKUP.search(body):
        raise _Decline
    if b"xhtml" in body and _XHTML_TYPE.search(body):
        raise _Decline
    if b"xml:base" in body and _RELATIVE_BASE.search(body):
        raise _Decline
    if _DC_NS in body and b'xmlns:dc="http://purl.org/dc/elements/1.1/"' not in body:
        raise _Decline  # Dublin Core under a prefix other than dc:
    if b"itunes:author" in body and _ITUNES_DECLARED not in body:
        raise _Decline  # itunes: bound to another namespace: feedparser reads no author there
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
    spans = _spans(body, atom=atom)
    if len(spans) != len(entries):
        raise _Decline
    root = etree.fromstring(header, parser=_HEADER_PARSER)
    if atom:
        if root.tag != f"{{{_ATOM_NS}}}feed":
            raise _Decline  # Atom 0.3 (and the https namespace variant) stay with feedparser
        feed, root_base = _atom_feed(root)
        raw = tuple(
            _atom_entry(e, body[a:b], root_base=root_base, url=url)
            for e, (a, b) in zip(entries, spans, strict=True)
        )
    else:
        if b"xml:base" in body:
            raise _Decline
        feed = _rss_feed(root)
        raw = tuple(_rss_entry(e, body[a:b]) for e, (a, b) in zip(entries, spans, strict=True))
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


def _utf8(content: bytes, headers: Mapping[str, str]) -> bytes:
    """The body as UTF-8 with a prolog that says so, or a decline."""
    if content.startswith(b"\xef\xbb\xbf"):
        content = content[3:]
    elif content.startswith((b"\xff\xfe", b"\xfe\xff")) or not content.strip():
        raise _Decline
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    match = _HEADER_CHARSET.search(content_type)
    header_charset = match.group(1).lower() if match else None
    prolog = _PROLOG.match(content[:512])
    prolog_charset = prolog.group(2).decode("ascii").lower() if prolog else None
    if header_charset and prolog_charset and header_charset != prolog_charset:
        raise _Decline  # which one wins depends on the media type: feedparser's rules
    charset = header_charset or prolog_charset or "utf-8"
    if charset in _UTF8:
        if content.isascii():  # valid UTF-8 as it is, told without decoding it
            return content
        try:
            content.decode("utf-8")
        except UnicodeDecodeError:
            raise _Decline from None
        return content
    if charset not in _TRANSCODED:
        raise _Decline
    try:
        text = content.decode(charset)
    except (UnicodeDecodeError, LookupError):
        raise _Decline from None
    body = text.encode("utf-8")
    # A prolog that names no encoding already means UTF-8 (XML 1.0 4.3.3).
    return _PROLOG.sub(rb"\1utf-8\3", body, count=1) if prolog else body


# ----------------------------------------------------------------------- spans


_RSS_ITEM = re.compile(rb"<item[\s>]|</item\s*>")
_ATOM_ENTRY = re.compile(rb"<entry[\s>]|</entry\s*>")


def _spans(body: bytes, *, atom: bool) -> list[tuple[int, int]]:
    """Byte ranges of the items, in document order; a decline when they do not pair up."""
    pattern = _ATOM_ENTRY if atom else _RSS_ITEM
    spans: list[tuple[int, int]] = []
    start = -1
    for m in pattern.finditer(body):
        if m.group().startswith(b"</"):
            if start < 0:
                raise _Decline
            spans.append((start, m.end()))
            start = -1
        else:
            if start >= 0:
                raise _Decline
            start = m.start()
    if start >= 0:
        raise _Decline
    # An item tag inside CDATA or a comment is counted here and not by the extractor:
    # the caller compares the counts.
    return spans


def _dates(span: bytes, e: Mapping[str, Any]) -> dict[str, datetime | None]:
    found: dict[str, datetime | None] = {}
    if "published" not in e and "updated" not in e:
        # The extractor saw no date: any date-like text here is inside CDATA or a comment.
        if _DATE.search(span):
            raise _Decline
        return found
    for m in _DATE.finditer(span):
        key = _DATE_KEY[m.group(1)]
        if key in found:
            raise _Decline  # which of two dates feedparser keeps is its business
        found[key] = _date(m.group(2))
    return found


def _date(raw: bytes) -> datetime | None:
    text = html.unescape(raw.decode("utf-8")) if b"&" in raw else raw.decode("utf-8")
    if not text.strip():
        return None
    value = parse_date(text)
    if value is None:
        # aggregator.parse then takes feedparser's reading (UTC assumed): not ours to copy.
        raise _Decline
    name = value.tzname()
    if name is not None and name.isalpha() and name not in _UTC_NAMES:
        raise _Decline
    return value


# ------------------------------------------------------------------------ RSS


def _rss_feed(root: Any) -> ParsedFeed:
    channel = root.find("channel")
    if root.tag != "rss" or channel is None:
        raise _Decline
    link = _text(channel.findtext("link"))
    updated = _feed_date(channel, ("lastBuildDate", "{http://purl.org/dc/elements/1.1/}date"))
    published = _feed_date(channel, ("pubDate",))
    return ParsedFeed(
        title=_text(channel.findtext("title")),
        link=link,
        feed_id=link,
        updated=updated or published,
        ttl=parse_ttl(channel.findtext("ttl")),
    )


def _rss_entry(e: dict[str, Any], span: bytes) -> RawEntry:
    dates = _dates(span, e)
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
    if b"<description" not in span:
        # The extractor makes a plain-text teaser of the content; feedparser copies the
        # content itself into the summary.
        summary = content
    guid_tag = _GUID_TAG.search(span)
    # Without a <guid> the extractor uses the link as id; feedparser leaves it empty.
    guid = _text(e.get("id")) if guid_tag is not None else None
    if _EMPTY_LINK.search(span):
        raise _Decline  # the extractor fills an empty <link> from the guid; feedparser does not
    if b"<link" in span:
        link = _text(e.get("link"))
    elif guid is not None and guid_tag is not None and _permalink(guid_tag.group(1)):
        link = guid  # feedparser: a guid that is a permalink stands in for the link
    else:
        link = None
    title = e.get("title")
    return RawEntry(
        guid=guid,
        link=link,
        title=title.replace("&", "&amp;") if isinstance(title, str) and title.strip() else None,
        content=content,
        summary=summary,
        published=dates.get("published"),
        updated=dates.get("updated"),
        author=_author(e, span, _RSS_AUTHORS),
        categories=_terms(e),
        base=None,
    )


_EMPTY_LINK = re.compile(rb"<link\s*/>|<link>\s*</link>")
_GUID_TAG = re.compile(rb"<guid\b([^>]*)>")
_PERMALINK = re.compile(rb"""isPermaLink\s*=\s*["']([^"']*)["']""", re.I)


def _permalink(attrs: bytes) -> bool:
    m = _PERMALINK.search(attrs)
    if m is None:
        return True
    value = m.group(1)
    if value not in (b"true", b"false"):
        raise _Decline  # "False", "no": how feedparser reads those is its business
    return value == b"true"


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
    if title_el is not None and title_el.get("type", "text") not in _TEXT_TYPES | _HTML_TYPES:
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


def _atom_entry(e: dict[str, Any], span: bytes, *, root_base: str | None, url: str) -> RawEntry:
    entry_tag = _ENTRY_TAG.match(span)
    if entry_tag is None or b"xml:base" in entry_tag.group(1):
        raise _Decline
    dates = _dates(span, e)
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
    title = e.get("title")
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
    if not content_list and summary_tag is None:
        base = None  # aggregator.parse reads the base off the content or the summary
    return RawEntry(
        guid=guid,
        link=link,
        title=_atom_html(title, title_type) if isinstance(title, str) else None,
        content=content or summary,
        summary=summary,
        published=dates.get("published"),
        updated=dates.get("updated"),
        author=_author(e, span, _ATOM_AUTHORS),
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
    if content_type in _HTML_TYPES:
        return value
    if content_type in _TEXT_TYPES:
        return html.escape(value, quote=False)
    raise _Decline  # base64 or other media types


# ---------------------------------------------------------------------- shared


# Elements an item's author may be read from. The extractor takes the first of several and
# any prefix's "author" (googleplay:author too); feedparser keeps the last it maps and maps
# only these: an item with more than one, or another, is declined.
_AUTHOR_TAG = re.compile(rb"<((?:[A-Za-z_][A-Za-z0-9_.-]*:)?(?:author|creator|name))[\s/>]")
_RSS_AUTHORS = frozenset({b"author", b"dc:creator", b"itunes:author"})
_ATOM_AUTHORS = frozenset({b"author"})


def _author(e: Mapping[str, Any], span: bytes, allowed: frozenset[bytes]) -> str | None:
    """The item's author as aggregator.parse reads it from feedparser, or a decline."""
    if b"author" not in span and b"creator" not in span:
        if e.get("author"):
            raise _Decline
        return None
    found = _AUTHOR_TAG.findall(span)
    authors = [tag for tag in found if not tag.endswith(b"name")]
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
    for tag in tags:
        found = el.findall(tag)
        if len(found) > 1:
            raise _Decline
        if found and found[0].text and found[0].text.strip():
            return _date(found[0].text.strip().encode("utf-8"))
    return None
