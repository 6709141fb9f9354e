"""Source state through Updater: real HTTP server on 127.0.0.1, real SQLite store on disk."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import builders
import pytest
import sqlalchemy as sa
from builders import UTF8_PROLOG, rss_item, site_section, timeouts
from clirunner import run_cli
from httpserver import FeedServer, http_date

from aggregator import store as store_module
from aggregator.cli import status_rows
from aggregator.config import load_config
from aggregator.store import MIGRATIONS, Store, open_store
from aggregator.types import Config, SourceState
from aggregator.update import RoundReport, SourceOutcome, Updater

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def rss(title: str = "Feed", *, items: int = 2, ttl: int | None = None, tag: str = "") -> bytes:
    """A feed of `items` items, guids made of its title, dated an hour apart on 1 May 2024."""
    entries = (
        rss_item(
            title=f"{title} {tag}{n}",
            link=f"http://example.org/{n}",
            guid=f"{title}-{n}",
            pub_date=f"Wed, 01 May 2024 0{n}:00:00 GMT",
            description=f"item {n}",
        )
        for n in range(items)
    )
    return builders.rss(
        *entries,
        title=title,
        link="http://example.org/",
        channel=f"<ttl>{ttl}</ttl>" if ttl else "",
        prolog=UTF8_PROLOG,
    )


def write_config(
    tmp: Path,
    sources: list[dict[str, Any]],
    *,
    fetch: dict[str, Any] | None = None,
    interval: str = "30m",
) -> Path:
    """The config of these tests: every source in category news unless it says otherwise."""
    return builders.write_config(
        tmp,
        [{"category": "news"} | s for s in sources],
        site=site_section("t"),
        database="sqlite:///state.db",
        schedule={"interval": interval},
        fetch=timeouts("1s", "1s", "3s") | (fetch or {}),
    )


class Clock:
    """A settable clock for the state's times (the network runs in real time)."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


class Env:
    """A config file, its store and an Updater, re-creatable as after a restart."""

    def __init__(self, path: Path, clock: Clock | None) -> None:
        self.path = path
        self.clock = clock
        self.config: Config = load_config(path)
        self.store: Store = open_store(self.config.database)

    def updater(self) -> Updater:
        if self.clock is None:
            return Updater(self.config, self.store, rng=random.Random(7))
        return Updater(self.config, self.store, clock=self.clock, rng=random.Random(7))

    def round(self, *names: str) -> RoundReport:
        sources = [s for s in self.config.sources if not names or s.name in names]
        return asyncio.run(self.updater().run_round(sources))

    def one(self, name: str = "a") -> SourceOutcome:
        (outcome,) = self.round(name).outcomes
        return outcome

    def state(self, name: str = "a") -> SourceState:
        state = self.store.get_state(name)
        assert state is not None
        return state

    def restart(self) -> None:
        self.store.close()
        self.config = load_config(self.path)
        self.store = open_store(self.config.database)


@pytest.fixture
def make_env(tmp_path: Path, clock: Clock) -> Iterator[Any]:
    made: list[Env] = []

    def make(sources: list[dict[str, Any]], *, real_clock: bool = False, **kwargs: Any) -> Env:
        env = Env(write_config(tmp_path, sources, **kwargs), None if real_clock else clock)
        made.append(env)
        return env

    yield make
    for env in made:
        env.store.close()


# ------------------------------------------------------------------ redirects


