"""Shared fixtures."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from clirunner import validate_feeds
from httpserver import FeedServer


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    """A started `FeedServer` on 127.0.0.1 (see tests/httpserver.py); stopped afterwards."""
    with FeedServer() as server:
        yield server


@pytest.fixture(autouse=True)
def every_published_feed_is_valid(request: pytest.FixtureRequest) -> Iterator[None]:
    """After every test that used tmp_path: each output tree it left (a folder holding
    atom.xml beside index.html or _posts/) must hold only valid Atom feeds, by the
    RELAX NG schema and the rules it can't express (tests/clirunner.py)."""
    if "tmp_path" not in request.fixturenames:
        yield
        return
    tmp: Path = request.getfixturevalue("tmp_path")
    yield
    for combined in tmp.rglob("atom.xml"):
        root = combined.parent
        if (root / "index.html").exists() or (root / "_posts").is_dir():
            validate_feeds(root)
