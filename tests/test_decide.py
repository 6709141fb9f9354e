"""Every state transition of a source, as tables: no socket, no store, a fixed now and a
seeded rng (update/decide.py is pure)."""

from __future__ import annotations

import logging
import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from aggregator.errors import FetchError, ParseError, SourceError
from aggregator.fetch import HostDeferred
from aggregator.schedule import JITTER, http_date, schedule_key
from aggregator.types import FetchResult, FetchSettings, Source, SourceState, Validators
from aggregator.update import decide
from aggregator.update.decide import Decision, FeedFields, HostDeferral

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
M = timedelta(minutes=1)
H = timedelta(hours=1)
URL = "http://example.org/feed.rss"
NEW_URL = "https://example.org/new.rss"
SETTINGS = FetchSettings()  # redirect_threshold 3, max_backoff 1 day
DIGEST = "d" * 64


def src(**kw: Any) -> Source:
    fields: dict[str, Any] = {
        "name": "s",
        "url": URL,
        "category": "c",
        "tags": (),
        "interval": 30 * M,
        "origin": "config.yaml: sources[0]",
    }
    return Source(**(fields | kw))


def st(**kw: Any) -> SourceState:
    fields: dict[str, Any] = {"name": "s", "url": URL, "config_url": URL}
    return SourceState(**(fields | kw))


def response(
    *,
    status: int = 304,
    content: bytes | None = None,
    headers: dict[str, str] | None = None,
    redirect: str | None = None,
) -> FetchResult:
    return FetchResult(
        url=URL,
        status=status,
        content=content,
        headers=headers or {},
        validators=Validators(etag='"v2"'),
        permanent_redirect=redirect,
        fetched_at=NOW,
    )


def delay(d: Decision) -> timedelta:
    assert d.state.next_check is not None
    return d.state.next_check - NOW


def in_band(d: Decision, low: timedelta, high: timedelta) -> None:
    assert low <= delay(d) <= high, (delay(d), low, high)


def jittered(base: timedelta) -> tuple[timedelta, timedelta]:
    return base, base * (1 + JITTER)


def backed_off(base: timedelta) -> tuple[timedelta, timedelta]:
    return base * (1 - JITTER), base


def rng() -> random.Random:
    return random.Random(7)


# ------------------------------------------------------------ 304, same bytes, new body


@pytest.mark.parametrize(
    ("source", "state", "result", "digest", "status", "http_status", "band"),
    [
        pytest.param(
            src(), st(), response(), None, "not-modified", 304, jittered(30 * M), id="304"
        ),
        pytest.param(
            src(),
            st(failures=3, last_error="boom"),
            response(),
            None,
            "not-modified",
            304,
            jittered(30 * M),
            id="304-clears-failures",
        ),
        pytest.param(
            src(),
            st(feed_ttl=2 * H),
            response(),
            None,
            "not-modified",
            304,
            jittered(2 * H),
            id="304-feed-ttl-is-a-lower-bound",
        ),
        pytest.param(
            src(respect_cache=False),
            st(feed_ttl=2 * H),
            response(headers={"cache-control": "max-age=7200"}),
            None,
            "not-modified",
            304,
            jittered(30 * M),
            id="304-respect-cache-off-ignores-ttl-and-max-age",
        ),
        pytest.param(
            src(),
            st(),
            response(headers={"cache-control": "max-age=7200", "age": "3600"}),
            None,
            "not-modified",
            304,
            jittered(H),
            id="304-max-age-less-age",
        ),
        pytest.param(
            src(),
            st(),
            response(
                headers={
                    "expires": "Wed, 01 May 2024 15:00:00 GMT",
                    "date": "Wed, 01 May 2024 13:00:00 GMT",
                }
            ),
            None,
            "not-modified",
            304,
            jittered(2 * H),
            id="304-expires-against-the-responses-date",
        ),
        pytest.param(
            src(),
            st(),
            response(headers={"cache-control": "no-cache, max-age=7200"}),
            None,
            "not-modified",
            304,
            jittered(30 * M),
            id="304-no-cache-means-no-lifetime",
        ),
        pytest.param(
            src(),
            st(),
            response(headers={"cache-control": "max-age=31536000"}),
            None,
            "not-modified",
            304,
            jittered(timedelta(days=1)),
            id="304-year-long-max-age-capped-at-max-backoff",
        ),
        pytest.param(
            src(interval=timedelta(days=2)),
            st(),
            response(headers={"cache-control": "max-age=31536000"}),
            None,
            "not-modified",
            304,
            jittered(timedelta(days=2)),
            id="304-cap-never-below-the-interval",
        ),
        pytest.param(
            src(),
            st(content_hash=DIGEST),
            response(status=200, content=b"<rss/>"),
            DIGEST,
            "unchanged",
            200,
            jittered(30 * M),
            id="same-bytes-despite-validators",
        ),
    ],
)
def test_after_response_saves_a_304_and_an_unchanged_body(
    source: Source,
    state: SourceState,
    result: FetchResult,
    digest: str | None,
    status: str,
    http_status: int,
    band: tuple[timedelta, timedelta],
) -> None:
    d = decide.after_response(
        source, state, result, now=NOW, settings=SETTINGS, rng=rng(), digest=digest
    )
    assert (d.status, d.http_status, d.save, d.error, d.defer_host) == (
        status,
        http_status,
        True,
        None,
        None,
    )
    in_band(d, *band)
    assert d.state.validators == Validators(etag='"v2"')
    assert (d.state.last_fetched, d.state.last_success, d.state.last_status) == (
        NOW,
        NOW,
        result.status,
    )
    assert (d.state.failures, d.state.last_error) == (0, None)
    assert d.state.content_hash == state.content_hash  # only a parsed body sets it
    again = decide.after_response(
        source, state, result, now=NOW, settings=SETTINGS, rng=rng(), digest=digest
    )
    assert again == d  # the same seed draws the same jitter


