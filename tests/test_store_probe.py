"""probe_store's reading of a plain SQLite file URL with the standard library's sqlite3
says what its SQLAlchemy reading (the reference, `_probe_with_sqlalchemy`) says, word for
word, and like it creates nothing. `check`'s own lines are tests/test_preflight.py's."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from clirunner import tree_mtimes
from pgdatabase import PG_MISSING, PG_URL, new_database

from aggregator.store import open_store
from aggregator.store.probe import _probe_with_sqlalchemy, probe_store


def _good(tmp: Path) -> str:
    open_store(f"sqlite:///{tmp / 'good.db'}").close()  # WAL mode, our schema
    return f"sqlite:///{tmp / 'good.db'}"


def _not_a_database(tmp: Path) -> str:
    (tmp / "config.yaml").write_text("site: {}\n" * 200, encoding="utf-8")
    return f"sqlite:///{tmp / 'config.yaml'}"


def _empty_file(tmp: Path) -> str:
    (tmp / "empty.db").touch()
    return f"sqlite+pysqlite:///{tmp / 'empty.db'}"


def _a_folder(tmp: Path) -> str:
    (tmp / "folder.db").mkdir()
    return f"sqlite:///{tmp / 'folder.db'}"


def _plain_table(tmp: Path) -> str:
    with sqlite3.connect(tmp / "名字 a+b@c.db") as conn:
        conn.execute("CREATE TABLE t (x)")
    conn.close()
    return f"sqlite:///{tmp / '名字 a+b@c.db'}"


def _unreadable(tmp: Path) -> str:
    with sqlite3.connect(tmp / "locked.db") as conn:
        conn.execute("CREATE TABLE t (x)")
    conn.close()
    (tmp / "locked.db").chmod(0)
    return f"sqlite:///{tmp / 'locked.db'}"


def _not_yet(tmp: Path) -> str:
    return f"sqlite:///{tmp / 'new.db'}"


def _no_folder(tmp: Path) -> str:
    return f"sqlite:///{tmp / 'no' / 'such' / 'new.db'}"


def _relative(tmp: Path) -> str:
    with sqlite3.connect(tmp / "here.db") as conn:
        conn.execute("CREATE TABLE t (x)")
    conn.close()
    return "sqlite:///here.db"


def _relative_missing_folder(tmp: Path) -> str:
    return "sqlite:///nowhere/here.db"


def _in_memory(tmp: Path) -> str:
    return "sqlite:///:memory:"


CASES: list[Callable[[Path], str]] = [
    _good,
    _not_a_database,
    _empty_file,
    _a_folder,
    _plain_table,
    _unreadable,
    _not_yet,
    _no_folder,
    _relative,
    _relative_missing_folder,
    _in_memory,
]


@pytest.mark.parametrize("make", CASES, ids=[c.__name__.strip("_") for c in CASES])
def test_the_sqlite3_probe_says_what_sqlalchemys_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make: Callable[[Path], str]
) -> None:
    monkeypatch.chdir(tmp_path)
    url = make(tmp_path)
    before = tree_mtimes(tmp_path)

    fault = probe_store(url)

    after = tree_mtimes(tmp_path)
    assert {k: v for k, v in after.items() if k in before} == before  # nothing written
    # A read-only look at a WAL database leaves SQLite's -wal and -shm beside it, by either
    # probe; nothing else is made.
    assert {k for k in after if k not in before} <= (
        {"good.db-wal", "good.db-shm"} if make is _good else set()
    )
    assert fault == _probe_with_sqlalchemy(url)
    again = tree_mtimes(tmp_path)
    assert set(again) == set(after)  # the reference makes no more files
    assert {k: v for k, v in again.items() if k in before} == before


def test_the_probes_tell_a_good_file_from_a_bad_one(tmp_path: Path) -> None:
    # Guards the comparison above against two probes that both say nothing.
    assert probe_store(_good(tmp_path)) is None
    bad = _not_a_database(tmp_path)
    assert probe_store(bad) == f"cannot open database {bad}: file is not a database"
    missing = _no_folder(tmp_path)
    assert probe_store(missing) == (
        f"cannot open database {missing}: no such folder '{tmp_path / 'no' / 'such'}'"
    )


@pytest.mark.skipif(PG_URL is None, reason=PG_MISSING)
def test_partial_indexes_are_partial_on_both_databases(tmp_path: Path) -> None:
    """Their WHERE is given to PostgreSQL when a PostgreSQL store opens, not where they
    are declared (that would load its dialect in every SQLite command)."""
    import sqlalchemy as sa

    partial = {"ix_posts_pending", "ix_leases_free_due", "ix_posts_full_text_tries"}
    sqlite_url = f"sqlite:///{tmp_path / 'x.db'}"
    open_store(sqlite_url).close()
    with sqlite3.connect(tmp_path / "x.db") as conn:
        found = dict(conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index'"))
    assert all(" WHERE " in (found[name] or "") for name in partial), found
    with new_database() as url:
        open_store(url).close()
        engine = sa.create_engine(url)
        try:
            with engine.connect() as conn:
                rows = conn.execute(sa.text("SELECT indexname, indexdef FROM pg_indexes"))
                defs = {name: sql for name, sql in rows}
        finally:
            engine.dispose()
    assert all(" WHERE " in defs[name] for name in partial), defs
