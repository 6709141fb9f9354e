"""Config stage, file shapes: the pydantic models of config.yaml's sections and of a source,
and the adapters that validate parsed YAML against them.

Declares shapes only: the value rules are checks.py's, the problem lines problems.py's;
reads no file, builds no Config.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, model_validator
from pydantic import Field as PydanticField

from aggregator.cluster import NodeSettings
from aggregator.config.checks import (
    BaseUrl,
    CallbackUrl,
    CategorySlug,
    Cron,
    Duration,
    EnvName,
    FeedFormats,
    Headers,
    HeaderValue,
    HttpUrl,
    Interval,
    Language,
    LeaseSeconds,
    Name,
    Network,
    NodeId,
    Seconds,
    SignedDuration,
    StatusToken,
    TagAuthority,
    Text,
    TimeZoneName,
)
from aggregator.config.pagechecks import DateFormat, FieldSelector, Pattern, Selector
from aggregator.types import (
    DateOrder,
    FetchSettings,
    History,
    HtmlSelectors,
    Rules,
    Schedule,
    WebSub,
)

__all__ = [
    "AuthSpec",
    "CategorySpec",
    "ConfigFile",
    "FetchSpec",
    "HistorySpec",
    "HtmlSpec",
    "NodeSpec",
    "ScheduleSpec",
    "ServeSpec",
    "SiteSpec",
    "SourceListFile",
    "SourceSpec",
    "WebSubSpec",
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SiteSpec(_Model):
    title: Text
    base_url: BaseUrl
    id: TagAuthority | None = None
    output_dir: Text = "site"
    timezone: TimeZoneName = "UTC"
    language: Language = "en"
    templates_dir: Text | None = None
    # At most a million: a LIMIT past the database's integers fails the publish.
    feed_size: int = PydanticField(default=50, gt=0, le=1_000_000)
    tag_feeds: bool = False
    archives: bool = False
    formats: FeedFormats = ("atom",)
    retention: Duration | None = None


_WEBSUB_DEFAULTS = WebSub()


class WebSubSpec(_Model):
    hub: HttpUrl | None = None
    callback_url: CallbackUrl | None = None
    lease: Duration = _WEBSUB_DEFAULTS.lease
    poll_interval: Duration = _WEBSUB_DEFAULTS.poll_interval

    @model_validator(mode="after")
    def _lease_bounds(self) -> WebSubSpec:
        if self.lease < timedelta(minutes=1):
            raise ValueError("lease shorter than 1m (a hub would be asked again all the time)")
        return self


class ServeSpec(_Model):
    status_token: StatusToken | None = None


class HistorySpec(_Model):
    keep: Duration = History().keep
    record: bool = History().record


class NodeSpec(_Model):
    id: NodeId | None = None
    lease: LeaseSeconds = NodeSettings().lease


_SCHEDULE_DEFAULTS = Schedule()


class ScheduleSpec(_Model):
    interval: Interval = _SCHEDULE_DEFAULTS.interval
    publish: Cron | None = None
    min_interval: Duration = _SCHEDULE_DEFAULTS.min_interval
    max_interval: Duration = _SCHEDULE_DEFAULTS.max_interval

    @model_validator(mode="after")
    def _bounds(self) -> ScheduleSpec:
        if self.min_interval > self.max_interval:
            raise ValueError("min_interval is longer than max_interval")
        return self


_FETCH_DEFAULTS = FetchSettings()


class FetchSpec(_Model):
    connect_timeout: Seconds = _FETCH_DEFAULTS.connect_timeout
    read_timeout: Seconds = _FETCH_DEFAULTS.read_timeout
    total_timeout: Seconds = _FETCH_DEFAULTS.total_timeout
    parse_timeout: Seconds = _FETCH_DEFAULTS.parse_timeout
    max_bytes: int = PydanticField(default=_FETCH_DEFAULTS.max_bytes, gt=0)
    concurrency: int = PydanticField(default=_FETCH_DEFAULTS.concurrency, gt=0)
    per_host: int = PydanticField(default=_FETCH_DEFAULTS.per_host, gt=0)
    max_redirects: int = PydanticField(default=_FETCH_DEFAULTS.max_redirects, ge=0)
    redirect_threshold: int = PydanticField(default=_FETCH_DEFAULTS.redirect_threshold, gt=0)
    max_backoff: Duration = _FETCH_DEFAULTS.max_backoff
    max_items: int = PydanticField(default=_FETCH_DEFAULTS.max_items, gt=0)
    full_text_budget: Seconds = _FETCH_DEFAULTS.full_text_budget
    allow_private: bool = _FETCH_DEFAULTS.allow_private
    private_networks: tuple[Network, ...] | None = _FETCH_DEFAULTS.private_networks


class _RulesSpec(_Model):
    """Keys shared by a source and a category: see aggregator.rules."""

    include: list[Pattern] = PydanticField(default_factory=list)
    exclude: list[Pattern] = PydanticField(default_factory=list)
    max_age: Duration | None = None
    strip: list[Selector] = PydanticField(default_factory=list)

    def rules(self) -> Rules:
        return Rules(
            include=tuple(self.include),
            exclude=tuple(self.exclude),
            max_age=self.max_age,
            strip=tuple(self.strip),
        )


class CategorySpec(_RulesSpec):
    title: Text
    dedupe: Literal["link", "content", "off"] = "link"


class AuthSpec(_Model):
    """`auth:` of a source: the secret comes from an environment variable, never the file."""

    type: str
    username: Text | None = None
    password_env: EnvName | None = None
    token_env: EnvName | None = None

    @model_validator(mode="after")
    def _complete(self) -> AuthSpec:
        if self.type == "bearer":
            if self.token_env is None or self.username or self.password_env:
                raise ValueError("bearer auth takes token_env only")
        elif self.type == "basic":
            if self.username is None or self.password_env is None or self.token_env:
                raise ValueError("basic auth takes username and password_env")
        else:
            raise ValueError(f"unknown auth type '{self.type}' (use basic or bearer)")
        return self


class HtmlSpec(_Model):
    """`html:` of a `type: html` source (aggregator.parse.html): each key a CSS selector,
    "selector@attribute" for an attribute."""

    item: Selector
    title: FieldSelector | None = None
    link: FieldSelector | None = None
    date: FieldSelector | None = None
    date_format: DateFormat | None = None
    summary: FieldSelector | None = None
    content: FieldSelector | None = None
    image: FieldSelector | None = None

    def selectors(self) -> HtmlSelectors:
        return HtmlSelectors(**self.model_dump())


class SourceSpec(_RulesSpec):
    name: Name
    url: HttpUrl
    category: Text | None = None
    # Without `category`: the category titled so (its slug made from it), created when
    # missing, as an OPML outline group gives; what `sources import` writes for a group.
    group: Text | None = None
    tags: list[Text] | None = None
    interval: Interval | None = None
    min_interval: Duration | None = None  # interval: auto's bounds (default: schedule's)
    max_interval: Duration | None = None
    cron: Cron | None = None
    timezone: TimeZoneName | None = None
    headers: Headers = PydanticField(default_factory=dict)
    user_agent: HeaderValue | None = None
    auth: AuthSpec | None = None
    respect_cache: bool = True
    date_offset: SignedDuration = timedelta(0)
    date_order: DateOrder | None = None
    full_text: bool = False
    category_map: dict[Text, CategorySlug] = PydanticField(default_factory=dict)
    allow_data_images: bool = False
    max_items: int | None = PydanticField(default=None, gt=0)
    full_text_budget: Seconds | None = None
    type: Literal["feed", "html"] = "feed"
    html: HtmlSpec | None = None

    @model_validator(mode="after")
    def _interval_or_cron(self) -> SourceSpec:
        if self.type == "html" and self.html is None:
            raise ValueError("type: html needs html.item (the CSS selector of an item)")
        if self.type != "html" and self.html is not None:
            raise ValueError("html given without type: html")
        if self.interval is not None and self.cron is not None:
            raise ValueError("interval and cron both given (use one)")
        if self.min_interval and self.max_interval and self.min_interval > self.max_interval:
            raise ValueError("min_interval is longer than max_interval")
        return self


class ConfigFile(_Model):
    """config.yaml's top level: the keys only (each section is checked by itself)."""

    site: object
    database: object = None
    schedule: object = None
    fetch: object = None
    categories: object = None
    sources: object = None
    source_lists: object = None
    websub: object = None
    parser: object = None
    node: object = None
    history: object = None
    serve: object = None


class SourceListFile(_Model):
    sources: object = None
