"""Records of the nodes working on one shared (PostgreSQL) store: the `node:` section,
each node as its row holds it, the sources a node would claim, who holds a source, what a
save under leases did. Plain records: must NOT import anything of aggregator's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

__all__ = ["Candidate", "Lease", "LeasedSave", "NodeRecord", "NodeSettings"]


@dataclass(frozen=True, slots=True, kw_only=True)
class NodeSettings:
    """The `node:` section: this process among the nodes of one PostgreSQL database."""

    id: str | None = None  # None: made of the host name, the pid and the start time
    lease: float = 60.0  # seconds a claim on a source lasts unless renewed


@dataclass(frozen=True, slots=True, kw_only=True)
class NodeRecord:
    """One node (a daemon or `run --once` on a shared PostgreSQL store) as its row holds it."""

    id: str
    host: str
    pid: int
    started: datetime
    heartbeat: datetime  # last time it said it was alive
    stopped: datetime | None = None  # when it stopped cleanly; None: running, or died
    rounds: int = 0
    fetched: int = 0  # sources fetched (or tried) since it started
    errors: int = 0  # of those, the ones that failed
    store_seconds: float = 0.0  # time spent in store transactions since it started
    leases: int = 0  # sources it holds now (read only: counted from the leases)


@dataclass(frozen=True, slots=True, kw_only=True)
class Candidate:
    """A source a node would fetch, as the claim needs it: its host for the per-host
    limit, its config URL to tell a moved source (due at once) from one just fetched."""

    name: str
    host: str
    url: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Lease:
    """Who holds a source, until when."""

    node: str
    until: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class LeasedSave:
    """What a save under leases did: states refused by the database (name -> reason), and
    sources whose lease another node had taken (nothing written for them)."""

    refused: Mapping[str, str] = field(default_factory=dict)
    lost: tuple[str, ...] = ()
