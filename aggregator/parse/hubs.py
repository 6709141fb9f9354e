"""Parse stage: a feed's WebSub discovery links (W3C WebSub §4): the hubs it names and its
own (`rel="self"`) URL, from the (rel, href) pairs of its links as each backend reads them,
or of the response's HTTP Link header. Pure; must NOT fetch a URL, nor resolve a body's
relative one (only absolute http(s) ones count: the backends read bases differently).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urljoin, urlsplit

__all__ = ["MAX_URL", "header_links", "websub_links"]

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


# One link of an HTTP Link header (RFC 8288 §3): <target> and its parameters, up to the
# comma that ends it (a comma inside a quoted parameter does not).
_LINK = re.compile(r'<([^>]*)>((?:\s*;\s*[^;,"=\s]+\s*(?:=\s*(?:"[^"]*"|[^;,"\s]*))?)*)')
_REL = re.compile(r';\s*rel\s*=\s*(?:"([^"]*)"|([^;,"\s]+))', re.IGNORECASE)


def header_links(value: str | None, *, base: str) -> list[tuple[object, object]]:
    """The (rel, href) pairs of an HTTP Link header, targets resolved against `base` (the
    response's URL, RFC 8288 §3.1): WebSub §4 has a subscriber look there first."""
    if not value or len(value) > 16 * MAX_URL:
        return []
    links: list[tuple[object, object]] = []
    for target, params in _LINK.findall(value):
        rel = _REL.search(params)
        if rel is None:
            continue
        try:
            href = urljoin(base, target.strip())
        except ValueError:  # no URL: "http://[::1" (an IPv6 host not closed)
            continue
        links.append((rel.group(1) or rel.group(2), href))
    return links


def _absolute_http(url: str) -> bool:
    if not url or len(url) > MAX_URL or not url.isprintable() or " " in url:
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)
