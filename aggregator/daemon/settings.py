"""DaemonSettings: the daemon's timings. A record only, light to import: the CLI reads its
defaults to build `run --help`. Must NOT import the daemon's machinery (loop.py does).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DaemonSettings"]


@dataclass(frozen=True, slots=True, kw_only=True)
class DaemonSettings:
    """Timings of the daemon, in seconds."""

    tick: float = 1.0  # how often the store is asked what is due: one cheap indexed query
    grace: float = 10.0  # how long fetches in flight may finish after SIGTERM/SIGINT
    debounce: float = 1.0  # publish once no round changed anything for this long…
    max_publish_delay: float = 10.0  # …but no later than this after the first change
    watch: float = 1.0  # how often config.yaml and the source lists are checked for edits
    lock_check: float = 2.0  # how often the instance lock is made sure of (a round trip)
    push_check: float = 0.2  # how often the WebSub inbox is looked at (one indexed read)
