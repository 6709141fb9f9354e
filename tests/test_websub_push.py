"""WebSub subscriptions end to end: the real daemon (`aggregator run`) and the real server
(`aggregator serve`) in subprocesses, a source's feed and a hub stub on 127.0.0.1 in this
process. The stub is a hub as WebSub §5-§7 says: on a subscribe POST it calls the
callback's GET with a challenge and checks the echo, then answers 202; it can push signed
(or forged) content to the callback.
"""

from __future__ import annotations

import json
import secrets
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlencode

import pytest
from builders import ATOM_NS, each_minute, rss, rss_item, xmlns
from clirunner import aggregator_command, run_cli
from httpserver import FeedServer, Request
from pgdatabase import PG_MISSING, new_database
from test_daemon import PG_URL, Daemon, daemons, post_files, start, write_config

from aggregator.websub.signature import sign

__all__ = ["daemons"]  # the fixture, imported for the tests below

RSS_TYPE = "application/rss+xml; charset=utf-8"
WAIT = 30.0  # seconds for what a busy machine may take (a first round, a subscription)


def story(n: int) -> str:
    return rss_item(
        title=f"Story {n}",
        link=f"http://example.org/a/{n}.html",
        guid=f"s{n}",
        permalink=False,
        pub_date=each_minute(n),
        description=f"<p>Story {n}</p>",
        cdata=True,
    )


def websub_feed(hub: str, topic: str, *numbers: int) -> bytes:
    """The source's feed, naming its hub and its own URL as WebSub §4 says (atom:link)."""
    links = f'<atom:link rel="hub" href="{hub}"/><atom:link rel="self" href="{topic}"/>'
    return rss(
        *(story(n) for n in numbers),
        title="a",
        link="http://example.org/a/",
        channel=links,
        namespaces=xmlns("atom", ATOM_NS),
    )


class Hub:
    """A hub stub on a FeedServer: /hub takes subscribe requests and verifies each with the
    subscriber's callback before it answers 202; `push` distributes content."""

    def __init__(self, server: FeedServer, *, lease: int = 864000) -> None:
        self.server = server
        self.lease = lease
        self.forms: list[dict[str, str]] = []
        self.verified: list[bool] = []
        self._lock = threading.Lock()
        server.add("/hub", status=202, content_type=None, dynamic=self._subscribe)

    @property
    def url(self) -> str:
        return self.server.url("/hub")

    def _subscribe(self, request: Request) -> bytes:
        form = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
        challenge = secrets.token_urlsafe(12)
        query = urlencode(
            {
                "hub.mode": "subscribe",
                "hub.topic": form.get("hub.topic", ""),
                "hub.challenge": challenge,
                "hub.lease_seconds": str(self.lease),
            }
        )
        try:
            with urllib.request.urlopen(f"{form['hub.callback']}?{query}", timeout=10) as r:
                ok = r.status == 200 and r.read().decode() == challenge
        except (urllib.error.URLError, KeyError):
            ok = False
        with self._lock:
            self.forms.append(form)
            self.verified.append(ok)
        return b""

    def push(
        self, body: bytes, *, signature: str | None = "good", content_type: str = RSS_TYPE
    ) -> int:
        """POST `body` to the last verified callback; the status answered."""
        form = self.forms[-1]
        headers = {"Content-Type": content_type}
        if signature == "good":
            headers["X-Hub-Signature"] = sign(body, form["hub.secret"])
        elif signature is not None:
            headers["X-Hub-Signature"] = signature
        return post(form["hub.callback"], body, headers)


