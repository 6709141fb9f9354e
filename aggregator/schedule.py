"""When each source is checked next: a pure policy (no clock, randomness passed in),
and the APScheduler wiring of the daemon lives in `daemon.py`.
"""

from __future__ import annotations

import dataclasses
import itertools
import random
import re
import statistics
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

from aggregator.types import UTC, Source, SourceState

__all__ = [
    "ADAPTIVE_ITEMS",
    "JITTER",
    "LONGEST_DELTA",
    "MAX_BACKOFF",
    "adaptive_interval",
    "as_scheduled",
    "cache_lifetime",
    "delta_seconds",
    "http_date",
    "jitter",
    "next_check",
    "polled_at",
    "posting_rate",
    "schedule_key",
]

MAX_BACKOFF = timedelta(days=1)
JITTER = 0.1  # up to 10% of the delay, so sources that fail together don't retry together

_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*\"?([0-9]+)\"?\s*(?:,|$)", re.IGNORECASE)
# The longest wait a header's number of seconds is taken for (a max-age, an Age, a
# Retry-After): more seconds than a timedelta holds overflow, and a server asking for
# decades is not obeyed past it (the scheduler caps a lifetime far lower, decide.lower_bound).
LONGEST_DELTA = 365 * 24 * 3600
_NO_CACHE = re.compile(r"(?:^|,)\s*(?:no-cache|no-store)\s*(?:[,=]|$)", re.IGNORECASE)


# `interval: auto` reads the dates of a feed's newest items: this many (five gaps).
ADAPTIVE_ITEMS = 6
# A date this far ahead is the feed's clock off, not a post of the future: it still counts.
_SKEW = timedelta(minutes=5)


def posting_rate(
    dates: Iterable[datetime], *, now: datetime
) -> tuple[timedelta | None, datetime | None]:
    """(the median gap between the newest ADAPTIVE_ITEMS distinct item dates, the newest
    date) of a feed body; None for what its dates cannot tell (fewer than two, or none).
    Dates in the future (past a few minutes of clock skew) are left out."""
    past = sorted({d for d in dates if d <= now + _SKEW}, reverse=True)[:ADAPTIVE_ITEMS]
    if not past:
        return None, None
    gaps = [(newer - older).total_seconds() for newer, older in itertools.pairwise(past)]
    gap = timedelta(seconds=statistics.median(gaps)) if gaps else None
    return gap, past[0]


def adaptive_interval(
    gap: timedelta | None,
    newest: datetime | None,
    *,
    now: datetime,
    least: timedelta,
    most: timedelta,
) -> timedelta:
    """The check interval of an `interval: auto` source, between `least` and `most`: the
    median gap between its newest items (posting_rate), or a quarter of the time since its
    newest item when that is longer (a source gone quiet is asked less and less often).
    A source whose dates tell nothing is checked every 4 × `least`.

    A source that starts posting faster is caught at its next check: the items found then
    are close together, and their gaps are the median.
    """
    if newest is None:
        return min(max(least * 4, least), most)
    quiet = max(now - newest, timedelta(0)) / 4
    wanted = quiet if gap is None else max(gap, quiet)
    return min(max(wanted, least), most)


def as_scheduled(source: Source, state: SourceState | None, *, now: datetime) -> Source:
    """`source` with the interval it is checked at now: for `interval: auto`, the one its
    posting rate gives (schedule.adaptive_interval, from what `state` kept of its last
    body); its configured one otherwise."""
    if not source.adaptive:
        return source
    gap = state.posting_gap if state is not None else None
    newest = state.newest_item if state is not None else None
    interval = adaptive_interval(
        gap, newest, now=now, least=source.min_interval, most=source.max_interval
    )
    return dataclasses.replace(source, interval=interval)


def jitter(delay: timedelta, rng: random.Random) -> timedelta:
    """`delay` stretched by a random 0..JITTER fraction of itself."""
    return delay * (1 + JITTER * rng.random())


def schedule_key(source: Source) -> str:
    """What `source`'s next check is drawn from (its interval, or its cron and zone), as
    the store keeps it beside that check: a config changed while nothing ran shows."""
    if source.cron:
        return f"cron {source.cron} {source.timezone or 'UTC'}"
    if source.adaptive:
        least, most = source.min_interval, source.max_interval
        return f"auto {int(least.total_seconds())}s-{int(most.total_seconds())}s"
    return f"every {int(source.interval.total_seconds())}s"


