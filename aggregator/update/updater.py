"""The Updater: which sources are due, and rounds over them, lanes fetching at once.

Holds only what outlives a round (config, store, clock, the sources held after a round
the store could not record, the node of a shared store); a round's resources are its
`Round`'s, and on a shared store its sources are claimed as the lanes need them. Must NOT decide a
source's state (decide.py) nor carry one source through the stages (pipeline.py).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from aggregator.errors import SourceError, StoreError
from aggregator.fetch import Fetcher, FetchLimits
from aggregator.schedule import polled_at
from aggregator.store.api import UpdateStore
from aggregator.types import UTC, Config, Source, SourceState
from aggregator.update.decide import after_schedule_edit, current_state
from aggregator.update.pipeline import Pipeline
from aggregator.update.pool import Parsers
from aggregator.update.report import RoundReport, SourceOutcome
from aggregator.update.round import Round
from aggregator.update.supply import Claimed, Fixed, Supply
from aggregator.websub.records import Push

if TYPE_CHECKING:
    from aggregator.update.node import Node

__all__ = ["POOL_MIN_SOURCES", "Updater", "limits_from"]

log = logging.getLogger("aggregator.update")

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
        node: Node | None = None,
    ) -> None:
        self.config = config
        self.store = store
        # On a shared store: this process's node, which claims each source before a lane
        # fetches it. None: the only process on its store (the instance lock says so).
        self.node = node
        self._synced = False  # the store's lease rows made those of this config
        self._drawn = False  # due_sources read every state once, schedule edits drawn
        self._complete = False  # …and found every source with a state of its configured URL
        # Set by halt(): the lanes start no further source (a stopping daemon lets the
        # fetches in flight finish, and claims nothing more).
        self.halted = False
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
        # Sources a WebSub hub pushes, with the end of their subscription's lease: polled
        # only every `poll_interval` meanwhile (schedule.polled_at). Set by the daemon.
        self.pushed: Mapping[str, datetime] = {}
        self.poll_interval = config.websub.poll_interval if config.websub else timedelta(days=1)
        self._unpolled: set[str] = set()  # pushed sources left out of the last due_sources
        self._pushes: Mapping[str, Sequence[Push]] = {}  # the running round's, by source

    def halt(self) -> None:
        """Start no further source in the round running now (SIGTERM: the fetches in flight
        finish, nothing more is claimed or fetched)."""
        self.halted = True

    def due_sources(self, *, every: bool = False) -> list[Source]:
        """The enabled sources due now (all enabled ones with `every`), but those held.

        One read of every state when anything may be due (_anything_due: a daemon asks
        each tick, and most ticks nothing is). On a shared store this is this node's view
        only; its claim takes those still due and free (Node.claim).
        """
        now = self.clock()
        for name, until in list(self.held.items()):
            if until <= now:
                del self.held[name]
        if self._drawn and not every and not self._anything_due(now):
            return []
        states = self._apply_schedule_edits({s.name: s for s in self.store.states()}, now)
        self._drawn = True
        # Every source has a state of its configured URL: from now on only a next check
        # (or a source enabled) makes one due, and the store can tell without the states.
        self._complete = all(
            (state := states.get(s.name)) is not None and state.config_url == s.url
            for s in self.config.sources
        )
        chosen = []
        self._unpolled = set()
        for source in self.config.sources:
            if source.name in self.held:
                continue
            state = states.get(source.name)
            if every:
                if not current_state(source, state).disabled:
                    chosen.append(source)
                continue
            if state is None or state.config_url != source.url:
                # A source whose config URL changed is due at once, even if disabled before.
                chosen.append(source)
                continue
            if state.disabled is not None:
                continue
            polled = polled_at(
                state.next_check,
                last_fetched=state.last_fetched,
                pushed_until=self.pushed.get(source.name),
                poll_interval=self.poll_interval,
            )
            if polled is None or polled <= now:
                chosen.append(source)
            elif state.next_check is None or state.next_check <= now:
                self._unpolled.add(source.name)  # due, but its hub pushes it
        return chosen

    def _anything_due(self, now: datetime) -> bool:
        """Whether due_sources must read the states: False only when nothing can be due, by
        one read that builds no state (a daemon asks each tick; at 20,000 sources reading
        them all took a tenth of a second of CPU, every second). This config's schedule
        edits are drawn (an earlier call read the states). On a shared store: every source
        has its lease row (synced), whose due time follows its state, and none free is
        due. Otherwise: the last read found every source with a state of its configured
        URL (a round only adds such states), and none enabled is due now."""
        if self.node is not None:
            return not self._synced or self.node.anything_due()
        return not self._complete or self.store.any_state_due(now=now)

    def _apply_schedule_edits(
        self, states: dict[str, SourceState], now: datetime
    ) -> dict[str, SourceState]:
        """Draw again the next checks that a schedule changed since (decide.after_schedule_edit):
        `run --once` after an edit does not wait out a check drawn from the old interval.
        `states` with those drawn again; each written only if no node fetched the source
        meanwhile (Store.reschedule)."""
        for source in self.config.sources:
            stored = states.get(source.name)
            if stored is None or stored.config_url != source.url:
                continue  # never fetched, or moved: due at once anyway
            decision = after_schedule_edit(source, stored, now=now)
            if (
                decision is not None
                and decision.save
                and self.store.reschedule(decision.state, fetched=stored.last_fetched)
            ):
                states[source.name] = decision.state
        return states

    async def run_round(
        self,
        sources: Iterable[Source] | None = None,
        *,
        every: bool = False,
        named: bool = False,
        on_source: Callable[[SourceOutcome], None] | None = None,
        pushes: Mapping[str, Sequence[Push]] | None = None,
    ) -> RoundReport:
        """Fetch, parse, normalize and store the given (default: due) sources; `on_source`
        is told of each source as it finishes. `named`: the sources are the operator's
        choice (`run --once NAME`), not what was found due: on a shared store they are
        claimed by name; otherwise the claims take the most overdue of every source and
        this node keeps those it was given. A source with `pushes` (by name: bodies its
        WebSub hub sent) is not fetched: each push is processed as its fetched body.

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
            node=self.node,
            history=self.config.history.record,
        )
        supply: Supply = (
            Fixed(todo)
            if self.node is None
            else Claimed(
                self.node,
                round_,
                todo,
                lanes=self.limits.max_connections,
                every=every,
                # A claim takes any due source: not those whose hub pushes them.
                skip=sorted(set(self.held) | (set() if pushes else self._unpolled)),
                named=named,
            )
        )
        if self.node is not None and not self._synced:
            self.node.sync(self.config.sources)  # once a config: its lease rows
            self._synced = True
        alive = None if self.node is None else asyncio.create_task(self.node.keep_alive())
        outcomes: list[SourceOutcome] = []
        try:
            self._pushes = pushes or {}
            with round_:
                self._pipeline = Pipeline(
                    self.config, self.store, round_, clock=self.clock, rng=self.rng
                )
                outcomes = await self._lanes(round_, supply, len(todo), on_source)
        finally:
            self._pipeline = None
            self._pushes = {}
            if alive is not None:
                alive.cancel()
            if self.node is not None:
                errors = sum(o.status == "error" for o in outcomes)
                self.node.counted(fetched=len(outcomes), errors=errors)
        report.outcomes = [
            replace(o, status="error", error=round_.refused[o.name])
            if o.name in round_.refused
            else o
            for o in outcomes
        ]
        if round_.failures:
            raise round_.failures[0]
        self._prune_history()
        report.seconds = time.monotonic() - started
        return report

    def _prune_history(self) -> None:
        """Drop a batch of attempts older than `history.keep` (one indexed DELETE a round:
        a backlog goes over several rounds, none held up for long)."""
        try:
            self.store.prune_attempts(self.clock() - self.config.history.keep)
        except StoreError as e:
            log.warning("history not pruned: %s", e)

    async def _lanes(
        self,
        round_: Round,
        supply: Supply,
        size: int,
        on_source: Callable[[SourceOutcome], None] | None,
    ) -> list[SourceOutcome]:
        """Every source `supply` gives through `update_source`, in lanes that each take the
        next source until none is left: as many lanes as requests may be in flight, so a
        round of 20,000 sources holds 50 tasks, not 20,000. A lane starts no source once
        the store failed."""
        outcomes: list[SourceOutcome] = []

        async def lane() -> None:
            first = True
            while not (round_.stopping or self.halted):
                try:
                    source = await supply.next(first=first)
                    first = False
                    if source is None:
                        return
                    outcome = await self.update_source(source, fetcher)
                except StoreError as e:
                    round_.failures.append(e)
                    return
                outcomes.append(outcome)
                if on_source is not None:
                    on_source(outcome)

        async with Fetcher(self.limits) as fetcher:
            # Hosts that asked to be left alone in an earlier round (or another process).
            for host, until in self.store.deferred_hosts(now=self.clock()).items():
                fetcher.defer_host(host, until)
            supply.fetcher = fetcher
            lanes = min(size, self.limits.max_connections)
            await asyncio.gather(*(lane() for _ in range(lanes)))
        order = supply.order()
        return sorted(outcomes, key=lambda o: order.get(o.name, 0))

    async def update_source(self, source: Source, fetcher: Fetcher) -> SourceOutcome:
        """One source through the pipeline, in the running round; its failure becomes its
        state, and so does an exception no stage expected (a bug, logged with its
        traceback): one source never stops the round.

        Raises: StoreError (the database failed, not the source).
        """
        if self._pipeline is None:
            # A programming error (a caller outside run_round), not a tree error.
            raise RuntimeError("update_source runs in a round (run_round)")
        try:
            return await self._pipeline.run(source, fetcher, self._pushes.get(source.name, ()))
        except StoreError:
            raise
        except Exception as e:  # surfaced in the log and the source's state, not the round's
            log.error("%s: internal error, please report it: %r", source.name, e, exc_info=e)
            return self._pipeline.failed(source, SourceError(f"internal error: {e!r}"))


def _due(source: Source, state: SourceState, now: datetime) -> bool:
    if state.config_url != source.url:
        return True  # a source whose config URL changed is due at once, even if disabled
    return state.disabled is None and (state.next_check is None or state.next_check <= now)
