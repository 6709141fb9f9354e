"""`aggregator run`'s start: the config loaded, the instance lock taken, the store opened
(and on a shared store this process joined as a node), then the Daemon (loop.py) run on a
fresh event loop. Must NOT schedule or fetch anything itself.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from aggregator.config import load_config
from aggregator.daemon.logs import log
from aggregator.daemon.loop import Daemon
from aggregator.daemon.memory import limit_arenas
from aggregator.daemon.settings import DaemonSettings
from aggregator.lock import acquire_instance_lock
from aggregator.publish import clear_stale_temp_files
from aggregator.store import open_store

__all__ = ["run_daemon"]


def run_daemon(config_path: Path, settings: DaemonSettings | None = None) -> int:
    """Run the daemon until SIGTERM/SIGINT; return the exit status.

    Raises:
        ConfigError: the config is refused (before anything starts).
        AlreadyRunning: another process holds the store (at the start, or after this one's
            lock was lost).
        StoreError: the store cannot be opened.
    """
    from aggregator.update.node import Node, node_id

    limit_arenas()  # before any thread starts (daemon/memory.py)
    config = load_config(config_path)
    me = node_id(config.node)
    with acquire_instance_lock(config.database, node=me) as lock:
        log.debug("instance lock: %s", lock.description)
        store = open_store(config.database)
        try:
            node = None
            if store.shared:
                # Other nodes may be publishing: their temp files are cleared under the
                # publish lock (publish), not here.
                node = Node(store, config.node, per_host=config.fetch.per_host, id=me)
                node.join()
            else:
                stale = clear_stale_temp_files(config.site.output_dir)
                if stale:
                    log.info("removed %d temp files left by an interrupted publish", stale)

            async def go() -> int:
                daemon = Daemon(config_path, config, store, settings, lock=lock, node=node)
                return await daemon.run()

            return asyncio.run(go())
        finally:
            store.close()
