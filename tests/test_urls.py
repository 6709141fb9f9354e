"""aggregator.urls: the hrefs and ids the Atom feeds write, checked against RFC 3987 (the
rfc3987 package's grammar) and the W3C Feed Validator's own patterns (tests/clirunner.py)."""

from __future__ import annotations

import pytest
import rfc3987
from clirunner import _absolute_iri
from hypothesis import given
from hypothesis import strategies as st

from aggregator.urls import atom_id, iri_href


@pytest.mark.parametrize(
    ("url", "href"),
    [
        pytest.param("https://example.org/a", "https://example.org/a", id="plain"),
        pytest.param("https://example.org/a b", "https://example.org/a%20b", id="space"),
        pytest.param(
            "https://e.org/{x}|y^`\\", "https://e.org/%7Bx%7D%7Cy%5E%60%5C", id="specials"
        ),
        pytest.param("https://e.org/100%", "https://e.org/100%25", id="stray-percent"),
        pytest.param("https://e.org/%E4%B8%AD", "https://e.org/%E4%B8%AD", id="kept-escape"),
        pytest.param("https://e.org/ü", "https://e.org/%C3%BC", id="non-ascii-path"),
        pytest.param("https://例子.cn/", "https://xn--fsqu00a.cn/", id="idn-host"),
        pytest.param("https://e.org/p?q=a b#f g", "https://e.org/p?q=a%20b#f%20g", id="query"),
        pytest.param("https://e.org/[x]", "https://e.org/%5Bx%5D", id="brackets-in-path"),
        pytest.param("https://[::1]:8080/x", "https://[::1]:8080/x", id="ip-literal"),
        pytest.param("HTTPS://e.org/a?", "https://e.org/a?", id="empty-query-kept"),
        pytest.param("javascript:alert(1)", None, id="javascript"),
        pytest.param("/p/1", None, id="relative"),
        pytest.param(None, None, id="none"),
    ],
)
def test_iri_href(url: str | None, href: str | None) -> None:
    assert iri_href(url) == href


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("tag:example.org,2021:feed", "tag:example.org,2021:feed", id="tag"),
        pytest.param("urn:isbn:0451450523", "urn:isbn:0451450523", id="urn"),
        pytest.param("https://e.org/feed", "https://e.org/feed", id="http"),
        pytest.param(" https://e.org/a b ", "https://e.org/a%20b", id="http-spaced"),
        pytest.param("123", None, id="number"),
        pytest.param("urn:x", None, id="urn-without-specific-string"),
        pytest.param("post 1", None, id="words"),
        pytest.param("/p/1", None, id="path"),
        pytest.param("tag:Example.org,2021:x", None, id="tag-upper-case-authority"),
        pytest.param("tag:example.org:x", None, id="tag-without-date"),
        pytest.param("tag:example.org,2021:%", None, id="tag-lone-percent"),
        pytest.param(
            "tag:example.org,2021:a%2Fb", "tag:example.org,2021:a%2Fb", id="tag-pct-encoded"
        ),
        pytest.param("javascript:alert(1)", None, id="javascript"),
        pytest.param("mailto:a@b.c", None, id="other-scheme"),
    ],
)
def test_atom_id(value: str, expected: str | None) -> None:
    assert atom_id(value) == expected


@given(st.text(max_size=40))
def test_every_href_and_id_is_an_absolute_iri(tail: str) -> None:
    for candidate in (f"https://example.org/{tail}", f"http://h.example/?{tail}#{tail}"):
        href = iri_href(candidate)
        if href is not None:
            assert rfc3987.match(href, rule="IRI") and _absolute_iri(href), href
    for value in (tail, f"urn:{tail}", f"tag:example.org,2021:{tail}", f"https://e.org/{tail}"):
        made = atom_id(value)
        if made is not None:
            assert _absolute_iri(made), made
