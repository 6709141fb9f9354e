"""One instance per store, or per node id on PostgreSQL: a lock the kernel or the database
releases when its holder dies.

Takes no part in the pipeline and never touches the store's tables: an flock(2) on a file
beside a SQLite database (one process per file), a session advisory lock on PostgreSQL
keyed by the node id (several nodes share the database; two processes of one id may not).
Speaks no SQL: the statements the PostgreSQL lock runs are in aggregator/store/lock.py;
this module decides what they mean (who holds the lock, what to tell the user, when to
take it back).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import socket
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Final

from aggregator.dburl import plain_sqlite
from aggregator.errors import AlreadyRunning, StoreError
from aggregator.types import UTC

# The store (and SQLAlchemy with it) is imported only for URLs that need it (PostgreSQL,
# SQLite URLs with a query or escapes): a plain SQLite file URL is read by dburl.py. SQLAlchemy
# itself only names types here; the store parses URLs and runs the statements.
if TYPE_CHECKING:
    import sqlalchemy as sa
    from sqlalchemy.engine import Connection

__all__ = ["AlreadyRunning", "InstanceLock", "acquire_instance_lock", "lock_path_for", "node_key"]

# pg_try_advisory_lock key ("aggrel"); the store's own keys are transaction-scoped ones.
_PG_INSTANCE_LOCK: Final = 0x61676772656C
_APPLICATION_NAME: Final = "aggregator"


@dataclass(frozen=True, slots=True, kw_only=True)
class Holder:
    """Who holds a lock, as far as can be told."""

    pid: int | None
    host: str | None
    since: str | None = None
    backend: int | None = None  # PostgreSQL: the server process of the holding session

    def describe(self) -> str:
        who = f"pid {self.pid}" if self.pid is not None else "a process"
        if self.host:
            who += f" on {self.host}"
        if self.since:
            who += f" since {self.since}"
        return who


def _me() -> dict[str, object]:
    return {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "since": datetime.now(UTC).isoformat(timespec="seconds"),
    }


class InstanceLock:
    """A held instance lock; `release()` (or the holder's death) frees it. `shared`: the
    store admits other nodes beside this process (PostgreSQL)."""

    shared = False

    def __init__(self, description: str) -> None:
        self.description = description

    def check(self) -> bool:
        """Make sure the lock is still ours; True when it had been lost and is taken again.

        Raises:
            AlreadyRunning: it was lost, and another process holds it now.
            StoreError: whether it is held cannot be told now (database unreachable).
        """
        return False  # a file lock holds as long as its descriptor is open

    def release(self) -> None:
        """Free the lock. Safe to call twice."""

    def __enter__(self) -> InstanceLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class _NoLock(InstanceLock):
    """For a database no other process can open (SQLite in memory)."""


class _FileLock(InstanceLock):
    def __init__(self, path: Path, fd: int) -> None:
        super().__init__(str(path))
        self._fd: int | None = fd

    def release(self) -> None:
        if self._fd is not None:
            # Closing the descriptor drops the flock; the file stays, so that a process
            # waiting on the old inode never races one that would create a new file.
            os.close(self._fd)
            self._fd = None


class _PgLock(InstanceLock):
    """Lives as long as its database session: an idle timeout, a pooler or a failover can
    end that session, and the lock with it, while this process goes on."""

    shared = True

    def __init__(self, description: str, engine: sa.Engine, conn: Connection, key: int) -> None:
        super().__init__(description)
        self._engine: sa.Engine | None = engine
        self._conn = conn
        self._key = key
        from aggregator.store import lock as pg

        self._backend = pg.backend_pid(conn)  # the server process of the lock's session

    def check(self) -> bool:
        from aggregator.store import lock as pg

        if self._engine is None:
            return False
        try:
            # One round trip on the lock's own session: it is alive and still holds the key.
            held = pg.holds_lock(self._conn, self._key)
        except pg.DatabaseError:
            held = False  # the session is gone
        if held:
            return False
        with contextlib.suppress(pg.DatabaseError):
            self._conn.close()
        try:
            conn = self._engine.connect()
            got = pg.try_lock(conn, self._key)
            if not got:
                got = self._take_from_own_old_session(conn)
            if not got:
                holder = _pg_holder(conn, self._key)
                conn.close()
                raise AlreadyRunning(
                    "instance lock lost (its database session ended): another aggregator "
                    f"is running on this store now: {holder.describe()} ({self.description})"
                )
            self._backend = pg.backend_pid(conn)
        except pg.DatabaseError as e:
            raise StoreError(
                f"instance lock lost (its database session ended), cannot take it again: "
                f"{pg.reason(e)}"
            ) from e
        self._conn = conn
        return True

    def _take_from_own_old_session(self, conn: Connection) -> bool:
        """When the holder is this process's own old session (the connection dropped on
        our side, a pooler or NAT cut it, while the server's backend lives on): end that
        backend and take the lock. True when taken.

        Raises:
            StoreError: the old session holds on (the next check tries again).
            DatabaseError: the database failed.
        """
        from aggregator.store import lock as pg

        holder = _pg_holder(conn, self._key)
        ours = holder.backend is not None and holder.backend == self._backend
        ours = ours or (holder.pid == os.getpid() and holder.host == socket.gethostname())
        if not ours or holder.backend is None:
            return False
        pg.terminate_backend(conn, holder.backend)
        for _ in range(20):  # the backend ends, and frees the lock, a moment later
            if pg.try_lock(conn, self._key):
                return True
            time.sleep(0.1)
        conn.close()
        raise StoreError(
            "instance lock lost (its database session ended): this process's old session"
            f" (backend {holder.backend}) still holds it; trying again"
        )

    def release(self) -> None:
        if self._engine is None:
            return
        from aggregator.store import lock as pg

        with contextlib.suppress(pg.DatabaseError):
            pg.unlock(self._conn, self._key)
        with contextlib.suppress(pg.DatabaseError):
            self._conn.close()
        self._engine.dispose()
        self._engine = None


def lock_path_for(url: str) -> Path | None:
    """The lock file of a SQLite database URL (None for memory databases or other backends)."""
    plain = plain_sqlite(url)
    if plain is not None:
        return _lock_file(plain.database)
    from aggregator.store import lock as pg

    parsed = pg.parse_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    return _lock_file(parsed.database)


def _lock_file(database: str | None) -> Path | None:
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database + ".lock")


def acquire_instance_lock(url: str, *, node: str | None = None) -> InstanceLock:
    """Take the instance lock of the store at `url`, or fail at once. On PostgreSQL the
    lock is node `node`'s (None: the one key of a process not in a node's role).

    Raises:
        AlreadyRunning: another live process holds it (the message names it).
        StoreError: the lock could not be taken for another reason (folder not writable,
            database unreachable).
    """
    if plain_sqlite(url) is None:
        from aggregator.store import lock as pg

        parsed = pg.parse_url(url)  # StoreError("invalid database URL: ...")
        if parsed.get_backend_name() == "postgresql":
            return _pg_lock(parsed, node)
    path = lock_path_for(url)
    if path is None:
        return _NoLock("no lock needed")
    return _file_lock(path)


def _file_lock(path: Path) -> InstanceLock:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as e:
        raise StoreError(f"cannot open the lock file {path}: {e.strerror or e}") from e
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = _read_holder(fd)
        os.close(fd)
        raise AlreadyRunning(
            f"another aggregator is running on this store: {holder.describe()} (lock file {path})"
        ) from None
    except OSError as e:
        os.close(fd)
        raise StoreError(f"cannot lock {path}: {e.strerror or e}") from e
    # Who holds it: written after the lock is ours, read by whoever is refused.
    data = json.dumps(_me()).encode()
    os.ftruncate(fd, 0)
    os.pwrite(fd, data + b"\n", 0)
    return _FileLock(path, fd)


def _read_holder(fd: int) -> Holder:
    try:
        raw = os.pread(fd, 4096, 0)
        data = json.loads(raw.decode() or "{}")
    except (OSError, ValueError):
        data = {}
    if not isinstance(data, dict):
        data = {}
    pid = data.get("pid")
    return Holder(
        pid=pid if isinstance(pid, int) else None,
        host=str(data["host"]) if data.get("host") else None,
        since=str(data["since"]) if data.get("since") else None,
    )


def node_key(node: str | None) -> int:
    """The advisory key of node `node`'s instance lock (a positive 63-bit hash of its id)."""
    if node is None:
        return _PG_INSTANCE_LOCK
    digest = hashlib.blake2b(f"aggregator node {node}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") & 0x7FFF_FFFF_FFFF_FFFF


