"""End to end: the real CLI in a subprocess against feeds served on 127.0.0.1."""

from __future__ import annotations

import functools
import json
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import builders
import pytest
import yaml
from builders import site_rss
from clirunner import DATA, GOLDEN, count_rows, run_cli, tree_mtimes, validate_atom, validate_feeds
from httpserver import FeedServer, closed_port

pytestmark = pytest.mark.slow


# This file's config: the site in Asia/Shanghai, short timeouts; categories as {slug: title}.
write_config = functools.partial(
    builders.write_config,
    site=builders.site_section(timezone="Asia/Shanghai", language="en"),
    fetch=builders.timeouts("1s", "2s", "3s"),
)


def golden_config(tmp: Path, server: FeedServer) -> Path:
    text = (GOLDEN / "config.yaml").read_text(encoding="utf-8")
    path = tmp / "config.yaml"
    path.write_text(text.replace("PORT", str(server.port)), encoding="utf-8")
    return path


def test_golden_post_is_byte_identical(tmp_path: Path, feed_server: FeedServer) -> None:
    feed_server.add("/tianjinribao.rss", (GOLDEN / "tianjinribao.rss").read_bytes())
    config = golden_config(tmp_path, feed_server)

    run_cli(config, "run", "--once")

    posts = list((tmp_path / "out" / "_posts").glob("*.md"))
    assert len(posts) == 1
    assert posts[0].name.startswith("2021-12-26-")
    assert posts[0].read_bytes() == (GOLDEN / "post.md").read_bytes()
    validate_atom(tmp_path / "out" / "category" / "tianjinribao.xml")
    validate_atom(tmp_path / "out" / "atom.xml")
    assert validate_feeds(tmp_path / "out") >= 2


def test_second_run_is_304_and_writes_nothing(tmp_path: Path, feed_server: FeedServer) -> None:
    feed_server.add(
        "/a.rss",
        site_rss("a", [("a1", "First A", "<p>one</p>"), ("a2", "Second A", "<p>two</p>")]),
        etag=True,
    )
    feed_server.add("/b.rss", site_rss("b", [("b1", "First B", "<p>bee</p>")]), etag=True)
    config = write_config(
        tmp_path,
        [
            {"name": "Source A", "url": feed_server.url("/a.rss"), "category": "alpha"},
            {"name": "Source B", "url": feed_server.url("/b.rss"), "category": "beta"},
        ],
        {"alpha": "Alpha", "beta": "Beta"},
    )
    out, db = tmp_path / "out", tmp_path / "test.db"

    run_cli(config, "run", "--once")
    before, rows = tree_mtimes(out), count_rows(db, "posts")
    assert rows == 3
    assert len(list((out / "_posts").glob("*.md"))) == 3

    # --all: every source is fetched again, and every one of them answers 304.
    run_cli(config, "run", "--once", "--all")
    assert [r.headers.get("if-none-match") is not None for r in feed_server.requests("/a.rss")] == [
        False,
        True,
    ]
    assert tree_mtimes(out) == before
    assert count_rows(db, "posts") == rows

    # One item changes: only its post, its category's feed and pages, the combined
    # feed and the index are rewritten.
    feed_server.add(
        "/a.rss",
        site_rss("a", [("a1", "First A", "<p>one</p>"), ("a2", "Second A", "<p>two, edited</p>")]),
        etag=True,
    )
    run_cli(config, "run", "--once", "--all")
    after = tree_mtimes(out)
    changed = {p for p in after if after[p] != before.get(p)}
    assert count_rows(db, "posts") == rows
    changed_posts = {p for p in changed if p.startswith("_posts/")}
    assert len(changed_posts) == 1
    assert "two, edited" in (out / changed_posts.pop()).read_text(encoding="utf-8")
    assert "category/alpha.xml" in changed
    assert "category/beta.xml" not in changed
    assert "category/beta.html" not in changed
    assert not any(p.startswith("beta/") for p in changed)
    assert "atom.xml" in changed
    allowed = {"atom.xml", "index.html", "category/alpha.xml", "category/alpha.html"}
    assert {p for p in changed if not p.startswith(("_posts/", "alpha/"))} <= allowed
    assert len([p for p in changed if p.startswith("alpha/")]) <= 1
    validate_atom(out / "category" / "alpha.xml")
    assert validate_feeds(out) >= 3


