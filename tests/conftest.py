"""Shared fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from httpserver import FeedServer


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    """A started `FeedServer` on 127.0.0.1 (see tests/httpserver.py); stopped afterwards."""
    with FeedServer() as server:
        yield server
