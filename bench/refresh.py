"""Refresh benchmark: a naive sequential feedparser loop against `aggregator run --once`,
cold (fresh database) and warm (every feed answers 304), over a served synthetic corpus.
Prints figures only; it changes nothing outside its temporary directories.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

if not __package__:  # run as `python bench/refresh.py`: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.corpus import (
    REPO_ROOT,
    Measured,
    machine_facts,
    run_measured,
    serve_corpus,
    write_config,
)

_MB = 1024 * 1024


def naive_worker() -> None:
    """Fetch and parse every URL listed in the file argv[1], one after another, the way a
    first script would: feedparser given the URL, all defaults. Prints a JSON summary."""
    import feedparser

    urls = Path(sys.argv[1]).read_text(encoding="utf-8").split()
    items = bozo = failed = 0
    for url in urls:
        parsed = feedparser.parse(url)
        if parsed.get("status") != 200:
            failed += 1
        bozo += bool(parsed.bozo)
        items += len(parsed.entries)
    print(json.dumps({"feeds": len(urls), "items": items, "bozo": bozo, "failed": failed}))


@dataclass(frozen=True, slots=True, kw_only=True)
class Row:
    name: str
    result: Measured
    feeds: int
    items: int  # items in the feeds that had to be parsed (0 when all were 304)
    note: str


def _posts(output_dir: Path) -> int:
    posts = output_dir / "_posts"
    return sum(1 for _ in posts.rglob("*.md")) if posts.is_dir() else 0


def _tail(text: str, lines: int = 12) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def _table(rows: Sequence[Row], baseline: Row | None) -> str:
    head = ("run", "wall s", "feeds/s", "items/s", "peak RSS MB", "vs naive", "notes")
    body = []
    for row in rows:
        wall = row.result.wall_s
        speedup = (
            f"{baseline.result.wall_s / wall:.1f}×" if baseline and row is not baseline else ""
        )
        body.append(
            (
                row.name,
                f"{wall:.2f}",
                f"{row.feeds / wall:,.0f}",
                f"{row.items / wall:,.0f}" if row.items else "-",
                f"{row.result.max_rss_bytes / _MB:,.0f}",
                speedup,
                row.note,
            )
        )
    widths = [max(len(r[i]) for r in (head, *body)) for i in range(len(head))]
    lines = [
        "  ".join(
            c.ljust(w) if i in (0, 6) else c.rjust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        ).rstrip()
        for r in (head, *body)
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _find_aggregator(given: str | None) -> str | None:
    if given:
        return given
    beside = Path(sys.executable).with_name("aggregator")
    if beside.exists():
        return str(beside)
    return shutil.which("aggregator")


def main(argv: Sequence[str] | None = None) -> int:
    """Serve the corpus, run the baseline and the aggregator, print the table."""
    parser = argparse.ArgumentParser(prog="python -m bench.refresh", description=__doc__)
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--items", type=int, default=50, help="items per feed")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--changed",
        type=float,
        default=0.1,
        help="after the warm round, give this share of feeds new items and run again (0: skip)",
    )
    parser.add_argument("--aggregator", help="the aggregator executable (default: beside python)")
    parser.add_argument("--skip-naive", action="store_true", help="skip the slow baseline")
    parser.add_argument("--keep", type=Path, help="keep the aggregator's working dir here")
    parser.add_argument("--timeout", type=float, default=600, help="seconds per command")
    args = parser.parse_args(argv)

    print("machine")
    for key, value in machine_facts().items():
        print(f"  {key:<10} {value}")
    total_items = args.feeds * args.items
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))

    with tempfile.TemporaryDirectory(prefix="bench-refresh-") as tmp:
        work = args.keep or Path(tmp) / "aggregator"
        if work.exists() and any(work.iterdir()):
            parser.error(f"--keep {work}: not empty")
        started = time.perf_counter()
        with serve_corpus(args.feeds, args.items, seed=args.seed, root=Path(tmp) / "corpus") as srv:
            print(
                f"corpus     {args.feeds} feeds × {args.items} items = {total_items:,} items,"
                f" {srv.total_bytes / _MB:.1f} MB (seed {args.seed}; generated and served in"
                f" {time.perf_counter() - started:.1f}s) at {srv.base_url}"
            )
            print(flush=True)
            rows: list[Row] = []
            baseline = None
            if not args.skip_naive:
                url_file = Path(tmp) / "urls.txt"
                url_file.write_text("\n".join(srv.feed_urls), encoding="utf-8")
                code = "from bench.refresh import naive_worker; naive_worker()"
                result = run_measured(
                    [sys.executable, "-c", code, str(url_file)], env=env, timeout=args.timeout
                )
                if result.returncode != 0:
                    print(f"naive baseline failed: {_tail(result.stderr)}")
                else:
                    summary = json.loads(result.stdout)
                    note = f"{summary['items']:,} entries, {summary['failed']} failed"
                    if summary["bozo"]:
                        note += f", {summary['bozo']} bozo"
                    baseline = Row(
                        name="naive feedparser.parse(url), sequential",
                        result=result,
                        feeds=args.feeds,
                        items=summary["items"],
                        note=note,
                    )
                    rows.append(baseline)

            exe = _find_aggregator(args.aggregator)
            config = write_config(work, srv.feed_urls, seed=args.seed)
            output_dir = work / "site"
            rounds = [("aggregator run --once, cold", 1.0), ("aggregator run --once, warm", 0.0)]
            if args.changed:
                rounds.append((f"aggregator run --once, {args.changed:.0%} changed", args.changed))
            failure = None if exe else "aggregator executable not found"
            for name, share in rounds:
                if failure:
                    break
                assert exe is not None
                changed = len(srv.bump(share)) if 0 < share < 1 else round(share * args.feeds)
                before = _posts(output_dir)
                # --all: the warm round must check every feed even though none is due yet.
                result = run_measured(
                    [exe, "--config", str(config), "run", "--once", "--all"],
                    env=env,
                    cwd=work,
                    timeout=args.timeout,
                )
                if result.returncode != 0:
                    failure = f"exit {result.returncode}\n{_tail(result.stderr or result.stdout)}"
                    break
                added = _posts(output_dir) - before
                rows.append(
                    Row(
                        name=name,
                        result=result,
                        feeds=args.feeds,
                        items=changed * args.items,
                        note=f"{changed} feeds changed, +{added:,} post files",
                    )
                )

    print(_table(rows, baseline))
    if baseline and len(rows) > 1 and rows[1].name.endswith("cold"):
        cold = rows[1].result
        speed = baseline.result.wall_s / cold.wall_s
        pace = f"{speed:.1f}× faster" if speed >= 1 else f"{1 / speed:.1f}× slower"
        print(
            f"\ncold vs naive: {pace} (wall {cold.wall_s:.1f}s vs {baseline.result.wall_s:.1f}s),"
            f" {cold.max_rss_bytes / baseline.result.max_rss_bytes:.1f}× the peak RSS"
        )
    if failure:
        print(f"\naggregator failed: {failure}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
