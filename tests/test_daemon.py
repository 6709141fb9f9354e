"""The real daemon in a subprocess, with second-scale intervals, against feeds on 127.0.0.1:
schedules, reloads, the instance lock, stopping, SIGKILL at random moments, progress and
log output, /healthz and /metrics, and the systemd unit of contrib/ (README's own examples:
test_readme.py)."""

from __future__ import annotations

import ctypes
import functools
import itertools
import json
import logging
import os
import pty
import random
import re
import select
import shlex
import shutil
import signal
import socket
import sqlite3
import statistics
import struct
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import builders
import pytest
import yaml
from builders import config_data, dump_config, each_minute, site_rss, site_section, timeouts
from clirunner import aggregator_command, run_cli, validate_atom
from httpserver import FeedServer
from pgdatabase import PG_MISSING, new_database

from aggregator.cli import EXIT_RUNNING
from aggregator.daemon import Debouncer
from aggregator.lock import node_key

ROOT = Path(__file__).parent.parent
UNIT = ROOT / "contrib" / "aggregator.service"
START_TIMEOUT = 30.0  # seconds for a daemon to start and do its first round, on a busy machine
BASE_HOST = "news.example.org"


# --------------------------------------------------------------------- feeds and config


# Feeds as builders.site_rss writes them, items (guid, title) a minute apart.
rss = functools.partial(site_rss, dated=each_minute)


def item_link(name: str, guid: str) -> str:
    return f"http://example.org/{name}/{guid}.html"


def source(server: FeedServer, name: str, interval: str = "1s") -> dict[str, str]:
    return {
        "name": name,
        "url": server.url(f"/{name}.rss"),
        "category": "news",
        "interval": interval,
    }


# This file's config, keys in the order written: second-scale timeouts, and source lists.
CONFIG: dict[str, object] = {
    "site": site_section(base_url=f"https://{BASE_HOST}/", language="en"),
    "fetch": timeouts("2s", "40s", "60s"),
    "source_lists": ["feeds/*.yaml"],
}


def config_text(sources: list[dict[str, str]], **extra: object) -> str:
    return dump_config(config_data(sources, **(CONFIG | extra)), sort_keys=False)


write_config = functools.partial(builders.write_config, sort_keys=False, **CONFIG)


# --------------------------------------------------------------------- the daemon process


class Daemon:
    """`aggregator --config CONFIG run ARGS` in a subprocess, its output in a log file."""

    def __init__(self, config: Path, *args: str, command: list[str] | None = None) -> None:
        self.config = config
        n = len(list(config.parent.glob("daemon-*.log")))
        self.log_path = config.parent / f"daemon-{n}.log"
        env = {k: v for k, v in os.environ.items() if k != "AGGREGATOR_CONFIG"}
        with open(self.log_path, "wb") as out:
            self.proc = subprocess.Popen(
                command or [*aggregator_command(), "--config", str(config), "run", *args],
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=config.parent,
                env=env,
            )
        self.started = time.monotonic()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def wait_for(
        self, what: str, check: Callable[[], bool], timeout: float = START_TIMEOUT
    ) -> None:
        deadline = time.monotonic() + timeout
        while not check():
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"daemon exited {self.proc.returncode} waiting for {what}:\n{self.log()}"
                )
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}:\n{self.log()}")
            time.sleep(0.02)

    def wait_log(self, pattern: str, count: int = 1, timeout: float = START_TIMEOUT) -> None:
        self.wait_for(
            f"{count} x {pattern!r} in the log",
            lambda: len(re.findall(pattern, self.log())) >= count,
            timeout,
        )

    def signal(self, sig: signal.Signals) -> None:
        self.proc.send_signal(sig)

    def stop(self, timeout: float = 20.0) -> int:
        self.signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


@pytest.fixture
def daemons() -> Iterator[list[Daemon]]:
    """Daemons started by a test (append them); any still running are killed afterwards."""
    started: list[Daemon] = []
    yield started
    for d in started:
        d.kill()


def start(daemons: list[Daemon], config: Path, *args: str) -> Daemon:
    d = Daemon(config, *args)
    daemons.append(d)
    return d


# --------------------------------------------------------------------- output checks


def post_files(out: Path) -> list[Path]:
    return sorted((out / "_posts").glob("*.md")) if (out / "_posts").is_dir() else []


def check_post_file(path: Path) -> tuple[dict[str, object], str]:
    """Fail unless `path` is a whole post file; return its front matter and body."""
    text = path.read_text(encoding="utf-8")
    assert text.startswith("---\n"), f"{path.name}: no front matter"
    head, sep, body = text[4:].partition("\n---\n")
    assert sep, f"{path.name}: front matter not closed"
    front = yaml.safe_load(head)
    assert isinstance(front, dict) and {"layout", "title", "date", "categories"} <= set(front)
    assert body.rstrip().endswith(f"(//{BASE_HOST}/)"), f"{path.name}: truncated body"
    return front, body


