"""Config stage, watching: the fingerprint the daemon compares to see that a config file
changed (config.yaml, and every file its `source_lists` match).

Stats files and reads config.yaml's YAML only: validates nothing, builds no Config, writes
nothing, no network, no clock.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from aggregator.config.files import read_yaml, source_list_files

__all__ = ["ConfigFingerprint", "config_fingerprint"]


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
        data, _problems = read_yaml(config_path, config_path.name)
        found = data.get("source_lists") if isinstance(data, dict) else None
        patterns = tuple(p for p in found if isinstance(p, str)) if isinstance(found, list) else ()
    matched = source_list_files(
        patterns, config_path.parent, Path(os.path.normpath(config_path)), config_path.name
    )
    return ConfigFingerprint(files=(stamp, *map(_stamp, matched.watched)), patterns=patterns)


def _stamp(path: Path) -> tuple[str, int, int, int]:
    # mtime in ns: two same-size edits within a second still differ. An edit that puts the
    # mtime back as well (same size, same inode) is for SIGHUP to announce.
    try:
        st = path.stat()
    except OSError:
        return (str(path), -1, -1, -1)
    return (str(path), st.st_mtime_ns, st.st_size, st.st_ino)
