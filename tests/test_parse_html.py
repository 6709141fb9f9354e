"""HTML pages as sources (aggregator.parse.html) and autodiscovery: the backend on pages of
our own, the config's checks of `type: html`, and through the real CLI against the real
server: three differently built pages, a page that stops matching, pages past the fetch
limits, a page advertising two feeds, `sources add`, and hostile values."""

from __future__ import annotations

import functools
import json
import re
from datetime import datetime
from pathlib import Path
from xml.etree import ElementTree

import builders
import pytest
import yaml
from builders import rss, rss_item
from clirunner import run_cli, validate_feeds
from httpserver import FeedServer

from aggregator.config import load_config
from aggregator.errors import ConfigError, ParseError
from aggregator.parse.html import advertised_feeds, is_html, parse_html
from aggregator.types import HtmlSelectors

ATOM = "{http://www.w3.org/2005/Atom}"
HTML_TYPE = "text/html; charset=utf-8"

write_config = functools.partial(
    builders.write_config,
    site=builders.site_section(timezone="UTC", language="en"),
    fetch=builders.timeouts("1s", "2s", "3s"),
)

# A ul/li list: titles and links in the item's one <a>, dates in a <span>.
LIST_PAGE = """<!DOCTYPE html>
<html><head><title>Tianjin news</title></head><body>
<ul class="news">
  <li><a href="/2024/05/01/harbour.html">Harbour reopens</a>
      <span class="time">2024-05-01 08:00</span></li>
  <li><a href="/2024/04/30/bridge.html">New bridge opens</a>
      <span class="time">2024-04-30 17:30</span></li>
  <li><span>an advert with no link</span></li>
</ul></body></html>
"""

# A table: a row per item, the date in its own cell, the summary in another.
TABLE_PAGE = """<!DOCTYPE html>
<html><head><title>Notices</title></head><body>
<table id="notices">
  <tr><th>Title</th><th>Date</th><th>About</th></tr>
  <tr><td class="t"><a href="notice-7.html">Water works on Monday</a></td>
      <td class="d">03/05/2024</td><td class="s">Pipes <b>replaced</b> downtown.</td></tr>
  <tr><td class="t"><a href="notice-6.html">Library hours</a></td>
      <td class="d">28/04/2024</td><td class="s">Open late.</td></tr>
</table></body></html>
"""

# Div cards in GBK: a local date format, relative links and images, a <base href>-less page.
CARDS_PAGE = """<!DOCTYPE html>
<html><head><meta charset="gbk"><title>天津新闻</title></head><body>
<div class="cards">
  <div class="card"><h3><a href="../news/1.html">海河开放</a></h3>
    <img src="img/1.jpg"><p class="when">发布时间：2024年5月1日 08:00</p>
    <div class="body"><p>正文<a href="more.html">更多</a></p></div></div>
  <div class="card"><h3><a href="../news/2.html">新桥通车</a></h3>
    <p class="when">2024年4月30日 17:30</p><div class="body"><p>第二篇</p></div></div>
</div></body></html>
"""

LIST = {"item": ".news li", "title": "a", "date": ".time", "date_format": "%Y-%m-%d %H:%M"}
TABLE = {"item": "#notices tr", "title": ".t a", "link": ".t a@href", "date": ".d", "summary": ".s"}
CARDS = {
    "item": ".card",
    "title": "h3",
    "link": "h3 a@href",
    "date": ".when",
    "date_format": "%Y年%m月%d日 %H:%M",
    "content": ".body",
    "image": "img@src",
}


def selectors(spec: dict[str, str]) -> HtmlSelectors:
    return HtmlSelectors(**spec)


# ------------------------------------------------------------------ the backend


