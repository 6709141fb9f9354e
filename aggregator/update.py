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
from aggregator.fetch import PRIVATE_NETWORKS, Fetcher, FetchLimits, HostDeferred, auth_header
from aggregator.fetch import host_key as _host_key
from aggregator.fulltext import enrich
from aggregator.normalize import entry_keys, normalize, reconcile
from aggregator.parse import parse
from aggregator.schedule import cache_lifetime, next_check
from aggregator.store import Store
from aggregator.types import (
    UTC,
    Category,
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


def _parse_and_normalize(
    result: FetchResult,
    source: Source,
    *,
    now: datetime,
    site_timezone: str,
    category: Category | None = None,
    known: set[str] | None = None,
    fast: bool = True,
) -> tuple[list[Post], dict[str, str | None], timedelta | None, set[str]]:
    assert result.content is not None
    feed = parse(result.content, result.headers, url=result.url, fast=fast)
    posts = normalize(
        feed,
        source,
        now=now,
        site_timezone=site_timezone,
        feed_url=result.url,
        category=category,
        known=known or set(),
    )
    meta = {"title": feed.title, "link": feed.link, "id": feed.feed_id}
    return posts, meta, feed.ttl, entry_keys(feed, source, feed_url=result.url)


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
                # Hosts that asked to be left alone in an earlier round (or another process).
                for host, until in self.store.deferred_hosts(now=self.clock()).items():
                    fetcher.defer_host(host, until)
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
            return SourceOutcome(
                name=source.name, status="not-modified", http_status=304, moved_to=moved_to
            )
        digest = hashlib.sha256(result.content).hexdigest()
        if digest == state.content_hash:
            # The server ignored our validators but sent the same bytes: nothing to do.
            self._save(source, ok, now=now, min_interval=self._lower_bound(source, ok, lifetime))
            return SourceOutcome(
                name=source.name, status="unchanged", http_status=result.status, moved_to=moved_to
            )
        loop = asyncio.get_running_loop()
        category = self.config.categories.get(source.category)
        known = self.store.raw_hashes(source.name)  # unchanged entries are not sanitized again
        posts, meta, ttl, keys = await loop.run_in_executor(
            self.executor,
            lambda: _parse_and_normalize(
                result,
                source,
                now=now,
                site_timezone=self.config.site.timezone,
                category=category,
                known=known,
                fast=self.config.parser != "feedparser",
            ),
        )
        # Keep identities across changed guids; drop another source's copy of a story.
        stored = self.store.identities(
            keys=[p.key for p in posts],
            links=[p.canonical_link for p in posts],
            text_hashes=[p.text_hash for p in posts],
        )
        modes = {slug: c.dedupe for slug, c in self.config.categories.items()}
        posts = reconcile(posts, stored, feed_keys=keys, dedupe=modes)
        if source.full_text and posts:
            posts = await enrich(
                posts, fetcher, allow_data_images=source.allow_data_images, executor=self.executor
            )
        upserted: UpsertResult = self.store.upsert_posts(posts, now=now)
        ok = replace(
            ok,
            content_hash=digest,
            feed_title=meta["title"],
            feed_link=meta["link"],
            feed_id=meta["id"],
            feed_ttl=ttl,
        )
        self._save(source, ok, now=now, min_interval=self._lower_bound(source, ok, lifetime))
        log.debug("%s: %d new, %d updated", source.name, len(upserted.new), len(upserted.updated))
        return SourceOutcome(
            name=source.name,
            status="new" if upserted.new or upserted.updated else "unchanged",
            http_status=result.status,
            new=len(upserted.new),
            updated=len(upserted.updated),
            parsed=True,
            moved_to=moved_to,
        )

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
            self.store.defer_host(
                _host_key(state.url), until=now + retry_after, reason=f"HTTP {status}"
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
        self.store.save_state(replace(state, next_check=due))
