"""`aggregator serve`: the output tree over HTTP, for previews and small sites.

Static files only: it never writes, and never answers with anything outside `output_dir`
(no link out of it is followed) or with what the README's nginx configuration hides
(dotfiles, `_posts/`, Markdown). HTTP/1.1 with keep-alive (every response framed by its
Content-Length), ETag and Last-Modified with 304s, gzip for text, each feed with its
format's media type in UTF-8; idle connections time out and their number is capped. For a busy
production site put nginx in front (README shows the equivalent configuration). Paths
answered by code (health, metrics) are routes the server is given; healthroutes.py makes
them from status.py's health. Where the site keeps what it hides comes from the sitemap.
Must NOT decide a source's health (status.py) nor build a path of the output tree.
"""

from __future__ import annotations

import contextlib
import email.utils
import functools
import io
import logging
import os
import socket
import sys
import threading
from collections.abc import Callable, Mapping
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import quote, unquote, urlsplit

from aggregator.gzipcache import COMPRESSIBLE, GZIP_CACHE_SIZE, MIN_GZIP, GzipCache, accepts_gzip
from aggregator.publish.feeds import FORMATS
from aggregator.publish.sitemap import FEED_EXTENSION, POSTS_DIR, Sitemap

__all__ = [
    "FEED_MEDIA_TYPES",
    "MEDIA_TYPES",
    "SiteHandler",
    "SiteServer",
    "make_server",
    "serve",
]

log = logging.getLogger("aggregator.serve")

# Each feed format's media type, by its files' extension: every feed is written in UTF-8,
# and without the charset a browser guesses another (RFC 7303 §3.2 lets it) and shows the
# text as mojibake. Which file is which format's feed the sitemap says (rss.xml is RSS).
FEED_MEDIA_TYPES: dict[str, str] = {f.extension: f"{f.media_type}; charset=utf-8" for f in FORMATS}
MEDIA_TYPES: dict[str, str] = {
    # Any other .xml is taken for Atom, as every .xml a site without `site.formats` has is.
    FEED_EXTENSION: FEED_MEDIA_TYPES[FEED_EXTENSION],
    ".rss": FEED_MEDIA_TYPES[".rss"],
    Path(Sitemap.opml).suffix: "text/x-opml; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".txt": "text/plain; charset=utf-8",
    ".svg": "image/svg+xml",
}
IDLE_TIMEOUT = 20.0  # seconds a connection may stay silent, reading or writing
MAX_CONNECTIONS = 256  # connections served at once, one thread each; more get a 503
# Control characters name no file we publish; NUL would reach os.stat as ValueError.
_CONTROL = frozenset(map(chr, [*range(0x20), 0x7F]))


Route = Callable[["SiteHandler"], None]
Routes = Mapping[str, Route]


