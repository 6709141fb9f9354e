"""Where one round parses its bodies: a thread, or a process pool of its own that a job
overrunning its budget is killed in.

Owns the round's process pool and the parse budget. Must NOT fetch, store or decide a
source's state: a failed parse is a ParseError for the pipeline to turn into state.
"""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from aggregator.errors import ParseError
from aggregator.update.worker import Job, JobResult, parse_and_normalize, process_pool, stop_pool

__all__ = ["PROCESS_MIN_BYTES", "Parsers"]

# A body this large is parsed in a process even in a small round: a thread that overruns the
# parse budget cannot be stopped, a process can. Smaller bodies are cheap (each item's HTML
# is capped at normalize.MAX_BODY_CHARS, a feed of them takes well under a second).
PROCESS_MIN_BYTES = 1024 * 1024


class Parsers:
    """One round's parsers: `executor` (None: threads of the loop's default executor), or
    a process pool started with the first body that needs one (a round of 304s needs none).
    """

    def __init__(self, *, executor: Executor | None, want_pool: bool, budget: float) -> None:
        self.executor = executor
        self.want_pool = want_pool  # every body of the round parses in the pool
        self.budget = budget  # seconds per job (fetch.parse_timeout)
        self._pool: ProcessPoolExecutor | None = None
        # Pools stopped this round because a job overran the parse budget: their other jobs
        # are submitted again, not failed.
        self._stopped: list[ProcessPoolExecutor] = []
        self._slots: asyncio.Semaphore | None = None  # jobs in the pool, at most workers
        self._up: Future[int] | None = None  # done once self._pool has a worker

    async def parse(self, job: Job) -> JobResult:
        """Parse and normalize off the event loop: in this round's pool, or `executor`.

        A job gets `budget` seconds; in a process, one that overruns is killed.

        Raises: ParseError (from the job, when it overran its budget, or when the worker
        process died on it).
        """
        in_process = self.want_pool or (
            self.executor is None and len(job.content) >= PROCESS_MIN_BYTES
        )
        if in_process and self._pool is None:
            self._start_pool()
        if not in_process or self._pool is None:
            loop = asyncio.get_running_loop()
            future = loop.run_in_executor(self.executor, parse_and_normalize, job)
            try:
                return await asyncio.wait_for(future, self.budget)
            except TimeoutError:
                # A thread cannot be stopped: it finishes on its own (bodies here are small).
                raise ParseError(overran(self.budget)) from None
        if self._slots is None:
            self._slots = asyncio.Semaphore(_workers())
        async with self._slots:
            return await self._in_pools(job)

    def close(self, *, completed: bool) -> None:
        """End the pool: waiting for it when every job finished, killing it otherwise."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        if completed:
            pool.shutdown(wait=True, cancel_futures=True)
        else:
            # Cancelled or failed mid-round: a job may still be parsing, and waiting for it
            # would hold the event loop (a stop would not be prompt). Its result has nobody
            # to go to.
            stop_pool(pool)

    async def _in_pools(self, job: Job) -> JobResult:
        """_in_pool in this round's pool, again in a fresh one when the pool was stopped
        for another job.

        At most as many jobs are handed to the pool as it has workers (the caller holds a
        slot): one queued behind busy workers would count as running to `future.running()`
        (the pool's call queue takes one more than it has workers) and spend its budget
        waiting.

        Raises: ParseError (see parse).
        """
        while True:
            pool = self._pool
            assert pool is not None
            try:
                return await self._in_pool(pool, job)
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
        self._up = self._pool.submit(int)

    async def _in_pool(self, pool: ProcessPoolExecutor, job: Job) -> JobResult:
        """`job` in `pool`, its worker killed (and the pool replaced) when the job runs
        longer than the budget.

        Raises: ParseError when it overran; BrokenProcessPool; what the job raises.
        """
        budget = self.budget
        future = pool.submit(parse_and_normalize, job)
        wrapped = asyncio.wrap_future(future)
        # A round cut short kills the pool under this job (close): the BrokenProcessPool it
        # then ends with has nobody to go to, and asyncio would log it as an error.
        wrapped.add_done_callback(_retrieved)
        up = self._up
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
        raise ParseError(overran(budget))


def _retrieved(future: asyncio.Future[JobResult]) -> None:
    if not future.cancelled():
        future.exception()


def overran(budget: float) -> str:
    return (
        f"parse took longer than {budget:g}s; stopped, the source is tried again at its "
        "next check (fetch.parse_timeout)"
    )


def _workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)
