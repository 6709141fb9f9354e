"""One source through fetch -> parse -> normalize -> store, within a round.

The one place that turns a source's failure into state: a SourceError becomes the
source's recorded error and backoff (as decide.py says); anything else is a bug and
propagates. Must NOT decide a state itself, nor hold anything past its round.
"""

from __future__ import annotations

import hashlib
import logging
import random
import time
from collections.abc import Callable, Sequence, Set
from dataclasses import replace
from datetime import datetime

from aggregator.errors import HostDeferred, SourceError, StoreError
from aggregator.fetch import Fetcher, auth_header
from aggregator.normalize import reconcile
from aggregator.parse.html import advertised_feeds, is_html
from aggregator.parse.hubs import header_links, websub_links
from aggregator.store.api import UpdateStore
from aggregator.types import (
    Attempt,
    Config,
    FetchResult,
    Post,
    Source,
    SourceState,
    StoredIdentity,
    UpsertResult,
)
from aggregator.update import decide
from aggregator.update.fulltext import FullText, enrich_within
from aggregator.update.leftout import log_left_out
from aggregator.update.report import SourceOutcome
from aggregator.update.round import Round
from aggregator.update.worker import Job, JobResult
from aggregator.websub.records import Push

__all__ = ["Pipeline"]

# Named as before the stage became a package: the JSON log lines carry it.
log = logging.getLogger("aggregator.update")


