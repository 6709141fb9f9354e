"""Publish stage, fingerprint: what shaped the output tree, aspect by aspect (the base URL,
the site's title, language and zone, the templates, the categories, the menu, the feed
size, ...), each kept as a stable hash, and which outputs each aspect shapes; kept between
publishes in `output_dir/.fingerprint.json`.

A publish compares the fingerprint it would leave with the one the last complete publish
left, and rewrites every output an aspect that changed shapes (plan.py widens the plan).
Reads the templates it hashes and reads or writes that one file; must NOT read the store
(the publisher hands it the menu and the ids), render or decide what a publish writes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import jinja2

from aggregator.errors import PublishError
from aggregator.publish.files import write_atomic
from aggregator.types import Category, Config

__all__ = [
    "EVERYTHING",
    "FEEDS",
    "FINGERPRINT_FILE",
    "PAGES",
    "Aspect",
    "Output",
    "changed_aspects",
    "config_aspects",
    "fingerprint",
    "read_fingerprint",
    "rewritten",
    "write_fingerprint",
]

# What a publish can rewrite whole: every post's file, every post's page, every list page
# (numbered, newest and the index), every subscription feed, every archive document.
Output = Literal["post_files", "post_pages", "lists", "feeds", "archives"]
EVERYTHING: frozenset[Output] = frozenset(
    {"post_files", "post_pages", "lists", "feeds", "archives"}
)
FEEDS: frozenset[Output] = frozenset({"feeds", "archives"})
PAGES: frozenset[Output] = frozenset({"post_pages", "lists"})

FINGERPRINT_FILE = ".fingerprint.json"  # in output_dir; hidden: `serve` and Jekyll skip it
_VERSION = 1  # of the file's shape: another version reads as no fingerprint (a full rewrite)


@dataclass(frozen=True, slots=True)
class Aspect:
    """One thing that shapes the output: its `value` (any JSON-able data) and the outputs
    it shapes. Another part of the code may hand the publisher more (`publish(aspects=)`)."""

    name: str
    value: object
    shapes: frozenset[Output]

    @property
    def digest(self) -> str:
        text = json.dumps(self.value, ensure_ascii=False, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:32]


def config_aspects(config: Config, env: jinja2.Environment) -> list[Aspect]:
    """The aspects the config and the templates fix (the store's aside).

    - base_url, language, timezone: every file (links, words, dates and paths);
    - title: every page and feed (post files do not show it);
    - templates (every template the site reads, the package's and the operator's): posts
      and pages;
    - categories (slugs and titles, in order): every file (back links, labels, feed titles);
    - feed_size, archives: feeds and archives (the archive cut moves);
    - tag_feeds, websub hub: the feeds;
    - formats: the feeds (a new format's are written, a dropped one's removed) and every
      page (its autodiscovery links and subscribe links);
    - each source's tags: the feeds (tag feeds come and go), the posts retagged.
    """
    site = config.site
    return [
        Aspect("base_url", site.base_url, EVERYTHING),
        Aspect("title", site.title, PAGES | FEEDS),
        Aspect("language", site.language, EVERYTHING),
        Aspect("timezone", site.timezone, EVERYTHING),
        Aspect("templates", _templates(env), frozenset({"post_files", *PAGES})),
        Aspect("categories", _categories(config.categories.values()), EVERYTHING),
        Aspect("feed_size", site.feed_size, FEEDS),
        Aspect("archives", site.archives, FEEDS),
        Aspect("tag_feeds", site.tag_feeds, frozenset({"feeds"})),
        Aspect("formats", list(site.formats), PAGES | FEEDS),
        Aspect("hub", config.websub.hub if config.websub else None, frozenset({"feeds"})),
        # Stored posts are retagged (publisher.py): they are rewritten as changed ones.
        Aspect("tags", sorted([s.name, list(s.tags)] for s in config.sources), FEEDS),
    ]


def fingerprint(
    config: Config,
    env: jinja2.Environment,
    *,
    menu: Sequence[Category],
    ids: Sequence[str],
    extra: Iterable[Aspect] = (),
) -> list[Aspect]:
    """Every aspect of one publish: the config's, the `menu` (the categories every page
    links: those with posts), the atom:id prefixes `ids`, and `extra` (one named as one of
    these replaces it)."""
    aspects = [
        *config_aspects(config, env),
        Aspect("menu", _categories(menu), PAGES),
        Aspect("ids", list(ids), FEEDS),
        *extra,
    ]
    return list({a.name: a for a in aspects}.values())


def changed_aspects(aspects: Iterable[Aspect], previous: Mapping[str, str]) -> list[Aspect]:
    """The aspects whose digest differs from `previous` (or that it lacks)."""
    return [a for a in aspects if previous.get(a.name) != a.digest]


def rewritten(changed: Iterable[Aspect]) -> frozenset[Output]:
    """The outputs `changed` aspects shape: what a publish must rewrite whole."""
    found: set[Output] = set()
    for aspect in changed:
        found |= aspect.shapes
    return frozenset(found)


def read_fingerprint(output_dir: Path) -> dict[str, str] | None:
    """The digests the last complete publish left; None when there is no usable file (none
    yet, unreadable, of another version): everything is rewritten then."""
    try:
        data = json.loads((output_dir / FINGERPRINT_FILE).read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("version") != _VERSION:
        return None
    aspects = data.get("aspects")
    if not isinstance(aspects, dict):
        return None
    return {str(k): str(v) for k, v in aspects.items()}


def write_fingerprint(output_dir: Path, aspects: Iterable[Aspect]) -> bool:
    """Keep `aspects` for the next publish (atomically; untouched when the same); whether
    the file was written.

    Raises:
        PublishError: the file cannot be written.
    """
    data = {"version": _VERSION, "aspects": {a.name: a.digest for a in aspects}}
    raw = (json.dumps(data, indent=1, sort_keys=True) + "\n").encode()
    path = output_dir / FINGERPRINT_FILE
    try:
        if path.read_bytes() == raw:
            return False
    except OSError:
        pass
    try:
        write_atomic(path, raw)
    except OSError as e:
        raise PublishError(f"cannot write {path}: {e}") from e
    return True


def forget_fingerprint(output_dir: Path) -> None:
    """Drop the fingerprint, so that the next publish rewrites everything (a full publish
    cut short must leave the next one full too).

    Raises:
        PublishError: the file exists and cannot be removed.
    """
    try:
        (output_dir / FINGERPRINT_FILE).unlink(missing_ok=True)
    except OSError as e:
        raise PublishError(f"cannot remove {output_dir / FINGERPRINT_FILE}: {e}") from e


def _categories(categories: Iterable[Category]) -> list[list[str]]:
    return [[c.slug, c.title] for c in categories]


def _templates(env: jinja2.Environment) -> list[list[str]]:
    """Every template the environment finds (an operator's file in place of the
    package's) with a hash of its source."""
    found = []
    for name in sorted(env.list_templates()):
        try:
            source, _, _ = env.loader.get_source(env, name) if env.loader else ("", None, None)
        except (jinja2.TemplateNotFound, OSError, UnicodeDecodeError):
            source = ""
        found.append([name, hashlib.sha256(source.encode()).hexdigest()[:16]])
    return found
