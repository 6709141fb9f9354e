"""What a source's WebSub subscription becomes, and when the hub is asked again.

Pure: no network, no store, no clock (`now` is a parameter), the random ids passed in.
The subscriber (subscriber.py) and serve's routes (routes.py) carry the results out; this
module must NOT log, write or send anything itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from aggregator.websub.records import Subscription, WebSub

__all__ = [
    "CALLBACK_PATH",
    "MAX_LEASE",
    "PENDING_WAIT",
    "after_denial",
    "after_failure",
    "after_request",
    "after_verification",
    "callback",
    "chosen_hub",
    "due_request",
    "live_until",
    "renew_margin",
    "subscribe_form",
    "wanted",
]

CALLBACK_PATH = "/websub/"  # serve answers CALLBACK_PATH + <callback id>
# A request the hub accepted but has not verified yet is made again after this long.
PENDING_WAIT = timedelta(minutes=10)
# A failed request is tried again after FIRST_RETRY, doubling, at most MAX_RETRY.
FIRST_RETRY = timedelta(minutes=10)
MAX_RETRY = timedelta(days=1)
# A hub's lease is taken as granted up to this (a hub answering "forever" is asked yearly).
MAX_LEASE = timedelta(days=365)


def callback(config: WebSub, callback_id: str) -> str:
    """The callback URL a hub is given for subscription `callback_id`."""
    assert config.callback_url is not None
    return config.callback_url.rstrip("/") + CALLBACK_PATH + callback_id


def chosen_hub(hubs: Sequence[str], current: Subscription | None) -> str | None:
    """The hub to be subscribed at among those a feed names: the one subscribed at while
    the feed still names it, else its first (WebSub §5: any of them will do)."""
    if current is not None and current.hub in hubs:
        return current.hub
    return hubs[0] if hubs else None


def wanted(
    source: str,
    hubs: Sequence[str],
    topic: str | None,
    current: Subscription | None,
    *,
    callback_id: str,
    secret: str,
) -> Subscription | None:
    """The subscription a freshly parsed body asks for: `current` while it names the same
    hub and topic, a new one (new callback and secret, pending) when the hub or topic
    changed, None when the feed names no hub or no self URL (no subscription)."""
    hub = chosen_hub(hubs, current)
    if hub is None or topic is None:
        return None
    if current is not None and current.hub == hub and current.topic == topic:
        return current
    return Subscription(source=source, hub=hub, topic=topic, callback_id=callback_id, secret=secret)


def renew_margin(subscription: Subscription) -> timedelta:
    """How long before its lease ends a live subscription is renewed: half its lease, at
    most a day (a 10-day lease is renewed with a day left, a 3-second one at 1.5 s)."""
    seconds = subscription.lease_seconds or 0
    return min(timedelta(seconds=seconds) / 2, timedelta(days=1))


def due_request(subscription: Subscription, *, now: datetime) -> bool:
    """Whether the hub is to be asked (again) now: never asked; live, with its lease
    ending within renew_margin (or over); pending or failed, and its wait over."""
    if subscription.requested is None:
        return True
    if subscription.retry_at is not None and subscription.retry_at > now:
        return False
    if subscription.state != "live":
        return True
    until = subscription.lease_until
    return until is None or until - now <= renew_margin(subscription)


def after_request(subscription: Subscription, *, now: datetime) -> Subscription:
    """A subscribe request is going out: not asked again before the hub had time to
    verify it (a renewal: a quarter of its lease, at most PENDING_WAIT)."""
    wait = PENDING_WAIT
    if subscription.state == "live" and subscription.lease_seconds:
        wait = min(wait, timedelta(seconds=subscription.lease_seconds) / 4)
    return replace(subscription, requested=now, retry_at=now + wait)


def after_failure(subscription: Subscription, error: str, *, now: datetime) -> Subscription:
    """The hub refused the request or could not be reached: not live (the source is
    polled at its own interval again), asked again after a growing wait."""
    failures = subscription.failures + 1
    wait = min(FIRST_RETRY * (1 << min(failures - 1, 16)), MAX_RETRY)
    return replace(
        subscription, state="failed", failures=failures, last_error=error, retry_at=now + wait
    )


def after_verification(
    subscription: Subscription, lease_seconds: int | None, *, requested: timedelta, now: datetime
) -> Subscription:
    """The hub verified the subscription (WebSub §5.3): live for the lease it granted
    (`requested`, the lease asked, when it names none or an unreadable one)."""
    lease = timedelta(seconds=lease_seconds) if lease_seconds and lease_seconds > 0 else requested
    lease = min(lease, MAX_LEASE)
    return replace(
        subscription,
        state="live",
        lease_until=now + lease,
        lease_seconds=int(lease.total_seconds()),
        retry_at=None,  # asked again as its lease nears its end (due_request)
        failures=0,
        last_error=None,
    )


def after_denial(subscription: Subscription, reason: str, *, now: datetime) -> Subscription:
    """The hub denied the subscription (WebSub §5.2): failed, its reason kept."""
    return after_failure(subscription, f"denied by the hub: {reason or 'no reason given'}", now=now)


def live_until(subscription: Subscription | None, *, now: datetime) -> datetime | None:
    """The end of the lease of a live subscription; None when it is not live."""
    if subscription is None or not subscription.live(now):
        return None
    return subscription.lease_until


def subscribe_form(subscription: Subscription, config: WebSub) -> dict[str, str]:
    """The form of a subscribe request (WebSub §5.1). The secret is sent to http:// hubs
    too: without it no push could be told from a forgery, and every push is refused."""
    return {
        "hub.mode": "subscribe",
        "hub.topic": subscription.topic,
        "hub.callback": callback(config, subscription.callback_id),
        "hub.secret": subscription.secret,
        "hub.lease_seconds": str(int(config.lease.total_seconds())),
    }
