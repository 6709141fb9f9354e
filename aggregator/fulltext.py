"""Full text: for sources with `full_text: true`, the linked page's article replaces a summary.
Pages come through the fetch stage as untrusted URLs (its limits apply); extraction never
fails a post: when anything goes wrong the summary stays.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from concurrent.futures import Executor

from aggregator.errors import SourceError
from aggregator.fetch import Fetcher
from aggregator.normalize import plain_text, sanitize_html, with_content
from aggregator.types import FetchResult, Post

__all__ = ["PAGES_AT_ONCE", "enrich", "extract_article"]

log = logging.getLogger(__name__)

PAGES_AT_ONCE = 4  # pages of one source fetched at once: a site is not a feed server


def extract_article(page: bytes | str, *, url: str, allow_data_images: bool = False) -> str | None:
    """The article of an HTML page as sanitized HTML, or None when none is found.

    Raises nothing: trafilatura's own failures on hostile pages mean "no article".
    """
    # Imported here: trafilatura costs ~0.2 s to import and only full_text sources use it.
    import trafilatura

    try:
        found = trafilatura.extract(
            page,
            url=url,
            output_format="html",
            include_links=True,
            include_images=True,
            include_tables=True,
            include_comments=False,
            with_metadata=False,
        )
    except Exception as e:  # a third-party parser on arbitrary bytes: any failure is "none"
        log.info("%s: no article extracted: %s: %s", url, type(e).__name__, e)
        return None
    if not isinstance(found, str) or not found.strip():
        return None
    clean = sanitize_html(_body_of(found), base_url=url, allow_data_images=allow_data_images)
    return clean.strip() or None


def _body_of(document: str) -> str:
    # trafilatura wraps its HTML output in <html><body>; nh3 would keep the text anyway,
    # but cutting the wrapper keeps the whitespace of the article as it was.
    start = document.find("<body>")
    end = document.rfind("</body>")
    if start != -1 and end > start:
        return document[start + len("<body>") : end].strip()
    return document


async def enrich(
    posts: Sequence[Post],
    fetcher: Fetcher,
    *,
    allow_data_images: bool = False,
    executor: Executor | None = None,
) -> list[Post]:
    """Each post with its linked page's article in place of its summary, when one is found
    and it says more than the summary; the others unchanged. Order is kept.

    Raises nothing: a page that cannot be fetched or read leaves its post as it was.
    """
    slots = asyncio.Semaphore(PAGES_AT_ONCE)

    async def one(post: Post) -> Post:
        if not post.link:
            return post
        async with slots:
            try:
                page = await fetcher.fetch(post.link, trusted=False)
            except SourceError as e:  # FetchError, HostDeferred: the summary stays
                log.info("%s: full text not fetched: %s", post.link, e)
                return post
        return await _with_article(post, page, allow_data_images, executor)

    return list(await asyncio.gather(*(one(p) for p in posts)))


async def _with_article(
    post: Post, page: FetchResult, allow_data_images: bool, executor: Executor | None
) -> Post:
    if page.content is None:
        return post
    content_type = page.headers.get("content-type", "text/html").lower()
    if "html" not in content_type:
        return post
    loop = asyncio.get_running_loop()
    content = page.content
    article = await loop.run_in_executor(
        executor,
        lambda: extract_article(content, url=page.url, allow_data_images=allow_data_images),
    )
    if article is None or len(plain_text(article)) <= len(plain_text(post.content_html)):
        return post
    return with_content(post, article)
