"""Normalize stage: ParsedFeed -> Posts (clean titles, safe HTML, UTC dates, stable keys).
Pure: no I/O and no clock (`now` is a parameter); never raises on what a feed contains.
"""

from __future__ import annotations

import hashlib
import html
import html.entities
import json
import re
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from urllib.parse import urljoin, urlparse, urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import nh3

from aggregator.htmlshape import bounded_depth, flattened_input
from aggregator.rules import RuleSet, map_category, rule_set, strip_elements
from aggregator.slug import slugify
from aggregator.types import Category, ParsedFeed, Post, RawEntry, Source, StoredIdentity
from aggregator.urls import clean_url as _clean_url
from aggregator.urls import http_url as _http_url

__all__ = [
    "ALLOWED_ATTRIBUTES",
    "ALLOWED_TAGS",
    "AUTHOR_LENGTH",
    "MAX_BODY_CHARS",
    "TITLE_LENGTH",
    "Oversized",
    "canonical_link",
    "clean_author",
    "clean_text",
    "clean_title",
    "clean_token",
    "clean_url",
    "entry_keys",
    "normalize",
    "normalize_with_keys",
    "plain_text",
    "post_key",
    "raw_hash",
    "reconcile",
    "sanitize_html",
    "text_hash",
    "with_content",
]

TITLE_LENGTH = 200
AUTHOR_LENGTH = 100  # characters of an author's name kept: a byline, not a biography
# The most HTML of one item that is sanitized: 1,000,000 characters, some fifty times a long
# article with its markup. A larger body (a hostile feed, or a site that puts its whole
# archive in one item) is cut before its cost is paid: see _capped.
MAX_BODY_CHARS = 1_000_000
FALLBACK_TITLE_LENGTH = 80  # a title made from the body: the first words only
KEY_LENGTH = 32  # hex digits of sha256: 128 bits, short enough for ids and URLs
# A date this far ahead of the fetch is a wrong clock or a scheduled post, not news: it is
# clamped to the time fetched (and counts as undated, so it never moves again).
FUTURE_TOLERANCE = timedelta(minutes=15)
# A date before this year is a misread ("99-12-31" as year 99), not a publication date: the
# item counts as undated. Post files must carry four-digit years (Jekyll reads no other).
MIN_YEAR = 1000
# Elements nested deeper than this are unwrapped (their text kept): see bounded_depth.
MAX_DEPTH = 64
# The same, roughly, before sanitizing, so that the parser's cost stays linear: see
# flattened_input.
MAX_INPUT_DEPTH = 256
# Part of every raw hash: bump it when a change here changes what an entry turns into, so
# that stored items are normalized again. 4: source-scoped keys, relative links against the
# feed's URL; every item normalized once more claims its post (see reconcile). 5: a relative
# link's key is the link as written (the URL it resolves against moves with redirects).
NORMALIZER_VERSION = "5"

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

