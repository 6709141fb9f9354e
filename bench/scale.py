"""Several nodes on one PostgreSQL (issue 15): sources refreshed per second by N
`aggregator run` daemons sharing one database, beside one SQLite daemon on the same sources.

    python -m bench.scale [--sources 20000] [--nodes 1,2,4] [--quick] [--dir DIR] [--pg-url URL]

Each configuration gets a database of its own (CREATE DATABASE, dropped after; SQLite: a
file in its folder) and one config.yaml that its nodes share; the daemons are the real CLI
in subprocesses. Two rounds each: a cold one (empty store: every source answers a body),
then one where every source is due again (its next check moved to now) and answers 304,
but a few that changed. Measures only: the store is polled, never written, except the one
UPDATE that makes every source due again.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if not __package__:  # run as `python bench/scale.py`: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.corpus import (
    REPO_ROOT,
    CorpusServer,
    TreeSampler,
    cpu_seconds,
    machine_facts,
    serve_corpus,
    write_config,
)
from bench.run import Report, Row, add_dir_options, delete_tree, working_dir

_MB = 1024 * 1024
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
# The bench's own connections go by this name, so that the activity sampled is the nodes'.
APP_NAME = "bench-scale"
# A publish is not what is measured, and one of 20,000 new posts would take the cores from
# the fetching: the nodes publish once a year (and are killed before a clean stop would).
NEVER = "0 0 1 1 *"
ACTIVITY_INTERVAL_S = 0.010
POLL_INTERVAL_S = 0.2
HEARTBEAT_WAIT_S = 30.0
TOP_STATEMENTS = 5  # the statements with the most active-backend-seconds, under each round


# ------------------------------------------------------------------ database


def _engine(url: str) -> Any:
    import sqlalchemy as sa

    if sa.make_url(url).get_backend_name() == "postgresql":
        return sa.create_engine(url, connect_args={"application_name": APP_NAME})
    return sa.create_engine(url)


def _shown(url: str) -> str:
    """`url` with its password hidden, for a message."""
    import sqlalchemy as sa

    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "(an invalid database URL)"


@contextlib.contextmanager
def new_database(admin_url: str) -> Iterator[str]:
    """A new PostgreSQL database on the server of `admin_url`: its URL; dropped on leaving
    (its sessions too)."""
    import sqlalchemy as sa

    name = f"bench_scale_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            yield sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
        finally:
            try:
                with admin.connect() as conn:
                    conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            except sa.exc.SQLAlchemyError as e:
                print(f"  could not drop database {name}: {' '.join(str(e).split())[:300]}")
    finally:
        admin.dispose()


def _statements_preloaded(engine: Any) -> bool:
    """Whether pg_stat_statements is loaded (it counts nothing unless preloaded)."""
    with engine.connect() as conn:
        libraries = conn.exec_driver_sql("SHOW shared_preload_libraries").scalar() or ""
        if "pg_stat_statements" not in libraries:
            return False
        conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        conn.commit()
    return True


def _statement_seconds(engine: Any) -> float:
    """Execution time of every statement run on this database so far (pg_stat_statements)."""
    with engine.connect() as conn:
        ms = conn.exec_driver_sql(
            "SELECT coalesce(sum(total_exec_time), 0) FROM pg_stat_statements"
            " WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
        ).scalar()
    return float(ms or 0) / 1000


def _fetched_since(engine: Any, since: datetime) -> tuple[int, int]:
    """(sources fetched at or after `since`, of those the ones whose last attempt failed)."""
    import sqlalchemy as sa

    from aggregator.store.schema import sources

    query = sa.select(
        sa.func.count(),
        sa.func.count().filter(sources.c.failures > 0),
    ).where(sources.c.last_fetched >= since)
    try:
        with engine.connect() as conn:
            fetched, failed = conn.execute(query).one()
    except (sa.exc.OperationalError, sa.exc.ProgrammingError):
        return 0, 0  # no schema yet: the first node is still creating it
    return int(fetched), int(failed)


def _make_due(engine: Any, now: datetime) -> None:
    """Every source due again now: its next check moved, nothing else touched."""
    import sqlalchemy as sa

    from aggregator.store.schema import sources

    with engine.begin() as conn:
        conn.execute(sa.update(sources).values(next_check=now))


@dataclass(frozen=True, slots=True, kw_only=True)
class NodeFigures:
    """What the nodes say of themselves in the `nodes` table (the multi-node schema)."""

    store_seconds: float
    heartbeat: datetime | None  # the oldest of the live nodes' last heartbeats


def _node_figures(engine: Any) -> NodeFigures | None:
    """The nodes' summed store_seconds, or None where no node has a row (SQLite, or a
    schema before the `nodes` table)."""
    import sqlalchemy as sa

    from aggregator.store.schema import nodes

    query = sa.select(sa.func.sum(nodes.c.store_seconds), sa.func.min(nodes.c.heartbeat))
    try:
        with engine.connect() as conn:
            seconds, heartbeat = conn.execute(query.where(nodes.c.stopped.is_(None))).one()
    except (sa.exc.OperationalError, sa.exc.ProgrammingError):
        return None
    if seconds is None:
        return None
    return NodeFigures(store_seconds=float(seconds), heartbeat=heartbeat)


def statement_shape(query: str) -> str:
    """A statement as pg_stat_activity shows it, with its parameters and literals folded
    (`$1, $2, …` and `'…'` become `?`), on one line, cut to 100 characters."""
    shape = _LITERAL.sub("?", _PARAMS.sub("?", query))
    shape = " ".join("".join(c if c.isprintable() else " " for c in shape).split())
    return shape[:100]


_PARAMS = re.compile(r"\$\d+(?:\s*(?:,|::\w+)\s*\$?\d*)*")
_LITERAL = re.compile(r"'(?:[^']|'')*'")


def _lock_names() -> dict[int, str]:
    """The store's advisory lock keys, by what they serialize."""
    from aggregator.store import lock

    names = {
        "MIGRATION_LOCK": "migrations",
        "POSTS_LOCK": "post writers' lock",
        "CLAIM_LOCK": "claims' lock",
        "PUBLISH_LOCK": "publish lock",
    }
    return {getattr(lock, k): v for k, v in names.items() if hasattr(lock, k)}


