"""`/healthz` and `/metrics` for `aggregator serve --metrics`, and `/status` (the status
page) for `serve --status-token`: routes that answer from status.py's health as read from
the store. Must NOT decide a source's health (status.py), render the page
(statuspage.py) nor serve files (serve.py).
"""

from __future__ import annotations

import hmac
from datetime import datetime, timedelta
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

from aggregator.errors import StoreError
from aggregator.serve import Route, SiteHandler
from aggregator.status import metrics_text, read_health, source_health, stale_source
from aggregator.store.api import Metrics
from aggregator.types import UTC, Config

__all__ = ["send_text", "status_page_route", "status_routes"]


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
        send_text(handler, status, (problem or "ok") + "\n", "text/plain; charset=utf-8")

    def metrics(handler: SiteHandler) -> None:
        try:
            text = metrics_text(read_health(config, store, now=datetime.now(UTC)))
        except StoreError as e:
            send_text(
                handler, HTTPStatus.SERVICE_UNAVAILABLE, f"{e}\n", "text/plain; charset=utf-8"
            )
            return
        send_text(handler, HTTPStatus.OK, text, "text/plain; version=0.0.4; charset=utf-8")

    return {"/healthz": healthz, "/metrics": metrics}


def status_page_route(config: Config, store: Metrics, *, token: str) -> dict[str, Route]:
    """`/status`: the status page, only for a request bearing `token` (`?token=` or an
    `Authorization: Bearer` header); 404 without one (nothing tells the page is there),
    403 with a wrong one. Never cached, never indexed."""
    from aggregator.statuspage import DAYS, render_status_page

    def page(handler: SiteHandler) -> None:
        given = _token(handler)
        if given is None:
            send_text(handler, HTTPStatus.NOT_FOUND, "not found\n", "text/plain; charset=utf-8")
            return
        if not hmac.compare_digest(given.encode(), token.encode()):
            send_text(handler, HTTPStatus.FORBIDDEN, "forbidden\n", "text/plain; charset=utf-8")
            return
        now = datetime.now(UTC)
        try:
            health = read_health(config, store, now=now)
            made = store.attempts(since=now - timedelta(days=DAYS), limit=200_000)
        except StoreError as e:
            send_text(
                handler, HTTPStatus.SERVICE_UNAVAILABLE, f"{e}\n", "text/plain; charset=utf-8"
            )
            return
        html = render_status_page(
            health, made, now=now, zone=config.site.timezone, title=config.site.title
        )
        send_text(handler, HTTPStatus.OK, html, "text/html; charset=utf-8")

    return {"/status": page}


def _token(handler: SiteHandler) -> str | None:
    query = parse_qs(urlsplit(handler.path).query)
    if query.get("token"):
        return query["token"][0]
    auth = handler.headers.get("Authorization", "")
    scheme, _, value = auth.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def send_text(handler: SiteHandler, status: HTTPStatus, text: str, media_type: str) -> None:
    """A whole response of `text` from a route: never cached, never indexed."""
    body = text.encode()
    handler.send_response(status)
    handler.send_header("Content-Type", media_type)
    handler.send_header("Content-Length", str(len(body)))
    handler.send_header("Cache-Control", "no-store")
    handler.send_header("X-Robots-Tag", "noindex")
    handler.end_headers()
    if handler.command != "HEAD":
        handler.wfile.write(body)
