"""`interval: auto`: the pure policy as a table (schedule.posting_rate, adaptive_interval),
the config that turns it on, and sources whose posting rate changes through the Updater
against a real feed server and store (their next checks follow)."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import builders
import pytest
from builders import UTF8_PROLOG, rss_item, site_section, timeouts
from clirunner import run_cli
from httpserver import FeedServer

from aggregator.config import load_config
from aggregator.schedule import adaptive_interval, posting_rate, schedule_key
from aggregator.store import open_store
from aggregator.update import Updater

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
M = timedelta(minutes=1)
H = timedelta(hours=1)
D = timedelta(days=1)


def ago(*deltas: timedelta) -> list[datetime]:
    return [NOW - d for d in deltas]


@pytest.mark.parametrize(
    ("dates", "gap", "newest"),
    [
        pytest.param([], None, None, id="no-dates"),
        pytest.param(ago(2 * H), None, NOW - 2 * H, id="one-date"),
        pytest.param(ago(0 * H, 1 * H, 2 * H, 3 * H), H, NOW, id="hourly"),
        pytest.param(ago(10 * M, 1 * D, 2 * D, 3 * D), D, NOW - 10 * M, id="median-not-mean"),
        pytest.param(
            ago(0 * M, 5 * M, 10 * M, 1 * D, 2 * D, 3 * D, 4 * D, 5 * D),
            D - 10 * M,  # the newest six dates: gaps 5m, 5m, 23h50m, 1d, 1d -> median 23h50m
            NOW,
            id="only-the-newest-six",
        ),
        pytest.param(ago(H, H, H, 2 * H), H, NOW - H, id="duplicates-count-once"),
        pytest.param(
            [NOW + 2 * D, NOW - H, NOW - 2 * H], H, NOW - H, id="a-future-date-is-left-out"
        ),
        pytest.param([NOW + 2 * M, NOW - 58 * M], H, NOW + 2 * M, id="a-few-minutes-of-skew-count"),
    ],
)
def test_posting_rate(
    dates: list[datetime], gap: timedelta | None, newest: datetime | None
) -> None:
    assert posting_rate(dates, now=NOW) == (gap, newest)


@pytest.mark.parametrize(
    ("gap", "newest", "expected"),
    [
        pytest.param(H, NOW - 10 * M, H, id="follows-the-median-gap"),
        pytest.param(5 * M, NOW - M, 15 * M, id="never-below-min"),
        pytest.param(3 * D, NOW - H, D, id="never-above-max"),
        pytest.param(H, NOW - 8 * H, 2 * H, id="gone-quiet-a-quarter-of-the-silence"),
        pytest.param(H, NOW - 30 * D, D, id="long-silent-capped"),
        pytest.param(None, NOW - 4 * H, H, id="one-item-a-quarter-of-its-age"),
        pytest.param(None, None, 60 * M, id="dates-tell-nothing-4x-min"),
        pytest.param(2 * H, NOW + 3 * M, 2 * H, id="newest-in-the-skew"),
        pytest.param(20 * M, NOW, 20 * M, id="just-posted"),
        pytest.param(D, NOW - 2 * H, D, id="daily-poster-checked-daily"),
    ],
)
def test_adaptive_interval(
    gap: timedelta | None, newest: datetime | None, expected: timedelta
) -> None:
    assert adaptive_interval(gap, newest, now=NOW, least=15 * M, most=D) == expected


def test_a_source_posting_faster_is_caught_at_its_next_check() -> None:
    daily = ago(*(n * D for n in range(6)))
    slow = adaptive_interval(*posting_rate(daily, now=NOW), now=NOW, least=15 * M, most=2 * D)
    assert slow == D
    # A day later the feed holds a burst: six items ten minutes apart.
    later = NOW + D
    burst = [later - n * 10 * M for n in range(6)] + daily
    fast = adaptive_interval(*posting_rate(burst, now=later), now=later, least=5 * M, most=2 * D)
    assert fast == 10 * M


# ------------------------------------------------------------------ config


def config_text(
    tmp_path: Path, schedule: dict[str, object], sources: list[dict[str, object]]
) -> Path:
    return builders.write_config(
        tmp_path,
        [{"category": "news", "url": "http://127.0.0.1:9/x.rss"} | s for s in sources],
        site=site_section("t"),
        database="sqlite:///state.db",
        schedule=schedule,
    )


def test_interval_auto_in_the_config(tmp_path: Path) -> None:
    path = config_text(
        tmp_path,
        {"interval": "auto", "min_interval": "10m", "max_interval": "6h"},
        [
            {"name": "default"},
            {"name": "fixed", "interval": "2h"},
            {"name": "own-bounds", "min_interval": "1h", "max_interval": "2d"},
            {"name": "cron", "cron": "0 * * * *"},
        ],
    )
    by_name = {s.name: s for s in load_config(path).sources}
    assert by_name["default"].adaptive
    assert (by_name["default"].min_interval, by_name["default"].max_interval) == (10 * M, 6 * H)
    assert not by_name["fixed"].adaptive and by_name["fixed"].interval == 2 * H
    assert by_name["own-bounds"].adaptive
    assert (by_name["own-bounds"].min_interval, by_name["own-bounds"].max_interval) == (H, 2 * D)
    assert not by_name["cron"].adaptive
    assert schedule_key(by_name["default"]) == "auto 600s-21600s"
    # Per source, with the schedule's default fixed.
    path = config_text(tmp_path, {"interval": "30m"}, [{"name": "a", "interval": "auto"}])
    (only,) = load_config(path).sources
    assert only.adaptive and (only.min_interval, only.max_interval) == (15 * M, D)


@pytest.mark.parametrize(
    ("schedule", "sources", "message"),
    [
        (
            {"interval": "often"},
            [{"name": "a"}],
            "bad duration 'often' (use 90s, 15m, 2h, 1d, or auto)",
        ),
        ({}, [{"name": "a", "interval": "auto", "cron": "0 * * * *"}], "interval and cron"),
        (
            {"interval": "auto", "min_interval": "2h", "max_interval": "1h"},
            [{"name": "a"}],
            "min_interval is longer than max_interval",
        ),
    ],
)
def test_bad_auto_settings_are_refused(
    tmp_path: Path, schedule: dict[str, object], sources: list[dict[str, object]], message: str
) -> None:
    path = config_text(tmp_path, schedule, sources)
    checked = run_cli(path, "check", check=False)
    assert checked.returncode == 2
    assert message in checked.stderr
    assert "Traceback" not in checked.stderr


# ------------------------------------------------------------------ end to end


def feed(dates: list[datetime]) -> bytes:
    items = [
        rss_item(
            title=f"Item {n}",
            link=f"http://example.org/{n}",
            guid=f"item-{when.isoformat()}",
            pub_date=when.strftime("%a, %d %b %Y %H:%M:%S GMT"),
            description=f"item {n}",
        )
        for n, when in enumerate(dates)
    ]
    return builders.rss(*items, title="Feed", link="http://example.org/", prolog=UTF8_PROLOG)


def test_a_sources_interval_follows_its_posting_rate(tmp_path: Path) -> None:
    clock = [NOW]
    with FeedServer() as server:
        daily = [NOW - n * D for n in range(6)]
        server.add("/a.rss", feed(daily))
        path = builders.write_config(
            tmp_path,
            [{"name": "a", "url": server.url("/a.rss"), "category": "news", "interval": "auto"}],
            site=site_section("t"),
            database="sqlite:///state.db",
            schedule={"min_interval": "5m", "max_interval": "2d"},
            fetch=timeouts("2s", "2s", "5s") | {"allow_private": True},
        )
        config = load_config(path)
        store = open_store(config.database)
        try:

            def round_at(when: datetime) -> timedelta:
                clock[0] = when
                updater = Updater(config, store, clock=lambda: clock[0], rng=random.Random(3))
                asyncio.run(updater.run_round(config.sources))
                state = store.get_state("a")
                assert state is not None and state.next_check is not None
                return state.next_check - when

            first = round_at(NOW)
            assert D <= first <= D * 1.1  # daily items: checked daily, with jitter
            # The source starts posting every ten minutes.
            later = NOW + D
            server.add("/a.rss", feed([later - n * 10 * M for n in range(6)] + daily))
            second = round_at(later)
            assert 10 * M <= second <= 10 * M * 1.1
            # Then it goes quiet: a day without a post, checked at a quarter of the silence.
            server.add("/a.rss", feed([later - n * 10 * M for n in range(6)] + daily) + b" ")
            third = round_at(later + D)
            assert 6 * H <= third <= 6 * H * 1.1
        finally:
            store.close()
