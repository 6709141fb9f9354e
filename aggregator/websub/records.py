"""WebSub records: the `websub:` config section, one subscription to a source's hub, one
push received. Values only (re-exported by aggregator.types beside Config); they must NOT
read a clock or the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

__all__ = ["SUBSCRIPTION_STATES", "Push", "Subscription", "SubscriptionState", "WebSub"]


@dataclass(frozen=True, slots=True, kw_only=True)
class WebSub:
    """The `websub:` section: our hub (publishing pings it), and where this site's `serve`
    is reached so that sources' hubs can push to it."""

    hub: str | None = None  # absolute http(s) URL that our feeds name; None: no ping
    # Absolute http(s) URL at which `serve`'s "/" is reached; None: no subscriptions.
    callback_url: str | None = None
    lease: timedelta = timedelta(days=10)  # the lease asked of a hub (it may grant another)
    # How often a source is still polled while its subscription is live (a safety net).
    poll_interval: timedelta = timedelta(days=1)


SubscriptionState = Literal["pending", "live", "failed"]
SUBSCRIPTION_STATES: tuple[SubscriptionState, ...] = ("pending", "live", "failed")


@dataclass(frozen=True, slots=True, kw_only=True)
class Subscription:
    """One source's subscription to the hub its feed names (one per source).

    pending: asked, not verified yet; live: the hub verified it (until `lease_until`);
    failed: the hub refused, could not be reached, or denied it (retried from `retry_at`).
    """

    source: str  # Source.name
    hub: str
    topic: str  # the feed's rel="self" URL
    callback_id: str  # the callback URL's last segment: random, unguessable
    secret: str  # the HMAC key of its pushes (hub.secret)
    state: SubscriptionState = "pending"
    requested: datetime | None = None  # when the last subscribe request went out
    lease_until: datetime | None = None  # until when the hub keeps it (its verification)
    lease_seconds: int | None = None  # the lease the hub granted
    retry_at: datetime | None = None  # failed or unverified: asked again from then
    failures: int = 0  # consecutive failed requests
    last_error: str | None = None

    def live(self, now: datetime) -> bool:
        """Verified and within its lease: the hub pushes, the source is polled rarely."""
        return self.state == "live" and self.lease_until is not None and self.lease_until > now


@dataclass(frozen=True, slots=True, kw_only=True)
class Push:
    """A content distribution request a hub made (WebSub §7), its signature checked."""

    id: int
    source: str
    callback_id: str
    received: datetime
    body: bytes
    content_type: str | None = None
