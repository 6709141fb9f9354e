"""The store contract, run on every backend: SQLite always, PostgreSQL when
AGGREGATOR_TEST_POSTGRES_URL names a server we may create databases on."""

from __future__ import annotations

import dataclasses
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from pgdatabase import PG_MISSING, emptied, new_database
from sqlalchemy.engine import Connection, Engine

from aggregator.errors import StoreError
from aggregator.store import FULL_TEXT_TRIES, MIGRATIONS, Store, open_store
from aggregator.store import engine as store_engine
from aggregator.store import migrations as store_migrations
from aggregator.store import schema as store_schema
from aggregator.types import Post, SourceState, Validators
from aggregator.websub.records import Subscription

PG_URL = os.environ.get("AGGREGATOR_TEST_POSTGRES_URL")

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param(
        "postgresql",
        id="postgresql",
        marks=[
            pytest.mark.postgres,
            pytest.mark.skipif(
                not PG_URL,
                reason=PG_MISSING,
            ),
        ],
    ),
]

T0 = datetime(2021, 12, 26, 8, 30, 15, 123456, tzinfo=UTC)
SHANGHAI = timezone(timedelta(hours=8))


@pytest.fixture(scope="module")
def pg_database() -> Iterator[str]:
    """A PostgreSQL database of this module's own, dropped at the end (CREATE DATABASE is
    too slow to run per test)."""
    with new_database() as url:
        yield url


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL to an empty database: a file in tmp_path, or the module's PostgreSQL database
    emptied of every table."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return emptied(request.getfixturevalue("pg_database"))


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    opened = open_store(db_url)
    yield opened
    opened.close()


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine set up as the store sets up its own (pragmas, transactional DDL)."""
    created = store_engine._create_engine(sa.make_url(db_url))
    yield created
    created.dispose()


def make_post(key: str, **changes: object) -> Post:
    post = Post(
        key=key,
        source="天津日报",
        category="tianjinribao",
        title=f"Title of {key}",
        link=f"https://example.org/{key}",
        published=T0,
        updated=T0,
        content_html=f"<p>Body of {key}</p>",
        tags=("天津日报新闻", "news"),
        slug=f"slug-{key}",
        content_hash=f"hash-{key}",
        identity_key=key,  # as normalize gives them
        legacy_key=key,
    )
    return dataclasses.replace(post, **changes)  # type: ignore[arg-type]


def stored_version(engine: Engine) -> int | None:
    with engine.connect() as conn:
        return conn.scalar(sa.select(store_schema.schema_version.c.version))


def table_names(engine: Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


# ----------------------------------------------------------------- schema


def test_first_open_creates_schema_and_records_version(store: Store, engine: Engine) -> None:
    assert {"schema_version", "sources", "posts"} <= table_names(engine)
    assert stored_version(engine) == len(MIGRATIONS)


def test_migrated_schema_matches_tables(store: Store, engine: Engine) -> None:
    inspector = sa.inspect(engine)
    for table in (store_schema.sources, store_schema.posts):
        columns = {c["name"] for c in inspector.get_columns(table.name)}
        assert columns == set(table.columns.keys()), table.name
        indexes = {i["name"] for i in inspector.get_indexes(table.name)}
        assert {i.name for i in table.indexes} <= indexes, table.name


def test_reopening_up_to_date_database_migrates_nothing(
    db_url: str, store: Store, engine: Engine
) -> None:
    store.upsert_posts([make_post("a")], now=T0)
    assert store_migrations._migrate(engine, MIGRATIONS) == 0
    assert stored_version(engine) == len(MIGRATIONS)
    reopened = open_store(db_url)
    try:
        reopened.settle_slugs()
        assert [p.key for p in reopened.recent_posts()] == ["a"]
    finally:
        reopened.close()


def test_database_at_version_zero_is_migrated(db_url: str, engine: Engine) -> None:
    assert store_migrations._migrate(engine, ()) == 0  # only schema_version, at 0
    assert stored_version(engine) == 0
    assert "posts" not in table_names(engine)
    opened = open_store(db_url)
    opened.close()
    assert {"sources", "posts"} <= table_names(engine)
    assert stored_version(engine) == len(MIGRATIONS)


def test_later_steps_run_in_order_once(store: Store, engine: Engine) -> None:
    ran: list[str] = []

    def step(name: str) -> Callable[[Connection], None]:
        def run(conn: Connection) -> None:
            ran.append(name)
            conn.exec_driver_sql(f"CREATE TABLE {name} (x INTEGER)")

        return run

    steps = (*MIGRATIONS, step("extra_a"), step("extra_b"))
    assert store_migrations._migrate(engine, steps) == 2
    assert ran == ["extra_a", "extra_b"]
    assert stored_version(engine) == len(MIGRATIONS) + 2
    assert {"extra_a", "extra_b"} <= table_names(engine)
    assert store_migrations._migrate(engine, steps) == 0
    assert ran == ["extra_a", "extra_b"]


def test_failing_step_leaves_schema_and_version_untouched(store: Store, engine: Engine) -> None:
    def create_then_fail(conn: Connection) -> None:
        conn.exec_driver_sql("CREATE TABLE half_done (x INTEGER)")
        conn.exec_driver_sql("SELECT * FROM no_such_table")

    with pytest.raises(sa.exc.SQLAlchemyError):
        store_migrations._migrate(engine, (*MIGRATIONS, create_then_fail))
    assert "half_done" not in table_names(engine)
    assert stored_version(engine) == len(MIGRATIONS)


def test_newer_schema_is_refused(db_url: str, store: Store, engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(store_schema.schema_version.update().values(version=99))
    with pytest.raises(StoreError, match="schema version 99 is newer"):
        open_store(db_url)


# ------------------------------------------------------------ open errors


def test_unopenable_sqlite_path_raises_store_error(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'missing' / 'dir' / 'y.db'}"
    with pytest.raises(StoreError) as caught:
        open_store(url)
    assert str(caught.value) == f"cannot open database {url}: unable to open database file"


def test_unreachable_postgresql_raises_store_error_without_password() -> None:
    with socket.socket() as sock:  # a port that was just free: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"postgresql+psycopg://postgres:s3cret@127.0.0.1:{port}/postgres"
    with pytest.raises(StoreError) as caught:
        open_store(url)
    message = str(caught.value)
    assert message.startswith(
        f"cannot open database postgresql+psycopg://postgres:***@127.0.0.1:{port}/"
    )
    assert "s3cret" not in message
    assert "\n" not in message


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason=PG_MISSING)
def test_a_store_outlives_its_postgresql_connections_being_cut(pg_database: str) -> None:
    # The server restarted, or an operator ended the sessions: a connection idle for a
    # while is tried before it is lent, so the next call works; one cut while in use
    # fails that call alone (one line), and the call after it works.
    url = emptied(pg_database)
    store = open_store(url)
    admin = sa.create_engine(url)

    def cut() -> int:
        with admin.connect() as conn:
            return len(
                conn.execute(
                    sa.text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                ).all()
            )

    try:
        store.save_states([SourceState(name="s", url="u", config_url="u", next_check=T0)])
        assert cut() >= 1
        time.sleep(store_engine._PING_AFTER_IDLE_S + 0.5)
        assert [s.name for s in store.get_states(["s"])] == ["s"]
        assert cut() >= 1
        with pytest.raises(StoreError) as caught:  # in use a moment ago: lent as it was
            store.get_states(["s"])
        assert "\n" not in str(caught.value)
        assert [s.name for s in store.get_states(["s"])] == ["s"]
    finally:
        store.close()
        admin.dispose()


def test_invalid_url_raises_store_error() -> None:
    with pytest.raises(StoreError, match="invalid database URL"):
        open_store("not a url")


def test_unsupported_backend_raises_store_error() -> None:
    with pytest.raises(StoreError, match="only sqlite and postgresql are supported"):
        open_store("mysql://user:pw@127.0.0.1/db")


# ------------------------------------------------------------ source state


def full_state(name: str = "天津日报") -> SourceState:
    return SourceState(
        name=name,
        url="https://example.org/moved.rss",
        config_url="https://example.org/tianjin.rss",
        validators=Validators(etag='W/"abc"', last_modified="Sun, 26 Dec 2021 08:30:15 GMT"),
        content_hash="body-hash",
        feed_title="天津日报",
        feed_link="https://example.org/",
        feed_id="urn:example:feed",
        last_fetched=T0.astimezone(SHANGHAI),  # any zone in, UTC out
        last_success=T0 - timedelta(hours=1),
        last_status=200,
        failures=2,
        last_error="timed out",
        next_check=T0 + timedelta(minutes=30),
        disabled=None,
    )


def test_state_round_trip_returns_aware_utc(store: Store) -> None:
    state = full_state()
    store.save_state(state)
    got = store.get_state(state.name)
    assert got == state
    assert got is not None
    for value in (got.last_fetched, got.last_success, got.next_check):
        assert value is not None
        assert value.tzinfo is UTC
    assert got.last_fetched == T0  # the same instant, microseconds kept


def test_save_state_replaces_previous(store: Store) -> None:
    store.save_state(full_state())
    empty = SourceState(name="天津日报", url="https://e.org/a", config_url="https://e.org/a")
    store.save_state(empty)
    assert store.get_state("天津日报") == empty


def test_states_ordered_by_name_and_missing_is_none(store: Store) -> None:
    for name in ("b", "c", "a"):
        store.save_state(SourceState(name=name, url="https://e.org", config_url="https://e.org"))
    assert [s.name for s in store.states()] == ["a", "b", "c"]
    assert store.get_state("nope") is None


def test_naive_datetime_is_refused(store: Store) -> None:
    state = dataclasses.replace(full_state(), next_check=datetime(2021, 12, 26))
    with pytest.raises(StoreError, match="naive datetime"):
        store.save_state(state)


def test_a_refused_state_keeps_no_other_out_of_its_batch(store: Store) -> None:
    # A lone surrogate: no backend's driver encodes it, whatever the database.
    states = [full_state(f"s{n}") for n in range(5)]
    states[2] = dataclasses.replace(states[2], feed_title="bad \ud800 title")
    states[4] = dataclasses.replace(states[4], next_check=datetime(2021, 12, 26))  # naive
    refused = store.save_states(states)
    assert sorted(refused) == ["s2", "s4"]
    assert "surrogate" in refused["s2"] and "naive datetime" in refused["s4"]
    assert [s.name for s in store.states()] == ["s0", "s1", "s3"]
    assert store.get_state("s3") == full_state("s3")


def test_a_refused_post_keeps_no_other_out_of_its_batch(store: Store) -> None:
    posts = [make_post(f"k{n}") for n in range(4)]
    posts[1] = dataclasses.replace(posts[1], content_html="<p>bad \ud800</p>")
    result = store.upsert_posts([*posts, make_post("k0", title="a later copy")], now=T0)
    assert result.new == ("k0", "k2", "k3")
    assert [key for key, _reason in result.refused] == ["k1"]
    assert "surrogate" in result.refused[0][1]
    store.settle_slugs()
    assert [p.key for p in store.pending()] == ["k0", "k2", "k3"]
    assert store.get_post("k0") == dataclasses.replace(posts[0], slug="slug-k0", revision=1)


def test_due(store: Store) -> None:
    def save(name: str, next_check: datetime | None, disabled: str | None = None) -> None:
        store.save_state(
            SourceState(
                name=name,
                url="https://e.org",
                config_url="https://e.org",
                next_check=next_check,
                disabled=disabled,
            )
        )

    save("past", T0 - timedelta(seconds=1))
    save("exactly-now", T0)
    save("future", T0 + timedelta(seconds=1))
    save("unset", None)
    save("disabled", None, disabled="410 Gone")
    names = ["future", "unset", "never-seen", "disabled", "past", "exactly-now", "past"]
    assert store.due(names, now=T0) == ["unset", "never-seen", "past", "exactly-now"]
    assert store.due([], now=T0) == []


# ------------------------------------------------------------------ posts


def test_new_posts_are_inserted_at_revision_one(store: Store) -> None:
    result = store.upsert_posts([make_post("a"), make_post("b")], now=T0)
    assert result.new == ("a", "b")
    assert result.updated == ()
    assert result.unchanged == 0
    got = store.get_post("a")
    assert got == dataclasses.replace(make_post("a"), revision=1)
    assert got is not None
    assert got.published.tzinfo is UTC


def test_same_content_hash_writes_nothing(store: Store) -> None:
    store.upsert_posts([make_post("a")], now=T0)
    same_hash = make_post("a", title="Other title", updated=T0 + timedelta(days=1))
    result = store.upsert_posts([same_hash], now=T0 + timedelta(days=1))
    assert (result.new, result.updated, result.unchanged) == ((), (), 1)
    assert store.get_post("a") == dataclasses.replace(make_post("a"), revision=1)


def test_changed_content_updates_and_keeps_slug(store: Store) -> None:
    store.upsert_posts([make_post("a")], now=T0)
    later = T0 + timedelta(hours=2)
    edited = make_post(
        "a",
        title="A new title",
        link="https://example.org/a2",
        content_html="<p>edited</p>",
        tags=("x",),
        slug="a-new-title",
        content_hash="hash-2",
        updated=T0 + timedelta(hours=1),
    )
    result = store.upsert_posts([edited], now=later)
    assert (result.new, result.updated, result.unchanged) == ((), ("a",), 0)
    assert store.get_post("a") == dataclasses.replace(edited, slug="slug-a", revision=2)


def test_changed_without_later_updated_is_dated_now(store: Store) -> None:
    store.upsert_posts([make_post("a", updated=T0 + timedelta(hours=1))], now=T0)
    later = T0 + timedelta(hours=5)
    store.upsert_posts([make_post("a", content_hash="hash-2", updated=T0)], now=later)
    got = store.get_post("a")
    assert got is not None
    assert got.updated == later


def test_undated_post_keeps_first_seen_published(store: Store) -> None:
    first = T0
    store.upsert_posts([make_post("a", dated=False, published=first)], now=first)
    later = T0 + timedelta(days=1)
    store.upsert_posts(
        [make_post("a", dated=False, published=later, content_hash="hash-2")], now=later
    )
    got = store.get_post("a")
    assert got is not None
    assert (got.published, got.dated) == (first, False)
    dated = T0 + timedelta(days=2)
    store.upsert_posts([make_post("a", published=dated, content_hash="hash-3")], now=later)
    got = store.get_post("a")
    assert got is not None
    assert (got.published, got.dated, got.revision) == (dated, True, 3)


def test_repeated_key_in_one_batch_is_one_row(store: Store) -> None:
    result = store.upsert_posts([make_post("a"), make_post("a", content_hash="x")], now=T0)
    assert result.new == ("a",)
    assert store.post_counts() == {"天津日报": 1}
    got = store.get_post("a")
    assert got is not None
    assert got.content_hash == "hash-a"


def test_slugs_unique_within_batch_and_across_batches(store: Store) -> None:
    store.upsert_posts([make_post(k, slug="same") for k in ("a", "b")], now=T0)
    store.upsert_posts([make_post("c", slug="same"), make_post("d", slug="same-2x")], now=T0)
    store.upsert_posts([make_post(k, slug="") for k in ("e", "f")], now=T0)
    slugs = {k: p.slug for k in "abcdef" if (p := store.get_post(k)) is not None}
    assert slugs == {
        "a": "same",
        "b": "same-2",
        "c": "same-3",
        "d": "same-2x",
        "e": "post",
        "f": "post-2",
    }


def test_slug_with_like_wildcards_is_matched_literally(store: Store) -> None:
    store.upsert_posts([make_post("a", slug="x%y"), make_post("b", slug="x_y")], now=T0)
    store.upsert_posts([make_post("c", slug="x%y")], now=T0)
    assert [store.get_post(k).slug for k in "abc"] == ["x%y", "x_y", "x%y-2"]  # type: ignore[union-attr]


def test_edited_title_keeps_slug_and_frees_nothing(store: Store) -> None:
    store.upsert_posts([make_post("a", slug="old-title")], now=T0)
    store.upsert_posts([make_post("a", slug="new-title", content_hash="h2")], now=T0)
    store.upsert_posts([make_post("b", slug="old-title")], now=T0)
    store.settle_slugs()
    assert [p.slug for p in store.recent_posts()] == ["old-title", "old-title-2"]


def test_pending_and_mark_published(store: Store) -> None:
    store.upsert_posts(
        [make_post("old", published=T0 - timedelta(days=1)), make_post("new")], now=T0
    )
    assert store.pending() == [] and store.count_pending() == 0  # slugs not settled yet
    store.settle_slugs()
    pending = store.pending()
    assert [(p.key, p.revision) for p in pending] == [("old", 1), ("new", 1)]
    assert store.count_pending() == 2
    store.mark_published([(p.key, p.revision) for p in pending])
    assert store.pending() == []
    assert store.count_pending() == 0
    store.upsert_posts([make_post("new", content_hash="h2")], now=T0)
    assert [(p.key, p.revision) for p in store.pending()] == [("new", 2)]
    assert store.count_pending() == 1


def test_post_changed_during_publish_stays_pending(store: Store) -> None:
    store.upsert_posts([make_post("a")], now=T0)
    store.settle_slugs()
    being_published = store.pending()
    store.upsert_posts([make_post("a", content_hash="h2")], now=T0)  # lands mid-publish
    store.mark_published([(p.key, p.revision) for p in being_published])
    assert [(p.key, p.revision, p.content_hash) for p in store.pending()] == [("a", 2, "h2")]
    store.mark_published([("a", 2)])
    assert store.pending() == []
    store.mark_published([("a", 1)])  # a late, stale mark must not make it pending again
    assert store.pending() == []
    store.mark_published([])


def test_recent_posts_order_limit_and_category(store: Store) -> None:
    store.upsert_posts(
        [
            make_post("k2", published=T0),
            make_post("k1", published=T0),
            make_post("k3", published=T0 + timedelta(hours=1), category="other"),
            make_post("k4", published=T0 - timedelta(hours=1)),
        ],
        now=T0,
    )
    assert store.recent_posts() == []  # none settled yet: no publish may read them
    store.settle_slugs()
    assert [p.key for p in store.recent_posts()] == ["k3", "k1", "k2", "k4"]
    assert [p.key for p in store.recent_posts(limit=2)] == ["k3", "k1"]
    assert [p.key for p in store.recent_posts(category="tianjinribao")] == ["k1", "k2", "k4"]
    assert store.recent_posts(category="none") == []


def test_counts_categories_and_missing_post(store: Store) -> None:
    assert store.post_counts() == {}
    assert store.categories() == []
    store.upsert_posts(
        [
            make_post("a"),
            make_post("b", category="zeta"),
            make_post("c", source="other", category="alpha"),
        ],
        now=T0,
    )
    assert store.post_counts() == {"天津日报": 2, "other": 1}
    assert store.categories() == ["alpha", "tianjinribao", "zeta"]
    assert store.get_post("missing") is None


def test_concurrent_writers_get_unique_slugs(db_url: str, store: Store) -> None:
    """Two processes' worth of stores writing one database at once: no lock error, no
    duplicate slug (the `same` base is shared by every post)."""
    other = open_store(db_url)
    errors: list[BaseException] = []

    def write(target: Store, prefix: str) -> None:
        try:
            for n in range(15):
                batch = [make_post(f"{prefix}{n}-{i}", slug="same") for i in range(4)]
                target.upsert_posts(batch, now=T0)
                target.save_state(SourceState(name=prefix, url="https://e.org", config_url=""))
        except BaseException as e:
            errors.append(e)

    threads = [
        threading.Thread(target=write, args=(store, "x")),
        threading.Thread(target=write, args=(other, "y")),
    ]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        other.close()
    assert errors == []
    store.settle_slugs()
    slugs = [p.slug for p in store.recent_posts()]
    assert len(slugs) == len(set(slugs)) == 120


def test_large_batch_spans_parameter_chunks(store: Store) -> None:
    batch = [make_post(f"k{i:04d}", slug="same" if i % 2 else f"s{i}") for i in range(1200)]
    assert len(store.upsert_posts(batch, now=T0).new) == 1200
    assert store.upsert_posts(batch, now=T0).unchanged == 1200
    store.settle_slugs()
    slugs = [p.slug for p in store.recent_posts()]
    assert len(set(slugs)) == 1200
    assert store.due([f"n{i}" for i in range(1200)], now=T0)[-1] == "n1199"


def test_arrival_order_is_read_from_its_index_not_the_rows(tmp_path: Path) -> None:
    # Columns after content_html sit behind a long body's overflow pages: numbering a
    # category from the rows read every body of it (0.9 s for 2,000 posts on 100,000).
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'plan.db'}")
    store_migrations._migrate(engine, MIGRATIONS)
    with engine.connect() as conn:
        numbered = sa.select(
            store_schema.posts.c.key,
            sa.func.row_number().over(
                partition_by=store_schema.posts.c.category,
                order_by=(store_schema.posts.c.first_seen, store_schema.posts.c.key),
            ),
        ).where(store_schema.posts.c.category.in_(["world"]))
        sql = str(numbered.compile(conn, compile_kwargs={"literal_binds": True}))
        plan = " ".join(row[-1] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))
    engine.dispose()
    assert "COVERING INDEX ix_posts_category_arrival" in plan


# ----------------------------------------------------------------- volume


def _timed(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def test_same_title_slugs_cost_linear_time(store: Store) -> None:
    """20,000 posts of one title: each slug is counted on from the highest in use, not
    probed from -2 (quadratic: 29 s for 20,000, over an hour for a body cap's worth)."""

    def batch(prefix: str, n: int) -> list[Post]:
        return [make_post(f"{prefix}{i:05d}", slug=f"same-{prefix}") for i in range(n)]

    small, large = batch("s", 5_000), batch("l", 20_000)
    upsert_small = _timed(lambda: store.upsert_posts(small, now=T0))
    upsert_large = _timed(lambda: store.upsert_posts(large, now=T0))
    # Linear is 4x; quadratic 16x. The margin absorbs a busy machine.
    assert upsert_large / upsert_small < 9
    store.settle_slugs()
    slugs = [p.slug for p in store.recent_posts()]
    assert len(slugs) == len(set(slugs)) == 25_000
    assert {"same-l", "same-l-2", "same-l-20000"} <= set(slugs)


def test_settled_slugs_follow_date_then_key_not_arrival(store: Store) -> None:
    later, earlier = T0 + timedelta(hours=1), T0
    # The later post's batch is stored first (its source answered first).
    store.upsert_posts([make_post("b", slug="same", published=later)], now=T0)
    store.upsert_posts(
        [
            make_post("z", slug="same", published=earlier),
            make_post("a", slug="same", published=earlier),
        ],
        now=T0,
    )
    store.upsert_posts([make_post("u", slug="same", dated=False, published=T0)], now=T0)
    assert store.settle_slugs() > 0
    slugs = {k: p.slug for k in "abzu" if (p := store.get_post(k)) is not None}
    assert slugs == {"a": "same", "z": "same-2", "b": "same-3", "u": "same-4"}
    # Settled slugs are kept for good: a newer post of the same title comes after them.
    store.upsert_posts([make_post("c", slug="same", published=earlier - timedelta(days=1))], now=T0)
    store.settle_slugs()
    assert store.get_post("c").slug == "same-5"  # type: ignore[union-attr]
    assert store.get_post("a").slug == "same"  # type: ignore[union-attr]
    assert store.settle_slugs() == 0


def test_full_text_pending_is_remembered_per_source(store: Store) -> None:
    store.upsert_posts(
        [
            make_post("a"),
            make_post("b", published=T0 - timedelta(hours=1)),
            make_post("c", source="other"),
        ],
        now=T0,
    )
    assert store.full_text_pending("天津日报") == []
    store.mark_full_text(["a", "b", "c"], pending=True)
    assert [p.key for p in store.full_text_pending("天津日报")] == ["b", "a"]
    store.mark_full_text(["b"], pending=False)
    assert [p.key for p in store.full_text_pending("天津日报")] == ["a"]
    assert [p.key for p in store.full_text_pending("other")] == ["c"]
    # A page that misses round after round is given up after FULL_TEXT_TRIES more.
    for _ in range(FULL_TEXT_TRIES - 1):
        store.mark_full_text(["a"], pending=True)
        assert [p.key for p in store.full_text_pending("天津日报")] == ["a"]
    store.mark_full_text(["a"], pending=True)
    assert store.full_text_pending("天津日报") == []


def test_dropped_items_are_part_of_the_state(store: Store) -> None:
    state = SourceState(
        name="s", url="https://example.org/feed", config_url="https://example.org/feed"
    )
    store.save_state(dataclasses.replace(state, dropped_items=4_900))
    assert store.get_state("s") == dataclasses.replace(state, dropped_items=4_900)
    store.save_states([dataclasses.replace(state, dropped_items=0)])
    assert store.get_state("s") == state


def test_the_page_a_feed_was_discovered_on_is_part_of_the_state(store: Store) -> None:
    state = SourceState(
        name="s", url="https://example.org/feed.xml", config_url="https://example.org/"
    )
    found = dataclasses.replace(state, discovered_from="https://example.org/")
    store.save_state(found)
    assert store.get_state("s") == found
    store.save_states([state])
    assert store.get_state("s") == state


def test_the_schedule_a_check_was_drawn_from_is_part_of_the_state(store: Store) -> None:
    state = SourceState(
        name="s", url="https://example.org/feed", config_url="https://example.org/feed"
    )
    store.save_state(dataclasses.replace(state, schedule="every 1800s"))
    assert store.get_state("s") == dataclasses.replace(state, schedule="every 1800s")
    store.save_states([dataclasses.replace(state, schedule="cron 0 * * * * Asia/Shanghai")])
    assert store.get_state("s") == dataclasses.replace(
        state, schedule="cron 0 * * * * Asia/Shanghai"
    )


def test_version_8_sources_have_no_schedule_after_migration_9(engine: Engine) -> None:
    store_migrations._migrate(engine, MIGRATIONS[:8])
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO sources (name, url, config_url, failures) VALUES ('s', 'u', 'u', 0)"
        )
    store_migrations._migrate(engine, MIGRATIONS)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT schedule FROM sources").scalar_one() is None