def post(url: str, body: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return int(r.status)
    except urllib.error.HTTPError as e:
        return int(e.code)


def get_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return int(r.status)
    except urllib.error.HTTPError as e:
        return int(e.code)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(what: str, check: Callable[[], bool], timeout: float = WAIT) -> float:
    """Poll `check` until it holds; the seconds it took."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)
    return time.monotonic() - started


@pytest.fixture
def hub_server() -> Iterator[FeedServer]:
    with FeedServer() as server:
        yield server


def serve(daemons: list[Daemon], config: Path, port: int) -> Daemon:
    """`aggregator serve` on `port`, once it accepts connections."""
    command = [*aggregator_command(), "--config", str(config), "serve", "--port", str(port)]
    server = Daemon(config, command=command)
    daemons.append(server)

    def accepting() -> bool:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            return False

    server.wait_for("serve to accept connections", accepting)
    return server


def websub_status(config: Path) -> dict[str, object] | None:
    (row,) = json.loads(run_cli(config, "status", "--json").stdout)
    found = row["websub"]
    assert found is None or isinstance(found, dict)
    return found


def pushed_site(
    tmp_path: Path,
    feed_server: FeedServer,
    hub: Hub,
    *,
    interval: str = "1h",
    fetch: dict[str, object] | None = None,
    database: str = "sqlite:///test.db",
) -> tuple[Path, int]:
    """A config of one source `a` whose feed names `hub`, with a callback on a free port."""
    port = free_port()
    topic = feed_server.url("/a.rss")
    feed_server.add("/a.rss", websub_feed(hub.url, topic, 1), etag=True)
    source = {"name": "a", "url": topic, "category": "news", "interval": interval}
    config = write_config(
        tmp_path,
        [source],
        websub={"callback_url": f"http://127.0.0.1:{port}/"},
        database=database,
        **({"fetch": {"connect_timeout": "2s", "read_timeout": "5s", **fetch}} if fetch else {}),
    )
    return config, port


def published(out: Path) -> set[str]:
    return {p.read_text(encoding="utf-8").split("title: ", 1)[1].split("\n", 1)[0] for p in
            post_files(out)}  # fmt: skip


# ------------------------------------------------------------------ the tests


def test_subscribe_verify_and_a_signed_push_published_within_a_second(
    tmp_path: Path, feed_server: FeedServer, hub_server: FeedServer, daemons: list[Daemon]
) -> None:
    hub = Hub(hub_server)
    config, port = pushed_site(tmp_path, feed_server, hub, fetch={"max_bytes": 100_000})
    server = serve(daemons, config, port)
    daemon = start(daemons, config)
    out = tmp_path / "out"

    wait_until("the hub's verification", lambda: hub.verified == [True])
    wait_until("the first story", lambda: published(out) == {'"Story 1"'})
    (form,) = hub.forms
    topic = feed_server.url("/a.rss")
    assert form["hub.mode"] == "subscribe" and form["hub.topic"] == topic
    assert form["hub.callback"].startswith(f"http://127.0.0.1:{port}/websub/")
    assert form["hub.lease_seconds"] == "864000" and len(form["hub.secret"]) >= 32
    state = websub_status(config)
    assert state is not None and state["state"] == "live" and state["live"] is True
    assert (state["hub"], state["topic"]) == (hub.url, topic)
    assert "pushed" in run_cli(config, "status").stdout  # "pushed by <hub> until <when>"
    (row,) = json.loads(run_cli(config, "status", "--json").stdout)
    # Polled again a day (websub.poll_interval) after its fetch, not at its hourly interval.
    polled = datetime.fromisoformat(row["next_check"]) - datetime.fromisoformat(row["last_fetched"])
    assert timedelta(hours=23) < polled <= timedelta(days=1), polled

    # A signed push: published within a second, not fetched.
    started = time.monotonic()
    assert hub.push(websub_feed(hub.url, topic, 1, 2)) == 202
    took = wait_until("the pushed story", lambda: '"Story 2"' in published(out), timeout=10)
    assert took < 1.0, f"published {took:.2f}s after the push"
    assert feed_server.hits("/a.rss") == 1
    daemon.wait_log(r"a: push of \d+ bytes: 1 new")
    assert time.monotonic() - started < 10

    # Forged and unsigned pushes are acknowledged (WebSub §8) but never stored.
    forged = "sha256=" + "0" * 64
    assert hub.push(websub_feed(hub.url, topic, 1, 2, 3), signature=forged) == 202
    assert hub.push(websub_feed(hub.url, topic, 1, 2, 4), signature=None) == 202
    wrong_key = sign(websub_feed(hub.url, topic, 5), "not the secret")
    assert hub.push(websub_feed(hub.url, topic, 5), signature=wrong_key) == 202
    # A body past fetch.max_bytes is refused unread.
    assert hub.push(b"x" * 100_001) == 413
    # A signed one after them is still taken: the refused ones took nothing with them.
    assert hub.push(websub_feed(hub.url, topic, 1, 2, 6)) == 202
    wait_until("the last pushed story", lambda: '"Story 6"' in published(out), timeout=10)
    assert published(out) == {'"Story 1"', '"Story 2"', '"Story 6"'}
    assert server.log().count("push refused") == 3
    assert "wrong X-Hub-Signature" in server.log() and "no X-Hub-Signature" in server.log()

    # What is no verification of ours is refused.
    callback = form["hub.callback"]
    other = callback.rsplit("/", 1)[0] + "/" + "A" * 32

    def verify(url: str, **query: str) -> int:
        return get_status(f"{url}?{urlencode({f'hub.{k}': v for k, v in query.items()})}")

    lease = {"challenge": "c", "lease_seconds": "60"}
    assert verify(callback, mode="subscribe", topic="http://x/", **lease) == 404
    assert verify(other, mode="subscribe", topic=topic, **lease) == 404
    assert verify(callback, mode="unsubscribe", topic=topic, **lease) == 404  # never asked
    assert verify(callback, mode="subscribe", topic=topic) == 400  # no challenge
    assert post(other, b"<rss/>", {"X-Hub-Signature": sign(b"<rss/>", "k")}) == 404
    assert get_status(f"http://127.0.0.1:{port}/websub/") == 404
    # "²" is a digit to str.isdigit, not to int(): no lease read, no length, no traceback.
    assert verify(callback, mode="subscribe", topic=topic, challenge="c", lease_seconds="²") == 200
    path = callback.split(str(port), 1)[1]
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: ".encode())
        conn.sendall(b"\xb2\r\n\r\n")
        assert conn.recv(100).startswith(b"HTTP/1.1 411 ")
    assert daemon.stop() == 0
    assert "Traceback" not in server.log() + daemon.log()


def test_a_short_lease_is_renewed_before_it_ends(
    tmp_path: Path, feed_server: FeedServer, hub_server: FeedServer, daemons: list[Daemon]
) -> None:
    hub = Hub(hub_server, lease=3)
    config, port = pushed_site(tmp_path, feed_server, hub)
    serve(daemons, config, port)
    daemon = start(daemons, config)

    wait_until("the subscription", lambda: hub.verified == [True])
    first = time.monotonic()
    wait_until("two renewals", lambda: len(hub.verified) >= 3, timeout=15)
    # Renewed with half the lease left: every 1.5 s or so, never after the lease ran out.
    assert time.monotonic() - first < 6.5
    assert all(hub.verified)
    assert len({f["hub.callback"] for f in hub.forms}) == 1  # the same callback, renewed
    state = websub_status(config)
    assert state is not None and state["live"] is True
    assert feed_server.hits("/a.rss") == 1  # live all along: no poll
    assert daemon.stop() == 0


@pytest.mark.parametrize("gone", ["stopped", "error"])
def test_the_source_is_polled_again_when_its_hub_goes(
    gone: str,
    tmp_path: Path,
    feed_server: FeedServer,
    hub_server: FeedServer,
    daemons: list[Daemon],
) -> None:
    hub = Hub(hub_server, lease=3)
    config, port = pushed_site(tmp_path, feed_server, hub, interval="1s")
    serve(daemons, config, port)
    daemon = start(daemons, config)

    wait_until("the subscription", lambda: hub.verified[:1] == [True])
    polled = feed_server.hits("/a.rss")
    time.sleep(2.5)  # a 1s source, live: not polled (the safety interval is a day)
    assert feed_server.hits("/a.rss") == polled

    if gone == "stopped":
        hub_server.stop()  # connection refused from now on
    else:
        hub_server.add("/hub", b"down", status=500, content_type="text/plain")
    # The lease runs out unrenewed: the source falls back to its own interval.
    daemon.wait_for("polls again", lambda: feed_server.hits("/a.rss") >= polled + 3, timeout=20)
    state = websub_status(config)
    assert state is not None and state["live"] is False and state["state"] == "failed"
    error = str(state["last_error"])
    assert ("HTTP 500" in error) if gone == "error" else ("hub " in error), error
    assert daemon.stop() == 0


def test_a_hub_in_a_private_network_is_not_asked(
    tmp_path: Path, feed_server: FeedServer, daemons: list[Daemon]
) -> None:
    # 127.0.0.1 (the feed) counts as public here, 127.0.0.2 (the hub) as private: a feed
    # may not make this site send requests into a private network, as its links may not.
    with FeedServer("127.0.0.2") as private:
        hub = Hub(private)
        config, _port = pushed_site(
            tmp_path, feed_server, hub, fetch={"private_networks": ["127.0.0.2/32"]}
        )
        daemon = start(daemons, config)
        daemon.wait_log("subscription not made")
        assert private.hits("/hub") == 0
        state = websub_status(config)
        assert state is not None and state["state"] == "failed"
        assert "private address" in str(state["last_error"])
        assert daemon.stop() == 0


def test_a_hub_named_in_the_link_header_is_subscribed_to(
    tmp_path: Path, feed_server: FeedServer, hub_server: FeedServer, daemons: list[Daemon]
) -> None:
    hub = Hub(hub_server)
    config, port = pushed_site(tmp_path, feed_server, hub)
    topic = feed_server.url("/a.rss")
    plain = rss(story(1), title="a", link="http://example.org/a/")  # no links in the body
    link = f'<{hub.url}>; rel="hub", <{topic}>; rel="self"'
    feed_server.add("/a.rss", plain, headers={"Link": link})
    serve(daemons, config, port)
    daemon = start(daemons, config)
    wait_until("the hub's verification", lambda: hub.verified == [True])
    assert hub.forms[0]["hub.topic"] == topic
    assert daemon.stop() == 0


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason=PG_MISSING)
def test_two_nodes_subscribe_once_and_publish_a_push_once(
    tmp_path: Path, feed_server: FeedServer, hub_server: FeedServer, daemons: list[Daemon]
) -> None:
    hub = Hub(hub_server)
    with new_database() as url:
        config, port = pushed_site(tmp_path, feed_server, hub, database=url)
        serve(daemons, config, port)
        first, second = start(daemons, config), start(daemons, config)
        out = tmp_path / "out"
        wait_until("the hub's verification", lambda: hub.verified == [True], timeout=60)
        wait_until("the first story", lambda: published(out) == {'"Story 1"'}, timeout=60)
        topic = feed_server.url("/a.rss")
        assert hub.push(websub_feed(hub.url, topic, 1, 2)) == 202
        wait_until("the pushed story", lambda: '"Story 2"' in published(out), timeout=10)
        time.sleep(2)  # both nodes look at the inbox five times a second
        assert len(post_files(out)) == 2
        assert len(hub.forms) == 1  # one node asked the hub
        assert feed_server.hits("/a.rss") == 1
        assert first.stop() == 0 and second.stop() == 0
