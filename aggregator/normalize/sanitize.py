"""Normalize stage, HTML cleaning: a feed's HTML -> HTML with only the allowed tags and
attributes (nh3's allowlist), URLs made absolute, lazy images given their real source,
tracking pixels and emptied paragraphs dropped.

Pure: no I/O, no clock; any string in gives safe HTML out, never an exception. Cleans
HTML only: reads no title and makes no key.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from contextvars import ContextVar
from urllib.parse import urljoin, urlsplit

import nh3

from aggregator.htmlshape import bounded_depth, flattened_input
from aggregator.normalize.text import _without_unsafe
from aggregator.normalize.urls import _SIMPLE_BASE, _join
from aggregator.urls import clean_url as _clean_url
from aggregator.urls import http_url as _http_url

__all__ = ["ALLOWED_ATTRIBUTES", "ALLOWED_TAGS", "MAX_DEPTH", "URL_SCHEMES", "sanitize_html"]

# Elements nested deeper than this are unwrapped (their text kept): see bounded_depth.
MAX_DEPTH = 64
# The same, roughly, before sanitizing, so that the parser's cost stays linear: see
# flattened_input.
MAX_INPUT_DEPTH = 256

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
    # data-src, data-original and srcset are read by _fix_images and never reach the output.
    "img": frozenset(
        {"src", "alt", "title", "width", "height", "data-src", "data-original", "srcset"}
    ),
    "th": frozenset({"colspan", "rowspan"}),
    "td": frozenset({"colspan", "rowspan"}),
}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
# Dropped with everything inside: their text is code or chrome, never article prose.
_DROP_WITH_CONTENT = frozenset(
    {"script", "style", "iframe", "object", "embed", "noscript", "template", "textarea",
     "select", "svg", "math", "head", "title"}
)  # fmt: skip

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
    joined = _join(base, url)
    if joined is not None:
        return joined
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

_DATA_IMAGE = re.compile(r"data:image/(?:png|gif|jpeg|webp|avif);base64,[A-Za-z0-9+/=\s]*\Z", re.I)


def _data_images_only(element: str, attribute: str, value: str) -> str | None:
    # Must not raise (see _resolve_relative). An svg+xml data URL can carry script: refused.
    if value[:5].lower() != "data:":
        return value
    if element == "img" and attribute == "src" and _DATA_IMAGE.match(value):
        return value
    return None


# Only for sources with allow_data_images: the attribute filter is a Python call per
# attribute, a cost the default cleaner does not pay.
_DATA_CLEANER = nh3.Cleaner(
    tags=set(ALLOWED_TAGS),
    clean_content_tags=set(_DROP_WITH_CONTENT),
    attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
    url_schemes=set(URL_SCHEMES) | {"data"},
    url_relative=_resolve_relative,
    attribute_filter=_data_images_only,
    link_rel="noopener noreferrer",
    strip_comments=True,
)

# nh3's output is serialized by html5ever: attributes are double-quoted, `"` escaped, so
# these patterns read it exactly (they are not meant for HTML from elsewhere).
_IMG = re.compile(r'<img((?:\s+[^\s=>/]+(?:="[^"]*")?)*)\s*/?>')
_ATTR = re.compile(r'\s+([^\s=>/]+)(?:="([^"]*)")?')
_LAZY = ("data-src", "data-original", "srcset")
# An image that _fix_image may change: one with a lazy-loading attribute, or a width that
# _is_pixel could read as 0 or 1 (digits of any script, spaces, "px"), and a few more.
_IMAGE_TO_FIX = re.compile(
    r'<img(?:\s+[^\s=>/]+(?:="[^"]*")?)*?\s+(?:data-|srcset|width="[\s01px\x80-\U0010ffff]*")'
)
_EMPTY_PARAGRAPH = re.compile(r"<p>(?:\s|&nbsp;|\u00a0|<br>)*</p>")
_IMAGE_TO_FIX_OR_EMPTY_PARAGRAPH = re.compile(f"{_IMAGE_TO_FIX.pattern}|{_EMPTY_PARAGRAPH.pattern}")


def sanitize_html(html: str, *, base_url: str | None, allow_data_images: bool = False) -> str:
    """Return `html` with only the allowed tags and attributes, URLs made absolute.

    Whitespace between tags is kept as it was. Relative URLs are resolved against
    `base_url`; without one they stay relative. Lazy-loaded images get their real `src`,
    tracking pixels (1x1 images) are dropped, and so are paragraphs left empty.
    `data:` images are kept only with `allow_data_images`.

    The result holds none of the unsafe characters (controls but tab, CR and newline,
    surrogates, noncharacters): _json_clean_string and _sanitized_text rely on that. Nor
    does it hold C1 controls: they are read as windows-1252, as "&#146;" is (’).

    Raises nothing: any string in gives safe HTML out.
    """
    simple = base_url is not None and _SIMPLE_BASE.fullmatch(base_url) is not None
    token = _BASE_URL.set(base_url if simple else _http_url(base_url))
    try:
        cleaner = _DATA_CLEANER if allow_data_images else _CLEANER
        html = _without_unsafe(html)
        clean = _cleaned(cleaner, flattened_input(html, MAX_INPUT_DEPTH))
        clean = bounded_depth(clean, MAX_DEPTH)
        # _fix_image changes only lazy images and pixels: the pass is skipped when no
        # image can be one (most bodies), which keeps its Python call per image away.
        # One scan tells the usual body, which needs neither pass, from the rest.
        fixed = False
        if _IMAGE_TO_FIX_OR_EMPTY_PARAGRAPH.search(clean) is not None:
            fixed = _IMAGE_TO_FIX.search(clean) is not None
            if fixed:
                clean = _IMG.sub(_fix_image, clean)
            if "<p>" in clean:
                clean = _EMPTY_PARAGRAPH.sub("", clean)
        # The input is free of unsafe characters now; only a character reference (&#1;,
        # which the serializer writes out raw) or an image URL unescaped by _fix_image
        # can bring one back.
        return _without_unsafe(clean) if fixed or ("#" in html and "&#" in html) else clean
    finally:
        _BASE_URL.reset(token)


# nh3's parser spends, on each "&" of a text run, time in proportion to the rest of the run
# (up to the next "<" or ">"): a body of "& & & ..." costs the square of its length (3 MB,
# most of a minute). An "&" that starts no character reference (not followed by a letter,
# digit or "#") is the character "&" wherever it stands (HTML §13.2.5.72), and the
# serializer writes that character as "&amp;" in text and in attributes alike: such "&"
# are handed to nh3 as a stand-in character the body does not hold, written back after.
# "&\r" is left alone: html5ever reads the CR after a bare "&" in its own way. The one
# output that differs is an absolute URL whose host holds a bare "&" (no real host does):
# the stand-in is no valid host character, so that attribute is dropped.
_BARE_AMPERSAND = re.compile(r"&(?![A-Za-z0-9#\r])")
_AMPERSAND_STAND_INS = ("\ue000", "\ue001", "\ue002", "\uf8ff")  # Private Use: no meaning
_NUMERIC_REFERENCE = re.compile(r"&#(?:[xX]0*([0-9a-fA-F]{1,8})|0*([0-9]{1,8}))")
# Below this length, or with fewer "&" than this, the parser's extra cost is too small to
# pay for the substitution (its scans cost ~15 µs on a 5 KB article); the square only
# grows large with many "&" in one long run.
_STAND_IN_MIN_LENGTH = 4096
_STAND_IN_MIN_AMPERSANDS = 512


def _cleaned(cleaner: nh3.Cleaner, html: str) -> str:
    """str(cleaner.clean(html)), without the parser's cost per bare ampersand."""
    if len(html) < _STAND_IN_MIN_LENGTH or html.count("&") < _STAND_IN_MIN_AMPERSANDS:
        return str(cleaner.clean(html))
    taken: set[int] = set()
    if "&#" in html:  # a numeric reference may write a stand-in into the output
        for hex_digits, digits in _NUMERIC_REFERENCE.findall(html):
            taken.add(int(hex_digits, 16) if hex_digits else int(digits))
    stand_in = next(
        (c for c in _AMPERSAND_STAND_INS if c not in html and ord(c) not in taken), None
    )
    if stand_in is None:  # a body holding all of them: read as it is
        return str(cleaner.clean(html))
    substituted = _BARE_AMPERSAND.sub(stand_in, html)
    clean = str(cleaner.clean(substituted))
    if substituted is html or stand_in not in clean:
        return clean
    return clean.replace(stand_in, "&amp;")


