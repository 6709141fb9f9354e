"""`serve`'s WebSub callback, /websub/<callback id>: the hub's verification of intent (GET,
WebSub §5.3) and its content distribution (POST, §7), for `websub.callback_url`.

A verification is confirmed (the challenge echoed) only for a known callback and its
topic; a push is kept for the daemon only when X-Hub-Signature signs its raw body with the
subscription's secret. Must NOT parse or store posts (the daemon processes each push as a
fetched body), nor serve files (serve.py), nor decide a subscription's state (plan.py).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import datetime
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

from aggregator.errors import StoreError
from aggregator.healthroutes import send_text
from aggregator.serve import Route, SiteHandler
from aggregator.store.api import Subscriptions
from aggregator.types import UTC, Config
from aggregator.websub import plan
from aggregator.websub.records import Subscription
from aggregator.websub.signature import signed

__all__ = ["MAX_CHALLENGE", "websub_routes"]

log = logging.getLogger("aggregator.websub")

# What subscriber.py makes a callback id of (secrets.token_urlsafe); anything else is no
# callback of ours, answered 404 without a look in the store.
_CALLBACK_ID = re.compile(r"[A-Za-z0-9_-]{16,128}")
MAX_CHALLENGE = 1024  # characters of hub.challenge echoed; longer: refused
_TEXT = "text/plain; charset=utf-8"


def websub_routes(
    config: Config,
    store: Subscriptions,
    *,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> dict[str, Route]:
    """The callback route, for GET and for POST (serve's `routes` and `post_routes`).

    A push body is bounded by `fetch.max_bytes`, as a fetched body is: a longer one is
    refused (413) unread. A push whose signature is missing or wrong is logged and
    acknowledged (202) but not kept: WebSub §8 lets a subscriber do so, and a forger learns
    nothing from the answer.
    """
    assert config.websub is not None
    websub = config.websub
    max_bytes = config.fetch.max_bytes

    def answer(handler: SiteHandler) -> None:
        callback_id = urlsplit(handler.path).path.removeprefix(plan.CALLBACK_PATH)
        if handler.command not in ("GET", "POST"):
            handler.close_connection = True
            send_text(handler, HTTPStatus.METHOD_NOT_ALLOWED, "GET or POST\n", _TEXT)
            return
        try:
            found = store.subscription(callback_id) if _CALLBACK_ID.fullmatch(callback_id) else None
            if found is None:
                if handler.command == "POST":
                    handler.close_connection = True  # its body unread
                send_text(handler, HTTPStatus.NOT_FOUND, "not found\n", _TEXT)
                return
            if handler.command == "GET":
                _verify(handler, found)
            else:
                _push(handler, found)
        except StoreError as e:
            log.error("websub callback: %s", e)
            handler.close_connection = True
            send_text(handler, HTTPStatus.SERVICE_UNAVAILABLE, "store unavailable\n", _TEXT)

    def _verify(handler: SiteHandler, subscription: Subscription) -> None:
        query = parse_qs(urlsplit(handler.path).query, keep_blank_values=True)

        def one(name: str) -> str:
            values = query.get(name) or [""]
            return values[0]

        mode, topic = one("hub.mode"), one("hub.topic")
        if topic != subscription.topic or mode not in ("subscribe", "denied"):
            # Another topic, or an unsubscribe we never asked for (leases lapse instead).
            log.warning(
                "%s: hub verification refused (mode %r, topic %r)",
                subscription.source,
                mode[:40],
                topic[:200],
            )
            send_text(handler, HTTPStatus.NOT_FOUND, "not found\n", _TEXT)
            return
        now = clock()
        if mode == "denied":
            denied = plan.after_denial(subscription, one("hub.reason")[:500], now=now)
            store.update_subscription(
                subscription.callback_id,
                state=denied.state,
                failures=denied.failures,
                last_error=denied.last_error,
                retry_at=denied.retry_at,
            )
            log.warning("%s: %s", subscription.source, denied.last_error)
            send_text(handler, HTTPStatus.OK, "ok\n", _TEXT)
            return
        challenge = one("hub.challenge")
        if not challenge or len(challenge) > MAX_CHALLENGE:
            send_text(handler, HTTPStatus.BAD_REQUEST, "hub.challenge missing\n", _TEXT)
            return
        seconds = one("hub.lease_seconds").strip()
        lease = (
            int(seconds) if seconds.isascii() and seconds.isdigit() and len(seconds) < 12 else None
        )
        live = plan.after_verification(subscription, lease, requested=websub.lease, now=now)
        store.update_subscription(
            subscription.callback_id,
            state=live.state,
            lease_until=live.lease_until,
            lease_seconds=live.lease_seconds,
            retry_at=live.retry_at,
            failures=0,
            last_error=None,
        )
        log.info(
            "%s: subscribed at %s until %s",
            subscription.source,
            subscription.hub,
            f"{live.lease_until:%Y-%m-%d %H:%M:%S} UTC",
        )
        send_text(handler, HTTPStatus.OK, challenge, _TEXT)

    def _push(handler: SiteHandler, subscription: Subscription) -> None:
        handler.close_connection = True  # whatever is answered, the body is not read twice
        length = handler.headers.get("Content-Length", "").strip()
        if handler.headers.get("Transfer-Encoding") or not (length.isascii() and length.isdigit()):
            send_text(handler, HTTPStatus.LENGTH_REQUIRED, "Content-Length required\n", _TEXT)
            return
        if int(length) > max_bytes:
            log.warning(
                "%s: push of %s bytes refused (fetch.max_bytes %d)",
                subscription.source,
                length,
                max_bytes,
            )
            send_text(handler, HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "too large\n", _TEXT)
            return
        if handler.headers.get("Content-Encoding", "identity").strip().lower() != "identity":
            send_text(handler, HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "no content coding\n", _TEXT)
            return
        body = handler.rfile.read(int(length))
        if len(body) != int(length):
            return  # the hub hung up mid-body: nothing to answer
        if not signed(body, subscription.secret, handler.headers.get("X-Hub-Signature")):
            log.warning(
                "%s: push refused: %s X-Hub-Signature (not stored)",
                subscription.source,
                "a wrong" if handler.headers.get("X-Hub-Signature") else "no",
            )
            send_text(handler, HTTPStatus.ACCEPTED, "accepted\n", _TEXT)
            return
        kept = store.add_push(
            subscription.callback_id,
            body=body,
            content_type=handler.headers.get("Content-Type"),
            received=clock(),
        )
        if not kept:  # the subscription went between the read and the write
            send_text(handler, HTTPStatus.NOT_FOUND, "not found\n", _TEXT)
            return
        log.info("%s: push of %d bytes received", subscription.source, len(body))
        send_text(handler, HTTPStatus.ACCEPTED, "accepted\n", _TEXT)

    return {plan.CALLBACK_PATH: answer}
