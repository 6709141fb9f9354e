"""The pure next-check policy, as a table: no clock, randomness passed in."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from aggregator.schedule import JITTER, MAX_BACKOFF, cache_lifetime, next_check, polled_at
from aggregator.types import Source

NOW = datetime(2026, 1, 1, 10, 15, tzinfo=UTC)
M = timedelta(minutes=1)


def source(interval: timedelta = 30 * M, cron: str | None = None) -> Source:
    return Source(name="s", url="http://x/", category="c", tags=(), interval=interval, cron=cron)


@pytest.mark.parametrize(
    ("src", "kwargs", "low", "high"),
    [
        pytest.param(source(), {}, 30 * M, 30 * M * (1 + JITTER), id="interval-with-jitter"),
        pytest.param(
            source(), {"failures": 1}, 60 * M * (1 - JITTER), 60 * M, id="one-failure-doubles"
        ),
        pytest.param(
            source(), {"failures": 3}, 240 * M * (1 - JITTER), 240 * M, id="three-failures"
        ),
        pytest.param(
            source(),
            {"failures": 40},
            MAX_BACKOFF * (1 - JITTER),
            MAX_BACKOFF,
            id="capped-at-a-day",
        ),
        pytest.param(
            source(interval=timedelta(days=2)),
            {"failures": 2},
            timedelta(days=2) * (1 - JITTER),
            timedelta(days=2),
            id="cap-never-below-interval",
        ),
        pytest.param(
            source(),
            {"retry_after": 5 * 60 * M},
            300 * M,
            300 * M * (1 + JITTER),
            id="retry-after-is-a-lower-bound",
        ),
        pytest.param(
            source(),
            {"retry_after": M},
            30 * M,
            30 * M * (1 + JITTER),
            id="short-retry-after-ignored",
        ),
        pytest.param(
            source(),
            {"min_interval": 120 * M},
            120 * M,
            120 * M * (1 + JITTER),
            id="ttl-lower-bound",
        ),
        pytest.param(
            source(), {"min_interval": M}, 30 * M, 30 * M * (1 + JITTER), id="short-ttl-ignored"
        ),
        pytest.param(source(cron="0 * * * *"), {}, 45 * M, 45 * M, id="cron-fires-on-the-hour"),
        pytest.param(
            source(cron="0 * * * *"),
            {"failures": 1},
            60 * M * (1 - JITTER),
            60 * M,
            id="failing-cron-source-backs-off",
        ),
    ],
)
def test_next_check(
    src: Source, kwargs: dict[str, object], low: timedelta, high: timedelta
) -> None:
    for seed in range(20):
        at = next_check(src, now=NOW, rng=random.Random(seed), **kwargs)  # type: ignore[arg-type]
        assert low <= at - NOW <= high, seed


def test_sources_failing_together_spread_out() -> None:
    times = {next_check(source(), now=NOW, failures=2, rng=random.Random(n)) for n in range(50)}
    assert len(times) == 50
    assert max(times) - min(times) > 5 * M


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        pytest.param({"cache-control": "public, max-age=600"}, timedelta(minutes=10), id="max-age"),
        pytest.param(
            {"cache-control": "max-age=600", "age": "100"}, timedelta(seconds=500), id="age"
        ),
        pytest.param({"cache-control": "no-cache, max-age=600"}, None, id="no-cache"),
        pytest.param(
            {"expires": "Thu, 01 Jan 2026 11:15:00 GMT", "date": "Thu, 01 Jan 2026 10:15:00 GMT"},
            timedelta(hours=1),
            id="expires-against-date",
        ),
        pytest.param({"expires": "0"}, None, id="expires-unreadable"),
        pytest.param({}, None, id="nothing"),
    ],
)
def test_cache_lifetime(headers: dict[str, str], expected: timedelta | None) -> None:
    assert cache_lifetime(headers, now=NOW) == expected


DAY = timedelta(days=1)
H = 60 * M
T0 = NOW


@pytest.mark.parametrize(
    ("next_due", "last_fetched", "pushed_until", "expected"),
    [
        pytest.param(T0, T0 - H, None, T0, id="not-pushed-own-schedule"),
        pytest.param(None, T0 - H, None, None, id="not-pushed-due-now"),
        pytest.param(T0, T0 - H, T0 + 10 * DAY, T0 - H + DAY, id="pushed-polled-a-day-on"),
        pytest.param(None, T0 - H, T0 + 10 * DAY, T0 - H + DAY, id="pushed-due-now-waits"),
        pytest.param(T0, T0 - H, T0 + 2 * H, T0 + 2 * H, id="pushed-until-the-lease-ends"),
        pytest.param(T0 + 3 * DAY, T0, T0 + 10 * DAY, T0 + 3 * DAY, id="own-later-check-kept"),
        pytest.param(T0, None, T0 + 10 * DAY, T0, id="never-fetched-own-schedule"),
    ],
)
def test_polled_at(
    next_due: datetime | None,
    last_fetched: datetime | None,
    pushed_until: datetime | None,
    expected: datetime | None,
) -> None:
    assert (
        polled_at(next_due, last_fetched=last_fetched, pushed_until=pushed_until, poll_interval=DAY)
        == expected
    )
