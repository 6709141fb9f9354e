"""JSON Feed parse benchmark: the synthetic corpus of bench.corpus written as JSON Feed 1.1,
feed for feed and item for item (the same titles, links, guids, dates, authors, topics and
bodies as the RSS and Atom feeds), read by aggregator.parse against `json.loads` alone.
Deterministic: the same seed gives the same bytes; nothing here reads the clock.

    .venv/bin/python -m bench.jsonfeed [--feeds 500] [--items 50] [--seed 1]
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bench.corpus import _EN_NAMES, _ZH_NAMES, _item, feed_spec

__all__ = ["JsonFeedParse", "generate_jsonfeed", "jsonfeed_bodies", "measure_jsonfeed_parse"]

CONTENT_TYPE = "application/feed+json"


def generate_jsonfeed(seed: int, index: int, n_items: int) -> bytes:
    """Feed `index` of the corpus (its first version) as JSON Feed 1.1, in UTF-8 as JSON
    must be (a GBK feed of the corpus is the same text here)."""
    spec = feed_spec(seed, index)
    zh = spec.language == "zh"
    rng = random.Random(f"{seed}:channel:{spec.index}")  # bench.corpus._rss's draws
    name = _ZH_NAMES[spec.index % len(_ZH_NAMES)] if zh else f"{rng.choice(_EN_NAMES)} News"
    rng.random()  # CDATA or escaped: JSON has one way to write a string
    full_content = rng.random() < 0.6
    items: list[dict[str, Any]] = []
    for it in (_item(seed, spec, n) for n in range(n_items - 1, -1, -1)):
        item: dict[str, Any] = {
            "id": it.guid,
            "url": it.link,
            "title": it.title,
            "content_html": it.html,
            "date_published": it.published.isoformat(),
            "authors": [{"name": it.author}],
            "tags": [it.topic],
        }
        if full_content:
            item["summary"] = it.summary
        items.append(item)
    document = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": f"{name} #{spec.index}",
        "home_page_url": f"https://{spec.host}/",
        "feed_url": f"https://{spec.host}/feed.json",
        "description": f"{name}: {'新闻' if zh else 'latest stories'}",
        "language": "zh-CN" if zh else "en-US",
        "items": items,
    }
    return json.dumps(document, ensure_ascii=False).encode("utf-8")


def jsonfeed_bodies(n_feeds: int, n_items: int, seed: int) -> list[bytes]:
    return [generate_jsonfeed(seed, i, n_items) for i in range(n_feeds)]


@dataclass(frozen=True, slots=True)
class JsonFeedParse:
    """What measure_jsonfeed_parse measured: items and the best of three passes each."""

    items: int
    megabytes: float
    ours_s: float  # aggregator.parse.parse (FAST_FIRST: the JSON Feed backend takes them)
    floor_s: float  # json.loads alone

    @property
    def ours_rate(self) -> float:
        return self.items / self.ours_s

    @property
    def floor_rate(self) -> float:
        return self.items / self.floor_s


def _best_of_three(fn: Callable[[], int]) -> tuple[float, int]:
    runs = []
    for _ in range(3):
        start = time.perf_counter()
        items = fn()
        runs.append((time.perf_counter() - start, items))
    return min(runs)


def measure_jsonfeed_parse(bodies: Sequence[bytes]) -> JsonFeedParse:
    """Ours and the floor over the same bodies, each result dropped once counted (as the
    RSS/Atom parse row does: a worker holds one feed at a time)."""
    from aggregator.parse import parse

    headers = {"content-type": CONTENT_TYPE}
    url = "https://bench.example.org/feed.json"

    def ours() -> int:
        return sum(len(parse(body, headers, url=url).entries) for body in bodies)

    def floor() -> int:
        return sum(len(json.loads(body)["items"]) for body in bodies)

    ours_s, items = _best_of_three(ours)
    floor_s, floor_items = _best_of_three(floor)
    if floor_items != items:
        raise SystemExit(f"JSON Feed parse read {items} items, json.loads {floor_items}")
    size = sum(map(len, bodies)) / (1024 * 1024)
    return JsonFeedParse(items=items, megabytes=size, ours_s=ours_s, floor_s=floor_s)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.jsonfeed", description=__doc__)
    p.add_argument("--feeds", type=int, default=500)
    p.add_argument("--items", type=int, default=50)
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args(argv)
    m = measure_jsonfeed_parse(jsonfeed_bodies(args.feeds, args.items, args.seed))
    print(
        f"parse, items/s (JSON Feed): {m.ours_rate:,.0f}; json.loads floor {m.floor_rate:,.0f}"
        f" ({m.floor_s / m.ours_s:.2f}× the floor's rate); {m.items:,} items, {m.megabytes:.0f} MB"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
