"""Slugs from titles in any script."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aggregator.slug import MAX_LENGTH, slugify


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        pytest.param("天津日报", "tian-jin-ri-bao", id="chinese-pinyin"),
        pytest.param("Hello, World! — Ça va?", "hello-world-ca-va", id="latin-folded"),
        pytest.param("Привет мир", "privet-mir", id="cyrillic"),
        pytest.param("Ελληνικά νέα", "ellinika-nea", id="greek"),
        pytest.param("2025年电子信息", "2025-nian-dian-zi-xin-xi", id="digits-and-han"),
        pytest.param("!!!", "", id="nothing-left"),
        pytest.param(
            "one two three four five six seven eight nine ten",
            "one-two-three-four-five-six-seven-eight",
            id="eight-words",
        ),
    ],
)
def test_slugify(title: str, slug: str) -> None:
    assert slugify(title) == slug


@given(st.text())
def test_slug_is_short_ascii_and_url_safe(text: str) -> None:
    slug = slugify(text)
    assert len(slug) <= MAX_LENGTH
    assert all(c.isascii() and (c.isalnum() or c == "-") for c in slug)
    assert not slug.startswith("-") and not slug.endswith("-")
