"""Publish stage: posts from the store -> post files, Atom feeds, OPML and HTML pages.

feedgen lives here only. Every file is replaced atomically and a file whose bytes would
not change is not touched, so readers never see half a file and mtimes say what changed.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import html
import json
import logging
import os
import re
import shutil
import threading
import xml.etree.ElementTree as ElementTree
from collections import deque
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import jinja2
from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator
from lxml import etree
from markupsafe import Markup, escape

from aggregator.errors import PublishError
from aggregator.htmlshape import kramdown_body
from aggregator.slug import slugify
from aggregator.store import Store
from aggregator.types import Category, Config, ListedPost, Post, Site, SourceState
from aggregator.urls import atom_id, http_url, iri_href

__all__ = [
    "PAGE_SIZE",
    "WORDS",
    "PublishReport",
    "Publisher",
    "Urls",
    "publish",
    "words_for",
    "write_atomic",
    "yaml_quote",
    "yaml_tags",
]

log = logging.getLogger("aggregator.publish")

ATOM_NS = "http://www.w3.org/2005/Atom"
HISTORY_NS = "http://purl.org/syndication/history/1.0"  # RFC 5005 fh:archive
PAGE_SIZE = 50  # posts per category page and on the index
# Numbered pages cut from one read of a category when rebuilding: each read sorts the
# whole category, and 10,000 listed posts hold ~5 MB.
_PAGES_PER_READ = 200
TEMP_DIR = ".tmp"  # under output_dir: temp files of atomic writes
WRITE_THREADS = 4  # threads replacing files (measured: 2-6 do alike on 2 cores)
_WRITE_WINDOW = 256  # files rendered but not yet written, at most
_WRITE_BATCH = 32  # files handed to a thread at once
_EMPTY_FEED_DATE = datetime(2026, 1, 1, tzinfo=UTC)  # `updated` of a feed with no entry

# UI words by language; the post template and pages use them.
WORDS: dict[str, dict[str, str]] = {
    "zh": {
        "back_to": "返回",
        "home": "返回首页",
        "separator": "｜",
        "source_open": "（文章来源：",
        "source_close": "）",
        "newer": "较新",
        "older": "较早",
        "latest": "最新文章",
        "categories": "分类",
        "subscribe": "订阅",
        "all_feeds": "全部订阅（OPML）",
        "page": "第 {n} 页",
        "original": "原文",
        "no_posts": "暂无文章。",
        "by": "作者：",
    },
    "en": {
        "back_to": "Back to ",
        "home": "Home",
        "separator": " | ",
        "source_open": "(Source: ",
        "source_close": ")",
        "newer": "Newer",
        "older": "Older",
        "latest": "Latest posts",
        "categories": "Categories",
        "subscribe": "Subscribe",
        "all_feeds": "All feeds (OPML)",
        "page": "Page {n}",
        "original": "Original",
        "no_posts": "No posts yet.",
        "by": "By ",
    },
}

# YAML (1.1, as PyYAML and Jekyll's Psych read it) refuses these even inside a
# double-quoted scalar unless escaped: C0/C1 controls, DEL, surrogates, U+FFFE/FFFF;
# and it folds NEL, LS and PS as line breaks.
_YAML_UNSAFE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufffe\uffff]"
)
# XML 1.0 has no way to write these at all (§2.2): lxml refuses them, so feeds drop them.
_XML_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_LIQUID = re.compile(r"\{[{%]")
_POST_FILE_NAME = re.compile(r"([0-9]{1,4})-([0-9]{2})-([0-9]{2})-(.+)\.md")
_PLAIN_SAFE = re.compile(r"^[^\s\-?:,\[\]{}#&*!|>'\"%@`][^:#]*$")
_TAG = re.compile(r"<[^>]*>")
_SUMMARY_CHARS = 200


def words_for(language: str) -> dict[str, str]:
    """UI words for a language tag such as `zh-CN` (English when unknown)."""
    return WORDS.get(language.split("-")[0].lower(), WORDS["en"])


_JSON = json.JSONEncoder(ensure_ascii=False)  # json.dumps would build one per call


def yaml_quote(text: str) -> str:
    """A double-quoted YAML scalar that reads back as `text` (JSON-style escapes)."""
    quoted = _JSON.encode(text)
    return _YAML_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", quoted)


def yaml_tags(tags: Sequence[str]) -> str:
    """Jekyll's space-separated tags, quoted when a plain scalar would not read back."""
    text = " ".join("-".join(t.split()) for t in tags if t.strip())
    if text and _PLAIN_SAFE.match(text) and _plain_string(text) and _reads_back_plain(text):
        return text
    return yaml_quote(text)


# Plain scalars that YAML 1.1 (Psych, which Jekyll reads with) resolves to something other
# than a string, in any case: PyYAML's reading alone misses "tRUE", "1,000", "0x1f".
_YAML11_WORDS = frozenset({"y", "yes", "n", "no", "on", "off", "true", "false", "null", "~"})


def _plain_string(text: str) -> bool:
    """Whether Psych reads `text` as a plain scalar string: it begins with no digit, sign or
    dot (numbers, dates, times) and is no boolean or null word."""
    return not (text[0] in "0123456789+-." or text.lower() in _YAML11_WORDS)


def yaml_slug(slug: str) -> str:
    """A category slug as a front matter value that Psych reads as that string."""
    return slug if _plain_string(slug) else yaml_quote(slug)


@functools.lru_cache(maxsize=4096)
def _tags_yaml(tags: tuple[str, ...]) -> str:
    """yaml_tags, remembered: posts of one source mostly carry the same tags."""
    return yaml_tags(tags)


@functools.lru_cache(maxsize=4096)
def _reads_back_plain(text: str) -> bool:
    import yaml  # local: only reached for tags, and cheap once imported

    try:
        return bool(yaml.safe_load(f"t: {text}") == {"t": text})
    except yaml.YAMLError:
        return False


def _xml(text: str) -> str:
    return _XML_UNSAFE.sub("", text)


