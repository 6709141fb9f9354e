"""The publisher against a real SQLite store: post files, feeds, pages, atomic writes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from clirunner import validate_atom
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from aggregator.publish import Publisher, write_atomic, yaml_quote, yaml_tags
from aggregator.store import Store, open_store
from aggregator.types import Category, Config, Post, Schedule, Site

ATOM = "{http://www.w3.org/2005/Atom}"
WHEN = datetime(2021, 12, 26, 1, 35, 42, tzinfo=UTC)

HOSTILE_TITLES = [
    pytest.param('He said "hi"', id="quotes"),
    pytest.param("key: value", id="colon"),
    pytest.param("---", id="document-marker"),
    pytest.param("line one\nline two\r\nthree", id="newlines"),
    pytest.param("back\\slash \\n not a newline", id="backslashes"),
    pytest.param("{{ site.title }} {% if x %}", id="liquid"),
    pytest.param("yes", id="yaml-bool"),
    pytest.param("null", id="yaml-null"),
    pytest.param("- item", id="yaml-list"),
    pytest.param("#comment", id="yaml-comment"),
    pytest.param("&anchor *alias !tag", id="yaml-specials"),
    pytest.param("tab\there \x07 bell \x7f del \u0085 nel \u2028 ls", id="controls"),
    pytest.param("'single' and `backticks`", id="other-quotes"),
    pytest.param("《天津》“十四五”", id="chinese-quotes"),
]


def make_config(tmp: Path, *, language: str = "en") -> Config:
    return Config(
        path=tmp / "config.yaml",
        site=Site(
            title="Test Site",
            base_url="https://news.example.org/",
            output_dir=tmp / "out",
            timezone="Asia/Shanghai",
            language=language,
        ),
        database=f"sqlite:///{tmp / 'test.db'}",
        schedule=Schedule(),
        categories={
            "news": Category(slug="news", title="News"),
            "tech": Category(slug="tech", title="Tech & Science"),
        },
        sources=(),
    )


def make_post(n: int, *, title: str | None = None, category: str = "news", **kw: object) -> Post:
    fields: dict[str, object] = {
        "key": f"k{n:04d}",
        "source": "Example Source",
        "category": category,
        "title": title if title is not None else f"Post number {n}",
        "link": f"https://example.org/{n}",
        "published": WHEN + timedelta(hours=n),
        "updated": WHEN + timedelta(hours=n),
        "content_html": f"<p>Body {n}</p>",
        "tags": ("News",),
        "slug": f"post-number-{n}",
        "content_hash": f"h{n}",
    }
    fields.update(kw)
    return Post(**fields)  # type: ignore[arg-type]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(f"sqlite:///{tmp_path / 'test.db'}")
    yield s
    s.close()


def read_front_matter(text: str) -> dict[str, object]:
    assert text.startswith("---\n")
    front, _ = text[4:].split("\n---\n", 1)
    data = yaml.safe_load(front)
    assert isinstance(data, dict)
    return data


@pytest.mark.parametrize("title", HOSTILE_TITLES)
def test_front_matter_reads_back(tmp_path: Path, store: Store, title: str) -> None:
    config = make_config(tmp_path)
    post = make_post(1, title=title, tags=("yes", "a b", "null"))
    store.upsert_posts([post], now=WHEN)
    (stored,) = store.pending()
    text = Publisher(config, store).render_post_file(stored)
    meta = read_front_matter(text)
    assert meta["title"] == title
    assert meta["date"] == "2021-12-26 10:35:42 +0800"
    assert meta["categories"] == "news"
    assert meta["tags"] == "yes a-b null"
    assert meta["layout"] == "post"
    assert ("render_with_liquid" in meta) == ("{{" in title or "{%" in title)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.text())
def test_yaml_quote_reads_back(text: str) -> None:
    assert yaml.safe_load(f"title: {yaml_quote(text)}") == {"title": text}


@settings(max_examples=200)
@given(st.lists(st.text(min_size=1), max_size=4))
def test_yaml_tags_read_back_as_words(tags: list[str]) -> None:
    words = [w for t in tags if t.strip() for w in ["-".join(t.split())]]
    assert yaml.safe_load(f"tags: {yaml_tags(tags)}")["tags"] == " ".join(words)


def test_publish_writes_tree_and_valid_feeds(tmp_path: Path, store: Store) -> None:
    config = make_config(tmp_path)
    posts = [make_post(n, category="news" if n % 2 else "tech") for n in range(1, 8)]
    store.upsert_posts(posts, now=WHEN)

    report = Publisher(config, store).publish()

    out = tmp_path / "out"
    assert report.posts == 7
    assert len(list((out / "_posts").glob("*.md"))) == 7
    for feed in ["atom.xml", "category/news.xml", "category/tech.xml"]:
        validate_atom(out / feed)
    assert (out / "index.html").exists()
    assert (out / "category" / "news.html").exists()
    assert (out / "news" / "2021" / "12" / "26" / "post-number-1.html").exists()
    assert store.pending() == []

    doc = etree.parse(str(out / "category" / "tech.xml")).getroot()
    entries = doc.findall(f"{ATOM}entry")
    assert len(entries) == 3
    ids = [e.findtext(f"{ATOM}id") for e in entries]
    assert len(set(ids)) == 3 and all(i.startswith("tag:news.example.org,") for i in ids)
    first = entries[0]  # newest first
    assert first.findtext(f"{ATOM}title") == "Post number 6"
    rels = {link.get("rel"): link.get("href") for link in first.findall(f"{ATOM}link")}
    assert rels["via"] == "https://example.org/6"
    assert rels["alternate"] == "https://news.example.org/tech/2021/12/26/post-number-6.html"
    cat = first.find(f"{ATOM}category")
    assert cat is not None and cat.get("term") == "tech" and cat.get("label") == "Tech & Science"
    assert first.find(f"{ATOM}source") is not None


def test_entry_ids_are_stable_across_edits(tmp_path: Path, store: Store) -> None:
    config = make_config(tmp_path)
    store.upsert_posts([make_post(1)], now=WHEN)
    Publisher(config, store).publish()
    feed = tmp_path / "out" / "atom.xml"
    before = etree.parse(str(feed)).getroot().find(f"{ATOM}entry").findtext(f"{ATOM}id")
    store.upsert_posts(
        [make_post(1, title="Edited title", content_hash="changed")], now=WHEN + timedelta(days=1)
    )
    Publisher(config, store).publish()
    entry = etree.parse(str(feed)).getroot().find(f"{ATOM}entry")
    assert entry.findtext(f"{ATOM}id") == before
    assert entry.findtext(f"{ATOM}title") == "Edited title"
    # The edited post keeps its file name.
    assert [p.name for p in (tmp_path / "out" / "_posts").glob("*.md")] == [
        "2021-12-26-post-number-1.md"
    ]


def test_zh_words_and_protocol_relative_links(tmp_path: Path, store: Store) -> None:
    config = make_config(tmp_path, language="zh-CN")
    store.upsert_posts([make_post(1)], now=WHEN)
    (post,) = store.pending()
    text = Publisher(config, store).render_post_file(post)
    assert text.endswith(
        "[返回News](//news.example.org/category/news.html)｜[返回首页](//news.example.org/)"
    )
    assert '<p class="em_media">（文章来源：Example Source）</p>' in text


def test_write_atomic_leaves_old_file_when_the_disk_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "feed.xml"
    write_atomic(target, b"old")

    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("aggregator.publish.os.fsync", disk_full)
    with pytest.raises(OSError, match="No space"):
        write_atomic(target, b"new", durable=True)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["feed.xml"]