def test_a_list_page_gives_an_item_per_li_and_counts_the_one_without_a_link() -> None:
    feed = parse_html(
        LIST_PAGE.encode(), {}, url="https://news.example.cn/list.html", selectors=selectors(LIST)
    )
    assert [e.title for e in feed.entries] == ["Harbour reopens", "New bridge opens"]
    assert [e.link for e in feed.entries] == [
        "https://news.example.cn/2024/05/01/harbour.html",
        "https://news.example.cn/2024/04/30/bridge.html",
    ]
    assert feed.entries[0].published == datetime(2024, 5, 1, 8, 0)  # naive: the source's zone
    assert feed.skipped == 1
    assert feed.title == "Tianjin news"


def test_a_table_reads_dates_by_the_sources_date_order() -> None:
    page = TABLE_PAGE.encode()
    url = "https://city.example.org/notices/"
    feed = parse_html(page, {}, url=url, selectors=selectors(TABLE), date_order="dmy")
    # The header row has no link: skipped, not an item.
    assert [e.link for e in feed.entries] == [url + "notice-7.html", url + "notice-6.html"]
    assert feed.entries[0].published == datetime(2024, 5, 3)
    assert feed.entries[0].summary == "Pipes <b>replaced</b> downtown."
    assert feed.skipped == 1


def test_cards_in_gbk_with_a_local_date_inside_longer_text() -> None:
    page = CARDS_PAGE.encode("gbk")
    url = "https://news.example.cn/tj/list.html"
    feed = parse_html(page, {"Content-Type": "text/html"}, url=url, selectors=selectors(CARDS))
    first, second = feed.entries
    assert first.title == "海河开放" and second.title == "新桥通车"
    assert first.link == "https://news.example.cn/news/1.html"
    assert first.published == datetime(2024, 5, 1, 8, 0)
    assert second.published == datetime(2024, 4, 30, 17, 30)
    assert first.content is not None
    assert first.content.startswith('<p><img src="https://news.example.cn/tj/img/1.jpg"')
    assert first.base == url  # relative links in the content resolve against the page


def test_a_base_href_and_the_items_own_href() -> None:
    page = b"""<html><head><base href="https://cdn.example.org/site/"></head><body>
    <a class="i" href="a.html">A</a><a class="i" href="b.html">B</a></body></html>"""
    feed = parse_html(page, {}, url="https://x.example.org/", selectors=HtmlSelectors(item="a.i"))
    assert [e.link for e in feed.entries] == [
        "https://cdn.example.org/site/a.html",
        "https://cdn.example.org/site/b.html",
    ]


def test_a_page_that_matches_nothing_is_an_error_never_an_empty_feed() -> None:
    with pytest.raises(ParseError, match=r"selector `\.news li` matched nothing"):
        parse_html(
            b"<html><body><p>redesigned</p></body></html>",
            {},
            url="https://x/",
            selectors=selectors(LIST),
        )
    only_adverts = b'<ul class="news"><li>advert</li><li><a href="javascript:x()">x</a></li></ul>'
    with pytest.raises(ParseError, match="matched 2 elements, none with a title and an http"):
        parse_html(only_adverts, {}, url="https://x.example/", selectors=selectors(LIST))


def test_hostile_values_stay_text_and_script_links_are_dropped() -> None:
    page = b"""<html><body><ul class="news">
    <li><a href="/ok.html">&lt;script&gt;alert(1)&lt;/script&gt; <b>bold</b>
        <script>evil()</script></a></li>
    <li><a href="javascript:alert(1)">click</a></li>
    <li><a href="data:text/html,<script>x</script>">data</a></li>
    <li><a href=" /ok.html ">same story twice</a></li>
    </ul></body></html>"""
    feed = parse_html(page, {}, url="https://x.example/", selectors=HtmlSelectors(item=".news li"))
    (entry,) = feed.entries
    # Markup in the page is dropped; text that reads as markup is escaped, so stays text.
    assert entry.title == "&lt;script&gt;alert(1)&lt;/script&gt; bold"
    assert "evil" not in (entry.title or "")
    assert feed.skipped == 2


