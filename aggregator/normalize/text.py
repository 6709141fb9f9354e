"""Normalize stage, text: titles, authors and text to store, cleaned of what a feed may put in
them (markup, character references, controls, C1 read as windows-1252).

Pure: no I/O, no clock; never raises on what a feed holds. Reads text only: makes no HTML
(sanitize.py does) and no key (identity.py does).
"""

from __future__ import annotations

import html
import html.entities
import re

__all__ = [
    "AUTHOR_LENGTH",
    "TITLE_LENGTH",
    "clean_author",
    "clean_text",
    "clean_title",
    "clean_token",
    "plain_text",
]

TITLE_LENGTH = 200
AUTHOR_LENGTH = 100  # characters of an author's name kept: a byline, not a biography
FALLBACK_TITLE_LENGTH = 80  # a title made from the body: the first words only

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
        return _bidi_closed(title)
    return _bidi_closed(_truncate(_html_to_text(fallback_text, tag_gap=" "), FALLBACK_TITLE_LENGTH))


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
    return _bidi_closed(_truncate(text, AUTHOR_LENGTH)) or None


# Bidi embeddings and overrides (LRE, RLE, LRO, RLO) end at a PDF, isolates (LRI, RLI,
# FSI) at a PDI, else only at the end of the paragraph: one left open in a title or an
# author runs on into the text after it on every page (a list item's date and source shown
# reversed by an RLO). UAX #9 §3.3.2: a PDF closes the innermost embedding only when no
# isolate is open inside it, a PDI the innermost isolate with the embeddings in it.
_BIDI_OPENERS = re.compile("[\u202a\u202b\u202d\u202e\u2066-\u2068]")
_EMBEDDING, _ISOLATE = "\u202c", "\u2069"  # each kind as the character that closes it


def _bidi_closed(text: str) -> str:
    """`text` with the embeddings, overrides and isolates it leaves open closed at its end."""
    if _BIDI_OPENERS.search(text) is None:
        return text
    open_kinds: list[str] = []
    for char in text:
        if char in "\u202a\u202b\u202d\u202e":
            open_kinds.append(_EMBEDDING)
        elif char in "\u2066\u2067\u2068":
            open_kinds.append(_ISOLATE)
        elif char == _EMBEDDING:
            if open_kinds and open_kinds[-1] == _EMBEDDING:
                open_kinds.pop()
        elif char == _ISOLATE and _ISOLATE in open_kinds:
            while open_kinds.pop() != _ISOLATE:
                pass
    return text + "".join(reversed(open_kinds))


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


def plain_text(content_html: str) -> str:
    """The text of an HTML fragment, whitespace collapsed.

    Raises nothing.
    """
    return _html_to_text(content_html, tag_gap=" ")


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
