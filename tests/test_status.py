"""status.py as tables: which source is stale, the metrics text, the status rows, each
node's state and leases, from source states and node records built by hand and a config
loaded from a real file (no store, no clock)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from aggregator.cluster import Lease, NodeRecord
from aggregator.config import load_config
from aggregator.status import (
    Health,
    held_leases,
    metrics_text,
    node_health,
    node_rows,
    recent_nodes,
    source_health,
    stale_source,
    status_rows,
)
from aggregator.types import Config, SourceState

NOW = datetime(2026, 1, 2, 12, 0, tzinfo=UTC)
URL = "http://127.0.0.1:9/{}.rss"


@pytest.fixture
def config(tmp_path: Path) -> Config:
    path = tmp_path / "config.yaml"
    path.write_text(
        "site:\n  title: T\n  base_url: https://news.example.org/\n  output_dir: out\n"
        "database: sqlite:///test.db\ncategories:\n  news:\n    title: News\nsources:\n"
        + "".join(f"  - name: {n}\n    url: {URL.format(n)}\n    category: news\n" for n in "abc"),
        encoding="utf-8",
    )
    return load_config(path)


def state(name: str, **fields: object) -> SourceState:
    given: dict[str, object] = {"url": URL.format(name), "config_url": URL.format(name)}
    return SourceState(name=name, **{**given, **fields})  # type: ignore[arg-type]


LATE = NOW - timedelta(hours=2)


@pytest.mark.parametrize(
    ("states", "expected"),
    [
        pytest.param([], None, id="never-attempted"),
        pytest.param([state("a", next_check=NOW + timedelta(minutes=5))], None, id="not-due"),
        pytest.param([state("a", next_check=NOW - timedelta(minutes=9))], None, id="within"),
        pytest.param(
            [state("a", next_check=LATE)], "stale: source 'a' overdue by 7200s", id="overdue"
        ),
        pytest.param([state("a", next_check=LATE, disabled="410 Gone")], None, id="disabled"),
        pytest.param(
            [state("a", next_check=NOW - timedelta(hours=1)), state("b", next_check=LATE)],
            "stale: source 'b' overdue by 7200s",
            id="the-worst-one",
        ),
        pytest.param([state("gone", next_check=LATE)], None, id="not-in-the-config"),
    ],
)
def test_stale_source(config: Config, states: list[SourceState], expected: str | None) -> None:
    health = source_health(config, states, {})
    assert stale_source(health, now=NOW, stale_after=timedelta(minutes=10)) == expected


def test_metrics_text(config: Config) -> None:
    states = [
        state("a", last_fetched=NOW, last_success=NOW, next_check=NOW + timedelta(hours=1)),
        state("b", failures=3, disabled="410 Gone", last_fetched=NOW - timedelta(hours=1)),
    ]
    health = Health(
        sources=source_health(config, states, {"a": 7}),
        last_checked=NOW,
        published=5,
        pending=2,
    )
    text = metrics_text(health)
    ts = NOW.timestamp()
    assert f"aggregator_last_round_timestamp_seconds {ts!r}\n" in text
    assert "aggregator_posts_published 5\naggregator_posts_pending" not in text  # HELP between
    assert "\naggregator_posts_published 5\n" in text and "\naggregator_posts_pending 2\n" in text
    for line in (
        'aggregator_source_failures{source="b"} 3',
        'aggregator_source_failures{source="c"} 0',
        'aggregator_source_disabled{source="b"} 1',
        'aggregator_source_posts{source="a"} 7',
        'aggregator_source_posts{source="c"} 0',
        f'aggregator_source_last_success_timestamp_seconds{{source="a"}} {ts!r}',
        f'aggregator_source_next_check_timestamp_seconds{{source="a"}} {ts + 3600!r}',
    ):
        assert f"\n{line}\n" in text, line
    assert 'last_success_timestamp_seconds{source="b"}' not in text  # never succeeded
    assert text.count("# TYPE ") == 8 and text.endswith("\n")


def test_metrics_before_the_first_round(config: Config) -> None:
    health = Health(
        sources=source_health(config, [], {}), last_checked=None, published=0, pending=0
    )
    assert "\naggregator_last_round_timestamp_seconds 0\n" in metrics_text(health)


def test_status_rows_say_where_a_moved_source_is_configured(config: Config) -> None:
    moved = state("a", url="https://new.example.org/a.rss", dropped_items=2)
    rows = status_rows(source_health(config, [moved], {"a": 1}))
    assert [r["name"] for r in rows] == ["a", "b", "c"]
    assert rows[0]["moved"] and rows[0]["original_url"] == URL.format("a")
    assert rows[0]["config_change"] == "config.yaml: sources[0]: url: https://new.example.org/a.rss"
    assert (rows[0]["posts"], rows[0]["dropped"]) == (1, 2)
    assert not rows[1]["moved"] and rows[1]["config_change"] is None and rows[1]["posts"] == 0


# ------------------------------------------------------------------- nodes

LEASE = 60.0  # node.lease: a heartbeat every 20s, silent after 40s without one


def node(id: str, *, beat_ago: float, stopped: bool = False, **figures: int) -> NodeRecord:
    beat = NOW - timedelta(seconds=beat_ago)
    return NodeRecord(
        id=id,
        host="h",
        pid=1,
        started=NOW - timedelta(hours=2),
        heartbeat=beat,
        stopped=beat if stopped else None,
        **figures,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("record", "state"),
    [
        pytest.param(node("n", beat_ago=0), "running", id="just-beat"),
        pytest.param(node("n", beat_ago=39), "running", id="one-beat-late"),
        pytest.param(node("n", beat_ago=40), "running", id="two-periods-exactly"),
        pytest.param(node("n", beat_ago=41), "silent", id="two-beats-missed"),
        pytest.param(node("n", beat_ago=-5), "running", id="clock-ahead"),
        pytest.param(node("n", beat_ago=1, stopped=True), "stopped", id="stopped"),
        pytest.param(node("n", beat_ago=3600, stopped=True), "stopped", id="stopped-long-ago"),
    ],
)
def test_node_state(record: NodeRecord, state: str) -> None:
    (health,) = node_health([record], {}, now=NOW, lease=LEASE)
    assert health.state == state
    assert health.age >= timedelta(0)


def test_a_node_holds_only_the_leases_not_run_out() -> None:
    stored = {
        "a": Lease(node="n1", until=NOW + timedelta(seconds=30)),
        "b": Lease(node="n1", until=NOW),  # ran out just now: the claim takes it as free
        "c": Lease(node="dead", until=NOW - timedelta(minutes=5)),
        "d": Lease(node="n2", until=NOW + timedelta(seconds=1)),
    }
    held = held_leases(stored, now=NOW)
    assert sorted(held) == ["a", "d"]
    records = [node(n, beat_ago=b) for n, b in (("dead", 400), ("n1", 1), ("n2", 1), ("n3", 1))]
    counts = {h.record.id: h.leases for h in node_health(records, held, now=NOW, lease=LEASE)}
    assert counts == {"dead": 0, "n1": 1, "n2": 1, "n3": 0}


def test_recent_nodes_leave_out_those_gone_for_over_an_hour() -> None:
    records = [
        node("running", beat_ago=5),
        node("stopped-now", beat_ago=60, stopped=True),
        node("stopped-long-ago", beat_ago=3601, stopped=True),
        node("silent-now", beat_ago=120),
        node("silent-long-ago", beat_ago=3601),
    ]
    recent = recent_nodes(node_health(records, {}, now=NOW, lease=LEASE))
    assert [h.record.id for h in recent] == ["running", "stopped-now", "silent-now"]


def test_node_rows() -> None:
    record = node("web-1", beat_ago=2.5, rounds=3, fetched=40, errors=2)
    (row,) = node_rows(node_health([record], {}, now=NOW, lease=LEASE))
    assert row == {
        "id": "web-1",
        "host": "h",
        "pid": 1,
        "started": "2026-01-02T10:00:00+00:00",
        "heartbeat": "2026-01-02T11:59:57+00:00",  # to the second, as every time there
        "heartbeat_age": 2.5,
        "stopped": None,
        "state": "running",
        "leases": 0,
        "rounds": 3,
        "fetched": 40,
        "errors": 2,
        "store_seconds": 0.0,
    }


def test_status_rows_carry_the_lease_held(config: Config) -> None:
    leases = {"b": Lease(node="web-2", until=NOW + timedelta(seconds=30))}
    rows = status_rows(source_health(config, [state("a")], {}, leases))
    assert [(r["lease_node"], r["lease_until"]) for r in rows] == [
        (None, None),
        ("web-2", "2026-01-02T12:00:30+00:00"),
        (None, None),
    ]


def test_metrics_text_per_node(config: Config) -> None:
    records = [
        NodeRecord(
            id='we"b\\1\n',  # node.id allows none of these; the label escapes them anyway
            host="h",
            pid=1,
            started=NOW,
            heartbeat=NOW,
            rounds=4,
            fetched=9,
            errors=1,
            store_seconds=1.25,
        ),
        node("gone", beat_ago=600),
    ]
    held = {"a": Lease(node='we"b\\1\n', until=NOW + timedelta(seconds=9))}
    health = Health(
        sources=source_health(config, [], {}),
        last_checked=None,
        published=0,
        pending=0,
        shared=True,
        nodes=node_health(records, held, now=NOW, lease=LEASE),
    )
    text = metrics_text(health)
    web = 'node="we\\"b\\\\1\\n"'
    for line in (
        f"aggregator_node_up{{{web}}} 1",
        'aggregator_node_up{node="gone"} 0',
        f"aggregator_node_heartbeat_timestamp_seconds{{{web}}} {NOW.timestamp()!r}",
        f"aggregator_node_leases{{{web}}} 1",
        'aggregator_node_leases{node="gone"} 0',
        f"aggregator_node_rounds_total{{{web}}} 4",
        f"aggregator_node_fetched_total{{{web}}} 9",
        f"aggregator_node_errors_total{{{web}}} 1",
        f"aggregator_node_store_seconds_total{{{web}}} 1.25",
        "# TYPE aggregator_node_rounds_total counter",
        "# TYPE aggregator_node_store_seconds_total counter",
        "# TYPE aggregator_node_leases gauge",
    ):
        assert f"\n{line}\n" in text, line
    assert text.count("# TYPE ") == 8 + 7


def test_metrics_text_has_no_node_series_on_a_store_of_one_process(config: Config) -> None:
    health = Health(
        sources=source_health(config, [], {}), last_checked=None, published=0, pending=0
    )
    assert "aggregator_node_" not in metrics_text(health)