def test_advertised_feeds_in_page_order_resolved_and_each_once() -> None:
    page = b"""<html><head>
    <link rel="stylesheet" type="text/css" href="/s.css">
    <link rel="alternate" type="text/html" href="/m.html">
    <link rel="Alternate" type="application/rss+xml" href="rss.xml" title="RSS">
    <link rel="alternate" type="application/atom+xml" href="https://x.example/atom.xml">
    <link rel="alternate" type="application/rss+xml" href="rss.xml">
    <link rel="alternate" type="application/feed+json" href="javascript:alert(1)">
    <link rel="alternate" type="application/feed+json" href="/feed.json">
    </head><body><link rel="alternate" type="application/rss+xml" href="/late.xml"></body></html>"""
    feeds = advertised_feeds(page, {}, url="https://x.example/blog/")
    assert [(f.url, f.type) for f in feeds] == [
        ("https://x.example/blog/rss.xml", "application/rss+xml"),
        ("https://x.example/atom.xml", "application/atom+xml"),
        ("https://x.example/feed.json", "application/feed+json"),
    ]
    assert feeds[0].title == "RSS"
    assert is_html(page, {}) and is_html(b"x", {"Content-Type": "text/html"})
    assert not is_html(rss(), {"Content-Type": "application/rss+xml"})


# ------------------------------------------------------------------ config


@pytest.mark.parametrize(
    ("html", "line"),
    [
        pytest.param(None, "type: html needs html.item", id="no-html"),
        pytest.param({"title": "a"}, "html.item", id="no-item"),
        pytest.param({"item": "li["}, "html.item: not a CSS selector 'li['", id="bad-item"),
        pytest.param(
            {"item": "li", "link": "a[@href"}, "html.link: not a CSS selector", id="bad-link"
        ),
        pytest.param(
            {"item": "li", "link": "a@1x"}, "html.link: not an attribute name", id="bad-attribute"
        ),
        pytest.param(
            {"item": "li", "date_format": "Y-m-d"}, "html.date_format: should be", id="bad-format"
        ),
    ],
)
def test_config_refuses_an_unusable_html_source_in_one_line(
    tmp_path: Path, html: dict[str, str] | None, line: str
) -> None:
    source: dict[str, object] = {"name": "p", "url": "https://x.example/", "type": "html"}
    if html is not None:
        source["html"] = html
    with pytest.raises(ConfigError) as refused:
        load_config(write_config(tmp_path, [source]))
    (problem,) = refused.value.problems
    assert problem.startswith("config.yaml: sources[0]") and line in problem, problem


def test_html_selectors_without_type_html_are_refused(tmp_path: Path) -> None:
    source = {"name": "p", "url": "https://x.example/", "html": {"item": "li"}}
    with pytest.raises(ConfigError, match="html given without type: html"):
        load_config(write_config(tmp_path, [source]))


# ------------------------------------------------------------------ end to end


def entries(out: Path, category: str = "news") -> list[ElementTree.Element]:
    root = ElementTree.parse(out / "category" / f"{category}.xml").getroot()
    return root.findall(f"{ATOM}entry")


def titles_and_links(out: Path, category: str = "news") -> list[tuple[str, str]]:
    """Each entry's title and original link (the one that is not our own page)."""
    found = []
    for entry in entries(out, category):
        hrefs = [e.get("href") or "" for e in entry.findall(f"{ATOM}link")]
        original = [h for h in hrefs if not h.startswith("https://news.example.org/")]
        found.append((entry.findtext(f"{ATOM}title") or "", original[0] if original else ""))
    return found


def squeezed(text: str) -> str:
    return re.sub(r"[\s\u2500-\u257f]+", "", text)


def status_rows(config: Path) -> dict[str, dict[str, object]]:
    rows = json.loads(run_cli(config, "status", "--json").stdout)
    return {r["name"]: r for r in rows}


