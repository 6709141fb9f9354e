"""`aggregator status` and `/metrics` on a shared PostgreSQL store, end to end: two real
daemons on one database against loopback feeds, one of which answers slowly, so that its
lease is held while `status`, `status --nodes --json`, `status --json` and a real
`aggregator serve --metrics` look; then one node stopped by SIGTERM and one by SIGKILL.
"""

from __future__ import annotations

import json
import re
import socket
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import builders
import pytest
from builders import site_rss, site_section, timeouts
from clirunner import aggregator_command, run_cli
from httpserver import FeedServer
from pgdatabase import PG_MISSING, PG_URL, new_database
from test_daemon import START_TIMEOUT, Daemon

from aggregator.types import UTC

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.skipif(not PG_URL, reason=PG_MISSING),
    # One cluster of daemons at a time (pyproject.toml): their leases are seconds long.
    pytest.mark.xdist_group("cluster"),
]

LEASE = 12  # node.lease: a heartbeat every 4s, silent after 8s without one
# Seconds the slow feed takes to answer once it turns slow: time for four `status` calls
# and a server's start on a busy machine.
SLOW = 100.0
NODES = ("alpha-node", "beta-node")
FAST = ("a", "b", "c")


def write_node_config(folder: Path, node: str, server: FeedServer, database: str) -> Path:
    """One node's config: its own id, the same sources, database and output_dir as every
    other node's."""
    folder.mkdir()
    sources = [
        {"name": name, "url": server.url(f"/{name}.rss"), "category": "news", "interval": "1s"}
        for name in (*FAST, "slow")
    ]
    return builders.write_config(
        folder,
        sources,
        site=site_section(output_dir=str(folder.parent / "site"), language="en"),
        database=database,
        fetch=timeouts("2s", "150s", "180s"),
        node={"id": node, "lease": LEASE},
    )


def nodes_json(config: Path) -> dict[str, dict[str, Any]]:
    rows = json.loads(run_cli(config, "status", "--nodes", "--json").stdout)
    return {row["id"]: row for row in rows}


def metric_samples(body: str) -> dict[str, str]:
    return dict(
        line.rsplit(" ", 1) for line in body.splitlines() if line and not line.startswith("#")
    )


def get(url: str) -> str:
    import urllib.request

    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.status == 200
        return str(response.read().decode())


def wait_until(what: str, check: Any, daemons: list[Daemon], timeout: float) -> Any:
    """Poll `check()` until it returns something true (returned), failing with the daemons'
    logs if one exits or the time runs out."""
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got:
            return got
        for d in daemons:
            if d.proc.poll() is not None:
                raise AssertionError(f"daemon exited waiting for {what}:\n{d.log()}")
        if time.monotonic() > deadline:
            logs = "\n".join(d.log() for d in daemons)
            raise AssertionError(f"timed out waiting for {what}:\n{logs}")
        time.sleep(0.2)


@pytest.fixture
def database() -> Any:
    with new_database() as url:
        yield url


@pytest.fixture
def daemons() -> Any:
    started: list[Daemon] = []
    yield started
    for d in started:
        d.kill()


