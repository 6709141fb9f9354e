"""Parse + normalize as one job for a worker process: bytes in, Posts out.
Pure like the two stages it chains (no network, no store, no clock); imports only them,
so that a worker process starts small.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aggregator.normalize import clean_text, clean_url, normalize_with_keys
from aggregator.parse import parse
from aggregator.types import Category, Post, Source

__all__ = ["Job", "JobResult", "parse_and_normalize", "process_pool"]


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


@dataclass(frozen=True, slots=True, kw_only=True)
class JobResult:
    posts: list[Post]
    title: str | None = None
    link: str | None = None
    feed_id: str | None = None
    ttl: timedelta | None = None
    keys: set[str] = field(default_factory=set)  # every key the feed carries (entry_keys)


def parse_and_normalize(job: Job) -> JobResult:
    """Parse `job.content` and normalize its entries, skipping those already known.

    Raises: ParseError when the bytes are not a usable feed.
    """
    feed = parse(job.content, job.headers, url=job.url, fast=job.fast)
    posts, keys = normalize_with_keys(
        feed,
        job.source,
        now=job.now,
        site_timezone=job.site_timezone,
        feed_url=job.url,
        category=job.category,
        known=job.known,
    )
    # The feed's own fields are stored beside its posts, and cleaned like them: a NUL in a
    # channel title (raw or as &#0;, which parsers pass through) is refused by PostgreSQL.
    return JobResult(
        posts=posts,
        title=clean_text(feed.title),
        link=clean_url(feed.link),
        feed_id=clean_url(feed.feed_id),
        ttl=feed.ttl,
        keys=keys,
    )


def process_pool(workers: int) -> ProcessPoolExecutor:
    """A pool of `workers` processes forked from a small server that imported this module.

    A forkserver, not a plain fork: the caller runs threads (the event loop's resolver, the
    scheduler), and forking a threaded process can copy a lock held mid-use.

    Raises: OSError when processes cannot be started.
    """
    context: Any = multiprocessing.get_context("forkserver")
    # Preloaded once in the server: every worker starts with parse and normalize imported.
    context.set_forkserver_preload([__name__])
    return ProcessPoolExecutor(max_workers=workers, mp_context=context)
