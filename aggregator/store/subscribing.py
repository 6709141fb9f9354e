"""The store's Protocol for WebSub (aggregator.websub): subscriptions to sources' hubs and
the pushes received, re-exported by api.py beside the other Protocols. Declares only: no
SQL, no implementation (subscriptions.py holds the Store's methods).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from aggregator.websub.records import Push, Subscription

__all__ = ["Subscriptions"]


@runtime_checkable
class Subscriptions(Protocol):
    """WebSub subscriptions to sources' hubs and the pushes received: what the daemon's
    subscriber and `serve`'s /websub/ routes read and write (aggregator.websub)."""

    def subscriptions(self) -> list[Subscription]:
        """Every source's subscription, ordered by source name."""
        ...

    def subscription(self, callback_id: str) -> Subscription | None:
        """The subscription whose callback URL ends in `callback_id`, or None."""
        ...

    def put_subscription(self, subscription: Subscription) -> None:
        """Insert or replace the subscription of `subscription.source`."""
        ...

    def update_subscription(self, callback_id: str, /, **changes: Any) -> bool:
        """Change the named fields of subscription `callback_id`; whether it exists."""
        ...

    def mark_requested(
        self, callback_id: str, *, was: datetime | None, at: datetime, retry_at: datetime
    ) -> bool:
        """Record a request to the hub at `at` if the last recorded is still `was`;
        whether it was recorded (the caller is then the one to send it)."""
        ...

    def delete_subscription(self, source: str) -> None:
        """Forget `source`'s subscription and the pushes waiting for it."""
        ...

    def add_push(
        self, callback_id: str, *, body: bytes, content_type: str | None, received: datetime
    ) -> bool:
        """Keep a push for subscription `callback_id`; whether that subscription exists."""
        ...

    def pushes(self, *, limit: int = ...) -> list[Push]:
        """The oldest `limit` pushes not yet processed, oldest first."""
        ...

    def has_pushes(self) -> bool:
        """Whether any push waits."""
        ...

    def delete_pushes(self, ids: Sequence[int]) -> None:
        """Forget the pushes `ids` (processed)."""
        ...
