"""Parse stage: response bytes + headers -> ParsedFeed. feedparser lives here only.
Pure: no network, no clock; nothing is cleaned here beyond what the format itself defines.
"""

from __future__ import annotations

import html
import re
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_tz
from typing import Any
from urllib.parse import urljoin

import charset_normalizer
import feedparser

from aggregator.errors import ParseError
from aggregator.types import ParsedFeed, RawEntry

__all__ = ["parse", "parse_date"]

# feedparser restores the base URI on leaving an element only when the outer base is
# non-empty, so with no document base one entry's xml:base leaks into the entries after
# it. A real document URL would cure that but also turn bare RSS guids ("123") into URLs
# and resolve RSS links against the feed URL. A non-hierarchical URI is a base that
# urljoin never joins onto, so it keeps the stack honest and changes nothing else.
_NO_BASE = "magnet:?xt=urn:aggregator:no-base"

_HTML_START = re.compile(
    rb"^\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body)\b", re.I | re.S
)
_RFC822_ZONE = re.compile(r"\d{1,2}:\d{2}(?::\d{2})?\s*(?P<zone>[^\s(]+)?")
_NUMERIC_OFFSET = re.compile(r"(?P<sign>[-+])(?P<hh>\d{2}):?(?P<mm>\d{2})")
# The names email.utils reads (RFC 822 5.1, plus UTC); others are left zone-less.
_RFC822_ZONE_NAMES = frozenset(
    {"UT", "UTC", "GMT", "Z", "EST", "EDT", "CST", "CDT", "MST", "MDT", "PST", "PDT"}
)
_ZONELESS_FORMATS = ("%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d")
_XML_ENCODING = re.compile(rb"^\s*<\?xml[^>]*\bencoding\s*=", re.I)
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")
# Encodings a detector tells apart reliably from a feed's worth of text.
_DETECTABLE = frozenset(
    {"gb18030", "big5", "cp950", "shift_jis", "cp932", "euc_jp", "euc_kr", "cp949", "cp1251"}
    | {"koi8_r", "iso8859_5"}
)
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})


def parse(content: bytes, headers: Mapping[str, str], *, url: str, fast: bool = True) -> ParsedFeed:
    """Parse one response body into a feed and its raw entries.

    With `fast`, well-formed feeds go through fastfeedparser (~30x feedparser); whatever
    it declines, and everything with `fast=False` (`parser: feedparser`), through
    feedparser, the reference. tests/test_parse_differential.py keeps the two equal.

    Raises:
        ParseError: the body is empty, an HTML page, or XML from which feedparser
            recovered neither a feed nor a single item.
    """
    if not content.strip():
        raise ParseError("empty body")
    if fast:
        from aggregator.fastparse import parse_fast  # it imports this module: no cycle here

        parsed = parse_fast(content, headers, url=url)
        if parsed is not None:
            return parsed
    lowered = {k.lower(): v for k, v in headers.items()}
    # Only the headers feedparser reads for decoding: Content-Type carries the charset
    # (a GBK feed may declare it nowhere else). Content-Encoding must not reach it: the
    # body is already decoded.
    response_headers = {"content-location": _NO_BASE}
    for name in ("content-type", "content-language"):
        if name in lowered:
            response_headers[name] = lowered[name]
    content, response_headers = _undeclared_chinese(content, response_headers)
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
    raw_entries = tuple(_entry(e, version=version, url=url) for e in entries)
    if d.get("bozo") and not any(map(_usable, raw_entries)):
        # feedparser flags recoverable faults too (an &nbsp;, a wrong charset label), so a
        # flagged feed is kept when it yields items; one that yields none is a broken
        # response (cut off, not XML), not an empty feed, and must show as an error.
        raise ParseError(_refusal(content, lowered.get("content-type", ""), d))
    feed = d.get("feed") or {}
    feed_link = _text(feed.get("link"))
    return ParsedFeed(
        title=_text(feed.get("title")),
        link=feed_link,
        feed_id=_text(feed.get("id")) or feed_link,
        updated=_entry_date(feed, "updated") or _entry_date(feed, "published"),
        ttl=parse_ttl(feed.get("ttl")),
        entries=raw_entries,
    )


def _undeclared_chinese(content: bytes, headers: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    """GBK/GB18030 (or Big5, Shift_JIS, EUC-KR, Cyrillic) bytes that declare no charset
    anywhere, re-encoded as UTF-8.

    feedparser falls back to windows-1252 for such a feed and garbles every character
    (fixture gbk_undeclared.xml). Bytes that are valid UTF-8, or that carry a BOM, a
    header charset or an XML encoding declaration are left to feedparser. A BOM outranks
    the header's charset (RFC 7303 §3.2), so with one the header's charset is dropped.
    """
    if content.startswith(_BOMS):
        codec = "utf-8-sig" if content.startswith(_BOMS[0]) else "utf-16"
        try:
            text = content.decode(codec)
        except UnicodeDecodeError:
            return content, headers
        media = headers.get("content-type", "application/xml").split(";", 1)[0].strip()
        return text.encode("utf-8"), {**headers, "content-type": f"{media}; charset=utf-8"}
    if "charset=" in headers.get("content-type", "").lower().replace(" ", ""):
        return content, headers
    if _XML_ENCODING.match(content[:512]):
        return content, headers
    try:
        content.decode("utf-8")
        return content, headers
    except UnicodeDecodeError:
        pass
    # GB18030 decodes almost any bytes (Big5 or Shift_JIS too, as wrong Han characters):
    # a detector tells the multi-byte encodings apart; Latin ones it cannot (those stay
    # feedparser's windows-1252, a superset of ISO-8859-1).
    best = charset_normalizer.from_bytes(content[:65536]).best()
    encoding = best.encoding if best is not None and best.encoding in _DETECTABLE else "gb18030"
    try:
        text = content.decode(encoding)
    except UnicodeDecodeError:
        return content, headers
    if encoding == "gb18030" and not _HAN.search(text):
        return content, headers
    media = headers.get("content-type", "application/xml").split(";", 1)[0].strip()
    return text.encode("utf-8"), {**headers, "content-type": f"{media}; charset=utf-8"}


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


def _entry(e: Any, *, version: str, url: str) -> RawEntry:
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
        guid=_text(e.get("id")),
        link=_text(e.get("link")),
        title=_title_html(e.get("title"), (e.get("title_detail") or {}).get("type"), version),
        content=content,
        summary=summary,
        published=_entry_date(e, "published"),
        updated=_entry_date(e, "updated"),
        author=_text(e.get("author")),
        categories=tuple(
            t for t in (_text(tag.get("term")) for tag in e.get("tags") or []) if t is not None
        ),
        base=_explicit_base(base, url),
    )


