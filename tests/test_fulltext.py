"""Full text through the real fetch stage against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml
from httpserver import FeedServer

from aggregator.config import load_config
from aggregator.fetch import Fetcher, FetchLimits
from aggregator.fulltext import enrich, extract_article
from aggregator.normalize import text_hash
from aggregator.store import open_store
from aggregator.types import Post
from aggregator.update import Updater

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
    data = {
        "site": {"title": "t", "base_url": "https://news.example.org/", "output_dir": "out"},
        "database": "sqlite:///state.db",
        "fetch": {"allow_private": True, "connect_timeout": "1s", "total_timeout": "3s"},
        "categories": {"news": {"title": "News"}},
        "sources": [
            {"name": "port", "url": feed_server.url("/feed"), "category": "news", "full_text": True}
        ],
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    config = load_config(path)
    store = open_store(config.database)
    try:
        updater = Updater(config, store, clock=lambda: T0, rng=random.Random(1))
        report = asyncio.run(updater.run_round(config.sources))
        assert report.new == 1
        (stored,) = store.recent_posts()
        assert PARAGRAPH.strip() in stored.content_html
        # The next fetch of an unchanged item fetches no page again.
        later = Updater(config, store, clock=lambda: T0 + timedelta(hours=1))
        feed_server.add("/feed", feed + b"\n")  # new bytes, same item
        assert asyncio.run(later.run_round(config.sources)).updated == 0
        assert feed_server.hits("/news/1") == 1
    finally:
        store.close()
