"""Source health as data: one row per configured source from the store's reads, and what
`aggregator status`, serve's /healthz and /metrics make of it (status rows, staleness,
the Prometheus text). The one definition of how a source is doing.

Pure but for `read_health`, which only reads the store (as its Metrics Protocol); time is
a parameter. Must NOT write to the store, print, log or answer HTTP.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aggregator.store.api import Metrics
from aggregator.types import Config, Source, SourceState

__all__ = [
    "Health",
    "SourceHealth",
    "metrics_text",
    "read_health",
    "source_health",
    "stale_source",
    "status_rows",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceHealth:
    """How one configured source is doing."""

    source: Source
    stored: SourceState | None  # as the store holds it; None: never attempted
    state: SourceState  # what the next attempt works from (a changed config URL: afresh)
    posts: int  # posts stored from it (0 where the counts were not read)
    origin: str  # where the source is declared: the file a config change goes to


@dataclass(frozen=True, slots=True, kw_only=True)
class Health:
    """Every configured source's health, and the store's figures beside them."""

    sources: tuple[SourceHealth, ...]
    last_checked: datetime | None  # the newest last fetch of any stored source
    published: int  # posts published at least once
    pending: int  # posts new or changed since last published


def source_health(
    config: Config, states: Iterable[SourceState], post_counts: Mapping[str, int]
) -> tuple[SourceHealth, ...]:
    """One SourceHealth per configured source, in config order, from the stored `states`."""
    # Imported here: the update stage loads the HTTP client, which `status` never needs.
    from aggregator.update.decide import current_state

    by_name = {s.name: s for s in states}
    return tuple(
        SourceHealth(
            source=source,
            stored=by_name.get(source.name),
            state=current_state(source, by_name.get(source.name)),
            posts=post_counts.get(source.name, 0),
            origin=source.origin or config.path.name,
        )
        for source in config.sources
    )


def read_health(config: Config, store: Metrics) -> Health:
    """The health of `config`'s sources as `store` has it.

    Raises:
        StoreError: the store cannot be read.
    """
    states = store.states()
    published, pending = store.publish_counts()
    checked = [s.last_fetched for s in states if s.last_fetched is not None]
    return Health(
        sources=source_health(config, states, store.post_counts()),
        last_checked=max(checked) if checked else None,
        published=published,
        pending=pending,
    )


# ------------------------------------------------------------------ status


def status_rows(sources: Iterable[SourceHealth]) -> list[dict[str, Any]]:
    """The rows `aggregator status` prints (`--json`: as they are), one per source."""
    return [_status_row(h) for h in sources]


def _status_row(h: SourceHealth) -> dict[str, Any]:
    source, st = h.source, h.state
    moved = st.url != source.url
    return {
        "name": source.name,
        "category": source.category,
        "url": st.url,
        "config_url": source.url,
        "moved": moved,
        # Where the source moved from, and the config line to change to make it stick.
        "original_url": source.url if moved else None,
        "config_change": f"{h.origin}: url: {st.url}" if moved else None,
        # A permanent redirect seen on fewer fetches than fetch.redirect_threshold.
        "redirect_pending": st.redirect_target,
        "redirect_seen": st.redirect_count,
        "last_fetched": _iso(st.last_fetched),
        "last_success": _iso(st.last_success),
        "last_status": st.last_status,
        "posts": h.posts,
        # Items past max_items in the last parsed body: dropped, never stored.
        "dropped": st.dropped_items,
        "failures": st.failures,
        "last_error": st.last_error,
        "next_check": _iso(st.next_check),
        "disabled": st.disabled,
    }


def _iso(when: datetime | None) -> str | None:
    return when.isoformat(timespec="seconds") if when else None


# --------------------------------------------------------------- staleness


def stale_source(
    sources: Iterable[SourceHealth], *, now: datetime, stale_after: timedelta
) -> str | None:
    """Why the site is stale: the enabled source most overdue by more than `stale_after`
    (no daemon is taking due sources); None when none is."""
    worst: tuple[timedelta, str] | None = None
    for h in sources:
        state = h.stored
        if state is None or state.disabled or state.next_check is None:
            continue
        late = now - state.next_check
        if late > stale_after and (worst is None or late > worst[0]):
            worst = (late, h.source.name)
    if worst is None:
        return None
    return f"stale: source {worst[1]!r} overdue by {int(worst[0].total_seconds())}s"


# ----------------------------------------------------------------- metrics


def metrics_text(health: Health) -> str:
    """The figures in the Prometheus text exposition format (0.0.4)."""
    lines: list[str] = []

    def metric(name: str, help_text: str, samples: Iterable[tuple[str, float]]) -> None:
        lines.append(f"# HELP {name} {help_text}")
        lines.append(f"# TYPE {name} gauge")
        # repr keeps every digit of a Unix time; integers stay integers.
        lines.extend(
            f"{name}{labels} {value if isinstance(value, int) else repr(float(value))}"
            for labels, value in samples
        )

    last = health.last_checked.timestamp() if health.last_checked else 0
    metric(
        "aggregator_last_round_timestamp_seconds",
        "When a source was last checked (Unix time); 0 before the first round.",
        [("", last)],
    )
    metric("aggregator_posts_published", "Posts published at least once.", [("", health.published)])
    metric(
        "aggregator_posts_pending",
        "Posts stored but not yet published in their latest version.",
        [("", health.pending)],
    )
    labelled = [(f'{{source="{_label(h.source.name)}"}}', h.stored, h) for h in health.sources]
    metric(
        "aggregator_source_failures",
        "Consecutive failed fetches of a source.",
        [(label, st.failures if st else 0) for label, st, _ in labelled],
    )
    metric(
        "aggregator_source_disabled",
        "1 when a source is disabled (410 Gone).",
        [(label, 1 if st and st.disabled else 0) for label, st, _ in labelled],
    )
    metric(
        "aggregator_source_posts",
        "Posts stored from a source.",
        [(label, h.posts) for label, _, h in labelled],
    )
    metric(
        "aggregator_source_last_success_timestamp_seconds",
        "When a source was last fetched successfully (Unix time).",
        [
            (label, st.last_success.timestamp())
            for label, st, _ in labelled
            if st and st.last_success
        ],
    )
    metric(
        "aggregator_source_next_check_timestamp_seconds",
        "When a source is due next (Unix time).",
        [(label, st.next_check.timestamp()) for label, st, _ in labelled if st and st.next_check],
    )
    return "\n".join(lines) + "\n"


def _label(value: str) -> str:
    # Exposition format: backslash, double quote and line feed are escaped in label values.
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
