"""`aggregator serve`: the output tree over HTTP, for previews and small sites.

Static files only: it never writes, and never answers with anything outside `output_dir`
(no link out of it is followed) or with what the README's nginx configuration hides
(dotfiles, `_posts/`, Markdown). HTTP/1.1 with keep-alive (every response framed by its
Content-Length), ETag and Last-Modified with 304s, gzip for text, each feed with its
format's media type in UTF-8; idle connections time out and their number is capped. For a busy
production site put nginx in front (README shows the equivalent configuration). Paths
answered by code (health, metrics, the WebSub callback) are routes the server is given, by
exact path or, for a key ending in "/", by prefix; POST is answered by `post_routes` only.
healthroutes.py makes health's from status.py, websub/routes.py the callback (which alone
writes: what a hub sends, into the store). Where the site keeps what it hides comes from
the sitemap. Must NOT decide a source's health (status.py) nor build a path of the output
tree.
"""

from __future__ import annotations

import contextlib
import email.utils
import functools
import io
import logging
import os
import signal
import threading
from collections.abc import Callable, Iterator, Mapping
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import quote, unquote, urlsplit

from aggregator.gzipcache import COMPRESSIBLE, GZIP_CACHE_SIZE, MIN_GZIP, GzipCache, accepts_gzip
from aggregator.publish.feeds import FORMATS
from aggregator.publish.sitemap import FEED_EXTENSION, POSTS_DIR, Sitemap
from aggregator.siteserver import IDLE_TIMEOUT, MAX_CONNECTIONS, SiteServer

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
# Control characters name no file we publish; NUL would reach os.stat as ValueError.
_CONTROL = frozenset(map(chr, [*range(0x20), 0x7F]))


Route = Callable[["SiteHandler"], None]
Routes = Mapping[str, Route]


class SiteHandler(SimpleHTTPRequestHandler):
    """Static files with validators, 304s and gzip.

    `routes` maps a request path (exact, or a prefix for a key ending in "/") to a
    function that writes the whole response (status, headers, body); it is asked before
    the file system, for GET and HEAD. `post_routes` likewise for POST, which nothing else
    answers (501, as http.server does).
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

    def __init__(
        self,
        *args: Any,
        routes: Routes | None = None,
        post_routes: Routes | None = None,
        **kwargs: Any,
    ) -> None:
        # Set first: the base class answers the request inside its __init__.
        self.routes: Routes = routes or {}
        self.post_routes: Routes = post_routes or {}
        super().__init__(*args, **kwargs)

    def do_GET(self) -> None:
        if not self._route(self.routes):
            super().do_GET()

    def do_HEAD(self) -> None:
        if not self._route(self.routes):
            super().do_HEAD()

    def do_POST(self) -> None:
        if not self._route(self.post_routes):
            self.send_error(HTTPStatus.NOT_IMPLEMENTED, f"Unsupported method ({self.command!r})")

    def _route(self, routes: Routes) -> bool:
        path = urlsplit(self.path).path
        route = routes.get(path)
        if route is None:
            prefixes = [p for p in routes if p.endswith("/") and path.startswith(p) and p != path]
            if not prefixes:
                return False
            route = routes[max(prefixes, key=len)]
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


def make_server(
    root: Path,
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    idle_timeout: float = IDLE_TIMEOUT,
    max_connections: int = MAX_CONNECTIONS,
    routes: Routes | None = None,
    post_routes: Routes | None = None,
) -> SiteServer:
    """A server for `root`, bound but not yet serving (port 0: any free port); `routes`
    answer their paths before the files do, `post_routes` their POSTs.

    Raises:
        OSError: the address cannot be bound.
    """
    root.mkdir(parents=True, exist_ok=True)
    handler = functools.partial(
        SiteHandler,
        directory=str(root),
        routes=dict(routes or {}),
        post_routes=dict(post_routes or {}),
    )
    return SiteServer(
        (host, port), handler, idle_timeout=idle_timeout, max_connections=max_connections
    )


def serve(
    root: Path,
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    routes: Routes | None = None,
    post_routes: Routes | None = None,
) -> None:
    """Serve `root` (and `routes`, `post_routes`) until SIGINT or SIGTERM, which stop it
    alike: the server is closed and this returns.

    Raises:
        OSError: the address cannot be bound.
    """
    with (
        make_server(root, host=host, port=port, routes=routes, post_routes=post_routes) as httpd,
        contextlib.suppress(KeyboardInterrupt),
        _sigterm_interrupts(),  # before the line that says it serves: a stop from then on is clean
    ):
        log.info("serving %s on http://%s:%d/", root, host, httpd.server_address[1])
        httpd.serve_forever()


@contextlib.contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """SIGTERM raises KeyboardInterrupt meanwhile, as SIGINT does (in the main thread only:
    elsewhere no handler can be set, and SIGTERM keeps its default)."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
