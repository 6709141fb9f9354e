"""Config stage, assembly: load_config reads config.yaml and every source list it names,
then builds the one Config: categories resolved, defaults applied, paths anchored.

Reads local files (through files.py) and never writes one; no network, no clock. Every
fault of every file is collected into one ConfigError.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from datetime import timedelta
from pathlib import Path

from aggregator.cluster import NodeSettings
from aggregator.config.files import (
    NOTHING,
    OPML_SUFFIXES,
    Reads,
    absolute,
    display,
    folder_problems,
    read_opml,
    read_yaml,
    source_list_files,
)
from aggregator.config.sections import (
    Entry,
    Refused,
    Settings,
    check_config_file,
    check_source_list_file,
    outline_entries,
)
from aggregator.config.specs import ScheduleSpec
from aggregator.dburl import plain_sqlite
from aggregator.errors import ConfigError
from aggregator.slug import slugify
from aggregator.types import (
    Auth,
    Category,
    Config,
    FetchSettings,
    History,
    Schedule,
    ServeSettings,
    Site,
    Source,
    WebSub,
)

__all__ = ["auth_variables", "load_config", "read_config", "read_opml_entries"]


def load_config(path: Path) -> Config:
    """Read a config file and every source list it names into one checked Config.

    Raises:
        ConfigError: anything is wrong; `.problems` has one line per fault, over all files.
    """
    config, problems = read_config(path)
    if problems or config is None:
        raise ConfigError(problems)
    return config


def read_config(
    path: Path, *, entries_out: list[Entry] | None = None, reads: Reads | None = None
) -> tuple[Config | None, list[str]]:
    """load_config without raising: the Config of what passed its checks (None when a
    section it needs failed, or config.yaml is unreadable) and every fault, over all files.
    `check` looks further at that Config while reporting the faults in the same pass, and
    at every source read (`entries_out` gets them, those refused for their category too).
    `reads` gets what was read (cache.py keeps it beside the Config).
    """
    path = Path(os.path.abspath(path))
    root, file = path.parent, path.name
    seen = reads.files if reads is not None else None
    data, problems = read_yaml(path, file, seen=seen)
    if data is NOTHING:
        return None, problems
    settings, entries, found = check_config_file(data, file)
    problems += found
    matched = source_list_files(settings.patterns, root, path, file)
    if reads is not None:
        reads.patterns, reads.watched = settings.patterns, matched.watched
    files, found = matched.readable()
    problems += found
    for source_list in files:
        more, found = _read_source_list(source_list, root, seen)
        entries += more
        problems += found
    if entries_out is not None:
        entries_out += [e for e in entries if isinstance(e, Entry)]
    config, found = _assemble(path, settings, entries)
    problems += found + (folder_problems(config) if config else [])
    if config is None and not problems:
        problems.append(f"{file}: unusable")  # not reached: a failed section says why
    return config, problems


def read_opml_entries(
    path: Path, file: str, seen: dict[Path, bytes] | None = None
) -> tuple[list[Entry | Refused], list[str]]:
    """An OPML file's feeds as entries, one per <outline> with an xmlUrl, and the faults."""
    tree, problems = read_opml(path, file, seen=seen)
    return ([], problems) if tree is None else outline_entries(tree, file)


def auth_variables(entries: Sequence[Entry]) -> tuple[tuple[str, str], ...]:
    """(where, variable) of each environment variable the sources' `auth` names, in file
    order: `check` sees that each is set (aggregator.preflight)."""
    found: list[tuple[str, str]] = []
    for entry in entries:
        auth = entry.spec.auth
        if auth is None:
            continue
        key = "token_env" if auth.type == "bearer" else "password_env"
        variable = auth.token_env if auth.type == "bearer" else auth.password_env
        if variable:
            found.append((f"{entry.origin}.auth.{key}", variable))
    return tuple(found)


def _read_source_list(
    path: Path, root: Path, seen: dict[Path, bytes] | None
) -> tuple[list[Entry | Refused], list[str]]:
    file = display(path, root)
    if path.suffix.lower() in OPML_SUFFIXES:
        return read_opml_entries(path, file, seen)
    data, problems = read_yaml(path, file, seen=seen)
    return ([], problems) if data is NOTHING else check_source_list_file(data, file)


# ------------------------------------------------------------------ entries -> sources


def _name(entry: Entry | Refused) -> str | None:
    return entry.spec.name if isinstance(entry, Entry) else entry.name


def _given_category(entry: Entry | Refused) -> str | None:
    return entry.spec.category if isinstance(entry, Entry) else entry.category


def _default_category(entry: Entry | Refused) -> tuple[str, str]:
    """(slug, title) of the category a source gets when it names none."""
    if entry.group and slugify(entry.group):
        return slugify(entry.group), entry.group
    name = _name(entry) or ""
    return slugify(name), name


def _implied_categories(
    entries: Sequence[Entry | Refused], declared: Mapping[str, Category]
) -> dict[str, Category]:
    """`declared`, and the categories sources imply (their name's slug, an OPML group)."""
    categories = dict(declared)
    for entry in entries:
        if _given_category(entry) is None:
            slug, title = _default_category(entry)
            if slug:
                categories.setdefault(slug, Category(slug=slug, title=title))
    return categories


