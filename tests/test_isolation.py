"""One bad row fails its source, never the round: the real CLI and daemon in a subprocess,
feeds on 127.0.0.1, SQLite always and PostgreSQL when AGGREGATOR_TEST_POSTGRES_URL is set.

A feed or a server can put a NUL (or another control) in any field we store; PostgreSQL
refuses a NUL in text, and a database can refuse a row for its own reasons (a constraint,
a trigger). The other sources are still stored and published, every source fetched gets
a next check, and a store that cannot be written makes the daemon wait, not re-fetch.
"""

from __future__ import annotations

import functools
import json
import os
import re
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import builders
import pytest
import sqlalchemy as sa
from builders import Story, site_rss
from clirunner import aggregator_command, run_cli
from httpserver import FeedServer
from pgdatabase import PG_MISSING, emptied, new_database

pytestmark = pytest.mark.slow

PG_URL = os.environ.get("AGGREGATOR_TEST_POSTGRES_URL")
POSTGRES = pytest.param(
    "postgresql",
    id="postgresql",
    marks=[
        pytest.mark.postgres,
        pytest.mark.skipif(not PG_URL, reason=PG_MISSING),
    ],
)
BACKENDS = [pytest.param("sqlite", id="sqlite"), POSTGRES]
GOOD = ("good1", "good2")
# What no stored text may hold: C0 controls but tab, LF and CR; DEL.
UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


# --------------------------------------------------------------------- databases


def create_schema(config: Path) -> None:
    """The store of `config`, its schema made (`status` creates none): for a test to alter."""
    from aggregator.config import load_config
    from aggregator.store import open_store

    open_store(load_config(config).database).close()


@pytest.fixture(scope="module")
def pg_database() -> Iterator[str]:
    """A PostgreSQL database of this module's own, dropped at the end."""
    with new_database() as url:
        yield url


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database: a SQLite file in tmp_path, or the module's PostgreSQL one."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    return emptied(request.getfixturevalue("pg_database"))


@pytest.fixture
def pg_url(request: pytest.FixtureRequest) -> str:
    """The module's PostgreSQL database, emptied (for what only PostgreSQL does)."""
    if not PG_URL:
        pytest.skip(PG_MISSING)
    return emptied(request.getfixturevalue("pg_database"))


def execute(url: str, *statements: str) -> None:
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            for statement in statements:
                conn.exec_driver_sql(statement)
    finally:
        engine.dispose()


def stored_text(url: str) -> dict[str, dict[str, str]]:
    """Every text value of the sources and posts tables: table.row -> column -> value."""
    engine = sa.create_engine(url)
    found: dict[str, dict[str, str]] = {}
    try:
        with engine.connect() as conn:
            for table, key in (("sources", "name"), ("posts", "key")):
                for row in conn.execute(sa.text(f"SELECT * FROM {table}")).mappings():
                    found[f"{table}.{row[key]}"] = {
                        k: v for k, v in row.items() if isinstance(v, str)
                    }
    finally:
        engine.dispose()
    return found


# --------------------------------------------------------------------- feeds and config


def posts(name: str, count: int = 1) -> list[Story]:
    """`count` numbered stories of the site `name`, for `site_rss`."""
    return [
        Story(
            guid=f"{name}-{n}",
            title=f"Post {n} of {name}",
            html=f"<p>Body {n} of {name}</p>",
            link=f"http://example.org/{name}/{n}.html",
        )
        for n in range(count)
    ]


def atom(name: str, *, title: str, feed_id: str, link: str) -> bytes:
    return builders.atom(
        f"<entry><title>Post 0 of {name}</title><id>urn:{name}:0</id>"
        f'<link href="http://example.org/{name}/0.html"/>'
        "<updated>2021-12-26T08:00:00Z</updated>"
        f"<content type='html'>&lt;p&gt;Body 0 of {name}&lt;/p&gt;</content></entry>",
        title=title,
        feed_id=feed_id,
        head=f'<link rel="alternate" href="{link}"/><updated>2021-12-26T08:00:00Z</updated>'
        "<author><name>x</name></author>",
        prolog='<?xml version="1.0" encoding="utf-8"?>',
    )


def news_sources(server: FeedServer, names: list[str]) -> list[dict[str, str]]:
    """A source in category news, every 30 minutes, for each name: /NAME.xml on `server`."""
    return [
        {"name": n, "url": server.url(f"/{n}.xml"), "category": "news", "interval": "30m"}
        for n in names
    ]


# This file's config: the database is each test's, sources are `news_sources`.
write_config = functools.partial(
    builders.write_config,
    site=builders.site_section(language="en"),
    fetch=builders.timeouts("2s", "5s", "10s"),
)


def serve_good(server: FeedServer) -> None:
    for name in GOOD:
        server.add(f"/{name}.xml", site_rss(name, posts(name)))


def status(config: Path) -> dict[str, dict[str, object]]:
    rows = json.loads(run_cli(config, "status", "--json").stdout)
    return {row["name"]: row for row in rows}