@pytest.mark.parametrize(
    ("state", "digest"),
    [
        pytest.param(st(), DIGEST, id="first-body"),
        pytest.param(st(content_hash="0" * 64), DIGEST, id="changed-body"),
    ],
)
def test_after_response_hands_a_new_body_to_the_parser(state: SourceState, digest: str) -> None:
    d = decide.after_response(
        src(),
        state,
        response(status=200, content=b"<rss/>"),
        now=NOW,
        settings=SETTINGS,
        rng=rng(),
        digest=digest,
    )
    assert (d.status, d.save, d.state.next_check) == ("new-body", False, None)


# ------------------------------------------------------------------ permanent redirects


@pytest.mark.parametrize(
    ("state", "redirect", "url", "target", "count", "moved_to"),
    [
        pytest.param(st(), NEW_URL, URL, NEW_URL, 1, None, id="first-sighting-counts"),
        pytest.param(
            st(redirect_target=NEW_URL, redirect_count=1),
            NEW_URL,
            URL,
            NEW_URL,
            2,
            None,
            id="second-sighting-counts",
        ),
        pytest.param(
            st(redirect_target=NEW_URL, redirect_count=2),
            NEW_URL,
            NEW_URL,
            None,
            0,
            NEW_URL,
            id="third-sighting-moves-the-source",
        ),
        pytest.param(
            st(redirect_target="https://elsewhere.example/", redirect_count=2),
            NEW_URL,
            URL,
            NEW_URL,
            1,
            None,
            id="a-flicker-to-another-target-starts-over",
        ),
        pytest.param(
            st(redirect_target=NEW_URL, redirect_count=2),
            None,
            URL,
            None,
            0,
            None,
            id="no-redirect-forgets-the-count",
        ),
        pytest.param(st(), URL, URL, None, 0, None, id="redirect-to-itself-is-none"),
    ],
)
def test_permanent_redirects_move_a_source_at_the_threshold(
    state: SourceState,
    redirect: str | None,
    url: str,
    target: str | None,
    count: int,
    moved_to: str | None,
) -> None:
    source = src()
    d = decide.after_response(
        source,
        state,
        response(redirect=redirect),
        now=NOW,
        settings=SETTINGS,
        rng=rng(),
        digest=None,
    )
    assert (d.state.url, d.state.redirect_target, d.state.redirect_count) == (url, target, count)
    assert d.state.config_url == URL  # the operator's URL is the operator's to change
    assert d.moved_to == moved_to
    if moved_to is None:
        assert d.log == ()
    else:
        assert d.log == (
            decide.LogLine(
                level=logging.WARNING,
                message="%s: moved permanently to %s (change url in %s)",
                args=("s", moved_to, "config.yaml: sources[0]"),
            ),
        )


# -------------------------------------------------------------------- a parsed new body