def _resolve_sources(
    entries: Sequence[Entry | Refused],
    declared: Mapping[str, Category],
    schedule: Schedule,
    bad_categories: frozenset[str] | None = frozenset(),
) -> tuple[dict[str, Category], list[Source], list[str]]:
    """Give every entry its category, tags and interval; find names used twice.

    Categories a source implies (its name's slug, an OPML group) are created first, so a
    source elsewhere may name one of them whatever the file order. A source refused by
    its own checks is checked here too (its name, its category), for one pass of faults.
    """
    categories = _implied_categories(entries, declared)
    sources: list[Source] = []
    problems: list[str] = []
    seen: dict[str, Entry | Refused] = {}
    for entry in entries:
        name = _name(entry)
        if name is None:
            continue
        if name in seen:
            first = seen[name]
            problems.append(f"{entry.where('name')}: duplicate name '{name}' (also {first.origin})")
            continue
        seen[name] = entry
        slug, found = _category_of(entry, categories, bad_categories)
        problems += found
        if slug is None or not isinstance(entry, Entry):
            continue
        for mapped in entry.spec.category_map.values():
            if mapped not in categories:
                problems.append(f"{entry.where('category_map')}: unknown category '{mapped}'")
        sources.append(_source(entry, slug, categories[slug], schedule))
    return categories, sources, problems


def _category_of(
    entry: Entry | Refused,
    categories: Mapping[str, Category],
    bad_categories: frozenset[str] | None,
) -> tuple[str | None, list[str]]:
    """The slug of the entry's category (None when it has none) and the fault, if any.

    A category declared but faulty (in `bad_categories`) was reported already; None for
    `bad_categories`: `categories:` was unreadable, so no unknown category is reported.
    """
    slug = _given_category(entry) or _default_category(entry)[0]
    if not slug:
        return None, [f"{entry.where('name')}: gives no category slug (set category)"]
    if slug not in categories:
        if bad_categories is not None and slug not in bad_categories:
            return None, [f"{entry.where('category')}: unknown category '{slug}'"]
        return None, []
    return slug, []


def _source(entry: Entry, slug: str, category: Category, schedule: Schedule) -> Source:
    spec = entry.spec
    least = spec.min_interval or schedule.min_interval
    most = spec.max_interval or schedule.max_interval
    if spec.interval is None:
        adaptive = schedule.adaptive and spec.cron is None
        interval = schedule.interval
    else:
        adaptive = spec.interval == "auto"
        interval = spec.interval if isinstance(spec.interval, timedelta) else schedule.interval
    return Source(
        name=spec.name,
        url=spec.url,
        category=slug,
        tags=tuple(spec.tags) if spec.tags is not None else (category.title,),
        interval=min(max(interval, least), most) if adaptive else interval,
        adaptive=adaptive,
        min_interval=least,
        max_interval=max(most, least),
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
        html=spec.html.selectors() if spec.html is not None else None,
    )


# ------------------------------------------------------------------ sections -> Config


def _absolute_database(root: Path, url: str) -> str:
    """Anchor a relative SQLite file to the config's folder; any other URL is kept as is."""
    plain = plain_sqlite(url)
    if plain is not None:  # read without SQLAlchemy, exactly as make_url reads it
        if plain.in_memory or Path(plain.database).is_absolute():
            return url
        return plain.with_database(str(absolute(root, plain.database)))
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
    return parsed.set(database=str(absolute(root, database))).render_as_string(hide_password=False)


def _assemble(
    path: Path, settings: Settings, entries: Sequence[Entry | Refused]
) -> tuple[Config | None, list[str]]:
    """Checked sections + every file's entries -> Config (None when a section failed)."""
    root = path.parent
    schedule = settings.schedule or ScheduleSpec()
    declared = {
        slug: Category(slug=slug, title=spec.title, dedupe=spec.dedupe, rules=spec.rules())
        for slug, spec in settings.categories.items()
    }
    default = Schedule(
        interval=(
            schedule.interval if isinstance(schedule.interval, timedelta) else Schedule().interval
        ),
        publish=schedule.publish,
        adaptive=schedule.interval == "auto",
        min_interval=schedule.min_interval,
        max_interval=schedule.max_interval,
    )
    categories, sources, problems = _resolve_sources(
        entries, declared, default, settings.bad_categories
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
            id=site.id,
            output_dir=absolute(root, site.output_dir),
            timezone=site.timezone,
            language=site.language,
            templates_dir=absolute(root, site.templates_dir) if site.templates_dir else None,
            feed_size=site.feed_size,
            tag_feeds=site.tag_feeds,
            archives=site.archives,
            formats=site.formats,
            retention=site.retention,
        ),
        database=_absolute_database(root, settings.database),
        schedule=default,
        categories=categories,
        sources=tuple(sources),
        fetch=FetchSettings(**fetch.model_dump()),
        websub=WebSub(**settings.websub.model_dump()) if settings.websub else None,
        parser=settings.parser,
        node=NodeSettings(id=settings.node.id, lease=settings.node.lease),
        history=History(keep=settings.history.keep, record=settings.history.record),
        serve=ServeSettings(status_token=settings.serve.status_token),
    )
    return config, problems
