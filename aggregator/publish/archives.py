"""Publish stage, archives: a category's RFC 5005 archived feeds and the entries its
subscription document must add so that subscription + archives hold every post (§4).

Archive `n` holds arrivals (n-1)*feed_size+1 .. n*feed_size; once written it never
changes, unless retention re-cuts the arrival order (a rebuild). Written in the site's
formats that have archives (Atom: RFC 5005 is Atom's; RSS and JSON Feed have none).
Must NOT render a format itself (feeds.py does) or make a path (the sitemap does).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from aggregator.publish.feeds import Feeds
from aggregator.publish.pages import PAGE_SIZE
from aggregator.publish.sitemap import Sitemap
from aggregator.store.api import PublishReads
from aggregator.types import Category, Post, Site, SourceState

__all__ = ["Archives"]


class Archives:
    """The archive documents of one publish's categories."""

    def __init__(
        self,
        site: Site,
        sitemap: Sitemap,
        store: PublishReads,
        feeds: Feeds,
        *,
        out: Path,
        prune: Callable[[Path, str, int], None],
    ) -> None:
        self.site = site
        self.sitemap = sitemap
        self.store = store
        self._feeds = feeds
        self._out = out
        self._prune = prune

    def write(
        self,
        category: Category,
        archived: int,
        sources: Mapping[str, SourceState],
        *,
        rebuild: bool,
    ) -> None:
        """Archives 1..`archived` of `category`: all with `rebuild`, else the missing ones.

        Raises:
            PublishError: a file could not be written or removed.
        """
        slug = category.slug
        size = self.site.feed_size
        sitemap = self.sitemap
        folder = self._out / sitemap.archives_folder(slug)
        formats = self._feeds.archive_formats
        if rebuild:
            for fmt in formats:
                self._prune(folder, fmt.extension.lstrip("."), archived)
        for number in range(1, archived + 1):
            written = (self._out / sitemap.archive(slug, number, f.extension) for f in formats)
            if not rebuild and all(path.exists() for path in written):
                continue  # archive documents are immutable once written
            listed = self.store.listed_posts(slug, offset=(number - 1) * size, limit=size)
            posts = self.store.get_posts([p.key for p in reversed(listed)])
            page = sitemap.category_page(slug, (number - 1) * size // PAGE_SIZE + 1)
            self._feeds.archive(category, number, page, posts, sources)

    def remove_all(self, slug: str) -> None:
        """Remove every archive document of `slug` (the site keeps none any more).

        Raises:
            PublishError: one cannot be removed.
        """
        folder = self._out / self.sitemap.archives_folder(slug)
        for fmt in self._feeds.archive_formats:
            self._prune(folder, fmt.extension.lstrip("."), 0)

    def completed(self, slug: str, posts: Sequence[Post], archived: int) -> list[Post]:
        """`posts` (the newest by date) with the arrivals not archived yet that are not
        among them, newest first: what the subscription document holds (RFC 5005 §4)."""
        size = self.site.feed_size
        have = {p.key for p in posts}
        tail = self.store.listed_posts(slug, offset=archived * size, limit=size)
        extra = self.store.get_posts([p.key for p in tail if p.key not in have])
        return sorted([*posts, *extra], key=lambda p: (-p.published.timestamp(), p.key))