def test_version_4_database_keeps_its_slugs_through_migration_5(
    db_url: str, engine: Engine
) -> None:
    store_migrations._migrate(engine, MIGRATIONS[:4])
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO posts (key, source, category, title, link, published, updated,"
            " content_html, tags, slug, content_hash, dated, first_seen, revision,"
            " published_revision) VALUES ('old', 's', 'c', 't', 'l', '2021-12-26 08:30:15',"
            " '2021-12-26 08:30:15', 'x', '[]', 'same', 'h', true, '2021-12-26 08:30:15', 1, 1)"
        )
    opened = open_store(db_url)
    try:
        opened.upsert_posts(
            [make_post("new", slug="same", published=T0 - timedelta(days=9))], now=T0
        )
        opened.settle_slugs()
        assert opened.get_post("old").slug == "same"  # type: ignore[union-attr]
        assert opened.get_post("new").slug == "same-2"  # type: ignore[union-attr]
        assert opened.full_text_pending("s") == []
    finally:
        opened.close()


def test_posts_stored_after_slugs_are_settled_wait_for_the_next_publish(store: Store) -> None:
    # A daemon's round stores posts while a publish runs: those stored after the
    # publish settled slugs are not written under a slug that may still move.
    store.upsert_posts([make_post("a", slug="same")], now=T0)
    store.settle_slugs()
    store.upsert_posts([make_post("b", slug="same", published=T0 - timedelta(hours=1))], now=T0)
    assert [p.key for p in store.pending()] == ["a"]
    assert [key for key, _ in store.pending_revisions()] == ["a"]
    assert [p.key for batch in store.iter_posts() for p in batch] == ["a"]
    assert store.count_pending() == 1
    # Nor do feeds, pages or archives list it, under a slug that may still move.
    assert [p.key for p in store.recent_posts()] == ["a"]
    assert store.count_posts() == 1 and store.count_posts("tianjinribao") == 1
    assert [p.key for p in store.listed_posts("tianjinribao", offset=0, limit=10)] == ["a"]
    assert [p.key for p in store.posts_with_tags(["news"], limit=10)] == ["a"]
    assert set(store.arrival_positions(["a", "b"])) == {"a"}
    slug_a = store.get_post("a").slug  # type: ignore[union-attr]
    store.settle_slugs()
    assert {p.key for p in store.pending()} == {"a", "b"}
    assert store.get_post("a").slug == slug_a  # type: ignore[union-attr]  # settled: kept


