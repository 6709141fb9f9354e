"""`aggregator status` through the real CLI: the table's URL column and its times in the
site's zone, a SQLite store's table without leases or nodes, and a status before any round
that creates no database (SQLite, PostgreSQL). Nodes on PostgreSQL: test_status_nodes.py."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from builders import site_rss, site_section, write_config
from clirunner import run_cli
from httpserver import FeedServer
from pgdatabase import PG_URL, new_database

pytestmark = pytest.mark.slow

SITE = site_section(timezone="Asia/Kolkata", language="en")  # +05:30: no whole hour


def test_the_table_shows_urls_and_times_in_the_sites_zone(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    feed_server.add("/a.rss", site_rss("a", [("a1", "One", "<p>x</p>")]))
    url = feed_server.url("/a.rss")
    config = write_config(tmp_path, [{"name": "a", "url": url, "category": "news"}], site=SITE)
    run_cli(config, "run", "--once")
    (row,) = json.loads(run_cli(config, "status", "--json").stdout)
    assert row["url"] == url

    table = run_cli(config, "status").stdout
    assert "1 sources, times in Asia/Kolkata" in table
    assert url in table
    local = datetime.fromisoformat(row["last_fetched"]).astimezone(ZoneInfo("Asia/Kolkata"))
    assert local.strftime("%Y-%m-%d %H:%M") in table
    utc = datetime.fromisoformat(row["last_fetched"]).strftime("%Y-%m-%d %H:%M")
    assert utc not in table  # never the stored UTC time unlabelled


def test_a_sqlite_store_has_no_lease_column_and_no_nodes(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    feed_server.add("/a.rss", site_rss("a", [("a1", "One", "<p>x</p>")]))
    config = write_config(
        tmp_path, [{"name": "a", "url": feed_server.url("/a.rss"), "category": "news"}]
    )
    run_cli(config, "run", "--once")
    table = run_cli(config, "status").stdout
    (header,) = (line for line in table.splitlines() if line.startswith("┃"))
    columns = [c.strip() for c in header.strip("┃").split("┃")]
    assert columns == [
        "source",
        "URL",
        "last fetched",
        "last success",
        "HTTP",
        "posts",
        "fails",
        "next due",
        "error",
    ]
    assert "nodes" not in table
    # --json: the same fields on every store; nobody holds a lease here.
    (row,) = json.loads(run_cli(config, "status", "--json").stdout)
    assert (row["lease_node"], row["lease_until"]) == (None, None)
    assert json.loads(run_cli(config, "status", "--nodes", "--json").stdout) == []
    proc = run_cli(config, "status", "--nodes")
    assert proc.stdout == ""
    assert proc.stderr == (
        "aggregator: no nodes: a SQLite store has one process at a time; several nodes"
        " need PostgreSQL\n"
    )


def test_status_before_any_round_creates_no_sqlite_database(tmp_path: Path) -> None:
    config = write_config(
        tmp_path, [{"name": "a", "url": "http://127.0.0.1:9/a.rss", "category": "news"}]
    )
    proc = run_cli(config, "status")
    assert re.search(r"no round has run yet \(no database at .*test\.db\)", proc.stderr)
    assert "Traceback" not in proc.stderr
    assert "never" in proc.stdout
    (row,) = json.loads(run_cli(config, "status", "--json").stdout)
    assert row["name"] == "a" and row["last_fetched"] is None and row["failures"] == 0
    assert not (tmp_path / "test.db").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.yaml"]


@pytest.mark.skipif(PG_URL is None, reason="AGGREGATOR_TEST_POSTGRES_URL not set")
def test_status_before_any_round_creates_no_postgresql_schema(tmp_path: Path) -> None:
    import sqlalchemy as sa

    with new_database() as url:
        sources = [{"name": "a", "url": "http://127.0.0.1:9/a.rss", "category": "news"}]
        config = write_config(tmp_path, sources, database=url)
        proc = run_cli(config, "status")
        assert "no round has run yet" in proc.stderr
        # A shared store to be: the lease column, empty, and no node yet.
        assert re.search(r"┃ next due\s+┃ lease\s+┃ error", proc.stdout), proc.stdout
        assert "0 nodes, times in UTC" in proc.stdout
        assert json.loads(run_cli(config, "status", "--nodes", "--json").stdout) == []
        engine = sa.create_engine(url)
        try:
            assert sa.inspect(engine).get_table_names() == []
        finally:
            engine.dispose()
