"""Full text: for sources with `full_text: true`, the linked page's article replaces a summary.
Pages come through the fetch stage as untrusted URLs (its limits apply); extraction never
fails a post: when anything goes wrong the summary stays. Never waits past its budget:
what does not fit is handed back, to be tried again later.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass

from aggregator.errors import SourceError
from aggregator.fetch import Fetcher
from aggregator.types import FetchResult, Post

__all__ = ["PAGES_AT_ONCE", "FullText", "enrich", "enrich_within", "extract_article"]

# Named as before the module moved into the package: the JSON log lines carry it.
log = logging.getLogger("aggregator.fulltext")

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
        log.debug("%s: no article extracted: %s: %s", url, type(e).__name__, e)
        return None
    if not isinstance(found, str) or not found.strip():
        return None
    from aggregator.normalize import sanitize_html

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


@dataclass(frozen=True, slots=True, kw_only=True)
class FullText:
    """Posts after their pages were tried, and those whose page did not fit the budget."""

    posts: list[Post]  # in the order given; an article in place of the summary where found
    late: tuple[str, ...] = ()  # keys of posts whose page was not fetched and read in time


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
    found = await enrich_within(
        posts, fetcher, budget=None, allow_data_images=allow_data_images, executor=executor
    )
    return found.posts


async def enrich_within(
    posts: Sequence[Post],
    fetcher: Fetcher,
    *,
    budget: float | None,
    allow_data_images: bool = False,
    executor: Executor | None = None,
) -> FullText:
    """As `enrich`, in at most `budget` seconds (None: no limit): a page still coming when
    it runs out is given up, its post kept as it was and its key listed as late.

    Pages are asked for in the order of `posts`, so earlier posts are served first.

    Raises nothing: a page that cannot be fetched or read leaves its post as it was.
    """
    slots = asyncio.Semaphore(PAGES_AT_ONCE)
    # One line for the pages that failed, not one a page: cron mail holds a round's summary.
    missed: list[str] = []

    async def one(post: Post) -> Post:
        if not post.link:
            return post
        async with slots:
            try:
                page = await fetcher.fetch(post.link, trusted=False)
            except SourceError as e:  # FetchError, HostDeferred: the summary stays
                log.debug("%s: full text not fetched: %s", post.link, e)
                missed.append(f"{post.link}: {e}")
                return post
        return await _with_article(post, page, allow_data_images, executor)

    if not posts:
        return FullText(posts=[])
    tasks = [asyncio.ensure_future(one(p)) for p in posts]
    # Slow pages (each up to the total timeout, a few at a time per host) would otherwise
    # hold the source's lane for posts x timeout / per-host limit: 25 minutes for 50.
    done, late = await asyncio.wait(tasks, timeout=budget)
    for task in late:
        task.cancel()
    if missed:
        log.info("%d full-text pages not fetched (first %s)", len(missed), missed[0])
    if late:
        await asyncio.gather(*late, return_exceptions=True)  # let them unwind
        log.info("%d full-text pages did not fit the budget: tried again later", len(late))
    return FullText(
        posts=[t.result() if t in done else p for p, t in zip(posts, tasks, strict=True)],
        late=tuple(p.key for p, t in zip(posts, tasks, strict=True) if t not in done),
    )


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
    from aggregator.normalize import plain_text, with_content

    if article is None or len(plain_text(article)) <= len(plain_text(post.content_html)):
        return post
    return with_content(post, article)
