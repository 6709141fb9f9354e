"""Shared fixtures."""

from __future__ import annotations

import atexit
import compileall
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from clirunner import validate_feeds
from fakesite import FakeSite
from httpserver import FeedServer

from aggregator.fetch import Fetcher, FetchLimits
from aggregator.publish.feeds import FORMATS
from aggregator.publish.sitemap import Sitemap

# In CI a skip is a failure (tests/ciskips.py).
pytest_plugins = ["ciskips"]


def pytest_sessionstart(session: pytest.Session) -> None:
    """Bytecode for the package and the benchmarks, written once: the suite runs the CLI in
    a subprocess a few thousand times, and where PYTHONDONTWRITEBYTECODE is set (as on the
    CI machines) each of them would otherwise compile every module it imports again."""
    root = Path(__file__).resolve().parent.parent
    for package in ("aggregator", "bench"):
        compileall.compile_dir(root / package, quiet=1)
    # Kept configs (aggregator/config/cache.py) go to a folder of this run's own, for the
    # CLI's subprocesses too, not to the user's ~/.cache.
    folder = tempfile.mkdtemp(prefix="aggregator-test-cache-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    os.environ["XDG_CACHE_HOME"] = folder


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    """A started `FeedServer` on 127.0.0.1 (see tests/httpserver.py); stopped afterwards."""
    with FeedServer() as server:
        yield server


@pytest.fixture
def fake_site() -> FakeSite:
    """An empty `FakeSite` (see tests/fakesite.py): answers through httpx.MockTransport."""
    return FakeSite()


# Private addresses allowed, so that no hop is guarded and no name is looked up.
FAKE_LIMITS = FetchLimits(
    connect_timeout=0.5, read_timeout=0.7, total_timeout=2.0, allow_private=True
)


@pytest.fixture
def fake_fetcher(fake_site: FakeSite) -> Callable[..., Fetcher]:
    """Makes a `Fetcher` (not yet entered) that sends every request to `fake_site`;
    `limits` default to FAKE_LIMITS, other keywords go to the Fetcher (`clock=`)."""

    def make(limits: FetchLimits = FAKE_LIMITS, **options: Any) -> Fetcher:
        return Fetcher(limits, transport=fake_site.transport(), **options)

    return make


@pytest.fixture(autouse=True)
def every_published_feed_is_valid(request: pytest.FixtureRequest) -> Iterator[None]:
    """After every test that used tmp_path: each output tree it left (a folder holding a
    combined feed, atom.xml, rss.xml or feed.json, beside index.html or _posts/) must hold
    only valid feeds, each by its format's rules: Atom by the RELAX NG schema and the rules
    it can't express, RSS 2.0 by the RSS Advisory Board's profile and feedparser, JSON Feed
    1.1 by its JSON Schema (tests/clirunner.py, tests/feedformats.py)."""
    if "tmp_path" not in request.fixturenames:
        yield
        return
    tmp: Path = request.getfixturevalue("tmp_path")
    yield
    roots = {
        combined.parent
        for name in {Sitemap.combined_feed(f.extension) for f in FORMATS}
        for combined in tmp.rglob(name)
    }
    for root in sorted(roots):
        if (root / "index.html").exists() or (root / "_posts").is_dir():
            validate_feeds(root)
