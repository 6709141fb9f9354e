"""Publish stage, posts: each post's Jekyll file (`_posts/<date>-<slug>.md`) and its HTML
page, and the removal of the files an edit that moved a post's date left behind.

The package's own post templates are filled (form.py), an operator's rendered by Jinja.
Must NOT read the store, choose a path or URL itself (the sitemap does) or write a file
but through the writer it is given.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jinja2

from aggregator.errors import PublishError
from aggregator.htmlshape import kramdown_body
from aggregator.publish.escape import (
    LIQUID,
    has_liquid,
    markdown_destination,
    markdown_text,
    tags_yaml,
    yaml_quote,
    yaml_slug,
)
from aggregator.publish.files import Writer
from aggregator.publish.form import Form, MarkedPost, is_default, marks
from aggregator.publish.pages import Pages
from aggregator.publish.sitemap import POSTS_DIR, Sitemap, day_strings
from aggregator.types import Category, Post
from aggregator.urls import http_url

__all__ = ["PostFiles"]

_FILE_VALUES = (
    "title_yaml",
    "tags_yaml",
    "date",
    "body",
    "link_line",
    "source_text",
    "author",
    "author_text",
)
_PAGE_VALUES = ("canonical", "url", "iso", "date", "link", "byline")


class PostFiles:
    """Renders and writes the file and the page of each post of one publish."""

    def __init__(
        self,
        sitemap: Sitemap,
        env: jinja2.Environment,
        pages: Pages,
        *,
        out: Path,
        category: Callable[[str], Category],
        writer: Writer,
        remove: Callable[[Path], None],
    ) -> None:
        self.sitemap = sitemap
        self.words = pages.words
        self._pages = pages
        self._out = out
        self._category = category
        self._writer = writer
        self._remove = remove
        self._post_md = env.get_template("post.md")
        self._post_html = env.get_template("post.html")
        # The package's own post templates are filled, not rendered (see Form).
        self.filled_templates = frozenset(
            name
            for name, needs in (
                ("post.md", ("post.md",)),
                ("post.html", ("post.html", "base.html")),
            )
            if all(is_default(env, n) for n in needs)
        )
        self._forms: dict[tuple[str, str, object], Form | None] = {}  # see _file_form
        self._liquid_categories: dict[str, bool] = {}
        # Look for old files of every post written, not only of an edited one: set when a
        # publish rewrites every post file (a new zone moves dates).
        self.sweep = False
        # slug -> names in _posts with the date each gives
        self._old_post_files: dict[str, list[tuple[str, tuple[str, str, str]]]] | None = None

    # ---------------------------------------------------------------- writing

    def write(self, post: Post, *, fresh: bool, file: bool = True, page: bool = True) -> None:
        """Write a post's file and its page (queued; each unless told not to); `fresh`:
        never published, so its files cannot exist yet (or are leftovers of an interrupted
        publish, rewritten whole) and are not read back first.

        Raises:
            PublishError: an old file cannot be removed, or an earlier write failed.
        """
        date, minute, stamp, iso = day_strings(post.published.astimezone(self.sitemap.zone))
        name = self.sitemap.post_file_name(date, post.slug)
        page_path = self.sitemap.post_page_on(post, date)
        if (post.revision > 1 or self.sweep) and not fresh:
            # An edited post whose date moved (or a new zone) leaves its old files behind.
            for old, day in self._post_files_named(post.slug):
                if old != name:
                    self._remove(self._out / self.sitemap.in_posts(old))
                    stale = self.sitemap.post_page_at(post.category, day, post.slug)
                    self._remove(self._out / stale)
        out = str(self._out)
        write = self._writer.write
        if file:
            text = self._render_file(post, stamp)
            write(f"{out}/{self.sitemap.in_posts(name)}", text.encode(), fresh=fresh)
        if page:
            html = self._render_page(post, page_path, minute, iso)
            write(f"{out}/{page_path}", html.encode(), fresh=fresh)

    def _post_files_named(self, slug: str) -> list[tuple[str, tuple[str, str, str]]]:
        """Names in _posts/ of files of the post with `slug`, whatever their date, each
        with the year, month and day its name gives.

        The folder holds one file per post: it is listed once per publish, not once per
        edited post. Years are read as written: a file of a post dated before year 1000
        (older versions wrote "1-01-01-<slug>.md") is found too.
        """
        if self._old_post_files is None:
            folder = self._out / POSTS_DIR
            try:
                names = os.listdir(folder)
            except FileNotFoundError:
                names = []
            except OSError as e:  # a file in its place, a folder that cannot be read
                raise PublishError(f"cannot list {folder}: {e.strerror or e}") from e
            self._old_post_files = {}
            for old in names:
                parsed = self.sitemap.parse_post_file_name(old)
                if parsed is not None:
                    stem, day = parsed
                    self._old_post_files.setdefault(stem, []).append((old, day))
        return self._old_post_files.get(slug, [])

    # ------------------------------------------------------------- post files

    def render_file(self, post: Post) -> str:
        """The text of a post's file (`_posts/<date>-<slug>.md`)."""
        _, _, stamp, _ = day_strings(post.published.astimezone(self.sitemap.zone))
        return self._render_file(post, stamp)

    def _render_file(self, post: Post, stamp: str) -> str:
        category = self._category(post.category)
        liquid = self._category_has_liquid(category) or has_liquid(post)
        if "post.md" in self.filled_templates:
            form = self._file_form(category, liquid)
            if form is not None:
                return form.fill(post, self._file_values(post, stamp))
        return self._post_md.render(
            self._file_context(post, category, liquid, self._file_values(post, stamp))
        )

    def _file_values(self, post: Post, stamp: str) -> dict[str, str]:
        """What the post file shows of `post` besides its fields."""
        link = http_url(post.link)
        return {
            "title_yaml": yaml_quote(post.title),
            "tags_yaml": tags_yaml(post.tags),
            "date": stamp,
            "body": kramdown_body(post.content_html),
            # An autolink: the URL is written as browsers serialize it, so no ">" ends it
            # (and no "|" makes the line a table).
            "link_line": f"<{link.replace('|', '%7C')}>" if link else "",
            "source_text": markdown_text(post.source),
            # The item's author, else the source's name (as the Atom entry names it): a
            # front matter scalar, and text for the Markdown body.
            "author": yaml_quote(post.author or post.source),
            "author_text": markdown_text(post.author or post.source),
        }

    def _category_has_liquid(self, category: Category) -> bool:
        """Whether the category's title or the site's URLs would read as Liquid in a
        post file."""
        found = self._liquid_categories.get(category.slug)
        if found is None:
            found = bool(LIQUID.search(category.title) or LIQUID.search(self.sitemap.base))
            self._liquid_categories[category.slug] = found
        return found

    def _file_context(
        self, post: Post | MarkedPost, category: Category, liquid: bool, values: dict[str, str]
    ) -> dict[str, Any]:
        base = markdown_destination(self.sitemap.relative_base)
        return {
            "post": post,
            "category": category,
            "words": self.words,
            "liquid": liquid,
            "category_url": base + self.sitemap.category_page(category.slug),
            "category_yaml": yaml_slug(category.slug),
            "home_url": base,
            **values,
        }

    def _file_form(self, category: Category, liquid: bool) -> Form | None:
        """post.md rendered once for `category` with markers for the per-post values."""
        key = ("post.md", category.slug, liquid)
        if key not in self._forms:
            context = self._file_context(MarkedPost(), category, liquid, marks(_FILE_VALUES))
            self._forms[key] = Form.cut(self._post_md.render(context))
        return self._forms[key]

    # ------------------------------------------------------------- post pages

    def render_page(self, post: Post) -> str:
        """The text of a post's page (`<category>/<yyyy>/<mm>/<dd>/<slug>.html`)."""
        date, minute, _, iso = day_strings(post.published.astimezone(self.sitemap.zone))
        return self._render_page(post, self.sitemap.post_page_on(post, date), minute, iso)

    def _render_page(self, post: Post, page_path: str, minute: str, iso: str) -> str:
        category = self._category(post.category)
        url = self.sitemap.url(page_path)
        link = http_url(post.link) or ""
        # "By 王五 · " before the source's name, when the item names its author.
        byline = f"{self.words['by']}{post.author} · " if post.author else ""
        values = {
            "canonical": url,
            "url": url,
            "iso": iso,
            "date": minute,
            "link": link,
            "byline": byline,
        }
        # Filled only with a link: the form holds the original link's paragraph, which
        # the template leaves out for a post without one.
        if link and "post.html" in self.filled_templates:
            form = self._page_form(category, self.sitemap.root(page_path))
            if form is not None:
                return form.fill(post, values)
        return self._post_html.render(self._page_context(page_path, post, category, values))

    def _page_context(
        self, page_path: str, post: Post | MarkedPost, category: Category, values: dict[str, str]
    ) -> dict[str, Any]:
        context = self._pages.context(page_path)
        context["post"] = post
        context["category"] = category
        feeds = self._pages.category_feeds(category.slug)
        context["category_feeds"] = feeds
        context["feed_url"] = feeds[0]["url"]  # the first format's
        context.update(values)
        return context

    def _page_form(self, category: Category, root: str) -> Form | None:
        """post.html rendered once for `category` at the depth of `root` with markers
        for the per-post values."""
        key = ("post.html", category.slug, root)
        if key not in self._forms:
            path = self.sitemap.a_page_at(root)
            context = self._page_context(path, MarkedPost(), category, marks(_PAGE_VALUES))
            self._forms[key] = Form.cut(self._post_html.render(context))
        return self._forms[key]