def _has_liquid(post: Post) -> bool:
    """Whether any field of `post` that its file shows holds Liquid's `{{` or `{%`.

    Jekyll renders a post file with Liquid before Markdown: `{{ site.secret }}` in a link
    would print a config value, `{% raise %}` would stop the whole build. A field next to
    the template's own text cannot make one with it: no template text there starts with
    "{" or "%" or ends with "{".
    """
    search = _LIQUID.search
    return bool(
        search(post.title)
        or search(post.content_html)
        or search(post.link)
        or search(post.source)
        or (post.author and search(post.author))
        or any(search(tag) for tag in post.tags)
    )


# Every character that kramdown (with or without GFM) or HTML gives a meaning in text, as a
# numeric reference: shown as itself by either parser, in a Markdown line or in HTML.
_MARKDOWN_TEXT = str.maketrans(
    {c: f"&#{ord(c)};" for c in "&<>\"'\\`*_{}[]()#+-.!:|$=~^"} | {"\t": " ", "\n": " ", "\r": " "}
)


@functools.lru_cache(maxsize=4096)
def markdown_text(text: object) -> str:
    """`text` as text that kramdown shows as it is wherever it stands (a link's text, a
    paragraph, raw HTML read as Markdown under `parse_block_html`), and so does HTML: its
    specials as numeric references, line breaks as spaces. Links, emphasis, attribute
    lists, extensions, tables and smart quotes are never made of it."""
    return str(text).translate(_MARKDOWN_TEXT)


# What a Markdown link's destination `(…)` or an autolink `<…>` must not hold as itself
# (its end, a title's start, a GFM table's cell): written percent-encoded, as browsers read
# them.
_DESTINATION = str.maketrans({c: f"%{ord(c):02X}" for c in "()<>|\"' `\\"})


def markdown_destination(url: str) -> str:
    """`url` (an http(s) URL or a protocol-relative one) safe in a Markdown link's
    destination and in an autolink."""
    return url.translate(_DESTINATION)


def summary_of(content_html: str, limit: int = _SUMMARY_CHARS) -> str:
    """Plain text of the start of a post's (sanitized) HTML, for atom:summary."""
    text = " ".join(html.unescape(_TAG.sub(" ", content_html)).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def tag_slug(tag: str) -> str:
    """The file name stem of a tag's feed (tag/<slug>.xml)."""
    return slugify(tag) or "tag-" + "-".join(f"{ord(c):x}" for c in tag.strip()[:8])


_zone_suffixes: dict[timedelta | None, str] = {}  # utcoffset -> strftime's %z


def day_strings(day: datetime) -> tuple[str, str, str, str]:
    """A zoned time as the files write it, each as strftime would: `%Y-%m-%d`,
    `%Y-%m-%d %H:%M`, `%Y-%m-%d %H:%M:%S %z` and ISO 8601 (cut from one isoformat(),
    which costs a fifth of one strftime)."""
    if day.year < 1000:  # strftime does not pad %Y to 4 digits; isoformat does
        return (
            day.strftime("%Y-%m-%d"),
            day.strftime("%Y-%m-%d %H:%M"),
            day.strftime("%Y-%m-%d %H:%M:%S %z"),
            day.isoformat(),
        )
    iso = day.isoformat()
    offset = day.utcoffset()
    zone = _zone_suffixes.get(offset)
    if zone is None:
        zone = _zone_suffixes[offset] = day.strftime("%z")
    date = iso[:10]
    return date, f"{date} {iso[11:16]}", f"{date} {iso[11:19]} {zone}", iso


# A per-post value in a template rendered once with markers: "<" comes out as "&lt;"
# where the template escapes the value.
_MARK = re.compile("\ue000([a-z_.]+)(<|&lt;)\ue001")
_MARK_CHARS = re.compile("[\ue000\ue001]")
_DEFAULT_TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def _escape(value: object) -> str:
    """markupsafe.escape(value) as a plain str; a str is escaped without its two calls."""
    if type(value) is str:
        return (
            value.replace("&", "&amp;")
            .replace(">", "&gt;")
            .replace("<", "&lt;")
            .replace("'", "&#39;")
            .replace('"', "&#34;")
        )
    return str(escape(value))


def _mark(name: str) -> str:
    return f"\ue000{name}<\ue001"


def _marks(names: Iterable[str]) -> dict[str, str]:
    return {name: _mark(name) for name in names}


class _MarkedPost:
    """Stands for a post in a template rendered once: each field reads as its marker."""

    __slots__ = ()

    def __getattr__(self, name: str) -> str:
        if name.startswith("_"):
            raise AttributeError(name)
        return _mark(f"post.{name}")


@dataclass(frozen=True, slots=True)
class _Form:
    """A template rendered once with markers where the per-post values go, cut at the
    markers: the rest is the same for every post of a category (and page depth), so a
    post costs an escape per field and one join, not a Jinja render.

    Right only for a template that writes each per-post value as it is (escaped or not)
    and never branches on one: the default templates, which tests hold equal to their
    Jinja rendering. Operators' templates always go through Jinja.
    """

    texts: tuple[str, ...]  # the text around the markers at even indexes, "" between
    order: tuple[int, ...]  # which field each marker is, by index in `fields`
    fields: tuple[tuple[str | None, str, bool], ...]  # post attribute, name, escaped

    @classmethod
    def cut(cls, rendered: str) -> _Form | None:
        """The form of `rendered`; None when a marker came out altered (filtered, cut)."""
        parts = _MARK.split(rendered)
        texts = parts[::3]
        if any(_MARK_CHARS.search(text) for text in texts):
            return None
        fields: dict[tuple[str | None, str, bool], int] = {}
        order = []
        for name, sign in zip(parts[1::3], parts[2::3], strict=True):
            attribute = name[5:] if name.startswith("post.") else None
            order.append(fields.setdefault((attribute, name, sign != "<"), len(fields)))
        spaced = [""] * (2 * len(texts) - 1)
        spaced[::2] = texts
        return cls(tuple(spaced), tuple(order), tuple(fields))

    def fill(self, post: Post, values: dict[str, str]) -> str:
        filled: list[str] = []
        for attribute, name, escaped in self.fields:
            value = values[name] if attribute is None else getattr(post, attribute)
            # As Jinja writes a value: escape() when escaping, else str().
            filled.append(_escape(value) if escaped else str(value))
        out = list(self.texts)
        out[1::2] = [filled[index] for index in self.order]
        return "".join(out)


@dataclass(frozen=True, slots=True, kw_only=True)
class Urls:
    """Where things live on the site, absolute (feeds) and protocol-relative (posts)."""

    base: str  # https://host/path/
    host: str

    @classmethod
    def for_site(cls, site: Site) -> Urls:
        return cls(base=site.base_url, host=urlsplit(site.base_url).netloc)

    @property
    def relative_base(self) -> str:
        return "//" + self.base.split("://", 1)[1]

    def post_path(self, post: Post | ListedPost, zone: ZoneInfo) -> str:
        # Jekyll's default permalink (/:categories/:year/:month/:day/:title.html) for the
        # post file _posts/<date>-<slug>.md with `categories: <slug>`.
        day = post.published.astimezone(zone)
        return f"{post.category}/{day:%Y/%m/%d}/{post.slug}.html"

    def entry_id(self, post: Post) -> str:
        # RFC 4151 tag URI: the date is fixed so the id never changes (RFC 4287 §4.2.6).
        return f"tag:{self.host.split(':')[0]},2026:{post.key}"


def category_page(slug: str, number: int | None = None) -> str:
    """A category's list page: the newest posts, or numbered page `number` (1 = oldest)."""
    return f"category/{slug}.html" if number is None else f"category/{slug}/{number}.html"


def archive_path(slug: str, number: int) -> str:
    """A category's RFC 5005 archive document `number` (1 = oldest)."""
    return f"category/{slug}/archive/{number}.xml"


@dataclass(slots=True)
class PublishReport:
    written: list[Path] = field(default_factory=list)
    removed: list[Path] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)  # names the file system refused
    posts: int = 0
    expired: int = 0
    categories: tuple[str, ...] = ()
    pinged: list[str] = field(default_factory=list)  # feed URLs announced to the WebSub hub


