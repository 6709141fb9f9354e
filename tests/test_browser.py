"""The published site in headless Chromium, served by `aggregator serve`: browse from the
index to a category and the golden post, check its autodiscovery and back links."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from builders import site_rss
from chromium import MISSING, chromium
from clirunner import GOLDEN, aggregator_command, run_cli, validate_feeds
from httpserver import FeedServer

pytestmark = pytest.mark.slow


webdriver = pytest.importorskip(
    "selenium.webdriver", reason="selenium is missing (pip install -e '.[test]')"
)
if MISSING:
    pytest.skip(MISSING, allow_module_level=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def golden_config(tmp_path: Path, feed_server: FeedServer, site: str = "") -> Path:
    """The golden config; `site`: more lines of its site section."""
    feed_server.add("/tianjinribao.rss", (GOLDEN / "tianjinribao.rss").read_bytes())
    config = tmp_path / "config.yaml"
    text = (GOLDEN / "config.yaml").read_text(encoding="utf-8")
    text = text.replace("  language: zh-CN\n", "  language: zh-CN\n" + site)
    config.write_text(text.replace("PORT", str(feed_server.port)), encoding="utf-8")
    return config


@contextlib.contextmanager
def serving(config: Path) -> Iterator[str]:
    """`aggregator serve` of the config's output tree, stopped on leaving; its root URL."""
    port = free_port()
    proc = subprocess.Popen(
        [*aggregator_command(), "--config", str(config), "serve", "--port", str(port)],
        cwd=config.parent,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                with urllib.request.urlopen(url, timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def served_site(tmp_path: Path, feed_server: FeedServer) -> Iterator[str]:
    """The golden site published by the real CLI and served by `aggregator serve`."""
    config = golden_config(tmp_path, feed_server)
    run_cli(config, "run", "--once")
    validate_feeds(tmp_path / "out")
    with serving(config) as url:
        yield url


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    with chromium(tmp_path / "chromium-profile", window="1280,900") as driver:
        yield driver


def test_browse_index_category_and_golden_post(
    served_site: str, browser: Any, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    browser.get(served_site)
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "zh-CN"
    assert browser.title == "财经新闻"
    browser.save_screenshot(str(tmp_path / "index-desktop.png"))

    browser.find_element(By.LINK_TEXT, "天津日报新闻").click()
    assert browser.current_url == served_site + "category/tianjinribao.html"
    feed = browser.find_element(By.CSS_SELECTOR, 'link[rel="alternate"][title="天津日报新闻"]')
    assert feed.get_attribute("type") == "application/atom+xml"

    browser.find_element(By.CSS_SELECTOR, "ul.posts a.title").click()
    assert browser.current_url.startswith(served_site + "tianjinribao/2021/12/26/")
    feeds = browser.find_elements(By.CSS_SELECTOR, 'link[rel="alternate"]')
    hrefs = {f.get_attribute("href") for f in feeds}
    assert "https://finews.withounder.com/category/tianjinribao.xml" in hrefs
    assert "https://finews.withounder.com/atom.xml" in hrefs
    assert "（文章来源：天津日报）" in browser.find_element(By.TAG_NAME, "article").text

    back = browser.find_element(By.CSS_SELECTOR, "nav.back a.back-category")
    home = browser.find_element(By.CSS_SELECTOR, "nav.back a.back-home")
    assert back.text == "返回天津日报新闻"
    assert back.get_attribute("href") == served_site + "category/tianjinribao.html"
    assert home.text == "返回首页"
    assert home.get_attribute("href") == served_site

    # Readable on a phone: nothing wider than the screen.
    browser.set_window_size(390, 844)
    width = browser.execute_script("return document.documentElement.scrollWidth")
    assert width <= browser.execute_script("return window.innerWidth")
    browser.save_screenshot(str(tmp_path / "post-phone.png"))
    browser.set_window_size(1280, 900)
    browser.save_screenshot(str(tmp_path / "post-desktop.png"))
    assert (tmp_path / "post-phone.png").stat().st_size > 1000

    browser.find_element(By.CSS_SELECTOR, "nav.back a.back-home").click()
    assert browser.current_url == served_site


def test_an_old_post_page_shows_the_new_title_and_category_after_a_config_change(
    tmp_path: Path, feed_server: FeedServer, browser: Any
) -> None:
    from selenium.webdriver.common.by import By

    config = golden_config(tmp_path, feed_server)
    run_cli(config, "run", "--once")
    old = next((tmp_path / "out" / "tianjinribao").rglob("*.html"))
    path = old.relative_to(tmp_path / "out").as_posix()

    # A new title and a new category with a source of its own; then one plain round.
    feed_server.add("/wire.rss", site_rss("wire", [("w1", "Wire story")]))
    text = config.read_text(encoding="utf-8").replace("title: 财经新闻", "title: 新财经")
    text = text.replace(
        "categories:\n",
        "categories:\n  wire:\n    title: 通讯社\n",
    )
    text += f"  - name: Wire\n    url: {feed_server.url('/wire.rss')}\n    category: wire\n"
    config.write_text(text, encoding="utf-8")
    run_cli(config, "run", "--once")

    with serving(config) as site:
        browser.get(site + path)
        assert browser.title.endswith(" · 新财经")
        assert browser.find_element(By.CSS_SELECTOR, "header.site h1 a").text == "新财经"
        menu = browser.find_elements(By.CSS_SELECTOR, "nav.categories a")
        assert [a.text for a in menu] == ["通讯社", "天津日报新闻"]  # in the config's order
        menu[0].click()
        assert browser.current_url == site + "category/wire.html"
        assert browser.find_element(By.CSS_SELECTOR, "ul.posts a.title").text == "Wire story"


def test_a_page_advertises_each_format_and_serve_sends_each_as_its_type(
    tmp_path: Path, feed_server: FeedServer, browser: Any
) -> None:
    from selenium.webdriver.common.by import By

    config = golden_config(tmp_path, feed_server, site="  formats: [atom, rss, json]\n")
    run_cli(config, "run", "--once")
    assert validate_feeds(tmp_path / "out") == 6
    base = "https://finews.withounder.com/"
    with serving(config) as site:
        browser.get(site)
        browser.find_element(By.LINK_TEXT, "天津日报新闻").click()
        assert browser.current_url == site + "category/tianjinribao.html"
        browser.find_element(By.CSS_SELECTOR, "ul.posts a.title").click()
        found = [
            (link.get_attribute("type"), link.get_attribute("title"), link.get_attribute("href"))
            for link in browser.find_elements(By.CSS_SELECTOR, 'link[rel="alternate"]')
        ]
        assert found == [
            ("application/atom+xml", "财经新闻", base + "atom.xml"),
            ("application/rss+xml", "财经新闻 (RSS)", base + "rss.xml"),
            ("application/feed+json", "财经新闻 (JSON Feed)", base + "feed.json"),
            ("application/atom+xml", "天津日报新闻", base + "category/tianjinribao.xml"),
            ("application/rss+xml", "天津日报新闻 (RSS)", base + "category/tianjinribao.rss"),
            (
                "application/feed+json",
                "天津日报新闻 (JSON Feed)",
                base + "category/tianjinribao.json",
            ),
        ]
        footer = browser.find_elements(By.CSS_SELECTOR, "footer a")
        assert [a.text for a in footer] == ["Atom", "RSS", "JSON Feed", "全部订阅（OPML）"]
        # Each advertised feed, fetched from `serve` at the same path, has its type.
        for media_type, _, href in found:
            path = href.removeprefix(base)
            with urllib.request.urlopen(site + path, timeout=5) as response:
                assert response.headers["Content-Type"] == media_type + "; charset=utf-8"