class Activity(threading.Thread):
    """Samples pg_stat_activity every ACTIVITY_INTERVAL_S: how many of this database's
    backends are active (the bench's own left out), summed into active-backend-seconds,
    also by statement (`by_statement`, see statement_shape); how long each of the store's
    advisory locks is held (`held`, by name: the post writers' lock, the claims' lock…);
    and the CPU time of each backend seen, read from /proc (0 where the server is not on
    this machine)."""

    def __init__(self, engine: Any, interval: float = ACTIVITY_INTERVAL_S) -> None:
        super().__init__(name="pg-activity", daemon=True)
        self._engine = engine
        self._interval = interval
        self._done = threading.Event()
        self._lock = threading.Lock()
        self.active_s = 0.0
        self.by_statement: dict[str, float] = {}
        self.held: dict[str, float] = {}
        self.samples = 0
        self.error = ""
        self.backends: set[int] = set()
        self.cpu: dict[int, float] = {}

    def run(self) -> None:
        # One round trip a sample: the backends, then the advisory locks granted.
        query = (
            "SELECT pid, state = 'active', CASE WHEN state = 'active' THEN left(query, 300)"
            " END FROM pg_stat_activity"
            " WHERE datname = current_database() AND backend_type = 'client backend'"
            f" AND application_name <> '{APP_NAME}'"
            " UNION ALL SELECT DISTINCT NULL::int, NULL::bool,"
            " ((l.classid::bigint << 32) | l.objid::bigint)::text FROM pg_locks l"
            " WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1"
            " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        )
        import sqlalchemy as sa

        try:
            self._sample(query, _lock_names())
        except sa.exc.SQLAlchemyError as e:  # the server went away: the figures stop there
            self.error = " ".join(str(e).split())[:300]

    def _sample(self, query: str, names: dict[int, str]) -> None:
        # Autocommit: inside a transaction pg_stat_activity would be read once and kept.
        with self._engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            last = time.perf_counter()
            n = 0
            while not self._done.wait(self._interval):
                rows = conn.exec_driver_sql(query).all()
                now = time.perf_counter()
                with self._lock:
                    # Each active backend counts for the time since the previous sample.
                    for pid, active, text in rows:
                        if pid is None:  # an advisory lock held (the nodes' own: not told)
                            if (name := names.get(int(text))) is not None:
                                self.held[name] = self.held.get(name, 0.0) + (now - last)
                        elif active:
                            self.active_s += now - last
                            shape = statement_shape(text or "")
                            self.by_statement[shape] = self.by_statement.get(shape, 0.0) + (
                                now - last
                            )
                    self.samples += 1
                    self.backends.update(pid for pid, _, _ in rows if pid is not None)
                last = now
                n += 1
                if n % 50 == 0:
                    self.sample_cpu()

    def by_statement_now(self) -> dict[str, float]:
        """A copy of the active seconds by statement so far."""
        with self._lock:
            return dict(self.by_statement)

    def held_now(self) -> dict[str, float]:
        """A copy of the seconds each advisory lock was held so far."""
        with self._lock:
            return dict(self.held)

    def sample_cpu(self) -> dict[int, float]:
        """Read each backend's CPU time now; a copy of the figures by pid."""
        with self._lock:
            for pid in self.backends:
                self.cpu[pid] = max(self.cpu.get(pid, 0.0), cpu_seconds(pid))
            return dict(self.cpu)

    def stop(self) -> None:
        self._done.set()
        self.join()


# --------------------------------------------------------------------- nodes


@dataclass(kw_only=True)
class Mark:
    """The counters at one moment: the round's figures are differences of two marks."""

    at: float
    nodes_cpu: dict[int, float]
    backends_cpu: dict[int, float]
    server_cpu: float
    bench_cpu: float
    active_s: float
    by_statement: dict[str, float]
    held: dict[str, float]
    store_s: float | None
    statements_s: float | None


def _cpu_delta(before: dict[int, float], after: dict[int, float]) -> float:
    return sum(v - before.get(pid, 0.0) for pid, v in after.items())


@dataclass(kw_only=True)
class RoundFigures:
    name: str
    sources: int
    wall_s: float
    first_s: float | None  # until the first source was fetched (start-up, for a cold round)
    failed: int
    nodes_cpu_s: float
    mains_cpu_s: float  # of which the nodes' main processes (the rest: their parse workers)
    backends_cpu_s: float
    server_cpu_s: float
    bench_cpu_s: float
    active_s: float | None
    by_statement: dict[str, float]
    held: dict[str, float]
    store_s: float | None
    statements_s: float | None

    @property
    def rate(self) -> float:
        return self.sources / self.wall_s


@dataclass(kw_only=True)
class Configuration:
    label: str
    database: str
    nodes: int
    rounds: list[RoundFigures] = field(default_factory=list)
    peak_rss: int = 0
    processes: int = 0
    load: float = 0.0  # the 1-minute load average when it started (other work on the cores)
    error: str = ""


class Nodes:
    """N `aggregator run` daemons on one config, their process trees sampled."""

    def __init__(self, config: Path, n: int, work: Path, env: dict[str, str]) -> None:
        self.logs = [work / f"node-{k + 1}.log" for k in range(n)]
        self.procs: list[subprocess.Popen[bytes]] = []
        command = [sys.executable, "-m", "aggregator", "--config", str(config), "run"]
        for log in self.logs:
            with open(log, "wb") as err:
                self.procs.append(
                    subprocess.Popen(
                        command,
                        stdin=subprocess.DEVNULL,
                        stdout=subprocess.DEVNULL,
                        stderr=err,
                        cwd=work,
                        env=env,
                        start_new_session=True,  # a group of its own: its parse workers go with it
                    )
                )
        self.sampler = TreeSampler([p.pid for p in self.procs], 0.025, include_roots=True)
        self.sampler.start()

    def exited(self) -> str | None:
        """Why a node is gone (its exit status and last log line), or None while all run."""
        for k, proc in enumerate(self.procs):
            code = proc.poll()
            if code is not None:
                lines = self.logs[k].read_text(encoding="utf-8", errors="replace").splitlines()
                last = lines[-1][-300:] if lines else "(no output)"
                last = "".join(c if c.isprintable() else "?" for c in last)
                return f"node {k + 1} exited {code}: {last}"
        return None

    def kill(self) -> None:
        """SIGKILL every node's group. A clean stop would publish what the rounds stored
        (40,000 files at 20,000 sources), which is not measured; the store is thrown away."""
        self.sampler.stop()
        for proc in self.procs:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
        for proc in self.procs:
            proc.wait()


def _mark(
    nodes: Nodes | None,
    activity: Activity | None,
    server: CorpusServer,
    engine: Any,
    statements: bool,
) -> Mark:
    """The counters now (`nodes` None: before they start)."""
    figures = _node_figures(engine)
    return Mark(
        at=time.perf_counter(),
        nodes_cpu=nodes.sampler.sample() if nodes else {},
        backends_cpu=activity.sample_cpu() if activity else {},
        server_cpu=cpu_seconds(server.pid),
        bench_cpu=time.process_time(),
        active_s=activity.active_s if activity else 0.0,
        by_statement=activity.by_statement_now() if activity else {},
        held=activity.held_now() if activity else {},
        store_s=figures.store_seconds if figures else None,
        statements_s=_statement_seconds(engine) if statements else None,
    )


def _await_round(
    name: str,
    engine: Any,
    n: int,
    since: datetime,
    before: Mark,
    nodes: Nodes,
    activity: Activity | None,
    server: CorpusServer,
    statements: bool,
    timeout: float,
) -> RoundFigures:
    """Poll the store until all `n` sources were fetched at or after `since`.

    Raises:
        RuntimeError: a node exited, or the round took longer than `timeout`.
    """
    first: float | None = None
    while True:
        fetched, failed = _fetched_since(engine, since)
        now = time.perf_counter()
        if fetched and first is None:
            first = now - before.at
        if fetched >= n:
            break
        if (why := nodes.exited()) is not None:
            raise RuntimeError(f"{name} round: {why}")
        if now - before.at > timeout:
            raise RuntimeError(f"{name} round: {fetched} of {n} sources after {timeout:.0f} s")
        time.sleep(POLL_INTERVAL_S)
    wall = now - before.at
    after = _mark(nodes, activity, server, engine, statements)  # CPU, activity: at the end
    # store_seconds is written with each heartbeat: wait for one after the round's end
    # (a node beats three times a lease, every 20 s by default).
    figures = _node_figures(engine)
    ended = datetime.now(UTC)
    deadline = time.perf_counter() + HEARTBEAT_WAIT_S
    while figures is not None and time.perf_counter() < deadline:
        if figures.heartbeat is not None and figures.heartbeat >= ended:
            break
        time.sleep(0.25)
        figures = _node_figures(engine)
    if figures is not None:
        after.store_s = figures.store_seconds
    return RoundFigures(
        name=name,
        sources=n,
        wall_s=wall,
        first_s=first,
        failed=failed,
        nodes_cpu_s=_cpu_delta(before.nodes_cpu, after.nodes_cpu),
        mains_cpu_s=_cpu_delta(
            before.nodes_cpu,
            {p.pid: after.nodes_cpu.get(p.pid, 0.0) for p in nodes.procs},
        ),
        backends_cpu_s=_cpu_delta(before.backends_cpu, after.backends_cpu),
        server_cpu_s=after.server_cpu - before.server_cpu,
        bench_cpu_s=after.bench_cpu - before.bench_cpu,
        active_s=after.active_s - before.active_s if activity else None,
        by_statement={
            k: v - before.by_statement.get(k, 0.0) for k, v in after.by_statement.items()
        },
        held={k: v - before.held.get(k, 0.0) for k, v in after.held.items()},
        store_s=(
            after.store_s - before.store_s
            if after.store_s is not None and before.store_s is not None
            else after.store_s
        ),
        statements_s=(
            after.statements_s - before.statements_s
            if after.statements_s is not None and before.statements_s is not None
            else None
        ),
    )


def run_configuration(
    conf: Configuration,
    server: CorpusServer,
    work: Path,
    *,
    seed: int,
    changed: float,
    env: dict[str, str],
    timeout: float,
    lease: float | None = None,
) -> None:
    """Start `conf.nodes` daemons on `conf.database`, time the cold round and the due-again
    round; the figures (or what went wrong) go into `conf`."""
    import sqlalchemy as sa

    urls = server.feed_urls
    n = len(urls)
    sections: dict[str, dict[str, Any]] = {"schedule": {"publish": NEVER}}
    if lease is not None and not conf.database.startswith("sqlite"):
        sections["node"] = {"lease": lease}
    config = write_config(work, urls, seed=seed, database=conf.database, sections=sections)
    engine = _engine(conf.database)
    postgres = engine.dialect.name == "postgresql"
    activity = Activity(engine) if postgres else None
    nodes: Nodes | None = None
    try:
        statements = postgres and _statements_preloaded(engine)
        if activity is not None:
            activity.start()
        since = datetime.now(UTC)
        before = _mark(None, activity, server, engine, statements)
        nodes = Nodes(config, conf.nodes, work, env)
        cold = _await_round(
            "cold", engine, n, since, before, nodes, activity, server, statements, timeout
        )
        conf.rounds.append(cold)
        server.bump(changed)
        before = _mark(nodes, activity, server, engine, statements)
        since = datetime.now(UTC)
        _make_due(engine, since)
        conf.rounds.append(
            _await_round(
                "due-again", engine, n, since, before, nodes, activity, server, statements, timeout
            )
        )
    except (RuntimeError, OSError, sa.exc.SQLAlchemyError) as e:
        conf.error = " ".join(str(e).split())[:500]  # one line, never a traceback
    finally:
        if nodes is not None:
            nodes.kill()
            conf.peak_rss = nodes.sampler.peak
            conf.processes = nodes.sampler.processes
        if activity is not None and activity.is_alive():
            activity.stop()
        if activity is not None and activity.error and not conf.error:
            conf.error = f"pg_stat_activity could not be read: {activity.error}"
        engine.dispose()


# --------------------------------------------------------------------- report


def _share(seconds: float | None, wall: float, nodes: int) -> str:
    if seconds is None:
        return "n/a"
    return f"{seconds:.1f} s ({seconds / (wall * nodes):.0%} of wall × nodes)"


def where_the_time_goes(conf: Configuration, r: RoundFigures, cores: int) -> str:
    """One line: the database's share of the round, and whose CPU the cores spent."""
    budget = r.wall_s * cores
    db = [f"store_seconds {_share(r.store_s, r.wall_s, conf.nodes)}"]
    if r.active_s is not None:
        db.append(f"active backends {_share(r.active_s, r.wall_s, conf.nodes)}")
    if r.statements_s is not None:
        db.append(f"pg_stat_statements {_share(r.statements_s, r.wall_s, conf.nodes)}")
    cpu = [f"nodes {r.nodes_cpu_s:.1f} (main processes {r.mains_cpu_s:.1f})"]
    if r.active_s is not None:
        cpu.append(f"postgres backends {r.backends_cpu_s:.1f}")
    cpu += [f"feed server {r.server_cpu_s:.1f}", f"this benchmark {r.bench_cpu_s:.1f}"]
    used = r.nodes_cpu_s + r.backends_cpu_s + r.server_cpu_s + r.bench_cpu_s
    start = f", first fetch after {r.first_s:.1f} s" if r.first_s is not None else ""
    failed = f", {r.failed} failed" if r.failed else ""
    line = (
        f"- {conf.label}, {r.name} round: {r.wall_s:.1f} s{start}{failed}; database:"
        f" {', '.join(db)}; CPU s: {', '.join(cpu)} = {used:.1f} of {budget:.1f}"
        f" core-seconds (wall × {cores} cores)"
    )
    held = [
        f"{name} {seconds:.1f} s ({seconds / r.wall_s:.0%} of wall)"
        for name, seconds in sorted(r.held.items(), key=lambda kv: -kv[1])
        if seconds >= 0.05
    ]
    if held:
        line += f"\n    advisory locks held: {', '.join(held)}"
    top = sorted(r.by_statement.items(), key=lambda kv: -kv[1])[:TOP_STATEMENTS]
    return "\n".join(
        [line]
        + [f"    {seconds:6.1f} s active  {shape}" for shape, seconds in top if seconds >= 0.05]
    )


def render(configurations: Sequence[Configuration], cores: int) -> str:
    report = Report()
    baseline = configurations[0]
    for conf in configurations[1:]:
        for k, r in enumerate(conf.rounds):
            base = baseline.rounds[k] if k < len(baseline.rounds) else None
            report.rows.append(
                Row(
                    figure=f"{r.name} round, sources/s, {conf.label}",
                    ours=f"{r.rate:,.0f}/s ({r.wall_s:.1f} s)",
                    baseline=(
                        f"{baseline.label} {base.rate:,.0f}/s ({base.wall_s:.1f} s)"
                        if base
                        else "n/a"
                    ),
                    ratio=f"{r.rate / base.rate:.2f}×" if base else "",
                )
            )
        if conf.peak_rss and not conf.error:
            report.rows.append(
                Row(
                    figure=f"peak RSS, {conf.label}",
                    ours=f"{conf.peak_rss / _MB:,.0f} MB in {conf.processes} processes",
                    baseline=(
                        f"{baseline.label} {baseline.peak_rss / _MB:,.0f} MB"
                        f" in {baseline.processes} processes"
                    ),
                    ratio=f"{conf.peak_rss / baseline.peak_rss:.2f}×" if baseline.peak_rss else "",
                )
            )
    lines = ["", "Where the time goes (each round from its start to its last source fetched):"]
    for conf in configurations:
        lines += [where_the_time_goes(conf, r, cores) for r in conf.rounds]
    loads = ", ".join(f"{c.label} {c.load:.1f}" for c in configurations)
    lines.append(f"1-minute load average as each configuration started: {loads}")
    errors = [f"- {c.label}: FAILED: {c.error}" for c in configurations if c.error]
    report.notes += lines + (["", *errors] if errors else [])
    return report.render()


# ----------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__)
    p.add_argument("--sources", type=int, help="loopback sources (default 20,000; --quick 2,000)")
    p.add_argument("--nodes", default="1,2,4", help="comma-separated node counts on PostgreSQL")
    p.add_argument("--quick", action="store_true", help="2,000 sources")
    p.add_argument("--hosts", type=int, default=200, help="loopback hosts the sources spread over")
    p.add_argument("--changed", type=float, default=0.02, help="share changed for the 2nd round")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument(
        "--lease",
        type=float,
        help="node.lease in seconds (default: the config's default, 60; a node beats every"
        " third of it, and store_seconds is read after a beat)",
    )
    p.add_argument("--timeout", type=float, help="seconds a round may take (120 + 0.1/source)")
    p.add_argument(
        "--pg-url",
        default=os.environ.get("AGGREGATOR_TEST_POSTGRES_URL", DEFAULT_PG_URL),
        help="a PostgreSQL server where databases may be created (default:"
        " $AGGREGATOR_TEST_POSTGRES_URL or %(default)s)",
    )
    add_dir_options(p)
    args = p.parse_args(argv)
    n = args.sources or (2000 if args.quick else 20_000)
    try:
        counts = [int(x) for x in args.nodes.split(",")]
    except ValueError:
        p.error(f"--nodes {args.nodes}: not a comma-separated list of numbers")
    if n < 1 or any(c < 1 for c in counts) or args.hosts < 1:
        p.error("--sources, --nodes and --hosts take positive numbers")
    hosts = min(args.hosts, n)
    cores = len(os.sched_getaffinity(0))
    began = time.perf_counter()
    print("machine")
    for key, value in machine_facts().items():
        print(f"  {key:<10} {value}")
    load = os.getloadavg()
    print(f"  load avg   {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} at start", flush=True)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    tmp = working_dir(p, args.dir)
    print(f"  work dir   {tmp}", flush=True)
    configurations = [Configuration(label="SQLite, 1 node", database="", nodes=1)]
    configurations += [
        Configuration(label=f"PostgreSQL, {c} node{'s' if c > 1 else ''}", database="", nodes=c)
        for c in counts
    ]
    try:
        return _run_all(args, configurations, tmp, n, hosts, cores, env, began)
    except (RuntimeError, OSError) as e:  # the feed server did not start, a full disk...
        print(f"bench.scale: {' '.join(str(e).split())[:500]}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # the nodes and the feed server are stopped on the way out
        print("bench.scale: interrupted", file=sys.stderr)
        return 130
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            delete_tree(tmp)


def _run_all(
    args: argparse.Namespace,
    configurations: list[Configuration],
    tmp: Path,
    n: int,
    hosts: int,
    cores: int,
    env: dict[str, str],
    began: float,
) -> int:
    """Every configuration in turn over one served corpus, then the table; the exit status."""
    with serve_corpus(n, 1, seed=args.seed, root=tmp / "corpus", hosts=hosts) as server:
        print(
            f"corpus     {n:,} feeds × 1 item, {server.total_bytes / _MB:.0f} MB, on {hosts}"
            f" loopback hosts ({server.feed_urls[0]} …); {args.changed:.0%} change"
            " before the due-again round\n",
            flush=True,
        )
        for k, conf in enumerate(configurations):
            work = tmp / f"config-{k}"
            conf.load = os.getloadavg()[0]
            print(f"{conf.label} (load average {conf.load:.1f}) ...", flush=True)
            with contextlib.ExitStack() as stack:
                if k == 0:
                    conf.database = f"sqlite:///{work / 'aggregator.db'}"
                else:
                    try:
                        conf.database = stack.enter_context(new_database(args.pg_url))
                    except Exception as e:  # the server is not there: say so in a line
                        conf.error = f"cannot create a database at {_shown(args.pg_url)}: "
                        conf.error += " ".join(str(e).split())[:300]
                        print(f"  {conf.error}", flush=True)
                        continue
                run_configuration(
                    conf,
                    server,
                    work,
                    seed=args.seed,
                    changed=args.changed,
                    env=env,
                    timeout=args.timeout or 120 + n * 0.1,
                    lease=args.lease,
                )
            for r in conf.rounds:
                print(f"  {r.name}: {r.rate:,.0f} sources/s ({r.wall_s:.1f} s)", flush=True)
            if conf.error:
                print(f"  FAILED: {conf.error}", flush=True)
    print()
    print(render(configurations, cores))
    load = os.getloadavg()
    print(
        f"\nTotal {time.perf_counter() - began:.0f} s; load average at the end"
        f" {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {cores} cores.",
        flush=True,
    )
    return 1 if any(c.error for c in configurations) else 0


if __name__ == "__main__":
    sys.exit(main())