def _text(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    return value.strip() or None


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


def _entry_date(e: Any, key: str) -> datetime | None:
    # dict.get, not e.get(key): FeedParserDict's own lookup answers "updated" with the
    # published date (and a DeprecationWarning) when the entry has no updated date.
    raw = dict.get(e, key)
    parsed = parse_date(raw) if isinstance(raw, str) else None
    if parsed is not None:
        return parsed
    struct = dict.get(e, f"{key}_parsed")
    if isinstance(struct, time.struct_time):
        try:
            return datetime(*struct[:6], tzinfo=UTC)
        except (ValueError, OverflowError):
            return None
    return None


def parse_date(raw: str) -> datetime | None:
    """Read a feed date: aware when the text names a zone, naive when it does not.

    Raises nothing: an unreadable date is None.

    feedparser's *_parsed values assume UTC for zone-less dates; a zone-less date is in
    the source's own zone, which only normalize knows.
    """
    text = raw.strip()
    if not text:
        return None
    common = _RFC822_COMMON.fullmatch(text)
    if common is not None:
        return _rfc822_common(common)
    return _parse_date(text)


# RFC 822 dates as almost every RSS feed writes them: read here with the results of the
# general steps below (tests/test_normalize_speedups.py holds them equal), without
# email.utils' tokenizing.
_RFC822_COMMON = re.compile(
    r"(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), )?([0-9]{1,2}) "
    r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) ([1-9][0-9]{3}) "
    r"([0-9]{2}):([0-9]{2}):([0-9]{2}) (GMT|UTC|UT|Z|[-+][0-9]{4})"
)
_MONTHS = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}


def _rfc822_common(match: re.Match[str]) -> datetime | None:
    day, month, year, hour, minute, second, zone = match.groups()
    try:
        naive = datetime(int(year), _MONTHS[month], int(day), int(hour), int(minute), int(second))
        if zone[0] in "+-":
            offset = timedelta(hours=int(zone[1:3]), minutes=int(zone[3:]))
            return naive.replace(tzinfo=timezone(-offset if zone[0] == "-" else offset))
    except ValueError:
        return None
    return naive.replace(tzinfo=timezone(timedelta(0), zone))


def _parse_date(text: str) -> datetime | None:
    # parse_date's general steps, for any stripped, non-empty text.
    if text[:4].isdigit() and text[4:5] == "-":
        try:
            # W3CDTF / ISO 8601; Python 3.11 also reads "Z" and a space separator.
            return datetime.fromisoformat(text.replace("z", "Z"))
        except ValueError:
            pass
    fields = parsedate_tz(text)
    if fields is not None:
        try:
            naive = datetime(*fields[:6])
        except (ValueError, OverflowError):
            return None
        # email.utils reports "no zone", "-0000" and unknown zone names all as offset 0,
        # so read the zone from the text. RFC 5322 3.3: "-0000" is UTC, local zone unknown.
        after_time = _RFC822_ZONE.search(text)
        zone = after_time.group("zone") if after_time else None
        if zone is None:
            return naive
        numeric = _NUMERIC_OFFSET.fullmatch(zone)
        if numeric:
            sign = -1 if numeric["sign"] == "-" else 1
            offset = sign * timedelta(hours=int(numeric["hh"]), minutes=int(numeric["mm"]))
        elif zone.upper() in _RFC822_ZONE_NAMES:
            offset = timedelta(seconds=fields[9] or 0)
            # The name rides along: "CST" is US Central to RFC 822 but China Standard
            # Time to a Chinese feed, and only normalize knows the source's zone.
            try:
                return naive.replace(tzinfo=timezone(offset, zone.upper()))
            except ValueError:
                return None
        else:
            return naive  # an unknown name says nothing reliable
        try:
            return naive.replace(tzinfo=timezone(offset))
        except ValueError:
            return None
    for fmt in _ZONELESS_FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    return None


def parse_ttl(value: object) -> timedelta | None:
    """An RSS <ttl> (minutes) as a duration; None when absent, unreadable or absurd."""
    if not isinstance(value, str):
        return None
    try:
        minutes = int(value.strip())
    except ValueError:
        return None
    if minutes <= 0 or minutes > 60 * 24 * 365:
        return None
    return timedelta(minutes=minutes)
