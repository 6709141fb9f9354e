"""`aggregator serve`'s handler over real HTTP on 127.0.0.1: media types, validators, gzip."""

from __future__ import annotations

import contextlib
import gzip
import http.client
import os
import re
import socket
import struct
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
from clirunner import aggregator_command

from aggregator.serve import MEDIA_TYPES, SiteHandler, make_server

FEED = (
    b'<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
    + (b"<entry><title>x</title></entry>" * 40)
    + b"</feed>"
)


@contextlib.contextmanager
def running(server: ThreadingHTTPServer) -> Iterator[int]:
    """`server` answering on a thread; its port."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    root = tmp_path / "site"
    (root / "category").mkdir(parents=True)
    (root / "category" / "news.xml").write_bytes(FEED)
    (root / "index.html").write_text("<!doctype html><p>home</p>" * 20, encoding="utf-8")
    (root / "subscriptions.opml").write_text("<opml/>", encoding="utf-8")
    (root / ".tmp").mkdir()
    (root / ".tmp" / "1.0.tmp").write_bytes(b"half")
    with running(make_server(root, port=0)) as port:
        yield root, port


def get(port: int, path: str, **headers: str) -> http.client.HTTPResponse:
    return body(port, path, **headers)[0]


def body(port: int, path: str, **headers: str) -> tuple[http.client.HTTPResponse, bytes]:
    """One request on a connection of its own, closed after (the server keeps it alive)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        return response, response.read()
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("path", "media_type"),
    [
        pytest.param("/category/news.xml", "application/atom+xml; charset=utf-8", id="atom"),
        pytest.param("/index.html", "text/html; charset=utf-8", id="html"),
        pytest.param("/", "text/html; charset=utf-8", id="directory-index"),
        pytest.param("/subscriptions.opml", "text/x-opml; charset=utf-8", id="opml"),
    ],
)
def test_media_types(site: tuple[Path, int], path: str, media_type: str) -> None:
    response, _ = body(site[1], path)
    assert response.status == 200
    assert response.getheader("Content-Type") == media_type


@pytest.mark.parametrize(
    ("path", "media_type"),
    [
        pytest.param("rss.xml", "application/rss+xml; charset=utf-8", id="combined-rss"),
        pytest.param("category/news.rss", "application/rss+xml; charset=utf-8", id="rss"),
        pytest.param("tag/x.rss", "application/rss+xml; charset=utf-8", id="tag-rss"),
        pytest.param("feed.json", "application/feed+json; charset=utf-8", id="combined-json"),
        pytest.param("category/news.json", "application/feed+json; charset=utf-8", id="json"),
        pytest.param("tag/x.json", "application/feed+json; charset=utf-8", id="tag-json"),
        pytest.param("atom.xml", "application/atom+xml; charset=utf-8", id="combined-atom"),
        pytest.param("category/news/archive/1.xml", "application/atom+xml; charset=utf-8",
                     id="archive"),
        pytest.param("data/other.json", "application/json", id="other-json"),
    ],
)  # fmt: skip
def test_each_feed_format_has_its_media_type(tmp_path: Path, path: str, media_type: str) -> None:
    root = tmp_path / "site"
    (root / path).parent.mkdir(parents=True, exist_ok=True)
    (root / path).write_bytes(
        b'{"items":[%s]}' % b",".join([b"{}"] * 200) if path.endswith(".json") else FEED
    )
    with running(make_server(root, port=0)) as port:
        response, _ = body(port, "/" + path, **{"Accept-Encoding": "gzip"})
    assert response.status == 200
    assert response.getheader("Content-Type") == media_type
    assert response.getheader("Content-Encoding") == "gzip"  # every feed is text


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


def test_routes_answer_before_files(tmp_path: Path) -> None:
    def ok(handler: SiteHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", "2")
        handler.end_headers()
        handler.wfile.write(b"ok")

    root = tmp_path / "site"
    root.mkdir()
    (root / "index.html").write_text("<p>home</p>", encoding="utf-8")
    (root / "other.html").write_text("<p>other</p>", encoding="utf-8")
    with running(make_server(root, port=0, routes={"/index.html": ok})) as port:
        assert body(port, "/index.html")[1] == b"ok"
        assert body(port, "/other.html")[1] == b"<p>other</p>"  # the files answer the rest
    with running(make_server(root, port=0)) as port:  # routes belong to one server only
        assert body(port, "/index.html")[1] == b"<p>home</p>"


def test_prefix_routes_and_post_routes(tmp_path: Path) -> None:
    def named(handler: SiteHandler) -> None:
        text = f"{handler.command} {handler.path}".encode()
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(text)))
        handler.end_headers()
        handler.wfile.write(text)

    root = tmp_path / "site"
    root.mkdir()
    routes = {"/hook/": named, "/hook/deeper/": named}
    with running(make_server(root, port=0, routes=routes, post_routes={"/hook/": named})) as port:
        assert body(port, "/hook/abc?x=1")[1] == b"GET /hook/abc?x=1"  # by prefix
        assert body(port, "/hook/")[1] == b"GET /hook/"  # the key itself, exactly
        assert body(port, "/hookx")[1] != b"GET /hookx"  # a prefix ends with its "/"
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        connection.request("POST", "/hook/abc", body=b"x")
        answer = connection.getresponse()
        assert (answer.status, answer.read()) == (200, b"POST /hook/abc")
        connection.request("POST", "/index.html", body=b"x")
        assert connection.getresponse().status == 501  # nothing else takes a POST
    with running(make_server(root, port=0, routes=routes)) as port:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        connection.request("POST", "/hook/abc", body=b"x")  # a GET route takes no POST
        assert connection.getresponse().status == 501


