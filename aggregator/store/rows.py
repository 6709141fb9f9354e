"""Records to rows and rows to records, every column read and written by its name.

A row read here may come from any select of its table, columns in any order and any
added; a mapping never reads a column at a position it did not find by the column's name
(posts_from_rows finds each once per result). Must not run a statement.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from operator import itemgetter
from typing import Any, Final

from aggregator.cluster import NodeRecord
from aggregator.store.schema import posts
from aggregator.types import ListedPost, Post, SourceState, StoredIdentity, Validators

__all__ = [
    "IDENTITY",
    "LISTED",
    "identity_from_row",
    "listed_from_row",
    "new_post_row",
    "node_from_row",
    "post_from_row",
    "posts_from_rows",
    "state_from_row",
    "state_values",
]


def state_values(state: SourceState) -> dict[str, Any]:
    """The `sources` row of `state`."""
    return {
        "name": state.name,
        "url": state.url,
        "config_url": state.config_url,
        "etag": state.validators.etag,
        "last_modified": state.validators.last_modified,
        "content_hash": state.content_hash,
        "feed_title": state.feed_title,
        "feed_link": state.feed_link,
        "feed_id": state.feed_id,
        "last_fetched": state.last_fetched,
        "last_success": state.last_success,
        "last_status": state.last_status,
        "failures": state.failures,
        "last_error": state.last_error,
        "next_check": state.next_check,
        "disabled": state.disabled,
        "redirect_target": state.redirect_target,
        "redirect_count": state.redirect_count,
        "feed_ttl_seconds": (
            None if state.feed_ttl is None else int(state.feed_ttl.total_seconds())
        ),
        "dropped_items": state.dropped_items,
        "schedule": state.schedule,
        "posting_gap_seconds": (
            None if state.posting_gap is None else int(state.posting_gap.total_seconds())
        ),
        "newest_item": state.newest_item,
        "discovered_from": state.discovered_from,
    }


def state_from_row(row: Any) -> SourceState:
    """A row of `select(sources)`."""
    return SourceState(
        name=row.name,
        url=row.url,
        config_url=row.config_url,
        validators=Validators(etag=row.etag, last_modified=row.last_modified),
        content_hash=row.content_hash,
        feed_title=row.feed_title,
        feed_link=row.feed_link,
        feed_id=row.feed_id,
        last_fetched=row.last_fetched,
        last_success=row.last_success,
        last_status=row.last_status,
        failures=row.failures,
        last_error=row.last_error,
        next_check=row.next_check,
        disabled=row.disabled,
        redirect_target=row.redirect_target,
        redirect_count=row.redirect_count,
        feed_ttl=None if row.feed_ttl_seconds is None else timedelta(seconds=row.feed_ttl_seconds),
        dropped_items=row.dropped_items,
        schedule=row.schedule,
        posting_gap=(
            None if row.posting_gap_seconds is None else timedelta(seconds=row.posting_gap_seconds)
        ),
        newest_item=row.newest_item,
        discovered_from=row.discovered_from,
    )


# The columns listed_from_row reads (with published_revision, unless told ever_published).
LISTED: Final = (
    posts.c.key,
    posts.c.source,
    posts.c.category,
    posts.c.title,
    posts.c.slug,
    posts.c.published,
)


def listed_from_row(row: Any, *, ever_published: bool | None = None) -> ListedPost:
    """`ever_published`: known for every row (else the row has published_revision)."""
    return ListedPost(
        key=row.key,
        source=row.source,
        category=row.category,
        title=row.title,
        slug=row.slug,
        published=row.published,
        ever_published=row.published_revision > 0 if ever_published is None else ever_published,
    )


def post_from_row(row: Any) -> Post:
    """A row of `select(posts)`, its columns read by name (any column order, any added)."""
    return Post(
        key=row.key,
        source=row.source,
        category=row.category,
        title=row.title,
        link=row.link,
        published=row.published,
        updated=row.updated,
        content_html=row.content_html,
        tags=row.tags,
        slug=row.slug,
        content_hash=row.content_hash,
        dated=row.dated,
        revision=row.revision,
        canonical_link=row.canonical_link,
        text_hash=row.text_hash,
        raw_hash=row.raw_hash,
        identity_key=row.identity_key,
        legacy_key=row.legacy_key,
        author=row.author,
    )


_POST_FIELDS: Final = (
    "key", "source", "category", "title", "link", "published", "updated", "content_html",
    "tags", "slug", "content_hash", "dated", "revision", "canonical_link", "text_hash",
    "raw_hash", "identity_key", "legacy_key", "author",
)  # fmt: skip


def posts_from_rows(result: Any) -> list[Post]:
    """The posts of a result of `select(posts)` (any column order, any added), as
    post_from_row reads each row. Each column's position is found by its name once for the
    whole result: a row's column by name costs half a microsecond, and the 19 of a post
    were three quarters of reading it (20 µs of 27 per row)."""
    names = list(result.keys())
    values = itemgetter(*(names.index(name) for name in _POST_FIELDS))
    fields = _POST_FIELDS
    return [Post(**dict(zip(fields, values(row), strict=True))) for row in result]


def new_post_row(post: Post, *, slug: str, now: datetime) -> dict[str, Any]:
    """The whole `posts` row of a post stored for the first time, under `slug`, at `now`."""
    return {
        "key": post.key,
        "source": post.source,
        "category": post.category,
        "title": post.title,
        "link": post.link,
        "published": post.published,
        "updated": post.updated,
        "content_html": post.content_html,
        "tags": post.tags,
        "slug": slug,
        "content_hash": post.content_hash,
        "dated": post.dated,
        "first_seen": now,
        "revision": 1,
        "published_revision": 0,
        "canonical_link": post.canonical_link,
        "text_hash": post.text_hash,
        "raw_hash": post.raw_hash,
        "full_text_tries": 0,
        "identity_key": post.identity_key or post.key,
        "legacy_key": post.legacy_key or post.key,
        "author": post.author,
    }


# The columns identity_from_row reads.
IDENTITY: Final = (
    posts.c.key,
    posts.c.source,
    posts.c.category,
    posts.c.canonical_link,
    posts.c.text_hash,
    posts.c.link,
    posts.c.identity_key,
    posts.c.legacy_key,
)


def identity_from_row(row: Any) -> StoredIdentity:
    """A row holding the IDENTITY columns."""
    return StoredIdentity(
        key=row.key,
        source=row.source,
        category=row.category,
        canonical_link=row.canonical_link,
        text_hash=row.text_hash,
        link=row.link,
        identity_key=row.identity_key,
        legacy_key=row.legacy_key,
    )


def node_from_row(row: Any) -> NodeRecord:
    """A `nodes` row with its `leased` count."""
    return NodeRecord(
        id=row.id,
        host=row.host,
        pid=row.pid,
        started=row.started,
        heartbeat=row.heartbeat,
        stopped=row.stopped,
        rounds=row.rounds,
        fetched=row.fetched,
        errors=row.errors,
        store_seconds=row.store_seconds,
        leases=int(row.leased),
    )
