"""Store stage: posts and per-source fetch state in SQLite or PostgreSQL (SQLAlchemy 2 Core).

The only module that speaks SQL. It decides nothing about feeds: it keeps what it is
given, dedupes posts by key, hands out unique slugs and tracks what is left to publish.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Final, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Dialect, Engine, Row
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from aggregator.errors import StoreError
from aggregator.types import (
    ListedPost,
    Post,
    SourceState,
    StoredIdentity,
    UpsertResult,
    Validators,
)

__all__ = ["MIGRATIONS", "Store", "open_store"]

T = TypeVar("T")
R = TypeVar("R")

# SQLite accepts at most 32766 bound parameters per statement; stay far below it.
_CHUNK: Final = 500
# Execution option read by the SQLite "begin" listener: writers take the lock up front.
_WRITE: Final = "aggregator_write"
# pg_advisory_xact_lock keys: serialize schema migrations, and post upserts (whose slug
# choice reads then writes) between nodes. SQLite serializes writers by itself.
_MIGRATION_LOCK: Final = 0x616767726567  # "aggreg"
_POSTS_LOCK: Final = 0x616767726568
_NO_DATE: Final = datetime(1970, 1, 1, tzinfo=UTC)


class UTCDateTime(sa.TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on every backend.

    SQLite has no time zones: values are stored as naive UTC and read back as UTC.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value.isoformat()}: the store takes aware ones")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class _Tags(sa.TypeDecorator[tuple[str, ...]]):
    """A tuple of tags stored as JSON text (readable in any SQL shell, on any backend)."""

    impl = sa.Text
    cache_ok = True

    def process_bind_param(self, value: tuple[str, ...] | None, dialect: Dialect) -> str | None:
        return None if value is None else json.dumps(list(value), ensure_ascii=False)

    def process_result_value(self, value: str | None, dialect: Dialect) -> tuple[str, ...] | None:
        return None if value is None else tuple(json.loads(value))


metadata = sa.MetaData()

schema_version = sa.Table(
    "schema_version",
    metadata,
    sa.Column("version", sa.Integer, nullable=False),
)

sources = sa.Table(
    "sources",
    metadata,
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
    # Version 2: redirect counting and the feed's <ttl>.
    sa.Column("redirect_target", sa.Text),
    sa.Column("redirect_count", sa.Integer, nullable=False, default=0, server_default="0"),
    sa.Column("feed_ttl_seconds", sa.Integer),
    # Version 5: items past max_items the last parsed body held, dropped unread.
    sa.Column("dropped_items", sa.Integer, nullable=False, default=0, server_default="0"),
)

# Version 2: a host that asked us to wait (429/503 Retry-After) is left alone until then,
# whichever of its sources is due.
hosts = sa.Table(
    "hosts",
    metadata,
    sa.Column("host", sa.Text, primary_key=True),
    sa.Column("not_before", UTCDateTime, nullable=False),
    sa.Column("reason", sa.Text),
)

posts = sa.Table(
    "posts",
    metadata,
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("category", sa.Text, nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("link", sa.Text, nullable=False),
    sa.Column("published", UTCDateTime, nullable=False),
    sa.Column("updated", UTCDateTime, nullable=False),
    sa.Column("content_html", sa.Text, nullable=False),
    sa.Column("tags", _Tags, nullable=False),
    sa.Column("slug", sa.Text, nullable=False, unique=True),
    sa.Column("content_hash", sa.Text, nullable=False),
    sa.Column("dated", sa.Boolean, nullable=False),
    sa.Column("first_seen", UTCDateTime, nullable=False),
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("published_revision", sa.Integer, nullable=False),
    # Version 3: identity and duplicates (see normalize.reconcile), unchanged-entry skipping.
    sa.Column("canonical_link", sa.Text, nullable=False, server_default=""),
    sa.Column("text_hash", sa.Text, nullable=False, server_default=""),
    sa.Column("raw_hash", sa.Text, nullable=False, server_default=""),
    # Version 5: how many more rounds a post's article may be tried in (0: none to fetch).
    sa.Column("full_text_tries", sa.Integer, nullable=False, server_default="0"),
    # Version 6: keys hold the source and the fragment (normalize.post_key). A row keeps
    # the key it was stored under; these say which item holds it (Post.identity_key, "" for
    # a row stored before that no item has claimed yet) and its key under the formula
    # before (Post.legacy_key: the key itself for a row stored before).
    sa.Column("identity_key", sa.Text, nullable=False, server_default=""),
    sa.Column("legacy_key", sa.Text, nullable=False, server_default=""),
    # Version 7: the item's author as normalize cleaned it; NULL: the item named none.
    sa.Column("author", sa.Text),
)

_is_pending = posts.c.revision > posts.c.published_revision
# Category pages and feeds read the newest posts of one category.
sa.Index("ix_posts_category_published", posts.c.category, posts.c.published)
# The combined feed and index page read the newest posts of all categories.
sa.Index("ix_posts_published", posts.c.published)
# Partial: after a publish almost no row is pending, so the index stays tiny.
sa.Index(
    "ix_posts_pending",
    posts.c.published,
    sqlite_where=_is_pending,
    postgresql_where=_is_pending,
)
# Version 3: a changed guid is found by its link, a duplicate story by its link or text,
# and a source's known raw hashes are read in one pass.
_IDENTITY_INDEXES: Final = (
    sa.Index("ix_posts_canonical_link", posts.c.canonical_link),
    sa.Index("ix_posts_text_hash", posts.c.text_hash),
    sa.Index("ix_posts_source_raw_hash", posts.c.source, posts.c.raw_hash),
)
# Version 4: a category's arrival order (pages, positions of new posts) read from the index
# alone. The row is no help: its columns after content_html sit behind the body's overflow
# pages, so numbering a category of 2,000 posts read 2,000 bodies.
_ARRIVAL_INDEX: Final = sa.Index(
    "ix_posts_category_arrival", posts.c.category, posts.c.first_seen, posts.c.key
)

# Version 5: posts whose slugs are not settled yet (see Store.settle_slugs): a round's new
# posts until the next publish, with what settling reads. A table of its own, so that
# settling rewrites no post row (each holds its body: 25,000 took 1.5 s).
unsettled = sa.Table(
    "unsettled_slugs",
    metadata,
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("slug", sa.Text, nullable=False),  # given when stored; may still move
    sa.Column("base", sa.Text, nullable=False),
    sa.Column("published", UTCDateTime, nullable=False),
    sa.Column("dated", sa.Boolean, nullable=False),
)
_settled = ~sa.exists().where(unsettled.c.key == posts.c.key)
_wants_article = posts.c.full_text_tries > 0
# Rounds a post's article page is tried in after its first miss; then its summary stays.
FULL_TEXT_TRIES = 3
# Version 5: stays tiny (the articles a budget left for later), so a partial index finds
# them without reading the table.
_VOLUME_INDEXES: Final = (
    sa.Index(
        "ix_posts_full_text_tries",
        posts.c.source,
        sqlite_where=_wants_article,
        postgresql_where=_wants_article,
    ),
)

# Version 6: a post is found by the key its item claimed it with, and by its legacy key
# (the post an upgraded store holds for an item, another source's under one global guid).
_IDENTITY_V6_INDEXES: Final = (
    sa.Index("ix_posts_identity_key", posts.c.identity_key),
    sa.Index("ix_posts_legacy_key", posts.c.legacy_key),
)

# ----------------------------------------------------------------- migrations


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
        sa.Column("tags", _Tags, nullable=False),
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
    sa.Index(
        "ix_posts_pending",
        posts_v1.c.published,
        sqlite_where=pending_v1,
        postgresql_where=pending_v1,
    )
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
    for index in _IDENTITY_INDEXES:
        index.create(conn)


def _arrival_index_v4(conn: Connection) -> None:
    _ARRIVAL_INDEX.create(conn)


def _volume_v5(conn: Connection) -> None:
    # Existing posts have settled slugs (none in unsettled_slugs) and no article pending (0).
    for ddl in (
        "ALTER TABLE sources ADD COLUMN dropped_items INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE posts ADD COLUMN full_text_tries INTEGER NOT NULL DEFAULT 0",
    ):
        conn.exec_driver_sql(ddl)
    metadata.create_all(conn, tables=[unsettled], checkfirst=False)
    for index in _VOLUME_INDEXES:
        index.create(conn)


def _identity_v6(conn: Connection) -> None:
    # Every stored key was made by the formula before (normalize._legacy_key); no item has
    # claimed its post under today's formula yet: reconcile lets the first one that does.
    for ddl in (
        "ALTER TABLE posts ADD COLUMN identity_key TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE posts ADD COLUMN legacy_key TEXT NOT NULL DEFAULT ''",
        "UPDATE posts SET legacy_key = key",
    ):
        conn.exec_driver_sql(ddl)
    for index in _IDENTITY_V6_INDEXES:
        index.create(conn)


def _authors_v7(conn: Connection) -> None:
    # Stored posts name no author until their items are normalized again (NORMALIZER_VERSION
    # 4 does so at their next fetch): NULL, as for an item that names none.
    conn.exec_driver_sql("ALTER TABLE posts ADD COLUMN author TEXT")


# Step i takes the schema from version i to i + 1, inside the migration's transaction.
MIGRATIONS: Final[tuple[Callable[[Connection], None], ...]] = (
    _create_v1,
    _fetch_state_v2,
    _post_identity_v3,
    _arrival_index_v4,
    _volume_v5,
    _identity_v6,
    _authors_v7,
)


def _migrate(engine: Engine, migrations: Sequence[Callable[[Connection], None]]) -> int:
    """Bring the schema up to len(migrations) in one transaction; return the steps applied.

    Raises:
        StoreError: the database was written by a newer version of aggregator.
        SQLAlchemyError: a step failed (nothing of the migration is kept).
    """
    with engine.connect() as conn:
        conn.execution_options(**{_WRITE: True})
        with conn.begin():
            if conn.dialect.name == "postgresql":
                # Nodes starting together must not both run the same step.
                conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_MIGRATION_LOCK)))
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


# ----------------------------------------------------------------- the store


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
        raise StoreError(f"cannot open database {shown}: {_reason(e, parsed)}") from e
    try:
        _migrate(engine, MIGRATIONS)
    except StoreError as e:
        engine.dispose()
        raise StoreError(f"cannot open database {shown}: {e}") from e
    except SQLAlchemyError as e:
        engine.dispose()
        raise StoreError(f"cannot open database {shown}: {_reason(e, parsed)}") from e
    return Store(engine)


def _create_engine(url: sa.URL) -> Engine:
    if url.get_backend_name() == "sqlite":
        engine = sa.create_engine(url)
        sa.event.listen(engine, "connect", _sqlite_connect)
        sa.event.listen(engine, "begin", _sqlite_begin)
        return engine
    connect_args: dict[str, Any] = {}
    if "connect_timeout" not in url.query:
        # An unroutable host would otherwise hang for the kernel's TCP timeout.
        connect_args["connect_timeout"] = 10
    return sa.create_engine(url, connect_args=connect_args, pool_pre_ping=True)


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
    immediate = conn.get_execution_options().get(_WRITE, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


# What a write raises when the database (or the driver, binding it) refuses the data of
# a row: a NUL byte in text on PostgreSQL (DataError), a constraint, a lone surrogate that
# no UTF-8 encoder takes (UnicodeEncodeError, raised by the driver unwrapped).
_ROW_ERRORS: Final = (SQLAlchemyError, UnicodeError)


def _refuses_row(e: BaseException) -> bool:
    """Whether `e` says a row's data was refused, the database being fine: a write of the
    rows one by one can then keep the others. Not so for a lost connection, a lock or a
    timeout (OperationalError), after which every row would fail the same way."""
    if isinstance(e, sa.exc.DBAPIError):
        return not e.connection_invalidated and not isinstance(e, sa.exc.OperationalError)
    return isinstance(e, (sa.exc.StatementError, UnicodeError))


def _reason(e: BaseException, url: sa.URL | None = None) -> str:
    """The driver's message on one line, without the SQL or the password."""
    orig = getattr(e, "orig", None)
    text = " ".join(str(orig if orig is not None else e).split())
    if url is not None and url.password:
        text = text.replace(str(url.password), "***")
    return text


