"""Identity and duplicates through Updater: a real HTTP server on 127.0.0.1, real SQLite."""

from __future__ import annotations

import asyncio
import functools
import random
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import builders
import pytest
from httpserver import FeedServer

from aggregator.config import load_config
from aggregator.normalize import canonical_link, reconcile
from aggregator.store import Store, open_store
from aggregator.types import Post, StoredIdentity
from aggregator.update import RoundReport, Updater

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def item(guid: str | None, link: str, title: str, body: str = "", date: str = "") -> str:
    guid_xml = f"<guid>{guid}</guid>" if guid else ""
    date_xml = f"<pubDate>{date or 'Wed, 01 May 2024 08:00:00 GMT'}</pubDate>"
    return (
        f"<item>{guid_xml}<link>{link}</link><title>{title}</title>{date_xml}"
        f"<description>{body or title + ' text'}</description></item>"
    )


# Items (see `item`) in a feed titled "Feed" unless told.
rss = functools.partial(builders.rss, title="Feed", link="http://example.org/")


class Env:
    def __init__(self, tmp: Path, server: FeedServer, dedupe: str) -> None:
        path = builders.write_config(
            tmp,
            [
                {"name": "a", "url": server.url("/a"), "category": "news"},
                {"name": "b", "url": server.url("/b"), "category": "news"},
            ],
            {"news": {"title": "News", "dedupe": dedupe}},
            site=builders.site_section("t"),
            database="sqlite:///state.db",
        )
        self.server = server
        self.config = load_config(path)
        self.store: Store = open_store(self.config.database)

    def round(self, name: str, body: bytes) -> RoundReport:
        self.server.add(f"/{name}", body)
        updater = Updater(self.config, self.store, clock=lambda: T0, rng=random.Random(7))
        sources = [s for s in self.config.sources if s.name == name]
        return asyncio.run(updater.run_round(sources))

    def posts(self) -> list[Post]:
        self.store.settle_slugs()  # as a publish does before it reads
        return sorted(self.store.recent_posts(), key=lambda p: p.title)


@pytest.fixture
def make_env(tmp_path: Path, feed_server: FeedServer) -> Iterator[Any]:
    made: list[Env] = []

    def make(dedupe: str = "link") -> Env:
        env = Env(tmp_path, feed_server, dedupe)
        made.append(env)
        return env

    yield make
    for env in made:
        env.store.close()


def test_changed_guids_keep_the_posts(make_env: Any) -> None:
    env = make_env()
    first = env.round(
        "a",
        rss(item("g1", "http://example.org/1", "One"), item("g2", "http://example.org/2", "Two")),
    )
    assert first.new == 2
    keys = {p.title: p.key for p in env.posts()}
    # The feed moved to new guids (a CMS migration); links stay.
    again = env.round(
        "a",
        rss(item("n1", "http://example.org/1", "One"), item("n2", "http://example.org/2", "Two")),
    )
    assert (again.new, again.updated) == (0, 0)
    assert {p.title: p.key for p in env.posts()} == keys


def test_an_empty_guid_read_as_none_keeps_the_posts_stored_under_the_link(make_env: Any) -> None:
    # The fast path once read <guid/> as the link (its extractor fills an empty id), and
    # stored keys were made of that guid; read as no guid now, as feedparser reads it, the
    # items keep their posts.
    env = make_env()
    links = ("http://example.org/1", "http://example.org/2")
    env.round("a", rss(*(item(link, link, f"T{n}") for n, link in enumerate(links))))
    keys = {p.title: (p.key, p.revision) for p in env.posts()}
    empty = [
        item(None, link, f"T{n}").replace("<item>", "<item><guid/>") for n, link in enumerate(links)
    ]
    again = env.round("a", rss(*empty))
    assert (again.new, again.updated) == (0, 0)
    assert {p.title: (p.key, p.revision) for p in env.posts()} == keys


