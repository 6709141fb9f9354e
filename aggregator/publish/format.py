"""Publish stage, feed format: what a feed format is given (FeedMeta, FeedSite) and must
provide (FeedFormat). Declares only, so that a format (atom.py, rss.py, jsonfeed.py) and
the list of formats (feeds.py) both import it and not each other. Must NOT render, choose
a path or URL, or read the store.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from aggregator.publish.sitemap import Sitemap
from aggregator.types import Category, Post, SourceState

__all__ = ["FeedFormat", "FeedMeta", "FeedSite"]


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedMeta:
    """What one feed document says about itself besides its entries."""

    url: str  # self
    id: str  # atom:id: stays when the URL moves (Sitemap.feed_id)
    page_url: str  # rel="alternate" text/html
    title: str
    hub: str | None = None
    current: str | None = None  # RFC 5005: an archive's subscription document
    prev_archive: str | None = None
    archive: bool = False  # RFC 5005 §4: a complete archive document


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedSite:
    """What every feed of one publish shares: the site's addresses and language, the
    categories by slug, and the sources' states (for each entry's source)."""

    sitemap: Sitemap
    language: str
    category: Callable[[str], Category]
    sources: Mapping[str, SourceState]


class FeedFormat(Protocol):
    """One feed format: a new output format is one more of these in FORMATS."""

    @property
    def name(self) -> str: ...  # as `site.formats` names it: "atom"

    @property
    def label(self) -> str: ...  # as pages and subscriptions.opml name it: "Atom"

    @property
    def extension(self) -> str: ...  # of its files: ".xml"

    @property
    def media_type(self) -> str: ...  # links' `type`: "application/atom+xml"

    @property
    def archives(self) -> bool: ...  # whether it has RFC 5005 archive documents

    def render(self, posts: Sequence[Post], meta: FeedMeta, site: FeedSite) -> bytes:
        """The document of `posts` (newest first)."""
        ...
