"""The process's heap, on glibc: few malloc arenas, and freed memory given back.

glibc gives each thread that allocates an arena of its own (up to eight per core), and
keeps what is freed in them: a round's threads (the store's, the writers', the parsers')
left the daemon 10-20 MB larger after every few rounds, and growing. `limit_arenas` caps
them (as MALLOC_ARENA_MAX does) before the first thread starts; `give_back` returns the
free pages at the top of each heap after a round or a publish (malloc_trim).

Both do nothing where the C library is not glibc. Must NOT import anything of aggregator
(the CLI's commands call it before they load the stages).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from typing import Any

__all__ = ["give_back", "limit_arenas"]

_M_ARENA_MAX = -8  # mallopt's parameter (malloc.h)
ARENAS = 2  # the main thread's arena and one for every other thread


@functools.cache
def _glibc() -> Any | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


def limit_arenas(count: int = ARENAS) -> bool:
    """Cap malloc's arenas at `count`; True when the C library took it. Call it before
    threads start: arenas made already stay."""
    libc = _glibc()
    return bool(libc is not None and libc.mallopt(_M_ARENA_MAX, count) == 1)


def give_back() -> None:
    """Return the heap's free memory to the system (after a round, after a publish)."""
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)
