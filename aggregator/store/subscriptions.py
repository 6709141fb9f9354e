"""The store's WebSub methods: each source's subscription to its hub, and the inbox of
pushes `serve` accepted, until the daemon has processed them.

Must not decide anything about a subscription (aggregator.websub.plan does) nor check a
push's signature (websub.signature does): it keeps, updates and hands back what it is given.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from aggregator.store.schema import pushes, subscriptions
from aggregator.store.transactions import Transactions, chunks, replacing
from aggregator.websub.records import Push, Subscription

__all__ = ["SubscriptionMethods"]


class SubscriptionMethods(Transactions):
    """WebSub subscriptions and received pushes (see api.Subscriptions)."""

    def subscriptions(self) -> list[Subscription]:
        """Every source's subscription, ordered by source name."""

        def work(conn: Connection) -> list[Subscription]:
            rows = conn.execute(sa.select(subscriptions)).all()
            return sorted((_subscription(r) for r in rows), key=lambda s: s.source)

        return self._run("cannot read subscriptions", work)

    def subscription(self, callback_id: str) -> Subscription | None:
        """The subscription whose callback URL ends in `callback_id`, or None."""
        query = sa.select(subscriptions).where(subscriptions.c.callback_id == callback_id)

        def work(conn: Connection) -> Subscription | None:
            row = conn.execute(query).first()
            return None if row is None else _subscription(row)

        return self._run("cannot read a subscription", work)

    def put_subscription(self, subscription: Subscription) -> None:
        """Insert or replace the subscription of `subscription.source`."""
        statement = replacing(
            self._engine.dialect.name, subscriptions, asdict(subscription), key="source"
        )
        self._run(
            f"cannot save the subscription of {subscription.source!r}",
            lambda conn: conn.execute(statement),
            write=True,
        )

    def update_subscription(self, callback_id: str, /, **changes: Any) -> bool:
        """Change the named fields of the subscription `callback_id` (the others as they
        are: a verification recorded meanwhile stays); whether it exists."""
        unknown = set(changes) - (set(subscriptions.c.keys()) - {"source", "callback_id"})
        if unknown:
            raise ValueError(f"not fields a subscription update may change: {sorted(unknown)}")
        statement = (
            sa.update(subscriptions)
            .where(subscriptions.c.callback_id == callback_id)
            .values(**changes)
        )
        return self._run(
            "cannot update a subscription",
            lambda conn: bool(conn.execute(statement).rowcount),
            write=True,
        )

    def mark_requested(
        self, callback_id: str, *, was: datetime | None, at: datetime, retry_at: datetime
    ) -> bool:
        """Record a request to the hub going out at `at` (asked again from `retry_at`), if
        the last one recorded is still `was`: whether this caller is the one to send it (on
        a shared store, of the nodes that found it due at once, one sends it)."""
        statement = (
            sa.update(subscriptions)
            .where(
                subscriptions.c.callback_id == callback_id,
                subscriptions.c.requested.is_(None)
                if was is None
                else subscriptions.c.requested == was,
            )
            .values(requested=at, retry_at=retry_at)
        )
        return self._run(
            "cannot update a subscription",
            lambda conn: bool(conn.execute(statement).rowcount),
            write=True,
        )

    def delete_subscription(self, source: str) -> None:
        """Forget `source`'s subscription, and the pushes waiting for it."""

        def work(conn: Connection) -> None:
            conn.execute(sa.delete(pushes).where(pushes.c.source == source))
            conn.execute(sa.delete(subscriptions).where(subscriptions.c.source == source))

        self._run(f"cannot delete the subscription of {source!r}", work, write=True)

    def add_push(
        self,
        callback_id: str,
        *,
        body: bytes,
        content_type: str | None,
        received: datetime,
    ) -> bool:
        """Keep a push for the subscription `callback_id` until it is processed; whether
        that subscription (still) exists."""

        def work(conn: Connection) -> bool:
            query = sa.select(subscriptions.c.source).where(
                subscriptions.c.callback_id == callback_id
            )
            source = conn.scalar(query)
            if source is None:
                return False
            conn.execute(
                pushes.insert().values(
                    source=source,
                    callback_id=callback_id,
                    received=received,
                    content_type=content_type,
                    body=body,
                )
            )
            return True

        return self._run("cannot store a push", work, write=True)

    def pushes(self, *, limit: int = 100) -> list[Push]:
        """The oldest `limit` pushes not yet processed, oldest first."""
        query = sa.select(pushes).order_by(pushes.c.id).limit(limit)

        def work(conn: Connection) -> list[Push]:
            return [
                Push(
                    id=row.id,
                    source=row.source,
                    callback_id=row.callback_id,
                    received=row.received,
                    body=bytes(row.body),
                    content_type=row.content_type,
                )
                for row in conn.execute(query)
            ]

        return self._run("cannot read pushes", work)

    def has_pushes(self) -> bool:
        """Whether any push waits (one indexed read: the daemon asks every tick)."""
        query = sa.select(pushes.c.id).limit(1)
        return self._run("cannot read pushes", lambda conn: conn.scalar(query) is not None)

    def delete_pushes(self, ids: Sequence[int]) -> None:
        """Forget the pushes `ids` (processed)."""
        wanted = list(ids)

        def work(conn: Connection) -> None:
            for chunk in chunks(wanted):
                conn.execute(sa.delete(pushes).where(pushes.c.id.in_(chunk)))

        self._run("cannot delete pushes", work, write=True)


def _subscription(row: Any) -> Subscription:
    return Subscription(
        source=row.source,
        hub=row.hub,
        topic=row.topic,
        callback_id=row.callback_id,
        secret=row.secret,
        state=row.state,
        requested=row.requested,
        lease_until=row.lease_until,
        lease_seconds=row.lease_seconds,
        retry_at=row.retry_at,
        failures=row.failures,
        last_error=row.last_error,
    )
