"""Publish stage, categories: everything one category writes, from the store's reads:
its numbered list pages (all of them, or those that changed posts touch), its newest
page, its subscription feed and its archives.

Reads the store and hands the posts on: the pages, feeds and archives modules render and
write, plan.py's rules say which pages and how many archives. Must NOT render or make a
path itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from aggregator.publish.archives import Archives
from aggregator.publish.feeds import Feeds
from aggregator.publish.files import prune_numbered
from aggregator.publish.pages import PAGE_SIZE, Pages
from aggregator.publish.plan import archive_count, page_count, pages_touched
from aggregator.publish.report import PublishReport
from aggregator.publish.sitemap import Sitemap
from aggregator.store.api import PublishReads
from aggregator.types import Category, Post, Site, SourceState

__all__ = ["Categories"]

# Numbered pages cut from one read of a category when rebuilding: each read sorts the
# whole category, and 10,000 listed posts hold ~5 MB.
_PAGES_PER_READ = 200


class Categories:
    """Writes the outputs of one publish's categories."""

    def __init__(
        self,
        site: Site,
        sitemap: Sitemap,
        store: PublishReads,
        *,
        pages: Pages,
        feeds: Feeds,
        out: Path,
        report: PublishReport,
    ) -> None:
        self.site = site
        self.sitemap = sitemap
        self.store = store
        self._pages = pages
        self._feeds = feeds
        self._out = out
        self._report = report
        self._archives = Archives(
            site,
            sitemap,
            store,
            feeds,
            out=out,
            prune=lambda folder, suffix, keep: prune_numbered(folder, suffix, keep, report),
        )

    def write(
        self,
        category: Category,
        sources: Mapping[str, SourceState],
        *,
        changed: Sequence[Post] = (),
        rebuild: bool = False,
        rebuild_archives: bool | None = None,
    ) -> None:
        """A category's feed, archives and pages: every page with `rebuild`, every archive
        with `rebuild_archives` (default: `rebuild`), else only those that `changed` posts
        can alter.

        Raises:
            PublishError: a file could not be written or removed.
        """
        slug = category.slug
        total = self.store.count_posts(slug)
        if rebuild:
            self._write_every_page(category, total)
        else:
            pages = page_count(total)
            positions = self.store.arrival_positions([p.key for p in changed])
            for number in pages_touched(positions.values(), pages):
                offset = (number - 1) * PAGE_SIZE
                listed = self.store.listed_posts(slug, offset=offset, limit=PAGE_SIZE)
                self._pages.write_numbered(category, number, pages, listed)

        feed_size = self.site.feed_size
        posts = self.store.recent_posts(category=slug, limit=feed_size)
        archived = archive_count(total, feed_size, archives=self.site.archives)
        if rebuild_archives is None:
            rebuild_archives = rebuild
        if self.site.archives:
            self._archives.write(category, archived, sources, rebuild=rebuild_archives)
            posts = self._archives.completed(slug, posts, archived)
        elif rebuild_archives:
            self._archives.remove_all(slug)  # archives were turned off
        self._feeds.category(category, posts, archived, sources)
        newest = self.store.recent_posts(category=slug, limit=PAGE_SIZE)
        self._pages.write_newest(category, newest, total)

    def _write_every_page(self, category: Category, total: int) -> None:
        slug = category.slug
        pages = page_count(total)
        folder = self._out / self.sitemap.category_pages_folder(slug)
        prune_numbered(folder, "html", pages, self._report)
        # Every page: read the arrival order in long runs, not one OFFSET query a page.
        run = PAGE_SIZE * _PAGES_PER_READ
        for start in range(0, total, run):
            listed = self.store.listed_posts(slug, offset=start, limit=run)
            for first in range(0, len(listed), PAGE_SIZE):
                number = (start + first) // PAGE_SIZE + 1
                page = listed[first : first + PAGE_SIZE]
                self._pages.write_numbered(category, number, pages, page)
