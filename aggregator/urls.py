"""URLs as browsers serialize them (WHATWG URL), for every output that writes one; and, for
Atom, hrefs and ids held to RFC 3986/3987's letter as feed validators read them.

Pure: no I/O. A URL from a feed goes into Markdown autolinks, HTML attributes, XML and
JSON; spelled as a browser would send it, it carries none of those syntaxes' specials.
"""

from __future__ import annotations

import re
from urllib.parse import SplitResult, urlsplit

__all__ = ["atom_id", "clean_url", "http_url", "iri_href"]

_TAB_NEWLINE = re.compile(r"[\t\n\r]")
# What the WHATWG URL serializer percent-encodes in every part of a URL (C0 controls,
# space, `"`, `<`, `>`), and what it cannot hold at all (other controls, any script's
# spaces, lone surrogates).
_ENCODED = re.compile(r'[\x00-\x20"<>\x7f-\x9f\s\ud800-\udfff]')
_TRIM = "".join(map(chr, range(0x21)))


def clean_url(url: str) -> str:
    """`url` as browsers read an href: ends trimmed of controls and spaces, tabs and
    newlines removed, and the characters above percent-encoded (as UTF-8)."""
    url = _TAB_NEWLINE.sub("", url.strip(_TRIM))
    return _ENCODED.sub(_percent_encode, url) if _ENCODED.search(url) else url


def _percent_encode(match: re.Match[str]) -> str:
    return "".join(f"%{b:02X}" for b in match.group().encode("utf-8", "surrogatepass"))


def http_url(url: str | None) -> str | None:
    """`url` cleaned when it is an absolute http(s) URL, else None (`javascript:`, `data:`,
    relative, unparseable). Lenient, for URLs a feed wrote: not the check of a configured
    URL (config.checks._checked_http_url) nor of one a request goes to (fetch.client)."""
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


# RFC 3986 §2-3: what each part of a URI may hold as it is ("%" only before two hex digits).
_UNRESERVED_SUB_DELIMS = "A-Za-z0-9\\-._~!$&'()*+,;="
_NOT_IN_USERINFO_HOST = re.compile(f"%(?![0-9A-Fa-f]{{2}})|[^{_UNRESERVED_SUB_DELIMS}:%]")
_NOT_IN_PATH = re.compile(f"%(?![0-9A-Fa-f]{{2}})|[^{_UNRESERVED_SUB_DELIMS}:@/%]")
_NOT_IN_QUERY = re.compile(f"%(?![0-9A-Fa-f]{{2}})|[^{_UNRESERVED_SUB_DELIMS}:@/?%]")
_PORT = re.compile(r"[0-9]*")


def iri_href(url: str | None) -> str | None:
    """`url`, when http_url takes it, as an href that is a URI (and so an IRI) by RFC 3986's
    letter: every character a URI part may not hold as it is percent-encoded as UTF-8
    (`{`, `|`, `^`, a stray `%`, non-ASCII), a non-ASCII host in its IDNA form. Feed
    validators read IRIs through IDNA and refuse what that cannot encode (a long non-ASCII
    path), so the URI form is the one every reader takes; it names the same resource
    (RFC 3987 §3.1). None when `url` is no absolute http(s) URL.
    """
    cleaned = http_url(url)
    if cleaned is None:
        return None
    try:
        parts = urlsplit(cleaned)
    except ValueError:
        return None
    netloc = _authority(parts)
    if netloc is None:
        return None
    path = _NOT_IN_PATH.sub(_percent_encode, parts.path)
    query = _NOT_IN_QUERY.sub(_percent_encode, parts.query)
    fragment = _NOT_IN_QUERY.sub(_percent_encode, parts.fragment)
    href = f"{parts.scheme.lower()}://{netloc}{path}"
    if "?" in cleaned.split("#", 1)[0]:
        href += f"?{query}"
    if "#" in cleaned:
        href += f"#{fragment}"
    return href


def _authority(parts: SplitResult) -> str | None:
    userinfo, at, hostport = parts.netloc.rpartition("@")
    if hostport.startswith("["):  # an IP literal: http_url's urlsplit has checked it
        host, _, port = hostport[1:].partition("]")
        host = f"[{host}]"
        port = port.removeprefix(":")
    else:
        host, _, port = hostport.partition(":")
        if not host.isascii():
            try:
                host = host.encode("idna").decode("ascii")
            except UnicodeError:
                return None  # no name IDNA can write: no host a reader could reach
        host = _NOT_IN_USERINFO_HOST.sub(_percent_encode, host)
    if not host or not _PORT.fullmatch(port):
        return None
    userinfo = _NOT_IN_USERINFO_HOST.sub(_percent_encode, userinfo) + at
    return f"{userinfo}{host}{':' + port if port else ''}"


# The W3C Feed Validator's readings of the two non-hierarchical schemes ids use: RFC 4151's
# tag (an authority in lower case, a date, then URI characters) and RFC 8141's URN (a
# namespace of 2 to 32 characters, then a specific string).
_TAG_ID = re.compile(
    r"tag:(?:[a-z0-9._-]+@)?[a-z0-9.-]+,[0-9]{4}(?:-[0-9]{2}(?:-[0-9]{2})?)?:"
    r"(?:[0-9A-Za-z;/?:@&=+$.\-_!~*'(),]|%[0-9A-Fa-f]{2})*"  # a '%' only as pct-encoded
    r"(?:#(?:[0-9A-Za-z;/?:@&=+$.\-_!~*'(),]|%[0-9A-Fa-f]{2})*)?"
)
_URN_ID = re.compile(
    r"[Uu][Rr][Nn]:[A-Za-z0-9][A-Za-z0-9-]{1,31}:(?:[A-Za-z0-9()+,.:=@;$_!*'-]|%[0-9A-Fa-f]{2})+"
)


def atom_id(value: str | None) -> str | None:
    """`value` as an atom:id that is an absolute IRI by every validator's reading, or None.

    A tag: or urn: id is kept only as written and well formed; an http(s) one is spelled
    as iri_href spells it. Anything else (`123`, `/p/1`, `post 1`, `urn:x`, `javascript:`)
    is None: no id at all is better than one that names nothing.
    """
    if not value:
        return None
    value = value.strip()
    scheme = value.split(":", 1)[0].lower()
    if scheme == "tag":
        return value if _TAG_ID.fullmatch(value) else None
    if scheme == "urn":
        return value if _URN_ID.fullmatch(value) else None
    if scheme in ("http", "https"):
        return iri_href(value)
    return None