class Pipeline:
    """Carries one source at a time through the stages, in `round`."""

    def __init__(
        self,
        config: Config,
        store: UpdateStore,
        round_: Round,
        *,
        clock: Callable[[], datetime],
        rng: random.Random,
    ) -> None:
        self.config = config
        self.store = store
        self.round = round_
        self.clock = clock
        self.rng = rng

    async def run(
        self, source: Source, fetcher: Fetcher, pushes: Sequence[Push] = ()
    ) -> SourceOutcome:
        """One source through the pipeline; its failure becomes its state. With `pushes`
        (bodies a WebSub hub sent for it), each of them instead of a fetch, in order.

        Raises: StoreError (the database failed, not the source).
        """
        state = decide.current_state(source, self.round.stored(source.name))
        if state.disabled:
            return SourceOutcome(name=source.name, status="disabled", error=state.disabled)
        at, started = self.clock(), time.monotonic()
        received: int | None = None
        try:
            if pushes:
                outcome = await self._pushed(source, state, pushes, fetcher)
                received = sum(len(p.body) for p in pushes)
                self.round.record(self._attempt(source, outcome, at, started, received))
                return outcome
            headers = source.headers
            if source.auth is not None:
                headers = (*headers, auth_header(source.auth))
            result = await fetcher.fetch(
                state.url,
                validators=state.validators,
                headers=headers,
                user_agent=source.user_agent,
            )
            received = len(result.content or b"")
            if source.html is None and result.content and is_html(result.content, result.headers):
                state, result = await self._discovered(source, state, result, fetcher, headers)
                received += len(result.content or b"")
            outcome = await self._fetched(source, state, result, fetcher)
        except HostDeferred as e:
            d = decide.after_deferred(
                source, state, e, now=self.clock(), settings=self.config.fetch, rng=self.rng
            )
            outcome = self._carry_out(source, d)
        except SourceError as e:
            outcome = self._failed(source, state, e)
        except StoreError as e:
            # The database failed, not the source: its fetch still counts (next check
            # recorded with the others), and the round stops.
            self._failed(source, state, SourceError(f"not stored: {e}"))
            raise
        self.round.record(self._attempt(source, outcome, at, started, received))
        return outcome

    def _attempt(
        self,
        source: Source,
        outcome: SourceOutcome,
        at: datetime,
        started: float,
        received: int | None,
    ) -> Attempt:
        return Attempt(
            source=source.name,
            at=at,
            outcome=outcome.status,
            seconds=time.monotonic() - started,
            http_status=outcome.http_status,
            bytes=received,
            new=outcome.new,
            updated=outcome.updated,
            error=outcome.error,
            node=self.round.node.id if self.round.node is not None else None,
        )

    async def _pushed(
        self, source: Source, state: SourceState, pushes: Sequence[Push], fetcher: Fetcher
    ) -> SourceOutcome:
        """Each push as the body of a fetch of the source's URL that answered 200 (WebSub
        §7: the hub's copy of the topic), through the same steps as a fetched one; the
        source's validators are kept for its next real fetch.

        Raises: SourceError (a push the parser refuses), StoreError.
        """
        outcome = SourceOutcome(name=source.name, status="unchanged")
        new = updated = 0
        for push in pushes:
            headers = {"content-type": push.content_type} if push.content_type else {}
            result = FetchResult(
                url=state.url,
                status=200,
                content=push.body,
                headers=headers,
                validators=state.validators,
                fetched_at=push.received,
            )
            outcome = await self._fetched(source, state, result, fetcher)
            new, updated = new + outcome.new, updated + outcome.updated
            log.info(
                "%s: push of %d bytes: %d new, %d updated",
                source.name,
                len(push.body),
                outcome.new,
                outcome.updated,
            )
        status = "new" if new or updated else outcome.status
        return replace(outcome, status=status, new=new, updated=updated, pushes=len(pushes))

    async def _discovered(
        self,
        source: Source,
        state: SourceState,
        page: FetchResult,
        fetcher: Fetcher,
        headers: tuple[tuple[str, str], ...],
    ) -> tuple[SourceState, FetchResult]:
        """A feed source's URL answered with an HTML page: the first feed the page
        advertises, fetched in this attempt, and the state reading it from now on
        (decide.after_discovery). A page advertising none is left to the parse stage,
        which refuses it as no feed.

        Raises: SourceError (the advertised feed's fetch failed).
        """
        feeds = advertised_feeds(page.content or b"", page.headers, url=page.url)
        if not feeds:
            return state, page
        d = decide.after_discovery(source, state, page=page.url, feed=feeds[0].url)
        for line in d.log:
            log.log(line.level, line.message, *line.args)
        # The page names the feed: from a public page it may not lead into a private
        # network, as a redirect from it may not (Fetcher.fetch).
        result = await fetcher.fetch(
            feeds[0].url,
            validators=d.state.validators,
            headers=headers,
            user_agent=source.user_agent,
            trusted=await fetcher.trusts_links_of(page.url),
        )
        return d.state, result

    def failed(self, source: Source, error: SourceError) -> SourceOutcome:
        """`source` failed with `error` outside the stages (updater.update_source)."""
        state = decide.current_state(source, self.round.stored(source.name))
        return self._failed(source, state, error)

    def _failed(self, source: Source, state: SourceState, error: SourceError) -> SourceOutcome:
        d = decide.after_failure(
            source, state, error, now=self.clock(), settings=self.config.fetch, rng=self.rng
        )
        return self._carry_out(source, d)

    def _carry_out(
        self, source: Source, d: decide.Decision, *, new: int = 0, updated: int = 0
    ) -> SourceOutcome:
        """Emit the decision's log lines, write what it says, and report it."""
        for line in d.log:
            log.log(line.level, line.message, *line.args)
        if d.defer_host is not None:
            h = d.defer_host
            self.round.write(self.store.defer_host, h.host, until=h.until, reason=h.reason)
        if d.save:
            self.round.save(d.state)
        assert d.status is not None
        return SourceOutcome(
            name=source.name,
            status=d.status,
            http_status=d.http_status,
            new=new,
            updated=updated,
            error=d.error,
            moved_to=d.moved_to,
        )

    async def _fetched(
        self, source: Source, state: SourceState, result: FetchResult, fetcher: Fetcher
    ) -> SourceOutcome:
        now = self.clock()
        settings, rng = self.config.fetch, self.rng
        digest = None if result.content is None else hashlib.sha256(result.content).hexdigest()
        d = decide.after_response(
            source, state, result, now=now, settings=settings, rng=rng, digest=digest
        )
        if d.status != "new-body":
            # A 304, or the same bytes as last time: only pages waiting from earlier rounds.
            outcome = self._carry_out(source, d)
            filled = await self._full_text(source, [], fetcher, now=now)
            return replace(outcome, updated=len(filled.updated))
        for line in d.log:
            log.log(line.level, line.message, *line.args)
        assert result.content is not None and digest is not None
        parsed = await self._parsed(source, result, now=now)
        if source.full_text:
            posts: list[Post] = []
            if parsed.posts:
                posts = await self.round.in_store(self._reconciled, parsed.posts, parsed.keys)
            upserted = await self._full_text(source, posts, fetcher, now=now, feed_keys=parsed.keys)
        else:
            # One trip to the store thread: identities, reconcile and upsert.
            upserted = await self.round.in_store(self._reconcile_and_upsert, parsed, now)
        new, updated = len(upserted.new), len(upserted.updated)
        if upserted.refused:
            # The others are stored, and published like any new post.
            refused = decide.after_posts_refused(
                source, state, upserted.refused, now=self.clock(), settings=settings, rng=rng
            )
            return self._carry_out(source, refused, new=new, updated=updated)
        feed = decide.FeedFields(
            title=parsed.title,
            link=parsed.link,
            feed_id=parsed.feed_id,
            ttl=parsed.ttl,
            dropped=parsed.dropped,
            item_dates=parsed.item_dates,
        )
        d = decide.after_body(
            source, state, result, feed, now=now, settings=settings, rng=rng, digest=digest
        )
        self.round.save(d.state)
        log.debug("%s: %d new, %d updated", source.name, new, updated)
        # WebSub §4: the Link header first, then the feed's own links.
        hubs, topic = websub_links(header_links(result.headers.get("link"), base=result.url))
        if not hubs:
            hubs, topic = parsed.hubs, parsed.self_url
        topic = topic or parsed.self_url
        return SourceOutcome(
            name=source.name,
            status="new" if new or updated else "unchanged",
            http_status=d.http_status,
            new=new,
            updated=updated,
            parsed=True,
            moved_to=d.moved_to,
            hubs=hubs,
            topic=topic,
        )

    async def _parsed(self, source: Source, result: FetchResult, *, now: datetime) -> JobResult:
        """The body parsed and normalized, what it left out logged. Raises: ParseError."""
        assert result.content is not None
        retention = self.config.site.retention
        job = Job(
            content=result.content,
            headers=dict(result.headers),
            url=result.url,
            source=source,
            category=self.config.categories.get(source.category),
            now=now,
            site_timezone=self.config.site.timezone,
            # Unchanged entries are not sanitized again.
            known=frozenset(await self.round.in_store(self.store.raw_hashes, source.name)),
            fast=self.config.parser != "feedparser",
            max_items=source.max_items or self.config.fetch.max_items,
            published_after=None if retention is None else now - retention,
        )
        parsed = await self.round.parsers.parse(job)
        log_left_out(source.name, parsed, max_items=job.max_items)
        return parsed

    async def _full_text(
        self,
        source: Source,
        fresh: Sequence[Post],
        fetcher: Fetcher,
        *,
        now: datetime,
        feed_keys: Set[str] = frozenset(),
    ) -> UpsertResult:
        """Store `fresh` (reconciled posts of this body) with their articles, and fetch the
        articles earlier rounds left, all in the source's one budget: a post whose page
        does not fit is stored with its summary now and its page tried next round.
        """
        if not source.full_text:
            return UpsertResult()
        waiting = await self.round.in_store(self.store.full_text_pending, source.name)
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
        return await self.round.in_store(self._store_full_text, text, now, keys, feed_keys)

    def _store_full_text(
        self, text: FullText, now: datetime, keys: Set[str], feed_keys: Set[str]
    ) -> UpsertResult:
        # This body's posts (`keys`) are reconciled again as they are written: another
        # node may have stored one of their stories while the articles were fetched. Those
        # waiting from earlier rounds are stored posts already.
        fresh = [p for p in text.posts if p.key in keys]
        waiting = [p for p in text.posts if p.key not in keys]
        written = self.store.upsert_posts(fresh, now=now, reconcile=self._reconciler(feed_keys))
        later = self.store.upsert_posts(waiting, now=now)
        upserted = UpsertResult(
            new=written.new + later.new,
            updated=written.updated + later.updated,
            unchanged=written.unchanged + later.unchanged,
            refused=written.refused + later.refused,
        )
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
        # Reconciled against the identities read in the write's own transaction, under the
        # post writers' lock: another node storing the same story now is seen.
        return self.store.upsert_posts(
            parsed.posts, now=now, reconcile=self._reconciler(parsed.keys)
        )

    def _reconciler(
        self, feed_keys: Set[str]
    ) -> Callable[[Sequence[Post], Sequence[StoredIdentity]], list[Post]]:
        """reconcile() with this body's keys and the categories' dedupe modes, for the
        store to run on the identities it reads under its lock."""
        modes = {slug: c.dedupe for slug, c in self.config.categories.items()}

        def reconciled(posts: Sequence[Post], stored: Sequence[StoredIdentity]) -> list[Post]:
            return reconcile(posts, stored, feed_keys=feed_keys, dedupe=modes)

        return reconciled