def test_permanent_redirect_moves_the_source_after_three_fetches(
    feed_server: FeedServer, make_env: Any, tmp_path: Path
) -> None:
    feed_server.add("/old", redirect_to="/mid", redirect_status=301)
    feed_server.add("/mid", redirect_to="/new", redirect_status=308)
    feed_server.add("/new", rss(), etag=True)
    env = make_env([{"name": "a", "url": feed_server.url("/old")}])

    for seen in (1, 2):
        assert env.one().moved_to is None
        state = env.state()
        assert state.url == feed_server.url("/old")
        assert (state.redirect_target, state.redirect_count) == (feed_server.url("/new"), seen)
    assert env.one().moved_to == feed_server.url("/new")

    state = env.state()
    assert state.url == feed_server.url("/new")
    assert state.config_url == feed_server.url("/old")
    assert (state.redirect_target, state.redirect_count) == (None, 0)
    env.one()
    assert feed_server.hits("/old") == 3  # the fourth fetch went straight to the new URL
    assert feed_server.hits("/new") == 4

    rows = status_rows(env.config, env.store)
    assert rows[0]["url"] == feed_server.url("/new")
    assert rows[0]["original_url"] == feed_server.url("/old")
    assert rows[0]["config_change"] == f"config.yaml: sources[0]: url: {feed_server.url('/new')}"
    table = run_cli(env.path, "status").stdout
    assert "moved from" in table
    assert "config.yaml: sources[0]" in table


def test_redirect_flicker_does_not_move_the_source(feed_server: FeedServer, make_env: Any) -> None:
    feed_server.add("/new", rss())
    env = make_env([{"name": "a", "url": feed_server.url("/old")}])

    for redirecting in (True, True, False, True, True):
        if redirecting:
            feed_server.add("/old", redirect_to="/new", redirect_status=301)
        else:
            feed_server.add("/old", rss())
        env.one()

    state = env.state()
    assert state.url == feed_server.url("/old")
    assert state.redirect_count == 2


def test_a_different_target_restarts_the_count(feed_server: FeedServer, make_env: Any) -> None:
    feed_server.add("/a", rss())
    feed_server.add("/b", rss())
    env = make_env([{"name": "a", "url": feed_server.url("/old")}])

    for target in ("/a", "/a", "/b"):
        feed_server.add("/old", redirect_to=target, redirect_status=308)
        env.one()

    assert env.state().url == feed_server.url("/old")
    assert (env.state().redirect_target, env.state().redirect_count) == (
        feed_server.url("/b"),
        1,
    )


def test_redirect_threshold_is_configurable(feed_server: FeedServer, make_env: Any) -> None:
    feed_server.add("/old", redirect_to="/new", redirect_status=301)
    feed_server.add("/new", rss())
    env = make_env([{"name": "a", "url": feed_server.url("/old")}], fetch={"redirect_threshold": 1})

    env.one()

    assert env.state().url == feed_server.url("/new")


@pytest.mark.parametrize("status", [302, 303, 307])
def test_temporary_redirects_never_move_the_source(
    feed_server: FeedServer, make_env: Any, status: int
) -> None:
    feed_server.add("/old", redirect_to="/new", redirect_status=status)
    feed_server.add("/new", rss())
    env = make_env([{"name": "a", "url": feed_server.url("/old")}])

    for _ in range(4):
        assert env.one().status in ("new", "unchanged")

    assert env.state().url == feed_server.url("/old")
    assert env.state().redirect_count == 0


def test_redirect_loop_is_a_failure(feed_server: FeedServer, make_env: Any) -> None:
    feed_server.add("/a", redirect_to="/b")
    feed_server.add("/b", redirect_to="/a")
    env = make_env([{"name": "a", "url": feed_server.url("/a")}])

    outcome = env.one()

    assert outcome.status == "error"
    assert env.state().last_error == f"redirect loop at {feed_server.url('/a')}"
    assert env.state().failures == 1


def test_changing_the_config_url_forgets_the_move(feed_server: FeedServer, make_env: Any) -> None:
    feed_server.add("/old", redirect_to="/new", redirect_status=301)
    feed_server.add("/new", rss())
    feed_server.add("/newest", rss())
    env = make_env([{"name": "a", "url": feed_server.url("/old")}], fetch={"redirect_threshold": 1})
    env.one()
    write_config(env.path.parent, [{"name": "a", "url": feed_server.url("/newest")}])
    env.restart()

    env.one()

    assert env.state().url == env.state().config_url == feed_server.url("/newest")


