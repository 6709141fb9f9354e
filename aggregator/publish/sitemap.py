"""Publish stage, sitemap: every path and URL of the output tree, computed here only.

Post files and pages, category list pages, feeds and archives, tag feeds, the combined
feed, the OPML file and the index: their paths relative to `output_dir`, and the URLs
they have under `site.base_url` (absolute for feeds, protocol-relative for post files,
relative between pages), and the atom:ids of feeds and entries. Templates, feeds, OPML,
WebSub topics and the page writer all ask it. Pure: no I/O; it must NOT render or write anything.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from aggregator.config.opml import Subscription
from aggregator.slug import slugify
from aggregator.types import Category, ListedPost, Post, Site

__all__ = ["FEED_EXTENSION", "POSTS_DIR", "Sitemap", "day_strings", "tag_slug"]

POSTS_DIR = "_posts"  # Jekyll's folder of post files
FEED_EXTENSION = ".xml"  # of the Atom feeds, every feed a site without `site.formats` has
# The combined feed of each format, by the extension of its other files: Atom's stays
# atom.xml, RSS's is rss.xml (what readers try), JSON Feed's feed.json (its spec's example).
_COMBINED = {FEED_EXTENSION: "atom.xml", ".rss": "rss.xml", ".json": "feed.json"}
# A post file's name: <date>-<slug>.md, the year as written (older versions wrote
# "1-01-01-<slug>.md" for a post dated before year 1000).
_POST_FILE_NAME = re.compile(r"([0-9]{1,4})-([0-9]{2})-([0-9]{2})-(.+)\.md")

_zone_suffixes: dict[timedelta | None, str] = {}  # utcoffset -> strftime's %z


def day_strings(day: datetime) -> tuple[str, str, str, str]:
    """A zoned time as the files write it, each as strftime would: `%Y-%m-%d`,
    `%Y-%m-%d %H:%M`, `%Y-%m-%d %H:%M:%S %z` (cut from one isoformat(), which costs a fifth
    of one strftime), and the time as an HTML `datetime` value (html_datetime)."""
    if day.year < 1000:  # strftime does not pad %Y to 4 digits; isoformat does
        return (
            day.strftime("%Y-%m-%d"),
            day.strftime("%Y-%m-%d %H:%M"),
            day.strftime("%Y-%m-%d %H:%M:%S %z"),
            html_datetime(day),
        )
    iso = day.isoformat()
    offset = day.utcoffset()
    zone = _zone_suffixes.get(offset)
    if zone is None:
        zone = _zone_suffixes[offset] = day.strftime("%z")
    date = iso[:10]
    html = html_datetime(day) if len(iso) != 25 else iso  # 25: no fraction, offset +hh:mm
    return date, f"{date} {iso[11:16]}", f"{date} {iso[11:19]} {zone}", html


def html_datetime(day: datetime) -> str:
    """`day` as a valid global date and time string of HTML (§2.3.5.8), which a `<time
    datetime>` holds: ISO 8601 with at most three digits of a second, and an offset in
    hours and minutes. A zone's local mean time (Asia/Shanghai before 1901: +08:05:43)
    has seconds in its offset: that time is written in UTC."""
    offset = day.utcoffset()
    if offset is not None and (offset.seconds % 60 or offset.microseconds):
        day = day.astimezone(UTC)
    iso = day.isoformat()
    return iso[:23] + iso[26:] if iso[19:20] == "." else iso


def tag_slug(tag: str) -> str:
    """The file name stem of a tag's feed (tag/<slug>.xml)."""
    return slugify(tag) or "tag-" + "-".join(f"{ord(c):x}" for c in tag.strip()[:8])