def temp_files(out: Path) -> list[Path]:
    return [p for p in out.rglob("*") if p.is_file() and p.name.endswith(".tmp")]


def links_published(out: Path) -> dict[str, list[str]]:
    """Original link -> the post files that carry it."""
    found: dict[str, list[str]] = {}
    for path in post_files(out):
        _front, body = check_post_file(path)
        link = re.search(r"^<(http[^>]+)>$", body, re.MULTILINE)
        assert link, f"{path.name}: no original link"
        found.setdefault(link.group(1), []).append(path.name)
    return found


def intervals(server: FeedServer, path: str) -> list[float]:
    times = [r.time for r in server.requests(path)]
    return [b - a for a, b in itertools.pairwise(times)]


# =========================================================================== debounce

# Steps: (now, "change" | "now" | "fired"), then the seconds until the publish at `at`
# (None: none asked for). Delay 1s, at most 10s after the first change.
DEBOUNCE_CASES = [
    pytest.param([], 0.0, None, id="nothing-asked"),
    pytest.param([(0.0, "change")], 0.0, 1.0, id="one-change-waits-the-delay"),
    pytest.param([(0.0, "change")], 1.0, 0.0, id="due-after-the-delay"),
    pytest.param([(0.0, "change"), (0.5, "change")], 0.5, 1.0, id="a-second-change-pushes-it"),
    pytest.param(
        [(float(t), "change") for t in range(0, 20)], 19.0, -9.0, id="a-trickle-waits-no-more"
    ),
    pytest.param([(0.0, "change"), (9.5, "change")], 9.5, 0.5, id="capped-by-the-first-change"),
    pytest.param([(0.0, "now")], 0.0, 0.0, id="immediately"),
    pytest.param([(0.0, "change"), (0.2, "now")], 0.2, 0.0, id="immediately-wins"),
    pytest.param([(0.0, "now"), (0.0, "change")], 0.0, 1.0, id="a-change-after-immediately"),
    pytest.param([(0.0, "change"), (1.0, "fired")], 1.0, None, id="fired-clears"),
    pytest.param(
        [(0.0, "change"), (1.0, "fired"), (9.0, "change")], 9.0, 1.0, id="fired-forgets-first"
    ),
]


@pytest.mark.parametrize(("steps", "at", "remaining"), DEBOUNCE_CASES)
def test_debouncer(steps: list[tuple[float, str]], at: float, remaining: float | None) -> None:
    debounce = Debouncer(delay=1.0, max_delay=10.0)
    for now, what in steps:
        if what == "fired":
            debounce.fired()
        else:
            debounce.request(now, immediately=what == "now")
    assert debounce.remaining(at) == remaining


