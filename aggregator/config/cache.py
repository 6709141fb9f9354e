"""Config stage, the kept config: a clean load's Config, kept in the user's cache folder and
given back while every file that load read is byte for byte the same, so that a command
whose config has not changed neither parses YAML nor imports pydantic (`check` starts in a
quarter of the time, and every `run --once` from cron with it).

The folder is `$XDG_CACHE_HOME/aggregator` (default `~/.cache/aggregator`), one file per
config path, readable by its owner only; `AGGREGATOR_CONFIG_CACHE=off` turns it off. A
load with any fault is never kept, and a kept one is used only when the code that made it
(this package's files, pydantic's, PyYAML's), `$HOME` (`~` in paths), config.yaml, the
paths its `source_lists` match and each file read are all as they were.

Reads what a load read, and its own file; writes only its own file (atomically; one that
cannot be written is skipped, never an error). Decides nothing about what a config means:
a miss runs assemble.py's read_config, the reference.
"""

from __future__ import annotations

import os
import pickle
import stat
import sys
import zlib
from dataclasses import dataclass
from importlib.machinery import PathFinder
from pathlib import Path
from typing import TYPE_CHECKING

from aggregator.cachedir import cache_root
from aggregator.config.files import Reads, folder_problems, source_list_files
from aggregator.errors import ConfigError

if TYPE_CHECKING:
    from aggregator.types import Config

__all__ = ["Checked", "cache_folder", "checked_config", "load_config"]

_FORMAT = 1  # the kept file's layout: a new one makes every kept file a miss
_LIBRARIES = ("pydantic", "pydantic_core", "yaml")  # whose code decides what a load gives


@dataclass(frozen=True, slots=True, kw_only=True)
class Checked:
    """A load's result: the Config (None when a section it needs failed), every fault, and
    (where, variable) of each environment variable the sources' `auth` names."""

    config: Config | None
    problems: list[str]
    auth: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class _Kept:
    stamp: tuple[object, ...]
    home: str | None
    reads: Reads
    config: Config
    auth: tuple[tuple[str, str], ...]


def load_config(path: Path) -> Config:
    """Read a config file and every source list it names into one checked Config, or the
    one kept from the last load of the same, unchanged files.

    Raises:
        ConfigError: anything is wrong; `.problems` has one line per fault, over all files.
    """
    checked = checked_config(path)
    if checked.problems or checked.config is None:
        raise ConfigError(checked.problems)
    return checked.config


def checked_config(path: Path) -> Checked:
    """load_config without raising, with what `check` looks at besides: see Checked."""
    path = Path(os.path.abspath(path))
    where = _kept_file(path)
    stamp = _code_stamp()
    kept = _read_kept(where, path, stamp) if where is not None else None
    if kept is not None:
        return Checked(config=kept.config, problems=folder_problems(kept.config), auth=kept.auth)
    from aggregator.config.assemble import auth_variables, read_config
    from aggregator.config.sections import Entry

    entries: list[Entry] = []
    reads = Reads()
    config, problems = read_config(path, entries_out=entries, reads=reads)
    auth = auth_variables(entries)
    if where is not None and config is not None and not problems:
        home = os.environ.get("HOME")
        _write_kept(where, _Kept(stamp=stamp, home=home, reads=reads, config=config, auth=auth))
    return Checked(config=config, problems=problems, auth=auth)


def cache_folder() -> Path | None:
    """Where kept configs live; None when turned off, or no folder can be named."""
    if os.environ.get("AGGREGATOR_CONFIG_CACHE", "").lower() in {"off", "0", "no", "false"}:
        return None
    return cache_root()


def _kept_file(path: Path) -> Path | None:
    folder = cache_folder()
    if folder is None:
        return None
    # Two paths of one name are told apart when read (Config.path): a name, not a secret.
    name = zlib.crc32(os.fsencode(path))
    return folder / f"config-{name:08x}.pickle"


def _code_stamp() -> tuple[object, ...]:
    """What a kept Config was made by: every module of this package and the libraries that
    check a config (mtime and size), the Python, the layout."""
    files: list[tuple[str, int, int]] = []
    package = Path(__file__).resolve().parent.parent
    for folder, dirs, names in os.walk(package):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(names):
            if name.endswith(".py"):
                full = os.path.join(folder, name)
                st = os.stat(full)
                files.append((full, st.st_mtime_ns, st.st_size))
    for library in _LIBRARIES:
        spec = PathFinder.find_spec(library)
        origin = spec.origin if spec is not None else None
        if origin:
            st = os.stat(origin)
            files.append((origin, st.st_mtime_ns, st.st_size))
    return (_FORMAT, sys.version, tuple(files))


def _read_kept(where: Path, path: Path, stamp: tuple[object, ...]) -> _Kept | None:
    """The kept load of `path`, if the files it read are unchanged; None otherwise."""
    try:
        with open(where, "rb") as f:
            st = os.fstat(f.fileno())
            # Only a file of this user's, that no one else may write, is unpickled.
            if st.st_uid != os.geteuid() or st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
                return None
            kept = pickle.load(f)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError):
        return None
    if not isinstance(kept, _Kept) or kept.stamp != stamp:
        return None
    if kept.home != os.environ.get("HOME") or kept.config.path != path:
        return None
    reads = kept.reads
    if not _same_bytes(path, reads.files.get(path)):
        return None
    matched = source_list_files(reads.patterns, path.parent, path, path.name)
    if matched.watched != reads.watched:
        return None
    for found in reads.watched:
        before = reads.files.get(found)
        if before is None:
            if not found.is_dir():  # a folder then (a load skips folders)
                return None
        elif not _same_bytes(found, before):
            return None
    return kept


def _same_bytes(path: Path, before: bytes | None) -> bool:
    if before is None:
        return False
    try:
        return path.read_bytes() == before
    except OSError:
        return False


def _write_kept(where: Path, kept: _Kept) -> None:
    """Keep `kept` at `where` (a temp file renamed over it); skipped when it cannot be."""
    import contextlib
    import tempfile

    try:
        where.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(prefix=".config-", dir=where.parent)
    except OSError:
        return
    try:
        with os.fdopen(handle, "wb") as f:
            pickle.dump(kept, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temp, where)
    except (OSError, pickle.PicklingError, TypeError, AttributeError):
        with contextlib.suppress(OSError):
            os.unlink(temp)