def test_bad_sources_do_not_hurt_good_ones(tmp_path: Path, feed_server: FeedServer) -> None:
    feed_server.add("/good.rss", site_rss("good", [("g1", "Good news", "<p>fine</p>")]))
    feed_server.add("/404.rss", b"not here", status=404)
    feed_server.add("/500.rss", b"oops", status=500)
    feed_server.add("/hang.rss", hang=True)
    feed_server.add(
        "/page.html",
        b"<!doctype html><html><head><title>x</title></head><body><p>hi</p></body></html>",
        content_type="text/html; charset=utf-8",
    )
    feed_server.add("/empty.rss", b"")
    feed_server.add("/broken.rss", b"<rss><channel><item><title>x</ti")
    with closed_port() as port:
        bad = {
            "e404": feed_server.url("/404.rss"),
            "e500": feed_server.url("/500.rss"),
            "refused": f"http://127.0.0.1:{port}/feed.rss",
            "timeout": feed_server.url("/hang.rss"),
            "html": feed_server.url("/page.html"),
            "empty": feed_server.url("/empty.rss"),
            "malformed": feed_server.url("/broken.rss"),
        }
        sources = [{"name": "good", "url": feed_server.url("/good.rss"), "category": "news"}]
        sources += [{"name": n, "url": u, "category": "news"} for n, u in bad.items()]
        config = write_config(tmp_path, sources, {"news": "News"})

        proc = run_cli(config, "run", "--once")

    assert proc.returncode == 0
    posts = list((tmp_path / "out" / "_posts").glob("*.md"))
    assert len(posts) == 1 and "Good news" in posts[0].read_text(encoding="utf-8")
    validate_atom(tmp_path / "out" / "category" / "news.xml")

    status = json.loads(run_cli(config, "status", "--json").stdout)
    by_name = {row["name"]: row for row in status}
    assert by_name["good"]["last_error"] is None and by_name["good"]["posts"] == 1
    expected_words = {
        "e404": "404",
        "e500": "500",
        "refused": "refused",
        "timeout": "timed out",
        "html": "",
        "empty": "empty",
        "malformed": "",
    }
    for name, word in expected_words.items():
        row = by_name[name]
        assert row["last_error"], name
        assert word.lower() in row["last_error"].lower(), (name, row["last_error"])
        assert row["failures"] == 1
        assert row["posts"] == 0
    # The plain table shows them too.
    table = run_cli(config, "status").stdout
    assert "e404" in table and "404" in table
    assert validate_feeds(tmp_path / "out") >= 2


def test_bad_config_is_refused_and_touches_nothing(tmp_path: Path) -> None:
    config = write_config(
        tmp_path,
        [
            {"name": "one", "url": "ftp://example.org/feed", "category": "news"},
            {"name": "two", "url": "https://example.org/feed", "category": "nope"},
        ],
        {"news": "News"},
    )
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["schedule"] = {"interval": "5 parsecs"}
    config.write_text(yaml.safe_dump(data), encoding="utf-8")

    proc = run_cli(config, "run", "--once", check=False)

    assert proc.returncode != 0
    lines = proc.stderr.splitlines()
    assert any(line.startswith("config.yaml: sources[0].url:") for line in lines), lines
    assert any(line.startswith("config.yaml: sources[1].category:") for line in lines), lines
    assert any(line.startswith("config.yaml: schedule.interval:") for line in lines), lines
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.yaml"]
    assert run_cli(config, "check", check=False).returncode != 0


