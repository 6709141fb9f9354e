"""The command line: `aggregator [--config PATH] COMMAND`.

Exit status: 0 when the command did its work (a round in which some sources failed
included: they are reported), 2 for a config that cannot be used, 3 when the store
cannot be opened or written, 4 when publishing failed, 1 for anything else.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from aggregator import __version__
from aggregator.config import export_opml, import_opml, load_config
from aggregator.errors import AggregatorError, ConfigError, PublishError, StoreError
from aggregator.publish import publish
from aggregator.store import Store, open_store
from aggregator.types import UTC, Config, SourceState
from aggregator.update import RoundReport, Updater, current_state

log = logging.getLogger("aggregator")

EXIT_CONFIG = 2
EXIT_STORE = 3
EXIT_PUBLISH = 4


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(args.log_level, args.log_format)
    try:
        result: int = args.func(args)
        return result
    except ConfigError as e:
        for line in e.problems:
            print(line, file=sys.stderr)
        print(f"aggregator: config refused ({len(e.problems)} problem(s))", file=sys.stderr)
        return EXIT_CONFIG
    except StoreError as e:
        print(f"aggregator: store: {e}", file=sys.stderr)
        return EXIT_STORE
    except PublishError as e:
        print(f"aggregator: publish: {e}", file=sys.stderr)
        return EXIT_PUBLISH
    except AggregatorError as e:
        print(f"aggregator: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="aggregator", description="Feed aggregator and republisher.")
    p.add_argument(
        "--config",
        type=Path,
        default=Path(os.environ.get("AGGREGATOR_CONFIG", "config.yaml")),
        help="config file (default: $AGGREGATOR_CONFIG or ./config.yaml)",
    )
    p.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    p.add_argument("--log-format", default="plain", choices=["plain", "json"])
    p.add_argument("--version", action="version", version=f"aggregator {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="the daemon; --once for one round (cron)")
    run.add_argument("--once", action="store_true", help="one round, publish, exit")
    run.add_argument("--all", action="store_true", help="with --once: every enabled source")
    run.set_defaults(func=cmd_run)

    fetch = sub.add_parser("fetch", help="fetch due sources into the store, no publishing")
    fetch.add_argument("--all", action="store_true", help="every enabled source, due or not")
    fetch.add_argument("names", nargs="*", metavar="NAME", help="only these sources")
    fetch.set_defaults(func=cmd_fetch)

    pub = sub.add_parser("publish", help="write what changed since the last publish")
    pub.add_argument("--all", action="store_true", help="rebuild every file")
    pub.set_defaults(func=cmd_publish)

    status = sub.add_parser("status", help="a table of sources and how they are doing")
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.set_defaults(func=cmd_status)

    check = sub.add_parser("check", help="validate the config only")
    check.set_defaults(func=cmd_check)

    serve = sub.add_parser("serve", help="serve output_dir over HTTP")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.set_defaults(func=cmd_serve)

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
    return p


# --------------------------------------------------------------------- logging


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        data.update(getattr(record, "fields", {}))
        return json.dumps(data, ensure_ascii=False)


def setup_logging(level: str, fmt: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Library chatter (one line per request) drowns the round summaries.
    for noisy in ("httpx", "httpcore", "apscheduler"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))


# -------------------------------------------------------------------- commands


def _open(args: argparse.Namespace) -> tuple[Config, Store]:
    config = load_config(args.config)
    return config, open_store(config.database)


def _report_round(report: RoundReport) -> None:
    for o in report.errors:
        log.warning("source failed: %s: %s", o.name, o.error)
    log.info(
        report.summary(),
        extra={
            "fields": {
                "event": "round",
                "due": report.due,
                "fetched": report.fetched,
                "not_modified": report.not_modified,
                "new": report.new,
                "updated": report.updated,
                "errors": len(report.errors),
                "seconds": round(report.seconds, 3),
            }
        },
    )


def cmd_run(args: argparse.Namespace) -> int:
    if not args.once:
        from aggregator.daemon import run_daemon

        return run_daemon(args.config)
    config, store = _open(args)
    try:
        report = asyncio.run(Updater(config, store).run_round(every=args.all))
        _report_round(report)
        # Publish whatever is pending, not just this round's changes: a run that
        # crashed after storing is completed here.
        result = publish(config, store)
        log.info("published %d posts, %d files written", result.posts, len(result.written))
    finally:
        store.close()
    return 0


def cmd_fetch(args: argparse.Namespace) -> int:
    config, store = _open(args)
    try:
        updater = Updater(config, store)
        if args.names:
            unknown = [n for n in args.names if config.source(n) is None]
            if unknown:
                print(f"aggregator: unknown source(s): {', '.join(unknown)}", file=sys.stderr)
                return 1
            chosen = [s for s in config.sources if s.name in args.names]
            report = asyncio.run(updater.run_round(chosen))
        else:
            report = asyncio.run(updater.run_round(every=args.all))
        _report_round(report)
    finally:
        store.close()
    return 0


def cmd_publish(args: argparse.Namespace) -> int:
    config, store = _open(args)
    try:
        result = publish(config, store, full=args.all)
        log.info("published %d posts, %d files written", result.posts, len(result.written))
    finally:
        store.close()
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    print(
        f"{args.config}: ok ({len(config.sources)} sources in {len(config.categories)} categories)"
    )
    return 0


def status_rows(config: Config, store: Store) -> list[dict[str, Any]]:
    """One row per configured source, from its stored state."""
    states = {s.name: s for s in store.states()}
    counts = store.post_counts()
    rows = []
    for source in config.sources:
        stored = states.get(source.name)
        st: SourceState = current_state(source, stored)
        rows.append(
            {
                "name": source.name,
                "category": source.category,
                "url": st.url,
                "config_url": source.url,
                "moved": st.url != source.url,
                "last_fetched": _iso(st.last_fetched),
                "last_success": _iso(st.last_success),
                "last_status": st.last_status,
                "posts": counts.get(source.name, 0),
                "failures": st.failures,
                "last_error": st.last_error,
                "next_check": _iso(st.next_check),
                "disabled": st.disabled,
            }
        )
    return rows


def _iso(when: datetime | None) -> str | None:
    return when.isoformat(timespec="seconds") if when else None


def cmd_status(args: argparse.Namespace) -> int:
    config, store = _open(args)
    try:
        rows = status_rows(config, store)
    finally:
        store.close()
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{len(rows)} sources", show_lines=False)
    for col in ("source", "last fetched", "HTTP", "posts", "fails", "next due", "error"):
        table.add_column(col, overflow="fold")
    for r in rows:
        error = (r["disabled"] and f"disabled: {r['disabled']}") or r["last_error"] or ""
        if r["moved"]:
            error = f"moved to {r['url']} {error}".strip()
        table.add_row(
            r["name"],
            (r["last_fetched"] or "never").replace("T", " ")[:16],
            str(r["last_status"] or "-"),
            str(r["posts"]),
            str(r["failures"]),
            "disabled" if r["disabled"] else (r["next_check"] or "now").replace("T", " ")[:16],
            error,
        )
    console = Console(width=None if sys.stdout.isatty() else 200)
    console.print(table)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from aggregator.serve import serve

    config = load_config(args.config)
    serve(config.site.output_dir, host=args.host, port=args.port)
    return 0


def cmd_sources_import(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    path, added = import_opml(config, args.file)
    print(f"{added} source(s) added to {path}")
    return 0


def cmd_sources_export(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    sys.stdout.write(export_opml(config))
    return 0


def cmd_sources_enable(args: argparse.Namespace) -> int:
    from dataclasses import replace

    config, store = _open(args)
    try:
        source = config.source(args.name)
        if source is None:
            print(f"aggregator: unknown source: {args.name}", file=sys.stderr)
            return 1
        state = current_state(source, store.get_state(source.name))
        store.save_state(replace(state, disabled=None, failures=0, next_check=None))
        print(f"{source.name}: enabled")
    finally:
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
