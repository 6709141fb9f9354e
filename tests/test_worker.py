"""The parse + normalize job in worker processes, the fast URL join it relies on, and the
pool's processes dying with the command that started them."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urljoin

import builders
import pytest
import yaml
from clirunner import aggregator_command
from httpserver import FeedServer
from hypothesis import given, settings
from hypothesis import strategies as st

from aggregator.config import load_config
from aggregator.normalize import _join
from aggregator.store import open_store
from aggregator.update import POOL_MIN_SOURCES, Updater

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)

_PIECES = st.sampled_from(
    [*"ab./?#;:%@!$&'()*+,= -_~\t", "..", ".", "//", "中", "%2e", "\x01", "\u3000"]
)
_BASES = st.sampled_from(
    [
        "https://h.org",
        "https://h.org/",
        "https://h.org/a/b",
        "https://h.org/a/b/",
        "http://H.org:81/a/b.html?x=1#f",
        "HTTPS://h.org/a;p/b",
        "https://h.org/a/b;p",
        "https://h.org?q",
        "https://h.org/a/../b/./c",
    ]
)


@settings(max_examples=1000, deadline=None)
@given(_BASES, st.lists(_PIECES, max_size=12).map("".join))
def test_fast_join_is_urljoin_where_it_answers(base: str, reference: str) -> None:
    joined = _join(base, reference)
    if joined is not None:
        assert joined == urljoin(base, reference)


def test_fast_join_answers_the_common_references() -> None:
    base = "https://h.org/a/b/c.html"
    for reference in ("/x.jpg", "x.jpg", "../x.jpg", "./x", "/../a", "?q=1", "#top", "a//b"):
        assert _join(base, reference) == urljoin(base, reference)


def test_a_large_round_parses_in_worker_processes(tmp_path: Path, feed_server: FeedServer) -> None:
    n = POOL_MIN_SOURCES + 2
    for i in range(n):
        items = "".join(
            f"<item><guid>g{i}-{j}</guid><link>http://example.org/{i}/{j}</link>"
            f"<title>Story {i} {j}</title><description>&lt;p&gt;Body {i} {j} "
            f'&lt;img src="/img/{j}.jpg"&gt;&lt;/p&gt;</description></item>'
            for j in range(3)
        )
        feed_server.add(
            f"/f{i}",
            f'<?xml version="1.0"?><rss version="2.0"><channel><title>F{i}</title>'
            f"<link>http://example.org/</link>{items}</channel></rss>".encode(),
        )
    data = {
        "site": {"title": "t", "base_url": "https://news.example.org/", "output_dir": "out"},
        "database": "sqlite:///state.db",
        "categories": {"news": {"title": "News"}},
        "sources": [
            {"name": f"s{i}", "url": feed_server.url(f"/f{i}"), "category": "news"}
            for i in range(n)
        ],
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    config = load_config(path)
    store = open_store(config.database)
    try:
        updater = Updater(config, store, clock=lambda: T0, rng=random.Random(1))
        report = asyncio.run(updater.run_round(config.sources))
        assert [o.name for o in report.outcomes] == [s.name for s in config.sources]
        assert report.new == 3 * n and not report.errors
        store.settle_slugs()
        post = store.get_post(next(iter(store.pending())).key)
        assert post is not None and 'src="http://example.org/img/' in post.content_html
        # Every state was written (in one batch), validators and all.
        states = {s.name: s for s in store.states()}
        assert set(states) == {s.name for s in config.sources}
        assert all(s.last_success == T0 and s.next_check is not None for s in states.values())
        again = asyncio.run(updater.run_round(config.sources))
        assert again.new == 0 and not again.errors
    finally:
        store.close()


def test_keep_newest_ranks_by_date_and_keeps_feed_order() -> None:
    from datetime import timedelta

    from aggregator.types import RawEntry
    from aggregator.update.worker import keep_newest

    naive = datetime(2024, 5, 1, 15, 0)  # no zone: ranked as UTC
    entries = (
        RawEntry(guid="undated-1"),
        RawEntry(guid="old", published=T0 - timedelta(days=1)),
        RawEntry(guid="new", published=T0 + timedelta(hours=1)),
        RawEntry(guid="naive", published=naive),
        RawEntry(guid="undated-2"),
        RawEntry(guid="updated-only", updated=T0),
    )
    assert [e.guid for e in keep_newest(entries, 3)] == ["new", "naive", "updated-only"]
    assert [e.guid for e in keep_newest(entries, 5)] == [
        "undated-1",
        "old",
        "new",
        "naive",
        "updated-only",
    ]
    undated = tuple(RawEntry(guid=str(i)) for i in range(5))
    assert keep_newest(undated, 2) == undated[:2]
    assert keep_newest(entries, 10) is entries


# ------------------------------------------------------------- dying with the parent


def _marked(marker: bytes) -> list[int]:
    """Live processes (zombies aside) whose environment holds `marker`."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            environ = Path(f"/proc/{entry}/environ").read_bytes()
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:  # gone meanwhile, or not ours to read
            continue
        if marker in environ.split(b"\0") and stat.rsplit(")", 1)[1].split()[0] != "Z":
            found.append(int(entry))
    return found


