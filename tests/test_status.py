"""status.py as tables: which source is stale, the metrics text, the status rows, from
source states built by hand and a config loaded from a real file (no store, no clock)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from aggregator.config import load_config
from aggregator.status import Health, metrics_text, source_health, stale_source, status_rows
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
