"""aggregator.websub.plan, pure: what a subscription becomes and when the hub is asked."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from aggregator.websub import plan
from aggregator.websub.records import Subscription, WebSub

NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)
S = timedelta(seconds=1)
DAY = timedelta(days=1)
HUB = "https://hub.example/"
TOPIC = "https://example.org/feed.xml"
NEW = Subscription(source="a", hub=HUB, topic=TOPIC, callback_id="cb", secret="k")
LIVE = replace(
    NEW, state="live", requested=NOW - DAY, lease_until=NOW + 9 * DAY, lease_seconds=864000
)


@pytest.mark.parametrize(
    ("subscription", "due"),
    [
        pytest.param(NEW, True, id="never-asked"),
        pytest.param(LIVE, False, id="live-lease-far-off"),
        pytest.param(replace(LIVE, lease_until=NOW + DAY), True, id="live-a-day-left"),
        pytest.param(replace(LIVE, lease_until=NOW - S), True, id="lease-over"),
        pytest.param(
            replace(LIVE, lease_until=NOW + 1.4 * S, lease_seconds=3), True, id="short-lease-half"
        ),
        pytest.param(
            replace(LIVE, lease_until=NOW + 2 * S, lease_seconds=3), False, id="short-lease-early"
        ),
        pytest.param(
            replace(LIVE, lease_until=NOW + S, retry_at=NOW + S), False, id="renewal-in-flight"
        ),
        pytest.param(replace(NEW, requested=NOW, retry_at=NOW + 10 * S), False, id="pending-waits"),
        pytest.param(replace(NEW, requested=NOW - DAY, retry_at=NOW), True, id="pending-again"),
        pytest.param(
            replace(NEW, state="failed", requested=NOW, retry_at=NOW + S), False, id="failed-waits"
        ),
    ],
)
def test_due_request(subscription: Subscription, due: bool) -> None:
    assert plan.due_request(subscription, now=NOW) is due


def test_a_body_keeps_its_subscription_until_its_hub_or_topic_changes() -> None:
    ids = {"callback_id": "cb2", "secret": "k2"}
    assert plan.wanted("a", [HUB], TOPIC, LIVE, **ids) is LIVE
    assert plan.wanted("a", ["https://first.example/", HUB], TOPIC, LIVE, **ids) is LIVE
    moved = plan.wanted("a", ["https://other.example/"], TOPIC, LIVE, **ids)
    assert moved == replace(NEW, hub="https://other.example/", callback_id="cb2", secret="k2")
    assert plan.wanted("a", [HUB], TOPIC + "?2", LIVE, **ids) == replace(
        NEW, topic=TOPIC + "?2", callback_id="cb2", secret="k2"
    )
    assert plan.wanted("a", [], TOPIC, LIVE, **ids) is None
    assert plan.wanted("a", [HUB], None, None, **ids) is None


def test_a_request_then_a_verification_makes_it_live() -> None:
    asked = plan.after_request(NEW, now=NOW)
    assert (asked.requested, asked.retry_at) == (NOW, NOW + plan.PENDING_WAIT)
    assert not asked.live(NOW)
    live = plan.after_verification(asked, 3, requested=10 * DAY, now=NOW)
    assert (live.state, live.lease_until, live.lease_seconds) == ("live", NOW + 3 * S, 3)
    assert live.retry_at is None and plan.due_request(live, now=NOW + 1.5 * S)
    assert plan.live_until(live, now=NOW) == NOW + 3 * S
    assert plan.live_until(live, now=NOW + 3 * S) is None  # the lease ran out
    # A renewal of a short lease waits a quarter of it, not ten minutes.
    assert plan.after_request(live, now=NOW).retry_at == NOW + 0.75 * S
    # A hub that names no lease (or a silly one) gets the one asked, at most a year.
    assert plan.after_verification(asked, None, requested=10 * DAY, now=NOW).lease_seconds == 864000
    assert plan.after_verification(asked, 10**12, requested=DAY, now=NOW).lease_until == (
        NOW + plan.MAX_LEASE
    )


def test_failures_are_not_live_and_back_off() -> None:
    once = plan.after_failure(LIVE, "HTTP 500", now=NOW)
    assert (once.state, once.failures, once.last_error) == ("failed", 1, "HTTP 500")
    assert not once.live(NOW) and once.retry_at == NOW + timedelta(minutes=10)
    twice = plan.after_failure(once, "HTTP 500", now=NOW)
    assert twice.retry_at == NOW + timedelta(minutes=20)
    many = replace(twice, failures=30)
    assert plan.after_failure(many, "x", now=NOW).retry_at == NOW + DAY
    denied = plan.after_denial(LIVE, "", now=NOW)
    assert denied.last_error == "denied by the hub: no reason given"


def test_the_subscribe_form() -> None:
    config = WebSub(callback_url="https://site.example/push", lease=2 * DAY)
    assert plan.subscribe_form(NEW, config) == {
        "hub.mode": "subscribe",
        "hub.topic": TOPIC,
        "hub.callback": "https://site.example/push/websub/cb",
        "hub.secret": "k",
        "hub.lease_seconds": "172800",
    }
