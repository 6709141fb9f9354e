"""The commands that do the work: `run` (the daemon, or one round and a publish), `fetch`
(a round, no publishing) and `publish`. Each holds the store's instance lock while it works;
the work itself is the Updater's and publish's. Must NOT decide a source's state.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from aggregator.cli.common import locked, log, positive_seconds
from aggregator.cli.progress import Progress
from aggregator.daemon import DaemonSettings, log_publish, log_round
from aggregator.errors import PublishBusy, PublishError

# The stages are imported by the commands that use them: fetching (aiohttp, httpx, the
# parsers, the process pool) by `run` and `fetch`, publishing (Jinja, feedgen) by `run`
# and `publish`, the config and the store when a command runs, not for `--help`.
if TYPE_CHECKING:
    from aggregator.cli.common import SubParsers
    from aggregator.publish import PublishReport
    from aggregator.store import Store
    from aggregator.types import Config, Post
    from aggregator.update import RoundReport, SourceOutcome, Updater

__all__ = ["add_parsers", "cmd_fetch", "cmd_publish", "cmd_run"]


def add_parsers(sub: SubParsers) -> None:
    """`run`, `fetch` and `publish`."""
    run = sub.add_parser("run", help="the daemon; --once for one round (cron)")
    run.add_argument("--once", action="store_true", help="one round, publish, exit")
    run.add_argument("--all", action="store_true", help="with --once: every enabled source")
    run.add_argument(
        "--tick",
        type=positive_seconds,
        default=DaemonSettings().tick,
        metavar="SECONDS",
        help="how often the daemon asks the store what is due (default: %(default)s)",
    )
    run.add_argument(
        "--grace",
        type=positive_seconds,
        default=DaemonSettings().grace,
        metavar="SECONDS",
        help="on SIGTERM/SIGINT, how long fetches in flight may finish (default: %(default)s)",
    )
    # The CLI's main() asks `refuse` before anything runs: a usage error, as argparse's are.
    run.set_defaults(func=cmd_run, refuse=_refused_run, command_parser=run)

    fetch = sub.add_parser("fetch", help="fetch due sources into the store, no publishing")
    fetch.add_argument("--all", action="store_true", help="every enabled source, due or not")
    fetch.add_argument("names", nargs="*", metavar="NAME", help="only these sources")
    fetch.set_defaults(func=cmd_fetch)

    pub = sub.add_parser("publish", help="write what changed since the last publish")
    pub.add_argument("--all", action="store_true", help="rebuild every file")
    pub.set_defaults(func=cmd_publish)


def _refused_run(args: argparse.Namespace) -> str | None:
    if args.all and not args.once:
        # The daemon fetches what is due; `--all` there would be silently ignored.
        return "--all needs --once (the daemon fetches each source when it is due)"
    return None


def cmd_run(args: argparse.Namespace) -> int:
    if not args.once:
        from aggregator.daemon import run_daemon

        return run_daemon(args.config, DaemonSettings(grace=args.grace, tick=args.tick))
    from aggregator.config import load_config
    from aggregator.store import open_store

    config = load_config(args.config)
    me = _node_id(config)
    with locked(config, node=me):
        store = open_store(config.database)
        try:
            _round(config, store, every=args.all, verbose=args.verbose, node=me)
            # Publish whatever is pending, not just this round's changes: a run that
            # crashed after storing is completed here.
            _publish(config, store, full=False, verbose=args.verbose)
        finally:
            store.close()
    return 0


def cmd_fetch(args: argparse.Namespace) -> int:
    from aggregator.config import load_config
    from aggregator.store import open_store

    config = load_config(args.config)
    unknown = [n for n in args.names if config.source(n) is None]
    if unknown:
        print(f"aggregator: unknown source(s): {', '.join(unknown)}", file=sys.stderr)
        return 1
    me = _node_id(config)
    with locked(config, node=me):
        store = open_store(config.database)
        try:
            _round(config, store, every=args.all, names=args.names, verbose=args.verbose, node=me)
        finally:
            store.close()
    return 0


def cmd_publish(args: argparse.Namespace) -> int:
    from aggregator.config import load_config
    from aggregator.store import open_store

    config = load_config(args.config)
    with locked(config, node=_node_id(config)):
        store = open_store(config.database)
        try:
            _publish(config, store, full=args.all, verbose=args.verbose)
        finally:
            store.close()
    return 0


def _round(
    config: Config,
    store: Store,
    *,
    every: bool,
    names: Sequence[str] = (),
    verbose: bool = False,
    node: str | None = None,
) -> RoundReport:
    """One round over `names` (default: the due sources), its progress shown; on a shared
    store as node `node`, beside the others (joined for the round, left after it)."""

    from aggregator.update import Updater
    from aggregator.update.node import Node

    member = None
    if store.shared:
        member = Node(store, config.node, per_host=config.fetch.per_host, id=node)
        member.join()
    try:
        return _round_as(config, store, Updater(config, store, node=member), every, names, verbose)
    finally:
        if member is not None:
            member.leave()


def _round_as(
    config: Config,
    store: Store,
    updater: Updater,
    every: bool,
    names: Sequence[str],
    verbose: bool,
) -> RoundReport:
    import asyncio

    chosen = (
        [s for s in config.sources if s.name in names]
        if names
        else updater.due_sources(every=every)
    )
    if not chosen:
        _nothing_due(config, store)
    with Progress("fetching", len(chosen), verbose=verbose, every=True) as progress:

        def on_source(outcome: SourceOutcome) -> None:
            progress.advance(f"{outcome.name}: {outcome.status}")

        # Named sources are fetched whether due or not, on a shared store too.
        run = updater.run_round(
            chosen, every=every or bool(names), named=bool(names), on_source=on_source
        )
        report = asyncio.run(run)
    # Each failure was logged where it happened (update/); this is the round's summary.
    log_round(report, logger=log)
    return report


def _node_id(config: Config) -> str:
    """This process's node id on a shared store (its instance lock is that node's)."""
    from aggregator.update.node import node_id

    return node_id(config.node)


def _nothing_due(config: Config, store: Store) -> None:
    """Why a round has nothing to fetch: when the next check is, and how many sources
    wait out a backoff after failing (a cron line every ten minutes must not look stuck)."""
    from zoneinfo import ZoneInfo

    states = {s.name: s for s in store.states()}
    enabled = [states[s.name] for s in config.sources if s.name in states]
    enabled = [s for s in enabled if not s.disabled and s.next_check is not None]
    if not config.sources:
        log.info("nothing due: no sources configured")
        return
    if not enabled:
        log.info("nothing due: every source is disabled (`aggregator sources enable NAME`)")
        return
    first = min(enabled, key=lambda s: s.next_check or datetime.max.replace(tzinfo=UTC))
    assert first.next_check is not None
    zone = config.site.timezone
    when = first.next_check.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M:%S")
    failing = sum(1 for s in enabled if s.failures)
    backoff = f"; {failing} failing source(s) retried later, with backoff" if failing else ""
    log.info("nothing due: next check %s at %s %s%s", first.name, when, zone, backoff)


def _publish(config: Config, store: Store, *, full: bool, verbose: bool = False) -> PublishReport:
    """A publish, its progress shown."""
    from aggregator.publish import publish

    started = time.monotonic()
    store.settle_slugs()  # as the publish does first: the count is of what it writes
    total = store.count_posts() if full else store.count_pending()
    with Progress("publishing", total, verbose=verbose) as progress:

        def on_post(post: Post) -> None:
            progress.advance()

        result = _publish_in_turn(
            lambda: publish(config, store, full=full, on_post=on_post, on_total=progress.set_total)
        )
    log_publish(result, time.monotonic() - started, logger=log)
    return result


# How long a command waits for another node's publish before it gives up.
PUBLISH_WAIT = 600.0


def _publish_in_turn(go: Callable[[], PublishReport]) -> PublishReport:
    """`go()`, waiting while another node of a shared store publishes (then this one
    publishes what is still pending: that one may have begun before this round stored).

    Raises:
        PublishError: the other node is still publishing after PUBLISH_WAIT seconds.
    """
    deadline = time.monotonic() + PUBLISH_WAIT
    said = False
    while True:
        try:
            return go()
        except PublishBusy as e:
            if time.monotonic() > deadline:
                raise PublishError(
                    f"{e} for {PUBLISH_WAIT:.0f}s: try again later (`aggregator publish`)"
                ) from e
            if not said:
                log.info("another node is publishing: waiting for its turn to end")
                said = True
            time.sleep(0.5)
