"""aggregator.fetch.websub.ping_hub against a real HTTP server on 127.0.0.1 playing the hub."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from urllib.parse import parse_qs

import httpx
import pytest
from httpserver import FeedServer, closed_port

from aggregator.fetch import ping_hub

TOPICS = ["https://example.org/atom.xml", "https://example.org/category/tech.xml"]


def topics(hub: FeedServer) -> list[str]:
    """The hub.url of each notification `hub` received, in order; each must be a WebSub
    publish."""
    forms = [parse_qs(r.body.decode(), strict_parsing=True) for r in hub.requests("/hub")]
    assert all(form["hub.mode"] == ["publish"] and len(form) == 2 for form in forms)
    return [url for form in forms for url in form["hub.url"]]


@pytest.fixture
def hub() -> Iterator[FeedServer]:
    with FeedServer() as server:
        yield server


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


def test_each_topic_is_announced_in_one_post(hub: FeedServer) -> None:
    hub.add("/hub", status=204, content_type=None)

    pinged = ping_hub(hub.url("/hub"), TOPICS)

    assert pinged == TOPICS
    assert topics(hub) == TOPICS
    requests = hub.requests("/hub")
    assert [r.method for r in requests] == ["POST", "POST"]
    assert requests[0].headers["content-type"] == "application/x-www-form-urlencoded"
    # As publish sent them: httpx's own User-Agent, not the fetcher's.
    assert requests[0].headers["user-agent"].startswith("python-httpx/")


def test_refusing_hub_is_logged_per_topic_and_the_rest_are_tried(
    hub: FeedServer, caplog: pytest.LogCaptureFixture
) -> None:
    hub.add("/hub", b"no", status=403, content_type="text/plain")
    url = hub.url("/hub")

    pinged = ping_hub(url, TOPICS)

    assert pinged == []
    assert topics(hub) == TOPICS
    assert warnings_of(caplog) == [f"hub {url} answered 403 for {t}" for t in TOPICS]


def test_redirecting_hub_is_not_followed(hub: FeedServer, caplog: pytest.LogCaptureFixture) -> None:
    hub.add("/hub", redirect_to="/elsewhere", redirect_status=307)
    hub.add("/elsewhere", status=204)

    assert ping_hub(hub.url("/hub"), TOPICS[:1]) == []
    assert hub.hits("/elsewhere") == 0
    assert warnings_of(caplog) == [f"hub {hub.url('/hub')} answered 307 for {TOPICS[0]}"]


def test_unreachable_hub_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    with closed_port() as port:
        url = f"http://127.0.0.1:{port}/hub"

        assert ping_hub(url, TOPICS) == []

    [message] = warnings_of(caplog)
    assert message.startswith(f"cannot ping hub {url}: ")


def test_hub_that_never_answers_times_out(
    hub: FeedServer, caplog: pytest.LogCaptureFixture
) -> None:
    hub.add("/hub", hang=True)

    assert ping_hub(hub.url("/hub"), TOPICS, timeout=0.3) == []

    assert hub.hits("/hub") == 1  # a transport failure ends the pings
    assert warnings_of(caplog) == [f"cannot ping hub {hub.url('/hub')}: timed out"]


def test_warnings_go_to_the_given_logger(hub: FeedServer, caplog: pytest.LogCaptureFixture) -> None:
    hub.add("/hub", status=500)

    ping_hub(hub.url("/hub"), TOPICS[:1], logger=logging.getLogger("aggregator.publish"))

    assert [r.name for r in caplog.records] == ["aggregator.publish"]


@pytest.mark.parametrize(("hub_url", "topics"), [("", TOPICS), ("http://127.0.0.1:9/hub", [])])
def test_nothing_to_send_sends_nothing(hub_url: str, topics: list[str]) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise AssertionError("nothing should be sent")

    assert ping_hub(hub_url, topics, transport=httpx.MockTransport(refuse)) == []


def test_topics_accepted_before_a_failure_are_kept() -> None:
    seen: list[httpx.Request] = []

    def hub(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if len(seen) == 2:
            raise httpx.ConnectError("connection reset")
        return httpx.Response(202)

    topics = [*TOPICS, "https://example.org/tag/x.xml"]

    assert ping_hub("http://hub.example/", topics, transport=httpx.MockTransport(hub)) == TOPICS[:1]
    assert len(seen) == 2


def test_same_timeout_as_before_on_every_phase() -> None:
    timeouts: list[object] = []

    def hub(request: httpx.Request) -> httpx.Response:
        timeouts.append(request.extensions["timeout"])
        return httpx.Response(204)

    ping_hub("http://hub.example/", TOPICS[:1], transport=httpx.MockTransport(hub))

    assert timeouts == [{"connect": 10.0, "read": 10.0, "write": 10.0, "pool": 10.0}]
