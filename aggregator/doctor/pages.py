"""Doctor, HTML pages: the feeds a page advertises (<link rel="alternate" type=...>), for an
operator who gave a site's address instead of its feed's. Pure: no I/O; it must NOT fetch
what the page names.
"""

from __future__ import annotations

from aggregator.doctor.findings import Finding, finding
from aggregator.parse.html import advertised_feeds as parse_advertised

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
    """The feeds an HTML page names in <link rel="alternate" type=...>, absolute, each once
    (aggregator.parse.html reads them, as autodiscovery does, over more types)."""
    feeds = parse_advertised(content, {}, url=url, types=_FEED_TYPES)
    return [{"url": f.url, "type": f.type, "title": f.title} for f in feeds]