_TRACKING_PARAMS = frozenset(
    {"fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "igshid", "_hsenc", "_hsmi"}
)
_GLOBAL_ID = re.compile(r"^(?:https?://[^/\s]+|tag:|urn:)", re.I)

_UNSAFE_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
# The same characters one by one: a `in` test of each is a fast scan in C, a regex
# search over a character class a slow one (~10x); almost no text holds any of them.
_UNSAFE_LIST = tuple(
    chr(c) for c in (*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F, 0xFFFE, 0xFFFF)
)
# C1 controls (U+0080-U+009F) are what an XML parser makes of "&#146;" and what a body
# labelled ISO-8859-1 but written in windows-1252 holds. A browser shows "&#146;" as "’"
# (HTML §13.2.5.80, the table html.unescape has): C1 controls are read the same way, and
# the five windows-1252 leaves undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D) are dropped.
_C1_AS_WINDOWS_1252 = {
    c: (char if (char := html.unescape(f"&#{c};")) != chr(c) else None) for c in range(0x80, 0xA0)
}
_UNSAFE_OR_C1 = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_C1 = re.compile("[\x80-\x9f]")
_C1_UTF8 = re.compile(rb"\xc2[\x80-\x9f]")  # a bytes pattern with a literal first byte: fast
_DROPPED_ELEMENTS = re.compile(r"<(script|style)\b[^>]*>.*?(?:</\1\s*>|$)", re.I | re.S)
# Only what looks like a real tag or comment: "a<b" or "1 < 2" in a title is text.
_MARKUP = re.compile(r"<!--.*?(?:-->|$)|<!\[CDATA\[|\]\]>|</?[a-zA-Z][^<>]*>|<[!?][^<>]*>", re.S)
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


def _without_unsafe(text: str) -> str:
    """`text` without the characters of _UNSAFE_CHARS, its C1 controls read as windows-1252
    (_C1_AS_WINDOWS_1252): the same as _scrubbed(text), faster."""
    if len(text) < 200:  # a title: one search costs less than the scans below
        return _scrubbed(text) if _UNSAFE_OR_C1.search(text) else text
    if any(c in text for c in _UNSAFE_LIST):
        return _scrubbed(text)
    if not text.isascii():
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate
            return _scrubbed(text)
        if b"\xc2" in data and _C1_UTF8.search(data):
            return _scrubbed(text)
    return text


def _scrubbed(text: str) -> str:
    text = _UNSAFE_CHARS.sub("", text)
    return text.translate(_C1_AS_WINDOWS_1252) if _C1.search(text) else text


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


def clean_title(raw: str | None, *, fallback_text: str) -> str:
    """Return a plain-text title: markup stripped, entities decoded, bounded length.

    `raw` is the title as HTML (parse gives every title in that form). Its character
    references are decoded, and those the decoded text still holds once more: a title
    escaped twice (`&amp;quot;`, 1.2% of real-world titles) reads as a reader means it.
    What a decoding yields is text, never markup (`&amp;lt;blink&amp;gt;` is the text
    `<blink>`); see _title_text for which tags are markup. When nothing is left, the first
    words of `fallback_text` (HTML as well, usually the body) stand in.

    Raises nothing.
    """
    title = _truncate(_title_text(raw or ""), TITLE_LENGTH)
    if title:
        return title
    return _truncate(_html_to_text(fallback_text, tag_gap=" "), FALLBACK_TITLE_LENGTH)


def clean_author(raw: str | None) -> str | None:
    """Return an item's author as one line of plain text, or None when it names none.

    `raw` is the author as the feed wrote it (dc:creator, author, itunes:author, an Atom
    author's name): markup is stripped and entities decoded once, as for a title, then an
    RSS address with a name (`jane@example.com (Jane Doe)`, `Jane Doe <jane@example.com>`)
    is reduced to the name; the result is cut to AUTHOR_LENGTH.

    Raises nothing.
    """
    if not raw:
        return None
    text = _markup_text(raw)
    named = _NAMED_ADDRESS.fullmatch(text)
    if named is not None:
        text = " ".join((named["after"] or named["before"] or named["angle"] or "").split())
    return _truncate(text, AUTHOR_LENGTH) or None


# RFC 5322 / RSS 2.0 forms of an address with a display name: "addr (Name)", "Name (addr)"
# (feedparser writes an Atom author with an email so), "Name <addr>". The name is shown.
_ADDRESS = r"[^\s()<>@,;]+@[^\s()<>@,;]+"
_NAMED_ADDRESS = re.compile(
    rf"{_ADDRESS}\s*\((?P<after>[^()]*[^\s()][^()]*)\)"
    rf"|(?P<before>[^()<>]*[^\s()<>])\s*\({_ADDRESS}\)"
    rf"|(?P<angle>[^()<>]*[^\s()<>])\s*<{_ADDRESS}>"
)

# Scripts and styles with their content, when closed: an unclosed "<script>" in a title is
# the name of a tag, not the start of one.
_CLOSED_DROPPED_ELEMENTS = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>", re.I | re.S)
# A tag as a title may hold it: a letter after "<" ("1 < 2" is text), no "<" or ">" inside.
_TITLE_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9:-]*)([^<>]*)>")
# Markup wherever it stands: comments, CDATA markers, declarations, processing instructions.
_NOT_TEXT = re.compile(r"<!--.*?(?:-->|$)|<!\[CDATA\[|\]\]>|<[!?][^<>]*>", re.S)
# Elements that HTML never closes: such a tag is markup on its own.
_VOID_ELEMENTS = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
     "source", "track", "wbr"}
)  # fmt: skip
# Elements that break a line or a block: where their tags go, a space stands ("One<br>Two"
# reads "One Two"); inline ones leave nothing ("Wo<b>rd</b>" reads "Word").
_BREAKING_ELEMENTS = frozenset(
    {"br", "hr", "p", "div", "li", "ul", "ol", "dd", "dt", "blockquote", "tr", "td", "th",
     "h1", "h2", "h3", "h4", "h5", "h6"}
)  # fmt: skip
# A character reference as HTML writes one, closed by ";": a bare "&" or "&copy 2024" in a
# title is text, as in "AT&T" or "Q&A".
_REFERENCE = re.compile(r"&(?:#[xX][0-9A-Fa-f]{1,8}|#[0-9]{1,8}|[A-Za-z][A-Za-z0-9]{1,31});")
_HTML5_ENTITIES = html.entities.html5


def _title_text(fragment: str) -> str:
    """The text of a title given as HTML, whitespace collapsed: _markup_text, and then the
    character references that text still holds decoded once more (never read as markup)."""
    text = _markup_text(fragment)
    if "&" in text and _REFERENCE.search(text) is not None:
        text = _collapsed(_without_unsafe(_decode_references(text)))
    return text


