"""gzip for the preview server: which responses are worth compressing, whether a client
accepts gzip, and the compressed bodies of recently served files.

Must NOT read files or speak HTTP itself: serve.py hands it the bytes and the header.
"""

from __future__ import annotations

import contextlib
import gzip
import threading
from collections import OrderedDict
from collections.abc import Callable

# Worth compressing: text. Images and archives are compressed already.
COMPRESSIBLE = (
    "text/",
    "application/atom+xml",
    "application/rss+xml",
    "application/feed+json",
    "application/json",
    "image/svg+xml",
)
MIN_GZIP = 256  # bytes: below this the gzip header costs more than it saves
GZIP_CACHE_SIZE = 256  # compressed bodies kept, keyed by (path, mtime, size)


class GzipCache:
    """Compressed bodies of recently served files, so a popular feed is compressed once."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[tuple[str, int, int], bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, int, int], data: Callable[[], bytes]) -> bytes:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        # mtime=0: the same file always compresses to the same bytes.
        body = gzip.compress(data(), compresslevel=6, mtime=0)
        with self._lock:
            self._items[key] = body
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return body


def accepts_gzip(header: str) -> bool:
    for part in header.split(","):
        name, _, params = part.strip().partition(";")
        if name.strip().lower() in ("gzip", "*"):
            q = params.strip().removeprefix("q=").strip()
            with contextlib.suppress(ValueError):
                return not q or float(q) > 0
    return False