def test_relative_links_keep_their_posts_when_the_feed_url_changes(make_env: Any) -> None:
    # Relative links resolve against the URL the feed came from, which a redirect changes
    # (a CMS adding a trailing slash, a move to a sub-directory): the items are the same
    # ones, and must not be published again under their new absolute links.
    env = make_env()
    items = [
        "<item><link>2024/05/one.html</link><title>One</title></item>",
        "<item><link>2024/05/two.html#comments</link><title>Two</title></item>",
    ]
    assert env.round("a", rss(*items)).new == 2
    keys = {p.title: p.key for p in env.posts()}
    newer = "<item><link>2024/05/three.html</link><title>Three</title></item>"
    env.server.add("/blog/feed/", rss(newer, *items))
    env.server.add("/a", b"", redirect_to="/blog/feed/", redirect_status=302)
    updater = Updater(env.config, env.store, clock=lambda: T0, rng=random.Random(7))
    again = asyncio.run(updater.run_round([s for s in env.config.sources if s.name == "a"]))
    assert again.new == 1
    posts = {p.title: p for p in env.posts()}
    assert sorted(posts) == ["One", "Three", "Two"]
    assert {t: posts[t].key for t in keys} == keys
    # The posts show their links as resolved now, updated in place.
    assert posts["One"].link == env.server.url("/blog/feed/2024/05/one.html")


def test_reordered_feed_adds_only_the_new_item(make_env: Any) -> None:
    env = make_env()
    one, two = item("g1", "http://example.org/1", "One"), item("g2", "http://example.org/2", "Two")
    env.round("a", rss(one, two))
    again = env.round("a", rss(item("g3", "http://example.org/3", "Three"), two, one))
    assert (again.new, again.updated) == (1, 0)
    assert [p.title for p in env.posts()] == ["One", "Three", "Two"]


def test_same_link_on_every_item_does_not_fold_them(make_env: Any) -> None:
    # A site whose items all link to its home page: guids are the only identity.
    env = make_env()
    home = "http://example.org/"
    env.round("a", rss(item("g1", home, "One"), item("g2", home, "Two")))
    again = env.round(
        "a", rss(item("g3", home, "Three"), item("g1", home, "One"), item("g2", home, "Two"))
    )
    assert again.new == 1
    assert len(env.posts()) == 3


def test_same_story_in_two_sources_is_published_once(make_env: Any) -> None:
    env = make_env("link")
    env.round("a", rss(item("a-1", "https://example.org/story?id=7&utm_source=rss", "Story")))
    second = env.round("b", rss(item("b-9", "https://EXAMPLE.org:443/story?id=7#top", "Story (b)")))
    assert second.new == 0
    (post,) = env.posts()
    assert post.source == "a"  # the first source is credited
    # And it stays so: a's next fetch does not see b's copy as its own.
    assert env.round("b", rss(item("b-9", "https://example.org/story?id=7", "Story (b!)"))).new == 0
    assert [p.source for p in env.posts()] == ["a"]


def test_dedupe_off_keeps_both(make_env: Any) -> None:
    env = make_env("off")
    env.round("a", rss(item("a-1", "https://example.org/story", "Story")))
    assert env.round("b", rss(item("b-1", "https://example.org/story", "Story (b)"))).new == 1
    assert sorted(p.source for p in env.posts()) == ["a", "b"]


def test_dedupe_content_matches_the_text_under_other_links(make_env: Any) -> None:
    env = make_env("content")
    body = "The council approved the new harbour plan on Tuesday."
    env.round("a", rss(item("a-1", "https://a.example/x", "Plan", body)))
    second = env.round(
        "b", rss(item("b-1", "https://b.example/y", "Harbour plan", f"<p>{body}</p>"))
    )
    assert second.new == 0
    link_mode = make_env("link")  # same database: the link mode does not match text
    assert (
        link_mode.round("b", rss(item("b-1", "https://b.example/y", "Harbour plan", body))).new == 1
    )


