"""What a decision carries: the new state and what the I/O code must do besides saving it.

Plain frozen records (like reader's update intents): must NOT decide (decide.py does)
nor carry anything out (the pipeline, the round, the daemon and the CLI do).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from aggregator.types import SourceState

__all__ = ["Decision", "FeedFields", "HostDeferral", "LogLine"]


@dataclass(frozen=True, slots=True, kw_only=True)
class LogLine:
    """A log record to emit, as `log.log(level, message, *args)` would."""

    level: int
    message: str
    args: tuple[object, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class HostDeferral:
    """The whole host asked for a pause: no request to it before `until`."""

    host: str
    until: datetime
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedFields:
    """What a parsed body says about its feed (beside its posts)."""

    title: str | None = None
    link: str | None = None
    feed_id: str | None = None
    ttl: timedelta | None = None
    dropped: int = 0  # items past max_items
    item_dates: tuple[datetime, ...] = ()  # the newest items' dates (interval: auto)


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    """One transition, for the I/O code to carry out in this order: emit `log`, write the
    host deferral, save `state` (when `save`), then report `status`."""

    state: SourceState  # the new state (after an attempt: scheduled, cleaned for the store)
    save: bool = True  # False: nothing to write
    # "new-body": parse the body and store its posts, then ask `after_body`; otherwise the
    # round's outcome status: "not-modified" | "unchanged" | "error" | "deferred" | None.
    status: str | None = None
    http_status: int | None = None
    error: str | None = None  # the outcome's error text
    moved_to: str | None = None  # the source's URL moved here this time
    defer_host: HostDeferral | None = None
    log: tuple[LogLine, ...] = ()
