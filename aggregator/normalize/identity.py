"""Normalize stage, identity: an item's key (stable within its source), its legacy key (the
formula before store version 6, for posts stored then), and the hashes stored beside
them (raw, content, text).

Pure: no I/O, no clock; never raises on what a feed holds. The bytes hashed must never
change: stored keys and hashes are made of them (tests/test_normalize_speedups.py holds
each fast path to the reference it replaces). Decides no duplicates (dedupe.py does).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence

from aggregator.normalize.sanitize import sanitize_html
from aggregator.normalize.text import _html_to_text
from aggregator.normalize.urls import _absolute, _homes, canonical_link
from aggregator.types import Category, ParsedFeed, RawEntry, Source
from aggregator.urls import http_url as _http_url

__all__ = ["entry_keys", "post_key", "raw_hash", "text_hash"]

KEY_LENGTH = 32  # hex digits of sha256: 128 bits, short enough for ids and URLs
# Part of every raw hash: bump it when a change here changes what an entry turns into, so
# that stored items are normalized again. 4: source-scoped keys, relative links against the
# feed's URL; every item normalized once more claims its post (see reconcile). 5: a relative
# link's key is the link as written (the URL it resolves against moves with redirects).
NORMALIZER_VERSION = "5"

_GLOBAL_ID = re.compile(r"^(?:https?://[^/\s]+|tag:|urn:)", re.I)


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


def _keys(
    entry: RawEntry,
    source: Source,
    *,
    link: str,
    canonical: str,
    base: str | None,
    body: str,
    content_html: str,
    feed_home: str | None,
    legacy_home: str | None,
) -> tuple[str, str]:
    """The key and the legacy key of the post made of `entry`: `link` is its resolved link
    (canonical: canonical_link(link)), `body` the HTML sanitized against `base` into
    `content_html`."""
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
    return key, legacy_key


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
