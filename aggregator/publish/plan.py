"""Publish stage, plan: what one publish must write, decided from what the store says.

Which posts are written (and which are fresh), which categories' feeds and pages, which
of their numbered pages and archives, which tag feeds. Pure: no I/O, no clock; it must
NOT read the store (the publisher hands it what it read) or render or write anything.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

from aggregator.publish.pages import PAGE_SIZE
from aggregator.types import ListedPost, Post

__all__ = [
    "Plan",
    "archive_count",
    "full_plan",
    "incremental_plan",
    "page_count",
    "pages_touched",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """What one publish writes."""

    full: bool  # every post, every page of every category
    # (key, revision) of what the store holds pending: marked published once all is written
    marks: tuple[tuple[str, int], ...]
    fresh: frozenset[str]  # keys of posts never published: their files cannot exist yet
    pending: tuple[Post, ...]  # the posts to write (empty when full: they are streamed)
    categories: tuple[str, ...]  # slugs whose feed and pages are written, sorted
    rebuilt: frozenset[str]  # slugs whose every page and archive is rewritten
    # Tags whose feeds are written; None: every tag's, and the feeds of other tags go.
    tags: frozenset[str] | None

    def changed(self, slug: str) -> list[Post]:
        """The pending posts of category `slug`."""
        return [p for p in self.pending if p.category == slug]

    def rebuild(self, slug: str) -> bool:
        """Whether every page and archive of `slug` is rewritten."""
        return self.full or slug in self.rebuilt


def full_plan(
    marks: Sequence[tuple[str, int]],
    categories: Iterable[str],
    expired: Sequence[ListedPost],
) -> Plan:
    """Everything: `marks` as the store's pending revisions, `categories` every slug the
    config or the store knows."""
    return Plan(
        full=True,
        marks=tuple(marks),
        # Revision 1 and pending: never published (a later revision may have been).
        fresh=frozenset(key for key, revision in marks if revision == 1),
        pending=(),
        categories=tuple(sorted(set(categories))),
        rebuilt=frozenset(e.category for e in expired),
        tags=None,
    )


def incremental_plan(pending: Sequence[Post], expired: Sequence[ListedPost]) -> Plan | None:
    """What `pending` posts and the `expired` ones change; None: nothing does."""
    if not pending and not expired:
        return None
    return Plan(
        full=False,
        marks=tuple((p.key, p.revision) for p in pending),
        fresh=frozenset(p.key for p in pending if p.revision == 1),
        pending=tuple(pending),
        categories=tuple(sorted({p.category for p in pending} | {e.category for e in expired})),
        # Expiry re-cuts the arrival order: every page moves.
        rebuilt=frozenset(e.category for e in expired),
        tags=None if expired else frozenset(t for p in pending for t in p.tags),
    )


def page_count(total: int) -> int:
    """How many numbered list pages `total` posts fill."""
    return -(-total // PAGE_SIZE)


def pages_touched(positions: Collection[int], pages: int) -> list[int]:
    """The numbered pages that posts at arrival `positions` (0-based) change, of `pages`."""
    numbers = {n // PAGE_SIZE + 1 for n in positions}
    # A post that opens a new page moves the "newer" link of the page before.
    wanted = numbers | {min(numbers) - 1} if numbers else set()
    return sorted(n for n in wanted if 1 <= n <= pages)


def archive_count(total: int, feed_size: int, *, archives: bool) -> int:
    """How many RFC 5005 archive documents a category of `total` posts has: every full
    run of `feed_size` in arrival order (none when the site keeps no archives)."""
    return total // feed_size if archives else 0