def _markup_text(fragment: str) -> str:
    """The text of a short HTML fragment (a title, an author), whitespace collapsed.

    Scripts and styles go with their content (when closed); comments and CDATA markers go. A tag is
    markup, and goes, when it is closed by a matching end tag (or ends one), is an element
    HTML never closes (`<br>`, `<img ...>`), is written self-closing, or carries an
    attribute value: `<b>Breaking</b> news` reads `Breaking news` (a tag that breaks a line
    or a block leaves a space). Any other tag is text
    about markup or code, and stays as written: `History of the <blink> tag`,
    `List<String>`. Character references are decoded once; the result is text.
    """
    text = _without_unsafe(fragment)
    if "<" in text or "]]>" in text:
        if "<" in text:
            text = _CLOSED_DROPPED_ELEMENTS.sub("", text)
        text = _NOT_TEXT.sub("", text)
        if "<" in text:
            text = _without_lone_markup(text)
    if "&" in text:
        text = _without_unsafe(_decode_references(text))  # &#1; decodes to \x01
    return _collapsed(text)


# Whitespace a title collapses, but the ideographic space: Japanese and Chinese titles set
# it between phrases (`新紙幣の発行始まる　２０年ぶり刷新`), as HTML keeps it.
_COLLAPSED_SPACE = re.compile(r"[^\S\u3000]+")


def _collapsed(text: str) -> str:
    if "\u3000" not in text:
        return " ".join(text.split())
    return _COLLAPSED_SPACE.sub(" ", text).strip(" ")


def _without_lone_markup(text: str) -> str:
    tags = list(_TITLE_TAG.finditer(text))
    if not tags:
        return text
    markup = [False] * len(tags)
    open_tags: dict[str, list[int]] = {}
    for index, tag in enumerate(tags):
        closing, name, rest = tag.groups()
        name = name.lower()
        if closing:
            opened = open_tags.get(name)
            if opened:
                markup[opened.pop()] = markup[index] = True
        elif name in _VOID_ELEMENTS or rest.rstrip().endswith("/"):
            markup[index] = True
        else:
            markup[index] = "=" in rest
            open_tags.setdefault(name, []).append(index)
    if not any(markup):
        return text
    parts: list[str] = []
    position = 0
    for tag, is_markup in zip(tags, markup, strict=True):
        if is_markup:
            parts.append(text[position : tag.start()])
            if tag.group(2).lower() in _BREAKING_ELEMENTS:
                parts.append(" ")
            position = tag.end()
    parts.append(text[position:])
    return "".join(parts)


def _decode_references(text: str) -> str:
    return _REFERENCE.sub(_decoded_reference, text)


def _decoded_reference(match: re.Match[str]) -> str:
    reference = match.group()
    if reference[1] == "#":
        return html.unescape(reference)  # as HTML reads it: &#150; is "–", &#0; U+FFFD
    return _HTML5_ENTITIES.get(reference[1:], reference)


def clean_text(text: str | None) -> str | None:
    """`text` as one line to store: the characters of _UNSAFE_CHARS removed (controls but
    tab, CR and newline; lone surrogates; U+FFFE, U+FFFF), C1 controls read as windows-1252
    (_C1_AS_WINDOWS_1252), whitespace collapsed; None when nothing is left. For a feed's
    title, an error message: what a feed or a server sends reaches the store through here
    or a post, never raw (PostgreSQL refuses a NUL byte).

    Raises nothing.
    """
    if not text:
        return None
    return " ".join(_without_unsafe(text).split()) or None


def clean_url(url: str | None) -> str | None:
    """`url` as a browser reads an href (see _clean_url: controls and spaces
    percent-encoded, ends trimmed); None when nothing is left.

    Raises nothing.
    """
    if not url:
        return None
    return _clean_url(url) or None


def clean_token(value: str | None) -> str | None:
    """`value` as it came, or None when it holds a character of _UNSAFE_CHARS: an ETag or a
    Last-Modified is sent back to the server byte for byte, and a changed one is no
    validator at all (RFC 9110 §8.8.3: an entity-tag holds no control character).

    Raises nothing.
    """
    # obs-text (0x80-0xFF, C1 controls as httpx reads them) is allowed in an entity-tag.
    if not value or _UNSAFE_CHARS.search(value):
        return None
    return value


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


def post_key(source_name: str, entry: RawEntry, content_html: str) -> str:
    """Return the post's stable identity within its source: from the guid, else the link,
    else the content.

    Every key holds the source's name: two sources carrying one guid or one link are two
    items, until their category's `dedupe` setting folds them (see reconcile). A link's
    fragment is part of it: a page listing items by anchor (`page#a`, `page#b`) holds as
    many items as anchors. A link still relative after parsing counts as written: what it
    resolves against, the URL the feed came from, changes with a redirect.

    Raises nothing.
    """
    return _key(source_name, entry.guid, entry.link, entry.title, content_html)


