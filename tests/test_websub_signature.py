"""aggregator.websub.signature and parse.hubs: pure, as tables."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from aggregator.parse.hubs import MAX_URL, header_links, websub_links
from aggregator.websub.signature import sign, signed

BODY = b"<rss>\xe4\xb8\xad</rss>"


def hexdigest(method: str, key: str = "k", body: bytes = BODY) -> str:
    return hmac.new(key.encode(), body, getattr(hashlib, method)).hexdigest()


@pytest.mark.parametrize(
    ("header", "ok"),
    [
        pytest.param(f"sha1={hexdigest('sha1')}", True, id="sha1"),
        pytest.param(f"sha256={hexdigest('sha256')}", True, id="sha256"),
        pytest.param(f"sha384={hexdigest('sha384')}", True, id="sha384"),
        pytest.param(f"sha512={hexdigest('sha512')}", True, id="sha512"),
        pytest.param(f"SHA256={hexdigest('sha256').upper()}", True, id="any-case"),
        pytest.param(f"md5={hexdigest('md5')}", False, id="md5-not-websub"),
        pytest.param(f"sha256={hexdigest('sha256', key='other')}", False, id="other-key"),
        pytest.param(f"sha256={hexdigest('sha256', body=BODY + b' ')}", False, id="other-body"),
        pytest.param(f"sha1={hexdigest('sha256')}", False, id="method-mismatch"),
        pytest.param("sha256=", False, id="empty-digest"),
        pytest.param("sha256=é" + "0" * 63, False, id="non-ascii"),
        pytest.param("", False, id="empty"),
        pytest.param(None, False, id="absent"),
    ],
)
def test_signed(header: str | None, ok: bool) -> None:
    assert signed(BODY, "k", header) is ok


def test_sign_is_what_signed_takes() -> None:
    assert signed(BODY, "s", sign(BODY, "s", "sha512"))
    assert sign(b"", "k") == f"sha256={hexdigest('sha256', body=b'')}"


def test_websub_links_take_absolute_http_urls_only() -> None:
    long = "https://hub.example/" + "a" * MAX_URL
    links = [
        ("hub", "javascript:alert(1)"),
        ("hub", "ftp://hub.example/"),
        ("hub", "//hub.example/"),
        ("hub", long),
        ("hub", "https://hub .example/"),
        ("hub", None),
        (None, "https://x.example/"),
        ("alternate", "https://example.org/"),
        ("self hub", "https://both.example/"),
        ("hub", "https://both.example/"),
        ("SELF", "https://second-self.example/"),
    ]
    assert websub_links(links) == (("https://both.example/",), "https://both.example/")


def test_a_link_header_names_hubs_and_self_resolved_against_the_response() -> None:
    value = (
        '<https://hub.example/>; rel="hub", </feed.xml>; type="a, b"; rel=self,'
        " <https://h2.example/>; rel=hub; title=x, <https://no-rel.example/>"
    )
    links = header_links(value, base="https://site.example/news/index.xml")
    assert websub_links(links) == (
        ("https://hub.example/", "https://h2.example/"),
        "https://site.example/feed.xml",
    )
    assert header_links(None, base="https://a/") == header_links("junk", base="https://a/") == []
