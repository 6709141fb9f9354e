"""Config stage: config.yaml + the source lists it names (YAML, OPML) -> Config.

Reads local files only: no network, no clock. Checking is pure functions over parsed data;
every fault becomes one line "<file>: <key path>: <what is wrong>", collected over all files.
"""

from __future__ import annotations

import glob
import ipaddress
import os
import re
import tempfile
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from fnmatch import fnmatchcase
from pathlib import Path, PurePath
from typing import Annotated, Any, Literal, TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    PlainValidator,
    TypeAdapter,
    ValidationError,
    model_validator,
)
from pydantic import Field as PydanticField
from pydantic_core import ErrorDetails

from aggregator.errors import ConfigError
from aggregator.slug import slugify
from aggregator.types import (
    Auth,
    Category,
    Config,
    DateOrder,
    FetchSettings,
    Rules,
    Schedule,
    Site,
    Source,
    WebSub,
)

__all__ = [
    "DEFAULT_DATABASE",
    "IMPORTED_SOURCES",
    "ConfigFingerprint",
    "config_fingerprint",
    "export_opml",
    "import_opml",
    "load_config",
    "parse_duration",
]

DEFAULT_DATABASE = "sqlite:///aggregator.db"
IMPORTED_SOURCES = "feeds/imported.yaml"  # where `sources import` writes, relative to the config

_T = TypeVar("_T")
_Loc = tuple[str | int, ...]

# ------------------------------------------------------------------ value checks
# Each raises ValueError with the exact fault text that ends a problem line.

_DURATION = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")
_CATEGORY_SLUG = re.compile(r"[a-z0-9-]+")
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # RFC 9110 token
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*")  # BCP 47, loosely
_GLOB_MAGIC = re.compile(r"[*?[]")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def parse_duration(text: str) -> timedelta:
    """Read a duration such as `90s`, `15m`, `2h`, `1d` or `1h30m`.

    Raises:
        ValueError: not a duration, or zero.
    """
    match = _DURATION.fullmatch(text.strip())
    if not text.strip() or match is None:
        raise ValueError(f"bad duration '{text}' (use 90s, 15m, 2h, 1d)")
    days, hours, minutes, seconds = (int(group or 0) for group in match.groups())
    try:
        delta = timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    except OverflowError:
        raise ValueError(f"bad duration '{text}' (too long)") from None
    if not delta:
        # A zero interval would have the scheduler fetch a source in a busy loop.
        raise ValueError(f"bad duration '{text}' (must be more than zero)")
    return delta


def _duration(value: object) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(f"bad duration '{value}' (use 90s, 15m, 2h, 1d)")
    return parse_duration(str(value))


def _seconds(value: object) -> float:
    # A timeout: a duration ("10s") or a plain number of seconds (0.5).
    if isinstance(value, int | float) and not isinstance(value, bool):
        if value > 0:
            return float(value)
        raise ValueError(f"bad duration '{value}' (must be more than zero)")
    return _duration(value).total_seconds()


def _cron(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"bad cron '{value}' (5 fields: minute hour day month weekday)")
    # Imported here, as in the other checks below that need a library: a config that has
    # no cron, rules or database URL loads without APScheduler, RE2, lxml or SQLAlchemy.
    from apscheduler.triggers.cron import CronTrigger

    try:
        # A fixed zone: validation must not depend on (or look up) the machine's zone.
        CronTrigger.from_crontab(value, timezone="UTC")
    except ValueError as e:
        reason = str(e)
        raise ValueError(f"bad cron '{value}' ({reason[:1].lower()}{reason[1:]})") from None
    return value


def _timezone(value: object) -> str:
    try:
        if not isinstance(value, str):
            raise ValueError
        ZoneInfo(value)
    except (ValueError, OSError, ZoneInfoNotFoundError):
        raise ValueError(f"unknown time zone '{value}'") from None
    return value


def _http_url(value: object) -> str:
    text = value.strip() if isinstance(value, str) else ""
    parts = urlsplit(text)
    try:
        parts.port  # noqa: B018 -- raises ValueError on a malformed port
    except ValueError:
        text = ""
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        text = ""
    if not text or any(char.isspace() for char in text):
        raise ValueError("not an http(s) URL")
    return text


def _base_url(value: object) -> str:
    url = _http_url(value)
    return url if url.endswith("/") else url + "/"


