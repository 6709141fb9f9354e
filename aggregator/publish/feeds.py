"""Publish stage, feeds: the formats the site writes, and the site's feed documents
(combined, category, archive, tag) in every format.

A format (format.py says what one must provide) renders one document from posts (newest
first) and what the document says about itself (FeedMeta, made here from the sitemap's
URLs). Must NOT read the store (the
publisher hands the posts in), make a path or URL itself, or write a file but through
the writer it is given. Atom (atom.py) is the one format.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from aggregator.publish.atom import ATOM
from aggregator.publish.files import WriteFile
from aggregator.publish.format import FeedFormat, FeedMeta, FeedSite
from aggregator.publish.sitemap import Sitemap
from aggregator.types import Category, Post, Site, SourceState

__all__ = ["FORMATS", "FeedFormat", "FeedMeta", "FeedSite", "Feeds"]


FORMATS: tuple[FeedFormat, ...] = (ATOM,)


class Feeds:
    """Writes the site's feed documents, each in every format of FORMATS."""

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
        for fmt in FORMATS:
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
        for fmt in FORMATS:
            path = sitemap.category_feed(slug, fmt.extension)
            previous = sitemap.archive(slug, archived, fmt.extension) if archived else None
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
        for fmt in FORMATS:
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
        for fmt in FORMATS:
            path = self.sitemap.tag_feed(slug, fmt.extension)
            meta = FeedMeta(
                url=self.sitemap.url(path),
                id=self.sitemap.feed_id(path),
                page_url=self.sitemap.base,
                title=f"{names[0]} · {self.site.title}",
                hub=self.hub,
            )
            self._write(path, self.render(posts, meta, sources, fmt))
