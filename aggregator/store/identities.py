"""Reading the stored identities of posts (their key, identity key, legacy key, canonical
link or text hash) on a connection: what reconciling a batch reads, in the store's own
transaction. Must not decide what an identity means (normalize.reconcile does).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from aggregator.store.rows import IDENTITY, identity_from_row
from aggregator.store.schema import posts
from aggregator.store.transactions import CHUNK, chunks
from aggregator.types import StoredIdentity

__all__ = ["read_identities"]


def read_identities(
    conn: Connection,
    keys: Sequence[str],
    links: Sequence[str],
    text_hashes: Sequence[str],
    legacy_keys: Sequence[str],
) -> list[StoredIdentity]:
    """Store.identities, on `conn` (in the caller's transaction)."""
    wanted_keys = [x for x in dict.fromkeys(keys) if x]
    wanted_legacy = [x for x in dict.fromkeys(legacy_keys) if x]
    wanted = [
        (posts.c.key, list(dict.fromkeys([*wanted_keys, *wanted_legacy]))),
        (posts.c.identity_key, wanted_keys),
        (posts.c.legacy_key, wanted_legacy),
        (posts.c.canonical_link, [x for x in dict.fromkeys(links) if x]),
        (posts.c.text_hash, [x for x in dict.fromkeys(text_hashes) if x]),
    ]
    parts = [
        sa.select(*IDENTITY).where(column.in_(chunk))
        for column, values in wanted
        for chunk in chunks(values)
    ]
    found: dict[str, StoredIdentity] = {}
    if not parts:
        return []
    # One statement for a round's usual batch (one round trip, under the post writers'
    # lock on PostgreSQL); a big one part by part, within SQLite's parameter limit.
    queries = [sa.union_all(*parts)] if sum(map(len, _values(wanted))) <= CHUNK * 4 else parts
    for query in queries:
        for row in conn.execute(query):
            found.setdefault(row.key, identity_from_row(row))
    return list(found.values())


def _values(wanted: Sequence[tuple[object, list[str]]]) -> Iterator[list[str]]:
    return (values for _, values in wanted)
