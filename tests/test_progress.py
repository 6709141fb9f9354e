"""What a round logs, through the real CLI: off a terminal (cron, systemd) one line per
round and per publish and a warning per failing source; `-v` adds the progress lines (a
terminal's progress bar: test_daemon.py's pty test)."""

from __future__ import annotations

import re
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from builders import site_rss, site_section, write_config
from clirunner import aggregator_command, run_cli
from httpserver import FeedServer

from aggregator.normalize import MAX_BODY_CHARS

pytestmark = pytest.mark.slow


def _config(tmp_path: Path, server: FeedServer) -> Path:
    sources = []
    for i in range(12):
        server.add(f"/f{i}.rss", site_rss(f"f{i}", [(f"i{i}", f"Story {i}", "<p>x</p>")]))
        sources.append({"name": f"f{i}", "url": server.url(f"/f{i}.rss"), "category": "news"})
    server.add("/bad.rss", b"oops", status=500)
    sources.append({"name": "bad", "url": server.url("/bad.rss"), "category": "news"})
    return write_config(tmp_path, sources)


def test_off_a_terminal_a_round_logs_its_summary_and_its_failures_only(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    config = _config(tmp_path, feed_server)
    lines = run_cli(config, "run", "--once").stderr.splitlines()
    assert len(lines) == 3, lines
    assert "WARNING bad: HTTP 500" in lines[0]
    assert re.search(r"INFO round: 13 due, 12 fetched, .* 1 errors", lines[1])
    assert re.search(r"INFO published 12 posts", lines[2])


def test_verbose_logs_a_line_per_source_and_the_publish_progress(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    config = _config(tmp_path, feed_server)
    err = run_cli(config, "-v", "run", "--once").stderr
    fetching = re.findall(r"INFO fetching: (\d+)/13 (\S+): (\w+)", err)
    assert len(fetching) == 13
    assert {name for _, name, _ in fetching} == {"bad", *(f"f{i}" for i in range(12))}
    assert ("bad", "error") in {(name, status) for _, name, status in fetching}
    assert "publishing: 12/12" in err


def test_verbose_is_an_option_of_every_command() -> None:
    proc = subprocess.run(
        [*aggregator_command(), "--help"], capture_output=True, text=True, check=True
    )
    assert "--verbose" in proc.stdout


def test_after_a_round_where_every_source_failed_the_next_says_why_nothing_is_due(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    feed_server.add("/a.rss", b"oops", status=500)
    feed_server.add("/b.rss", b"gone away", status=503)
    sources = [
        {"name": n, "url": feed_server.url(f"/{n}.rss"), "category": "news", "interval": "1h"}
        for n in "ab"
    ]
    config = write_config(
        tmp_path, sources, site=site_section(timezone="Asia/Shanghai", language="en")
    )
    first = run_cli(config, "run", "--once").stderr
    assert "2 errors" in first
    second = run_cli(config, "run", "--once").stderr
    found = re.search(
        r"INFO nothing due: next check ([ab]) at (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) Asia/Shanghai;"
        r" 2 failing source\(s\) retried later",
        second,
    )
    assert found, second
    when = datetime.strptime(found[2], "%Y-%m-%d %H:%M:%S").replace(
        tzinfo=ZoneInfo("Asia/Shanghai")
    )
    assert datetime.now(UTC) < when < datetime.now(UTC) + timedelta(hours=3)
    assert "round: 0 due" in second


def test_items_cut_before_sanitizing_make_one_warning_for_their_source(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    huge = "<p>" + "word " * (MAX_BODY_CHARS // 4) + "</p>"
    stories = [(f"h{i}", f"Huge {i}", huge) for i in range(3)]
    feed_server.add("/big.rss", site_rss("big", stories))
    sources = [{"name": "big", "url": feed_server.url("/big.rss"), "category": "news"}]
    config = write_config(tmp_path, sources)
    err = run_cli(config, "run", "--once").stderr
    cut = [line for line in err.splitlines() if "cut before sanitizing" in line]
    assert len(cut) == 1, err
    assert "WARNING big: 3 item bodies cut before sanitizing" in cut[0]
    assert len(err.splitlines()) == 3, err  # with the round's and the publish's lines