@pytest.mark.parametrize(
    ("source", "state", "result", "feed", "band", "moved_to"),
    [
        pytest.param(
            src(),
            st(),
            response(status=200, content=b"x"),
            FeedFields(title="T", link="http://example.org/", feed_id="id", dropped=3),
            jittered(30 * M),
            None,
            id="body-keeps-the-feeds-fields",
        ),
        pytest.param(
            src(),
            st(feed_ttl=5 * H),
            response(status=200, content=b"x"),
            FeedFields(ttl=2 * H),
            jittered(2 * H),
            None,
            id="body-ttl-replaces-the-old-one-and-bounds-the-next-check",
        ),
        pytest.param(
            src(),
            st(),
            response(status=200, content=b"x", headers={"cache-control": "max-age=10800"}),
            FeedFields(ttl=H),
            jittered(3 * H),
            None,
            id="body-larger-of-ttl-and-cache-lifetime",
        ),
        pytest.param(
            src(),
            st(redirect_target=NEW_URL, redirect_count=2),
            response(status=200, content=b"x", redirect=NEW_URL),
            FeedFields(),
            jittered(30 * M),
            NEW_URL,
            id="body-from-a-moved-source",
        ),
    ],
)
def test_after_body_records_the_feed_and_schedules_it(
    source: Source,
    state: SourceState,
    result: FetchResult,
    feed: FeedFields,
    band: tuple[timedelta, timedelta],
    moved_to: str | None,
) -> None:
    d = decide.after_body(
        source, state, result, feed, now=NOW, settings=SETTINGS, rng=rng(), digest=DIGEST
    )
    assert (d.save, d.http_status, d.moved_to, d.log) == (True, 200, moved_to, ())
    in_band(d, *band)
    s = d.state
    assert (s.content_hash, s.feed_title, s.feed_link, s.feed_id, s.feed_ttl) == (
        DIGEST,
        feed.title,
        feed.link,
        feed.feed_id,
        feed.ttl,
    )
    assert (s.dropped_items, s.failures, s.last_success) == (feed.dropped, 0, NOW)


# ------------------------------------------------------- failures, backoff, 410, 429/503

RETRY_DATE = "Wed, 01 May 2024 15:00:00 GMT"  # three hours after NOW


def _date_retry(value: str) -> timedelta:
    when = http_date(value)
    assert when is not None
    return when - NOW


@pytest.mark.parametrize(
    ("state", "error", "failures", "last_status", "band", "deferral"),
    [
        pytest.param(
            st(),
            FetchError("HTTP 500", status=500),
            1,
            500,
            backed_off(60 * M),
            None,
            id="one-failure-doubles",
        ),
        pytest.param(
            st(failures=2, last_status=500),
            FetchError("timed out"),
            3,
            500,
            backed_off(240 * M),
            None,
            id="third-failure-no-status-keeps-the-last",
        ),
        pytest.param(
            st(failures=30),
            ParseError("not a feed"),
            31,
            None,
            backed_off(timedelta(days=1)),
            None,
            id="backoff-capped-at-max-backoff",
        ),
        pytest.param(
            st(),
            FetchError("HTTP 429 (retry after 10800s)", status=429, retry_after=3 * H),
            1,
            429,
            jittered(3 * H),
            HostDeferral(host="example.org", until=NOW + 3 * H, reason="HTTP 429"),
            id="429-retry-after-seconds-defers-the-host",
        ),
        pytest.param(
            st(),
            FetchError("HTTP 503", status=503, retry_after=_date_retry(RETRY_DATE)),
            1,
            503,
            jittered(3 * H),
            HostDeferral(host="example.org", until=NOW + 3 * H, reason="HTTP 503"),
            id="503-retry-after-http-date-defers-the-host",
        ),
        pytest.param(
            st(),
            FetchError("HTTP 429", status=429),
            1,
            429,
            backed_off(60 * M),
            None,
            id="429-without-retry-after-only-backs-off",
        ),
        pytest.param(
            st(),
            FetchError("HTTP 500", status=500, retry_after=3 * H),
            1,
            500,
            jittered(3 * H),
            None,
            id="500-retry-after-bounds-the-source-not-the-host",
        ),
        pytest.param(
            st(failures=5),
            FetchError("HTTP 503", status=503, retry_after=M),
            6,
            503,
            backed_off(timedelta(days=1)),
            HostDeferral(host="example.org", until=NOW + M, reason="HTTP 503"),
            id="short-retry-after-below-the-backoff-changes-nothing",
        ),
    ],
)
def test_after_failure_backs_off_and_defers_hosts(
    state: SourceState,
    error: SourceError,
    failures: int,
    last_status: int | None,
    band: tuple[timedelta, timedelta],
    deferral: HostDeferral | None,
) -> None:
    d = decide.after_failure(src(), state, error, now=NOW, settings=SETTINGS, rng=rng())
    assert (d.status, d.error, d.save, d.defer_host) == ("error", str(error), True, deferral)
    assert d.http_status == (error.status if isinstance(error, FetchError) else None)
    assert (d.state.failures, d.state.last_status, d.state.last_error) == (
        failures,
        last_status,
        str(error),
    )
    assert (d.state.last_fetched, d.state.disabled) == (NOW, None)
    in_band(d, *band)
    assert d.log == (decide.LogLine(level=logging.WARNING, message="%s: %s", args=("s", error)),)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param(
            "s",
            "HTTP 410 Gone at 2024-05-01 12:00 UTC "
            "(`aggregator sources enable s` or a new url re-enables it)",
            id="410-disables",
        ),
        pytest.param(
            "Ars Technica",
            "HTTP 410 Gone at 2024-05-01 12:00 UTC "
            "(`aggregator sources enable Ars Technica` or a new url re-enables it)",
            id="410-names-the-source",
        ),
    ],
)
def test_410_gone_disables_the_source(name: str, expected: str) -> None:
    d = decide.after_failure(
        src(name=name),
        st(name=name),
        FetchError("HTTP 410", status=410),
        now=NOW,
        settings=SETTINGS,
        rng=rng(),
    )
    assert d.state.disabled == expected
    assert d.state.failures == 1


