"""Publish stage, the publisher: one publish, from the store's reads through the plan to
the writers; the OPML file, the WebSub ping, and the fingerprint kept once all is written.

Orchestrates only: what to write is plan.py's decision (widened by what fingerprint.py
says changed), where it goes the sitemap's, how it reads the other modules'; the OPML text
is config.opml's, the ping's HTTP fetch.websub's.
Must NOT build a path or URL itself, render a feed format or speak HTTP.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from aggregator.config.opml import subscriptions_opml
from aggregator.errors import PublishBusy, PublishError
from aggregator.publish.categories import Categories
from aggregator.publish.feeds import FORMATS, Feeds
from aggregator.publish.files import Writer, clear_stale_temp_files, make_output_dir, remove
from aggregator.publish.fingerprint import (
    EVERYTHING,
    Aspect,
    Output,
    changed_aspects,
    fingerprint,
    forget_fingerprint,
    read_fingerprint,
    rewritten,
    write_fingerprint,
)
from aggregator.publish.form import environment, template_problem, words_for
from aggregator.publish.pages import PAGE_SIZE, Pages
from aggregator.publish.plan import Plan, full_plan, incremental_plan
from aggregator.publish.posts import PostFiles
from aggregator.publish.report import PublishReport
from aggregator.publish.sitemap import Sitemap, tag_slug
from aggregator.store.api import PublishReads
from aggregator.types import Category, Config, ListedPost, Post, SourceState

__all__ = ["Publisher", "publish"]

log = logging.getLogger("aggregator.publish")

_FEED_EXTENSIONS = tuple(f.extension for f in FORMATS)


class Publisher:
    """Writes the output tree for one config. Build one per publish.

    Category list pages are numbered from the oldest end in arrival order (first seen,
    then key), so a new post changes only the newest numbered page (and, when it opens a
    new page, the one before, whose "newer" link moves); `category/<slug>.html` shows the
    newest posts. Archived feeds (RFC 5005) are cut from the same order and never change
    once written, except when retention removes posts from them.
    """

    def __init__(
        self,
        config: Config,
        store: PublishReads,
        *,
        now: datetime | None = None,
        on_post: Callable[[Post], None] | None = None,
        aspects: Iterable[Aspect] = (),
        on_total: Callable[[int], None] | None = None,
    ) -> None:
        self.config = config
        # Told how many posts are written when a site change makes it every one (progress).
        self.on_total = on_total
        self.extra_aspects = tuple(aspects)  # more of what shapes the output (fingerprint.py)
        self.on_post = on_post  # called after each post's files are queued (progress)
        self.site = config.site
        self.store = store
        self.now = now or datetime.now(UTC)
        # The ids' base is kept from the first publish on: a new base_url moves no id.
        self.sitemap = Sitemap.for_site(self.site, id_base=store.id_base(self.site.base_url))
        self.zone = self.sitemap.zone
        self.words = words_for(self.site.language)
        self.out = self.site.output_dir
        self.hub = config.websub.hub if config.websub else None
        self.env = environment(self.site.templates_dir)
        self.report = PublishReport()
        self._writer = Writer(self.out, self.report)
        self._menu: list[Category] | None = None
        self._with_posts: list[str] | None = None
        self._pages = Pages(
            config,
            self.sitemap,
            self.env,
            self.words,
            category=self.category,
            menu=self.menu,
            write=self._write,
        )
        self._posts = PostFiles(
            self.sitemap,
            self.env,
            self._pages,
            out=self.out,
            category=self.category,
            writer=self._writer,
            remove=self._remove,
        )
        self.filled_templates = self._posts.filled_templates
        self._feeds = Feeds(
            self.site, self.sitemap, hub=self.hub, category=self.category, write=self._write
        )
        self._categories = Categories(
            self.site,
            self.sitemap,
            store,
            pages=self._pages,
            feeds=self._feeds,
            out=self.out,
            report=self.report,
        )
        self._fresh: frozenset[str] = frozenset()  # see Plan.fresh
        self._titles: dict[str, str] = {}  # every category title kept (see category())

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
        full = full or not (self.out / self.sitemap.index).exists()
        make_output_dir(self.out)  # a file in its place is said so, before any file in it fails
        # Under the publish lock (publish()): on a shared store no other node writes now.
        clear_stale_temp_files(self.out, others=self.store.shared)
        # Before anything is read: a post's slug is final from its first publish on.
        self.store.settle_slugs()
        titles = {c.slug: c.title for c in self.config.categories.values()}
        self._titles = self.store.category_titles(titles)
        expired = self._expire()
        # After expiry (it may empty a category), before any page is rendered.
        aspects = self.aspects()
        rewrite = EVERYTHING if full else self._rewrite(aspects)
        if "tags" in self.report.changed:  # since the last publish, not of older versions'
            self._retag()
        if full:
            forget_fingerprint(self.out)  # one cut short leaves the next publish full
        plan: Plan | None
        categories = [*self.config.categories, *self._having()]
        if full or rewrite & {"post_files", "post_pages"}:
            marks = self.store.pending_revisions()
            plan = full_plan(marks, categories, expired, rewrite=rewrite)
            self._write_every_post(plan)
        else:
            plan = incremental_plan(
                self.store.pending(), expired, rewrite=rewrite, categories=categories
            )
            if plan is None:
                return self.report
            self._fresh = plan.fresh
            for post in plan.pending:
                self.write_post(post)
            self.report.posts = len(plan.pending)
        sources = {s.name: s for s in self.store.states()}
        for slug in plan.categories:
            self._categories.write(
                self.category(slug),
                sources,
                changed=plan.changed(slug),
                rebuild=plan.rebuild(slug),
                rebuild_archives=plan.rebuild_archives(slug),
            )
        if self.site.tag_feeds:
            if plan.tags is None:
                self.write_tag_feeds(self.store.tags(), sources, prune=True)
            else:
                self.write_tag_feeds(plan.tags, sources)
        elif plan.tags is None:
            self.write_tag_feeds((), sources, prune=True)  # tag feeds were turned off
        self.write_combined(sources)
        if "feeds" in rewrite:  # whole: the feeds of a format the site no longer writes go
            for old in self._feeds.unpublished(self.out):
                self._remove(old)
        self.write_index()
        self.write_opml()
        self._writer.flush()
        self.store.mark_published(list(plan.marks))
        self.report.categories = plan.categories
        # Only now: a publish cut short leaves the old fingerprint, and the next one
        # rewrites what this one had to.
        write_fingerprint(self.out, aspects)
        self.ping_hub()
        return self.report

    def _retag(self) -> None:
        """Stored posts take their sources' tags now (a category's new title by default)."""
        from aggregator.normalize import with_content  # nh3: only when tags may move

        tags = {s.name: s.tags for s in self.config.sources}
        self.store.retag(tags, lambda post: with_content(post, post.content_html))

    def aspects(self) -> list[Aspect]:
        """What shapes this publish's output (fingerprint.py), with the extra aspects."""
        ids = (self.sitemap.entry_ids, self.sitemap.feed_ids)
        return fingerprint(
            self.config, self.env, menu=self.menu(), ids=ids, extra=self.extra_aspects
        )

    def _rewrite(self, aspects: Sequence[Aspect]) -> frozenset[Output]:
        """The outputs to rewrite whole: those the aspects that changed since the last
        complete publish shape (everything when it left no fingerprint)."""
        previous = read_fingerprint(self.out)
        if previous is None:
            self.report.changed = ("fingerprint",)
            return EVERYTHING
        changed = changed_aspects(aspects, previous)
        self.report.changed = tuple(a.name for a in changed)
        if changed:
            log.info("the site changed (%s): rewriting its files", ", ".join(self.report.changed))
        return rewritten(changed)

    def _write_every_post(self, plan: Plan) -> None:
        """Every post the store holds: its file and page as `plan.rewrite` says, both for a
        pending post. A new zone moves posts' dates: old files of a post are removed."""
        self._fresh = plan.fresh
        pending = {key for key, _ in plan.marks}
        files, pages = "post_files" in plan.rewrite, "post_pages" in plan.rewrite
        self._posts.sweep = files
        if self.on_total is not None:
            self.on_total(self.store.count_posts())
        for batch in self.store.iter_posts():
            for post in batch:
                mine = post.key in pending
                self._posts.write(
                    post, fresh=post.key in self._fresh, file=files or mine, page=pages or mine
                )
                if self.on_post is not None:
                    self.on_post(post)
            self.report.posts += len(batch)

    def menu(self) -> list[Category]:
        """The categories every page links: the configured ones that have posts, in the
        config's order (read once per publish)."""
        if self._menu is None:
            having = set(self._having())
            self._menu = [c for c in self.config.categories.values() if c.slug in having]
        return self._menu

    def _having(self) -> list[str]:
        """The slugs of the categories that have posts (read once per publish)."""
        if self._with_posts is None:
            self._with_posts = self.store.categories()
        return self._with_posts

    def category(self, slug: str) -> Category:
        """The config's category, else the one a removed category was (its title kept)."""
        found = self.config.categories.get(slug)
        return found or Category(slug=slug, title=self._titles.get(slug, slug))

    def _expire(self) -> list[ListedPost]:
        """Delete posts older than `site.retention` and their files; the published ones."""
        if self.site.retention is None:
            return []
        gone = self.store.delete_posts_published_before(self.now - self.site.retention)
        published = [p for p in gone if p.ever_published]
        for post in published:
            self._remove(self.post_file(post))
            self._remove(self.out / self.sitemap.post_page(post))
        self.report.expired = len(published)
        return published

    def render_post_file(self, post: Post) -> str:
        """The text of a post's file (`_posts/<date>-<slug>.md`)."""
        return self._posts.render_file(post)

    def render_post_page(self, post: Post) -> str:
        """The text of a post's page (`<category>/<yyyy>/<mm>/<dd>/<slug>.html`)."""
        return self._posts.render_page(post)

    def post_file(self, post: Post | ListedPost) -> Path:
        return self.out / self.sitemap.post_file(post)

    def write_post(self, post: Post) -> None:
        """Write a post's file and its page (queued: done when the publish returns)."""
        self._posts.write(post, fresh=post.key in self._fresh)
        if self.on_post is not None:
            self.on_post(post)

    def write_tag_feeds(
        self, tags: Iterable[str], sources: dict[str, SourceState], *, prune: bool = False
    ) -> None:
        """tag/<slug>.xml for each of `tags`; with `prune` (`tags` then every tag the
        store holds), remove feeds of other tags.

        A feed holds every tag of its slug ("AI" and "ai"), the store's tags and not only
        those given: a post tagged "ai" must not empty the feed of the "AI" posts."""
        given = set(tags)
        wanted = {tag_slug(tag) for tag in given}
        by_slug: dict[str, list[str]] = {}
        for tag in sorted(given if prune or not given else self.store.tags()):
            slug = tag_slug(tag)
            if slug in wanted:
                by_slug.setdefault(slug, []).append(tag)
        for slug, names in by_slug.items():
            posts = self.store.posts_with_tags(names, limit=self.site.feed_size)
            self._feeds.tag(slug, names, posts, sources)
        folder = self.out / self.sitemap.tags_folder
        if prune and folder.is_dir():
            for fmt in self._feeds.formats:
                for old in folder.glob(f"*{fmt.extension}"):
                    if old.stem not in by_slug:
                        self._remove(old)

    def write_combined(self, sources: dict[str, SourceState]) -> None:
        self._feeds.combined(self.store.recent_posts(limit=self.site.feed_size), sources)

    def write_index(self) -> None:
        self._pages.write_index(self.store.recent_posts(limit=PAGE_SIZE))

    def write_opml(self) -> None:
        """subscriptions.opml: the combined feed and every category feed, in each format, to
        import at once (an Atom feed's title as it was; another format's names it)."""
        slugs = dict.fromkeys([*self.config.categories, *self._having()])
        formats = [(f.extension, f" ({f.label})" * (f.name != "atom")) for f in self._feeds.formats]
        categories = map(self.category, slugs)
        subscriptions = self.sitemap.subscriptions(self.site.title, categories, formats)
        self._write(self.sitemap.opml, subscriptions_opml(self.site.title, subscriptions))

    def ping_hub(self) -> None:
        """Tell the WebSub hub about every subscription feed this publish changed.

        A hub that cannot be reached is logged, not fatal: the feeds are in place and
        subscribers still poll them.
        """
        if not self.hub:
            return
        written = (path.relative_to(self.out).as_posix() for path in self.report.written)
        topic, extensions = self.sitemap.is_topic, [f.extension for f in self._feeds.formats]
        urls = [self.sitemap.url(p) for p in written if any(topic(p, e) for e in extensions)]
        if not urls:
            return
        # Local: only a site with a WebSub hub needs the HTTP client, and it is slow to import.
        from aggregator.fetch.websub import ping_hub

        self.report.pinged.extend(ping_hub(self.hub, urls, logger=log))

    def _write(self, path: str, data: str | bytes) -> None:
        """Replace `path` (under the output folder) with `data` unless it holds those
        bytes already (queued). Feeds are made durable: they are what readers poll."""
        raw = data.encode() if isinstance(data, str) else data
        self._writer.write(f"{self.out}/{path}", raw, durable=path.endswith(_FEED_EXTENSIONS))

    def _remove(self, path: Path) -> None:
        remove(path, self.report)


def publish(
    config: Config,
    store: PublishReads,
    *,
    full: bool = False,
    on_post: Callable[[Post], None] | None = None,
    aspects: Iterable[Aspect] = (),
    on_total: Callable[[int], None] | None = None,
) -> PublishReport:
    """Publish what changed (everything with `full`); `on_post` is told of each post
    written; `aspects`: more of what shapes the output, beside the config's (a change of
    one rewrites the outputs it shapes); `on_total` is told how many posts are written
    when a change of the site makes it every one.

    On a shared store, one node publishes at a time (Store.publishing): the others get
    PublishBusy, and publish later what is still pending then.

    Raises:
        PublishBusy: another node is publishing now.
        PublishError: a file could not be written, or a template failed (the message
            names the template's file and line).
    """
    try:
        with store.publishing() as ours:
            if not ours:
                raise PublishBusy("another node is publishing now")
            publisher = Publisher(
                config, store, on_post=on_post, aspects=aspects, on_total=on_total
            )
            return publisher.publish(full=full)
    except Exception as e:
        # An operator's template is the operator's code: its fault is a publish's, named.
        problem = template_problem(e)
        if problem is None:
            raise
        raise PublishError(problem) from e