# ------------------------------------------------------------- what the site is not


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder beside the site, with a secret the server must never send."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.html").write_text("<p>secret</p>", encoding="utf-8")
    return folder


def test_symlinks_out_of_the_site_are_404(tmp_path: Path, outside: Path) -> None:
    # The site's own folder may be a link (a release switched by `ln -sfn`): still served.
    real = tmp_path / "site-v2"
    (real / "category").mkdir(parents=True)
    (real / "index.html").write_text("<p>home</p>", encoding="utf-8")
    (real / "category" / "news.xml").write_bytes(FEED)
    root = tmp_path / "site"
    root.symlink_to(real, target_is_directory=True)
    (root / "leak.html").symlink_to(outside / "secret.html")
    (root / "linked").symlink_to(outside, target_is_directory=True)
    (root / "category" / "up").symlink_to("../..", target_is_directory=True)
    (root / "category" / "index.html").symlink_to(outside / "secret.html")
    (root / "home.html").symlink_to("index.html")  # links that stay inside still work
    (root / "also").symlink_to("category", target_is_directory=True)
    with running(make_server(root, port=0)) as port:
        for path in (
            "/leak.html",
            "/linked/secret.html",
            "/linked/",
            "/linked",
            "/category/up/",
            "/category/up/outside/secret.html",
            "/category/",  # its index.html leads out
        ):
            response, data = body(port, path)
            assert response.status == 404, path
            assert b"secret" not in data, path
        assert body(port, "/")[1] == b"<p>home</p>"
        assert body(port, "/home.html")[1] == b"<p>home</p>"
        assert body(port, "/also/news.xml")[1] == FEED


def test_what_nginx_hides_is_404(site: tuple[Path, int]) -> None:
    root, port = site
    (root / "_posts").mkdir()
    (root / "_posts" / "2024-01-02-hello.md").write_text("---\ntitle: x\n---\n", encoding="utf-8")
    (root / "_posts" / "index.html").write_text("<p>list</p>", encoding="utf-8")
    (root / "category" / "draft.md").write_text("# draft", encoding="utf-8")
    (root / "category" / ".hidden.xml").write_bytes(FEED)
    for path in (
        "/_posts/2024-01-02-hello.md",
        "/_posts/",
        "/_posts",  # no redirect to a folder that is not there
        "//_posts/2024-01-02-hello.md",
        "/category/../_posts/2024-01-02-hello.md",
        "/%5fposts/2024-01-02-hello.md",
        "/category/draft.md",  # Markdown is a build's source wherever it is
        "/category/.hidden.xml",
        "/%2etmp/1.0.tmp",
    ):
        response, data = body(port, path)
        assert response.status == 404, (path, response.status)
        assert b"title: x" not in data and b"list" not in data and b"draft" not in data, path


def test_readme_nginx_hides_the_same() -> None:
    """The README's nginx block hides what `serve` hides: keep the two in step."""
    text = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    (nginx,) = re.findall(r"```nginx\n(.*?)```", text, re.DOTALL)
    for rule in (
        "location ~ /\\. { return 404; }",
        "location /_posts/ { return 404; }",
        "location ~ \\.md$ { return 404; }",
        "disable_symlinks on from=$document_root;",
    ):
        assert rule in nginx, rule


def test_readme_nginx_sends_the_same_charset() -> None:
    """nginx adds `charset=utf-8` to text/html only unless charset_types names the rest."""
    text = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    (nginx,) = re.findall(r"```nginx\n(.*?)```", text, re.DOTALL)
    assert re.search(r"^\s*charset utf-8;", nginx, re.MULTILINE)
    (types,) = re.findall(r"^\s*charset_types ([^;]*);", nginx, re.MULTILINE)
    charset_types = {*types.split(), "text/html"}
    for media_type in MEDIA_TYPES.values():
        name, _, params = media_type.partition(";")
        if "charset=utf-8" in params and name in nginx:
            assert name in charset_types, name