def _bound(
    work: Callable[[Connection, Sequence[R]], T], rows: Sequence[R]
) -> Callable[[Connection], T]:
    return lambda conn: work(conn, rows)


def _chunks(items: Sequence[T], size: int = _CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class Store:
    """Posts and source state in one database. Every method is one short transaction.

    Raises (every method):
        StoreError: the database refused the operation or could not be reached.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

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
        except _ROW_ERRORS as e:
            raise StoreError(f"{what}: {_reason(e)}") from e

    def _transaction(self, work: Callable[[Connection], T], *, write: bool = False) -> T:
        with self._engine.connect() as conn:
            if write:
                conn.execution_options(**{_WRITE: True})
            with conn.begin():
                return work(conn)

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
        except _ROW_ERRORS as e:
            if not _refuses_row(e):
                raise StoreError(f"{what}: {_reason(e)}") from e
            if len(rows) == 1:
                return [], [(rows[0], _reason(e))]
        done: list[T] = []
        refused: list[tuple[R, str]] = []
        for row in rows:
            try:
                done.append(self._transaction(_bound(work, [row]), write=True))
            except _ROW_ERRORS as e:
                if not _refuses_row(e):
                    raise StoreError(f"{what}: {_reason(e)}") from e
                refused.append((row, _reason(e)))
        return done, refused

    # ------------------------------------------------------------ source state

    def get_state(self, name: str) -> SourceState | None:
        """The state saved for source `name`, or None."""

        def work(conn: Connection) -> SourceState | None:
            row = conn.execute(sa.select(sources).where(sources.c.name == name)).first()
            return None if row is None else _state_from_row(row)

        return self._run(f"cannot read the state of {name!r}", work)

    def states(self) -> list[SourceState]:
        """Every saved source state, ordered by name."""

        def work(conn: Connection) -> list[SourceState]:
            rows = conn.execute(sa.select(sources)).all()
            # Sorted here, not in SQL: collations differ between backends and databases.
            return sorted((_state_from_row(r) for r in rows), key=lambda s: s.name)

        return self._run("cannot read source states", work)

    def save_state(self, state: SourceState) -> None:
        """Insert or replace the state of `state.name`."""
        values = _state_values(state)
        insert = _insert(self._engine.dialect.name, sources).values(**values)
        statement = insert.on_conflict_do_update(
            index_elements=[sources.c.name],
            set_={k: v for k, v in values.items() if k != "name"},
        )
        self._run(
            f"cannot save the state of {state.name!r}",
            lambda conn: conn.execute(statement),
            write=True,
        )

    def save_states(self, states: Sequence[SourceState]) -> dict[str, str]:
        """Insert or replace several states in one transaction (the last one of a name wins).

        A state whose data the database refuses keeps no other out: the others are saved,
        and the refused ones returned, name -> the database's reason.
        """
        if not states:
            return {}
        rows = list({s.name: _state_values(s) for s in states}.values())
        insert = _insert(self._engine.dialect.name, sources)
        statement = insert.on_conflict_do_update(
            index_elements=[sources.c.name],
            set_={c.name: insert.excluded[c.name] for c in sources.columns if c.name != "name"},
        )

        def work(conn: Connection, batch: Sequence[dict[str, Any]]) -> None:
            for chunk in _chunks(batch):
                conn.execute(statement, list(chunk))

        _, refused = self._write_rows("cannot save source states", rows, work)
        return {row["name"]: reason for row, reason in refused}

    def due(self, names: Iterable[str], *, now: datetime) -> list[str]:
        """Of `names` (in order), those enabled whose next check is unset or not after `now`."""
        wanted = list(dict.fromkeys(names))

        def work(conn: Connection) -> list[str]:
            known: dict[str, Any] = {}  # name -> row
            for chunk in _chunks(wanted):
                query = sa.select(sources.c.name, sources.c.next_check, sources.c.disabled)
                for row in conn.execute(query.where(sources.c.name.in_(chunk))):
                    known[row.name] = row
            result = []
            for name in wanted:
                state = known.get(name)
                if state is None or (
                    state.disabled is None and (state.next_check is None or state.next_check <= now)
                ):
                    result.append(name)
            return result

        return self._run("cannot read due sources", work)

    # ------------------------------------------------------------------- hosts

    def defer_host(self, host: str, *, until: datetime, reason: str | None = None) -> None:
        """Leave `host` alone until `until` (a later deferral wins over an earlier one)."""
        values = {"host": host, "not_before": until, "reason": reason}
        insert = _insert(self._engine.dialect.name, hosts).values(**values)
        statement = insert.on_conflict_do_update(
            index_elements=[hosts.c.host],
            set_={"not_before": insert.excluded.not_before, "reason": insert.excluded.reason},
            where=hosts.c.not_before < insert.excluded.not_before,
        )
        self._run(
            f"cannot save the deferral of {host!r}",
            lambda conn: conn.execute(statement),
            write=True,
        )

    def deferred_hosts(self, *, now: datetime) -> dict[str, datetime]:
        """Hosts that asked to be left alone past `now`, with the time they gave."""
        query = sa.select(hosts.c.host, hosts.c.not_before).where(hosts.c.not_before > now)
        return self._run(
            "cannot read deferred hosts",
            lambda conn: {host: until for host, until in conn.execute(query)},
        )

    # ------------------------------------------------------------------- posts

    def upsert_posts(self, new_posts: Sequence[Post], *, now: datetime) -> UpsertResult:
        """Insert new posts, update changed ones, skip unchanged ones (by key and content hash).

        A new post gets a slug unique across the store (its base slug, then -2, -3, …); it
        may move among posts of the same base until settle_slugs, then it is kept for good.
        The first occurrence of a key in `new_posts` wins. A post whose data the database
        refuses keeps no other out: the others are stored, and the refused ones listed in
        the result's `refused` with the database's reason.
        """
        if not new_posts:
            return UpsertResult()
        # First occurrences only: written one by one, a later copy would update the first.
        by_key: dict[str, Post] = {}
        for post in new_posts:
            by_key.setdefault(post.key, post)
        first = list(by_key.values())
        done, refused = self._write_rows(
            "cannot store posts", first, lambda conn, batch: _upsert(conn, batch, now=now)
        )
        if len(done) == 1 and not refused:
            return done[0]
        return UpsertResult(
            new=tuple(k for r in done for k in r.new),
            updated=tuple(k for r in done for k in r.updated),
            unchanged=sum(r.unchanged for r in done),
            refused=tuple((post.key, reason) for post, reason in refused),
        )

    def settle_slugs(self) -> int:
        """Give the posts stored since the last call their slugs for good; return how many
        moved. Within one base, slugs go by the posts' dates, then keys (undated posts
        after dated ones), so the same posts get the same slugs in whatever order their
        sources were stored. Publishing calls this before it reads anything.
        """
        return self._run("cannot settle slugs", _settle_slugs, write=True)

    def full_text_pending(self, source: str) -> list[Post]:
        """`source`'s posts whose article is still to fetch, oldest first."""
        query = (
            sa.select(posts)
            .where(_wants_article, posts.c.source == source)
            .order_by(posts.c.published, posts.c.key)
        )
        return self._run(
            f"cannot read the posts of {source!r} awaiting full text",
            lambda conn: [_post_from_row(r) for r in conn.execute(query)],
        )

    def mark_full_text(self, keys: Sequence[str], *, pending: bool) -> None:
        """Record that the articles of posts `keys` are still to fetch (or no longer are).

        A post whose article misses again loses one of its FULL_TEXT_TRIES rounds; after
        the last it is no longer pending: a page that never answers in time must not take
        the budget of every round from the posts after it.
        """
        wanted = list(dict.fromkeys(keys))
        if not wanted:
            return
        tries = posts.c.full_text_tries
        value = sa.case((tries > 0, tries - 1), else_=FULL_TEXT_TRIES) if pending else sa.literal(0)

        def work(conn: Connection) -> None:
            for chunk in _chunks(wanted):
                conn.execute(
                    sa.update(posts).where(posts.c.key.in_(chunk)).values(full_text_tries=value)
                )

        self._run("cannot mark posts awaiting full text", work, write=True)

    def pending(self) -> list[Post]:
        """Posts new or changed since they were last published, oldest first.

        Posts whose slugs are not settled yet (stored after the publish's settle_slugs,
        by a round still running) wait for the next publish: written now under a slug
        that may still move, their files would be left behind when it does.
        """
        query = (
            sa.select(posts).where(_is_pending, _settled).order_by(posts.c.published, posts.c.key)
        )
        return self._run(
            "cannot read pending posts",
            lambda conn: [_post_from_row(r) for r in conn.execute(query)],
        )

    def mark_published(self, keys_and_revisions: Sequence[tuple[str, int]]) -> None:
        """Record that each (key, revision) was published.

        A post whose revision moved on meanwhile (changed during the publish) stays pending.
        """
        if not keys_and_revisions:
            return
        statement = (
            sa.update(posts)
            .where(posts.c.key == sa.bindparam("b_key"))
            .where(posts.c.revision == sa.bindparam("b_revision"))
            .values(published_revision=sa.bindparam("b_revision"))
        )
        params = [{"b_key": k, "b_revision": r} for k, r in keys_and_revisions]
        self._run(
            "cannot mark posts published",
            lambda conn: conn.execute(statement, params),
            write=True,
        )

    def recent_posts(self, *, category: str | None = None, limit: int | None = None) -> list[Post]:
        """Posts newest first (published descending, then key), of one category or all.

        Like every read for publishing, it leaves out posts whose slugs are not settled
        yet (see pending): a page or feed never links a slug that may still move.
        """
        query = sa.select(posts).where(_settled).order_by(posts.c.published.desc(), posts.c.key)
        if category is not None:
            query = query.where(posts.c.category == category)
        if limit is not None:
            query = query.limit(limit)
        return self._run(
            "cannot read posts", lambda conn: [_post_from_row(r) for r in conn.execute(query)]
        )

    def get_post(self, key: str) -> Post | None:
        """The post stored under `key`, or None."""

        def work(conn: Connection) -> Post | None:
            row = conn.execute(sa.select(posts).where(posts.c.key == key)).first()
            return None if row is None else _post_from_row(row)

        return self._run(f"cannot read post {key!r}", work)

    def identities(
        self,
        *,
        keys: Sequence[str] = (),
        links: Sequence[str] = (),
        text_hashes: Sequence[str] = (),
        legacy_keys: Sequence[str] = (),
    ) -> list[StoredIdentity]:
        """Stored posts whose key or identity key is one of `keys`, whose key or legacy key
        is one of `legacy_keys`, or whose canonical link or text hash is one of those given."""
        wanted_keys = [x for x in dict.fromkeys(keys) if x]
        wanted_legacy = [x for x in dict.fromkeys(legacy_keys) if x]
        wanted = [
            (posts.c.key, list(dict.fromkeys([*wanted_keys, *wanted_legacy]))),
            (posts.c.identity_key, wanted_keys),
            (posts.c.legacy_key, wanted_legacy),
            (posts.c.canonical_link, [x for x in dict.fromkeys(links) if x]),
            (posts.c.text_hash, [x for x in dict.fromkeys(text_hashes) if x]),
        ]
        columns = (
            posts.c.key,
            posts.c.source,
            posts.c.category,
            posts.c.canonical_link,
            posts.c.text_hash,
            posts.c.link,
            posts.c.identity_key,
            posts.c.legacy_key,
        )

        def work(conn: Connection) -> list[StoredIdentity]:
            found: dict[str, StoredIdentity] = {}
            for column, values in wanted:
                for chunk in _chunks(values):
                    for row in conn.execute(sa.select(*columns).where(column.in_(chunk))):
                        found.setdefault(
                            row.key,
                            StoredIdentity(
                                key=row.key,
                                source=row.source,
                                category=row.category,
                                canonical_link=row.canonical_link,
                                text_hash=row.text_hash,
                                link=row.link,
                                identity_key=row.identity_key,
                                legacy_key=row.legacy_key,
                            ),
                        )
            return list(found.values())

        return self._run("cannot read post identities", work)

    def raw_hashes(self, source: str) -> set[str]:
        """The raw hashes of `source`'s stored posts: entries normalize need not redo."""
        query = sa.select(posts.c.raw_hash).where(posts.c.source == source)
        return self._run(
            f"cannot read the raw hashes of {source!r}",
            lambda conn: {h for h in conn.scalars(query) if h},
        )

    def post_counts(self) -> dict[str, int]:
        """Number of stored posts by source name (sources without posts are absent)."""
        query = sa.select(posts.c.source, sa.func.count()).group_by(posts.c.source)
        return self._run(
            "cannot count posts",
            lambda conn: {source: count for source, count in conn.execute(query)},
        )

    def categories(self) -> list[str]:
        """Category slugs that have at least one post, sorted."""
        query = sa.select(posts.c.category).distinct()
        return self._run("cannot read categories", lambda conn: sorted(conn.scalars(query)))

    # ------------------------------------------------------- publishing reads

    def iter_posts(self, *, batch: int = _CHUNK) -> Iterator[list[Post]]:
        """Every post whose slug is settled, `batch` at a time (by key), so a full rebuild
        holds one batch at once."""
        last: str | None = None
        while True:
            query = sa.select(posts).where(_settled).order_by(posts.c.key).limit(batch)
            if last is not None:
                query = query.where(posts.c.key > last)

            def work(conn: Connection, query: Any = query) -> list[Post]:
                return [_post_from_row(r) for r in conn.execute(query)]

            rows = self._run("cannot read posts", work)
            if not rows:
                return
            yield rows
            last = rows[-1].key

    def pending_revisions(self) -> list[tuple[str, int]]:
        """(key, revision) of every post new or changed since last published; no content."""
        query = sa.select(posts.c.key, posts.c.revision).where(_is_pending, _settled)
        return self._run(
            "cannot read pending posts",
            lambda conn: [(key, int(revision)) for key, revision in conn.execute(query)],
        )

    def get_posts(self, keys: Sequence[str]) -> list[Post]:
        """The posts stored under `keys` (missing ones left out), in the order of `keys`."""

        def work(conn: Connection) -> list[Post]:
            found: dict[str, Post] = {}
            for chunk in _chunks(list(keys)):
                for row in conn.execute(sa.select(posts).where(posts.c.key.in_(chunk))):
                    found[row.key] = _post_from_row(row)
            return [found[k] for k in keys if k in found]

        return self._run("cannot read posts", work)

    def count_posts(self, category: str | None = None) -> int:
        """Number of posts (settled, as recent_posts), of one category or all."""
        query = sa.select(sa.func.count()).select_from(posts).where(_settled)
        if category is not None:
            query = query.where(posts.c.category == category)
        return self._run("cannot count posts", lambda conn: int(conn.scalar(query) or 0))

    def count_pending(self) -> int:
        """Number of posts new or changed since they were last published (as `pending`)."""
        query = sa.select(sa.func.count()).select_from(posts).where(_is_pending, _settled)
        return self._run("cannot count pending posts", lambda conn: int(conn.scalar(query) or 0))

    def listed_posts(self, category: str, *, offset: int, limit: int) -> list[ListedPost]:
        """One category's posts in arrival order (first seen, then key), without content.

        Arrival order only ever grows at its end, so pages cut from it stay put.
        """
        query = (
            sa.select(*_LISTED)
            .where(posts.c.category == category, _settled)
            .order_by(posts.c.first_seen, posts.c.key)
            .offset(offset)
            .limit(limit)
        )
        return self._run(
            "cannot read posts",
            # Pages list posts that are published, or being published now.
            lambda conn: [_listed_from_row(r, ever_published=True) for r in conn.execute(query)],
        )

    def arrival_positions(self, keys: Sequence[str]) -> dict[str, int]:
        """Each post's 0-based index in its category's arrival order (see listed_posts)."""
        wanted = list(dict.fromkeys(keys))

        def work(conn: Connection) -> dict[str, int]:
            categories: set[str] = set()
            for chunk in _chunks(wanted):
                query = sa.select(posts.c.category).where(posts.c.key.in_(chunk)).distinct()
                categories.update(conn.scalars(query))
            if not categories:
                return {}
            # One numbering pass over the categories concerned, not one count per key: a
            # cold round brings thousands of new keys, and a count per key is quadratic.
            position = sa.func.row_number().over(
                partition_by=posts.c.category, order_by=(posts.c.first_seen, posts.c.key)
            )
            numbered = (
                sa.select(posts.c.key, (position - 1).label("position"))
                .where(posts.c.category.in_(sorted(categories)), _settled)
                .subquery()
            )
            result: dict[str, int] = {}
            for chunk in _chunks(wanted):
                query = sa.select(numbered.c.key, numbered.c.position).where(
                    numbered.c.key.in_(chunk)
                )
                result.update({key: int(n) for key, n in conn.execute(query)})
            return result

        return self._run("cannot read post positions", work)

    def tags(self) -> list[str]:
        """Every tag some post carries, sorted."""

        def work(conn: Connection) -> list[str]:
            found: set[str] = set()
            for (tags,) in conn.execute(sa.select(posts.c.tags).distinct()):
                found.update(tags)
            return sorted(found)

        return self._run("cannot read tags", work)

    def posts_with_tags(self, tags: Sequence[str], *, limit: int) -> list[Post]:
        """The newest `limit` posts carrying any of `tags` (published descending, then key)."""
        if not tags:
            return []
        # `tags` is JSON text: match the quoted, escaped string as it is stored.
        patterns = [json.dumps(t, ensure_ascii=False) for t in tags]
        as_text = sa.type_coerce(posts.c.tags, sa.Text)
        query = (
            sa.select(posts)
            .where(sa.or_(*(as_text.contains(p, autoescape=True) for p in patterns)), _settled)
            .order_by(posts.c.published.desc(), posts.c.key)
        )

        def work(conn: Connection) -> list[Post]:
            # LIKE can also match inside another tag's text (a tag holding a quote): check.
            wanted = set(tags)
            result: list[Post] = []
            for row in conn.execute(query):
                post = _post_from_row(row)
                if wanted.intersection(post.tags):
                    result.append(post)
                    if len(result) >= limit:
                        break
            return result

        return self._run("cannot read posts by tag", work)

    def delete_posts_published_before(self, cutoff: datetime) -> list[ListedPost]:
        """Delete every post published before `cutoff`; return what was deleted."""

        def work(conn: Connection) -> list[ListedPost]:
            old = posts.c.published < cutoff
            gone = [
                _listed_from_row(r)
                for r in conn.execute(sa.select(*_LISTED, posts.c.published_revision).where(old))
            ]
            if gone:
                conn.execute(sa.delete(posts).where(old))
            return gone

        return self._run("cannot delete old posts", work, write=True)

    # ----------------------------------------------------------------- metrics

    def publish_counts(self) -> tuple[int, int]:
        """(posts published at least once, posts new or changed since last published)."""
        query = sa.select(
            sa.func.count().filter(posts.c.published_revision > 0),
            sa.func.count().filter(_is_pending),
        )

        def work(conn: Connection) -> tuple[int, int]:
            published, pending = conn.execute(query).one()
            return int(published or 0), int(pending or 0)

        return self._run("cannot count posts", work)