def test_version_5_posts_keep_their_keys_and_wait_to_be_claimed(
    db_url: str, engine: Engine
) -> None:
    store_migrations._migrate(engine, MIGRATIONS[:5])
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO posts (key, source, category, title, link, published, updated,"
            " content_html, tags, slug, content_hash, dated, first_seen, revision,"
            " published_revision, canonical_link, text_hash, raw_hash) VALUES ('old', 's',"
            " 'c', 't', 'https://e.org/p#1', '2021-12-26 08:30:15', '2021-12-26 08:30:15',"
            " 'x', '[]', 'same', 'h', true, '2021-12-26 08:30:15', 1, 1, 'https://e.org/p',"
            " '', 'r5')"
        )
    opened = open_store(db_url)
    try:
        assert stored_version(engine) == len(MIGRATIONS)
        (found,) = opened.identities(legacy_keys=["old"])  # by its key: the old formula's
        assert (found.key, found.identity_key, found.legacy_key) == ("old", "", "old")
        assert found.link == "https://e.org/p#1"
        assert opened.identities(keys=["new"]) == []
        # An item claims it with an unchanged body: no new revision, the claim is kept.
        post = opened.get_post("old")
        assert post is not None and (post.identity_key, post.legacy_key) == ("", "old")
        claim = dataclasses.replace(post, identity_key="new", raw_hash="r6")
        assert opened.upsert_posts([claim], now=T0).unchanged == 1
        (found,) = opened.identities(keys=["new"])
        assert (found.key, found.identity_key) == ("old", "new")
        after = opened.get_post("old")
        assert after is not None and after.revision == 1 and after.raw_hash == "r6"
        # A post read back that knows no claim (full text) keeps the row's.
        unknown = dataclasses.replace(after, identity_key="", legacy_key="", content_hash="h2")
        assert opened.upsert_posts([unknown], now=T0).updated == ("old",)
        (found,) = opened.identities(keys=["new"])
        assert (found.identity_key, found.legacy_key) == ("new", "old")
    finally:
        opened.close()


