"""The real daemon carrying out decide.after_reschedule on a reload: a shorter interval
brings a healthy source's next check forward, a longer one leaves it where it was; and
`run --once` / `fetch` after the config changed while nothing ran
(decide.after_schedule_edit)."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest
from clirunner import run_cli
from httpserver import FeedServer
from test_daemon import Daemon, daemons, rss, source, start, write_config

__all__ = ["daemons"]  # the fixture, for pytest to find here

# Writing the config may let the daemon's watcher reload it before the SIGHUP does.
RELOADED = (
    r"config reloaded \((SIGHUP|a config file changed)\): 1 sources, 0 added, 0 removed, 1 changed"
)


def test_a_shorter_interval_on_reload_brings_the_next_check_forward(
    tmp_path: Path, feed_server: FeedServer, daemons: list[Daemon]
) -> None:
    feed_server.add("/slow.rss", rss("slow", [("s1", "one")]), etag=True)
    config = write_config(tmp_path, [source(feed_server, "slow", interval="1h")])
    d = start(daemons, config, "--tick", "0.1")
    d.wait_for("the first fetch", lambda: feed_server.hits("/slow.rss") >= 1)
    time.sleep(1.0)
    assert feed_server.hits("/slow.rss") == 1  # next due in an hour

    write_config(tmp_path, [source(feed_server, "slow", interval="2s")])
    d.signal(signal.SIGHUP)
    d.wait_log(RELOADED)
    # Without the reschedule the source would wait out the hour its state holds.
    d.wait_for("a fetch at the new interval", lambda: feed_server.hits("/slow.rss") >= 2)
    assert d.stop() == 0


def test_a_longer_interval_on_reload_keeps_the_next_check(
    tmp_path: Path, feed_server: FeedServer, daemons: list[Daemon]
) -> None:
    feed_server.add("/quick.rss", rss("quick", [("q1", "one")]), etag=True)
    config = write_config(tmp_path, [source(feed_server, "quick", interval="2s")])
    d = start(daemons, config, "--tick", "0.1")
    d.wait_for("the first fetch", lambda: feed_server.hits("/quick.rss") >= 1)

    write_config(tmp_path, [source(feed_server, "quick", interval="1h")])
    d.signal(signal.SIGHUP)
    d.wait_log(RELOADED)
    # The check already due in two seconds is not pushed back to an hour from now.
    d.wait_for("the fetch due before the reload", lambda: feed_server.hits("/quick.rss") >= 2)
    assert d.stop() == 0


@pytest.mark.parametrize("where", ["source", "schedule"])
def test_an_interval_shortened_while_nothing_ran_applies_to_the_next_run_once(
    tmp_path: Path, feed_server: FeedServer, where: str
) -> None:
    feed_server.add("/slow.rss", rss("slow", [("s1", "one")]), etag=True)

    def configured(interval: str) -> Path:
        if where == "source":
            return write_config(tmp_path, [source(feed_server, "slow", interval=interval)])
        slow = {k: v for k, v in source(feed_server, "slow").items() if k != "interval"}
        return write_config(tmp_path, [slow], schedule={"interval": interval})

    config = configured("1h")
    run_cli(config, "run", "--once")
    assert feed_server.hits("/slow.rss") == 1
    run_cli(config, "run", "--once")
    assert feed_server.hits("/slow.rss") == 1  # due in an hour

    configured("1s")
    time.sleep(1.5)
    # Without the schedule kept beside the check, the hour drawn before would still hold.
    run_cli(config, "fetch")
    assert feed_server.hits("/slow.rss") == 2
    time.sleep(1.5)
    run_cli(config, "run", "--once")
    assert feed_server.hits("/slow.rss") == 3

    configured("1h")  # longer: the check drawn at 1s is not pushed back
    time.sleep(1.5)
    run_cli(config, "run", "--once")
    assert feed_server.hits("/slow.rss") == 4
    run_cli(config, "run", "--once")
    assert feed_server.hits("/slow.rss") == 4  # the hour now holds
