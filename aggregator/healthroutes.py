"""`/healthz` and `/metrics` for `aggregator serve --metrics`: routes that answer from
status.py's health as read from the store. Must NOT decide a source's health (status.py)
nor serve files (serve.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from http import HTTPStatus

from aggregator.errors import StoreError
from aggregator.serve import Route, SiteHandler
from aggregator.status import metrics_text, read_health, source_health, stale_source
from aggregator.store.api import Metrics
from aggregator.types import UTC, Config

__all__ = ["status_routes"]


def status_routes(config: Config, store: Metrics, *, stale_after: timedelta) -> dict[str, Route]:
    """`/healthz` and Prometheus `/metrics` (text exposition format 0.0.4), read from `store`.

    /healthz answers 503 when the store cannot be read or an enabled source is overdue by
    more than `stale_after` (no daemon is taking due sources), else 200. /metrics gives
    each source's figures, and on a shared store each recent node's (status.recent_nodes).
    """

    def healthz(handler: SiteHandler) -> None:
        try:
            # The states only: staleness needs no post counts, and /healthz is polled.
            health = source_health(config, store.states(), {})
            problem = stale_source(health, now=datetime.now(UTC), stale_after=stale_after)
        except StoreError as e:
            problem = f"store unreadable: {e}"
        status = HTTPStatus.SERVICE_UNAVAILABLE if problem else HTTPStatus.OK
        _send_text(handler, status, (problem or "ok") + "\n", "text/plain; charset=utf-8")

    def metrics(handler: SiteHandler) -> None:
        try:
            text = metrics_text(read_health(config, store, now=datetime.now(UTC)))
        except StoreError as e:
            _send_text(
                handler, HTTPStatus.SERVICE_UNAVAILABLE, f"{e}\n", "text/plain; charset=utf-8"
            )
            return
        _send_text(handler, HTTPStatus.OK, text, "text/plain; version=0.0.4; charset=utf-8")

    return {"/healthz": healthz, "/metrics": metrics}


def _send_text(handler: SiteHandler, status: HTTPStatus, text: str, media_type: str) -> None:
    body = text.encode()
    handler.send_response(status)
    handler.send_header("Content-Type", media_type)
    handler.send_header("Content-Length", str(len(body)))
    handler.send_header("Cache-Control", "no-store")
    handler.end_headers()
    if handler.command != "HEAD":
        handler.wfile.write(body)
