"""Store stage: posts and per-source fetch state in SQLite or PostgreSQL (SQLAlchemy 2 Core).

The only package that speaks SQL (aggregator/lock.py runs its statements through lock.py
here). It must NOT decide anything about feeds: it keeps what it is given, dedupes posts by key,
hands out unique slugs and tracks what is left to publish. The rest of the code sees it
through the Protocols of api.py; open_store gives the Store that satisfies them all.

    api.py           SourceStates, PostWriter (UpdateStore: both), PublishReads, Metrics,
                     Leases, Subscriptions (declared in subscribing.py), Owner
    schema.py        tables, column types, indexes
    migrations.py    the migration steps and _migrate
    engine.py        open_store, store_exists: engines, SQLite pragmas, why opening failed
    probe.py         probe_store, `check`'s look (a plain SQLite file: by sqlite3 alone)
    transactions.py  one call, one transaction; driver errors -> StoreError
    rows.py          rows <-> records, by column name
    database.py      the Store, composed of the methods in
                     sources.py (source state, hosts), posts.py (upserts, what they read),
                     reads.py (publishing reads and marks, counts),
                     nodes.py (nodes, leases, the publish lock),
                     history.py (every attempt of every source),
                     subscriptions.py (WebSub subscriptions, pushes received)
    identities.py    the stored identities a batch is reconciled with, on a connection
    slugs.py         unique slugs, and settling them
    claims.py        the claim statement (free, due sources within their hosts' limits)
    lock.py          PostgreSQL advisory locks

The names below are loaded on first use: `check` probes a SQLite file through probe.py
without SQLAlchemy (0.3-0.6 s of imports), and the stages that only name the Protocols
(publish, status) import api.py alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aggregator.lazy import lazy_names

if TYPE_CHECKING:
    from aggregator.store.api import (
        Leases,
        Metrics,
        Owner,
        PostWriter,
        PublishReads,
        SourceStates,
        Subscriptions,
        UpdateStore,
    )
    from aggregator.store.database import Store
    from aggregator.store.engine import open_store, store_exists
    from aggregator.store.migrations import MIGRATIONS, _migrate
    from aggregator.store.posts import FULL_TEXT_TRIES
    from aggregator.store.probe import probe_store

__all__ = [
    "FULL_TEXT_TRIES",
    "MIGRATIONS",
    "Leases",
    "Metrics",
    "Owner",
    "PostWriter",
    "PublishReads",
    "SourceStates",
    "Store",
    "Subscriptions",
    "UpdateStore",
    "_migrate",
    "open_store",
    "probe_store",
    "store_exists",
]

# The posts table is schema.posts: `aggregator.store.posts` is the module of post writes.
_HOMES = {
    "FULL_TEXT_TRIES": "posts",
    "MIGRATIONS": "migrations",
    "Leases": "api",
    "Metrics": "api",
    "Owner": "api",
    "PostWriter": "api",
    "PublishReads": "api",
    "SourceStates": "api",
    "Store": "database",
    "Subscriptions": "api",
    "UpdateStore": "api",
    "_migrate": "migrations",
    "open_store": "engine",
    "probe_store": "probe",
    "store_exists": "engine",
}

if not TYPE_CHECKING:
    __getattr__ = lazy_names(__name__, _HOMES)


if TYPE_CHECKING:

    def _satisfies_every_protocol(
        store: Store,
    ) -> tuple[
        SourceStates, PostWriter, UpdateStore, PublishReads, Metrics, Owner, Leases, Subscriptions
    ]:
        # mypy checks here that the Store is each Protocol, signature by signature.
        return store, store, store, store, store, store, store, store