# ------------------------------------------------------------- keep-alive


def _response(
    sock: socket.socket, buffered: bytearray, *, head: bool = False
) -> tuple[str, dict[str, str], bytes]:
    """One response read off `sock`, framed by its Content-Length alone (as a keep-alive
    client must): its status line, headers (lower-cased names) and body."""
    while b"\r\n\r\n" not in buffered:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed mid-response: {bytes(buffered)!r}"
        buffered += chunk
    end = buffered.index(b"\r\n\r\n")
    status, *lines = buffered[:end].decode("latin-1").split("\r\n")
    del buffered[: end + 4]
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    code = int(status.split()[1])
    assert "content-length" in headers, (status, headers)
    size = 0 if head or code == 304 else int(headers["content-length"])
    while len(buffered) < size:
        chunk = sock.recv(65536)
        assert chunk, "connection closed mid-body"
        buffered += chunk
    data = bytes(buffered[:size])
    del buffered[:size]
    return status, headers, data


def test_keep_alive_answers_every_request_on_one_connection(site: tuple[Path, int]) -> None:
    root, port = site
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        buffered = bytearray()

        def ask(method: str, path: str, *headers: str) -> tuple[str, dict[str, str], bytes]:
            lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", *headers, "", ""]
            sock.sendall("\r\n".join(lines).encode())
            return _response(sock, buffered, head=method == "HEAD")

        status, headers, data = ask("GET", "/category/news.xml")
        assert status == "HTTP/1.1 200 OK" and data == FEED
        assert headers["content-type"] == "application/atom+xml; charset=utf-8"
        assert headers.get("connection") != "close"
        etag = headers["etag"]

        status, headers, data = ask("HEAD", "/index.html")
        assert status.endswith("200 OK") and data == b""
        assert int(headers["content-length"]) == (root / "index.html").stat().st_size

        status, headers, _ = ask("GET", "/category/news.xml", f"If-None-Match: {etag}")
        assert status.endswith("304 Not Modified")
        assert int(headers["content-length"]) == len(FEED)  # what the 200 would carry

        status, headers, data = ask("GET", "/category/news.xml", "Accept-Encoding: gzip")
        assert headers["content-encoding"] == "gzip" and gzip.decompress(data) == FEED
        gz_etag = headers["etag"]
        status, headers, _ = ask(
            "GET", "/category/news.xml", "Accept-Encoding: gzip", f"If-None-Match: {gz_etag}"
        )
        assert status.endswith("304 Not Modified")
        assert int(headers["content-length"]) == len(data)

        status, headers, data = ask("GET", "/nope.html")  # a 404 keeps the connection
        assert status.endswith("404 Not Found") and int(headers["content-length"]) == len(data)
        status, headers, _ = ask("GET", "/category")
        assert status.endswith("301 Moved Permanently") and headers["content-length"] == "0"

        status, headers, data = ask("GET", "/subscriptions.opml", "Connection: close")
        assert headers["content-type"] == "text/x-opml; charset=utf-8" and data == b"<opml/>"
        assert sock.recv(1) == b""  # closed as asked


def test_http_client_reuses_one_connection(site: tuple[Path, int]) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", site[1], timeout=5)
    try:
        for path in ("/", "/category/news.xml", "/index.html", "/nope.html", "/"):
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            assert response.version == 11
            assert not response.will_close, path
        local = conn.sock.getsockname()
        conn.request("HEAD", "/category/news.xml")
        head = conn.getresponse()
        assert head.read() == b"" and int(head.getheader("Content-Length")) == len(FEED)
        assert conn.sock.getsockname() == local  # the same connection all along
    finally:
        conn.close()


# ------------------------------------------------------------- odd requests


def test_odd_paths_get_a_clean_answer(
    site: tuple[Path, int], capfd: pytest.CaptureFixture[str]
) -> None:
    root, port = site
    (root / "分类").mkdir()
    for path, status in (
        ("/%00", 400),
        ("/index.html%00.xml", 400),
        ("/category/%00/", 400),
        ("/%0a", 400),
        ("/%ff", 400),  # not UTF-8: no name we publish
        ("/%", 404),
        ("/..%2f..%2f..%2fetc/passwd", 400),
        ("/../../etc/passwd", 400),
        ("/" + "a" * 300, 404),  # longer than a file name may be
        ("/" + "a/" * 3000 + "x.html", 404),  # longer than a path may be
        ("/%e5%88%86%e7%b1%bb", 301),  # http.server's Location was not Latin-1
    ):
        response, _ = body(port, path)
        assert response.status == status, (path[:40], response.status)
        if status == 301:
            assert response.getheader("Location") == "/%E5%88%86%E7%B1%BB/"
        assert body(port, "/category/news.xml")[1] == FEED, path[:40]  # still serving
    assert "Traceback" not in capfd.readouterr().err