def _pool_config(tmp_path: Path, feed_server: FeedServer) -> Path:
    items = "".join(
        f"<item><guid>g{j}</guid><link>http://example.org/{j}</link><title>Story {j}</title>"
        f"<description>&lt;p&gt;Body {j}&lt;/p&gt;</description></item>"
        for j in range(50)
    )
    body = builders.rss(items, title="F", link="http://example.org/")
    feed_server.add("/now.rss", body)
    # Slow sources keep the round (and so the pool) going for seconds after it started.
    feed_server.add("/slow.rss", body, delay=3.0)
    n = POOL_MIN_SOURCES + 2
    sources = [
        {"name": f"{kind}{i}", "url": feed_server.url(f"/{kind}.rss?i={i}"), "category": "news"}
        for kind in ("now", "slow")
        for i in range(n)
    ]
    data = {
        "site": {"title": "t", "base_url": "https://news.example.org/", "output_dir": "out"},
        "database": "sqlite:///state.db",
        "categories": {"news": {"title": "News"}},
        "sources": sources,
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


# How many processes besides `run --once` itself to wait for before the SIGKILL (the
# resource tracker, then the forkserver, then each worker: as many as there are CPUs),
# then how long. Kills a moment apart are the ones that left processes behind: a kill
# while the forkserver still imports its preload leaves it a queued request to fork a
# worker, which then starts with nobody to answer.
@pytest.mark.parametrize(
    ("others", "then"),
    [
        pytest.param(2, 0.0, id="forkserver-starting"),
        pytest.param(3, 0.0, id="first-worker-forked"),
        pytest.param(99, 0.5, id="every-worker-parsing"),
    ],
)
@pytest.mark.slow
def test_sigkilled_run_once_leaves_no_process_behind(
    tmp_path: Path, feed_server: FeedServer, others: int, then: float
) -> None:
    config = _pool_config(tmp_path, feed_server)
    marker = f"AGGREGATOR_TEST_TREE={uuid.uuid4().hex}"
    env = {k: v for k, v in os.environ.items() if k != "AGGREGATOR_CONFIG"}
    env["AGGREGATOR_TEST_TREE"] = marker.split("=", 1)[1]
    want = 1 + min(others, 2 + len(os.sched_getaffinity(0)))
    proc = subprocess.Popen(
        [*aggregator_command(), "--config", str(config), "run", "--once", "--all"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=tmp_path,
        env=env,
    )
    try:
        deadline = time.monotonic() + 20
        while len(_marked(marker.encode())) < want:
            assert proc.poll() is None, f"exited {proc.returncode} before the pool started"
            assert time.monotonic() < deadline, "the pool did not start"
        time.sleep(then)
        proc.kill()
        proc.wait()
        deadline = time.monotonic() + 5
        while (left := _marked(marker.encode())) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not left, f"left alive: {[_command(pid) for pid in left]}"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for pid in _marked(marker.encode()):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def _command(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:100]
    except OSError:
        return str(pid)


def test_a_worker_process_starts_without_the_http_client_and_the_store() -> None:
    # The forkserver preloads aggregator.update.worker, and so the package's __init__: it
    # must load its names on first use, or every worker carries httpx, aiohttp and
    # SQLAlchemy (59 MB against 30).
    code = (
        "import sys, aggregator.update.worker; "
        "print(' '.join(m for m in ('aiohttp', 'httpx', 'sqlalchemy', 'apscheduler') "
        "if m in sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == ""


_ASK_AND_DIE = """
import socket, sys, time
from multiprocessing import forkserver
from aggregator.update.worker import process_pool

pool = process_pool(1)  # sets the server's preload list
if sys.argv[1] == "without the hook":
    forkserver.set_forkserver_preload(["aggregator.update.worker"])
forkserver.ensure_running()
# A request cut off before its file descriptors: what the server reads when the pool's
# maker is killed mid-request.
asking = socket.socket(socket.AF_UNIX)
asking.connect(forkserver._forkserver._forkserver_address)
asking.close()
time.sleep(1.0)
"""


@pytest.mark.parametrize("hook", [True, False], ids=["with-the-hook", "without"])
def test_the_forkserver_ends_quietly_when_a_request_is_cut_off(hook: bool) -> None:
    # A daemon killed while its pool starts a worker: the server reads EOF and ends.
    # Without aggregator.update.forkserver first in its preload list, that printed a
    # traceback into the daemon's log.
    arg = "with the hook" if hook else "without the hook"
    proc = subprocess.run(
        [sys.executable, "-c", _ASK_AND_DIE, arg], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    if hook:
        assert "Traceback" not in proc.stderr, proc.stderr
    else:  # the check above can fail: this is what it catches
        assert "EOFError" in proc.stderr, proc.stderr
