"""The store's publishing methods: what a publish reads, and the marks it writes back
(revisions published, old posts deleted, the base its ids are made from, the categories'
titles); and the counts that status and metrics read.

Every read for publishing leaves out posts whose slugs are not settled yet: a page or
feed never links a slug that may still move. Must not write a post's content or slug.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from aggregator.store.rows import LISTED, listed_from_row, post_from_row, posts_from_rows
from aggregator.store.schema import is_pending, posts, settled, site
from aggregator.store.transactions import CHUNK, Transactions, chunks, insert_of
from aggregator.types import ListedPost, Post

__all__ = ["CountMethods", "ReadMethods"]


class ReadMethods(Transactions):
    """What a publish reads and marks (see api.PublishReads)."""

    def pending(self) -> list[Post]:
        """Posts new or changed since they were last published, oldest first.

        Posts whose slugs are not settled yet (stored after the publish's settle_slugs,
        by a round still running) wait for the next publish: written now under a slug
        that may still move, their files would be left behind when it does.
        """
        query = sa.select(posts).where(is_pending, settled).order_by(posts.c.published, posts.c.key)
        return self._run(
            "cannot read pending posts",
            lambda conn: posts_from_rows(conn.execute(query)),
        )

    def pending_revisions(self) -> list[tuple[str, int]]:
        """(key, revision) of every post new or changed since last published; no content."""
        query = sa.select(posts.c.key, posts.c.revision).where(is_pending, settled)
        return self._run(
            "cannot read pending posts",
            lambda conn: [(row.key, int(row.revision)) for row in conn.execute(query)],
        )

    def mark_published(self, keys_and_revisions: Sequence[tuple[str, int]]) -> None:
        """Record that each (key, revision) was published.

        A post whose revision moved on meanwhile (changed during the publish) stays pending.
        """
        if not keys_and_revisions:
            return
        statement = (
            sa.update(posts)
            .where(posts.c.key == sa.bindparam("b_key"))
            .where(posts.c.revision == sa.bindparam("b_revision"))
            .values(published_revision=sa.bindparam("b_revision"))
        )
        params = [{"b_key": k, "b_revision": r} for k, r in keys_and_revisions]
        self._run(
            "cannot mark posts published",
            lambda conn: conn.execute(statement, params),
            write=True,
        )

    def recent_posts(self, *, category: str | None = None, limit: int | None = None) -> list[Post]:
        """Posts newest first (published descending, then key), of one category or all.

        Like every read for publishing, it leaves out posts whose slugs are not settled
        yet (see pending): a page or feed never links a slug that may still move.
        """
        query = sa.select(posts).where(settled).order_by(posts.c.published.desc(), posts.c.key)
        if category is not None:
            query = query.where(posts.c.category == category)
        if limit is not None:
            query = query.limit(limit)
        return self._run("cannot read posts", lambda conn: posts_from_rows(conn.execute(query)))

    def iter_posts(self, *, batch: int = CHUNK) -> Iterator[list[Post]]:
        """Every post whose slug is settled, `batch` at a time (by key), so a full rebuild
        holds one batch at once."""
        last: str | None = None
        while True:
            query = sa.select(posts).where(settled).order_by(posts.c.key).limit(batch)
            if last is not None:
                query = query.where(posts.c.key > last)

            def work(conn: Connection, query: Any = query) -> list[Post]:
                return posts_from_rows(conn.execute(query))

            rows = self._run("cannot read posts", work)
            if not rows:
                return
            yield rows
            last = rows[-1].key

    def get_post(self, key: str) -> Post | None:
        """The post stored under `key`, or None."""

        def work(conn: Connection) -> Post | None:
            row = conn.execute(sa.select(posts).where(posts.c.key == key)).first()
            return None if row is None else post_from_row(row)

        return self._run(f"cannot read post {key!r}", work)

    def get_posts(self, keys: Sequence[str]) -> list[Post]:
        """The posts stored under `keys` (missing ones left out), in the order of `keys`."""

        def work(conn: Connection) -> list[Post]:
            found: dict[str, Post] = {}
            for chunk in chunks(list(keys)):
                for row in conn.execute(sa.select(posts).where(posts.c.key.in_(chunk))):
                    found[row.key] = post_from_row(row)
            return [found[k] for k in keys if k in found]

        return self._run("cannot read posts", work)

    def listed_posts(self, category: str, *, offset: int, limit: int) -> list[ListedPost]:
        """One category's posts in arrival order (first seen, then key), without content.

        Arrival order only ever grows at its end, so pages cut from it stay put.
        """
        query = (
            sa.select(*LISTED)
            .where(posts.c.category == category, settled)
            .order_by(posts.c.first_seen, posts.c.key)
            .offset(offset)
            .limit(limit)
        )
        return self._run(
            "cannot read posts",
            # Pages list posts that are published, or being published now.
            lambda conn: [listed_from_row(r, ever_published=True) for r in conn.execute(query)],
        )

    def arrival_positions(self, keys: Sequence[str]) -> dict[str, int]:
        """Each post's 0-based index in its category's arrival order (see listed_posts)."""
        wanted = list(dict.fromkeys(keys))

        def work(conn: Connection) -> dict[str, int]:
            categories: set[str] = set()
            for chunk in chunks(wanted):
                query = sa.select(posts.c.category).where(posts.c.key.in_(chunk)).distinct()
                categories.update(conn.scalars(query))
            if not categories:
                return {}
            # One numbering pass over the categories concerned, not one count per key: a
            # cold round brings thousands of new keys, and a count per key is quadratic.
            position = sa.func.row_number().over(
                partition_by=posts.c.category, order_by=(posts.c.first_seen, posts.c.key)
            )
            numbered = (
                sa.select(posts.c.key, (position - 1).label("position"))
                .where(posts.c.category.in_(sorted(categories)), settled)
                .subquery()
            )
            result: dict[str, int] = {}
            for chunk in chunks(wanted):
                query = sa.select(numbered.c.key, numbered.c.position).where(
                    numbered.c.key.in_(chunk)
                )
                result.update({row.key: int(row.position) for row in conn.execute(query)})
            return result

        return self._run("cannot read post positions", work)

    def categories(self) -> list[str]:
        """Category slugs that have at least one post, sorted."""
        query = sa.select(posts.c.category).distinct()
        return self._run("cannot read categories", lambda conn: sorted(conn.scalars(query)))

    def tags(self) -> list[str]:
        """Every tag some post carries, sorted."""

        def work(conn: Connection) -> list[str]:
            found: set[str] = set()
            for row in conn.execute(sa.select(posts.c.tags).distinct()):
                found.update(row.tags)
            return sorted(found)

        return self._run("cannot read tags", work)

    def posts_with_tags(self, tags: Sequence[str], *, limit: int) -> list[Post]:
        """The newest `limit` posts carrying any of `tags` (published descending, then key)."""
        if not tags:
            return []
        # `tags` is JSON text: match the quoted, escaped string as it is stored.
        patterns = [json.dumps(t, ensure_ascii=False) for t in tags]
        as_text = sa.type_coerce(posts.c.tags, sa.Text)
        query = (
            sa.select(posts)
            .where(sa.or_(*(as_text.contains(p, autoescape=True) for p in patterns)), settled)
            .order_by(posts.c.published.desc(), posts.c.key)
        )

        def work(conn: Connection) -> list[Post]:
            # LIKE can also match inside another tag's text (a tag holding a quote): check.
            wanted = set(tags)
            result: list[Post] = []
            for row in conn.execute(query):
                post = post_from_row(row)
                if wanted.intersection(post.tags):
                    result.append(post)
                    if len(result) >= limit:
                        break
            return result

        return self._run("cannot read posts by tag", work)

    def delete_posts_published_before(self, cutoff: datetime) -> list[ListedPost]:
        """Delete every post published before `cutoff`; return what was deleted."""

        def work(conn: Connection) -> list[ListedPost]:
            old = posts.c.published < cutoff
            gone = [
                listed_from_row(r)
                for r in conn.execute(sa.select(*LISTED, posts.c.published_revision).where(old))
            ]
            if gone:
                conn.execute(sa.delete(posts).where(old))
            return gone

        return self._run("cannot delete old posts", work, write=True)

    def id_base(self, base_url: str) -> str:
        """The base URL the site's atom:ids are made from: the one kept at the first
        publish, else `base_url`, kept from now on (RFC 4287 §4.2.6: an id never changes,
        not when the site moves)."""
        keep = (
            insert_of(self._engine.dialect.name, site)
            .values(key="id_base", value=base_url)
            .on_conflict_do_nothing()
        )
        kept = sa.select(site.c.value).where(site.c.key == "id_base")

        def work(conn: Connection) -> str:
            conn.execute(keep)
            return str(conn.scalar(kept))

        return self._run("cannot read the site's id base", work, write=True)

    def category_titles(self, titles: Mapping[str, str]) -> dict[str, str]:
        """Keep `titles` (slug -> title, the config's now) and return every title kept: a
        category gone from the config keeps the title it last had while its posts stay."""
        statement = insert_of(self._engine.dialect.name, site)
        upsert = statement.on_conflict_do_update(
            index_elements=[site.c.key], set_={"value": statement.excluded.value}
        )
        query = sa.select(site.c.key, site.c.value).where(site.c.key.startswith(_TITLE))

        def read(conn: Connection) -> dict[str, str]:
            return {str(r.key)[len(_TITLE) :]: str(r.value) for r in conn.execute(query)}

        kept = self._run("cannot read the categories' titles", read)
        # Written only when one moved: most publishes change no title, and take no write lock.
        rows = [
            {"key": _TITLE + slug, "value": title}
            for slug, title in titles.items()
            if kept.get(slug) != title
        ]
        if rows:
            self._run(
                "cannot keep the categories' titles",
                lambda conn: conn.execute(upsert, rows),
                write=True,
            )
        return kept | dict(titles)


_TITLE = "category_title:"  # the site table's keys of category titles


class CountMethods(Transactions):
    """Counts of posts, for status, metrics and publish progress (see api.Metrics)."""

    def post_counts(self) -> dict[str, int]:
        """Number of stored posts by source name (sources without posts are absent)."""
        query = sa.select(posts.c.source, sa.func.count().label("posts")).group_by(posts.c.source)
        return self._run(
            "cannot count posts",
            lambda conn: {row.source: row.posts for row in conn.execute(query)},
        )

    def publish_counts(self) -> tuple[int, int]:
        """(posts published at least once, posts new or changed since last published)."""
        query = sa.select(
            sa.func.count().filter(posts.c.published_revision > 0).label("published"),
            sa.func.count().filter(is_pending).label("pending"),
        )

        def work(conn: Connection) -> tuple[int, int]:
            row = conn.execute(query).one()
            return int(row.published or 0), int(row.pending or 0)

        return self._run("cannot count posts", work)

    def count_posts(self, category: str | None = None) -> int:
        """Number of posts (settled, as recent_posts), of one category or all."""
        query = sa.select(sa.func.count()).select_from(posts).where(settled)
        if category is not None:
            query = query.where(posts.c.category == category)
        return self._run("cannot count posts", lambda conn: int(conn.scalar(query) or 0))

    def count_pending(self) -> int:
        """Number of posts new or changed since they were last published (as `pending`)."""
        query = sa.select(sa.func.count()).select_from(posts).where(is_pending, settled)
        return self._run("cannot count pending posts", lambda conn: int(conn.scalar(query) or 0))
