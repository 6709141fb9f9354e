"""What `check` verifies beyond the config's own files: the database opens (or can be
created), `site.output_dir` can be written, the operator's templates compile, and every
`auth` variable is set in the environment. Each fault is a problem line, as config's are.

Runs for `check` only, never on config load (`status` and the daemon load the config
often). Must NOT create the database, output_dir or any file it leaves behind: an SQLite
file is opened read-only, a folder is tried with a temp file removed at once.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from aggregator.config.files import display

if TYPE_CHECKING:
    from aggregator.types import Config

__all__ = ["preflight_problems"]


def preflight_problems(config: Config, auth: Sequence[tuple[str, str]]) -> list[str]:
    """The problem lines of `config`'s surroundings, in config.yaml's order; `auth`: (where,
    variable) of every source read (a source refused for its category still has its auth
    checked: aggregator.config.Checked). Raises nothing."""
    file = config.path.name
    return [
        *_database(config, file),
        *_output_dir(config, file),
        *_templates(config, file),
        *_auth(auth),
    ]


def _database(config: Config, file: str) -> list[str]:
    from aggregator.store import probe_store

    fault = probe_store(config.database)
    return [f"{file}: database: {fault}"] if fault else []


def _output_dir(config: Config, file: str) -> list[str]:
    folder = config.site.output_dir
    fault = _writable(folder)
    if fault is None:
        return []
    name = display(folder, config.path.parent)
    return [f"{file}: site.output_dir: cannot write '{name}': {fault}"]


def _writable(folder: Path) -> str | None:
    """Why files cannot be written in `folder`, or None. A folder not there yet is made by
    the first publish: its nearest existing parent must then be a folder it can write in."""
    existing = folder
    while not os.path.lexists(existing) and existing.parent != existing:
        existing = existing.parent
    if not existing.is_dir():
        return f"'{existing}' is not a folder"
    # Trying is the one honest test (read-only mounts, ACLs, root): os.access is not. A
    # name of this process's own, made new (O_EXCL: no file of anyone's is touched).
    for attempt in range(100):
        name = os.path.join(existing, f".aggregator-check-{os.getpid()}-{attempt}")
        try:
            os.close(os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            continue
        except OSError as e:
            return f"cannot create a file in '{existing}' ({e.strerror or e})"
        os.unlink(name)
        return None
    return f"cannot create a file in '{existing}' (every name tried is taken)"


def _templates(config: Config, file: str) -> list[str]:
    folder = config.site.templates_dir
    if folder is None or not folder.is_dir():
        return []  # a missing folder is config's own problem line
    from aggregator.publish.form import template_faults

    name = display(folder, config.path.parent)
    return [
        f"{file}: site.templates_dir: {name}/{template}: {fault}"
        for template, fault in template_faults(folder)
    ]


def _auth(auth: Sequence[tuple[str, str]]) -> list[str]:
    return [
        f"{where}: environment variable {variable} is not set (or empty) where check runs"
        for where, variable in auth
        if not os.environ.get(variable)
    ]
