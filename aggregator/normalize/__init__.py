"""Normalize stage: ParsedFeed -> Posts (clean titles, safe HTML, UTC dates, stable keys),
and `reconcile`, which matches new posts to stored ones and drops other sources' copies.

Owns what a feed's entry becomes: its text, its HTML, its URLs, its identity. Pure: no I/O
and no clock (`now` is a parameter); never raises on what a feed contains. Must not fetch,
parse bytes, or read or write the store.

    post.py      entries -> Posts: puts the parts below together
    text.py      titles, authors, text to store
    sanitize.py  HTML allowlist cleaning
    urls.py      links and references resolved; canonical_link
    identity.py  keys, legacy keys, the hashes stored beside them
    dedupe.py    reconcile

The config's rules (include/exclude, max age, strip, category map) are aggregator.rules:
config checks them at every load, which must not import this whole stage.

The names below are loaded on first use: a state cleaned for the store (update/clean.py,
which `status` reaches) needs text.py and urls.py, not nh3 and the HTML parser.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aggregator.lazy import lazy_names

if TYPE_CHECKING:
    from aggregator.normalize.dedupe import reconcile
    from aggregator.normalize.identity import entry_keys, post_key, raw_hash, text_hash
    from aggregator.normalize.post import (
        MAX_BODY_CHARS,
        Oversized,
        normalize,
        normalize_with_keys,
        with_content,
    )
    from aggregator.normalize.sanitize import (
        ALLOWED_ATTRIBUTES,
        ALLOWED_TAGS,
        MAX_DEPTH,
        sanitize_html,
    )
    from aggregator.normalize.text import (
        AUTHOR_LENGTH,
        TITLE_LENGTH,
        clean_author,
        clean_text,
        clean_title,
        clean_token,
        plain_text,
    )
    from aggregator.normalize.urls import _join, canonical_link, clean_url

__all__ = [
    "ALLOWED_ATTRIBUTES",
    "ALLOWED_TAGS",
    "AUTHOR_LENGTH",
    "MAX_BODY_CHARS",
    "MAX_DEPTH",
    "TITLE_LENGTH",
    "Oversized",
    "_join",
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

_HOMES = {
    "ALLOWED_ATTRIBUTES": "sanitize",
    "ALLOWED_TAGS": "sanitize",
    "AUTHOR_LENGTH": "text",
    "MAX_BODY_CHARS": "post",
    "MAX_DEPTH": "sanitize",
    "TITLE_LENGTH": "text",
    "Oversized": "post",
    "_join": "urls",
    "canonical_link": "urls",
    "clean_author": "text",
    "clean_text": "text",
    "clean_title": "text",
    "clean_token": "text",
    "clean_url": "urls",
    "entry_keys": "identity",
    "normalize": "post",
    "normalize_with_keys": "post",
    "plain_text": "text",
    "post_key": "identity",
    "raw_hash": "identity",
    "reconcile": "dedupe",
    "sanitize_html": "sanitize",
    "text_hash": "identity",
    "with_content": "post",
}

if not TYPE_CHECKING:
    __getattr__ = lazy_names(__name__, _HOMES)
