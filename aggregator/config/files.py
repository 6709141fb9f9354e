"""Config stage, files: reading config.yaml and source lists (YAML, OPML) from disk, and
`source_list_files`, the one expansion of `source_lists` globs.

Reads local files and lists folders only: writes nothing, checks no file's data (sections.py
does), no network, no clock. Its problem lines are about files as such: missing,
unreadable, not YAML or XML, or not a source list by their suffix.
"""

from __future__ import annotations

import functools
import glob
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import xml.etree.ElementTree as ElementTree

    from aggregator.types import Config

__all__ = [
    "NOTHING",
    "OPML_SUFFIXES",
    "PatternMatch",
    "Reads",
    "SourceListFiles",
    "absolute",
    "display",
    "folder_problems",
    "read_opml",
    "read_text",
    "read_yaml",
    "source_list_files",
]

_GLOB_MAGIC = re.compile(r"[*?[]")
SOURCE_LIST_SUFFIXES = (".yaml", ".yml", ".opml", ".xml")
OPML_SUFFIXES = (".opml", ".xml")


@functools.cache
def _loaders() -> tuple[type[Any], type[Any]]:
    """(the loader whose messages operators see, the fast one): SafeLoaders that refuse a
    key given twice (PyYAML silently keeps the last). Made on the first parse: a command
    whose config is unchanged since its last check (cache.py) never imports PyYAML."""
    import yaml

    def construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
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

    class Loader(yaml.SafeLoader):
        """SafeLoader that refuses a key given twice."""

    # libyaml's parser when PyYAML was built with it (its wheels are): a 500-source list
    # reads in a fraction of the pure-Python parser's time, which every `run --once` pays.
    # A file it refuses is read again by Loader, whose messages are the ones operators see.
    fast: type[Any] = Loader
    if getattr(yaml, "__with_libyaml__", False):

        class CLoader(yaml.CSafeLoader):
            """CSafeLoader that refuses a key given twice."""

        fast = CLoader
    for loader in (Loader,) if fast is Loader else (Loader, fast):
        loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
    return Loader, fast


def display(path: Path, root: Path) -> str:
    """A file's name in messages: relative to the config's folder when inside it."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def read_text(
    path: Path, file: str, *, seen: dict[Path, bytes] | None = None
) -> tuple[str | None, list[str]]:
    """A file's text (None when it cannot be read) and the faults; `file` names it. `seen`
    gets the bytes read, by path (cache.py keeps them to tell the file unchanged)."""
    try:
        data = path.read_bytes()
        if seen is not None:
            seen[path] = data
        # Universal newlines, as a file opened in text mode reads.
        return data.decode("utf-8-sig").replace("\r\n", "\n").replace("\r", "\n"), []
    except FileNotFoundError:
        return None, [f"{file}: no such file (in {path.parent})"]
    except UnicodeDecodeError as e:
        return None, [f"{file}: not UTF-8 text (byte {e.start})"]
    except OSError as e:
        return None, [f"{file}: cannot read ({e.strerror or e})"]


NOTHING = object()  # a file that could not be read or parsed


def _parse_yaml(text: str, file: str) -> tuple[object, list[str]]:
    import yaml

    loader, fast = _loaders()
    if fast is not loader:
        try:
            return yaml.load(text, Loader=fast), []  # a CSafeLoader
        except yaml.YAMLError:
            pass  # read again below, for the other's message
    try:
        return yaml.load(text, Loader=loader), []  # a SafeLoader
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        fault = e.problem or e.context or "unreadable"
        start = e.context_mark
        if (
            mark is not None
            and start is not None
            and e.context
            and "block" not in e.context  # a block's start is not where its indentation fails
            and start.line < mark.line
        ):
            # An unclosed quote or bracket is found where the file ends, or lines later:
            # name the line it starts on, then where the parser gave up.
            what = e.context.removeprefix("while scanning ").removeprefix("while parsing ")
            fault = f"{what} starts here; {fault} at line {mark.line + 1}, column {mark.column + 1}"
            mark = start
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        if e.context and "alias" in e.context:
            fault += " (quote values that start with * or &)"
        return NOTHING, [f"{file}: {where}YAML syntax error: {fault}"]
    except yaml.reader.ReaderError as e:  # a character YAML does not allow (a NUL, a C0 control)
        line = text.count("\n", 0, e.position) + 1
        column = e.position - (text.rfind("\n", 0, e.position) + 1) + 1
        fault = f"unacceptable character #x{e.character:04x}: {e.reason}"
        return NOTHING, [f"{file}: line {line}, column {column}: YAML syntax error: {fault}"]
    except yaml.YAMLError as e:
        return NOTHING, [f"{file}: YAML syntax error: {' '.join(str(e).split())}"]


def read_yaml(
    path: Path, file: str, *, seen: dict[Path, bytes] | None = None
) -> tuple[object, list[str]]:
    """A file's parsed YAML (NOTHING when it cannot be read or parsed) and the faults."""
    text, problems = read_text(path, file, seen=seen)
    return (NOTHING, problems) if text is None else _parse_yaml(text, file)


