"""Nodes of one PostgreSQL store (aggregator/store/nodes.py, aggregator/update/node.py):
claims that never give one source to two nodes, the per-host limit across nodes, saves
that only the lease holder makes, the publish lock, posts reconciled under the writers'
lock; and two Updaters as two nodes on one store, fetching each source once. Real
PostgreSQL databases and a real loopback feed server; the daemons themselves are
tests/test_nodes.py's."""

from __future__ import annotations

import asyncio
import dataclasses
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import builders
import pytest
import sqlalchemy as sa
from builders import UTF8_PROLOG, rss_item, site_section, timeouts
from httpserver import FeedServer
from pgdatabase import PG_MISSING, PG_URL, emptied, new_database

from aggregator.cluster import Candidate, NodeRecord, NodeSettings
from aggregator.config import load_config
from aggregator.errors import StoreError
from aggregator.normalize.dedupe import reconcile
from aggregator.store import Store, open_store
from aggregator.store.claims import CLAIMS
from aggregator.types import Post, Source, SourceState
from aggregator.update import Updater
from aggregator.update.node import Node

pytestmark = [pytest.mark.postgres, pytest.mark.skipif(not PG_URL, reason=PG_MISSING)]

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
LEASE = timedelta(seconds=60)


@pytest.fixture(scope="module")
def pg_database() -> Iterator[str]:
    with new_database() as url:
        yield url


@pytest.fixture
def url(pg_database: str) -> str:
    return emptied(pg_database)


@pytest.fixture
def stores(url: str) -> Iterator[list[Store]]:
    """Two stores on one database: two processes' views of it."""
    opened = [open_store(url), open_store(url)]
    yield opened
    for store in opened:
        store.close()


def candidates(n: int, *, hosts: int = 1) -> list[Candidate]:
    return [
        Candidate(name=f"s{i:03}", host=f"h{i % hosts}", url=f"http://h{i % hosts}/{i}")
        for i in range(n)
    ]


def claim(store: Store, node: str, cands: list[Candidate], **kw: object) -> list[str]:
    args: dict[str, object] = {"now": T0, "until": T0 + LEASE, "limit": 100, "per_host": 100}
    args.update(kw)
    return store.claim_sources(node, cands, **args)  # type: ignore[arg-type]


def state(c: Candidate, *, next_check: datetime | None = None, **more: object) -> SourceState:
    values: dict[str, object] = {
        "name": c.name,
        "url": c.url,
        "config_url": c.url,
        "last_fetched": T0,
        "next_check": next_check or T0 + timedelta(hours=1),
    }
    values.update(more)
    return SourceState(**values)  # type: ignore[arg-type]


def record(node: str, **more: object) -> NodeRecord:
    values: dict[str, object] = {"host": "box", "pid": 1, "started": T0, "heartbeat": T0}
    values.update(more)
    return NodeRecord(id=node, **values)  # type: ignore[arg-type]


# ------------------------------------------------------------------ claims