def _key(
    source_name: str,
    guid: str | None,
    link: str | None,
    title: str | None,
    content_html: str,
    canonical: str | None = None,
) -> str:
    # post_key from the fields it reads; `canonical`: canonical_link(link), when known.
    guid = (guid or "").strip()
    link = (link or "").strip()
    if guid:
        material = ["guid", source_name, guid]
    elif link:
        if canonical is None:
            canonical = canonical_link(link)
        material = ["link", source_name, _with_fragment(canonical, link)]
    else:
        material = ["content", source_name, title or "", content_html]
    return _digest(material)[:KEY_LENGTH]


def _legacy_key(
    source_name: str,
    guid: str | None,
    link: str | None,
    title: str | None,
    content_html: str,
    canonical: str | None = None,
) -> str:
    """The key of the formula before store version 6, for posts stored under it (see
    reconcile): a guid that is an absolute URL, a tag: or a urn:, and an absolute link
    without a guid, gave a key without the source in it; a link's fragment was dropped.
    Its bytes must never change: stored keys are made of them."""
    guid = (guid or "").strip()
    link = (link or "").strip()
    if guid:
        material = ["guid", guid] if _GLOBAL_ID.match(guid) else ["guid", source_name, guid]
    elif link:
        if canonical is None:
            canonical = canonical_link(link)
        absolute = _http_url(canonical) is not None
        material = ["link", canonical] if absolute else ["link", source_name, canonical]
    else:
        material = ["content", source_name, title or "", content_html]
    return _digest(material)[:KEY_LENGTH]


def _with_fragment(canonical: str, link: str) -> str:
    """`canonical` (canonical_link(link)) with `link`'s fragment put back, when it had one
    and canonical_link dropped it."""
    if "#" in canonical or "#" not in link:
        return canonical
    fragment = link.partition("#")[2]
    return f"{canonical}#{fragment}" if fragment else canonical


def _fragment(link: str) -> str:
    return link.partition("#")[2]


def normalize(
    feed: ParsedFeed,
    source: Source,
    *,
    now: datetime,
    site_timezone: str,
    feed_url: str,
    category: Category | None = None,
    known: Collection[str] = frozenset(),
) -> list[Post]:
    """Map every usable entry of `feed` to a Post, in feed order, one per key.

    An entry with neither link, guid, title nor content is skipped; a later entry with
    the key of an earlier one is dropped (feeds do repeat items). The source's rules and
    its `category`'s apply (include/exclude, max age, strip, category map). An entry whose
    raw hash is in `known` was normalized before and has not changed: it is skipped
    without the cost of sanitizing it.

    Raises nothing on what the feed holds.
    """
    posts, _ = normalize_with_keys(
        feed,
        source,
        now=now,
        site_timezone=site_timezone,
        feed_url=feed_url,
        category=category,
        known=known,
    )
    return posts


def normalize_with_keys(
    feed: ParsedFeed,
    source: Source,
    *,
    now: datetime,
    site_timezone: str,
    feed_url: str,
    category: Category | None = None,
    known: Collection[str] = frozenset(),
    oversized: list[Oversized] | None = None,
    dropped_links: list[str] | None = None,
) -> tuple[list[Post], set[str]]:
    """normalize(...) and entry_keys(...) of one feed in one pass: posts and feed keys.

    Each entry whose body was cut to MAX_BODY_CHARS is added to `oversized`, and each link
    left out because it is no http(s) URL (`javascript:`, `data:`, unresolvable) to
    `dropped_links`, when given.

    Raises nothing on what the feed holds.
    """
    zone = _zone(source.timezone or site_timezone)
    now_utc = now.astimezone(UTC) if now.tzinfo is not None else now.replace(tzinfo=UTC)
    feed_home, legacy_home = _homes(feed, feed_url)
    rules = rule_set(source, category)
    salt = _salt(source, category, site_timezone, feed_home, legacy_home)
    posts: list[Post] = []
    seen: set[str] = set()
    keys: set[str] = set()
    for entry in feed.entries:
        digest = raw_hash(entry, salt)
        post = None
        if digest not in known:
            post = _post(
                entry,
                source,
                zone=zone,
                now=now_utc,
                feed_home=feed_home,
                legacy_home=legacy_home,
                rules=rules,
                raw=digest,
                oversized=oversized,
                dropped_links=dropped_links,
            )
        if post is not None and post.key not in seen:
            seen.add(post.key)
            posts.append(post)
        if entry.guid or entry.link:
            if post is not None and ((entry.guid or "").strip() or (entry.link or "").strip()):
                # Made from the guid or the link: entry_keys' keys.
                keys.add(post.key)
                keys.add(post.legacy_key)
            else:
                keys.update(_entry_key(entry, source.name, feed_home, legacy_home))
    return posts, keys


