"""Parse stage, fast path: XML read from an item's bytes (elements, attributes, text) as
feedparser reads it, content types, and URL resolution. Pure: no network, no clock. It
never guesses: whatever it cannot read exactly raises _Decline, and the whole feed goes
to the reference. It scans no whole body (fast_body, fast_scan) and maps no feed format
(fast_rss, fast_atom).
"""

from __future__ import annotations

import html
import re
from functools import lru_cache
from urllib.parse import urljoin, urlparse


class _Decline(Exception):
    """The fast path cannot map this feed exactly; feedparser must read it."""


_ATOM_NS = "http://www.w3.org/2005/Atom"


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
        # the reference reads those, not this path).
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
    """reference._as_html for a known type: plain text escaped."""
    return text if content_type in _HTML_TYPES else html.escape(text, quote=False)


def _text(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    return value.strip() or None


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
