"""Run the real `aggregator` command in a subprocess, and small helpers around its output."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

DATA = Path(__file__).parent / "data"
GOLDEN = DATA / "golden"
ATOM_RNG = DATA / "schema" / "atom.rng"


def aggregator_command() -> list[str]:
    script = Path(sys.executable).parent / "aggregator"
    if script.exists():
        return [str(script)]
    found = shutil.which("aggregator")
    return [found] if found else [sys.executable, "-m", "aggregator"]


def run_cli(
    config: Path, *args: str, check: bool = True, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """`aggregator --config CONFIG ARGS...`; with `check`, a non-zero exit fails the test."""
    env = {k: v for k, v in os.environ.items() if k != "AGGREGATOR_CONFIG"}
    env["NO_COLOR"] = "1"
    proc = subprocess.run(
        [*aggregator_command(), "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=config.parent,
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"aggregator {' '.join(args)} exited {proc.returncode}\n"
            f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
        )
    return proc


def tree_mtimes(root: Path) -> dict[str, int]:
    """Every file under `root` with its mtime in ns."""
    return {
        str(p.relative_to(root)): p.stat().st_mtime_ns
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def count_rows(db: Path, table: str) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


_ATOM = "{http://www.w3.org/2005/Atom}"


def validate_atom(path: Path) -> None:
    """Fail unless `path` is valid Atom 1.0: the RFC 4287 RELAX NG schema, and the rules
    the schema cannot express (RFC 4287 §4.1.1, §4.1.2, §4.2.7.2, §4.2.15).

    - entry ids are unique within the feed;
    - every entry has an author (its own, or through atom:source / the feed);
    - at most one rel="alternate" link per type (and hreflang) in the feed and in each entry;
    - the feed's `updated` equals its newest entry's `updated`.
    """
    from datetime import datetime

    from lxml import etree

    schema = etree.RelaxNG(etree.parse(str(ATOM_RNG)))
    doc = etree.parse(str(path))
    if not schema.validate(doc):
        raise AssertionError(f"{path} is not valid Atom:\n{schema.error_log}")
    feed = doc.getroot()

    def when(element: etree._Element) -> datetime:
        text = element.findtext(f"{_ATOM}updated")
        assert text, f"{path}: updated missing"
        return datetime.fromisoformat(text.replace("Z", "+00:00"))

    def alternates_unique(element: etree._Element, where: str) -> None:
        seen = [
            (link.get("type"), link.get("hreflang"))
            for link in element.findall(f"{_ATOM}link")
            if link.get("rel", "alternate") == "alternate"
        ]
        if len(seen) != len(set(seen)):
            raise AssertionError(f"{path}: {where}: two rel=alternate links of one type")

    alternates_unique(feed, "feed")
    entries = feed.findall(f"{_ATOM}entry")
    ids = [e.findtext(f"{_ATOM}id") for e in entries]
    if len(ids) != len(set(ids)):
        raise AssertionError(f"{path}: duplicate entry ids")
    feed_author = feed.find(f"{_ATOM}author") is not None
    for entry, entry_id in zip(entries, ids, strict=True):
        alternates_unique(entry, f"entry {entry_id}")
        source = entry.find(f"{_ATOM}source")
        if not (
            entry.find(f"{_ATOM}author") is not None
            or (source is not None and source.find(f"{_ATOM}author") is not None)
            or feed_author
        ):
            raise AssertionError(f"{path}: entry {entry_id} has no author")
    if entries:
        newest = max(when(e) for e in entries)
        if when(feed) != newest:
            raise AssertionError(
                f"{path}: feed updated {when(feed).isoformat()} is not the newest entry's "
                f"{newest.isoformat()}"
            )


def validate_feeds(root: Path) -> int:
    """validate_atom() on every .xml file under `root` (temp files aside); how many."""
    feeds = [
        p
        for p in sorted(root.rglob("*.xml"))
        if not any(part.startswith(".") for part in p.relative_to(root).parts)
    ]
    for feed in feeds:
        validate_atom(feed)
    return len(feeds)