def _insert(dialect: str, table: sa.Table) -> postgresql.Insert | sqlite.Insert:
    # Both dialects spell the upsert the same way (INSERT … ON CONFLICT DO UPDATE).
    return postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)


def _state_values(state: SourceState) -> dict[str, Any]:
    return {
        "name": state.name,
        "url": state.url,
        "config_url": state.config_url,
        "etag": state.validators.etag,
        "last_modified": state.validators.last_modified,
        "content_hash": state.content_hash,
        "feed_title": state.feed_title,
        "feed_link": state.feed_link,
        "feed_id": state.feed_id,
        "last_fetched": state.last_fetched,
        "last_success": state.last_success,
        "last_status": state.last_status,
        "failures": state.failures,
        "last_error": state.last_error,
        "next_check": state.next_check,
        "disabled": state.disabled,
        "redirect_target": state.redirect_target,
        "redirect_count": state.redirect_count,
        "feed_ttl_seconds": (
            None if state.feed_ttl is None else int(state.feed_ttl.total_seconds())
        ),
        "dropped_items": state.dropped_items,
    }


def _state_from_row(row: Row[Any]) -> SourceState:
    return SourceState(
        name=row.name,
        url=row.url,
        config_url=row.config_url,
        validators=Validators(etag=row.etag, last_modified=row.last_modified),
        content_hash=row.content_hash,
        feed_title=row.feed_title,
        feed_link=row.feed_link,
        feed_id=row.feed_id,
        last_fetched=row.last_fetched,
        last_success=row.last_success,
        last_status=row.last_status,
        failures=row.failures,
        last_error=row.last_error,
        next_check=row.next_check,
        disabled=row.disabled,
        redirect_target=row.redirect_target,
        redirect_count=row.redirect_count,
        feed_ttl=None if row.feed_ttl_seconds is None else timedelta(seconds=row.feed_ttl_seconds),
        dropped_items=row.dropped_items,
    )


