"""Shapes of HTML that the code around it cares about: how deep it nests, and whether
kramdown (Jekyll's Markdown) reads it as HTML only.

Pure: no I/O. `bounded_depth` and `kramdown_body` take the sanitizer's output (tags that
pair up, no ">" in attribute values, no comments); `flattened_input` alone takes a feed's
raw HTML, and only counts and drops what look like tags in it (the sanitizer reads it
after).
"""

from __future__ import annotations

import re
from itertools import accumulate

__all__ = ["bounded_depth", "flattened_input", "has_markdown_signs", "kramdown_body"]

_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)[^>]*>")
_VOID = frozenset({"br", "hr", "img", "wbr", "col", "area", "source", "track"})
# "" for each start tag of an element with content, "/" for each end tag.
# (The serializer writes names in lower case; a case-blind pattern costs ten times more.)
_OPEN_OR_CLOSE = re.compile(r"<(/?)(?!(?:br|hr|img|wbr|col|area|source|track)[\s/>])[a-z]")
_STEP = {"": 1, "/": -1}
# kramdown 2 reads these as text-level HTML: at the start of a block they open a Markdown
# paragraph, where the text around them is Markdown (kramdown/parser/html.rb).
_KRAMDOWN_SPAN = frozenset(
    {
        "a", "abbr", "acronym", "b", "big", "bdo", "br", "button", "cite", "code", "del",
        "dfn", "em", "i", "img", "input", "ins", "kbd", "label", "mark", "option", "q", "rb",
        "rbc", "rp", "rt", "rtc", "ruby", "samp", "select", "small", "span", "strong", "sub",
        "sup", "tt", "u", "var",
    }
)  # fmt: skip
# Between two blocks of HTML kramdown skips blank lines, then takes "<" after at most
# three spaces as HTML again; four spaces or a tab start a code block.
_GAP = re.compile(r"(?:[ \t]*\n)*[ ]{0,3}")
# What kramdown can read as Markdown that makes a link, an image or an attribute where it
# parses the text of HTML (an operator's `parse_block_html: true`): inline and reference
# links and images, link and footnote definitions, attribute lists and extensions. "[1]"
# or "[…]" alone is only text.
_MARKDOWN_SIGNS = ("](", "][", "]:", "{:")


def bounded_depth(clean: str, limit: int) -> str:
    """`clean` with the elements nested deeper than `limit` unwrapped: their tags
    dropped, their text kept where it was.

    Markdown builders parse HTML recursively: kramdown's stack runs out between 1,000 and
    2,000 nested elements and fails the whole site's build.
    """
    if clean.count("<") <= 2 * limit:  # its tags pair up: fewer cannot nest deeper
        return clean
    # The deepest nesting, counted in C: most long bodies are shallow, and pass here.
    steps = map(_STEP.__getitem__, _OPEN_OR_CLOSE.findall(clean))
    if max(accumulate(steps, initial=0)) <= limit:
        return clean
    return _drop_deeper(clean, _TAG, _VOID, limit)


def kramdown_body(clean: str) -> str:
    """`clean` as a post file's body that kramdown passes through as HTML, never reading
    any of its text as Markdown.

    A body made only of block-level elements with blank space between them is already
    read so (kramdown keeps the inside of block HTML as it is) and is written unchanged;
    any other body — bare text, a link or an image at the top, text after a closing tag —
    is wrapped in `<div markdown="0">`, which tells kramdown to parse none of it.
    """
    if not clean or _is_html_blocks(clean):
        return clean
    return f'<div markdown="0">{clean}</div>'


def has_markdown_signs(clean: str) -> bool:
    """Whether `clean` holds one of _MARKDOWN_SIGNS. Most bodies hold no "]" and no "{",
    which one memchr each tells: the four searches of every sign took a third of
    kramdown_body's time on 3.5 KB bodies (11 µs of 30)."""
    if "]" in clean and ("](" in clean or "][" in clean or "]:" in clean):
        return True
    return "{" in clean and "{:" in clean


def _is_html_blocks(clean: str) -> bool:
    if has_markdown_signs(clean):
        return False
    found = _top_level_blocks(clean)
    return _walk_tags(clean) if found is None else found


# A top-level start tag as the serializer writes it (lower case, one space before the
# attributes), after what may come between two blocks.
_BLOCK_START = re.compile(r"(?:[ \t]*\n)*[ ]{0,3}<([a-z][a-z0-9]*)(?:\s[^>]*)?>")
# name -> "</name>", "<name", "<name>", "<name "
_NAME_TAGS: dict[str, tuple[str, str, str, str]] = {}


