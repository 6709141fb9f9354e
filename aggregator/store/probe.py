"""probe_store: `check`'s look at whether open_store would open a database. Creates no
database, file or table.

A plain SQLite file URL (aggregator/dburl.py) on the standard library's driver is probed
with sqlite3 itself, as SQLAlchemy's pysqlite would open it: `check` then starts without
SQLAlchemy. Every other URL goes through SQLAlchemy (`_probe_with_sqlalchemy`, also the
reference tests/test_store_probe.py holds the sqlite3 probe equal to). Must NOT import
SQLAlchemy at module level, nor write anything.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from urllib.parse import quote

from aggregator.dburl import plain_sqlite

__all__ = ["probe_store"]


def probe_store(url: str) -> str | None:
    """Why open_store(`url`) would fail, or None; creates no database, file or table.

    An SQLite file is opened read-only; one that does not exist yet needs a folder that
    exists and can be written (open_store creates the file). PostgreSQL is connected to
    and asked `SELECT 1`. Raises nothing.
    """
    plain = plain_sqlite(url)
    if plain is None or not plain.stdlib:
        return _probe_with_sqlalchemy(url)
    if plain.in_memory:
        return None
    shown = plain.shown
    path = Path(plain.database)
    if not path.exists():
        return _creatable(path, shown)
    try:
        # As pysqlite opens the URI _probe_with_sqlalchemy makes: read-only, so that
        # SQLite creates or changes nothing here.
        conn = sqlite3.connect(f"file:{quote(path.as_posix())}?mode=ro", uri=True)
    except sqlite3.Error as e:
        return f"cannot open database {shown}: {_one_line(e)}"
    try:
        # sqlite_master is read from the file: "file is not a database" shows here.
        conn.execute("SELECT count(*) FROM sqlite_master").fetchall()
    except sqlite3.Error as e:
        return f"cannot open database {shown}: {_one_line(e)}"
    finally:
        conn.close()
    return None


def _creatable(path: Path, shown: str) -> str | None:
    """Why open_store could not create the SQLite file `path`, or None."""
    folder = path.parent
    if not folder.is_dir():
        return f"cannot open database {shown}: no such folder '{folder}'"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"cannot open database {shown}: cannot create a file in '{folder}'"
    return None


def _one_line(e: BaseException) -> str:
    """The driver's message on one line, as transactions.reason gives it."""
    return " ".join(str(e).split())


def _probe_with_sqlalchemy(url: str) -> str | None:
    """probe_store through SQLAlchemy, for any URL."""
    import sqlalchemy as sa
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    from aggregator.store.engine import _create_engine
    from aggregator.store.transactions import reason

    try:
        parsed = sa.make_url(url)
    except ArgumentError as e:
        return f"invalid database URL: {e}"
    shown = parsed.render_as_string(hide_password=True)
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        return f"cannot open database {shown}: only sqlite and postgresql are supported"
    database = parsed.database or ""
    if parsed.get_backend_name() == "sqlite":
        if not database or database == ":memory:" or "uri" in parsed.query:
            return None  # nothing on disk to look at; the driver reads a "file:" URI itself
        path = Path(database)
        if not path.exists():
            return _creatable(path, shown)
        # Read-only, as a URI: SQLite must not create or change anything here.
        uri = f"file:{quote(path.as_posix())}?mode=ro"
        parsed = parsed.set(database=uri, query={"uri": "true"})
    sqlite = parsed.get_backend_name() == "sqlite"
    try:
        # SQLite without _create_engine's pragmas: switching to WAL would write the file.
        engine = sa.create_engine(parsed) if sqlite else _create_engine(parsed)
    except (SQLAlchemyError, ImportError) as e:  # ImportError: the URL's driver is missing
        return f"cannot open database {shown}: {reason(e, parsed)}"
    try:
        with engine.connect() as conn:
            # sqlite_master is read from the file: "file is not a database" shows here.
            conn.exec_driver_sql("SELECT count(*) FROM sqlite_master" if sqlite else "SELECT 1")
    except SQLAlchemyError as e:
        return f"cannot open database {shown}: {reason(e, parsed)}"
    finally:
        engine.dispose()
    return None