def test_a_stop_cancelling_the_jobs_in_flight_logs_no_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The daemon's stop shuts APScheduler down with a heartbeat waiting on the store and a
    tick submitted but not started: no error line, no traceback (logs.quiet_cancelled_jobs)."""
    import asyncio

    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    from aggregator.daemon.logs import quiet_cancelled_jobs

    async def go(quiet: bool) -> None:
        started = asyncio.Event()

        async def slow() -> None:
            started.set()
            await asyncio.sleep(10)

        scheduler = AsyncIOScheduler()
        scheduler.start()
        scheduler.add_job(slow)
        await asyncio.wait_for(started.wait(), 10)
        scheduler.add_job(slow)  # submitted, not started: the shutdown comes first
        await asyncio.sleep(0)
        if quiet:
            quiet_cancelled_jobs()
        scheduler.shutdown(wait=False)
        await asyncio.sleep(0.05)  # the cancelled jobs' callbacks run

    executors = logging.getLogger("apscheduler.executors.default")
    filters = list(executors.filters)
    executors.filters.clear()  # as a process starts, before a stop installed the filter
    try:
        with caplog.at_level(logging.INFO):
            asyncio.run(go(quiet=False))  # what the filter is for: APScheduler logs errors
            assert [r for r in caplog.records if r.levelno >= logging.ERROR]
            caplog.clear()
            asyncio.run(go(quiet=True))
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
    finally:
        executors.filters[:] = filters


# =========================================================================== scheduling


@pytest.mark.slow
def test_sources_fire_on_their_own_schedules_and_keep_them_across_restarts(
    tmp_path: Path, feed_server: FeedServer, daemons: list[Daemon]
) -> None:
    for name in ("fast", "slow", "hourly"):
        feed_server.add(f"/{name}.rss", rss(name, [(f"{name}1", f"{name} one")]), etag=True)
    config = write_config(
        tmp_path,
        [
            source(feed_server, "fast", "1s"),
            source(feed_server, "slow", "2s"),
            source(feed_server, "hourly", "1h"),
        ],
    )
    d = start(daemons, config, "--tick", "0.1")
    d.wait_for("4 checks of slow", lambda: feed_server.hits("/slow.rss") >= 4)
    assert d.stop() == 0

    fast, slow = intervals(feed_server, "/fast.rss"), intervals(feed_server, "/slow.rss")
    # Each on its own interval, stretched by up to 10% jitter plus one tick and the fetch.
    assert 0.95 <= statistics.median(fast) <= 1.45, fast
    assert 1.95 <= statistics.median(slow) <= 2.5, slow
    assert len(fast) >= 2 * len(slow) - 1, (fast, slow)
    assert feed_server.hits("/hourly.rss") == 1
    assert len(post_files(tmp_path / "out")) == 3

    # The next check times live in the store: a restart does not fetch the hourly source.
    before = feed_server.hits("/fast.rss")
    d = start(daemons, config, "--tick", "0.1")
    d.wait_for("fast checked again", lambda: feed_server.hits("/fast.rss") >= before + 2)
    assert d.stop() == 0
    assert feed_server.hits("/hourly.rss") == 1


# =========================================================================== reloading


def test_sighup_adds_and_removes_a_source(
    tmp_path: Path, feed_server: FeedServer, daemons: list[Daemon]
) -> None:
    feed_server.add("/aa.rss", rss("aa", [("a1", "from aa")]), etag=True)
    feed_server.add("/bb.rss", rss("bb", [("b1", "from bb")]), etag=True)
    config = write_config(tmp_path, [source(feed_server, "aa")])
    d = start(daemons, config, "--tick", "0.1")
    d.wait_for("aa fetched", lambda: feed_server.hits("/aa.rss") >= 1)

    # Same size, same inode, same mtime: only SIGHUP can tell the daemon.
    st = config.stat()
    text = config_text([source(feed_server, "bb")])
    assert len(text.encode()) == st.st_size
    with open(config, "r+", encoding="utf-8") as f:
        f.write(text)
    os.utime(config, ns=(st.st_atime_ns, st.st_mtime_ns))
    time.sleep(1.5)
    assert feed_server.hits("/bb.rss") == 0, "reloaded without SIGHUP"

    d.signal(signal.SIGHUP)
    d.wait_log(r"config reloaded \(SIGHUP\): 1 sources, 1 added, 1 removed")
    d.wait_for("bb fetched", lambda: feed_server.hits("/bb.rss") >= 1)
    time.sleep(0.3)  # a fetch of aa in flight at the reload may still land
    aa_hits = feed_server.hits("/aa.rss")
    d.wait_for("bb fetched twice more", lambda: feed_server.hits("/bb.rss") >= 3)
    assert feed_server.hits("/aa.rss") == aa_hits
    assert d.stop() == 0
    assert set(links_published(tmp_path / "out")) == {
        item_link("aa", "a1"),
        item_link("bb", "b1"),
    }


def test_config_edits_add_and_remove_sources(
    tmp_path: Path, feed_server: FeedServer, daemons: list[Daemon]
) -> None:
    for name in ("aa", "bb"):
        feed_server.add(f"/{name}.rss", rss(name, [(f"{name}1", name)]), etag=True)
    config = write_config(tmp_path, [source(feed_server, "aa")])
    (tmp_path / "feeds").mkdir()
    d = start(daemons, config, "--tick", "0.1")
    d.wait_for("aa fetched", lambda: feed_server.hits("/aa.rss") >= 1)

    # A new file matched by source_lists adds a source.
    extra = tmp_path / "feeds" / "extra.yaml"
    extra.write_text(yaml.safe_dump({"sources": [source(feed_server, "bb")]}), encoding="utf-8")
    d.wait_log(r"config reloaded \(a config file changed\): 2 sources, 1 added, 0 removed")
    d.wait_for("bb fetched", lambda: feed_server.hits("/bb.rss") >= 1)

    # Removing a source from config.yaml stops its checks.
    config.write_text(config_text([]), encoding="utf-8")
    d.wait_log(r"config reloaded \(a config file changed\): 1 sources, 0 added, 1 removed")
    time.sleep(0.3)
    aa_hits = feed_server.hits("/aa.rss")
    d.wait_for("bb fetched twice more", lambda: feed_server.hits("/bb.rss") >= 3)
    assert feed_server.hits("/aa.rss") == aa_hits
    assert d.stop() == 0
    assert len(post_files(tmp_path / "out")) == 2


def test_broken_config_on_reload_keeps_the_old_one_running(
    tmp_path: Path, feed_server: FeedServer, daemons: list[Daemon]
) -> None:
    for name in ("aa", "bb"):
        feed_server.add(f"/{name}.rss", rss(name, [(f"{name}1", name)]), etag=True)
    config = write_config(tmp_path, [source(feed_server, "aa")])
    d = start(daemons, config, "--tick", "0.1")
    d.wait_for("aa fetched", lambda: feed_server.hits("/aa.rss") >= 1)

    broken = config_text([source(feed_server, "bb")], surprise="unknown key")
    config.write_text(broken, encoding="utf-8")
    d.wait_log(r"reload refused \(a config file changed\): config.yaml: surprise")
    d.wait_log(r"still running on the previous config")
    d.signal(signal.SIGHUP)
    d.wait_log(r"reload refused \(SIGHUP\)")
    hits = feed_server.hits("/aa.rss")
    d.wait_for("aa still checked", lambda: feed_server.hits("/aa.rss") >= hits + 2)
    assert feed_server.hits("/bb.rss") == 0

    # Fixed: the next edit is taken.
    config.write_text(config_text([source(feed_server, "bb")]), encoding="utf-8")
    d.wait_log(r"config reloaded \(a config file changed\): 1 sources, 1 added, 1 removed")
    d.wait_for("bb fetched", lambda: feed_server.hits("/bb.rss") >= 1)
    assert d.stop() == 0


class Opens:
    """Counts opens of the given files by any process (inotify IN_OPEN events)."""

    IN_OPEN = 0x20

    def __init__(self, *paths: Path) -> None:
        self._libc = ctypes.CDLL(None, use_errno=True)
        self._fd = self._libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        assert self._fd >= 0, os.strerror(ctypes.get_errno())
        for path in paths:
            wd = self._libc.inotify_add_watch(self._fd, os.fsencode(path), self.IN_OPEN)
            assert wd >= 0, os.strerror(ctypes.get_errno())

    def count(self) -> int:
        """Opens since the last call."""
        opens = 0
        while True:
            try:
                data = os.read(self._fd, 65536)
            except BlockingIOError:
                return opens
            offset = 0
            while offset < len(data):  # struct inotify_event: wd, mask, cookie, len, name
                _wd, mask, _cookie, length = struct.unpack_from("iIII", data, offset)
                opens += bool(mask & self.IN_OPEN)
                offset += 16 + length

    def close(self) -> None:
        os.close(self._fd)


def test_idle_daemon_stats_the_config_files_without_reading_them(
    tmp_path: Path, feed_server: FeedServer, daemons: list[Daemon]
) -> None:
    for name in ("aa", "bb", "cc", "dd"):
        feed_server.add(f"/{name}.rss", rss(name, [(f"{name}1", name)]), etag=True)
    config = write_config(tmp_path, [source(feed_server, "aa", "1h")])
    (tmp_path / "feeds").mkdir()
    listed = tmp_path / "feeds" / "listed.yaml"
    listed.write_text(yaml.safe_dump({"sources": [source(feed_server, "bb", "1h")]}))
    d = start(daemons, config)
    d.wait_log("published")
    opens = Opens(config, listed)
    try:
        opens.count()
        time.sleep(3.0)  # three looks for edits (DaemonSettings.watch)
        assert opens.count() == 0, "config files read while nothing changed"

        # An edit of config.yaml is still seen, and the source_lists it names now too.
        (tmp_path / "more").mkdir()
        config.write_text(
            config_text([source(feed_server, "aa", "1h")], source_lists=["more/*.yaml"]),
            encoding="utf-8",
        )
        d.wait_log(r"config reloaded \(a config file changed\): 1 sources, 0 added, 1 removed")
        added = tmp_path / "more" / "added.yaml"
        added.write_text(yaml.safe_dump({"sources": [source(feed_server, "cc", "1h")]}))
        d.wait_log(r"config reloaded \(a config file changed\): 2 sources, 1 added, 0 removed")
        d.wait_for("cc fetched", lambda: feed_server.hits("/cc.rss") >= 1)
        # A same-size edit of a source list within the same second: mtime in ns tells it.
        text = added.read_text().replace("cc", "dd")
        added.write_text(text)
        d.wait_log(r"config reloaded \(a config file changed\): 2 sources, 1 added, 1 removed")
        d.wait_for("dd fetched", lambda: feed_server.hits("/dd.rss") >= 1)
    finally:
        opens.close()
    assert d.stop() == 0


# =========================================================================== one instance


def test_second_instance_is_refused_and_starts_after_the_first_is_killed(
    tmp_path: Path, feed_server: FeedServer, daemons: list[Daemon]
) -> None:
    feed_server.add("/aa.rss", rss("aa", [("a1", "one")]), etag=True)
    config = write_config(tmp_path, [source(feed_server, "aa", "1h")])
    first = start(daemons, config)
    first.wait_log("daemon started")

    once = run_cli(config, "run", "--once", check=False)
    assert once.returncode == EXIT_RUNNING, once.stderr
    assert f"pid {first.pid} on {socket.gethostname()}" in once.stderr
    second = start(daemons, config)
    assert second.proc.wait(START_TIMEOUT) == EXIT_RUNNING
    assert f"pid {first.pid}" in second.log()
    assert first.proc.poll() is None

    first.proc.send_signal(signal.SIGKILL)
    first.proc.wait()
    once = run_cli(config, "run", "--once", "--all")
    assert "round: 1 due" in once.stderr


# The instance lock on PostgreSQL (one per node id) lives as long as its session, which
# the server (an idle timeout, a failover) or a pooler may end under a running daemon.

PG_URL = os.environ.get("AGGREGATOR_TEST_POSTGRES_URL")
needs_postgres = pytest.mark.skipif(not PG_URL, reason=PG_MISSING)
NODE = {"id": "web-1"}  # a fixed node id: a second process with it is refused
NODE_LOCK = node_key(NODE["id"])
LOCK_KEY = {"hi": NODE_LOCK >> 32, "lo": NODE_LOCK & 0xFFFFFFFF}
LOCKS = (
    "SELECT l.pid, l.granted, a.application_name FROM pg_locks l "
    "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' "
    "AND l.classid = :hi AND l.objid = :lo AND l.objsubid = 1 "
    "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
)


@pytest.fixture
def pg_database() -> Iterator[str]:
    """A PostgreSQL database of the test's own (advisory locks are per database)."""
    with new_database() as url:
        yield url


