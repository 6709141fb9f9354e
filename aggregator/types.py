"""Records that flow between the stages. Values only: frozen, no I/O, no behaviour
beyond small derived properties. Datetimes are aware and in UTC unless a field
says otherwise; the site's zone is applied only when rendering.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

from aggregator.cluster import NodeSettings
from aggregator.selectors import HtmlSelectors
from aggregator.websub.records import WebSub

__all__ = [
    "FEED_FORMATS",
    "UTC",
    "Auth",
    "Category",
    "Config",
    "DateOrder",
    "FetchResult",
    "FetchSettings",
    "HtmlSelectors",
    "ListedPost",
    "ParsedFeed",
    "Post",
    "RawEntry",
    "Rules",
    "Schedule",
    "Site",
    "Source",
    "SourceState",
    "StoredIdentity",
    "UpsertResult",
    "Validators",
    "WebSub",
]

# --------------------------------------------------------------------- config

# The feed formats a site may publish (`site.formats`), by the names the config gives them:
# Atom 1.0, RSS 2.0, JSON Feed 1.1. aggregator.publish.feeds has one FeedFormat for each.
FEED_FORMATS = ("atom", "rss", "json")


@dataclass(frozen=True, slots=True, kw_only=True)
class Category:
    """A category: `slug` is used in paths and front matter, `title` in labels."""

    slug: str
    title: str
    dedupe: str = "link"  # "link" | "content" | "off": the same story from two sources
    rules: Rules = field(default_factory=lambda: Rules())  # apply to every source in it


@dataclass(frozen=True, slots=True, kw_only=True)
class Rules:
    """Filters and edits from config, per source or per category (see aggregator.rules)."""

    include: tuple[str, ...] = ()  # keep only items matching one: "keyword" or "/regex/"
    exclude: tuple[str, ...] = ()  # drop items matching any
    max_age: timedelta | None = None  # drop items published longer ago than this
    strip: tuple[str, ...] = ()  # CSS selectors of elements removed from the content


@dataclass(frozen=True, slots=True, kw_only=True)
class Site:
    title: str
    base_url: str  # absolute, ends with "/"
    # RFC 4151 tag authority of every atom:id ("example.org,2026"); None: the ids keep the
    # base_url of the site's first publish (the store keeps it: see Sitemap.for_site).
    id: str | None = None
    output_dir: Path  # absolute (resolved against the config file's folder)
    timezone: str = "UTC"  # IANA name
    language: str = "en"
    templates_dir: Path | None = None  # absolute when given
    feed_size: int = 50
    tag_feeds: bool = False  # also publish tag/<slug>.xml per tag
    archives: bool = False  # RFC 5005 archived feeds: category/<slug>/archive/<n>.xml
    formats: tuple[str, ...] = ("atom",)  # the feed formats published, of FEED_FORMATS
    retention: timedelta | None = None  # posts published longer ago are removed; None: kept


@dataclass(frozen=True, slots=True, kw_only=True)
class Schedule:
    interval: timedelta = timedelta(minutes=30)  # default per-source check interval
    publish: str | None = None  # cron expression; None: publish after each changed round
    adaptive: bool = False  # `interval: auto`: each source's from its posting rate
    min_interval: timedelta = timedelta(minutes=15)  # auto's bounds, for every source
    max_interval: timedelta = timedelta(days=1)


@dataclass(frozen=True, slots=True, kw_only=True)
class FetchSettings:
    """The `fetch:` section: limits every request obeys. The one place their defaults are
    written; the Fetcher sees its part as aggregator.fetch.FetchLimits (FetchLimits.of)."""

    connect_timeout: float = 10.0  # seconds
    read_timeout: float = 30.0
    total_timeout: float = 60.0  # one whole fetch, redirects and body included
    parse_timeout: float = 60.0  # parse + normalize of one body; an overrun fails that source
    max_bytes: int = 10 * 1024 * 1024  # body cap, raw and decompressed
    concurrency: int = 50  # requests in flight in all
    per_host: int = 2  # requests in flight per host
    max_redirects: int = 10  # hops followed in one fetch
    redirect_threshold: int = 3  # consecutive fetches a 301/308 must be seen before a source moves
    max_backoff: timedelta = timedelta(days=1)  # cap on a failing source's delay
    # Items of one body kept (the newest): a 9.5 MB feed of 300,000 items made 606,000 files.
    max_items: int = 2000
    # Seconds a source's full-text pages may take in one round; what does not fit waits.
    full_text_budget: float = 60.0
    allow_private: bool = False  # untrusted URLs and public->private redirects may go anywhere
    # Networks untrusted URLs may not reach: loopback, RFC 1918, link-local, CGNAT, ULA, ...
    # None: the built-in list (aggregator.fetch.PRIVATE_NETWORKS).
    private_networks: tuple[str, ...] | None = None


# How a source writes numeric dates whose order the text does not show (03/04/2023).
DateOrder = Literal["dmy", "mdy", "ymd"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Source:
    """One feed the operator listed (config.yaml, feeds/*.yaml or feeds/*.opml)."""

    name: str  # unique: the source's identity in the store and on the command line
    url: str  # as configured
    category: str  # a category slug that exists in Config.categories
    tags: tuple[str, ...]  # resolved: default (category title,)
    interval: timedelta  # resolved: default Schedule.interval (min_interval when adaptive)
    # `interval: auto`: the next check follows the source's posting rate, between these.
    adaptive: bool = False
    min_interval: timedelta = timedelta(minutes=15)
    max_interval: timedelta = timedelta(days=1)
    cron: str | None = None  # when given, replaces interval
    timezone: str | None = None  # zone for dates without one; None: the site's
    headers: tuple[tuple[str, str], ...] = ()  # extra request headers
    user_agent: str | None = None
    origin: str = ""  # where it was declared, for messages: "feeds/tech.yaml: sources[3]"
    auth: Auth | None = None  # credentials, read from the environment at fetch time
    respect_cache: bool = True  # Cache-Control/Expires/<ttl> are lower bounds on the interval
    date_offset: timedelta = timedelta(0)  # added to every feed date: for a clock known to be off
    full_text: bool = False  # fetch the linked page and extract the article from it
    rules: Rules = field(default_factory=lambda: Rules())
    category_map: tuple[tuple[str, str], ...] = ()  # (feed's category, our category slug)
    allow_data_images: bool = False  # keep <img src="data:image/..."> (inline images)
    max_items: int | None = None  # None: FetchSettings.max_items
    full_text_budget: float | None = None  # seconds; None: FetchSettings.full_text_budget
    # How numeric dates read (03/04/2023: dmy 3 April, mdy March 4); None: refused when
    # ambiguous. Out of repr, and so of normalize's salt: its effect on an entry is in the
    # entry's dates, which the raw hash holds already.
    date_order: DateOrder | None = field(default=None, repr=False)
    # `type: html`: read the page by these selectors; None: a feed (RSS, Atom, JSON Feed).
    # Out of repr too: what they select is in the entries, and so in the raw hash.
    html: HtmlSelectors | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Auth:
    """HTTP authentication for a source: names of environment variables, never secrets."""

    type: str  # "basic" | "bearer"
    username: str | None = None  # basic: the user name itself (not a secret)
    password_env: str | None = None  # basic: variable holding the password
    token_env: str | None = None  # bearer: variable holding the token


@dataclass(frozen=True, slots=True, kw_only=True)
class History:
    """The `history:` section: whether each source's attempts are recorded, and for how
    long they are kept."""

    keep: timedelta = timedelta(days=30)
    record: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class ServeSettings:
    """The `serve:` section: what `aggregator serve` answers beside the site's files."""

    status_token: str | None = None  # /status answers requests bearing it; None: no page


@dataclass(frozen=True, slots=True, kw_only=True)
class Attempt:
    """One fetch of one source, as its history keeps it."""

    source: str
    at: datetime  # when it started
    outcome: str  # SourceOutcome.status: new, unchanged, not-modified, deferred, error
    seconds: float  # how long it took, fetch to store
    http_status: int | None = None
    bytes: int | None = None  # body bytes received (0 for a 304); None: no response
    new: int = 0
    updated: int = 0
    error: str | None = None
    node: str | None = None  # the node that made it (a shared store)


@dataclass(frozen=True, slots=True, kw_only=True)
class Config:
    path: Path  # the config file, absolute
    site: Site
    database: str  # SQLAlchemy URL; a relative SQLite path is resolved to the config's folder
    schedule: Schedule
    categories: Mapping[str, Category]  # by slug, in config order
    sources: tuple[Source, ...]
    fetch: FetchSettings = field(default_factory=FetchSettings)
    parser: str = "auto"  # "auto": the fast path, feedparser for what it declines; "feedparser"
    websub: WebSub | None = None
    node: NodeSettings = field(default_factory=NodeSettings)
    history: History = field(default_factory=History)
    serve: ServeSettings = field(default_factory=ServeSettings)

    def source(self, name: str) -> Source | None:
        return next((s for s in self.sources if s.name == name), None)


# ---------------------------------------------------------------------- fetch


@dataclass(frozen=True, slots=True, kw_only=True)
class Validators:
    """What conditional GET sends back: the previous response's validators."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class FetchResult:
    """A successful fetch: a body (status 200) or "not modified" (status 304)."""

    url: str  # the URL the body finally came from, after redirects
    status: int
    content: bytes | None  # None when not modified
    headers: Mapping[str, str]  # response headers, keys lower-cased
    validators: Validators  # to send next time
    permanent_redirect: str | None = None  # target, when every hop was 301/308
    # Each redirect followed, in order: (the URL asked, the status that sent us on).
    redirects: tuple[tuple[str, int], ...] = ()
    fetched_at: datetime

    @property
    def not_modified(self) -> bool:
        return self.content is None


# ---------------------------------------------------------------------- parse


@dataclass(frozen=True, slots=True, kw_only=True)
class RawEntry:
    """One item as the feed wrote it; nothing cleaned yet."""

    guid: str | None = None
    link: str | None = None
    title: str | None = None  # may hold markup and entities
    content: str | None = None  # HTML: content:encoded / atom:content / description
    summary: str | None = None  # HTML
    published: datetime | None = None  # naive when the feed gave no zone
    updated: datetime | None = None  # naive when the feed gave no zone
    author: str | None = None
    categories: tuple[str, ...] = ()
    base: str | None = None  # xml:base in effect for the content


@dataclass(frozen=True, slots=True, kw_only=True)
class ParsedFeed:
    title: str | None = None
    link: str | None = None  # the site the feed belongs to
    feed_id: str | None = None  # atom:id, else the feed link
    updated: datetime | None = None
    ttl: timedelta | None = None  # RSS <ttl>
    # WebSub discovery (parse.hubs): the hubs it names, and its rel="self" URL (the topic).
    hubs: tuple[str, ...] = ()
    self_url: str | None = None
    entries: tuple[RawEntry, ...] = ()
    skipped: int = 0  # items of an HTML page left out: no title or no http(s) link


# ------------------------------------------------------------ normalize/store


@dataclass(frozen=True, slots=True, kw_only=True)
class Post:
    """One normalized item: what we store and republish."""

    key: str  # stable identity within the store: never changes once given
    source: str  # Source.name
    category: str  # category slug
    title: str  # plain text
    link: str  # the original article
    published: datetime
    updated: datetime
    content_html: str  # already sanitized, URLs absolute
    tags: tuple[str, ...] = ()
    slug: str  # base slug from the title; the store makes it unique and keeps it
    content_hash: str  # hash of what the post shows: a change means an update
    dated: bool = True  # False: the feed gave no date, `published` is the time first seen
    revision: int = 0  # set by the store: bumped on every change, compared when publishing
    canonical_link: str = ""  # `link` spelled one way: finds one story under two guids/sources
    text_hash: str = ""  # hash of the plain text: finds one story under two links
    raw_hash: str = ""  # hash of the entry as the feed wrote it (and of the rules applied)
    # The key normalize's formula gives the item (normalize.identity.post_key): `key` too,
    # unless the item took over a post stored under another key (an older formula's, a
    # changed guid's).
    # "": not known (a post stored before store version 6 that no item has claimed yet).
    identity_key: str = ""
    # The key the formula before store version 6 gave the item (normalize.identity._legacy_key):
    # finds the post stored under it, and another source's item under one global guid.
    legacy_key: str = ""
    author: str | None = None  # plain text, one line: the item's author; None: it named none


@dataclass(frozen=True, slots=True, kw_only=True)
class ListedPost:
    """A post as a list page or a removal needs it: no content."""

    key: str
    source: str
    category: str
    title: str
    slug: str
    published: datetime
    ever_published: bool = True  # False: the post was never written out


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredIdentity:
    """What the store knows of a post's identity: enough to spot a changed guid or a duplicate."""

    key: str
    source: str
    category: str
    canonical_link: str = ""
    text_hash: str = ""
    link: str = ""
    identity_key: str = ""  # as Post.identity_key: "" for a row no item has claimed yet
    legacy_key: str = ""  # as Post.legacy_key; a row stored before version 6: its key


@dataclass(frozen=True, slots=True, kw_only=True)
class UpsertResult:
    new: tuple[str, ...] = ()  # keys inserted
    updated: tuple[str, ...] = ()  # keys whose content changed
    unchanged: int = 0
    refused: tuple[tuple[str, str], ...] = ()  # (key, the database's reason): not stored


# -------------------------------------------------------------- source state


# What Store.upsert_posts may be given to make the posts it writes of those it is given
# and the identities stored for them (normalize.reconcile, with its source's settings).
Reconcile = Callable[[Sequence["Post"], Sequence["StoredIdentity"]], Sequence["Post"]]


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceState:
    """What the store remembers about a source between fetches."""

    name: str
    url: str  # the URL to fetch: the configured one, or where a permanent redirect led
    config_url: str  # the URL in the config when this state was written
    validators: Validators = field(default_factory=Validators)
    content_hash: str | None = None  # hash of the last body: an unchanged one is not parsed
    feed_title: str | None = None
    feed_link: str | None = None
    feed_id: str | None = None
    last_fetched: datetime | None = None
    last_success: datetime | None = None
    last_status: int | None = None
    failures: int = 0  # consecutive
    last_error: str | None = None
    next_check: datetime | None = None  # None: due now
    disabled: str | None = None  # why it is disabled; None: enabled
    # A permanent redirect seen on `redirect_count` consecutive fetches; the source moves to
    # it once the count reaches FetchSettings.redirect_threshold.
    redirect_target: str | None = None
    redirect_count: int = 0
    # The page whose advertised feed `url` is (autodiscovery); None: `url` was configured or
    # reached by redirects.
    discovered_from: str | None = None
    feed_ttl: timedelta | None = None  # the feed's last <ttl>: a lower bound after a 304 too
    dropped_items: int = 0  # items of the last parsed body past max_items, not stored
    # schedule.schedule_key of the config `next_check` was drawn from; None: not known.
    schedule: str | None = None
    # What the last parsed body's item dates say (schedule.posting_rate), for `interval:
    # auto`: the median gap between its newest items, and the newest date.
    posting_gap: timedelta | None = None
    newest_item: datetime | None = None
