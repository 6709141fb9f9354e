"""Several daemons on one PostgreSQL database (issue 15), end to end: real `aggregator run`
processes, a real loopback feed server whose feeds change between fetches, and its request
log read afterwards. Every source is fetched once per due time, whichever node claims it;
a node killed mid-round or restarted in turn leaves its sources to the others within the
lease; two nodes racing on one story make the posts the category's `dedupe` says.

The server tells which daemon asked (FeedServer's `peer`: the process holding the client
side of each connection), so that the tests can show the work was shared and raced on.
"""

from __future__ import annotations

import itertools
import os
import random
import re
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import builders
import pytest
import yaml
from builders import each_minute, site_rss, site_section, timeouts
from clirunner import run_cli, validate_atom
from httpserver import FeedServer, Request
from pgdatabase import PG_MISSING, PG_URL, new_database
from test_daemon import BASE_HOST, Daemon, check_post_file, post_files

from aggregator.schedule import JITTER

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.skipif(not PG_URL, reason=PG_MISSING),
    # One cluster of daemons at a time (pyproject.toml): their leases are seconds long.
    pytest.mark.xdist_group("cluster"),
]

NODES = 3
INTERVAL = 3.0  # seconds between a source's checks, stretched by up to JITTER
LEASE = 5.0  # node.lease: how long a claim lasts unless renewed
TICK = 0.2
# A source's checks are INTERVAL apart at least: the next is drawn after a fetch ends. The
# two clocks (the daemon's wall clock, the server's monotonic one) may differ by a little.
CLOCKS = 0.05
# How late a due check may be beyond its jitter when nothing fails: a source that comes
# due while every node is busy with a round waits for the first to finish it (rounds never
# overlap on one node) and tick. The rounds' own length is read from the nodes' logs (a
# loaded machine makes them longer); this much at least.
LATE = 2.0
# Seconds for the nodes to start and fetch every source once, or to publish what they
# fetched: generous, for a machine shared with other work.
START_TIMEOUT = 90.0
PUBLISH_TIMEOUT = 60.0
SEED = os.environ.get("AGGREGATOR_TEST_SEED", str(time.time_ns()))


# --------------------------------------------------------------------- the feeds


@dataclass(slots=True)
class Feed:
    """One loopback feed: its items (guid -> title) in the order they appeared."""

    name: str
    items: dict[str, str] = field(default_factory=dict)


class ChangingFeeds:
    """Feeds served by `server` at /NAME.rss, each request of which may add an item beside the
    old ones or retitle one, until `freeze()`. An item exists from the first request that
    served it, so the items of all feeds are exactly the items served. The ETag follows the
    body: a request that changes nothing may be answered 304."""

    def __init__(
        self,
        server: FeedServer,
        names: list[str],
        rng: random.Random,
        *,
        new_item: float = 0.5,
        retitle: float = 0.1,
    ) -> None:
        self.server = server
        self.rng = rng
        self.new_item = new_item
        self.retitle = retitle
        self.frozen_at: float | None = None
        self._lock = threading.Lock()
        self._serial = itertools.count(1)
        self.feeds = {name: Feed(name) for name in names}
        for name in names:
            self._add_item(self.feeds[name])
            server.add(f"/{name}.rss", dynamic=self._answer_for(name), etag=True)

    def _add_item(self, feed: Feed) -> None:
        n = next(self._serial)
        feed.items[f"{feed.name}-{n}"] = f"{feed.name} item {n}"

    def _answer_for(self, name: str) -> Callable[[Request], bytes]:
        def answer(request: Request) -> bytes:
            with self._lock:
                feed = self.feeds[name]
                if self.frozen_at is None:
                    if self.rng.random() < self.new_item:
                        self._add_item(feed)
                    if self.rng.random() < self.retitle:
                        guid = self.rng.choice(list(feed.items))
                        feed.items[guid] = f"{name} retitled {next(self._serial)}"
                stories = list(feed.items.items())
            # Each item its own minute, so that a later one is newer in every feed.
            return site_rss(name, stories, dated=each_minute)

        return answer

    def freeze(self) -> None:
        """No more changes: from now on each feed serves what it served last."""
        with self._lock:
            self.frozen_at = time.monotonic()

    def wanted(self) -> dict[str, tuple[str, str]]:
        """Link -> (source, latest title) of every item served."""
        with self._lock:
            return {
                item_link(feed.name, guid): (feed.name, title)
                for feed in self.feeds.values()
                for guid, title in feed.items.items()
            }

    def asked_since_frozen(self) -> bool:
        """Every feed was asked for since `freeze()` (its answer holds all its items)."""
        assert self.frozen_at is not None
        asked = {
            r.path
            for r in self.server.requests()
            if self.frozen_at is not None and r.time > self.frozen_at
        }
        return all(f"/{name}.rss" in asked for name in self.feeds)


