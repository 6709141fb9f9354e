"""Publish stage, report: what one publish did, as data for the CLI, the daemon and logs.

Must NOT do anything itself: a record only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["PublishReport"]


@dataclass(slots=True)
class PublishReport:
    written: list[Path] = field(default_factory=list)
    removed: list[Path] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)  # names the file system refused
    posts: int = 0
    expired: int = 0
    categories: tuple[str, ...] = ()
    # Aspects of the site that changed since the last publish (fingerprint.py), whose
    # outputs this one rewrote whole; ("fingerprint",): none was kept, all was rewritten.
    changed: tuple[str, ...] = ()
    pinged: list[str] = field(default_factory=list)  # feed URLs announced to the WebSub hub