def lock_rows(url: str) -> list[tuple[int, bool, str]]:
    import sqlalchemy as sa

    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text(LOCKS), LOCK_KEY).all()
            return [(row.pid, row.granted, row.application_name) for row in rows]
    finally:
        engine.dispose()


def end_lock_session(url: str, daemon: Daemon) -> int:
    """pg_terminate_backend() on the daemon's lock session; its backend pid."""
    import sqlalchemy as sa

    ((backend, _granted, name),) = [r for r in lock_rows(url) if r[1]]
    assert f"pid={daemon.pid} " in name
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            assert conn.scalar(sa.select(sa.func.pg_terminate_backend(backend)))
    finally:
        engine.dispose()
    return int(backend)


@pytest.mark.postgres
@needs_postgres
def test_lost_postgres_lock_taken_by_another_stops_the_daemon(
    tmp_path: Path, feed_server: FeedServer, daemons: list[Daemon], pg_database: str
) -> None:
    import sqlalchemy as sa

    feed_server.add("/aa.rss", rss("aa", [("a1", "one")]), etag=True)
    config = write_config(
        tmp_path, [source(feed_server, "aa", "1h")], database=pg_database, node=NODE
    )
    d = start(daemons, config, "--tick", "0.1")
    d.wait_log("published")

    # Another process waits for the lock, so it gets it the moment the session ends.
    other = sa.create_engine(pg_database, poolclass=sa.pool.NullPool, isolation_level="AUTOCOMMIT")
    try:
        with other.connect() as conn:
            got = threading.Thread(
                target=conn.execute,
                args=(sa.text("SELECT pg_advisory_lock(:key)"), {"key": NODE_LOCK}),
            )
            got.start()
            d.wait_for("the other to queue", lambda: any(not r[1] for r in lock_rows(pg_database)))
            end_lock_session(pg_database, d)
            got.join(10)
            assert not got.is_alive()
            assert d.proc.wait(START_TIMEOUT) == EXIT_RUNNING, d.log()
    finally:
        other.dispose()
    log = d.log()
    assert "Traceback" not in log, log
    last = log.strip().splitlines()[-1]
    assert last.startswith(
        "aggregator: instance lock lost (its database session ended): another aggregator "
        "is running on this store now: "
    ), log
    assert "advisory lock on postgresql" in last