def item_link(name: str, guid: str) -> str:
    return f"http://example.org/{name}/{guid}.html"


# --------------------------------------------------------------------- which process asked


def socket_owner(server_port: int, pids: Callable[[], list[int]]) -> Callable[..., int | None]:
    """FeedServer's `peer`: the pid (among `pids()`) holding the client side of a
    connection to `server_port` from 127.0.0.1:PORT, read from /proc (Linux)."""

    def owner(client: tuple[str, int]) -> int | None:
        inode = _socket_inode(client[1], server_port)
        if inode is None:
            return None
        target = f"socket:[{inode}]"
        for pid in pids():
            try:
                fds = os.listdir(f"/proc/{pid}/fd")
            except OSError:
                continue  # gone meanwhile
            for fd in fds:
                try:
                    if os.readlink(f"/proc/{pid}/fd/{fd}") == target:
                        return pid
                except OSError:
                    continue
        return None

    return owner


def _socket_inode(local_port: int, remote_port: int) -> int | None:
    # /proc/net/tcp: "sl local_address rem_address st ... uid timeout inode", ports in hex.
    with open("/proc/net/tcp", encoding="ascii") as table:
        next(table)
        for line in table:
            fields = line.split()
            local, remote = fields[1], fields[2]
            if int(local.split(":")[1], 16) == local_port and (
                int(remote.split(":")[1], 16) == remote_port
            ):
                return int(fields[9]) or None
    return None


# --------------------------------------------------------------------- the nodes