def test_identities_are_found_by_key_claim_legacy_key_link_and_text(store: Store) -> None:
    store.upsert_posts(
        [
            make_post("k1", legacy_key="g", canonical_link="https://e.org/1", text_hash="t1"),
            make_post("k2", source="other", identity_key="c2"),
            make_post("k3", text_hash="t3"),
            make_post("k4", canonical_link="https://e.org/4"),
            make_post("k5"),
        ],
        now=T0,
    )

    def found(**kwargs: list[str]) -> list[str]:
        return sorted(s.key for s in store.identities(**kwargs))

    assert found(keys=["k5", "c2"]) == ["k2", "k5"]  # k2 by the key that claimed it
    assert found(legacy_keys=["g", "k3"]) == ["k1", "k3"]  # by legacy key, or key
    assert found(links=["https://e.org/4"], text_hashes=["t3"]) == ["k3", "k4"]
    assert found(keys=[""], legacy_keys=[""]) == []
    (k1,) = store.identities(legacy_keys=["g"])
    assert (k1.identity_key, k1.legacy_key, k1.link) == ("k1", "g", "https://example.org/k1")


# ---------------------------------------------------------------- authors


def test_author_is_stored_and_read_back_by_every_reader(store: Store) -> None:
    store.upsert_posts(
        [make_post("a", author="王五"), make_post("b"), make_post("c", author='O\'Brien "Al"')],
        now=T0,
    )
    store.settle_slugs()
    want = {"a": "王五", "b": None, "c": 'O\'Brien "Al"'}
    assert {p.key: p.author for p in store.pending()} == want
    assert {p.key: p.author for p in store.recent_posts()} == want
    assert {p.key: p.author for batch in store.iter_posts() for p in batch} == want
    assert {p.key: p.author for p in store.get_posts(["a", "b", "c"])} == want
    assert store.get_post("a") == make_post("a", author="王五", revision=1)