@pytest.mark.postgres
@needs_postgres
def test_lost_postgres_lock_nobody_else_holds_is_taken_again(
    tmp_path: Path, feed_server: FeedServer, daemons: list[Daemon], pg_database: str
) -> None:
    feed_server.add("/aa.rss", rss("aa", [("a1", "one")]), etag=True)
    config = write_config(
        tmp_path, [source(feed_server, "aa", "1h")], database=pg_database, node=NODE
    )
    d = start(daemons, config, "--tick", "0.1")
    d.wait_log("published")

    ended = end_lock_session(pg_database, d)
    d.wait_log(r"WARNING instance lock was lost \(its database session ended\) and is held again")
    ((backend, granted, name),) = lock_rows(pg_database)
    assert granted and backend != ended and f"pid={d.pid} " in name
    # Held, so a second process of that node id is still refused; the daemon goes on and
    # stops cleanly.
    once = run_cli(config, "run", "--once", check=False)
    assert once.returncode == EXIT_RUNNING, once.stderr
    assert d.proc.poll() is None
    assert d.stop() == 0
    assert "Traceback" not in d.log()


# =========================================================================== stopping


def test_sigterm_during_a_slow_fetch_exits_0_within_the_grace_period(
    tmp_path: Path, feed_server: FeedServer, daemons: list[Daemon]
) -> None:
    feed_server.add("/quick.rss", rss("quick", [("q1", "quick one")]))
    feed_server.add("/stuck.rss", rss("stuck", [("s1", "stuck one")]), delay=30)
    config = write_config(tmp_path, [source(feed_server, "quick"), source(feed_server, "stuck")])
    d = start(daemons, config, "--grace", "2")
    d.wait_for("the slow fetch in flight", lambda: feed_server.in_flight >= 1)
    d.wait_for("the quick feed fetched", lambda: feed_server.hits("/quick.rss") >= 1)
    time.sleep(0.3)

    sent = time.monotonic()
    d.signal(signal.SIGTERM)
    assert d.proc.wait(10) == 0
    took = time.monotonic() - sent
    # The grace period, then the publish of what was stored (a few seconds at most on a
    # busy machine): never the 30 s the stuck fetch would take.
    assert 1.8 <= took <= 2 + 5, took
    assert "fetches in flight cut short after 2s" in d.log()
    out = tmp_path / "out"
    # What the round stored before the stop is published; nothing half-written stays.
    assert set(links_published(out)) == {item_link("quick", "q1")}
    assert temp_files(out) == []
    validate_atom(out / "atom.xml")


