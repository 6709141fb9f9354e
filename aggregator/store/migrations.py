"""The schema's migration steps and the one function that applies them.

Step i takes a database from schema version i to i + 1; the numbers never change and a
step is never edited once released (an old database walks every step after its own).
Must not read or write posts or sources beyond what a step's change needs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Final

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from aggregator.errors import StoreError
from aggregator.store.lock import MIGRATION_LOCK, serialize
from aggregator.store.schema import (
    ARRIVAL_INDEX,
    IDENTITY_INDEXES,
    IDENTITY_V6_INDEXES,
    LEASE_DUE_DDL,
    LEASE_DUE_INDEX,
    VOLUME_INDEXES,
    Tags,
    UTCDateTime,
    attempts,
    hosts,
    metadata,
    nodes,
    pushes,
    schema_version,
    site,
    subscriptions,
    unsettled,
)
from aggregator.store.transactions import WRITE

__all__ = ["MIGRATIONS", "_migrate"]


def _create_v1(conn: Connection) -> None:
    # `sources` and `posts` frozen as version 1 had them (versions 2 and 3 add columns): a
    # new database walks every step, and a later step must not find its change made.
    v1 = sa.MetaData()
    sources_v1 = sa.Table(
        "sources",
        v1,
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("config_url", sa.Text, nullable=False),
        sa.Column("etag", sa.Text),
        sa.Column("last_modified", sa.Text),
        sa.Column("content_hash", sa.Text),
        sa.Column("feed_title", sa.Text),
        sa.Column("feed_link", sa.Text),
        sa.Column("feed_id", sa.Text),
        sa.Column("last_fetched", UTCDateTime),
        sa.Column("last_success", UTCDateTime),
        sa.Column("last_status", sa.Integer),
        sa.Column("failures", sa.Integer, nullable=False, default=0),
        sa.Column("last_error", sa.Text),
        sa.Column("next_check", UTCDateTime),
        sa.Column("disabled", sa.Text),
    )
    posts_v1 = sa.Table(
        "posts",
        v1,
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("category", sa.Text, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("link", sa.Text, nullable=False),
        sa.Column("published", UTCDateTime, nullable=False),
        sa.Column("updated", UTCDateTime, nullable=False),
        sa.Column("content_html", sa.Text, nullable=False),
        sa.Column("tags", Tags, nullable=False),
        sa.Column("slug", sa.Text, nullable=False, unique=True),
        sa.Column("content_hash", sa.Text, nullable=False),
        sa.Column("dated", sa.Boolean, nullable=False),
        sa.Column("first_seen", UTCDateTime, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("published_revision", sa.Integer, nullable=False),
    )
    pending_v1 = posts_v1.c.revision > posts_v1.c.published_revision
    sa.Index("ix_posts_category_published", posts_v1.c.category, posts_v1.c.published)
    sa.Index("ix_posts_published", posts_v1.c.published)
    pending = sa.Index("ix_posts_pending", posts_v1.c.published, sqlite_where=pending_v1)
    if conn.dialect.name == "postgresql":  # named only there: the dialect loads for it
        pending.dialect_options["postgresql"]["where"] = pending_v1
    v1.create_all(conn, tables=[sources_v1, posts_v1], checkfirst=False)


def _fetch_state_v2(conn: Connection) -> None:
    # ADD COLUMN with a constant default is the same statement on SQLite and PostgreSQL.
    for ddl in (
        "ALTER TABLE sources ADD COLUMN redirect_target TEXT",
        "ALTER TABLE sources ADD COLUMN redirect_count INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE sources ADD COLUMN feed_ttl_seconds INTEGER",
    ):
        conn.exec_driver_sql(ddl)
    metadata.create_all(conn, tables=[hosts], checkfirst=False)


_POSTS_V3_COLUMNS: Final = ("canonical_link", "text_hash", "raw_hash")


def _post_identity_v3(conn: Connection) -> None:
    for name in _POSTS_V3_COLUMNS:
        conn.exec_driver_sql(f"ALTER TABLE posts ADD COLUMN {name} TEXT NOT NULL DEFAULT ''")
    for index in IDENTITY_INDEXES:
        index.create(conn)


def _arrival_index_v4(conn: Connection) -> None:
    ARRIVAL_INDEX.create(conn)


def _volume_v5(conn: Connection) -> None:
    # Existing posts have settled slugs (none in unsettled_slugs) and no article pending (0).
    for ddl in (
        "ALTER TABLE sources ADD COLUMN dropped_items INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE posts ADD COLUMN full_text_tries INTEGER NOT NULL DEFAULT 0",
    ):
        conn.exec_driver_sql(ddl)
    metadata.create_all(conn, tables=[unsettled], checkfirst=False)
    for index in VOLUME_INDEXES:
        index.create(conn)


def _identity_v6(conn: Connection) -> None:
    # Every stored key was made by the formula before (normalize.identity._legacy_key); no item has
    # claimed its post under today's formula yet: reconcile lets the first one that does.
    for ddl in (
        "ALTER TABLE posts ADD COLUMN identity_key TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE posts ADD COLUMN legacy_key TEXT NOT NULL DEFAULT ''",
        "UPDATE posts SET legacy_key = key",
    ):
        conn.exec_driver_sql(ddl)
    for index in IDENTITY_V6_INDEXES:
        index.create(conn)


def _authors_v7(conn: Connection) -> None:
    # Stored posts name no author until their items are normalized again (NORMALIZER_VERSION
    # 4 does so at their next fetch): NULL, as for an item that names none.
    conn.exec_driver_sql("ALTER TABLE posts ADD COLUMN author TEXT")


def _site_v8(conn: Connection) -> None:
    # Empty: a site published before keeps its ids from the base_url of its next publish,
    # the one its ids were made from until now (Store.id_base).
    metadata.create_all(conn, tables=[site], checkfirst=False)


def _schedule_v9(conn: Connection) -> None:
    # NULL: the schedule a stored next check was drawn from is not known; the next one
    # drawn records it.
    conn.exec_driver_sql("ALTER TABLE sources ADD COLUMN schedule TEXT")


def _nodes_v10(conn: Connection) -> None:
    # Empty: nodes join, and sources get their lease rows, as they run. `leases` as
    # version 10 had it (version 15 adds a column), with its indexes.
    v10 = sa.MetaData()
    leases_v10 = sa.Table(
        "leases",
        v10,
        sa.Column("source", sa.Text, primary_key=True),
        sa.Column("host", sa.Text, nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("node", sa.Text),
        sa.Column("until", UTCDateTime),
    )
    sa.Index("ix_leases_node", leases_v10.c.node)
    sa.Index("ix_leases_host", leases_v10.c.host)
    metadata.create_all(conn, tables=[nodes], checkfirst=False)
    v10.create_all(conn, tables=[leases_v10], checkfirst=False)


def _posting_rate_v11(conn: Connection) -> None:
    # NULL: not known until each source's next parsed body (an auto interval then starts
    # from its bounds).
    when = UTCDateTime().impl.compile(dialect=conn.dialect)  # as create_all spells it
    for ddl in (
        "ALTER TABLE sources ADD COLUMN posting_gap_seconds INTEGER",
        f"ALTER TABLE sources ADD COLUMN newest_item {when}",
    ):
        conn.exec_driver_sql(ddl)


def _history_v12(conn: Connection) -> None:
    # Empty: attempts are recorded from the next round on (its indexes come with it).
    metadata.create_all(conn, tables=[attempts], checkfirst=False)


def _discovery_v13(conn: Connection) -> None:
    # NULL: every source so far reads the URL configured or redirected to.
    conn.exec_driver_sql("ALTER TABLE sources ADD COLUMN discovered_from TEXT")


def _websub_v14(conn: Connection) -> None:
    # Empty: sources are subscribed to as their feeds name hubs, from the next round on.
    metadata.create_all(conn, tables=[subscriptions, pushes], checkfirst=False)


def _lease_due_v15(conn: Connection) -> None:
    # Every lease row's due time from its source's state (the trigger on leases.url does it).
    when = UTCDateTime().impl.compile(dialect=conn.dialect)  # as create_all spells it
    conn.exec_driver_sql(f"ALTER TABLE leases ADD COLUMN due {when}")
    LEASE_DUE_INDEX.create(conn)
    if conn.dialect.name == "postgresql":
        for ddl in LEASE_DUE_DDL:
            conn.exec_driver_sql(ddl)
        conn.exec_driver_sql("UPDATE leases SET url = url")


# Step i takes the schema from version i to i + 1, inside the migration's transaction.
MIGRATIONS: Final[tuple[Callable[[Connection], None], ...]] = (
    _create_v1,
    _fetch_state_v2,
    _post_identity_v3,
    _arrival_index_v4,
    _volume_v5,
    _identity_v6,
    _authors_v7,
    _site_v8,
    _schedule_v9,
    _nodes_v10,
    _posting_rate_v11,
    _history_v12,
    _discovery_v13,
    _websub_v14,
    _lease_due_v15,
)


def _migrate(engine: Engine, migrations: Sequence[Callable[[Connection], None]]) -> int:
    """Bring the schema up to len(migrations) in one transaction; return the steps applied.

    Raises:
        StoreError: the database was written by a newer version of aggregator.
        SQLAlchemyError: a step failed (nothing of the migration is kept).
    """
    with engine.connect() as conn:
        conn.execution_options(**{WRITE: True})
        with conn.begin():
            # Nodes starting together must not both run the same step.
            serialize(conn, MIGRATION_LOCK)
            schema_version.create(conn, checkfirst=True)
            version = conn.scalar(sa.select(schema_version.c.version))
            if version is None:
                version = 0
                conn.execute(schema_version.insert().values(version=0))
            if version > len(migrations):
                raise StoreError(
                    f"database schema version {version} is newer than this aggregator "
                    f"supports ({len(migrations)}): upgrade aggregator"
                )
            for step in migrations[version:]:
                step(conn)
            if version < len(migrations):
                conn.execute(schema_version.update().values(version=len(migrations)))
            return len(migrations) - version
