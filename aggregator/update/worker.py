"""Parse + normalize as one job for a worker process: bytes in, Posts out.
Pure like the two stages it chains (no network, no store, no clock); imports only them
(and the package's __init__, which loads nothing until asked), so that a worker process
starts small. Its processes never outlive the one that made the pool.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.connection
import os
import threading
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from aggregator.types import Category, Post, RawEntry, Source

# The stages are imported by the first job: the main process of a round where every
# source answered 304 holds Job and JobResult, and never parses.
if TYPE_CHECKING:
    from aggregator.normalize import Oversized

__all__ = ["Job", "JobResult", "keep_newest", "parse_and_normalize", "process_pool", "stop_pool"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Job:
    """One fetched body and what normalizing it needs; small and picklable."""

    content: bytes
    headers: dict[str, str]
    url: str  # where the body came from, after redirects
    source: Source
    category: Category | None
    now: datetime
    site_timezone: str
    known: frozenset[str] = frozenset()  # raw hashes of stored entries: not sanitized again
    fast: bool = True  # False: feedparser only (`parser: feedparser`)
    max_items: int | None = None  # entries kept of the body (the newest); None: all
    # Posts published before it are left out: the next publish would delete them
    # (site.retention), and stored they would count as new each time the body changes.
    published_after: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class JobResult:
    posts: list[Post]
    title: str | None = None
    link: str | None = None
    feed_id: str | None = None
    ttl: timedelta | None = None
    keys: set[str] = field(default_factory=set)  # every key the kept entries carry (entry_keys)
    dropped: int = 0  # entries past max_items, never normalized
    expired: int = 0  # posts left out, published before Job.published_after
    oversized: tuple[Oversized, ...] = ()  # items whose body was cut before sanitizing
    dropped_links: tuple[str, ...] = ()  # item links left out: no http(s) URL
    skipped: int = 0  # items of an HTML page left out: no title or no http(s) link
    # The dates of the body's newest items (naive ones taken as UTC), all of them kept or
    # not: what `interval: auto` reads of the posting rate (schedule.posting_rate).
    item_dates: tuple[datetime, ...] = ()
    hubs: tuple[str, ...] = ()  # WebSub: the hubs the feed names, and its self URL
    self_url: str | None = None


def parse_and_normalize(job: Job) -> JobResult:
    """Parse `job.content` and normalize its entries, skipping those already known.

    A `type: html` source's body is read by its selectors (parse.html), and only its.

    Raises: ParseError when the bytes are not a usable feed (or page).
    """
    from aggregator.normalize import clean_text, clean_url, normalize_with_keys
    from aggregator.parse import parse
    from aggregator.parse.html import parse_html

    if job.source.html is not None:
        feed = parse_html(
            job.content,
            job.headers,
            url=job.url,
            selectors=job.source.html,
            date_order=job.source.date_order,
        )
    else:
        feed = parse(
            job.content,
            job.headers,
            url=job.url,
            fast=job.fast,
            date_order=job.source.date_order,
        )
    dropped = 0
    if job.max_items is not None and len(feed.entries) > job.max_items:
        # Before normalizing: each entry costs sanitizing now and a post and files later.
        entries = keep_newest(feed.entries, job.max_items)
        dropped = len(feed.entries) - len(entries)
        feed = replace(feed, entries=entries)
    oversized: list[Oversized] = []
    dropped_links: list[str] = []
    item_dates = _newest_dates(feed.entries) if job.source.adaptive else ()
    posts, keys = normalize_with_keys(
        feed,
        job.source,
        now=job.now,
        site_timezone=job.site_timezone,
        feed_url=job.url,
        category=job.category,
        known=job.known,
        oversized=oversized,
        dropped_links=dropped_links,
    )
    expired = 0
    if job.published_after is not None:
        kept = [p for p in posts if p.published >= job.published_after]
        expired, posts = len(posts) - len(kept), kept
    # The feed's own fields are stored beside its posts, and cleaned like them: a NUL in a
    # channel title (raw or as &#0;, which parsers pass through) is refused by PostgreSQL.
    return JobResult(
        posts=posts,
        title=clean_text(feed.title),
        link=clean_url(feed.link),
        feed_id=clean_url(feed.feed_id),
        ttl=feed.ttl,
        keys=keys,
        dropped=dropped,
        expired=expired,
        oversized=tuple(oversized),
        dropped_links=tuple(dropped_links),
        skipped=feed.skipped,
        item_dates=item_dates,
        hubs=feed.hubs,
        self_url=feed.self_url,
    )


def _newest_dates(entries: tuple[RawEntry, ...], count: int = 8) -> tuple[datetime, ...]:
    """The `count` newest entry dates (published, else updated), aware, newest first."""
    dates = []
    for entry in entries:
        when = entry.published or entry.updated
        if when is not None:
            dates.append(when if when.tzinfo is not None else when.replace(tzinfo=UTC))
    return tuple(sorted(dates, reverse=True)[:count])


def keep_newest(entries: tuple[RawEntry, ...], limit: int) -> tuple[RawEntry, ...]:
    """The `limit` newest of `entries` (by their date; undated ones after every dated one,
    in feed order), in feed order.

    Raises: nothing.
    """
    if len(entries) <= limit:
        return entries
    # A date without a zone is taken as UTC here: close enough to rank, and comparable.
    ranked = sorted(range(len(entries)), key=lambda i: _rank(entries[i], i))
    return tuple(entries[i] for i in sorted(ranked[:limit]))


def _rank(entry: RawEntry, index: int) -> tuple[int, float, int]:
    when = entry.published or entry.updated
    if when is None:
        return (1, 0.0, index)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return (0, -when.timestamp(), index)


def process_pool(workers: int) -> ProcessPoolExecutor:
    """A pool of `workers` processes forked from a small server that imported this module.

    A forkserver, not a plain fork: the caller runs threads (the event loop's resolver, the
    scheduler), and forking a threaded process can copy a lock held mid-use. The workers,
    and through them the server, end when the calling process dies, even by SIGKILL.

    Raises: OSError when processes cannot be started.
    """
    context: Any = multiprocessing.get_context("forkserver")
    # Preloaded once in the server: every worker starts with parse and normalize imported;
    # forkserver.py first, so that a parent killed mid-request leaves no traceback.
    context.set_forkserver_preload([f"{__package__}.forkserver", __name__])
    return ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_exit_with_parent
    )


def _exit_with_parent() -> None:
    """In each worker: exit as soon as the process that made the pool is gone.

    Nothing else would end them: a worker waits on a call queue whose write end every
    worker holds too, so it never reads EOF there; and the forkserver exits only once no
    process holds its "alive" pipe, which every worker does. So a SIGKILL of the parent
    left the server and its workers (about 58 MB) alive for good.

    The worker's parent sentinel is the read end of a pipe whose write end only the
    parent holds (multiprocessing keeps it for this): the kernel closes it when the parent
    dies, however it dies, and it stays readable from then on, so a parent that died while
    this worker was still being forked is seen at once. PR_SET_PDEATHSIG would not do
    here: a worker's parent is the forkserver, not the pool's maker, and the forkserver's
    is whichever thread of ours started it, the signal coming when that thread ends.
    """
    parent = multiprocessing.parent_process()
    if parent is None:  # run in the pool's own process (tests): nothing to watch
        return
    sentinel = parent.sentinel

    def watch() -> None:
        multiprocessing.connection.wait([sentinel])
        os._exit(1)  # no cleanup: the results would have nobody to go to

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def stop_pool(pool: ProcessPoolExecutor) -> None:
    """Kill the worker processes of `pool` and shut it down without waiting: a job that
    overran its budget must not keep a core busy. Its other jobs fail with BrokenProcessPool.

    Raises nothing.
    """
    # No public way to stop a running job before Python 3.14 (kill_workers): `_processes`
    # maps each worker's pid to its Process.
    processes: dict[int, Any] = dict(getattr(pool, "_processes", None) or {})
    for process in processes.values():
        with contextlib.suppress(OSError, ValueError):  # already gone, or closed
            process.kill()
    pool.shutdown(wait=False, cancel_futures=True)
