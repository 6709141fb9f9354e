"""The command line: `aggregator [--config PATH] COMMAND`.

Exit status: 0 when the command did its work (a round in which some sources failed
included: they are reported), 2 for a config that cannot be used, 3 when the store
cannot be opened or written, 4 when publishing failed, 1 for anything else.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aggregator import __version__
from aggregator.config import export_opml, import_opml, load_config, parse_duration
from aggregator.daemon import DaemonSettings, log_publish, log_round
from aggregator.errors import AggregatorError, ConfigError, PublishError, StoreError
from aggregator.lock import AlreadyRunning, InstanceLock, acquire_instance_lock
from aggregator.publish import Publisher, PublishReport, clear_stale_temp_files
from aggregator.store import Store, open_store
from aggregator.types import UTC, Config, Post, Source, SourceState

# Fetching (aiohttp, httpx, the parsers, the process pool) is imported by the commands that
# need it: `publish` and `check` start in a fraction of the time without it.
if TYPE_CHECKING:
    from aggregator.update import RoundReport, SourceOutcome

log = logging.getLogger("aggregator")

EXIT_CONFIG = 2
EXIT_STORE = 3
EXIT_PUBLISH = 4
EXIT_RUNNING = 5  # another process holds the store's instance lock


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
    except AlreadyRunning as e:
        print(f"aggregator: {e}", file=sys.stderr)
        return EXIT_RUNNING
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
    run.add_argument(
        "--tick",
        type=_positive_seconds,
        default=DaemonSettings().tick,
        metavar="SECONDS",
        help="how often the daemon asks the store what is due (default: %(default)s)",
    )
    run.add_argument(
        "--grace",
        type=_positive_seconds,
        default=DaemonSettings().grace,
        metavar="SECONDS",
        help="on SIGTERM/SIGINT, how long fetches in flight may finish (default: %(default)s)",
    )
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
    serve.add_argument(
        "--metrics",
        action="store_true",
        help="also answer /healthz and Prometheus /metrics from the store",
    )
    serve.add_argument(
        "--stale-after",
        type=_duration_arg,
        default=timedelta(minutes=10),
        metavar="DURATION",
        help="/healthz fails when a source is overdue by more than this (default: 10m)",
    )
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
    # Each failure was logged where it happened (update.py); this is the round's summary.
    log_round(report, logger=log)


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be more than zero: {text!r}")
    return value


def _locked(config: Config) -> InstanceLock:
    """The store's instance lock, then the temp files a killed publish left (ours now).

    Raises:
        AlreadyRunning: another process holds the store.
        StoreError: the lock cannot be taken.
        PublishError: a stale temp file cannot be removed.
    """
    lock = acquire_instance_lock(config.database)
    try:
        stale = clear_stale_temp_files(config.site.output_dir)
    except OSError as e:
        lock.release()
        raise PublishError(f"cannot clean up {config.site.output_dir}: {e}") from e
    if stale:
        log.info("removed %d temp files left by an interrupted publish", stale)
    return lock


# ------------------------------------------------------------------- progress


def _show_progress() -> bool:
    # A bar on a terminal; plain log lines for cron, systemd and pipes.
    return sys.stderr.isatty() and os.environ.get("TERM") != "dumb"


class _Progress:
    """A rich bar on a terminal, else a plain log line at every tenth of the way."""

    def __init__(self, what: str, total: int) -> None:
        self.what = what
        self.total = total
        self.done = 0
        self._step = max(1, total // 10)
        self._bar: Any = None
        self._task: Any = None
        self._handler_stream: Any = None

    def __enter__(self) -> _Progress:
        if _show_progress() and self.total:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            self._bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=Console(file=sys.stderr),
                transient=False,
            )
            self._bar.__enter__()
            self._task = self._bar.add_task(self.what, total=self.total)
            # Log lines go through the bar's console so they print above it, not into it.
            handler = logging.getLogger().handlers[0]
            if isinstance(handler, logging.StreamHandler):
                self._handler_stream = handler.setStream(sys.stderr)
        return self

    def advance(self, label: str = "") -> None:
        self.done += 1
        if self._bar is not None:
            self._bar.update(self._task, advance=1)
        elif self.done % self._step == 0 or self.done == self.total:
            log.info("%s: %d/%d %s", self.what, self.done, self.total, label)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            handler = logging.getLogger().handlers[0]
            if isinstance(handler, logging.StreamHandler) and self._handler_stream is not None:
                handler.setStream(self._handler_stream)


class _ProgressPublisher(Publisher):
    """A Publisher that reports each post file as it is written."""

    progress: _Progress | None = None

    def write_post(self, post: Post) -> None:
        super().write_post(post)
        if self.progress is not None:
            self.progress.advance()


def _round(config: Config, store: Store, *, every: bool, names: Sequence[str] = ()) -> RoundReport:
    import asyncio

    from aggregator.update import Updater

    class _ProgressUpdater(Updater):
        """An Updater that reports each source as it finishes."""

        progress: _Progress | None = None

        async def update_source(self, source: Source, fetcher: Any) -> SourceOutcome:
            outcome = await super().update_source(source, fetcher)
            if self.progress is not None:
                self.progress.advance(source.name)
            return outcome

    updater = _ProgressUpdater(config, store)
    chosen = (
        [s for s in config.sources if s.name in names]
        if names
        else updater.due_sources(every=every)
    )
    with _Progress("fetching", len(chosen)) as progress:
        updater.progress = progress
        report = asyncio.run(updater.run_round(chosen))
    _report_round(report)
    return report


def _publish(config: Config, store: Store, *, full: bool) -> PublishReport:
    started = time.monotonic()
    publisher = _ProgressPublisher(config, store)
    store.settle_slugs()  # as the publish does first: the count is of what it writes
    total = store.count_posts() if full else store.count_pending()
    with _Progress("publishing", total) as progress:
        publisher.progress = progress
        result = publisher.publish(full=full)
    log_publish(result, time.monotonic() - started, logger=log)
    return result


# -------------------------------------------------------------------- commands


def cmd_run(args: argparse.Namespace) -> int:
    if not args.once:
        from aggregator.daemon import run_daemon

        return run_daemon(args.config, DaemonSettings(grace=args.grace, tick=args.tick))
    config = load_config(args.config)
    with _locked(config):
        store = open_store(config.database)
        try:
            _round(config, store, every=args.all)
            # Publish whatever is pending, not just this round's changes: a run that
            # crashed after storing is completed here.
            _publish(config, store, full=False)
        finally:
            store.close()
    return 0


def cmd_fetch(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    unknown = [n for n in args.names if config.source(n) is None]
    if unknown:
        print(f"aggregator: unknown source(s): {', '.join(unknown)}", file=sys.stderr)
        return 1
    with _locked(config):
        store = open_store(config.database)
        try:
            _round(config, store, every=args.all, names=args.names)
        finally:
            store.close()
    return 0


def cmd_publish(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    with _locked(config):
        store = open_store(config.database)
        try:
            _publish(config, store, full=args.all)
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
    from aggregator.update import current_state

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
                # Where the source moved from, and the config line to change to make it stick.
                "original_url": source.url if st.url != source.url else None,
                "config_change": (
                    f"{source.origin or _config_name(config)}: url: {st.url}"
                    if st.url != source.url
                    else None
                ),
                # A permanent redirect seen on fewer fetches than fetch.redirect_threshold.
                "redirect_pending": st.redirect_target,
                "redirect_seen": st.redirect_count,
                "last_fetched": _iso(st.last_fetched),
                "last_success": _iso(st.last_success),
                "last_status": st.last_status,
                "posts": counts.get(source.name, 0),
                # Items past max_items in the last parsed body: dropped, never stored.
                "dropped": st.dropped_items,
                "failures": st.failures,
                "last_error": st.last_error,
                "next_check": _iso(st.next_check),
                "disabled": st.disabled,
            }
        )
    return rows


def _config_name(config: Config) -> str:
    return config.path.name


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
    from rich.text import Text

    table = Table(title=f"{len(rows)} sources", show_lines=False)
    columns = ("source", "last fetched", "last success", "HTTP", "posts", "fails", "next due")
    for col in (*columns, "error"):
        table.add_column(col, overflow="fold")
    for r in rows:
        error = (r["disabled"] and f"disabled: {r['disabled']}") or r["last_error"] or ""
        if r["moved"]:
            moved = f"moved from {r['original_url']} to {r['url']}: change {r['config_change']}"
            error = f"{moved} {error}".strip()
        if r["dropped"]:
            # Beside the error, not a column of its own: the table stays one screen wide.
            error = f"{error} {r['dropped']} items past max_items dropped".strip()
        cells = (
            r["name"],
            (r["last_fetched"] or "never").replace("T", " ")[:16],
            (r["last_success"] or "never").replace("T", " ")[:16],
            str(r["last_status"] or "-"),
            str(r["posts"]),
            str(r["failures"]),
            "disabled" if r["disabled"] else (r["next_check"] or "now").replace("T", " ")[:16],
            error,
        )
        # Names and errors carry servers' and feeds' words ("[link=…]", "[/x]", ESC): Text
        # prints them as they are, never as Rich markup, and control characters (which
        # Rich passes through but for a few) are shown as escapes, never sent to the terminal.
        table.add_row(*(Text(_printable(cell)) for cell in cells))
    console = Console(width=None if sys.stdout.isatty() else 200)
    console.print(table)
    return 0


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _printable(text: str) -> str:
    """`text` with every control character written as its escape (`\x1b`)."""
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)


def cmd_serve(args: argparse.Namespace) -> int:
    from aggregator.serve import SiteHandler, serve, status_routes

    config = load_config(args.config)
    store = None
    if args.metrics:
        store = open_store(config.database)
        SiteHandler.ROUTES.update(status_routes(config, store, stale_after=args.stale_after))
    try:
        serve(config.site.output_dir, host=args.host, port=args.port)
    finally:
        if store is not None:
            store.close()
    return 0


def _duration_arg(text: str) -> timedelta:
    try:
        return parse_duration(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


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
    from aggregator.update.decide import after_enable

    config, store = _open(args)
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


if __name__ == "__main__":
    sys.exit(main())
