"""The site follows its config: a new base URL, title, zone, feed size, template, category
or category title takes effect on the next `run --once` or `publish` (and daemon reload),
with no `publish --all`; after each change the whole output tree is walked: every internal
link resolves and every page shows the same menu. Through the real CLI and daemon."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import builders
import pytest
from builders import site_rss
from clirunner import run_cli, tree_mtimes, validate_feeds
from httpserver import FeedServer
from sitewalk import walk
from test_daemon import Daemon, start

from aggregator.publish.fingerprint import FINGERPRINT_FILE

pytestmark = pytest.mark.slow

BASE = "https://news.example.org/"
NEW_BASE = "https://press.example.com/site/"


def site(**more: str) -> dict[str, str]:
    return builders.site_section(title="Old Title", timezone="Asia/Shanghai", language="en") | more


def sources(server: FeedServer, *names: str) -> list[dict[str, str]]:
    category = {"aa": "news", "bb": "tech", "cc": "world"}
    return [
        {"name": n, "url": server.url(f"/{n}.rss"), "category": category[n], "interval": "1h"}
        for n in names
    ]


write_config = functools.partial(builders.write_config, fetch=builders.timeouts("1s", "2s", "3s"))


@pytest.fixture
def daemons() -> Iterator[list[Daemon]]:
    """Daemons started by a test; any still running are killed afterwards."""
    started: list[Daemon] = []
    yield started
    for d in started:
        d.kill()


@pytest.fixture
def feeds(feed_server: FeedServer) -> FeedServer:
    for name, count in (("aa", 3), ("bb", 2), ("cc", 2)):
        stories = [(f"{name}{n}", f"{name.upper()} story {n}") for n in range(count)]
        feed_server.add(f"/{name}.rss", site_rss(name, stories))
    return feed_server


def pages(out: Path) -> list[Path]:
    return [p for p in out.rglob("*.html") if ".tmp" not in p.parts]


def post_page(out: Path, slug: str) -> Path:
    found = [p for p in pages(out) if p.name == f"{slug}.html" and p.parts[-5] != "category"]
    assert len(found) == 1, found
    return found[0]


def test_each_change_takes_effect_on_the_next_run_and_the_tree_stays_whole(
    tmp_path: Path, feeds: FeedServer
) -> None:
    out = tmp_path / "out"
    categories: dict[str, Any] = {"news": "News", "tech": "Tech"}

    def configure(names: tuple[str, ...] = ("aa", "bb"), **site_keys: str) -> Path:
        return write_config(tmp_path, sources(feeds, *names), categories, site=site(**site_keys))

    config = configure()
    run_cli(config, "run", "--once")
    walked = walk(out, BASE)
    assert walked.menu() == [("category/news.html", "News"), ("category/tech.html", "Tech")]
    assert set(walked.titles.values()) == {"Old Title"}
    assert (out / FINGERPRINT_FILE).is_file()

    # Nothing changed: nothing is written.
    before = tree_mtimes(out)
    run_cli(config, "run", "--once")
    assert tree_mtimes(out) == before

    # A new base URL and title: every file that shows them, on the next round.
    config = configure(base_url=NEW_BASE, title="New Title")
    run_cli(config, "run", "--once")
    walked = walk(out, NEW_BASE, old_bases=[BASE])
    assert set(walked.titles.values()) == {"New Title"}
    assert walked.links > 50
    atom = (out / "atom.xml").read_text(encoding="utf-8")
    assert f'href="{NEW_BASE}atom.xml"' in atom and "<title>New Title</title>" in atom
    post_file = next((out / "_posts").glob("*aa-story-0.md")).read_text(encoding="utf-8")
    assert "(//press.example.com/site/category/news.html)" in post_file
    opml = (out / "subscriptions.opml").read_text(encoding="utf-8")
    assert NEW_BASE in opml and BASE not in opml

    # A new category with a source, and one with none yet: the first is in every page's
    # menu (old post pages included), the second in none (its page would be empty).
    categories |= {"world": "World", "later": "Later"}
    config = configure(("aa", "bb", "cc"), base_url=NEW_BASE, title="New Title")
    run_cli(config, "run", "--once")
    walked = walk(out, NEW_BASE, old_bases=[BASE])
    assert walked.menu() == [
        ("category/news.html", "News"),
        ("category/tech.html", "Tech"),
        ("category/world.html", "World"),
    ]
    assert len(walked.menus) > 10

    # A category renamed: its title in every menu, its posts' back links, its feed.
    categories["news"] = "Headlines"
    config = configure(("aa", "bb", "cc"), base_url=NEW_BASE, title="New Title")
    run_cli(config, "publish")
    walked = walk(out, NEW_BASE, old_bases=[BASE])
    assert walked.menu()[0] == ("category/news.html", "Headlines")
    post_file = next((out / "_posts").glob("*aa-story-0.md")).read_text(encoding="utf-8")
    assert "[Back to Headlines]" in post_file
    # Its posts' default tags are its title: the stored posts take the new one, not as an
    # edit (their feed entries keep their dates), and the next fetch sees no change.
    assert "\ntags: Headlines\n" in post_file, post_file
    before = tree_mtimes(out)
    run_cli(config, "run", "--once", "--all")
    assert tree_mtimes(out) == before
    assert "<title>Headlines · New Title</title>" in (out / "category" / "news.xml").read_text(
        encoding="utf-8"
    )

    # A template of the operator's: every post page takes it.
    templates = tmp_path / "templates"
    templates.mkdir()
    default = Path(__file__).parent.parent / "aggregator" / "templates" / "post.html"
    text = default.read_text(encoding="utf-8")
    (templates / "post.html").write_text(
        text.replace("<article>", '<article class="custom">'), encoding="utf-8"
    )
    config = configure(
        ("aa", "bb", "cc"), base_url=NEW_BASE, title="New Title", templates_dir="templates"
    )
    run_cli(config, "run", "--once")
    page = post_page(out, "aa-story-0").read_text(encoding="utf-8")
    assert '<article class="custom">' in page
    walk(out, NEW_BASE).menu()

    # A source removed: its posts stay published, and every link still resolves.
    config = configure(
        ("aa", "cc"), base_url=NEW_BASE, title="New Title", templates_dir="templates"
    )
    run_cli(config, "run", "--once")
    walked = walk(out, NEW_BASE, old_bases=[BASE])
    assert [t for _, t in walked.menu()] == ["Headlines", "Tech", "World"]
    assert post_page(out, "bb-story-0").is_file()
    validate_feeds(out)


def test_a_category_gone_from_the_config_keeps_its_title_while_its_posts_stay(
    tmp_path: Path, feeds: FeedServer
) -> None:
    out = tmp_path / "out"
    auto = {"name": "Auto Src", "url": feeds.url("/bb.rss"), "interval": "1h"}  # its own category
    config = write_config(tmp_path, [*sources(feeds, "aa"), auto], {"news": "News"}, site=site())
    run_cli(config, "run", "--once")
    assert "<title>Auto Src · Old Title</title>" in (out / "category" / "auto-src.xml").read_text(
        encoding="utf-8"
    )

    config = write_config(tmp_path, sources(feeds, "aa"), {"news": "News"}, site=site(title="T2"))
    run_cli(config, "run", "--once")
    feed = (out / "category" / "auto-src.xml").read_text(encoding="utf-8")
    assert "<title>Auto Src · T2</title>" in feed and 'label="Auto Src"' in feed
    post_file = next((out / "_posts").glob("*bb-story-0.md")).read_text(encoding="utf-8")
    assert "[Back to Auto Src]" in post_file
    opml = (out / "subscriptions.opml").read_text(encoding="utf-8")
    assert 'text="Auto Src · T2"' in opml and "category/auto-src.xml" in opml
    walk(out, BASE)


def test_a_new_zone_moves_post_files_and_leaves_no_old_ones(
    tmp_path: Path, feeds: FeedServer
) -> None:
    out = tmp_path / "out"
    # hourly(): 26 Dec 2021 at 00:35 and 01:35 UTC, the 25th in New York.
    config = write_config(tmp_path, sources(feeds, "aa"), {"news": "News"}, site=site())
    run_cli(config, "run", "--once")
    assert sorted(p.name[:10] for p in (out / "_posts").glob("*.md")) == ["2021-12-26"] * 3

    config = write_config(
        tmp_path, sources(feeds, "aa"), {"news": "News"}, site=site(timezone="America/New_York")
    )
    run_cli(config, "publish")
    assert sorted(p.name[:10] for p in (out / "_posts").glob("*.md")) == ["2021-12-25"] * 3
    assert not (out / "news" / "2021" / "12" / "26").exists() or not list(
        (out / "news" / "2021" / "12" / "26").iterdir()
    )
    assert len(list((out / "news" / "2021" / "12" / "25").glob("*.html"))) == 3
    walk(out, BASE).menu()


def test_feed_size_and_archives_rewrite_the_feeds(tmp_path: Path, feeds: FeedServer) -> None:
    out = tmp_path / "out"
    config = write_config(tmp_path, sources(feeds, "aa"), {"news": "News"}, site=site())
    run_cli(config, "run", "--once")
    feed = out / "category" / "news.xml"
    assert feed.read_text(encoding="utf-8").count("<entry>") == 3

    config = write_config(
        tmp_path,
        sources(feeds, "aa"),
        {"news": "News"},
        site=site(feed_size=1, archives=True),  # type: ignore[arg-type]
    )
    run_cli(config, "run", "--once")
    assert (out / "category" / "news" / "archive" / "2.xml").is_file()
    assert (out / "atom.xml").read_text(encoding="utf-8").count("<entry>") == 1

    # Archives turned off: they go, and no feed links them.
    config = write_config(
        tmp_path,
        sources(feeds, "aa"),
        {"news": "News"},
        site=site(feed_size=1),  # type: ignore[arg-type]
    )
    run_cli(config, "publish")
    assert not list((out / "category" / "news" / "archive").glob("*.xml"))
    assert "prev-archive" not in feed.read_text(encoding="utf-8")
    walk(out, BASE)

    # Tag feeds turned on, then off again: they come, then go.
    for tag_feeds, expected in ((True, ["news.xml"]), (False, [])):
        config = write_config(
            tmp_path,
            sources(feeds, "aa"),
            {"news": "News"},
            site=site(feed_size=1, tag_feeds=tag_feeds),  # type: ignore[arg-type]
        )
        run_cli(config, "publish")
        assert [p.name for p in (out / "tag").glob("*.xml")] == expected


def test_a_missing_or_broken_fingerprint_rewrites_everything(
    tmp_path: Path, feeds: FeedServer
) -> None:
    out = tmp_path / "out"
    config = write_config(tmp_path, sources(feeds, "aa"), {"news": "News"}, site=site())
    run_cli(config, "run", "--once")
    page = post_page(out, "aa-story-0")
    page.write_text("tampered", encoding="utf-8")
    (out / FINGERPRINT_FILE).write_text("{not json", encoding="utf-8")
    proc = run_cli(config, "-v", "publish")  # -v: the progress lines, off a terminal
    assert page.read_text(encoding="utf-8").startswith("<!doctype html>")
    assert json.loads((out / FINGERPRINT_FILE).read_text(encoding="utf-8"))["version"] == 1
    assert "Traceback" not in proc.stderr
    # Nothing was pending, yet every post was written: the progress counts them.
    assert "publishing: 3/3" in proc.stderr and "/0" not in proc.stderr


def test_the_daemon_publishes_a_reload_that_changes_the_site(
    tmp_path: Path, feeds: FeedServer, daemons: list[Daemon]
) -> None:
    out = tmp_path / "out"
    # A publish cron that never comes in the test: only the reload can publish.
    config = write_config(
        tmp_path,
        sources(feeds, "aa"),
        {"news": "News"},
        site=site(),
        schedule={"publish": "0 0 1 1 *"},
    )
    d = start(daemons, config, "--tick", "0.1")
    page = out / "index.html"
    d.wait_for("the first publish", page.is_file)

    config = write_config(
        tmp_path,
        sources(feeds, "aa", "bb"),
        {"news": "News", "tech": "Tech"},
        site=site(title="Reloaded"),
        schedule={"publish": "0 0 1 1 *"},
    )
    d.wait_log(r"the site changed: publishing")
    d.wait_for("the new title", lambda: "<title>Reloaded</title>" in page.read_text("utf-8"))
    d.wait_for(
        "the old post page's new title",
        lambda: "Reloaded" in post_page(out, "aa-story-0").read_text("utf-8"),
    )

    # A template edited, the config untouched: the daemon sees it too.
    templates = tmp_path / "templates"
    templates.mkdir()
    config = write_config(
        tmp_path,
        sources(feeds, "aa", "bb"),
        {"news": "News", "tech": "Tech"},
        site=site(title="Reloaded", templates_dir="templates"),
        schedule={"publish": "0 0 1 1 *"},
    )
    d.wait_log(r"config reloaded", count=2)
    default = Path(__file__).parent.parent / "aggregator" / "templates" / "nav.html"
    (templates / "nav.html").write_text(
        default.read_text(encoding="utf-8").replace(
            'class="categories"', 'class="categories" id="menu"'
        ),
        encoding="utf-8",
    )
    d.wait_for(
        "the new menu", lambda: 'id="menu"' in post_page(out, "aa-story-0").read_text("utf-8")
    )
    assert d.stop() == 0
    walked = walk(out, BASE)
    assert set(walked.titles.values()) == {"Reloaded"}
