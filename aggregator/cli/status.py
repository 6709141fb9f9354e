"""The commands that look without changing anything: `status` (how each source is doing,
as status.py defines it: a table, or JSON) and `check` (the config, and what
aggregator.preflight looks at around it). Must NOT write to the store or decide a
source's health itself.
"""

from __future__ import annotations

import argparse
import re
import sys
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aggregator.errors import ConfigError

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from aggregator.cli.common import SubParsers
    from aggregator.config.sections import Entry
    from aggregator.store.api import Metrics
    from aggregator.types import Config

__all__ = ["add_parsers", "cmd_check", "cmd_status", "status_rows"]


def add_parsers(sub: SubParsers) -> None:
    """`status` and `check`."""
    st = sub.add_parser("status", help="a table of sources and how they are doing")
    st.add_argument("--json", action="store_true", help="machine-readable output")
    st.set_defaults(func=cmd_status)

    check = sub.add_parser(
        "check", help="validate the config, the database, output_dir, templates and auth variables"
    )
    check.set_defaults(func=cmd_check)


def status_rows(config: Config, store: Metrics) -> list[dict[str, Any]]:
    """One row per configured source, from its stored state (what `status --json` prints).

    Raises:
        StoreError: the store cannot be read.
    """
    from aggregator import status

    health = status.source_health(config, store.states(), store.post_counts())
    return status.status_rows(health)


def cmd_check(args: argparse.Namespace) -> int:
    """The config's faults and its surroundings' (aggregator.preflight), all in one pass.

    Raises:
        ConfigError: anything is wrong; one line per fault.
    """
    from aggregator.config import read_config
    from aggregator.preflight import preflight_problems

    entries: list[Entry] = []
    config, problems = read_config(args.config, entries_out=entries)
    if config is not None:
        problems += preflight_problems(config, entries)
    if problems or config is None:
        raise ConfigError(problems)
    print(
        f"{args.config}: ok ({len(config.sources)} sources in {len(config.categories)} categories)"
    )
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from aggregator import status
    from aggregator.config import load_config
    from aggregator.store import open_store, store_exists

    config = load_config(args.config)
    if not store_exists(config.database):
        # Opening it would create it: `status` looks, it never makes a store.
        print(
            "aggregator: no round has run yet (no database at "
            f"{_shown(config.database)}): every source is due",
            file=sys.stderr,
        )
        rows = status.status_rows(status.source_health(config, [], {}))
    else:
        store = open_store(config.database)
        try:
            rows = status_rows(config, store)
        finally:
            store.close()
    if args.json:
        import json

        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    _print_table(rows, config.site.timezone)
    return 0


def _shown(url: str) -> str:
    """The database URL without its user and password."""
    scheme, sep, rest = url.partition("://")
    authority, slash, path = rest.partition("/")
    return f"{scheme}{sep}{authority.rpartition('@')[2]}{slash}{path}" if sep else url


def _print_table(rows: list[dict[str, Any]], zone: str) -> None:
    from zoneinfo import ZoneInfo

    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    tz = ZoneInfo(zone)
    table = Table(title=f"{len(rows)} sources, times in {zone}", show_lines=False)
    columns = ("source", "URL", "last fetched", "last success", "HTTP", "posts", "fails")
    for col in (*columns, "next due", "error"):
        table.add_column(col, overflow="fold")
    for r in rows:
        cells = (
            r["name"],
            r["url"],
            _when(r["last_fetched"], tz, "never"),
            _when(r["last_success"], tz, "never"),
            str(r["last_status"] or "-"),
            str(r["posts"]),
            str(r["failures"]),
            "disabled" if r["disabled"] else _when(r["next_check"], tz, "now"),
            _error_cell(r),
        )
        # Names and errors carry servers' and feeds' words ("[link=…]", "[/x]", ESC): Text
        # prints them as they are, never as Rich markup, and control characters (which
        # Rich passes through but for a few) are shown as escapes, never sent to the terminal.
        table.add_row(*(Text(_printable(cell)) for cell in cells))
    console = Console(width=None if sys.stdout.isatty() else 200)
    console.print(table)


def _when(iso: str | None, tz: ZoneInfo, missing: str) -> str:
    """A stored time (ISO, UTC) in the site's zone, to the minute."""
    if iso is None:
        return missing
    return datetime.fromisoformat(iso).astimezone(tz).strftime("%Y-%m-%d %H:%M")


def _error_cell(r: dict[str, Any]) -> str:
    error: str = (r["disabled"] and f"disabled: {r['disabled']}") or r["last_error"] or ""
    if r["moved"]:
        moved = f"moved from {r['original_url']} to {r['url']}: change {r['config_change']}"
        error = f"{moved} {error}".strip()
    if r["dropped"]:
        # Beside the error, not a column of its own: the table stays one screen wide.
        error = f"{error} {r['dropped']} items past max_items dropped".strip()
    return error


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _printable(text: str) -> str:
    """`text` with every control character written as its escape (`\x1b`)."""
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)
