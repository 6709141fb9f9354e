"""Where a round's lanes take their next source from: all of a round's sources on a store
of its own (Fixed), or, on a shared store, those this node claims as the lanes need them
(Claimed).

Must NOT fetch, nor decide a state or what is due (the Updater gives the round's
sources, the store's claim re-checks them); it only hands sources out, in order.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from aggregator.fetch import host_key as _host_key
from aggregator.types import Source

if TYPE_CHECKING:
    from aggregator.fetch import Fetcher
    from aggregator.update.node import Node
    from aggregator.update.round import Round

__all__ = ["Claimed", "Fixed", "Supply", "interleaved"]


class Supply(Protocol):
    """Where a round's lanes take their next source from."""

    fetcher: Fetcher | None  # the round's, once it is open

    async def next(self, *, first: bool) -> Source | None:
        """The next source to fetch for a lane (`first`: that lane's first; else it has
        just finished one), or None: nothing left for that lane."""
        ...

    def order(self) -> dict[str, int]:
        """Each source's place in the round as given (outcomes are reported in it)."""
        ...


class Fixed:
    """The sources of a round on a store of its own: all of them, one host after another."""

    def __init__(self, todo: Sequence[Source]) -> None:
        self.fetcher: Fetcher | None = None
        self._todo = todo
        self._order = iter(interleaved(todo))  # shared by the lanes

    async def next(self, *, first: bool) -> Source | None:
        i = next(self._order, None)
        return None if i is None else self._todo[i]

    def order(self) -> dict[str, int]:
        return {s.name: i for i, s in enumerate(self._todo)}


class Claimed:
    """The sources of a round on a shared store: claimed `limit` at a time as the lanes
    need them, among those still to do (named in the claim), or, for a round of what is
    due, the most overdue of every source in the store, this node taking those still to
    do here and giving back the rest (a claim then sends no list of names). A claim that
    gives nothing ends the lane that asked, and every lane asking before another source
    finishes; a lane that finished one asks again (its lease gone, a host's limit may
    allow another). The sources never claimed were fetched by another node meanwhile, or
    are held by one.

    A claim takes a twentieth of what is left, between twice the lanes and 1,000 sources:
    few claims in a big round, small ones at its end, where one node holding a long queue
    would keep the others idle. Each claim also reads the hosts another node was told to
    leave alone meanwhile."""

    def __init__(
        self,
        node: Node,
        round_: Round,
        todo: Sequence[Source],
        *,
        lanes: int,
        every: bool,
        skip: Sequence[str],
        named: bool = True,
    ) -> None:
        # `todo`: the sources to claim among (this node's view of what is due; the claim
        # takes those still due and free).
        self.fetcher: Fetcher | None = None
        self._node = node
        self._skip = list(skip)
        # Claims name the sources to claim among (`named`), or take the most overdue of
        # every source's lease row, giving back (and skipping from then on) those not
        # still to do here: a claim then costs what it takes, not what is left.
        self._named = named
        self._others: set[str] = set()
        self._round = round_
        self._todo = todo
        # One host after another, as Fixed (the claim takes the most overdue first).
        self._remaining = {todo[i].name: todo[i] for i in interleaved(todo)}
        # Sources due by the round's start only: a round ends, and its node's next one
        # starts at a tick, as the other nodes' do (one node's endless round would take
        # every source the moment it comes due, and leave the others idle).
        self._began = node.clock()
        self._least = max(2 * lanes, 10)
        self._every = every
        self._queue: deque[tuple[Source, float]] = deque()  # with when it was claimed
        self._claiming = asyncio.Lock()
        self._dry = False  # the last claim gave nothing, and no source finished since

    async def next(self, *, first: bool) -> Source | None:
        async with self._claiming:
            self._drop_stale()
            if not self._queue and self._remaining and not (self._dry and first):
                self._round.flush()  # what was fetched gives back its lease first
                at = time.monotonic()
                claimed, deferred = await self._round.in_store(self._claim)
                self._queue.extend((source, at) for source in claimed)
                self._dry = not claimed
                if self.fetcher is not None:
                    for host, until in deferred.items():
                        self.fetcher.defer_host(host, until)
            return self._queue.popleft()[0] if self._queue else None

    def _drop_stale(self) -> None:
        """Give back the queued sources whose lease may run out before their fetch ends
        (Node.fresh): another node may take them; this one claims afresh later."""
        stale = [source.name for source, at in self._queue if not self._node.fresh(at)]
        if not stale:
            return
        self._queue = deque(item for item in self._queue if item[0].name not in stale)
        self._round.write(self._node.release, stale)
        self._round.forget(stale)

    def _claim(self) -> tuple[list[Source], dict[str, datetime]]:
        # On the store thread, after every write queued before it.
        limit = max(self._least, min(1000, len(self._remaining) // 20))
        among = list(self._remaining.values())
        while True:
            others = len(self._others)
            claimed = self._node.claim(
                among,
                limit=limit,
                every=self._every,
                skip=[*self._skip, *sorted(self._others)],
                due_by=self._began,
                named=self._named,
                unknown=self._others,
            )
            if claimed or len(self._others) == others:
                break  # (a claim of only others' sources skips them and claims again)
        for source in claimed:
            self._remaining.pop(source.name, None)
        self._round.load([s.name for s in claimed])
        store = self._round.store
        return claimed, store.deferred_hosts(now=self._node.clock())

    def order(self) -> dict[str, int]:
        return {s.name: i for i, s in enumerate(self._todo)}


def interleaved(sources: Sequence[Source]) -> list[int]:
    """Indices of `sources`, one host after another: a long run of one host's sources
    (each waiting on the per-host limit) must not hold every round slot."""
    by_host: dict[str, list[int]] = {}
    for i, source in enumerate(sources):
        by_host.setdefault(_host_key(source.url), []).append(i)
    queues = list(by_host.values())
    order: list[int] = []
    depth = 0
    while len(order) < len(sources):
        order.extend(q[depth] for q in queues if depth < len(q))
        depth += 1
    return order
