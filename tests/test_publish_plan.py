"""publish/plan.py and publish/sitemap.py as tables: which pages and archives a publish
writes, and every path and URL of the output tree (pure: no store, no files)."""

from __future__ import annotations

import ast
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from aggregator.publish import plan
from aggregator.publish.feeds import FORMATS
from aggregator.publish.fingerprint import (
    EVERYTHING,
    FEEDS,
    FINGERPRINT_FILE,
    PAGES,
    Aspect,
    changed_aspects,
    config_aspects,
    read_fingerprint,
    rewritten,
    write_fingerprint,
)
from aggregator.publish.form import environment
from aggregator.publish.sitemap import Sitemap, day_strings, tag_slug
from aggregator.types import Category, Config, ListedPost, Post, Schedule, Site

PACKAGE = Path(__file__).resolve().parent.parent / "aggregator" / "publish"
WHEN = datetime(2021, 12, 26, 17, 35, 42, tzinfo=UTC)  # 2021-12-27 01:35 in Shanghai


def post(
    key: str, category: str = "news", *, revision: int = 1, tags: tuple[str, ...] = ()
) -> Post:
    return Post(
        key=key,
        source="S",
        category=category,
        title=key,
        link="https://example.org/",
        published=WHEN,
        updated=WHEN,
        content_html="",
        tags=tags,
        slug=f"slug-{key}",
        content_hash="h",
        revision=revision,
    )


def listed(key: str, category: str) -> ListedPost:
    return ListedPost(key=key, source="S", category=category, title=key, slug=key, published=WHEN)


@pytest.mark.parametrize(
    ("positions", "pages", "expected"),
    [
        pytest.param([], 3, [], id="nothing-changed"),
        pytest.param([120], 3, [2, 3], id="last-page-and-the-one-before"),
        pytest.param([0], 1, [1], id="first-page-has-none-before"),
        pytest.param([100], 3, [2, 3], id="opens-page-3-moves-page-2s-newer-link"),
        pytest.param([49, 50], 2, [1, 2], id="two-pages"),
        pytest.param([60, 175], 4, [1, 2, 4], id="apart-the-lowest-moves-the-one-before"),
        pytest.param([500], 3, [], id="beyond-the-pages-written"),
    ],
)
def test_pages_touched(positions: list[int], pages: int, expected: list[int]) -> None:
    assert plan.pages_touched(positions, pages) == expected


@pytest.mark.parametrize(
    ("total", "pages"),
    [(0, 0), (1, 1), (50, 1), (51, 2), (100, 2), (101, 3)],
)
def test_page_count(total: int, pages: int) -> None:
    assert plan.page_count(total) == pages


@pytest.mark.parametrize(
    ("total", "size", "archives", "count"),
    [(0, 10, True, 0), (9, 10, True, 0), (10, 10, True, 1), (35, 10, True, 3), (35, 10, False, 0)],
)
def test_archive_count(total: int, size: int, archives: bool, count: int) -> None:
    assert plan.archive_count(total, size, archives=archives) == count


def test_nothing_pending_or_expired_is_no_plan() -> None:
    assert plan.incremental_plan([], []) is None


def test_incremental_plan() -> None:
    pending = [post("a", tags=("x",)), post("b", "tech", revision=3, tags=("y", "x"))]
    made = plan.incremental_plan(pending, [])
    assert made is not None
    assert made.marks == (("a", 1), ("b", 3))
    assert made.fresh == {"a"}
    assert made.categories == ("news", "tech")
    assert made.changed("tech") == [pending[1]]
    assert not made.rebuild("news") and made.rebuilt == frozenset()
    assert made.tags == {"x", "y"}


def test_expiry_rebuilds_its_categories_and_every_tag_feed() -> None:
    made = plan.incremental_plan([post("a")], [listed("old", "misc")])
    assert made is not None
    assert made.categories == ("misc", "news")
    assert made.rebuild("misc") and not made.rebuild("news")
    assert made.tags is None


