"""Source health as data: one row per configured source from the store's reads, and what
`aggregator status`, serve's /healthz and /metrics make of it (status rows, staleness,
the Prometheus text). The one definition of how a source is doing, and, on a shared
(PostgreSQL) store, of how each node is: running, stopped or silent.

Pure but for `read_health`, which only reads the store (as its Metrics Protocol); time is
a parameter. Must NOT write to the store, print, log or answer HTTP.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from aggregator.cluster import Lease, NodeRecord
from aggregator.store.api import Metrics
from aggregator.types import Config, Source, SourceState

__all__ = [
    "GONE_AFTER",
    "Health",
    "NodeHealth",
    "SourceHealth",
    "held_leases",
    "metrics_text",
    "node_health",
    "node_rows",
    "read_health",
    "recent_nodes",
    "silent_after",
    "source_health",
    "stale_source",
    "status_rows",
]

# A node stopped, or silent, for longer than this is left out of `status`'s node table
# and of /metrics (`status --nodes` lists every node): each process is a node of its own
# id, so a `run --once` from cron adds one every time, kept for a day (update/node.py).
GONE_AFTER: Final = timedelta(hours=1)


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceHealth:
    """How one configured source is doing."""

    source: Source
    stored: SourceState | None  # as the store holds it; None: never attempted
    state: SourceState  # what the next attempt works from (a changed config URL: afresh)
    posts: int  # posts stored from it (0 where the counts were not read)
    origin: str  # where the source is declared: the file a config change goes to
    lease: Lease | None = None  # the node fetching it now (a shared store), until when


@dataclass(frozen=True, slots=True, kw_only=True)
class NodeHealth:
    """How one node of a shared store is doing, as seen at one moment."""

    record: NodeRecord
    state: str  # "running", "stopped" (it said so) or "silent" (no heartbeat for too long)
    age: timedelta  # since its last heartbeat (never negative: clocks may differ a little)
    leases: int  # sources it holds now: leases it took that have not run out


@dataclass(frozen=True, slots=True, kw_only=True)
class Health:
    """Every configured source's health, and the store's figures beside them."""

    sources: tuple[SourceHealth, ...]
    last_checked: datetime | None  # the newest last fetch of any stored source
    published: int  # posts published at least once
    pending: int  # posts new or changed since last published
    shared: bool = False  # several nodes may work on the store (PostgreSQL)
    nodes: tuple[NodeHealth, ...] = ()  # on a shared store, those recent_nodes keeps


def source_health(
    config: Config,
    states: Iterable[SourceState],
    post_counts: Mapping[str, int],
    leases: Mapping[str, Lease] | None = None,
) -> tuple[SourceHealth, ...]:
    """One SourceHealth per configured source, in config order, from the stored `states`
    and the `leases` held now (held_leases)."""
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
            lease=(leases or {}).get(source.name),
        )
        for source in config.sources
    )


def read_health(config: Config, store: Metrics, *, now: datetime) -> Health:
    """The health of `config`'s sources as `store` has it at `now`, and on a shared store
    its recent nodes' (recent_nodes).

    Raises:
        StoreError: the store cannot be read.
    """
    states = store.states()
    published, pending = store.publish_counts()
    checked = [s.last_fetched for s in states if s.last_fetched is not None]
    leases = held_leases(store.leases_held(), now=now) if store.shared else {}
    nodes = (
        node_health(store.node_records(), leases, now=now, lease=config.node.lease)
        if store.shared
        else ()
    )
    return Health(
        sources=source_health(config, states, store.post_counts(), leases),
        last_checked=max(checked) if checked else None,
        published=published,
        pending=pending,
        shared=store.shared,
        nodes=recent_nodes(nodes),
    )


# ------------------------------------------------------------------- nodes


def held_leases(leases: Mapping[str, Lease], *, now: datetime) -> dict[str, Lease]:
    """Of the stored `leases`, those not run out at `now`: a node that died leaves its
    leases behind until another claims the source, but holds nothing once they end."""
    return {name: lease for name, lease in leases.items() if lease.until > now}


def silent_after(lease: float) -> timedelta:
    """How long a running node may go without a heartbeat before it counts as silent: two
    heartbeat periods (a node beats every lease / 3 seconds, update/node.py), so one late
    beat is not enough; its leases still have a third of their time then."""
    return timedelta(seconds=2 * lease / 3)


def node_health(
    records: Iterable[NodeRecord],
    leases: Mapping[str, Lease],
    *,
    now: datetime,
    lease: float,
) -> tuple[NodeHealth, ...]:
    """Each node's state at `now`, with `lease` the config's node.lease (seconds) and
    `leases` those held now (held_leases), in the order of `records`."""
    held: dict[str, int] = {}
    for held_by in leases.values():
        held[held_by.node] = held.get(held_by.node, 0) + 1
    silent = silent_after(lease)
    out = []
    for node in records:
        age = max(now - node.heartbeat, timedelta(0))
        state = "stopped" if node.stopped else "silent" if age > silent else "running"
        out.append(NodeHealth(record=node, state=state, age=age, leases=held.get(node.id, 0)))
    return tuple(out)


def recent_nodes(nodes: Iterable[NodeHealth]) -> tuple[NodeHealth, ...]:
    """The nodes running, and those stopped or silent for at most GONE_AFTER."""
    return tuple(n for n in nodes if n.state == "running" or n.age <= GONE_AFTER)


def node_rows(nodes: Iterable[NodeHealth]) -> list[dict[str, Any]]:
    """The rows `aggregator status --nodes` prints (`--json`: as they are), one per node."""
    return [
        {
            "id": n.record.id,
            "host": n.record.host,
            "pid": n.record.pid,
            "started": _iso(n.record.started),
            "heartbeat": _iso(n.record.heartbeat),
            "heartbeat_age": round(n.age.total_seconds(), 1),
            "stopped": _iso(n.record.stopped),
            "state": n.state,
            "leases": n.leases,
            "rounds": n.record.rounds,
            "fetched": n.record.fetched,
            "errors": n.record.errors,
            "store_seconds": round(n.record.store_seconds, 3),
        }
        for n in nodes
    ]


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
        # On a shared store, the node fetching it now and until when its lease lasts.
        "lease_node": h.lease.node if h.lease else None,
        "lease_until": _iso(h.lease.until) if h.lease else None,
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

    def metric(
        name: str, help_text: str, samples: Iterable[tuple[str, float]], kind: str = "gauge"
    ) -> None:
        lines.append(f"# HELP {name} {help_text}")
        lines.append(f"# TYPE {name} {kind}")
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
    if health.shared:
        _node_metrics(metric, health.nodes)
    return "\n".join(lines) + "\n"


def _node_metrics(
    metric: Callable[[str, str, Iterable[tuple[str, float]], str], None],
    nodes: Iterable[NodeHealth],
) -> None:
    labelled = [(f'{{node="{_label(n.record.id)}"}}', n) for n in nodes]
    metric(
        "aggregator_node_up",
        "1 while a node is running; 0 once it stopped or went silent (no heartbeat for two"
        " heartbeat periods).",
        [(label, 1 if n.state == "running" else 0) for label, n in labelled],
        "gauge",
    )
    metric(
        "aggregator_node_heartbeat_timestamp_seconds",
        "When a node last said it was alive (Unix time).",
        [(label, n.record.heartbeat.timestamp()) for label, n in labelled],
        "gauge",
    )
    metric(
        "aggregator_node_leases",
        "Sources a node holds now (leases not run out).",
        [(label, n.leases) for label, n in labelled],
        "gauge",
    )
    counters: tuple[tuple[str, str, Callable[[NodeRecord], float]], ...] = (
        ("rounds", "Rounds a node finished since it started.", lambda r: r.rounds),
        ("fetched", "Sources a node fetched (or tried) since it started.", lambda r: r.fetched),
        ("errors", "Of those, the fetches that failed.", lambda r: r.errors),
        (
            "store_seconds",
            "Seconds a node spent in store transactions since it started.",
            lambda r: r.store_seconds,
        ),
    )
    for name, help_text, figure in counters:
        metric(
            f"aggregator_node_{name}_total",
            help_text,
            [(label, figure(n.record)) for label, n in labelled],
            "counter",
        )


def _label(value: str) -> str:
    # Exposition format: backslash, double quote and line feed are escaped in label values.
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
