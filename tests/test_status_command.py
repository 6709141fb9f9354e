"""`aggregator status` through the real CLI: the table's URL column and its times in the
site's zone, and a status before any round that creates no database (SQLite, PostgreSQL)."""

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
        engine = sa.create_engine(url)
        try:
            assert sa.inspect(engine).get_table_names() == []
        finally:
            engine.dispose()
