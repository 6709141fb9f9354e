"""Normalize stage, URLs: links and references of an item resolved against the right base,
and spelled one way (canonical_link) so that two spellings of one page compare equal.

Pure: no I/O, no clock; never raises on what a feed holds. Fast paths beside the urllib
steps they stand for (tests/test_worker.py and tests/test_normalize_speedups.py hold
them to urllib); cleans no HTML and makes no key.
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import urljoin, urlparse, urlsplit, urlunsplit

from aggregator.types import ParsedFeed
from aggregator.urls import clean_url as _clean_url
from aggregator.urls import http_url as _http_url

__all__ = ["canonical_link", "clean_url"]

_TRACKING_PARAMS = frozenset(
    {"fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "igshid", "_hsenc", "_hsmi"}
)

# A relative reference that urllib reads by plain splitting: no scheme, no params, no
# controls or spaces, no empty query or fragment (urlunparse would drop their "?" or "#").
_SIMPLE_REFERENCE = re.compile(
    r"(?P<path>[^\x00-\x20\x7f?#;:]*)"
    r"(?:\?(?P<query>[^\x00-\x20\x7f#]+))?(?:#(?P<fragment>[^\x00-\x20\x7f]+))?"
)

# A protocol-relative reference that urljoin copies after the base's scheme: a plain ASCII
# host (urlsplit checks others), and a path, query and fragment as above.
_SIMPLE_NETWORK_PATH = re.compile(
    r"//[A-Za-z0-9.-]+(?::[0-9]*)?(?:/[^\x00-\x20\x7f?#;]*)?"
    r"(?:\?[^\x00-\x20\x7f#]+)?(?:#[^\x00-\x20\x7f]+)?"
)

# An http(s) URL with a lower-case host, no user info and no port, of printable ASCII
# that urlsplit splits at the obvious places: canonical_link only reassembles it.
_PLAIN_CANONICAL = re.compile(
    r"(https?://[a-z0-9.-]+)(/[!$-:=@-~]*)?(?:\?([!$-;=?-~]*))?(?:#[!#-;=?-~]*)?"
)
# An absolute http(s) URL that _clean_url leaves as it is and urljoin returns unchanged
# whatever the (parseable) base: no params, no empty query or fragment to drop.
_PLAIN_ABSOLUTE = re.compile(
    r"https?://[A-Za-z0-9.-]+(?::[0-9]*)?(?:/[!$-:=@-~]*)?(?:\?[!$-;=?-~]+)?(?:#[!#-;=?-~]+)?"
)

# An absolute http(s) URL of printable ASCII that urlparse splits at the obvious places
# (no params, a plain host): what _http_url returns unchanged and _base_parts reads.
_SIMPLE_BASE = re.compile(
    r'(https?)://([A-Za-z0-9.-]+(?::[0-9]*)?)(/[!-"$-:<->@-~]*)?(?:\?([!-"$-~]*))?(?:#[!-~]*)?'
)


@lru_cache(maxsize=256)
def _base_parts(base: str) -> _Base | None:
    # The base as urljoin reads it; None when a fast join could differ from urljoin's.
    simple = _SIMPLE_BASE.fullmatch(base)
    if simple is not None:
        scheme, netloc, path, query = simple.groups()
        return _base(scheme, netloc, path or "", query or "")
    try:
        scheme, netloc, path, params, query, _ = urlparse(base)
    except ValueError:
        return None
    if scheme not in ("http", "https") or not netloc or params:
        return None
    return _base(scheme, netloc, path, query)


# scheme, netloc, path, query; then what every path-relative join reads: "scheme://netloc",
# the path's directory, and whether that directory is free of "." segments and "//".
_Base = tuple[str, str, str, str, str, str, bool]


def _base(scheme: str, netloc: str, path: str, query: str) -> _Base:
    directory = path[: path.rfind("/") + 1] or "/"
    plain = "/." not in directory and "//" not in directory
    return scheme, netloc, path, query, f"{scheme}://{netloc}", directory, plain


def _join(base: str, url: str) -> str | None:
    """urljoin(base, url) for the common references, without its cost; None: not one.

    The same steps as urllib.parse.urljoin (RFC 3986 §5.2 as urllib reads it), minus the
    parsing that the patterns above make needless. tests/test_worker.py holds it to urljoin.
    """
    # One function, past the usual length, on purpose: it runs for every URL of every body,
    # and a call per step would cost a good part of what the fast path saves.
    parts = _base_parts(base)
    if parts is None or not url:
        return None
    scheme, _, bpath, bquery, origin, directory, plain_directory = parts
    if url.startswith("//"):
        # Protocol-relative: urljoin keeps everything but the scheme as written.
        return f"{scheme}:{url}" if _SIMPLE_NETWORK_PATH.fullmatch(url) else None
    match = _SIMPLE_REFERENCE.fullmatch(url)
    if match is None:
        return None
    path, query, fragment = match.groups()
    if query or fragment:
        tail = (f"?{query}" if query else "") + (f"#{fragment}" if fragment else "")
    else:
        tail = ""
    if not path:
        if not query and bquery:
            tail = f"?{bquery}{tail}"
        return f"{origin}{bpath}{tail}"
    # The usual cases, without splitting into segments: no "." or ".." segment to
    # remove, and (for a path-relative reference) no empty segment to squeeze out.
    if path[0] == "/":
        if "/." not in path:
            return f"{origin}{path}{tail}"
    elif path[0] != "." and plain_directory and "/." not in path and "//" not in path:
        return f"{origin}{directory}{path}{tail}"
    else:
        rest, up = path, 0
        while rest.startswith("../"):  # each one goes up a directory, never above the root
            rest, up = rest[3:], up + 1
        if rest[:1] not in (".", "/") and "/." not in rest and "//" not in rest and plain_directory:
            if up:
                names = directory.split("/")[1:-1]
                return (
                    f"{origin}{'/'.join(['', *names[: max(0, len(names) - up)], ''])}{rest}{tail}"
                )
            return f"{origin}{directory}{rest}{tail}"
    if path[0] == "/":
        segments = path.split("/")
    else:
        base_segments = bpath.split("/")
        if base_segments[-1] != "":
            del base_segments[-1]
        segments = base_segments + path.split("/")
        segments[1:-1] = filter(None, segments[1:-1])
    resolved: list[str] = []
    for segment in segments:
        if segment == "..":
            if resolved:
                resolved.pop()
        elif segment != ".":
            resolved.append(segment)
    if segments[-1] in (".", ".."):
        resolved.append("")
    resolved_path = "/".join(resolved) or "/"
    if resolved_path[0] != "/":  # as urlunparse puts it after a netloc ("/../a")
        resolved_path = "/" + resolved_path
    return f"{origin}{resolved_path}{tail}"


def clean_url(url: str | None) -> str | None:
    """`url` as a browser reads an href (see _clean_url: controls and spaces
    percent-encoded, ends trimmed); None when nothing is left.

    Raises nothing.
    """
    if not url:
        return None
    return _clean_url(url) or None


def canonical_link(url: str) -> str:
    """Return `url` spelled one way, so that two spellings of one page compare equal.

    Scheme and host are lower-cased; the default port, user info, fragment and tracking
    parameters (utm_*, fbclid, ...) are dropped. Other URLs come back only stripped.

    Raises nothing.
    """
    url = url.strip()
    plain = _PLAIN_CANONICAL.fullmatch(url)
    if plain is not None:
        # What the general steps below give for this shape, without urllib's parsing.
        head, path, query = plain.groups()
        if query:
            query = "&".join(
                p for p in query.split("&") if p and not _is_tracking(p.split("=", 1)[0])
            )
        return f"{head}{path or '/'}?{query}" if query else f"{head}{path or '/'}"
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


def _homes(feed: ParsedFeed, feed_url: str) -> tuple[str | None, str | None]:
    """What relative links resolve against where the feed declares no xml:base: the URL
    the feed was retrieved from (RFC 3986 §5.1.3); and what they resolved against before
    store version 6 (the channel's link), for the keys of posts stored then."""
    legacy = _absolute(feed.link, feed_url) or _http_url(feed_url)
    return _http_url(feed_url) or legacy, legacy


def _is_tracking(name: str) -> bool:
    name = name.lower()
    return name.startswith("utm_") or name in _TRACKING_PARAMS


def _absolute(url: str | None, base: str | None) -> str | None:
    """`url` resolved against `base`, when that gives an absolute http(s) URL."""
    if url and _PLAIN_ABSOLUTE.fullmatch(url) and (not base or _base_parts(base) is not None):
        return url  # the usual link: what the steps below would return
    url = _clean_url(url or "")
    if not url:
        return None
    try:
        joined = urljoin(base or "", url)
    except ValueError:
        return None
    return _http_url(joined)