def _top_level_blocks(clean: str) -> bool | None:
    """_walk_tags's answer, told by stepping from one top-level element to the next (the
    first "</name>" after "<name ...>" closes it when no other "<name" opens between): a
    few searches in C per block instead of a step in Python per tag: 24 µs against 46 per
    body of the bench corpus. None where it cannot tell (an element holding another of
    its name, a tag the serializer would not write): _walk_tags tells then."""
    match = _BLOCK_START.match
    find = clean.find
    pos = 0
    while (start := match(clean, pos)) is not None:
        name = start.group(1)
        if name in _KRAMDOWN_SPAN:
            return False
        pos = start.end()
        if name in _VOID:
            continue
        close, prefix, bare, spaced = _NAME_TAGS.get(name) or _NAME_TAGS.setdefault(
            name, (f"</{name}>", f"<{name}", f"<{name}>", f"<{name} ")
        )
        end = find(close, pos)
        if end < 0:
            return None
        if find(prefix, pos, end) >= 0 and (
            find(bare, pos, end) >= 0 or find(spaced, pos, end) >= 0
        ):
            return None  # nested in itself: the first "</name>" may close the inner one
        pos = end + len(close)
    if _GAP.fullmatch(clean, pos) is not None:
        return True
    gap = _GAP.match(clean, pos)
    # Text at the top level: Markdown. "<" may be a tag written otherwise.
    return None if gap is not None and clean.startswith("<", gap.end()) else False


def _walk_tags(clean: str) -> bool:
    """Whether `clean` is only block-level elements with blank space between them, told
    by a walk over every tag (any case, any spacing): the general reading."""
    depth = 0
    end = 0  # where the text after the last top-level element starts
    for match in _TAG.finditer(clean):
        closing, name = match.group(1), match.group(2).lower()
        if depth == 0:
            if closing or name in _KRAMDOWN_SPAN:
                return False
            if _GAP.fullmatch(clean, end, match.start()) is None:
                return False
        if name in _VOID:
            if depth == 0:
                end = match.end()
            continue
        depth += -1 if closing else 1
        if depth == 0:
            end = match.end()
        elif depth < 0:
            return False
    return depth == 0 and _GAP.fullmatch(clean, end) is not None


# What looks like a tag in raw HTML, and the elements a parser's stack does not grow by:
# void elements, and those whose end tag may be left out (the next one closes them).
_RAW_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9:-]*)[^<>]*>?")
_NOT_NESTING = frozenset(
    {
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
        "source", "track", "wbr", "keygen", "p", "li", "dt", "dd", "tr", "td", "th",
        "thead", "tbody", "tfoot", "option", "optgroup", "rb", "rt", "rtc", "rp",
        "colgroup", "caption",
    }
)  # fmt: skip
# Fewer tags than this cost the sanitizer's parser little however they nest (2,000
# nested divs: 17 ms); more, nested deep, cost it the square (80,000: 16 s).
_FLATTEN_MIN_TAGS = 2000


def flattened_input(raw: str, limit: int) -> str:
    """`raw` (a feed's HTML, before sanitizing) with the tags of elements nested deeper
    than `limit` dropped, their text kept: the sanitizer's parser spends on each tag time in
    proportion to how many elements are open.

    Counts as a parser would, roughly: end tags close only what is open, and elements that
    close by themselves are not counted. What it drops looked like tags in a body nested
    deeper than any article; the sanitizer still reads all that is left.
    """
    # A tag takes three characters at least: most bodies are told by their length alone.
    if len(raw) <= 3 * _FLATTEN_MIN_TAGS or raw.count("<") <= _FLATTEN_MIN_TAGS:
        return raw
    depth = deepest = 0
    for closing, name in _RAW_TAG.findall(raw):
        if name.lower() in _NOT_NESTING:
            continue
        if closing:
            depth -= depth > 0
        else:
            depth += 1
            deepest = max(deepest, depth)
    if deepest <= limit:
        return raw
    return _drop_deeper(raw, _RAW_TAG, _NOT_NESTING, limit)


def _drop_deeper(text: str, tags: re.Pattern[str], flat: frozenset[str], limit: int) -> str:
    """`text` without the tags (found by `tags`: end-tag slash, name) of the elements
    nested deeper than `limit`; elements named in `flat` do not nest. An end tag with no
    element open is left for the parser to drop."""
    out: list[str] = []
    kept: list[bool] = []  # per open element: whether its tags are written
    depth = start = 0
    for match in tags.finditer(text):
        closing, name = match.group(1), match.group(2).lower()
        if name in flat:
            keep = depth < limit
        elif closing:
            keep = kept.pop() if kept else True
            depth -= keep and depth > 0
        else:
            keep = depth < limit
            kept.append(keep)
            depth += keep
        if not keep:
            out.append(text[start : match.start()])
            start = match.end()
    out.append(text[start:])
    return "".join(out)
