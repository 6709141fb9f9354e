"""Rules: include/exclude (keywords and RE2 regexes), max age, strip, category map, config keys."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from aggregator.config import load_config
from aggregator.errors import ConfigError
from aggregator.normalize import normalize
from aggregator.rules import check_pattern, map_category, rule_set, strip_elements
from aggregator.types import Category, ParsedFeed, Post, RawEntry, Rules, Source

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
URL = "https://feeds.example.org/feed.xml"


def source(**rules: Any) -> Source:
    return Source(
        name="s",
        url=URL,
        category="news",
        tags=("News",),
        interval=timedelta(minutes=30),
        rules=Rules(**rules),
    )


def run(*entries: RawEntry, src: Source, category: Category | None = None) -> list[Post]:
    feed = ParsedFeed(title="T", link="https://site.example.org/", entries=entries)
    return normalize(feed, src, now=NOW, site_timezone="UTC", feed_url=URL, category=category)


ITEMS = (
    RawEntry(guid="1", title="Stock market rallies", content="<p>Shares rose.</p>"),
    RawEntry(guid="2", title="Football results", content="<p>Sponsored: buy now</p>"),
    RawEntry(guid="3", title="科技新闻：芯片", content="<p>新品发布</p>"),
)


@pytest.mark.parametrize(
    ("rules", "titles"),
    [
        pytest.param({}, ["Stock market rallies", "Football results", "科技新闻：芯片"], id="none"),
        pytest.param({"include": ("STOCK",)}, ["Stock market rallies"], id="keyword-any-case"),
        pytest.param(
            {"include": ("芯片", "football")},
            ["Football results", "科技新闻：芯片"],
            id="any-include",
        ),
        pytest.param(
            {"exclude": ("sponsored",)},
            ["Stock market rallies", "科技新闻：芯片"],
            id="exclude-body",
        ),
        pytest.param(
            {"include": (r"/^(stock|foot)/",)},
            ["Stock market rallies", "Football results"],
            id="regex",
        ),
        pytest.param(
            {"include": ("/./",), "exclude": (r"/\p{Han}/",)},
            ["Stock market rallies", "Football results"],
            id="regex-unicode-class",
        ),
    ],
)
def test_include_exclude(rules: dict[str, Any], titles: list[str]) -> None:
    assert [p.title for p in run(*ITEMS, src=source(**rules))] == titles


def test_category_rules_apply_with_the_source_rules() -> None:
    category = Category(slug="news", title="News", rules=Rules(exclude=("football",)))
    posts = run(*ITEMS, src=source(include=("/s/",)), category=category)
    assert [p.title for p in posts] == ["Stock market rallies"]


def test_max_age_drops_old_items_and_the_smaller_age_wins() -> None:
    old = RawEntry(guid="o", title="old", published=NOW - timedelta(days=10))
    new = RawEntry(guid="n", title="new", published=NOW - timedelta(days=1))
    undated = RawEntry(guid="u", title="undated")
    assert [p.title for p in run(old, new, undated, src=source(max_age=timedelta(days=7)))] == [
        "new",
        "undated",
    ]
    category = Category(slug="news", title="News", rules=Rules(max_age=timedelta(hours=1)))
    got = run(old, new, undated, src=source(max_age=timedelta(days=7)), category=category)
    assert [p.title for p in got] == ["undated"]


def test_hostile_regex_input_is_fast() -> None:
    # (a+)+$ backtracks exponentially in Python's re; RE2 runs it in linear time.
    matcher = check_pattern("/(a+)+$/")
    started = time.monotonic()
    assert not matcher.matches("a" * 50_000 + "!")
    assert time.monotonic() - started < 5.0  # Python's re would take years


@pytest.mark.parametrize("bad", ["/(a/", r"/(a)\1/", "/(?=x)/", "  "])
def test_bad_patterns_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        check_pattern(bad)


@pytest.mark.parametrize(
    ("html", "selectors", "expected"),
    [
        pytest.param('<p>keep</p><div class="ad">buy</div>', (".ad",), "<p>keep</p>", id="class"),
        pytest.param(
            '<p>a<span id="x">b</span> tail</p>', ("#x",), "<p>a tail</p>", id="id-keeps-tail"
        ),
        pytest.param("<p>a</p><aside>b</aside>", ("aside", "p"), "", id="several"),
        pytest.param("<p>a</p>", (".none",), "<p>a</p>", id="no-match-unchanged"),
        pytest.param("text only", ("p",), "text only", id="no-elements"),
    ],
)
def test_strip_elements(html: str, selectors: tuple[str, ...], expected: str) -> None:
    assert strip_elements(html, selectors) == expected


def test_strip_runs_before_the_sanitizer_drops_classes() -> None:
    entry = RawEntry(guid="1", title="t", content='<p>story</p><div class="share">Share!</div>')
    (post,) = run(entry, src=source(strip=(".share",)))
    assert post.content_html == "<p>story</p>"
    (plain,) = run(entry, src=source())
    assert "Share!" in plain.content_html


def test_category_map() -> None:
    assert map_category(["Sports", " 科技 "], {"科技": "tech"}) == "tech"
    assert map_category(["sports"], [("Sports", "sport")]) == "sport"
    assert map_category(["other"], {"科技": "tech"}) is None
    src = replace(source(), category_map=(("科技", "tech"),))
    posts = run(
        RawEntry(guid="1", title="a", categories=("科技",)),
        RawEntry(guid="2", title="b", categories=("体育",)),
        src=src,
    )
    assert [p.category for p in posts] == ["tech", "news"]


def test_rule_set_without_rules_filters_nothing() -> None:
    assert not rule_set(source()).filters
    assert rule_set(source(include=("x",))).filters


# ------------------------------------------------------------------- config


def write(
    tmp: Path, source_extra: dict[str, Any], category_extra: dict[str, Any] | None = None
) -> Path:
    data = {
        "site": {"title": "t", "base_url": "https://news.example.org/"},
        "categories": {
            "news": {"title": "News"} | (category_extra or {}),
            "tech": {"title": "Tech"},
        },
        "sources": [{"name": "s", "url": URL, "category": "news"} | source_extra],
    }
    path = tmp / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_config_keys_reach_the_source_and_category(tmp_path: Path) -> None:
    config = load_config(
        write(
            tmp_path,
            {
                "include": ["stock", "/^ipo/"],
                "exclude": ["sponsored"],
                "max_age": "7d",
                "strip": [".ad", "div.share > a"],
                "category_map": {"科技": "tech"},
                "date_offset": "-8h",
                "full_text": True,
                "allow_data_images": True,
            },
            {"dedupe": "content", "exclude": ["广告"], "max_age": "30d"},
        )
    )
    (src,) = config.sources
    assert src.rules == Rules(
        include=("stock", "/^ipo/"),
        exclude=("sponsored",),
        max_age=timedelta(days=7),
        strip=(".ad", "div.share > a"),
    )
    assert src.category_map == (("科技", "tech"),)
    assert src.date_offset == timedelta(hours=-8)
    assert src.full_text and src.allow_data_images
    news = config.categories["news"]
    assert news.dedupe == "content"
    assert news.rules == Rules(exclude=("广告",), max_age=timedelta(days=30))


def test_config_defaults(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, {}))
    (src,) = config.sources
    assert src.rules == Rules() and not src.full_text and src.date_offset == timedelta(0)
    assert config.categories["news"].dedupe == "link"


@pytest.mark.parametrize(
    ("source_extra", "category_extra", "fault"),
    [
        pytest.param(
            {"include": ["/(a/"]}, None, "sources[0].include[0]: not a valid RE2 regex", id="regex"
        ),
        pytest.param(
            {"strip": ["div >"]}, None, "sources[0].strip[0]: not a CSS selector", id="selector"
        ),
        pytest.param(
            {"category_map": {"x": "nope"}}, None, "unknown category 'nope'", id="map-target"
        ),
        pytest.param({"max_age": "soon"}, None, "sources[0].max_age: bad duration", id="max-age"),
        pytest.param({}, {"dedupe": "title"}, "categories.news.dedupe:", id="dedupe"),
    ],
)
def test_config_refuses_bad_rules(
    tmp_path: Path, source_extra: dict[str, Any], category_extra: dict[str, Any] | None, fault: str
) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, source_extra, category_extra))
    assert any(fault in line for line in info.value.problems), info.value.problems
