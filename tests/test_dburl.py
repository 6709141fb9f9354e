"""dburl.py reads plain SQLite URLs without SQLAlchemy: every answer it gives is held equal
to SQLAlchemy's own reading of the same URL (the reference), and every URL it declines is
one SQLAlchemy reads differently or by a driver that is not the standard library's."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import example, given
from hypothesis import strategies as st

from aggregator.config.assemble import _absolute_database
from aggregator.config.files import absolute
from aggregator.dburl import plain_sqlite

DRIVERS = st.sampled_from(["sqlite", "sqlite+pysqlite", "sqlite+aiosqlite", "postgresql"])
# Paths as operators write them, and the characters a URL gives a meaning to.
PATHS = st.lists(
    st.sampled_from([*"abz09._-/ ~+:@#&=;,", "?", "%", "%2F", "数据", "é", "\n"]), max_size=20
).map("".join)


@given(driver=DRIVERS, slashes=st.sampled_from(["://", ":///", ":////"]), path=PATHS)
@example(driver="sqlite", slashes=":///", path="")
@example(driver="sqlite", slashes=":///", path=":memory:")
@example(driver="sqlite", slashes=":///", path="a.db?mode=ro")
@example(driver="sqlite", slashes=":///", path="a%20b.db")
@example(driver="sqlite", slashes=":////", path="tmp/数据 a+b@c:d.db")
def test_a_plain_sqlite_url_reads_as_sqlalchemy_reads_it(
    driver: str, slashes: str, path: str
) -> None:
    url = f"{driver}{slashes}{path}"
    plain = plain_sqlite(url)
    if plain is None:
        return  # SQLAlchemy's to read
    reference = sa.make_url(url)
    assert (plain.drivername, plain.database) == (reference.drivername, reference.database)
    assert reference.query == {} and reference.host is None and reference.username is None
    assert plain.shown == reference.render_as_string(hide_password=True)
    assert plain.in_memory == (reference.database in (None, "", ":memory:"))
    assert plain.stdlib == (reference.get_driver_name() == "pysqlite")
    other = f"/srv/{path}"
    assert plain.with_database(other) == reference.set(database=other).render_as_string(
        hide_password=False
    )
    assert sa.make_url(plain.with_database(other)).database == other


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///a.db?mode=ro",  # a query: SQLAlchemy splits it off
        "sqlite:///a%20b.db",  # an escape: SQLAlchemy undoes it
        "sqlite://",  # no database part at all
        "sqlite://host/a.db",  # a host
        "postgresql://user@localhost/news",
        "sqlite+pysqlite:/a.db",
    ],
)
def test_every_other_url_is_left_to_sqlalchemy(url: str) -> None:
    assert plain_sqlite(url) is None


def _reference_absolute_database(root: Path, url: str) -> str:
    """config/assemble.py's anchoring of a relative SQLite file, through SQLAlchemy alone."""
    parsed = sa.make_url(url)
    database = parsed.database
    if (
        not parsed.drivername.startswith("sqlite")
        or not database
        or database == ":memory:"
        or "uri" in parsed.query
        or Path(database).is_absolute()
    ):
        return url
    return parsed.set(database=str(absolute(root, database))).render_as_string(hide_password=False)


@given(driver=DRIVERS, path=PATHS, root=st.sampled_from(["/etc/agg", "/srv/数据 a+b", "/x%y/z"]))
@example(driver="sqlite", path="news.db", root="/etc/agg")
@example(driver="sqlite", path="../data/news.db", root="/etc/agg")
@example(driver="sqlite", path="~/news.db", root="/etc/agg")
@example(driver="sqlite", path="/var/lib/news.db", root="/etc/agg")
def test_a_relative_sqlite_file_is_anchored_as_sqlalchemy_would(
    driver: str, path: str, root: str
) -> None:
    url = f"{driver}:///{path}"
    try:
        expected = _reference_absolute_database(Path(root), url)
    except sa.exc.ArgumentError:
        return  # config's check refused the URL before this runs
    assert _absolute_database(Path(root), url) == expected
