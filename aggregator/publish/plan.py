"""Publish stage, plan: what one publish must write, decided from what the store says.

Which posts are written (and which are fresh), which categories' feeds and pages, which
of their numbered pages and archives, which tag feeds; and how far a change of what shapes
the site (fingerprint.py says which outputs) widens it. Pure: no I/O, no clock; it must
NOT read the store (the publisher hands it what it read) or render or write anything.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

from aggregator.publish.fingerprint import EVERYTHING, Output
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

    # Outputs rewritten whole, for every post, category and tag (EVERYTHING: a full publish).
    rewrite: frozenset[Output]
    # (key, revision) of what the store holds pending: marked published once all is written
    marks: tuple[tuple[str, int], ...]
    fresh: frozenset[str]  # keys of posts never published: their files cannot exist yet
    pending: tuple[Post, ...]  # the posts to write (empty when full: they are streamed)
    categories: tuple[str, ...]  # slugs whose feed and pages are written, sorted
    rebuilt: frozenset[str]  # slugs whose every page and archive is rewritten
    # Tags whose feeds are written; None: every tag's, and the feeds of other tags go.
    tags: frozenset[str] | None

    @property
    def full(self) -> bool:
        """Whether everything is rewritten."""
        return self.rewrite >= EVERYTHING

    @property
    def every_post(self) -> bool:
        """Whether every post is written (streamed from the store), not the pending alone."""
        return bool(self.rewrite & {"post_files", "post_pages"})

    def changed(self, slug: str) -> list[Post]:
        """The pending posts of category `slug`."""
        return [p for p in self.pending if p.category == slug]

    def rebuild(self, slug: str) -> bool:
        """Whether every list page of `slug` is rewritten."""
        return "lists" in self.rewrite or slug in self.rebuilt

    def rebuild_archives(self, slug: str) -> bool:
        """Whether every archive document of `slug` is rewritten."""
        return "archives" in self.rewrite or slug in self.rebuilt


def full_plan(
    marks: Sequence[tuple[str, int]],
    categories: Iterable[str],
    expired: Sequence[ListedPost],
    *,
    rewrite: frozenset[Output] = EVERYTHING,
) -> Plan:
    """Every post streamed, and the `rewrite` outputs of everything: `marks` as the store's
    pending revisions, `categories` every slug the config or the store knows."""
    return Plan(
        rewrite=rewrite,
        marks=tuple(marks),
        # Revision 1 and pending: never published (a later revision may have been).
        fresh=frozenset(key for key, revision in marks if revision == 1),
        pending=(),
        categories=tuple(sorted(set(categories))),
        rebuilt=frozenset(e.category for e in expired),
        tags=None,
    )


def incremental_plan(
    pending: Sequence[Post],
    expired: Sequence[ListedPost],
    *,
    rewrite: frozenset[Output] = frozenset(),
    categories: Iterable[str] = (),
) -> Plan | None:
    """What `pending` posts and the `expired` ones change, and the `rewrite` outputs (no
    post's) of every one of `categories`; None: nothing changes."""
    if not pending and not expired and not rewrite:
        return None
    assert not rewrite & {"post_files", "post_pages"}, "every post is written by full_plan"
    touched = {p.category for p in pending} | {e.category for e in expired}
    return Plan(
        rewrite=rewrite,
        marks=tuple((p.key, p.revision) for p in pending),
        fresh=frozenset(p.key for p in pending if p.revision == 1),
        pending=tuple(pending),
        categories=tuple(sorted(touched | set(categories) if rewrite else touched)),
        # Expiry re-cuts the arrival order: every page moves.
        rebuilt=frozenset(e.category for e in expired),
        tags=(
            None if expired or "feeds" in rewrite else frozenset(t for p in pending for t in p.tags)
        ),
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
