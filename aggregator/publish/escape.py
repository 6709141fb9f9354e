"""Publish stage, escaping: text made safe for the syntax it lands in.

YAML 1.1 scalars as Jekyll's Psych reads them, kramdown text and link destinations,
XML 1.0 characters, and the Liquid markers a post file must not let Jekyll run. Pure:
no I/O, no paths, no templates.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Sequence

from aggregator.types import Post

__all__ = [
    "LIQUID",
    "has_liquid",
    "markdown_destination",
    "markdown_text",
    "tags_yaml",
    "xml_text",
    "yaml_quote",
    "yaml_slug",
    "yaml_tags",
]

# YAML (1.1, as PyYAML and Jekyll's Psych read it) refuses these even inside a
# double-quoted scalar unless escaped: C0/C1 controls, DEL, surrogates, U+FFFE/FFFF;
# and it folds NEL, LS and PS as line breaks.
_YAML_UNSAFE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufffe\uffff]"
)
# XML 1.0 has no way to write these at all (§2.2): lxml refuses them, so feeds drop them.
_XML_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
LIQUID = re.compile(r"\{[{%]")
_PLAIN_SAFE = re.compile(r"^[^\s\-?:,\[\]{}#&*!|>'\"%@`][^:#]*$")


_JSON = json.JSONEncoder(ensure_ascii=False)  # json.dumps would build one per call


def yaml_quote(text: str) -> str:
    """A double-quoted YAML scalar that reads back as `text` (JSON-style escapes)."""
    quoted = _JSON.encode(text)
    return _YAML_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", quoted)


def yaml_tags(tags: Sequence[str]) -> str:
    """Jekyll's space-separated tags, quoted when a plain scalar would not read back."""
    text = " ".join("-".join(t.split()) for t in tags if t.strip())
    if text and _PLAIN_SAFE.match(text) and _plain_string(text) and _reads_back_plain(text):
        return text
    return yaml_quote(text)


# Plain scalars that YAML 1.1 (Psych, which Jekyll reads with) resolves to something other
# than a string, in any case: PyYAML's reading alone misses "tRUE", "1,000", "0x1f".
_YAML11_WORDS = frozenset({"y", "yes", "n", "no", "on", "off", "true", "false", "null", "~"})


def _plain_string(text: str) -> bool:
    """Whether Psych reads `text` as a plain scalar string: it begins with no digit, sign or
    dot (numbers, dates, times) and is no boolean or null word."""
    return not (text[0] in "0123456789+-." or text.lower() in _YAML11_WORDS)


def yaml_slug(slug: str) -> str:
    """A category slug as a front matter value that Psych reads as that string."""
    return slug if _plain_string(slug) else yaml_quote(slug)


@functools.lru_cache(maxsize=4096)
def tags_yaml(tags: tuple[str, ...]) -> str:
    """yaml_tags, remembered: posts of one source mostly carry the same tags."""
    return yaml_tags(tags)


@functools.lru_cache(maxsize=4096)
def _reads_back_plain(text: str) -> bool:
    import yaml  # local: only reached for tags, and cheap once imported

    try:
        return bool(yaml.safe_load(f"t: {text}") == {"t": text})
    except yaml.YAMLError:
        return False


def xml_text(text: str) -> str:
    return _XML_UNSAFE.sub("", text)


def has_liquid(post: Post) -> bool:
    """Whether any field of `post` that its file shows holds Liquid's `{{` or `{%`.

    Jekyll renders a post file with Liquid before Markdown: `{{ site.secret }}` in a link
    would print a config value, `{% raise %}` would stop the whole build. A field next to
    the template's own text cannot make one with it: no template text there starts with
    "{" or "%" or ends with "{".
    """
    search = LIQUID.search
    return bool(
        search(post.title)
        or search(post.content_html)
        or search(post.link)
        or search(post.source)
        or (post.author and search(post.author))
        or any(search(tag) for tag in post.tags)
    )


# Every character that kramdown (with or without GFM) or HTML gives a meaning in text, as a
# numeric reference: shown as itself by either parser, in a Markdown line or in HTML.
_MARKDOWN_TEXT = str.maketrans(
    {c: f"&#{ord(c)};" for c in "&<>\"'\\`*_{}[]()#+-.!:|$=~^"} | {"\t": " ", "\n": " ", "\r": " "}
)


@functools.lru_cache(maxsize=4096)
def markdown_text(text: object) -> str:
    """`text` as text that kramdown shows as it is wherever it stands (a link's text, a
    paragraph, raw HTML read as Markdown under `parse_block_html`), and so does HTML: its
    specials as numeric references, line breaks as spaces. Links, emphasis, attribute
    lists, extensions, tables and smart quotes are never made of it."""
    return str(text).translate(_MARKDOWN_TEXT)


# What a Markdown link's destination `(…)` or an autolink `<…>` must not hold as itself
# (its end, a title's start, a GFM table's cell): written percent-encoded, as browsers read
# them.
_DESTINATION = str.maketrans({c: f"%{ord(c):02X}" for c in "()<>|\"' `\\"})


def markdown_destination(url: str) -> str:
    """`url` (an http(s) URL or a protocol-relative one) safe in a Markdown link's
    destination and in an autolink."""
    return url.translate(_DESTINATION)