def test_hostile_feed_publishes_safe_output(tmp_path: Path, feed_server: FeedServer) -> None:
    hostile = (
        '<p onclick="steal()">Hi<script>alert(1)</script></p>'
        '<a href="javascript:alert(2)">x</a><img src="x.png" onerror="alert(3)">'
        "<iframe src='http://evil.example/'></iframe><p>{{ site.title }} {% raw %}</p>"
    )
    feed_server.add(
        "/h.rss",
        site_rss("h", [("h1", 'He said: "yes" --- {{ no }} \\ null', hostile)]),
    )
    config = write_config(
        tmp_path,
        [{"name": "Hostile", "url": feed_server.url("/h.rss"), "category": "news"}],
        {"news": "News"},
    )
    run_cli(config, "run", "--once")
    out = tmp_path / "out"
    (post,) = (out / "_posts").glob("*.md")
    text = post.read_text(encoding="utf-8")
    _, front, body = text.split("---\n", 2)
    meta = yaml.safe_load(front)
    assert meta["title"] == 'He said: "yes" --- {{ no }} \\ null'
    assert meta["render_with_liquid"] is False
    for produced in (body, (out / "atom.xml").read_text(encoding="utf-8")):
        lowered = produced.lower()
        assert "<script" not in lowered and "&lt;script" not in lowered
        assert "javascript:" not in lowered
        assert "onclick" not in lowered and "onerror" not in lowered
        assert "iframe" not in lowered
    with sqlite3.connect(tmp_path / "test.db") as conn:
        (html,) = conn.execute("SELECT content_html FROM posts").fetchone()
    assert "<script" not in html
    assert validate_feeds(out) >= 2


