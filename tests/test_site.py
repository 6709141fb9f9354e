"""The HTML site: UI words per language, autodiscovery, relative links that resolve,
operator templates, and URLs that agree with a Jekyll build of the post files."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from urllib.parse import urljoin

import pytest
from clirunner import validate_feeds
from lxml import etree
from test_publish import WHEN, make_config, make_post, read_front_matter

from aggregator.publish import Publisher
from aggregator.store import Store, open_store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(f"sqlite:///{tmp_path / 'test.db'}")
    yield s
    s.close()
    if (tmp_path / "out").is_dir():
        validate_feeds(tmp_path / "out")


def html(path: Path) -> etree._Element:
    return etree.parse(str(path), etree.HTMLParser(encoding="utf-8")).getroot()


@pytest.mark.parametrize(
    ("language", "back", "home", "older"),
    [
        pytest.param("zh-CN", "返回News", "返回首页", "较早", id="zh-CN"),
        pytest.param("en", "Back to News", "Home", "Older", id="en"),
    ],
)
def test_pages_speak_the_site_language(
    tmp_path: Path, store: Store, language: str, back: str, home: str, older: str
) -> None:
    config = make_config(tmp_path, language=language)
    store.upsert_posts([make_post(n) for n in range(1, 60)], now=WHEN)
    Publisher(config, store).publish()
    out = tmp_path / "out"
    page = html(out / "news" / "2021" / "12" / "26" / "post-number-1.html")
    assert page.get("lang") == language
    assert page.findtext(".//nav[@class='back']/a[@class='back-category']") == back
    assert page.findtext(".//nav[@class='back']/a[@class='back-home']") == home
    category = html(out / "category" / "news.html")
    assert category.get("lang") == language
    assert older in category.findtext(".//a[@rel='next']")


def test_every_page_has_autodiscovery_and_links_that_resolve(tmp_path: Path, store: Store) -> None:
    config = make_config(tmp_path)
    store.upsert_posts(
        [make_post(n, category="news" if n % 2 else "tech") for n in range(1, 130)], now=WHEN
    )
    Publisher(config, store).publish()
    out = tmp_path / "out"
    pages = sorted(p for p in out.rglob("*.html"))
    assert len(pages) > 130
    for path in pages:
        doc = html(path)
        feeds = doc.findall(".//link[@rel='alternate'][@type='application/atom+xml']")
        assert any(f.get("href") == "https://news.example.org/atom.xml" for f in feeds), path
        here = path.relative_to(out).as_posix()
        for a in doc.iterfind(".//a[@href]"):
            href = a.get("href")
            if href.startswith(("http://", "https://")):
                continue
            target = urljoin(f"http://site/{here}", href).removeprefix("http://site/")
            resolved = out / (target or "index.html")
            if target.endswith("/") or not target:
                resolved = out / target / "index.html"
            assert resolved.is_file(), f"{here}: {href} -> {target}"
    post = html(out / "news" / "2021" / "12" / "26" / "post-number-1.html")
    feeds = post.findall(".//link[@rel='alternate']")
    assert "https://news.example.org/category/news.xml" in {f.get("href") for f in feeds}


def test_operator_templates_override_the_defaults(tmp_path: Path, store: Store) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "post.html").write_text(
        '<!doctype html><html lang="{{ site.language }}"><title>{{ post.title }}</title>'
        "<p class=custom>{{ words.home }}</p></html>\n",
        encoding="utf-8",
    )
    config = make_config(tmp_path)
    config = replace(config, site=replace(config.site, templates_dir=templates))
    store.upsert_posts([make_post(1)], now=WHEN)
    Publisher(config, store).publish()
    out = tmp_path / "out"
    page = html(out / "news" / "2021" / "12" / "26" / "post-number-1.html")
    assert page.findtext(".//p[@class='custom']") == "Home"
    # Templates not overridden stay the defaults.
    assert html(out / "index.html").find(".//ul[@class='posts']") is not None


def jekyll_permalink(post_file: Path) -> str:
    """The URL Jekyll gives a post under its default `permalink: date` style."""
    meta = read_front_matter(post_file.read_text(encoding="utf-8"))
    date, slug = post_file.stem[:10], post_file.stem[11:]
    year, month, day = date.split("-")
    categories = str(meta["categories"]).split()
    return "/".join([*categories, year, month, day, f"{slug}.html"])


def test_post_pages_sit_where_jekyll_puts_them(tmp_path: Path, store: Store) -> None:
    config = make_config(tmp_path)
    # 20:00 UTC is the next day in Asia/Shanghai: the date comes from the site's zone.
    late = WHEN.replace(hour=20)
    store.upsert_posts([make_post(1), make_post(2, published=late, updated=late)], now=WHEN)
    Publisher(config, store).publish()
    out = tmp_path / "out"
    files = sorted((out / "_posts").glob("*.md"))
    assert len(files) == 2
    for post_file in files:
        assert (out / jekyll_permalink(post_file)).is_file(), post_file.name
    assert (out / "news" / "2021" / "12" / "27" / "post-number-2.html").is_file()


def menu_of(path: Path) -> list[str]:
    return [a.text for a in html(path).iterfind(".//nav[@class='categories']/a")]


def test_a_category_joins_every_menu_with_its_first_post(tmp_path: Path, store: Store) -> None:
    config = make_config(tmp_path)
    store.upsert_posts([make_post(1)], now=WHEN)
    Publisher(config, store).publish()
    out = tmp_path / "out"
    old_page = out / "news" / "2021" / "12" / "26" / "post-number-1.html"
    # "tech" is configured but has no post: no page links it.
    assert menu_of(old_page) == menu_of(out / "index.html") == ["News"]

    store.upsert_posts([make_post(2, category="tech")], now=WHEN)
    report = Publisher(config, store).publish()
    assert report.changed == ("menu",)
    assert (
        menu_of(old_page) == menu_of(out / "category" / "news.html") == ["News", "Tech & Science"]
    )
    assert menu_of(out / "tech" / "2021" / "12" / "26" / "post-number-2.html") == menu_of(old_page)
    # The post file shows no menu: it is not rewritten.
    assert out / "_posts" / "2021-12-26-post-number-1.md" not in report.written


def test_an_extra_aspect_rewrites_what_it_shapes(tmp_path: Path, store: Store) -> None:
    from aggregator.publish.fingerprint import FEEDS, Aspect

    config = make_config(tmp_path)
    store.upsert_posts([make_post(1)], now=WHEN)
    # Named as a built-in aspect, it replaces it.
    Publisher(config, store, aspects=[Aspect("ids", "one", FEEDS)]).publish()
    assert Publisher(config, store, aspects=[Aspect("ids", "one", FEEDS)]).publish().written == []
    report = Publisher(config, store, aspects=[Aspect("ids", "two", FEEDS)]).publish()
    assert report.changed == ("ids",)
    # Every feed was rendered again (the same bytes: nothing written), no post.
    assert report.written == [] and report.posts == 0
    assert report.categories == ("news", "tech")
