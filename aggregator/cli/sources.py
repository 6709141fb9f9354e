"""`aggregator sources import|export|enable`: the config's sources as OPML, and a
disabled source enabled again (decide.after_enable says what its state becomes). Must NOT
write a config file itself (config does) nor decide a state.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from aggregator.cli.common import open_config_and_store

if TYPE_CHECKING:
    from aggregator.cli.common import SubParsers

__all__ = ["add_parsers", "cmd_sources_enable", "cmd_sources_export", "cmd_sources_import"]


def add_parsers(sub: SubParsers) -> None:
    """`sources` and its actions."""
    sources = sub.add_parser("sources", help="import, export, enable sources")
    ssub = sources.add_subparsers(dest="sources_command", required=True, metavar="ACTION")
    imp = ssub.add_parser("import", help="add the feeds of an OPML file")
    imp.add_argument("file", type=Path)
    imp.set_defaults(func=cmd_sources_import)
    exp = ssub.add_parser("export", help="print every source as OPML")
    exp.set_defaults(func=cmd_sources_export)
    ena = ssub.add_parser("enable", help="re-enable a disabled source")
    ena.add_argument("name")
    ena.set_defaults(func=cmd_sources_enable)


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