def published_links(out: Path) -> set[str]:
    return {
        m.group(1)
        for p in (out / "_posts").glob("*.md")
        for m in [re.search(r"^<(http[^>]+)>$", p.read_text(encoding="utf-8"), re.M)]
        if m
    }


def assert_next_check_ahead(row: dict[str, object]) -> None:
    assert row["last_fetched"] is not None, row
    next_check = row["next_check"]
    assert isinstance(next_check, str), row
    assert datetime.fromisoformat(next_check) > datetime.now(UTC), row


# =========================================================================== run --once


# Each way a NUL or another control reaches a field we store.
BAD_FEEDS = [
    pytest.param(
        {
            "body": site_rss(
                "bad", posts("bad"), title="Bad\x00title", link="http://example.org/b\x00ad/"
            )
        },
        id="raw-nul-in-channel-title-and-link",
    ),
    pytest.param(
        {
            "body": site_rss(
                "bad", posts("bad"), title="Bad&#0;title", link="http://example.org/b&#x0;ad/"
            )
        },
        id="nul-character-reference",
    ),
    pytest.param(
        {
            "body": atom(
                "bad",
                title="Bad&#x0;title&#x1b;[31m",
                feed_id="urn:bad:&#0;feed",
                link="http://example.org/b&#0;ad/",
            )
        },
        id="atom-title-id-and-link",
    ),
    pytest.param(
        {
            "body": site_rss("bad", posts("bad")),
            "etag": '"a\x01b"',
            "last_modified": "Sun, 26 Dec 2021 08:00:00 \x1fGMT",
        },
        id="controls-in-etag-and-last-modified",
    ),
]


@pytest.mark.parametrize("bad", BAD_FEEDS)
def test_a_control_in_one_feed_leaves_the_round_whole(
    tmp_path: Path, feed_server: FeedServer, db_url: str, bad: dict[str, str | bytes]
) -> None:
    serve_good(feed_server)
    body = bad["body"]
    assert isinstance(body, bytes)
    etag, last_modified = bad.get("etag"), bad.get("last_modified")
    feed_server.add(
        "/bad.xml",
        body,
        etag=etag if isinstance(etag, str) else False,
        last_modified=last_modified if isinstance(last_modified, str) else None,
    )
    config = write_config(tmp_path, news_sources(feed_server, ["bad", *GOOD]), database=db_url)

    proc = run_cli(config, "run", "--once", check=False)

    assert proc.returncode == 0, proc.stderr
    links = published_links(tmp_path / "out")
    for name in GOOD:
        assert f"http://example.org/{name}/0.html" in links
    states = status(config)
    for name in ("bad", *GOOD):
        assert_next_check_ahead(states[name])
    for where, values in stored_text(db_url).items():
        for column, value in values.items():
            assert not UNSAFE.search(value), f"{where}.{column} = {value!r}"
    # Nothing was refused: the bad feed's fields were cleaned, and it is not an error.
    assert states["bad"]["failures"] == 0, states["bad"]


def test_a_state_the_database_refuses_fails_only_its_source(
    tmp_path: Path, feed_server: FeedServer, pg_url: str
) -> None:
    # Any refusal of a row's data, not only a NUL: a constraint the bad feed's title breaks.
    serve_good(feed_server)
    feed_server.add("/bad.xml", site_rss("bad", posts("bad"), title="Refused title"))
    config = write_config(tmp_path, news_sources(feed_server, ["bad", *GOOD]), database=pg_url)
    create_schema(config)
    execute(
        pg_url,
        "ALTER TABLE sources ADD CONSTRAINT no_refused "
        "CHECK (feed_title IS DISTINCT FROM 'Refused title')",
    )

    proc = run_cli(config, "run", "--once", check=False)

    assert proc.returncode == 0, proc.stderr
    assert "1 errors" in proc.stderr
    links = published_links(tmp_path / "out")
    for name in GOOD:
        assert f"http://example.org/{name}/0.html" in links
    states = status(config)
    for name in ("bad", *GOOD):
        assert_next_check_ahead(states[name])
    assert states["bad"]["failures"] == 1
    assert "refused" in str(states["bad"]["last_error"]), states["bad"]
    assert "no_refused" in str(states["bad"]["last_error"]), states["bad"]
    for name in GOOD:
        assert states[name]["failures"] == 0 and states[name]["last_status"] == 200


def test_a_post_the_database_refuses_fails_only_its_source(
    tmp_path: Path, feed_server: FeedServer, pg_url: str
) -> None:
    serve_good(feed_server)
    feed_server.add("/bad.xml", site_rss("bad", posts("bad", 3)))
    config = write_config(tmp_path, news_sources(feed_server, ["bad", *GOOD]), database=pg_url)
    create_schema(config)
    execute(
        pg_url,
        "ALTER TABLE posts ADD CONSTRAINT no_refused CHECK (title <> 'Post 1 of bad')",
    )

    proc = run_cli(config, "run", "--once", check=False)

    assert proc.returncode == 0, proc.stderr
    links = published_links(tmp_path / "out")
    for name in GOOD:
        assert f"http://example.org/{name}/0.html" in links
    # The bad source's other posts are kept too.
    assert {"http://example.org/bad/0.html", "http://example.org/bad/2.html"} <= links
    assert "http://example.org/bad/1.html" not in links
    states = status(config)
    for name in ("bad", *GOOD):
        assert_next_check_ahead(states[name])
    assert states["bad"]["failures"] == 1
    assert "no_refused" in str(states["bad"]["last_error"]), states["bad"]