class Cluster:
    """The daemons of one config on one database: started, stopped, killed; which pid is
    which node's life."""

    def __init__(self, config: Path, database: str, daemons: list[Daemon]) -> None:
        self.config = config
        self.database = database
        self.daemons = daemons  # every life, in the order started
        self.running: dict[int, Daemon] = {}  # node slot -> its current life

    def start(self, slot: int) -> Daemon:
        d = Daemon(self.config, "--tick", str(TICK))
        self.daemons.append(d)
        self.running[slot] = d
        return d

    def stop(self, slot: int) -> None:
        d = self.running.pop(slot)
        assert d.stop(timeout=60) == 0, d.log()

    def kill(self, slot: int) -> Daemon:
        d = self.running.pop(slot)
        d.proc.send_signal(signal.SIGKILL)
        d.proc.wait()
        assert d.proc.returncode == -signal.SIGKILL, d.log()
        return d

    def stop_all(self) -> None:
        for slot in list(self.running):
            self.stop(slot)

    def wait_for(self, what: str, check: Callable[[], bool], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not check():
            for d in self.running.values():
                if d.proc.poll() is not None:
                    raise AssertionError(f"daemon exited {d.proc.returncode}:\n{d.log()}")
            if time.monotonic() > deadline:
                logs = "\n".join(d.log()[-3000:] for d in self.running.values())
                raise AssertionError(f"timed out waiting for {what}:\n{logs}")
            time.sleep(0.1)

    def longest_round(self) -> float:
        """The longest round any node logged, in seconds."""
        rounds = [
            float(seconds)
            for d in self.daemons
            for seconds in re.findall(r" round: .* in (\d+\.\d+)s$", d.log(), re.MULTILINE)
        ]
        return max(rounds, default=0.0)

    def longest_wait(self, interval: float = INTERVAL) -> float:
        """The longest a source may wait between two checks: its interval and jitter, one
        lease (a dead node's claim runs out), and LATE or the longest round plus a tick."""
        return interval * (1 + JITTER) + LEASE + max(LATE, self.longest_round() + TICK)

    def rows(self, sql: str) -> list[tuple[object, ...]]:
        """What `sql` reads from the nodes' database."""
        import sqlalchemy as sa

        engine = sa.create_engine(self.database, poolclass=sa.pool.NullPool)
        try:
            with engine.connect() as conn:
                return [tuple(row) for row in conn.execute(sa.text(sql))]
        finally:
            engine.dispose()

    def check_all_stopped(self, server: FeedServer) -> None:
        """Fail unless every node said it stopped and let go of its leases, and each
        counted the fetches the server saw from it."""
        held = self.rows("SELECT source, node FROM leases WHERE node IS NOT NULL")
        assert not held, held
        nodes = {
            pid: (stopped, fetched, errors)
            for pid, stopped, fetched, errors in self.rows(
                "SELECT pid, stopped, fetched, errors FROM nodes"
            )
        }
        asked = Counter(r.peer for r in server.requests())
        assert set(nodes) == {d.pid for d in self.daemons}, nodes
        logs = {d.pid: d.log() for d in self.daemons}
        for pid, (stopped, fetched, errors) in nodes.items():
            assert stopped is not None, (pid, nodes)
            # A source tried may fail before its request reaches the server (a connect
            # timeout): counted, an error, and not in the server's log. One whose fetch
            # a stop cut short is not counted.
            assert fetched <= asked[pid] + errors, (pid, nodes[pid], asked[pid])
            if "cut short" not in logs[pid]:
                assert asked[pid] <= fetched, (pid, nodes[pid], asked[pid])

    def logs_clean(self) -> None:
        for d in self.daemons:
            log = d.log()
            assert "Traceback" not in log, log
            assert not re.search(r"\bERROR\b", log), log


@pytest.fixture
def server_and_cluster(tmp_path: Path) -> Iterator[tuple[FeedServer, Callable[..., Cluster]]]:
    """A feed server that knows which daemon asked, and a maker of clusters on a database
    of the test's own; every daemon still running afterwards is killed."""
    daemons: list[Daemon] = []

    def pids() -> list[int]:
        return [d.pid for d in daemons if d.proc.poll() is None]

    with new_database() as url, FeedServer() as server:
        server.peer = socket_owner(server.port, pids)

        def make(sources: list[dict[str, str]], **extra: object) -> Cluster:
            config = write_config(tmp_path, sources, url, **extra)
            return Cluster(config, url, daemons)

        try:
            yield server, make
        finally:
            for d in daemons:
                d.kill()


def write_config(
    folder: Path,
    sources: list[dict[str, str]],
    database: str,
    *,
    categories: Mapping[str, Mapping[str, str]] | None = None,
    fetch: Mapping[str, object] | None = None,
) -> Path:
    return builders.write_config(
        folder,
        sources,
        categories or builders.NEWS,
        sort_keys=False,
        site=site_section(base_url=f"https://{BASE_HOST}/", language="en"),
        database=database,
        # One host serves every feed: per_host (held cluster-wide) must not be the bottleneck.
        fetch={**timeouts("2s", "10s", "20s"), "per_host": 64, **(fetch or {})},
        node={"lease": int(LEASE)},
    )


def sources_of(
    server: FeedServer, names: list[str], category: str = "news"
) -> list[dict[str, str]]:
    return [
        {
            "name": name,
            "url": server.url(f"/{name}.rss"),
            "category": category,
            "interval": f"{INTERVAL:g}s",
        }
        for name in names
    ]


# --------------------------------------------------------------------- reading the log


def checks(server: FeedServer, names: list[str]) -> dict[str, list[Request]]:
    """Each source's requests, oldest first."""
    paths = {f"/{name}.rss": name for name in names}
    found: dict[str, list[Request]] = {name: [] for name in names}
    for r in server.requests():
        if r.path in paths:
            found[paths[r.path]].append(r)
    return found


@dataclass(frozen=True, slots=True)
class Gaps:
    """What the request log says of the checks of some sources."""

    widest: float  # the longest wait between two checks of one source
    narrowest: float  # the shortest
    checks: int
    allowed: float  # the longest wait allowed

    def __str__(self) -> str:
        return (
            f"{self.checks} checks, {self.narrowest:.2f}..{self.widest:.2f}s apart"
            f" (allowed {INTERVAL:g}..{self.allowed:.2f}s)"
        )


def check_gaps(
    server: FeedServer,
    cluster: Cluster,
    names: list[str],
    *,
    interval: float = INTERVAL,
    killed: frozenset[int] = frozenset(),
    late_too: bool = True,
) -> Gaps:
    """Fail unless every source was asked at most once per due time (no two requests less
    than `interval` apart) and (`late_too`) never waited longer than `cluster.longest_wait()`.

    A check by a process in `killed` may be followed sooner: the node died before it could
    store what it fetched, so the source is still due once its lease ran out. (A request
    whose process the server could not tell, None, is one that died as it asked.)
    """
    longest = cluster.longest_wait(interval)
    too_soon: list[str] = []
    too_late: list[str] = []
    gaps: list[float] = []
    for name, requests in checks(server, names).items():
        assert requests, f"{name} never fetched"
        for a, b in itertools.pairwise(requests):
            gap = b.time - a.time
            gaps.append(gap)
            if gap < interval - CLOCKS and not (a.peer in killed or (killed and a.peer is None)):
                too_soon.append(f"{name}: {gap:.2f}s (pids {a.peer}, {b.peer} at {a.time:.2f})")
            if late_too and gap > longest:
                too_late.append(f"{name}: {gap:.2f}s (pids {a.peer}, {b.peer})")
    if too_soon:  # what the nodes said of their leases, to tell a stalled node from a bug
        said = [
            line
            for d in cluster.daemons
            for line in d.log().splitlines()
            if "lease" in line and ("ran out" in line or "WARNING" in line)
        ]
        raise AssertionError(f"asked again within {interval}s: {too_soon[:20]}; {said[:10]}")
    assert not too_late, f"a due check late by more than a lease ({longest:.1f}s): {too_late[:20]}"
    assert gaps, "no source checked twice"
    return Gaps(
        widest=max(gaps), narrowest=min(gaps), checks=len(gaps) + len(names), allowed=longest
    )


def report(what: str, **figures: object) -> None:
    """The figures of a run, for `pytest -s` (and the report of a change)."""
    print(f"\n{what}: " + ", ".join(f"{k} {v}" for k, v in figures.items()))


# --------------------------------------------------------------------- reading the output


@dataclass(frozen=True, slots=True)
class Published:
    file: str
    link: str
    source: str
    title: str


def published(out: Path, *, strict: bool = False) -> list[Published]:
    """Every post file under out/_posts: its original link, source and title (`strict`:
    each file checked whole first)."""
    found = []
    for path in post_files(out):
        if strict:
            check_post_file(path)
        text = path.read_text(encoding="utf-8")
        link = re.search(r"^<(http[^>]+)>$", text, re.MULTILINE)
        source = re.search(r'<p class="em_media">\(Source: \[?([^\]<)]+)', text)
        title = re.search(r"^title: (.*)$", text, re.MULTILINE)
        assert link and source and title, f"{path.name}: no link, source or title:\n{text}"
        found.append(
            Published(path.name, link.group(1), source.group(1), yaml.safe_load(title.group(1)))
        )
    return found


def published_or_none(out: Path) -> list[Published]:
    try:
        return published(out)
    except FileNotFoundError:  # renamed under us by a publish in progress
        return []


def check_output(out: Path, wanted: dict[str, tuple[str, str]]) -> list[Published]:
    """Fail unless the post files are exactly the items wanted, once each, each with its
    latest title; the Atom feeds valid, each entry once."""
    posts = published(out, strict=True)
    counts = Counter(p.link for p in posts)
    doubles = {link: n for link, n in counts.items() if n > 1}
    assert not doubles, f"{len(doubles)} items published twice or more: {list(doubles)[:10]}"
    missing = set(wanted) - set(counts)
    extra = set(counts) - set(wanted)
    assert not missing and not extra, (sorted(missing)[:10], sorted(extra)[:10])
    stale = [p for p in posts if (p.source, p.title) != wanted[p.link]]
    assert not stale, [(p.file, p.title, wanted[p.link]) for p in stale[:10]]
    slugs = Counter(re.sub(r"^\d{4}-\d{2}-\d{2}-", "", p.file) for p in posts)
    assert max(slugs.values()) == 1, [s for s, n in slugs.items() if n > 1][:10]
    for feed in (out / "atom.xml", *sorted((out / "category").glob("*.xml"))):
        validate_atom(feed)
    return posts


# =========================================================================== the tests


def start_nodes(cluster: Cluster, server: FeedServer, names: list[str]) -> float:
    """NODES daemons, once every source was fetched; when that was."""
    for slot in range(NODES):
        cluster.start(slot)
    cluster.wait_for(
        "every source fetched", lambda: all(checks(server, names).values()), START_TIMEOUT
    )
    return time.monotonic()


def finish(cluster: Cluster, feeds: ChangingFeeds, out: Path) -> dict[str, tuple[str, str]]:
    """Freeze the feeds, let the nodes fetch and publish what they serve, stop every node
    (SIGTERM, exit 0); the items served."""
    feeds.freeze()
    cluster.wait_for(
        "every feed asked once more", feeds.asked_since_frozen, 2 * cluster.longest_wait()
    )
    wanted = feeds.wanted()
    cluster.wait_for(
        "every item published",
        lambda: {p.link for p in published_or_none(out)} >= set(wanted),
        PUBLISH_TIMEOUT,
    )
    cluster.stop_all()
    return wanted


def fetches_by(server: FeedServer, pid: int, *, since: int) -> Callable[[], bool]:
    """Whether `pid` asked for something after the first `since` requests of the log."""
    return lambda: any(r.peer == pid for r in server.requests()[since:])


def by_node(server: FeedServer, cluster: Cluster) -> Counter[object]:
    """Requests per daemon pid; every request known to come from one of them (None: from a
    process killed before the server could tell)."""
    counts = Counter(r.peer for r in server.requests())
    assert set(counts) <= {d.pid for d in cluster.daemons} | {None}, counts
    return counts


def test_nodes_share_the_sources_each_fetched_once_per_due_time(
    tmp_path: Path, server_and_cluster: tuple[FeedServer, Callable[..., Cluster]]
) -> None:
    server, make = server_and_cluster
    names = [f"f{i:03d}" for i in range(300)]
    feeds = ChangingFeeds(server, names, random.Random(SEED))
    cluster = make(sources_of(server, names))
    started = start_nodes(cluster, server, names)
    time.sleep(5 * INTERVAL * (1 + JITTER / 2))  # five rounds or so
    out = tmp_path / "out"
    wanted = finish(cluster, feeds, out)
    ran = time.monotonic() - started

    gaps = check_gaps(server, cluster, names)
    # Each due time checked: as many checks as the time allowed.
    for name, requests in checks(server, names).items():
        assert len(requests) >= ran / gaps.allowed, (name, len(requests), ran)
    # The work was shared: each node fetched a part of it.
    nodes = by_node(server, cluster)
    assert (
        None not in nodes and len(nodes) == NODES and min(nodes.values()) >= 0.05 * nodes.total()
    ), nodes
    posts = check_output(out, wanted)
    cluster.check_all_stopped(server)
    cluster.logs_clean()
    report(
        "300 sources, 3 nodes",
        seconds=round(ran, 1),
        gaps=gaps,
        longest_round=f"{cluster.longest_round():.2f}s",
        per_node=sorted(nodes.values()),
        posts=len(posts),
    )


def test_nodes_killed_mid_round_leave_their_sources_to_the_others(
    tmp_path: Path, server_and_cluster: tuple[FeedServer, Callable[..., Cluster]]
) -> None:
    server, make = server_and_cluster
    rng = random.Random(SEED)
    names = [f"k{i:02d}" for i in range(90)]
    feeds = ChangingFeeds(server, names, rng)
    cluster = make(sources_of(server, names))
    start_nodes(cluster, server, names)
    killed: list[tuple[int, float]] = []  # pid, when
    for _ in range(6):
        slot = rng.randrange(NODES)
        victim = cluster.running[slot]
        # Mid-round: after a request of its own, at a random moment of the round.
        seen = len(server.requests())
        cluster.wait_for(
            f"a fetch by node {slot}",
            fetches_by(server, victim.pid, since=seen),
            START_TIMEOUT,  # it may be a life just started
        )
        time.sleep(rng.uniform(0.0, 1.0))
        cluster.kill(slot)
        killed.append((victim.pid, time.monotonic()))
        time.sleep(rng.choice([0.0, rng.uniform(0.5, 2.0)]))  # restarted at once, or soon
        seen = len(server.requests())
        life = cluster.start(slot)
        # Working again before the next kill: one node down at a time.
        cluster.wait_for(
            f"node {slot} back", fetches_by(server, life.pid, since=seen), START_TIMEOUT
        )
        time.sleep(rng.uniform(0.0, 1.5))
    out = tmp_path / "out"
    wanted = finish(cluster, feeds, out)

    dead = frozenset(pid for pid, _ in killed)
    gaps = check_gaps(server, cluster, names, killed=dead)
    # What each killed node had asked for last went to another node, within the lease.
    taken_over = []
    for pid, when in killed:
        for name, requests in checks(server, names).items():
            before = [r for r in requests if r.time <= when]
            if before and before[-1].peer == pid:
                after = [r for r in requests if r.time > when]
                assert after and after[0].peer != pid, (name, pid)
                taken_over.append(after[0].time - before[-1].time)
    assert taken_over, "no kill left a source behind"
    assert max(taken_over) <= gaps.allowed, max(taken_over)
    check_output(out, wanted)
    # The next publish has nothing left to do: the daemons published it all.
    again = run_cli(cluster.config, "publish")
    assert re.search(r"published 0 posts", again.stderr), again.stderr
    check_output(out, wanted)
    for d in cluster.daemons:
        assert "Traceback" not in d.log(), d.log()
    report(
        "90 sources, 6 kills",
        gaps=gaps,
        longest_round=f"{cluster.longest_round():.2f}s",
        taken_over=len(taken_over),
        slowest_take_over=f"{max(taken_over):.2f}s",
    )


def test_a_rolling_restart_leaves_no_due_check_late_by_more_than_a_lease(
    tmp_path: Path, server_and_cluster: tuple[FeedServer, Callable[..., Cluster]]
) -> None:
    server, make = server_and_cluster
    names = [f"r{i:02d}" for i in range(90)]
    feeds = ChangingFeeds(server, names, random.Random(SEED))
    cluster = make(sources_of(server, names))
    start_nodes(cluster, server, names)
    stops = []
    for slot in range(NODES):
        time.sleep(INTERVAL)
        sent = time.monotonic()
        stopping = cluster.running[slot].pid
        cluster.stop(slot)  # SIGTERM: finishes its round, lets go of its leases, exits 0
        stops.append(time.monotonic() - sent)
        print(f"stopped {stopping} at {sent:.2f} in {stops[-1]:.2f}s")
        seen = len(server.requests())
        d = cluster.start(slot)
        cluster.wait_for(
            f"node {slot} fetching again",
            fetches_by(server, d.pid, since=seen),
            START_TIMEOUT,
        )
    time.sleep(INTERVAL)
    out = tmp_path / "out"
    wanted = finish(cluster, feeds, out)

    gaps = check_gaps(server, cluster, names)
    check_output(out, wanted)
    cluster.check_all_stopped(server)
    cluster.logs_clean()
    report(
        "90 sources, rolling restart",
        gaps=gaps,
        longest_round=f"{cluster.longest_round():.2f}s",
        stops=[f"{s:.2f}s" for s in stops],
    )


# =========================================================================== racing on a story

# A request of one source of a pair waits this long for one of the other (the server holds
# it), and both are answered together: when two nodes asked, both have the story in flight
# at once, neither having stored it when the other reconciles it.
MEETING = 2.0


class SharedStories:
    """Pairs of feeds, A and B of each serving the same stories (guid and link alike). A
    request for A waits for one for B (and the other way round), up to MEETING; two that met
    are answered with a new story (until `close()`), which both see first: when they came
    from two nodes, the nodes race on it. Which requests met."""

    def __init__(self, server: FeedServer, pairs: list[str]) -> None:
        self._lock = threading.Condition()
        self.stories: dict[str, list[str]] = {pair: [] for pair in pairs}
        self._waiting: dict[str, dict[str, Request]] = {pair: {} for pair in pairs}
        self.met: dict[str, list[tuple[Request, Request]]] = {pair: [] for pair in pairs}
        self.open = True
        for pair in pairs:
            self.stories[pair].append(f"{pair}-0")
        for pair in pairs:
            for side in "ab":
                path = f"/{pair}{side}.rss"
                server.add(path, dynamic=self._answer_for(pair, side), etag=True)

    def close(self) -> None:
        """No more new stories."""
        with self._lock:
            self.open = False

    def _meet(self, pair: str, side: str, request: Request) -> None:
        waiting = self._waiting[pair]
        other = "b" if side == "a" else "a"
        partner = waiting.pop(other, None)
        if partner is not None:  # the other side waits: both go now, with a new story
            self.met[pair].append((partner, request))
            if self.open:
                stories = self.stories[pair]
                stories.append(f"{pair}-{len(stories) + 1}")
            self._lock.notify_all()
            return
        waiting[side] = request
        self._lock.wait_for(lambda: waiting.get(side) is not request, timeout=MEETING)
        if waiting.get(side) is request:
            del waiting[side]  # nobody came: alone

    def _answer_for(self, pair: str, side: str) -> Callable[[Request], bytes]:
        def answer(request: Request) -> bytes:
            with self._lock:
                self._meet(pair, side, request)
                guids = list(self.stories[pair])
            return site_rss(
                f"{pair}{side}",
                [(g, f"story {g}", None, story_link(g)) for g in guids],
                dated=each_minute,
            )

        return answer

    def races(self, pair: str) -> int:
        """Stories of `pair` that two nodes fetched at once: made for two requests that met,
        from two processes."""
        with self._lock:
            return sum(a.peer != b.peer for a, b in self.met[pair])


def story_link(guid: str) -> str:
    return f"http://example.org/story/{guid}.html"


RACE_INTERVAL = 2.0
RACE_TIME = 10.0  # seconds of racing at least
RACES = 3  # cross-node races wanted, in all
RACE_LIMIT = 90.0  # seconds of racing at most


def test_two_nodes_racing_on_one_story_make_the_posts_dedupe_says(
    tmp_path: Path, server_and_cluster: tuple[FeedServer, Callable[..., Cluster]]
) -> None:
    server, make = server_and_cluster
    modes = {"linked": "link", "apart": "off"}
    pairs = {mode: [f"{mode}{i}" for i in range(10)] for mode in modes}
    shared = SharedStories(server, [p for ps in pairs.values() for p in ps])
    sources = [
        {
            "name": f"{pair}{side}",
            "url": server.url(f"/{pair}{side}.rss"),
            "category": mode,
            # Two intervals: the sources of a story drift apart, and are claimed apart.
            "interval": f"{RACE_INTERVAL * (1 if side == 'a' else 1.5):g}s",
        }
        for mode, ps in pairs.items()
        for pair in ps
        for side in "ab"
    ]
    categories = {slug: {"title": slug.title(), "dedupe": how} for slug, how in modes.items()}
    # Claims of ten (twice the lanes, at least ten): when many sources come due at once,
    # both nodes take a share, and the two sources of a story often go to two nodes.
    cluster = make(sources, categories=categories, fetch={"concurrency": 4})
    names = [s["name"] for s in sources]
    for slot in range(2):
        cluster.start(slot)
    cluster.wait_for(
        "every source fetched", lambda: all(checks(server, names).values()), START_TIMEOUT
    )
    time.sleep(RACE_TIME)
    # Which node claims which source is the claims' luck: race on until enough races were run
    # across nodes (tests/test_leases.py races each mode for sure).
    cluster.wait_for(
        f"{RACES} races across nodes",
        lambda: sum(shared.races(p) for ps in pairs.values() for p in ps) >= RACES,
        RACE_LIMIT,
    )
    shared.close()
    time.sleep(RACE_INTERVAL * 1.5 * (1 + JITTER) + MEETING)  # the last stories fetched
    out = tmp_path / "out"
    wanted = {story_link(g): pair for pair, gs in shared.stories.items() for g in gs}
    cluster.wait_for(
        "every story published",
        lambda: {p.link for p in published_or_none(out)} >= set(wanted),
        PUBLISH_TIMEOUT,
    )
    cluster.stop_all()

    # Asked once per due time; how late is the other tests' business.
    check_gaps(server, cluster, names, interval=RACE_INTERVAL, late_too=False)
    races = {mode: sum(shared.races(p) for p in ps) for mode, ps in pairs.items()}
    posts = published(out, strict=True)
    met = [m for ps in pairs.values() for p in ps for m in shared.met[p]]
    report(
        "dedupe races",
        races=races,
        meetings=len(met),
        across_nodes=sum(a.peer != b.peer for a, b in met),
        posts=len(posts),
        stories=len(wanted),
    )
    # Both modes race at once, on one cluster (which mode gets the races is the claims' luck).
    assert sum(races.values()) >= RACES, f"too few races to tell: {races}"
    by_link: dict[str, list[Published]] = {}
    for post in posts:
        by_link.setdefault(post.link, []).append(post)
    assert set(by_link) == set(wanted)
    for link, found in by_link.items():
        pair = wanted[link]
        sources_seen = sorted(p.source for p in found)
        if pair.startswith("linked"):
            # One story, one post: whichever source stored it first is credited.
            assert len(found) == 1 and sources_seen[0] in (f"{pair}a", f"{pair}b"), found
        else:
            assert sources_seen == [f"{pair}a", f"{pair}b"], found
    slugs = Counter(re.sub(r"^\d{4}-\d{2}-\d{2}-", "", p.file) for p in posts)
    assert max(slugs.values()) == 1, [s for s, n in slugs.items() if n > 1][:10]
    for mode in modes:
        validate_atom(out / "category" / f"{mode}.xml")
    cluster.logs_clean()
