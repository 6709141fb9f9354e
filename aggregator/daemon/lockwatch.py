"""The daemon's hold on the store's instance lock, made sure of now and then. Must NOT
stop the daemon itself (the Daemon reads `held` and `lost`) nor speak SQL (aggregator.lock).
"""

from __future__ import annotations

import asyncio

from aggregator.daemon.logs import log
from aggregator.errors import StoreError
from aggregator.lock import AlreadyRunning, InstanceLock

__all__ = ["LockWatch"]


class LockWatch:
    """The instance lock, made sure of now and then (a database session can end): whether
    it is held, and whether another process took it."""

    def __init__(self, lock: InstanceLock | None) -> None:
        self.lock = lock
        self.held = True  # False: lost and not yet taken again; no rounds or publishing
        self.lost: AlreadyRunning | None = None  # another process took it: stop

    async def check(self) -> None:
        lock = self.lock
        if lock is None or self.lost is not None:
            return
        try:
            # In a thread: a database slow to answer must not hold up the event loop.
            retaken = await asyncio.to_thread(lock.check)
        except AlreadyRunning as e:
            self.lost = e
            self.held = False
            return
        except StoreError as e:
            if self.held:
                log.error("%s; no rounds or publishing until it is held again", e)
            self.held = False
            return
        if retaken or not self.held:
            log.warning(
                "instance lock was lost (its database session ended) and is held again: %s",
                lock.description,
                extra={"fields": {"event": "lock_retaken"}},
            )
        self.held = True
