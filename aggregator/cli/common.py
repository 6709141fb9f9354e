"""What the commands share: exit codes, argument types, opening the config and the store,
and the instance lock. Must NOT hold a command's own logic, nor import a stage at module
level (every command, `--help` too, imports this file).
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from aggregator.errors import PublishError

if TYPE_CHECKING:
    from datetime import timedelta

    from aggregator.lock import InstanceLock
    from aggregator.store import Store
    from aggregator.types import Config

__all__ = [
    "EXIT_CONFIG",
    "EXIT_PIPE",
    "EXIT_PUBLISH",
    "EXIT_RUNNING",
    "EXIT_STORE",
    "EXIT_USAGE",
    "duration_arg",
    "locked",
    "log",
    "open_config_and_store",
    "port_number",
    "positive_count",
    "positive_seconds",
]

T = TypeVar("T", int, float)

# The commands' log lines keep the logger name they have always had ("logger" in JSON).
log = logging.getLogger("aggregator")

EXIT_CONFIG = 2
EXIT_STORE = 3
EXIT_PUBLISH = 4
EXIT_RUNNING = 5  # another process holds the store's instance lock
EXIT_USAGE = 64  # the command line itself is wrong (sysexits.h EX_USAGE): not 2, a refused config
EXIT_PIPE = 141  # stdout's reader went away (`status --json | head`): as if killed by SIGPIPE

if TYPE_CHECKING:
    # What add_subparsers() returns: each command group adds its commands to it.
    SubParsers = argparse._SubParsersAction[argparse.ArgumentParser]


def open_config_and_store(args: argparse.Namespace) -> tuple[Config, Store]:
    """The config `--config` names, and its store.

    Raises:
        ConfigError: the config is refused.
        StoreError: the store cannot be opened.
    """
    from aggregator.config import load_config
    from aggregator.store import open_store

    config = load_config(args.config)
    return config, open_store(config.database)


def locked(config: Config, *, node: str | None = None) -> InstanceLock:
    """The store's instance lock (on PostgreSQL, node `node`'s), then the temp files a
    killed publish left (ours now; on a shared store the publish clears them, under its
    lock).

    Raises:
        AlreadyRunning: another process holds the store.
        StoreError: the lock cannot be taken.
        PublishError: a stale temp file cannot be removed.
    """
    from aggregator.lock import acquire_instance_lock
    from aggregator.publish import clear_stale_temp_files

    lock = acquire_instance_lock(config.database, node=node)
    if lock.shared:
        return lock
    try:
        stale = clear_stale_temp_files(config.site.output_dir)
    except OSError as e:
        lock.release()
        raise PublishError(f"cannot clean up {config.site.output_dir}: {e}") from e
    if stale:
        log.info("removed %d temp files left by an interrupted publish", stale)
    return lock


def positive_seconds(text: str) -> float:
    return _positive(text, float, "not a number of seconds", most=86_400.0)  # a day


def positive_count(text: str) -> int:
    return _positive(text, int, "not a whole number", most=1_000_000)


def port_number(text: str) -> int:
    """0 (any free port) to 65535."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= port <= 65_535:
        raise argparse.ArgumentTypeError(f"not a port number (0 to 65535): {text!r}")
    return port


def _positive(text: str, kind: Callable[[str], T], what: str, *, most: T) -> T:
    """`text` read by `kind`, more than zero and at most `most` (larger ones overflow the
    store's integers and the event loop's timers)."""
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{what}: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be more than zero: {text!r}")
    if not value <= most:  # inf and nan too
        raise argparse.ArgumentTypeError(f"must be at most {most:.15g}: {text!r}")
    return value


def duration_arg(text: str) -> timedelta:
    from aggregator.config import parse_duration

    try:
        return parse_duration(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