# ----------------------------------------------------------------------- gone


def test_410_disables_until_enabled(feed_server: FeedServer, make_env: Any) -> None:
    feed_server.add("/feed", b"gone", status=410)
    env = make_env([{"name": "a", "url": feed_server.url("/feed")}])

    assert env.one().status == "error"
    disabled = env.state().disabled
    assert disabled is not None
    assert disabled.startswith("HTTP 410 Gone at 2024-05-01 12:00 UTC")
    assert env.updater().due_sources(every=True) == []
    env.clock.now = T0 + timedelta(days=30)
    assert env.updater().due_sources() == []
    assert env.one().status == "disabled"
    assert feed_server.hits("/feed") == 1

    rows = status_rows(env.config, env.store)
    assert rows[0]["disabled"] == disabled
    assert rows[0]["last_status"] == 410

    feed_server.add("/feed", rss())
    assert run_cli(env.path, "sources", "enable", "a").stdout.strip() == "a: enabled"
    env.restart()
    assert [s.name for s in env.updater().due_sources()] == ["a"]
    assert env.one().status == "new"
    assert env.state().disabled is None
    assert env.state().failures == 0


def test_410_source_is_re_enabled_by_a_new_url(feed_server: FeedServer, make_env: Any) -> None:
    feed_server.add("/gone", status=410)
    feed_server.add("/feed", rss())
    env = make_env([{"name": "a", "url": feed_server.url("/gone")}])
    env.one()
    assert env.state().disabled

    write_config(env.path.parent, [{"name": "a", "url": feed_server.url("/feed")}])
    env.restart()

    assert [s.name for s in env.updater().due_sources()] == ["a"]
    assert env.one().status == "new"
    assert env.state().disabled is None


# -------------------------------------------------------------------- backoff

FAILURES = [
    pytest.param({"status": 404}, "HTTP 404 Not Found", id="404"),
    pytest.param({"status": 500}, "HTTP 500 Internal Server Error", id="500"),
    pytest.param({"status": 503}, "HTTP 503 Service Unavailable", id="503"),
    pytest.param({"hang": True}, "timed out after 0.2s (read)", id="timeout"),
    pytest.param({"close_without_response": True}, "server closed the connection", id="reset"),
    pytest.param({"body": b"<html><body>hi</body></html>"}, "not a feed", id="unparsable"),
]


@pytest.mark.parametrize(("route", "message"), FAILURES)
def test_failures_back_off_exponentially_and_reset_on_success(
    feed_server: FeedServer, make_env: Any, route: dict[str, Any], message: str
) -> None:
    feed_server.add("/feed", **route)
    env = make_env(
        [{"name": "a", "url": feed_server.url("/feed")}],
        interval="10m",
        fetch={"read_timeout": 0.2},
    )

    delays = []
    for failures in (1, 2, 3):
        assert env.one().status == "error"
        state = env.state()
        assert state.failures == failures
        assert state.last_error is not None and message in state.last_error
        assert state.next_check is not None
        delays.append(state.next_check - T0)
    # 10m x 2^n, spread by up to 10% below: 20m, 40m, 80m.
    for delay, full in zip(delays, (20, 40, 80), strict=True):
        assert timedelta(minutes=full * 0.9) <= delay <= timedelta(minutes=full)

    feed_server.add("/feed", rss())
    assert env.one().status == "new"
    state = env.state()
    assert (state.failures, state.last_error, state.last_success) == (0, None, T0)
    assert state.next_check is not None
    assert timedelta(minutes=10) <= state.next_check - T0 <= timedelta(minutes=11)


def test_connection_refused_backs_off(make_env: Any) -> None:
    env = make_env([{"name": "a", "url": "http://127.0.0.1:9/feed"}])

    env.one()

    assert env.state().last_error == "connection refused"
    assert env.state().failures == 1


