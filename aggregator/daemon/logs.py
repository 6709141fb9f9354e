"""The daemon's and the commands' one log line per round and per publish, with the figures
as fields for `--log-format json`. Must NOT decide anything: it only reports.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aggregator.publish import PublishReport
    from aggregator.update import RoundReport

__all__ = ["log", "log_publish", "log_round", "quiet_cancelled_jobs"]

log = logging.getLogger("aggregator.daemon")  # the name its log lines have always had


def log_round(report: RoundReport, *, logger: logging.Logger = log) -> None:
    """One log line for a round, with its figures as fields for `--log-format json`."""
    logger.info(
        report.summary(),
        extra={
            "fields": {
                "event": "round",
                "due": report.due,
                "fetched": report.fetched,
                "not_modified": report.not_modified,
                "new": report.new,
                "updated": report.updated,
                "errors": len(report.errors),
                "failed": [o.name for o in report.errors],
                "seconds": round(report.seconds, 3),
            }
        },
    )


def log_publish(result: PublishReport, seconds: float, *, logger: logging.Logger = log) -> None:
    """One log line for a publish, with its figures as fields."""
    logger.info(
        "published %d posts, %d files written, %d removed in %.2fs",
        result.posts,
        len(result.written),
        len(result.removed),
        seconds,
        extra={
            "fields": {
                "event": "publish",
                "posts": result.posts,
                "written": len(result.written),
                "removed": len(result.removed),
                "seconds": round(seconds, 3),
            }
        },
    )


class _CancelledJobs(logging.Filter):
    """Drops APScheduler's report of a job cancelled under it (a heartbeat waiting on the
    store, a tick not started yet), which it logs as an error with a traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        import asyncio  # here: the CLI reads the log lines of this module at start

        error = record.exc_info[1] if record.exc_info else None
        return not isinstance(error, asyncio.CancelledError)


_CANCELLED_JOBS = _CancelledJobs()


def quiet_cancelled_jobs() -> None:
    """From now on, no error line for a job the scheduler's shutdown cancels: the daemon's
    stop cancels its jobs in flight on purpose."""
    logging.getLogger("apscheduler.executors.default").addFilter(_CANCELLED_JOBS)
