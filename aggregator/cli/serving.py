"""`aggregator serve`: the output folder over HTTP, with /healthz and /metrics from the
store when asked (`--metrics`), and the WebSub callback (/websub/) with
`websub.callback_url`. The server is serve.py's; must NOT answer requests here.
"""

from __future__ import annotations

import argparse
import errno
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from aggregator.cli.common import duration_arg, port_number
from aggregator.errors import ServeError

if TYPE_CHECKING:
    from aggregator.cli.common import SubParsers

__all__ = ["add_parsers", "cmd_serve"]


def add_parsers(sub: SubParsers) -> None:
    """`serve`."""
    serve = sub.add_parser("serve", help="serve output_dir over HTTP")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=port_number, default=8080)
    serve.add_argument(
        "--metrics",
        action="store_true",
        help="also answer /healthz and Prometheus /metrics from the store",
    )
    serve.add_argument(
        "--stale-after",
        type=duration_arg,
        default=timedelta(minutes=10),
        metavar="DURATION",
        help="/healthz fails when a source is overdue by more than this (default: 10m)",
    )
    serve.add_argument(
        "--status-token",
        metavar="TOKEN",
        help="answer /status (the status page) to requests bearing this token"
        " (default: the config's serve.status_token; none: no status page)",
    )
    serve.set_defaults(func=cmd_serve)


def cmd_serve(args: argparse.Namespace) -> int:
    from aggregator.config import load_config
    from aggregator.healthroutes import status_routes
    from aggregator.serve import serve
    from aggregator.store import open_store

    config = load_config(args.config)
    store = None
    routes = {}
    post_routes = {}
    token = args.status_token or config.serve.status_token
    pushed = config.websub is not None and config.websub.callback_url is not None
    if args.metrics or token or pushed:
        store = open_store(config.database)
    if pushed and store is not None:
        from aggregator.websub.routes import websub_routes

        routes.update(websub_routes(config, store))
        post_routes.update(websub_routes(config, store))
    if args.metrics and store is not None:
        routes.update(status_routes(config, store, stale_after=args.stale_after))
    if token and store is not None:
        from aggregator.healthroutes import status_page_route

        routes.update(status_page_route(config, store, token=token))
    try:
        serve(
            config.site.output_dir,
            host=args.host,
            port=args.port,
            routes=routes,
            post_routes=post_routes,
        )
    except OSError as e:
        raise ServeError(_cannot_serve(config.site.output_dir, args.host, args.port, e)) from e
    finally:
        if store is not None:
            store.close()
    return 0


def _cannot_serve(root: Path, host: str, port: int, e: OSError) -> str:
    if e.errno == errno.EADDRINUSE:
        return f"cannot serve on {host}:{port}: the port is in use (stop what holds it, or --port)"
    if e.errno == errno.EACCES and port < 1024:
        return f"cannot serve on {host}:{port}: a port below 1024 needs privileges (use --port)"
    if e.filename is not None:
        return f"cannot serve {root}: {e.filename}: {e.strerror}"
    return f"cannot serve on {host}:{port}: {e.strerror or e}"
