"""`sources add`: which feed a URL is, or which feeds the page at it advertises, fetched
with the round's fetcher and limits. Must NOT write the config (config.importing does),
nor touch the store: nothing is fetched here for a round.
"""

from __future__ import annotations

from dataclasses import dataclass

from aggregator.errors import ParseError
from aggregator.fetch import Fetcher, FetchLimits
from aggregator.parse import parse
from aggregator.parse.html import Advertised, advertised_feeds, is_html
from aggregator.types import FetchResult

__all__ = ["Found", "feed_title", "find_feeds"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Found:
    """What a URL gave: a feed itself, or a page and the feeds it advertises (maybe none)."""

    url: str  # as asked
    final_url: str  # after redirects
    is_feed: bool
    title: str | None = None  # the feed's title (is_feed), else the page's <title>
    feeds: tuple[Advertised, ...] = ()  # a page's advertised feeds, in page order


async def find_feeds(url: str, limits: FetchLimits) -> Found:
    """Fetch `url` and tell what it is.

    Raises:
        FetchError: the URL could not be fetched (a 304 cannot come: nothing is sent to
            make one).
        ParseError: the body is neither a feed nor an HTML page.
    """
    async with Fetcher(limits) as fetcher:
        result = await fetcher.fetch(url)
    content = result.content or b""
    if is_html(content, result.headers):
        return Found(
            url=url,
            final_url=result.url,
            is_feed=False,
            title=_page_title(result),
            feeds=advertised_feeds(content, result.headers, url=result.url),
        )
    feed = parse(content, result.headers, url=result.url)
    return Found(url=url, final_url=result.url, is_feed=True, title=feed.title)


async def feed_title(url: str, limits: FetchLimits) -> str | None:
    """The title of the feed at `url` (an advertised one, checked before it is added).

    Raises: FetchError; ParseError when it is no feed.
    """
    async with Fetcher(limits) as fetcher:
        result = await fetcher.fetch(url)
    if result.content is not None and is_html(result.content, result.headers):
        raise ParseError("not a feed (HTML page)")
    return parse(result.content or b"", result.headers, url=result.url).title


def _page_title(result: FetchResult) -> str | None:
    import lxml.html
    from lxml import etree

    head = (result.content or b"")[:65536]
    try:
        titles = lxml.html.document_fromstring(head).xpath("//title")
    except (etree.ParserError, ValueError):  # an empty document, a stray NUL
        return None
    if not titles:
        return None
    return " ".join(titles[0].text_content().split()) or None
