"""Normalize stage: ParsedFeed -> Posts (clean titles, safe HTML, UTC dates, stable keys).
Pure: no I/O and no clock (`now` is a parameter); never raises on what a feed contains.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from datetime import UTC, datetime, tzinfo
from functools import lru_cache
from urllib.parse import urljoin, urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import nh3

from aggregator.slug import slugify
from aggregator.types import ParsedFeed, Post, RawEntry, Source

__all__ = [
    "ALLOWED_ATTRIBUTES",
    "ALLOWED_TAGS",
    "TITLE_LENGTH",
    "canonical_link",
    "clean_title",
    "normalize",
    "post_key",
    "sanitize_html",
]

TITLE_LENGTH = 200
FALLBACK_TITLE_LENGTH = 80  # a title made from the body: the first words only
KEY_LENGTH = 32  # hex digits of sha256: 128 bits, short enough for ids and URLs

ALLOWED_TAGS = frozenset(
    {
        "p", "br", "hr", "div", "span",
        "h1", "h2", "h3", "h4", "h5", "h6",
        "ul", "ol", "li", "dl", "dt", "dd",
        "a", "img", "figure", "figcaption",
        "table", "thead", "tbody", "tfoot", "tr", "th", "td", "caption",
        "blockquote", "pre", "code",
        "em", "strong", "b", "i", "u", "s", "sub", "sup",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES: Mapping[str, frozenset[str]] = {
    "a": frozenset({"href", "title"}),
    "img": frozenset({"src", "alt", "title", "width", "height"}),
    "th": frozenset({"colspan", "rowspan"}),
    "td": frozenset({"colspan", "rowspan"}),
}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
# Dropped with everything inside: their text is code or chrome, never article prose.
_DROP_WITH_CONTENT = frozenset(
    {"script", "style", "iframe", "object", "embed", "noscript", "template", "textarea",
     "select", "svg", "math", "head", "title"}
)  # fmt: skip

_TRACKING_PARAMS = frozenset(
    {"fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "igshid", "_hsenc", "_hsmi"}
)
_GLOBAL_ID = re.compile(r"^(?:https?://[^/\s]+|tag:|urn:)", re.I)

_UNSAFE_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
_DROPPED_ELEMENTS = re.compile(r"<(script|style)\b[^>]*>.*?(?:</\1\s*>|$)", re.I | re.S)
# Only what looks like a real tag or comment: "a<b" or "1 < 2" in a title is text.
_MARKUP = re.compile(r"<!--.*?(?:-->|$)|<!\[CDATA\[|\]\]>|</?[a-zA-Z][^<>]*>|<[!?][^<>]*>", re.S)
_URL_TAB_NEWLINE = re.compile(r"[\t\n\r]")
_URL_CONTROL = re.compile(r"[\x00-\x20\x7f-\x9f\s\ud800-\udfff]")
_URL_TRIM = "".join(map(chr, range(0x21)))
_TRIM_BEFORE_ELLIPSIS = " \t,.;:-–—、，。；："

# The base URL for the cleaner's relative-URL callback: one Cleaner is built once (it is
# the costly part) and each call says which base applies. A ContextVar keeps concurrent
# threads apart.
_BASE_URL: ContextVar[str | None] = ContextVar("_BASE_URL", default=None)


def _resolve_relative(url: str) -> str | None:
    # Must not raise: nh3 would strip the URL and report the error as unraisable.
    url = url.strip()
    base = _BASE_URL.get()
    if base is None:
        return url
    try:
        absolute = urljoin(base, url)
        scheme = urlsplit(absolute).scheme.lower()
    except ValueError:
        return None
    if scheme and scheme not in URL_SCHEMES:
        return None
    return absolute


_CLEANER = nh3.Cleaner(
    tags=set(ALLOWED_TAGS),
    clean_content_tags=set(_DROP_WITH_CONTENT),
    attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
    url_schemes=set(URL_SCHEMES),
    url_relative=_resolve_relative,
    link_rel="noopener noreferrer",
    strip_comments=True,
)


def sanitize_html(html: str, *, base_url: str | None) -> str:
    """Return `html` with only the allowed tags and attributes, URLs made absolute.

    Whitespace between tags is kept as it was. Relative URLs are resolved against
    `base_url`; without one they stay relative.

    Raises nothing: any string in gives safe HTML out.
    """
    token = _BASE_URL.set(_http_url(base_url))
    try:
        return str(_CLEANER.clean(_UNSAFE_CHARS.sub("", html)))
    finally:
        _BASE_URL.reset(token)


def clean_title(raw: str | None, *, fallback_text: str) -> str:
    """Return a plain-text title: markup stripped, entities decoded once, bounded length.

    `raw` is the title as HTML (parse gives every title in that form). When it leaves
    nothing, the first words of `fallback_text` (HTML as well, usually the body) stand in.

    Raises nothing.
    """
    title = _truncate(_html_to_text(raw or "", tag_gap=""), TITLE_LENGTH)
    if title:
        return title
    return _truncate(_html_to_text(fallback_text, tag_gap=" "), FALLBACK_TITLE_LENGTH)


def canonical_link(url: str) -> str:
    """Return `url` spelled one way, so that two spellings of one page compare equal.

    Scheme and host are lower-cased; the default port, user info, fragment and tracking
    parameters (utm_*, fbclid, ...) are dropped. Other URLs come back only stripped.

    Raises nothing.
    """
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return url
    host = parts.hostname
    if ":" in host:
        host = f"[{host}]"
    if port is not None and port != (443 if scheme == "https" else 80):
        host = f"{host}:{port}"
    query = "&".join(
        p for p in parts.query.split("&") if p and not _is_tracking(p.split("=", 1)[0])
    )
    return urlunsplit((scheme, host, parts.path or "/", query, ""))


def post_key(source_name: str, entry: RawEntry, content_html: str) -> str:
    """Return the post's stable identity: from the guid, else the link, else the content.

    A guid that is an absolute URL, a tag: or a urn: URI names the item everywhere, so the
    same item from two sources is one post; any other guid ("123") is scoped by the source.

    Raises nothing.
    """
    guid = (entry.guid or "").strip()
    link = (entry.link or "").strip()
    if guid:
        material = ["guid", guid] if _GLOBAL_ID.match(guid) else ["guid", source_name, guid]
    elif link:
        canonical = canonical_link(link)
        absolute = _http_url(canonical) is not None
        material = ["link", canonical] if absolute else ["link", source_name, canonical]
    else:
        material = ["content", source_name, entry.title or "", content_html]
    return _digest(material)[:KEY_LENGTH]


def normalize(
    feed: ParsedFeed, source: Source, *, now: datetime, site_timezone: str, feed_url: str
) -> list[Post]:
    """Map every usable entry of `feed` to a Post, in feed order, one per key.

    An entry with neither link, guid, title nor content is skipped; a later entry with
    the key of an earlier one is dropped (feeds do repeat items).

    Raises nothing on what the feed holds.
    """
    zone = _zone(source.timezone or site_timezone)
    now_utc = now.astimezone(UTC) if now.tzinfo is not None else now.replace(tzinfo=UTC)
    feed_home = _absolute(feed.link, feed_url) or _http_url(feed_url)
    posts: list[Post] = []
    seen: set[str] = set()
    for entry in feed.entries:
        post = _post(entry, source, zone=zone, now=now_utc, feed_home=feed_home)
        if post is not None and post.key not in seen:
            seen.add(post.key)
            posts.append(post)
    return posts


def _post(
    entry: RawEntry, source: Source, *, zone: tzinfo, now: datetime, feed_home: str | None
) -> Post | None:
    if not (entry.link or entry.guid or entry.title or entry.content or entry.summary):
        return None
    link = _absolute(entry.link, entry.base or feed_home) or ""
    base = entry.base or link or feed_home
    content_html = sanitize_html(entry.content or entry.summary or "", base_url=base)
    title = clean_title(entry.title, fallback_text=content_html) or link or source.name

    published = _in_utc(entry.published, zone) or _in_utc(entry.updated, zone)
    dated = published is not None
    if published is None:
        published = now
    updated = max(_in_utc(entry.updated, zone) or published, published)

    tags = source.tags
    return Post(
        key=post_key(source.name, entry, content_html),
        source=source.name,
        category=source.category,
        title=title,
        link=link,
        published=published,
        updated=updated,
        content_html=content_html,
        tags=tags,
        slug=slugify(title) or "post",
        content_hash=_digest([title, link, content_html, list(tags)]),
        dated=dated,
    )


def _html_to_text(fragment: str, *, tag_gap: str) -> str:
    text = _UNSAFE_CHARS.sub("", fragment)
    text = _DROPPED_ELEMENTS.sub(tag_gap, text)
    text = _MARKUP.sub(tag_gap, text)
    text = _UNSAFE_CHARS.sub("", html.unescape(text))  # &#0; decodes to U+FFFD, &#x1; to \x01
    return " ".join(text.split())


def _truncate(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if not text[limit - 1].isspace():
        # Mid-word: back up to the last space, unless that loses half the title
        # (Chinese titles have no spaces to back up to).
        head, space, _ = cut.rpartition(" ")
        if space and len(head) >= limit // 2:
            cut = head
    return cut.rstrip(_TRIM_BEFORE_ELLIPSIS) + "…"


def _is_tracking(name: str) -> bool:
    name = name.lower()
    return name.startswith("utm_") or name in _TRACKING_PARAMS


def _http_url(url: str | None) -> str | None:
    """`url` when it is an absolute http(s) URL, else None."""
    if not url:
        return None
    url = _clean_url(url)
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() in ("http", "https") and parts.netloc:
        return url
    return None


def _clean_url(url: str) -> str:
    # As browsers read an href (WHATWG URL): ends trimmed of controls and spaces, tabs
    # and newlines removed; other controls and spaces (any script's) percent-encoded.
    url = _URL_TAB_NEWLINE.sub("", url.strip(_URL_TRIM))
    return _URL_CONTROL.sub(_percent_encode, url)


def _percent_encode(match: re.Match[str]) -> str:
    return "".join(f"%{b:02X}" for b in match.group().encode("utf-8", "surrogatepass"))


def _absolute(url: str | None, base: str | None) -> str | None:
    """`url` resolved against `base`, when that gives an absolute http(s) URL."""
    url = _clean_url(url or "")
    if not url:
        return None
    try:
        joined = urljoin(base or "", url)
    except ValueError:
        return None
    return _http_url(joined)


@lru_cache(maxsize=64)
def _zone(name: str) -> tzinfo:
    # Config validation refuses unknown zones; UTC here keeps normalize total anyway.
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return UTC


def _in_utc(value: datetime | None, zone: tzinfo) -> datetime | None:
    """`value` as aware UTC; a naive value is read as local time in `zone`."""
    if value is None:
        return None
    try:
        aware = value if value.tzinfo is not None else value.replace(tzinfo=zone)
        return aware.astimezone(UTC)
    except (OverflowError, ValueError):
        return None  # year 1 or 9999 shifted past the calendar's edge


def _digest(parts: Sequence[object]) -> str:
    data = json.dumps(parts, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(data.encode("utf-8", "surrogatepass")).hexdigest()
