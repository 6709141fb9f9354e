"""aggregator.fetch's Fetcher over httpx.MockTransport and a fixed clock: no socket.

The policy of one fetch (redirects, the private-network guard, the size cap, deadlines,
conditional headers, Retry-After) as the Fetcher applies it to answers written here. The same
behaviour against a real server on 127.0.0.1 is in test_fetch.py.
"""

from __future__ import annotations

import asyncio
import gzip
import socket
import tracemalloc
import zlib
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fakesite import FakeSite, Handler

from aggregator.errors import FetchError
from aggregator.fetch import Fetcher, FetchLimits, HostDeferred
from aggregator.fetch.body import Decoder
from aggregator.types import FetchResult, Validators

FEED = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
MODIFIED = "Sat, 01 Mar 2025 11:00:00 GMT"
# Names are never looked up unless a hop is guarded (allow_private=False and untrusted, or
# after a first redirect): most tests allow private addresses so that no lookup happens.
OPEN = FetchLimits(connect_timeout=0.5, read_timeout=0.7, total_timeout=2.0, allow_private=True)
GUARDED = FetchLimits(connect_timeout=0.5, read_timeout=0.7, total_timeout=2.0)


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any connection, or a lookup of a name other than localhost (/etc/hosts), fails the test."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"network use in an offline test: {args}")

    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host: object, *args: object, **kwargs: object) -> object:
        if host != "localhost":
            refuse(host)
        return real_getaddrinfo(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


class Clock:
    """A wall clock that moves only when told."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def redirect(status: int, location: str | None) -> httpx.Response:
    return httpx.Response(status, headers={"location": location} if location else {})


def run(
    site: FakeSite,
    url: str,
    *,
    limits: FetchLimits = OPEN,
    clock: Clock | None = None,
    trusted: bool = True,
    validators: Validators = Validators(),  # noqa: B008 - frozen value
    headers: tuple[tuple[str, str], ...] = (),
) -> FetchResult:
    async def one() -> FetchResult:
        transport = httpx.MockTransport(site)
        async with Fetcher(limits, transport=transport, clock=clock or Clock()) as fetcher:
            return await fetcher.fetch(url, trusted=trusted, validators=validators, headers=headers)

    return asyncio.run(one())


def failure(site: FakeSite, url: str, **kwargs: object) -> FetchError:
    with pytest.raises(FetchError) as caught:
        run(site, url, **kwargs)  # type: ignore[arg-type]
    return caught.value


# ------------------------------------------------------------ conditional GET


def test_validators_are_sent_as_conditional_headers() -> None:
    site = FakeSite({"http://feeds.example/feed": httpx.Response(304)})
    sent = Validators(etag='"v1"', last_modified=MODIFIED)

    result = run(site, "http://feeds.example/feed", validators=sent)

    request = site.requests[0]
    assert request.headers["if-none-match"] == '"v1"'
    assert request.headers["if-modified-since"] == MODIFIED
    assert result.not_modified and result.content is None
    assert result.validators == sent  # a 304 without validators keeps ours


def test_no_validators_means_an_unconditional_get() -> None:
    site = FakeSite({"http://feeds.example/feed": httpx.Response(200, content=FEED)})

    result = run(site, "http://feeds.example/feed")

    request = site.requests[0]
    assert "if-none-match" not in request.headers
    assert "if-modified-since" not in request.headers
    assert request.headers["user-agent"].startswith("aggregator/")
    assert request.headers["accept-encoding"] == "gzip, deflate"
    assert result.content == FEED and result.validators == Validators()


def test_304_with_new_validators_replaces_ours() -> None:
    answer = httpx.Response(304, headers={"etag": '"v2"'})
    site = FakeSite({"http://feeds.example/feed": answer})

    result = run(
        site,
        "http://feeds.example/feed",
        validators=Validators(etag='"v1"', last_modified=MODIFIED),
    )

    assert result.validators == Validators(etag='"v2"', last_modified=MODIFIED)


def test_fetched_at_is_the_clocks_now() -> None:
    site = FakeSite({"http://feeds.example/feed": httpx.Response(200, content=FEED)})

    result = run(site, "http://feeds.example/feed", clock=Clock(T0 + timedelta(days=3)))

    assert result.fetched_at == T0 + timedelta(days=3)


# ------------------------------------------------------------ redirect policy


def chain(statuses: tuple[int, ...]) -> FakeSite:
    """/0 redirects to /1 with statuses[0], and so on; the last one serves the feed."""
    site = FakeSite({f"http://feeds.example/{len(statuses)}": httpx.Response(200, content=FEED)})
    for i, status in enumerate(statuses):
        site.routes[f"http://feeds.example/{i}"] = redirect(status, f"/{i + 1}")
    return site


@pytest.mark.parametrize(
    ("statuses", "permanent"),
    [
        pytest.param((301,), True, id="one-301"),
        pytest.param((308, 301), True, id="308-then-301"),
        pytest.param((301, 302), False, id="permanent-then-302"),
        pytest.param((307, 308), False, id="307-then-permanent"),
        pytest.param((301, 303, 301), False, id="a-303-in-the-middle"),
        pytest.param((), False, id="no-redirect"),
    ],
)
def test_permanent_redirect_only_when_every_hop_is_permanent(
    statuses: tuple[int, ...], permanent: bool
) -> None:
    final = f"http://feeds.example/{len(statuses)}"

    result = run(chain(statuses), "http://feeds.example/0")

    assert result.url == final and result.content == FEED
    assert result.permanent_redirect == (final if permanent else None)


@pytest.mark.parametrize(
    ("hops", "ok"),
    [pytest.param(3, True, id="at-the-limit"), pytest.param(4, False, id="one-over")],
)
def test_redirect_limit(hops: int, ok: bool) -> None:
    limits = FetchLimits(max_redirects=3, allow_private=True)
    site = chain((302,) * hops)

    if ok:
        assert run(site, "http://feeds.example/0", limits=limits).content == FEED
    else:
        error = failure(site, "http://feeds.example/0", limits=limits)
        assert str(error) == "too many redirects (more than 3)"
        assert len(site.requests) == 4  # the fourth redirect's target is never asked for


def test_redirect_loop_fails_before_asking_again() -> None:
    site = FakeSite(
        {
            "http://feeds.example/a": redirect(301, "/b"),
            "http://feeds.example/b": redirect(302, "http://feeds.example/a"),
        }
    )

    error = failure(site, "http://feeds.example/a")

    assert str(error) == "redirect loop at http://feeds.example/a"
    assert site.urls() == ["http://feeds.example/a", "http://feeds.example/b"]


def test_redirect_without_location_fails_with_its_status() -> None:
    error = failure(
        FakeSite({"http://feeds.example/a": redirect(307, None)}), "http://feeds.example/a"
    )

    assert str(error) == "HTTP 307 redirect without a Location"
    assert error.status == 307


def test_relative_location_is_resolved_against_the_hop() -> None:
    site = FakeSite(
        {
            "http://feeds.example/blog/feed": redirect(301, "atom?x=1"),
            "http://feeds.example/blog/atom?x=1": httpx.Response(200, content=FEED),
        }
    )

    assert run(site, "http://feeds.example/blog/feed").url == "http://feeds.example/blog/atom?x=1"


@pytest.mark.parametrize(
    ("target", "kept"),
    [
        pytest.param("http://feeds.example/new", True, id="same-origin"),
        pytest.param("http://cdn.example/new", False, id="other-host"),
        pytest.param("http://feeds.example:8080/new", False, id="other-port"),
    ],
)
def test_credentials_follow_only_a_same_origin_redirect(target: str, kept: bool) -> None:
    site = FakeSite(
        {
            "http://feeds.example/feed": redirect(302, target),
            target: httpx.Response(200, content=FEED),
        }
    )

    run(site, "http://feeds.example/feed", headers=(("Authorization", "Bearer t"), ("Cookie", "c")))

    second = site.requests[1].headers
    assert ("authorization" in second, "cookie" in second) == (kept, kept)


# ----------------------------------------------------------- private networks

PUBLIC = "http://198.51.100.7/feed"  # TEST-NET-2: not in the private networks


@pytest.mark.parametrize("trusted", [True, False], ids=["trusted", "untrusted"])
def test_redirect_to_a_private_address_is_refused(trusted: bool) -> None:
    site = FakeSite({PUBLIC: redirect(302, "http://10.1.2.3/admin")})

    error = failure(site, PUBLIC, limits=GUARDED, trusted=trusted)

    assert str(error) == "refused: 10.1.2.3 is a private address (fetch.allow_private allows it)"
    assert site.urls() == [PUBLIC]


def test_untrusted_private_url_is_refused_before_any_request() -> None:
    site = FakeSite({"http://[::ffff:10.0.0.1]/feed": httpx.Response(200, content=FEED)})

    error = failure(site, "http://[::ffff:10.0.0.1]/feed", limits=GUARDED, trusted=False)

    assert str(error).startswith("refused: ::ffff:10.0.0.1 (10.0.0.1) is a private address")
    assert site.requests == []


def test_redirect_within_a_private_network_is_followed() -> None:
    site = FakeSite(
        {
            "http://10.0.0.1/feed": redirect(301, "http://10.0.0.2/feed"),
            "http://10.0.0.2/feed": httpx.Response(200, content=FEED),
        }
    )

    assert run(site, "http://10.0.0.1/feed", limits=GUARDED).content == FEED


@pytest.mark.parametrize(
    ("page", "limits", "trusted"),
    [
        pytest.param(PUBLIC, GUARDED, False, id="public-page-guarded"),
        pytest.param("http://10.0.0.1/blog/", GUARDED, True, id="private-page-stays-inside"),
        pytest.param(PUBLIC, OPEN, True, id="allow-private"),
    ],
)
def test_links_a_page_names_are_trusted_as_a_redirect_from_it_would_be(
    page: str, limits: FetchLimits, trusted: bool
) -> None:
    async def go() -> bool:
        async with Fetcher(limits, transport=FakeSite().transport()) as fetcher:
            return await fetcher.trusts_links_of(page)

    assert asyncio.run(go()) is trusted


def test_allow_private_lets_a_redirect_into_a_private_network() -> None:
    site = FakeSite(
        {PUBLIC: redirect(302, "http://10.1.2.3/feed"), "http://10.1.2.3/feed": httpx.Response(200)}
    )

    assert run(site, PUBLIC, limits=OPEN, trusted=False).status == 200


def test_a_host_name_is_looked_up_when_the_transport_is_given() -> None:
    # No guarded resolver runs in a caller's transport: the Fetcher looks the name up itself.
    site = FakeSite({"http://localhost:8080/feed": httpx.Response(200, content=FEED)})

    error = failure(site, "http://localhost:8080/feed", limits=GUARDED, trusted=False)

    assert str(error) == "refused: localhost is a private address (fetch.allow_private allows it)"
    assert site.requests == []
    assert run(site, "http://localhost:8080/feed", limits=GUARDED).content == FEED


# ------------------------------------------------------------------ body caps

SMALL = FetchLimits(max_bytes=1024, allow_private=True)


class Drip:
    """A body sent in `size`-byte pieces, `count` of them; counts the pieces read."""

    def __init__(self, size: int, count: int) -> None:
        self.size = size
        self.count = count
        self.sent = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for _ in range(self.count):
            self.sent += 1
            yield b"x" * self.size


async def streamed(body: bytes) -> AsyncIterator[bytes]:
    yield body


def test_declared_length_over_the_cap_is_refused_unread() -> None:
    body = Drip(100, 50)
    answer = httpx.Response(200, headers={"content-length": "5000"}, content=body)

    error = failure(
        FakeSite({"http://feeds.example/big": answer}), "http://feeds.example/big", limits=SMALL
    )

    assert str(error) == "body larger than 1 KiB"
    assert error.status == 200
    assert body.sent == 0


def test_streamed_body_over_the_cap_stops_reading() -> None:
    body = Drip(600, 1000)

    error = failure(
        FakeSite({"http://feeds.example/big": httpx.Response(200, content=body)}),
        "http://feeds.example/big",
        limits=SMALL,
    )

    assert str(error) == "body larger than 1 KiB"
    assert body.sent == 2


def test_body_of_exactly_the_cap_is_accepted() -> None:
    answer = httpx.Response(200, content=Drip(256, 4))

    result = run(
        FakeSite({"http://feeds.example/f": answer}), "http://feeds.example/f", limits=SMALL
    )

    assert result.content == b"x" * 1024


def test_decompression_bomb_is_stopped_past_the_cap() -> None:
    bomb = gzip.compress(b"\0" * (8 << 20))  # 8 MiB of zeros in ~8 KiB
    answer = httpx.Response(200, headers={"content-encoding": "gzip"}, content=streamed(bomb))
    limits = FetchLimits(max_bytes=64 * 1024, allow_private=True)

    site = FakeSite({"http://feeds.example/f": answer})

    tracemalloc.start()
    try:
        error = failure(site, "http://feeds.example/f", limits=limits)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert len(bomb) < 64 * 1024
    assert str(error) == "body larger than 64 KiB (decompressed)"
    assert peak < 4 << 20  # never inflated to its 8 MiB


@pytest.mark.parametrize(
    ("size", "ok"),
    [pytest.param(1024, True, id="at-the-cap"), pytest.param(1025, False, id="over")],
)
def test_answer_built_from_bytes_is_decoded_once_and_capped(size: int, ok: bool) -> None:
    # httpx decodes `content=` when the answer is built; the Fetcher reads the bytes as sent.
    packed = gzip.compress(b"x" * size)
    answer = httpx.Response(200, headers={"content-encoding": "gzip"}, content=packed)
    site = FakeSite({"http://feeds.example/f": answer})

    if ok:
        assert run(site, "http://feeds.example/f", limits=SMALL).content == b"x" * size
    else:
        error = failure(site, "http://feeds.example/f", limits=SMALL)
        assert str(error) == "body larger than 1 KiB (decompressed)"


@pytest.mark.parametrize(
    "packed",
    [
        pytest.param(gzip.compress(b"\0" * (1 << 20)), id="gzip"),
        pytest.param(zlib.compress(b"\0" * (1 << 20)), id="deflate-zlib"),
    ],
)
def test_decoder_never_returns_more_than_asked(packed: bytes) -> None:
    coding = "gzip" if packed[:2] == b"\x1f\x8b" else "deflate"

    assert len(Decoder(coding, status=200).decode(packed, limit=100)) == 100


@pytest.mark.parametrize(
    ("encoding", "body", "message"),
    [
        pytest.param("br", b"x", "unsupported Content-Encoding: br", id="brotli"),
        pytest.param("gzip, gzip", b"x", "unsupported Content-Encoding: gzip, gzip", id="twice"),
        pytest.param("gzip", b"not gzip at all", "cannot decode gzip body: ", id="corrupt"),
    ],
)
def test_undecodable_body_fails(encoding: str, body: bytes, message: str) -> None:
    # Streamed: given as bytes, httpx would decode the body itself when the answer is built.
    answer = httpx.Response(200, headers={"content-encoding": encoding}, content=streamed(body))

    error = failure(FakeSite({"http://feeds.example/f": answer}), "http://feeds.example/f")

    assert str(error).startswith(message)
    assert error.status == 200


# ------------------------------------------------------------------- timeouts


def slow(seconds: float, answer: httpx.Response) -> Handler:
    async def handler(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(seconds)
        return answer

    return handler


def test_total_deadline_covers_every_hop() -> None:
    limits = FetchLimits(total_timeout=0.25, allow_private=True)
    site = FakeSite(
        {
            "http://feeds.example/a": slow(0.15, redirect(302, "/b")),
            "http://feeds.example/b": slow(0.15, httpx.Response(200, content=FEED)),
        }
    )

    error = failure(site, "http://feeds.example/a", limits=limits)

    assert str(error) == "timed out after 0.25s (total)"
    assert len(site.requests) == 2
    assert run(site, "http://feeds.example/b", limits=limits).content == FEED  # one hop fits


@pytest.mark.parametrize(
    ("raised", "message"),
    [
        pytest.param(httpx.ConnectTimeout("x"), "timed out after 0.5s (connect)", id="connect"),
        pytest.param(httpx.ReadTimeout("x"), "timed out after 0.7s (read)", id="read"),
        pytest.param(
            httpx.PoolTimeout("x"), "timed out after 0.5s (waiting for a connection)", id="pool"
        ),
        pytest.param(
            httpx.RemoteProtocolError("x"),
            "server closed the connection without a response",
            id="closed",
        ),
    ],
)
def test_transport_failures_are_told_by_kind(raised: Exception, message: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise raised

    error = failure(FakeSite({"http://feeds.example/f": handler}), "http://feeds.example/f")

    assert str(error) == message
    assert error.__cause__ is raised


# ------------------------------------------------------------ Retry-After


def test_retry_after_seconds_defers_the_host_by_the_clock() -> None:
    clock = Clock()
    limited = httpx.Response(429, headers={"retry-after": "120"})
    site = FakeSite(
        {"http://feeds.example/a": limited, "http://feeds.example/b": httpx.Response(200)}
    )

    async def scenario() -> tuple[FetchError, HostDeferred, dict[str, datetime], int]:
        async with Fetcher(OPEN, transport=httpx.MockTransport(site), clock=clock) as fetcher:
            with pytest.raises(FetchError) as first:
                await fetcher.fetch("http://feeds.example/a")
            deferred = dict(fetcher.deferred_hosts)
            clock.now = T0 + timedelta(seconds=30)
            with pytest.raises(HostDeferred) as held:
                await fetcher.fetch("http://feeds.example/b")
            clock.now = T0 + timedelta(seconds=120)  # the host's time is up
            status = (await fetcher.fetch("http://feeds.example/b")).status
            return first.value, held.value, deferred, status

    first, held, deferred, status = asyncio.run(scenario())

    assert str(first) == "HTTP 429 Too Many Requests (retry after 120s)"
    assert first.retry_after == timedelta(seconds=120)
    assert deferred == {"feeds.example": T0 + timedelta(seconds=120)}
    assert str(held) == "not sent: feeds.example asked to wait until 2025-03-01 12:02:00 UTC"
    assert held.retry_after == timedelta(seconds=90)
    assert site.urls() == ["http://feeds.example/a", "http://feeds.example/b"]
    assert status == 200


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        pytest.param(T0 - timedelta(seconds=90), timedelta(seconds=90), id="ahead-of-the-clock"),
        pytest.param(T0 + timedelta(days=400), timedelta(0), id="behind-the-clock"),
    ],
)
def test_retry_after_date_is_read_against_the_clock(now: datetime, expected: timedelta) -> None:
    # The date is T0: whether it lies ahead depends on the injected clock, not on today.
    answer = httpx.Response(503, headers={"retry-after": "Sat, 01 Mar 2025 12:00:00 GMT"})

    error = failure(
        FakeSite({"http://feeds.example:8080/f": answer}),
        "http://feeds.example:8080/f",
        clock=Clock(now),
    )

    assert error.status == 503 and error.retry_after == expected
    assert str(error) == f"HTTP 503 Service Unavailable (retry after {expected.seconds}s)"


def test_a_past_deferral_does_not_hold_the_host() -> None:
    site = FakeSite({"http://feeds.example:8080/f": httpx.Response(200)})

    async def scenario() -> int:
        transport = httpx.MockTransport(site)
        async with Fetcher(OPEN, transport=transport, clock=Clock()) as fetcher:
            fetcher.defer_host("feeds.example:8080", T0)  # until now: not later than now
            return (await fetcher.fetch("http://feeds.example:8080/f")).status

    assert asyncio.run(scenario()) == 200


# ------------------------------------------------------------------ lifecycle


class CountingTransport(httpx.MockTransport):
    closed = 0

    async def aclose(self) -> None:
        self.closed += 1


def test_given_transport_is_closed_once_on_exit() -> None:
    transport = CountingTransport(FakeSite())

    async def scenario() -> None:
        async with Fetcher(OPEN, transport=transport):
            pass

    asyncio.run(scenario())

    assert transport.closed == 1


def test_fetch_outside_async_with_is_a_bug() -> None:
    fetcher = Fetcher(OPEN, transport=httpx.MockTransport(FakeSite()))

    with pytest.raises(RuntimeError, match="outside `async with`"):
        asyncio.run(fetcher.fetch("http://feeds.example/f"))


def test_no_network_guard_is_armed() -> None:
    # The fixture above is what makes "no socket" true: it must refuse a connection.
    with pytest.raises(AssertionError, match="network use"):
        socket.create_connection(("198.51.100.7", 80))


# ------------------------------------------------------------ the shared fixtures


def test_a_fake_fetcher_fetches_from_the_fake_site(
    fake_site: FakeSite, fake_fetcher: Callable[..., Fetcher]
) -> None:
    fake_site.add("http://feeds.example/feed", FEED, etag='"v1"', last_modified=MODIFIED)

    async def one() -> FetchResult:
        async with fake_fetcher(clock=Clock()) as fetcher:
            return await fetcher.fetch("http://feeds.example/feed", trusted=True)

    result = asyncio.run(one())

    assert (result.status, result.content) == (200, FEED)
    assert result.validators == Validators(etag='"v1"', last_modified=MODIFIED)
    assert result.fetched_at == T0
    assert fake_site.urls() == ["http://feeds.example/feed"]
