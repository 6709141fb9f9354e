"""Each attempt of each source is recorded (time, node, outcome, HTTP status, duration,
bytes, new and updated items), shown by `aggregator history`, and pruned past
`history.keep`: real feed server, real SQLite store, the real CLI."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import builders
import sqlalchemy as sa
from builders import site_section, timeouts
from clirunner import run_cli
from httpserver import FeedServer

from aggregator.store import open_store
from aggregator.types import Attempt

feed = builders.numbered_rss


def test_attempts_are_recorded_shown_and_pruned(tmp_path: Path) -> None:
    with FeedServer() as server:
        server.add("/a.rss", feed(2), etag=True)
        server.add("/gone.rss", status=404)
        config = builders.write_config(
            tmp_path,
            [
                {"name": "a", "url": server.url("/a.rss"), "category": "news"},
                {"name": "gone", "url": server.url("/gone.rss"), "category": "news"},
            ],
            site=site_section("t"),
            database="sqlite:///state.db",
            fetch=timeouts("2s", "2s", "5s") | {"allow_private": True},
            history={"keep": "7d"},
        )
        run_cli(config, "run", "--once")
        server.add("/a.rss", feed(3), etag=True)  # one more item: a new body
        run_cli(config, "run", "--once", "--all")
        run_cli(config, "run", "--once", "--all")  # the same body again: 304

        shown = json.loads(run_cli(config, "history", "a", "--json").stdout)
        assert [(r["outcome"], r["http_status"], r["new"]) for r in shown] == [
            ("new", 200, 2),
            ("new", 200, 1),
            ("not-modified", 304, 0),
        ]
        assert shown[0]["bytes"] == len(feed(2)) and shown[2]["bytes"] == 0
        assert all(r["seconds"] >= 0 and r["node"] is None for r in shown)
        times = [datetime.fromisoformat(r["at"]) for r in shown]
        assert times == sorted(times)
        errors = json.loads(run_cli(config, "history", "gone", "--json").stdout)
        assert [r["outcome"] for r in errors] == ["error"] * 3
        assert "404" in errors[0]["error"]
        table = run_cli(config, "history", "--limit", "4").stdout
        assert "6 attempts" not in table and "4 attempts" in table

        # Attempts older than history.keep go with the next round.
        url = f"sqlite:///{tmp_path / 'state.db'}"
        store = open_store(url)
        try:
            old = datetime.now(UTC) - timedelta(days=8)
            store.record_attempts(
                [Attempt(source="a", at=old, outcome="unchanged", seconds=0.1)] * 3
            )
            assert len(store.attempts(source="a")) == 6
        finally:
            store.close()
        run_cli(config, "run", "--once", "--all")
        engine = sa.create_engine(url)
        try:
            with engine.connect() as conn:
                ages = conn.execute(sa.text("SELECT min(at) FROM attempts")).scalar_one()
        finally:
            engine.dispose()
        assert datetime.fromisoformat(str(ages)).replace(tzinfo=UTC) > old + timedelta(days=1)


def test_history_of_an_unknown_source_and_before_any_round(tmp_path: Path) -> None:
    config = builders.write_config(
        tmp_path,
        [{"name": "a", "url": "http://127.0.0.1:9/a.rss", "category": "news"}],
        site=site_section("t"),
        database="sqlite:///state.db",
    )
    unknown = run_cli(config, "history", "b", check=False)
    assert unknown.returncode == 1 and "unknown source: b" in unknown.stderr
    before = run_cli(config, "history", "--json")
    assert json.loads(before.stdout) == [] and "no round has run yet" in before.stderr
    assert not (tmp_path / "state.db").exists()


def test_history_record_false_records_nothing_and_the_posts_still_come(tmp_path: Path) -> None:
    with FeedServer() as server:
        server.add("/a.rss", feed(2), etag=True)
        config = builders.write_config(
            tmp_path,
            [{"name": "a", "url": server.url("/a.rss"), "category": "news"}],
            site=site_section("t"),
            database="sqlite:///state.db",
            fetch=timeouts("2s", "2s", "5s") | {"allow_private": True},
            history={"record": False},
        )
        run_cli(config, "run", "--once")
        run_cli(config, "run", "--once", "--all")
        assert server.hits("/a.rss") == 2
        assert json.loads(run_cli(config, "history", "a", "--json").stdout) == []
        assert len(list((tmp_path / "out" / "_posts").glob("*.md"))) == 2
