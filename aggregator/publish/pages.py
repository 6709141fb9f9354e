"""Publish stage, pages: the HTML list pages (the index, each category's newest posts and
its numbered pages), and the context every page template sees (its menu: the configured
categories that have posts, the same on every page).

Must NOT read the store (the publisher hands it the posts), choose a path or URL itself
(the sitemap does) or write a file but through the writer it is given.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jinja2
from markupsafe import Markup

from aggregator.publish.feeds import formats_of
from aggregator.publish.files import WriteFile
from aggregator.publish.sitemap import Sitemap, day_strings
from aggregator.types import Category, Config, ListedPost, Post

__all__ = ["PAGE_SIZE", "Pages"]

PAGE_SIZE = 50  # posts per category page and on the index


class Pages:
    """Renders and writes list pages for one publish."""

    def __init__(
        self,
        config: Config,
        sitemap: Sitemap,
        env: jinja2.Environment,
        words: dict[str, str],
        *,
        category: Callable[[str], Category],
        menu: Callable[[], Sequence[Category]],
        write: WriteFile,
    ) -> None:
        self.config = config
        self._menu = menu
        self.sitemap = sitemap
        self.words = words
        self._category = category
        self._write = write
        # Looked up once per publish, not once per file.
        self._list_html = env.get_template("list.html")
        self._nav = env.get_template("nav.html")
        self._bases: dict[str, dict[str, Any]] = {}
        self._formats = formats_of(config.site)
        self._site_feeds = self._feeds(sitemap.combined_feed)

    def _feeds(self, path: Callable[[str], str]) -> list[dict[str, str]]:
        """One feed in each of the site's formats, `path` giving its path by extension: what
        a page's autodiscovery and subscribe links show (a title `suffix` but for Atom's)."""
        return [
            {
                "url": self.sitemap.url(path(f.extension)),
                "type": f.media_type,
                "label": f.label,
                "suffix": "" if f.name == "atom" else f" ({f.label})",
            }
            for f in self._formats
        ]

    def category_feeds(self, slug: str) -> list[dict[str, str]]:
        """A category's feed in each of the site's formats (see _feeds)."""
        return self._feeds(lambda extension: self.sitemap.category_feed(slug, extension))

    def context(self, path: str) -> dict[str, Any]:
        """A fresh context for the page at `path`: what every page template may use."""
        root = self.sitemap.root(path)
        base = self._bases.get(root)
        if base is None:
            base = {
                "site": self.config.site,
                "base": self.sitemap.base,
                "sitemap": self.sitemap,
                "root": root,
                "home": root or "./",
                "words": self.words,
                "site_feeds": self._site_feeds,  # the combined feed in each format
                # Asked once, on the first page: the publisher settles it before any.
                "categories": list(self._menu()),
            }
            # The category menu is the same on every page at one depth: rendered once.
            base["nav"] = Markup(self._nav.render(base))
            self._bases[root] = base
        context = dict(base)
        context["canonical"] = self.sitemap.canonical(path)
        return context

    def write_index(self, posts: Sequence[Post]) -> None:
        """The site's front page: the newest posts of every category."""
        self.write_list(self.sitemap.index, posts, category=None)

    def write_newest(self, category: Category, posts: Sequence[Post], total: int) -> None:
        """`category/<slug>.html`: its newest posts, of `total`."""
        pages = -(-total // PAGE_SIZE)
        older = (total - PAGE_SIZE - 1) // PAGE_SIZE + 1 if total > PAGE_SIZE else None
        page = self.sitemap.category_page
        self.write_list(
            page(category.slug),
            posts,
            category=category,
            older=page(category.slug, older) if older else None,
            newer=None,
            pages=pages,
        )

    def write_numbered(
        self, category: Category, number: int, pages: int, listed: Sequence[ListedPost]
    ) -> None:
        """Numbered page `number` of `pages` (1 = oldest): `listed` in arrival order."""
        slug = category.slug
        page = self.sitemap.category_page
        self.write_list(
            page(slug, number),
            list(reversed(listed)),
            category=category,
            older=page(slug, number - 1) if number > 1 else None,
            newer=page(slug, number + 1 if number < pages else None),
            number=number,
            pages=pages,
        )

    def write_list(
        self,
        path: str,
        posts: Sequence[Post | ListedPost],
        *,
        category: Category | None,
        older: str | None = None,
        newer: str | None = None,
        number: int | None = None,
        pages: int = 0,
    ) -> None:
        context = self.context(path)
        root = context["root"]
        feeds = self.category_feeds(category.slug) if category else []
        context.update(
            category=category,
            posts=[self._list_item(p, root) for p in posts],
            newer=root + newer if newer else None,
            older=root + older if older else None,
            number=number,
            pages=pages,
            category_feeds=feeds,
            feed_url=feeds[0]["url"] if feeds else None,  # the first format's
        )
        self._write(path, self._list_html.render(context))

    def _list_item(self, post: Post | ListedPost, root: str) -> dict[str, str]:
        date, minute, _, iso = day_strings(post.published.astimezone(self.sitemap.zone))
        return {
            "title": post.title,
            "url": root + self.sitemap.post_page_on(post, date),
            "iso": iso,
            "date": minute,
            "source": post.source,
            "category": self._category(post.category).title,
        }