@pytest.mark.slow
def test_three_differently_built_pages_are_published_through_the_cli(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    feed_server.add("/list.html", LIST_PAGE.encode(), content_type=HTML_TYPE, etag=True)
    feed_server.add("/notices/", TABLE_PAGE.encode(), content_type=HTML_TYPE)
    feed_server.add("/tj/list.html", CARDS_PAGE.encode("gbk"), content_type="text/html")
    config = write_config(
        tmp_path,
        [
            {
                "name": "List",
                "url": feed_server.url("/list.html"),
                "type": "html",
                "html": LIST,
                "category": "list",
                "timezone": "Asia/Shanghai",
            },
            {
                "name": "Table",
                "url": feed_server.url("/notices/"),
                "type": "html",
                "html": TABLE,
                "category": "table",
                "date_order": "dmy",
            },
            {
                "name": "Cards",
                "url": feed_server.url("/tj/list.html"),
                "type": "html",
                "html": CARDS,
                "category": "cards",
                "timezone": "Asia/Shanghai",
            },
        ],
        {"list": "List", "table": "Table", "cards": "Cards"},
    )
    proc = run_cli(config, "run", "--once")
    assert "Traceback" not in proc.stderr
    assert "1 page item(s) left out" in proc.stderr  # the list's advert
    out = tmp_path / "out"
    assert validate_feeds(out) >= 3

    assert titles_and_links(out, "list") == [
        ("Harbour reopens", feed_server.url("/2024/05/01/harbour.html")),
        ("New bridge opens", feed_server.url("/2024/04/30/bridge.html")),
    ]
    # 08:00 in Shanghai (the source's zone) is midnight UTC.
    assert entries(out, "list")[0].findtext(f"{ATOM}published") == "2024-05-01T00:00:00+00:00"
    assert titles_and_links(out, "table")[0] == (
        "Water works on Monday",
        feed_server.url("/notices/notice-7.html"),
    )
    assert entries(out, "table")[0].findtext(f"{ATOM}published", "").startswith("2024-05-03")
    cards = entries(out, "cards")
    assert [e.findtext(f"{ATOM}title") for e in cards] == ["海河开放", "新桥通车"]
    assert cards[0].findtext(f"{ATOM}published") == "2024-05-01T00:00:00+00:00"
    content = cards[0].findtext(f"{ATOM}content") or ""
    assert feed_server.url("/tj/img/1.jpg") in content  # relative image resolved
    assert feed_server.url("/tj/more.html") in content  # relative link in the body too

    # A normal fetch: the list's second request is conditional, and a 304 changes nothing.
    run_cli(config, "fetch", "--all")
    second = feed_server.requests("/list.html")[-1]
    assert second.headers.get("if-none-match")
    rows = status_rows(config)
    assert rows["List"]["last_status"] == 304 and rows["List"]["posts"] == 2


@pytest.mark.slow
def test_a_page_that_stops_matching_is_an_error_in_status_then_recovers(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    feed_server.add("/list.html", LIST_PAGE.encode(), content_type=HTML_TYPE)
    config = write_config(
        tmp_path,
        [
            {
                "category": "news",
                "name": "List",
                "url": feed_server.url("/list.html"),
                "type": "html",
                "html": LIST,
            }
        ],
    )
    run_cli(config, "run", "--once")
    assert status_rows(config)["List"]["posts"] == 2

    redesigned = b"<html><body><div class='articles'><a href='/x.html'>X</a></div></body></html>"
    feed_server.add("/list.html", redesigned, content_type=HTML_TYPE)
    proc = run_cli(config, "run", "--once", "--all")
    assert "Traceback" not in proc.stderr
    row = status_rows(config)["List"]
    assert row["failures"] == 1 and row["last_error"] == "selector `.news li` matched nothing"
    assert "selector `.news li` matched nothing" in run_cli(config, "status").stdout
    assert status_rows(config)["List"]["posts"] == 2  # what was published stays

    fixed = LIST_PAGE.replace("New bridge opens", "Bridge opening moved").encode()
    feed_server.add("/list.html", fixed, content_type=HTML_TYPE)
    run_cli(config, "run", "--once", "--all")
    row = status_rows(config)["List"]
    assert row["failures"] == 0 and row["last_error"] is None
    assert "Bridge opening moved" in [t for t, _ in titles_and_links(tmp_path / "out")]


@pytest.mark.slow
def test_a_page_obeys_the_fetch_limits_and_fails_only_itself(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    # A page is a normal fetch: past max_bytes (declared, counted on the wire, or once
    # gunzipped) or behind more than max_redirects hops it is its source's one-line error,
    # and the pages and feeds around it in the same run publish.
    cap = 8192
    padded = LIST_PAGE.replace("</body>", f"<p>{'filler ' * 3000}</p></body>").encode()
    assert len(padded) > 2 * cap
    feed_server.add("/big.html", padded, content_type=HTML_TYPE)
    feed_server.add("/streamed.html", padded, content_type=HTML_TYPE, chunked=True)
    feed_server.add("/bomb.html", padded, content_type=HTML_TYPE, gzip=True)
    for hop in range(3):  # /hop0 -> /hop1 -> /hop2 -> /far/list.html: three redirects
        target = f"/hop{hop + 1}" if hop < 2 else "/far/list.html"
        feed_server.add(f"/hop{hop}", redirect_to=target, redirect_status=302)
    relative = LIST_PAGE.replace('href="/2024/', 'href="2024/')
    feed_server.add("/far/list.html", relative.encode(), content_type=HTML_TYPE)
    feed_server.add("/list.html", LIST_PAGE.encode(), content_type=HTML_TYPE)
    feed_server.add(
        "/feed.xml",
        rss(
            rss_item(
                title="Wire", link="https://e.example/w", guid="w", pub_date="", description=""
            )
        ),
    )

    def page(name: str, path: str, category: str = "news") -> dict[str, object]:
        url = feed_server.url(path)
        return {"name": name, "url": url, "type": "html", "html": LIST, "category": category}

    config = write_config(
        tmp_path,
        [
            page("Big", "/big.html"),
            page("Streamed", "/streamed.html"),
            page("Bomb", "/bomb.html"),
            page("Far", "/hop0"),
            page("Near", "/hop1", "near"),  # two redirects: as many as allowed
            page("List", "/list.html", "list"),
            {"name": "Wire", "url": feed_server.url("/feed.xml"), "category": "wire"},
        ],
        {"news": "News", "near": "Near", "list": "List", "wire": "Wire"},
        fetch=builders.timeouts("1s", "2s", "3s") | {"max_bytes": cap, "max_redirects": 2},
    )
    proc = run_cli(config, "run", "--once")
    assert "Traceback" not in proc.stdout + proc.stderr
    rows = status_rows(config)
    errors = {
        "Big": "body larger than 8 KiB",
        "Streamed": "body larger than 8 KiB",
        "Bomb": "body larger than 8 KiB (decompressed)",
        "Far": "too many redirects (more than 2)",
    }
    assert {name: rows[name]["last_error"] for name in errors} == errors
    for name in errors:
        assert (rows[name]["failures"], rows[name]["posts"]) == (1, 0), name
    assert feed_server.hits("/far/list.html") == 1  # by Near alone: Far stopped a hop short
    for name in ("Near", "List", "Wire"):
        assert (rows[name]["last_error"], rows[name]["failures"]) == (None, 0), name
    assert rows["Near"]["posts"] == rows["List"]["posts"] == 2 and rows["Wire"]["posts"] == 1

    table = run_cli(config, "status")
    assert "Traceback" not in table.stdout + table.stderr
    for message in errors.values():
        assert squeezed(message) in squeezed(table.stdout)  # the table may wrap a cell
    for error in (rows[name]["last_error"] for name in errors):
        assert isinstance(error, str) and "\n" not in error

    out = tmp_path / "out"
    assert validate_feeds(out) >= 4
    assert not entries(out)  # nothing of the failed pages
    assert titles_and_links(out, "list") == [
        ("Harbour reopens", feed_server.url("/2024/05/01/harbour.html")),
        ("New bridge opens", feed_server.url("/2024/04/30/bridge.html")),
    ]
    # Near's page came from /far/list.html: its relative links resolve against that URL.
    assert titles_and_links(out, "near")[0] == (
        "Harbour reopens",
        feed_server.url("/far/2024/05/01/harbour.html"),
    )
    assert [t for t, _ in titles_and_links(out, "wire")] == ["Wire"]


@pytest.mark.slow
def test_full_text_reads_the_linked_pages_of_an_html_source(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    page = """<html><body><ul class="news">
      <li><a href="/a/1.html">First story</a></li></ul></body></html>"""
    article = """<html><body><nav>menu</nav><article><h1>First story</h1>
      <p>The whole text of the first story, long enough to be taken for the article body,
      with more words than any navigation bar or footer holds on a page like this.</p>
      <p>A second paragraph of the story, so the extractor sees a real article.</p>
      </article><footer>footer</footer></body></html>"""
    feed_server.add("/list.html", page.encode(), content_type=HTML_TYPE)
    feed_server.add("/a/1.html", article.encode(), content_type=HTML_TYPE)
    config = write_config(
        tmp_path,
        [
            {
                "category": "news",
                "name": "L",
                "url": feed_server.url("/list.html"),
                "type": "html",
                "html": {"item": ".news li"},
                "full_text": True,
            }
        ],
        # The linked pages are on 127.0.0.1: untrusted URLs may reach it only so.
        fetch={"allow_private": True} | builders.timeouts("1s", "2s", "3s"),
    )
    run_cli(config, "run", "--once")
    (entry,) = entries(tmp_path / "out")
    assert "The whole text of the first story" in (entry.findtext(f"{ATOM}content") or "")
    assert feed_server.hits("/a/1.html") == 1


def two_feed_page(server: FeedServer) -> bytes:
    return f"""<!DOCTYPE html><html><head><title>Jay's blog</title>
    <link rel="alternate" type="application/atom+xml" href="/feeds/atom.xml" title="Atom">
    <link rel="alternate" type="application/rss+xml" href="{server.url("/feeds/rss.xml")}"
          title="RSS">
    </head><body><p>Welcome</p></body></html>""".encode()


def item(title: str, link: str) -> str:
    return rss_item(
        title=title,
        link=link,
        guid=link,
        pub_date="Wed, 01 May 2024 08:00:00 GMT",
        description=f"<p>{title}</p>",
    )


def serve_two_feeds(server: FeedServer) -> None:
    server.add("/blog/", two_feed_page(server), content_type=HTML_TYPE)
    server.add(
        "/feeds/atom.xml",
        rss(item("From the first feed", "https://jay.example.org/1"), title="Jay (first)"),
        etag=True,
    )
    server.add(
        "/feeds/rss.xml",
        rss(item("From the second feed", "https://jay.example.org/2"), title="Jay (second)"),
    )


@pytest.mark.slow
def test_a_page_advertising_two_feeds_is_read_through_the_first(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    serve_two_feeds(feed_server)
    config = write_config(
        tmp_path, [{"category": "news", "name": "Jay", "url": feed_server.url("/blog/")}]
    )
    proc = run_cli(config, "run", "--once")
    assert "Traceback" not in proc.stderr
    assert titles_and_links(tmp_path / "out") == [
        ("From the first feed", "https://jay.example.org/1")
    ]
    assert feed_server.hits("/feeds/rss.xml") == 0
    row = status_rows(config)["Jay"]
    assert row["url"] == feed_server.url("/feeds/atom.xml")
    assert row["discovered_from"] == feed_server.url("/blog/")
    assert row["last_error"] is None and row["failures"] == 0
    # The table wraps the cell: compared without whitespace and the box's lines.
    table = run_cli(config, "status").stdout
    said = f"reads the feed advertised by the page: set url: {feed_server.url('/feeds/atom.xml')}"
    assert squeezed(said) in squeezed(table)
    assert "moved from" not in table

    # From now on the feed itself is fetched, conditionally; the page no more.
    run_cli(config, "fetch", "--all")
    assert feed_server.hits("/blog/") == 1
    assert feed_server.requests("/feeds/atom.xml")[-1].headers.get("if-none-match")

    # The operator takes the advice: the source starts afresh at the feed, nothing found.
    text = config.read_text(encoding="utf-8").replace(
        feed_server.url("/blog/"), feed_server.url("/feeds/atom.xml")
    )
    config.write_text(text, encoding="utf-8")
    run_cli(config, "fetch", "--all")
    row = status_rows(config)["Jay"]
    assert row["discovered_from"] is None and not row["moved"]
    assert "advertised" not in run_cli(config, "status").stdout


@pytest.mark.slow
def test_a_feed_source_at_a_page_advertising_nothing_stays_an_error(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    feed_server.add("/plain.html", b"<html><body>no feed</body></html>", content_type=HTML_TYPE)
    config = write_config(
        tmp_path, [{"category": "news", "name": "P", "url": feed_server.url("/plain.html")}]
    )
    proc = run_cli(config, "run", "--once")
    assert "Traceback" not in proc.stderr
    assert status_rows(config)["P"]["last_error"] == "not a feed (HTML page)"


def imported(tmp_path: Path) -> list[dict[str, str]]:
    data = yaml.safe_load((tmp_path / "feeds" / "imported.yaml").read_text(encoding="utf-8"))
    sources: list[dict[str, str]] = data["sources"]
    return sources


@pytest.mark.slow
def test_sources_add_lists_a_pages_feeds_and_takes_the_first_or_the_one_picked(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    serve_two_feeds(feed_server)
    feed_server.add("/direct.xml", rss(item("x", "https://e.example/x"), title="Direct"))
    config = write_config(tmp_path, [], source_lists=["feeds/*.yaml"])

    proc = run_cli(config, "sources", "add", feed_server.url("/blog/"), "--category", "news")
    assert "advertises 2 feeds" in proc.stdout
    assert feed_server.url("/feeds/atom.xml") in proc.stdout
    assert feed_server.url("/feeds/rss.xml") in proc.stdout
    assert f"taking feed 1: {feed_server.url('/feeds/atom.xml')}" in proc.stdout
    assert imported(tmp_path) == [
        {"name": "Jay (first)", "url": feed_server.url("/feeds/atom.xml"), "category": "news"}
    ]

    # The page again: refused, its feed is a source already; nothing written.
    again = run_cli(config, "sources", "add", feed_server.url("/blog/"), check=False)
    assert again.returncode == 1 and "the name of source 'Jay (first)'" in again.stderr
    renamed = run_cli(
        config, "sources", "add", feed_server.url("/blog/"), "--name", "J", check=False
    )
    assert renamed.returncode == 1 and "already source 'Jay (first)'" in renamed.stderr
    picked = run_cli(
        config, "sources", "add", feed_server.url("/blog/"), "--pick", "2", "--name", "Jay RSS"
    )
    assert "taking feed 2" in picked.stdout
    direct = run_cli(config, "sources", "add", feed_server.url("/direct.xml"), "--category", "Tech")
    assert "added 'Direct'" in direct.stdout
    assert [s["name"] for s in imported(tmp_path)] == ["Jay (first)", "Jay RSS", "Direct"]
    assert imported(tmp_path)[2] == {
        "name": "Direct",
        "url": feed_server.url("/direct.xml"),
        "group": "Tech",
    }
    taken = run_cli(
        config,
        "sources",
        "add",
        feed_server.url("/direct.xml?again"),
        "--name",
        "Direct",
        check=False,
    )
    assert taken.returncode == 1 and "the name of source 'Direct'" in taken.stderr

    bad = run_cli(config, "sources", "add", feed_server.url("/blog/"), "--pick", "3", check=False)
    assert bad.returncode == 1 and "--pick 3" in bad.stderr and "Traceback" not in bad.stderr
    loaded = load_config(config)
    assert [s.name for s in loaded.sources] == ["Jay (first)", "Jay RSS", "Direct"]
    run_cli(config, "run", "--once")
    assert validate_feeds(tmp_path / "out") >= 1


@pytest.mark.slow
def test_sources_add_on_a_page_with_no_feed_prints_a_skeleton_and_adds_nothing(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    page = b"<html><head><title>City \x1b[31mnews</title></head><body><ul></ul></body></html>"
    feed_server.add("/news/", page, content_type=HTML_TYPE)
    config = write_config(tmp_path, [], source_lists=["feeds/*.yaml"])
    proc = run_cli(config, "sources", "add", feed_server.url("/news/"), check=False)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "advertising no feed; nothing added" in proc.stdout
    assert "\x1b" not in proc.stdout
    skeleton = proc.stdout.split("selectors: see README, HTML pages as sources):\n", 1)[1]
    (source,) = yaml.safe_load(skeleton)
    assert source["type"] == "html" and source["url"] == feed_server.url("/news/")
    assert source["html"]["item"] == ""  # to fill in: no selector is guessed
    assert not (tmp_path / "feeds" / "imported.yaml").exists()

    gone = run_cli(config, "sources", "add", feed_server.url("/missing"), check=False)
    assert gone.returncode == 1 and "404" in gone.stderr and "Traceback" not in gone.stderr


@pytest.mark.slow
def test_hostile_page_values_are_inert_in_every_output(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    page = """<html><body><ul class="news">
      <li><a href="/safe.html">&lt;script&gt;alert(1)&lt;/script&gt; &amp; <b>more</b></a>
          <div class="d"><p onclick="x()">Body<script>evil()</script>
          <a href="javascript:alert(2)">js</a></p></div></li>
      <li><a href="javascript:alert(1)">Script link</a></li>
      <li><a href="  JaVaScRiPt:alert(1)">Script link again</a></li>
    </ul></body></html>"""
    feed_server.add("/list.html", page.encode(), content_type=HTML_TYPE)
    config = write_config(
        tmp_path,
        [
            {
                "category": "news",
                "name": "H",
                "url": feed_server.url("/list.html"),
                "type": "html",
                "html": {"item": ".news li", "title": "a", "summary": ".d"},
            }
        ],
    )
    proc = run_cli(config, "run", "--once")
    assert "2 page item(s) left out" in proc.stderr
    out = tmp_path / "out"
    assert validate_feeds(out) >= 1
    (entry,) = entries(out)
    assert entry.findtext(f"{ATOM}title") == "<script>alert(1)</script> & more"
    content = (entry.findtext(f"{ATOM}content") or "") + (entry.findtext(f"{ATOM}summary") or "")
    assert "evil" not in content and "javascript" not in content.lower()
    assert "onclick" not in content
    for path in out.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        assert "<script>alert(1)" not in text and "javascript:alert" not in text
    (post,) = (out / "_posts").glob("*.md")
    # Front matter is YAML data: the title is a quoted string there, text for the templates.
    front = yaml.safe_load(post.read_text(encoding="utf-8").split("---", 2)[1])
    assert front["title"] == "<script>alert(1)</script> & more"
    assert "javascript" not in post.read_text(encoding="utf-8").lower()
