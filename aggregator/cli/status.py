"""The commands that look without changing anything: `status` (how each source is doing,
and on a shared store each node, as status.py defines it: tables, or JSON) and `check`
(the config, and what aggregator.preflight looks at around it). Must NOT write to the
store or decide a source's or a node's health itself.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from aggregator.errors import ConfigError

# The config, the store and status.py are imported by the commands, when they run: the
# CLI's parser (`--help` too) imports this module.
if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from rich.console import Console
    from rich.table import Table

    from aggregator import status
    from aggregator.cli.common import SubParsers
    from aggregator.cluster import Lease
    from aggregator.store.api import Metrics
    from aggregator.types import Config

__all__ = ["add_parsers", "cmd_check", "cmd_status", "status_rows"]


def add_parsers(sub: SubParsers) -> None:
    """`status` and `check`."""
    st = sub.add_parser("status", help="a table of sources and how they are doing")
    st.add_argument("--json", action="store_true", help="machine-readable output")
    st.add_argument(
        "--nodes",
        action="store_true",
        help="every node that joined the (PostgreSQL) store, instead of the sources",
    )
    st.set_defaults(func=cmd_status)

    check = sub.add_parser(
        "check", help="validate the config, the database, output_dir, templates and auth variables"
    )
    check.set_defaults(func=cmd_check)


def status_rows(
    config: Config, store: Metrics, *, now: datetime | None = None
) -> list[dict[str, Any]]:
    """One row per configured source, from its stored state and on a shared store the
    lease held on it at `now` (default: the clock's); what `status --json` prints.

    Raises:
        StoreError: the store cannot be read.
    """
    from aggregator import status

    now = now or datetime.now(UTC)
    leases = status.held_leases(store.leases_held(), now=now) if store.shared else {}
    return _source_rows(config, store, leases)


def _source_rows(config: Config, store: Metrics, leases: dict[str, Lease]) -> list[dict[str, Any]]:
    from aggregator import status
    from aggregator.store.api import Subscriptions

    health = status.source_health(config, store.states(), store.post_counts(), leases)
    rows = status.status_rows(health)
    # WebSub: whether a hub pushes the source (`websub.callback_url`), and until when.
    subscriptions = {}
    if isinstance(store, Subscriptions) and config.websub and config.websub.callback_url:
        subscriptions = {s.source: s for s in store.subscriptions()}
    now = datetime.now(UTC)
    for row in rows:
        found = subscriptions.get(row["name"])
        row["websub"] = None
        if found is not None:
            until = found.lease_until
            if found.live(now) and config.websub is not None:
                row["next_check"] = _polled(row, until, config.websub.poll_interval)
            row["websub"] = {
                "hub": found.hub,
                "topic": found.topic,
                "state": found.state,
                "live": found.live(now),
                "lease_until": until.isoformat(timespec="seconds") if until else None,
                "last_error": found.last_error,
            }
    return rows


def _polled(row: dict[str, Any], until: datetime | None, every: timedelta) -> str | None:
    """A pushed source's next poll (schedule.polled_at), as status rows write times."""
    from aggregator.schedule import polled_at

    def read(iso: str | None) -> datetime | None:
        return datetime.fromisoformat(iso) if iso else None

    when = polled_at(
        read(row["next_check"]),
        last_fetched=read(row["last_fetched"]),
        pushed_until=until,
        poll_interval=every,
    )
    return when.isoformat(timespec="seconds") if when else None


def cmd_check(args: argparse.Namespace) -> int:
    """The config's faults and its surroundings' (aggregator.preflight), all in one pass.

    Raises:
        ConfigError: anything is wrong; one line per fault.
    """
    from aggregator.config import checked_config
    from aggregator.preflight import preflight_problems

    checked = checked_config(args.config)
    config, problems = checked.config, checked.problems
    if config is not None:
        problems += preflight_problems(config, checked.auth)
    if problems or config is None:
        raise ConfigError(problems)
    print(
        f"{args.config}: ok ({len(config.sources)} sources in {len(config.categories)} categories)"
    )
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    import json

    from aggregator import status
    from aggregator.config import load_config
    from aggregator.store import open_store, store_exists

    config = load_config(args.config)
    now = datetime.now(UTC)
    # Before the first round, what the store will be: its URL says.
    shared = config.database.startswith("postgresql")
    nodes: tuple[status.NodeHealth, ...] = ()
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
            shared = store.shared
            # Read once for both tables: a source's lease and its node's count agree.
            leases = status.held_leases(store.leases_held(), now=now) if shared else {}
            if shared:
                records = store.node_records()
                nodes = status.node_health(records, leases, now=now, lease=config.node.lease)
            rows = [] if args.nodes else _source_rows(config, store, leases)
        finally:
            store.close()
    if args.nodes:
        return _print_nodes_only(config, nodes, shared=shared, json_out=args.json)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    _print_table(rows, config.site.timezone, leases=shared)
    if shared:
        recent = status.recent_nodes(nodes)
        _print_nodes(recent, config, hidden=len(nodes) - len(recent))
    return 0


def _print_nodes_only(
    config: Config, nodes: Sequence[status.NodeHealth], *, shared: bool, json_out: bool
) -> int:
    import json

    from aggregator import status

    if json_out:
        print(json.dumps(status.node_rows(nodes), ensure_ascii=False, indent=2))
    elif not shared:
        print(
            "aggregator: no nodes: a SQLite store has one process at a time; several nodes"
            " need PostgreSQL",
            file=sys.stderr,
        )
    else:
        _print_nodes(nodes, config, hidden=0)
    return 0


def _shown(url: str) -> str:
    """The database URL without its user and password."""
    scheme, sep, rest = url.partition("://")
    authority, slash, path = rest.partition("/")
    return f"{scheme}{sep}{authority.rpartition('@')[2]}{slash}{path}" if sep else url


def _print_table(rows: list[dict[str, Any]], zone: str, *, leases: bool) -> None:
    from zoneinfo import ZoneInfo

    from rich.table import Table

    tz = ZoneInfo(zone)
    table = Table(title=f"{len(rows)} sources, times in {zone}", show_lines=False)
    columns = ("source", "URL", "last fetched", "last success", "HTTP", "posts", "fails")
    # The lease column only on a shared store: a SQLite store's table stays as it was.
    for col in (*columns, "next due", *(("lease",) if leases else ()), "error"):
        table.add_column(col, overflow="fold")
    for r in rows:
        lease: tuple[str, ...] = ()
        if leases:
            until = _when(r["lease_until"], tz, "", seconds=True)
            lease = (f"{r['lease_node']} until {until}" if r["lease_node"] else "",)
        cells = (
            r["name"],
            r["url"],
            _when(r["last_fetched"], tz, "never"),
            _when(r["last_success"], tz, "never"),
            str(r["last_status"] or "-"),
            str(r["posts"]),
            str(r["failures"]),
            "disabled" if r["disabled"] else _when(r["next_check"], tz, "now"),
            *lease,
            _error_cell(r, tz),
        )
        _add_row(table, cells)
    _console().print(table)


def _print_nodes(nodes: Sequence[status.NodeHealth], config: Config, *, hidden: int) -> None:
    from zoneinfo import ZoneInfo

    from rich.table import Table

    from aggregator import status

    zone = config.site.timezone
    tz = ZoneInfo(zone)
    silent = int(status.silent_after(config.node.lease).total_seconds())
    table = Table(
        title=f"{len(nodes)} nodes, times in {zone}; silent: no heartbeat for over {silent}s",
        show_lines=False,
    )
    columns = ("node", "host", "pid", "started", "last heartbeat", "state", "leases")
    for col in (*columns, "rounds", "fetched", "errors", "store s"):
        table.add_column(col, overflow="fold")
    for row, n in zip(status.node_rows(nodes), nodes, strict=True):
        heartbeat = _when(row["heartbeat"], tz, "", seconds=True)
        cells = (
            row["id"],
            row["host"],
            str(row["pid"]),
            _when(row["started"], tz, ""),
            f"{heartbeat} ({_ago(n.age.total_seconds())})",
            row["state"],
            str(row["leases"]),
            str(row["rounds"]),
            str(row["fetched"]),
            str(row["errors"]),
            f"{row['store_seconds']:.1f}",
        )
        _add_row(table, cells)
    console = _console()
    console.print(table)
    if hidden:
        gone = int(status.GONE_AFTER.total_seconds() // 60)
        console.print(
            f"{hidden} nodes stopped or silent for over {gone} minutes not shown"
            " (aggregator status --nodes lists them)",
            markup=False,
            highlight=False,
        )


def _add_row(table: Table, cells: Sequence[str]) -> None:
    from rich.text import Text

    # Names and errors carry servers' and feeds' words ("[link=…]", "[/x]", ESC), node ids
    # and hosts the config's: Text prints them as they are, never as Rich markup, and
    # control characters (which Rich passes through but for a few) are shown as escapes,
    # never sent to the terminal.
    table.add_row(*(Text(_printable(cell)) for cell in cells))


def _console() -> Console:
    from rich.console import Console

    return Console(width=None if sys.stdout.isatty() else 200)


def _when(iso: str | None, tz: ZoneInfo, missing: str, *, seconds: bool = False) -> str:
    """A stored time (ISO, UTC) in the site's zone, to the minute (or the second)."""
    if iso is None:
        return missing
    shape = "%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M"
    return datetime.fromisoformat(iso).astimezone(tz).strftime(shape)


def _ago(seconds: float) -> str:
    """An age as a person reads it: 42s, 3m, 5h, 2d ago."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= 2 * size:
            return f"{int(seconds // size)}{unit} ago"
    return f"{int(seconds)}s ago"


def _error_cell(r: dict[str, Any], tz: ZoneInfo) -> str:
    error: str = (r["disabled"] and f"disabled: {r['disabled']}") or r["last_error"] or ""
    if r["discovered_from"]:
        source = r["config_change"].rpartition(": url: ")[0]
        moved = f"reads the feed advertised by the page: set url: {r['url']} ({source})"
        error = f"{moved} {error}".strip()
    elif r["moved"]:
        moved = f"moved from {r['original_url']} to {r['url']}: change {r['config_change']}"
        error = f"{moved} {error}".strip()
    if r["dropped"]:
        # Beside the error, not a column of its own: the table stays one screen wide.
        error = f"{error} {r['dropped']} items past max_items dropped".strip()
    websub = r.get("websub")
    if websub and websub["live"]:
        until = _when(websub["lease_until"], tz, "?")
        error = f"{error} pushed by {websub['hub']} until {until}".strip()
    elif websub and websub["last_error"]:
        error = f"{error} WebSub: {websub['last_error']}".strip()
    return error


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _printable(text: str) -> str:
    """`text` with every control character written as its escape (`\x1b`)."""
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)
