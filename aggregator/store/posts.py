"""The store's post-writing methods: upserting a round's posts, and what the updater reads
to decide what to write (identities, raw hashes, articles still to fetch).

New posts are inserted, changed ones (by content hash) take a new revision, unchanged
ones are skipped; an undated post keeps the date it was first seen. Must not decide what a post is
(identity and duplicates are normalize's) nor which articles to fetch (the updater's), and
must not change a post's key or, once settled, its slug.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect

from aggregator.store.identities import read_identities
from aggregator.store.lock import POSTS_LOCK, serialize
from aggregator.store.rows import new_post_row, posts_from_rows
from aggregator.store.schema import Tags, UTCDateTime, posts, unsettled, wants_article
from aggregator.store.slugs import settle_slugs, unique_slugs
from aggregator.store.transactions import Transactions, chunks
from aggregator.types import Post, Reconcile, StoredIdentity, UpsertResult

__all__ = ["FULL_TEXT_TRIES", "PostMethods"]

# Rounds a post's article page is tried in after its first miss; then its summary stays.
FULL_TEXT_TRIES: Final = 3


class PostMethods(Transactions):
    """Writing posts, and the reads that decide what to write (see api.PostWriter)."""

    def upsert_posts(
        self, new_posts: Sequence[Post], *, now: datetime, reconcile: Reconcile | None = None
    ) -> UpsertResult:
        """Insert new posts, update changed ones, skip unchanged ones (by key and content hash).

        With `reconcile`, the posts written are `reconcile(new_posts, stored)`, `stored`
        being the identities the store holds for them (as `identities` reads them), read in
        the same transaction under the lock post writes take: two nodes storing the same
        story at once see each other's post, and their dedupe holds.

        A new post gets a slug unique across the store (its base slug, then -2, -3, …); it
        may move among posts of the same base until settle_slugs, then it is kept for good.
        The first occurrence of a key in `new_posts` wins. A post whose data the database
        refuses keeps no other out: the others are stored, and the refused ones listed in
        the result's `refused` with the database's reason.
        """
        if not new_posts:
            return UpsertResult()
        # First occurrences only: written one by one, a later copy would update the first
        # (reconcile sees them all, as it did before the store took them).
        first = list(new_posts if reconcile else _first_of_each_key(new_posts).values())
        done, refused = self._write_rows(
            "cannot store posts",
            first,
            lambda conn, batch: _upsert(conn, batch, now=now, reconcile=reconcile),
        )
        if len(done) == 1 and not refused:
            return done[0]
        return UpsertResult(
            new=tuple(k for r in done for k in r.new),
            updated=tuple(k for r in done for k in r.updated),
            unchanged=sum(r.unchanged for r in done),
            refused=tuple((post.key, reason) for post, reason in refused),
        )

    def settle_slugs(self) -> int:
        """Give the posts stored since the last call their slugs for good; return how many
        moved. Within one base, slugs go by the posts' dates, then keys (undated posts
        after dated ones), so the same posts get the same slugs in whatever order their
        sources were stored. Publishing calls this before it reads anything.
        """
        return self._run("cannot settle slugs", settle_slugs, write=True)

    def full_text_pending(self, source: str) -> list[Post]:
        """`source`'s posts whose article is still to fetch, oldest first."""
        query = (
            sa.select(posts)
            .where(wants_article, posts.c.source == source)
            .order_by(posts.c.published, posts.c.key)
        )
        return self._run(
            f"cannot read the posts of {source!r} awaiting full text",
            lambda conn: posts_from_rows(conn.execute(query)),
        )

    def mark_full_text(self, keys: Sequence[str], *, pending: bool) -> None:
        """Record that the articles of posts `keys` are still to fetch (or no longer are).

        A post whose article misses again loses one of its FULL_TEXT_TRIES rounds; after
        the last it is no longer pending: a page that never answers in time must not take
        the budget of every round from the posts after it.
        """
        wanted = list(dict.fromkeys(keys))
        if not wanted:
            return
        tries = posts.c.full_text_tries
        value = sa.case((tries > 0, tries - 1), else_=FULL_TEXT_TRIES) if pending else sa.literal(0)

        def work(conn: Connection) -> None:
            for chunk in chunks(wanted):
                conn.execute(
                    sa.update(posts).where(posts.c.key.in_(chunk)).values(full_text_tries=value)
                )

        self._run("cannot mark posts awaiting full text", work, write=True)

    def identities(
        self,
        *,
        keys: Sequence[str] = (),
        links: Sequence[str] = (),
        text_hashes: Sequence[str] = (),
        legacy_keys: Sequence[str] = (),
    ) -> list[StoredIdentity]:
        """Stored posts whose key or identity key is one of `keys`, whose key or legacy key
        is one of `legacy_keys`, or whose canonical link or text hash is one of those given."""

        def work(conn: Connection) -> list[StoredIdentity]:
            return read_identities(conn, keys, links, text_hashes, legacy_keys)

        return self._run("cannot read post identities", work)

    def raw_hashes(self, source: str) -> set[str]:
        """The raw hashes of `source`'s stored posts: entries normalize need not redo."""
        query = sa.select(posts.c.raw_hash).where(posts.c.source == source)
        return self._run(
            f"cannot read the raw hashes of {source!r}",
            lambda conn: {h for h in conn.scalars(query) if h},
        )


