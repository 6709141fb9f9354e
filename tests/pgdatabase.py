"""A PostgreSQL database of a test's (or a module's) own, on the server that
AGGREGATOR_TEST_POSTGRES_URL names, dropped afterwards."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator

PG_URL = os.environ.get("AGGREGATOR_TEST_POSTGRES_URL")
# Why a PostgreSQL test skips, and what to install (in CI a skip fails: .ci/run sets it).
PG_MISSING = (
    "AGGREGATOR_TEST_POSTGRES_URL is not set (apt-get install postgresql, start it and set"
    " it to postgresql+psycopg://postgres@127.0.0.1:5432/postgres; .ci/run does)"
)


@contextlib.contextmanager
def new_database() -> Iterator[str]:
    """The URL of a new, empty database; dropped (sessions and all) on leaving.

    Advisory locks are per database, and other test runs may use the server's default
    one; CREATE DATABASE costs too much to run per store test, so those share one a module.
    """
    import sqlalchemy as sa

    assert PG_URL is not None
    name = f"aggregator_test_{uuid.uuid4().hex[:16]}"
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        yield sa.make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.dispose()


def emptied(url: str) -> str:
    """`url` after its database lost every table (the public schema made anew): a test
    gets an empty store without the cost of a new database."""
    import sqlalchemy as sa

    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("DROP SCHEMA public CASCADE")
            conn.exec_driver_sql("CREATE SCHEMA public")
    finally:
        engine.dispose()
    return url