def test_sigterm_cutting_a_parse_short_logs_no_error(
    tmp_path: Path, feed_server: FeedServer, daemons: list[Daemon]
) -> None:
    # Several megabytes: parsed in a worker process, for seconds even on a fast machine; the
    # stop, as soon as the body is served, kills the pool.
    stories = [(f"b{i}", f"big story {i} " + "words " * 60) for i in range(6000)]
    feed_server.add("/big.rss", rss("big", stories))
    config = write_config(tmp_path, [source(feed_server, "big", "1h")])
    d = start(daemons, config, "--grace", "0.5")
    d.wait_for("the body served", lambda: feed_server.hits("/big.rss") >= 1)
    d.signal(signal.SIGTERM)
    assert d.proc.wait(20) == 0
    log = d.log()
    assert "fetches in flight cut short after 0s" in log, log  # the parse was in flight
    assert "ERROR" not in log and "Traceback" not in log, log


def test_sigterm_lets_a_fetch_in_flight_finish_and_publishes_it(
    tmp_path: Path, feed_server: FeedServer, daemons: list[Daemon]
) -> None:
    feed_server.add("/late.rss", rss("late", [("l1", "late one")]), delay=1.5)
    config = write_config(tmp_path, [source(feed_server, "late")])
    d = start(daemons, config, "--grace", "10")
    d.wait_for("the fetch in flight", lambda: feed_server.in_flight >= 1)
    sent = time.monotonic()
    d.signal(signal.SIGTERM)
    assert d.proc.wait(15) == 0
    assert time.monotonic() - sent < 9  # the fetch's 1.5 s and a publish, not the 10 s grace
    assert set(links_published(tmp_path / "out")) == {item_link("late", "l1")}
    assert "cut short" not in d.log()


# =========================================================================== SIGKILL


@pytest.mark.slow
def test_sigkill_at_random_moments_loses_and_duplicates_nothing(
    tmp_path: Path, feed_server: FeedServer, daemons: list[Daemon]
) -> None:
    rng = random.Random(os.environ.get("AGGREGATOR_TEST_SEED", str(time.time_ns())))
    names = ["k1", "k2", "k3", "k4"]
    feeds: dict[str, list[tuple[str, str]]] = {name: [] for name in names}
    serial = 0

    def change_feeds() -> None:
        """Add items, sometimes retitle one (an update), and vary how slow each feed is."""
        nonlocal serial
        for name in names:
            for _ in range(rng.randint(0, 3)):
                serial += 1
                feeds[name].append((f"{name}-{serial}", f"{name} item {serial}"))
            if feeds[name] and rng.random() < 0.3:
                i = rng.randrange(len(feeds[name]))
                guid, _title = feeds[name][i]
                feeds[name][i] = (guid, f"{name} retitled {serial}")
            feed_server.add(
                f"/{name}.rss", rss(name, feeds[name]), etag=True, delay=rng.uniform(0, 0.3)
            )

    config = write_config(tmp_path, [source(feed_server, n) for n in names])
    kills = 0
    deadline = time.monotonic() + 240  # 30 lives take 60-90s; more on a loaded machine
    while kills < 30 and time.monotonic() < deadline:
        change_feeds()
        hits = len(feed_server.requests())
        d = start(daemons, config, "--tick", "0.1")
        d.wait_for("a round", lambda hits=hits: len(feed_server.requests()) > hits)  # type: ignore[misc]
        # Kill during a round: after its first request, while fetching and storing (the
        # feeds answer within 0.3s), around the debounced publish about a second later,
        # or anywhere in between.
        window = rng.choice([(0.0, 0.35), (0.95, 1.6), (0.0, 1.6)])
        time.sleep(rng.uniform(*window))
        d.proc.send_signal(signal.SIGKILL)
        d.proc.wait()
        assert d.proc.returncode == -signal.SIGKILL, d.log()
        kills += 1
    assert kills >= 30, f"only {kills} kills in the time allowed"

    # The last run: everything served is fetched, stored and published.
    change_feeds()
    d = start(daemons, config, "--tick", "0.1")
    out = tmp_path / "out"
    wanted = {item_link(name, guid) for name in names for guid, _ in feeds[name]}
    d.wait_for("every item published", lambda: wanted <= set(_links_or_empty(out)), 60)
    time.sleep(1.5)  # a publish still due must not add anything
    assert d.stop() == 0

    published = links_published(out)
    assert set(published) == wanted
    doubles = {link: files for link, files in published.items() if len(files) > 1}
    assert not doubles, doubles
    # Every post shows the item's latest title.
    titles = {item_link(n, g): t for n in names for g, t in feeds[n]}
    for path in post_files(out):
        front, body = check_post_file(path)
        link = re.search(r"^<(http[^>]+)>$", body, re.MULTILINE)
        assert link and front["title"] == titles[link.group(1)], path.name
    assert temp_files(out) == []
    validate_atom(out / "atom.xml")
    validate_atom(out / "category" / "news.xml")
    with sqlite3.connect(tmp_path / "test.db") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        pending = conn.execute("SELECT count(*) FROM posts WHERE revision > published_revision")
        assert pending.fetchone() == (0,)