def _database(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError("not a database URL (e.g. sqlite:///aggregator.db)")
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        make_url(value)
    except ArgumentError:
        raise ValueError(f"not a database URL '{value}' (e.g. sqlite:///aggregator.db)") from None
    return value


# A category's slug names folders and files (category/<slug>/archive/1.xml): file systems
# refuse names over 255 bytes, so one this long would fail every publish of its posts.
MAX_CATEGORY_SLUG = 100


def _category_slug(value: object) -> str:
    if not isinstance(value, str) or not _CATEGORY_SLUG.fullmatch(value):
        raise ValueError(f"bad slug '{value}' (use a-z, 0-9 and -)")
    if len(value) > MAX_CATEGORY_SLUG:
        raise ValueError(
            f"slug '{value[:40]}…' is {len(value)} characters long"
            f" (at most {MAX_CATEGORY_SLUG}: it names files and folders)"
        )
    return value


def _language(value: object) -> str:
    if not isinstance(value, str) or not _LANGUAGE.fullmatch(value):
        raise ValueError(f"not a language tag '{value}' (e.g. en, zh-CN)")
    return value


def _text(value: object) -> str:
    # YAML reads `name: 2024` as a number; a name is text whatever it looks like.
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError("should be text")
    text = str(value).strip()
    if not text:
        raise ValueError("should not be empty")
    return text


def _headers(value: object) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise ValueError("should be a mapping of header name to value")
    headers: dict[str, str] = {}
    for name, header in value.items():
        if not isinstance(name, str) or not _HEADER_NAME.fullmatch(name):
            raise ValueError(f"bad header name '{name}'")
        if not isinstance(header, str) or "\r" in header or "\n" in header:
            raise ValueError(f"bad value for header '{name}' (one line of text)")
        headers[name] = header
    return headers


Duration = Annotated[timedelta, PlainValidator(_duration)]
Seconds = Annotated[float, PlainValidator(_seconds)]
Cron = Annotated[str, PlainValidator(_cron)]
TimeZoneName = Annotated[str, PlainValidator(_timezone)]
HttpUrl = Annotated[str, PlainValidator(_http_url)]
BaseUrl = Annotated[str, PlainValidator(_base_url)]
DatabaseUrl = Annotated[str, PlainValidator(_database)]
CategorySlug = Annotated[str, PlainValidator(_category_slug)]
Language = Annotated[str, PlainValidator(_language)]
Text = Annotated[str, PlainValidator(_text)]
Headers = Annotated[dict[str, str], PlainValidator(_headers)]


def _network(value: object) -> str:
    try:
        if not isinstance(value, str):
            raise ValueError
        return str(ipaddress.ip_network(value.strip(), strict=False))
    except ValueError:
        raise ValueError(f"not a network '{value}' (e.g. 10.0.0.0/8, fc00::/7)") from None


def _env_name(value: object) -> str:
    if not isinstance(value, str) or not _ENV_NAME.fullmatch(value):
        raise ValueError(f"not an environment variable name '{value}'")
    return value


Network = Annotated[str, PlainValidator(_network)]


def _signed_duration(value: object) -> timedelta:
    # date_offset: a clock may be ahead ("-8h") as well as behind ("30m").
    if isinstance(value, str) and value.strip().startswith("-"):
        return -_duration(value.strip()[1:])
    return _duration(value)


def _pattern(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"should be text, not '{value}'")
    from aggregator.rules import check_pattern

    check_pattern(value)
    return value


def _selector(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"should be text, not '{value}'")
    from aggregator.rules import check_selector

    return check_selector(value)


SignedDuration = Annotated[timedelta, PlainValidator(_signed_duration)]
Pattern = Annotated[str, PlainValidator(_pattern)]
Selector = Annotated[str, PlainValidator(_selector)]
EnvName = Annotated[str, PlainValidator(_env_name)]

# ------------------------------------------------------------------ file shapes


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SiteSpec(_Model):
    title: Text
    base_url: BaseUrl
    output_dir: Text = "site"
    timezone: TimeZoneName = "UTC"
    language: Language = "en"
    templates_dir: Text | None = None
    feed_size: int = PydanticField(default=50, gt=0)
    tag_feeds: bool = False
    archives: bool = False
    retention: Duration | None = None


class WebSubSpec(_Model):
    hub: HttpUrl


class ScheduleSpec(_Model):
    interval: Duration = timedelta(minutes=30)
    publish: Cron | None = None


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


class SourceSpec(_RulesSpec):
    name: Text
    url: HttpUrl
    category: Text | None = None
    tags: list[Text] | None = None
    interval: Duration | None = None
    cron: Cron | None = None
    timezone: TimeZoneName | None = None
    headers: Headers = PydanticField(default_factory=dict)
    user_agent: Text | None = None
    auth: AuthSpec | None = None
    respect_cache: bool = True
    date_offset: SignedDuration = timedelta(0)
    date_order: DateOrder | None = None
    full_text: bool = False
    category_map: dict[Text, CategorySlug] = PydanticField(default_factory=dict)
    allow_data_images: bool = False
    max_items: int | None = PydanticField(default=None, gt=0)
    full_text_budget: Seconds | None = None

    @model_validator(mode="after")
    def _interval_or_cron(self) -> SourceSpec:
        if self.interval is not None and self.cron is not None:
            raise ValueError("interval and cron both given (use one)")
        return self


class _ConfigFile(_Model):
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


class _SourceListFile(_Model):
    sources: object = None


_CONFIG_FILE = TypeAdapter(_ConfigFile)
_SOURCE_LIST_FILE = TypeAdapter(_SourceListFile)
_SITE = TypeAdapter(SiteSpec)
_DATABASE: TypeAdapter[str] = TypeAdapter(DatabaseUrl)
_SCHEDULE = TypeAdapter(ScheduleSpec)
_FETCH = TypeAdapter(FetchSpec)
_WEBSUB = TypeAdapter(WebSubSpec)
_PARSER: TypeAdapter[Literal["auto", "feedparser"]] = TypeAdapter(Literal["auto", "feedparser"])
_CATEGORIES = TypeAdapter(dict[CategorySlug, CategorySpec])
_LIST = TypeAdapter(list[object])
_SOURCE = TypeAdapter(SourceSpec)
_PATTERNS = TypeAdapter(list[Text])

# ------------------------------------------------------------------ problem lines


def _path_text(loc: Iterable[str | int]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part != "[key]":  # pydantic's marker for "the key itself" in a mapping
            text += f".{part}" if text else part
    return text


def _line(file: str, loc: Iterable[str | int], fault: str) -> str:
    path = _path_text(loc)
    return f"{file}: {path}: {fault}" if path else f"{file}: {fault}"


def _fault(error: ErrorDetails) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "value_error" and "error" in ctx:
        return str(ctx["error"])
    faults = {
        "extra_forbidden": "unknown key",
        "missing": "missing required key",
        "model_type": "should be a mapping of keys",
        "model_attributes_type": "should be a mapping of keys",
        "dict_type": "should be a mapping",
        "list_type": "should be a list",
        "string_type": "should be text",
        "int_type": "should be a whole number",
        "int_parsing": "should be a whole number",
        "int_from_float": "should be a whole number",
        "greater_than": f"should be more than {ctx.get('gt')}",
    }
    message = error["msg"]
    return faults.get(kind, message[:1].lower() + message[1:])


def _checked(
    adapter: TypeAdapter[_T],
    value: object,
    file: str,
    loc: _Loc = (),
    names: Mapping[str, str] | None = None,
) -> tuple[_T, list[str]] | tuple[None, list[str]]:
    """Validate `value`; on failure return None and one line per fault.

    `names` renames keys in messages (an OPML outline's `xmlUrl` is a source's `url`).
    """
    try:
        return adapter.validate_python(value), []
    except ValidationError as e:
        rename = names or {}
        return None, [
            _line(
                file,
                (*loc, *(rename.get(p, p) if isinstance(p, str) else p for p in err["loc"])),
                _fault(err),
            )
            for err in e.errors()
        ]


# ------------------------------------------------------------------ parsed data -> specs


@dataclass(frozen=True, slots=True, kw_only=True)
class _Entry:
    """A source as one file wrote it, before categories and defaults are resolved."""

    spec: SourceSpec
    origin: str  # "feeds/tech.yaml: sources[3]"
    group: str | None = None  # OPML: the text of the enclosing outline
    names: Mapping[str, str] = field(default_factory=dict)  # key names as the file spells them

    def where(self, key: str) -> str:
        return f"{self.origin}.{self.names.get(key, key)}"


@dataclass(frozen=True, slots=True, kw_only=True)
class _Settings:
    """config.yaml's sections that passed their checks (None: that section failed)."""

    site: SiteSpec | None = None
    database: str | None = None
    schedule: ScheduleSpec | None = None
    fetch: FetchSpec | None = None
    categories: dict[str, CategorySpec] = field(default_factory=dict)
    # Declared but faulty: a source naming one is not reported again. None: the whole
    # section was unreadable, so no "unknown category" is worth reporting.
    bad_categories: frozenset[str] | None = frozenset()
    patterns: tuple[str, ...] = ()
    websub: WebSubSpec | None = None
    parser: str = "auto"


def _check_sources(value: object, file: str) -> tuple[list[_Entry], list[str]]:
    """A `sources:` list -> entries, one check per item so each fault is found."""
    if value is None:
        return [], []
    items, problems = _checked(_LIST, value, file, ("sources",))
    entries: list[_Entry] = []
    for index, item in enumerate(items or ()):
        spec, found = _checked(_SOURCE, item, file, ("sources", index))
        problems += found
        if spec is not None:
            entries.append(_Entry(spec=spec, origin=f"{file}: sources[{index}]"))
    return entries, problems


def _check_categories(
    value: object, file: str
) -> tuple[dict[str, CategorySpec], frozenset[str] | None, list[str]]:
    """`categories:` -> the good ones, the slugs of the faulty ones, and the faults."""
    if value is None:
        return {}, frozenset(), []
    if not isinstance(value, dict):
        return {}, None, [_line(file, ("categories",), "should be a mapping")]
    good: dict[str, CategorySpec] = {}
    bad: set[str] = set()
    problems: list[str] = []
    for slug, spec in value.items():
        # One item at a time, so that one bad category does not hide the others.
        checked, found = _checked(_CATEGORIES, {slug: spec}, file, ("categories",))
        problems += found
        if checked:
            good.update(checked)
        else:
            bad.add(str(slug))
    return good, frozenset(bad), problems


def _check_config_file(data: object, file: str) -> tuple[_Settings, list[_Entry], list[str]]:
    """config.yaml's parsed YAML -> its settings, its own sources, and the faults."""
    # The top level is checked for unknown keys only; each section is checked by itself
    # so that a bad one does not hide the faults of the others.
    _, problems = _checked(_CONFIG_FILE, {} if data is None else data, file)
    raw: dict[Any, Any] = data if isinstance(data, dict) else {}

    def section(adapter: TypeAdapter[_T], key: str, default: _T) -> _T | None:
        if raw.get(key) is None:
            return default
        result, found = _checked(adapter, raw[key], file, (key,))
        problems.extend(found)
        return result

    # In the file's documented order, so that the lines read top to bottom.
    site, found = _checked(_SITE, raw["site"], file, ("site",)) if "site" in raw else (None, [])
    problems += found
    database = section(_DATABASE, "database", DEFAULT_DATABASE)
    schedule = section(_SCHEDULE, "schedule", ScheduleSpec())
    fetch = section(_FETCH, "fetch", FetchSpec())
    categories, bad_categories, found = _check_categories(raw.get("categories"), file)
    problems += found
    entries, found = _check_sources(raw.get("sources"), file)
    problems += found
    patterns: list[str] | None = section(_PATTERNS, "source_lists", [])
    websub: WebSubSpec | None = None
    if raw.get("websub") is not None:
        websub, found = _checked(_WEBSUB, raw["websub"], file, ("websub",))
        problems += found
    parser = section(_PARSER, "parser", "auto")
    settings = _Settings(
        parser=parser or "auto",
        site=site,
        database=database,
        schedule=schedule,
        fetch=fetch,
        categories=categories,
        bad_categories=bad_categories,
        patterns=tuple(patterns or ()),
        websub=websub,
    )
    return settings, entries, problems


def _check_source_list_file(data: object, file: str) -> tuple[list[_Entry], list[str]]:
    """A feeds/*.yaml file's parsed YAML -> entries and faults."""
    _, problems = _checked(_SOURCE_LIST_FILE, {} if data is None else data, file)
    entries, found = _check_sources(data.get("sources") if isinstance(data, dict) else None, file)
    return entries, problems + found


def _feed_outlines(
    element: ElementTree.Element, group: str | None = None
) -> Iterator[tuple[ElementTree.Element, str | None]]:
    """Every <outline> with an xmlUrl under `element`, in document order, with the text of
    the outline that encloses it."""
    for child in element:
        if child.tag != "outline":
            continue
        if child.get("xmlUrl") is not None:
            yield child, group
        text = (child.get("text") or child.get("title") or "").strip()
        yield from _feed_outlines(child, text or group)


def _outline_entries(root: ElementTree.Element, file: str) -> tuple[list[_Entry], list[str]]:
    """An OPML tree -> entries: one per <outline> with an xmlUrl, in document order."""
    body = root.find("body")
    if root.tag != "opml" or body is None:
        return [], [f"{file}: not an OPML document (no <opml><body>)"]
    entries: list[_Entry] = []
    problems: list[str] = []
    for index, (outline, group) in enumerate(_feed_outlines(body)):
        url = outline.get("xmlUrl", "")
        name_key = "title" if (outline.get("title") or "").strip() else "text"
        data = {"name": (outline.get(name_key) or "").strip() or url, "url": url}
        if outline.get("category") is not None:
            data["category"] = outline.get("category", "")
        names = {"name": name_key, "url": "xmlUrl"}
        spec, found = _checked(_SOURCE, data, file, (f"outline[{index}]",), names)
        problems += found
        if spec is not None:
            origin = f"{file}: outline[{index}]"
            entries.append(_Entry(spec=spec, origin=origin, group=group, names=names))
    return entries, problems


# ------------------------------------------------------------------ specs -> Config


def _default_category(entry: _Entry) -> tuple[str, str]:
    """(slug, title) of the category a source gets when it names none."""
    if entry.group and slugify(entry.group):
        return slugify(entry.group), entry.group
    return slugify(entry.spec.name), entry.spec.name


def _resolve_sources(
    entries: Sequence[_Entry],
    declared: Mapping[str, Category],
    default_interval: timedelta,
    bad_categories: frozenset[str] | None = frozenset(),
) -> tuple[dict[str, Category], list[Source], list[str]]:
    """Give every entry its category, tags and interval; find names used twice.

    Categories a source implies (its name's slug, an OPML group) are created first, so a
    source elsewhere may name one of them whatever the file order.
    """
    categories = dict(declared)
    for entry in entries:
        if entry.spec.category is None:
            slug, title = _default_category(entry)
            if slug:
                categories.setdefault(slug, Category(slug=slug, title=title))
    sources: list[Source] = []
    problems: list[str] = []
    seen: dict[str, _Entry] = {}
    for entry in entries:
        spec = entry.spec
        if spec.name in seen:
            first = seen[spec.name]
            problems.append(
                f"{entry.where('name')}: duplicate name '{spec.name}' (also {first.origin})"
            )
            continue
        seen[spec.name] = entry
        slug = spec.category or _default_category(entry)[0]
        if not slug:
            problems.append(f"{entry.where('name')}: gives no category slug (set category)")
            continue
        if slug not in categories:
            if bad_categories is not None and slug not in bad_categories:
                problems.append(f"{entry.where('category')}: unknown category '{slug}'")
            continue
        category = categories[slug]
        for mapped in spec.category_map.values():
            if mapped not in categories:
                problems.append(f"{entry.where('category_map')}: unknown category '{mapped}'")
        sources.append(
            Source(
                name=spec.name,
                url=spec.url,
                category=slug,
                tags=tuple(spec.tags) if spec.tags is not None else (category.title,),
                interval=spec.interval or default_interval,
                cron=spec.cron,
                timezone=spec.timezone,
                headers=tuple(spec.headers.items()),
                user_agent=spec.user_agent,
                origin=entry.origin,
                auth=Auth(**spec.auth.model_dump()) if spec.auth else None,
                respect_cache=spec.respect_cache,
                date_offset=spec.date_offset,
                date_order=spec.date_order,
                full_text=spec.full_text,
                rules=spec.rules(),
                category_map=tuple(spec.category_map.items()),
                allow_data_images=spec.allow_data_images,
                max_items=spec.max_items,
                full_text_budget=spec.full_text_budget,
            )
        )
    return categories, sources, problems


def _absolute(root: Path, text: str) -> Path:
    return Path(os.path.normpath(root / Path(text).expanduser()))


def _absolute_database(root: Path, url: str) -> str:
    """Anchor a relative SQLite file to the config's folder; any other URL is kept as is."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    database = parsed.database
    if (
        not parsed.drivername.startswith("sqlite")
        or not database
        or database == ":memory:"
        or "uri" in parsed.query  # sqlite "file:" URIs: the driver reads them itself
        or Path(database).is_absolute()
    ):
        return url
    return parsed.set(database=str(_absolute(root, database))).render_as_string(hide_password=False)


def _assemble(
    path: Path, settings: _Settings, entries: Sequence[_Entry]
) -> tuple[Config | None, list[str]]:
    """Checked sections + every file's entries -> Config (None when a section failed)."""
    root = path.parent
    schedule = settings.schedule or ScheduleSpec()
    declared = {
        slug: Category(slug=slug, title=spec.title, dedupe=spec.dedupe, rules=spec.rules())
        for slug, spec in settings.categories.items()
    }
    categories, sources, problems = _resolve_sources(
        entries, declared, schedule.interval, settings.bad_categories
    )
    site = settings.site
    fetch = settings.fetch
    if site is None or settings.database is None or settings.schedule is None or fetch is None:
        return None, problems
    config = Config(
        path=path,
        site=Site(
            title=site.title,
            base_url=site.base_url,
            output_dir=_absolute(root, site.output_dir),
            timezone=site.timezone,
            language=site.language,
            templates_dir=_absolute(root, site.templates_dir) if site.templates_dir else None,
            feed_size=site.feed_size,
            tag_feeds=site.tag_feeds,
            archives=site.archives,
            retention=site.retention,
        ),
        database=_absolute_database(root, settings.database),
        schedule=Schedule(interval=schedule.interval, publish=schedule.publish),
        categories=categories,
        sources=tuple(sources),
        fetch=FetchSettings(**fetch.model_dump()),
        websub=WebSub(hub=settings.websub.hub) if settings.websub else None,
        parser=settings.parser,
    )
    return config, problems


# ------------------------------------------------------------------ reading files


class _Loader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice (PyYAML silently keeps the last)."""


# libyaml's parser when PyYAML was built with it (its wheels are): a 500-source list reads
# in a fraction of the pure-Python parser's time, which every `run --once` pays. A file it
# refuses is read again by _Loader, whose messages are the ones operators see.
_FastLoader: type[Any] = _Loader
if getattr(yaml, "__with_libyaml__", False):

    class _CLoader(yaml.CSafeLoader):
        """CSafeLoader that refuses a key given twice."""

    _FastLoader = _CLoader


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[object] = set()
    for key_node, _ in node.value:
        if not isinstance(key_node, yaml.ScalarNode) or key_node.tag.endswith(":merge"):
            continue
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key '{key}'", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_FastLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _display(path: Path, root: Path) -> str:
    """A file's name in messages: relative to the config's folder when inside it."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def _read_text(path: Path, file: str) -> tuple[str | None, list[str]]:
    try:
        return path.read_text(encoding="utf-8-sig"), []
    except FileNotFoundError:
        return None, [f"{file}: no such file (in {path.parent})"]
    except UnicodeDecodeError as e:
        return None, [f"{file}: not UTF-8 text (byte {e.start})"]
    except OSError as e:
        return None, [f"{file}: cannot read ({e.strerror or e})"]


_NOTHING = object()  # a file that could not be read or parsed


def _parse_yaml(text: str, file: str) -> tuple[object, list[str]]:
    if _FastLoader is not _Loader:
        try:
            return yaml.load(text, Loader=_FastLoader), []  # a CSafeLoader
        except yaml.YAMLError:
            pass  # read again below, for _Loader's message
    try:
        return yaml.load(text, Loader=_Loader), []  # _Loader is a SafeLoader
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        fault = e.problem or e.context or "unreadable"
        if e.context and "alias" in e.context:
            fault += " (quote values that start with * or &)"
        return _NOTHING, [f"{file}: {where}YAML syntax error: {fault}"]
    except yaml.YAMLError as e:
        return _NOTHING, [f"{file}: YAML syntax error: {e}"]


def _read_yaml(path: Path, file: str) -> tuple[object, list[str]]:
    text, problems = _read_text(path, file)
    return (_NOTHING, problems) if text is None else _parse_yaml(text, file)


def _read_opml(path: Path, file: str) -> tuple[list[_Entry], list[str]]:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return [], [f"{file}: no such file"]
    except OSError as e:
        return [], [f"{file}: cannot read ({e.strerror or e})"]
    # OPML never needs a DTD. ElementTree fetches no external entities; refusing entity
    # declarations outright also rules out expansion bombs, whatever expat's own limits are.
    if b"<!ENTITY" in data:
        return [], [f"{file}: entity declarations are not allowed in OPML"]
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError as e:
        fault = str(e).split(":")[0]  # expat's text ends with ": line L, column C"
        return [], [f"{file}: line {e.position[0]}: not well-formed XML: {fault}"]
    return _outline_entries(root, file)


def _source_list_files(
    patterns: Sequence[str], root: Path, config_path: Path, file: str
) -> tuple[list[Path], list[str]]:
    """Expand `source_lists` globs (relative to the config's folder) into files, in order."""
    files: list[Path] = []
    problems: list[str] = []
    for index, pattern in enumerate(patterns):
        where = f"{file}: source_lists[{index}]"
        matches = sorted(glob.glob(pattern, root_dir=root))
        if not matches and not _GLOB_MAGIC.search(pattern):
            problems.append(f"{where}: no such file '{pattern}'")
        for match in matches:
            found = _absolute(root, match)
            if found == config_path or found in files or found.is_dir():
                continue
            if found.suffix.lower() not in (".yaml", ".yml", ".opml", ".xml"):
                name = _display(found, root)
                problems.append(f"{where}: '{name}' is not a .yaml, .yml, .opml or .xml file")
                continue
            files.append(found)
    return files, problems


def _read_source_list(path: Path, root: Path) -> tuple[list[_Entry], list[str]]:
    file = _display(path, root)
    if path.suffix.lower() in (".opml", ".xml"):
        return _read_opml(path, file)
    data, problems = _read_yaml(path, file)
    return ([], problems) if data is _NOTHING else _check_source_list_file(data, file)


def _check_folders(config: Config) -> list[str]:
    templates = config.site.templates_dir
    if templates is None or templates.is_dir():
        return []
    name = _display(templates, config.path.parent)
    return [f"{config.path.name}: site.templates_dir: no such folder '{name}'"]


def load_config(path: Path) -> Config:
    """Read a config file and every source list it names into one checked Config.

    Raises:
        ConfigError: anything is wrong; `.problems` has one line per fault, over all files.
    """
    path = Path(os.path.abspath(path))
    root, file = path.parent, path.name
    data, problems = _read_yaml(path, file)
    if data is _NOTHING:
        raise ConfigError(problems)
    settings, entries, found = _check_config_file(data, file)
    problems += found
    files, found = _source_list_files(settings.patterns, root, path, file)
    problems += found
    for source_list in files:
        more, found = _read_source_list(source_list, root)
        entries += more
        problems += found
    config, found = _assemble(path, settings, entries)
    problems += found + (_check_folders(config) if config else [])
    if problems or config is None:
        raise ConfigError(problems)
    return config


# ------------------------------------------------------------------ OPML out and in


def export_opml(config: Config) -> str:
    """Render every source as an OPML 2.0 document, one outline group per category.

    Raises:
        Nothing: the config is already checked.
    """
    opml = ElementTree.Element("opml", version="2.0")
    head = ElementTree.SubElement(opml, "head")
    ElementTree.SubElement(head, "title").text = config.site.title
    body = ElementTree.SubElement(opml, "body")
    for slug, category in config.categories.items():
        members = [s for s in config.sources if s.category == slug]
        if not members:
            continue
        group = ElementTree.SubElement(body, "outline", text=category.title, title=category.title)
        # Read back, a group's text gives the category slugify(title); `category` is
        # written only where that is not this slug (a title such as 中国新闻 for "zhongguo").
        explicit = slugify(category.title) != slug
        for source in members:
            attributes = {"type": "rss", "text": source.name, "title": source.name}
            attributes["xmlUrl"] = source.url
            if explicit:
                attributes["category"] = slug
            ElementTree.SubElement(group, "outline", attributes)
    ElementTree.indent(opml, space="  ")
    document = ElementTree.tostring(opml, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{document}\n'


def _covers(pattern: str, root: Path, target: Path) -> bool:
    """Whether glob `pattern` (relative to `root`) would match `target`, existing or not."""
    want = PurePath(os.path.normpath(root / pattern)).parts
    have = target.parts
    return len(want) == len(have) and all(
        fnmatchcase(h, w) for h, w in zip(have, want, strict=True)
    )


def _unique_name(name: str, taken: set[str]) -> str:
    candidate, number = name, 2
    while candidate in taken:
        candidate, number = f"{name} ({number})", number + 1
    return candidate


def _plan_import(config: Config, entries: Iterable[_Entry]) -> list[dict[str, str]]:
    """OPML entries -> `sources:` items for the feeds the config does not have yet.

    A source list cannot declare categories, so an item names a category only when the
    config already has it (the outline's own, else its group's slug); otherwise it names
    none and gets the category of its own name, created on load.
    """
    urls = {source.url for source in config.sources}
    names = {source.name for source in config.sources}
    items: list[dict[str, str]] = []
    for entry in entries:
        if entry.spec.url in urls:
            continue
        urls.add(entry.spec.url)
        name = _unique_name(entry.spec.name, names)
        names.add(name)
        item = {"name": name, "url": entry.spec.url}
        wanted = (entry.spec.category, slugify(entry.group) if entry.group else None)
        category = next((slug for slug in wanted if slug and slug in config.categories), None)
        if category is not None:
            item["category"] = category
        items.append(item)
    return items


_IMPORTED_HEADER = (
    "# Sources added by `aggregator sources import`; same keys as `sources:` in config.yaml.\n"
)


def _dump(data: object) -> str:
    return yaml.safe_dump(
        data, allow_unicode=True, sort_keys=False, default_flow_style=False, width=10_000
    )


def _extended(text: str | None, items: list[dict[str, str]]) -> str:
    """The source list `text` with `items` added; appended when that keeps the file's
    comments and layout, else the file rewritten."""
    if text is None:
        return _IMPORTED_HEADER + _dump({"sources": items})
    old = yaml.safe_load(text)
    old_items = (old.get("sources") or []) if isinstance(old, dict) else []
    indent = re.search(r"^( *)- ", text, re.MULTILINE)
    pad = indent.group(1) if indent else ""
    appended = (
        text.rstrip("\n")
        + "\n"
        + "".join(
            pad + line if line.strip() else line for line in _dump(items).splitlines(keepends=True)
        )
    )
    try:
        if yaml.safe_load(appended) == {"sources": [*old_items, *items]}:
            return appended
    except yaml.YAMLError:
        pass
    return _IMPORTED_HEADER + _dump({"sources": [*old_items, *items]})


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


# ------------------------------------------------------------------ watching


@dataclass(frozen=True, slots=True, kw_only=True)
class ConfigFingerprint:
    """The stat of config.yaml and of every file its `source_lists` match: an edit, a file
    added to or removed from a matched folder, changes it."""

    # (path, mtime_ns, size, inode); -1s for a file that cannot be stat'ed.
    files: tuple[tuple[str, int, int, int], ...]
    # config.yaml's `source_lists` when it was last read: reused while its stat is unchanged.
    patterns: tuple[str, ...] = field(default=(), compare=False)


def config_fingerprint(
    config_path: Path, previous: ConfigFingerprint | None = None
) -> ConfigFingerprint:
    """The fingerprint of the config at `config_path`, reading config.yaml only when its stat
    differs from the one in `previous` (the daemon asks every second: a 1,000-source
    config.yaml parsed each time cost a sixth of a core).

    Stats only the source lists (their content is not needed to tell an edit). Reads the
    config's YAML without validating it: a broken file still has a fingerprint.
    """
    stamp = _stamp(config_path)
    if previous is not None and previous.files and previous.files[0] == stamp:
        patterns = previous.patterns
    else:
        # Stat'ed before it is read: an edit made in between is seen at the next look.
        data, _problems = _read_yaml(config_path, config_path.name)
        found = data.get("source_lists") if isinstance(data, dict) else None
        patterns = tuple(p for p in found if isinstance(p, str)) if isinstance(found, list) else ()
    root = config_path.parent
    paths: dict[Path, None] = {}
    for pattern in patterns:
        paths.update((root / m, None) for m in sorted(glob.glob(pattern, root_dir=root)))
    paths.pop(config_path, None)
    return ConfigFingerprint(files=(stamp, *map(_stamp, paths)), patterns=patterns)


def _stamp(path: Path) -> tuple[str, int, int, int]:
    # mtime in ns: two same-size edits within a second still differ. An edit that puts the
    # mtime back as well (same size, same inode) is for SIGHUP to announce.
    try:
        st = path.stat()
    except OSError:
        return (str(path), -1, -1, -1)
    return (str(path), st.st_mtime_ns, st.st_size, st.st_ino)


def _source_list_patterns(config_path: Path) -> tuple[str, ...]:
    data, problems = _read_yaml(config_path, config_path.name)
    if not problems and isinstance(data, dict):
        patterns, problems = _checked(
            _PATTERNS, data.get("source_lists") or [], config_path.name, ("source_lists",)
        )
        if patterns is not None:
            return tuple(patterns)
    raise ConfigError(problems or [f"{config_path.name}: should be a mapping of keys"])


def import_opml(config: Config, opml_path: Path) -> tuple[Path, int]:
    """Add the feeds of an OPML file that the config lacks to feeds/imported.yaml.

    Returns the source list's path and how many sources were added; the config is loaded
    again afterwards, and the file put back as it was if that fails.

    Raises:
        ConfigError: the OPML file is unreadable or has bad outlines, `source_lists` does not
            take in feeds/imported.yaml, or the config no longer loads.
    """
    root = config.path.parent
    target = root / IMPORTED_SOURCES
    patterns = _source_list_patterns(config.path)
    if not any(_covers(pattern, root, target) for pattern in patterns):
        raise ConfigError(
            [
                f"{config.path.name}: source_lists: does not take in {IMPORTED_SOURCES}"
                " (add feeds/*.yaml)"
            ]
        )
    entries, problems = _read_opml(opml_path, _display(Path(os.path.abspath(opml_path)), root))
    if problems:
        raise ConfigError(problems)
    items = _plan_import(config, entries)
    if not items:
        return target, 0
    before, problems = _read_text(target, IMPORTED_SOURCES) if target.exists() else (None, [])
    if problems:
        raise ConfigError(problems)
    try:
        text = _extended(before, items)
    except yaml.YAMLError as e:
        raise ConfigError([f"{IMPORTED_SOURCES}: YAML syntax error: {e}"]) from e
    _write_atomically(target, text)
    try:
        load_config(config.path)
    except ConfigError:
        if before is None:
            target.unlink(missing_ok=True)
        else:
            _write_atomically(target, before)
        raise
    return target, len(items)