def test_backoff_is_capped(feed_server: FeedServer, make_env: Any) -> None:
    feed_server.add("/feed", status=500)
    env = make_env([{"name": "a", "url": feed_server.url("/feed")}], fetch={"max_backoff": "2h"})
    env.store.save_state(
        SourceState(
            name="a", url=feed_server.url("/feed"), config_url=feed_server.url("/feed"), failures=20
        )
    )

    env.one()

    next_check = env.state().next_check
    assert next_check is not None
    assert timedelta(hours=1.8) <= next_check - T0 <= timedelta(hours=2)


def test_sources_failing_together_do_not_retry_together(
    feed_server: FeedServer, make_env: Any
) -> None:
    names = [f"s{i}" for i in range(30)]
    for name in names:
        feed_server.add(f"/{name}", status=502)
    env = make_env(
        [{"name": n, "url": feed_server.url(f"/{n}")} for n in names], fetch={"per_host": 10}
    )

    env.round()

    checks = sorted(env.state(n).next_check for n in names)  # type: ignore[type-var]
    assert len(set(checks)) == len(names)
    assert checks[-1] - checks[0] > timedelta(minutes=3)  # of a 60 min delay: 10% is 6 min


# ---------------------------------------------------------------- Retry-After


@pytest.mark.parametrize("form", ["seconds", "http-date"])
def test_retry_after_holds_back_the_whole_host_across_rounds(
    feed_server: FeedServer, make_env: Any, form: str
) -> None:
    wait = timedelta(seconds=600)
    value = "600" if form == "seconds" else http_date(datetime.now(UTC) + wait)
    feed_server.add("/a", status=429, retry_after=value)
    feed_server.add("/b", rss())
    with FeedServer() as other:
        other.add("/c", rss())
        env = make_env(
            [
                {"name": "a", "url": feed_server.url("/a")},
                {"name": "b", "url": feed_server.url("/b")},
                {"name": "c", "url": other.url("/c")},
            ],
            real_clock=True,
        )
        before = datetime.now(UTC)
        assert env.one("a").status == "error"
        a = env.state("a")
        assert a.next_check is not None and a.next_check >= before + wait - timedelta(seconds=2)
        assert "retry after" in (a.last_error or "")

        env.restart()  # a new process: the host's deferral is in the store
        b, c = env.round("b", "c").outcomes

        assert b.status == "deferred"
        assert feed_server.hits("/b") == 0
        state_b = env.state("b")
        assert state_b.failures == 0
        assert state_b.next_check is not None
        assert state_b.next_check >= before + wait - timedelta(seconds=2)
        assert c.status == "new"  # another host is not held back


def test_retry_after_is_a_lower_bound_on_the_backoff(
    feed_server: FeedServer, make_env: Any
) -> None:
    feed_server.add("/feed", status=503, retry_after=7200)
    env = make_env([{"name": "a", "url": feed_server.url("/feed")}], interval="1m")

    env.one()

    next_check = env.state().next_check
    assert next_check is not None
    assert timedelta(hours=2) <= next_check - T0 <= timedelta(hours=2.2)


# ----------------------------------------------------- cache lifetime and TTL


@pytest.mark.parametrize(
    ("headers", "body", "least"),
    [
        pytest.param({"Cache-Control": "public, max-age=3600"}, rss(), 60, id="max-age"),
        pytest.param(
            {"Cache-Control": "max-age=3600", "Age": "1800"}, rss(), 30, id="max-age-less-age"
        ),
        # Read against the server's own Date, not our clock (here years apart).
        pytest.param(
            {"Expires": "<2h from now>"},
            rss(),
            120,
            id="expires-against-date",
        ),
        pytest.param({}, rss(ttl=90), 90, id="rss-ttl"),
    ],
)
def test_cache_lifetime_and_ttl_are_lower_bounds(
    feed_server: FeedServer,
    make_env: Any,
    headers: dict[str, str],
    body: bytes,
    least: int,
) -> None:
    if headers.get("Expires") == "<2h from now>":
        headers = {"Expires": http_date(datetime.now(UTC) + timedelta(hours=2, seconds=30))}
    feed_server.add("/feed", body, headers=headers, etag=True)
    env = make_env([{"name": "a", "url": feed_server.url("/feed")}], interval="1m")

    env.one()
    first = env.state().next_check
    env.clock.now = T0 + timedelta(hours=3)
    assert env.one().status == "not-modified"  # the bound holds after a 304 too
    second = env.state().next_check

    assert first is not None and second is not None
    assert timedelta(minutes=least) <= first - T0 <= timedelta(minutes=least * 1.1)
    assert timedelta(minutes=least) <= second - env.clock.now <= timedelta(minutes=least * 1.1)


