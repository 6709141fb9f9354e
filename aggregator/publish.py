"""Publish stage: posts from the store -> post files, Atom feeds and HTML pages.

feedgen lives here only. Every file is written atomically (temp file + rename), and a
file whose bytes would not change is not touched, so a reader never sees half a feed
and mtimes say what really changed.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import jinja2
from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator
from lxml import etree

from aggregator.errors import PublishError
from aggregator.store import Store
from aggregator.types import Category, Config, Post, Site, SourceState

ATOM_NS = "http://www.w3.org/2005/Atom"
PAGE_SIZE = 50  # posts per category page and on the index

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
    },
    "en": {
        "back_to": "Back to ",
        "home": "Home",
        "separator": " | ",
        "source_open": "(Source: ",
        "source_close": ")",
        "newer": "Newer",
        "older": "Older",
    },
}

# YAML (1.1, as PyYAML and Jekyll's Psych read it) refuses these even inside a
# double-quoted scalar unless escaped: C0/C1 controls, DEL, surrogates, U+FFFE/FFFF;
# and it folds NEL, LS and PS as line breaks.
_YAML_UNSAFE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufffe\uffff]"
)
_LIQUID = re.compile(r"\{[{%]")
_PLAIN_SAFE = re.compile(r"^[^\s\-?:,\[\]{}#&*!|>'\"%@`][^:#]*$")


def words_for(language: str) -> dict[str, str]:
    """UI words for a language tag such as `zh-CN` (English when unknown)."""
    return WORDS.get(language.split("-")[0].lower(), WORDS["en"])


def yaml_quote(text: str) -> str:
    """A double-quoted YAML scalar that reads back as `text` (JSON-style escapes)."""
    quoted = json.dumps(text, ensure_ascii=False)
    return _YAML_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", quoted)


def yaml_tags(tags: Sequence[str]) -> str:
    """Jekyll's space-separated tags, quoted when a plain scalar would not read back."""
    text = " ".join("-".join(t.split()) for t in tags if t.strip())
    if text and _PLAIN_SAFE.match(text) and _reads_back_plain(text):
        return text
    return yaml_quote(text)


def _reads_back_plain(text: str) -> bool:
    import yaml  # local: only reached for tags, and cheap once imported

    try:
        return bool(yaml.safe_load(f"t: {text}") == {"t": text})
    except yaml.YAMLError:
        return False


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

    def post_path(self, post: Post, zone: ZoneInfo) -> str:
        day = post.published.astimezone(zone)
        return f"{post.category}/{day:%Y/%m/%d}/{post.slug}.html"

    def entry_id(self, post: Post) -> str:
        # RFC 4151 tag URI: the date is fixed so the id never changes (RFC 4287 §4.2.6).
        return f"tag:{self.host},2026:{post.key}"


@dataclass(slots=True)
class PublishReport:
    written: list[Path] = field(default_factory=list)
    removed: list[Path] = field(default_factory=list)
    posts: int = 0
    categories: tuple[str, ...] = ()