def test_author_alone_changed_is_kept_without_a_new_revision(store: Store) -> None:
    store.upsert_posts([make_post("a")], now=T0)
    store.mark_published([("a", 1)])
    result = store.upsert_posts([make_post("a", author="Jane Doe", raw_hash="r2")], now=T0)
    assert result.unchanged == 1 and not result.updated
    post = store.get_post("a")
    assert post is not None and post.author == "Jane Doe" and post.revision == 1
    assert post.raw_hash == "r2" and store.pending() == []
    # A real edit carries the author along with it.
    store.upsert_posts([make_post("a", author="J. Doe", content_hash="edited")], now=T0)
    post = store.get_post("a")
    assert post is not None and post.author == "J. Doe" and post.revision == 2


def test_version_5_database_gains_authors_and_keeps_its_posts_published(
    db_url: str, engine: Engine
) -> None:
    authors_step = MIGRATIONS.index(store_migrations._authors_v7)
    store_migrations._migrate(engine, MIGRATIONS[:authors_step])
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO posts (key, source, category, title, link, published, updated,"
            " content_html, tags, slug, content_hash, dated, first_seen, revision,"
            " published_revision) VALUES ('old', 's', 'c', 't', 'l', '2021-12-26 08:30:15',"
            " '2021-12-26 08:30:15', 'x', '[]', 'same', 'h', true, '2021-12-26 08:30:15', 1, 1)"
        )
    opened = open_store(db_url)
    try:
        old = opened.get_post("old")
        assert old is not None and old.author is None
        # The item normalized again names its author: stored, nothing to republish.
        opened.upsert_posts([dataclasses.replace(old, author="王五", raw_hash="new")], now=T0)
        again = opened.get_post("old")
        assert again is not None and again.author == "王五" and again.revision == 1
        assert opened.pending() == []
    finally:
        opened.close()