def test_no_cache_gives_no_lower_bound(feed_server: FeedServer, make_env: Any) -> None:
    feed_server.add("/feed", rss(), headers={"Cache-Control": "no-cache, max-age=3600"})
    env = make_env([{"name": "a", "url": feed_server.url("/feed")}], interval="1m")

    env.one()

    next_check = env.state().next_check
    assert next_check is not None and next_check - T0 <= timedelta(minutes=1.1)


def test_source_can_opt_out_of_cache_hints(feed_server: FeedServer, make_env: Any) -> None:
    feed_server.add("/feed", rss(ttl=600), headers={"Cache-Control": "max-age=86400"})
    env = make_env(
        [{"name": "a", "url": feed_server.url("/feed"), "respect_cache": False}], interval="5m"
    )

    env.one()

    next_check = env.state().next_check
    assert next_check is not None and next_check - T0 <= timedelta(minutes=5.5)


def test_a_huge_max_age_is_capped(feed_server: FeedServer, make_env: Any) -> None:
    feed_server.add("/feed", rss(), headers={"Cache-Control": "max-age=31536000"})
    env = make_env([{"name": "a", "url": feed_server.url("/feed")}])

    env.one()

    next_check = env.state().next_check
    assert next_check is not None and next_check - T0 <= timedelta(days=1.1)


# ------------------------------------------------------------ conditional GET


def test_conditional_get_survives_a_restart(feed_server: FeedServer, make_env: Any) -> None:
    modified = http_date(T0)
    route = feed_server.add("/feed", rss(), etag=True, last_modified=modified)
    env = make_env([{"name": "a", "url": feed_server.url("/feed")}])
    assert env.one().status == "new"

    env.restart()
    outcome = env.one()

    assert outcome.status == "not-modified"
    assert not outcome.parsed
    sent = feed_server.requests("/feed")[1].headers
    assert sent["if-none-match"] == route.etag
    assert sent["if-modified-since"] == modified


def test_etag_ignored_by_server_costs_no_parsing(feed_server: FeedServer, make_env: Any) -> None:
    feed_server.add("/feed", rss(), etag=True, honour_conditional=False)
    env = make_env([{"name": "a", "url": feed_server.url("/feed")}])
    first = env.one()
    assert (first.status, first.parsed, first.new) == ("new", True, 2)
    pending = env.store.pending()

    again = env.one()

    assert "if-none-match" in feed_server.requests("/feed")[1].headers
    assert (again.status, again.http_status, again.parsed) == ("unchanged", 200, False)
    assert env.store.pending() == pending  # nothing new to publish

    feed_server.add("/feed", rss(tag="edited "), etag=True, honour_conditional=False)
    changed = env.one()
    assert (changed.status, changed.parsed, changed.updated) == ("new", True, 2)


# ------------------------------------------------------------------------ auth


