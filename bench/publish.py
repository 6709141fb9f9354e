"""Publish benchmark: a store of many posts over many categories, then `aggregator publish
--all` (full rebuild) and `aggregator publish` after one new post (incremental), through
the CLI in a subprocess and in process, with their ratio (issue 7: under 1/100).
Prints time, peak RSS and files written; changes nothing outside its temporary directory.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

if not __package__:  # run as `python bench/publish.py`: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import yaml

from bench.corpus import Measured, machine_facts, run_measured

_MB = 1024 * 1024
_START = datetime(2025, 1, 1, tzinfo=UTC)
_WORDS = [
    "market",
    "economy",
    "growth",
    "rates",
    "bank",
    "policy",
    "report",
    "data",
    "quarter",
    "investors",
    "company",
    "shares",
    "energy",
    "prices",
    "demand",
    "supply",
    "city",
    "council",
    "transport",
    "project",
    "budget",
    "court",
    "election",
    "technology",
    "software",
    "network",
    "research",
    "university",
    "health",
    "climate",
    "harvest",
    "water",
    "power",
]


def write_config(
    directory: Path,
    categories: int,
    archives: bool,
    tag_feeds: bool,
    formats: tuple[str, ...] = ("atom",),
) -> Path:
    config = {
        "site": {
            "title": "Bench",
            "base_url": "https://bench.example.org/",
            "output_dir": "site",
            "timezone": "Asia/Shanghai",
            "archives": archives,
            "tag_feeds": tag_feeds,
            "formats": list(formats),
        },
        "database": "sqlite:///bench.db",
        "categories": {f"cat-{i:02d}": {"title": f"Category {i}"} for i in range(categories)},
    }
    path = directory / "config.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def _body(rng: random.Random) -> str:
    paragraphs = []
    for _ in range(rng.randint(2, 6)):
        words = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(40, 90)))
        paragraphs.append(f"<p>{words.capitalize()}.</p>")
    return "".join(paragraphs)


def fill_store(database: str, n_posts: int, categories: int, seed: int = 1) -> None:
    """`n_posts` posts over `categories` categories, inserted in bulk (one transaction per
    10,000): the store's own schema, bypassing upsert's per-post slug lookups."""
    import sqlalchemy as sa

    from aggregator.store import open_store
    from aggregator.store.schema import posts

    store = open_store(database)
    store.close()
    engine = sa.create_engine(database)
    rng = random.Random(seed)
    batch: list[dict[str, object]] = []
    with engine.begin() as conn:
        for n in range(n_posts):
            category = f"cat-{n % categories:02d}"
            # Spread over 400 days, arriving in order, a few per hour per category.
            when = _START + timedelta(minutes=6 * n)
            batch.append(
                {
                    "key": f"bench:{n:07d}",
                    "source": f"Source {n % (categories * 3)}",
                    "category": category,
                    "title": " ".join(rng.choice(_WORDS) for _ in range(8)).capitalize(),
                    "link": f"https://origin.example.org/{category}/{n}.html",
                    "published": when,
                    "updated": when,
                    "content_html": _body(rng),
                    "tags": (f"Category {n % categories}",),
                    "slug": f"post-{n}",
                    "content_hash": f"h{n}",
                    "dated": True,
                    "first_seen": when,
                    "revision": 1,
                    "published_revision": 0,
                }
            )
            if len(batch) == 10_000:
                conn.execute(posts.insert(), batch)
                batch = []
        if batch:
            conn.execute(posts.insert(), batch)
    engine.dispose()


def add_one_post(database: str, n: int, categories: int) -> None:
    from aggregator.store import open_store
    from aggregator.types import Post

    when = _START + timedelta(minutes=6 * n)
    store = open_store(database)
    try:
        store.upsert_posts(
            [
                Post(
                    key=f"bench:{n:07d}",
                    source="Source 0",
                    category=f"cat-{n % categories:02d}",
                    title="One more post",
                    link=f"https://origin.example.org/new/{n}.html",
                    published=when,
                    updated=when,
                    content_html="<p>Fresh news.</p>",
                    tags=(f"Category {n % categories}",),
                    slug="one-more-post",
                    content_hash="fresh",
                )
            ],
            now=when,
        )
    finally:
        store.close()


def snapshot(root: Path) -> dict[str, int]:
    result: dict[str, int] = {}
    for folder, _dirs, files in os.walk(root):
        for name in files:
            path = os.path.join(folder, name)
            result[path] = os.stat(path).st_mtime_ns
    return result


def changed(before: dict[str, int], after: dict[str, int]) -> list[str]:
    return sorted(p for p, mtime in after.items() if before.get(p) != mtime)


def _row(name: str, result: Measured, files: list[str], root: Path) -> None:
    if result.returncode != 0:
        print(result.stderr[-2000:], file=sys.stderr)
        raise SystemExit(f"{name}: exit {result.returncode}")
    print(
        f"{name:<34} {result.wall_s:8.2f} s  {result.max_rss_bytes / _MB:8.0f} MB  "
        f"{len(files):7d} files written"
    )


def in_process(config_path: Path, database: str, n: int, categories: int) -> dict[str, float]:
    """Wall times of Publisher.publish() in this process: no interpreter start-up, no imports.

    One new post, then an incremental publish; then a full publish over the unchanged tree.
    """
    from aggregator.config import load_config
    from aggregator.publish import Publisher
    from aggregator.store import open_store

    config = load_config(config_path)
    add_one_post(database, n, categories)
    store = open_store(config.database)
    try:
        started = time.perf_counter()
        Publisher(config, store).publish()
        incremental = time.perf_counter() - started
        started = time.perf_counter()
        Publisher(config, store).publish(full=True)
        full = time.perf_counter() - started
    finally:
        store.close()
    return {"incremental": incremental, "full": full}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--posts", type=int, default=100_000)
    p.add_argument("--categories", type=int, default=50)
    p.add_argument("--archives", action="store_true", help="site.archives: true")
    p.add_argument("--tag-feeds", action="store_true", help="site.tag_feeds: true")
    p.add_argument(
        "--formats", default="atom", help="site.formats, comma-separated (atom,rss,json)"
    )
    p.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = p.parse_args(argv)
    formats = tuple(f.strip() for f in args.formats.split(",") if f.strip())

    for key, value in machine_facts().items():
        print(f"# {key}: {value}")
    directory = Path(tempfile.mkdtemp(prefix="bench-publish-"))
    try:
        config = write_config(directory, args.categories, args.archives, args.tag_feeds, formats)
        database = f"sqlite:///{directory / 'bench.db'}"
        fill_store(database, args.posts, args.categories)
        print(
            f"# {args.posts} posts over {args.categories} categories"
            f" (archives={args.archives}, tag_feeds={args.tag_feeds},"
            f" formats={','.join(formats)}) in {directory}"
        )
        command = [sys.executable, "-m", "aggregator", "--config", str(config)]
        site = directory / "site"

        start_up = run_measured([sys.executable, "-c", "import aggregator.cli"], cwd=directory)
        _row("CLI start-up (import only)", start_up, [], site)

        full = run_measured([*command, "publish", "--all"], cwd=directory)
        after_full = snapshot(site)
        _row("publish --all (cold)", full, list(after_full), site)

        add_one_post(database, args.posts, args.categories)
        incremental = run_measured([*command, "publish"], cwd=directory)
        after_one = snapshot(site)
        written = changed(after_full, after_one)
        _row("publish (one new post)", incremental, written, site)
        for path in written:
            print(f"#   {os.path.relpath(path, site)}")

        again = run_measured([*command, "publish", "--all"], cwd=directory)
        _row("publish --all (warm)", again, changed(after_one, snapshot(site)), site)

        timings = in_process(config, database, args.posts + 1, args.categories)
        print(f"{'in process: publish (one new post)':<34} {timings['incremental']:8.2f} s")
        print(f"{'in process: publish --all (warm)':<34} {timings['full']:8.2f} s")
        ratio = incremental.wall_s / full.wall_s
        print(
            f"# incremental / --all (cold), through the CLI: 1/{1 / ratio:.0f}"
            f" (target: under 1/100) {'met' if ratio < 0.01 else 'NOT met'}"
        )
        print(
            f"# in process: incremental / --all (cold): "
            f"1/{full.wall_s / timings['incremental']:.0f};"
            f" CLI start-up (interpreter + imports) is {start_up.wall_s:.2f} s of the CLI's"
            " incremental"
            f" {incremental.wall_s:.2f} s"
        )
    finally:
        if args.keep:
            print(f"# kept {directory}")
        else:
            shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