@pytest.mark.parametrize(
    ("state", "retry_after", "band"),
    [
        pytest.param(st(), 2 * H, jittered(2 * H), id="deferred-waits-the-hosts-time"),
        pytest.param(
            st(failures=2, last_error="HTTP 500"),
            M,
            jittered(30 * M),
            id="deferred-keeps-failures-and-is-no-failure",
        ),
    ],
)
def test_after_deferred_records_no_failure(
    state: SourceState, retry_after: timedelta, band: tuple[timedelta, timedelta]
) -> None:
    error = HostDeferred("host asked to wait", retry_after=retry_after)
    d = decide.after_deferred(src(), state, error, now=NOW, settings=SETTINGS, rng=rng())
    assert (d.status, d.error, d.defer_host) == ("deferred", str(error), None)
    assert replace(d.state, next_check=None, schedule=None) == state
    assert d.state.schedule == "every 1800s"  # what the check was drawn from
    assert d.log == (decide.LogLine(level=logging.INFO, message="%s: %s", args=("s", error)),)
    if not state.failures:
        in_band(d, *band)
    else:
        # A failing source keeps its backoff (4x the interval), past the host's wait.
        in_band(d, *backed_off(4 * 30 * M))


@pytest.mark.parametrize(
    ("refused", "message"),
    [
        pytest.param(
            [("k1", "NUL byte")],
            "the database refused 1 of its posts (first k1): NUL byte",
            id="one-post-refused",
        ),
        pytest.param(
            [("k1", "too long"), ("k2", "NUL byte")],
            "the database refused 2 of its posts (first k1): too long",
            id="two-posts-refused",
        ),
    ],
)
def test_after_posts_refused_fails_the_source(refused: list[tuple[str, str]], message: str) -> None:
    d = decide.after_posts_refused(src(), st(), refused, now=NOW, settings=SETTINGS, rng=rng())
    assert (d.status, d.error, d.state.last_error, d.state.failures) == (
        "error",
        message,
        message,
        1,
    )