def test_auth_secret_never_reaches_logs_status_or_database(
    feed_server: FeedServer,
    make_env: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    secret = "tok-8c1f0e77d2"
    monkeypatch.setenv("FEED_TOKEN", secret)
    feed_server.add("/feed", status=500)
    env = make_env(
        [
            {
                "name": "a",
                "url": feed_server.url("/feed"),
                "auth": {"type": "bearer", "token_env": "FEED_TOKEN"},
            }
        ]
    )
    caplog.set_level(logging.DEBUG)

    env.one()

    assert feed_server.requests("/feed")[0].headers["authorization"] == f"Bearer {secret}"
    assert secret not in caplog.text
    env.store.close()
    for db_file in env.path.parent.glob("state.db*"):
        assert secret.encode() not in db_file.read_bytes()
    status = run_cli(env.path, "status", "--json").stdout
    assert json.loads(status)[0]["last_error"] == "HTTP 500 Internal Server Error"
    assert secret not in status


def test_missing_auth_variable_is_a_failure(
    feed_server: FeedServer, make_env: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FEED_PW", raising=False)
    feed_server.add("/feed", rss())
    env = make_env(
        [
            {
                "name": "a",
                "url": feed_server.url("/feed"),
                "auth": {"type": "basic", "username": "u", "password_env": "FEED_PW"},
            }
        ]
    )

    env.one()

    assert env.state().last_error == "basic auth: environment variable FEED_PW is not set"
    assert feed_server.hits("/feed") == 0


# ------------------------------------------------------------ private networks


def test_source_redirected_into_a_private_network_fails(
    feed_server: FeedServer, make_env: Any
) -> None:
    with FeedServer(host="127.0.0.2") as private:
        private.add("/admin", rss())
        feed_server.add("/feed", redirect_to=private.url("/admin"))
        env = make_env(
            [{"name": "a", "url": feed_server.url("/feed")}],
            fetch={"private_networks": ["127.0.0.2/32"]},
        )

        env.one()

        assert (env.state().last_error or "").startswith("refused: 127.0.0.2 is a private")
        assert private.hits("/admin") == 0


# ------------------------------------------------------------------- migration


def test_version_1_database_is_migrated_with_its_sources(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = sa.create_engine(url)
    store_module._migrate(engine, MIGRATIONS[:1])
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO sources (name, url, config_url, etag, failures) "
                "VALUES ('a', 'http://x/', 'http://x/', '\"v1\"', 2)"
            )
        )
    engine.dispose()

    store = open_store(url)
    try:
        state = store.get_state("a")
        assert state is not None
        assert (state.validators.etag, state.failures) == ('"v1"', 2)
        assert (state.redirect_target, state.redirect_count, state.feed_ttl) == (None, 0, None)
        store.defer_host("x", until=T0, reason="HTTP 429")
        assert store.deferred_hosts(now=T0 - timedelta(seconds=1)) == {"x": T0}
        assert store.deferred_hosts(now=T0) == {}
    finally:
        store.close()


# ------------------------------------------------------------------ volume


def many_items(n: int) -> bytes:
    """An RSS feed of `n` items, item i dated i minutes after T0, written oldest first."""
    entries = "".join(
        f"<item><title>Item {i}</title><link>http://example.org/{i}</link><guid>g{i}</guid>"
        f"<pubDate>{http_date(T0 + timedelta(minutes=i))}</pubDate>"
        f"<description>item {i}</description></item>"
        for i in range(n)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Big</title>'
        f"<link>http://example.org/</link>{entries}</channel></rss>"
    ).encode()


def test_max_items_keeps_the_newest_and_status_counts_the_rest(
    feed_server: FeedServer, make_env: Any
) -> None:
    feed_server.add("/big", many_items(5_000))
    feed_server.add("/small", many_items(3))
    env = make_env(
        [
            {"name": "a", "url": feed_server.url("/big"), "max_items": 100},
            {"name": "b", "url": feed_server.url("/small")},
        ]
    )
    report = env.round()
    assert {o.name: o.new for o in report.outcomes} == {"a": 100, "b": 3}
    env.store.settle_slugs()
    kept = sorted(int(p.title.split()[1]) for p in env.store.recent_posts() if p.source == "a")
    assert kept == list(range(4_900, 5_000))
    assert env.state("a").dropped_items == 4_900
    assert env.state("b").dropped_items == 0

    rows = {r["name"]: r for r in json.loads(run_cli(env.path, "status", "--json").stdout)}
    assert (rows["a"]["dropped"], rows["a"]["posts"]) == (4_900, 100)
    assert rows["b"]["dropped"] == 0
    assert "4900 items past max_items dropped" in run_cli(env.path, "status").stdout


def test_max_items_default_comes_from_fetch(feed_server: FeedServer, make_env: Any) -> None:
    feed_server.add("/big", many_items(30))
    env = make_env([{"name": "a", "url": feed_server.url("/big")}], fetch={"max_items": 10})
    assert env.one().new == 10
    assert env.state().dropped_items == 20


def test_a_daemon_tick_with_nothing_due_reads_no_state(
    feed_server: FeedServer, make_env: Any, clock: Clock
) -> None:
    # A daemon asks what is due every second: once every source has a state of its URL,
    # that is one read in the database, not every state built, until something is due.
    for name in ("a", "b"):
        feed_server.add(f"/{name}.rss", rss(name), etag=True)
    env = make_env([{"name": n, "url": feed_server.url(f"/{n}.rss")} for n in ("a", "b")])
    statements: list[str] = []
    sa.event.listen(env.store._engine, "before_cursor_execute", lambda *a: statements.append(a[2]))

    def states_read() -> bool:
        return any("sources.etag" in q for q in statements)

    updater = env.updater()
    assert [s.name for s in updater.due_sources()] == ["a", "b"]  # never fetched
    asyncio.run(updater.run_round(updater.due_sources()))
    updater.due_sources()  # reads the states once more: now every source has one
    statements.clear()
    assert updater.due_sources() == []
    assert statements and not states_read()
    # Due by the clock: read again.
    next_check = env.state("a").next_check
    assert next_check is not None
    clock.now = next_check + timedelta(seconds=1)
    assert "a" in [s.name for s in updater.due_sources()] and states_read()
    clock.now = T0
    # Disabled, then enabled by the operator with its next check now.
    env.store.save_state(dataclasses.replace(env.state("b"), disabled="gone"))
    statements.clear()
    assert updater.due_sources() == [] and not states_read()
    env.store.save_state(dataclasses.replace(env.state("b"), disabled=None, next_check=T0))
    assert [s.name for s in updater.due_sources()] == ["b"] and states_read()


def test_an_exception_no_stage_expected_fails_its_source_not_the_round(
    feed_server: FeedServer, make_env: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # A header value the config's checks refuse, given to the updater as a record: aiohttp
    # raises ValueError, which no stage maps to a SourceError. It stopped the round, and the
    # sources in flight beside it failed with "Connector is closed".
    feed_server.add("/a.rss", rss("A"))
    feed_server.add("/b.rss", rss("B"))
    env = make_env(
        [{"name": n, "url": feed_server.url(f"/{n}.rss")} for n in ("a", "b", "c")],
        real_clock=True,
    )
    a, b, c = env.config.sources
    broken = dataclasses.replace(b, headers=(("X-Injected", "one\r\ntwo"),))
    env.config = dataclasses.replace(env.config, sources=(a, broken, c))
    feed_server.add("/c.rss", rss("C"))

    with caplog.at_level(logging.ERROR, logger="aggregator.update"):
        report = env.round()

    by_name = {o.name: o for o in report.outcomes}
    # c's items are a's (one story under two sources): stored once, from either.
    assert {by_name["a"].status, by_name["c"].status} == {"new", "unchanged"}
    assert env.state("a").last_error is None and env.state("c").last_error is None
    assert by_name["b"].status == "error"
    assert env.state("b").last_error.startswith("internal error: ValueError(")
    assert env.state("b").failures == 1  # backs off like any failure
    assert [r.exc_info is not None for r in caplog.records if "internal error" in r.message] == [
        True
    ]
    env.store.settle_slugs()  # as a publish does first
    assert len({p.source for p in env.store.recent_posts()} - {"b"}) == 1