def _homes(feed: ParsedFeed, feed_url: str) -> tuple[str | None, str | None]:
    """What relative links resolve against where the feed declares no xml:base: the URL
    the feed was retrieved from (RFC 3986 §5.1.3); and what they resolved against before
    store version 6 (the channel's link), for the keys of posts stored then."""
    legacy = _absolute(feed.link, feed_url) or _http_url(feed_url)
    return _http_url(feed_url) or legacy, legacy


def raw_hash(entry: RawEntry, salt: str = "") -> str:
    """Hash of an entry as the feed wrote it, plus `salt` (what else shapes its post).

    Raises nothing.
    """
    # "raw 3" names this layout (the one before hashed json of [salt, repr(entry)]).
    digest = hashlib.sha256(f"raw 3\0{len(salt)}:{salt}".encode("utf-8", "surrogatepass"))
    # Every field of RawEntry, each framed so that no two entries write the same bytes:
    # the short ones through repr, the two bodies as UTF-8 with their lengths (the summary
    # is often the content again: a marker then stands in for it).
    short = repr(
        (
            entry.guid,
            entry.link,
            entry.title,
            entry.published,
            entry.updated,
            entry.author,
            entry.categories,
            entry.base,
        )
    )
    _frame(digest, short)
    _frame(digest, entry.content)
    if entry.summary is not None and entry.summary == entry.content:
        digest.update(b"=")
    else:
        _frame(digest, entry.summary)
    return digest.hexdigest()[:KEY_LENGTH]


def _frame(digest: hashlib._Hash, text: str | None) -> None:
    if text is None:
        digest.update(b"N")
        return
    data = text.encode("utf-8", "surrogatepass")
    digest.update(b"S%d:" % len(data))
    digest.update(data)


def _salt(
    source: Source,
    category: Category | None,
    site_timezone: str,
    home: str | None,
    legacy_home: str | None,
) -> str:
    # Everything besides the entry that decides its post: a config edit re-normalizes.
    return repr((NORMALIZER_VERSION, source, category, site_timezone, home, legacy_home))


def entry_keys(feed: ParsedFeed, source: Source, *, feed_url: str) -> set[str]:
    """The keys of the entries that have a guid or a link, without sanitizing anything:
    each one's key and legacy key (the one posts stored before store version 6 have).

    `reconcile` needs every key the feed still carries, skipped entries included.

    Raises nothing.
    """
    feed_home, legacy_home = _homes(feed, feed_url)
    keys: set[str] = set()
    for entry in feed.entries:
        if entry.guid or entry.link:
            keys.update(_entry_key(entry, source.name, feed_home, legacy_home))
    return keys


def _entry_key(
    entry: RawEntry, source_name: str, feed_home: str | None, legacy_home: str | None
) -> tuple[str, str]:
    # The key and legacy key _post gives the entry, as far as they do not depend on the
    # content.
    link = _absolute(entry.link, feed_home) or ""
    legacy_link = _legacy_link(entry, link, feed_home, legacy_home)
    return (
        _key(source_name, entry.guid, _key_link(entry, link) or entry.link, entry.title, ""),
        _legacy_key(source_name, entry.guid, legacy_link or entry.link, entry.title, ""),
    )


def _key_link(entry: RawEntry, link: str) -> str:
    """The link a key is made of: `link`, unless it was resolved against the URL the feed
    came from (still relative after parsing, which resolved any xml:base), which a
    redirect or a moved feed changes while the item stays the same one: then the link as
    written."""
    if not link or not entry.link:
        return link
    written = entry.link.strip()
    return link if _absolute(written, None) is not None else written


def _legacy_link(entry: RawEntry, link: str, feed_home: str | None, legacy_home: str | None) -> str:
    # `link` as it was resolved before store version 6: against the content's xml:base,
    # else the channel's link.
    old_base = entry.base or legacy_home
    if old_base == feed_home or not entry.link:
        return link
    return _absolute(entry.link, old_base) or ""


def text_hash(content_html: str) -> str:
    """Hash of the plain text of a post's body ("" when it has none): one story, two links.

    Raises nothing.
    """
    return _text_digest(_html_to_text(content_html, tag_gap=" "))


def _text_digest(text: str) -> str:
    # `text` is plain_text(content_html): _post has it already and need not redo it.
    # _digest(["text", text]): plain text holds no control character (whitespace is
    # collapsed, the others are gone with the unsafe characters).
    text = text.casefold()
    if not text:
        return ""
    data = f'["text",{_json_clean_string(text)}]'
    return hashlib.sha256(data.encode("utf-8", "surrogatepass")).hexdigest()[:KEY_LENGTH]