def test_full_plan() -> None:
    made = plan.full_plan([("a", 1), ("b", 2)], ["tech", "news", "tech"], [])
    assert made.full and made.rebuild("news") and made.pending == ()
    assert made.fresh == {"a"}
    assert made.categories == ("news", "tech")
    assert made.tags is None


def test_a_change_of_feeds_alone_writes_every_category_feed_and_no_post() -> None:
    made = plan.incremental_plan([], [], rewrite=FEEDS, categories=["tech", "news"])
    assert made is not None
    assert made.categories == ("news", "tech") and made.pending == () and made.marks == ()
    assert not made.every_post and not made.full
    assert not made.rebuild("news") and made.rebuild_archives("news")
    assert made.tags is None


def test_a_change_of_the_menu_writes_every_post_page_and_list_page() -> None:
    made = plan.full_plan([("a", 2)], ["news"], [], rewrite=PAGES)
    assert made.every_post and not made.full
    assert made.rebuild("news") and not made.rebuild_archives("news")


@pytest.mark.parametrize(
    ("change", "shapes"),
    [
        pytest.param({"base_url": "https://other.example/"}, EVERYTHING, id="base-url"),
        pytest.param({"timezone": "Asia/Shanghai"}, EVERYTHING, id="zone-moves-paths"),
        pytest.param({"language": "zh-CN"}, EVERYTHING, id="language"),
        pytest.param({"title": "New"}, PAGES | FEEDS, id="title-not-in-post-files"),
        pytest.param({"feed_size": 3}, FEEDS, id="feed-size"),
        pytest.param({"archives": True}, FEEDS, id="archives"),
        pytest.param({"tag_feeds": True}, frozenset({"feeds"}), id="tag-feeds"),
        pytest.param({"retention": timedelta(days=1)}, frozenset(), id="retention-shapes-nothing"),
    ],
)
def test_what_each_site_key_rewrites(change: dict[str, object], shapes: frozenset[str]) -> None:
    config = Config(
        path=Path("/c/config.yaml"),
        site=Site(title="T", base_url="https://example.org/", output_dir=Path("/c/out")),
        database="sqlite://",
        schedule=Schedule(),
        categories={"news": Category(slug="news", title="News")},
        sources=(),
    )
    env = environment(None)
    before = {a.name: a.digest for a in config_aspects(config, env)}
    changed_config = replace(config, site=replace(config.site, **change))  # type: ignore[arg-type]
    changed = changed_aspects(config_aspects(changed_config, env), before)
    assert rewritten(changed) == shapes


def test_a_category_renamed_or_added_rewrites_everything() -> None:
    news = Category(slug="news", title="News")
    config = Config(
        path=Path("/c/config.yaml"),
        site=Site(title="T", base_url="https://example.org/", output_dir=Path("/c/out")),
        database="sqlite://",
        schedule=Schedule(),
        categories={"news": news},
        sources=(),
    )
    env = environment(None)
    before = {a.name: a.digest for a in config_aspects(config, env)}
    for categories in (
        {"news": replace(news, title="Headlines")},
        {"news": news, "tech": Category(slug="tech", title="Tech")},
    ):
        changed = changed_aspects(
            config_aspects(replace(config, categories=categories), env), before
        )
        assert [a.name for a in changed] == ["categories"]
        assert rewritten(changed) == EVERYTHING
    # Its dedupe or rules shape no file.
    same = replace(config, categories={"news": replace(news, dedupe="off")})
    assert changed_aspects(config_aspects(same, env), before) == []


