"""Publish stage, RSS: the RSS 2.0 feed format, as the RSS Advisory Board's profile reads it.

Built with lxml, so every value is XML-escaped by the serializer, never by hand. Must NOT
read the store, choose paths (the URLs come in the feed's metadata and from the sitemap)
or write files.
"""

from __future__ import annotations

import email.utils
from collections.abc import Sequence
from datetime import UTC, datetime

from lxml import etree

from aggregator.publish.atom import ATOM_NS
from aggregator.publish.escape import xml_text
from aggregator.publish.format import FeedMeta, FeedSite
from aggregator.types import Post
from aggregator.urls import http_url, iri_href

__all__ = ["DC_NS", "RSS", "Rss", "rfc822"]

DC_NS = "http://purl.org/dc/elements/1.1/"  # dc:creator: an author without an email address
_NSMAP = {"atom": ATOM_NS, "dc": DC_NS}
_EMPTY_FEED_DATE = datetime(2026, 1, 1, tzinfo=UTC)  # lastBuildDate of a feed with no item


def rfc822(when: datetime) -> str:
    """`when` as RSS 2.0 writes a date (RFC 822 with a four-digit year), in GMT."""
    return email.utils.format_datetime(when.astimezone(UTC), usegmt=True)


def _href(url: str) -> str:
    """One of our own URLs (from site.base_url) as an IRI-clean href."""
    return iri_href(url) or url


def _text(parent: etree._Element, tag: str, text: str, **attributes: str) -> etree._Element:
    element = etree.SubElement(parent, tag, **attributes)
    element.text = xml_text(text)
    return element


class Rss:
    """The RSS 2.0 format (FeedFormat). Archives are Atom's alone (RFC 5005 defines them
    for Atom; an RSS reader follows none): an RSS feed is the subscription document."""

    name = "rss"
    label = "RSS"
    extension = ".rss"
    media_type = "application/rss+xml"
    archives = False

    def render(self, posts: Sequence[Post], meta: FeedMeta, site: FeedSite) -> bytes:
        """An RSS 2.0 document of `posts` (newest first), the same items as the Atom
        feed's entries: each guid the entry's atom:id (`isPermaLink="false"`: it is no URL),
        its link the post's page, the original article as `atom:link rel="via"`, the
        source as `<source url>` and the author as `dc:creator`."""
        rss = etree.Element("rss", version="2.0", nsmap=_NSMAP)
        channel = etree.SubElement(rss, "channel")
        _text(channel, "title", meta.title)
        _text(channel, "link", _href(meta.page_url))
        # Required, and a reader shows it under the title: the feed says what it is.
        _text(channel, "description", meta.title)
        _text(channel, "language", site.language)
        _text(channel, "generator", "aggregator")
        # The channel changed when its newest item did, as Atom's feed `updated` says.
        newest = max((p.updated for p in posts), default=_EMPTY_FEED_DATE)
        _text(channel, "lastBuildDate", rfc822(newest))
        link = f"{{{ATOM_NS}}}link"
        etree.SubElement(channel, link, rel="self", href=_href(meta.url), type=self.media_type)
        if meta.hub:  # WebSub §4: the hub and the topic's self URL, in the topic itself
            etree.SubElement(channel, link, rel="hub", href=_href(meta.hub))
        sitemap = site.sitemap
        for post in posts:
            category = site.category(post.category)
            item = etree.SubElement(channel, "item")
            _text(item, "title", post.title)
            _text(item, "link", _href(sitemap.url(sitemap.post_page(post))))
            # HTML as text: the serializer escapes it, as the profile asks of description.
            _text(item, "description", post.content_html)
            _text(item, "guid", sitemap.entry_id(post), isPermaLink="false")
            _text(item, "pubDate", rfc822(post.published))
            _text(item, f"{{{DC_NS}}}creator", post.author or post.source)
            for name in dict.fromkeys([category.title, *post.tags]):
                if xml_text(name).strip():
                    _text(item, "category", name)
            via = iri_href(post.link)
            if via:
                etree.SubElement(item, link, rel="via", href=via)
            state = site.sources.get(post.source)
            feed_url = http_url(state.url) if state else None
            if feed_url:  # <source> must name the feed's URL: without one, dc:creator does
                title = (state.feed_title if state else None) or post.source
                _text(item, "source", title, url=iri_href(feed_url) or feed_url)
        data: bytes = etree.tostring(rss, encoding="UTF-8", xml_declaration=True)
        return data


RSS = Rss()
