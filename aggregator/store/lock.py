"""PostgreSQL advisory locks: every statement they take, with no policy of their own.

Transaction-scoped keys serialize schema migrations, slug choice and claims between nodes
(SQLite serializes writers by itself); the session-scoped publish lock is taken by the
store's `publishing`, and the session-scoped instance lock is run here for
aggregator/lock.py, which keeps what the lock means (who holds it, what to tell the user,
when to take it back). Must not decide anything: each function runs its statement and
returns what the database said, raising what the driver raised (DatabaseError).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from aggregator.errors import StoreError
from aggregator.store.transactions import reason

__all__ = [
    "CLAIM_LOCK",
    "MIGRATION_LOCK",
    "POSTS_LOCK",
    "PUBLISH_LOCK",
    "DatabaseError",
    "SessionHolder",
    "backend_pid",
    "holder",
    "holds_lock",
    "instance_lock_engine",
    "parse_url",
    "reason",
    "serialize",
    "terminate_backend",
    "try_lock",
    "unlock",
]

# pg_advisory_xact_lock keys: serialize schema migrations, and post upserts (whose slug
# choice reads then writes) between nodes.
MIGRATION_LOCK: Final = 0x616767726567  # "aggreg"
POSTS_LOCK: Final = 0x616767726568
# Claims of sources, one node at a time: the per-host counts a claim reads stay exact.
CLAIM_LOCK: Final = 0x616767726569
# Session-scoped: held by the one node publishing (released when its session ends).
PUBLISH_LOCK: Final = 0x61676772656A

# What the functions below raise when the database fails; `reason` puts its message on
# one line.
DatabaseError = SQLAlchemyError


def parse_url(url: str) -> sa.URL:
    """`url` as SQLAlchemy reads it, for aggregator/lock.py (which speaks no SQLAlchemy).

    Raises:
        StoreError: it is not a database URL.
    """
    try:
        return sa.make_url(url)
    except sa.exc.ArgumentError as e:
        raise StoreError(f"invalid database URL: {e}") from e


def serialize(conn: Connection, key: int) -> None:
    """On PostgreSQL, wait for the transaction lock `key` (held until `conn`'s transaction
    ends); nothing on SQLite, whose writers take the database's lock when they begin."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(key)))


# ------------------------------------------------------------ the instance lock

# pg_locks shows a bigint advisory key as its high and low halves, with objsubid 1.
_OF_THE_KEY: Final = (
    "l.locktype = 'advisory' AND l.granted AND l.classid = :hi AND l.objid = :lo "
    "AND l.objsubid = 1 AND l.database = (SELECT oid FROM pg_database "
    "WHERE datname = current_database())"
)


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionHolder:
    """The session that holds an advisory key, as pg_stat_activity shows it."""

    application_name: str | None
    addr: str | None  # the client's address; None for a local socket
    pid: int  # the server process of that session


def instance_lock_engine(url: sa.URL, *, application_name: str) -> Engine:
    """An engine for the one session that holds the instance lock: no pool, autocommit
    (the lock lives as long as this session; no transaction may stay open meanwhile)."""
    return sa.create_engine(
        url,
        poolclass=NullPool,
        connect_args={
            "application_name": application_name,
            "connect_timeout": 10,
            # A peer gone without a word (failover, a dropped NAT entry) is noticed in
            # about a minute, not after the system's two hours of TCP keepalive.
            "keepalives_idle": 30,
            "keepalives_interval": 10,
            "keepalives_count": 3,
            "tcp_user_timeout": 60_000,
        },
        isolation_level="AUTOCOMMIT",
    )


def try_lock(conn: Connection, key: int) -> bool:
    """Take the session lock `key` on `conn` if no session holds it; whether it was taken."""
    return bool(conn.scalar(sa.select(sa.func.pg_try_advisory_lock(_key(key)))))


def holds_lock(conn: Connection, key: int) -> bool:
    """Whether `conn`'s own session holds the lock `key` (one round trip on it)."""
    held = conn.scalar(
        sa.text(
            f"SELECT count(*) FROM pg_locks l WHERE {_OF_THE_KEY} AND l.pid = pg_backend_pid()"
        ),
        _key_parts(key),
    )
    return bool(held)


def holder(conn: Connection, key: int) -> SessionHolder | None:
    """The session holding the lock `key` in this database, or None."""
    # Advisory locks are per database: another database's holder is no concern of ours.
    row = conn.execute(
        sa.text(
            "SELECT a.application_name, a.client_addr::text AS addr, a.pid "
            f"FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE {_OF_THE_KEY}"
        ),
        _key_parts(key),
    ).first()
    if row is None:
        return None
    return SessionHolder(application_name=row.application_name, addr=row.addr, pid=int(row.pid))


def terminate_backend(conn: Connection, pid: int) -> None:
    """Ask the server to end the session of server process `pid`."""
    conn.scalar(sa.select(sa.func.pg_terminate_backend(pid)))


def unlock(conn: Connection, key: int) -> None:
    """Release the session lock `key` held on `conn`."""
    conn.execute(sa.select(sa.func.pg_advisory_unlock(_key(key))))


def backend_pid(conn: Connection) -> int | None:
    """The server process of `conn`'s session."""
    pid = conn.scalar(sa.select(sa.func.pg_backend_pid()))
    return int(pid) if pid is not None else None


def _key(key: int) -> sa.BindParameter[int]:
    return sa.literal(key, sa.BigInteger)


def _key_parts(key: int) -> dict[str, int]:
    return {"hi": key >> 32, "lo": key & 0xFFFFFFFF}
