"""The long-running daemon: APScheduler 3 (asyncio) wiring around Updater and publish, on
one event loop: signals, ticks, the publisher task, WebSub pushes, reloads, a clean stop.

Decides nothing about when a source is due (the store holds each next check time,
schedule.py computes it) nor when to publish (debounce.py); writes nothing itself but the
pushes it processed, out of the inbox: rounds go through Updater, files through publish, a
reload's schedules through reload.py, subscriptions through websub/subscriber.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aggregator.config import ConfigFingerprint, config_fingerprint
from aggregator.daemon.debounce import Debouncer
from aggregator.daemon.lockwatch import LockWatch
from aggregator.daemon.logs import log, log_publish, log_round, quiet_cancelled_jobs
from aggregator.daemon.memory import give_back
from aggregator.daemon.reload import log_reload, reloaded, site_shape
from aggregator.daemon.settings import DaemonSettings
from aggregator.errors import PublishBusy, PublishError, StoreError
from aggregator.lock import InstanceLock
from aggregator.publish import publish
from aggregator.types import UTC, Config, Source

# APScheduler and the fetching side (aiohttp, httpx, the parsers) are imported by the
# Daemon that uses them, not here.
if TYPE_CHECKING:
    from aggregator.store import Store
    from aggregator.update import Updater
    from aggregator.update.node import Node
    from aggregator.websub.subscriber import Inbox, Subscriber

__all__ = ["Daemon", "DaemonSettings"]


class Daemon:
    """Rounds, publishes, reloads and a clean stop, on one event loop.

    Build it inside a running loop; `run()` returns the exit status.
    """

    def __init__(
        self,
        config_path: Path,
        config: Config,
        store: Store,
        settings: DaemonSettings | None = None,
        lock: InstanceLock | None = None,
        node: Node | None = None,
    ) -> None:
        from apscheduler.schedulers.asyncio import AsyncIOScheduler

        from aggregator.update import Updater

        self.config_path = config_path
        self.config = config
        self.store = store
        self.settings = s = settings or DaemonSettings()
        self.lock = LockWatch(lock)
        self.node = node  # this process among the nodes of a shared store; None: alone
        self.updater = Updater(config, store, node=node)
        self.subscriber = _subscriber(config, store)  # WebSub; None: no callback_url
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self.stopping = asyncio.Event()
        self.force = asyncio.Event()  # a second SIGTERM/SIGINT: stop without waiting
        self.failed = False
        self._round: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._debounce = Debouncer(delay=s.debounce, max_delay=s.max_publish_delay)
        self._fingerprint: ConfigFingerprint = config_fingerprint(config_path)
        self._shape = site_shape(config)  # of the site the config publishes

    # ------------------------------------------------------------ lifecycle

    async def run(self) -> int:
        """Run until SIGTERM/SIGINT; 0 after a clean stop, 1 after a bug stopped it.

        Raises:
            AlreadyRunning: the instance lock was lost and another process holds it now.
        """
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._on_stop_signal, sig)
        loop.add_signal_handler(signal.SIGHUP, self.reload, "SIGHUP")
        self._add_jobs()
        publisher = asyncio.create_task(self._publisher())
        # A previous life may have stored posts and died before publishing them.
        self._request_publish(immediately=True)
        self.scheduler.start()
        log.info(
            "daemon started: pid %d, %d sources, store %s%s",
            os.getpid(),
            len(self.config.sources),
            self.store.url,
            f", node {self.node.id}" if self.node is not None else "",
            extra={
                "fields": {
                    "event": "start",
                    "sources": len(self.config.sources),
                    "node": self.node.id if self.node is not None else None,
                }
            },
        )
        await self._tick()  # the first round now, not a tick from now
        await self.stopping.wait()
        await self._stop(publisher)
        if self.lock.lost is not None:
            raise self.lock.lost
        return 1 if self.failed else 0

    def _add_jobs(self) -> None:
        from apscheduler.triggers.interval import IntervalTrigger

        s = self.settings
        job: dict[str, Any] = {"coalesce": True, "max_instances": 1, "misfire_grace_time": None}
        self.scheduler.add_job(self._tick, IntervalTrigger(seconds=s.tick), id="tick", **job)
        self.scheduler.add_job(self._watch, IntervalTrigger(seconds=s.watch), id="watch", **job)
        if self.lock.lock is not None:
            lock_every = IntervalTrigger(seconds=s.lock_check)
            self.scheduler.add_job(self._check_lock, lock_every, id="lock", **job)
        if self.node is not None:
            beat_every = IntervalTrigger(seconds=self.node.beat_every)
            self.scheduler.add_job(self._beat, beat_every, id="heartbeat", **job)
        if self.subscriber is not None:
            push_every = IntervalTrigger(seconds=s.push_check)
            self.scheduler.add_job(self._check_pushes, push_every, id="pushes", **job)
            self.scheduler.add_job(self._tend, IntervalTrigger(seconds=s.tick), id="hubs", **job)
        self._schedule_publish_job()

    def _on_stop_signal(self, sig: signal.Signals) -> None:
        if self.stopping.is_set():
            log.warning("%s again: stopping without waiting for fetches in flight", sig.name)
            self.force.set()
            return
        log.info("%s: stopping", sig.name, extra={"fields": {"event": "stopping"}})
        self.updater.halt()  # the fetches in flight finish; no further source starts
        self._stop_soon()

    def _stop_soon(self) -> None:
        self.stopping.set()
        self._wake.set()

    async def _stop(self, publisher: asyncio.Task[None]) -> None:
        quiet_cancelled_jobs()  # the shutdown cancels the jobs in flight, on purpose
        self.scheduler.shutdown(wait=False)
        if self._round is not None:
            await _let_finish(self._round, self.force, grace=self.settings.grace)
        if self.node is not None:
            await self._leave(self.node)
        # The publisher finishes a publish in progress, then sees `stopping` and returns.
        self._wake.set()
        await publisher
        if not self.failed and self.lock.lost is None:
            # Whatever rounds stored meanwhile goes out now rather than at the next start.
            await self._publish()
        log.info("stopped", extra={"fields": {"event": "stopped"}})

    def _fail(self, what: str) -> None:
        # A bug, not a source's failure: say so loudly and stop, so that a supervisor
        # (systemd's Restart=on-failure) starts a fresh process.
        log.exception("%s: unexpected error, stopping", what)
        self.failed = True
        self._stop_soon()

    async def _beat(self) -> None:
        assert self.node is not None
        try:
            await asyncio.to_thread(self.node.beat)
        except StoreError as e:
            log.warning("node %s: heartbeat failed: %s", self.node.id, e)

    async def _leave(self, node: Node) -> None:
        # At once, not when the leases run out: the other nodes take this one's sources.
        try:
            released = await asyncio.to_thread(node.leave)
        except StoreError as e:
            log.warning("node %s: cannot release its leases (they run out): %s", node.id, e)
            return
        log.info(
            "node %s left: %d leases released",
            node.id,
            released,
            extra={"fields": {"event": "left", "node": node.id, "released": released}},
        )

    async def _check_lock(self) -> None:
        if self.stopping.is_set():
            return
        await self.lock.check()
        if self.lock.lost is not None:
            # Two instances would fetch and publish over each other: this one goes. What
            # was stored stays stored; the other instance publishes it.
            self.force.set()  # no grace for fetches in flight
            self._stop_soon()

    # ---------------------------------------------------------------- rounds

    async def _tick(self) -> None:
        if self.stopping.is_set() or (self._round is not None and not self._round.done()):
            return  # a round still running: rounds never overlap
        if not self.lock.held:
            return  # another instance may be running: no fetching until the lock is back
        updater = self.updater
        try:
            if self.subscriber is not None:
                updater.pushed = self.subscriber.live()  # polled only as a safety net
            due = updater.due_sources()
        except StoreError as e:
            log.error("cannot read due sources: %s", e)
            return
        if due:
            self._round = asyncio.create_task(self._run_round(updater, due))

    async def _check_pushes(self) -> None:
        """A round of the pushes WebSub hubs sent, as soon as one waits and no round runs."""
        busy = self._round is not None and not self._round.done()
        if busy or self.stopping.is_set() or not self.lock.held or self.subscriber is None:
            return
        try:
            if not self.store.has_pushes():
                return
            inbox = self.subscriber.inbox(await asyncio.to_thread(self.store.pushes))
        except StoreError as e:
            log.error("cannot read pushes: %s", e)
            return
        self._round = asyncio.create_task(self._run_round(self.updater, inbox.sources, inbox))

    async def _tend(self) -> None:
        if self.subscriber is None or self.stopping.is_set() or not self.lock.held:
            return
        try:
            await self.subscriber.tend()
        except StoreError as e:
            log.error("cannot tend WebSub subscriptions: %s", e)

    async def _run_round(
        self, updater: Updater, due: list[Source], inbox: Inbox | None = None
    ) -> None:
        try:
            if inbox is None:
                report = await updater.run_round(due)
            else:  # claimed whether due or not: a push is processed at once
                report = await updater.run_round(due, every=True, named=True, pushes=inbox.pushes)
                await asyncio.to_thread(self.store.delete_pushes, inbox.done(report.outcomes))
            if self.subscriber is not None:
                # What a fetched body names; a hub's copy may leave its links out.
                fetched = [o for o in report.outcomes if not o.pushes]
                await asyncio.to_thread(self.subscriber.noticed, fetched)
        except StoreError as e:
            # The database went away mid-round: what was committed stays, the rest is due.
            # The sources fetched are held until their next check (Updater.held), so a
            # store that cannot be written makes no request every tick.
            log.error("round failed: %s", e)
            return
        except asyncio.CancelledError:
            raise
        except Exception:
            self._fail("round")
            return
        log_round(report)
        give_back()  # what the round's bodies and posts took (daemon/memory.py)
        if report.changed and not self.config.schedule.publish:
            self._request_publish(immediately=inbox is not None)  # a push: at once

    # -------------------------------------------------------------- publishing

    def _request_publish(self, *, immediately: bool = False) -> None:
        self._debounce.request(time.monotonic(), immediately=immediately)
        self._wake.set()

    async def _publisher(self) -> None:
        while not self.stopping.is_set():
            self._wake.clear()
            delay = self._debounce.remaining(time.monotonic())
            if delay is None:
                await self._wake.wait()
                continue
            if delay > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), delay)
                continue
            self._debounce.fired()
            await self._publish()

    async def _publish_on_schedule(self) -> None:
        self._request_publish(immediately=True)

    async def _publish(self) -> None:
        config, store = self.config, self.store
        if not self.lock.held:
            self._request_publish()  # later, once the lock is held again
            return
        started = time.monotonic()
        try:
            # In a thread: the loop keeps serving signals and ticks meanwhile. A publish
            # is never cancelled, so it always completes (or fails) as a whole.
            result = await asyncio.shield(asyncio.to_thread(publish, config, store))
        except PublishBusy:
            # Another node publishes; what it leaves pending goes out on this node's turn.
            log.debug("another node is publishing: publishing later")
            self._request_publish()
            return
        except (PublishError, StoreError) as e:
            log.error("publish failed: %s", e)
            self._request_publish()  # try again later: the posts are still pending
            return
        except Exception:
            self._fail("publish")
            return
        give_back()
        if result.posts or result.written or result.removed:
            log_publish(result, time.monotonic() - started)

    def _schedule_publish_job(self) -> None:
        from apscheduler.triggers.cron import CronTrigger

        with contextlib.suppress(Exception):
            self.scheduler.remove_job("publish")
        cron = self.config.schedule.publish
        if cron:
            self.scheduler.add_job(
                self._publish_on_schedule,
                CronTrigger.from_crontab(cron, timezone=self.config.site.timezone),
                id="publish",
                coalesce=True,
                max_instances=1,
                misfire_grace_time=None,
            )

    # ----------------------------------------------------------------- reload

    async def _watch(self) -> None:
        fingerprint = await asyncio.to_thread(
            config_fingerprint, self.config_path, self._fingerprint
        )
        if fingerprint != self._fingerprint:
            self._fingerprint = fingerprint
            self.reload("a config file changed")  # or a template

    def reload(self, why: str) -> None:
        """Load the config again; keep the running one when the new one is refused."""
        from aggregator.update import Updater

        if self.stopping.is_set():
            return
        self._fingerprint = config_fingerprint(self.config_path, self._fingerprint)
        old = self.config
        config = reloaded(self.config_path, old, self.store, why)
        if config is None:
            return
        self.config = config
        if self.node is not None:
            self.node.configure(config.node, per_host=config.fetch.per_host)
        # Sources held after a round the store could not record stay held.
        self.updater = Updater(config, self.store, held=self.updater.held, node=self.node)
        self.subscriber = _subscriber(config, self.store)
        if config.schedule.publish != old.schedule.publish or (
            config.site.timezone != old.site.timezone
        ):
            self._schedule_publish_job()
        log_reload(why, old, config)
        shape = site_shape(config)
        if shape != self._shape:
            # The site's URL, title, templates, categories...: the publish rewrites them.
            self._shape = shape
            log.info("the site changed: publishing")
            self._request_publish(immediately=True)


def _subscriber(config: Config, store: Store) -> Subscriber | None:
    if config.websub is None or config.websub.callback_url is None:
        return None
    from aggregator.websub.subscriber import Subscriber

    return Subscriber(config, store)


async def _let_finish(current: asyncio.Task[None], force: asyncio.Event, *, grace: float) -> None:
    """Give the round in flight up to `grace` seconds (less if `force` is set), then cut it
    short: what was stored stays stored; the sources cut short are still due."""
    if current.done():
        return
    log.info("waiting up to %.0fs for fetches in flight", grace)
    forced = asyncio.create_task(force.wait())
    await asyncio.wait({current, forced}, timeout=grace, return_when=asyncio.FIRST_COMPLETED)
    forced.cancel()
    if not current.done():
        log.warning("fetches in flight cut short after %.0fs", grace)
        current.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await current