_LISTED: Final = (
    posts.c.key,
    posts.c.source,
    posts.c.category,
    posts.c.title,
    posts.c.slug,
    posts.c.published,
)


def _listed_from_row(row: Any, *, ever_published: bool | None = None) -> ListedPost:
    """`ever_published`: known for every row (else the row has published_revision)."""
    key, source, category, title, slug, published = row[:6]
    return ListedPost(
        key=key,
        source=source,
        category=category,
        title=title,
        slug=slug,
        published=published,
        ever_published=row[6] > 0 if ever_published is None else ever_published,
    )


def _post_from_row(row: Any) -> Post:
    """A row of `select(posts)`, its columns read by name (any column order, any added)."""
    return Post(
        key=row.key,
        source=row.source,
        category=row.category,
        title=row.title,
        link=row.link,
        published=row.published,
        updated=row.updated,
        content_html=row.content_html,
        tags=row.tags,
        slug=row.slug,
        content_hash=row.content_hash,
        dated=row.dated,
        revision=row.revision,
        canonical_link=row.canonical_link,
        text_hash=row.text_hash,
        raw_hash=row.raw_hash,
        identity_key=row.identity_key,
        legacy_key=row.legacy_key,
        author=row.author,
    )


def _upsert(conn: Connection, batch: Sequence[Post], *, now: datetime) -> UpsertResult:
    if conn.dialect.name == "postgresql":
        # Two nodes choosing slugs at once would both pick the same free one.
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_POSTS_LOCK)))
    by_key: dict[str, Post] = {}
    for post in batch:
        by_key.setdefault(post.key, post)
    keys = list(by_key)
    stored: dict[str, Any] = {}  # key -> row
    query = sa.select(
        posts.c.key,
        posts.c.content_hash,
        posts.c.published,
        posts.c.updated,
        posts.c.dated,
        posts.c.raw_hash,
        posts.c.identity_key,
        posts.c.legacy_key,
        posts.c.author,
    )
    for chunk in _chunks(keys):
        for row in conn.execute(query.where(posts.c.key.in_(chunk))):
            stored[row.key] = row

    inserts: list[Post] = []
    changes: list[dict[str, Any]] = []
    rehashed: list[dict[str, Any]] = []
    unchanged = 0
    for key, post in by_key.items():
        old = stored.get(key)
        if old is None:
            inserts.append(post)
            continue
        # What the post says it is, else what the row said: a post read back from the
        # store (full text) may know neither.
        identity_key = post.identity_key or old.identity_key
        legacy_key = post.legacy_key or old.legacy_key
        if old.content_hash == post.content_hash:
            unchanged += 1
            raw = post.raw_hash or old.raw_hash
            if (raw, identity_key, legacy_key, post.author) != (
                old.raw_hash,
                old.identity_key,
                old.legacy_key,
                old.author,
            ):
                # Same post from changed raw bytes, or claimed by its item: remember them so
                # that they are skipped next time (no new revision: nothing to publish). The
                # author is no part of the content hash (a byline alone is no edit worth a
                # reader's notice, and posts stored before authors were kept would all read
                # as edited): it is kept as it is now, and shows wherever the post is
                # written next.
                rehashed.append(
                    {
                        "b_key": key,
                        "b_raw_hash": raw,
                        "b_identity_key": identity_key,
                        "b_legacy_key": legacy_key,
                        "b_author": post.author,
                    }
                )
        else:
            changes.append(
                {
                    "b_key": key,
                    "b_title": post.title,
                    "b_link": post.link,
                    "b_content_html": post.content_html,
                    "b_tags": post.tags,
                    "b_content_hash": post.content_hash,
                    # An edit with no newer date of its own is dated by when we saw it.
                    "b_updated": post.updated if post.updated > old.updated else now,
                    # An undated post's published is its first-seen time: it never moves.
                    "b_published": post.published if post.dated else old.published,
                    "b_dated": old.dated or post.dated,
                    "b_canonical_link": post.canonical_link,
                    "b_text_hash": post.text_hash,
                    "b_raw_hash": post.raw_hash,
                    "b_identity_key": identity_key,
                    "b_legacy_key": legacy_key,
                    "b_author": post.author,
                }
            )
    if rehashed:
        conn.execute(
            sa.update(posts)
            .where(posts.c.key == sa.bindparam("b_key"))
            .values(
                raw_hash=sa.bindparam("b_raw_hash"),
                identity_key=sa.bindparam("b_identity_key"),
                legacy_key=sa.bindparam("b_legacy_key"),
                author=sa.bindparam("b_author"),
            ),
            rehashed,
        )

    if changes:
        conn.execute(
            sa.update(posts)
            .where(posts.c.key == sa.bindparam("b_key"))
            .values(
                title=sa.bindparam("b_title"),
                link=sa.bindparam("b_link"),
                content_html=sa.bindparam("b_content_html"),
                tags=sa.bindparam("b_tags", type_=_Tags),
                content_hash=sa.bindparam("b_content_hash"),
                updated=sa.bindparam("b_updated", type_=UTCDateTime),
                published=sa.bindparam("b_published", type_=UTCDateTime),
                dated=sa.bindparam("b_dated"),
                canonical_link=sa.bindparam("b_canonical_link"),
                text_hash=sa.bindparam("b_text_hash"),
                raw_hash=sa.bindparam("b_raw_hash"),
                identity_key=sa.bindparam("b_identity_key"),
                legacy_key=sa.bindparam("b_legacy_key"),
                author=sa.bindparam("b_author"),
                revision=posts.c.revision + 1,
            ),
            changes,
        )
    if inserts:
        slugs = _unique_slugs(conn, [p.slug or "post" for p in inserts])
        sql, names, to_db = _post_insert(conn.dialect)
        rows: list[dict[str, Any]] = [
            {
                "key": p.key,
                "source": p.source,
                "category": p.category,
                "title": p.title,
                "link": p.link,
                "published": p.published,
                "updated": p.updated,
                "content_html": p.content_html,
                "tags": p.tags,
                "slug": slug,
                "content_hash": p.content_hash,
                "dated": p.dated,
                "first_seen": now,
                "revision": 1,
                "published_revision": 0,
                "canonical_link": p.canonical_link,
                "text_hash": p.text_hash,
                "raw_hash": p.raw_hash,
                "full_text_tries": 0,
                "identity_key": p.identity_key or p.key,
                "legacy_key": p.legacy_key or p.key,
                "author": p.author,
            }
            for p, slug in zip(inserts, slugs, strict=True)
        ]
        for name, process in to_db:
            for values in rows:
                values[name] = process(values[name])
        if names is not None:  # a positional paramstyle (SQLite's "?")
            conn.exec_driver_sql(sql, [tuple(values[n] for n in names) for values in rows])
        else:
            conn.exec_driver_sql(sql, rows)
        # Settled when next published, in an order that does not depend on which source's
        # batch came first (Store.settle_slugs).
        conn.execute(
            unsettled.insert(),
            [
                {
                    "key": p.key,
                    "slug": slug,
                    "base": p.slug or "post",
                    "published": p.published,
                    "dated": p.dated,
                }
                for p, slug in zip(inserts, slugs, strict=True)
            ],
        )
    return UpsertResult(
        new=tuple(p.key for p in inserts),
        updated=tuple(c["b_key"] for c in changes),
        unchanged=unchanged,
    )


