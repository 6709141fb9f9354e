"""Full text through the real fetch stage against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import dataclasses
import random
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import builders
from httpserver import FeedServer

from aggregator.config import load_config
from aggregator.fetch import Fetcher, FetchLimits
from aggregator.normalize import text_hash
from aggregator.publish import publish
from aggregator.store import open_store
from aggregator.types import Config, Post
from aggregator.update import Updater
from aggregator.update.fulltext import FullText, enrich, enrich_within, extract_article

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
PARAGRAPH = "The harbour authority opened a new container terminal on the east bank today. "
ARTICLE = (
    "<!doctype html><html><head><title>Terminal</title></head><body>"
    "<nav><a href='/'>Home</a> <a href='/news'>News</a></nav>"
    "<article><h1>New terminal opens</h1>"
    f"<p>{PARAGRAPH * 6}</p><p>{'Officials expect traffic to double by next year. ' * 6}</p>"
    "<p><img src='/img/terminal.jpg' alt='terminal'></p>"
    "<script>track()</script></article>"
    "<footer>Copyright</footer></body></html>"
)
HTML = "text/html; charset=utf-8"


def post(link: str, summary: str = "<p>Short summary.</p>") -> Post:
    return Post(
        key="k",
        source="s",
        category="news",
        title="New terminal opens",
        link=link,
        published=T0,
        updated=T0,
        content_html=summary,
        slug="new-terminal-opens",
        content_hash="h",
        text_hash=text_hash(summary),
    )


def run_enrich(posts: list[Post], *, allow_private: bool = True) -> list[Post]:
    async def go() -> list[Post]:
        limits = FetchLimits(
            connect_timeout=1, read_timeout=1, total_timeout=3, allow_private=allow_private
        )
        async with Fetcher(limits) as fetcher:
            return await enrich(posts, fetcher)

    return asyncio.run(go())


def test_extract_article_is_sanitized_and_absolute() -> None:
    article = extract_article(ARTICLE.encode(), url="https://port.example/news/1")
    assert article is not None
    assert PARAGRAPH.strip() in article
    assert "track()" not in article and "<script" not in article
    assert "Copyright" not in article
    assert 'src="https://port.example/img/terminal.jpg"' in article


def test_extract_article_of_nothing_is_none() -> None:
    assert extract_article(b"", url="https://port.example/") is None
    assert extract_article(b"\x00\xff garbage", url="https://port.example/") is None


def test_summary_is_replaced_by_the_article(feed_server: FeedServer) -> None:
    feed_server.add("/news/1", ARTICLE.encode(), content_type=HTML)
    summary = post(feed_server.url("/news/1"))
    (full,) = run_enrich([summary])
    assert PARAGRAPH.strip() in full.content_html
    assert full.content_hash != summary.content_hash
    assert full.text_hash == text_hash(full.content_html) != summary.text_hash
    assert feed_server.hits("/news/1") == 1


def test_summary_stays_when_the_page_fails(feed_server: FeedServer) -> None:
    feed_server.add("/gone", b"no", status=404, content_type=HTML)
    feed_server.add("/pdf", b"%PDF-1.4", content_type="application/pdf")
    feed_server.add("/empty", b"<html><body></body></html>", content_type=HTML)
    posts = [post(feed_server.url(p)) for p in ("/gone", "/pdf", "/empty")]
    posts.append(post(""))  # no link at all
    assert run_enrich(posts) == posts


def test_a_longer_summary_is_kept(feed_server: FeedServer) -> None:
    feed_server.add("/news/1", ARTICLE.encode(), content_type=HTML)
    long_summary = "<p>" + "A full article already in the feed. " * 80 + "</p>"
    summary = post(feed_server.url("/news/1"), long_summary)
    assert run_enrich([summary]) == [summary]


def test_pages_are_untrusted_urls(feed_server: FeedServer) -> None:
    # Links in feed content may not reach private addresses unless the limits allow it.
    feed_server.add("/news/1", ARTICLE.encode(), content_type=HTML)
    summary = post(feed_server.url("/news/1"))
    assert run_enrich([summary], allow_private=False) == [summary]
    assert feed_server.hits("/news/1") == 0


def test_full_text_source_through_the_updater(feed_server: FeedServer, tmp_path: Path) -> None:
    feed_server.add("/news/1", ARTICLE.encode(), content_type=HTML)
    feed = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Port</title>'
        f"<link>{feed_server.url('/')}</link><item><guid>1</guid>"
        f"<title>New terminal opens</title><link>{feed_server.url('/news/1')}</link>"
        "<description>Short summary.</description></item></channel></rss>"
    ).encode()
    feed_server.add("/feed", feed)
    # A budget no loaded machine runs out of: the first page also imports the extractor.
    config = port_config(tmp_path, feed_server, budget=30)
    store = open_store(config.database)
    try:
        updater = Updater(config, store, clock=lambda: T0, rng=random.Random(1))
        report = asyncio.run(updater.run_round(config.sources))
        assert report.new == 1
        store.settle_slugs()
        (stored,) = store.recent_posts()
        assert PARAGRAPH.strip() in stored.content_html
        # The next fetch of an unchanged item fetches no page again.
        later = Updater(config, store, clock=lambda: T0 + timedelta(hours=1))
        feed_server.add("/feed", feed + b"\n")  # new bytes, same item
        assert asyncio.run(later.run_round(config.sources)).updated == 0
        assert feed_server.hits("/news/1") == 1
    finally:
        store.close()


# ------------------------------------------------------------------ the budget


def summaries_feed(server: FeedServer, n: int) -> bytes:
    items = "".join(
        f"<item><guid>{i}</guid><title>Terminal {i}</title>"
        f"<link>{server.url(f'/news/{i}')}</link>"
        f"<pubDate>Wed, 01 May 2024 0{i}:00:00 GMT</pubDate>"
        "<description>Short summary.</description></item>"
        for i in range(n)
    )
    return builders.rss(items, title="Port", link=server.url("/"))


def test_enrich_within_gives_up_slow_pages_at_the_budget(feed_server: FeedServer) -> None:
    feed_server.add("/fast", ARTICLE.encode(), content_type=HTML)
    feed_server.add("/slow", ARTICLE.encode(), content_type=HTML, hang=True)
    posts = [
        dataclasses.replace(post(feed_server.url("/fast")), key="fast"),
        dataclasses.replace(post(feed_server.url("/slow")), key="slow"),
        dataclasses.replace(post(""), key="no-link"),
    ]

    async def go() -> FullText:
        limits = FetchLimits(
            connect_timeout=1, read_timeout=30, total_timeout=30, allow_private=True
        )
        async with Fetcher(limits) as fetcher:
            return await enrich_within(posts, fetcher, budget=0.5)

    started = time.monotonic()
    text = asyncio.run(go())
    assert time.monotonic() - started < 10  # the 0.5 s budget, not the 30 s page
    assert text.late == ("slow",)
    fast, slow, no_link = text.posts
    assert PARAGRAPH.strip() in fast.content_html
    assert (slow, no_link) == (posts[1], posts[2])


def port_config(tmp_path: Path, feed_server: FeedServer, *, budget: int = 1) -> Config:
    """A full-text source "port" reading /feed, with a `budget` (s) for its pages."""
    path = builders.write_config(
        tmp_path,
        [
            {
                "name": "port",
                "url": feed_server.url("/feed"),
                "category": "news",
                "full_text": True,
                "full_text_budget": budget,
            }
        ],
        site=builders.site_section("t"),
        database="sqlite:///state.db",
        fetch={"allow_private": True} | builders.timeouts("1s", "30s", "30s"),
    )
    return load_config(path)


def test_slow_pages_wait_for_a_later_round_with_the_summary_published(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    for i in range(6):
        feed_server.add(f"/news/{i}", ARTICLE.encode(), content_type=HTML, hang=True)
    feed_server.add("/feed", summaries_feed(feed_server, 6), etag=True)
    config = port_config(tmp_path, feed_server)
    store = open_store(config.database)
    try:
        started = time.monotonic()
        report = asyncio.run(Updater(config, store).run_round(config.sources))
        # Six pages hanging for 30 s each, two at a time: 90 s without the budget.
        assert time.monotonic() - started < 1 + 15  # (on a busy machine too)
        assert report.new == 6
        store.settle_slugs()
        stored = store.recent_posts()
        assert len(stored) == 6
        assert all(p.content_html.strip() == "Short summary." for p in stored)
        assert len(store.full_text_pending("port")) == 6
        publish(config, store)
        files = sorted((tmp_path / "out" / "_posts").glob("*.md"))
        assert len(files) == 6
        assert all("Short summary." in f.read_text(encoding="utf-8") for f in files)

        # The pages are fast now; the feed answers 304, and the articles are filled in.
        for i in range(6):
            feed_server.add(f"/news/{i}", ARTICLE.encode(), content_type=HTML)
        report = asyncio.run(Updater(config, store).run_round(config.sources))
        assert report.not_modified == 1 and report.updated == 6 and report.changed
        assert all(PARAGRAPH.strip() in p.content_html for p in store.recent_posts())
        assert store.full_text_pending("port") == []
        publish(config, store)
        assert all(PARAGRAPH.strip() in f.read_text(encoding="utf-8") for f in files)
    finally:
        store.close()


def test_pages_that_never_answer_starve_no_new_post_and_are_given_up(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    from aggregator.store import FULL_TEXT_TRIES

    # Six hanging pages wait; then the feed brings two new posts with fast pages.
    for i in range(6):
        feed_server.add(f"/news/{i}", ARTICLE.encode(), content_type=HTML, hang=True)
    feed_server.add("/feed", summaries_feed(feed_server, 6), etag=True)
    config = port_config(tmp_path, feed_server)
    store = open_store(config.database)
    try:
        asyncio.run(Updater(config, store).run_round(config.sources))
        assert len(store.full_text_pending("port")) == 6
        for i in (6, 7):
            feed_server.add(f"/news/{i}", ARTICLE.encode(), content_type=HTML)
        feed_server.add("/feed", summaries_feed(feed_server, 8), etag=True)
        asyncio.run(Updater(config, store).run_round(config.sources))
        store.settle_slugs()
        by_title = {p.title: p for p in store.recent_posts()}
        # The new posts got their articles, though older ones were waiting.
        assert PARAGRAPH.strip() in by_title["Terminal 6"].content_html
        assert PARAGRAPH.strip() in by_title["Terminal 7"].content_html
        # The hanging pages are tried a few more rounds, then their summaries stay.
        for _ in range(FULL_TEXT_TRIES):
            asyncio.run(Updater(config, store).run_round(config.sources))
        assert store.full_text_pending("port") == []
        assert by_title["Terminal 0"].content_html.strip() == "Short summary."
    finally:
        store.close()
