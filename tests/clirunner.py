"""Run the real `aggregator` command in a subprocess, and small helpers around its output."""

from __future__ import annotations

import os
import re
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
    - the feed's `updated` equals its newest entry's `updated`;
    - and the W3C Feed Validator's rules beyond the schema (check_atom_clean).
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
    check_atom_clean(path)


# The W3C Feed Validator's patterns (feedvalidator/validators.py, class rfc2396): a tag:
# URI (RFC 4151) and a URN (RFC 8141) as it reads them, and the characters it takes in
# any other IRI once IDNA has encoded it.
_VALIDATOR_TAG = re.compile(
    r"tag:([a-z0-9\-._]+?@)?[a-z0-9.\-]+?,\d{4}(-\d{2}(-\d{2})?)?:"
    r"[0-9a-zA-Z;/?:@&=+$.\-_!~*'()%,]*(#[0-9a-zA-Z;/?:@&=+$.\-_!~*'()%,]*)?"
)
_VALIDATOR_URN = re.compile(
    r"[Uu][Rr][Nn]:[a-zA-Z0-9][a-zA-Z0-9-]{1,31}:([a-zA-Z0-9()+,.:=@;$_!*'\-]|%[0-9A-Fa-f]{2})+"
)
_VALIDATOR_URI = re.compile(r"[a-zA-Z][0-9a-zA-Z+\-.]*:(//)?[0-9a-zA-Z;/?:@&=+$.\-_!~*'()%,#]+")


def _absolute_iri(value: str) -> bool:
    import rfc3987

    if not rfc3987.match(value, rule="IRI"):
        return False
    scheme = value.split(":", 1)[0].lower()
    if scheme == "tag":
        return _VALIDATOR_TAG.fullmatch(value) is not None
    if scheme == "urn":
        return _VALIDATOR_URN.fullmatch(value) is not None
    try:
        ascii_form = value.encode("idna").decode("ascii") if not value.isascii() else value
    except UnicodeError:
        return False  # what the validator's IDNA step cannot encode, it reports
    return _VALIDATOR_URI.fullmatch(ascii_form) is not None


def check_atom_clean(path: Path) -> None:
    """Fail unless `path` is clean by the rules the W3C Feed Validator applies beyond RFC
    4287's schema: the Atom namespace declared once, at the root, with no `nsN:` prefixes;
    every atom:id (feed, entry, atom:source) an absolute IRI; every href an absolute IRI
    with nothing an IRI may not hold (spaces, `{`, `|`, a stray `%`)."""
    from lxml import etree

    data = path.read_bytes()
    if re.search(rb"</?ns\d+:", data):
        raise AssertionError(f"{path}: elements carry generated ns prefixes")
    root = etree.fromstring(data)
    if root.tag != f"{_ATOM}feed" or root.nsmap.get(None) != _ATOM[1:-1]:
        raise AssertionError(f"{path}: Atom is not the root's default namespace")
    declarations = 0
    for element in root.iter():
        parent = element.getparent()
        inherited = parent.nsmap if parent is not None else {}
        declarations += sum(
            1
            for prefix, uri in element.nsmap.items()
            if uri == _ATOM[1:-1] and inherited.get(prefix) != uri
        )
    if declarations != 1:
        raise AssertionError(f"{path}: the Atom namespace is declared {declarations} times")
    for element in root.iter(f"{_ATOM}id"):
        value = (element.text or "").strip()
        if not _absolute_iri(value):
            where = element.getparent().tag.removeprefix(_ATOM)
            raise AssertionError(f"{path}: {where}/id {value!r} is no absolute IRI")
    for element in root.iter(f"{_ATOM}link"):
        href = element.get("href") or ""
        if not _absolute_iri(href):
            raise AssertionError(f"{path}: link rel={element.get('rel')} href {href!r}")


def validate_feeds(root: Path) -> int:
    """Every feed under `root` (temp files aside) checked by its format's rules, the
    sitemap saying which format a file is: validate_atom() on every .xml file but RSS's
    rss.xml, validate_rss() on RSS feeds, validate_jsonfeed() on JSON feeds; how many."""
    from feedformats import validate_jsonfeed, validate_rss

    from aggregator.publish.sitemap import Sitemap

    count = 0
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if any(part.startswith(".") for part in relative.parts) or not path.is_file():
            continue
        extension = Sitemap.feed_extension(relative.as_posix())
        if extension == ".rss":
            validate_rss(path)
        elif extension == ".json":
            validate_jsonfeed(path)
        elif path.suffix == ".xml":
            validate_atom(path)
        else:
            continue
        count += 1
    return count
