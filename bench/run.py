"""The benchmark suite: one command, one table, every figure beside the baseline it is
compared with, both measured in the same run over the same served corpus.

    python -m bench            # 500 feeds × 50 items, 100,000 posts, 1k/5k/20k sources
    python -m bench --quick    # a smaller run, for a quick look

Measures only; everything it writes lives in a temporary directory.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if not __package__:  # run as `python bench/run.py`: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import floors
from bench.corpus import (
    REPO_ROOT,
    Measured,
    feed_spec,
    machine_facts,
    run_measured,
    serve_corpus,
    write_config,
)

_MB = 1024 * 1024


# ----------------------------------------------------------------------- table


@dataclass(kw_only=True)
class Row:
    figure: str
    ours: str
    baseline: str
    ratio: str = ""
    target: str = ""
    met: bool | None = None
    note: str = ""


@dataclass(kw_only=True)
class Report:
    rows: list[Row] = field(default_factory=list)
    shares: list[tuple[str, float]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # The floors measured by measure_stages, summed into the cold round's floor.
    floors_parse_s: float = 0.0
    floors_sanitize_s: float = 0.0
    floors_atom_s: float = 0.0

    def add(self, row: Row) -> None:
        self.rows.append(row)
        print(f"  .. {row.figure}: {row.ours} (baseline {row.baseline}) {row.ratio}", flush=True)

    def render(self) -> str:
        head = ("figure", "ours", "baseline (same run)", "ratio", "target", "met")
        body = [
            (
                r.figure,
                r.ours,
                r.baseline,
                r.ratio,
                r.target,
                "" if r.met is None else ("yes" if r.met else "NO"),
            )
            for r in self.rows
        ]
        widths = [max(len(str(x[i])) for x in [head, *body]) for i in range(len(head))]

        def line(cells: Sequence[str]) -> str:
            return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

        out = [line(head), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
        out += [line(b) for b in body]
        notes = [f"- {r.figure}: {r.note}" for r in self.rows if r.note]
        if self.shares:
            total = sum(s for _, s in self.shares) or 1.0
            shares = ", ".join(f"{name} {s:.1f}s ({s / total:.0%})" for name, s in self.shares)
            out += ["", f"Cold round, stage CPU (timed in-process over the corpus): {shares}"]
        return "\n".join(out + (["", *notes] if notes else []) + self.notes)


def _mb(n: int) -> str:
    return f"{n / _MB:,.0f} MB"


def _x(a: float, b: float) -> str:
    return f"{a / b:.2f}×" if b else "n/a"


# ------------------------------------------------------------------ in-process


def _our_fetch_rounds(urls: Sequence[str], concurrency: int) -> tuple[float, float]:
    """aggregator's Fetcher: a cold round, then a round that is all 304; seconds each."""
    from aggregator.fetch import Fetcher, FetchLimits

    async def rounds() -> tuple[float, float]:
        # One host serves every feed here: the per-host limit is lifted to the global one.
        limits = FetchLimits(max_connections=concurrency, per_host=concurrency)
        async with Fetcher(limits) as fetcher:
            start = time.perf_counter()
            cold = await asyncio.gather(*(fetcher.fetch(u) for u in urls))
            cold_s = time.perf_counter() - start
            validators = [r.validators for r in cold]
            del cold
            start = time.perf_counter()
            warm = await asyncio.gather(
                *(fetcher.fetch(u, validators=v) for u, v in zip(urls, validators, strict=True))
            )
            warm_s = time.perf_counter() - start
        if not all(r.status == 304 for r in warm):
            raise RuntimeError("aggregator's warm round was not all 304")
        return cold_s, warm_s

    return asyncio.run(rounds())


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def _peak_rss_child(fn: str, *args: str, env: dict[str, str]) -> Measured:
    code = f"import sys; from bench.run import {fn} as f; f(*sys.argv[1:])"
    return run_measured([sys.executable, "-c", code, *args], env=env)


# ---------------------------------------------------------------------- stages