class Publisher:
    """Writes the output tree for one config. Build one per publish."""

    def __init__(self, config: Config, store: Store) -> None:
        self.config = config
        self.site = config.site
        self.store = store
        self.zone = ZoneInfo(self.site.timezone)
        self.urls = Urls.for_site(self.site)
        self.words = words_for(self.site.language)
        self.out = self.site.output_dir
        loaders: list[jinja2.BaseLoader] = []
        if self.site.templates_dir is not None:
            loaders.append(jinja2.FileSystemLoader(self.site.templates_dir))
        loaders.append(jinja2.PackageLoader("aggregator", "templates"))
        self.env = jinja2.Environment(
            loader=jinja2.ChoiceLoader(loaders),
            autoescape=jinja2.select_autoescape(["html"]),
            keep_trailing_newline=False,
            undefined=jinja2.StrictUndefined,
        )
        self.report = PublishReport()

    # ----------------------------------------------------------------- driver

    def publish(self, *, full: bool = False) -> PublishReport:
        """Write what changed since the last publish (everything with `full`).

        Raises:
            PublishError: a file could not be written; what was written stays.
        """
        pending = self.store.pending()
        if full:
            posts = self.store.recent_posts()
            categories = list(self.config.categories)
        else:
            posts = pending
            categories = sorted({p.category for p in pending})
        if not posts and not full:
            return self.report
        for post in posts:
            self.write_post(post)
        sources = {s.name: s for s in self.store.states()}
        for slug in categories:
            category = self.category(slug)
            self.write_category(category, sources)
        self.write_combined(sources)
        self.write_index()
        # Only after every file is in place: a crash before this point publishes again.
        self.store.mark_published([(p.key, p.revision) for p in pending])
        self.report.posts = len(posts)
        self.report.categories = tuple(categories)
        return self.report

    def category(self, slug: str) -> Category:
        return self.config.categories.get(slug) or Category(slug=slug, title=slug)

    # ------------------------------------------------------------ post files

    def render_post_file(self, post: Post) -> str:
        category = self.category(post.category)
        day = post.published.astimezone(self.zone)
        base = self.urls.relative_base
        return self.env.get_template("post.md").render(
            post=post,
            category=category,
            words=self.words,
            title_yaml=yaml_quote(post.title),
            tags_yaml=yaml_tags(post.tags),
            date=day.strftime("%Y-%m-%d %H:%M:%S %z"),
            liquid=bool(_LIQUID.search(post.title) or _LIQUID.search(post.content_html)),
            category_url=f"{base}category/{category.slug}.html",
            home_url=base,
        )

    def post_file(self, post: Post) -> Path:
        day = post.published.astimezone(self.zone)
        return self.out / "_posts" / f"{day:%Y-%m-%d}-{post.slug}.md"

    def write_post(self, post: Post) -> None:
        path = self.post_file(post)
        if post.revision > 1:
            # An edited post whose date moved leaves its old file behind: remove it.
            for old in path.parent.glob(f"????-??-??-{post.slug}.md"):
                if old != path:
                    self._remove(old)
        self._write(path, self.render_post_file(post))
        category = self.category(post.category)
        page = self.env.get_template("post.html").render(
            **self._page_context(),
            post=post,
            category=category,
            iso=post.published.astimezone(self.zone).isoformat(),
            date=post.published.astimezone(self.zone).strftime("%Y-%m-%d %H:%M"),
            category_url=f"{self.urls.base}category/{category.slug}.html",
            home_url=self.urls.base,
        )
        self._write(self.out / self.urls.post_path(post, self.zone), page)

    # ----------------------------------------------------------------- feeds

    def write_category(self, category: Category, sources: dict[str, SourceState]) -> None:
        posts = self.store.recent_posts(category=category.slug, limit=self.site.feed_size)
        feed_url = f"{self.urls.base}category/{category.slug}.xml"
        page_url = f"{self.urls.base}category/{category.slug}.html"
        title = f"{category.title} · {self.site.title}"
        self._write(
            self.out / "category" / f"{category.slug}.xml",
            self.atom(posts, feed_url=feed_url, page_url=page_url, title=title, sources=sources),
        )
        all_posts = self.store.recent_posts(category=category.slug)
        self._write_list(f"category/{category.slug}", all_posts, category=category)

    def write_combined(self, sources: dict[str, SourceState]) -> None:
        posts = self.store.recent_posts(limit=self.site.feed_size)
        self._write(
            self.out / "atom.xml",
            self.atom(
                posts,
                feed_url=f"{self.urls.base}atom.xml",
                page_url=self.urls.base,
                title=self.site.title,
                sources=sources,
            ),
        )

    def atom(
        self,
        posts: Sequence[Post],
        *,
        feed_url: str,
        page_url: str,
        title: str,
        sources: dict[str, SourceState],
    ) -> bytes:
        """An Atom 1.0 document of `posts` (newest first)."""
        fg = FeedGenerator()
        fg.register_extension("extras", _ExtrasFeed, _ExtrasEntry, atom=True, rss=False)
        fg.id(feed_url)
        fg.title(title)
        fg.link(href=page_url, rel="alternate", type="text/html")
        fg.link(href=feed_url, rel="self", type="application/atom+xml")
        fg.language(self.site.language)
        fg.generator("aggregator")
        newest = max((p.updated for p in posts), default=None)
        fg.updated(newest or datetime(2026, 1, 1, tzinfo=self.zone))
        for post in posts:
            category = self.category(post.category)
            fe = fg.add_entry(order="append")
            fe.id(self.urls.entry_id(post))
            fe.title(post.title)
            fe.published(post.published)
            fe.updated(post.updated)
            fe.author(name=post.source)
            fe.category(term=category.slug, label=category.title)
            fe.content(post.content_html, type="html")
            state = sources.get(post.source)
            fe.extras.set(
                alternate=self.urls.base + self.urls.post_path(post, self.zone),
                via=post.link or None,
                name=post.source,
                state=state,
            )
        data: bytes = fg.atom_str(pretty=False)
        return data

    # ------------------------------------------------------------------ pages

    def write_index(self) -> None:
        self._write_list("index", self.store.recent_posts(limit=PAGE_SIZE), category=None)

    def _write_list(self, stem: str, posts: Sequence[Post], *, category: Category | None) -> None:
        pages = [posts[i : i + PAGE_SIZE] for i in range(0, len(posts), PAGE_SIZE)] or [[]]
        if category is None:
            pages = pages[:1]

        def name(n: int) -> str:
            return f"{stem}.html" if n == 0 else f"{stem}-{n + 1}.html"

        for n, chunk in enumerate(pages):
            html = self.env.get_template("list.html").render(
                **self._page_context(),
                category=category,
                posts=[self._list_item(p) for p in chunk],
                newer=self.urls.base + name(n - 1) if n > 0 else None,
                older=self.urls.base + name(n + 1) if n + 1 < len(pages) else None,
            )
            self._write(self.out / name(n), html)

    def _list_item(self, post: Post) -> dict[str, str]:
        day = post.published.astimezone(self.zone)
        return {
            "title": post.title,
            "url": self.urls.base + self.urls.post_path(post, self.zone),
            "iso": day.isoformat(),
            "date": day.strftime("%Y-%m-%d %H:%M"),
            "source": post.source,
        }

    def _page_context(self) -> dict[str, Any]:
        return {
            "site": self.site,
            "base": self.urls.base,
            "words": self.words,
            "categories": list(self.config.categories.values()),
        }

    # ------------------------------------------------------------------ files

    def _write(self, path: Path, data: str | bytes) -> None:
        raw = data.encode() if isinstance(data, str) else data
        try:
            if path.exists() and path.read_bytes() == raw:
                return
            write_atomic(path, raw, durable=path.suffix == ".xml")
        except OSError as e:
            raise PublishError(f"cannot write {path}: {e.strerror or e}") from e
        self.report.written.append(path)

    def _remove(self, path: Path) -> None:
        try:
            path.unlink(missing_ok=True)
        except OSError as e:
            raise PublishError(f"cannot remove {path}: {e.strerror or e}") from e
        self.report.removed.append(path)


