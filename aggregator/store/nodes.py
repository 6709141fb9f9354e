"""The store's node methods: the nodes working on one PostgreSQL database, and the leases
by which each holds the sources it fetches.

A node claims due sources (FOR UPDATE SKIP LOCKED, at most `per_host` leases per host
across every node), renews its leases with its heartbeat, and saves a source's state only
while it holds its lease, releasing it in the same transaction. Must not decide which
sources a node wants, how long a lease lasts or what a lost lease means (the updater does):
each method runs its statements on what it is given. PostgreSQL only: SQLite is one
process per database, and the methods say so.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from aggregator.cluster import Candidate, Lease, LeasedSave, NodeRecord
from aggregator.errors import StoreError
from aggregator.store.claims import CLAIMS, SCAN_FACTOR
from aggregator.store.lock import CLAIM_LOCK, PUBLISH_LOCK, serialize, try_lock, unlock
from aggregator.store.rows import node_from_row, state_values
from aggregator.store.schema import leases, nodes, sources
from aggregator.store.transactions import ROW_ERRORS, Transactions, chunks, insert_of, reason
from aggregator.types import SourceState

__all__ = ["NodeMethods"]


class NodeMethods(Transactions):
    """Nodes, leases and the publish lock (see api.Leases)."""

    @property
    def shared(self) -> bool:
        """Whether several processes may work on this store at once (PostgreSQL)."""
        return self._engine.dialect.name == "postgresql"

    def join_node(self, node: NodeRecord, *, forget_before: datetime | None = None) -> int:
        """Record `node` as running (its counters as given), and release the leases a
        previous life of the same id left; how many were released. Other nodes last heard
        of before `forget_before` and holding no lease are forgotten (their rows deleted)."""
        self._shared_only("join the nodes")

        def work(conn: Connection) -> int:
            _upsert_node(conn, node)
            if forget_before is not None:
                holding = sa.select(leases.c.node).where(leases.c.node == nodes.c.id)
                conn.execute(
                    sa.delete(nodes).where(
                        nodes.c.id != node.id,
                        nodes.c.heartbeat < forget_before,
                        ~sa.exists(holding),
                    )
                )
            return _release_all(conn, node.id)

        return self._run(f"cannot record node {node.id!r}", work, write=True)

    def node_heartbeat(self, node: NodeRecord, *, until: datetime) -> int:
        """Record that `node` is alive (its counters as given), and extend every lease it
        holds to `until`; how many it holds."""
        self._shared_only("record a heartbeat")

        def work(conn: Connection) -> int:
            _upsert_node(conn, node)
            renewed = conn.execute(
                sa.update(leases).where(leases.c.node == node.id).values(until=until)
            )
            return int(renewed.rowcount or 0)

        return self._run(f"cannot record the heartbeat of node {node.id!r}", work, write=True)

    def leave_node(self, node: NodeRecord) -> int:
        """Record that `node` stopped (`node.stopped`), and release its leases at once;
        how many were released."""
        self._shared_only("leave the nodes")

        def work(conn: Connection) -> int:
            _upsert_node(conn, node)
            return _release_all(conn, node.id)

        return self._run(f"cannot record that node {node.id!r} stopped", work, write=True)

    def sync_leases(self, configured: Sequence[Candidate]) -> int:
        """Make the lease rows those of `configured` (every source of this node's config):
        one for each (its host and URL as given), none for a source no longer configured
        that nobody holds; how many were removed."""
        self._shared_only("sync leases")
        names = [c.name for c in configured]
        known: dict[str, tuple[str, str]] = self.__dict__.setdefault("_lease_rows", {})
        missing = [c for c in configured if known.get(c.name) != (c.host, c.url)]

        def work(conn: Connection) -> int:
            _ensure_lease_rows(conn, missing)
            gone = conn.execute(
                sa.text(
                    "DELETE FROM leases WHERE node IS NULL"
                    " AND source <> ALL(CAST(:names AS text[]))"
                ),
                {"names": names},
            )
            return int(gone.rowcount or 0)

        removed = self._run("cannot sync leases", work, write=True)
        known.update((c.name, (c.host, c.url)) for c in missing)  # committed
        return removed

    def any_claimable(self, *, now: datetime) -> bool:
        """Whether a claim now could take any source (one with a lease row, due by `now`,
        held by no node or by one whose lease ran out): one read of the free rows' due
        index and of the few held ones, however many sources there are."""
        self._shared_only("look for claimable sources")
        query = sa.select(
            sa.exists().where(leases.c.node.is_(None), leases.c.due <= now)
            | sa.exists().where(
                leases.c.node.is_not(None), leases.c.until <= now, leases.c.due <= now
            )
        )
        return bool(self._run("cannot look for claimable sources", lambda c: c.scalar(query)))

    def claim_sources(
        self,
        node: str,
        candidates: Sequence[Candidate] | None,
        *,
        now: datetime,
        until: datetime,
        limit: int,
        per_host: int,
        every: bool = False,
        skip: Sequence[str] = (),
        due_by: datetime | None = None,
    ) -> list[str]:
        """Lease to `node`, until `until`, at most `limit` sources that no node holds (or
        whose lease ran out) and that are due — never fetched, moved to another config
        URL, or enabled with a next check not after `due_by` (default `now`; any, with
        `every`) — the most
        overdue first, and no more of one host than keeps every node's leases on it within
        `per_host`. Among `candidates` (their lease rows made as needed), or with None among
        every source with a lease row (sync_leases), but those in `skip`: a claim then
        sends no list of names, however many sources there are. The names leased, in the
        order of `candidates` (else most overdue first)."""
        self._shared_only("claim sources")
        if limit <= 0 or (candidates is not None and not candidates):
            return []
        names = [c.name for c in candidates] if candidates is not None else []
        # Lease rows this process made or saw made, with their host and URL: a claim among
        # 20,000 sources writes only those new or changed.
        known: dict[str, tuple[str, str]] = self.__dict__.setdefault("_lease_rows", {})
        missing = [c for c in candidates or () if known.get(c.name) != (c.host, c.url)]

        def work(conn: Connection) -> list[str]:
            serialize(conn, CLAIM_LOCK)
            _ensure_lease_rows(conn, missing)
            rows = conn.execute(
                CLAIMS[candidates is not None, every],
                {
                    "names": names,
                    "skip": list(skip),
                    "now": now,
                    "due_by": due_by or now,
                    "until": until,
                    "node": node,
                    "scan": limit * SCAN_FACTOR,
                    "per_host": per_host,
                    "limit": limit,
                },
            ).all()
            leased = [row.source for row in rows]
            if candidates is None:  # the most overdue first, never fetched before any
                order = {row.source: row.next_check for row in rows}
                return sorted(leased, key=lambda n: (order[n] is not None, order[n] or now, n))
            chosen = set(leased)
            return [n for n in names if n in chosen]

        claimed = self._run("cannot claim sources", work, write=True)
        known.update((c.name, (c.host, c.url)) for c in missing)  # committed
        return claimed

    def release_sources(self, node: str, names: Sequence[str]) -> None:
        """Release the leases `node` holds on `names` (a source it will not fetch now)."""
        self._shared_only("release sources")
        wanted = list(dict.fromkeys(names))

        def work(conn: Connection) -> None:
            for chunk in chunks(wanted):
                conn.execute(
                    sa.update(leases)
                    .where(leases.c.node == node, leases.c.source.in_(chunk))
                    .values(node=None, until=None)
                )

        if wanted:
            self._run("cannot release sources", work, write=True)

    def save_leased_states(self, states: Sequence[SourceState], *, node: str) -> LeasedSave:
        """Save each of `states` whose source `node` still holds, and release it, in one
        transaction; a source another node took meanwhile gets nothing written (`lost`).

        A state whose data the database refuses keeps no other out (as save_states).
        """
        self._shared_only("save leased states")
        if not states:
            return LeasedSave()
        rows = list({s.name: state_values(s) for s in states}.values())
        insert = insert_of("postgresql", sources)
        upsert = insert.on_conflict_do_update(
            index_elements=[sources.c.name],
            set_={c.name: insert.excluded[c.name] for c in sources.columns if c.name != "name"},
        )

        def work(conn: Connection, batch: Sequence[dict[str, Any]]) -> list[str]:
            names = [row["name"] for row in batch]
            held: set[str] = set()
            for chunk in chunks(names):
                held.update(
                    conn.scalars(
                        sa.select(leases.c.source)
                        .where(leases.c.node == node, leases.c.source.in_(chunk))
                        .with_for_update()
                    )
                )
            kept = [row for row in batch if row["name"] in held]
            for chunk in chunks(kept):
                conn.execute(upsert, list(chunk))
            for chunk in chunks(sorted(held)):
                conn.execute(
                    sa.update(leases)
                    .where(leases.c.node == node, leases.c.source.in_(chunk))
                    .values(node=None, until=None)
                )
            return [n for n in names if n not in held]

        done, refused = self._write_rows("cannot save source states", rows, work)
        return LeasedSave(
            refused={row["name"]: why for row, why in refused},
            lost=tuple(name for lost in done for name in lost),
        )

    def node_records(self) -> list[NodeRecord]:
        """Every node that ever joined, with the leases each holds now, by id."""
        if not self.shared:
            return []
        held = (
            sa.select(leases.c.node, sa.func.count().label("n"))
            .where(leases.c.node.is_not(None))
            .group_by(leases.c.node)
            .subquery()
        )
        query = sa.select(nodes, sa.func.coalesce(held.c.n, 0).label("leased")).outerjoin(
            held, held.c.node == nodes.c.id
        )

        def work(conn: Connection) -> list[NodeRecord]:
            return sorted((node_from_row(r) for r in conn.execute(query)), key=lambda n: n.id)

        return self._run("cannot read nodes", work)

    def leases_held(self) -> dict[str, Lease]:
        """Source name -> the node holding it and until when (sources nobody holds absent)."""
        if not self.shared:
            return {}
        query = sa.select(leases.c.source, leases.c.node, leases.c.until).where(
            leases.c.node.is_not(None)
        )
        return self._run(
            "cannot read leases",
            lambda conn: {
                row.source: Lease(node=row.node, until=row.until) for row in conn.execute(query)
            },
        )

    def publishing(self) -> contextlib.AbstractContextManager[bool]:
        """Hold the publish lock while the block runs, if no other node holds it: yields
        whether it is held (always, on SQLite, whose one process needs no lock). The
        server releases it if this process dies."""
        return self._publishing()

    @contextlib.contextmanager
    def _publishing(self) -> Iterator[bool]:
        if not self.shared:
            yield True
            return
        try:
            conn = self._engine.connect()
            got = try_lock(conn, PUBLISH_LOCK)
            conn.commit()  # a session lock: it outlives the transaction that took it
        except ROW_ERRORS as e:
            raise StoreError(f"cannot take the publish lock: {reason(e)}") from e
        try:
            yield got
        finally:
            with contextlib.suppress(*ROW_ERRORS):
                if got:
                    unlock(conn, PUBLISH_LOCK)
                    conn.commit()
            with contextlib.suppress(*ROW_ERRORS):
                conn.close()

    def _shared_only(self, what: str) -> None:
        if not self.shared:
            raise StoreError(f"cannot {what}: several nodes need a PostgreSQL store")


def _upsert_node(conn: Connection, node: NodeRecord) -> None:
    values = {
        "id": node.id,
        "host": node.host,
        "pid": node.pid,
        "started": node.started,
        "heartbeat": node.heartbeat,
        "stopped": node.stopped,
        "rounds": node.rounds,
        "fetched": node.fetched,
        "errors": node.errors,
        "store_seconds": node.store_seconds,
    }
    insert = insert_of("postgresql", nodes).values(**values)
    conn.execute(
        insert.on_conflict_do_update(
            index_elements=[nodes.c.id], set_={k: v for k, v in values.items() if k != "id"}
        )
    )


def _release_all(conn: Connection, node: str) -> int:
    released = conn.execute(
        sa.update(leases).where(leases.c.node == node).values(node=None, until=None)
    )
    return int(released.rowcount or 0)


def _ensure_lease_rows(conn: Connection, candidates: Sequence[Candidate]) -> None:
    """A lease row for every candidate, holding its host and config URL as given."""
    insert = insert_of("postgresql", leases)
    statement = insert.on_conflict_do_update(
        index_elements=[leases.c.source],
        set_={"host": insert.excluded.host, "url": insert.excluded.url},
        where=sa.or_(leases.c.host != insert.excluded.host, leases.c.url != insert.excluded.url),
    )
    rows = [{"source": c.name, "host": c.host, "url": c.url} for c in candidates]
    for chunk in chunks(rows):
        conn.execute(statement, list(chunk))