def test_the_id_base_is_the_first_one_given_and_survives_a_migrated_database(
    db_url: str, engine: Engine
) -> None:
    site_step = MIGRATIONS.index(store_migrations._site_v8)
    store_migrations._migrate(engine, MIGRATIONS[:site_step])
    opened = open_store(db_url)  # a site published before: no id base kept yet
    try:
        assert opened.id_base("https://old.example.org/planet/") == (
            "https://old.example.org/planet/"
        )
    finally:
        opened.close()
    reopened = open_store(db_url)
    try:
        # The site moved: its ids stay those of the base its first publish kept.
        assert reopened.id_base("https://new.example.org/") == "https://old.example.org/planet/"
    finally:
        reopened.close()


def test_retag_gives_a_sources_posts_its_tags_as_a_new_revision(store: Store) -> None:
    store.upsert_posts([make_post("a"), make_post("b", source="other")], now=T0)
    store.settle_slugs()
    store.mark_published(store.pending_revisions())

    def rehash(post: Post) -> Post:
        return dataclasses.replace(post, content_hash="re-" + ",".join(post.tags))

    wanted = {"天津日报": ("Tianjin",), "gone": ("x",)}
    assert store.retag(wanted, rehash) == 1
    [post] = store.pending()
    assert (post.key, post.tags, post.content_hash) == ("a", ("Tianjin",), "re-Tianjin")
    assert post.updated == T0  # no edit of the story
    assert store.retag(wanted, rehash) == 0  # already so: nothing moves
    other = {p.key: p for p in store.recent_posts()}["b"]
    assert other.tags == ("天津日报新闻", "news")  # a source not named keeps its tags


