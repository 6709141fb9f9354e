"""Config stage, sections: each file's parsed data -> checked sections and source entries.

One check per section and per item, so that one bad part does not hide the faults of the
others. Reads none of the operator's files (files.py does), no network, no clock;
resolves no category and builds no Config (assemble.py does).
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from pydantic import TypeAdapter

from aggregator.config.checks import CategorySlug, DatabaseUrl, Text
from aggregator.config.problems import checked, problem_line
from aggregator.config.specs import (
    CategorySpec,
    ConfigFile,
    FetchSpec,
    HistorySpec,
    NodeSpec,
    ScheduleSpec,
    ServeSpec,
    SiteSpec,
    SourceListFile,
    SourceSpec,
    WebSubSpec,
)

__all__ = [
    "DEFAULT_DATABASE",
    "PATTERNS",
    "Entry",
    "Refused",
    "Settings",
    "check_config_file",
    "check_source_list_file",
    "outline_entries",
]

DEFAULT_DATABASE = "sqlite:///aggregator.db"

_T = TypeVar("_T")

_CONFIG_FILE = TypeAdapter(ConfigFile)
_SOURCE_LIST_FILE = TypeAdapter(SourceListFile)
_SITE = TypeAdapter(SiteSpec)
_DATABASE: TypeAdapter[str] = TypeAdapter(DatabaseUrl)
_SCHEDULE = TypeAdapter(ScheduleSpec)
_FETCH = TypeAdapter(FetchSpec)
_WEBSUB = TypeAdapter(WebSubSpec)
_NODE = TypeAdapter(NodeSpec)
_HISTORY = TypeAdapter(HistorySpec)
_SERVE = TypeAdapter(ServeSpec)
_PARSER: TypeAdapter[Literal["auto", "feedparser"]] = TypeAdapter(Literal["auto", "feedparser"])
_CATEGORIES = TypeAdapter(dict[CategorySlug, CategorySpec])
_LIST = TypeAdapter(list[object])
_SOURCE = TypeAdapter(SourceSpec)
_TEXT: TypeAdapter[str] = TypeAdapter(Text)
# `source_lists`: read by `sources import` as well, to see where it may write.
PATTERNS = TypeAdapter(list[Text])


@dataclass(frozen=True, slots=True, kw_only=True)
class Entry:
    """A source as one file wrote it, before categories and defaults are resolved."""

    spec: SourceSpec
    origin: str  # "feeds/tech.yaml: sources[3]"
    group: str | None = None  # OPML: the text of the enclosing outline; YAML: `group:`
    names: Mapping[str, str] = field(default_factory=dict)  # key names as the file spells them

    def where(self, key: str) -> str:
        return f"{self.origin}.{self.names.get(key, key)}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Refused:
    """A source whose own checks failed: what is left of it for the cross-file checks, so
    that its unknown category is reported in the same pass as its other faults."""

    origin: str
    name: str | None  # None: no usable name
    category: str | None  # as given; None when not given, or not text
    group: str | None = None
    names: Mapping[str, str] = field(default_factory=dict)

    def where(self, key: str) -> str:
        return f"{self.origin}.{self.names.get(key, key)}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
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
    node: NodeSpec = field(default_factory=NodeSpec)
    history: HistorySpec = field(default_factory=HistorySpec)
    serve: ServeSpec = field(default_factory=ServeSpec)


def _refused(
    item: object, origin: str, group: str | None = None, names: Mapping[str, str] | None = None
) -> Refused:
    """What the cross-file checks can still use of a source item that failed its checks."""
    raw: Mapping[Any, Any] = item if isinstance(item, Mapping) else {}
    name, _ = checked(_TEXT, raw.get("name"), "")
    category, _ = checked(_TEXT, raw.get("category"), "") if "category" in raw else (None, [])
    if group is None and "group" in raw:  # a YAML source's `group:`, as an OPML group
        group, _ = checked(_TEXT, raw.get("group"), "")
    return Refused(origin=origin, name=name, category=category, group=group, names=names or {})


def _check_sources(value: object, file: str) -> tuple[list[Entry | Refused], list[str]]:
    """A `sources:` list -> entries, one check per item so each fault is found."""
    if value is None:
        return [], []
    items, problems = checked(_LIST, value, file, ("sources",))
    entries: list[Entry | Refused] = []
    for index, item in enumerate(items or ()):
        spec, found = checked(_SOURCE, item, file, ("sources", index))
        problems += found
        origin = f"{file}: sources[{index}]"
        entries.append(
            Entry(spec=spec, origin=origin, group=spec.group) if spec else _refused(item, origin)
        )
    return entries, problems


def _check_categories(
    value: object, file: str
) -> tuple[dict[str, CategorySpec], frozenset[str] | None, list[str]]:
    """`categories:` -> the good ones, the slugs of the faulty ones, and the faults."""
    if value is None:
        return {}, frozenset(), []
    if not isinstance(value, dict):
        return {}, None, [problem_line(file, ("categories",), "should be a mapping")]
    good: dict[str, CategorySpec] = {}
    bad: set[str] = set()
    problems: list[str] = []
    for slug, spec in value.items():
        # One item at a time, so that one bad category does not hide the others.
        category, found = checked(_CATEGORIES, {slug: spec}, file, ("categories",))
        problems += found
        if category:
            good.update(category)
        else:
            bad.add(str(slug))
    return good, frozenset(bad), problems


def check_config_file(data: object, file: str) -> tuple[Settings, list[Entry | Refused], list[str]]:
    """config.yaml's parsed YAML -> its settings, its own sources, and the faults."""
    # The top level is checked for unknown keys only; each section is checked by itself
    # so that a bad one does not hide the faults of the others.
    _, problems = checked(_CONFIG_FILE, {} if data is None else data, file)
    raw: dict[Any, Any] = data if isinstance(data, dict) else {}

    def section(adapter: TypeAdapter[_T], key: str, default: _T) -> _T | None:
        if raw.get(key) is None:
            return default
        result, found = checked(adapter, raw[key], file, (key,))
        problems.extend(found)
        return result

    # In the file's documented order, so that the lines read top to bottom.
    site, found = checked(_SITE, raw["site"], file, ("site",)) if "site" in raw else (None, [])
    problems += found
    database = section(_DATABASE, "database", DEFAULT_DATABASE)
    schedule = section(_SCHEDULE, "schedule", ScheduleSpec())
    fetch = section(_FETCH, "fetch", FetchSpec())
    categories, bad_categories, found = _check_categories(raw.get("categories"), file)
    problems += found
    entries, found = _check_sources(raw.get("sources"), file)
    problems += found
    patterns: list[str] | None = section(PATTERNS, "source_lists", [])
    websub: WebSubSpec | None = None
    if raw.get("websub") is not None:
        websub, found = checked(_WEBSUB, raw["websub"], file, ("websub",))
        problems += found
    parser = section(_PARSER, "parser", "auto")
    node = section(_NODE, "node", NodeSpec())
    history = section(_HISTORY, "history", HistorySpec())
    serve = section(_SERVE, "serve", ServeSpec())
    settings = Settings(
        serve=serve or ServeSpec(),
        node=node or NodeSpec(),
        history=history or HistorySpec(),
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


def check_source_list_file(data: object, file: str) -> tuple[list[Entry | Refused], list[str]]:
    """A feeds/*.yaml file's parsed YAML -> entries and faults."""
    _, problems = checked(_SOURCE_LIST_FILE, {} if data is None else data, file)
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


def outline_entries(
    root: ElementTree.Element, file: str
) -> tuple[list[Entry | Refused], list[str]]:
    """An OPML tree -> entries: one per <outline> with an xmlUrl, in document order."""
    body = root.find("body")
    if root.tag != "opml" or body is None:
        return [], [f"{file}: not an OPML document (no <opml><body>)"]
    entries: list[Entry | Refused] = []
    problems: list[str] = []
    for index, (outline, group) in enumerate(_feed_outlines(body)):
        url = outline.get("xmlUrl", "")
        name_key = "title" if (outline.get("title") or "").strip() else "text"
        data = {"name": (outline.get(name_key) or "").strip() or url, "url": url}
        if outline.get("category") is not None:
            data["category"] = outline.get("category", "")
        names = {"name": name_key, "url": "xmlUrl"}
        spec, found = checked(_SOURCE, data, file, (f"outline[{index}]",), names)
        problems += found
        origin = f"{file}: outline[{index}]"
        if spec is not None:
            entries.append(Entry(spec=spec, origin=origin, group=group, names=names))
        else:
            entries.append(_refused(data, origin, group, names))
    return entries, problems