def test_cli_start_up_leaves_heavy_libraries_to_the_commands_that_use_them() -> None:
    # `publish`, `status`, `check` and `sources` run often from cron and shells: they must
    # not pay for the HTTP client, the scheduler or the parsers (issue: start-up time).
    code = (
        "import sys, aggregator.cli; "
        "print(' '.join(m for m in ('aiohttp', 'httpx', 'apscheduler', 'feedparser', 're2') "
        "if m in sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == ""


def test_first_run_builds_a_site_even_when_every_source_fails(tmp_path: Path) -> None:
    with closed_port() as port:
        config = write_config(
            tmp_path,
            [{"name": "down", "url": f"http://127.0.0.1:{port}/feed.rss", "category": "news"}],
            {"news": "News"},
        )
        run_cli(config, "run", "--once")
    out = tmp_path / "out"
    assert (out / "index.html").is_file()
    validate_atom(out / "atom.xml")
    validate_atom(out / "category" / "news.xml")
    before = tree_mtimes(out)
    run_cli(config, "publish")  # nothing pending, site present: nothing rewritten
    assert tree_mtimes(out) == before


def test_status_prints_server_words_literally(tmp_path: Path, feed_server: FeedServer) -> None:
    """Error text comes from servers: Rich markup in it is printed as it is, never read."""
    feed_server.add("/good.rss", site_rss("good", [("g1", "Good news", "<p>fine</p>")]))
    feed_server.add("/closing.rss", redirect_to="gopher://x/[/evil]")
    feed_server.add("/link.rss", redirect_to="gopher://x/[link=https://evil.example/]click[/link]")
    feed_server.add("/bold.rss", redirect_to="gopher://x/[bold red]\x1b[31mred")
    config = write_config(
        tmp_path,
        [
            {"name": "Good", "url": feed_server.url("/good.rss"), "category": "news"},
            {"name": "Closing [/x]", "url": feed_server.url("/closing.rss"), "category": "news"},
            {"name": "Link", "url": feed_server.url("/link.rss"), "category": "news"},
            {"name": "Bold", "url": feed_server.url("/bold.rss"), "category": "news"},
        ],
        {"news": "News"},
    )
    run_cli(config, "run", "--once")
    proc = run_cli(config, "status")
    assert "Traceback" not in proc.stderr
    out = " ".join(proc.stdout.split())
    assert "Closing [/x]" in out
    assert "[/evil]" in out
    assert "[link=https://evil.example/]click[/link]" in out
    assert "\x1b]8;" not in proc.stdout  # no terminal hyperlink
    assert "\x1b[31m" not in proc.stdout  # no control sequence from a server
    assert "[bold red]" in out


def test_cold_runs_give_the_same_permalinks_whatever_order_sources_answer(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    """Same-title posts from two sources: which one answers first must not decide who
    gets `same-title` and who `same-title-2`."""

    def feed(name: str) -> bytes:
        return site_rss(name, [(g, "Same title", f"<p>{name} {g}</p>") for g in ("1", "2")])

    feed_server.add("/a.xml", feed("a"))
    feed_server.add("/b.xml", feed("b"))
    runs = []
    for run, slow in enumerate(("b", "a")):
        feed_server.add(f"/{slow}.xml", feed(slow), delay=1.0)  # the other one comes first
        root = tmp_path / f"run{run}"
        root.mkdir()
        sources = [
            {"name": name, "url": feed_server.url(f"/{name}.xml"), "category": "news"}
            for name in ("a", "b")
        ]
        config = write_config(root, sources, {"news": "News"})
        run_cli(config, "run", "--once")
        posts = (root / "out" / "_posts").glob("*.md")
        runs.append({p.name: p.read_text(encoding="utf-8").split("---")[2] for p in posts})
        feed_server.add(f"/{slow}.xml", feed(slow))
    assert len(runs[0]) == 4
    assert runs[0] == runs[1]


# ------------------------------------------------------------------- identity

UPGRADE = DATA / "upgrade"
_ATOM = "{http://www.w3.org/2005/Atom}"


def serve_upgrade_feeds(server: FeedServer, *, tail: bytes = b"") -> None:
    """tests/data/upgrade/feeds as its config lists them (make_fixture.ROUTES); `tail`
    after each body (a feed regenerated: new bytes, the same items)."""
    routes = {
        "/anchors.xml": "anchors.xml",
        "/wire.xml": "wire.xml",
        "/paper.xml": "paper.xml",
        "/planet_one.xml": "planet_one.xml",
        "/planet_two.xml": "planet_two.xml",
        "/mirror_one.xml": "mirror_one.xml",
        "/mirror_two.xml": "mirror_two.xml",
        "/sub/feed.xml": "sub_relative.xml",
        "/local.xml": "local.xml",
    }
    for path, name in routes.items():
        server.add(path, (UPGRADE / "feeds" / name).read_bytes() + tail)


def upgrade_config(tmp: Path, server: FeedServer) -> Path:
    path = tmp / "config.yaml"
    text = (UPGRADE / "config.yaml").read_text(encoding="utf-8")
    path.write_text(text.replace("PORT", str(server.port)), encoding="utf-8")
    return path


def stored_posts(db: Path) -> list[sqlite3.Row]:
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        return conn.execute(
            "SELECT key, source, category, title, link, content_html, slug, revision,"
            " published_revision FROM posts ORDER BY source, title"
        ).fetchall()


def atom_ids(path: Path) -> dict[str, str]:
    """entry id -> its alternate link, of one Atom feed."""
    from lxml import etree

    ids = {}
    for entry in etree.parse(str(path)).getroot().iter(f"{_ATOM}entry"):
        link = next(
            (x.get("href") for x in entry.findall(f"{_ATOM}link") if x.get("rel") == "alternate"),
            None,
        )
        ids[entry.findtext(f"{_ATOM}id")] = link
    return ids


def round_figures(proc: subprocess.CompletedProcess[str]) -> tuple[int, int]:
    """(new, updated) of the round line `run --once` logs."""
    line = next(x for x in proc.stderr.splitlines() if " round: " in x)
    words = line.split()
    return int(words[words.index("new,") - 1]), int(words[words.index("updated,") - 1])


def test_identity_is_the_sources_and_the_categories_setting_decides(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    serve_upgrade_feeds(feed_server)
    config = upgrade_config(tmp_path, feed_server)
    run_cli(config, "run", "--once")
    posts = stored_posts(tmp_path / "upgrade.db")
    by_source: dict[str, list[sqlite3.Row]] = {}
    for row in posts:
        by_source.setdefault(row["source"], []).append(row)

    # An anchor-listing page: 33 items that differ by fragment only, 33 posts.
    releases = by_source["Release notes"]
    assert len(releases) == 33
    assert len({r["link"] for r in releases}) == 33
    page = "https://notes.example.org/releases.html#v2-"
    assert all(r["link"].startswith(page) for r in releases)
    # One global guid in two categories: each category has its post.
    assert [r["category"] for r in by_source["Wire"]] == ["wire"] * 3
    assert [r["category"] for r in by_source["Paper"]] == ["paper"] * 3
    # One category, the default (link): the first source's post only.
    planet = [r for r in posts if r["category"] == "planet"]
    assert len(planet) == 2 and len({r["source"] for r in planet}) == 1
    # One category with dedupe off: both sources' posts.
    mirror = [r for r in posts if r["category"] == "mirror"]
    assert sorted(r["source"] for r in mirror) == ["Mirror One"] * 2 + ["Mirror Two"] * 2
    # Relative links in a feed at /sub/feed.xml whose channel links the site's root:
    # against the feed's URL, the body's against the item's link.
    sub = by_source["Sub"]
    assert [r["link"] for r in sub] == [
        feed_server.url("/sub/entries/first.html"),
        feed_server.url("/sub/entries/second.html"),
    ]
    assert f'src="{feed_server.url("/sub/entries/img/first.png")}"' in sub[0]["content_html"]
    assert f'href="{feed_server.url("/sub/entries/first-notes.html")}"' in sub[0]["content_html"]
    files = list((tmp_path / "out" / "_posts").glob("*.md"))
    assert len(files) == len(posts) == 33 + 3 + 3 + 2 + 4 + 2 + 2
    ids = atom_ids(tmp_path / "out" / "atom.xml")
    assert len(ids) == len(posts)

    # The next round of the same feeds adds nothing.
    again = run_cli(config, "run", "--once", "--all")
    assert round_figures(again) == (0, 0)
    assert len(stored_posts(tmp_path / "upgrade.db")) == len(posts)


def test_upgrade_from_store_version_5_republishes_nothing(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    """A store and site written by the release before store version 6 (tests/data/upgrade/
    make_fixture.py ran it on these feeds), then run by this one."""
    port = str(feed_server.port)
    db = tmp_path / "upgrade.db"
    with sqlite3.connect(db) as conn:
        dump = (UPGRADE / "store-v5.sql").read_text(encoding="utf-8")
        conn.executescript(dump.replace("127.0.0.1:PORT", f"127.0.0.1:{port}"))
    out = tmp_path / "out"
    for path in sorted((UPGRADE / "site").rglob("*")):
        if path.is_file():
            target = out / path.relative_to(UPGRADE / "site")
            target.parent.mkdir(parents=True, exist_ok=True)
            text = path.read_text(encoding="utf-8")
            target.write_text(text.replace("127.0.0.1:PORT", f"127.0.0.1:{port}"), "utf-8")
    config = upgrade_config(tmp_path, feed_server)
    old = {r["key"]: r for r in stored_posts(db)}
    old_files = {p.name: p.read_bytes() for p in (out / "_posts").glob("*.md")}
    old_ids = atom_ids(out / "atom.xml")
    old_feed_ids = {f: feed_ids(out / f)[0] for f in ("atom.xml", "category/wire.xml")}
    assert len(old) == len(old_files) == len(old_ids) == 12  # what the old release made
    # It folded: 33 anchors into 1, Paper's items into Wire's, both mirrors into one.
    assert {r["source"] for r in old.values() if r["category"] == "mirror"} == {"Mirror One"}
    assert "Paper" not in {r["source"] for r in old.values()}

    # The same bytes: not even parsed.
    serve_upgrade_feeds(feed_server)
    assert round_figures(run_cli(config, "run", "--once", "--all")) == (0, 0)
    assert {p.name: p.read_bytes() for p in (out / "_posts").glob("*.md")} == old_files

    # Regenerated feeds, the same items: every entry is normalized again.
    serve_upgrade_feeds(feed_server, tail=b"<!-- regenerated -->\n")
    new, updated = round_figures(run_cli(config, "run", "--once", "--all"))
    posts = {r["key"]: r for r in stored_posts(db)}
    # Every old post is kept under its key, by its source, in its category, and shows
    # the same file; only Sub's two moved to their links resolved against the feed's URL.
    for key, before in old.items():
        after = posts[key]
        assert (after["source"], after["category"], after["slug"]) == (
            before["source"],
            before["category"],
            before["slug"],
        )
        if before["source"] == "Sub":
            assert after["link"] == feed_server.url(
                "/sub/entries/" + before["link"].rsplit("/", 1)[1]
            )
            assert after["revision"] == before["revision"] + 1
        else:
            assert after["revision"] == before["revision"], before["title"]
    files = {p.name: p.read_bytes() for p in (out / "_posts").glob("*.md")}
    for name, text in old_files.items():
        if b"Sub entry" not in text:
            assert files[name] == text, name
    # Atom ids of the old posts are theirs still.
    ids = atom_ids(out / "atom.xml")
    for entry_id, link in old_ids.items():
        assert entry_id in ids
        if "h.example.org" not in (link or ""):
            assert ids[entry_id] == link
    # Nothing published twice; what is new is what the old release had folded away,
    # and only what today's rules publish: the 32 other anchors, Paper's items in their
    # own category, Mirror Two's (dedupe off). Planet Two's are still Planet One's.
    assert len({(r["source"], r["link"]) for r in posts.values()}) == len(posts)
    added = [r for k, r in posts.items() if k not in old]
    assert sorted({r["source"] for r in added}) == ["Mirror Two", "Paper", "Release notes"]
    assert (new, updated) == (len(added), 2)
    assert len(added) == 32 + 3 + 2
    planet_sources = {r["source"] for r in posts.values() if r["category"] == "planet"}
    assert planet_sources == {r["source"] for r in old.values() if r["category"] == "planet"}
    assert len(files) == len(posts) == len(ids)

    # And it holds: the next rounds add or change nothing.
    assert round_figures(run_cli(config, "run", "--once", "--all")) == (0, 0)
    serve_upgrade_feeds(feed_server, tail=b"<!-- regenerated again -->\n")
    assert round_figures(run_cli(config, "run", "--once", "--all")) == (0, 0)
    assert len(stored_posts(db)) == len(posts)
    # A category nothing changed in still has the old release's feed file; rewriting every
    # file with today's writer keeps every entry's id.
    run_cli(config, "publish", "--all")
    assert atom_ids(out / "atom.xml").keys() == ids.keys()
    # The site moves after the upgrade: its ids are still the old release's, feeds' too.
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("https://news.example.org/", "https://moved.example.net/"))
    run_cli(config, "publish", "--all")
    assert atom_ids(out / "atom.xml").keys() == ids.keys()
    assert {f: feed_ids(out / f)[:2] for f in old_feed_ids} == {
        f: (feed_id, f"https://moved.example.net/{f}") for f, feed_id in old_feed_ids.items()
    }


def test_item_authors_reach_feeds_and_pages(tmp_path: Path, feed_server: FeedServer) -> None:
    feed_server.add(
        "/jinmen.rss",
        (Path(__file__).parent / "data" / "feeds" / "wordpress_authors.xml").read_bytes(),
    )
    config = write_config(
        tmp_path,
        [{"name": "Feed 122", "url": feed_server.url("/jinmen.rss"), "category": "city"}],
        {"city": "City"},
    )
    run_cli(config, "run", "--once")
    out = tmp_path / "out"
    validate_feeds(out)
    from lxml import etree

    atom = "{http://www.w3.org/2005/Atom}"
    authors = {
        entry.findtext(f"{atom}title"): entry.findtext(f"{atom}author/{atom}name")
        for entry in etree.parse(str(out / "atom.xml")).getroot().iter(f"{atom}entry")
    }
    assert authors == {
        "海河沿岸步道全线贯通": "王五",
        "Tom & Jerry’s cafe opens": "Tom & Jerry",
        "Guest column": "Li Lei",
        "Notice from the editors": "Feed 122",  # no byline: the source's name
    }
    page = next(out.glob("city/2021/12/28/*.html")).read_text(encoding="utf-8")
    assert "By 王五 · Feed 122 ·" in page
    unsigned = next(out.glob("city/2021/12/25/*.html")).read_text(encoding="utf-8")
    assert "By " not in unsigned and "· Feed 122 ·" in unsigned
    # The default post file shows no author (the golden post's format).
    for post in (out / "_posts").glob("*.md"):
        assert "王五" not in post.read_text(encoding="utf-8")


def test_published_atom_is_clean_by_the_feed_validators_rules(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    feeds = Path(__file__).parent / "data" / "feeds"
    feed_server.add("/odd.rss", (feeds / "odd_ids_links.xml").read_bytes())
    feed_server.add("/odd%20atom.xml", (feeds / "odd_feed_id.xml").read_bytes())
    feed_server.add("/golden.rss", (GOLDEN / "tianjinribao.rss").read_bytes())
    config = write_config(
        tmp_path,
        [
            {"name": "Odd <RSS> & co", "url": feed_server.url("/odd.rss"), "category": "odd"},
            {"name": "源 #2", "url": feed_server.url("/odd%20atom.xml"), "category": "odd"},
            {"name": "天津日报", "url": feed_server.url("/golden.rss"), "category": "tianjin"},
        ],
        {"odd": "Odd {ids}", "tianjin": "天津日报新闻"},
    )
    run_cli(config, "run", "--once")
    out = tmp_path / "out"
    # Every Atom file: the schema, then one Atom namespace declaration at the root, no
    # ns0: prefixes, every id and source id an absolute IRI, every href IRI-clean.
    assert validate_feeds(out) >= 3
    from lxml import etree

    atom = "{http://www.w3.org/2005/Atom}"
    root = etree.parse(str(out / "category" / "odd.xml")).getroot()
    entries = {e.findtext(f"{atom}title"): e for e in root.iter(f"{atom}entry")}
    assert len(entries) == 6

    def via(title: str) -> str | None:
        return next(
            (x.get("href") for x in entries[title].iter(f"{atom}link") if x.get("rel") == "via"),
            None,
        )

    assert via("Bare number guid") == "https://odd.example.org/a%20b/post?x=%7B1%7D%7C2"
    assert via("Spaced guid") == "https://odd.example.org/100%25/done%5Enow%60"
    assert via("Path guid") == (
        "https://xn--fsqu00a.example/%E8%B7%AF%E5%BE%84/p?q=%E4%B8%AD%E6%96%87#%E7%89%87%E6%AE%B5"
    )
    source_ids = {
        e.findtext(f"{atom}source/{atom}title"): e.findtext(f"{atom}source/{atom}id")
        for e in entries.values()
    }
    # RSS has no feed id: the feed's home page, IRI-clean; an Atom id that is no IRI
    # ("feed 42") gives way to the feed's URL.
    assert source_ids == {
        "Odd ids and links": "https://odd.example.org/home%20page/",
        "An Atom feed whose id is no IRI": feed_server.url("/odd%20atom.xml"),
    }
    # The entries' own ids never came from the feeds' guids: stable tag: URIs.
    assert all(
        (e.findtext(f"{atom}id") or "").startswith("tag:news.example.org,2026:")
        for e in entries.values()
    )


def feed_ids(path: Path) -> tuple[str | None, str | None, dict[str, str]]:
    """(the feed's id, its self link, entry id -> alternate link) of one Atom feed."""
    from lxml import etree

    root = etree.parse(str(path)).getroot()
    self_link = next(
        (x.get("href") for x in root.findall(f"{_ATOM}link") if x.get("rel") == "self"), None
    )
    return root.findtext(f"{_ATOM}id"), self_link, atom_ids(path)


def test_ids_stay_when_base_url_moves_and_site_id_sets_them(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    items = [("a1", "First", "<p>one</p>"), ("a2", "Second", "<p>two</p>")]
    feed_server.add("/a.rss", site_rss("a", items))
    sources = [{"name": "A", "url": feed_server.url("/a.rss"), "category": "news"}]
    old, new = "https://news.example.org/", "https://planet.example.net/blog/"
    config = write_config(tmp_path, sources, site=builders.site_section(base_url=old))
    out = tmp_path / "out"
    run_cli(config, "run", "--once")
    feeds = ("atom.xml", "category/news.xml")
    first = {f: feed_ids(out / f) for f in feeds}
    assert first["category/news.xml"][:2] == (old + "category/news.xml",) * 2
    entry_ids = first["atom.xml"][2].keys()
    assert len(entry_ids) == 2 and all(
        i.startswith("tag:news.example.org,2026:") for i in entry_ids
    )

    # The site moves: every link follows it, no id does (subscribers see nothing new).
    write_config(tmp_path, sources, site=builders.site_section(base_url=new))
    run_cli(config, "run", "--once")
    run_cli(config, "publish", "--all")
    for path, (feed_id, _, entries) in first.items():
        moved_id, moved_self, moved = feed_ids(out / path)
        assert (moved_id, moved_self) == (feed_id, new + path)
        assert moved.keys() == entries.keys()
        assert sorted(moved.values()) == sorted(link.replace(old, new) for link in entries.values())
    # A post that arrives after the move has an id like the others'.
    feed_server.add("/a.rss", site_rss("a", [*items, ("a3", "Third", "<p>three</p>")]))
    run_cli(config, "run", "--once", "--all")
    ids = feed_ids(out / "atom.xml")[2]
    assert len(ids) == 3 and all(i.startswith("tag:news.example.org,2026:") for i in ids)
    assert validate_feeds(out) >= 2

    # site.id set later: it wins, for entries and feeds alike.
    site = builders.site_section(base_url=new, id="example.org,2026")
    write_config(tmp_path, sources, site=site)
    run_cli(config, "publish", "--all")
    feed_id, _, ids = feed_ids(out / "category" / "news.xml")
    assert feed_id == "tag:example.org,2026:category/news.xml"
    assert sorted(ids) == sorted(
        i.replace("news.example.org,2026", "example.org,2026") for i in ids
    )
    assert len(ids) == 3 and all(i.startswith("tag:example.org,2026:") for i in ids)
    assert validate_feeds(out) >= 2


@pytest.mark.parametrize(
    "site_id",
    [
        pytest.param("example.org", id="no-date"),
        pytest.param("Example.org,2026", id="upper-case"),
        pytest.param("tag:example.org,2026:", id="a-whole-prefix"),
        pytest.param("example.org,2026-02-30", id="no-such-day"),
    ],
)
def test_check_refuses_a_site_id_that_is_no_tag_authority(tmp_path: Path, site_id: str) -> None:
    sources = [{"name": "A", "url": "https://example.org/a.rss", "category": "news"}]
    config = write_config(tmp_path, sources, site=builders.site_section(id=site_id))
    proc = run_cli(config, "check", check=False)
    assert proc.returncode != 0
    assert proc.stderr.splitlines()[0] == (
        f"config.yaml: site.id: not a tag authority '{site_id}' (a domain or email address you"
        " own, in lower case, a comma and a date it was yours: example.org,2026 or"
        " me@example.org,2026-01-31)"
    )
    assert "Traceback" not in proc.stderr


def test_items_older_than_the_retention_are_never_stored(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    # Stored, each would be deleted by the publish and stored again whenever the feed
    # changes: counted as new every time, never shown.
    from email.utils import format_datetime

    recent = datetime.now(UTC) - timedelta(days=1)

    def item(name: str, when: datetime) -> str:
        return builders.rss_item(
            title=f"{name} story",
            link=f"https://ex.org/{name}",
            guid=name,
            pub_date=format_datetime(when),
            description=f"&lt;p&gt;{name}&lt;/p&gt;",
        )

    old = item("old", datetime(2001, 1, 1, 10, tzinfo=UTC))
    feed_server.add("/f.rss", builders.rss(item("new", recent), old))
    sources = [{"name": "f", "url": feed_server.url("/f.rss"), "category": "news"}]
    site = builders.site_section(retention="90d")
    config = write_config(tmp_path, sources, {"news": "News"}, site=site)

    def round_new() -> int:
        proc = run_cli(
            config, "--log-format", "json", "--log-level", "debug", "run", "--once", "--all"
        )
        events = [json.loads(line) for line in proc.stderr.splitlines()]
        assert any(
            "1 item(s) older than site.retention left out" in e["message"] for e in events
        ), proc.stderr
        (event,) = [e for e in events if e.get("event") == "round"]
        return int(event["new"])

    assert round_new() == 1
    feed_server.add("/f.rss", builders.rss(item("newer", recent), item("new", recent), old))
    assert round_new() == 1  # "newer" only: the old item is not stored again
    titles = [row["title"] for row in stored_posts(tmp_path / "test.db")]
    assert titles == ["new story", "newer story"]
    assert len(list((tmp_path / "out" / "_posts").glob("*.md"))) == 2