@dataclass(frozen=True, slots=True, kw_only=True)
class _Feed:
    """What one Atom document says about itself besides its entries."""

    url: str  # self, and the id of the document
    page_url: str  # rel="alternate" text/html
    title: str
    hub: str | None = None
    current: str | None = None  # RFC 5005: an archive's subscription document
    prev_archive: str | None = None
    archive: bool = False  # carries fh:archive


class Publisher:
    """Writes the output tree for one config. Build one per publish.

    Category list pages are numbered from the oldest end in arrival order (first seen,
    then key), so a new post changes only the newest numbered page (and, when it opens a
    new page, the one before, whose "newer" link moves); `category/<slug>.html` shows the
    newest posts. Archived feeds (RFC 5005) are cut from the same order and never change
    once written, except when retention removes posts from them.
    """

    def __init__(self, config: Config, store: Store, *, now: datetime | None = None) -> None:
        self.config = config
        self.site = config.site
        self.store = store
        self.now = now or datetime.now(UTC)
        self.zone = ZoneInfo(self.site.timezone)
        self.urls = Urls.for_site(self.site)
        self.words = words_for(self.site.language)
        self.out = self.site.output_dir
        self.hub = config.websub.hub if config.websub else None
        self.env = _environment(self.site.templates_dir, _version(self.site.templates_dir))
        # Looked up once per publish, not once per file.
        self._post_md = self.env.get_template("post.md")
        self._post_html = self.env.get_template("post.html")
        self._list_html = self.env.get_template("list.html")
        self._nav = self.env.get_template("nav.html")
        self._page_bases: dict[str, dict[str, Any]] = {}
        # The package's own post templates are filled, not rendered (see _Form).
        self.filled_templates = frozenset(
            name
            for name, needs in (
                ("post.md", ("post.md",)),
                ("post.html", ("post.html", "base.html")),
            )
            if all(self._is_default(n) for n in needs)
        )
        self._forms: dict[tuple[str, str, object], _Form | None] = {}  # see _file_form
        self._liquid_categories: dict[str, bool] = {}
        self.report = PublishReport()
        self._writer = _Writer(self.out, self.report)
        # Keys of posts never published: their files cannot exist yet (or are leftovers
        # of an interrupted publish, rewritten whole), so they are not read back first.
        self._fresh: set[str] = set()
        # slug -> names in _posts with the date each gives
        self._old_post_files: dict[str, list[tuple[str, tuple[str, str, str]]]] | None = None

    # ----------------------------------------------------------------- driver

    def publish(self, *, full: bool = False) -> PublishReport:
        """Write what changed since the last publish (everything with `full`).

        Posts are marked published only after every file is in place, so a publish that
        is interrupted is completed by the next one.

        Raises:
            PublishError: a file could not be written; what was written stays.
        """
        try:
            return self._publish(full=full)
        finally:
            self._writer.close()

    def _publish(self, *, full: bool) -> PublishReport:
        # A site never published (or deleted) is built whole, even with nothing pending:
        # an operator's first run, whose sources all failed, still gets a site and feeds.
        full = full or not (self.out / "index.html").exists()
        self._clear_stale_temp_files()
        # Before anything is read: a post's slug is final from its first publish on.
        self.store.settle_slugs()
        expired = self._expire()
        if full:
            marks = self.store.pending_revisions()
            # Revision 1 and pending: never published (a later revision may have been).
            self._fresh = {key for key, revision in marks if revision == 1}
            pending: list[Post] = []
            for batch in self.store.iter_posts():
                for post in batch:
                    self.write_post(post)
                self.report.posts += len(batch)
            categories = set(self.config.categories) | set(self.store.categories())
        else:
            pending = self.store.pending()
            if not pending and not expired:
                return self.report
            marks = [(p.key, p.revision) for p in pending]
            self._fresh = {p.key for p in pending if p.revision == 1}
            for post in pending:
                self.write_post(post)
            self.report.posts = len(pending)
            categories = {p.category for p in pending} | {e.category for e in expired}
        rebuilt = {e.category for e in expired}  # arrival order re-cut: every page moves
        sources = {s.name: s for s in self.store.states()}
        for slug in sorted(categories):
            changed = [p for p in pending if p.category == slug]
            self.write_category(
                self.category(slug), sources, changed=changed, rebuild=full or slug in rebuilt
            )
        if self.site.tag_feeds:
            if full or expired:
                self.write_tag_feeds(self.store.tags(), sources, prune=True)
            else:
                self.write_tag_feeds({t for p in pending for t in p.tags}, sources)
        self.write_combined(sources)
        self.write_index()
        self.write_opml()
        self._writer.flush()
        self.store.mark_published(marks)
        self.report.categories = tuple(sorted(categories))
        self.ping_hub()
        return self.report

    def category(self, slug: str) -> Category:
        return self.config.categories.get(slug) or Category(slug=slug, title=slug)

    def _expire(self) -> list[ListedPost]:
        """Delete posts older than `site.retention` and their files; the published ones."""
        if self.site.retention is None:
            return []
        gone = self.store.delete_posts_published_before(self.now - self.site.retention)
        published = [p for p in gone if p.ever_published]
        for post in published:
            self._remove(self.post_file(post))
            self._remove(self.out / self.urls.post_path(post, self.zone))
        self.report.expired = len(published)
        return published

    # ------------------------------------------------------------ post files

    def render_post_file(self, post: Post) -> str:
        """The text of a post's file (`_posts/<date>-<slug>.md`)."""
        _, _, stamp, _ = day_strings(post.published.astimezone(self.zone))
        return self._render_post_file(post, stamp)

    def render_post_page(self, post: Post) -> str:
        """The text of a post's page (`<category>/<yyyy>/<mm>/<dd>/<slug>.html`)."""
        date, minute, _, iso = day_strings(post.published.astimezone(self.zone))
        return self._render_post_page(post, self._post_page_path(post, date), minute, iso)

    def _render_post_file(self, post: Post, stamp: str) -> str:
        category = self.category(post.category)
        liquid = self._category_has_liquid(category) or _has_liquid(post)
        if "post.md" in self.filled_templates:
            form = self._file_form(category, liquid)
            if form is not None:
                return form.fill(post, self._post_file_values(post, stamp))
        return self._post_md.render(
            self._post_file_context(post, category, liquid, self._post_file_values(post, stamp))
        )

    def _post_file_values(self, post: Post, stamp: str) -> dict[str, str]:
        """What the post file shows of `post` besides its fields."""
        link = http_url(post.link)
        return {
            "title_yaml": yaml_quote(post.title),
            "tags_yaml": _tags_yaml(post.tags),
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
            found = bool(_LIQUID.search(category.title) or _LIQUID.search(self.urls.base))
            self._liquid_categories[category.slug] = found
        return found

    def _post_file_context(
        self, post: Post | _MarkedPost, category: Category, liquid: bool, values: dict[str, str]
    ) -> dict[str, Any]:
        base = markdown_destination(self.urls.relative_base)
        return {
            "post": post,
            "category": category,
            "words": self.words,
            "liquid": liquid,
            "category_url": f"{base}category/{category.slug}.html",
            "category_yaml": yaml_slug(category.slug),
            "home_url": base,
            **values,
        }

    def _render_post_page(self, post: Post, page_path: str, minute: str, iso: str) -> str:
        category = self.category(post.category)
        url = self.urls.base + page_path
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
        if "post.html" in self.filled_templates:
            form = self._page_form(category, "../" * page_path.count("/"))
            if form is not None:
                return form.fill(post, values)
        return self._post_html.render(self._post_page_context(page_path, post, category, values))

    def _post_page_context(
        self, page_path: str, post: Post | _MarkedPost, category: Category, values: dict[str, str]
    ) -> dict[str, Any]:
        context = self._page_context(page_path)
        context["post"] = post
        context["category"] = category
        context["feed_url"] = f"{self.urls.base}category/{category.slug}.xml"
        context.update(values)
        return context

    def _file_form(self, category: Category, liquid: bool) -> _Form | None:
        """post.md rendered once for `category` with markers for the per-post values."""
        key = ("post.md", category.slug, liquid)
        if key not in self._forms:
            marks = _marks(
                (
                    "title_yaml",
                    "tags_yaml",
                    "date",
                    "body",
                    "link_line",
                    "source_text",
                    "author",
                    "author_text",
                )
            )
            context = self._post_file_context(_MarkedPost(), category, liquid, marks)
            self._forms[key] = _Form.cut(self._post_md.render(context))
        return self._forms[key]

    def _page_form(self, category: Category, root: str) -> _Form | None:
        """post.html rendered once for `category` at the depth of `root` with markers
        for the per-post values."""
        key = ("post.html", category.slug, root)
        if key not in self._forms:
            path = root.replace("../", "x/") + "x.html"  # any page at that depth
            marks = _marks(("canonical", "url", "iso", "date", "link", "byline"))
            context = self._post_page_context(path, _MarkedPost(), category, marks)
            self._forms[key] = _Form.cut(self._post_html.render(context))
        return self._forms[key]

    def _is_default(self, name: str) -> bool:
        """Whether template `name` comes from the package (no operator's file overrides it)."""
        loader = self.env.loader
        assert loader is not None
        try:
            _, filename, _ = loader.get_source(self.env, name)
        except jinja2.TemplateNotFound:
            return False
        return filename is not None and Path(filename).resolve() == _DEFAULT_TEMPLATES / name

    def post_file(self, post: Post | ListedPost) -> Path:
        day = post.published.astimezone(self.zone)
        return self.out / "_posts" / f"{day:%Y-%m-%d}-{post.slug}.md"

    @staticmethod
    def _post_page_path(post: Post, date: str) -> str:
        return f"{post.category}/{date.replace('-', '/')}/{post.slug}.html"

    def write_post(self, post: Post) -> None:
        """Write a post's file and its page (queued: done when the publish returns)."""
        date, minute, stamp, iso = day_strings(post.published.astimezone(self.zone))
        name = f"{date}-{post.slug}.md"
        page_path = self._post_page_path(post, date)
        fresh = post.key in self._fresh
        if post.revision > 1 and not fresh:
            # An edited post whose date moved leaves its old files behind: remove them.
            for old, (year, month, day) in self._post_files_named(post.slug):
                if old != name:
                    self._remove(self.out / "_posts" / old)
                    stale = f"{post.category}/{year}/{month}/{day}"
                    self._remove(self.out / stale / f"{post.slug}.html")
        out = str(self.out)
        write = self._writer.write
        write(f"{out}/_posts/{name}", self._render_post_file(post, stamp).encode(), fresh=fresh)
        page = self._render_post_page(post, page_path, minute, iso)
        write(f"{out}/{page_path}", page.encode(), fresh=fresh)

    def _post_files_named(self, slug: str) -> list[tuple[str, tuple[str, str, str]]]:
        """Names in _posts/ of files of the post with `slug`, whatever their date, each
        with the year, month and day its name gives.

        The folder holds one file per post: it is listed once per publish, not once per
        edited post. Years are read as written: a file of a post dated before year 1000
        (older versions wrote "1-01-01-<slug>.md") is found too.
        """
        if self._old_post_files is None:
            self._old_post_files = {}
            try:
                names = os.listdir(self.out / "_posts")
            except FileNotFoundError:
                names = []
            for old in names:
                match = _POST_FILE_NAME.fullmatch(old)
                if match is not None:
                    year, month, day, stem = match.groups()
                    self._old_post_files.setdefault(stem, []).append((old, (year, month, day)))
        return self._old_post_files.get(slug, [])

    # ----------------------------------------------------------------- feeds

    def write_category(
        self,
        category: Category,
        sources: dict[str, SourceState],
        *,
        changed: Sequence[Post] = (),
        rebuild: bool = False,
    ) -> None:
        """A category's feed, archives and pages: all of them with `rebuild`, else only
        those that `changed` posts can alter."""
        slug = category.slug
        total = self.store.count_posts(slug)
        pages = -(-total // PAGE_SIZE)
        if rebuild:
            self._prune_numbered(self.out / "category" / slug, "html", pages)
            # Every page: read the arrival order in long runs, not one OFFSET query a page.
            run = PAGE_SIZE * _PAGES_PER_READ
            for start in range(0, total, run):
                listed = self.store.listed_posts(slug, offset=start, limit=run)
                for first in range(0, len(listed), PAGE_SIZE):
                    number = (start + first) // PAGE_SIZE + 1
                    page = listed[first : first + PAGE_SIZE]
                    self._write_numbered_page(category, number, pages, page)
        else:
            positions = self.store.arrival_positions([p.key for p in changed])
            numbers = {n // PAGE_SIZE + 1 for n in positions.values()}
            # A post that opens a new page moves the "newer" link of the page before.
            wanted = numbers | {min(numbers) - 1} if numbers else set()
            for number in sorted(n for n in wanted if 1 <= n <= pages):
                self._write_numbered_page(category, number, pages)

        feed_size = self.site.feed_size
        posts = self.store.recent_posts(category=slug, limit=feed_size)
        archived = total // feed_size if self.site.archives else 0
        if self.site.archives:
            self._write_archives(category, sources, archived, rebuild=rebuild)
            # Subscription + archives must hold every entry (RFC 5005 §4): add the
            # arrivals not archived yet that are not among the newest by date.
            have = {p.key for p in posts}
            tail = self.store.listed_posts(slug, offset=archived * feed_size, limit=feed_size)
            extra = self.store.get_posts([p.key for p in tail if p.key not in have])
            posts = sorted([*posts, *extra], key=lambda p: (-p.published.timestamp(), p.key))
        feed_url = f"{self.urls.base}category/{slug}.xml"
        page_url = self.urls.base + category_page(slug)
        meta = _Feed(
            url=feed_url,
            page_url=page_url,
            title=f"{category.title} · {self.site.title}",
            hub=self.hub,
            prev_archive=self.urls.base + archive_path(slug, archived) if archived else None,
        )
        self._write(self.out / "category" / f"{slug}.xml", self.atom(posts, meta, sources))

        newest = self.store.recent_posts(category=slug, limit=PAGE_SIZE)
        older = (total - PAGE_SIZE - 1) // PAGE_SIZE + 1 if total > PAGE_SIZE else None
        self._write_list(
            category_page(slug),
            newest,
            category=category,
            older=category_page(slug, older) if older else None,
            newer=None,
            pages=pages,
        )

    def _write_numbered_page(
        self,
        category: Category,
        number: int,
        pages: int,
        listed: Sequence[ListedPost] | None = None,
    ) -> None:
        slug = category.slug
        if listed is None:
            listed = self.store.listed_posts(slug, offset=(number - 1) * PAGE_SIZE, limit=PAGE_SIZE)
        self._write_list(
            category_page(slug, number),
            list(reversed(listed)),
            category=category,
            older=category_page(slug, number - 1) if number > 1 else None,
            newer=category_page(slug, number + 1 if number < pages else None),
            number=number,
            pages=pages,
        )

    def _write_archives(
        self, category: Category, sources: dict[str, SourceState], archived: int, *, rebuild: bool
    ) -> None:
        slug = category.slug
        size = self.site.feed_size
        folder = self.out / "category" / slug / "archive"
        if rebuild:
            self._prune_numbered(folder, "xml", archived)
        for number in range(1, archived + 1):
            path = self.out / archive_path(slug, number)
            if not rebuild and path.exists():
                continue  # archive documents are immutable once written
            listed = self.store.listed_posts(slug, offset=(number - 1) * size, limit=size)
            posts = self.store.get_posts([p.key for p in reversed(listed)])
            meta = _Feed(
                url=self.urls.base + archive_path(slug, number),
                page_url=self.urls.base + category_page(slug, (number - 1) * size // PAGE_SIZE + 1),
                title=f"{category.title} · {self.site.title}",
                current=f"{self.urls.base}category/{slug}.xml",
                prev_archive=self.urls.base + archive_path(slug, number - 1)
                if number > 1
                else None,
                archive=True,
            )
            self._write(path, self.atom(posts, meta, sources))

    def write_tag_feeds(
        self, tags: Iterable[str], sources: dict[str, SourceState], *, prune: bool = False
    ) -> None:
        """tag/<slug>.xml for each of `tags`; with `prune`, remove feeds of other tags."""
        by_slug: dict[str, list[str]] = {}
        for tag in sorted(set(tags)):
            by_slug.setdefault(tag_slug(tag), []).append(tag)
        for slug, names in by_slug.items():
            posts = self.store.posts_with_tags(names, limit=self.site.feed_size)
            meta = _Feed(
                url=f"{self.urls.base}tag/{slug}.xml",
                page_url=self.urls.base,
                title=f"{names[0]} · {self.site.title}",
                hub=self.hub,
            )
            self._write(self.out / "tag" / f"{slug}.xml", self.atom(posts, meta, sources))
        if prune and (self.out / "tag").is_dir():
            for path in (self.out / "tag").glob("*.xml"):
                if path.stem not in by_slug:
                    self._remove(path)

    def write_combined(self, sources: dict[str, SourceState]) -> None:
        posts = self.store.recent_posts(limit=self.site.feed_size)
        meta = _Feed(
            url=f"{self.urls.base}atom.xml",
            page_url=self.urls.base,
            title=self.site.title,
            hub=self.hub,
        )
        self._write(self.out / "atom.xml", self.atom(posts, meta, sources))

    def atom(self, posts: Sequence[Post], meta: _Feed, sources: dict[str, SourceState]) -> bytes:
        """An Atom 1.0 document of `posts` (newest first)."""
        fg = FeedGenerator()
        fg.register_extension("extras", _ExtrasFeed, _ExtrasEntry, atom=True, rss=False)
        fg.id(meta.url)
        fg.title(_xml(meta.title))
        # Every href IRI-clean (see iri_href); ids stay as they always were written.
        fg.link(href=_href(meta.page_url), rel="alternate", type="text/html")
        fg.link(href=_href(meta.url), rel="self", type="application/atom+xml")
        if meta.hub:
            fg.link(href=_href(meta.hub), rel="hub")
        if meta.current:
            fg.link(href=_href(meta.current), rel="current", type="application/atom+xml")
        if meta.prev_archive:
            fg.link(href=_href(meta.prev_archive), rel="prev-archive", type="application/atom+xml")
        fg.extras.archive = meta.archive
        fg.language(self.site.language)
        fg.generator("aggregator")
        # RFC 4287 §4.2.15: the feed changed when its newest entry did.
        fg.updated(max((p.updated for p in posts), default=_EMPTY_FEED_DATE))
        for post in posts:
            category = self.category(post.category)
            fe = fg.add_entry(order="append")
            fe.id(self.urls.entry_id(post))
            fe.title(_xml(post.title))
            fe.published(post.published)
            fe.updated(post.updated)
            # The item's own author; the source's name when it named none.
            fe.author(name=_xml(post.author or post.source))
            fe.category(term=category.slug, label=_xml(category.title))
            fe.content(_xml(post.content_html), type="html")
            fe.summary(_xml(summary_of(post.content_html)) or _xml(post.title))
            fe.extras.set(
                alternate=_href(self.urls.base + self.urls.post_path(post, self.zone)),
                via=iri_href(post.link),
                name=_xml(post.source),
                state=sources.get(post.source),
            )
        data: bytes = fg.atom_str(pretty=False)
        return data

    def write_opml(self) -> None:
        """subscriptions.opml: the combined feed and every category feed, to import at once."""
        opml = ElementTree.Element("opml", version="2.0")
        head = ElementTree.SubElement(opml, "head")
        ElementTree.SubElement(head, "title").text = self.site.title
        body = ElementTree.SubElement(opml, "body")

        def outline(title: str, xml_url: str, html_url: str) -> None:
            ElementTree.SubElement(
                body,
                "outline",
                {"type": "rss", "text": title, "title": title, "xmlUrl": xml_url},
                htmlUrl=html_url,
            )

        outline(self.site.title, f"{self.urls.base}atom.xml", self.urls.base)
        for category in self.config.categories.values():
            outline(
                f"{category.title} · {self.site.title}",
                f"{self.urls.base}category/{category.slug}.xml",
                self.urls.base + category_page(category.slug),
            )
        ElementTree.indent(opml, space="  ")
        text = ElementTree.tostring(opml, encoding="unicode")
        self._write(
            self.out / "subscriptions.opml", f'<?xml version="1.0" encoding="UTF-8"?>\n{text}\n'
        )

    def ping_hub(self) -> None:
        """Tell the WebSub hub about every subscription feed this publish changed.

        A hub that cannot be reached is logged, not fatal: the feeds are in place and
        subscribers still poll them.
        """
        if not self.hub:
            return
        urls = []
        for path in self.report.written:
            relative = path.relative_to(self.out).as_posix()
            if relative == "atom.xml" or (
                relative.endswith(".xml")
                and relative.count("/") == 1
                and relative.startswith(("category/", "tag/"))
            ):
                urls.append(self.urls.base + relative)
        if not urls:
            return
        import httpx  # local: only a site with a WebSub hub needs it, and it is slow to import

        try:
            with httpx.Client(timeout=10.0) as client:
                for url in urls:
                    # WebSub §7: the publisher's notification names the topic that changed.
                    response = client.post(self.hub, data={"hub.mode": "publish", "hub.url": url})
                    if response.status_code >= 300:
                        log.warning(
                            "hub %s answered %d for %s", self.hub, response.status_code, url
                        )
                        continue
                    self.report.pinged.append(url)
        except httpx.HTTPError as e:
            log.warning("cannot ping hub %s: %s", self.hub, e)

    # ------------------------------------------------------------------ pages

    def write_index(self) -> None:
        self._write_list("index.html", self.store.recent_posts(limit=PAGE_SIZE), category=None)

    def _write_list(
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
        context = self._page_context(path)
        root = context["root"]
        context.update(
            category=category,
            posts=[self._list_item(p, root) for p in posts],
            newer=root + newer if newer else None,
            older=root + older if older else None,
            number=number,
            pages=pages,
            feed_url=(f"{self.urls.base}category/{category.slug}.xml" if category else None),
        )
        self._write(self.out / path, self._list_html.render(context))

    def _list_item(self, post: Post | ListedPost, root: str) -> dict[str, str]:
        date, minute, _, iso = day_strings(post.published.astimezone(self.zone))
        return {
            "title": post.title,
            "url": f"{root}{post.category}/{date.replace('-', '/')}/{post.slug}.html",
            "iso": iso,
            "date": minute,
            "source": post.source,
            "category": self.category(post.category).title,
        }

    def _page_context(self, path: str) -> dict[str, Any]:
        """A fresh context for the page at `path`: what every page template may use."""
        # Links between pages are relative, so the site browses the same under
        # `aggregator serve`, from a file:// copy and at base_url; feeds stay absolute.
        root = "../" * path.count("/")
        base = self._page_bases.get(root)
        if base is None:
            base = {
                "site": self.site,
                "base": self.urls.base,
                "root": root,
                "home": root or "./",
                "words": self.words,
                "categories": list(self.config.categories.values()),
            }
            # The category menu is the same on every page at one depth: rendered once.
            base["nav"] = Markup(self._nav.render(base))
            self._page_bases[root] = base
        context = dict(base)
        context["canonical"] = self.urls.base + ("" if path == "index.html" else path)
        return context

    # ------------------------------------------------------------------ files

    def _write(self, path: Path, data: str | bytes) -> None:
        """Replace `path` with `data` unless it holds those bytes already (queued)."""
        raw = data.encode() if isinstance(data, str) else data
        self._writer.write(str(path), raw, durable=path.suffix == ".xml")

    def _remove(self, path: Path) -> None:
        try:
            if not path.exists():
                return
            path.unlink()
        except OSError as e:
            raise PublishError(f"cannot remove {path}: {e.strerror or e}") from e
        self.report.removed.append(path)

    def _prune_numbered(self, folder: Path, suffix: str, keep: int) -> None:
        """Remove <n>.<suffix> in `folder` for n > keep (left by a longer past)."""
        if not folder.is_dir():
            return
        for path in folder.glob(f"*.{suffix}"):
            if path.stem.isdigit() and int(path.stem) > keep:
                self._remove(path)

    def _clear_stale_temp_files(self) -> None:
        clear_stale_temp_files(self.out)


def _version(templates_dir: Path | None) -> tuple[tuple[str, int], ...]:
    """What identifies the state of an operator's templates folder: names and mtimes."""
    if templates_dir is None:
        return ()
    try:
        with os.scandir(templates_dir) as entries:
            return tuple(sorted((e.name, e.stat().st_mtime_ns) for e in entries))
    except OSError:
        return ()  # the loader reports a missing template by name


@functools.lru_cache(maxsize=8)
def _environment(templates_dir: Path | None, version: object) -> jinja2.Environment:
    """The Jinja environment for a templates folder at one `version`, shared by the
    publishes of a process (the daemon publishes many times): templates compile once,
    and an edited folder gets a new environment at the next publish."""
    loaders: list[jinja2.BaseLoader] = []
    if templates_dir is not None:
        loaders.append(jinja2.FileSystemLoader(templates_dir))
    loaders.append(jinja2.PackageLoader("aggregator", "templates"))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=jinja2.select_autoescape(["html"]),
        keep_trailing_newline=False,
        undefined=jinja2.StrictUndefined,
        # `version` stands for the check: no stat() per render (`extends` looks up
        # base.html on every render).
        auto_reload=False,
        bytecode_cache=_bytecode_cache(),
    )
    env.filters["markdown_text"] = markdown_text
    return env


def _bytecode_cache() -> jinja2.BytecodeCache | None:
    """Compiled templates kept between processes (Jinja's private folder in the temp
    dir, keyed by each template's source): a `publish` from cron does not compile them
    again each time. None when that folder cannot be used safely."""
    try:
        return jinja2.FileSystemBytecodeCache()
    except (OSError, RuntimeError):
        return None


# A path that the file system refuses for its name alone (too long, a byte it cannot hold):
# that file is skipped with an error, not the whole publish.
_UNWRITABLE_NAME = frozenset({errno.ENAMETOOLONG, errno.EILSEQ})


class _Writer:
    """Replaces files on a few threads, in the order they were given.

    Creating a file is what a big publish spends most on (here 0.5-1 ms of kernel time
    each), with the GIL released: rendering goes on meanwhile. Files go to the threads in
    batches, and each thread creates its temp files in its own folder, since creations in
    one folder queue on its lock. At most `_WRITE_WINDOW` files are in flight, so memory
    stays bounded.
    """

    def __init__(self, out: Path, report: PublishReport, *, threads: int = WRITE_THREADS) -> None:
        # .tmp/<pid>.<writer>.<thread>/: a dead writer's leftovers are found by the pid.
        self._temp_prefix = f"{out / TEMP_DIR}/{os.getpid()}.{next(_writer_ids)}."
        self._report = report
        self._threads = threads
        self._pool: ThreadPoolExecutor | None = None
        self._batch: list[_File] = []
        self._in_flight: deque[tuple[list[_File], Future[list[bool | OSError]]]] = deque()
        self._local = threading.local()
        self._thread_ids = count()
        self._temp_dirs: list[str] = []

    def write(self, path: str, data: bytes, *, fresh: bool = False, durable: bool = False) -> None:
        """Queue `data` for `path`; `fresh`: the file is known not to exist yet.

        Raises:
            PublishError: an earlier queued write failed.
        """
        self._batch.append(_File(path, data, fresh, durable))
        if len(self._batch) >= _WRITE_BATCH:
            self._submit()

    def flush(self) -> None:
        """Wait for every queued write.

        Raises:
            PublishError: a file could not be written.
        """
        self._submit()
        while self._in_flight:
            self._settle()

    def close(self) -> None:
        """Drop writes not started yet (after a failure), wait for those running, and
        remove the temp folders."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        self._batch.clear()
        self._in_flight.clear()
        for folder in self._temp_dirs:
            shutil.rmtree(folder, ignore_errors=True)

    def _submit(self) -> None:
        if not self._batch:
            return
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self._threads, thread_name_prefix="publish")
        batch, self._batch = self._batch, []
        self._in_flight.append((batch, self._pool.submit(self._replace_all, batch)))
        while len(self._in_flight) * _WRITE_BATCH > _WRITE_WINDOW:
            self._settle()

    def _settle(self) -> None:
        batch, future = self._in_flight.popleft()
        for file, outcome in zip(batch, future.result(), strict=False):
            if isinstance(outcome, OSError):
                if outcome.errno in _UNWRITABLE_NAME:
                    # This file can never be written under this name; the rest can.
                    self._report.skipped.append(Path(file.path))
                    log.error(
                        "skipped %s: %s (the name comes from a slug: shorten or rename it)",
                        file.path,
                        outcome.strerror or outcome,
                    )
                    continue
                raise PublishError(f"cannot write {file.path}: {outcome.strerror or outcome}")
            if outcome:
                self._report.written.append(Path(file.path))

    def _replace_all(self, batch: list[_File]) -> list[bool | OSError]:
        """Each file's outcome, up to the first that failed (an error, as a value)."""
        local = self._local
        folder: str | None = getattr(local, "folder", None)
        if folder is None:
            folder = f"{self._temp_prefix}{next(self._thread_ids)}"
            self._temp_dirs.append(folder)
            local.folder, local.names = folder, count()
        outcomes: list[bool | OSError] = []
        for file in batch:
            try:
                outcomes.append(_replace(file, f"{folder}/{next(local.names)}.tmp"))
            except OSError as e:
                outcomes.append(e)
                if e.errno not in _UNWRITABLE_NAME:
                    break
        return outcomes


@dataclass(frozen=True, slots=True)
class _File:
    path: str
    data: bytes
    fresh: bool  # known not to exist yet: not read back first
    durable: bool  # fsync before the rename


_writer_ids = count()  # tells apart the writers of one process (the daemon publishes often)
_WRITE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC


def _replace(file: _File, temp: str) -> bool:
    """Atomically replace `file.path` with `file.data`; False when it held those bytes.

    Plain os calls rather than open(): each call releases the GIL, and fewer calls mean
    fewer hand-overs with the thread rendering.
    """
    path, data = file.path, file.data
    if not file.fresh:
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            pass
        else:
            try:
                # A size that differs settles it without reading the file.
                if os.fstat(fd).st_size == len(data) and os.read(fd, len(data) + 1) == data:
                    return False
            finally:
                os.close(fd)
    try:
        fd = os.open(temp, _WRITE_FLAGS, 0o666)
    except FileNotFoundError:
        # The thread's temp folder is made on its first file, not checked before each.
        os.makedirs(os.path.dirname(temp), exist_ok=True)
        fd = os.open(temp, _WRITE_FLAGS, 0o666)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            if file.durable:
                # Feeds are few and what readers poll: make them survive a power cut.
                # Post files and pages are rebuilt from the store, so they skip it.
                os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.replace(temp, path)
        except FileNotFoundError:
            # The folder is new: made on demand rather than checked before every file.
            os.makedirs(os.path.dirname(path), exist_ok=True)
            os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
    return True


def clear_stale_temp_files(output_dir: Path) -> int:
    """Remove temp files of writers that died (SIGKILL, power cut) before renaming.

    Every atomic write of the publisher goes through `output_dir/.tmp`, so only that
    folder is looked at, however big the site. Returns how many were removed.
    """
    folder = output_dir / TEMP_DIR
    if not folder.is_dir():
        return 0
    removed = 0
    for path in folder.iterdir():
        pid = path.name.split(".", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            if path.is_dir():  # one writer thread's folder
                removed += sum(1 for _ in path.iterdir())
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
                removed += 1
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _href(url: str) -> str:
    """One of our own URLs (from site.base_url) as an IRI-clean href."""
    return iri_href(url) or url


def write_atomic(
    path: Path, data: bytes, *, durable: bool = False, temp: Path | None = None
) -> None:
    """Replace `path` with `data` so that readers see the old file or the new one, never half.

    `temp` is where the data is written first; it must be on the same file system
    (default: a hidden file beside `path`).

    Raises:
        OSError: the folder cannot be created or the disk refused the write; the old
            file is then left as it was.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if temp is None:
        temp = path.parent / f".{path.name}.{os.getpid()}.tmp"
    else:
        temp.parent.mkdir(parents=True, exist_ok=True)
    _replace(_File(str(path), data, fresh=True, durable=durable), str(temp))


def publish(config: Config, store: Store, *, full: bool = False) -> PublishReport:
    """Publish what changed (everything with `full`).

    Raises:
        PublishError: a file could not be written.
    """
    return Publisher(config, store).publish(full=full)


# ------------------------------------------------------------ atom:source


class _ExtrasFeed(BaseExtension):  # type: ignore[misc]
    """feedgen extension: fh:archive (RFC 5005 §4) on archive documents."""

    def __init__(self) -> None:
        self.archive = False

    def extend_ns(self) -> dict[str, str]:
        return {"fh": HISTORY_NS}

    def extend_atom(self, feed: Any) -> Any:
        if self.archive:
            etree.SubElement(feed, f"{{{HISTORY_NS}}}archive")
        return feed


class _ExtrasEntry(BaseEntryExtension):  # type: ignore[misc]
    """feedgen extension writing an entry's links and its atom:source.

    feedgen 1.0 drops the `rel` of entry links (its atom_entry() reads `rel` from the
    element it just created), and its `source()` writes only title and link where
    RFC 4287 §4.2.11 asks for the original feed's id and updated too.

    Elements are made as feedgen makes its own: unqualified names under the root's
    default Atom namespace. A `{ATOM_NS}` name on them would make lxml declare the
    namespace again on each (`ns0:link`, `ns1:link`, `ns2:source`).
    """

    def __init__(self) -> None:
        self._links: list[tuple[str, str]] = []
        self._name: str | None = None
        self._state: SourceState | None = None

    def set(self, *, alternate: str, via: str | None, name: str, state: SourceState | None) -> None:
        self._links = [("alternate", alternate)] + ([("via", via)] if via else [])
        self._name = name
        self._state = state

    def extend_atom(self, entry: Any) -> Any:
        for rel, href in self._links:
            kind = {"type": "text/html"} if rel == "alternate" else {}
            etree.SubElement(entry, "link", rel=rel, href=href, **kind)
        if self._name is None:
            return entry
        state = self._state
        source = etree.SubElement(entry, "source")
        # The original feed's id and links are the feed's own words: an id that is no
        # absolute IRI ("123", "/p/1", "urn:x") gives way to the feed's URL, and links are
        # held to the checks of an entry's link (a `javascript:` home page is dropped).
        feed_url = iri_href(state.url) if state else None
        feed_id = atom_id(state.feed_id) if state else None
        if feed_id or feed_url:
            etree.SubElement(source, "id").text = _xml(feed_id or feed_url or "")
        title = etree.SubElement(source, "title")
        title.text = _xml((state.feed_title if state else None) or self._name)
        home = iri_href(state.feed_link) if state else None
        if home:
            etree.SubElement(source, "link", rel="alternate", href=home)
        if feed_url:
            etree.SubElement(source, "link", rel="self", href=feed_url)
        if state and state.last_success:
            etree.SubElement(source, "updated").text = state.last_success.isoformat()
        return entry
