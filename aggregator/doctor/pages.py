"""Doctor, HTML pages: the feeds a page advertises (<link rel="alternate" type=...>), for an
operator who gave a site's address instead of its feed's. Pure: no I/O; it must NOT fetch
what the page names.
"""

from __future__ import annotations

from urllib.parse import urljoin

from lxml import etree

from aggregator.doctor.findings import Finding, finding
from aggregator.urls import http_url

__all__ = ["advertised", "advertised_feeds"]

# What a page's <link rel="alternate"> names a feed with (RSS Autodiscovery, RFC 4287 §7.1,
# jsonfeed.org 1.1 "Discovery").
_FEED_TYPES = frozenset(
    {
        "application/rss+xml",
        "application/atom+xml",
        "application/rdf+xml",
        "application/feed+json",
        "application/json",
    }
)
_HTML_PARSER = etree.HTMLParser(no_network=True)


def advertised(content: bytes, url: str) -> Finding:
    """The finding for an HTML page: the feeds it advertises, or that it names none."""
    feeds = advertised_feeds(content, url)
    data = {"feeds": feeds}
    if not feeds:
        return finding(
            "advertised feeds",
            "error",
            "none",
            'The page names no feed (<link rel="alternate" type=...>): look for one on the site.',
            **data,
        )
    listed = "; ".join(
        f"{f['url']} ({f['type']}{', ' + str(f['title']) if f['title'] else ''})" for f in feeds
    )
    return finding(
        "advertised feeds",
        "ok",
        f"{len(feeds)}: {listed}",
        "Use one of these as the source's url (`aggregator doctor` it first).",
        **data,
    )


def advertised_feeds(content: bytes, url: str) -> list[dict[str, str | None]]:
    """The feeds an HTML page names in <link rel="alternate" type=...>, absolute, each once."""
    try:
        root = etree.fromstring(content, parser=_HTML_PARSER)
    except (etree.XMLSyntaxError, ValueError):
        return []
    if root is None:
        return []
    base = url
    for element in root.iterfind(".//base[@href]"):
        base = urljoin(url, element.get("href") or "")
        break
    found: list[dict[str, str | None]] = []
    seen: set[str] = set()
    for link in root.iter("link"):
        rels = (link.get("rel") or "").lower().split()
        kind = (link.get("type") or "").split(";", 1)[0].strip().lower()
        if "alternate" not in rels or kind not in _FEED_TYPES:
            continue
        href = http_url(urljoin(base, (link.get("href") or "").strip()))
        if href is None or href in seen:
            continue
        seen.add(href)
        found.append(
            {"url": href, "type": kind, "title": (link.get("title") or "").strip() or None}
        )
    return found