def test_a_global_guid_in_two_sources_credits_the_first(make_env: Any) -> None:
    env = make_env("link")
    # One guid, two links: the guid alone says it is one item.
    env.round("a", rss(item("https://example.org/p/1", "https://a.example/p/1", "Shared")))
    second = env.round("b", rss(item("https://example.org/p/1", "https://b.example/1", "Shared b")))
    assert (second.new, second.updated) == (0, 0)
    assert [(p.source, p.title) for p in env.posts()] == [("a", "Shared")]
    # And b's next fetch does not take a's post over.
    again = env.round("b", rss(item("https://example.org/p/1", "https://b.example/1", "Shared!")))
    assert (again.new, again.updated) == (0, 0)
    assert [(p.source, p.title) for p in env.posts()] == [("a", "Shared")]


def test_a_global_guid_in_two_sources_with_dedupe_off_publishes_both(make_env: Any) -> None:
    env = make_env("off")  # the category's setting, not the key, decides
    env.round("a", rss(item("https://example.org/p/1", "https://example.org/p/1", "Shared")))
    second = env.round(
        "b", rss(item("https://example.org/p/1", "https://example.org/p/1", "Shared b"))
    )
    assert (second.new, second.updated) == (1, 0)
    assert [(p.source, p.title) for p in env.posts()] == [("a", "Shared"), ("b", "Shared b")]
    assert len({p.key for p in env.posts()}) == 2


def test_edited_item_updates_its_post_and_unchanged_writes_nothing(make_env: Any) -> None:
    env = make_env()
    env.round("a", rss(item("g1", "http://example.org/1", "One", "first text")))
    (before,) = env.posts()
    edited = env.round("a", rss(item("g1", "http://example.org/1", "One", "second text")))
    assert (edited.new, edited.updated) == (0, 1)
    (after,) = env.posts()
    assert (after.key, after.slug) == (before.key, before.slug)
    assert after.revision == before.revision + 1 and "second text" in after.content_html
    # A new body whose items did not change (the channel title moved): nothing is written.
    same = env.round("a", rss(item("g1", "http://example.org/1", "One", "second text"), title="F2"))
    assert (same.new, same.updated) == (0, 0)
    assert env.posts()[0].revision == after.revision


def test_edited_title_keeps_the_slug(make_env: Any) -> None:
    env = make_env()
    env.round("a", rss(item("g1", "http://example.org/1", "Original title")))
    env.round("a", rss(item("g1", "http://example.org/1", "Corrected title")))
    (post,) = env.posts()
    assert post.title == "Corrected title"
    assert post.slug == "original-title"


# ------------------------------------------------------------ reconcile, unit


def post(key: str, *, legacy: str = "", source: str = "a", **changes: Any) -> Post:
    link = changes.pop("link", f"https://example.org/{key}")
    made = Post(
        key=key,
        identity_key=key,
        legacy_key=legacy or key,
        source=source,
        category=changes.pop("category", "news"),
        title=key,
        link=link,
        published=T0,
        updated=T0,
        content_html="",
        slug=key,
        content_hash=key,
        canonical_link=canonical_link(link),
    )
    return replace(made, **changes)


def row(key: str, *, source: str = "a", claimed: str = "", legacy: str = "", **kw: Any) -> Any:
    link = kw.pop("link", f"https://example.org/{key}")
    return StoredIdentity(
        key=key,
        source=source,
        category=kw.pop("category", "news"),
        canonical_link=canonical_link(link),
        link=link,
        identity_key=claimed,
        legacy_key=legacy or key,
        **kw,
    )


def keys(posts: list[Post]) -> list[tuple[str, str]]:
    return [(p.key, p.identity_key) for p in posts]


def test_a_post_takes_over_the_unclaimed_row_under_its_legacy_key() -> None:
    got = reconcile([post("new", legacy="old")], [row("old")])
    assert keys(got) == [("old", "new")]  # the row's key; the claim goes with it


