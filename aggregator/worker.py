"""Parse + normalize as one job for a worker process: bytes in, Posts out.
Pure like the two stages it chains (no network, no store, no clock); imports only them,
so that a worker process starts small.
"""

from __future__ import annotations

import contextlib
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aggregator.normalize import Oversized, normalize_with_keys
from aggregator.parse import parse
from aggregator.types import Category, Post, Source

__all__ = ["Job", "JobResult", "parse_and_normalize", "process_pool", "stop_pool"]


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
    oversized: tuple[Oversized, ...] = ()  # items whose body was cut before sanitizing


def parse_and_normalize(job: Job) -> JobResult:
    """Parse `job.content` and normalize its entries, skipping those already known.

    Raises: ParseError when the bytes are not a usable feed.
    """
    feed = parse(job.content, job.headers, url=job.url, fast=job.fast)
    oversized: list[Oversized] = []
    posts, keys = normalize_with_keys(
        feed,
        job.source,
        now=job.now,
        site_timezone=job.site_timezone,
        feed_url=job.url,
        category=job.category,
        known=job.known,
        oversized=oversized,
    )
    return JobResult(
        posts=posts,
        title=feed.title,
        link=feed.link,
        feed_id=feed.feed_id,
        ttl=feed.ttl,
        keys=keys,
        oversized=tuple(oversized),
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
