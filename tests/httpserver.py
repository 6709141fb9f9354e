"""A real HTTP/1.1 server on 127.0.0.1 for tests, able to misbehave on request.

Usage::

    with FeedServer() as server:
        server.add("/feed.xml", b"<rss/>", etag=True, last_modified=http_date(when))
        url = server.url("/feed.xml")        # "http://127.0.0.1:PORT/feed.xml"
        ...                                  # fetch it from the code under test
        assert server.hits("/feed.xml") == 1
        assert server.requests("/feed.xml")[0].headers["user-agent"].startswith("aggregator/")

Routes can be added or replaced at any time, from any thread. A path with no route
answers 404. `closed_port()` gives a port on which connections are refused, and
`unresponsive_port()` one on which they time out.

Each route may:
- answer conditional GETs with 304 (`etag`, `last_modified`, `honour_conditional`);
- gzip its body (`gzip=True`), or send any headers verbatim (`headers=`), e.g. a
  ready-made gzip body with `headers={"Content-Encoding": "gzip"}`;
- redirect (`redirect_to`, `redirect_status`), ask to retry later (`retry_after`);
- be slow (`delay` before answering, `chunk_delay` between chunks), hang without answering
  (`hang`), stall mid-body (`stall_after`), close the connection without a word
  (`close_without_response`), stream a body that never ends (`infinite`), or answer
  with arbitrary bytes (`raw_response`);
- make its body anew for each request (`dynamic`: a feed whose items change between
  fetches), the ETag then derived from each body.

The server counts requests in flight (`in_flight`, `max_in_flight`) so tests can check
concurrency limits. `peer`, when given, names the client of each connection (called once
per connection with its address, its answer kept on every Request of that connection):
tests with several client processes tell from it which process asked.
"""

from __future__ import annotations

import contextlib
import gzip as gzip_module
import hashlib
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import urlsplit

__all__ = ["FeedServer", "Request", "Route", "closed_port", "http_date", "unresponsive_port"]

RSS_TYPE = "application/rss+xml; charset=utf-8"
# How long a hanging route waits at most; the server's stop() ends the wait earlier.
HANG_LIMIT = 60.0


def http_date(when: datetime) -> str:
    """Format an aware datetime as an HTTP-date (RFC 9110 §5.6.7)."""
    return format_datetime(when.astimezone(UTC), usegmt=True)


