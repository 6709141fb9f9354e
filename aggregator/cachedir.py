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
    table): `$XDG_CACHE_HOME/aggregator`, else `~/.cache/aggregator`; None when neither
    names an absolute folder."""
    base = os.environ.get("XDG_CACHE_HOME") or (
        os.path.join(os.environ["HOME"], ".cache") if os.environ.get("HOME") else None
    )
    return Path(base, "aggregator") if base and os.path.isabs(base) else None