def test_status_and_metrics_show_each_node_and_the_lease_of_a_fetch_in_flight(
    tmp_path: Path, feed_server: FeedServer, database: str, daemons: list[Daemon]
) -> None:
    for name in (*FAST, "slow"):
        feed_server.add(f"/{name}.rss", site_rss(name, [(f"{name}1", f"{name} one")]), etag=True)
    configs = [write_node_config(tmp_path / n, n, feed_server, database) for n in NODES]
    for config in configs:
        daemons.append(Daemon(config, "--tick", "0.2", "--grace", "1"))
    alpha, beta = daemons
    first = configs[0]

    # Both nodes joined and finished rounds (one may have found nothing left to claim).
    wait_until(
        "two nodes with rounds",
        lambda: len(n := nodes_json(first)) == 2 and all(r["rounds"] >= 2 for r in n.values()),
        daemons,
        START_TIMEOUT,
    )
    # Now the slow feed answers slowly: whichever node claims it next holds its lease for
    # as long as the fetch lasts.
    feed_server.add("/slow.rss", site_rss("slow", [("s1", "slow one")]), delay=SLOW)
    swapped = time.monotonic()
    asked = wait_until(
        "a slow fetch",
        lambda: [r.time for r in feed_server.requests("/slow.rss") if r.time > swapped],
        daemons,
        START_TIMEOUT,
    )[0]
    holder = _lease_holder(first)
    assert holder in NODES
    pid = {NODES[0]: alpha.pid, NODES[1]: beta.pid}

    # status --json: the shape of every row as on SQLite, with the lease beside it.
    before = datetime.now(UTC)
    rows = {r["name"]: r for r in json.loads(run_cli(first, "status", "--json").stdout)}
    after = datetime.now(UTC)
    assert list(rows) == [*FAST, "slow"]
    slow = rows["slow"]
    assert slow["lease_node"] == holder
    until = datetime.fromisoformat(slow["lease_until"])
    # Renewed with every heartbeat: never more than a lease ahead, never run out while held.
    assert before < until <= after + timedelta(seconds=LEASE), (before, until, after)
    assert {"name", "url", "next_check", "failures", "lease_node", "lease_until"} <= set(slow)

    # status --nodes --json: both nodes, running, with figures that add up.
    nodes = nodes_json(first)
    assert sorted(nodes) == sorted(NODES)
    for node, row in nodes.items():
        assert row["state"] == "running", row
        assert row["pid"] == pid[node] and row["host"] == socket.gethostname()
        assert row["stopped"] is None
        assert 0 <= row["heartbeat_age"] < LEASE, row
        assert row["rounds"] >= 2 and row["errors"] == 0 and row["store_seconds"] > 0
        started, beat = (datetime.fromisoformat(row[k]) for k in ("started", "heartbeat"))
        assert started <= beat <= datetime.now(UTC)
    assert nodes[holder]["leases"] >= 1
    # Every source fetched at least once, by one node or the other (the slow one's first,
    # quick fetch included).
    assert sum(r["fetched"] for r in nodes.values()) >= len(FAST) + 1

    # The tables: the sources with their lease column, then the nodes.
    table = run_cli(first, "status").stdout
    assert re.search(r"\blease\b", table)
    slow_line = next(line for line in table.splitlines() if "│ slow " in line)
    assert f"{holder} until " in slow_line, table
    assert "2 nodes, times in UTC; silent: no heartbeat for over 8s" in table
    for node in NODES:
        line = next(line for line in table.splitlines() if line.startswith(f"│ {node} "))
        assert "running" in line and f" {pid[node]} " in line, table

    # /metrics from a real `aggregator serve --metrics`: the same nodes.
    serving = [*aggregator_command(), "--config", str(first), "serve", "--port", "0"]
    serve = Daemon(first, command=[*serving, "--metrics"])
    daemons.append(serve)
    serve.wait_log(r"serving .* on http://127\.0\.0\.1:\d+/")
    match = re.search(r"on (http://127\.0\.0\.1:\d+)/", serve.log())
    assert match
    metrics = match.group(1) + "/metrics"
    body = get(metrics)
    samples = metric_samples(body)
    for node in NODES:
        label = f'{{node="{node}"}}'
        assert samples[f"aggregator_node_up{label}"] == "1", body
        assert int(samples[f"aggregator_node_rounds_total{label}"]) >= 2
        assert samples[f"aggregator_node_errors_total{label}"] == "0"
        assert float(samples[f"aggregator_node_store_seconds_total{label}"]) > 0
        beat = float(samples[f"aggregator_node_heartbeat_timestamp_seconds{label}"])
        assert abs(beat - time.time()) < LEASE, body
    fetched = sum(int(samples[f'aggregator_node_fetched_total{{node="{n}"}}']) for n in NODES)
    assert fetched >= len(FAST) + 1
    assert int(samples[f'aggregator_node_leases{{node="{holder}"}}']) >= 1, body
    assert "# TYPE aggregator_node_rounds_total counter" in body
    assert "# TYPE aggregator_node_up gauge" in body

    # All of the above looked while the slow fetch was in flight (a machine too busy for
    # that fails here rather than passing on a lease already given back).
    assert time.monotonic() - asked < SLOW, "the slow fetch ended before the checks did"
    # SIGTERM: the node says it stopped and gives its leases back at once.
    stopped, other = (alpha, beta) if holder == NODES[0] else (beta, alpha)
    stopped_id = holder
    other_id = next(n for n in NODES if n != holder)
    assert stopped.stop() == 0, stopped.log()
    nodes = nodes_json(first)
    assert nodes[stopped_id]["state"] == "stopped" and nodes[stopped_id]["leases"] == 0
    assert nodes[stopped_id]["stopped"] is not None
    assert nodes[other_id]["state"] == "running"
    rows = {r["name"]: r for r in json.loads(run_cli(first, "status", "--json").stdout)}
    assert all(r["lease_node"] != stopped_id for r in rows.values()), rows
    samples = metric_samples(get(metrics))
    assert samples[f'aggregator_node_up{{node="{stopped_id}"}}'] == "0"
    assert samples[f'aggregator_node_leases{{node="{stopped_id}"}}'] == "0"
    assert samples[f'aggregator_node_up{{node="{other_id}"}}'] == "1"
    table = run_cli(first, "status").stdout
    line = next(line for line in table.splitlines() if line.startswith(f"│ {stopped_id} "))
    assert "stopped" in line and "│ 0 " in line, table

    # SIGKILL: nothing said, so the node goes silent once two heartbeats are missed, and
    # holds nothing once its leases ran out (a lease after its last heartbeat).
    wait_until(
        "the other node holding the slow source",
        lambda: _lease_holder(first) == other_id,
        [other],
        START_TIMEOUT,
    )
    other.kill()
    killed = time.monotonic()
    silent = wait_until(
        "the killed node silent",
        lambda: (row := nodes_json(first)[other_id])["state"] == "silent" and row,
        [],
        LEASE * 3,
    )
    assert silent["heartbeat_age"] > LEASE * 2 / 3  # two heartbeats missed, not one
    time.sleep(max(0.0, LEASE + 0.5 - (time.monotonic() - killed)))
    nodes = nodes_json(first)
    assert nodes[other_id]["state"] == "silent" and nodes[other_id]["leases"] == 0
    assert nodes[other_id]["stopped"] is None
    # Its lease of the slow source is still in the table, run out: nobody holds it.
    assert stored_lease(database, "slow") == other_id
    assert _lease_holder(first) is None
    samples = metric_samples(get(metrics))
    assert samples[f'aggregator_node_up{{node="{other_id}"}}'] == "0"
    assert samples[f'aggregator_node_leases{{node="{other_id}"}}'] == "0"
    for d in (alpha, beta, serve):
        assert "Traceback" not in d.log(), d.log()


def stored_lease(database: str, source: str) -> str | None:
    """The node the leases table names for `source`, run out or not."""
    import sqlalchemy as sa

    engine = sa.create_engine(database, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            query = sa.text("SELECT node FROM leases WHERE source = :source")
            return conn.execute(query, {"source": source}).scalar_one_or_none()
    finally:
        engine.dispose()


def _lease_holder(config: Path) -> str | None:
    rows = json.loads(run_cli(config, "status", "--json").stdout)
    (slow,) = (r for r in rows if r["name"] == "slow")
    return slow["lease_node"]  # type: ignore[no-any-return]