@dataclass(frozen=True, slots=True, kw_only=True)
class Sitemap:
    """Where things live on one site. Paths are relative to the output folder, POSIX-spelled;
    `url()` makes one absolute."""

    base: str  # https://host/path/
    host: str
    zone: ZoneInfo  # the site's: a post's date in its paths is the date there
    # What atom:ids start with. They never change (RFC 4287 §4.2.6), not when base_url
    # does: made from site.id, else from the base_url of the site's first publish.
    entry_ids: str  # tag:<authority>:
    feed_ids: str  # tag:<authority>: with site.id, else the first publish's base_url

    @classmethod
    def for_site(cls, site: Site, *, id_base: str | None = None) -> Sitemap:
        """The sitemap of `site`; `id_base`: the base_url its ids are made from (the store
        keeps the first publish's), base_url itself when None. site.id wins over both."""
        if site.id:
            entry_ids = feed_ids = f"tag:{site.id}:"
        else:
            feed_ids = id_base or site.base_url
            # RFC 4151 tag URI of the host (as ids were always written); the date is fixed.
            entry_ids = f"tag:{urlsplit(feed_ids).netloc.split(':')[0]},2026:"
        return cls(
            base=site.base_url,
            host=urlsplit(site.base_url).netloc,
            zone=ZoneInfo(site.timezone),
            entry_ids=entry_ids,
            feed_ids=feed_ids,
        )

    # ------------------------------------------------------------- addresses

    @property
    def relative_base(self) -> str:
        """The site's root, protocol-relative (post files link to it so)."""
        return "//" + self.base.split("://", 1)[1]

    def url(self, path: str) -> str:
        """The absolute URL of `path`."""
        return self.base + path

    def canonical(self, path: str) -> str:
        """The canonical URL of the page at `path` (the index is the site's root)."""
        return self.base + ("" if path == self.index else path)

    @staticmethod
    def root(path: str) -> str:
        """From the page at `path`, the relative way up to the site's root."""
        # Links between pages are relative, so the site browses the same under
        # `aggregator serve`, from a file:// copy and at base_url; feeds stay absolute.
        return "../" * path.count("/")

    @staticmethod
    def a_page_at(root: str) -> str:
        """Some page's path at the depth `root` leads up from (what root() of it gives)."""
        return root.replace("../", "x/") + "x.html"

    def entry_id(self, post: Post) -> str:
        """The atom:id of a post's entries, in every feed."""
        return self.entry_ids + post.key

    def feed_id(self, path: str) -> str:
        """The atom:id of the feed document at `path`."""
        return self.feed_ids + path

    # ----------------------------------------------------------------- posts

    def date_of(self, post: Post | ListedPost) -> str:
        """The `%Y-%m-%d` of a post's date in the site's zone, as its paths write it."""
        return day_strings(post.published.astimezone(self.zone))[0]

    @staticmethod
    def post_file_name(date: str, slug: str) -> str:
        """The name in POSTS_DIR of a post's file, from `date` as day_strings gives it."""
        return f"{date}-{slug}.md"

    @staticmethod
    def in_posts(name: str) -> str:
        """The path of the post file named `name`."""
        return f"{POSTS_DIR}/{name}"

    def post_file(self, post: Post | ListedPost) -> str:
        """The path of a post's file (`_posts/<date>-<slug>.md`)."""
        return self.in_posts(self.post_file_name(self.date_of(post), post.slug))

    @staticmethod
    def parse_post_file_name(name: str) -> tuple[str, tuple[str, str, str]] | None:
        """The slug and (year, month, day) a post file's name gives; None: no post file."""
        match = _POST_FILE_NAME.fullmatch(name)
        if match is None:
            return None
        year, month, day, slug = match.groups()
        return slug, (year, month, day)

    @staticmethod
    def post_page_at(category: str, day: tuple[str, str, str], slug: str) -> str:
        # Jekyll's default permalink (/:categories/:year/:month/:day/:title.html) for the
        # post file _posts/<date>-<slug>.md with `categories: <slug>`.
        year, month, date = day
        return f"{category}/{year}/{month}/{date}/{slug}.html"

    def post_page_on(self, post: Post | ListedPost, date: str) -> str:
        """The path of a post's page, from `date` as day_strings gives it."""
        year, month, day = date.split("-")
        return self.post_page_at(post.category, (year, month, day), post.slug)

    def post_page(self, post: Post | ListedPost) -> str:
        """The path of a post's page (`<category>/<yyyy>/<mm>/<dd>/<slug>.html`)."""
        return self.post_page_on(post, self.date_of(post))

    # ------------------------------------------------------------ categories

    @staticmethod
    def category_page(slug: str, number: int | None = None) -> str:
        """A category's list page: the newest posts, or numbered page `number` (1 = oldest)."""
        return f"category/{slug}.html" if number is None else f"category/{slug}/{number}.html"

    @staticmethod
    def category_pages_folder(slug: str) -> str:
        """The folder of a category's numbered list pages."""
        return f"category/{slug}"

    @staticmethod
    def category_feed(slug: str, extension: str = FEED_EXTENSION) -> str:
        """A category's subscription feed."""
        return f"category/{slug}{extension}"

    @staticmethod
    def archive(slug: str, number: int, extension: str = FEED_EXTENSION) -> str:
        """A category's RFC 5005 archive document `number` (1 = oldest)."""
        return f"category/{slug}/archive/{number}{extension}"

    @staticmethod
    def archives_folder(slug: str) -> str:
        """The folder of a category's archive documents."""
        return f"category/{slug}/archive"

    # ------------------------------------------------------- the whole site

    tags_folder = "tag"
    index = "index.html"
    opml = "subscriptions.opml"

    def tag_feed(self, slug: str, extension: str = FEED_EXTENSION) -> str:
        """A tag's feed; `slug` as tag_slug gives it."""
        return f"{self.tags_folder}/{slug}{extension}"

    @staticmethod
    def combined_feed(extension: str = FEED_EXTENSION) -> str:
        """The feed of every category, in the format whose files end in `extension`."""
        return _COMBINED[extension]

    def subscriptions(
        self,
        title: str,
        categories: Iterable[Category],
        formats: Sequence[tuple[str, str]] = ((FEED_EXTENSION, ""),),
    ) -> list[Subscription]:
        """What subscriptions.opml lists: the combined feed (the site's `title`), then each
        of `categories`' feeds, each in every one of `formats` (its files' extension, and
        what its feeds' titles end with there: "" for Atom, " (RSS)")."""
        found = [
            Subscription(
                title=title + suffix,
                xml_url=self.url(self.combined_feed(extension)),
                html_url=self.base,
            )
            for extension, suffix in formats
        ]
        found += [
            Subscription(
                title=f"{category.title} · {title}{suffix}",
                xml_url=self.url(self.category_feed(category.slug, extension)),
                html_url=self.url(self.category_page(category.slug)),
            )
            for category in categories
            for extension, suffix in formats
        ]
        return found

    def feed_patterns(self, extension: str) -> list[str]:
        """Glob patterns (under the output folder) of every feed file of the format whose
        files end in `extension`: what a publish removes once the site stops writing it."""
        return [
            self.combined_feed(extension),
            self.category_feed("*", extension),
            f"{self.archives_folder('*')}/*{extension}",
            self.tag_feed("*", extension),
        ]

    @classmethod
    def feed_extension(cls, path: str) -> str | None:
        """The extension of the format whose feed (combined, category, archive or tag) the
        file at `path` is, when it is one: `rss.xml` is RSS's. What `serve` types it by."""
        for extension, name in _COMBINED.items():
            if path == name:
                return extension
        parts = path.split("/")
        extension = "." + parts[-1].rpartition(".")[2]
        if extension not in _COMBINED:
            return None
        if len(parts) == 2 and parts[0] in ("category", cls.tags_folder):
            return extension
        if len(parts) == 4 and parts[0] == "category" and parts[2] == "archive":
            return extension
        return None

    def is_topic(self, path: str, extension: str = FEED_EXTENSION) -> bool:
        """Whether `path` is a subscription feed (combined, category or tag): a WebSub
        topic. Archives are no topic: they never change once written."""
        return path == self.combined_feed(extension) or (
            path.endswith(extension)
            and path.count("/") == 1
            and path.startswith(("category/", f"{self.tags_folder}/"))
        )
