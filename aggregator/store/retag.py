"""The store's retagging: a post's tags follow its source's tags in the config (by default
its category's title), so that renaming a category or editing a source's `tags` reaches
the posts already stored. Must not change a post's text, link, dates or slug; it leaves
the hashes to the caller's `rehash` (normalize's, which the store must not import).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from aggregator.store.rows import post_from_row
from aggregator.store.schema import posts
from aggregator.store.transactions import Transactions
from aggregator.types import Post

__all__ = ["RetagMethods"]


class RetagMethods(Transactions):
    """Tags that follow the config (see api.PublishReads.retag)."""

    def retag(self, tags: Mapping[str, tuple[str, ...]], rehash: Callable[[Post], Post]) -> int:
        """Give the posts of each source in `tags` that source's tags, each changed one as
        a new revision (pending: the next publish writes it, its `updated` untouched: no
        edit of the story). `rehash` gives a post the hashes of its new tags. Posts of
        sources not in `tags` (removed from the config) keep theirs. How many changed."""
        statement = (
            sa.update(posts)
            .where(posts.c.key == sa.bindparam("b_key"))
            .values(
                tags=sa.bindparam("b_tags"),
                content_hash=sa.bindparam("b_content_hash"),
                text_hash=sa.bindparam("b_text_hash"),
                revision=posts.c.revision + 1,
            )
        )

        def work(conn: Connection) -> int:
            changes: list[dict[str, Any]] = []
            for source, wanted in tags.items():
                query = sa.select(posts).where(posts.c.source == source)
                for row in conn.execute(query):
                    if tuple(row.tags) == tuple(wanted):
                        continue
                    post = rehash(replace(post_from_row(row), tags=tuple(wanted)))
                    changes.append(
                        {
                            "b_key": post.key,
                            "b_tags": post.tags,
                            "b_content_hash": post.content_hash,
                            "b_text_hash": post.text_hash,
                        }
                    )
            if changes:
                conn.execute(statement, changes)
            return len(changes)

        return self._run("cannot retag posts", work, write=True)
