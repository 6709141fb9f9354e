"""The update stage: sources through fetch -> parse -> normalize -> store, in rounds (a
WebSub push taking the place of a fetch), and
what each source's state becomes (decide.py, pure). The one place that turns a source's
failure into state. Must NOT publish, nor own the schedule's policy (schedule.py) or the
HTTP client (fetch).

    decide.py    every state transition -> Decision (pure)
    decision.py  the Decision record and what it carries
    moves.py     a source's URL moved: permanent redirects, autodiscovery (pure)
    discover.py  `sources add`: the feed of a URL, or the feeds its page advertises
    clean.py     a state cleaned for the store
    updater.py   the Updater: due sources, rounds in lanes
    supply.py    where the lanes take sources from: all given, or claimed (a shared store)
    node.py      this process as a node of a shared store: its row, claims, leases
    round.py     one round's resources (a context manager)
    pool.py      one round's parsers (threads or a process pool, the parse budget)
    pipeline.py  one source through the stages, carrying out decisions
    report.py    SourceOutcome, RoundReport
    worker.py    parse + normalize as one job for a worker process
    forkserver.py  the worker pool's server ends quietly when the pool's maker dies
    leftout.py   the log lines of what a parsed body left out
    fulltext.py  the linked page's article for `full_text` sources

The names below are loaded on first use: a parse worker process imports `worker.py`, and
so this file, and must start without the HTTP client and the store (30 MB, not 59).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aggregator.lazy import lazy_names

if TYPE_CHECKING:
    from aggregator.update.clean import storable
    from aggregator.update.decide import current_state, followed, initial_state
    from aggregator.update.pool import PROCESS_MIN_BYTES
    from aggregator.update.report import RoundReport, SourceOutcome
    from aggregator.update.round import STATE_BATCH
    from aggregator.update.updater import POOL_MIN_SOURCES, Updater, limits_from

__all__ = [
    "POOL_MIN_SOURCES",
    "PROCESS_MIN_BYTES",
    "STATE_BATCH",
    "RoundReport",
    "SourceOutcome",
    "Updater",
    "current_state",
    "followed",
    "initial_state",
    "limits_from",
    "storable",
]

_HOMES = {
    "POOL_MIN_SOURCES": "updater",
    "PROCESS_MIN_BYTES": "pool",
    "STATE_BATCH": "round",
    "RoundReport": "report",
    "SourceOutcome": "report",
    "Updater": "updater",
    "current_state": "decide",
    "followed": "decide",
    "initial_state": "decide",
    "limits_from": "updater",
    "storable": "clean",
}

if not TYPE_CHECKING:
    __getattr__ = lazy_names(__name__, _HOMES)
