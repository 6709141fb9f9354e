"""One source through fetch -> parse -> normalize -> store, and a round over many.

The one place that turns a source's failure into state: a SourceError becomes the
source's recorded error and backoff; anything else is a bug and propagates.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Executor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from aggregator.errors import FetchError, SourceError
from aggregator.fetch import Fetcher, FetchLimits
from aggregator.normalize import normalize
from aggregator.parse import parse
from aggregator.schedule import next_check
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

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceOutcome:
    """What happened to one source in a round."""

    name: str
    status: str  # "new" | "unchanged" | "not-modified" | "error" | "disabled"
    http_status: int | None = None
    new: int = 0
    updated: int = 0
    error: str | None = None


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
        )
    return stored


def _parse_and_normalize(
    result: FetchResult, source: Source, *, now: datetime, site_timezone: str
) -> tuple[list[Post], dict[str, str | None], timedelta | None]:
    assert result.content is not None
    feed = parse(result.content, result.headers, url=result.url)
    posts = normalize(feed, source, now=now, site_timezone=site_timezone, feed_url=result.url)
    meta = {"title": feed.title, "link": feed.link, "id": feed.feed_id}
    return posts, meta, feed.ttl


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
    ) -> None:
        self.config = config
        self.store = store
        self.limits = limits or limits_from(config)
        self.executor = executor
        self.clock = clock
        self.rng = rng or random.Random()

    def due_sources(self, *, every: bool = False) -> list[Source]:
        """The enabled sources due now (all enabled ones with `every`)."""
        names = [s.name for s in self.config.sources]
        if every:
            states = {s.name: s for s in self.store.states()}
            return [
                s for s in self.config.sources if not current_state(s, states.get(s.name)).disabled
            ]
        due = set(self.store.due(names, now=self.clock()))
        states = {s.name: s for s in self.store.states()}
        # A source whose config URL changed is due at once, even if disabled before.
        for s in self.config.sources:
            st = states.get(s.name)
            if st is not None and st.config_url != s.url:
                due.add(s.name)
        return [s for s in self.config.sources if s.name in due]

    async def run_round(
        self, sources: Iterable[Source] | None = None, *, every: bool = False
    ) -> RoundReport:
        """Fetch, parse, normalize and store the given (default: due) sources."""
        started = time.monotonic()
        todo = list(sources) if sources is not None else self.due_sources(every=every)
        report = RoundReport(due=len(todo))
        if todo:
            async with Fetcher(self.limits) as fetcher:
                report.outcomes = list(
                    await asyncio.gather(*(self.update_source(s, fetcher) for s in todo))
                )
        report.seconds = time.monotonic() - started
        return report

    async def update_source(self, source: Source, fetcher: Fetcher) -> SourceOutcome:
        """One source through the pipeline; its failure becomes its state."""
        state = current_state(source, self.store.get_state(source.name))
        if state.disabled:
            return SourceOutcome(name=source.name, status="disabled", error=state.disabled)
        try:
            result = await fetcher.fetch(
                state.url,
                validators=state.validators,
                headers=source.headers,
                user_agent=source.user_agent,
            )
            return await self._stored(source, state, result)
        except SourceError as e:
            return self._failed(source, state, e)

    async def _stored(
        self, source: Source, state: SourceState, result: FetchResult
    ) -> SourceOutcome:
        now = self.clock()
        ok = replace(
            state,
            validators=result.validators,
            last_fetched=now,
            last_success=now,
            last_status=result.status,
            failures=0,
            last_error=None,
        )
        if result.content is None:
            self._save(source, ok, now=now)
            return SourceOutcome(name=source.name, status="not-modified", http_status=304)
        digest = hashlib.sha256(result.content).hexdigest()
        if digest == state.content_hash:
            # The server ignored our validators but sent the same bytes: nothing to do.
            self._save(source, ok, now=now)
            return SourceOutcome(name=source.name, status="unchanged", http_status=result.status)
        loop = asyncio.get_running_loop()
        posts, meta, ttl = await loop.run_in_executor(
            self.executor,
            lambda: _parse_and_normalize(
                result, source, now=now, site_timezone=self.config.site.timezone
            ),
        )
        upserted: UpsertResult = self.store.upsert_posts(posts, now=now)
        ok = replace(
            ok,
            content_hash=digest,
            feed_title=meta["title"],
            feed_link=meta["link"],
            feed_id=meta["id"],
        )
        self._save(source, ok, now=now, min_interval=ttl)
        log.debug("%s: %d new, %d updated", source.name, len(upserted.new), len(upserted.updated))
        return SourceOutcome(
            name=source.name,
            status="new" if upserted.new or upserted.updated else "unchanged",
            http_status=result.status,
            new=len(upserted.new),
            updated=len(upserted.updated),
        )

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
            failed = replace(failed, disabled=f"410 Gone since {now:%Y-%m-%d %H:%M} UTC")
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
            rng=self.rng,
        )
        self.store.save_state(replace(state, next_check=due))
