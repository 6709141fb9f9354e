"""The parse + normalize job in worker processes, and the fast URL join it relies on."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urljoin

import yaml
from httpserver import FeedServer
from hypothesis import given, settings
from hypothesis import strategies as st

from aggregator.config import load_config
from aggregator.normalize import _join
from aggregator.store import open_store
from aggregator.update import POOL_MIN_SOURCES, Updater

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)

_PIECES = st.sampled_from(
    [*"ab./?#;:%@!$&'()*+,= -_~\t", "..", ".", "//", "中", "%2e", "\x01", "\u3000"]
)
_BASES = st.sampled_from(
    [
        "https://h.org",
        "https://h.org/",
        "https://h.org/a/b",
        "https://h.org/a/b/",
        "http://H.org:81/a/b.html?x=1#f",
        "HTTPS://h.org/a;p/b",
        "https://h.org/a/b;p",
        "https://h.org?q",
        "https://h.org/a/../b/./c",
    ]
)


@settings(max_examples=1000, deadline=None)
@given(_BASES, st.lists(_PIECES, max_size=12).map("".join))
def test_fast_join_is_urljoin_where_it_answers(base: str, reference: str) -> None:
    joined = _join(base, reference)
    if joined is not None:
        assert joined == urljoin(base, reference)


def test_fast_join_answers_the_common_references() -> None:
    base = "https://h.org/a/b/c.html"
    for reference in ("/x.jpg", "x.jpg", "../x.jpg", "./x", "/../a", "?q=1", "#top", "a//b"):
        assert _join(base, reference) == urljoin(base, reference)


def test_a_large_round_parses_in_worker_processes(tmp_path: Path, feed_server: FeedServer) -> None:
    n = POOL_MIN_SOURCES + 2
    for i in range(n):
        items = "".join(
            f"<item><guid>g{i}-{j}</guid><link>http://example.org/{i}/{j}</link>"
            f"<title>Story {i} {j}</title><description>&lt;p&gt;Body {i} {j} "
            f'&lt;img src="/img/{j}.jpg"&gt;&lt;/p&gt;</description></item>'
            for j in range(3)
        )
        feed_server.add(
            f"/f{i}",
            f'<?xml version="1.0"?><rss version="2.0"><channel><title>F{i}</title>'
            f"<link>http://example.org/</link>{items}</channel></rss>".encode(),
        )
    data = {
        "site": {"title": "t", "base_url": "https://news.example.org/", "output_dir": "out"},
        "database": "sqlite:///state.db",
        "categories": {"news": {"title": "News"}},
        "sources": [
            {"name": f"s{i}", "url": feed_server.url(f"/f{i}"), "category": "news"}
            for i in range(n)
        ],
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    config = load_config(path)
    store = open_store(config.database)
    try:
        updater = Updater(config, store, clock=lambda: T0, rng=random.Random(1))
        report = asyncio.run(updater.run_round(config.sources))
        assert [o.name for o in report.outcomes] == [s.name for s in config.sources]
        assert report.new == 3 * n and not report.errors
        store.settle_slugs()
        post = store.get_post(next(iter(store.pending())).key)
        assert post is not None and 'src="http://example.org/img/' in post.content_html
        # Every state was written (in one batch), validators and all.
        states = {s.name: s for s in store.states()}
        assert set(states) == {s.name for s in config.sources}
        assert all(s.last_success == T0 and s.next_check is not None for s in states.values())
        again = asyncio.run(updater.run_round(config.sources))
        assert again.new == 0 and not again.errors
    finally:
        store.close()


def test_keep_newest_ranks_by_date_and_keeps_feed_order() -> None:
    from datetime import timedelta

    from aggregator.types import RawEntry
    from aggregator.worker import keep_newest

    naive = datetime(2024, 5, 1, 15, 0)  # no zone: ranked as UTC
    entries = (
        RawEntry(guid="undated-1"),
        RawEntry(guid="old", published=T0 - timedelta(days=1)),
        RawEntry(guid="new", published=T0 + timedelta(hours=1)),
        RawEntry(guid="naive", published=naive),
        RawEntry(guid="undated-2"),
        RawEntry(guid="updated-only", updated=T0),
    )
    assert [e.guid for e in keep_newest(entries, 3)] == ["new", "naive", "updated-only"]
    assert [e.guid for e in keep_newest(entries, 5)] == [
        "undated-1",
        "old",
        "new",
        "naive",
        "updated-only",
    ]
    undated = tuple(RawEntry(guid=str(i)) for i in range(5))
    assert keep_newest(undated, 2) == undated[:2]
    assert keep_newest(entries, 10) is entries
