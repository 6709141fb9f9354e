"""Readable ASCII slugs from text in any script. Pure: no I/O of its own (pinyin.py reads
its table once per process).

Chinese goes through pypinyin (anyascii would run syllables together: "TianJinRiBao"),
by way of pinyin.py; every other script through anyascii.
"""

from __future__ import annotations

import re

from anyascii import anyascii

MAX_WORDS = 8
MAX_LENGTH = 60

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_NOT_WORD = re.compile(r"[^a-z0-9]+")


def slugify(text: str, *, max_words: int = MAX_WORDS, max_length: int = MAX_LENGTH) -> str:
    """Return a short lowercase ASCII slug of `text` ("" when nothing is left)."""
    if _HAN.search(text):
        # pypinyin loads its dictionaries on import: only Chinese text pays for it.
        from aggregator.pinyin import syllables

        # One syllable per Han character; other runs pass through.
        text = " ".join(syllables(text))
    words = _NOT_WORD.split(anyascii(text).lower())
    words = [w for w in words if w][:max_words]
    slug = "-".join(words)
    if len(slug) > max_length:
        slug = slug[:max_length].rsplit("-", 1)[0] or slug[:max_length]
    return slug
