"""What a source's state becomes: after an attempt, a changed config, or an operator's act.

Pure: no network, no store, no clock (`now` is a parameter), randomness passed in. Every
transition returns a `Decision`; the I/O code (pipeline, round, the daemon's reschedule,
`sources enable`) only carries it out. Must NOT log, write or fetch itself.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from aggregator.errors import FetchError, HostDeferred, SourceError
from aggregator.schedule import as_scheduled, cache_lifetime, next_check, posting_rate, schedule_key
from aggregator.types import UTC, FetchResult, FetchSettings, Source, SourceState, Validators
from aggregator.update.clean import storable
from aggregator.update.decision import Decision, FeedFields, HostDeferral, LogLine
from aggregator.update.moves import after_discovery, followed

__all__ = [
    "Decision",
    "FeedFields",
    "HostDeferral",
    "LogLine",
    "after_body",
    "after_config",
    "after_deferred",
    "after_discovery",
    "after_enable",
    "after_failure",
    "after_posts_refused",
    "after_reschedule",
    "after_response",
    "after_schedule_edit",
    "after_state_refused",
    "current_state",
    "followed",
    "initial_state",
    "lower_bound",
    "schedule_changed",
    "scheduled",
]


def initial_state(source: Source) -> SourceState:
    return SourceState(name=source.name, url=source.url, config_url=source.url)


def after_config(source: Source, stored: SourceState | None) -> Decision:
    """The state to work from: a changed config URL starts the source afresh (nothing
    is written for it until an attempt or an operator's act)."""
    if stored is None:
        return Decision(state=initial_state(source), save=False)
    if stored.config_url != source.url:
        # The operator moved the source: forget validators, errors and a disabling.
        moved = replace(
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
            discovered_from=None,
        )
        return Decision(state=moved, save=False)
    return Decision(state=stored, save=False)


def current_state(source: Source, stored: SourceState | None) -> SourceState:
    """The state to work from: a changed config URL starts the source afresh."""
    return after_config(source, stored).state


def after_enable(source: Source, stored: SourceState | None) -> Decision:
    """`sources enable`: the source is enabled, its failures forgotten, and due now."""
    state = current_state(source, stored)
    return Decision(state=replace(state, disabled=None, failures=0, next_check=None))


def schedule_changed(was: Source, source: Source) -> bool:
    """The config changed when `source` is checked (its interval, cron or zone)."""
    return schedule_key(was) != schedule_key(source) or was.timezone != source.timezone


def after_reschedule(
    was: Source, source: Source, state: SourceState | None, *, now: datetime
) -> Decision | None:
    """A reload changed `was` into `source`: a shorter interval or cron brings a healthy
    source's next check forward (never back). None: nothing to do.

    The next check is drawn with fresh randomness, as a round's own would be.
    """
    if state is None or state.failures or not (state.next_check and schedule_changed(was, source)):
        return None
    due = next_check(as_scheduled(source, state, now=now), now=state.last_fetched or now)
    rescheduled = replace(state, next_check=due, schedule=schedule_key(source))
    return Decision(state=rescheduled, save=due < state.next_check)


def after_schedule_edit(source: Source, state: SourceState, *, now: datetime) -> Decision | None:
    """The config schedules `source` otherwise than when its stored next check was drawn
    (edited while nothing ran): drawn again as on a reload, never later, the new schedule
    recorded. None: the same schedule, none recorded, or failing (its next try draws anew).
    """
    key = schedule_key(source)
    if state.schedule in (None, key) or not state.next_check or state.failures or state.disabled:
        return None
    due = next_check(as_scheduled(source, state, now=now), now=state.last_fetched or now)
    due = min(due, state.next_check)
    return Decision(state=replace(state, next_check=due, schedule=key))


def lower_bound(
    source: Source,
    state: SourceState,
    lifetime: timedelta | None,
    *,
    settings: FetchSettings,
) -> timedelta | None:
    """The least delay the server or feed asked for: cache lifetime or <ttl>, capped."""
    if not source.respect_cache:
        return None
    hints = [h for h in (lifetime, state.feed_ttl) if h is not None]
    if not hints:
        return None
    # A year-long max-age (a misconfigured CDN) must not silence a source for a year.
    return min(max(hints), max(settings.max_backoff, source.interval))


def scheduled(
    source: Source,
    state: SourceState,
    *,
    now: datetime,
    settings: FetchSettings,
    rng: random.Random,
    retry_after: timedelta | None = None,
    min_interval: timedelta | None = None,
) -> SourceState:
    """`state` with its next check, cleaned for the store."""
    due = next_check(
        as_scheduled(source, state, now=now),
        now=now,
        failures=state.failures,
        retry_after=retry_after,
        min_interval=min_interval,
        max_backoff=settings.max_backoff,
        rng=rng,
    )
    return storable(replace(state, next_check=due, schedule=schedule_key(source)))


def _fetched(
    source: Source, state: SourceState, result: FetchResult, *, now: datetime, threshold: int
) -> SourceState:
    return replace(
        followed(state, result, threshold=threshold),
        validators=result.validators,
        last_fetched=now,
        last_success=now,
        last_status=result.status,
        failures=0,
        last_error=None,
    )


def _scheduled_ok(
    source: Source,
    ok: SourceState,
    result: FetchResult,
    *,
    now: datetime,
    settings: FetchSettings,
    rng: random.Random,
) -> SourceState:
    """A successful fetch's state scheduled: its cache lifetime and the feed's <ttl>
    (as `ok` holds it) bound the next check."""
    lifetime = cache_lifetime(result.headers, now=now) if source.respect_cache else None
    bound = lower_bound(source, ok, lifetime, settings=settings)
    return scheduled(source, ok, now=now, settings=settings, rng=rng, min_interval=bound)


def after_response(
    source: Source,
    state: SourceState,
    result: FetchResult,
    *,
    now: datetime,
    settings: FetchSettings,
    rng: random.Random,
    digest: str | None,
) -> Decision:
    """After a 304, or a body whose sha256 is `digest` (None for a 304).

    A 304, or the same bytes as last time (a server that ignored our validators), is
    saved at once; a new body is status "new-body", its state not yet scheduled.
    """
    ok = _fetched(source, state, result, now=now, threshold=settings.redirect_threshold)
    moved_to = ok.url if ok.url != state.url else None
    log: tuple[LogLine, ...] = ()
    if moved_to:
        log = (
            LogLine(
                level=logging.WARNING,
                message="%s: moved permanently to %s (change url in %s)",
                args=(source.name, moved_to, source.origin),
            ),
        )
    if result.content is not None and digest != state.content_hash:
        return Decision(state=ok, save=False, status="new-body", moved_to=moved_to, log=log)
    saved = _scheduled_ok(source, ok, result, now=now, settings=settings, rng=rng)
    return Decision(
        state=saved,
        status="not-modified" if result.content is None else "unchanged",
        http_status=304 if result.content is None else result.status,
        moved_to=moved_to,
        log=log,
    )


def after_body(
    source: Source,
    state: SourceState,
    result: FetchResult,
    feed: FeedFields,
    *,
    now: datetime,
    settings: FetchSettings,
    rng: random.Random,
    digest: str,
) -> Decision:
    """After a new body was parsed and its posts stored: the feed's fields are kept, and
    its <ttl> and the response's cache lifetime bound the next check."""
    ok = _fetched(source, state, result, now=now, threshold=settings.redirect_threshold)
    gap, newest = posting_rate(feed.item_dates, now=now)  # what `interval: auto` reads
    ok = replace(
        ok,
        content_hash=digest,
        feed_title=feed.title,
        feed_link=feed.link,
        feed_id=feed.feed_id,
        feed_ttl=feed.ttl,
        dropped_items=feed.dropped,
        posting_gap=gap,
        newest_item=newest,
    )
    saved = _scheduled_ok(source, ok, result, now=now, settings=settings, rng=rng)
    return Decision(
        state=saved,
        http_status=result.status,
        moved_to=ok.url if ok.url != state.url else None,
    )


def after_deferred(
    source: Source,
    state: SourceState,
    error: HostDeferred,
    *,
    now: datetime,
    settings: FetchSettings,
    rng: random.Random,
) -> Decision:
    """Nothing was sent (its host asked us to wait): no failure, checked after the wait."""
    saved = scheduled(
        source, state, now=now, settings=settings, rng=rng, retry_after=error.retry_after
    )
    return Decision(
        state=saved,
        status="deferred",
        error=str(error),
        log=(LogLine(level=logging.INFO, message="%s: %s", args=(source.name, error)),),
    )


def after_failure(
    source: Source,
    state: SourceState,
    error: SourceError,
    *,
    now: datetime,
    settings: FetchSettings,
    rng: random.Random,
) -> Decision:
    """A failed attempt: one more failure, backed off; a 410 disables the source; a 429 or
    503 with Retry-After defers its whole host and bounds its next check."""
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
    deferral = None
    if retry_after is not None and status in (429, 503):
        from aggregator.fetch import host_key  # here: `status` reads states without HTTP

        # The whole host asked for a pause, not just this feed (RFC 6585 §4).
        deferral = HostDeferral(
            host=host_key(state.url), until=now + retry_after, reason=f"HTTP {status}"
        )
    saved = scheduled(source, failed, now=now, settings=settings, rng=rng, retry_after=retry_after)
    return Decision(
        state=saved,
        status="error",
        http_status=status,
        error=str(error),
        defer_host=deferral,
        log=(LogLine(level=logging.WARNING, message="%s: %s", args=(source.name, error)),),
    )


def after_posts_refused(
    source: Source,
    state: SourceState,
    refused: Sequence[tuple[str, str]],
    *,
    now: datetime,
    settings: FetchSettings,
    rng: random.Random,
) -> Decision:
    """The database refused some of a body's posts (key, why): the source fails; the
    others are stored."""
    key, reason = refused[0]
    error = SourceError(f"the database refused {len(refused)} of its posts (first {key}): {reason}")
    return after_failure(source, state, error, now=now, settings=settings, rng=rng)


def after_state_refused(
    source: Source,
    stored: SourceState | None,
    refused: SourceState,
    reason: str,
    *,
    now: datetime,
    settings: FetchSettings,
    rng: random.Random,
) -> Decision:
    """The database refused `refused` (the state a round meant to save): the source fails
    from the state it had (`stored`), checked no earlier than `refused` would have been.

    `now` is when `refused` was fetched (the clock's now when it never was).
    """
    error = f"the database refused this source's state: {reason}"
    before = current_state(source, stored)
    failed = replace(
        before,
        last_fetched=refused.last_fetched,
        failures=before.failures + 1,
        last_error=error,
    )
    due = next_check(
        source,
        now=now,
        failures=failed.failures,
        max_backoff=settings.max_backoff,
        rng=rng,
    )
    at_least = refused.next_check or UTC_MIN
    return Decision(
        state=storable(
            replace(failed, next_check=max(due, at_least), schedule=schedule_key(source))
        ),
        status="error",
        error=error,
        log=(LogLine(level=logging.WARNING, message="%s: %s", args=(refused.name, error)),),
    )


UTC_MIN = datetime.min.replace(tzinfo=UTC)
