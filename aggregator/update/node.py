"""This process as one node of a shared (PostgreSQL) store: its id, its row and heartbeat,
its claims on due sources and its saves under their leases.

Decides what a lease means for this process (how long one lasts, how often it is renewed,
what a lost one says in the log); the store runs the statements. Must NOT fetch, decide a
source's state (decide.py) nor choose which sources are due (the Updater gives its
candidates; the claim only takes those still due and free).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from aggregator.cluster import Candidate, LeasedSave, NodeRecord, NodeSettings
from aggregator.store.api import Leases
from aggregator.types import UTC, Source, SourceState

__all__ = ["Node", "node_id"]

log = logging.getLogger("aggregator.update")

# A node not heard of for this long, holding no lease, is forgotten when another joins:
# `run --once` from cron is a new node every time.
FORGET_AFTER = timedelta(days=1)


def node_id(settings: NodeSettings, *, started: datetime | None = None) -> str:
    """`node.id`, or one made of the host name, the pid and the start time (unique per
    process: a restarted process is a new node, and its old leases simply run out)."""
    if settings.id:
        return settings.id
    when = started or datetime.now(UTC)
    return f"{socket.gethostname()[:40]}-{os.getpid()}-{when:%H%M%S}"


class Node:
    """One process's part in a shared store. `join()` before the first claim, `beat()`
    every `beat_every` seconds (it renews the leases), `leave()` when stopping."""

    def __init__(
        self,
        store: Leases,
        settings: NodeSettings,
        *,
        per_host: int,
        id: str | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.clock = clock
        self.lease = timedelta(seconds=settings.lease)
        self.per_host = per_host
        self._candidates: dict[str, Candidate] = {}
        self.renewed = 0.0  # time.monotonic() of the start of the last renewal that held
        started = clock()
        self.record = NodeRecord(
            id=id or node_id(settings, started=started),
            host=socket.gethostname(),
            pid=os.getpid(),
            started=started,
            heartbeat=started,
        )

    @property
    def id(self) -> str:
        return self.record.id

    @property
    def beat_every(self) -> float:
        """Seconds between heartbeats: three renewals fit in one lease."""
        return self.lease.total_seconds() / 3

    # ------------------------------------------------------------------ the row

    def join(self) -> None:
        """Record this node as running; a previous life of the same `node.id` loses its
        leases (it cannot be running: the instance lock is per node id)."""
        record = self._now_record()
        released = self.store.join_node(record, forget_before=record.heartbeat - FORGET_AFTER)
        if released:
            log.info("node %s: released %d leases of its previous run", self.id, released)

    def beat(self) -> int:
        """Say this node is alive and renew its leases; how many it holds."""
        now, started = self.clock(), time.monotonic()
        held = self.store.node_heartbeat(self._now_record(now), until=now + self.lease)
        self.renewed = max(self.renewed, started)
        return held

    def fresh(self, claimed: float) -> bool:
        """Whether a source claimed at `claimed` (time.monotonic()) may still be fetched:
        its lease, as claimed or last renewed, has at least half its time left. A fetch
        started later could outlive it unrenewed (a late heartbeat on a busy machine), and
        another node would fetch the same source meanwhile."""
        since = time.monotonic() - max(claimed, self.renewed)
        return since < self.lease.total_seconds() / 2

    def leave(self) -> int:
        """Record that this node stopped; its leases are released at once, for the other
        nodes to take without waiting for them to run out. How many were released."""
        now = self.clock()
        self.record = replace(self._now_record(now), stopped=now)
        return self.store.leave_node(self.record)

    def configure(self, settings: NodeSettings, *, per_host: int) -> None:
        """Take a reloaded config's lease time and per-host limit (the id stays)."""
        self.lease = timedelta(seconds=settings.lease)
        self.per_host = per_host

    def counted(self, *, fetched: int, errors: int) -> None:
        """Add one round, with `fetched` sources tried and `errors` of them failed."""
        r = self.record
        self.record = replace(
            r, rounds=r.rounds + 1, fetched=r.fetched + fetched, errors=r.errors + errors
        )

    async def keep_alive(self) -> None:
        """Beat every `beat_every` seconds until cancelled (a round's leases stay held
        however long it runs); a failed beat is logged and tried again."""
        from aggregator.errors import StoreError

        while True:
            await asyncio.sleep(self.beat_every)
            try:
                await asyncio.to_thread(self.beat)
            except StoreError as e:
                log.warning("node %s: heartbeat failed: %s", self.id, e)

    # ------------------------------------------------------------------- claims

    def sync(self, sources: Sequence[Source]) -> None:
        """Make the store's lease rows those of `sources` (this node's whole config): each
        then claimable by any node, a source no longer configured no longer."""
        removed = self.store.sync_leases([self._candidate(s) for s in sources])
        if removed:
            log.debug(
                "node %s: %d leases of sources no longer configured removed", self.id, removed
            )

    def anything_due(self) -> bool:
        """Whether any source with a lease row is due now and free to claim (cheap: a
        daemon asks each tick, before it reads every state)."""
        return self.store.any_claimable(now=self.clock())

    def claim(
        self,
        sources: Sequence[Source],
        *,
        limit: int,
        every: bool = False,
        skip: Sequence[str] = (),
        due_by: datetime | None = None,
        named: bool = True,
        unknown: set[str] | None = None,
    ) -> list[Source]:
        """Of `sources`, those this node now holds (at most `limit`): still due (any, with
        `every`), held by no other node, within their host's limit across the nodes, but
        `skip`. `due_by`: due by then, not now (a round takes what was due when it began,
        and ends). A source claimed that `sources` does not name is given back at once
        (and added to `unknown`, for the caller to skip from then on).

        `named=False` sends the store no list of names: it claims among every source's
        lease row (sync) the most overdue, as every node does, and the claim's cost stays
        that of the rows it takes, however many sources there are. `sources` then only
        says which of them this node takes; the rest are given back."""
        now = self.clock()
        by_name = {s.name: s for s in sources}
        names = self.store.claim_sources(
            self.id,
            [self._candidate(s) for s in sources] if named else None,
            now=now,
            until=now + self.lease,
            limit=limit,
            per_host=self.per_host,
            every=every,
            skip=skip,
            due_by=due_by,
        )
        others = [n for n in names if n not in by_name]
        if others:
            self.release(others)
            if unknown is not None:
                unknown.update(others)
        return [by_name[n] for n in names if n in by_name]

    def _candidate(self, source: Source) -> Candidate:
        # Made once per source and URL: a round of 20,000 sources claims many times.
        made = self._candidates.get(source.name)
        if made is None or made.url != source.url:
            from aggregator.fetch import host_key  # the HTTP client: not for `publish`'s node_id

            made = Candidate(name=source.name, host=host_key(source.url), url=source.url)
            self._candidates[source.name] = made
        return made

    def save(self, states: Sequence[SourceState]) -> LeasedSave:
        """Save `states` of the sources this node still holds, releasing them; one whose
        lease another node took is not written, and says so in the log."""
        saved = self.store.save_leased_states(states, node=self.id)
        for name in saved.lost:
            log.warning(
                "%s: its lease ran out and another node took it: this node's state of it is"
                " not saved (the other node's stands)",
                name,
            )
        return saved

    def release(self, names: Sequence[str]) -> None:
        """Give back the leases of `names` (claimed, not fetched)."""
        self.store.release_sources(self.id, names)

    def _now_record(self, now: datetime | None = None) -> NodeRecord:
        self.record = replace(
            self.record,
            heartbeat=now or self.clock(),
            stopped=None,
            store_seconds=self.store.store_seconds,
        )
        return self.record
