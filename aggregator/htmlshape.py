"""Shapes of sanitized HTML that the syntaxes around it care about: how deep it nests,
and whether kramdown (Jekyll's Markdown) reads it as HTML only.

Pure: no I/O. Takes the sanitizer's output (tags that pair up, no ">" in attribute
values, no comments); never parses anything else.
"""

from __future__ import annotations

import re
from itertools import accumulate

__all__ = ["bounded_depth", "kramdown_body"]

_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)[^>]*>")
_VOID = frozenset({"br", "hr", "img", "wbr", "col", "area", "source", "track"})
# "" for each start tag of an element with content, "/" for each end tag.
_OPEN_OR_CLOSE = re.compile(
    r"<(/?)(?!(?:br|hr|img|wbr|col|area|source|track)[\s/>])[a-zA-Z]", re.IGNORECASE
)
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
    if clean.count("<") <= limit:  # fewer tags cannot nest deeper
        return clean
    # The deepest nesting, counted in C: most long bodies are shallow, and pass here.
    steps = map(_STEP.__getitem__, _OPEN_OR_CLOSE.findall(clean))
    if max(accumulate(steps, initial=0)) <= limit:
        return clean
    out: list[str] = []
    kept: list[bool] = []  # per open element: whether its tags are written
    depth = 0  # open elements written
    start = 0
    for match in _TAG.finditer(clean):
        closing, name = match.group(1), match.group(2).lower()
        if name in _VOID:
            keep = depth < limit
        elif closing:
            keep = kept.pop() if kept else False
            depth -= keep
        else:
            keep = depth < limit
            kept.append(keep)
            depth += keep
        if not keep:
            out.append(clean[start : match.start()])
            start = match.end()
    out.append(clean[start:])
    return "".join(out)


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


# The usual body: paragraphs one after another, blank space between them.
_PARAGRAPH_START = re.compile(r"(?:[ \t]*\n)*[ ]{0,3}<p(?:\s[^>]*)?>")


def _is_paragraphs(clean: str) -> bool:
    """Whether `clean` is only paragraphs with blank space between them: the common body,
    told in a few scans in C instead of a walk over every tag."""
    *paragraphs, tail = clean.split("</p>")
    if not paragraphs or _GAP.fullmatch(tail) is None:
        return False
    for paragraph in paragraphs:
        start = _PARAGRAPH_START.match(paragraph)
        # "<p" again inside: a <pre>, or a shape this check does not follow.
        if start is None or "<p" in paragraph[start.end() :]:
            return False
    return True


def _is_html_blocks(clean: str) -> bool:
    if any(sign in clean for sign in _MARKDOWN_SIGNS):
        return False
    if _is_paragraphs(clean):
        return True
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