def test_two_nodes_claiming_at_once_never_share_a_source(stores: list[Store]) -> None:
    cands = candidates(400, hosts=10)
    got: dict[str, list[str]] = {}
    start = threading.Barrier(2)

    def node(store: Store, name: str) -> None:
        start.wait()
        mine: list[str] = []
        while batch := claim(store, name, cands, limit=17):
            mine += batch
        got[name] = mine

    threads = [
        threading.Thread(target=node, args=(s, n)) for s, n in zip(stores, "ab", strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not set(got["a"]) & set(got["b"])
    assert sorted(got["a"] + got["b"]) == sorted(c.name for c in cands)
    assert got["a"] and got["b"]  # both found work
    held = stores[0].leases_held()
    assert {n for n, lease in held.items() if lease.node == "a"} == set(got["a"])
    assert all(lease.until == T0 + LEASE for lease in held.values())


def test_per_host_limit_counts_every_nodes_leases(stores: list[Store]) -> None:
    a, b = stores
    cands = candidates(30, hosts=3)
    first = claim(a, "a", cands, per_host=2)
    assert len(first) == 6  # 2 of each host
    assert claim(b, "b", cands, per_host=2) == []  # the hosts are full, whoever asks
    more = claim(b, "b", cands, per_host=3)
    assert len(more) == 3 and {int(n[1:]) % 3 for n in more} == {0, 1, 2}
    # A save gives the lease back: the host has room again.
    a.save_leased_states([state(c) for c in cands if c.name == first[0]], node="a")
    again = claim(b, "b", cands, per_host=3)
    assert len(again) == 1 and int(again[0][1:]) % 3 == int(first[0][1:]) % 3


def test_only_due_sources_are_claimed_and_the_most_overdue_first(stores: list[Store]) -> None:
    store = stores[0]
    cands = candidates(5)
    c0, c1, c2, c3, _never_fetched = cands
    store.save_states(
        [
            state(c0, next_check=T0 + timedelta(minutes=5)),  # not due
            state(c1, next_check=T0 - timedelta(minutes=1)),
            state(c2, next_check=T0 - timedelta(hours=2)),  # the most overdue
            state(c3, next_check=T0 - timedelta(hours=1), disabled="gone"),  # disabled
            # c4 never fetched: due, first of all
        ]
    )
    assert claim(store, "a", cands) == ["s001", "s002", "s004"]  # in the order given
    assert claim(store, "a", cands, limit=1) == []
    store.release_sources("a", ["s001", "s002", "s004"])
    assert claim(store, "b", cands, limit=2) == ["s002", "s004"]  # never fetched, then oldest
    # --all: every source not held, due or not (a disabled one too: the caller filters).
    assert claim(store, "b", cands, every=True) == ["s000", "s001", "s003"]


def test_a_claim_without_names_takes_any_due_synced_source(stores: list[Store]) -> None:
    a, b = stores
    cands = candidates(6)
    assert a.sync_leases(cands) == 0
    a.save_states([state(cands[0])])  # fetched: not due for an hour
    got = a.claim_sources("a", None, now=T0, until=T0 + LEASE, limit=3, per_host=9)
    assert len(got) == 3 and "s000" not in got
    rest = b.claim_sources("b", None, now=T0, until=T0 + LEASE, limit=9, per_host=9, skip=["s005"])
    assert sorted(got + rest) == ["s001", "s002", "s003", "s004"]
    # A source gone from the config loses its row, unless a node holds it now.
    assert a.sync_leases([c for c in cands if c.name not in ("s005", got[0])]) == 1
    assert "s005" not in {
        r for r in a.claim_sources("a", None, now=T0, until=T0, limit=9, per_host=9)
    }
    held = a.leases_held()
    assert got[0] in held  # still held: its row stays until it is given back


def test_a_node_claiming_without_names_keeps_its_own_and_gives_back_the_rest(
    stores: list[Store],
) -> None:
    a, _ = stores
    cands = candidates(8)
    a.sync_leases(cands)  # another node's config: eight sources
    node = Node(a, NodeSettings(id="a", lease=60), per_host=100, clock=lambda: T0)
    mine = [
        Source(name=c.name, url=c.url, category="news", tags=(), interval=LEASE)
        for c in cands
        if c.name in ("s005", "s006")
    ]
    others: set[str] = set()
    # The most overdue first (never fetched: by name): s000..s004 are not this node's.
    got = node.claim(mine, limit=5, named=False, unknown=others)
    assert got == [] and others == {"s000", "s001", "s002", "s003", "s004"}
    assert a.leases_held() == {}  # given back at once
    got = node.claim(mine, limit=5, named=False, skip=sorted(others), unknown=others)
    assert [s.name for s in got] == ["s005", "s006"]
    assert others == {"s000", "s001", "s002", "s003", "s004", "s007"}
    assert set(a.leases_held()) == {"s005", "s006"}


def test_a_moved_source_is_due_until_its_new_url_is_fetched(stores: list[Store]) -> None:
    store = stores[0]
    (c,) = candidates(1)
    store.save_states([state(c)])  # fetched, next check in an hour
    assert claim(store, "a", [c]) == []
    moved = dataclasses.replace(c, url="http://h0/moved")
    assert claim(store, "a", [moved]) == [c.name]
    store.save_leased_states([state(moved)], node="a")  # fetched at its new URL
    assert claim(store, "b", [moved]) == []


def test_a_claim_follows_every_write_of_a_source_state(stores: list[Store], url: str) -> None:
    # The claim reads when each source is due from its lease row, which the database keeps
    # in step with the source's state: saves before and after the row exists, a
    # reschedule, `sources enable`/disable (save_state), a state forgotten.
    a, _ = stores
    c0, c1, c2, c3 = candidates(4)
    a.save_states([state(c0, next_check=T0 - timedelta(minutes=1))])  # before its lease row
    assert claim(a, "a", [c0, c1]) == ["s000", "s001"]  # due; never fetched
    a.save_leased_states([state(c0), state(c1)], node="a")  # next checks in an hour
    assert claim(a, "a", [c0, c1, c2]) == ["s002"]
    later = state(c0, next_check=T0 - timedelta(seconds=1))
    assert a.reschedule(later, fetched=T0)
    assert claim(a, "b", [c0, c1]) == ["s000"]
    a.release_sources("b", ["s000"])
    a.save_state(state(c0, next_check=T0 - timedelta(hours=1), disabled="gone"))
    assert claim(a, "b", [c0, c1]) == []  # disabled: never due
    assert claim(a, "b", [c0, c1], every=True) == ["s000", "s001"]  # --all: any
    a.release_sources("b", ["s000", "s001"])
    a.save_state(state(c0, next_check=T0 - timedelta(hours=1)))  # enabled again
    assert claim(a, "b", [c0, c1]) == ["s000"]
    a.release_sources("b", ["s000"])
    a.save_states([state(c3, next_check=T0 + timedelta(hours=1))])
    assert claim(a, "b", [c3]) == []
    engine = sa.create_engine(url)
    with engine.begin() as conn:  # an operator's own DELETE
        conn.exec_driver_sql("DELETE FROM sources WHERE name = 's003'")
    engine.dispose()
    assert claim(a, "b", [c3]) == ["s003"]  # no state: as never fetched


def test_a_claim_reads_in_due_order_whatever_the_number_of_sources(url: str) -> None:
    # 5,000 sources, 3 of them due: the claim reads the free rows through ix_leases_free_due up
    # to the first source not due, not every source's row.
    store = open_store(url)
    try:
        cands = candidates(5000, hosts=50)
        store.sync_leases(cands)
        store.save_states(
            [
                state(c, next_check=T0 + timedelta(hours=1 if i >= 3 else -1))
                for i, c in enumerate(cands)
            ]
        )
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE leases")
        params = {"names": [], "skip": [], "now": T0, "due_by": T0, "until": T0 + LEASE}
        params |= {"node": "a", "scan": 200, "per_host": 9, "limit": 50}
        with engine.connect() as conn, conn.begin() as tx:
            claim_sql = CLAIMS[False, False]
            explain = sa.text(f"EXPLAIN (ANALYZE, FORMAT JSON) {claim_sql.text}")
            (plan,) = conn.execute(
                explain.bindparams(*claim_sql._bindparams.values()), params
            ).scalar_one()
            tx.rollback()
        engine.dispose()
        scans = [
            (p["Node Type"], p.get("Index Name"), p["Actual Rows"])
            for p in _plan_nodes(plan["Plan"])
            if p.get("Relation Name") == "leases" and p["Node Type"] != "ModifyTable"
        ]
        # The free rows by the due index (3 due), the held ones by the node index (none),
        # no scan of every row.
        assert sorted(scans) == [
            ("Index Scan", "ix_leases_free_due", 3),
            ("Index Scan", "ix_leases_node", 0),
            ("Index Scan", "leases_pkey", 1),  # the chosen ones by key: locked,
            ("Index Scan", "leases_pkey", 1),  # then taken
        ]
        assert (
            len(store.claim_sources("a", None, now=T0, until=T0 + LEASE, limit=50, per_host=9)) == 3
        )
    finally:
        store.close()


def test_a_version_14_database_keeps_its_due_times_through_migration_15(url: str) -> None:
    from aggregator.store import MIGRATIONS
    from aggregator.store import migrations as store_migrations

    engine = sa.create_engine(url)
    store_migrations._migrate(engine, MIGRATIONS[:14])
    with engine.begin() as conn:
        for name, next_check, disabled in (
            ("due", "2026-03-01 11:00:00+00", None),
            ("later", "2026-03-01 13:00:00+00", None),
            ("off", "2026-03-01 11:00:00+00", "gone"),
        ):
            conn.exec_driver_sql(
                "INSERT INTO sources (name, url, config_url, failures, next_check, disabled)"
                " VALUES (%(n)s, %(u)s, %(u)s, 0, %(t)s, %(d)s)",
                {"n": name, "u": f"http://h/{name}", "t": next_check, "d": disabled},
            )
        for name in ("due", "later", "off", "new"):
            conn.exec_driver_sql(
                "INSERT INTO leases (source, host, url) VALUES (%(n)s, 'h', %(u)s)",
                {"n": name, "u": f"http://h/{name}"},
            )
    engine.dispose()
    store = open_store(url)
    try:
        got = store.claim_sources("a", None, now=T0, until=T0 + LEASE, limit=9, per_host=9)
        assert got == ["new", "due"]  # never fetched first, then the overdue; not the others
    finally:
        store.close()


def _plan_nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", ()):
        yield from _plan_nodes(child)


def test_an_expired_lease_is_claimed_by_another_node(stores: list[Store]) -> None:
    a, b = stores
    cands = candidates(3)
    assert len(claim(a, "a", cands)) == 3
    assert claim(b, "b", cands) == []
    later = T0 + LEASE + timedelta(seconds=1)
    assert claim(b, "b", cands, now=later, until=later + LEASE) == [c.name for c in cands]


def test_a_claim_never_waits_for_a_node_renewing_its_leases(stores: list[Store], url: str) -> None:
    # a's leases ran out, and a renews two of them while b claims: b takes the two others
    # at once, never waiting for a's transaction (a claim that waited could deadlock with
    # the renewal, which then failed and left a's sources to be fetched twice).
    a, b = stores
    cands = candidates(4)
    a.sync_leases(cands)
    assert len(a.claim_sources("a", None, now=T0, until=T0 + LEASE, limit=9, per_host=9)) == 4
    later = T0 + LEASE + timedelta(seconds=1)
    engine = sa.create_engine(url)
    got: list[str] = []
    try:
        with engine.connect() as conn, conn.begin() as tx:
            conn.execute(
                sa.text("UPDATE leases SET until = :u WHERE source IN ('s000', 's001')"),
                {"u": later + LEASE},
            )
            worker = threading.Thread(
                target=lambda: got.extend(
                    b.claim_sources("b", None, now=later, until=later + LEASE, limit=9, per_host=9)
                )
            )
            worker.start()
            worker.join(10)
            assert not worker.is_alive(), "the claim waited for the renewal"
            tx.rollback()
    finally:
        engine.dispose()
    assert sorted(got) == ["s002", "s003"]


def test_a_state_is_saved_only_by_the_node_holding_its_lease(stores: list[Store]) -> None:
    a, b = stores
    c0, c1 = candidates(2)
    assert claim(a, "a", [c0, c1]) == ["s000", "s001"]
    later = T0 + LEASE + timedelta(seconds=1)
    assert claim(b, "b", [c1], now=later, until=later + LEASE) == ["s001"]  # a's ran out
    saved = a.save_leased_states([state(c0, feed_title="a0"), state(c1, feed_title="a1")], node="a")
    assert saved.lost == ("s001",) and not saved.refused
    assert (a.get_state("s000") or state(c0)).feed_title == "a0"
    assert a.get_state("s001") is None  # b's fetch stands, a's is not written
    saved = b.save_leased_states([state(c1, feed_title="b1")], node="b")
    assert saved.lost == () and (a.get_state("s001") or state(c1)).feed_title == "b1"
    assert a.leases_held() == {}  # each save gave its lease back


def test_a_refused_state_keeps_its_lease_and_no_other_out(stores: list[Store]) -> None:
    store = stores[0]
    c0, c1 = candidates(2)
    claim(store, "a", [c0, c1])
    saved = store.save_leased_states([state(c0, last_error="bad \x00 byte"), state(c1)], node="a")
    assert list(saved.refused) == ["s000"] and saved.lost == ()
    assert store.get_state("s001") is not None
    assert set(store.leases_held()) == {"s000"}  # still a's: its fallback can be saved


def test_heartbeat_renews_join_and_leave_release(stores: list[Store]) -> None:
    a, b = stores
    cands = candidates(4)
    a.join_node(record("a"))
    claim(a, "a", cands)
    later = T0 + timedelta(seconds=50)
    assert a.node_heartbeat(record("a", heartbeat=later, rounds=3), until=later + LEASE) == 4
    after_first_lease = T0 + LEASE + timedelta(seconds=1)
    assert claim(b, "b", cands, now=after_first_lease) == []  # renewed: still a's
    (row,) = b.node_records()
    assert (row.id, row.rounds, row.leases, row.heartbeat, row.stopped) == ("a", 3, 4, later, None)
    assert a.leave_node(record("a", stopped=later)) == 4
    assert b.leases_held() == {}
    assert b.node_records()[0].stopped == later
    # A node restarted under its configured id gets back none of its old leases' hold.
    claim(a, "a", cands)
    assert a.join_node(record("a")) == 4 and a.leases_held() == {}
    # Nodes long gone are forgotten when one joins, unless they still hold a lease.
    b.join_node(record("old", heartbeat=T0 - timedelta(days=3)))
    b.join_node(record("holder", heartbeat=T0 - timedelta(days=3)))
    claim(b, "holder", cands[:1])
    b.join_node(record("b", heartbeat=T0), forget_before=T0 - timedelta(days=1))
    assert [r.id for r in b.node_records()] == ["a", "b", "holder"]


# ------------------------------------------------------------------ publishing


def test_one_node_at_a_time_holds_the_publish_lock(stores: list[Store], url: str) -> None:
    a, b = stores
    with a.publishing() as first, b.publishing() as second:
        assert (first, second) == (True, False)
    with b.publishing() as now_b:
        assert now_b
    # A holder that dies (SIGKILL: no unlock) frees it: the server ends its session.
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from aggregator.store import open_store\n"
            "with open_store(sys.argv[1]).publishing() as ours:\n"
            "    print(ours, flush=True); time.sleep(60)\n",
            url,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "True"
        with a.publishing() as while_held:
            assert not while_held
        holder.kill()
        holder.wait(10)
        for _ in range(50):
            with a.publishing() as after:
                if after:
                    break
            threading.Event().wait(0.1)
        assert after
    finally:
        holder.kill()
        holder.wait(10)
        if holder.stdout is not None:
            holder.stdout.close()


def test_sqlite_is_one_process_and_says_so(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'one.db'}")
    try:
        assert not store.shared
        with store.publishing() as ours:
            assert ours
        with pytest.raises(StoreError, match="several nodes need a PostgreSQL store"):
            store.claim_sources("a", candidates(1), now=T0, until=T0, limit=1, per_host=1)
        assert store.node_records() == [] and store.leases_held() == {}
    finally:
        store.close()


# ------------------------------------------------------------------ posts


def story(source: str, n: int) -> Post:
    """Story `n` as two sources of one category carry it (one link, two guids)."""
    return Post(
        key=f"{source}:story-{n}",
        source=source,
        category="news",
        title="One story",
        link=f"https://news.example/story-{n}",
        canonical_link=f"https://news.example/story-{n}",
        published=T0,
        updated=T0,
        content_html="<p>Told twice</p>",
        tags=("news",),
        slug="one-story",
        content_hash="h",
        text_hash=f"t-{source}",
        identity_key=f"{source}:story-{n}",
        legacy_key=f"{source}:story-{n}",
    )


@pytest.mark.parametrize(("mode", "posts"), [("link", 1), ("off", 2)])
def test_two_nodes_storing_one_story_make_the_posts_dedupe_says(
    stores: list[Store], mode: str, posts: int
) -> None:
    def write(store: Store, source: str, start: threading.Barrier, n: int) -> None:
        start.wait()
        store.upsert_posts(
            [story(source, n)],
            now=T0,
            reconcile=lambda ps, stored: reconcile(ps, stored, dedupe={"news": mode}),
        )

    # Each node reads the identities and writes in one step, at the same moment as the
    # other: reading first and writing after (as one node may) made 40 posts of 20 stories.
    for attempt in range(20):
        start = threading.Barrier(2)
        threads = [
            threading.Thread(target=write, args=(s, name, start, attempt))
            for s, name in zip(stores, "ab", strict=True)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    stores[0].settle_slugs()
    links = [p.link for p in stores[0].pending()]
    assert len(links) == 20 * posts
    assert all(links.count(f"https://news.example/story-{n}") == posts for n in range(20))


# ------------------------------------------------------------------ updaters


def feed(n: int) -> bytes:
    item = rss_item(
        title=f"Item {n}",
        link=f"http://example.org/{n}",
        guid=f"item-{n}",
        pub_date="Wed, 01 May 2024 08:00:00 GMT",
        description=f"item {n}",
    )
    return builders.rss(item, title=f"Feed {n}", link="http://example.org/", prolog=UTF8_PROLOG)


def test_two_updaters_as_two_nodes_fetch_each_source_once(tmp_path: Path, url: str) -> None:
    with FeedServer() as server:
        for n in range(60):
            server.add(f"/f{n}.rss", feed(n), etag=True, delay=0.02)
        path = builders.write_config(
            tmp_path,
            [
                {"name": f"s{n}", "url": server.url(f"/f{n}.rss"), "category": "news"}
                for n in range(60)
            ],
            site=site_section("t"),
            database=url,
            fetch=timeouts("10s", "10s", "20s") | {"per_host": 4, "concurrency": 8},
        )
        config = load_config(path)
        opened = [open_store(url), open_store(url)]
        try:
            nodes = [
                Node(s, NodeSettings(id=name, lease=30), per_host=4)
                for s, name in zip(opened, ("n1", "n2"), strict=True)
            ]
            for node in nodes:
                node.join()
            reports = {}
            start = threading.Barrier(2)

            def run(store: Store, node: Node) -> None:
                updater = Updater(config, store, node=node)
                due = updater.due_sources()
                start.wait()
                reports[node.id] = asyncio.run(updater.run_round(due))

            threads = [
                threading.Thread(target=run, args=pair) for pair in zip(opened, nodes, strict=True)
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join(120)
            fetched = [o.name for r in reports.values() for o in r.outcomes]
            assert sorted(fetched) == sorted(f"s{n}" for n in range(60))  # each once
            assert all(len(server.requests(f"/f{n}.rss")) == 1 for n in range(60))
            assert server.max_in_flight <= 4  # per_host across both nodes
            opened[0].settle_slugs()
            assert opened[0].count_pending() == 60
            assert opened[0].leases_held() == {}
            for node in nodes:
                node.leave()
            records = {r.id: r for r in opened[0].node_records()}
            assert sum(r.fetched for r in records.values()) == 60
            assert all(r.stopped is not None and r.rounds == 1 for r in records.values())
        finally:
            for s in opened:
                s.close()


def test_a_node_with_nothing_due_reads_no_state_until_something_is(
    tmp_path: Path, url: str
) -> None:
    # A daemon asks what is due every second: on a shared store, once its config's lease
    # rows are made, that is one indexed read of the lease rows, not of every state.
    with FeedServer() as server:
        for n in range(3):
            server.add(f"/f{n}.rss", feed(n), etag=True)
        sources = [
            {"name": f"s{n}", "url": server.url(f"/f{n}.rss"), "category": "news"} for n in range(3)
        ]
        path = builders.write_config(
            tmp_path,
            sources,
            site=site_section("t"),
            database=url,
            fetch=timeouts("2s", "2s", "5s"),
        )
        config = load_config(path)
        store = open_store(url)
        statements: list[str] = []
        sa.event.listen(store._engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
        try:
            node = Node(store, NodeSettings(id="n1", lease=30), per_host=4)
            node.join()
            updater = Updater(config, store, node=node)
            due = updater.due_sources()
            assert [s.name for s in due] == ["s0", "s1", "s2"]  # never fetched
            report = asyncio.run(updater.run_round(due))
            assert len(report.outcomes) == 3
            statements.clear()
            assert updater.due_sources() == []  # fetched: due again in an hour or more
            assert statements and not [q for q in statements if "FROM sources" in q]
            (s1,) = store.get_states(["s1"])
            assert store.reschedule(
                dataclasses.replace(s1, next_check=datetime.now(UTC)), fetched=s1.last_fetched
            )
            assert [s.name for s in updater.due_sources()] == ["s1"]
            # --all reads every state, due or not.
            assert len(updater.due_sources(every=True)) == 3
        finally:
            store.close()


# ------------------------------------------------------------------ schema


def test_nodes_starting_together_migrate_once(tmp_path: Path) -> None:
    import sqlalchemy as sa

    from aggregator.store import MIGRATIONS

    opener = (
        "import sys\nfrom aggregator.store import open_store\nopen_store(sys.argv[1]).close()\n"
    )
    with new_database() as fresh:
        procs = [
            subprocess.Popen([sys.executable, "-c", opener, fresh], stderr=subprocess.PIPE)
            for _ in range(4)
        ]
        errors = [p.communicate(timeout=60)[1] for p in procs]
        assert [p.returncode for p in procs] == [0, 0, 0, 0], errors
        engine = sa.create_engine(fresh, poolclass=sa.pool.NullPool)
        try:
            with engine.connect() as conn:
                versions = conn.execute(sa.text("SELECT version FROM schema_version")).all()
                tables = set(sa.inspect(conn).get_table_names())
        finally:
            engine.dispose()
        assert versions == [(len(MIGRATIONS),)]
        assert {"nodes", "leases", "sources", "posts"} <= tables
