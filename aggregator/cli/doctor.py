"""`aggregator doctor URL`: one fetch and parse of a feed with the real fetcher and the
config's limits (the defaults when no config is found), reported as a table or as JSON
(aggregator.doctor decides every finding). Must NOT open the store, create a database or
write under output_dir; exit 0 when the feed can be used, 1 otherwise.
"""

from __future__ import annotations

import argparse
import re
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from aggregator.errors import FetchError

if TYPE_CHECKING:
    from aggregator.cli.common import SubParsers
    from aggregator.doctor import Probe, Report, Settings
    from aggregator.types import Config, Source

__all__ = ["add_parsers", "cmd_doctor"]

_STYLE = {"ok": "green", "warn": "yellow", "error": "bold red"}


def add_parsers(sub: SubParsers) -> None:
    """`doctor`."""
    cmd = sub.add_parser(
        "doctor", help="fetch and parse one feed and say what is wrong with it; stores nothing"
    )
    cmd.add_argument("url", help="the feed's URL (or a page that advertises feeds)")
    cmd.add_argument("--json", action="store_true", help="machine-readable output")
    cmd.set_defaults(func=cmd_doctor)


def cmd_doctor(args: argparse.Namespace) -> int:
    """Raises: ConfigError when a config is found at --config and refused."""
    # Imported here: the config, the fetcher, the parsers and normalize would slow every
    # other command's start (`--help` too).
    import asyncio
    import json

    from aggregator.config import load_config
    from aggregator.doctor import Probe, Settings, diagnose
    from aggregator.doctor.probe import probe
    from aggregator.fetch import FetchLimits, auth_header

    config = load_config(args.config) if args.config.is_file() else None
    url = args.url.strip()
    source = _source(config, url)
    settings = Settings(
        fetch=config.fetch if config else Settings().fetch,
        fast=config.parser != "feedparser" if config else True,
        source=source,
        site_timezone=config.site.timezone if config else "UTC",
        config=str(config.path) if config else None,
    )
    limits = FetchLimits.of(settings.fetch)
    headers: tuple[tuple[str, str], ...] = source.headers if source else ()
    fetched: Probe | None = None
    if source is not None and source.auth is not None:
        try:
            headers = (*headers, auth_header(source.auth))
        except FetchError as e:  # its variable is not set: a round would fail the same way
            fetched = Probe(url=url, now=datetime.now(UTC), seconds=0.0, error=str(e))
    if fetched is None:
        user_agent = source.user_agent if source else None
        fetched = asyncio.run(probe(url, limits, headers=headers, user_agent=user_agent))
    report = diagnose(fetched, settings)
    if args.json:
        out = report.as_json()
        out["config"] = settings.config
        out["source"] = source.name if source else None
        print(json.dumps(out, ensure_ascii=False, indent=2))
    else:
        _print_table(report, settings, source)
    return 0 if report.usable else 1


def _source(config: Config | None, url: str) -> Source | None:
    """The configured source fetched from `url`: its headers, auth and dates apply."""
    if config is None:
        return None
    return next((s for s in config.sources if s.url.strip() == url), None)


def _print_table(report: Report, settings: Settings, source: Source | None) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    where = f"config {settings.config}" if settings.config else "no config found: defaults"
    if source is not None:
        where += f", source {source.name}"
    title = Text(f"{_printable(report.url)} ({_printable(where)})")
    table = Table(title=title, show_lines=False)
    for col in ("level", "check", "found", "what it means"):
        table.add_column(col, overflow="fold")
    for f in report.findings:
        # Feed and server words (URLs, ids, error lines) go in as Text: never Rich markup,
        # control characters shown as escapes.
        table.add_row(
            Text(f.level, style=_STYLE[f.level]),
            Text(f.check),
            Text(_printable(f.text)),
            Text(_printable(f.meaning)),
        )
    console = Console(width=None if sys.stdout.isatty() else 200)
    console.print(table)
    verdict = "usable" if report.usable else "not usable: see the error lines"
    console.print(Text(f"{len(report.findings)} checks; the feed is {verdict}"))


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _printable(text: str) -> str:
    """`text` with every control character written as its escape (`\\x1b`)."""
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)
