"""The long-running daemon: APScheduler 3 (asyncio) wiring around Updater and publish.

The store holds every source's next check time, so one recurring job (coalesced,
never overlapping itself) asks it which sources are due; nothing else is scheduled
per source, and restarts keep backoff and Retry-After.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from pathlib import Path

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from aggregator.config import load_config
from aggregator.errors import ConfigError, PublishError, StoreError
from aggregator.publish import publish
from aggregator.store import open_store
from aggregator.types import Config
from aggregator.update import Updater

log = logging.getLogger("aggregator.daemon")

TICK_SECONDS = 1.0  # how often the store is asked what is due: a cheap indexed query
GRACE_SECONDS = 10.0  # how long in-flight work may finish after SIGTERM


class Daemon:
    def __init__(self, config_path: Path) -> None:
        self.config_path = config_path
        self.config: Config = load_config(config_path)
        self.store = open_store(self.config.database)
        self.updater = Updater(self.config, self.store)
        self.stopping = asyncio.Event()
        self.round_lock = asyncio.Lock()
        self.scheduler = AsyncIOScheduler(timezone="UTC")

    async def main(self) -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stopping.set)
        loop.add_signal_handler(signal.SIGHUP, self.reload)
        self.scheduler.add_job(
            self.tick,
            IntervalTrigger(seconds=TICK_SECONDS),
            id="tick",
            coalesce=True,
            max_instances=1,
        )
        if self.config.schedule.publish:
            self.scheduler.add_job(
                self.publish,
                CronTrigger.from_crontab(self.config.schedule.publish, timezone="UTC"),
                id="publish",
                coalesce=True,
                max_instances=1,
            )
        self.scheduler.start()
        log.info("daemon started: %d sources", len(self.config.sources))
        await self.stopping.wait()
        log.info("stopping: waiting up to %.0fs for work in flight", GRACE_SECONDS)
        self.scheduler.shutdown(wait=False)
        try:
            async with asyncio.timeout(GRACE_SECONDS):
                async with self.round_lock:
                    pass
        except TimeoutError:
            log.warning("work in flight did not finish within %.0fs", GRACE_SECONDS)
        await self.publish()
        self.store.close()
        log.info("stopped")
        return 0

    async def tick(self) -> None:
        if self.stopping.is_set():
            return
        async with self.round_lock:
            report = await self.updater.run_round()
            if report.due:
                log.info(report.summary())
                for o in report.errors:
                    log.warning("source failed: %s: %s", o.name, o.error)
            if report.changed and not self.config.schedule.publish:
                await self.publish()

    async def publish(self) -> None:
        try:
            result = publish(self.config, self.store)
        except (PublishError, StoreError) as e:
            log.error("publish failed: %s", e)
            return
        if result.posts:
            log.info("published %d posts, %d files written", result.posts, len(result.written))

    def reload(self) -> None:
        try:
            config = load_config(self.config_path)
        except ConfigError as e:
            for line in e.problems:
                log.error("reload refused: %s", line)
            return
        self.config = config
        self.updater = Updater(config, self.store)
        log.info("config reloaded: %d sources", len(config.sources))


def run_daemon(config_path: Path) -> int:
    """Run until SIGTERM/SIGINT. Raises ConfigError/StoreError before starting."""

    async def go() -> int:
        return await Daemon(config_path).main()

    return asyncio.run(go())
