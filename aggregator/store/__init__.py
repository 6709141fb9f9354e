"""Store stage: posts and per-source fetch state in SQLite or PostgreSQL."""

from aggregator.store.posts import (
    FULL_TEXT_TRIES,
    MIGRATIONS,
    Store,
    _migrate,
    open_store,
    posts,
)

__all__ = ["FULL_TEXT_TRIES", "MIGRATIONS", "Store", "_migrate", "open_store", "posts"]
