"""aggregator.fetch against a real, misbehaving HTTP server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import base64
import gzip
import tracemalloc
import zlib
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta

import pytest
from httpserver import FeedServer, closed_port, http_date, unresponsive_port

import aggregator
from aggregator.errors import FetchError
from aggregator.fetch import (
    PRIVATE_NETWORKS,
    Fetcher,
    FetchLimits,
    HostDeferred,
    auth_header,
    host_key,
)
from aggregator.types import Auth, FetchResult, Validators

FEED = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'
MODIFIED = http_date(datetime(2024, 5, 1, 12, 0, tzinfo=UTC))
# Small limits keep the failing cases fast.
QUICK = FetchLimits(connect_timeout=0.3, read_timeout=0.3, total_timeout=2.0)


def fetch(
    url: str,
    *,
    limits: FetchLimits = QUICK,
    validators: Validators = Validators(),  # noqa: B008 - frozen value
    headers: Sequence[tuple[str, str]] = (),
    user_agent: str | None = None,
) -> FetchResult:
    async def one() -> FetchResult:
        async with Fetcher(limits) as fetcher:
            return await fetcher.fetch(
                url, validators=validators, headers=headers, user_agent=user_agent
            )

    return asyncio.run(one())


def fetch_error(url: str, **kwargs: object) -> FetchError:
    with pytest.raises(FetchError) as caught:
        fetch(url, **kwargs)  # type: ignore[arg-type]
    return caught.value


def fetch_many(urls: Sequence[str], limits: FetchLimits) -> list[FetchResult]:
    async def many() -> list[FetchResult]:
        async with Fetcher(limits) as fetcher:
            return list(await asyncio.gather(*(fetcher.fetch(u) for u in urls)))

    return asyncio.run(many())


# ------------------------------------------------------------ conditional GET


def test_200_gives_body_headers_and_validators(feed_server: FeedServer) -> None:
    route = feed_server.add("/feed", FEED, etag=True, last_modified=MODIFIED)

    result = fetch(feed_server.url("/feed"))

    assert result.status == 200
    assert result.content == FEED
    assert not result.not_modified
    assert result.url == feed_server.url("/feed")
    assert result.permanent_redirect is None
    assert result.validators == Validators(etag=route.etag, last_modified=MODIFIED)
    assert result.headers["content-type"] == "application/rss+xml; charset=utf-8"
    assert all(key == key.lower() for key in result.headers)
    assert result.fetched_at.tzinfo is not None


def test_second_fetch_with_validators_is_304(feed_server: FeedServer) -> None:
    feed_server.add("/feed", FEED, etag=True, last_modified=MODIFIED)
    first = fetch(feed_server.url("/feed"))

    second = fetch(feed_server.url("/feed"), validators=first.validators)

    assert second.status == 304
    assert second.content is None
    assert second.not_modified
    assert second.validators == first.validators
    sent = feed_server.requests("/feed")[1].headers
    assert sent["if-none-match"] == first.validators.etag
    assert sent["if-modified-since"] == MODIFIED


def test_etag_only_server(feed_server: FeedServer) -> None:
    feed_server.add("/feed", FEED, etag='"v7"')
    first = fetch(feed_server.url("/feed"))
    assert first.validators == Validators(etag='"v7"', last_modified=None)

    second = fetch(feed_server.url("/feed"), validators=first.validators)

    assert second.status == 304
    assert second.validators == first.validators
    sent = feed_server.requests("/feed")[1].headers
    assert sent["if-none-match"] == '"v7"'
    assert "if-modified-since" not in sent


def test_last_modified_only_server(feed_server: FeedServer) -> None:
    feed_server.add("/feed", FEED, last_modified=MODIFIED)
    first = fetch(feed_server.url("/feed"))
    assert first.validators == Validators(etag=None, last_modified=MODIFIED)

    second = fetch(feed_server.url("/feed"), validators=first.validators)

    assert second.status == 304
    assert second.validators == first.validators
    sent = feed_server.requests("/feed")[1].headers
    assert sent["if-modified-since"] == MODIFIED
    assert "if-none-match" not in sent


def test_changed_feed_answers_200_with_new_validators(feed_server: FeedServer) -> None:
    feed_server.add("/feed", FEED, etag='"v2"')

    result = fetch(feed_server.url("/feed"), validators=Validators(etag='"v1"'))

    assert result.status == 200
    assert result.content == FEED
    assert result.validators.etag == '"v2"'


def test_304_with_new_validators_replaces_old(feed_server: FeedServer) -> None:
    # The server matches W/"v1" weakly and answers with its strong ETag "v1".
    feed_server.add("/feed", FEED, etag='"v1"')

    result = fetch(feed_server.url("/feed"), validators=Validators(etag='W/"v1"'))

    assert result.status == 304
    assert result.validators.etag == '"v1"'


def test_304_without_validators_keeps_old(feed_server: FeedServer) -> None:
    feed_server.add("/feed", status=304)  # answers 304 with no ETag / Last-Modified
    old = Validators(etag='"v1"', last_modified=MODIFIED)

    result = fetch(feed_server.url("/feed"), validators=old)

    assert result.status == 304
    assert result.validators == old


# ------------------------------------------------------------- content coding


def deflate(data: bytes, *, raw: bool) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS if raw else zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


BIG_FEED = FEED * 500  # large enough to span several network chunks once compressed


@pytest.mark.parametrize(
    ("encoding", "body"),
    [
        pytest.param("gzip", gzip.compress(BIG_FEED), id="gzip"),
        pytest.param("x-gzip", gzip.compress(BIG_FEED), id="x-gzip"),
        pytest.param("deflate", deflate(BIG_FEED, raw=False), id="deflate-zlib"),
        pytest.param("deflate", deflate(BIG_FEED, raw=True), id="deflate-raw"),
        pytest.param(
            "gzip",
            gzip.compress(BIG_FEED[:1000]) + gzip.compress(BIG_FEED[1000:]),
            id="gzip-two-members",
        ),
    ],
)
def test_compressed_body_is_decoded(feed_server: FeedServer, encoding: str, body: bytes) -> None:
    feed_server.add("/feed", body, headers={"Content-Encoding": encoding})

    result = fetch(feed_server.url("/feed"))

    assert result.content == BIG_FEED
    assert feed_server.requests("/feed")[0].headers["accept-encoding"] == "gzip, deflate"


def test_gzip_route_is_decoded(feed_server: FeedServer) -> None:
    feed_server.add("/feed", BIG_FEED, gzip=True, chunked=True, chunk_size=999)

    assert fetch(feed_server.url("/feed")).content == BIG_FEED


def test_unsupported_content_encoding_fails(feed_server: FeedServer) -> None:
    feed_server.add("/feed", b"\x0b\x02\x80hello\x03", headers={"Content-Encoding": "br"})

    error = fetch_error(feed_server.url("/feed"))

    assert "unsupported Content-Encoding: br" in str(error)


def test_corrupt_gzip_fails(feed_server: FeedServer) -> None:
    feed_server.add("/feed", b"\x1f\x8bnot gzip at all", headers={"Content-Encoding": "gzip"})

    assert "cannot decode gzip body" in str(fetch_error(feed_server.url("/feed")))


# ------------------------------------------------------------------ size caps

CAP = 64 * 1024
SMALL = FetchLimits(connect_timeout=1, read_timeout=1, total_timeout=5, max_bytes=CAP)


def test_gzip_bomb_is_stopped(feed_server: FeedServer) -> None:
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    bomb = packer.compress(bytes(64 * CAP)) + packer.flush()  # 4 MiB of zeros
    assert len(bomb) < CAP // 4
    feed_server.add("/feed", bomb, headers={"Content-Encoding": "gzip"})

    error = fetch_error(feed_server.url("/feed"), limits=SMALL)

    assert str(error) == "body larger than 64 KiB (decompressed)"
    assert error.status == 200


def test_gzip_bomb_is_never_inflated_in_memory(feed_server: FeedServer) -> None:
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    bomb = packer.compress(bytes(32 << 20)) + packer.flush()  # 32 MiB of zeros in ~32 KiB
    feed_server.add("/feed", bomb, headers={"Content-Encoding": "gzip"})
    tracemalloc.start()
    try:
        error = fetch_error(feed_server.url("/feed"), limits=SMALL)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert "decompressed" in str(error)
    assert peak < 8 << 20  # far below the 32 MiB a whole-chunk decompression would take


@pytest.mark.parametrize(
    "options",
    [
        pytest.param({}, id="content-length"),
        pytest.param({"chunked": True}, id="chunked"),
        pytest.param({"infinite": True}, id="never-ending"),
        pytest.param({"headers": {"Content-Encoding": "identity"}}, id="identity"),
    ],
)
def test_oversized_body_is_aborted(feed_server: FeedServer, options: dict[str, object]) -> None:
    feed_server.add("/feed", b"x" * (CAP + 1), **options)  # type: ignore[arg-type]

    error = fetch_error(feed_server.url("/feed"), limits=SMALL)

    assert str(error) == "body larger than 64 KiB"


def test_body_of_exactly_the_cap_is_accepted(feed_server: FeedServer) -> None:
    feed_server.add("/plain", b"x" * CAP, chunked=True)
    feed_server.add("/gzip", b"y" * CAP, gzip=True)

    assert fetch(feed_server.url("/plain"), limits=SMALL).content == b"x" * CAP
    assert fetch(feed_server.url("/gzip"), limits=SMALL).content == b"y" * CAP


# ------------------------------------------------------------------ redirects


def test_permanent_redirect_chain(feed_server: FeedServer) -> None:
    feed_server.add("/old", redirect_to="/older", redirect_status=301)
    feed_server.add("/older", redirect_to=feed_server.url("/feed"), redirect_status=308)
    feed_server.add("/feed", FEED, etag=True)

    result = fetch(feed_server.url("/old"))

    assert result.content == FEED
    assert result.url == feed_server.url("/feed")
    assert result.permanent_redirect == feed_server.url("/feed")
    assert result.validators.etag is not None


@pytest.mark.parametrize("temporary", [302, 303, 307])
def test_temporary_hop_means_no_permanent_redirect(feed_server: FeedServer, temporary: int) -> None:
    feed_server.add("/a", redirect_to="/b", redirect_status=301)
    feed_server.add("/b", redirect_to="/c", redirect_status=temporary)
    feed_server.add("/c", redirect_to="/feed", redirect_status=308)
    feed_server.add("/feed", FEED)

    result = fetch(feed_server.url("/a"))

    assert result.content == FEED
    assert result.url == feed_server.url("/feed")
    assert result.permanent_redirect is None
    # Every hop followed, as `aggregator doctor` shows the chain.
    assert result.redirects == (
        (feed_server.url("/a"), 301),
        (feed_server.url("/b"), temporary),
        (feed_server.url("/c"), 308),
    )


def test_a_body_served_where_asked_followed_no_redirect(feed_server: FeedServer) -> None:
    feed_server.add("/feed", FEED)

    assert fetch(feed_server.url("/feed")).redirects == ()


def test_redirect_then_304(feed_server: FeedServer) -> None:
    feed_server.add("/old", redirect_to="/feed", redirect_status=301)
    feed_server.add("/feed", FEED, etag='"v1"')

    result = fetch(feed_server.url("/old"), validators=Validators(etag='"v1"'))

    assert result.status == 304
    assert result.permanent_redirect == feed_server.url("/feed")


def test_redirect_loop_fails(feed_server: FeedServer) -> None:
    feed_server.add("/a", redirect_to="/b")
    feed_server.add("/b", redirect_to="/a", redirect_status=302)

    error = fetch_error(feed_server.url("/a"))

    assert str(error) == f"redirect loop at {feed_server.url('/a')}"
    assert feed_server.hits("/a") == 1


def test_ten_redirects_are_followed_eleven_are_not(feed_server: FeedServer) -> None:
    for i in range(11):
        feed_server.add(f"/{i}", redirect_to=f"/{i + 1}")
    feed_server.add("/11", FEED)

    assert fetch(feed_server.url("/1")).url == feed_server.url("/11")
    error = fetch_error(feed_server.url("/0"))
    assert str(error) == "too many redirects (more than 10)"


def test_redirect_limit_is_configurable(feed_server: FeedServer) -> None:
    feed_server.add("/a", redirect_to="/b")
    feed_server.add("/b", redirect_to="/feed")
    feed_server.add("/feed", FEED)

    error = fetch_error(feed_server.url("/a"), limits=FetchLimits(max_redirects=1))

    assert "too many redirects" in str(error)


@pytest.mark.parametrize("target", ["ftp://example.org/feed", "file:///etc/passwd"])
def test_redirect_to_other_scheme_fails(feed_server: FeedServer, target: str) -> None:
    feed_server.add("/a", redirect_to=target)

    error = fetch_error(feed_server.url("/a"))

    assert "unsupported redirect to scheme" in str(error)


def test_redirect_without_location_fails(feed_server: FeedServer) -> None:
    feed_server.add("/a", status=301)

    error = fetch_error(feed_server.url("/a"))

    assert error.status == 301
    assert "without a Location" in str(error)


def test_credentials_do_not_follow_a_redirect_to_another_host(feed_server: FeedServer) -> None:
    with FeedServer() as other:
        other.add("/feed", FEED)
        feed_server.add("/a", redirect_to=other.url("/feed"))

        fetch(
            feed_server.url("/a"),
            headers=[("Authorization", "Bearer secret"), ("X-Feed-Key", "k")],
        )

        assert feed_server.requests("/a")[0].headers["authorization"] == "Bearer secret"
        moved = other.requests("/feed")[0].headers
        assert "authorization" not in moved
        assert moved["x-feed-key"] == "k"


# ------------------------------------------------------------ status failures


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (404, "HTTP 404 Not Found"),
        (410, "HTTP 410 Gone"),
        (500, "HTTP 500 Internal Server Error"),
        (403, "HTTP 403 Forbidden"),
        (300, "HTTP 300 Multiple Choices"),
    ],
)
def test_error_status_fails_with_status(feed_server: FeedServer, status: int, message: str) -> None:
    feed_server.add("/feed", b"nope", status=status)

    error = fetch_error(feed_server.url("/feed"))

    assert error.status == status
    assert str(error) == message
    assert error.retry_after is None


def test_429_with_retry_after_seconds(feed_server: FeedServer) -> None:
    feed_server.add("/feed", status=429, retry_after=120)

    error = fetch_error(feed_server.url("/feed"))

    assert error.status == 429
    assert error.retry_after == timedelta(seconds=120)
    assert str(error) == "HTTP 429 Too Many Requests (retry after 120s)"


def test_503_with_retry_after_date(feed_server: FeedServer) -> None:
    later = datetime.now(UTC) + timedelta(hours=1)
    feed_server.add("/feed", status=503, retry_after=http_date(later))

    error = fetch_error(feed_server.url("/feed"))

    assert error.status == 503
    assert error.retry_after is not None
    assert timedelta(minutes=59) < error.retry_after <= timedelta(hours=1)


@pytest.mark.parametrize("value", ["soon", "-5", "Sun, 06 Nov 1994 08:49:37 GMT"])
def test_unusable_or_past_retry_after(feed_server: FeedServer, value: str) -> None:
    feed_server.add("/feed", status=429, retry_after=value)

    error = fetch_error(feed_server.url("/feed"))

    assert error.status == 429
    # A date in the past means "now"; anything unreadable is ignored.
    assert error.retry_after in (None, timedelta(0))


def test_503_without_retry_after(feed_server: FeedServer) -> None:
    feed_server.add("/feed", status=503)

    error = fetch_error(feed_server.url("/feed"))

    assert error.status == 503
    assert error.retry_after is None


# --------------------------------------------------------- transport failures


def test_connection_refused() -> None:
    with closed_port() as port:
        error = fetch_error(f"http://127.0.0.1:{port}/feed")

    assert str(error) == "connection refused"
    assert error.status is None
    assert error.__cause__ is not None


def test_connect_timeout() -> None:
    with unresponsive_port() as port:
        error = fetch_error(f"http://127.0.0.1:{port}/feed")

    assert str(error) == "timed out after 0.3s (connect)"


def test_read_timeout_when_server_never_answers(feed_server: FeedServer) -> None:
    feed_server.add("/feed", hang=True)

    error = fetch_error(feed_server.url("/feed"))

    assert str(error) == "timed out after 0.3s (read)"
    assert error.__cause__ is not None


def test_read_timeout_mid_body(feed_server: FeedServer) -> None:
    feed_server.add("/feed", FEED, stall_after=10)

    assert str(fetch_error(feed_server.url("/feed"))) == "timed out after 0.3s (read)"


def test_total_deadline_stops_a_slow_drip(feed_server: FeedServer) -> None:
    # Each byte arrives well within the read timeout; the whole never ends.
    feed_server.add("/feed", b"x", infinite=True, chunk_delay=0.02)
    limits = FetchLimits(connect_timeout=1, read_timeout=1, total_timeout=0.5)

    error = fetch_error(feed_server.url("/feed"), limits=limits)

    assert str(error) == "timed out after 0.5s (total)"


def test_server_closing_without_response(feed_server: FeedServer) -> None:
    feed_server.add("/feed", close_without_response=True)

    error = fetch_error(feed_server.url("/feed"))

    assert str(error) == "server closed the connection without a response"
    assert error.status is None


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"SPDY/9 200 OK\r\n\r\n", id="bad-status-line"),
        pytest.param(b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", id="bad-header"),
    ],
)
def test_malformed_response(feed_server: FeedServer, raw: bytes) -> None:
    feed_server.add("/feed", raw_response=raw)

    error = fetch_error(feed_server.url("/feed"))

    assert str(error).startswith("malformed HTTP response")
    assert error.__cause__ is not None


def test_body_cut_short(feed_server: FeedServer) -> None:
    feed_server.add(
        "/feed", raw_response=b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this"
    )

    assert str(fetch_error(feed_server.url("/feed"))).startswith("body cut short")


def test_tls_error(feed_server: FeedServer) -> None:
    feed_server.add("/feed", FEED)
    url = feed_server.url("/feed").replace("http://", "https://")  # plain HTTP behind https

    error = fetch_error(url)

    assert str(error).startswith("TLS error: ")
    assert error.__cause__ is not None


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.org/feed.xml", "unsupported URL scheme 'ftp'"),
        ("file:///etc/passwd", "unsupported URL scheme 'file'"),
        ("example.org/feed.xml", "unsupported URL scheme 'none'"),
        ("http:///feed.xml", "invalid URL"),
    ],
)
def test_non_http_url_fails(url: str, message: str) -> None:
    assert message in str(fetch_error(url))


def test_fetcher_works_again_after_failures(feed_server: FeedServer) -> None:
    feed_server.add("/big", b"x" * (CAP + 1), infinite=True)
    feed_server.add("/hang", hang=True)
    feed_server.add("/feed", FEED)
    limits = FetchLimits(connect_timeout=0.3, read_timeout=0.3, max_bytes=CAP, per_host=1)

    async def run() -> tuple[list[object], FetchResult]:
        async with Fetcher(limits) as fetcher:
            failures = await asyncio.gather(
                fetcher.fetch(feed_server.url("/big")),
                fetcher.fetch(feed_server.url("/hang")),
                return_exceptions=True,
            )
            return list(failures), await fetcher.fetch(feed_server.url("/feed"))

    failures, result = asyncio.run(run())

    assert all(isinstance(f, FetchError) for f in failures)
    assert result.content == FEED


# ------------------------------------------------------------ request headers


def test_user_agent_names_the_project(feed_server: FeedServer) -> None:
    feed_server.add("/feed", FEED)

    fetch(feed_server.url("/feed"))

    agent = feed_server.requests("/feed")[0].headers["user-agent"]
    assert agent == aggregator.USER_AGENT
    assert aggregator.PROJECT_URL in agent


def test_user_agent_override(feed_server: FeedServer) -> None:
    feed_server.add("/feed", FEED)

    fetch(feed_server.url("/feed"), user_agent="Mozilla/5.0 (compatible; test)")

    assert feed_server.requests("/feed")[0].headers["user-agent"] == (
        "Mozilla/5.0 (compatible; test)"
    )


def test_extra_headers_are_sent(feed_server: FeedServer) -> None:
    feed_server.add("/feed", FEED)

    fetch(feed_server.url("/feed"), headers=[("X-Api-Key", "k1"), ("Accept", "application/xml")])

    sent = feed_server.requests("/feed")[0].headers
    assert sent["x-api-key"] == "k1"
    assert sent["accept"] == "application/xml"  # replaces the default, not added to it


def test_default_accept_prefers_feeds(feed_server: FeedServer) -> None:
    feed_server.add("/feed", FEED)

    fetch(feed_server.url("/feed"))

    accept = feed_server.requests("/feed")[0].headers["accept"]
    assert accept.startswith("application/atom+xml, application/rss+xml, application/feed+json,")
    assert "application/json;q=0.8" in accept and accept.endswith("*/*;q=0.5")


# ---------------------------------------------------------------- concurrency


def test_per_host_concurrency_is_bounded(feed_server: FeedServer) -> None:
    for i in range(6):
        feed_server.add(f"/{i}", FEED, delay=0.15)
    limits = FetchLimits(per_host=2, max_connections=50)

    results = fetch_many([feed_server.url(f"/{i}") for i in range(6)], limits)

    assert [r.content for r in results] == [FEED] * 6
    assert feed_server.max_in_flight == 2


def test_global_concurrency_is_bounded(feed_server: FeedServer) -> None:
    for i in range(8):
        feed_server.add(f"/{i}", FEED, delay=0.15)
    limits = FetchLimits(per_host=10, max_connections=3)

    fetch_many([feed_server.url(f"/{i}") for i in range(8)], limits)

    assert feed_server.max_in_flight == 3


def test_hosts_do_not_share_a_per_host_limit(feed_server: FeedServer) -> None:
    # 127.0.0.1 and localhost are different hosts to the fetcher, one server to us.
    feed_server.add("/feed", FEED, delay=0.3)
    urls = [feed_server.url("/feed"), feed_server.url("/feed").replace("127.0.0.1", "localhost")]

    fetch_many(urls * 2, FetchLimits(per_host=1))

    assert feed_server.max_in_flight == 2


def test_queued_fetches_do_not_spend_the_total_deadline(feed_server: FeedServer) -> None:
    for i in range(3):
        feed_server.add(f"/{i}", FEED, delay=0.3)
    # Serially the three take ~0.9 s, each alone ~0.3 s: only time on the wire counts.
    limits = FetchLimits(per_host=1, total_timeout=0.75)

    results = fetch_many([feed_server.url(f"/{i}") for i in range(3)], limits)

    assert [r.content for r in results] == [FEED] * 3
    assert feed_server.max_in_flight == 1


# ------------------------------------------------------------ untrusted addresses

# Linux answers all of 127.0.0.0/8: 127.0.0.1 plays the public internet, 127.0.0.2 a private
# network, by declaring only the latter private.
PRIVATE_ONLY_2 = FetchLimits(
    connect_timeout=1, read_timeout=1, total_timeout=5, private_networks=("127.0.0.2/32",)
)


@pytest.fixture
def private_server() -> Iterator[FeedServer]:
    with FeedServer(host="127.0.0.2") as server:
        yield server


def fetch_with(
    url: str, limits: FetchLimits, *, trusted: bool, headers: Sequence[tuple[str, str]] = ()
) -> FetchResult:
    async def one() -> FetchResult:
        async with Fetcher(limits) as fetcher:
            return await fetcher.fetch(url, trusted=trusted, headers=headers)

    return asyncio.run(one())


def refused(url: str, limits: FetchLimits, *, trusted: bool) -> FetchError:
    with pytest.raises(FetchError) as caught:
        fetch_with(url, limits, trusted=trusted)
    return caught.value


def test_untrusted_url_to_private_address_is_refused(private_server: FeedServer) -> None:
    private_server.add("/secret", FEED)

    error = refused(private_server.url("/secret"), PRIVATE_ONLY_2, trusted=False)

    assert str(error) == "refused: 127.0.0.2 is a private address (fetch.allow_private allows it)"
    assert private_server.hits("/secret") == 0


def test_trusted_url_to_private_address_is_fetched(private_server: FeedServer) -> None:
    private_server.add("/feed", FEED)

    assert fetch_with(private_server.url("/feed"), PRIVATE_ONLY_2, trusted=True).content == FEED


def test_untrusted_url_to_public_address_is_fetched(feed_server: FeedServer) -> None:
    feed_server.add("/a", redirect_to="/feed")
    feed_server.add("/feed", FEED)

    assert fetch_with(feed_server.url("/a"), PRIVATE_ONLY_2, trusted=False).content == FEED


@pytest.mark.parametrize("trusted", [True, False], ids=["trusted", "untrusted"])
def test_redirect_from_public_to_private_is_refused(
    feed_server: FeedServer, private_server: FeedServer, trusted: bool
) -> None:
    private_server.add("/admin", FEED)
    feed_server.add("/feed", redirect_to=private_server.url("/admin"), redirect_status=302)

    error = refused(feed_server.url("/feed"), PRIVATE_ONLY_2, trusted=trusted)

    assert str(error).startswith("refused: 127.0.0.2 is a private address")
    assert feed_server.hits("/feed") == 1
    assert private_server.hits("/admin") == 0


def test_redirect_within_a_private_network_is_followed(private_server: FeedServer) -> None:
    # The operator listed a source on the private network: it may redirect inside it.
    private_server.add("/old", redirect_to="/feed")
    private_server.add("/feed", FEED)

    result = fetch_with(private_server.url("/old"), PRIVATE_ONLY_2, trusted=True)

    assert result.content == FEED


def test_allow_private_lets_redirects_into_private_networks(
    feed_server: FeedServer, private_server: FeedServer
) -> None:
    private_server.add("/feed", FEED)
    feed_server.add("/feed", redirect_to=private_server.url("/feed"))
    allowing = FetchLimits(private_networks=("127.0.0.2/32",), allow_private=True)

    assert fetch_with(feed_server.url("/feed"), allowing, trusted=False).content == FEED


def test_host_name_is_checked_on_its_resolved_address(feed_server: FeedServer) -> None:
    # "localhost" is a name: the check happens in the resolver, on the address connected to.
    feed_server.add("/feed", FEED)
    url = feed_server.url("/feed").replace("127.0.0.1", "localhost")
    loopback = FetchLimits(connect_timeout=1, private_networks=("127.0.0.0/8", "::1/128"))

    error = refused(url, loopback, trusted=False)

    assert str(error).startswith("refused: localhost (")
    assert "is a private address" in str(error)
    assert feed_server.hits("/feed") == 0
    assert fetch_with(url, loopback, trusted=True).content == FEED


def test_default_private_networks_cover_loopback_and_rfc1918(feed_server: FeedServer) -> None:
    feed_server.add("/feed", FEED)

    error = refused(feed_server.url("/feed"), FetchLimits(), trusted=False)

    assert "private address" in str(error)
    for network in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"):
        assert network in FetchLimits().private_networks
    assert {"100.64.0.0/10", "fc00::/7", "fe80::/10", "::1/128"} <= set(PRIVATE_NETWORKS)


# ------------------------------------------------------- Retry-After per host


def test_retry_after_holds_back_every_fetch_to_that_host(feed_server: FeedServer) -> None:
    feed_server.add("/limited", status=429, retry_after=120)
    feed_server.add("/other", FEED)

    async def run() -> tuple[FetchError, BaseException | FetchResult, FetchResult]:
        async with Fetcher(QUICK) as fetcher:
            with pytest.raises(FetchError) as first:
                await fetcher.fetch(feed_server.url("/limited"))
            second = await asyncio.gather(
                fetcher.fetch(feed_server.url("/other")), return_exceptions=True
            )
            with FeedServer() as elsewhere:  # another host is not held back
                elsewhere.add("/feed", FEED)
                third = await fetcher.fetch(elsewhere.url("/feed"))
            return first.value, second[0], third

    first, second, third = asyncio.run(run())

    assert first.status == 429
    assert isinstance(second, HostDeferred)
    assert second.retry_after is not None
    assert timedelta(seconds=110) < second.retry_after <= timedelta(seconds=120)
    assert str(second).startswith(f"not sent: 127.0.0.1:{feed_server.port} asked to wait")
    assert feed_server.hits("/other") == 0
    assert third.content == FEED


def test_deferred_host_given_by_caller(feed_server: FeedServer) -> None:
    feed_server.add("/feed", FEED)
    later = datetime.now(UTC) + timedelta(minutes=5)

    async def run() -> None:
        async with Fetcher(QUICK) as fetcher:
            fetcher.defer_host(host_key(feed_server.url("/feed")), later)
            await fetcher.fetch(feed_server.url("/feed"))

    with pytest.raises(HostDeferred):
        asyncio.run(run())
    assert feed_server.hits("/feed") == 0


# ------------------------------------------------------------- auth and proxy


def test_bearer_auth_from_environment(feed_server: FeedServer) -> None:
    feed_server.add("/feed", FEED)
    header = auth_header(Auth(type="bearer", token_env="FEED_TOKEN"), {"FEED_TOKEN": "s3cr3t"})

    fetch(feed_server.url("/feed"), headers=[header])

    assert feed_server.requests("/feed")[0].headers["authorization"] == "Bearer s3cr3t"


def test_basic_auth_from_environment(feed_server: FeedServer) -> None:
    feed_server.add("/feed", FEED)
    auth = Auth(type="basic", username="reader", password_env="FEED_PW")

    fetch(feed_server.url("/feed"), headers=[auth_header(auth, {"FEED_PW": "pa:ss"})])

    sent = feed_server.requests("/feed")[0].headers["authorization"]
    assert sent == "Basic " + base64.b64encode(b"reader:pa:ss").decode()


def test_missing_auth_variable_names_it_without_a_value() -> None:
    with pytest.raises(FetchError) as caught:
        auth_header(Auth(type="bearer", token_env="NOT_SET_ANYWHERE"), {})

    assert str(caught.value) == "bearer auth: environment variable NOT_SET_ANYWHERE is not set"


def test_proxy_from_environment(feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch) -> None:
    # The test server plays the proxy: it gets the absolute URL as the request target.
    feed_server.add("/feed", FEED)
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", feed_server.base_url)

    result = fetch("http://feeds.example.test/feed")

    assert result.content == FEED
    assert feed_server.requests("/feed")[0].path == "http://feeds.example.test/feed"
