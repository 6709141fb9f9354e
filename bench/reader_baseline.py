"""lemon24/reader as a baseline for `python -m bench`: its `update_feeds` over the bench's
corpus and loopback server, each round in a process of its own (so its memory is its own).
Measures only; writes nothing but the reader databases under the directory it is given.

    python -m bench.reader_baseline update DB URLS_FILE [--workers N]   # one JSON line
    python -m bench.reader_baseline keep DB URLS_FILE    # delete the feeds not in URLS_FILE

reader is optional (`pip install -e '.[bench]'`); `installed()` says whether it is there.
The child process imports only the standard library and reader: nothing of bench.corpus or
aggregator counts in its memory.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bench.corpus import Measured

__all__ = ["INSTALL_HINT", "ReaderRound", "ReaderRounds", "installed", "measure", "version"]

INSTALL_HINT = "not installed (pip install -e '.[bench]')"


def version() -> str | None:
    """The installed reader's version, or None when it is not installed."""
    from importlib import metadata

    try:
        return metadata.version("reader")
    except metadata.PackageNotFoundError:
        return None


def installed() -> bool:
    return version() is not None


# ------------------------------------------------------------------ the child


def _read_urls(path: str) -> list[str]:
    return [u for u in Path(path).read_text(encoding="utf-8").splitlines() if u]


def update(db: str, urls_file: str, workers: int) -> dict[str, Any]:
    """Add every URL (the ones already there are kept) and time one `update_feeds` of all of
    them, whether scheduled or not, as `aggregator run --once --all` does."""
    from reader import make_reader

    reader = make_reader(db)
    try:
        for url in _read_urls(urls_file):
            reader.add_feed(url, exist_ok=True)
        updated = not_modified = new = modified = 0
        errors: list[str] = []
        cpu = time.process_time()
        start = time.perf_counter()
        # What update_feeds() does (it loops over update_feeds_iter and drops ParseErrors),
        # with each result counted, so the round can be checked to be what it should be.
        for result in reader.update_feeds_iter(scheduled=False, workers=workers):
            value = result.value
            if value is None:  # "the server indicated the feed has not changed": a 304
                not_modified += 1
            elif isinstance(value, Exception):
                errors.append(f"{result.url}: {value!r}")
            else:
                updated += 1
                new += value.new
                modified += value.modified
        wall = time.perf_counter() - start
        cpu = time.process_time() - cpu
        entries = reader.get_entry_counts().total
    finally:
        reader.close()
    return {
        "update_s": wall,
        "update_cpu_s": cpu,
        "updated": updated,
        "not_modified": not_modified,
        "new": new,
        "modified": modified,
        "entries": entries,
        "errors": errors[:5],
        "error_count": len(errors),
    }


def keep(db: str, urls_file: str) -> dict[str, Any]:
    """Delete every feed (and its entries) whose URL is not in `urls_file`."""
    from reader import make_reader

    wanted = set(_read_urls(urls_file))
    reader = make_reader(db)
    try:
        gone = [f.url for f in reader.get_feeds() if f.url not in wanted]
        for url in gone:
            reader.delete_feed(url)
        left = reader.get_feed_counts().total
    finally:
        reader.close()
    return {"deleted": len(gone), "feeds": left}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.reader_baseline")
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("update", help="add the feeds in URLS_FILE, time one update_feeds")
    up.add_argument("db")
    up.add_argument("urls_file")
    up.add_argument("--workers", type=int, default=20)
    kp = sub.add_parser("keep", help="delete the feeds not in URLS_FILE")
    kp.add_argument("db")
    kp.add_argument("urls_file")
    args = parser.parse_args(argv)
    try:
        if args.command == "update":
            out = update(args.db, args.urls_file, args.workers)
        else:
            out = keep(args.db, args.urls_file)
    except ImportError as e:
        print(f"reader: {INSTALL_HINT}: {e}", file=sys.stderr)
        return 2
    print(json.dumps(out))
    return 0


# ----------------------------------------------------------------- the runner


@dataclass(frozen=True, slots=True, kw_only=True)
class ReaderRound:
    """One `update_feeds` in its own process: the call's own wall and CPU (from inside),
    and the process as `run_measured` saw it (wall with start-up, CPU, peak memory)."""

    workers: int
    feeds: int
    update_s: float
    update_cpu_s: float
    updated: int
    not_modified: int
    entries: int
    error_count: int
    errors: tuple[str, ...]
    process: Measured

    @property
    def process_peak_bytes(self) -> int:
        return self.process.process_peak_bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class ReaderRounds:
    """reader's cold rounds (by workers) over every feed, and its all-304 rounds (by
    workers) over the first `warm_feeds`; `failures` says what did not run and why."""

    version: str
    cold: dict[int, ReaderRound]
    warm: dict[int, ReaderRound]
    warm_feeds: int
    failures: tuple[str, ...]


