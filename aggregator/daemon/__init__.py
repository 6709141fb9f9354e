"""The long-running daemon (`aggregator run`): rounds when sources are due, a debounced
publish after rounds that changed something, reloads on SIGHUP or a config edit, a clean
stop on SIGTERM/SIGINT.

    loop.py       the Daemon: signals, ticks, the publisher task, pushes, stop
    start.py      run_daemon: lock, store, node, then the Daemon
    debounce.py   when to publish (pure: `now` passed in)
    lockwatch.py  the instance lock, made sure of now and then
    reload.py     a new config checked, its shortened schedules carried out
    logs.py       one log line per round and per publish
    memory.py     few malloc arenas, and free memory given back after rounds and publishes
    settings.py   DaemonSettings, its timings

Must NOT decide a source's state (update/decide.py) or its schedule (schedule.py). Light
to import: the names below load on first use, so the CLI reads DaemonSettings and the log
lines without the store, the publisher or the config; APScheduler and the fetching side
load when a Daemon is built.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aggregator.lazy import lazy_names

if TYPE_CHECKING:
    from aggregator.daemon.debounce import Debouncer
    from aggregator.daemon.lockwatch import LockWatch
    from aggregator.daemon.logs import log_publish, log_round
    from aggregator.daemon.loop import Daemon
    from aggregator.daemon.reload import reschedule
    from aggregator.daemon.settings import DaemonSettings
    from aggregator.daemon.start import run_daemon

__all__ = [
    "Daemon",
    "DaemonSettings",
    "Debouncer",
    "LockWatch",
    "log_publish",
    "log_round",
    "reschedule",
    "run_daemon",
]

_HOMES = {
    "Daemon": "loop",
    "DaemonSettings": "settings",
    "Debouncer": "debounce",
    "LockWatch": "lockwatch",
    "log_publish": "logs",
    "log_round": "logs",
    "reschedule": "reload",
    "run_daemon": "start",
}

if not TYPE_CHECKING:
    __getattr__ = lazy_names(__name__, _HOMES)
