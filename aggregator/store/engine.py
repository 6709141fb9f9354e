"""Opening a store: the URL checked, the engine created (SQLite pragmas and transaction
begins, PostgreSQL timeouts), the schema brought up to date, and why it failed if it did;
and store_exists, `status`'s look at whether a round made it, which creates nothing
(probe.py has `check`'s look at whether it would open).

Touches no table itself (migrations.py changes the schema, the Store's methods the
rows), and must not let a password into a message.
"""

from __future__ import annotations

import os
import time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from aggregator.errors import StoreError
from aggregator.store.database import Store
from aggregator.store.migrations import MIGRATIONS, _migrate
from aggregator.store.schema import partial_on_postgresql, schema_version
from aggregator.store.transactions import WRITE, reason

__all__ = ["_create_engine", "open_store", "store_exists"]


def open_store(url: str) -> Store:
    """Open the database at `url`, creating or migrating its schema.

    Raises:
        StoreError: the URL is invalid, the database is unreachable or cannot be migrated.
    """
    try:
        parsed = sa.make_url(url)
    except ArgumentError as e:
        raise StoreError(f"invalid database URL: {e}") from e
    shown = parsed.render_as_string(hide_password=True)
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise StoreError(f"cannot open database {shown}: only sqlite and postgresql are supported")
    try:
        engine = _create_engine(parsed)
    except SQLAlchemyError as e:
        raise StoreError(f"cannot open database {shown}: {reason(e, parsed)}") from e
    try:
        _migrate(engine, MIGRATIONS)
    except StoreError as e:
        engine.dispose()
        raise StoreError(f"cannot open database {shown}: {e}") from e
    except SQLAlchemyError as e:
        engine.dispose()
        raise StoreError(f"cannot open database {shown}: {reason(e, parsed)}") from e
    return Store(engine)


def store_exists(url: str) -> bool:
    """Whether a round has made the database at `url`: a SQLite file that exists, a
    PostgreSQL database with our schema in it. Creates nothing (`status` asks first).

    Raises:
        StoreError: the URL is invalid or the database is unreachable.
    """
    try:
        parsed = sa.make_url(url)
    except ArgumentError as e:
        raise StoreError(f"invalid database URL: {e}") from e
    if parsed.get_backend_name() == "sqlite":
        if "uri" in parsed.query:  # a "file:" URI the driver reads itself: cannot tell
            return True
        database = parsed.database or ""
        # An in-memory database is made afresh by whoever opens it.
        return database in ("", ":memory:") or os.path.exists(database)
    if parsed.get_backend_name() != "postgresql":
        return True  # open_store says why it cannot open it
    shown = parsed.render_as_string(hide_password=True)
    try:
        engine = _create_engine(parsed)
    except (SQLAlchemyError, ImportError) as e:  # ImportError: the URL's driver is missing
        raise StoreError(f"cannot open database {shown}: {reason(e, parsed)}") from e
    try:
        with engine.connect() as conn:
            return sa.inspect(conn).has_table(schema_version.name)
    except SQLAlchemyError as e:
        raise StoreError(f"cannot open database {shown}: {reason(e, parsed)}") from e
    finally:
        engine.dispose()


def _create_engine(url: sa.URL) -> Engine:
    if url.get_backend_name() == "sqlite":
        engine = sa.create_engine(url)
        sa.event.listen(engine, "connect", _sqlite_connect)
        sa.event.listen(engine, "begin", _sqlite_begin)
        return engine
    partial_on_postgresql()
    connect_args: dict[str, Any] = {}
    if "connect_timeout" not in url.query:
        # An unroutable host would otherwise hang for the kernel's TCP timeout.
        connect_args["connect_timeout"] = 10
    engine = sa.create_engine(url, connect_args=connect_args)
    sa.event.listen(engine.pool, "checkin", _checked_in)
    sa.event.listen(engine.pool, "checkout", _ping_if_idle)
    return engine


# A pooled PostgreSQL connection unused for longer than this is pinged before it is lent
# (a server restarted between rounds then costs nothing); one used this recently is lent
# as it is: in a round, a ping before each of a source's transactions was a fifth of its
# round trips. A connection that died meanwhile fails that one call, and is replaced.
_PING_AFTER_IDLE_S = 2.0


def _checked_in(dbapi_conn: Any, record: Any) -> None:
    record.info["idle_since"] = time.monotonic()


def _ping_if_idle(dbapi_conn: Any, record: Any, proxy: Any) -> None:
    since = record.info.get("idle_since")
    if since is None or time.monotonic() - since < _PING_AFTER_IDLE_S:
        return  # new (just connected), or used a moment ago
    try:
        with dbapi_conn.cursor() as cursor:
            cursor.execute("SELECT 1")
        dbapi_conn.rollback()
    except Exception as e:  # whatever the driver raises for a dead connection
        raise sa.exc.DisconnectionError(str(e)) from e


def _sqlite_connect(dbapi_conn: Any, record: Any) -> None:
    # pysqlite begins transactions itself, only before DML, so DDL would run outside one and
    # a migration would not be atomic; _sqlite_begin begins every transaction instead.
    dbapi_conn.isolation_level = None
    cursor = dbapi_conn.cursor()
    try:
        # busy_timeout first: switching to WAL needs a lock another process may hold.
        cursor.execute("PRAGMA busy_timeout = 10000")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        # A checkpoint syncs the file: every 40 MB of WAL (SQLite's default is every 4 MB),
        # not every dozen posts of a cold round.
        cursor.execute("PRAGMA wal_autocheckpoint = 10000")
    finally:
        cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    # A deferred transaction that reads and then writes fails at once with SQLITE_BUSY
    # (no busy_timeout wait) when another process wrote in between; writers therefore
    # take the write lock when they begin.
    immediate = conn.get_execution_options().get(WRITE, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
