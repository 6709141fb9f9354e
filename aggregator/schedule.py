"""When each source is checked next: a pure policy (no clock, randomness passed in),
and the APScheduler wiring of the daemon lives in `daemon.py`.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from apscheduler.triggers.cron import CronTrigger

from aggregator.types import Source

MAX_BACKOFF = timedelta(days=1)
JITTER = 0.1  # up to 10% of the delay, so sources that fail together don't retry together


def jitter(delay: timedelta, rng: random.Random) -> timedelta:
    """`delay` stretched by a random 0..JITTER fraction of itself."""
    return delay * (1 + JITTER * rng.random())


def next_check(
    source: Source,
    *,
    now: datetime,
    failures: int = 0,
    retry_after: timedelta | None = None,
    min_interval: timedelta | None = None,
    rng: random.Random | None = None,
) -> datetime:
    """The next time `source` is due, given how its last fetch went.

    Failures back off exponentially from the source's interval, capped at MAX_BACKOFF;
    a server's Retry-After and a feed's TTL (`min_interval`) are lower bounds.
    """
    rng = rng or random.Random()
    if source.cron and not failures:
        fire = CronTrigger.from_crontab(source.cron, timezone=source.timezone or "UTC")
        at: datetime | None = fire.get_next_fire_time(None, now)
        base = (at - now) if at else source.interval
    else:
        base = source.interval
    delay = base
    if failures:
        delay = min(source.interval * 2 ** min(failures, 16), MAX_BACKOFF)
    if min_interval and not failures:
        delay = max(delay, min_interval)
    if retry_after:
        delay = max(delay, retry_after)
    if source.cron and not failures and not retry_after and delay == base:
        return now + delay  # a cron source fires on its own schedule, no jitter
    return now + jitter(delay, rng)
