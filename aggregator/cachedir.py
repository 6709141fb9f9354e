"""The user's cache folder: where aggregator keeps what it can always rebuild (the kept
configs of config/cache.py, the pinyin table of pinyin.py). Names the folder only: reads
and writes nothing, and must NOT decide what is kept there.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["cache_root"]


def cache_root() -> Path | None:
    """The user's folder for what aggregator can always rebuild (kept configs, pinyin.py's
    table): `$XDG_CACHE_HOME/aggregator` when that is an absolute path, else
    `~/.cache/aggregator`; None when no absolute folder can be named."""
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    if os.path.isabs(xdg):  # a relative one is to be ignored (XDG Base Directory)
        return Path(xdg, "aggregator")
    home = os.environ.get("HOME", "")
    return Path(home, ".cache", "aggregator") if os.path.isabs(home) else None