@pytest.mark.parametrize(
    ("stored", "refused", "failures", "band"),
    [
        pytest.param(
            st(failures=0),
            st(last_fetched=NOW, next_check=NOW + 10 * M, feed_title="\x00"),
            1,
            backed_off(60 * M),
            id="state-refused-fails-from-the-stored-state",
        ),
        pytest.param(
            None,
            st(last_fetched=NOW, next_check=NOW + 5 * H),
            1,
            (5 * H, 5 * H),
            id="state-refused-never-earlier-than-it-would-have-been",
        ),
    ],
)
def test_after_state_refused(
    stored: SourceState | None,
    refused: SourceState,
    failures: int,
    band: tuple[timedelta, timedelta],
) -> None:
    d = decide.after_state_refused(
        src(), stored, refused, "NUL byte", now=NOW, settings=SETTINGS, rng=rng()
    )
    error = "the database refused this source's state: NUL byte"
    assert (d.status, d.error, d.state.last_error) == ("error", error, error)
    assert (d.state.failures, d.state.last_fetched, d.state.feed_title) == (failures, NOW, None)
    in_band(d, *band)
    assert d.log == (decide.LogLine(level=logging.WARNING, message="%s: %s", args=("s", error)),)


# ------------------------------------------------- config changes and operator actions

WORN = st(
    url=NEW_URL,
    validators=Validators(etag='"e"'),
    content_hash=DIGEST,
    failures=4,
    last_error="HTTP 410",
    disabled="HTTP 410 Gone",
    next_check=NOW + H,
    redirect_target="https://x.example/",
    redirect_count=1,
    feed_title="T",
)


@pytest.mark.parametrize(
    ("source", "stored", "expected"),
    [
        pytest.param(src(), None, st(), id="unknown-source-starts-fresh"),
        pytest.param(src(), WORN, WORN, id="same-config-url-keeps-everything"),
        pytest.param(
            src(url="https://moved.example/feed"),
            WORN,
            replace(
                WORN,
                url="https://moved.example/feed",
                config_url="https://moved.example/feed",
                validators=Validators(),
                content_hash=None,
                failures=0,
                last_error=None,
                disabled=None,
                next_check=None,
                redirect_target=None,
                redirect_count=0,
            ),
            id="changed-config-url-forgets-validators-errors-and-disabling",
        ),
        pytest.param(
            src(url="https://x.example/feed.xml"),
            replace(WORN, url="https://x.example/feed.xml", discovered_from=URL),
            replace(
                WORN,
                url="https://x.example/feed.xml",
                config_url="https://x.example/feed.xml",
                validators=Validators(),
                content_hash=None,
                failures=0,
                last_error=None,
                disabled=None,
                next_check=None,
                redirect_target=None,
                redirect_count=0,
                discovered_from=None,
            ),
            id="the-discovered-feed-set-as-url-forgets-the-page",
        ),
    ],
)
def test_after_config(source: Source, stored: SourceState | None, expected: SourceState) -> None:
    d = decide.after_config(source, stored)
    assert (d.state, d.save) == (expected, False)
    assert decide.current_state(source, stored) == expected
    assert d.state.feed_title == (stored.feed_title if stored else None)  # kept: not a fault


@pytest.mark.parametrize(
    ("source", "stored", "url"),
    [
        pytest.param(src(), WORN, NEW_URL, id="enable-a-410-disabled-source"),
        pytest.param(src(), None, URL, id="enable-a-source-never-fetched"),
        pytest.param(
            src(url="https://moved.example/feed"),
            WORN,
            "https://moved.example/feed",
            id="enable-after-a-url-change",
        ),
    ],
)
def test_after_enable(source: Source, stored: SourceState | None, url: str) -> None:
    d = decide.after_enable(source, stored)
    assert d.save
    assert (d.state.disabled, d.state.failures, d.state.next_check, d.state.url) == (
        None,
        0,
        None,
        url,
    )
    if stored is not None and stored.config_url == source.url:
        assert d.state.validators == stored.validators  # a conditional GET still applies


HEALTHY = st(last_fetched=NOW, next_check=NOW + 2 * H)


@pytest.mark.parametrize(
    ("was", "source", "state", "save", "band"),
    [
        pytest.param(
            src(interval=2 * H),
            src(interval=30 * M),
            HEALTHY,
            True,
            jittered(30 * M),
            id="shorter-interval-brings-it-forward",
        ),
        pytest.param(
            src(interval=H),
            src(interval=4 * H),
            HEALTHY,
            False,
            None,
            id="longer-interval-never-pushes-it-back",
        ),
        pytest.param(
            src(interval=2 * H),
            src(interval=2 * H, cron="0 13 * * *"),
            HEALTHY,
            True,
            (H, H),
            id="cron-added-fires-on-its-own-schedule",
        ),
        pytest.param(
            src(interval=2 * H),
            src(interval=30 * M),
            replace(HEALTHY, last_fetched=None),
            True,
            jittered(30 * M),
            id="never-fetched-counts-from-now",
        ),
    ],
)
def test_after_reschedule(
    was: Source,
    source: Source,
    state: SourceState,
    save: bool,
    band: tuple[timedelta, timedelta] | None,
) -> None:
    d = decide.after_reschedule(was, source, state, now=NOW)
    assert d is not None
    assert d.save is save
    if band is not None:
        in_band(d, *band)
    assert replace(d.state, next_check=None, schedule=None) == replace(state, next_check=None)
    assert d.state.schedule == schedule_key(source)