def _round(
    argv: list[str], *, workers: int, feeds: int, env: dict[str, str], cwd: Path
) -> ReaderRound | str:
    from bench.corpus import run_measured

    m = run_measured(argv, env=env, cwd=cwd, timeout=1800)
    if m.returncode != 0:
        return f"exit {m.returncode}: {m.stderr.strip()[-500:]}"
    try:
        out = json.loads(m.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return f"no figures in its output: {m.stdout[-300:]!r}"
    return ReaderRound(
        workers=workers,
        feeds=feeds,
        update_s=out["update_s"],
        update_cpu_s=out["update_cpu_s"],
        updated=out["updated"],
        not_modified=out["not_modified"],
        entries=out["entries"],
        error_count=out["error_count"],
        errors=tuple(out["errors"]),
        process=m,
    )


def measure(
    directory: Path,
    urls: Sequence[str],
    *,
    warm_feeds: int,
    cold_workers: Sequence[int],
    warm_workers: Sequence[int],
    env: dict[str, str],
) -> ReaderRounds:
    """A cold `update_feeds` over every URL on a new database for each of `cold_workers`;
    then, on a copy of the first cold round's database keeping only the first `warm_feeds`
    feeds, one all-304 round for each of `warm_workers` (each checked to be all 304).

    Raises:
        OSError: when `directory` cannot be written.
    """
    directory.mkdir(parents=True)
    all_urls = directory / "urls.txt"
    all_urls.write_text("\n".join(urls), encoding="utf-8")
    some_urls = directory / f"urls-{warm_feeds}.txt"
    some_urls.write_text("\n".join(urls[:warm_feeds]), encoding="utf-8")
    child = [sys.executable, "-m", "bench.reader_baseline"]
    failures: list[str] = []
    cold: dict[int, ReaderRound] = {}
    warm: dict[int, ReaderRound] = {}
    for workers in cold_workers:
        db = directory / f"cold-w{workers}.sqlite"
        got = _round(
            [*child, "update", str(db), str(all_urls), "--workers", str(workers)],
            workers=workers,
            feeds=len(urls),
            env=env,
            cwd=directory,
        )
        if isinstance(got, str):
            failures.append(f"cold round, workers {workers}: {got}")
            continue
        cold[workers] = got
    if cold and warm_workers:
        source = directory / f"cold-w{next(iter(cold))}.sqlite"
        db = directory / f"warm-{warm_feeds}.sqlite"
        shutil.copyfile(source, db)  # closed by its process: no WAL left beside it
        pruned = _round_keep([*child, "keep", str(db), str(some_urls)], env=env, cwd=directory)
        if pruned:
            failures.append(f"all-304 rounds: keeping {warm_feeds} feeds failed: {pruned}")
        else:
            for workers in warm_workers:
                got = _round(
                    [*child, "update", str(db), str(some_urls), "--workers", str(workers)],
                    workers=workers,
                    feeds=warm_feeds,
                    env=env,
                    cwd=directory,
                )
                if isinstance(got, str):
                    failures.append(f"all-304 round, workers {workers}: {got}")
                elif got.not_modified != warm_feeds:
                    failures.append(
                        f"all-304 round, workers {workers}: {got.not_modified} of"
                        f" {warm_feeds} feeds answered 304 ({got.updated} updated,"
                        f" {got.error_count} errors)"
                    )
                else:
                    warm[workers] = got
    elif not cold:
        failures.append("all-304 rounds: no cold round to start from")
    return ReaderRounds(
        version=version() or "?",
        cold=cold,
        warm=warm,
        warm_feeds=warm_feeds,
        failures=tuple(failures),
    )


def _round_keep(argv: list[str], *, env: dict[str, str], cwd: Path) -> str:
    """Run `keep`; '' when it did, else why not."""
    from bench.corpus import run_measured

    m = run_measured(argv, env=env, cwd=cwd, timeout=600)
    return "" if m.returncode == 0 else f"exit {m.returncode}: {m.stderr.strip()[-500:]}"


if __name__ == "__main__":
    sys.exit(main())