# ------------------------------------------------------------------- upsert


@dataclass(slots=True, kw_only=True)
class _Plan:
    """What one batch's upsert writes: rows to insert, to update (a new revision), and to
    touch without a new revision (same content, changed raw bytes, claim or author)."""

    inserts: list[Post] = field(default_factory=list)
    changes: list[dict[str, Any]] = field(default_factory=list)
    rehashed: list[dict[str, Any]] = field(default_factory=list)
    unchanged: int = 0


def _upsert(
    conn: Connection, batch: Sequence[Post], *, now: datetime, reconcile: Reconcile | None
) -> UpsertResult:
    # Two nodes choosing slugs at once would both pick the same free one; two storing one
    # story at once would each miss the other's post.
    serialize(conn, POSTS_LOCK)
    if reconcile is not None:
        stored = read_identities(
            conn,
            [p.key for p in batch],
            [p.canonical_link for p in batch],
            [p.text_hash for p in batch],
            [p.legacy_key for p in batch],
        )
        batch = reconcile(batch, stored)
    by_key = _first_of_each_key(batch)
    plan = _plan(by_key, _stored(conn, list(by_key)), now=now)
    _write_rehashed(conn, plan.rehashed)
    _write_changes(conn, plan.changes)
    _insert_new(conn, plan.inserts, now=now)
    return UpsertResult(
        new=tuple(p.key for p in plan.inserts),
        updated=tuple(c["b_key"] for c in plan.changes),
        unchanged=plan.unchanged,
    )


def _first_of_each_key(batch: Sequence[Post]) -> dict[str, Post]:
    by_key: dict[str, Post] = {}
    for post in batch:
        by_key.setdefault(post.key, post)
    return by_key


def _stored(conn: Connection, keys: Sequence[str]) -> dict[str, Any]:
    """key -> the stored row's columns that decide how a post of that key is written."""
    query = sa.select(
        posts.c.key,
        posts.c.content_hash,
        posts.c.published,
        posts.c.updated,
        posts.c.dated,
        posts.c.raw_hash,
        posts.c.identity_key,
        posts.c.legacy_key,
        posts.c.author,
    )
    stored: dict[str, Any] = {}
    for chunk in chunks(keys):
        for row in conn.execute(query.where(posts.c.key.in_(chunk))):
            stored[row.key] = row
    return stored


def _plan(by_key: dict[str, Post], stored: dict[str, Any], *, now: datetime) -> _Plan:
    plan = _Plan()
    for key, post in by_key.items():
        old = stored.get(key)
        if old is None:
            plan.inserts.append(post)
        elif old.content_hash == post.content_hash:
            plan.unchanged += 1
            rehash = _rehash(key, post, old)
            if rehash is not None:
                plan.rehashed.append(rehash)
        else:
            plan.changes.append(_change(key, post, old, now=now))
    return plan


def _claim(post: Post, old: Any) -> tuple[str, str]:
    """(identity key, legacy key): what the post says it is, else what the row said: a
    post read back from the store (full text) may know neither."""
    return post.identity_key or old.identity_key, post.legacy_key or old.legacy_key


def _rehash(key: str, post: Post, old: Any) -> dict[str, Any] | None:
    """The columns to touch of an unchanged post, or None when none changed."""
    identity_key, legacy_key = _claim(post, old)
    raw = post.raw_hash or old.raw_hash
    if (raw, identity_key, legacy_key, post.author) == (
        old.raw_hash,
        old.identity_key,
        old.legacy_key,
        old.author,
    ):
        return None
    # Same post from changed raw bytes, or claimed by its item: remember them so that they
    # are skipped next time (no new revision: nothing to publish). The author is no part of
    # the content hash (a byline alone is no edit worth a reader's notice, and posts stored
    # before authors were kept would all read as edited): it is kept as it is now, and
    # shows wherever the post is written next.
    return {
        "b_key": key,
        "b_raw_hash": raw,
        "b_identity_key": identity_key,
        "b_legacy_key": legacy_key,
        "b_author": post.author,
    }