def test_an_unusable_fingerprint_file_reads_as_none(tmp_path: Path) -> None:
    assert read_fingerprint(tmp_path) is None
    (tmp_path / FINGERPRINT_FILE).write_bytes(b"\xff{")
    assert read_fingerprint(tmp_path) is None
    (tmp_path / FINGERPRINT_FILE).write_text('{"version": 99, "aspects": {}}')
    assert read_fingerprint(tmp_path) is None
    aspects = [Aspect("extra", {"id": "x"}, FEEDS)]
    assert write_fingerprint(tmp_path, aspects)
    assert read_fingerprint(tmp_path) == {"extra": aspects[0].digest}
    assert not write_fingerprint(tmp_path, aspects)  # unchanged: not written again


SITEMAP = Sitemap.for_site(
    Site(
        title="T",
        base_url="https://news.example.org:8443/agg/",
        output_dir=Path("/out"),
        timezone="Asia/Shanghai",
    )
)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        pytest.param(SITEMAP.post_file(post("k")), "_posts/2021-12-27-slug-k.md", id="post-file"),
        pytest.param(
            SITEMAP.post_page(post("k")), "news/2021/12/27/slug-k.html", id="post-page-local-day"
        ),
        pytest.param(SITEMAP.category_page("news"), "category/news.html", id="category-page"),
        pytest.param(SITEMAP.category_page("news", 3), "category/news/3.html", id="numbered"),
        pytest.param(SITEMAP.category_feed("news"), "category/news.xml", id="category-feed"),
        pytest.param(SITEMAP.archive("news", 2), "category/news/archive/2.xml", id="archive"),
        pytest.param(SITEMAP.tag_feed(tag_slug("经济")), "tag/jing-ji.xml", id="tag-feed"),
        pytest.param(SITEMAP.combined_feed(), "atom.xml", id="combined"),
        pytest.param(SITEMAP.combined_feed(".rss"), "rss.xml", id="combined-rss"),
        pytest.param(SITEMAP.combined_feed(".json"), "feed.json", id="combined-json"),
        pytest.param(SITEMAP.category_feed("news", ".rss"), "category/news.rss", id="rss"),
        pytest.param(SITEMAP.tag_feed("x", ".json"), "tag/x.json", id="tag-json"),
        pytest.param(SITEMAP.opml, "subscriptions.opml", id="opml"),
        pytest.param(SITEMAP.index, "index.html", id="index"),
    ],
)
def test_sitemap_paths(path: str, expected: str) -> None:
    assert path == expected


@pytest.mark.parametrize(
    ("path", "extension"),
    [
        pytest.param("atom.xml", ".xml", id="atom"),
        pytest.param("rss.xml", ".rss", id="rss-combined-is-rss"),
        pytest.param("feed.json", ".json", id="json-combined"),
        pytest.param("category/news.rss", ".rss", id="category-rss"),
        pytest.param("category/news/archive/3.xml", ".xml", id="archive"),
        pytest.param("tag/jing-ji.json", ".json", id="tag-json"),
        pytest.param("category/news.html", None, id="page"),
        pytest.param("data.json", None, id="other-json"),
        pytest.param("category/news/3.json", None, id="not-an-archive"),
        pytest.param("x/news.rss", None, id="other-folder"),
    ],
)
def test_which_format_a_feed_is(path: str, extension: str | None) -> None:
    assert Sitemap.feed_extension(path) == extension


def test_feed_patterns_find_every_feed_of_a_format_and_no_other(tmp_path: Path) -> None:
    written = [
        "rss.xml", "atom.xml", "category/a.rss", "category/a.xml", "tag/t.rss",
        "category/a/archive/1.rss", "category/a.html", "category/a/1.html",
    ]  # fmt: skip
    for path in written:
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text("x")
    found = {
        p.relative_to(tmp_path).as_posix()
        for pattern in SITEMAP.feed_patterns(".rss")
        for p in tmp_path.glob(pattern)
    }
    assert found == {"rss.xml", "category/a.rss", "tag/t.rss", "category/a/archive/1.rss"}
    assert all(Sitemap.feed_extension(p) == ".rss" for p in found)


