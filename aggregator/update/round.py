"""One round's resources, a context manager: the state snapshot, the store thread and its
write queue, batched state saves (under the node's leases on a shared store) and history,
the round's parsers.

Must NOT fetch or decide a source's state (decide.py does; the pipeline carries it out):
it only reads, queues and writes what it is given, in order.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, ParamSpec, TypeVar

from aggregator.errors import StoreError
from aggregator.store.api import SourceStates
from aggregator.types import UTC, Attempt, FetchSettings, Source, SourceState
from aggregator.update import decide
from aggregator.update.pool import Parsers

if TYPE_CHECKING:
    from aggregator.update.node import Node

__all__ = ["STATE_BATCH", "Round"]

# Source states are written in batches of this many (one transaction each), not one by one.
STATE_BATCH = 200

UTC_MIN = datetime.min.replace(tzinfo=UTC)

# Named as before the stage became a package: the JSON log lines carry it.
log = logging.getLogger("aggregator.update")

P = ParamSpec("P")
T = TypeVar("T")


class Round:
    """One round over `sources`: one read of every state and batched writes (a 304 costs no
    transaction of its own), every store call on one thread of its own, in order, so that
    the event loop goes on fetching and feeding the parsers while SQLite writes (it
    releases the GIL).

    On exit, the queued writes land, the last states are saved (a failed round still
    records the next check of every source it fetched) and the parsers end; the store's
    failures are in `failures`.

    With a `node` (a shared store), the states are read as sources are claimed (`load`),
    after the claim, and saved only while the node holds their leases, which each save
    releases; leases claimed but not saved are released on exit.
    """

    def __init__(
        self,
        store: SourceStates,
        sources: Sequence[Source],
        parsers: Parsers,
        *,
        settings: FetchSettings,
        clock: Callable[[], datetime],
        rng: random.Random,
        held: dict[str, datetime],
        node: Node | None = None,
        history: bool = True,
    ) -> None:
        self.store = store
        self.node = node
        self.history = history  # whether attempts are recorded (`history.record`)
        self.parsers = parsers
        self.settings = settings
        self.clock = clock
        self.rng = rng
        self.held = held  # the Updater's: see Updater.held
        self.sources = {s.name: s for s in sources}
        self.failures: list[StoreError] = []  # the store failed, not a source: the round stops
        # Sources whose state the database refused (name -> why): they are reported as
        # failed, whatever their fetch gave.
        self.refused: dict[str, str] = {}
        self.write_failed = False  # a queued write raised StoreError
        self._states: dict[str, SourceState] = {}
        self._unsaved: list[SourceState] = []
        self._thread: ThreadPoolExecutor | None = None
        self._writes: list[Future[object]] = []  # queued on the store thread, not awaited
        self._claimed: set[str] = set()  # leases this round holds, until each is saved
        self._attempts: list[Attempt] = []  # history not yet written

    def __enter__(self) -> Round:
        if self.node is None:
            self._states = {s.name: s for s in self.store.states()}
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="store")
        return self

    def load(self, names: Sequence[str]) -> None:
        """Read the states of `names`, just claimed (on the store thread, in a round)."""
        self._claimed.update(names)
        self._states.update((s.name, s) for s in self.store.get_states(names))

    def forget(self, names: Sequence[str]) -> None:
        """`names` were given back unfetched: no longer this round's to release."""
        self._claimed.difference_update(names)

    def flush(self) -> None:
        """Queue the states saved so far now, not with a full batch: their leases are
        released by the write (on a shared store, before the next claim)."""
        if self._unsaved:
            self.write(self.save_batch, self._unsaved)
            self._unsaved = []

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        unsaved, self._unsaved = self._unsaved, []
        thread, self._thread = self._thread, None
        writes, self._writes = self._writes, []
        try:
            # Writes queued on the store thread land before the last states.
            if thread is not None:
                thread.shutdown(wait=True)
            for write in writes:
                try:
                    write.result()  # a StoreError of a queued write fails the round
                except StoreError as e:
                    self.failures.append(e)
            try:
                self.save_batch(unsaved)
            except StoreError as e:
                self.failures.append(e)
            attempts, self._attempts = self._attempts, []
            self._record(attempts)
            if self.node is not None and self._claimed:
                try:
                    self.node.release(sorted(self._claimed))
                except StoreError as e:
                    # They run out within a lease; the node's leave releases them too.
                    log.warning("cannot release %d leases: %s", len(self._claimed), e)
        finally:
            self.parsers.close(completed=exc_type is None)

    @property
    def stopping(self) -> bool:
        """The store failed: no further source is started."""
        return bool(self.failures) or self.write_failed

    def stored(self, name: str) -> SourceState | None:
        """The state `name` had when the round began."""
        return self._states.get(name)

    async def in_store(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """`fn(*args, **kwargs)` on the store thread, after every write queued before it."""
        assert self._thread is not None, "not in a round"
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._thread, functools.partial(fn, *args, **kwargs))

    def write(self, fn: Callable[P, object], *args: P.args, **kwargs: P.kwargs) -> None:
        """Queue a store write on the store thread, after every write queued before it (a
        source's state after its posts). A failure is raised when the round ends."""
        assert self._thread is not None, "not in a round"
        future = self._thread.submit(fn, *args, **kwargs)
        future.add_done_callback(self._note_failed_write)
        self._writes.append(future)

    def record(self, attempt: Attempt) -> None:
        """Add `attempt` to the history, with the next batch (a failed write of history
        fails no source: it is logged, and the round goes on); nothing with `history`
        off."""
        if not self.history:
            return
        self._attempts.append(attempt)
        if len(self._attempts) >= STATE_BATCH:
            self.write(self._record, self._attempts)
            self._attempts = []

    def _record(self, made: Sequence[Attempt]) -> None:
        try:
            self.store.record_attempts(made)
        except StoreError as e:
            log.warning("history of %d attempts not recorded: %s", len(made), e)

    def save(self, state: SourceState) -> None:
        """Save `state` (already scheduled and cleaned) with the next batch."""
        self._unsaved.append(state)
        if len(self._unsaved) >= STATE_BATCH:
            self.write(self.save_batch, self._unsaved)
            self._unsaved = []

    def save_batch(
        self, states: Sequence[SourceState], sources: Mapping[str, Source] | None = None
    ) -> None:
        """Save `states` (on the store thread, in a round); a state the database refuses
        fails its source instead: the state it had, with this failure and a next check.

        Raises: StoreError when the database fails otherwise; the sources are then held
        until the next check their states held.
        """
        if not states:
            return
        by_name = self.sources if sources is None else sources
        try:
            refused = self._save(states)
            if not refused:
                return
            previous = {s.name: s for s in self.store.get_states(list(refused))}
            fallbacks = []
            for state in states:
                reason = refused.get(state.name)
                source = by_name.get(state.name)
                if reason is None or source is None:
                    continue
                decision = decide.after_state_refused(
                    source,
                    previous.get(state.name),
                    state,
                    reason,
                    now=state.last_fetched or self.clock(),
                    settings=self.settings,
                    rng=self.rng,
                )
                for line in decision.log:
                    log.log(line.level, line.message, *line.args)
                assert decision.error is not None
                self.refused[state.name] = decision.error
                fallbacks.append(decision.state)
            unsaved = self._save(fallbacks)
            for name, reason in unsaved.items():
                log.error("%s: the database refused its state twice: %s", name, reason)
                self.hold([s for s in fallbacks if s.name == name])
        except StoreError:
            self.hold(states)
            raise

    def _save(self, states: Sequence[SourceState]) -> Mapping[str, str]:
        """Save `states` (under the node's leases, if any); the refused, name -> why."""
        if self.node is None:
            return self.store.save_states(states)
        saved = self.node.save(states)
        self._claimed.difference_update(s.name for s in states if s.name not in saved.refused)
        return saved.refused

    def hold(self, states: Iterable[SourceState]) -> None:
        """Keep `states`' sources from being fetched again before their next check."""
        for state in states:
            if state.next_check is not None:
                self.held[state.name] = max(state.next_check, self.held.get(state.name, UTC_MIN))

    def _note_failed_write(self, future: Future[object]) -> None:
        # On the store thread: the lanes start no further source once a write failed.
        if not future.cancelled() and isinstance(future.exception(), StoreError):
            self.write_failed = True