def reconcile(
    posts: Sequence[Post],
    stored: Sequence[StoredIdentity],
    *,
    feed_keys: Collection[str] = frozenset(),
    dedupe: Mapping[str, str] | None = None,
) -> list[Post]:
    """Posts as the store should take them: identities kept, duplicates of other sources gone.

    `stored` is what the store holds under the posts' keys and legacy keys, their canonical
    links and text hashes (Store.identities). A post takes the stored post of its own source
    that it is:

    - the one under its key, or that it claimed before (`identity_key`);
    - the one under its legacy key, stored before keys held the source and the fragment,
      that no item has claimed yet: of the posts sharing that legacy key (a page's anchors,
      once folded into one), the one showing the stored link, else the first;
    - the one its canonical link names, the only one of the source there, when the key that
      post was stored under is gone from the feed: the same item under a changed guid.

    Otherwise its category's `dedupe` mode (default "link") decides whether another
    source's post in the same category is the same story, and the post is dropped (the
    first source is credited): by its link or its global guid ("link", "content"), or its
    text ("content"); "off" keeps it. Nothing else folds two items into one post.

    Raises nothing.
    """
    modes = dedupe or {}
    by_key = {s.key: s for s in stored}
    by_identity = {s.identity_key: s for s in stored if s.identity_key}
    current = set(feed_keys)
    for p in posts:
        current.add(p.key)
        if p.legacy_key:
            current.add(p.legacy_key)
    own: dict[tuple[str, str], list[StoredIdentity]] = {}
    for s in stored:
        if s.canonical_link:
            own.setdefault((s.source, s.canonical_link), []).append(s)
    links_in_batch = Counter((p.source, p.canonical_link) for p in posts if p.canonical_link)
    heirs = _heirs(posts, by_key, by_identity)
    result: list[Post] = []
    taken: set[str] = set()
    for index, post in enumerate(posts):
        hit = _own_row(post, by_key, by_identity)
        if hit is None and heirs.get(post.legacy_key) == index:
            hit = by_key[post.legacy_key]
        if hit is not None:
            if hit.key not in taken:
                taken.add(hit.key)
                result.append(post if hit.key == post.key else replace(post, key=hit.key))
            continue
        if post.canonical_link and links_in_batch[(post.source, post.canonical_link)] == 1:
            olds = own.get((post.source, post.canonical_link), [])
            # Exactly one stored post, and its old guid is gone from the feed: a site that
            # links every item to its home page must not fold them all into one post.
            if (
                len(olds) == 1
                and olds[0].key not in current
                and olds[0].identity_key not in current
                and olds[0].key not in taken
                and _fragments_agree(post.link, olds[0].link)
            ):
                taken.add(olds[0].key)
                result.append(replace(post, key=olds[0].key))
                continue
        if _duplicate(post, stored, modes.get(post.category, "link")):
            continue
        if post.key not in taken:
            taken.add(post.key)
            result.append(post)
    return result


def _own_row(
    post: Post, by_key: Mapping[str, StoredIdentity], by_identity: Mapping[str, StoredIdentity]
) -> StoredIdentity | None:
    # The post of post's source stored under its key, or claimed by it under another.
    for found in (by_key.get(post.key), by_identity.get(post.key)):
        if found is not None and found.source == post.source:
            return found
    return None


def _heirs(
    posts: Sequence[Post],
    by_key: Mapping[str, StoredIdentity],
    by_identity: Mapping[str, StoredIdentity],
) -> dict[str, int]:
    """For each unclaimed post stored under a legacy key of `posts` by their source: the
    index of the one post that takes it over."""
    heirs: dict[str, int] = {}
    for index, post in enumerate(posts):
        legacy = post.legacy_key
        if not legacy or legacy == post.key or _own_row(post, by_key, by_identity):
            continue
        old = by_key.get(legacy)
        if old is None or old.source != post.source or old.identity_key:
            continue
        first = heirs.get(legacy)
        if first is None or (post.link == old.link and posts[first].link != old.link):
            heirs[legacy] = index
    return heirs


def _duplicate(post: Post, stored: Sequence[StoredIdentity], mode: str) -> bool:
    if mode == "off":
        return False
    for s in stored:
        if s.source == post.source or s.category != post.category:
            continue
        same_link = bool(post.canonical_link) and s.canonical_link == post.canonical_link
        # A legacy key holds no source name only for a global guid (or an absolute link):
        # another source's post under it carries the same guid.
        same_id = bool(post.legacy_key) and post.legacy_key in (s.key, s.legacy_key)
        if (same_link or same_id) and _fragments_agree(post.link, s.link):
            return True
        if mode == "content" and post.text_hash and s.text_hash == post.text_hash:
            return True
    return False


def _fragments_agree(a: str, b: str) -> bool:
    # Two links to one page name one item unless each names an anchor of its own.
    fa, fb = _fragment(a), _fragment(b)
    return not fa or not fb or fa == fb


