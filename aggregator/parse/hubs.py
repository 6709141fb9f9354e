"""Parse stage: a feed's WebSub discovery links (W3C WebSub §4): the hubs it names and its
own (`rel="self"`) URL, from the (rel, href) pairs of its links as each backend reads them.
Pure; must NOT resolve a relative URL (only absolute http(s) ones count) nor fetch one.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

__all__ = ["MAX_URL", "websub_links"]

MAX_URL = 2048  # longer: no hub or topic of ours (and no row in the store)


def websub_links(
    links: Iterable[tuple[object, object]],
) -> tuple[tuple[str, ...], str | None]:
    """(the hubs, in order and once each; the first self URL) of a feed's (rel, href)
    links. A link counts only with an absolute http(s) URL: a relative one would resolve
    against a base the backends read differently, and a topic must be absolute anyway."""
    hubs: list[str] = []
    self_url: str | None = None
    for rel, href in links:
        if not isinstance(rel, str) or not isinstance(href, str):
            continue
        url = href.strip()
        if not _absolute_http(url):
            continue
        rels = rel.lower().split()
        if "hub" in rels and url not in hubs:
            hubs.append(url)
        if "self" in rels and self_url is None:
            self_url = url
    return tuple(hubs), self_url


def _absolute_http(url: str) -> bool:
    if not url or len(url) > MAX_URL or not url.isprintable() or " " in url:
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)