@contextlib.contextmanager
def closed_port() -> Iterator[int]:
    """Yield a port on 127.0.0.1 where a connection is refused.

    The port is bound but not listening while the context is open, so nothing else can
    take it meanwhile and the kernel answers a connect() with RST.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]
    finally:
        sock.close()


@contextlib.contextmanager
def unresponsive_port() -> Iterator[int]:
    """Yield a port on 127.0.0.1 where a connect() never completes (so it times out).

    A listening socket with a backlog of 0 whose queue is already full: Linux then drops
    further SYNs instead of refusing them, as a firewall that blackholes traffic would.
    """
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    filler = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        filler.connect(("127.0.0.1", port))
        yield port
    finally:
        filler.close()
        listener.close()


@dataclass(frozen=True, slots=True, kw_only=True)
class Route:
    """How the server answers one path. See `FeedServer.add` for the meaning of fields."""

    body: bytes = b""
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    content_type: str | None = RSS_TYPE
    etag: str | None = None
    last_modified: str | None = None
    honour_conditional: bool = True
    gzip: bool = False
    delay: float = 0.0
    hang: bool = False
    close_without_response: bool = False
    redirect_to: str | None = None
    redirect_status: int = 301
    retry_after: str | None = None
    chunked: bool = False
    chunk_size: int = 16 * 1024
    chunk_delay: float = 0.0
    infinite: bool = False
    stall_after: int | None = None
    raw_response: bytes | None = None
    dynamic: Callable[[Request], bytes] | None = None
    derive_etag: bool = False  # with `dynamic`: the ETag of each body made


@dataclass(frozen=True, slots=True, kw_only=True)
class Request:
    """One request as the server received it; header names are lower-cased."""

    method: str
    path: str  # the request target: path and query
    headers: Mapping[str, str]
    time: float  # time.monotonic() when it arrived
    body: bytes = b""  # what a POST sent
    client: tuple[str, int] = ("", 0)  # the connection's address and port on the client side
    peer: object = None  # what FeedServer's `peer` said of the connection


class FeedServer:
    """A threaded HTTP/1.1 server with keep-alive on 127.0.0.1, port chosen by the OS.

    `host` binds another loopback address: Linux answers all of 127.0.0.0/8, so a test can
    run a "public" server on 127.0.0.1 and a "private" one on 127.0.0.2.
    """

    def __init__(
        self, host: str = "127.0.0.1", *, peer: Callable[[tuple[str, int]], object] | None = None
    ) -> None:
        self._host = host
        self.peer = peer
        self._lock = threading.Lock()
        self._routes: dict[str, Route] = {}
        self._log: list[Request] = []
        self._in_flight = 0
        self._max_in_flight = 0
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ---------------------------------------------------------------- lifecycle

    def start(self) -> FeedServer:
        handler = type("Handler", (_Handler,), {"feed_server": self})
        httpd = _QuietServer((self._host, 0), handler)
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # releases hanging and streaming handlers
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> FeedServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ------------------------------------------------------------------ routes

    @property
    def port(self) -> int:
        assert self._httpd is not None, "server not started"
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        """`http://HOST:PORT` without a trailing slash."""
        return f"http://{self._host}:{self.port}"

    def url(self, path: str = "/") -> str:
        """The absolute URL of `path` on this server."""
        if not path.startswith("/"):
            path = "/" + path
        return self.base_url + path

    def add(
        self,
        path: str,
        body: bytes = b"",
        *,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        content_type: str | None = RSS_TYPE,
        etag: bool | str = False,
        last_modified: str | None = None,
        honour_conditional: bool = True,
        gzip: bool = False,
        delay: float = 0.0,
        hang: bool = False,
        close_without_response: bool = False,
        redirect_to: str | None = None,
        redirect_status: int = 301,
        retry_after: int | str | None = None,
        chunked: bool = False,
        chunk_size: int = 16 * 1024,
        chunk_delay: float = 0.0,
        infinite: bool = False,
        stall_after: int | None = None,
        raw_response: bytes | None = None,
        dynamic: Callable[[Request], bytes] | None = None,
    ) -> Route:
        """Serve `path` (matched with its query first, then without) as described.

        - `etag`: True derives a strong ETag from the body; a string is sent as given.
        - `last_modified`: an HTTP-date (see `http_date`).
        - `honour_conditional`: answer 304 to a matching If-None-Match / If-Modified-Since.
          (If-None-Match wins over If-Modified-Since, as RFC 9110 §13.2.2 says.)
        - `gzip`: compress the body and send `Content-Encoding: gzip`, whatever was asked.
        - `headers`: sent verbatim after the others (may repeat or contradict them).
        - `delay`: seconds to wait before answering.
        - `hang`: read the request, then never answer (until the server stops).
        - `close_without_response`: read the request, then close the connection.
        - `redirect_to`: a path or URL for the Location header; the status is
          `redirect_status` and the body is empty.
        - `retry_after`: a Retry-After header (delta-seconds or an HTTP-date).
        - `chunked`: send the body in `chunk_size` pieces with Transfer-Encoding: chunked,
          waiting `chunk_delay` seconds before each.
        - `infinite`: repeat the body chunk after chunk until the client goes away.
        - `stall_after`: announce the full Content-Length, send that many bytes, then hang.
        - `raw_response`: write these bytes instead of a response (status line included),
          then close the connection; for malformed answers.
        - `dynamic`: called with each request (in the server's thread for it) for the body
          to send instead of `body`; with `etag=True` the ETag is derived from that body.
        """
        if etag is True and dynamic is not None:
            etag_value: str | None = None
        elif etag is True:
            etag_value = _derived_etag(body)
        elif etag is False:
            etag_value = None
        else:
            etag_value = etag
        route = Route(
            body=body,
            status=status,
            headers=dict(headers or {}),
            content_type=content_type,
            etag=etag_value,
            last_modified=last_modified,
            honour_conditional=honour_conditional,
            gzip=gzip,
            delay=delay,
            hang=hang,
            close_without_response=close_without_response,
            redirect_to=redirect_to,
            redirect_status=redirect_status,
            retry_after=None if retry_after is None else str(retry_after),
            chunked=chunked or infinite,
            chunk_size=chunk_size,
            chunk_delay=chunk_delay,
            infinite=infinite,
            stall_after=stall_after,
            raw_response=raw_response,
            dynamic=dynamic,
            derive_etag=etag is True and dynamic is not None,
        )
        with self._lock:
            self._routes[path] = route
        return route

    def remove(self, path: str) -> None:
        with self._lock:
            self._routes.pop(path, None)

    def route(self, target: str) -> Route | None:
        with self._lock:
            found = self._routes.get(target)
            if found is None:
                found = self._routes.get(urlsplit(target).path)
            return found

    # ------------------------------------------------------------- assertions

    def requests(self, path: str | None = None) -> list[Request]:
        """Requests received so far, oldest first; only those for `path` when given
        (compared with the request target, and with its path alone)."""
        with self._lock:
            log = list(self._log)
        if path is None:
            return log
        return [r for r in log if path in (r.path, urlsplit(r.path).path)]

    def hits(self, path: str) -> int:
        """How many requests `path` received."""
        return len(self.requests(path))

    @property
    def in_flight(self) -> int:
        with self._lock:
            return self._in_flight

    @property
    def max_in_flight(self) -> int:
        """The most requests the server was answering at the same time."""
        with self._lock:
            return self._max_in_flight

    def reset(self) -> None:
        """Forget routes, the request log and the in-flight peak."""
        with self._lock:
            self._routes.clear()
            self._log.clear()
            self._max_in_flight = self._in_flight

    # ---------------------------------------------------------------- internal

    def _arrived(self, request: Request) -> None:
        with self._lock:
            self._log.append(request)
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)

    def _done(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def _wait(self, seconds: float) -> bool:
        """Sleep; True when the server is stopping and the handler should give up."""
        return self._stopping.wait(seconds) if seconds > 0 else self._stopping.is_set()


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default backlog is 5: clients opening dozens of connections at once
    # (several daemons, each with many requests in flight) would see SYNs dropped and
    # connect() time out, a fault of the test server and not of the client under test.
    request_queue_size = 128

    def handle_error(self, request: object, client_address: object) -> None:
        # Clients under test drop connections on purpose (timeouts, size caps); only
        # unexpected errors are worth a traceback.
        error = sys.exc_info()[1]
        if not isinstance(error, (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive
    timeout = 10  # an idle keep-alive connection is dropped after this
    feed_server: FeedServer  # set on the subclass made by FeedServer.start
    _peer: object = None
    _peer_known = False

    def log_message(self, format: str, *args: object) -> None:  # quiet test output
        pass

    def do_GET(self) -> None:
        self._serve(head=False)

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def do_POST(self) -> None:
        # Answered by the route like a GET; the body is kept on the Request (a WebSub hub).
        length = int(self.headers.get("content-length") or 0)
        self._serve(head=False, body=self.rfile.read(length))

    def _serve(self, *, head: bool, body: bytes = b"") -> None:
        server = self.feed_server
        arrived = time.monotonic()
        client = (str(self.client_address[0]), int(self.client_address[1]))
        if server.peer is not None and not self._peer_known:
            # Once per connection (a handler serves one), while the client still holds it.
            self._peer, self._peer_known = server.peer(client), True
        request = Request(
            method=self.command,
            path=self.path,
            headers={k.lower(): v for k, v in self.headers.items()},
            time=arrived,
            body=body,
            client=client,
            peer=self._peer,
        )
        server._arrived(request)
        try:
            route = server.route(self.path)
            if route is not None and route.dynamic is not None:
                made = route.dynamic(request)
                etag = _derived_etag(made) if route.derive_etag else route.etag
                route = replace(route, body=made, etag=etag, dynamic=None)
            self._answer(server, route, request, head=head)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client went away: expected in tests
        finally:
            server._done()

    def _answer(
        self, server: FeedServer, route: Route | None, request: Request, *, head: bool
    ) -> None:
        if route is None:
            self._send(404, [("Content-Type", "text/plain")], b"not found\n", head=head)
            return
        if route.delay and server._wait(route.delay):
            self.close_connection = True
            return
        if route.hang:
            server._wait(HANG_LIMIT)
            self.close_connection = True
            return
        if route.close_without_response:
            self.close_connection = True
            return
        if route.raw_response is not None:
            self.wfile.write(route.raw_response)
            self.close_connection = True
            return

        headers: list[tuple[str, str]] = []
        if route.redirect_to is not None:
            headers.append(("Location", route.redirect_to))
            headers.extend(route.headers.items())
            self._send(route.redirect_status, headers, b"", head=head)
            return

        if route.etag is not None:
            headers.append(("ETag", route.etag))
        if route.last_modified is not None:
            headers.append(("Last-Modified", route.last_modified))
        if route.retry_after is not None:
            headers.append(("Retry-After", route.retry_after))
        if route.honour_conditional and route.status == 200 and _not_modified(route, request):
            headers.extend(route.headers.items())
            self._send(304, headers, b"", head=True)
            return

        body = route.body
        if route.gzip:
            body = gzip_module.compress(body, mtime=0)
            headers.append(("Content-Encoding", "gzip"))
        if route.content_type is not None:
            headers.append(("Content-Type", route.content_type))
        headers.extend(route.headers.items())

        if route.stall_after is not None:
            self._start(route.status, [*headers, ("Content-Length", str(len(body)))])
            self.wfile.write(body[: route.stall_after])
            self.wfile.flush()
            server._wait(HANG_LIMIT)
            self.close_connection = True
        elif route.chunked and not head:
            self._start(route.status, [*headers, ("Transfer-Encoding", "chunked")])
            self._write_chunks(server, route, body)
        else:
            self._send(route.status, headers, body, head=head)

    def _start(self, status: int, headers: list[tuple[str, str]]) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()

    def _send(
        self, status: int, headers: list[tuple[str, str]], body: bytes, *, head: bool
    ) -> None:
        if status not in (204, 304):
            headers = [*headers, ("Content-Length", str(len(body)))]
        self._start(status, headers)
        if not head and status not in (204, 304):
            self.wfile.write(body)

    def _write_chunks(self, server: FeedServer, route: Route, body: bytes) -> None:
        size = max(1, route.chunk_size)
        while True:
            for start in range(0, len(body), size):
                if server._wait(route.chunk_delay):
                    self.close_connection = True
                    return
                piece = body[start : start + size]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                self.wfile.flush()
            if not route.infinite or not body:
                break
        self.wfile.write(b"0\r\n\r\n")


def _derived_etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:16] + '"'


def _not_modified(route: Route, request: Request) -> bool:
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        if route.etag is None:
            return False
        tags = {tag.strip() for tag in if_none_match.split(",")}
        # Weak comparison (RFC 9110 §13.1.2): W/"x" matches "x".
        bare = route.etag.removeprefix("W/")
        return "*" in tags or bare in {t.removeprefix("W/") for t in tags}
    if_modified_since = request.headers.get("if-modified-since")
    if if_modified_since is None or route.last_modified is None:
        return False
    try:
        return parsedate_to_datetime(route.last_modified) <= parsedate_to_datetime(
            if_modified_since
        )
    except (TypeError, ValueError):
        return if_modified_since == route.last_modified
