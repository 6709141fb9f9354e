"""`site.formats`: RSS 2.0 and JSON Feed 1.1 beside Atom. The three agree entry for entry,
every value stays inert in each syntax, each format's feeds are pinged, listed in
subscriptions.opml and linked from every page; through the real CLI a format added writes
its feeds at the next run and a format dropped removes them; the golden case publishes all
three, each valid (the autouse check of conftest.py validates every tree too)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from builders import site_rss
from clirunner import GOLDEN, run_cli, tree_mtimes, validate_feeds
from feedformats import rfc822_date, validate_jsonfeed, validate_rss
from httpserver import FeedServer
from lxml import etree
from test_publish import WHEN, HubStub, make_config, make_post

from aggregator.publish import Publisher
from aggregator.publish.escape import xml_text
from aggregator.store import Store, open_store
from aggregator.types import Category, SourceState

ATOM = "{http://www.w3.org/2005/Atom}"
DC = "{http://purl.org/dc/elements/1.1/}"
ALL = ("atom", "rss", "json")
BASE = "https://news.example.org/"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(f"sqlite:///{tmp_path / 'test.db'}")
    yield s
    s.close()


@pytest.fixture
def hub() -> Iterator[HubStub]:
    stub = HubStub()
    yield stub
    stub.close()


# ------------------------------------------------------------ reading the three


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def atom_entries(path: Path) -> list[dict[str, Any]]:
    found = []
    for entry in etree.parse(str(path)).getroot().iter(f"{ATOM}entry"):
        links = {link.get("rel"): link.get("href") for link in entry.findall(f"{ATOM}link")}
        found.append(
            {
                "id": entry.findtext(f"{ATOM}id"),
                "title": entry.findtext(f"{ATOM}title"),
                "link": links["alternate"],
                "via": links.get("via"),
                "published": _when(entry.findtext(f"{ATOM}published") or ""),
                "updated": _when(entry.findtext(f"{ATOM}updated") or ""),
                "author": entry.findtext(f"{ATOM}author/{ATOM}name"),
                "content": entry.findtext(f"{ATOM}content") or "",
                "source": entry.findtext(f"{ATOM}source/{ATOM}title"),
            }
        )
    return found


def rss_items(path: Path) -> list[dict[str, Any]]:
    found = []
    for item in etree.parse(str(path)).getroot().iter("item"):
        via = [link.get("href") for link in item.findall(f"{ATOM}link[@rel='via']")]
        guid = item.find("guid")
        assert guid is not None and guid.get("isPermaLink") == "false"
        source = item.find("source")
        found.append(
            {
                "id": guid.text,
                "title": item.findtext("title"),
                "link": item.findtext("link"),
                "via": via[0] if via else None,
                "published": rfc822_date(item.findtext("pubDate"), str(path)),
                "author": item.findtext(f"{DC}creator"),
                "content": item.findtext("description") or "",
                "source": source.text if source is not None else None,
                "categories": [c.text for c in item.findall("category")],
            }
        )
    return found


def json_items(path: Path) -> list[dict[str, Any]]:
    document = validate_jsonfeed(path)
    return [
        {
            "id": item["id"],
            "title": item["title"],
            "link": item["url"],
            "via": item.get("external_url"),
            "published": _when(item["date_published"]),
            "updated": _when(item["date_modified"]),
            "author": item["authors"][0]["name"],
            "content": item["content_html"],
            "source": item["_aggregator"]["source"]["title"],
            "categories": item.get("tags", []),
        }
        for item in document["items"]
    ]


_SHARED = ("id", "title", "link", "via", "author", "content")


def assert_agree(out: Path, atom: str, rss: str, jsonfeed: str) -> int:
    """The three documents hold the same entries in the same order; how many."""
    a, r, j = atom_entries(out / atom), rss_items(out / rss), json_items(out / jsonfeed)
    assert [e["id"] for e in a] == [e["id"] for e in r] == [e["id"] for e in j]
    # The channel changed when its newest item did, as the Atom feed's `updated` says.
    atom_updated = _when(etree.parse(str(out / atom)).getroot().findtext(f"{ATOM}updated") or "")
    last_build = etree.parse(str(out / rss)).getroot().findtext("channel/lastBuildDate")
    assert rfc822_date(last_build, rss) == atom_updated.replace(microsecond=0)
    for one, two, three in zip(a, r, j, strict=True):
        for key in _SHARED:
            assert one[key] == two[key] == three[key], (key, one[key], two[key], three[key])
        # RFC 822 has whole seconds only.
        seconds = one["published"].replace(microsecond=0)
        assert two["published"] == seconds == three["published"].replace(microsecond=0)
        # RSS 2.0 items carry no update time; Atom's `updated` is JSON Feed's date_modified.
        assert one["updated"] == three["updated"], ("updated", one["updated"], three["updated"])
        assert one["source"] == three["source"]
        assert two["source"] in (None, one["source"])  # <source> needs the feed's URL
        assert two["categories"] == three["categories"]
    return len(a)


# ----------------------------------------------------------------- publishing


def test_every_format_the_config_allows_has_a_feed_format() -> None:
    from aggregator.publish.feeds import FORMATS
    from aggregator.types import FEED_FORMATS

    assert tuple(f.name for f in FORMATS) == FEED_FORMATS
    extensions = [f.extension for f in FORMATS]
    assert len(set(extensions)) == len(extensions)  # each its own files


def test_three_formats_agree_entry_for_entry(tmp_path: Path, store: Store) -> None:
    config = make_config(tmp_path, formats=ALL, tag_feeds=True, archives=True, feed_size=3)
    # Updated after they were published, each by its own while (and not in their order):
    # a format that wrote the published time, or another entry's, as the update disagrees.
    posts = [
        make_post(
            n,
            tags=("News", "Markets"),
            updated=WHEN + timedelta(hours=n, minutes=(7 * n) % 11, microseconds=n * 1000),
        )
        for n in range(1, 8)
    ]
    posts += [make_post(20, category="tech", author="Jane Doe", tags=())]
    store.upsert_posts(posts, now=WHEN)
    Publisher(config, store).publish()
    out = tmp_path / "out"
    assert assert_agree(out, "atom.xml", "rss.xml", "feed.json") == 3  # feed_size
    # The category's subscription document holds what Atom's does (RFC 5005 completed).
    assert assert_agree(out, *(f"category/news.{e}" for e in ("xml", "rss", "json"))) >= 3
    assert assert_agree(out, *(f"category/tech.{e}" for e in ("xml", "rss", "json"))) == 1
    assert assert_agree(out, *(f"tag/markets.{e}" for e in ("xml", "rss", "json"))) == 3
    # Archives are Atom's alone (RFC 5005); the Atom subscription links them still.
    archives = sorted(p.name for p in (out / "category" / "news" / "archive").iterdir())
    assert archives and all(name.endswith(".xml") for name in archives)
    (tech,) = rss_items(out / "category" / "tech.rss")
    assert tech["author"] == "Jane Doe" and tech["categories"] == ["Tech & Science"]
    (news, *_) = json_items(out / "category" / "news.json")
    assert news["categories"] == ["News", "Markets"]  # the category's title, then tags
    # Each format: combined, 2 categories, 2 tags; and Atom's archives.
    assert validate_feeds(out) == 3 * 5 + len(archives)


HOSTILE = [
    pytest.param("</title><script>alert(1)</script>", id="closing-tag"),
    pytest.param("]]><x/>", id="cdata-end"),
    pytest.param('"quoted" \\ back\\slash "},"id":"x', id="json-break-out"),
    pytest.param("&amp; &lt;b&gt; &#x26; &nbsp;", id="entities"),
    pytest.param("\u2028 ls \u2029 ps \x07 bell \x00 nul \ufffe", id="controls"),
    pytest.param("<!-- c --> <?pi x?> <!DOCTYPE x>", id="markup-declarations"),
    pytest.param("《天津》“十四五”", id="chinese"),
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_values_stay_inert_in_rss_and_json(tmp_path: Path, store: Store, text: str) -> None:
    config = make_config(tmp_path, formats=ALL, tag_feeds=True)
    config = replace(config, categories={"news": Category(slug="news", title=f"cat {text}")})
    post = make_post(
        1,
        title=f"title {text}",
        source=f"source {text}",
        author=f"author {text}",
        content_html=f"<p>{text}</p>",
        link=f"https://example.org/a?q={text}",
        tags=(f"tag {text}",),
    )
    store.upsert_posts([post], now=WHEN)
    store.save_state(
        SourceState(
            name=post.source,
            url=f"https://example.org/feed?{text}",
            config_url="https://example.org/feed",
            feed_title=f"feed {text}",
            feed_link=f"javascript:alert(1)//{text}",
            feed_id=f"javascript:alert(2)//{text}",
            last_success=WHEN,
        )
    )
    Publisher(config, store).publish()
    out = tmp_path / "out"
    clean = xml_text
    for rss in ("rss.xml", "category/news.rss"):
        validate_rss(out / rss)
        (item,) = rss_items(out / rss)
        assert item["title"] == clean(post.title)
        assert item["content"] == clean(post.content_html)  # HTML as text, escaped once
        assert item["author"] == clean(post.author or "")
        assert item["categories"] == [clean(f"cat {text}"), clean(f"tag {text}")]
        assert item["source"] == clean(f"feed {text}")
        channel = etree.parse(str(out / rss)).getroot().find("channel")
        assert channel is not None
        assert [e.tag for e in channel.iter() if not str(e.tag).startswith("{")].count("item") == 1
    for feed in ("feed.json", "category/news.json"):
        (item,) = json_items(out / feed)
        assert item["title"] == clean(post.title)
        assert item["content"] == clean(post.content_html)
        assert item["author"] == clean(post.author or "")
        assert item["categories"] == [clean(f"cat {text}"), clean(f"tag {text}")]
        assert item["source"] == clean(f"feed {text}")
        document = json.loads((out / feed).read_bytes())
        assert set(document) == {
            "version",
            "title",
            "home_page_url",
            "feed_url",
            "language",
            "items",
        }
        (source,) = [i["_aggregator"]["source"] for i in document["items"]]
        assert set(source) == {"title", "id", "feed_url"}  # no javascript: home page or id
        assert source["id"] == source["feed_url"]
    for path in ("rss.xml", "feed.json", "category/news.rss", "category/news.json"):
        assert b"javascript" not in (out / path).read_bytes()
    assert_agree(out, "atom.xml", "rss.xml", "feed.json")


def test_a_link_that_is_no_http_url_is_left_out(tmp_path: Path, store: Store) -> None:
    config = make_config(tmp_path, formats=ALL)
    store.upsert_posts([make_post(1, link="javascript:alert(1)")], now=WHEN)
    Publisher(config, store).publish()
    out = tmp_path / "out"
    assert b"javascript" not in (out / "rss.xml").read_bytes()
    assert b"javascript" not in (out / "feed.json").read_bytes()
    (item,) = json_items(out / "feed.json")
    assert item["via"] is None and item["link"].startswith(BASE + "news/")


def test_every_format_is_pinged_and_carries_the_hub(
    tmp_path: Path, store: Store, hub: HubStub
) -> None:
    config = make_config(tmp_path, formats=ALL, hub=hub.url)
    store.upsert_posts([make_post(1), make_post(2, category="tech")], now=WHEN)
    Publisher(config, store).publish()
    assert hub.topics() == {
        BASE + path
        for path in (
            "atom.xml",
            "rss.xml",
            "feed.json",
            *(f"category/{c}.{e}" for c in ("news", "tech") for e in ("xml", "rss", "json")),
        )
    }
    out = tmp_path / "out"
    channel = etree.parse(str(out / "rss.xml")).getroot().find("channel")
    assert channel is not None
    rels = {link.get("rel"): link.get("href") for link in channel.findall(f"{ATOM}link")}
    assert rels == {"self": BASE + "rss.xml", "hub": hub.url}
    document = json.loads((out / "category" / "tech.json").read_bytes())
    assert document["hubs"] == [{"type": "WebSub", "url": hub.url}]
    assert document["feed_url"] == BASE + "category/tech.json"

    hub.pings.clear()
    store.upsert_posts([make_post(3, category="tech")], now=WHEN)
    Publisher(config, store).publish()
    assert hub.topics() == {BASE + p for p in ("atom.xml", "rss.xml", "feed.json")} | {
        BASE + f"category/tech.{e}" for e in ("xml", "rss", "json")
    }


def test_opml_and_pages_name_each_format(tmp_path: Path, store: Store) -> None:
    config = make_config(tmp_path, formats=("json", "atom"))
    store.upsert_posts([make_post(1)], now=WHEN)
    Publisher(config, store).publish()
    out = tmp_path / "out"
    doc = etree.parse(str(out / "subscriptions.opml")).getroot()
    assert [(o.get("title"), o.get("xmlUrl")) for o in doc.iter("outline")] == [
        ("Test Site (JSON Feed)", BASE + "feed.json"),
        ("Test Site", BASE + "atom.xml"),
        ("News · Test Site (JSON Feed)", BASE + "category/news.json"),
        ("News · Test Site", BASE + "category/news.xml"),
        ("Tech & Science · Test Site (JSON Feed)", BASE + "category/tech.json"),
        ("Tech & Science · Test Site", BASE + "category/tech.xml"),
    ]
    assert not (out / "rss.xml").exists()
    assert not [o for o in doc.iter("outline") if "(RSS)" in (o.get("title") or "")]
    page = next((out / "news").rglob("*.html"))
    head = etree.HTML(page.read_bytes())
    links = [
        (a.get("type"), a.get("href")) for a in head.iter("link") if a.get("rel") == "alternate"
    ]
    assert links == [
        ("application/feed+json", BASE + "feed.json"),
        ("application/atom+xml", BASE + "atom.xml"),
        ("application/feed+json", BASE + "category/news.json"),
        ("application/atom+xml", BASE + "category/news.xml"),
    ]


@pytest.mark.parametrize(
    "formats",
    [
        pytest.param(ALL, id="atom-rss-json"),
        pytest.param(("rss", "atom"), id="rss-atom"),
        pytest.param(("rss",), id="rss-only"),
    ],
)
def test_opml_lists_the_rss_feeds_when_rss_is_written(
    tmp_path: Path, store: Store, formats: tuple[str, ...]
) -> None:
    config = make_config(tmp_path, formats=formats)
    store.upsert_posts([make_post(1), make_post(2, category="tech")], now=WHEN)
    Publisher(config, store).publish()
    out = tmp_path / "out"
    suffix = {"atom": "", "rss": " (RSS)", "json": " (JSON Feed)"}
    combined = {"atom": "atom.xml", "rss": "rss.xml", "json": "feed.json"}
    extension = {"atom": "xml", "rss": "rss", "json": "json"}
    expected = [(f"Test Site{suffix[f]}", BASE + combined[f], BASE) for f in formats]
    for slug, title in (("news", "News"), ("tech", "Tech & Science")):
        expected += [
            (
                f"{title} · Test Site{suffix[f]}",
                BASE + f"category/{slug}.{extension[f]}",
                BASE + f"category/{slug}.html",
            )
            for f in formats
        ]
    doc = etree.parse(str(out / "subscriptions.opml")).getroot()
    outlines = [(o.get("title"), o.get("xmlUrl"), o.get("htmlUrl")) for o in doc.iter("outline")]
    assert outlines == expected
    for _, url, _ in outlines:  # each one it lists is written
        assert (out / url.removeprefix(BASE)).is_file()
    rss_urls = {url for _, url, _ in outlines if url.endswith((".rss", "/rss.xml"))}
    assert rss_urls == {BASE + "rss.xml", BASE + "category/news.rss", BASE + "category/tech.rss"}


# ----------------------------------------------------------- the real CLI


def golden_config(tmp: Path, server: FeedServer, **site: object) -> Path:
    """The golden config with `site` keys added, and a second source of three stories."""
    server.add("/tianjinribao.rss", (GOLDEN / "tianjinribao.rss").read_bytes())
    server.add("/wire.rss", site_rss("wire", [(f"w{n}", f"Wire story {n}") for n in range(3)]))
    text = (GOLDEN / "config.yaml").read_text(encoding="utf-8").replace("PORT", str(server.port))
    data = yaml.safe_load(text)
    data["site"] |= site
    data["categories"]["wire"] = {"title": "通讯社"}
    data["sources"].append({"name": "Wire", "url": server.url("/wire.rss"), "category": "wire"})
    path = tmp / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@pytest.mark.slow
def test_golden_case_publishes_all_three_formats_valid_and_agreeing(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    config = golden_config(tmp_path, feed_server, formats=list(ALL), tag_feeds=True)
    run_cli(config, "run", "--once")
    out = tmp_path / "out"
    (post,) = (out / "_posts").glob("2021-12-26-tian-jin-*.md")
    assert post.read_bytes() == (GOLDEN / "post.md").read_bytes()  # the golden post unchanged
    assert assert_agree(out, "atom.xml", "rss.xml", "feed.json") == 4
    for slug in ("tianjinribao", "wire"):
        assert assert_agree(out, *(f"category/{slug}.{e}" for e in ("xml", "rss", "json")))
    # Atom, RSS and JSON Feed: the combined feed, two categories, two tags (their titles).
    assert validate_feeds(out) == 3 * 5
    (item,) = rss_items(out / "category" / "tianjinribao.rss")
    assert item["source"] == "天津日报" and item["via"].startswith("http://finews.zning.xyz/")


@pytest.mark.slow
def test_a_format_added_appears_and_a_format_dropped_goes(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    config = golden_config(tmp_path, feed_server)
    out = tmp_path / "out"
    run_cli(config, "run", "--once")
    atom_only = tree_mtimes(out)
    pages = {p: (out / p).read_bytes() for p in atom_only if p.endswith(".html")}
    feeds = [p for p in atom_only if p.endswith((".rss", ".json")) or p == "rss.xml"]
    assert feeds == [".fingerprint.json"]

    # A format added: written at the next run, which fetches nothing new.
    config.write_text(
        config.read_text(encoding="utf-8").replace(
            "  language: zh-CN\n", "  language: zh-CN\n  formats: [atom, rss, json]\n"
        ),
        encoding="utf-8",
    )
    run_cli(config, "run", "--once")
    written = set(tree_mtimes(out))
    new = {"rss.xml", "feed.json"} | {
        f"category/{s}.{e}" for s in ("tianjinribao", "wire") for e in ("rss", "json")
    }
    assert written - set(atom_only) == new
    assert b'type="application/rss+xml"' in (out / "index.html").read_bytes()
    assert validate_feeds(out) == 9

    # Atom dropped: its feeds go, the others stay; pages link what is there.
    config.write_text(
        config.read_text(encoding="utf-8").replace("[atom, rss, json]", "[rss, json]"),
        encoding="utf-8",
    )
    run_cli(config, "run", "--once")
    left = set(tree_mtimes(out))
    assert not [p for p in left if p.endswith(".xml") and p != "rss.xml"]
    assert new <= left
    assert b"application/atom+xml" not in (out / "index.html").read_bytes()

    # Back to the default: the RSS and JSON feeds go, and every page is as it first was.
    config.write_text(
        config.read_text(encoding="utf-8").replace("  formats: [rss, json]\n", ""),
        encoding="utf-8",
    )
    run_cli(config, "run", "--once")
    assert set(tree_mtimes(out)) == set(atom_only)
    assert {p: (out / p).read_bytes() for p in pages} == pages


@pytest.mark.slow
def test_an_unknown_format_is_a_config_error_naming_the_allowed_ones(tmp_path: Path) -> None:
    shutil.copy(GOLDEN / "config.yaml", tmp_path / "config.yaml")
    config = tmp_path / "config.yaml"
    config.write_text(
        config.read_text(encoding="utf-8").replace(
            "  language: zh-CN\n", "  language: zh-CN\n  formats: [atom, rdf]\n"
        ),
        encoding="utf-8",
    )
    proc = run_cli(config, "check", check=False)
    assert proc.returncode == 2
    assert "site.formats: unknown feed format 'rdf' (allowed: atom, rss, json)" in proc.stderr
    assert "Traceback" not in proc.stderr


# ------------------------------------------------------ the checks can fail


RSS_OK = (
    '<rss version="2.0"><channel><title>t</title><link>https://a.example/</link>'
    "<description>d</description>{item}</channel></rss>"
)
ITEM = '<item><title>x</title><guid isPermaLink="false">g</guid>{more}</item>'


@pytest.mark.parametrize(
    ("document", "fault"),
    [
        pytest.param(RSS_OK.replace("<description>d</description>", ""), "no description",
                     id="no-description"),
        pytest.param(RSS_OK.format(item=ITEM.format(more="<guid>h</guid>")), "guid> twice",
                     id="two-guids"),
        pytest.param(RSS_OK.format(item="<item><title>x</title></item>"), "0 guids",
                     id="no-guid"),
        pytest.param(RSS_OK.format(item=ITEM.format(more="") * 2), "share a guid",
                     id="duplicate-guid"),
        pytest.param(RSS_OK.format(item=ITEM.format(more="<pubDate>2021-12-26</pubDate>")),
                     "no RFC 822", id="iso-date"),
        pytest.param(RSS_OK.format(
            item=ITEM.format(more="<pubDate>Mon, 26 Dec 2021 01:35:42 GMT</pubDate>")),
            "wrong day", id="wrong-day"),
        pytest.param(RSS_OK.format(item=ITEM.format(more="<description><b>x</b></description>")),
                     "unescaped markup", id="markup"),
        pytest.param(RSS_OK.format(item=ITEM.format(more="<link>/relative</link>")),
                     "link", id="relative-link"),
    ],
)  # fmt: skip
def test_the_rss_check_refuses(tmp_path: Path, document: str, fault: str) -> None:
    path = tmp_path / "x.rss"
    path.write_text(document.replace("{item}", ""), encoding="utf-8")
    with pytest.raises(AssertionError, match=fault):
        validate_rss(path)


def test_the_rss_check_passes_a_good_feed(tmp_path: Path) -> None:
    path = tmp_path / "x.rss"
    good = ITEM.format(more="<pubDate>Sun, 26 Dec 2021 01:35:42 GMT</pubDate>")
    path.write_text(RSS_OK.format(item=good), encoding="utf-8")
    validate_rss(path)


JSON_OK: dict[str, Any] = {
    "version": "https://jsonfeed.org/version/1.1",
    "title": "t",
    "items": [{"id": "1", "content_html": "<p>x</p>", "date_published": "2021-12-26T01:35:42Z"}],
}


@pytest.mark.parametrize(
    ("change", "fault"),
    [
        pytest.param({"version": "https://jsonfeed.org/version/1"}, "version", id="version"),
        pytest.param({"items": [{"id": "1"}]}, "items/0", id="no-content"),
        pytest.param({"items": [{"id": 1, "content_text": ""}]}, "items/0/id", id="number-id"),
        pytest.param(
            {"items": [{"id": "1", "content_text": "", "date_published": "26 Dec 2021"}]},
            "date_published",
            id="rfc822-date",
        ),
        pytest.param({"feed_url": "not a url"}, "feed_url", id="bad-url"),
        pytest.param({"authors": [{}]}, "authors/0", id="empty-author"),
        pytest.param({"itemz": []}, "itemz", id="unknown-member"),
        pytest.param({"items": [JSON_OK["items"][0]] * 2}, "share an id", id="duplicate-id"),
    ],
)
def test_the_json_feed_check_refuses(tmp_path: Path, change: dict[str, Any], fault: str) -> None:
    path = tmp_path / "feed.json"
    path.write_text(json.dumps(JSON_OK | change), encoding="utf-8")
    with pytest.raises(AssertionError, match=fault):
        validate_jsonfeed(path)


@pytest.mark.parametrize(
    ("item", "fault"),
    [
        pytest.param({"id": " 1"}, "the ids", id="id-with-space"),
        pytest.param({"image": "https://e.org/i.png"}, "the content", id="image-opens-it"),
    ],
)
def test_the_json_feed_round_trip_refuses_what_reads_back_otherwise(
    tmp_path: Path, item: dict[str, Any], fault: str
) -> None:
    # Valid by the schema, but our JSON Feed input reads these back otherwise.
    path = tmp_path / "feed.json"
    path.write_text(json.dumps(JSON_OK | {"items": [JSON_OK["items"][0] | item]}), "utf-8")
    with pytest.raises(AssertionError, match=f"read back, .*{fault}"):
        validate_jsonfeed(path)


def test_the_json_feed_check_passes_a_good_feed(tmp_path: Path) -> None:
    path = tmp_path / "feed.json"
    path.write_text(json.dumps(JSON_OK | {"_x": {"a": 1}}), encoding="utf-8")
    assert validate_jsonfeed(path)["title"] == "t"


def test_rfc822_dates_are_in_gmt_with_four_digit_years() -> None:
    from aggregator.publish.rss import rfc822

    shanghai = datetime(2021, 12, 26, 9, 35, 42, tzinfo=UTC) + timedelta()
    assert rfc822(shanghai) == "Sun, 26 Dec 2021 09:35:42 GMT"
    assert rfc822_date(rfc822(datetime(999, 1, 2, tzinfo=UTC)), "x").year == 999
