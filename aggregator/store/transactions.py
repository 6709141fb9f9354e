"""Running the store's work: one short transaction per call, on the store's engine.

Owns how a call meets the database: writers' transactions begin with the write lock
(WRITE), what the driver raises becomes StoreError with its message on one line, and a
batch whose row the database refuses is written again row by row. Must not know any table
or create an engine (engine.py does).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Final, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from aggregator.errors import StoreError

if TYPE_CHECKING:
    from sqlalchemy.dialects import postgresql, sqlite

__all__ = [
    "CHUNK",
    "ROW_ERRORS",
    "WRITE",
    "Transactions",
    "chunks",
    "insert_of",
    "reason",
    "refuses_row",
    "replacing",
]

T = TypeVar("T")
R = TypeVar("R")

# SQLite accepts at most 32766 bound parameters per statement; stay far below it.
CHUNK: Final = 500
# Execution option read by the SQLite "begin" listener: writers take the lock up front.
WRITE: Final = "aggregator_write"

# What a write raises when the database (or the driver, binding it) refuses the data of
# a row: a NUL byte in text on PostgreSQL (DataError), a constraint, a lone surrogate that
# no UTF-8 encoder takes (UnicodeEncodeError, raised by the driver unwrapped).
ROW_ERRORS: Final = (SQLAlchemyError, UnicodeError)


def refuses_row(e: BaseException) -> bool:
    """Whether `e` says a row's data was refused, the database being fine: a write of the
    rows one by one can then keep the others. Not so for a lost connection, a lock or a
    timeout (OperationalError), after which every row would fail the same way."""
    if isinstance(e, sa.exc.DBAPIError):
        return not e.connection_invalidated and not isinstance(e, sa.exc.OperationalError)
    return isinstance(e, (sa.exc.StatementError, UnicodeError))


def reason(e: BaseException, url: sa.URL | None = None) -> str:
    """The driver's message on one line, without the SQL or the password."""
    orig = getattr(e, "orig", None)
    text = " ".join(str(orig if orig is not None else e).split())
    if url is not None and url.password:
        text = text.replace(str(url.password), "***")
    return text


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    """`items` in slices of at most `size`, for statements with one parameter per item."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def insert_of(dialect: str, table: sa.Table) -> postgresql.Insert | sqlite.Insert:
    """An INSERT into `table` that can take ON CONFLICT (both dialects spell the upsert the
    same way: INSERT … ON CONFLICT DO UPDATE). Each dialect is imported when first asked:
    an SQLite command never loads SQLAlchemy's PostgreSQL dialect (30 ms)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table)
    from sqlalchemy.dialects import sqlite

    return sqlite.insert(table)


def replacing(dialect: str, table: sa.Table, values: dict[str, object], *, key: str) -> sa.Insert:
    """INSERT `values` into `table`, or replace every other column of the row whose `key`
    column holds `values[key]`."""
    insert = insert_of(dialect, table).values(**values)
    return insert.on_conflict_do_update(
        index_elements=[table.c[key]],
        set_={k: v for k, v in values.items() if k != key},
    )


def _bound(
    work: Callable[[Connection, Sequence[R]], T], rows: Sequence[R]
) -> Callable[[Connection], T]:
    return lambda conn: work(conn, rows)


class Transactions:
    """The engine a store runs on, and how each of its calls runs a transaction.

    Raises (every method):
        StoreError: the database refused the operation or could not be reached.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._busy = 0.0  # seconds spent in transactions, by every thread of this process

    @property
    def store_seconds(self) -> float:
        """Seconds this process has spent in the store's transactions (waiting included)."""
        return self._busy

    @property
    def url(self) -> str:
        """The database URL, password hidden."""
        return self._engine.url.render_as_string(hide_password=True)

    def close(self) -> None:
        """Close every pooled connection."""
        self._engine.dispose()

    def _run(self, what: str, work: Callable[[Connection], T], *, write: bool = False) -> T:
        try:
            return self._transaction(work, write=write)
        except ROW_ERRORS as e:
            raise StoreError(f"{what}: {reason(e)}") from e

    def _transaction(self, work: Callable[[Connection], T], *, write: bool = False) -> T:
        started = time.perf_counter()
        try:
            with self._engine.connect() as conn:
                if write:
                    conn.execution_options(**{WRITE: True})
                with conn.begin():
                    return work(conn)
        finally:
            self._busy += time.perf_counter() - started

    def _write_rows(
        self, what: str, rows: Sequence[R], work: Callable[[Connection, Sequence[R]], T]
    ) -> tuple[list[T], list[tuple[R, str]]]:
        """`work` on all `rows` in one transaction; when the database refuses a row's data,
        on each row in a transaction of its own, so that one bad row keeps no other out.

        Returns the results of `work` that committed, and the rows refused with the
        database's reason.

        Raises:
            StoreError: the database failed otherwise (unreachable, locked, timed out).
        """
        try:
            return [self._transaction(_bound(work, rows), write=True)], []
        except ROW_ERRORS as e:
            if not refuses_row(e):
                raise StoreError(f"{what}: {reason(e)}") from e
            if len(rows) == 1:
                return [], [(rows[0], reason(e))]
        done: list[T] = []
        refused: list[tuple[R, str]] = []
        for row in rows:
            try:
                done.append(self._transaction(_bound(work, [row]), write=True))
            except ROW_ERRORS as e:
                if not refuses_row(e):
                    raise StoreError(f"{what}: {reason(e)}") from e
                refused.append((row, reason(e)))
        return done, refused
