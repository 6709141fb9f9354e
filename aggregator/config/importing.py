"""Config stage, `sources import` and `sources add`: the feeds of an OPML file that the
config lacks, or one feed found by `sources add`, added to feeds/imported.yaml.

The one place the config stage writes a file, and only that one (atomically, put back
when the config no longer loads after it); no network, no clock.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path, PurePath

import yaml

from aggregator.config.assemble import load_config, read_opml_entries
from aggregator.config.files import display, read_text, read_yaml
from aggregator.config.problems import checked
from aggregator.config.sections import PATTERNS, Entry, Refused
from aggregator.errors import ConfigError
from aggregator.slug import slugify
from aggregator.types import Config

__all__ = ["IMPORTED_SOURCES", "ImportReport", "add_source", "import_opml"]

IMPORTED_SOURCES = "feeds/imported.yaml"  # where `sources import` writes, relative to the config


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportReport:
    """What `sources import` did."""

    path: Path  # the source list written (or that would have been)
    added: int
    skipped: tuple[str, ...] = ()  # one line per feed left out as a duplicate, and why
    renamed: tuple[str, ...] = ()  # one line per feed imported under another name (taken)


def import_opml(config: Config, opml_path: Path) -> ImportReport:
    """Add the feeds of an OPML file that the config lacks to feeds/imported.yaml.

    Returns the source list's path, how many sources were added and the feeds skipped as
    duplicates; the config is loaded again afterwards, and the file put back as it was if
    that fails.

    Raises:
        ConfigError: the OPML file is unreadable or has bad outlines, `source_lists` does not
            take in feeds/imported.yaml, or the config no longer loads.
    """
    root = config.path.parent
    target = _target(config)
    entries, problems = read_opml_entries(
        opml_path, display(Path(os.path.abspath(opml_path)), root)
    )
    if problems:
        raise ConfigError(problems)
    items, skipped, renamed = _plan_import(config, entries)
    if not items:
        return ImportReport(path=target, added=0, skipped=skipped, renamed=renamed)
    _append(config, target, items)
    return ImportReport(path=target, added=len(items), skipped=skipped, renamed=renamed)


def add_source(
    config: Config,
    *,
    name: str,
    url: str,
    category: str | None = None,
    also_known_as: tuple[str, ...] = (),
) -> ImportReport:
    """Add one source (`sources add`) to feeds/imported.yaml, as `sources import` adds an
    outline: `category` named when the config has it, else kept as `group:` (the category
    of that title is made on load). Refused, nothing written, when a source has the name
    or the URL already (or one of `also_known_as`, the page the feed was found on): the
    report's `skipped` says which.

    Raises:
        ConfigError: `source_lists` does not take in feeds/imported.yaml, the file is
            unreadable, or the config no longer loads with the source (then put back).
    """
    target = _target(config)
    for source in config.sources:
        if source.name == name:
            taken = f"'{name}': the name of source '{source.name}' ({source.origin})"
            return ImportReport(path=target, added=0, skipped=(taken,))
        if source.url == url or source.url in also_known_as:
            taken = f"{source.url}: already source '{source.name}' ({source.origin})"
            return ImportReport(path=target, added=0, skipped=(taken,))
    item = {"name": name, "url": url}
    if category is not None:
        item["category" if category in config.categories else "group"] = category
    _append(config, target, [item])
    return ImportReport(path=target, added=1)


def _target(config: Config) -> Path:
    """feeds/imported.yaml under the config's folder.

    Raises: ConfigError when `source_lists` does not take it in.
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
    return target


def _append(config: Config, target: Path, items: list[dict[str, str]]) -> None:
    """`items` added to the source list `target`; put back when the config no longer loads.

    Raises: ConfigError.
    """
    before, problems = read_text(target, IMPORTED_SOURCES) if target.exists() else (None, [])
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


def _source_list_patterns(config_path: Path) -> tuple[str, ...]:
    data, problems = read_yaml(config_path, config_path.name)
    if not problems and isinstance(data, dict):
        patterns, problems = checked(
            PATTERNS, data.get("source_lists") or [], config_path.name, ("source_lists",)
        )
        if patterns is not None:
            return tuple(patterns)
    raise ConfigError(problems or [f"{config_path.name}: should be a mapping of keys"])


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


def _plan_import(
    config: Config, entries: Iterable[Entry | Refused]
) -> tuple[list[dict[str, str]], tuple[str, ...], tuple[str, ...]]:
    """OPML entries -> `sources:` items for the feeds the config does not have yet, a line
    for each feed skipped as a duplicate (of a source, or of an earlier outline), and one
    for each feed whose name was taken (it is imported as "NAME (2)").

    An item names a category the config already has (the outline's own, else its group's
    slug); else it keeps its outline group as `group:`, which makes the category on load
    as the group of an OPML source list does; else it names none and gets the category of
    its own name.
    """
    urls = {source.url: f"source '{source.name}' ({source.origin})" for source in config.sources}
    names = {source.name for source in config.sources}
    items: list[dict[str, str]] = []
    skipped: list[str] = []
    renamed: list[str] = []
    for entry in entries:
        if not isinstance(entry, Entry):
            continue  # refused: its problem lines stopped the import already
        url = entry.spec.url
        if url in urls:
            skipped.append(f"{entry.origin}: '{entry.spec.name}' {url}: already {urls[url]}")
            continue
        name = _unique_name(entry.spec.name, names)
        if name != entry.spec.name:
            renamed.append(f"{entry.origin}: '{entry.spec.name}' {url}: imported as '{name}'")
        urls[url] = f"imported as '{name}' ({entry.origin})"
        names.add(name)
        item = {"name": name, "url": url}
        wanted = (entry.spec.category, slugify(entry.group) if entry.group else None)
        category = next((slug for slug in wanted if slug and slug in config.categories), None)
        if category is not None:
            item["category"] = category
        elif entry.group and slugify(entry.group):
            item["group"] = entry.group
        items.append(item)
    return items, tuple(skipped), tuple(renamed)


_IMPORTED_HEADER = (
    "# Sources added by `aggregator sources import` and `sources add`;"
    " same keys as `sources:` in config.yaml.\n"
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
