"""`aggregator history [SOURCE]`: the attempts recorded of the sources, newest last, as
a table in the site's zone or as JSON.

Reads the store only (never creates one: before the first round it says so); must NOT
fetch, publish or write.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from aggregator.cli.common import positive_count

# The config and the store are imported when the command runs: the CLI's parser (`--help`
# too) imports this module.
if TYPE_CHECKING:
    from aggregator.cli.common import SubParsers
    from aggregator.types import Attempt

__all__ = ["add_parsers"]


def add_parsers(sub: SubParsers) -> None:
    """`history`."""
    cmd = sub.add_parser("history", help="each source's recorded attempts, newest last")
    cmd.add_argument("source", nargs="?", help="one source (default: all)")
    cmd.add_argument(
        "--limit", type=positive_count, default=50, help="at most this many attempts (default: 50)"
    )
    cmd.add_argument("--json", action="store_true", help="machine-readable output")
    cmd.set_defaults(func=cmd_history)


def cmd_history(args: argparse.Namespace) -> int:
    import json

    from aggregator.config import load_config
    from aggregator.store import open_store, store_exists

    config = load_config(args.config)
    if args.source is not None and config.source(args.source) is None:
        print(f"aggregator: unknown source: {args.source}", file=sys.stderr)
        return 1
    made: list[Attempt] = []
    if not store_exists(config.database):
        print("aggregator: no round has run yet: no history", file=sys.stderr)
    else:
        store = open_store(config.database)
        try:
            made = store.attempts(source=args.source, limit=args.limit)
        finally:
            store.close()
    if args.json:
        print(json.dumps([_row(a) for a in made], ensure_ascii=False, indent=2))
        return 0
    _print_table(made, config.site.timezone)
    return 0


def _row(attempt: Attempt) -> dict[str, Any]:
    from dataclasses import asdict

    row = asdict(attempt)
    row["at"] = attempt.at.isoformat()
    return row


def _print_table(made: list[Attempt], zone: str) -> None:
    from zoneinfo import ZoneInfo

    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from aggregator.cli.status import _printable

    tz = ZoneInfo(zone)
    table = Table(title=f"{len(made)} attempts, times in {zone}")
    for column in ("at", "source", "outcome", "HTTP", "seconds", "bytes", "new", "updated"):
        table.add_column(column, overflow="fold")
    table.add_column("node / error", overflow="fold")
    for a in made:
        cells = (
            a.at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S"),
            a.source,
            a.outcome,
            str(a.http_status or "-"),
            f"{a.seconds:.2f}",
            "-" if a.bytes is None else str(a.bytes),
            str(a.new),
            str(a.updated),
            " ".join(x for x in (a.node, a.error) if x),
        )
        # Source names and errors are the feeds' and servers' words: shown, never markup.
        table.add_row(*(Text(_printable(cell)) for cell in cells))
    Console(width=None if sys.stdout.isatty() else 200).print(table)
