"""Publish stage, JSON Feed: the JSON Feed 1.1 format (https://jsonfeed.org/version/1.1).

The document is data made into text by json.dumps alone, never by hand. Must NOT read the
store, choose paths (the URLs come in the feed's metadata and from the sitemap) or write
files.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from aggregator.publish.atom import summary_of
from aggregator.publish.escape import xml_text
from aggregator.publish.format import FeedMeta, FeedSite
from aggregator.types import Post
from aggregator.urls import atom_id, http_url, iri_href

__all__ = ["JSON_FEED", "VERSION", "JsonFeed", "rfc3339"]

VERSION = "https://jsonfeed.org/version/1.1"
# What the `_aggregator` object of an item is (JSON Feed 1.1: a custom object's `about`).
_ABOUT = "https://github.com/aggregator-project/aggregator#output"


def rfc3339(when: datetime) -> str:
    """`when` as JSON Feed writes a date (RFC 3339), in UTC."""
    return when.astimezone(UTC).isoformat()


def _href(url: str) -> str:
    """One of our own URLs (from site.base_url) as an IRI-clean href."""
    return iri_href(url) or url


def _text(value: str) -> str:
    # As the XML formats write the same text: the three formats agree entry for entry, and
    # no lone surrogate reaches the UTF-8 encoder.
    return xml_text(value)


class JsonFeed:
    """The JSON Feed 1.1 format (FeedFormat). No archives (JSON Feed has no RFC 5005): a
    JSON feed is the subscription document."""

    name = "json"
    label = "JSON Feed"
    extension = ".json"
    media_type = "application/feed+json"
    archives = False

    def render(self, posts: Sequence[Post], meta: FeedMeta, site: FeedSite) -> bytes:
        """A JSON Feed 1.1 document of `posts` (newest first), the same items as the Atom
        feed's entries: each `id` the entry's atom:id, `url` the post's page, `external_url`
        the original article, `authors` the author (else the source, as Atom's author is),
        and the source's feed in the `_aggregator` object."""
        feed: dict[str, Any] = {
            "version": VERSION,
            "title": _text(meta.title),
            "home_page_url": _href(meta.page_url),
            "feed_url": _href(meta.url),
            "language": site.language,
        }
        if meta.hub:
            feed["hubs"] = [{"type": "WebSub", "url": _href(meta.hub)}]
        sitemap = site.sitemap
        items = []
        for post in posts:
            category = site.category(post.category)
            item: dict[str, Any] = {
                "id": sitemap.entry_id(post),
                "url": _href(sitemap.url(sitemap.post_page(post))),
            }
            via = iri_href(post.link)
            if via:
                item["external_url"] = via
            item |= {
                "title": _text(post.title),
                "content_html": _text(post.content_html),
                "summary": _text(summary_of(post.content_html)) or _text(post.title),
                "date_published": rfc3339(post.published),
                "date_modified": rfc3339(post.updated),
                "authors": [{"name": _text(post.author or post.source)}],
            }
            tags = [t for t in dict.fromkeys(map(_text, [category.title, *post.tags])) if t.strip()]
            if tags:
                item["tags"] = tags
            item["_aggregator"] = {"about": _ABOUT, "source": self._source(post, site)}
            items.append(item)
        feed["items"] = items
        text = json.dumps(feed, ensure_ascii=False, separators=(",", ":"))
        return text.encode("utf-8")

    @staticmethod
    def _source(post: Post, site: FeedSite) -> dict[str, str]:
        """The item's source as Atom's atom:source names it: its title, and the original
        feed's id, URL and home page when they are absolute URLs."""
        state = site.sources.get(post.source)
        found = {"title": _text((state.feed_title if state else None) or post.source)}
        if state is None:
            return found
        feed_url = iri_href(http_url(state.url))
        feed_id = atom_id(state.feed_id) or feed_url
        home = iri_href(state.feed_link)
        for key, value in (("id", feed_id), ("feed_url", feed_url), ("home_page_url", home)):
            if value:
                found[key] = value
        return found


JSON_FEED = JsonFeed()