def _pg_lock(url: sa.URL, node: str | None) -> InstanceLock:
    from aggregator.store import lock as pg

    shown = url.render_as_string(hide_password=True)
    key = node_key(node)
    as_node = f" as node {node!r}" if node else ""
    me = _me()
    # application_name (at most 63 bytes) carries who we are, so a refused process can name us.
    name = f"{_APPLICATION_NAME} pid={me['pid']} host={me['host']}"
    try:
        engine = pg.instance_lock_engine(
            url, application_name=name.encode()[:63].decode(errors="ignore")
        )
    except (pg.DatabaseError, ImportError) as e:  # a driver unknown, or not installed
        raise StoreError(f"cannot open database {shown}: {pg.reason(e, url)}") from e
    try:
        conn = engine.connect()
        got = pg.try_lock(conn, key)
        if not got:
            holder = _pg_holder(conn, key)
            conn.close()
            engine.dispose()
            raise AlreadyRunning(
                f"another aggregator is running on this store{as_node}: {holder.describe()} "
                f"(advisory lock on {shown}; each node needs its own node.id)"
            )
    except pg.DatabaseError as e:
        engine.dispose()
        raise StoreError(f"cannot lock database {shown}: {pg.reason(e)}") from e
    return _PgLock(f"advisory lock on {shown}{as_node}", engine, conn, key)


def _pg_holder(conn: Connection, key: int) -> Holder:
    from aggregator.store import lock as pg

    row = pg.holder(conn, key)
    if row is None:
        return Holder(pid=None, host=None)
    fields = dict(
        part.split("=", 1) for part in (row.application_name or "").split() if "=" in part
    )
    pid = fields.get("pid", "")
    return Holder(
        pid=int(pid) if pid.isdigit() else None,
        host=fields.get("host") or row.addr or f"database backend {row.pid}",
        since=fields.get("since"),
        backend=row.pid,
    )