class SiteHandler(SimpleHTTPRequestHandler):
    """Static files with validators, 304s and gzip.

    `routes` maps an exact request path to a function that writes the whole response
    (status, headers, body); it is asked before the file system, for GET and HEAD.
    """

    extensions_map = {  # noqa: RUF012 (the base class declares it so)
        **SimpleHTTPRequestHandler.extensions_map,
        **MEDIA_TYPES,
    }
    gzip_cache: ClassVar[GzipCache] = GzipCache(GZIP_CACHE_SIZE)
    # Keep-alive: a browser fetches a page, its CSS and feeds over one connection. Every
    # response must then say where it ends (Content-Length), or the client waits for more.
    protocol_version = "HTTP/1.1"
    # Headers and body are two writes: without TCP_NODELAY the second waits for the
    # client's delayed ACK (40 ms) on every request of a kept-alive connection.
    disable_nagle_algorithm = True

    def __init__(self, *args: Any, routes: Routes | None = None, **kwargs: Any) -> None:
        # Set first: the base class answers the request inside its __init__.
        self.routes: Routes = routes or {}
        super().__init__(*args, **kwargs)

    def do_GET(self) -> None:
        if not self._route():
            super().do_GET()

    def do_HEAD(self) -> None:
        if not self._route():
            super().do_HEAD()

    def _route(self) -> bool:
        route = self.routes.get(urlsplit(self.path).path)
        if route is None:
            return False
        route(self)
        return True

    def setup(self) -> None:
        super().setup()
        # A client that sends nothing (or reads nothing) for this long is dropped and its
        # thread freed; http.server would wait for it forever.
        if isinstance(self.server, SiteServer):
            self.connection.settimeout(self.server.idle_timeout)

    def guess_type(self, path: str | os.PathLike[str]) -> str:
        """A feed's format's media type (the sitemap says which feed a path is), else the
        type of the file's extension."""
        root = os.path.realpath(self.directory)
        relative = os.path.relpath(path, root).replace(os.sep, "/")
        extension = Sitemap.feed_extension(relative)
        if extension is not None:
            return FEED_MEDIA_TYPES[extension]
        return super().guess_type(path)

    def send_head(self) -> Any:
        found = self._find()
        if isinstance(found, HTTPStatus):
            self.send_error(found)
            return None
        path, redirect = found
        if redirect is not None:
            self.send_response(HTTPStatus.MOVED_PERMANENTLY)
            self.send_header("Location", redirect)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        try:
            st = os.stat(path)
        except OSError:
            self.send_error(HTTPStatus.NOT_FOUND)
            return None
        if not os.path.isfile(path):
            self.send_error(HTTPStatus.NOT_FOUND)
            return None
        media_type = self.guess_type(path)
        compressible = media_type.startswith(COMPRESSIBLE) and st.st_size >= MIN_GZIP
        use_gzip = compressible and accepts_gzip(self.headers.get("Accept-Encoding", ""))
        # The gzip body is another representation: it needs its own validator (RFC 9110 §8.8.3).
        etag = f'"{st.st_mtime_ns:x}-{st.st_size:x}{"-gz" if use_gzip else ""}"'
        last_modified = email.utils.formatdate(st.st_mtime, usegmt=True)
        headers = [("ETag", etag), ("Last-Modified", last_modified), ("Cache-Control", "no-cache")]
        if compressible:
            headers.append(("Vary", "Accept-Encoding"))
        not_modified = self._not_modified(etag, int(st.st_mtime))
        try:
            if use_gzip:
                key = (path, st.st_mtime_ns, st.st_size)
                body = self.gzip_cache.get(key, functools.partial(_read, path))
                headers.append(("Content-Encoding", "gzip"))
            else:
                body = b"" if not_modified else _read(path)
        except OSError:
            self.send_error(HTTPStatus.NOT_FOUND)
            return None
        if not_modified:
            self.send_response(HTTPStatus.NOT_MODIFIED)
            # The length a 200 would have had (RFC 9110 §8.6); a 304 has no body.
            size = len(body) if use_gzip else st.st_size
            self.send_header("Content-Length", str(size))
            for name, value in headers:
                self.send_header(name, value)
            self.end_headers()
            return None
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", media_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        return io.BytesIO(body)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's error page, but a 404 keeps the connection open (a missing
        favicon must not cost the page its connection); other errors close it."""
        if code != HTTPStatus.NOT_FOUND:
            super().send_error(code, message, explain)
            return
        body = b"404 Not Found\n"
        self.send_response(code, message)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _find(self) -> tuple[str, str | None] | HTTPStatus:
        """The real path of the file a request names, or where to redirect, or an error.

        Replaces http.server's translate_path, which follows links anywhere and passes
        NUL on to os.stat.
        """
        raw = urlsplit(self.path).path
        try:
            request_path = unquote(raw, errors="strict")
        except UnicodeDecodeError:
            return HTTPStatus.BAD_REQUEST
        if not _CONTROL.isdisjoint(request_path):
            return HTTPStatus.BAD_REQUEST
        parts: list[str] = []
        for part in request_path.split("/"):
            if part == "..":
                if not parts:  # above the site: no client of ours sends it
                    return HTTPStatus.BAD_REQUEST
                parts.pop()
            elif part not in ("", "."):  # "//" is "/", as nginx's merge_slashes
                parts.append(part)
        if _hidden(parts):
            return HTTPStatus.NOT_FOUND
        root = os.path.realpath(self.directory)
        path = _inside(root, os.path.join(root, *parts))
        if path is None:
            return HTTPStatus.NOT_FOUND
        if os.path.isdir(path):
            if not request_path.endswith("/"):
                # Built from the parts, quoted: never "//host/", never a raw non-Latin-1 byte.
                location = "/" + "".join(quote(part) + "/" for part in parts)
                return path, location
            path = _inside(root, os.path.join(path, Sitemap.index))
            if path is None:
                return HTTPStatus.NOT_FOUND
        elif request_path.endswith("/"):  # a file is no folder: /index.html/ is not it
            return HTTPStatus.NOT_FOUND
        return path, None

    def _not_modified(self, etag: str, mtime: int) -> bool:
        """RFC 9110 §13.1: If-None-Match wins; If-Modified-Since only without it."""
        if_none_match = self.headers.get("If-None-Match")
        if if_none_match is not None:
            tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
            return "*" in tags or etag in tags
        since = self.headers.get("If-Modified-Since")
        if since is None:
            return False
        try:
            when = email.utils.parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
        return when.tzinfo is not None and mtime <= int(when.timestamp())

    def log_message(self, format: str, *args: Any) -> None:
        log.info("%s %s", self.address_string(), format % args)


def _hidden(parts: list[str]) -> bool:
    """What the README's nginx configuration answers 404: dotfiles (the publisher's .tmp
    folder), `_posts/` and Markdown (sources for a Jekyll build, not pages)."""
    return (
        any(part.startswith(".") for part in parts)
        or parts[:1] == [POSTS_DIR]
        or (bool(parts) and parts[-1].endswith(".md"))
    )


def _inside(root: str, path: str) -> str | None:
    """The real path of `path` when it, with every link in it resolved, lies within the
    real folder `root` and is not hidden there; else None."""
    real = os.path.realpath(path)
    if real == root:
        return real
    if not real.startswith(root.rstrip(os.sep) + os.sep):
        return None
    # A link inside the site to a hidden file hides nothing.
    if _hidden(os.path.relpath(real, root).split(os.sep)):
        return None
    return real


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


class SiteServer(ThreadingHTTPServer):
    """A thread per connection, at most `max_connections` of them, each dropped after
    `idle_timeout` seconds of silence."""

    daemon_threads = True
    # http.server's default backlog of 5 drops the SYNs of a burst of visitors; the
    # kernel caps this at net.core.somaxconn.
    request_queue_size = max(128, socket.SOMAXCONN)

    def __init__(
        self,
        address: tuple[str, int],
        handler: Callable[..., SiteHandler],
        *,
        idle_timeout: float = IDLE_TIMEOUT,
        max_connections: int = MAX_CONNECTIONS,
    ) -> None:
        self.idle_timeout = idle_timeout
        self.max_connections = max_connections
        self._slots = threading.BoundedSemaphore(max_connections)
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            self._refuse(request, client_address)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()  # no thread started to release it
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def _refuse(self, request: socket.socket, client_address: Any) -> None:
        # Answered on the accepting thread, so it must not wait: a short reply fits in
        # a new socket's empty send buffer.
        log.warning("%s refused: %d connections open", client_address[0], self.max_connections)
        with contextlib.suppress(OSError):
            request.setblocking(False)
            request.send(
                b"HTTP/1.0 503 Service Unavailable\r\nRetry-After: 1\r\n"
                b"Content-Length: 0\r\nConnection: close\r\n\r\n"
            )
        self.shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up or stalls mid-response is the network, not a bug: one
        # line. Anything else is a bug and keeps its traceback.
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError | TimeoutError):
            log.info("%s dropped: %s", client_address[0], error)
            return
        super().handle_error(request, client_address)


def make_server(
    root: Path,
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    idle_timeout: float = IDLE_TIMEOUT,
    max_connections: int = MAX_CONNECTIONS,
    routes: Routes | None = None,
) -> SiteServer:
    """A server for `root`, bound but not yet serving (port 0: any free port); `routes`
    answer their paths before the files do.

    Raises:
        OSError: the address cannot be bound.
    """
    root.mkdir(parents=True, exist_ok=True)
    handler = functools.partial(SiteHandler, directory=str(root), routes=dict(routes or {}))
    return SiteServer(
        (host, port), handler, idle_timeout=idle_timeout, max_connections=max_connections
    )


def serve(
    root: Path, *, host: str = "127.0.0.1", port: int = 8080, routes: Routes | None = None
) -> None:
    """Serve `root` (and `routes`) until interrupted.

    Raises:
        OSError: the address cannot be bound.
    """
    with make_server(root, host=host, port=port, routes=routes) as httpd:
        log.info("serving %s on http://%s:%d/", root, host, httpd.server_address[1])
        with contextlib.suppress(KeyboardInterrupt):
            httpd.serve_forever()