def test_a_round_the_store_fails_still_records_the_next_checks(
    tmp_path: Path, feed_server: FeedServer, pg_url: str
) -> None:
    # The database fails (not for a row's data) while storing one source's posts.
    serve_good(feed_server)
    feed_server.add("/bad.xml", site_rss("bad", posts("bad")))
    config = write_config(tmp_path, news_sources(feed_server, ["bad", *GOOD]), database=pg_url)
    create_schema(config)
    execute(
        pg_url,
        "CREATE FUNCTION fail_bad() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "IF NEW.source = 'bad' THEN "
        "RAISE EXCEPTION 'out of resources' USING ERRCODE = '53000'; END IF; "
        "RETURN NEW; END $$",
        "CREATE TRIGGER fail_bad BEFORE INSERT ON posts FOR EACH ROW EXECUTE FUNCTION fail_bad()",
    )

    proc = run_cli(config, "run", "--once", check=False)

    assert proc.returncode == 3, proc.stderr  # the store failed: the round did not complete
    assert "out of resources" in proc.stderr
    states = status(config)
    fetched = [n for n in ("bad", *GOOD) if feed_server.hits(f"/{n}.xml")]
    assert "bad" in fetched
    for name in fetched:
        assert_next_check_ahead(states[name])
    assert "out of resources" in str(states["bad"]["last_error"])


# =========================================================================== the daemon


def daemon_requests(config: Path, server: FeedServer, names: list[str], seconds: float) -> str:
    """Run `aggregator run` until every source was fetched, then `seconds` more; its log."""
    log_path = config.parent / "daemon.log"
    env = {k: v for k, v in os.environ.items() if k != "AGGREGATOR_CONFIG"}
    with open(log_path, "wb") as out:
        proc = subprocess.Popen(
            [*aggregator_command(), "--config", str(config), "run"],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=config.parent,
            env=env,
        )
    try:
        deadline = time.monotonic() + 30
        while not all(server.hits(f"/{n}.xml") for n in names):
            assert proc.poll() is None, log_path.read_text(errors="replace")
            assert time.monotonic() < deadline, log_path.read_text(errors="replace")
            time.sleep(0.05)
        time.sleep(seconds)
        assert proc.poll() is None, log_path.read_text(errors="replace")
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return log_path.read_text(errors="replace")


def test_daemon_fetches_a_feed_with_a_nul_once_per_interval(
    tmp_path: Path, feed_server: FeedServer, pg_url: str
) -> None:
    serve_good(feed_server)
    feed_server.add("/bad.xml", site_rss("bad", posts("bad"), title="Bad\x00title"))
    names = ["bad", *GOOD]
    config = write_config(tmp_path, news_sources(feed_server, names), database=pg_url)

    log = daemon_requests(config, feed_server, names, seconds=5)

    hits = {n: feed_server.hits(f"/{n}.xml") for n in names}
    assert all(1 <= h <= 2 for h in hits.values()), (hits, log)
    assert "round failed" not in log


def _refuse_source_writes(url: str) -> None:
    """Every write of a source state fails, as a database out of resources would."""
    if url.startswith("sqlite"):
        execute(
            url,
            "CREATE TRIGGER refuse_insert BEFORE INSERT ON sources "
            "BEGIN SELECT RAISE(ABORT, 'out of resources'); END",
            "CREATE TRIGGER refuse_update BEFORE UPDATE ON sources "
            "BEGIN SELECT RAISE(ABORT, 'out of resources'); END",
        )
        return
    execute(
        url,
        "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "RAISE EXCEPTION 'out of resources' USING ERRCODE = '53000'; END $$",
        "CREATE TRIGGER refuse BEFORE INSERT OR UPDATE ON sources "
        "FOR EACH ROW EXECUTE FUNCTION refuse()",
    )


def test_daemon_backs_off_when_no_state_can_be_saved(
    tmp_path: Path, feed_server: FeedServer, db_url: str
) -> None:
    serve_good(feed_server)
    names = list(GOOD)
    config = write_config(tmp_path, news_sources(feed_server, names), database=db_url)
    create_schema(config)
    _refuse_source_writes(db_url)

    log = daemon_requests(config, feed_server, names, seconds=5)

    hits = {n: feed_server.hits(f"/{n}.xml") for n in names}
    assert all(1 <= h <= 2 for h in hits.values()), (hits, log)
    assert "out of resources" in log
