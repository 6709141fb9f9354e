"""The Updater: which sources are due, and rounds over them, lanes fetching at once.

Holds only what outlives a round (config, store, clock, the sources held after a round
the store could not record); a round's resources are its `Round`'s. Must NOT decide a
source's state (decide.py) nor carry one source through the stages (pipeline.py).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor
from dataclasses import replace
from datetime import datetime

from aggregator.errors import StoreError
from aggregator.fetch import Fetcher, FetchLimits
from aggregator.fetch import host_key as _host_key
from aggregator.store.api import UpdateStore
from aggregator.types import UTC, Config, Source
from aggregator.update.decide import after_schedule_edit, current_state
from aggregator.update.pipeline import Pipeline
from aggregator.update.pool import Parsers
from aggregator.update.report import RoundReport, SourceOutcome
from aggregator.update.round import Round

__all__ = ["POOL_MIN_SOURCES", "Updater", "limits_from"]

# A round with fewer sources than this parses in a thread: starting processes would cost
# more than it saves.
POOL_MIN_SOURCES = 8


def limits_from(config: Config) -> FetchLimits:
    """The fetch limits `config`'s `fetch:` section sets (FetchLimits.of)."""
    return FetchLimits.of(config.fetch)


class Updater:
    """Runs rounds for one config against one store."""

    def __init__(
        self,
        config: Config,
        store: UpdateStore,
        *,
        limits: FetchLimits | None = None,
        executor: Executor | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        rng: random.Random | None = None,
        held: dict[str, datetime] | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.limits = limits or limits_from(config)
        self.executor = executor  # parses bodies; None: a process pool per (large) round
        self.clock = clock
        self.rng = rng or random.Random()
        # The round running now (for update_source): None between.
        self._pipeline: Pipeline | None = None
        # Sources fetched in a round whose state could not be saved at all (the database
        # down mid-round), with the next check that state held: not fetched again before
        # it, although the store still has them due. Without this a daemon would fetch
        # them every tick, a request storm against servers that asked for 30 minutes.
        # Kept in memory only: shared with the Updater of a reloaded config.
        self.held: dict[str, datetime] = {} if held is None else held

    def due_sources(self, *, every: bool = False) -> list[Source]:
        """The enabled sources due now (all enabled ones with `every`), but those held."""
        now = self.clock()
        for name, until in list(self.held.items()):
            if until <= now:
                del self.held[name]
        self._apply_schedule_edits(now)
        names = [s.name for s in self.config.sources if s.name not in self.held]
        if every:
            states = {s.name: s for s in self.store.states()}
            return [
                s
                for s in self.config.sources
                if s.name not in self.held and not current_state(s, states.get(s.name)).disabled
            ]
        due = set(self.store.due(names, now=now))
        states = {s.name: s for s in self.store.states()}
        # A source whose config URL changed is due at once, even if disabled before.
        for s in self.config.sources:
            st = states.get(s.name)
            if st is not None and st.config_url != s.url and s.name not in self.held:
                due.add(s.name)
        return [s for s in self.config.sources if s.name in due]

    def _apply_schedule_edits(self, now: datetime) -> None:
        """Draw again the next checks that a schedule changed since (decide.after_schedule_edit):
        `run --once` after an edit does not wait out a check drawn from the old interval."""
        states = {s.name: s for s in self.store.states()}
        for source in self.config.sources:
            stored = states.get(source.name)
            if stored is None or stored.config_url != source.url:
                continue  # never fetched, or moved: due at once anyway
            decision = after_schedule_edit(source, stored, now=now)
            if decision is not None and decision.save:
                self.store.save_state(decision.state)

    async def run_round(
        self,
        sources: Iterable[Source] | None = None,
        *,
        every: bool = False,
        on_source: Callable[[SourceOutcome], None] | None = None,
    ) -> RoundReport:
        """Fetch, parse, normalize and store the given (default: due) sources; `on_source`
        is told of each source as it finishes.

        A state or post that the database refuses fails its source only. When the database
        fails otherwise, no further source is started, the states of those fetched are
        still saved (or, failing that, the sources held: see `held`), and the round raises.

        Raises: StoreError.
        """
        started = time.monotonic()
        todo = list(sources) if sources is not None else self.due_sources(every=every)
        report = RoundReport(due=len(todo))
        if not todo:
            report.seconds = time.monotonic() - started
            return report
        parsers = Parsers(
            executor=self.executor,
            # The pool starts with the first body to parse: a round of 304s needs none.
            want_pool=self.executor is None and len(todo) >= POOL_MIN_SOURCES,
            budget=self.config.fetch.parse_timeout,
        )
        round_ = Round(
            self.store,
            todo,
            parsers,
            settings=self.config.fetch,
            clock=self.clock,
            rng=self.rng,
            held=self.held,
        )
        try:
            with round_:
                self._pipeline = Pipeline(
                    self.config, self.store, round_, clock=self.clock, rng=self.rng
                )
                outcomes = await self._lanes(round_, todo, on_source)
        finally:
            self._pipeline = None
        report.outcomes = [
            replace(o, status="error", error=round_.refused[o.name])
            if o.name in round_.refused
            else o
            for o in outcomes
        ]
        if round_.failures:
            raise round_.failures[0]
        report.seconds = time.monotonic() - started
        return report

    async def _lanes(
        self,
        round_: Round,
        todo: Sequence[Source],
        on_source: Callable[[SourceOutcome], None] | None,
    ) -> list[SourceOutcome]:
        """Every source of `todo` through `update_source`, in lanes that each take the next
        source until none is left: as many lanes as requests may be in flight, so a round
        of 20,000 sources holds 50 tasks, not 20,000. A lane starts no source once the
        store failed."""
        outcomes: list[SourceOutcome | None] = [None] * len(todo)

        async def lane(order: Iterator[int]) -> None:
            for i in order:
                if round_.stopping:
                    return
                try:
                    outcome = await self.update_source(todo[i], fetcher)
                except StoreError as e:
                    round_.failures.append(e)
                    return
                outcomes[i] = outcome
                if on_source is not None:
                    on_source(outcome)

        async with Fetcher(self.limits) as fetcher:
            # Hosts that asked to be left alone in an earlier round (or another process).
            for host, until in self.store.deferred_hosts(now=self.clock()).items():
                fetcher.defer_host(host, until)
            order = iter(_interleaved(todo))  # shared by the lanes
            lanes = min(len(todo), self.limits.max_connections)
            await asyncio.gather(*(lane(order) for _ in range(lanes)))
        return [o for o in outcomes if o is not None]

    async def update_source(self, source: Source, fetcher: Fetcher) -> SourceOutcome:
        """One source through the pipeline, in the running round; its failure becomes its
        state.

        Raises: StoreError (the database failed, not the source).
        """
        if self._pipeline is None:
            # A programming error (a caller outside run_round), not a tree error.
            raise RuntimeError("update_source runs in a round (run_round)")
        return await self._pipeline.run(source, fetcher)


def _interleaved(sources: Sequence[Source]) -> list[int]:
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