def _fix_image(match: re.Match[str]) -> str:
    attrs = {name: value or "" for name, value in _ATTR.findall(match.group(1))}
    if _is_pixel(attrs.get("width"), attrs.get("height")):
        return ""
    if not any(name in attrs for name in _LAZY):
        return match.group(0)
    # Lazy loaders keep the real image in data-src/data-original (src holds a placeholder,
    # or nothing once a data: placeholder is refused); srcset is the last resort.
    candidates = [attrs.get("data-src"), attrs.get("data-original"), attrs.get("src")]
    srcset = attrs.get("srcset", "").strip()
    if srcset:
        candidates.append(html.unescape(srcset).split(",")[0].strip().split(" ")[0])
    src = None
    for candidate in candidates:
        if candidate:
            src = _resolve_relative(html.unescape(candidate))
            if src and (src.startswith(("http://", "https://")) or ":" not in src):
                break
            src = None
    kept = [(n, v) for n, v in attrs.items() if n not in _LAZY and n != "src"]
    if src:
        kept.insert(0, ("src", html.escape(_clean_url(src), quote=True)))
    return "<img" + "".join(f' {n}="{v}"' for n, v in kept) + ">"


def _is_pixel(width: str | None, height: str | None) -> bool:
    def tiny(value: str | None) -> bool:
        if value is None:
            return False
        digits = value.strip().removesuffix("px").strip()
        # isdecimal, not isdigit: int() refuses digits such as "¹".
        return digits.isdecimal() and int(digits) <= 1

    return tiny(width) and tiny(height)
