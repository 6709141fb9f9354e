"""Progress of a round or a publish: a rich bar on a terminal; off one (cron, systemd,
pipes) nothing unless `-v` asks for a log line per step (`every`) or at every tenth of the
way, so cron mail holds the round's summary and its warnings only. Told of each step
through the callbacks of Updater.run_round (`on_source`) and publish (`on_post`); must NOT
drive the work itself.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

from aggregator.cli.common import log

__all__ = ["Progress"]


def _show_bar() -> bool:
    # A bar on a terminal; plain log lines for cron, systemd and pipes.
    return sys.stderr.isatty() and os.environ.get("TERM") != "dumb"


class Progress:
    """A rich bar on a terminal; else, when `verbose`, a log line at each step (`every`)
    or at every tenth of the way; else nothing."""

    def __init__(
        self, what: str, total: int, *, verbose: bool = False, every: bool = False
    ) -> None:
        self.what = what
        self.total = total
        self.done = 0
        self._verbose = verbose
        self._step = 1 if every else max(1, total // 10)
        self._bar: Any = None
        self._task: Any = None
        self._handler_stream: Any = None

    def __enter__(self) -> Progress:
        if _show_bar() and self.total:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                TextColumn,
                TimeElapsedColumn,
            )
            from rich.progress import Progress as Bar

            self._bar = Bar(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=Console(file=sys.stderr),
                transient=False,
            )
            self._bar.__enter__()
            self._task = self._bar.add_task(self.what, total=self.total)
            # Log lines go through the bar's console so they print above it, not into it.
            handler = logging.getLogger().handlers[0]
            if isinstance(handler, logging.StreamHandler):
                self._handler_stream = handler.setStream(sys.stderr)
        return self

    def set_total(self, total: int) -> None:
        """The work turned out to be `total` steps (a publish widened by a site change)."""
        self.total = total
        self._step = max(1, total // 10)
        if self._bar is not None:
            self._bar.update(self._task, total=total)

    def advance(self, label: str = "") -> None:
        self.done += 1
        if self._bar is not None:
            self._bar.update(self._task, advance=1)
        elif self._verbose and (self.done % self._step == 0 or self.done == self.total):
            log.info("%s: %d/%d %s", self.what, self.done, self.total, label)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            handler = logging.getLogger().handlers[0]
            if isinstance(handler, logging.StreamHandler) and self._handler_stream is not None:
                handler.setStream(self._handler_stream)
