"""Config stage, watching: the fingerprint the daemon compares to see that a config file
changed (config.yaml, every file its `source_lists` match, and the files of its
`site.templates_dir`).

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
    """The stat of config.yaml, of every file its `source_lists` match and of every file in
    its templates folder: an edit, a file added to or removed from a matched folder,
    changes it."""

    # (path, mtime_ns, size, inode); -1s for a file that cannot be stat'ed.
    files: tuple[tuple[str, int, int, int], ...]
    # config.yaml's `source_lists` when it was last read: reused while its stat is unchanged.
    patterns: tuple[str, ...] = field(default=(), compare=False)
    templates: Path | None = field(default=None, compare=False)  # site.templates_dir, so read


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
        patterns, templates = previous.patterns, previous.templates
    else:
        # Stat'ed before it is read: an edit made in between is seen at the next look.
        data, _problems = read_yaml(config_path, config_path.name)
        found = data.get("source_lists") if isinstance(data, dict) else None
        patterns = tuple(p for p in found if isinstance(p, str)) if isinstance(found, list) else ()
        site = data.get("site") if isinstance(data, dict) else None
        folder = site.get("templates_dir") if isinstance(site, dict) else None
        templates = config_path.parent / folder if isinstance(folder, str) else None
    matched = source_list_files(
        patterns, config_path.parent, Path(os.path.normpath(config_path)), config_path.name
    )
    stamps = (stamp, *map(_stamp, matched.watched), *map(_stamp, _template_files(templates)))
    return ConfigFingerprint(files=stamps, patterns=patterns, templates=templates)


def _template_files(folder: Path | None) -> list[Path]:
    """Every file under the templates folder (a template may include one in a subfolder)."""
    if folder is None:
        return []
    found = [folder]  # the folder itself: one made or removed is a change
    for parent, dirs, names in os.walk(folder):
        dirs.sort()  # the same order at every look
        found.extend(Path(parent, name) for name in sorted(names))
    return found


def _stamp(path: Path) -> tuple[str, int, int, int]:
    # mtime in ns: two same-size edits within a second still differ. An edit that puts the
    # mtime back as well (same size, same inode) is for SIGHUP to announce.
    try:
        st = path.stat()
    except OSError:
        return (str(path), -1, -1, -1)
    return (str(path), st.st_mtime_ns, st.st_size, st.st_ino)