def _corpus_bodies(root: Path, n_feeds: int, seed: int) -> list[tuple[bytes, str]]:
    return [
        ((root / "feed" / f"{i}.xml").read_bytes(), feed_spec(seed, i).content_type)
        for i in range(n_feeds)
    ]


def measure_stages(report: Report, bodies: list[tuple[bytes, str]], sample: int) -> None:
    """Parse, sanitize and Atom writing: ours against the floors and feedparser."""
    from aggregator.fastparse import parse_fast
    from aggregator.normalize import sanitize_html
    from aggregator.parse import parse

    url = "https://bench.example.org/feed.xml"

    def ours_parse() -> list[Any]:
        out = []
        for body, ctype in bodies:
            headers = {"content-type": ctype}
            out.append(parse_fast(body, headers, url=url) or parse(body, headers, url=url))
        return out

    parse_s, parsed = _timed(ours_parse)
    items = sum(len(p.entries) for p in parsed)
    declined = sum(
        1 for body, ctype in bodies if parse_fast(body, {"content-type": ctype}, url=url) is None
    )
    lxml_s, lxml_items = floors.lxml_parse(bodies)
    step = max(1, len(bodies) // sample)
    fp_s, fp_items = floors.feedparser_defaults(bodies[::step])
    fp_rate = fp_items / fp_s
    ours_rate = items / parse_s
    report.add(
        Row(
            figure="parse, items/s (all feeds)",
            ours=f"{ours_rate:,.0f}",
            baseline=f"feedparser defaults {fp_rate:,.0f}; lxml floor {lxml_items / lxml_s:,.0f}",
            ratio=f"{ours_rate / fp_rate:.1f}× feedparser",
            target="≥ 25× feedparser",
            met=ours_rate >= 25 * fp_rate,
            note=(
                f"fast path took {len(bodies) - declined}/{len(bodies)} feeds;"
                f" feedparser defaults timed on every {step}th feed"
            ),
        )
    )
    report.shares.append(("parse", parse_s))

    # Sanitize and normalize are timed on a sample (every k-th item, feed) and scaled to
    # the corpus: the per-item cost is what the targets compare.
    fragments = [(e.content or e.summary or "", e.link) for p in parsed for e in p.entries]
    k = max(1, len(fragments) // 5000)
    picked = fragments[::k]
    ours_s, _ = _timed(lambda: [sanitize_html(h, base_url=b) for h, b in picked])
    nh3_s = floors.nh3_sanitize([h for h, _ in picked])
    per_ours = ours_s / len(picked) * 1e6
    per_nh3 = nh3_s / len(picked) * 1e6
    report.add(
        Row(
            figure="sanitize, µs/item",
            ours=f"{per_ours:,.0f}",
            baseline=f"reused nh3.Cleaner {per_nh3:,.0f}",
            ratio=_x(per_ours, per_nh3),
            target="≤ 1.25×",
            met=per_ours <= 1.25 * per_nh3,
            note=(
                f"normalize.sanitize_html (allowlist, absolute URLs, pixel and image fixes);"
                f" {len(picked):,} of {len(fragments):,} items"
            ),
        )
    )
    report.shares.append(("sanitize", per_ours * len(fragments) / 1e6))
    report.floors_sanitize_s = per_nh3 * len(fragments) / 1e6

    from aggregator.normalize import normalize
    from aggregator.types import Source

    source = Source(name="bench", url=url, category="world", tags=("World",), interval=_interval())
    now = datetime(2024, 6, 1, tzinfo=UTC)
    few = parsed[::step]
    norm_s, _ = _timed(
        lambda: [
            normalize(p, source, now=now, site_timezone="Asia/Shanghai", feed_url=url) for p in few
        ]
    )
    norm_items = sum(len(p.entries) for p in few) or 1
    rest = norm_s / norm_items * 1e6 - per_ours  # µs per item beyond sanitizing
    report.shares.append(("normalize beyond sanitize", max(0.0, rest) * len(fragments) / 1e6))

    with tempfile.TemporaryDirectory(prefix="bench-atom-") as tmp:
        feeds = [
            [
                (e.guid or e.link or "", e.title or "", e.link or "", e.content or "")
                for e in p.entries
            ]
            for p in parsed
        ]
        atom_s = floors.lxml_atom(feeds, Path(tmp))
    report.floors_parse_s = lxml_s
    report.floors_atom_s = atom_s


def _interval() -> Any:
    from datetime import timedelta

    return timedelta(minutes=30)


# ----------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--quick", action="store_true", help="100 × 20, 10,000 posts, small scale")
    p.add_argument("--feeds", type=int)
    p.add_argument("--items", type=int)
    p.add_argument("--posts", type=int, help="posts in the store for the publish figures")
    p.add_argument("--scale", help="comma-separated source counts for the all-304 rounds")
    p.add_argument("--naive-feeds", type=int, help="feeds the naive pipeline runs (scaled up)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--concurrency", type=int, default=50)
    p.add_argument("--skip", default="", help="comma-separated: naive,publish,scale")
    args = p.parse_args(argv)
    quick = args.quick
    n_feeds = args.feeds or (100 if quick else 500)
    n_items = args.items or (20 if quick else 50)
    n_posts = args.posts or (10_000 if quick else 100_000)
    scale = [
        int(x) for x in (args.scale or ("500,1000,2000" if quick else "1000,5000,20000")).split(",")
    ]
    naive_feeds = min(n_feeds, args.naive_feeds or (n_feeds if quick else 100))
    skip = set(filter(None, args.skip.split(",")))
    began = time.perf_counter()

    print("machine")
    for key, value in machine_facts().items():
        print(f"  {key:<10} {value}")
    load = os.getloadavg()
    print(f"  load avg   {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} at start", flush=True)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    cores = len(os.sched_getaffinity(0))
    report = Report()
    tmp = Path(tempfile.mkdtemp(prefix="bench-"))
    try:
        with serve_corpus(n_feeds, n_items, seed=args.seed, root=tmp / "corpus") as srv:
            urls = srv.feed_urls
            print(
                f"corpus     {n_feeds} feeds × {n_items} items, {srv.total_bytes / _MB:.0f} MB,"
                f" at {srv.base_url}\n",
                flush=True,
            )
            # Fetch: floor and ours, same server, same URLs.
            floor = floors.aiohttp_rounds(urls, concurrency=args.concurrency)
            cold_s, warm_s = _our_fetch_rounds(urls, args.concurrency)
            report.add(
                Row(
                    figure=f"fetch, cold pass ({n_feeds} feeds)",
                    ours=f"{cold_s:.2f} s",
                    baseline=f"aiohttp c={args.concurrency} {floor.cold_s:.2f} s",
                    ratio=_x(cold_s, floor.cold_s),
                    target="≤ 3×",
                    met=cold_s <= 3 * floor.cold_s,
                )
            )
            report.add(
                Row(
                    figure="fetch, all-304 round, requests/s",
                    ours=f"{n_feeds / warm_s:,.0f}",
                    baseline=f"aiohttp {n_feeds / floor.warm_s:,.0f}",
                    ratio=f"{floor.warm_s / warm_s:.2f}× aiohttp's rate",
                    target="≥ ⅓ (0.33×)",
                    met=floor.warm_s / warm_s >= 1 / 3,
                )
            )
            report.shares.append(("fetch", cold_s))

            bodies = _corpus_bodies(srv.root, n_feeds, args.seed)
            measure_stages(report, bodies, sample=10 if quick else 25)
            del bodies
            floors_sum = (
                floor.cold_s
                + report.floors_parse_s
                + report.floors_sanitize_s
                + report.floors_atom_s
            )

            naive: Measured | None = None
            naive_scale = n_feeds / naive_feeds
            if "naive" not in skip:
                url_file = tmp / "naive-urls.txt"
                url_file.write_text("\n".join(urls[:naive_feeds]), encoding="utf-8")
                naive = run_measured(
                    [
                        sys.executable,
                        "-m",
                        "bench.floors",
                        "naive",
                        str(url_file),
                        str(tmp / "naive"),
                    ],
                    env=env,
                )
                if naive.returncode != 0:
                    report.notes.append(f"naive pipeline failed: {naive.stderr[-500:]}")
                    naive = None

            work = tmp / "aggregator"
            config = write_config(work, urls, seed=args.seed)
            command = [sys.executable, "-m", "aggregator", "--config", str(config)]

            def cli(*extra: str) -> Measured:
                result = run_measured([*command, *extra], env=env, cwd=work, timeout=900)
                if result.returncode != 0:
                    raise RuntimeError(
                        f"{' '.join(extra)}: exit {result.returncode}\n{result.stderr[-2000:]}"
                    )
                return result

            cold = cli("run", "--once", "--all")
            if naive is not None:
                naive_wall = naive.wall_s * naive_scale
                report.add(
                    Row(
                        figure=f"cold `run --once`, {n_feeds} × {n_items}, wall",
                        ours=f"{cold.wall_s:.1f} s",
                        baseline=f"naive {naive_wall:.1f} s",
                        ratio=f"1/{naive_wall / cold.wall_s:.1f} of naive",
                        target="≤ 1/15 of naive",
                        met=cold.wall_s * 15 <= naive_wall,
                        note=(
                            f"naive pipeline ran {naive_feeds} feeds in {naive.wall_s:.1f} s,"
                            f" scaled ×{naive_scale:g} (it is sequential)"
                            if naive_scale != 1
                            else ""
                        ),
                    )
                )
            per_core = floors_sum / cores
            report.add(
                Row(
                    figure="cold `run --once` vs floors",
                    ours=f"{cold.wall_s:.1f} s",
                    baseline=f"floors' sum / {cores} cores {per_core:.1f} s",
                    ratio=_x(cold.wall_s, per_core),
                    target="≤ 2.5×",
                    met=cold.wall_s <= 2.5 * per_core,
                    note=(
                        f"floors: aiohttp {floor.cold_s:.1f} + lxml parse"
                        f" {report.floors_parse_s:.1f} + nh3 {report.floors_sanitize_s:.1f}"
                        f" + lxml Atom {report.floors_atom_s:.1f} s"
                    ),
                )
            )
            if naive is not None:
                report.add(
                    Row(
                        figure="cold `run --once`, peak RSS",
                        ours=_mb(cold.max_rss_bytes),
                        baseline=f"naive {_mb(naive.max_rss_bytes)}",
                        ratio=_x(cold.max_rss_bytes, naive.max_rss_bytes),
                        target="≤ 1×",
                        met=cold.max_rss_bytes <= naive.max_rss_bytes,
                    )
                )
            other = cold.wall_s - sum(s for _, s in report.shares) / cores
            report.shares.append(("store, publish, start-up (wall left over)", max(0.0, other)))

            warm = cli("run", "--once", "--all")
            report.add(
                Row(
                    figure="warm `run --once` (all 304), requests/s",
                    ours=(
                        f"{n_feeds / warm.wall_s:,.0f}"
                        f" ({warm.wall_s:.2f} s, {_mb(warm.max_rss_bytes)})"
                    ),
                    baseline=f"aiohttp {n_feeds / floor.warm_s:,.0f}",
                    ratio=f"{floor.warm_s / warm.wall_s:.2f}× aiohttp's rate",
                    note="whole CLI process: start-up, config, store, no publish",
                )
            )
            changed = srv.bump(0.1)
            ten = cli("run", "--once", "--all")
            report.add(
                Row(
                    figure=f"`run --once`, 10% changed ({len(changed)} feeds)",
                    ours=f"{ten.wall_s:.1f} s, {_mb(ten.max_rss_bytes)}",
                    baseline=f"cold {cold.wall_s:.1f} s",
                    ratio=_x(ten.wall_s, cold.wall_s),
                    note="5 new items in each changed feed",
                )
            )

        if "publish" not in skip:
            publish_rows(report, tmp / "publish", n_posts, env)
        if "scale" not in skip:
            scale_rows(report, tmp / "scale", scale, args.seed, args.concurrency, env)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    load = os.getloadavg()
    report.notes.append(
        f"\nTotal {time.perf_counter() - began:.0f} s; load average at the end"
        f" {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {cores} cores."
    )
    print()
    print(report.render())
    return 0


def publish_rows(report: Report, directory: Path, n_posts: int, env: dict[str, str]) -> None:
    """`publish --all` and an incremental publish after one new post, `n_posts` in the store."""
    from bench import publish as pub

    directory.mkdir(parents=True)
    categories = 50
    config = pub.write_config(directory, categories, False, False)
    database = f"sqlite:///{directory / 'bench.db'}"
    fill_s, _ = _timed(lambda: pub.fill_store(database, n_posts, categories))
    command = [sys.executable, "-m", "aggregator", "--config", str(config)]
    full = run_measured([*command, "publish", "--all"], env=env, cwd=directory, timeout=900)
    pub.add_one_post(database, n_posts, categories)
    one = run_measured([*command, "publish"], env=env, cwd=directory, timeout=900)
    for result in (full, one):
        if result.returncode != 0:
            report.notes.append(f"publish failed: {result.stderr[-1000:]}")
            return
    report.add(
        Row(
            figure=f"publish, one new post among {n_posts:,}",
            ours=f"{one.wall_s:.2f} s, {_mb(one.max_rss_bytes)}",
            baseline=f"`publish --all` {full.wall_s:.1f} s, {_mb(full.max_rss_bytes)}",
            ratio=f"1/{full.wall_s / one.wall_s:.0f}",
            target="< 1/100",
            met=one.wall_s * 100 < full.wall_s,
            note=f"store filled in {fill_s:.0f} s by bench/publish.py ({categories} categories)",
        )
    )


def scale_rows(
    report: Report,
    directory: Path,
    sizes: Sequence[int],
    seed: int,
    concurrency: int,
    env: dict[str, str],
) -> None:
    """An all-304 round at each size: cost per source, ours and aiohttp's, and peak RSS."""
    per: list[str] = []
    for n in sizes:
        with serve_corpus(n, 1, seed=seed, root=directory / "corpus") as srv:
            url_file = directory / "urls.txt"
            url_file.write_text("\n".join(srv.feed_urls), encoding="utf-8")
            result = _peak_rss_child("scale_worker", str(url_file), str(concurrency), env=env)
            if result.returncode != 0:
                report.notes.append(f"scale {n} failed: {result.stderr[-1000:]}")
                return
            figures = json.loads(result.stdout.strip().splitlines()[-1])
            floor = floors.aiohttp_rounds(srv.feed_urls, concurrency=concurrency)
        ours_us = figures["warm_s"] / n * 1e6
        floor_us = floor.warm_s / n * 1e6
        per.append(f"{ours_us:.0f}")
        report.add(
            Row(
                figure=f"all-304 round, {n:,} sources, µs/source",
                ours=f"{ours_us:,.0f} (peak RSS {_mb(result.max_rss_bytes)})",
                baseline=f"aiohttp {floor_us:,.0f}",
                ratio=_x(ours_us, floor_us),
                note="aggregator's Fetcher in its own process (cold round first, for validators)",
            )
        )
    report.notes.append(
        f"Cost per source across {', '.join(map(str, sizes))}: {' → '.join(per)} µs."
    )


def scale_worker(url_file: str, concurrency: str) -> None:
    urls = Path(url_file).read_text(encoding="utf-8").split()
    cold_s, warm_s = _our_fetch_rounds(urls, int(concurrency))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"cold_s": cold_s, "warm_s": warm_s, "rss": rss}))


if __name__ == "__main__":
    sys.exit(main())