def next_check(
    source: Source,
    *,
    now: datetime,
    failures: int = 0,
    retry_after: timedelta | None = None,
    min_interval: timedelta | None = None,
    max_backoff: timedelta = MAX_BACKOFF,
    rng: random.Random | None = None,
) -> datetime:
    """The next time `source` is due, given how its last fetch went.

    Failures back off exponentially from the source's interval, capped at `max_backoff`
    (never below the interval itself) and spread by jitter *below* the cap, so that sources
    that failed together neither retry together nor pass the cap. A server's Retry-After and
    a feed's TTL or cache lifetime (`min_interval`) are lower bounds.

    Raises: nothing (a cron expression was checked when the config was loaded).
    """
    rng = rng or random.Random()
    if failures:
        backoff = min(source.interval * (1 << min(failures, 16)), max(max_backoff, source.interval))
        at = now + backoff * (1 - JITTER * rng.random())
    else:
        if source.cron:
            # Here, not at the top: a round over sources without cron loads no APScheduler.
            from apscheduler.triggers.cron import CronTrigger

            fire = CronTrigger.from_crontab(source.cron, timezone=source.timezone or "UTC")
            fires: datetime | None = fire.get_next_fire_time(None, now)
            base = (fires - now) if fires else source.interval
        else:
            base = source.interval
        if min_interval and min_interval > base:
            at = now + jitter(min_interval, rng)
        elif source.cron:
            at = now + base  # a cron source fires on its own schedule, no jitter
        else:
            at = now + jitter(base, rng)
    if retry_after and at < now + retry_after:
        # Every source of a host that said "wait" would otherwise come back at one instant.
        at = now + jitter(retry_after, rng)
    return at


def polled_at(
    next_check: datetime | None,
    *,
    last_fetched: datetime | None,
    pushed_until: datetime | None,
    poll_interval: timedelta,
) -> datetime | None:
    """When a source is next polled: its `next_check` (None: due now), unless a hub pushes
    its feed (a WebSub subscription live until `pushed_until`): then no sooner than
    `poll_interval` after its last fetch, the safety net, and no later than the lease's
    end, when it falls back to its own schedule unless renewed."""
    if pushed_until is None or last_fetched is None:
        return next_check
    stretched = min(last_fetched + poll_interval, pushed_until)
    return stretched if next_check is None or next_check < stretched else next_check


def delta_seconds(digits: str) -> int | None:
    """A header's delta-seconds (ASCII digits, any length) as a number of seconds, at most
    LONGEST_DELTA; None when it is not one. Past 12 digits int() would only slow (and past
    4,300 refuse), and every such number is more than the cap."""
    if not (digits.isascii() and digits.isdigit()):
        return None
    return min(int(digits), LONGEST_DELTA) if len(digits) <= 12 else LONGEST_DELTA


def cache_lifetime(headers: Mapping[str, str], *, now: datetime) -> timedelta | None:
    """How long the response says it stays fresh (RFC 9111 §4.2.1); None when it says nothing.

    `Cache-Control: max-age` (less `Age`) wins over `Expires`, which is read against the
    response's own `Date` so that a server with a wrong clock is still understood;
    `no-cache` and `no-store` mean no lifetime. Header keys are lower-case.

    Raises: nothing (unreadable values are ignored).
    """
    control = headers.get("cache-control", "")
    if _NO_CACHE.search(control):
        return None
    max_age = _MAX_AGE.search(control)
    if max_age:
        age = delta_seconds(headers.get("age", "").strip()) or 0
        lifetime = (delta_seconds(max_age.group(1)) or 0) - age
        return timedelta(seconds=lifetime) if lifetime > 0 else None
    expires = http_date(headers.get("expires"))
    if expires is None:
        return None
    lifetime_td = expires - (http_date(headers.get("date")) or now)
    return lifetime_td if lifetime_td > timedelta(0) else None


def http_date(value: str | None) -> datetime | None:
    """An HTTP-date (RFC 9110 §5.6.7; the obsolete forms too) as an aware datetime, UTC
    when it names no zone; None when absent or unreadable.

    Raises: nothing.
    """
    if not value:
        return None
    try:
        when = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when