def test_sitemap_urls() -> None:
    assert SITEMAP.url("atom.xml") == "https://news.example.org:8443/agg/atom.xml"
    assert SITEMAP.canonical("index.html") == "https://news.example.org:8443/agg/"
    assert SITEMAP.relative_base == "//news.example.org:8443/agg/"
    assert SITEMAP.root("news/2021/12/27/x.html") == "../../../../"
    for root in ("", "../", "../../../../"):
        assert SITEMAP.root(SITEMAP.a_page_at(root)) == root
    assert SITEMAP.entry_id(post("k")) == "tag:news.example.org,2026:k"
    assert SITEMAP.feed_id("atom.xml") == "https://news.example.org:8443/agg/atom.xml"


@pytest.mark.parametrize(
    ("site_id", "entry_id", "feed_id"),
    [
        pytest.param(
            None,
            "tag:old.example.org,2026:k",
            "https://old.example.org/planet/category/news.xml",
            id="the-first-publishs-base",
        ),
        pytest.param(
            "me@example.net,2026-02",
            "tag:me@example.net,2026-02:k",
            "tag:me@example.net,2026-02:category/news.xml",
            id="site-id-wins",
        ),
    ],
)
def test_ids_are_made_from_the_kept_base_not_base_url(
    site_id: str | None, entry_id: str, feed_id: str
) -> None:
    site = Site(title="T", base_url="https://new.example.org/", output_dir=Path("/o"), id=site_id)
    sitemap = Sitemap.for_site(site, id_base="https://old.example.org/planet/")
    assert sitemap.entry_id(post("k")) == entry_id
    assert sitemap.feed_id(sitemap.category_feed("news")) == feed_id
    assert sitemap.url("atom.xml") == "https://new.example.org/atom.xml"


def test_a_post_dated_before_year_1000_and_old_file_names() -> None:
    ancient = replace(post("k"), published=WHEN.replace(year=999))
    assert SITEMAP.post_file(ancient) == "_posts/999-12-27-slug-k.md"
    assert SITEMAP.post_page(ancient) == "news/999/12/27/slug-k.html"
    assert day_strings(WHEN)[0] == "2021-12-26"  # as given: the zone is the caller's
    assert SITEMAP.parse_post_file_name("1-01-01-a-b.md") == ("a-b", ("1", "01", "01"))
    assert SITEMAP.parse_post_file_name("notes.md") is None


@pytest.mark.parametrize(
    ("path", "topic"),
    [
        ("atom.xml", True),
        ("category/news.xml", True),
        ("tag/x.xml", True),
        ("category/news/archive/1.xml", False),  # archives never change: no topic
        ("category/news.html", False),
        ("subscriptions.opml", False),
    ],
)
def test_websub_topics(path: str, topic: bool) -> None:
    assert SITEMAP.is_topic(path) is topic


def test_every_format_has_a_distinct_extension() -> None:
    assert len({f.extension for f in FORMATS}) == len(FORMATS) >= 1


# What only the sitemap may spell: a path of the output tree, in a string of any other
# module of the package (docstrings may name one).
_PATH_SPELLINGS = re.compile(r"category/|tag/|(?<![a-z])_posts|atom\.xml|\.opml|index\.html|\.\./")


def _code_strings(tree: ast.Module) -> list[ast.Constant]:
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
    }
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
    ]


def test_only_the_sitemap_spells_paths() -> None:
    offenders = []
    for module in sorted(PACKAGE.glob("*.py")):
        if module.name == "sitemap.py":
            continue
        for node in _code_strings(ast.parse(module.read_text())):
            if _PATH_SPELLINGS.search(node.value):
                offenders.append(f"{module.name}:{node.lineno}: {node.value!r}")
    assert offenders == []


def test_the_path_check_finds_a_path_spelled_elsewhere() -> None:
    tree = ast.parse('"""Writes category/<slug>.html."""\nPAGE = f"{root}category/{slug}.html"\n')
    assert [n.value for n in _code_strings(tree) if _PATH_SPELLINGS.search(n.value)] == [
        "category/"
    ]
