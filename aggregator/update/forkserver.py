"""Update stage, the parse pool's forkserver: imported in that server process alone (the
pool's preload list, worker.process_pool), before the worker module.

The forkserver reads each request for a worker from the process that made the pool. When
that process dies mid-request (a SIGKILL, the OOM killer), the server reads EOF, and
multiprocessing lets the EOFError end it with a traceback in the daemon's log, as if
something had gone wrong in it: nothing did, and nothing is lost. This hook ends it
quietly then, and leaves every other uncaught exception's traceback as it was.

Must NOT be imported anywhere else: it replaces sys.excepthook of the process importing it.
Workers forked from the server keep the hook but never reach it (multiprocessing prints a
worker's exceptions itself).
"""

from __future__ import annotations

import sys
from types import TracebackType

__all__: list[str] = []


def _quiet_when_the_parent_is_gone(
    kind: type[BaseException], value: BaseException, traceback: TracebackType | None
) -> None:
    if issubclass(kind, (EOFError, ConnectionError)):
        return  # the pool's maker died while asking for a worker
    sys.__excepthook__(kind, value, traceback)


sys.excepthook = _quiet_when_the_parent_is_gone