def test_a_claimed_row_is_found_by_its_claim_and_never_taken_again() -> None:
    stored = [row("old", claimed="new", link="https://example.org/p#1")]
    assert keys(reconcile([post("new", legacy="old")], stored)) == [("old", "new")]
    # A sibling once folded under the same legacy key is a post of its own.
    sibling = post("other", legacy="old", link="https://example.org/p#2")
    assert keys(reconcile([sibling], stored)) == [("other", "other")]


def test_of_anchors_once_folded_the_one_showing_the_stored_link_takes_the_row() -> None:
    page = "https://notes.example.org/releases.html"
    anchors = [post(f"n{i}", legacy="old", link=f"{page}#v{i}") for i in range(1, 4)]
    got = reconcile(anchors, [row("old", link=f"{page}#v2")])
    assert keys(got) == [("n1", "n1"), ("old", "n2"), ("n3", "n3")]
    # No stored link matches: the first one takes it, the others keep their own keys.
    got = reconcile(anchors, [row("old", link=f"{page}#v9")])
    assert keys(got) == [("old", "n1"), ("n2", "n2"), ("n3", "n3")]


def test_another_sources_row_is_never_taken_over() -> None:
    stored = [row("old", source="b")]
    assert keys(reconcile([post("new", legacy="old")], stored, dedupe={"news": "off"})) == [
        ("new", "new")
    ]


@pytest.mark.parametrize(
    ("mode", "category", "kept"),
    [
        pytest.param("link", "news", False, id="link-same-category"),
        pytest.param("content", "news", False, id="content-same-category"),
        pytest.param("off", "news", True, id="off"),
        pytest.param("link", "sport", True, id="other-category"),
    ],
)
def test_one_global_guid_in_two_sources_is_the_categorys_to_fold(
    mode: str, category: str, kept: bool
) -> None:
    # Two links, one global guid: the legacy key (source-free for such a guid) matches,
    # the row's own (an old one: its key is its legacy key) or a new one's legacy key.
    mine = post("mine", legacy="g", link="https://b.example/1")
    for stored in (row("g", source="b2"), row("theirs", source="b2", legacy="g")):
        stored = replace(stored, category=category, link="https://a.example/1")
        got = reconcile([mine], [stored], dedupe={"news": mode})
        assert keys(got) == ([("mine", "mine")] if kept else [])


@pytest.mark.parametrize(
    ("mine", "theirs", "folded"),
    [
        pytest.param("https://e.org/p#a", "https://e.org/p#b", False, id="two-anchors"),
        pytest.param("https://e.org/p#a", "https://e.org/p#a", True, id="one-anchor"),
        pytest.param("https://e.org/p#top", "https://e.org/p", True, id="anchor-and-page"),
        pytest.param("https://E.org:443/p?utm_source=x", "https://e.org/p", True, id="spelling"),
    ],
)
def test_the_link_mode_tells_anchors_of_one_page_apart(
    mine: str, theirs: str, folded: bool
) -> None:
    got = reconcile([post("mine", link=mine)], [row("theirs", source="b", link=theirs)])
    assert keys(got) == ([] if folded else [("mine", "mine")])


def test_a_changed_guid_does_not_take_over_another_anchor() -> None:
    # The only stored post of that page, its key gone from the feed: a changed guid,
    # unless the two links name different anchors.
    stored = [row("gone", link="https://e.org/p#a")]
    assert keys(reconcile([post("new", link="https://e.org/p#b")], stored)) == [("new", "new")]
    assert keys(reconcile([post("new", link="https://e.org/p#a")], stored)) == [("gone", "new")]
    # Nor does it take over a post whose item is still in the feed under a legacy key.
    kept = reconcile([post("new", link="https://e.org/p#a")], stored, feed_keys={"gone"})
    assert keys(kept) == [("new", "new")]