def test_category_titles_are_kept_after_their_category_goes(store: Store) -> None:
    assert store.category_titles({"news": "News", "tech": "Tech"}) == {
        "news": "News",
        "tech": "Tech",
    }
    assert store.category_titles({"news": "Headlines"}) == {"news": "Headlines", "tech": "Tech"}
    assert store.category_titles({}) == {"news": "Headlines", "tech": "Tech"}


# ------------------------------------------------------------------ WebSub subscriptions


def subscription(source: str = "a", **changes: object) -> Subscription:
    made = Subscription(
        source=source,
        hub="https://hub.example/",
        topic=f"https://example.org/{source}.xml",
        callback_id=f"cb-{source}",
        secret=f"secret-{source}",
        requested=T0,
        retry_at=T0 + timedelta(hours=1),
    )
    return dataclasses.replace(made, **changes)  # type: ignore[arg-type]


def test_a_subscription_is_kept_replaced_and_found_by_its_callback(store: Store) -> None:
    first = subscription("b")
    store.put_subscription(first)
    store.put_subscription(subscription("a"))
    assert [s.source for s in store.subscriptions()] == ["a", "b"]
    assert store.subscription("cb-b") == first
    assert store.subscription("nope") is None

    moved = subscription("b", hub="https://other.example/", callback_id="cb-b2", secret="s2")
    store.put_subscription(moved)  # a new hub: a new callback, the old one gone
    assert store.subscription("cb-b") is None
    assert store.subscription("cb-b2") == moved


