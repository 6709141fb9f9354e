"""The daemon's WebSub side: subscriptions made from what parsed bodies name, asked of and
renewed at their hubs (fetch.request_subscription), and the inbox of pushes read out for a
round. What each becomes is plan.py's; this only carries it out.

Must NOT verify a subscription or accept a push (serve's routes.py does), nor process a
push (the update stage does, in a round the daemon runs).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from aggregator.errors import FetchError
from aggregator.fetch import FetchLimits, request_subscription
from aggregator.store.api import Subscriptions
from aggregator.types import UTC, Config, Source
from aggregator.update.report import SourceOutcome
from aggregator.websub import plan
from aggregator.websub.records import Push, Subscription, WebSub

__all__ = ["Inbox", "Subscriber"]

log = logging.getLogger("aggregator.websub")


def _token(size: int) -> str:
    return secrets.token_urlsafe(size)


@dataclass(slots=True)
class Inbox:
    """The pushes waiting, for one round: by source, and those no configured source takes."""

    sources: list[Source] = field(default_factory=list)
    pushes: dict[str, list[Push]] = field(default_factory=dict)
    stray: list[int] = field(default_factory=list)  # ids of pushes for sources gone

    def done(self, outcomes: Iterable[SourceOutcome]) -> list[int]:
        """The ids of the pushes processed (their source has an outcome), strays included."""
        names = {o.name for o in outcomes}
        return [*self.stray, *(p.id for n in names for p in self.pushes.get(n, ()))]


class Subscriber:
    """Subscriptions of one config's sources (`websub.callback_url` set) in one store."""

    def __init__(
        self,
        config: Config,
        store: Subscriptions,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        token: Callable[[int], str] = _token,
    ) -> None:
        assert config.websub is not None and config.websub.callback_url is not None
        self.config = config
        self.websub: WebSub = config.websub
        self.store = store
        self.clock = clock
        self.token = token
        self.limits = FetchLimits.of(config.fetch)
        self._asking: set[str] = set()  # callback ids with a request in flight

    def live(self) -> dict[str, datetime]:
        """Configured sources whose subscription is live, with the end of its lease.

        Raises: StoreError.
        """
        now = self.clock()
        return {
            s.source: until
            for s in self.store.subscriptions()
            if (until := plan.live_until(s, now=now)) is not None and self.config.source(s.source)
        }

    def noticed(self, outcomes: Iterable[SourceOutcome]) -> None:
        """After a round: a subscription for each parsed body that names a hub and a self
        URL (a new one when they changed), none for one that names none.

        Raises: StoreError.
        """
        parsed = [o for o in outcomes if o.parsed]
        if not parsed:
            return
        current = {s.source: s for s in self.store.subscriptions()}
        for outcome in parsed:
            was = current.get(outcome.name)
            wanted = plan.wanted(
                outcome.name,
                outcome.hubs,
                outcome.topic,
                was,
                callback_id=self.token(24),
                secret=self.token(32),
            )
            if wanted is None and was is not None:
                log.info("%s: its feed names no hub now: subscription forgotten", outcome.name)
                self.store.delete_subscription(outcome.name)
            elif wanted is not None and wanted is not was:
                log.info("%s: its feed names hub %s: subscribing", outcome.name, wanted.hub)
                self.store.put_subscription(wanted)

    async def tend(self) -> None:
        """Ask the hubs whatever is due (plan.due_request: new, renewals, retries), at once;
        forget the subscriptions of sources no longer configured.

        Raises: StoreError.
        """
        now = self.clock()
        due: list[Subscription] = []
        for subscription in await asyncio.to_thread(self.store.subscriptions):
            if self.config.source(subscription.source) is None:
                await asyncio.to_thread(self.store.delete_subscription, subscription.source)
            elif subscription.callback_id not in self._asking and plan.due_request(
                subscription, now=now
            ):
                due.append(subscription)
        await asyncio.gather(*(self._ask(s) for s in due))

    async def _ask(self, subscription: Subscription) -> None:
        source = self.config.source(subscription.source)
        assert source is not None
        key = subscription.callback_id
        self._asking.add(key)
        try:
            asked = plan.after_request(subscription, now=self.clock())
            assert asked.requested is not None and asked.retry_at is not None
            mine = await asyncio.to_thread(
                self.store.mark_requested,
                key,
                was=subscription.requested,
                at=asked.requested,
                retry_at=asked.retry_at,
            )
            if not mine:
                return  # another node asks, or the subscription changed meanwhile
            try:
                status = await request_subscription(
                    subscription.hub,
                    plan.subscribe_form(subscription, self.websub),
                    limits=self.limits,
                    named_by=source.url,
                )
            except FetchError as e:
                failed = plan.after_failure(asked, str(e), now=self.clock())
                log.warning("%s: subscription not made: %s", source.name, e)
                await asyncio.to_thread(
                    self.store.update_subscription,
                    key,
                    state=failed.state,
                    failures=failed.failures,
                    last_error=failed.last_error,
                    retry_at=failed.retry_at,
                )
                return
            what = "renewal" if subscription.state == "live" else "subscription"
            log.info("%s: %s asked of %s (HTTP %d)", source.name, what, subscription.hub, status)
        finally:
            self._asking.discard(key)

    def inbox(self, pushes: Sequence[Push]) -> Inbox:
        """`pushes` grouped for a round, by the configured source each is for."""
        inbox = Inbox()
        for push in pushes:
            source = self.config.source(push.source)
            if source is None:
                inbox.stray.append(push.id)
                continue
            if push.source not in inbox.pushes:
                inbox.sources.append(source)
            inbox.pushes.setdefault(push.source, []).append(push)
        return inbox