# SQL, parameter order (positional paramstyles), per-column value conversions.
_Insert = tuple[str, tuple[str, ...] | None, list[tuple[str, Callable[[Any], Any]]]]
_INSERTS: dict[str, _Insert] = {}


def _post_insert(dialect: Dialect) -> _Insert:
    """The INSERT of a whole posts row as the driver takes it, compiled once per dialect:
    (SQL, parameter order for a positional paramstyle or None, the columns' own value
    conversions). New posts arrive by the thousand in a cold round, and SQLAlchemy's
    per-row work for a compiled statement costs more than SQLite's own insert."""
    cached = _INSERTS.get(dialect.name)
    if cached is None:
        names = [c.name for c in posts.columns]
        compiled = posts.insert().compile(dialect=dialect, column_keys=names)
        to_db: list[tuple[str, Callable[[Any], Any]]] = []
        for column in posts.columns:
            process = column.type.dialect_impl(dialect).bind_processor(dialect)
            if process is not None:
                to_db.append((column.name, process))
        order = (
            tuple(compiled.positiontup) if compiled.positional and compiled.positiontup else None
        )
        cached = _INSERTS[dialect.name] = (compiled.string, order, to_db)
    return cached


def _starts_with(conn: Connection, prefix: str) -> sa.ColumnElement[bool]:
    """Slugs beginning with `prefix` (ASCII, as every slug). On SQLite as a range of the
    slug index: its LIKE is case-insensitive and so reads every row, bodies and all
    (thousands of same-title posts took seconds each round)."""
    if conn.dialect.name == "sqlite":
        after = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        return sa.and_(posts.c.slug >= prefix, posts.c.slug < after)
    return posts.c.slug.startswith(prefix, autoescape=True)


