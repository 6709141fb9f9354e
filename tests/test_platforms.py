"""The platform corpus (tests/data/platforms/): feeds in the shapes real platforms emit, each
read through parse + normalize by both parsers and compared with what a faithful reader shows.

The expectations are written by tests/data/make_platforms.py from each feed's item data, not
from this code's output; test_expectations_are_generated keeps the files equal to what it
writes. tests/test_parse_differential.py compares the two parsers' records on these feeds too.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from aggregator.normalize import normalize
from aggregator.parse import parse
from aggregator.types import Post, Source

DATA = Path(__file__).parent / "data"
PLATFORMS = DATA / "platforms"
URL = "https://feeds.example.org/platforms/{name}"  # make_platforms.FEED_URL
NOW = datetime(2025, 1, 1, tzinfo=UTC)  # after every date in the corpus
SITE_TZ = "Asia/Shanghai"  # zone-less dates in the corpus are Chinese portals' (+08:00)
XML = {"content-type": "application/xml"}


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_platforms", DATA / "make_platforms.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("make_platforms", module)  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


GENERATOR = _generator()
FEEDS = sorted(PLATFORMS.glob("*.xml"))


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _source(url: str) -> Source:
    return Source(
        name="Platform", url=url, category="news", tags=("News",), interval=timedelta(minutes=30)
    )


def _shown(post: Post, author: str | None, expected_title: str | None) -> dict[str, Any]:
    text = GENERATOR.text_of(post.content_html)
    title: str | None = post.title
    if expected_title is None and post.title and text.startswith(post.title.rstrip("…").strip()):
        # A title-less item (Mastodon, Scripting News): any title made from its text will do.
        title = None
    return {
        "title": title,
        "link": post.link or None,
        "published": _iso(post.published) if post.dated else None,
        "author": author,
        "text_start": text[: GENERATOR.TEXT_START],
    }


@pytest.mark.parametrize("parser", ["auto", "feedparser"])
@pytest.mark.parametrize("path", FEEDS, ids=lambda p: p.stem)
def test_platform_feed_reads_as_a_reader_shows_it(path: Path, parser: str) -> None:
    expected = json.loads(path.with_suffix(".expected.json").read_text(encoding="utf-8"))
    url = URL.format(name=path.name)
    source = _source(url)
    feed = parse(path.read_bytes(), expected.get("headers", XML), url=url, fast=parser == "auto")
    posts = normalize(feed, source, now=NOW, site_timezone=SITE_TZ, feed_url=url)
    authors = [p.author for p in posts]
    titles = [p["title"] for p in expected["posts"]] + [""] * len(posts)
    got = {
        "count": len(posts),
        "posts": [_shown(p, a, t) for p, a, t in zip(posts, authors, titles, strict=False)],
    }
    assert got == {"count": expected["count"], "posts": expected["posts"]}


def test_corpus_is_complete() -> None:
    feeds = sorted(p.name.removesuffix(".xml") for p in PLATFORMS.glob("*.xml"))
    expectations = sorted(p.name.removesuffix(".expected.json") for p in PLATFORMS.glob("*.json"))
    assert feeds == expectations
    assert len(feeds) >= 150
    assert {p.name for p in PLATFORMS.iterdir()} == {f"{n}.xml" for n in feeds} | {
        f"{n}.expected.json" for n in feeds
    }


def test_expectations_are_generated(tmp_path: Path) -> None:
    # The files are what make_platforms.py writes, byte for byte: neither the feeds nor the
    # expectations can drift from the item data they were written from.
    GENERATOR.write(tmp_path)
    written = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    stored = {p.name: p.read_bytes() for p in PLATFORMS.iterdir()}
    assert sorted(written) == sorted(stored)
    changed = [name for name in written if written[name] != stored[name]]
    assert changed == [], "run python tests/data/make_platforms.py"


def test_every_expected_post_is_fully_stated() -> None:
    for path in PLATFORMS.glob("*.expected.json"):
        expected = json.loads(path.read_text(encoding="utf-8"))
        assert expected["count"] == len(expected["posts"]) > 0, path.name
        for post in expected["posts"]:
            assert set(post) == {"title", "link", "published", "author", "text_start"}, path.name
            assert post["link"] is None or post["link"].startswith(("http://", "https://"))