def write_atomic(path: Path, data: bytes, *, durable: bool = False) -> None:
    """Replace `path` with `data` so that readers see the old file or the new one, never half.

    Raises:
        OSError: the folder cannot be created or the disk refused the write; the old
            file is then left as it was.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    # One writer per output tree (the instance lock), so a pid-named temp file cannot
    # clash; it sits in the same folder so that the rename is atomic.
    tmp = path.parent / f".{path.name}.{os.getpid()}.tmp"
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            if durable:
                # Feeds are few and what readers poll: make them survive a power cut.
                # Post files and pages are rebuilt from the store, so they skip it.
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def publish(config: Config, store: Store, *, full: bool = False) -> PublishReport:
    """Publish what changed (everything with `full`).

    Raises:
        PublishError: a file could not be written.
    """
    return Publisher(config, store).publish(full=full)


# ------------------------------------------------------------ atom:source


class _ExtrasFeed(BaseExtension):  # type: ignore[misc]
    """feedgen extension: nothing at feed level."""


class _ExtrasEntry(BaseEntryExtension):  # type: ignore[misc]
    """feedgen extension writing an entry's links and its atom:source.

    feedgen 1.0 drops the `rel` of entry links (its atom_entry() reads `rel` from the
    element it just created), and its `source()` writes only title and link where
    RFC 4287 §4.2.11 asks for the original feed's id and updated too.
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
            etree.SubElement(entry, f"{{{ATOM_NS}}}link", rel=rel, href=href, **kind)
        if self._name is None:
            return entry
        state = self._state
        source = etree.SubElement(entry, f"{{{ATOM_NS}}}source")
        feed_url = state.url if state else None
        if state and (state.feed_id or feed_url):
            etree.SubElement(source, f"{{{ATOM_NS}}}id").text = state.feed_id or feed_url
        title = etree.SubElement(source, f"{{{ATOM_NS}}}title")
        title.text = (state.feed_title if state else None) or self._name
        if state and state.feed_link:
            etree.SubElement(source, f"{{{ATOM_NS}}}link", rel="alternate", href=state.feed_link)
        if feed_url:
            etree.SubElement(source, f"{{{ATOM_NS}}}link", rel="self", href=feed_url)
        if state and state.last_success:
            etree.SubElement(source, f"{{{ATOM_NS}}}updated").text = state.last_success.isoformat()
        return entry
