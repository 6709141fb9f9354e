"""`aggregator sources import|export|enable|add`: the config's sources as OPML, a
disabled source enabled again (decide.after_enable says what its state becomes), and the
feed of a page added (update.discover finds it). Must NOT write a config file itself
(config does), fetch itself, nor decide a state.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from aggregator.cli.common import open_config_and_store

if TYPE_CHECKING:
    from aggregator.cli.common import SubParsers

__all__ = [
    "add_parsers",
    "cmd_sources_add",
    "cmd_sources_enable",
    "cmd_sources_export",
    "cmd_sources_import",
]


def add_parsers(sub: SubParsers) -> None:
    """`sources` and its actions."""
    sources = sub.add_parser("sources", help="import, export, enable, add sources")
    ssub = sources.add_subparsers(dest="sources_command", required=True, metavar="ACTION")
    imp = ssub.add_parser("import", help="add the feeds of an OPML file")
    imp.add_argument("file", type=Path)
    imp.set_defaults(func=cmd_sources_import)
    exp = ssub.add_parser("export", help="print every source as OPML")
    exp.set_defaults(func=cmd_sources_export)
    ena = ssub.add_parser("enable", help="re-enable a disabled source")
    ena.add_argument("name")
    ena.set_defaults(func=cmd_sources_enable)
    add = ssub.add_parser("add", help="add the feed of a URL (a feed, or a page advertising one)")
    add.add_argument("url")
    add.add_argument("--category", help="its category (slug; made from the title if missing)")
    add.add_argument("--name", help="its name (default: the feed's title)")
    add.add_argument(
        "--pick", type=int, default=1, metavar="N", help="the page's Nth advertised feed (1)"
    )
    add.set_defaults(func=cmd_sources_add)


def cmd_sources_import(args: argparse.Namespace) -> int:
    from aggregator.config import import_opml, load_config

    config = load_config(args.config)
    report = import_opml(config, args.file)
    for line in report.skipped:
        print(f"skipped, a duplicate: {line}")
    for line in report.renamed:
        print(f"renamed, its name is taken: {line}")
    skipped = f", {len(report.skipped)} skipped as duplicates" if report.skipped else ""
    print(f"{report.added} source(s) added to {report.path}{skipped}")
    return 0


def cmd_sources_export(args: argparse.Namespace) -> int:
    from aggregator.config import export_opml, load_config

    config = load_config(args.config)
    sys.stdout.write(export_opml(config))
    return 0


def cmd_sources_enable(args: argparse.Namespace) -> int:
    from aggregator.update.decide import after_enable

    config, store = open_config_and_store(args)
    try:
        source = config.source(args.name)
        if source is None:
            print(f"aggregator: unknown source: {args.name}", file=sys.stderr)
            return 1
        store.save_state(after_enable(source, store.get_state(source.name)).state)
        print(f"{source.name}: enabled")
    finally:
        store.close()
    return 0


# What `sources add` prints for a page that advertises no feed: a `type: html` source to
# fill in. The selectors are the operator's to write: a guess would publish the wrong
# parts of a page without a word.
_SKELETON = """\
  - name: {name}
    url: {url}
    type: html
    html:
      item: ""        # CSS selector matching each item (required), e.g. ".news li"
      title: ""       # within the item; default: the item's text
      link: ""        # selector@attribute; default: the first a@href
      date: ""        # optional
      date_format: "" # optional, e.g. "%Y-%m-%d %H:%M"; default: the date parser
"""


def cmd_sources_add(args: argparse.Namespace) -> int:
    import asyncio

    from aggregator.config import IMPORTED_SOURCES, add_source, load_config
    from aggregator.normalize import clean_title
    from aggregator.update.discover import feed_title, find_feeds
    from aggregator.update.updater import limits_from

    config = load_config(args.config)
    limits = limits_from(config)
    found = asyncio.run(find_feeds(args.url, limits))
    page: tuple[str, ...] = ()
    if found.is_feed:
        url, title = args.url, found.title
    elif not found.feeds:
        print(f"{args.url}: an HTML page advertising no feed; nothing added.")
        print(
            f"To read the page itself, add a `type: html` source to {IMPORTED_SOURCES}"
            " (selectors: see README, HTML pages as sources):"
        )
        name = args.name or clean_title(found.title, fallback_text="") or _host(args.url)
        print(_SKELETON.format(name=_yaml_text(name), url=_yaml_text(found.final_url)), end="")
        return 1
    else:
        if len(found.feeds) > 1:
            print(f"{args.url} advertises {len(found.feeds)} feeds:")
            for number, feed in enumerate(found.feeds, 1):
                label = clean_title(feed.title, fallback_text="") or feed.type
                print(f"  {number}. {_printable(feed.url)}  ({_printable(label)})")
        if not 1 <= args.pick <= len(found.feeds):
            print(
                f"aggregator: --pick {args.pick}: the page advertises {len(found.feeds)}",
                file=sys.stderr,
            )
            return 1
        chosen = found.feeds[args.pick - 1]
        url, page = chosen.url, (args.url, found.final_url)
        title = asyncio.run(feed_title(url, limits))
        print(f"taking feed {args.pick}: {_printable(url)}")
    name = args.name or clean_title(title, fallback_text="") or _host(url)
    report = add_source(config, name=name, url=url, category=args.category, also_known_as=page)
    for line in report.skipped:
        print(f"aggregator: not added: {_printable(line)}", file=sys.stderr)
    if not report.added:
        return 1
    print(f"added '{_printable(name)}' {_printable(url)} to {report.path}")
    return 0


def _host(url: str) -> str:
    return urlsplit(url).hostname or url


def _printable(text: str) -> str:
    """A value from a page as one terminal line: control characters as escapes."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _yaml_text(text: str) -> str:
    """`text` as one YAML scalar (quoted JSON-style: inert whatever it holds)."""
    import json

    return json.dumps(text, ensure_ascii=False)