def _links_or_empty(out: Path) -> dict[str, list[str]]:
    # While the daemon publishes, a post file is either absent or whole (atomic rename).
    try:
        return links_published(out)
    except FileNotFoundError:
        return {}


# =========================================================================== output


def test_run_once_without_a_terminal_logs_plain_summaries_and_json(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    feed_server.add("/aa.rss", rss("aa", [("a1", "one"), ("a2", "two")]))
    feed_server.add("/gone.rss", b"", status=500)
    config = write_config(tmp_path, [source(feed_server, "aa"), source(feed_server, "gone")])

    plain = run_cli(config, "run", "--once")
    assert "fetching:" not in plain.stderr  # progress lines only with -v (test_progress.py)
    assert re.search(
        r"round: 2 due, 1 fetched, 0 not modified, 2 new, 0 updated, 1 errors", plain.stderr
    )
    assert "\x1b[" not in plain.stderr  # no bar, no colour

    as_json = run_cli(config, "--log-format", "json", "-v", "publish", "--all")
    lines = [json.loads(line) for line in as_json.stderr.splitlines()]
    publish = [e for e in lines if e.get("event") == "publish"]
    assert publish and publish[0]["posts"] == 2 and publish[0]["level"] == "info"
    assert any(e["message"].startswith("publishing: 2/2") for e in lines)

    rounds = run_cli(config, "--log-format", "json", "run", "--once", "--all")
    events = [json.loads(line) for line in rounds.stderr.splitlines()]
    (round_event,) = [e for e in events if e.get("event") == "round"]
    assert round_event["due"] == 2 and round_event["errors"] == 1
    assert round_event["failed"] == ["gone"]
    assert isinstance(round_event["seconds"], float)


def test_run_once_on_a_terminal_shows_a_progress_bar(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    feed_server.add("/aa.rss", rss("aa", [("a1", "one")]))
    config = write_config(tmp_path, [source(feed_server, "aa")])
    primary, secondary = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k not in ("AGGREGATOR_CONFIG", "NO_COLOR")}
    env.update(TERM="xterm", COLUMNS="100")
    proc = subprocess.Popen(
        [*aggregator_command(), "--config", str(config), "run", "--once"],
        stdin=subprocess.DEVNULL,
        stdout=secondary,
        stderr=secondary,
        cwd=tmp_path,
        env=env,
    )
    os.close(secondary)
    output = b""
    while True:
        ready, _, _ = select.select([primary], [], [], 30)
        if not ready:
            break
        try:
            chunk = os.read(primary, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        output += chunk
    os.close(primary)
    assert proc.wait(30) == 0
    text = output.decode(errors="replace")
    assert "━" in text and "1/1" in text, text  # rich's bar and its count
    assert "fetching: 1/1 aa" not in text  # no plain progress lines on a terminal
    assert len(post_files(tmp_path / "out")) == 1


# =========================================================================== serve --metrics


def _serve(daemons: list[Daemon], config: Path, *args: str) -> Daemon:
    d = Daemon(
        config,
        command=[*aggregator_command(), "--config", str(config), "serve", "--port", "0", *args],
    )
    daemons.append(d)
    return d


def _address(d: Daemon) -> str:
    d.wait_log(r"serving .* on http://127\.0\.0\.1:\d+/")
    match = re.search(r"on (http://127\.0\.0\.1:\d+)/", d.log())
    assert match
    return match.group(1)


def _get(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as e:
        with e:
            return e.code, e.headers["Content-Type"], e.read().decode()


def test_serve_metrics_and_healthz(
    tmp_path: Path, feed_server: FeedServer, daemons: list[Daemon]
) -> None:
    feed_server.add("/aa.rss", rss("aa", [("a1", "one"), ("a2", "two")]))
    feed_server.add("/bad.rss", b"", status=500)
    config = write_config(
        tmp_path, [source(feed_server, "aa", "1s"), source(feed_server, 'b"ad', "1h")]
    )
    text = config.read_text(encoding="utf-8").replace('/b"ad.rss', "/bad.rss")
    config.write_text(text, encoding="utf-8")
    run_cli(config, "run", "--once")

    servers = [
        _serve(daemons, config, "--metrics", "--stale-after", "1h"),
        _serve(daemons, config, "--metrics", "--stale-after", "1s"),
        _serve(daemons, config),
    ]
    fresh, stale, plain = (_address(d) for d in servers)
    status, kind, body = _get(fresh + "/metrics")
    assert status == 200 and kind.startswith("text/plain; version=0.0.4")
    samples = dict(
        line.rsplit(" ", 1) for line in body.splitlines() if line and not line.startswith("#")
    )
    assert samples["aggregator_posts_published"] == "2"
    assert samples["aggregator_posts_pending"] == "0"
    assert samples['aggregator_source_failures{source="aa"}'] == "0"
    assert samples['aggregator_source_failures{source="b\\"ad"}'] == "1"
    assert samples['aggregator_source_posts{source="aa"}'] == "2"
    assert abs(float(samples["aggregator_last_round_timestamp_seconds"]) - time.time()) < 120
    assert "# TYPE aggregator_source_failures gauge" in body

    assert _get(fresh + "/healthz")[:1] == (200,)
    # The 1s source is overdue (no daemon runs): the second server says so.
    servers[1].wait_for("aa overdue by 1s", lambda: _get(stale + "/healthz")[0] == 503, 10)
    status, _, body = _get(stale + "/healthz")
    assert status == 503 and "source 'aa' overdue" in body, body
    # The site is still served beside them.
    assert _get(fresh + "/atom.xml")[0] == 200

    assert _get(plain + "/metrics")[0] == 404  # only with --metrics


# ==================================================================== systemd unit


def unit_for(tmp: Path) -> str:
    """The unit file with its paths moved into `tmp` and run as the current user."""
    import pwd

    text = UNIT.read_text(encoding="utf-8")
    user = pwd.getpwuid(os.getuid()).pw_name
    return text.replace("/srv/aggregator", str(tmp)).replace("User=aggregator", f"User={user}")


def install_venv_link(tmp: Path) -> None:
    """`tmp/.venv/bin/aggregator`: the real command, where the unit and cron line expect it."""
    (tmp / ".venv" / "bin").mkdir(parents=True)
    (tmp / ".venv" / "bin" / "aggregator").symlink_to(aggregator_command()[0])


def test_systemd_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is missing (apt-get install systemd; .ci/run installs it)")
    install_venv_link(tmp_path)
    unit = tmp_path / "aggregator.service"
    unit.write_text(unit_for(tmp_path), encoding="utf-8")
    proc = subprocess.run(
        [analyze, "verify", str(unit)], capture_output=True, text=True, timeout=60
    )
    problems = [
        line
        for line in (proc.stdout + proc.stderr).splitlines()
        # Complaints about the host's own units are not ours.
        if "aggregator.service" in line or str(tmp_path) in line
    ]
    assert proc.returncode == 0 and not problems, proc.stdout + proc.stderr


def test_systemd_unit_commands_start_reload_and_stop_the_daemon(
    tmp_path: Path, feed_server: FeedServer, daemons: list[Daemon]
) -> None:
    feed_server.add("/aa.rss", rss("aa", [("a1", "one")]))
    feed_server.add("/bb.rss", rss("bb", [("b1", "two")]))
    install_venv_link(tmp_path)
    config = write_config(tmp_path, [source(feed_server, "aa")])
    service = dict(
        line.split("=", 1) for line in unit_for(tmp_path).splitlines() if re.match(r"^\w+=", line)
    )
    assert service["WorkingDirectory"] == str(tmp_path)
    d = Daemon(config, command=shlex.split(service["ExecStart"]))
    daemons.append(d)
    d.wait_for("aa fetched", lambda: feed_server.hits("/aa.rss") >= 1)

    # ExecReload, as systemd runs it.
    config.write_text(config_text([source(feed_server, "bb")]), encoding="utf-8")
    reload = service["ExecReload"].replace("$MAINPID", str(d.pid))
    subprocess.run(shlex.split(reload), check=True, timeout=10)
    d.wait_log(r"config reloaded \((SIGHUP|a config file changed)\)")
    d.wait_for("bb fetched", lambda: feed_server.hits("/bb.rss") >= 1)

    # systemctl stop: KillSignal, then SIGKILL after TimeoutStopSec; a clean exit comes first.
    sent = time.monotonic()
    d.signal(signal.Signals[service["KillSignal"]])
    assert d.proc.wait(float(service["TimeoutStopSec"])) == 0
    assert time.monotonic() - sent < float(service["TimeoutStopSec"])
    # What restarting cannot mend: a refused config, a command line the daemon cannot use.
    from aggregator.cli import EXIT_CONFIG, EXIT_USAGE

    assert service["RestartPreventExitStatus"].split() == [str(EXIT_CONFIG), str(EXIT_USAGE)]