def read_opml(
    path: Path, file: str, *, seen: dict[Path, bytes] | None = None
) -> tuple[ElementTree.Element | None, list[str]]:
    """An OPML file's XML tree (None when it cannot be read or parsed) and the faults."""
    import xml.etree.ElementTree as ElementTree

    try:
        data = path.read_bytes()
        if seen is not None:
            seen[path] = data
    except FileNotFoundError:
        return None, [f"{file}: no such file"]
    except OSError as e:
        return None, [f"{file}: cannot read ({e.strerror or e})"]
    # OPML never needs a DTD. ElementTree fetches no external entities; refusing entity
    # declarations outright also rules out expansion bombs, whatever expat's own limits are.
    if b"<!ENTITY" in data:
        return None, [f"{file}: entity declarations are not allowed in OPML"]
    try:
        return ElementTree.fromstring(data), []
    except ElementTree.ParseError as e:
        fault = str(e).split(":")[0]  # expat's text ends with ": line L, column C"
        return None, [f"{file}: line {e.position[0]}: not well-formed XML: {fault}"]


def absolute(root: Path, text: str) -> Path:
    """`text`, a path relative to the config's folder `root` (or absolute, or ~), normalized."""
    # In strings, one Path at the end: the daemon's fingerprint does this for every
    # matched file every second.
    return Path(os.path.normpath(os.path.join(root, os.path.expanduser(text))))


@dataclass(frozen=True, slots=True, kw_only=True)
class PatternMatch:
    """One `source_lists` glob and what it matches."""

    pattern: str
    paths: tuple[Path, ...]  # sorted; config.yaml left out (`*.yaml` would match it)
    missing: bool  # it names one file (no wildcard), and there is no such file


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceListFiles:
    """What config.yaml's `source_lists` globs match: load_config reads `readable()`, the
    config fingerprint stats `watched`."""

    matches: tuple[PatternMatch, ...]
    root: Path  # the config's folder, which the globs are relative to
    file: str  # config.yaml's name in problem lines

    @property
    def watched(self) -> tuple[Path, ...]:
        """Every path matched, once each (folders and refused files too): any of them
        appearing, changing or going may change what a load gives."""
        return tuple(dict.fromkeys(path for match in self.matches for path in match.paths))

    def readable(self) -> tuple[list[Path], list[str]]:
        """The source lists to read, in pattern then name order, once each; and the faults
        ("no such file", "not a .yaml, .yml, .opml or .xml file"). Folders are skipped."""
        files: list[Path] = []
        problems: list[str] = []
        for index, match in enumerate(self.matches):
            where = f"{self.file}: source_lists[{index}]"
            if match.missing:
                problems.append(f"{where}: no such file '{match.pattern}'")
            for found in match.paths:
                if found in files or found.is_dir():
                    continue
                if found.suffix.lower() not in SOURCE_LIST_SUFFIXES:
                    name = display(found, self.root)
                    problems.append(f"{where}: '{name}' is not a .yaml, .yml, .opml or .xml file")
                    continue
                files.append(found)
        return files, problems


def source_list_files(
    patterns: Sequence[str], root: Path, config_path: Path, file: str
) -> SourceListFiles:
    """Expand `source_lists` globs (relative to the config's folder `root`), in order.

    The one reading of the globs, for load_config and for the config fingerprint alike.
    `config_path` (normalized) is left out of every match; `file` names config.yaml in the
    problem lines.
    """
    matches: list[PatternMatch] = []
    for pattern in patterns:
        found = sorted(glob.glob(pattern, root_dir=root))
        paths = tuple(path for name in found if (path := absolute(root, name)) != config_path)
        missing = not found and not _GLOB_MAGIC.search(pattern)
        matches.append(PatternMatch(pattern=pattern, paths=paths, missing=missing))
    return SourceListFiles(matches=tuple(matches), root=root, file=file)


@dataclass(slots=True)
class Reads:
    """What one load read (cache.py keeps it to tell a later load's files unchanged):
    config.yaml's `source_lists`, every path they matched (folders too), and the bytes of
    each file read, config.yaml's first."""

    patterns: tuple[str, ...] = ()
    watched: tuple[Path, ...] = ()
    files: dict[Path, bytes] = field(default_factory=dict)


def folder_problems(config: Config) -> list[str]:
    """The faults of the folders a Config names that a load checks (a templates_dir that
    is not there): checked at every load, a kept one's too."""
    templates = config.site.templates_dir
    if templates is None or templates.is_dir():
        return []
    name = display(templates, config.path.parent)
    return [f"{config.path.name}: site.templates_dir: no such folder '{name}'"]
