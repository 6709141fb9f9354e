"""The status page of `aggregator serve --status-token`: every source in every state with
its interval and why, sparklines of its items, the site's last hours; refused without the
token, never in output_dir, inert to hostile words; and read in a real headless Chromium
at a phone's width (a screenshot left in the test's folder)."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import builders
import pytest
from builders import site_section, timeouts
from chromium import MISSING, chromium
from clirunner import aggregator_command, run_cli
from httpserver import FeedServer

from aggregator.statuspage import sparkline

TOKEN = "s3cret-token-0123456789"


feed = builders.numbered_rss


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A config whose sources are ok, failing, gone (disabled), asking to wait and never
    fetched, one round run; `aggregator serve --status-token` on it: (config, base URL)."""
    with FeedServer() as server:
        server.add("/ok.rss", feed(3), etag=True)
        server.add("/broken.rss", b"<html><script>alert(1)</script>", content_type="text/html")
        server.add("/gone.rss", status=410)
        server.add("/busy.rss", status=429, retry_after=3600)
        sources = [
            {"name": name, "url": server.url(f"/{name}.rss"), "category": "news"}
            for name in ("ok", "broken", "gone", "busy")
        ]
        config = builders.write_config(
            tmp_path,
            [*sources, {"name": "later", "url": server.url("/ok.rss"), "category": "news"}],
            site=site_section("t") | {"title": "News <b>desk</b>"},
            database="sqlite:///state.db",
            fetch=timeouts("2s", "2s", "5s") | {"allow_private": True},
        )
        run_cli(config, "fetch", "ok", "broken", "gone", "busy")
        port = free_port()
        command = [*aggregator_command(), "--config", str(config), "serve"]
        proc = subprocess.Popen(
            [*command, "--port", str(port), "--status-token", TOKEN],
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 20
            while True:
                try:
                    urllib.request.urlopen(f"{base}/status?token={TOKEN}", timeout=2).close()
                    break
                except OSError:
                    if time.monotonic() > deadline or proc.poll() is not None:
                        raise
                    time.sleep(0.1)
            yield config, base
        finally:
            proc.terminate()
            _, err = proc.communicate(timeout=10)
            assert b"Traceback" not in err, err


def status_of(url: str, **headers: str) -> tuple[int, str]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def test_the_page_shows_every_source_and_only_to_the_token(
    site: tuple[Path, str], tmp_path: Path
) -> None:
    config, base = site
    assert status_of(f"{base}/status")[0] == 404  # nothing says a page is there
    assert status_of(f"{base}/status?token=wrong-token-0123456")[0] == 403
    code, page = status_of(f"{base}/status", Authorization=f"Bearer {TOKEN}")
    assert code == 200
    for name, health in [
        ("ok", "ok"),
        ("broken", "failing"),
        ("gone", "disabled"),
        ("busy", "deferred"),
        ("later", "new"),
    ]:
        row = page.split(f"<td>{name}<div")[1].split("</tr>")[0]
        assert f'class="h {health}"' in row, (name, row)
    assert "fixed interval" in page and "backoff after 1 failure(s)" in page
    assert "due now (never fetched)" in page
    assert page.count('<svg class="spark"') >= 5 + 3  # a sparkline a source, three plots
    assert 'aria-label="3 items in 30 days"' in page  # ok's three new items today
    # The config's and the servers' words are text: no markup of theirs gets through.
    assert "News &lt;b&gt;desk&lt;/b&gt;" in page and "<b>desk</b>" not in page
    assert "<script>" not in page.split("<body>")[1]
    # Nothing of the page in the published tree.
    run_cli(config, "publish")
    published = [p for p in tmp_path.rglob("*.html") if "chromium" not in str(p)]
    assert published and not any("status" in p.name for p in published)
    assert not any(TOKEN in p.read_text(encoding="utf-8") for p in published)


@pytest.mark.skipif(MISSING is not None, reason=MISSING or "")
def test_the_page_reads_on_a_phone(site: tuple[Path, str], tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    _, base = site
    with chromium(tmp_path / "chromium-profile", window="390,844") as browser:
        browser.get(f"{base}/status?token={TOKEN}")
        assert browser.title == "Status: News <b>desk</b>"
        rows = browser.find_elements(By.CSS_SELECTOR, "table tbody tr")
        assert len(rows) >= 5
        # At a phone's width each cell is a line of its own, labelled: nothing overflows.
        # (Headless Chromium keeps its window some 500 pixels wide at the least.)
        inner = browser.execute_script("return window.innerWidth")
        width = browser.execute_script("return document.documentElement.scrollWidth")
        assert inner < 640 and width <= inner, (inner, width)
        label = browser.execute_script(
            "return getComputedStyle(document.querySelector('td[data-k=health]'),"
            " '::before').content"
        )
        assert "health" in label
        assert browser.find_elements(By.TAG_NAME, "script") == []
        browser.save_screenshot(str(tmp_path / "status-phone.png"))
    assert (tmp_path / "status-phone.png").stat().st_size > 5000


def test_sparkline_is_numbers_only() -> None:
    svg = str(sparkline([0, 2, 4]))
    assert svg.count("<rect") == 2 and 'aria-label="6 items in 3 days"' in svg
    assert str(sparkline([])).count("<rect") == 0
