"""One slow or huge feed must not hold the round: the sanitizer's cost, the cap on one
item's body, the time budget of a parse job (end to end through the real CLI)."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from builders import site_rss
from clirunner import run_cli
from httpserver import FeedServer
from test_cli import write_config

from aggregator.normalize import MAX_BODY_CHARS, Oversized, normalize_with_keys, sanitize_html
from aggregator.types import ParsedFeed, RawEntry, Source

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def _best_of(runs: int, fn: Callable[[], object]) -> float:
    # This thread's CPU time, not the wall's: the suite's other workers share the cores.
    best = float("inf")
    for _ in range(runs):
        started = time.thread_time()
        fn()
        best = min(best, time.thread_time() - started)
    return best


# Bare ampersands in text, attributes and URLs, beside real references: what the stand-in
# for a bare "&" must give back exactly as nh3 reads the body itself.
_AMPERSAND_SAMPLES = [
    "<p>Tom & Jerry &amp; friends &copy 2024 &#38; &#x26; &notit; &; &= &&</p>",
    '<a href="/search?q=a& b&c=1" title="x & y">a & b</a>',
    '<img src="/i.png?a=1&" data-src="/big.png?x=1& y=2" alt="&">',
    "<pre>&\n&\t&</pre><table><td>& &</td></table><xmp>& &amp;</xmp>",
    "<p>&#xE000; &#57344; \u00e9 & \u4e2d\u6587 &nbsp;&</p>",
]


def test_sanitizing_deep_nesting_grows_linearly() -> None:
    # The parser checks the open elements on each tag: 4x as many nested divs cost it
    # ~16x (80,000: 16 s), unless the input is flattened first.
    small, large = "<div>" * 10_000 + "x", "<div>" * 40_000 + "x"
    t_small = _best_of(3, lambda: sanitize_html(small, base_url=None))
    t_large = _best_of(3, lambda: sanitize_html(large, base_url=None))
    assert t_large / t_small < 8, (t_small, t_large)
    assert sanitize_html(large, base_url=None).count("<div>") == 64


def test_sanitizing_bare_ampersands_grows_linearly() -> None:
    # nh3 alone spends time on each "&" in proportion to the rest of its text run: 4x the
    # body cost ~14x. Linear is 4x; the bound leaves room for a loaded machine.
    small, large = "& " * 50_000, "& " * 200_000
    assert sanitize_html(small, base_url=None) == "&amp; " * 50_000
    base = "https://example.org/a/"
    t_small = _best_of(3, lambda: sanitize_html(small, base_url=base))
    t_large = _best_of(3, lambda: sanitize_html(large, base_url=base))
    assert t_large / t_small < 8, (t_small, t_large)
    # Long bodies with many "&" take the stand-in path, others not: a stripped comment
    # makes the difference, and the output must not change.
    pad = "<!--" + "& " * 1024 + "x" * 8192 + "-->"
    for sample in _AMPERSAND_SAMPLES:
        for data in (False, True):
            short = sanitize_html(sample, base_url=base, allow_data_images=data)
            padded = sanitize_html(pad + sample, base_url=base, allow_data_images=data)
            assert padded == short, sample


def _source() -> Source:
    return Source(
        name="big", url="https://big.example/feed", category="news", tags=("News",),
        interval=timedelta(hours=1),
    )  # fmt: skip


def test_a_huge_item_body_is_cut_before_sanitizing_and_reported() -> None:
    huge = "<p>" + "word " * (MAX_BODY_CHARS // 4) + "</p>"
    entries = (
        RawEntry(guid="1", link="https://big.example/1", title="Huge", content=huge),
        RawEntry(
            guid="2", link="https://big.example/2", title="Huge with summary",
            content=huge, summary="<p>Short summary</p>",
        ),
        RawEntry(guid="3", link="https://big.example/3", title="Small", content="<p>ok</p>"),
    )  # fmt: skip
    oversized: list[Oversized] = []
    posts, _ = normalize_with_keys(
        ParsedFeed(entries=entries),
        _source(),
        now=NOW,
        site_timezone="UTC",
        feed_url="https://big.example/feed",
        oversized=oversized,
    )
    assert [p.title for p in posts] == ["Huge", "Huge with summary", "Small"]
    assert len(posts[0].content_html) <= MAX_BODY_CHARS + len("</p>")
    assert posts[0].content_html.startswith("<p>word word")
    assert posts[1].content_html == "<p>Short summary</p>"
    assert posts[2].content_html == "<p>ok</p>"
    assert [(o.item, o.size) for o in oversized] == [
        ("https://big.example/1", len(huge)),
        ("https://big.example/2", len(huge)),
    ]


def _good_sources(feed_server: FeedServer, count: int) -> list[dict[str, str]]:
    sources = []
    for n in range(count):
        feed_server.add(
            f"/good{n}.rss", site_rss(f"good{n}", [(f"g{n}", f"Good news {n}", "<p>ok</p>")])
        )
        sources.append(
            {"name": f"good{n}", "url": feed_server.url(f"/good{n}.rss"), "category": "news"}
        )
    return sources


@pytest.mark.slow
def test_a_10mb_body_of_ampersands_does_not_hold_the_round(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    body = site_rss("hostile", [("h1", "Hostile", "& " * 4_900_000)])
    assert len(body) > 9_800_000
    feed_server.add("/hostile.rss", body)
    sources = _good_sources(feed_server, 3)
    sources.append({"name": "hostile", "url": feed_server.url("/hostile.rss"), "category": "news"})
    config = write_config(tmp_path, sources, {"news": "News"})

    started = time.monotonic()
    proc = run_cli(config, "run", "--once", "--all", timeout=60)
    assert time.monotonic() - started < 30, proc.stderr

    posts = {p.read_text(encoding="utf-8") for p in (tmp_path / "out" / "_posts").glob("*.md")}
    for n in range(3):
        assert any(f"Good news {n}" in text for text in posts)
    by_name = {r["name"]: r for r in json.loads(run_cli(config, "status", "--json").stdout)}
    assert all(by_name[f"good{n}"]["posts"] == 1 for n in range(3))
    # The cap makes it cheap: published, cut, and the cut named in the log.
    assert by_name["hostile"]["last_error"] is None and by_name["hostile"]["posts"] == 1
    assert (
        "hostile: 1 item bodies cut before sanitizing (first http://example.org/hostile/h1.html:"
        in proc.stderr
    )


def _processes_with(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:  # gone, or not ours
            continue
        if marker.encode() in environ:
            found.append(int(entry.name))
    return found


@pytest.mark.slow
def test_a_parse_over_its_budget_fails_that_source_alone_and_is_stopped(
    tmp_path: Path, feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 5,000 items through feedparser: some seconds of parsing and sanitizing, over a budget
    # of half a second (the fast path reads them within it).
    items = [(f"h{i}", f"Item {i}", "<p>" + f"word{i} " * 30 + "</p>") for i in range(5000)]
    feed_server.add("/heavy.rss", site_rss("heavy", items))
    sources = _good_sources(feed_server, 3)
    sources.append({"name": "heavy", "url": feed_server.url("/heavy.rss"), "category": "news"})
    config = write_config(tmp_path, sources, {"news": "News"})
    text = config.read_text(encoding="utf-8").replace("fetch:", "fetch:\n  parse_timeout: 0.5")
    text += "\nparser: feedparser\n"
    config.write_text(text, encoding="utf-8")
    marker = f"AGGREGATOR_BUDGET_TEST={uuid.uuid4().hex}"
    monkeypatch.setenv("AGGREGATOR_BUDGET_TEST", marker.split("=", 1)[1])

    proc = run_cli(config, "run", "--once", "--all", timeout=60)

    # Every process the command started (forkserver, workers) is gone with it.
    deadline = time.monotonic() + 5
    while _processes_with(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _processes_with(marker) == []
    posts = {p.read_text(encoding="utf-8") for p in (tmp_path / "out" / "_posts").glob("*.md")}
    for n in range(3):
        assert any(f"Good news {n}" in text for text in posts), proc.stderr
    by_name = {r["name"]: r for r in json.loads(run_cli(config, "status", "--json").stdout)}
    assert all(by_name[f"good{n}"]["last_error"] is None for n in range(3))
    heavy = by_name["heavy"]
    assert heavy["posts"] == 0 and heavy["failures"] == 1
    assert "parse took longer than 0.5s" in (heavy["last_error"] or ""), heavy
    assert "parse took longer than 0.5s" in run_cli(config, "status").stdout


@pytest.mark.slow
def test_an_overrun_among_many_jobs_fails_that_source_alone(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    # More work than the pool's workers do in the heavy source's budget, so jobs are
    # waiting when its worker is killed: they run again in the new pool, none fails (nor
    # spends its budget waiting) and the round goes on.
    # "&a" over and over: seconds of the sanitizer's time per item (it grows with the square
    # of such a run), under the cap on an item's body.
    items = [(f"h{i}", f"Item {i}", "&a" * 400_000) for i in range(4)]
    feed_server.add("/heavy.rss", site_rss("heavy", items))
    sources = [{"name": "heavy", "url": feed_server.url("/heavy.rss"), "category": "news"}]
    for n in range(9):
        medium = [(f"m{n}-{i}", f"Story {n} {i}", f"<p>text {n} {i}</p>") for i in range(2000)]
        feed_server.add(f"/m{n}.rss", site_rss(f"m{n}", medium))
        sources.append({"name": f"m{n}", "url": feed_server.url(f"/m{n}.rss"), "category": "news"})
    config = write_config(tmp_path, sources, {"news": "News"})
    text = config.read_text(encoding="utf-8").replace("fetch:", "fetch:\n  parse_timeout: 4")
    config.write_text(text, encoding="utf-8")

    proc = run_cli(config, "run", "--once", "--all", timeout=120)

    assert "Traceback" not in proc.stderr, proc.stderr
    by_name = {r["name"]: r for r in json.loads(run_cli(config, "status", "--json").stdout)}
    assert "parse took longer than 4s" in (by_name["heavy"]["last_error"] or "")
    for n in range(9):
        assert by_name[f"m{n}"]["last_error"] is None, by_name[f"m{n}"]
        assert by_name[f"m{n}"]["posts"] == 2000