def _unique_slugs(
    conn: Connection, bases: Sequence[str], *, free: frozenset[str] = frozenset()
) -> list[str]:
    """One slug per base, unique among the stored slugs and each other: base, base-2, …

    `free`: stored slugs that may be given again (the rows holding them take new ones).
    Linear in len(bases): per base, the highest suffix in use is read once and counted up
    from, not probed from -2 for every post of the same title.
    """
    unique = list(dict.fromkeys(bases))
    taken: set[str] = set()
    for chunk in _chunks(unique):  # one indexed lookup for the common case: no clash
        taken.update(conn.scalars(sa.select(posts.c.slug).where(posts.c.slug.in_(chunk))))
    taken -= free
    following: dict[str, int] = {}  # base -> the next suffix to try

    def next_suffix(base: str) -> int:
        n = following.get(base)
        if n is None:
            # Every stored base-…: base-N for the counter, the rest (base-N-M, another
            # title's slug) so that a candidate is never one of them.
            highest = 1
            query = sa.select(posts.c.slug).where(_starts_with(conn, f"{base}-"))
            for slug in conn.scalars(query):
                if slug in free:
                    continue
                taken.add(slug)
                suffix = slug[len(base) + 1 :]
                if suffix.isascii() and suffix.isdigit():
                    highest = max(highest, int(suffix))
            n = highest + 1
        return n

    result = []
    for base in bases:
        slug = base
        if slug in taken:
            n = next_suffix(base)
            slug = f"{base}-{n}"
            while slug in taken:  # another title's slug: at most once per slug taken
                n += 1
                slug = f"{base}-{n}"
            following[base] = n + 1
        taken.add(slug)
        result.append(slug)
    return result


