"""`aggregator serve`'s handler over real HTTP on 127.0.0.1: media types, validators, gzip."""

from __future__ import annotations

import gzip
import http.client
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from aggregator.serve import SiteHandler, make_server

FEED = (
    b'<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
    + (b"<entry><title>x</title></entry>" * 40)
    + b"</feed>"
)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    root = tmp_path / "site"
    (root / "category").mkdir(parents=True)
    (root / "category" / "news.xml").write_bytes(FEED)
    (root / "index.html").write_text("<!doctype html><p>home</p>" * 20, encoding="utf-8")
    (root / "subscriptions.opml").write_text("<opml/>", encoding="utf-8")
    (root / ".tmp").mkdir()
    (root / ".tmp" / "1.0.tmp").write_bytes(b"half")
    server = make_server(root, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, server.server_address[1]
    server.shutdown()
    server.server_close()


def get(port: int, path: str, **headers: str) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    response.read()  # keep the body on the response for the caller
    return response


def body(port: int, path: str, **headers: str) -> tuple[http.client.HTTPResponse, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    return response, response.read()


@pytest.mark.parametrize(
    ("path", "media_type"),
    [
        pytest.param("/category/news.xml", "application/atom+xml", id="atom"),
        pytest.param("/index.html", "text/html; charset=utf-8", id="html"),
        pytest.param("/", "text/html; charset=utf-8", id="directory-index"),
        pytest.param("/subscriptions.opml", "text/x-opml; charset=utf-8", id="opml"),
    ],
)
def test_media_types(site: tuple[Path, int], path: str, media_type: str) -> None:
    response, _ = body(site[1], path)
    assert response.status == 200
    assert response.getheader("Content-Type") == media_type


def test_etag_and_last_modified_give_304(site: tuple[Path, int]) -> None:
    root, port = site
    first, data = body(port, "/category/news.xml")
    assert data == FEED
    etag, modified = first.getheader("ETag"), first.getheader("Last-Modified")
    assert etag and modified
    assert get(port, "/category/news.xml", **{"If-None-Match": etag}).status == 304
    assert get(port, "/category/news.xml", **{"If-Modified-Since": modified}).status == 304
    # If-None-Match wins over If-Modified-Since (RFC 9110 §13.2.2).
    stale = get(
        port, "/category/news.xml", **{"If-None-Match": '"x"', "If-Modified-Since": modified}
    )
    assert stale.status == 200

    feed = root / "category" / "news.xml"
    feed.write_bytes(FEED.replace(b"x", b"y"))
    os.utime(feed, (feed.stat().st_atime + 10, feed.stat().st_mtime + 10))
    changed, data = body(port, "/category/news.xml", **{"If-None-Match": etag})
    assert changed.status == 200 and b"<title>y</title>" in data
    assert changed.getheader("ETag") != etag


def test_gzip_when_accepted(site: tuple[Path, int]) -> None:
    port = site[1]
    response, data = body(port, "/category/news.xml", **{"Accept-Encoding": "gzip, br"})
    assert response.getheader("Content-Encoding") == "gzip"
    assert response.getheader("Vary") == "Accept-Encoding"
    assert gzip.decompress(data) == FEED
    assert int(response.getheader("Content-Length")) == len(data) < len(FEED)
    etag = response.getheader("ETag")
    assert (
        get(port, "/category/news.xml", **{"Accept-Encoding": "gzip", "If-None-Match": etag}).status
        == 304
    )

    plain, data = body(port, "/category/news.xml", **{"Accept-Encoding": "gzip;q=0"})
    assert plain.getheader("Content-Encoding") is None and data == FEED
    assert plain.getheader("ETag") != etag


def test_hidden_and_missing_files_are_404(site: tuple[Path, int]) -> None:
    port = site[1]
    assert get(port, "/.tmp/1.0.tmp").status == 404
    assert get(port, "/nope.html").status == 404
    assert get(port, "/index.html/").status == 404
    moved = get(port, "/category")
    assert moved.status == 301 and moved.getheader("Location") == "/category/"


def test_routes_answer_before_files(
    site: tuple[Path, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    def ok(handler: SiteHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", "2")
        handler.end_headers()
        handler.wfile.write(b"ok")

    monkeypatch.setattr(SiteHandler, "ROUTES", {"/index.html": ok})
    _, data = body(site[1], "/index.html")
    assert data == b"ok"