def with_content(post: Post, content_html: str) -> Post:
    """`post` showing `content_html` (already sanitized) instead, its hashes to match.

    Raises nothing.
    """
    return replace(
        post,
        content_html=content_html,
        content_hash=_digest([post.title, post.link, content_html, list(post.tags)]),
        text_hash=text_hash(content_html),
    )


def plain_text(content_html: str) -> str:
    """The text of an HTML fragment, whitespace collapsed.

    Raises nothing.
    """
    return _html_to_text(content_html, tag_gap=" ")


def _post(
    entry: RawEntry,
    source: Source,
    *,
    zone: tzinfo,
    now: datetime,
    feed_home: str | None,
    legacy_home: str | None,
    rules: RuleSet,
    raw: str = "",
    oversized: list[Oversized] | None = None,
    dropped_links: list[str] | None = None,
) -> Post | None:
    if not (entry.link or entry.guid or entry.title or entry.content or entry.summary):
        return None
    # Parsing resolved the link against the xml:base in effect for it; what is still
    # relative resolves against the feed's own URL (entry.base is the content's base).
    link = _absolute(entry.link, feed_home) or ""
    if not link and dropped_links is not None and entry.link and entry.link.strip():
        dropped_links.append(entry.link.strip())
    base = entry.base or link or feed_home
    body = entry.content or entry.summary or ""
    if len(body) > MAX_BODY_CHARS:
        capped = _capped(body, entry.summary)
        if oversized is not None:
            item = link or (entry.guid or "").strip() or (entry.title or "").strip()[:80]
            oversized.append(Oversized(item=item, size=len(body), kept=len(capped)))
        body = capped
    if rules.strip:
        body = strip_elements(body, rules.strip)
    content_html = sanitize_html(body, base_url=base, allow_data_images=source.allow_data_images)
    text = _sanitized_text(content_html)  # the body's text, once: title, rules and text hash
    # clean_title, with the text above as the fallback's reading of content_html.
    title = (
        _truncate(_title_text(entry.title or ""), TITLE_LENGTH)
        or _truncate(text, FALLBACK_TITLE_LENGTH)
        or link
        or source.name
    )

    published = _dated(entry.published, zone, source.date_offset) or _dated(
        entry.updated, zone, source.date_offset
    )
    dated = published is not None
    if published is None or published > now + FUTURE_TOLERANCE:
        published, dated = now, False
    updated = _dated(entry.updated, zone, source.date_offset) or published
    updated = min(max(updated, published), max(now, published))

    if rules.filters and not rules.keep(title=title, text=text, published=published, now=now):
        return None
    category = map_category(entry.categories, source.category_map) or source.category
    tags = source.tags
    canonical = canonical_link(link) if link else ""
    key_link = _key_link(entry, link)
    key = _key(
        source.name,
        entry.guid,
        key_link or entry.link,
        entry.title,
        content_html,
        (canonical or None) if key_link == link else None,
    )
    legacy_link = _legacy_link(entry, link, feed_home, legacy_home)
    legacy_content = content_html
    if not (entry.guid or "").strip() and not (legacy_link or entry.link or "").strip():
        # Keyed by its content, which was sanitized against the old base.
        legacy_base = entry.base or legacy_link or legacy_home
        if legacy_base != base:
            legacy_content = sanitize_html(
                body, base_url=legacy_base, allow_data_images=source.allow_data_images
            )
    if legacy_link == link:
        legacy_canonical = canonical
    else:
        legacy_canonical = canonical_link(legacy_link) if legacy_link else ""
    legacy_key = _legacy_key(
        source.name,
        entry.guid,
        legacy_link or entry.link,
        entry.title,
        legacy_content,
        legacy_canonical or None,
    )
    return Post(
        key=key,
        legacy_key=legacy_key,
        identity_key=key,
        source=source.name,
        category=category,
        title=title,
        link=link,
        published=published,
        updated=updated,
        content_html=content_html,
        tags=tags,
        slug=slugify(title) or "post",
        content_hash=_content_hash(title, link, content_html, tags),
        dated=dated,
        canonical_link=canonical,
        text_hash=_text_digest(text),
        raw_hash=raw,
        author=clean_author(entry.author),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Oversized:
    """An item whose body was cut to MAX_BODY_CHARS before sanitizing."""

    item: str  # its link, else its guid, else its title
    size: int  # characters of HTML it carried
    kept: int  # characters sanitized


def _capped(body: str, summary: str | None) -> str:
    """`body` cut to at most MAX_BODY_CHARS: its summary when that is short enough and not
    the same text, else its head, ended before the last tag that would be cut in two."""
    if summary and len(summary) <= MAX_BODY_CHARS and not body.startswith(summary):
        return summary
    head = body[:MAX_BODY_CHARS]
    tag = head.rfind("<")
    # A cut inside a tag would leave half of it (an attribute's value) as text.
    if tag > MAX_BODY_CHARS // 2 and head.find(">", tag) == -1:
        head = head[:tag]
    return head


def _html_to_text(fragment: str, *, tag_gap: str) -> str:
    text = _without_unsafe(fragment)
    if "<" in text:
        text = _DROPPED_ELEMENTS.sub(tag_gap, text)
    if "<" in text or "]]>" in text:
        text = _MARKUP.sub(tag_gap, text)
    if "&" in text:
        text = _without_unsafe(html.unescape(text))  # &#0; decodes to U+FFFD, &#x1; to \x01
    return " ".join(text.split())


_TAG = re.compile(r"<[^<>]*>")  # a tag of sanitize_html's output: see _sanitized_text


def _sanitized_text(clean: str) -> str:
    """_html_to_text(clean, tag_gap=" ") for `clean` from sanitize_html, at ~60% of its cost.

    sanitize_html's serializer escapes "<" and ">" in text and in attribute values alike,
    and writes no comment, CDATA, script or style: every "<" opens a tag that the next ">"
    closes. Its output holds no unsafe character, and its text no entity but &amp; &lt;
    &gt; &nbsp; (attribute values, where others are, go with their tags). Should the tags
    not pair up so (a serializer that stops escaping in attributes), the general reading
    is taken.
    """
    text = _TAG.sub(" ", clean)
    if "<" in text or ">" in text:
        return _html_to_text(clean, tag_gap=" ")
    if "&" in text:
        # &amp; last: "&amp;lt;" is the text "&lt;". &nbsp; is whitespace, as its
        # character is to str.split.
        text = text.replace("&nbsp;", " ").replace("&lt;", "<").replace("&gt;", ">")
        text = text.replace("&amp;", "&")
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


@lru_cache(maxsize=64)
def _zone(name: str) -> tzinfo:
    # Config validation refuses unknown zones; UTC here keeps normalize total anyway.
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return UTC


def _dated(value: datetime | None, zone: tzinfo, offset: timedelta) -> datetime | None:
    utc = _in_utc(value, zone)
    if utc is not None and offset:
        try:
            utc = utc + offset
        except OverflowError:
            return None
    if utc is None or utc.year < MIN_YEAR:
        return None
    return utc


def _in_utc(value: datetime | None, zone: tzinfo) -> datetime | None:
    """`value` as aware UTC; a naive value is read as local time in `zone`.

    A zone abbreviation that `zone` itself uses means `zone`: "CST" in a feed from
    Asia/Shanghai is China Standard Time (+08:00), not RFC 822's US Central (-06:00).
    """
    if value is None:
        return None
    try:
        if value.tzinfo is None:
            aware = value.replace(tzinfo=zone)
        else:
            aware = value
            name = value.tzname() if isinstance(value.tzinfo, timezone) else None
            if name and name.isalpha():
                local = value.replace(tzinfo=zone)
                if local.tzname() == name:
                    aware = local
        return aware.astimezone(UTC)
    except (OverflowError, ValueError):
        return None  # year 1 or 9999 shifted past the calendar's edge


def _digest(parts: Sequence[str | Sequence[str]]) -> str:
    """sha256 of json.dumps(parts, ensure_ascii=False, separators=(",", ":")), in hex.

    The same bytes as json.dumps (stored keys and hashes depend on them), written out
    here: the encoder's per-object machinery costs more than the escaping itself.
    """
    data = "[" + ",".join(_json_item(part) for part in parts) + "]"
    return hashlib.sha256(data.encode("utf-8", "surrogatepass")).hexdigest()


def _json_item(part: str | Sequence[str]) -> str:
    if isinstance(part, str):
        return _json_string(part)
    return "[" + ",".join(map(_json_string, part)) + "]"


_json_string = json.encoder.encode_basestring  # C when available, as json.dumps uses it


def _json_clean_string(text: str) -> str:
    """json.dumps(text, ensure_ascii=False) for text with no control character but tab, CR
    and newline, such as sanitize_html's output and the text read from it: C's escaping
    loop costs several times these replacements on a long body."""
    for char, replacement in _JSON_ESCAPES:
        if char in text:
            text = text.replace(char, replacement)
    return f'"{text}"'


# Backslash first: the later replacements add backslashes that must stay single.
_JSON_ESCAPES = (("\\", "\\\\"), ('"', '\\"'), ("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t"))


def _content_hash(title: str, link: str, content_html: str, tags: Sequence[str]) -> str:
    # _digest([title, link, content_html, list(tags)]) for content_html from sanitize_html.
    body = _json_clean_string(content_html)
    data = f"[{_json_string(title)},{_json_string(link)},{body},{_json_item(tags)}]"
    return hashlib.sha256(data.encode("utf-8", "surrogatepass")).hexdigest()
