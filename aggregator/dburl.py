"""A database URL read without SQLAlchemy where that reading is exact: a plain SQLite file
URL (`sqlite:///news.db`, `sqlite+pysqlite:////var/lib/news.db`), the one most configs
hold. The config, the instance lock and `check`'s probe of the store read it here, so that
a command on such a store starts without SQLAlchemy's half a second of imports.

Must NOT read any other URL: a query, a %-escape, a host or a driver that is not the
standard library's is SQLAlchemy's to read (`plain_sqlite` says None), and
tests/test_dburl.py holds every answer here equal to SQLAlchemy's own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final
from urllib.parse import quote

__all__ = ["PlainSqlite", "plain_sqlite"]

# What sqlalchemy's make_url reads as a SQLite URL whose database is the text after ":///"
# as it is (no query to split off, no %-escape to undo).
_PLAIN: Final = re.compile(r"(sqlite(?:\+[A-Za-z0-9_]+)?):///([^?%]*)")
# The drivers of these names are the standard library's sqlite3 (SQLAlchemy's pysqlite).
_STDLIB_DRIVERS: Final = frozenset({"sqlite", "sqlite+pysqlite"})


@dataclass(frozen=True, slots=True, kw_only=True)
class PlainSqlite:
    """A plain SQLite file URL, as SQLAlchemy's URL would give its parts."""

    drivername: str  # "sqlite", "sqlite+pysqlite", "sqlite+aiosqlite", ...
    database: str  # the file's path as written; "" or ":memory:" for a database in memory

    @property
    def stdlib(self) -> bool:
        """Whether the driver is the standard library's sqlite3."""
        return self.drivername in _STDLIB_DRIVERS

    @property
    def in_memory(self) -> bool:
        return self.database in ("", ":memory:")

    def with_database(self, database: str) -> str:
        """The URL naming `database` instead, as SQLAlchemy renders it."""
        return f"{self.drivername}:///{quote(database, safe=' +/')}"

    @property
    def shown(self) -> str:
        """The URL as SQLAlchemy's render_as_string writes it (messages name it so)."""
        return self.with_database(self.database)


def plain_sqlite(url: str) -> PlainSqlite | None:
    """`url`'s parts when it is a plain SQLite file URL, else None (SQLAlchemy reads it)."""
    match = _PLAIN.fullmatch(url)
    if match is None:
        return None
    return PlainSqlite(drivername=match.group(1), database=match.group(2))
