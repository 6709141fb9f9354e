"""Slugs: a unique one for each new post, and settling them once a publish begins.

A new post's slug is unique across the store when stored, and may still move among the
posts of its base until settled (by date, then key: the same posts get the same slugs in
whatever order their sources were stored). Must not change a settled slug, nor any
column of a post but its slug.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Final

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from aggregator.store.lock import POSTS_LOCK, serialize
from aggregator.store.schema import posts, unsettled
from aggregator.store.transactions import chunks

__all__ = ["settle_slugs", "unique_slugs"]

_NO_DATE: Final = datetime(1970, 1, 1, tzinfo=UTC)


def _starts_with(conn: Connection, prefix: str) -> sa.ColumnElement[bool]:
    """Slugs beginning with `prefix` (ASCII, as every slug). On SQLite as a range of the
    slug index: its LIKE is case-insensitive and so reads every row, bodies and all
    (thousands of same-title posts took seconds each round)."""
    if conn.dialect.name == "sqlite":
        after = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        return sa.and_(posts.c.slug >= prefix, posts.c.slug < after)
    return posts.c.slug.startswith(prefix, autoescape=True)


def unique_slugs(
    conn: Connection, bases: Sequence[str], *, free: frozenset[str] = frozenset()
) -> list[str]:
    """One slug per base, unique among the stored slugs and each other: base, base-2, …

    `free`: stored slugs that may be given again (the rows holding them take new ones).
    Linear in len(bases): per base, the highest suffix in use is read once and counted up
    from, not probed from -2 for every post of the same title.
    """
    unique = list(dict.fromkeys(bases))
    taken: set[str] = set()
    for chunk in chunks(unique):  # one indexed lookup for the common case: no clash
        taken.update(conn.scalars(sa.select(posts.c.slug).where(posts.c.slug.in_(chunk))))
    taken -= free
    following: dict[str, int] = {}  # base -> the next suffix to try

    def next_suffix(base: str) -> int:
        n = following.get(base)
        if n is None:
            # Every stored base-…: base-N for the counter, the rest (base-N-M, another
            # title's slug) so that a candidate is never one of them.
            highest = 1
            query = sa.select(posts.c.slug).where(_starts_with(conn, f"{base}-"))
            for slug in conn.scalars(query):
                if slug in free:
                    continue
                taken.add(slug)
                suffix = slug[len(base) + 1 :]
                if suffix.isascii() and suffix.isdigit():
                    highest = max(highest, int(suffix))
            n = highest + 1
        return n

    result = []
    for base in bases:
        slug = base
        if slug in taken:
            n = next_suffix(base)
            slug = f"{base}-{n}"
            while slug in taken:  # another title's slug: at most once per slug taken
                n += 1
                slug = f"{base}-{n}"
            following[base] = n + 1
        taken.add(slug)
        result.append(slug)
    return result


def settle_slugs(conn: Connection) -> int:
    """Settle every unsettled slug (see Store.settle_slugs); return how many moved."""
    serialize(conn, POSTS_LOCK)
    query = sa.select(
        unsettled.c.key,
        unsettled.c.slug,
        unsettled.c.base,
        unsettled.c.published,
        unsettled.c.dated,
    )
    rows = list(conn.execute(query))
    if not rows:
        return 0
    # Dated posts by their date, then undated ones (whose date is only when they were
    # seen), then by key: the same posts get the same slugs whatever order they came in.
    rows.sort(key=lambda r: (not r.dated, r.published if r.dated else _NO_DATE, r.key))
    slugs = unique_slugs(conn, [r.base for r in rows], free=frozenset(r.slug for r in rows))
    moved = [(r.key, slug) for r, slug in zip(rows, slugs, strict=True) if slug != r.slug]
    if moved:
        # Through a placeholder: a slug may pass from one of these rows to another, and the
        # unique constraint is checked row by row. "~" is in no slug.
        step = (
            sa.update(posts)
            .where(posts.c.key == sa.bindparam("b_key"))
            .values(slug=sa.bindparam("b_slug"))
        )
        conn.execute(step, [{"b_key": k, "b_slug": f"~{k}"} for k, _ in moved])
        conn.execute(step, [{"b_key": k, "b_slug": slug} for k, slug in moved])
    settled = [r.key for r in rows]
    for chunk in chunks(settled):
        conn.execute(sa.delete(unsettled).where(unsettled.c.key.in_(chunk)))
    return len(moved)