# ------------------------------------------------------------- connections


def _threads_settle(expected: int, timeout: float = 5.0) -> int:
    deadline = time.monotonic() + timeout
    while threading.active_count() != expected and time.monotonic() < deadline:
        time.sleep(0.02)
    return threading.active_count()


def test_idle_connections_are_closed_after_the_timeout(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<p>home</p>", encoding="utf-8")
    with running(make_server(tmp_path, port=0, idle_timeout=1.0)) as port:
        before = threading.active_count()
        started = time.monotonic()
        idle = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(50)]
        try:
            # One handler thread for each: they are all waiting for a request line.
            assert _threads_settle(before + 50) == before + 50
            for s in idle:
                assert s.recv(1) == b""  # closed by the server, not by us
            assert 0.9 < time.monotonic() - started < 5
            assert _threads_settle(before) == before
        finally:
            for s in idle:
                s.close()
        assert body(port, "/index.html")[1] == b"<p>home</p>"


def test_a_client_that_stops_reading_or_hangs_up_is_dropped(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    # More than the kernel buffers on both sides of a loopback connection.
    (tmp_path / "big.bin").write_bytes(b"x" * (32 << 20))
    with running(make_server(tmp_path, port=0, idle_timeout=1.0)) as port:
        before = threading.active_count()
        with socket.create_connection(("127.0.0.1", port), timeout=5) as stalled:
            stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            stalled.sendall(b"GET /big.bin HTTP/1.0\r\n\r\n")
            assert _threads_settle(before + 1) == before + 1
            assert _threads_settle(before) == before  # the write timed out
        with socket.create_connection(("127.0.0.1", port), timeout=5) as gone:
            gone.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            gone.sendall(b"GET /big.bin HTTP/1.0\r\n\r\n")
            assert gone.recv(1) == b"H"  # the server is writing
            # Linger 0: close() resets the connection under the server's write.
            gone.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        assert _threads_settle(before) == before
        assert get(port, "/big.bin").status == 200
    err = capfd.readouterr().err
    assert "Traceback" not in err, err


def test_connections_beyond_the_cap_are_refused_at_once(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<p>home</p>", encoding="utf-8")
    with running(make_server(tmp_path, port=0, idle_timeout=1.0, max_connections=4)) as port:
        before = threading.active_count()
        idle = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(4)]
        try:
            assert _threads_settle(before + 4) == before + 4
            with socket.create_connection(("127.0.0.1", port), timeout=2) as extra:
                reply = b"".join(iter(lambda: extra.recv(4096), b""))
            assert reply.startswith(b"HTTP/1.0 503 ")
            assert b"Retry-After: " in reply
            assert threading.active_count() == before + 4  # no thread for the refused one
        finally:
            for s in idle:
                s.close()
        # The slots come back as the idle ones go.
        assert _threads_settle(before) == before
        assert body(port, "/index.html")[1] == b"<p>home</p>"


def test_listen_backlog_holds_a_burst(tmp_path: Path) -> None:
    # Bound and listening, but not accepting yet: every connection waits in the backlog.
    # Linux drops the SYN of a connection that finds the backlog full, so connect() hangs.
    server = make_server(tmp_path, port=0)
    port = server.server_address[1]
    burst: list[socket.socket] = []
    try:
        for _ in range(100):
            burst.append(socket.create_connection(("127.0.0.1", port), timeout=0.5))
    finally:
        for s in burst:
            s.close()
        server.server_close()
    assert len(burst) == 100


# ------------------------------------------------------------- the command


def test_serve_command_end_to_end(tmp_path: Path, outside: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        "site:\n  title: T\n  base_url: https://news.example.org/\n  output_dir: out\n"
        "database: sqlite:///test.db\ncategories:\n  news:\n    title: News\n"
        "sources:\n  - name: a\n    url: http://127.0.0.1:9/a.rss\n    category: news\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    (out / "_posts").mkdir(parents=True)
    (out / "index.html").write_text("<p>home</p>", encoding="utf-8")
    (out / "_posts" / "2024-01-02-hello.md").write_text("---\n---\n", encoding="utf-8")
    (out / "leak.html").symlink_to(outside / "secret.html")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [*aggregator_command(), "--config", str(config), "serve", "--port", str(port)],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None
                time.sleep(0.05)
        assert get(port, "/_posts/2024-01-02-hello.md").status == 404
        assert get(port, "/leak.html").status == 404
        assert get(port, "/%00").status == 400
        assert body(port, "/")[1] == b"<p>home</p>"
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    assert "Traceback" not in err, err
