"""Publish stage, feeds: the formats the site writes, and the site's feed documents
(combined, category, archive, tag) in every format.

A format (format.py says what one must provide) renders one document from posts (newest
first) and what the document says about itself (FeedMeta, made here from the sitemap's
URLs). Must NOT read the store (the publisher hands the posts in), make a path or URL
itself, or write a file but through the writer it is given (it lists the files of formats
no longer published; the publisher removes them). The formats: Atom (atom.py),
RSS 2.0 (rss.py) and JSON Feed 1.1 (jsonfeed.py); a site writes those `site.formats` names.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from aggregator.publish.atom import ATOM
from aggregator.publish.files import WriteFile
from aggregator.publish.format import FeedFormat, FeedMeta, FeedSite
from aggregator.publish.jsonfeed import JSON_FEED
from aggregator.publish.rss import RSS
from aggregator.publish.sitemap import Sitemap
from aggregator.types import Category, Post, Site, SourceState

__all__ = ["FORMATS", "FeedFormat", "FeedMeta", "FeedSite", "Feeds", "formats_of"]


FORMATS: tuple[FeedFormat, ...] = (ATOM, RSS, JSON_FEED)  # one for each of FEED_FORMATS


def formats_of(site: Site) -> tuple[FeedFormat, ...]:
    """The formats `site` publishes, in the order `site.formats` names them."""
    by_name = {f.name: f for f in FORMATS}
    return tuple(by_name[name] for name in site.formats)


class Feeds:
    """Writes the site's feed documents, each in every format the site publishes."""

    def __init__(
        self,
        site: Site,
        sitemap: Sitemap,
        *,
        hub: str | None,
        category: Callable[[str], Category],
        write: WriteFile,
    ) -> None:
        self.site = site
        self.sitemap = sitemap
        self.hub = hub
        self._category = category
        self._write = write
        self.formats = formats_of(site)

    def unpublished(self, out: Path) -> list[Path]:
        """The feed files under `out` of every format the site does not publish (any more):
        what a publish that rewrites the feeds removes."""
        found: list[Path] = []
        for fmt in FORMATS:
            if fmt not in self.formats:
                for pattern in self.sitemap.feed_patterns(fmt.extension):
                    found += sorted(p for p in out.glob(pattern) if p.is_file())
        return found

    @property
    def archive_formats(self) -> tuple[FeedFormat, ...]:
        """The site's formats that have RFC 5005 archive documents (Atom)."""
        return tuple(f for f in self.formats if f.archives)

    def render(
        self,
        posts: Sequence[Post],
        meta: FeedMeta,
        sources: Mapping[str, SourceState],
        fmt: FeedFormat = ATOM,
    ) -> bytes:
        """The document of `posts` (newest first) in `fmt`."""
        site = FeedSite(
            sitemap=self.sitemap,
            language=self.site.language,
            category=self._category,
            sources=sources,
        )
        return fmt.render(posts, meta, site)

    def combined(self, posts: Sequence[Post], sources: Mapping[str, SourceState]) -> None:
        """The feed of every category."""
        url = self.sitemap.url
        for fmt in self.formats:
            path = self.sitemap.combined_feed(fmt.extension)
            meta = FeedMeta(
                url=url(path),
                id=self.sitemap.feed_id(path),
                page_url=self.sitemap.base,
                title=self.site.title,
                hub=self.hub,
            )
            self._write(path, self.render(posts, meta, sources, fmt))

    def category(
        self,
        category: Category,
        posts: Sequence[Post],
        archived: int,
        sources: Mapping[str, SourceState],
    ) -> None:
        """A category's subscription feed; `archived`: how many archives precede it."""
        sitemap, slug = self.sitemap, category.slug
        for fmt in self.formats:
            path = sitemap.category_feed(slug, fmt.extension)
            previous = (
                sitemap.archive(slug, archived, fmt.extension)
                if archived and fmt.archives
                else None
            )
            meta = FeedMeta(
                url=sitemap.url(path),
                id=sitemap.feed_id(path),
                page_url=sitemap.url(sitemap.category_page(slug)),
                title=f"{category.title} · {self.site.title}",
                hub=self.hub,
                prev_archive=sitemap.url(previous) if previous else None,
            )
            self._write(path, self.render(posts, meta, sources, fmt))

    def archive(
        self,
        category: Category,
        number: int,
        page: str,
        posts: Sequence[Post],
        sources: Mapping[str, SourceState],
    ) -> None:
        """Archive document `number` of `category` (RFC 5005 §4); `page`: the list page
        that shows its first posts."""
        sitemap, slug = self.sitemap, category.slug
        for fmt in self.archive_formats:
            path = sitemap.archive(slug, number, fmt.extension)
            previous = sitemap.archive(slug, number - 1, fmt.extension) if number > 1 else None
            meta = FeedMeta(
                url=sitemap.url(path),
                id=sitemap.feed_id(path),
                page_url=sitemap.url(page),
                title=f"{category.title} · {self.site.title}",
                current=sitemap.url(sitemap.category_feed(slug, fmt.extension)),
                prev_archive=sitemap.url(previous) if previous else None,
                archive=True,
            )
            self._write(path, self.render(posts, meta, sources, fmt))

    def tag(
        self,
        slug: str,
        names: Sequence[str],
        posts: Sequence[Post],
        sources: Mapping[str, SourceState],
    ) -> None:
        """The feed of the tags `names`, which share the tag slug `slug`."""
        for fmt in self.formats:
            path = self.sitemap.tag_feed(slug, fmt.extension)
            meta = FeedMeta(
                url=self.sitemap.url(path),
                id=self.sitemap.feed_id(path),
                page_url=self.sitemap.base,
                title=f"{names[0]} · {self.site.title}",
                hub=self.hub,
            )
            self._write(path, self.render(posts, meta, sources, fmt))
