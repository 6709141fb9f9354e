"""One source through fetch -> parse -> normalize -> store, and a round over many.

The one place that turns a source's failure into state: a SourceError becomes the
source's recorded error and backoff; anything else is a bug and propagates.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import os
import random
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import ParamSpec, TypeVar

from aggregator.errors import FetchError, ParseError, SourceError, StoreError
from aggregator.fetch import PRIVATE_NETWORKS, Fetcher, FetchLimits, HostDeferred, auth_header
from aggregator.fetch import host_key as _host_key
from aggregator.fulltext import FullText, enrich_within
from aggregator.normalize import clean_text, clean_token, clean_url, reconcile
from aggregator.schedule import cache_lifetime, next_check
from aggregator.store import Store
from aggregator.types import (
    UTC,
    Config,
    FetchResult,
    Post,
    Source,
    SourceState,
    UpsertResult,
    Validators,
)
from aggregator.worker import Job, JobResult, parse_and_normalize, process_pool, stop_pool

# A round with fewer sources than this parses in a thread: starting processes would cost
# more than it saves.
POOL_MIN_SOURCES = 8
# A body this large is parsed in a process even in a small round: a thread that overruns the
# parse budget cannot be stopped, a process can. Smaller bodies are cheap (each item's HTML
# is capped at normalize.MAX_BODY_CHARS, a feed of them takes well under a second).
PROCESS_MIN_BYTES = 1024 * 1024
# Source states are written in batches of this many (one transaction each), not one by one.
STATE_BATCH = 200

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceOutcome:
    """What happened to one source in a round."""

    name: str
    # "new" | "unchanged" | "not-modified" | "error" | "disabled" | "deferred" (its host asked
    # us to wait: nothing was sent)
    status: str
    http_status: int | None = None
    new: int = 0
    updated: int = 0
    error: str | None = None
    parsed: bool = False  # the body was parsed (False for a 304 and for an unchanged body)
    moved_to: str | None = None  # the source's URL moved here (permanent redirect) this time


@dataclass(slots=True)
class RoundReport:
    due: int = 0
    outcomes: list[SourceOutcome] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def fetched(self) -> int:
        return sum(o.status in ("new", "unchanged") for o in self.outcomes)

    @property
    def not_modified(self) -> int:
        return sum(o.status == "not-modified" for o in self.outcomes)

    @property
    def errors(self) -> list[SourceOutcome]:
        return [o for o in self.outcomes if o.status == "error"]

    @property
    def new(self) -> int:
        return sum(o.new for o in self.outcomes)

    @property
    def updated(self) -> int:
        return sum(o.updated for o in self.outcomes)

    @property
    def changed(self) -> bool:
        return bool(self.new or self.updated)

    def summary(self) -> str:
        return (
            f"round: {self.due} due, {self.fetched} fetched, {self.not_modified} not modified, "
            f"{self.new} new, {self.updated} updated, {len(self.errors)} errors "
            f"in {self.seconds:.2f}s"
        )


def limits_from(config: Config) -> FetchLimits:
    f = config.fetch
    return FetchLimits(
        connect_timeout=f.connect_timeout,
        read_timeout=f.read_timeout,
        total_timeout=f.total_timeout,
        max_bytes=f.max_bytes,
        max_connections=f.concurrency,
        per_host=f.per_host,
        max_redirects=f.max_redirects,
        allow_private=f.allow_private,
        private_networks=(
            PRIVATE_NETWORKS if f.private_networks is None else tuple(f.private_networks)
        ),
    )


def initial_state(source: Source) -> SourceState:
    return SourceState(name=source.name, url=source.url, config_url=source.url)


def current_state(source: Source, stored: SourceState | None) -> SourceState:
    """The state to work from: a changed config URL starts the source afresh."""
    if stored is None:
        return initial_state(source)
    if stored.config_url != source.url:
        # The operator moved the source: forget validators, errors and a disabling.
        return replace(
            stored,
            url=source.url,
            config_url=source.url,
            validators=Validators(),
            content_hash=None,
            failures=0,
            last_error=None,
            disabled=None,
            next_check=None,
            redirect_target=None,
            redirect_count=0,
        )
    return stored


def storable(state: SourceState) -> SourceState:
    """`state` with every field that a feed or a server wrote cleaned for the store: no
    control character (PostgreSQL refuses a NUL byte; a terminal shows the others), the
    URLs percent-encoded as a browser would, a validator holding one dropped (it could not
    be sent back as it came). The name and config URL are the operator's, and kept.

    Raises: nothing.
    """
    validators = state.validators
    etag, last_modified = _token(validators.etag), _token(validators.last_modified)
    if (etag, last_modified) != (validators.etag, validators.last_modified):
        validators = Validators(etag=etag, last_modified=last_modified)
    url, redirect_target = _url(state.url) or state.config_url, _url(state.redirect_target)
    feed_title, feed_link, feed_id = (
        _text(state.feed_title),
        _url(state.feed_link),
        _url(state.feed_id),
    )
    last_error, disabled = _text(state.last_error), _text(state.disabled)
    if (
        validators is state.validators
        and url is state.url
        and feed_title is state.feed_title
        and feed_link is state.feed_link
        and feed_id is state.feed_id
        and last_error is state.last_error
        and disabled is state.disabled
        and redirect_target is state.redirect_target
    ):
        return state  # the usual case: a new record would cost more than the checks
    return replace(
        state,
        url=url,
        validators=validators,
        feed_title=feed_title,
        feed_link=feed_link,
        feed_id=feed_id,
        last_error=last_error,
        disabled=disabled,
        redirect_target=redirect_target,
    )


# Every state of a round passes through storable, almost always clean: these return a value
# that the cleaning would leave as it is without running it (isprintable is False for every
# control, lone surrogate and noncharacter), ~4x faster on a 304's state.


def _url(value: str | None) -> str | None:
    if value is None or (value.isascii() and value.isprintable() and " " not in value):
        return value
    return clean_url(value)


def _token(value: str | None) -> str | None:
    return value if value is None or value.isprintable() else clean_token(value)


def _text(value: str | None) -> str | None:
    if value is None or (value.isprintable() and "  " not in value and value == value.strip()):
        return value
    return clean_text(value)


def followed(state: SourceState, result: FetchResult, *, threshold: int) -> SourceState:
    """`state` after a successful fetch: counts a permanent redirect, moves the source at
    `threshold` consecutive sightings of the same target (a flicker must not move it).

    Raises: nothing.
    """
    target = result.permanent_redirect
    if target is None or target == state.url:
        return replace(state, redirect_target=None, redirect_count=0)
    count = state.redirect_count + 1 if target == state.redirect_target else 1
    if count >= threshold:
        return replace(state, url=target, redirect_target=None, redirect_count=0)
    return replace(state, redirect_target=target, redirect_count=count)


class Updater:
    """Runs rounds for one config against one store."""

    def __init__(
        self,
        config: Config,
        store: Store,
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
        self._pool: ProcessPoolExecutor | None = None  # this round's own process pool, if any
        # Pools stopped this round because a job overran the parse budget: their other jobs
        # are submitted again, not failed.
        self._stopped: list[ProcessPoolExecutor] = []
        self._pool_slots: asyncio.Semaphore | None = None  # jobs in the pool, at most workers
        self._pool_up: Future[int] | None = None  # done once self._pool has a worker
        self._want_pool = False  # this round parses in its own pool (started when needed)
        self._states: dict[str, SourceState] | None = None  # read once per round
        self._unsaved: list[SourceState] | None = None  # None: save each state at once
        # This round's store thread: every store call of a round runs on it, in order, so
        # that the event loop goes on fetching and feeding the parsers while SQLite writes
        # (it releases the GIL). None outside a round: calls run where they are made.
        self._store_thread: ThreadPoolExecutor | None = None
        self._writes: list[Future[object]] = []  # queued on the store thread, not awaited
        self._write_failed = False  # a queued write of this round raised StoreError
        self._sources: dict[str, Source] = {}  # this round's sources, by name
        # Sources of this round whose state the database refused (name -> why): they are
        # reported as failed, whatever their fetch gave.
        self._refused: dict[str, str] = {}
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

    async def run_round(
        self, sources: Iterable[Source] | None = None, *, every: bool = False
    ) -> RoundReport:
        """Fetch, parse, normalize and store the given (default: due) sources.

        A state or post that the database refuses fails its source only. When the database
        fails otherwise, no further source is started, the states of those fetched are
        still saved (or, failing that, the sources held: see `held`), and the round raises.

        Raises: StoreError.
        """
        started = time.monotonic()
        todo = list(sources) if sources is not None else self.due_sources(every=every)
        report = RoundReport(due=len(todo))
        failures: list[StoreError] = []  # the store failed, not a source: the round stops
        if todo:
            # One read of every state and batched writes: a 304 costs no transaction of its
            # own. Bodies held at once (fetched, not yet stored) are bounded by `slots`.
            self._states = {s.name: s for s in self.store.states()}
            self._unsaved = []
            self._sources = {s.name: s for s in todo}
            self._refused = {}
            self._store_thread = ThreadPoolExecutor(1, thread_name_prefix="store")
            # The pool starts with the first body to parse: a round of 304s needs none.
            self._want_pool = self.executor is None and len(todo) >= POOL_MIN_SOURCES
            outcomes: list[SourceOutcome | None] = [None] * len(todo)
            completed = False  # every lane finished: no job is left running in the pool

            async def lane(order: Iterator[int]) -> None:
                # Takes the next source until none is left: as many lanes as requests may
                # be in flight, so a round of 20,000 sources holds 50 tasks, not 20,000.
                for i in order:
                    if failures or self._write_failed:
                        return
                    try:
                        outcomes[i] = await self.update_source(todo[i], fetcher)
                    except StoreError as e:
                        failures.append(e)
                        return

            try:
                async with Fetcher(self.limits) as fetcher:
                    # Hosts that asked to be left alone in an earlier round (or another
                    # process).
                    for host, until in self.store.deferred_hosts(now=self.clock()).items():
                        fetcher.defer_host(host, until)
                    order = iter(_interleaved(todo))  # shared by the lanes
                    lanes = min(len(todo), self.limits.max_connections)
                    await asyncio.gather(*(lane(order) for _ in range(lanes)))
                report.outcomes = [o for o in outcomes if o is not None]
                completed = True
            finally:
                unsaved, self._unsaved, self._states = self._unsaved, None, None
                pool, self._pool, self._want_pool = self._pool, None, False
                self._stopped, self._pool_up, self._pool_slots = [], None, None
                store_thread, self._store_thread = self._store_thread, None
                writes, self._writes, self._write_failed = self._writes, [], False
                try:
                    # Writes queued on the store thread land before the last states.
                    if store_thread is not None:
                        store_thread.shutdown(wait=True)
                    for write in writes:
                        try:
                            write.result()  # a StoreError of a queued write fails the round
                        except StoreError as e:
                            failures.append(e)
                    # Saved whatever failed before: a failed round still records the next
                    # check of every source it fetched.
                    try:
                        self._save_batch(unsaved)
                    except StoreError as e:
                        failures.append(e)
                finally:
                    self._sources = {}
                    if pool is not None:
                        if completed:
                            pool.shutdown(wait=True, cancel_futures=True)
                        else:
                            # Cancelled or failed mid-round: a job may still be parsing,
                            # and waiting for it would hold the event loop (a stop would
                            # not be prompt). Its result has nobody to go to.
                            stop_pool(pool)
            refused, self._refused = self._refused, {}
            report.outcomes = [
                replace(o, status="error", error=refused[o.name]) if o.name in refused else o
                for o in report.outcomes
            ]
        if failures:
            raise failures[0]
        report.seconds = time.monotonic() - started
        return report

    async def update_source(self, source: Source, fetcher: Fetcher) -> SourceOutcome:
        """One source through the pipeline; its failure becomes its state."""
        stored = (
            self._states.get(source.name)
            if self._states is not None
            else self.store.get_state(source.name)
        )
        state = current_state(source, stored)
        if state.disabled:
            return SourceOutcome(name=source.name, status="disabled", error=state.disabled)
        try:
            headers = source.headers
            if source.auth is not None:
                headers = (*headers, auth_header(source.auth))
            result = await fetcher.fetch(
                state.url,
                validators=state.validators,
                headers=headers,
                user_agent=source.user_agent,
            )
            return await self._stored(source, state, result, fetcher)
        except HostDeferred as e:
            return self._deferred(source, state, e)
        except SourceError as e:
            return self._failed(source, state, e)
        except StoreError as e:
            # The database failed, not the source: its fetch still counts (next check
            # recorded with the others), and the round stops.
            self._failed(source, state, SourceError(f"not stored: {e}"))
            raise

    async def _stored(
        self, source: Source, state: SourceState, result: FetchResult, fetcher: Fetcher
    ) -> SourceOutcome:
        now = self.clock()
        ok = replace(
            followed(state, result, threshold=self.config.fetch.redirect_threshold),
            validators=result.validators,
            last_fetched=now,
            last_success=now,
            last_status=result.status,
            failures=0,
            last_error=None,
        )
        moved_to = ok.url if ok.url != state.url else None
        if moved_to:
            log.warning(
                "%s: moved permanently to %s (change url in %s)",
                source.name,
                moved_to,
                source.origin,
            )
        lifetime = cache_lifetime(result.headers, now=now) if source.respect_cache else None
        if result.content is None:
            self._save(source, ok, now=now, min_interval=self._lower_bound(source, ok, lifetime))
            filled = await self._full_text(source, [], fetcher, now=now)
            return SourceOutcome(
                name=source.name,
                status="not-modified",
                http_status=304,
                updated=len(filled.updated),
                moved_to=moved_to,
            )
        digest = hashlib.sha256(result.content).hexdigest()
        status = result.status
        if digest == state.content_hash:
            # The server ignored our validators but sent the same bytes: nothing to do.
            self._save(source, ok, now=now, min_interval=self._lower_bound(source, ok, lifetime))
            filled = await self._full_text(source, [], fetcher, now=now)
            return SourceOutcome(
                name=source.name,
                status="unchanged",
                http_status=result.status,
                updated=len(filled.updated),
                moved_to=moved_to,
            )
        job = Job(
            content=result.content,
            headers=dict(result.headers),
            url=result.url,
            source=source,
            category=self.config.categories.get(source.category),
            now=now,
            site_timezone=self.config.site.timezone,
            # Unchanged entries are not sanitized again.
            known=frozenset(await self._in_store(self.store.raw_hashes, source.name)),
            fast=self.config.parser != "feedparser",
            max_items=source.max_items or self.config.fetch.max_items,
        )
        parsed = await self._parse(job)
        if parsed.dropped:
            log.warning(
                "%s: %d items past max_items dropped (the newest %d kept)",
                source.name,
                parsed.dropped,
                job.max_items,
            )
        if parsed.dropped_links:
            log.warning(
                "%s: %d item link(s) left out, not http(s) URLs (first: %r);"
                " those items are published without a link",
                source.name,
                len(parsed.dropped_links),
                parsed.dropped_links[0][:200],
            )
        for cut in parsed.oversized:
            log.warning(
                "%s: item %s: body of %d characters cut to %d before sanitizing",
                source.name,
                cut.item or "(no link)",
                cut.size,
                cut.kept,
            )
        if source.full_text:
            posts: list[Post] = []
            if parsed.posts:
                posts = await self._in_store(self._reconciled, parsed.posts, parsed.keys)
            upserted = await self._full_text(source, posts, fetcher, now=now)
        else:
            # One trip to the store thread: identities, reconcile and upsert.
            upserted = await self._in_store(self._reconcile_and_upsert, parsed, now)
        if upserted.refused:
            key, reason = upserted.refused[0]
            failed = self._failed(
                source,
                state,
                SourceError(
                    f"the database refused {len(upserted.refused)} of its posts "
                    f"(first {key}): {reason}"
                ),
            )
            # The others are stored, and published like any new post.
            return replace(failed, new=len(upserted.new), updated=len(upserted.updated))
        ok = replace(
            ok,
            content_hash=digest,
            feed_title=parsed.title,
            feed_link=parsed.link,
            feed_id=parsed.feed_id,
            feed_ttl=parsed.ttl,
            dropped_items=parsed.dropped,
        )
        self._save(source, ok, now=now, min_interval=self._lower_bound(source, ok, lifetime))
        log.debug("%s: %d new, %d updated", source.name, len(upserted.new), len(upserted.updated))
        return SourceOutcome(
            name=source.name,
            status="new" if upserted.new or upserted.updated else "unchanged",
            http_status=status,
            new=len(upserted.new),
            updated=len(upserted.updated),
            parsed=True,
            moved_to=moved_to,
        )

    async def _full_text(
        self, source: Source, fresh: Sequence[Post], fetcher: Fetcher, *, now: datetime
    ) -> UpsertResult:
        """Store `fresh` (reconciled posts of this body) with their articles, and fetch the
        articles earlier rounds left, all in the source's one budget: a post whose page
        does not fit is stored with its summary now and its page tried next round.
        """
        if not source.full_text:
            return UpsertResult()
        waiting = await self._in_store(self.store.full_text_pending, source.name)
        keys = {p.key for p in fresh}
        # This body's posts first, then those waiting from earlier rounds (the oldest
        # first): a few pages that never answer in time must not starve every new post,
        # and they are given up after a few rounds (Store.mark_full_text).
        todo = [*fresh, *(p for p in waiting if p.key not in keys)]
        if not todo:
            return UpsertResult()
        budget = source.full_text_budget or self.config.fetch.full_text_budget
        text = await enrich_within(
            todo, fetcher, budget=budget, allow_data_images=source.allow_data_images
        )
        return await self._in_store(self._store_full_text, text, now)

    def _store_full_text(self, text: FullText, now: datetime) -> UpsertResult:
        upserted = self.store.upsert_posts(text.posts, now=now)
        late = set(text.late)
        self.store.mark_full_text([p.key for p in text.posts if p.key not in late], pending=False)
        self.store.mark_full_text(text.late, pending=True)
        return upserted

    def _reconciled(self, posts: Sequence[Post], keys: set[str]) -> list[Post]:
        """`posts` as the store should take them: identities kept across changed guids and
        older key formulas, another source's copy of a story dropped as its category's
        `dedupe` says."""
        stored = self.store.identities(
            keys=[p.key for p in posts],
            links=[p.canonical_link for p in posts],
            text_hashes=[p.text_hash for p in posts],
            legacy_keys=[p.legacy_key for p in posts],
        )
        modes = {slug: c.dedupe for slug, c in self.config.categories.items()}
        return reconcile(posts, stored, feed_keys=keys, dedupe=modes)

    def _reconcile_and_upsert(self, parsed: JobResult, now: datetime) -> UpsertResult:
        return self.store.upsert_posts(self._reconciled(parsed.posts, parsed.keys), now=now)

    async def _in_store(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """`fn(*args, **kwargs)` on this round's store thread (here, outside a round)."""
        thread = self._store_thread
        if thread is None:
            return fn(*args, **kwargs)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(thread, functools.partial(fn, *args, **kwargs))

    async def _parse(self, job: Job) -> JobResult:
        """Parse and normalize off the event loop: in this round's pool, or `executor`.

        A job gets `fetch.parse_timeout` seconds; in a process, one that overruns is killed.

        Raises: ParseError (from the job, when it overran its budget, or when the worker
        process died on it).
        """
        budget = self.config.fetch.parse_timeout
        in_process = self._want_pool or (
            self.executor is None and len(job.content) >= PROCESS_MIN_BYTES
        )
        if in_process and self._pool is None:
            self._start_pool()
        if not in_process or self._pool is None:
            loop = asyncio.get_running_loop()
            future = loop.run_in_executor(self.executor, parse_and_normalize, job)
            try:
                return await asyncio.wait_for(future, budget)
            except TimeoutError:
                # A thread cannot be stopped: it finishes on its own (bodies here are small).
                raise ParseError(_overran(budget)) from None
        if self._pool_slots is None:
            self._pool_slots = asyncio.Semaphore(_workers())
        async with self._pool_slots:
            return await self._in_pools(job, budget)

    async def _in_pools(self, job: Job, budget: float) -> JobResult:
        """_in_pool in this round's pool, again in a fresh one when the pool was stopped
        for another job.

        At most as many jobs are handed to the pool as it has workers (the caller holds a
        slot): one queued behind busy workers would count as running to `future.running()`
        (the pool's call queue takes one more than it has workers) and spend its budget
        waiting.

        Raises: ParseError (see _parse).
        """
        while True:
            pool = self._pool
            assert pool is not None
            try:
                return await self._in_pool(pool, job, budget)
            except BrokenProcessPool as e:
                if any(pool is stopped for stopped in self._stopped):
                    # Stopped for another source's overrun: this job was not at fault.
                    continue
                # A parser crashed its process (a native library on hostile bytes): the feed
                # fails like any unreadable one, and the round goes on with a fresh pool.
                if self._pool is pool:
                    pool.shutdown(wait=False, cancel_futures=True)
                    self._start_pool()
                raise ParseError("the parser process died on this feed") from e

    def _start_pool(self) -> None:
        """A fresh pool for this round, and a first job that tells when it has a worker."""
        self._pool = process_pool(_workers())
        self._pool_up = self._pool.submit(int)

    async def _in_pool(self, pool: ProcessPoolExecutor, job: Job, budget: float) -> JobResult:
        """`job` in `pool`, its worker killed (and the pool replaced) when the job runs
        longer than `budget` seconds.

        Raises: ParseError when it overran; BrokenProcessPool; what the job raises.
        """
        future = pool.submit(parse_and_normalize, job)
        wrapped = asyncio.wrap_future(future)
        up = self._pool_up
        # The budget counts from when the job left the pool's queue and the pool has a
        # worker: a job waiting behind others, or for processes to start, is not
        # overrunning. Checked in quarters of it, so an overrun ends within 1.25x.
        step = budget / 4
        running = 0.0
        while running < budget:
            done, _ = await asyncio.wait({wrapped}, timeout=step)
            if done:
                if future.cancelled():
                    # Dropped from the queue of a pool stopped for another job's overrun.
                    raise BrokenProcessPool("the pool was stopped")
                return wrapped.result()
            if future.running() and (up is None or up.done()):
                running += step
        wrapped.cancel()
        if self._pool is pool:
            self._stopped.append(pool)
            stop_pool(pool)
            self._start_pool()
        raise ParseError(_overran(budget))

    def _lower_bound(
        self, source: Source, state: SourceState, lifetime: timedelta | None
    ) -> timedelta | None:
        """The least delay the server or feed asked for: cache lifetime or <ttl>, capped."""
        if not source.respect_cache:
            return None
        hints = [h for h in (lifetime, state.feed_ttl) if h is not None]
        if not hints:
            return None
        # A year-long max-age (a misconfigured CDN) must not silence a source for a year.
        return min(max(hints), max(self.config.fetch.max_backoff, source.interval))

    def _deferred(self, source: Source, state: SourceState, error: HostDeferred) -> SourceOutcome:
        now = self.clock()
        self._save(source, state, now=now, retry_after=error.retry_after)
        log.info("%s: %s", source.name, error)
        return SourceOutcome(name=source.name, status="deferred", error=str(error))

    def _failed(self, source: Source, state: SourceState, error: SourceError) -> SourceOutcome:
        now = self.clock()
        status = error.status if isinstance(error, FetchError) else None
        retry_after = error.retry_after if isinstance(error, FetchError) else None
        failed = replace(
            state,
            last_fetched=now,
            last_status=status if status is not None else state.last_status,
            failures=state.failures + 1,
            last_error=str(error),
        )
        if status == 410:
            failed = replace(
                failed,
                disabled=(
                    f"HTTP 410 Gone at {now:%Y-%m-%d %H:%M} UTC "
                    f"(`aggregator sources enable {source.name}` or a new url re-enables it)"
                ),
            )
        if retry_after is not None and status in (429, 503):
            # The whole host asked for a pause, not just this feed (RFC 6585 §4).
            self._write(
                self.store.defer_host,
                _host_key(state.url),
                until=now + retry_after,
                reason=f"HTTP {status}",
            )
        self._save(source, failed, now=now, retry_after=retry_after)
        log.warning("%s: %s", source.name, error)
        return SourceOutcome(name=source.name, status="error", http_status=status, error=str(error))

    def _save(
        self,
        source: Source,
        state: SourceState,
        *,
        now: datetime,
        retry_after: timedelta | None = None,
        min_interval: timedelta | None = None,
    ) -> None:
        due = next_check(
            source,
            now=now,
            failures=state.failures,
            retry_after=retry_after,
            min_interval=min_interval,
            max_backoff=self.config.fetch.max_backoff,
            rng=self.rng,
        )
        state = storable(replace(state, next_check=due))
        if self._unsaved is None:
            self._save_batch([state], {source.name: source})
            return
        self._unsaved.append(state)
        if len(self._unsaved) >= STATE_BATCH:
            self._write(self._save_batch, self._unsaved)
            self._unsaved = []

    def _save_batch(
        self, states: Sequence[SourceState], sources: Mapping[str, Source] | None = None
    ) -> None:
        """Save `states` (on the store thread, in a round); a state the database refuses
        fails its source instead: the state it had, with this failure and a next check.

        Raises: StoreError when the database fails otherwise; the sources are then held
        until the next check their states held.
        """
        if not states:
            return
        by_name = self._sources if sources is None else sources
        try:
            refused = self.store.save_states(states)
            if not refused:
                return
            previous = {s.name: s for s in self.store.states() if s.name in refused}
            fallbacks = []
            for state in states:
                reason = refused.get(state.name)
                source = by_name.get(state.name)
                if reason is None or source is None:
                    continue
                error = f"the database refused this source's state: {reason}"
                log.warning("%s: %s", state.name, error)
                self._refused[state.name] = error
                before = current_state(source, previous.get(state.name))
                failed = replace(
                    before,
                    last_fetched=state.last_fetched,
                    failures=before.failures + 1,
                    last_error=error,
                )
                due = next_check(
                    source,
                    now=state.last_fetched or self.clock(),
                    failures=failed.failures,
                    max_backoff=self.config.fetch.max_backoff,
                    rng=self.rng,
                )
                fallbacks.append(storable(replace(failed, next_check=max(due, _after(state)))))
            unsaved = self.store.save_states(fallbacks)
            for name, reason in unsaved.items():
                log.error("%s: the database refused its state twice: %s", name, reason)
                self._hold([s for s in fallbacks if s.name == name])
        except StoreError:
            self._hold(states)
            raise

    def _hold(self, states: Iterable[SourceState]) -> None:
        for state in states:
            if state.next_check is not None:
                self.held[state.name] = max(state.next_check, self.held.get(state.name, UTC_MIN))

    def _write(self, fn: Callable[P, object], *args: P.args, **kwargs: P.kwargs) -> None:
        """Queue a store write on this round's store thread, after every write queued
        before it (a source's state after its posts); outside a round, write now.
        A failure is raised when the round ends."""
        if self._store_thread is None:
            fn(*args, **kwargs)
            return
        future = self._store_thread.submit(fn, *args, **kwargs)
        future.add_done_callback(self._note_failed_write)
        self._writes.append(future)

    def _note_failed_write(self, future: Future[object]) -> None:
        # On the store thread: the lanes start no further source once a write failed.
        if not future.cancelled() and isinstance(future.exception(), StoreError):
            self._write_failed = True


def _overran(budget: float) -> str:
    return (
        f"parse took longer than {budget:g}s; stopped, the source is tried again at its "
        "next check (fetch.parse_timeout)"
    )


UTC_MIN = datetime.min.replace(tzinfo=UTC)


def _after(state: SourceState) -> datetime:
    return state.next_check or UTC_MIN


def _workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


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