def _change(key: str, post: Post, old: Any, *, now: datetime) -> dict[str, Any]:
    """The new revision of a changed post."""
    identity_key, legacy_key = _claim(post, old)
    return {
        "b_key": key,
        "b_title": post.title,
        "b_link": post.link,
        "b_content_html": post.content_html,
        "b_tags": post.tags,
        "b_content_hash": post.content_hash,
        # An edit with no newer date of its own is dated by when we saw it.
        "b_updated": post.updated if post.updated > old.updated else now,
        # An undated post's published is its first-seen time: it never moves.
        "b_published": post.published if post.dated else old.published,
        "b_dated": old.dated or post.dated,
        "b_canonical_link": post.canonical_link,
        "b_text_hash": post.text_hash,
        "b_raw_hash": post.raw_hash,
        "b_identity_key": identity_key,
        "b_legacy_key": legacy_key,
        "b_author": post.author,
    }


def _write_rehashed(conn: Connection, rehashed: list[dict[str, Any]]) -> None:
    if not rehashed:
        return
    conn.execute(
        sa.update(posts)
        .where(posts.c.key == sa.bindparam("b_key"))
        .values(
            raw_hash=sa.bindparam("b_raw_hash"),
            identity_key=sa.bindparam("b_identity_key"),
            legacy_key=sa.bindparam("b_legacy_key"),
            author=sa.bindparam("b_author"),
        ),
        rehashed,
    )


def _write_changes(conn: Connection, changes: list[dict[str, Any]]) -> None:
    if not changes:
        return
    conn.execute(
        sa.update(posts)
        .where(posts.c.key == sa.bindparam("b_key"))
        .values(
            title=sa.bindparam("b_title"),
            link=sa.bindparam("b_link"),
            content_html=sa.bindparam("b_content_html"),
            tags=sa.bindparam("b_tags", type_=Tags),
            content_hash=sa.bindparam("b_content_hash"),
            updated=sa.bindparam("b_updated", type_=UTCDateTime),
            published=sa.bindparam("b_published", type_=UTCDateTime),
            dated=sa.bindparam("b_dated"),
            canonical_link=sa.bindparam("b_canonical_link"),
            text_hash=sa.bindparam("b_text_hash"),
            raw_hash=sa.bindparam("b_raw_hash"),
            identity_key=sa.bindparam("b_identity_key"),
            legacy_key=sa.bindparam("b_legacy_key"),
            author=sa.bindparam("b_author"),
            revision=posts.c.revision + 1,
        ),
        changes,
    )


def _insert_new(conn: Connection, inserts: list[Post], *, now: datetime) -> None:
    """Insert new posts under unique slugs, each unsettled until the next publish."""
    if not inserts:
        return
    slugs = unique_slugs(conn, [p.slug or "post" for p in inserts])
    sql, names, to_db = _post_insert(conn.dialect)
    rows = [new_post_row(p, slug=slug, now=now) for p, slug in zip(inserts, slugs, strict=True)]
    for name, process in to_db:
        for values in rows:
            values[name] = process(values[name])
    if names is not None:  # a positional paramstyle (SQLite's "?")
        conn.exec_driver_sql(sql, [tuple(values[n] for n in names) for values in rows])
    else:
        conn.exec_driver_sql(sql, rows)
    # Settled when next published, in an order that does not depend on which source's
    # batch came first (Store.settle_slugs).
    conn.execute(
        unsettled.insert(),
        [
            {
                "key": p.key,
                "slug": slug,
                "base": p.slug or "post",
                "published": p.published,
                "dated": p.dated,
            }
            for p, slug in zip(inserts, slugs, strict=True)
        ],
    )


# SQL, parameter order (positional paramstyles), per-column value conversions.
_Insert = tuple[str, tuple[str, ...] | None, list[tuple[str, Callable[[Any], Any]]]]
_INSERTS: dict[str, _Insert] = {}


def _post_insert(dialect: Dialect) -> _Insert:
    """The INSERT of a whole posts row as the driver takes it, compiled once per dialect:
    (SQL, parameter order for a positional paramstyle or None, the columns' own value
    conversions). New posts arrive by the thousand in a cold round, and SQLAlchemy's
    per-row work for a compiled statement costs more than SQLite's own insert."""
    cached = _INSERTS.get(dialect.name)
    if cached is None:
        names = [c.name for c in posts.columns]
        compiled = posts.insert().compile(dialect=dialect, column_keys=names)
        to_db: list[tuple[str, Callable[[Any], Any]]] = []
        for column in posts.columns:
            process = column.type.dialect_impl(dialect).bind_processor(dialect)
            if process is not None:
                to_db.append((column.name, process))
        order = (
            tuple(compiled.positiontup) if compiled.positional and compiled.positiontup else None
        )
        cached = _INSERTS[dialect.name] = (compiled.string, order, to_db)
    return cached