def test_an_update_changes_only_the_fields_it_names(store: Store) -> None:
    store.put_subscription(subscription("a"))
    until = T0 + timedelta(days=10)
    assert store.update_subscription(
        "cb-a", state="live", lease_until=until, lease_seconds=864000, last_error=None
    )
    live = store.subscription("cb-a")
    assert live is not None
    assert (live.state, live.lease_until, live.lease_seconds) == ("live", until, 864000)
    assert live.live(T0) and not live.live(until)
    assert (live.requested, live.secret) == (T0, "secret-a")
    assert not store.update_subscription("cb-gone", state="failed")
    with pytest.raises(ValueError, match="callback_id"):
        store.update_subscription("cb-a", callback_id="x")


def test_one_caller_marks_a_request_as_its_own(store: Store) -> None:
    store.put_subscription(subscription("a", requested=None))
    later = T0 + timedelta(minutes=1)
    assert store.mark_requested("cb-a", was=None, at=T0, retry_at=later)
    assert not store.mark_requested("cb-a", was=None, at=T0, retry_at=later)  # taken
    assert store.mark_requested("cb-a", was=T0, at=later, retry_at=later)
    found = store.subscription("cb-a")
    assert found is not None and (found.requested, found.retry_at) == (later, later)
    assert not store.mark_requested("cb-gone", was=None, at=T0, retry_at=later)


def test_pushes_wait_in_arrival_order_until_deleted(store: Store) -> None:
    store.put_subscription(subscription("a"))
    store.put_subscription(subscription("b"))
    assert not store.has_pushes()
    body = bytes(range(256)) * 4  # any bytes: a feed in any encoding
    assert store.add_push("cb-b", body=body, content_type="application/rss+xml", received=T0)
    assert store.add_push("cb-a", body=b"<feed/>", content_type=None, received=T0)
    assert not store.add_push("cb-unknown", body=b"x", content_type=None, received=T0)
    assert store.has_pushes()
    first, second = store.pushes()
    assert (first.source, first.callback_id, first.body, first.received) == ("b", "cb-b", body, T0)
    assert first.content_type == "application/rss+xml"
    assert (second.source, second.content_type) == ("a", None)
    assert [p.id for p in store.pushes(limit=1)] == [first.id]

    store.delete_pushes([first.id])
    assert [p.id for p in store.pushes()] == [second.id]
    store.delete_subscription("a")  # its waiting pushes with it
    assert store.pushes() == [] and not store.has_pushes()
    assert [s.source for s in store.subscriptions()] == ["b"]


def test_posts_read_by_result_are_those_read_row_by_row(store: Store, engine: Engine) -> None:
    # posts_from_rows finds each column by name once per result: in any order, with
    # columns added, it reads what post_from_row reads by name from each row.
    from aggregator.store.rows import post_from_row, posts_from_rows

    stored = [
        make_post("a", tags=("x", "雨"), author="王五", dated=False),
        make_post("b", published=T0.astimezone(SHANGHAI), author=None),
        make_post("c", content_html="<p>c</p>" * 500, canonical_link="https://ex.org/c"),
    ]
    store.upsert_posts(stored, now=T0)
    table = store_schema.posts
    columns = [*reversed(table.columns), table.c.key.label("again"), sa.literal(1).label("n")]
    query = sa.select(*columns).order_by(table.c.key)
    with engine.connect() as conn:
        by_result = posts_from_rows(conn.execute(query))
        by_row = [post_from_row(row) for row in conn.execute(query)]
    assert by_result == by_row
    assert [p.key for p in by_result] == ["a", "b", "c"]
    assert by_result[0].tags == ("x", "雨") and by_result[0].author == "王五"
    assert by_result[1].published == T0 and by_result[1].author is None
    assert by_result[2].canonical_link == "https://ex.org/c"
    assert by_result == store.get_posts(["a", "b", "c"])