@pytest.mark.parametrize(
    ("was", "source", "state"),
    [
        pytest.param(src(), src(), HEALTHY, id="same-schedule-nothing-to-do"),
        pytest.param(
            src(interval=2 * H), src(interval=30 * M), None, id="never-stored-nothing-to-do"
        ),
        pytest.param(
            src(interval=2 * H),
            src(interval=30 * M),
            replace(HEALTHY, failures=2),
            id="failing-source-keeps-its-backoff",
        ),
        pytest.param(
            src(interval=2 * H),
            src(interval=30 * M),
            replace(HEALTHY, next_check=None),
            id="already-due-nothing-to-do",
        ),
    ],
)
def test_after_reschedule_leaves_alone(
    was: Source, source: Source, state: SourceState | None
) -> None:
    assert decide.after_reschedule(was, source, state, now=NOW) is None


def test_states_decided_are_cleaned_for_the_store() -> None:
    error = FetchError("bad\x00 gateway", status=502)
    d = decide.after_failure(src(), st(), error, now=NOW, settings=SETTINGS, rng=rng())
    assert d.state.last_error is not None and "\x00" not in d.state.last_error


# An interval of 2 h was in force when the next check (due in 2 h) was drawn.
DRAWN_AT_2H = replace(HEALTHY, schedule=schedule_key(src(interval=2 * H)))


@pytest.mark.parametrize(
    ("source", "band"),
    [
        pytest.param(src(interval=30 * M), jittered(30 * M), id="shorter-brings-it-forward"),
        pytest.param(src(interval=4 * H), (2 * H, 2 * H), id="longer-never-pushes-it-back"),
        pytest.param(src(interval=2 * H, cron="0 13 * * *"), (H, H), id="cron-fires-on-its-own"),
    ],
)
def test_after_schedule_edit_draws_again_and_records_the_schedule(
    source: Source, band: tuple[timedelta, timedelta]
) -> None:
    d = decide.after_schedule_edit(source, DRAWN_AT_2H, now=NOW + M)
    assert d is not None and d.save
    in_band(d, *band)
    assert d.state.schedule == schedule_key(source) != DRAWN_AT_2H.schedule
    # Recorded: the next look finds nothing to do, so no check drifts by drawing again.
    assert decide.after_schedule_edit(source, d.state, now=NOW + 2 * M) is None


@pytest.mark.parametrize(
    "state",
    [
        pytest.param(DRAWN_AT_2H, id="same-schedule"),
        pytest.param(replace(DRAWN_AT_2H, schedule=None), id="stored-before-schedules-were-kept"),
        pytest.param(replace(DRAWN_AT_2H, failures=2), id="failing-keeps-its-backoff"),
        pytest.param(replace(DRAWN_AT_2H, next_check=None), id="already-due"),
        pytest.param(replace(DRAWN_AT_2H, disabled="HTTP 410"), id="disabled"),
    ],
)
def test_after_schedule_edit_leaves_alone(state: SourceState) -> None:
    source = src(interval=2 * H) if state is DRAWN_AT_2H else src(interval=30 * M)
    assert decide.after_schedule_edit(source, state, now=NOW) is None


def test_discovery_moves_the_source_to_the_feed_and_forgets_the_pages_validators() -> None:
    page = replace(WORN, url=URL, config_url=URL)
    d = decide.after_discovery(src(), page, page=URL, feed="https://x.example/feed.xml")
    assert not d.save
    assert d.state == replace(
        page,
        url="https://x.example/feed.xml",
        discovered_from=URL,
        validators=Validators(),
        content_hash=None,
        redirect_target=None,
        redirect_count=0,
    )
    (line,) = d.log
    assert "set url: %s" in line.message and "https://x.example/feed.xml" in line.args