def _settle_slugs(conn: Connection) -> int:
    if conn.dialect.name == "postgresql":
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_POSTS_LOCK)))
    query = sa.select(
        unsettled.c.key,
        unsettled.c.slug,
        unsettled.c.base,
        unsettled.c.published,
        unsettled.c.dated,
    )
    rows = list(conn.execute(query))
    if not rows:
        return 0
    # Dated posts by their date, then undated ones (whose date is only when they were
    # seen), then by key: the same posts get the same slugs whatever order they came in.
    rows.sort(key=lambda r: (not r.dated, r.published if r.dated else _NO_DATE, r.key))
    slugs = _unique_slugs(conn, [r.base for r in rows], free=frozenset(r.slug for r in rows))
    moved = [(r.key, slug) for r, slug in zip(rows, slugs, strict=True) if slug != r.slug]
    if moved:
        # Through a placeholder: a slug may pass from one of these rows to another, and the
        # unique constraint is checked row by row. "~" is in no slug.
        step = (
            sa.update(posts)
            .where(posts.c.key == sa.bindparam("b_key"))
            .values(slug=sa.bindparam("b_slug"))
        )
        conn.execute(step, [{"b_key": k, "b_slug": f"~{k}"} for k, _ in moved])
        conn.execute(step, [{"b_key": k, "b_slug": slug} for k, slug in moved])
    settled = [r.key for r in rows]
    for chunk in _chunks(settled):
        conn.execute(sa.delete(unsettled).where(unsettled.c.key.in_(chunk)))
    return len(moved)
