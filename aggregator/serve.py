"""`aggregator serve`: the output tree over HTTP, for previews and small sites.

Static files only; ETag and Last-Modified with 304s, Atom served as Atom. For a busy
production site put nginx in front (README shows the equivalent configuration).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

log = logging.getLogger("aggregator.serve")


class SiteHandler(SimpleHTTPRequestHandler):
    extensions_map = {  # noqa: RUF012 (the base class declares it so)
        **SimpleHTTPRequestHandler.extensions_map,
        ".xml": "application/atom+xml",
        ".opml": "text/x-opml",
        ".md": "text/markdown; charset=utf-8",
        ".html": "text/html; charset=utf-8",
    }

    def send_head(self) -> Any:
        path = self.translate_path(self.path)
        if os.path.isdir(path):
            return super().send_head()
        try:
            st = os.stat(path)
        except OSError:
            return super().send_head()
        etag = f'"{st.st_mtime_ns:x}-{st.st_size:x}"'
        if etag in [t.strip() for t in self.headers.get("If-None-Match", "").split(",")]:
            self.send_response(HTTPStatus.NOT_MODIFIED)
            self.send_header("ETag", etag)
            self.end_headers()
            return None
        self._etag: str | None = etag
        return super().send_head()

    def end_headers(self) -> None:
        etag = getattr(self, "_etag", None)
        if etag:
            self.send_header("ETag", etag)
            self._etag = None
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        log.info("%s %s", self.address_string(), format % args)


def serve(root: Path, *, host: str = "127.0.0.1", port: int = 8080) -> None:
    """Serve `root` until interrupted."""
    root.mkdir(parents=True, exist_ok=True)
    handler = functools.partial(SiteHandler, directory=str(root))
    with ThreadingHTTPServer((host, port), handler) as httpd:
        log.info("serving %s on http://%s:%d/", root, host, httpd.server_address[1])
        with contextlib.suppress(KeyboardInterrupt):
            httpd.serve_forever()


__all__ = ["SiteHandler", "serve"]
