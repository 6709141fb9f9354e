"""Soak benchmark: one `aggregator run` daemon holding many loopback sources for a long
time, the memory of its whole process tree printed every minute (issue 16: a daemon of
1,000 sources for an hour stays under 100 MB, with no growth after the first rounds).

Every `--interval` a share of the feeds (`--changed`) gets new items, so the rounds store
and publish as a live site's do; the rest answer 304. Prints one line a minute (elapsed,
the tree's VmRSS and the main process's, processes, rounds and posts so far, CPU), then
the verdict: the largest tree over the run against the target, and the growth from the
end of the warm-up (the first `--warmup` minutes) to the end. Changes nothing outside its
temporary directory.

    .venv/bin/python -m bench.soak                          # 1,000 sources, 60 minutes
    .venv/bin/python -m bench.soak --sources 200 --minutes 5 --interval 1m
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.corpus import (
    REPO_ROOT,
    cpu_seconds,
    machine_facts,
    serve_corpus,
    tree_rss,
    write_config,
)

_MB = 1024 * 1024
TARGET_MB = 100.0
GROWTH_LIMIT = 0.05  # what "no growth" allows: 5% above the warm-up's figure


@dataclass(frozen=True, slots=True)
class Sample:
    minute: float
    tree_mb: float
    main_mb: float
    processes: int
    rounds: int
    posts: int
    cpu_s: float


def _interval_s(text: str) -> float:
    match = re.fullmatch(r"(\d+)([smh])", text)
    if match is None:
        raise argparse.ArgumentTypeError(f"not an interval like 1m or 30s: {text!r}")
    return int(match.group(1)) * {"s": 1, "m": 60, "h": 3600}[match.group(2)]


def _counts(log: Path) -> tuple[int, int]:
    """(rounds, new posts) the daemon logged so far."""
    text = log.read_text("utf-8", errors="replace")
    news = re.findall(r"round: \d+ due, .*? (\d+) new", text)
    return len(news), sum(map(int, news))


def sample(pid: int, started: float, log: Path) -> Sample:
    sizes = tree_rss(pid)
    rounds, posts = _counts(log)
    return Sample(
        minute=(time.monotonic() - started) / 60,
        tree_mb=sum(sizes.values()) / _MB,
        main_mb=sizes.get(pid, 0) / _MB,
        processes=len(sizes),
        rounds=rounds,
        posts=posts,
        cpu_s=sum(cpu_seconds(p) for p in sizes),
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--sources", type=int, default=1000)
    p.add_argument("--items", type=int, default=20)
    p.add_argument("--minutes", type=float, default=60.0)
    p.add_argument("--interval", default="5m", help="schedule.interval of every source")
    p.add_argument("--changed", type=float, default=0.02, help="share of feeds changed")
    p.add_argument("--warmup", type=float, default=10.0, help="minutes before growth counts")
    p.add_argument("--hosts", type=int, default=50, help="loopback hosts serving the feeds")
    args = p.parse_args(argv)
    every = _interval_s(args.interval)

    for key, value in machine_facts().items():
        print(f"# {key}: {value}")
    with tempfile.TemporaryDirectory(prefix="bench-soak-") as tmp:
        work = Path(tmp)
        with serve_corpus(
            args.sources, args.items, root=work / "corpus", hosts=args.hosts
        ) as server:
            config = write_config(work / "site", server.feed_urls, interval=args.interval)
            env = dict(os.environ)
            env["PYTHONPATH"] = os.pathsep.join(
                filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")])
            )
            log = work / "daemon.log"
            with open(log, "wb") as out:
                daemon = subprocess.Popen(
                    [sys.executable, "-m", "aggregator", "--config", str(config), "run"],
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    cwd=config.parent,
                    env=env,
                )
            print(
                f"# {args.sources} sources × {args.items} items on {args.hosts} loopback hosts,"
                f" interval {args.interval}, {args.changed:.0%} changed each interval,"
                f" {args.minutes:g} minutes; daemon pid {daemon.pid}"
            )
            print(
                f"{'minute':>6} {'tree MB':>8} {'main MB':>8} {'procs':>5} {'rounds':>6}"
                f" {'posts':>7} {'CPU s':>7}"
            )
            started = time.monotonic()
            samples: list[Sample] = []
            next_bump = started + every
            next_sample = started + 60
            try:
                while time.monotonic() - started < args.minutes * 60:
                    if daemon.poll() is not None:
                        print(f"# the daemon exited ({daemon.returncode}); its log:")
                        print(log.read_text("utf-8", errors="replace")[-2000:])
                        return 1
                    now = time.monotonic()
                    if now >= next_bump:
                        server.bump(args.changed)
                        next_bump += every
                    if now >= next_sample:
                        s = sample(daemon.pid, started, log)
                        samples.append(s)
                        print(
                            f"{s.minute:6.1f} {s.tree_mb:8.1f} {s.main_mb:8.1f} {s.processes:5d}"
                            f" {s.rounds:6d} {s.posts:7d} {s.cpu_s:7.1f}",
                            flush=True,
                        )
                        next_sample += 60
                    time.sleep(0.5)
            finally:
                daemon.send_signal(signal.SIGTERM)
                try:
                    daemon.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    daemon.kill()
                    daemon.wait()
    if not samples:
        print("# no sample taken (--minutes under 1)")
        return 1
    peak = max(s.tree_mb for s in samples)
    warm = [s for s in samples if s.minute >= args.warmup] or samples[-1:]
    growth = (warm[-1].tree_mb - warm[0].tree_mb) / warm[0].tree_mb
    print(
        f"# largest tree {peak:.1f} MB (target < {TARGET_MB:.0f} MB):"
        f" {'met' if peak < TARGET_MB else 'NOT met'}"
    )
    print(
        f"# growth from minute {warm[0].minute:.0f} to {warm[-1].minute:.0f}:"
        f" {warm[0].tree_mb:.1f} → {warm[-1].tree_mb:.1f} MB ({growth:+.1%};"
        f" allowed +{GROWTH_LIMIT:.0%}): {'none' if growth <= GROWTH_LIMIT else 'GROWS'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
