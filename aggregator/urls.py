"""URLs as browsers serialize them (WHATWG URL), for every output that writes one.

Pure: no I/O. A URL from a feed goes into Markdown autolinks, HTML attributes, XML and
JSON; spelled as a browser would send it, it carries none of those syntaxes' specials.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

__all__ = ["clean_url", "http_url", "safe_id"]

_TAB_NEWLINE = re.compile(r"[\t\n\r]")
# What the WHATWG URL serializer percent-encodes in every part of a URL (C0 controls,
# space, `"`, `<`, `>`), and what it cannot hold at all (other controls, any script's
# spaces, lone surrogates).
_ENCODED = re.compile(r'[\x00-\x20"<>\x7f-\x9f\s\ud800-\udfff]')
_TRIM = "".join(map(chr, range(0x21)))
# An IRI that names a feed (RFC 4287 §4.2.6) and is safe as text anywhere we write it.
_ID = re.compile(r"(?:https?://|tag:|urn:)[^\x00-\x20\"<>\\^`{|}\x7f-\x9f]+", re.I)


def clean_url(url: str) -> str:
    """`url` as browsers read an href: ends trimmed of controls and spaces, tabs and
    newlines removed, and the characters above percent-encoded (as UTF-8)."""
    url = _TAB_NEWLINE.sub("", url.strip(_TRIM))
    return _ENCODED.sub(_percent_encode, url) if _ENCODED.search(url) else url


def _percent_encode(match: re.Match[str]) -> str:
    return "".join(f"%{b:02X}" for b in match.group().encode("utf-8", "surrogatepass"))


def http_url(url: str | None) -> str | None:
    """`url` cleaned when it is an absolute http(s) URL, else None (`javascript:`, `data:`,
    relative, unparseable)."""
    if not url:
        return None
    url = clean_url(url)
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() in ("http", "https") and parts.netloc:
        return url
    return None


def safe_id(value: str | None) -> str | None:
    """`value` when it is an http(s), tag: or urn: IRI without spaces or markup
    characters, else None."""
    if not value:
        return None
    value = value.strip()
    return value if _ID.fullmatch(value) else None
