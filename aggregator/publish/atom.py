"""Publish stage, Atom: the Atom 1.0 feed format (RFC 4287, with RFC 5005 archives).

feedgen lives here only. Must NOT read the store, choose paths (the URLs come in the
feed's metadata and from the sitemap) or write files.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator
from lxml import etree

from aggregator.publish.escape import xml_text
from aggregator.publish.format import FeedMeta, FeedSite
from aggregator.types import Post, SourceState
from aggregator.urls import atom_id, iri_href

__all__ = ["ATOM", "ATOM_NS", "HISTORY_NS", "Atom", "summary_of"]

ATOM_NS = "http://www.w3.org/2005/Atom"
HISTORY_NS = "http://purl.org/syndication/history/1.0"  # RFC 5005 fh:archive
_EMPTY_FEED_DATE = datetime(2026, 1, 1, tzinfo=UTC)  # `updated` of a feed with no entry
_TAG = re.compile(r"<[^>]*>")
_SUMMARY_CHARS = 200


def summary_of(content_html: str, limit: int = _SUMMARY_CHARS) -> str:
    """Plain text of the start of a post's (sanitized) HTML, for atom:summary."""
    text = " ".join(html.unescape(_TAG.sub(" ", content_html)).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _href(url: str) -> str:
    """One of our own URLs (from site.base_url) as an IRI-clean href."""
    return iri_href(url) or url


class Atom:
    """The Atom format (FeedFormat)."""

    name = "atom"
    label = "Atom"
    extension = ".xml"
    media_type = "application/atom+xml"
    archives = True

    def render(self, posts: Sequence[Post], meta: FeedMeta, site: FeedSite) -> bytes:
        """An Atom 1.0 document of `posts` (newest first)."""
        fg = FeedGenerator()
        fg.register_extension("extras", _ExtrasFeed, _ExtrasEntry, atom=True, rss=False)
        fg.id(meta.id)
        fg.title(xml_text(meta.title))
        # Every href IRI-clean (see iri_href); ids stay as they always were written.
        fg.link(href=_href(meta.page_url), rel="alternate", type="text/html")
        fg.link(href=_href(meta.url), rel="self", type=self.media_type)
        if meta.hub:
            fg.link(href=_href(meta.hub), rel="hub")
        if meta.current:
            fg.link(href=_href(meta.current), rel="current", type=self.media_type)
        if meta.prev_archive:
            fg.link(href=_href(meta.prev_archive), rel="prev-archive", type=self.media_type)
        fg.extras.archive = meta.archive
        fg.language(site.language)
        fg.generator("aggregator")
        # RFC 4287 §4.2.15: the feed changed when its newest entry did.
        fg.updated(max((p.updated for p in posts), default=_EMPTY_FEED_DATE))
        sitemap = site.sitemap
        for post in posts:
            category = site.category(post.category)
            fe = fg.add_entry(order="append")
            fe.id(sitemap.entry_id(post))
            fe.title(xml_text(post.title))
            fe.published(post.published)
            fe.updated(post.updated)
            # The item's own author; the source's name when it named none.
            fe.author(name=xml_text(post.author or post.source))
            fe.category(term=category.slug, label=xml_text(category.title))
            fe.content(xml_text(post.content_html), type="html")
            fe.summary(xml_text(summary_of(post.content_html)) or xml_text(post.title))
            fe.extras.set(
                alternate=_href(sitemap.url(sitemap.post_page(post))),
                via=iri_href(post.link),
                name=xml_text(post.source),
                state=site.sources.get(post.source),
            )
        data: bytes = fg.atom_str(pretty=False)
        return data


ATOM = Atom()


class _ExtrasFeed(BaseExtension):  # type: ignore[misc]
    """feedgen extension: fh:archive (RFC 5005 §4) on archive documents."""

    def __init__(self) -> None:
        self.archive = False

    def extend_ns(self) -> dict[str, str]:
        return {"fh": HISTORY_NS}

    def extend_atom(self, feed: Any) -> Any:
        if self.archive:
            etree.SubElement(feed, f"{{{HISTORY_NS}}}archive")
        return feed


class _ExtrasEntry(BaseEntryExtension):  # type: ignore[misc]
    """feedgen extension writing an entry's links and its atom:source.

    feedgen 1.0 drops the `rel` of entry links (its atom_entry() reads `rel` from the
    element it just created), and its `source()` writes only title and link where
    RFC 4287 §4.2.11 asks for the original feed's id and updated too.

    Elements are made as feedgen makes its own: unqualified names under the root's
    default Atom namespace. A `{ATOM_NS}` name on them would make lxml declare the
    namespace again on each (`ns0:link`, `ns1:link`, `ns2:source`).
    """

    def __init__(self) -> None:
        self._links: list[tuple[str, str]] = []
        self._name: str | None = None
        self._state: SourceState | None = None

    def set(self, *, alternate: str, via: str | None, name: str, state: SourceState | None) -> None:
        self._links = [("alternate", alternate)] + ([("via", via)] if via else [])
        self._name = name
        self._state = state

    def extend_atom(self, entry: Any) -> Any:
        for rel, href in self._links:
            kind = {"type": "text/html"} if rel == "alternate" else {}
            etree.SubElement(entry, "link", rel=rel, href=href, **kind)
        if self._name is None:
            return entry
        state = self._state
        source = etree.SubElement(entry, "source")
        # The original feed's id and links are the feed's own words: an id that is no
        # absolute IRI ("123", "/p/1", "urn:x") gives way to the feed's URL, and links are
        # held to the checks of an entry's link (a `javascript:` home page is dropped).
        feed_url = iri_href(state.url) if state else None
        feed_id = atom_id(state.feed_id) if state else None
        if feed_id or feed_url:
            etree.SubElement(source, "id").text = xml_text(feed_id or feed_url or "")
        title = etree.SubElement(source, "title")
        title.text = xml_text((state.feed_title if state else None) or self._name)
        home = iri_href(state.feed_link) if state else None
        if home:
            etree.SubElement(source, "link", rel="alternate", href=home)
        if feed_url:
            etree.SubElement(source, "link", rel="self", href=feed_url)
        if state and state.last_success:
            etree.SubElement(source, "updated").text = state.last_success.isoformat()
        return entry
