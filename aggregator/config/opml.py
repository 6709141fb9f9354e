"""Config stage, OPML out: the one OPML writer. `export_opml` gives the config's sources
(`sources export`); `subscriptions_opml` gives the feeds a site offers, for the publisher's
subscriptions.opml.

Pure: returns text, writes no file; builds no URL of the site (the caller passes them in).
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from collections.abc import Iterable
from dataclasses import dataclass

from aggregator.slug import slugify
from aggregator.types import Config

__all__ = ["Subscription", "export_opml", "subscriptions_opml"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Subscription:
    """One feed the site offers, as subscriptions.opml lists it."""

    title: str
    xml_url: str  # the feed
    html_url: str  # the page it is the feed of


def export_opml(config: Config) -> str:
    """Render every source as an OPML 2.0 document, one outline group per category.

    Raises:
        Nothing: the config is already checked.
    """
    opml, body = _document(config.site.title)
    for slug, category in config.categories.items():
        members = [s for s in config.sources if s.category == slug]
        if not members:
            continue
        group = ElementTree.SubElement(body, "outline", text=category.title, title=category.title)
        # Read back, a group's text gives the category slugify(title); `category` is
        # written only where that is not this slug (a title such as 中国新闻 for "zhongguo").
        explicit = slugify(category.title) != slug
        for source in members:
            attributes = {"type": "rss", "text": source.name, "title": source.name}
            attributes["xmlUrl"] = source.url
            if explicit:
                attributes["category"] = slug
            ElementTree.SubElement(group, "outline", attributes)
    return _text(opml)


def subscriptions_opml(title: str, feeds: Iterable[Subscription]) -> str:
    """An OPML 2.0 document titled `title` listing `feeds` in order, to import at once.

    Raises:
        Nothing.
    """
    opml, body = _document(title)
    for feed in feeds:
        ElementTree.SubElement(
            body,
            "outline",
            {"type": "rss", "text": feed.title, "title": feed.title, "xmlUrl": feed.xml_url},
            htmlUrl=feed.html_url,
        )
    return _text(opml)


def _document(title: str) -> tuple[ElementTree.Element, ElementTree.Element]:
    # <opml version="2.0"><head><title/></head><body/></opml>: the document and its body.
    opml = ElementTree.Element("opml", version="2.0")
    head = ElementTree.SubElement(opml, "head")
    ElementTree.SubElement(head, "title").text = title
    return opml, ElementTree.SubElement(opml, "body")


def _text(opml: ElementTree.Element) -> str:
    ElementTree.indent(opml, space="  ")
    document = ElementTree.tostring(opml, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{document}\n'
