"""Fetch stage: the Fetcher. One conditional GET with its redirects, within the concurrency
slots, the total deadline and the hosts' Retry-After; bytes + metadata out.
It never parses, never retries and never touches the store: a failure is a FetchError.
"""

# Requests go straight to the transport (httpx.Request in, httpx.Response out): the client's
# layers (header and cookie merging, auth, redirects, hooks) did nothing we use and cost more
# than aiohttp's whole request on a 304 (transport.py has the measurements).

from __future__ import annotations

import asyncio
import base64
import os
import ssl
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import TracebackType

import aiohttp
import httpx

import aggregator
from aggregator.errors import FetchError, HostDeferred
from aggregator.fetch.body import read_body
from aggregator.fetch.guard import Guard, GuardedResolver, parse_networks
from aggregator.fetch.limits import FetchLimits
from aggregator.fetch.messages import describe, reason, status_error
from aggregator.fetch.transport import new_transport
from aggregator.types import Auth, FetchResult, Validators

__all__ = ["Fetcher", "HostDeferred", "auth_header", "host_key"]

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_PERMANENT_REDIRECTS = frozenset({301, 308})  # RFC 9110 §15.4.2, RFC 7538
# Feeds first, JSON Feed (application/feed+json, jsonfeed.org 1.1) among them; generic XML
# and JSON, which a site may serve either as, below; anything else last.
_ACCEPT = (
    "application/atom+xml, application/rss+xml, application/feed+json, "
    "application/rdf+xml;q=0.9, application/xml;q=0.8, text/xml;q=0.8, "
    "application/json;q=0.8, */*;q=0.5"
)
# Only what body.Decoder can decode under the size cap (no brotli/zstd: not installed
# everywhere).
_ACCEPT_ENCODING = "gzip, deflate"
# Credentials for one origin must not follow a redirect to another (as httpx does).
_ORIGIN_BOUND_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})

_NO_VALIDATORS = Validators()
_DEFAULT_LIMITS = FetchLimits()
_NO_BODY = httpx.ByteStream(b"")


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Answer:
    """One hop's response, read within the limits."""

    status: int
    reason: str
    headers: dict[str, str]  # keys lower-cased; repeated headers joined with ", "
    content: bytes | None  # read only for 2xx


class Fetcher:
    """Fetches feeds over HTTP(S) within `FetchLimits`; an async context manager, one per round.

    `transport`: send every request through this one (an `httpx.MockTransport` in tests)
    instead of the aiohttp transports made on entry; it is closed on exit, as httpx's client
    closes its own. No resolver of ours runs in it, so a guarded hop to a host name is
    looked up before it goes out. `clock`: every "now" the Fetcher reads (an aware UTC
    datetime): Retry-After dates, deferred hosts, `fetched_at`.

    Raises (from `fetch`): FetchError.
    """

    def __init__(
        self,
        limits: FetchLimits = _DEFAULT_LIMITS,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], datetime] = _utc_now,
        user_agent: str = aggregator.USER_AGENT,
    ) -> None:
        self._limits = limits
        self._transport = transport
        self._clock = clock
        self._user_agent = user_agent
        self._networks = parse_networks(limits.private_networks)
        self._guard = Guard(self._networks, lookup_names=transport is not None)
        self._client: httpx.AsyncBaseTransport | None = None
        self._guarded: httpx.AsyncBaseTransport | None = None
        self._slots: asyncio.Semaphore | None = None
        self._host_slots: dict[str, asyncio.Semaphore] = {}
        self._deferred: dict[str, datetime] = {}  # host_key -> not before

    async def __aenter__(self) -> Fetcher:
        if self._transport is not None:
            self._client = self._guarded = self._transport
        else:
            self._client = new_transport(self._limits, resolver=None)
            # Hops that must not reach a private address connect through a resolver that
            # never returns one: the address checked is the address connected to (no DNS
            # rebinding).
            self._guarded = new_transport(self._limits, resolver=GuardedResolver(self._networks))
        self._slots = asyncio.Semaphore(self._limits.max_connections)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._guarded is self._client:
            self._guarded = None  # one transport serves both: closed once
        for client in (self._client, self._guarded):
            if client is not None:
                await client.aclose()
        self._client = self._guarded = None

    def defer_host(self, host: str, until: datetime) -> None:
        """Send nothing to `host` (a `host_key`) before `until`: its fetches raise HostDeferred."""
        if until > self._deferred.get(host, until - timedelta(seconds=1)):
            self._deferred[host] = until

    @property
    def deferred_hosts(self) -> Mapping[str, datetime]:
        """Hosts left alone and until when: given by `defer_host` or learnt from a Retry-After."""
        return dict(self._deferred)

    async def trusts_links_of(self, url: str) -> bool:
        """Whether URLs that `url`'s body names (a page's advertised feed) may be fetched as
        trusted: when private addresses are allowed, or `url` is on a private network itself
        (the operator put the source there), as a redirect from it may stay there.

        Raises: FetchError for a URL that is not http(s).
        """
        if self._limits.allow_private:
            return True
        return await self._guard.is_private(_request_url(url, what="URL"))

    async def fetch(
        self,
        url: str,
        *,
        validators: Validators = _NO_VALIDATORS,
        headers: Sequence[tuple[str, str]] = (),
        user_agent: str | None = None,
        trusted: bool = True,
    ) -> FetchResult:
        """GET `url` conditionally, following redirects; a body (2xx) or "not modified" (304).

        `trusted` is for URLs the operator listed: they may point anywhere. An untrusted URL
        (from feed content) may not reach a private network at any hop, and neither may a
        redirect from a public trusted URL, unless the limits allow private addresses.

        Raises: FetchError on a transport failure, a timeout, a status other than 2xx/304,
        a redirect loop or too many redirects, a body over the size cap, a URL that is not
        http(s), or a private address refused; HostDeferred when the host asked us to wait.
        """
        allow_private = self._limits.allow_private
        current = _request_url(url, what="URL")
        request_headers = self._request_headers(validators, headers, user_agent)
        guarded = not trusted and not allow_private
        redirects = _Redirects(current, limit=self._limits.max_redirects)
        spent = 0.0  # seconds on the wire so far: the total deadline covers every hop
        while True:
            if guarded:
                await self._guard.check(current)
            answer, spent = await self._hop(current, request_headers, spent, guarded=guarded)
            if answer.status not in _REDIRECTS:
                return _result(answer, str(current), validators, redirects, now=self._clock())
            target = redirects.follow(answer, current)
            if target.host != current.host or target.port != current.port:
                for name in _ORIGIN_BOUND_HEADERS:
                    request_headers.pop(name, None)
            if redirects.hops == 1 and not guarded and not allow_private:
                # A public source may not lead us into a private network; a source the
                # operator put on a private network may redirect within it.
                guarded = not await self._guard.is_private(current)
            current = target

    # ----------------------------------------------------------------- internal

    def _request_headers(
        self,
        validators: Validators,
        extra: Sequence[tuple[str, str]],
        user_agent: str | None,
    ) -> dict[str, str]:
        # Lower-case keys so that extra headers replace defaults rather than repeat them.
        headers = {
            "user-agent": self._user_agent,
            "accept": _ACCEPT,
            "accept-encoding": _ACCEPT_ENCODING,
        }
        for name, value in extra:
            headers[name.lower()] = value
        if user_agent is not None:
            headers["user-agent"] = user_agent
        if validators.etag and validators.etag.isascii():  # httpx sends ASCII alone
            headers["if-none-match"] = validators.etag
        if validators.last_modified and validators.last_modified.isascii():
            headers["if-modified-since"] = validators.last_modified
        return headers

    async def _hop(
        self, url: httpx.URL, headers: dict[str, str], spent: float, *, guarded: bool
    ) -> tuple[_Answer, float]:
        """One request, inside the concurrency slots; returns the answer and time spent."""
        client = self._guarded if guarded else self._client
        slots = self._slots
        if client is None or slots is None:
            # A programming error (the caller skipped `async with`), not a tree error.
            raise RuntimeError("Fetcher used outside `async with`")
        host = url.host
        host_slots = self._host_slots.get(host)
        if host_slots is None:
            host_slots = self._host_slots[host] = asyncio.Semaphore(self._limits.per_host)
        loop = asyncio.get_running_loop()
        # Host slot first: a request queued behind a busy host must not hold a global slot.
        async with host_slots, slots:
            # Checked once the slot is ours: fetches queued behind the one that got a 429
            # must not go out either.
            key = f"{host}:{url.port}" if url.port else host  # host_key, without a reparse
            self._refuse_if_deferred(key)
            started = loop.time()
            answer = await self._timed_request(client, url, headers, spent, key)
            return answer, spent + (loop.time() - started)

    def _refuse_if_deferred(self, key: str) -> None:
        """Raises: HostDeferred when host `key` asked to be left alone until later."""
        until = self._deferred.get(key)
        if until is not None:
            now = self._clock()
            if until > now:
                raise HostDeferred(
                    f"not sent: {key} asked to wait until {until:%Y-%m-%d %H:%M:%S} UTC",
                    retry_after=until - now,
                )

    async def _timed_request(
        self,
        client: httpx.AsyncBaseTransport,
        url: httpx.URL,
        headers: dict[str, str],
        spent: float,
        key: str,
    ) -> _Answer:
        """One request within what is left of the total deadline; a host's Retry-After is kept.

        Raises: FetchError for every failure, told in one line (messages.describe).
        """
        limits = self._limits
        deadline = asyncio.timeout(max(0.0, limits.total_timeout - spent))
        try:
            async with deadline:
                return await self._request(client, url, headers)
        except TimeoutError as e:
            if deadline.expired():
                raise FetchError(f"timed out after {limits.total_timeout:g}s (total)") from e
            raise FetchError(describe(e, limits)) from e
        except FetchError as e:
            if e.retry_after is not None and e.status in (429, 503):
                self.defer_host(key, self._clock() + e.retry_after)
            raise
        except (httpx.HTTPError, aiohttp.ClientError, ssl.SSLError, OSError) as e:
            raise FetchError(describe(e, limits)) from e

    async def _request(
        self, client: httpx.AsyncBaseTransport, url: httpx.URL, headers: dict[str, str]
    ) -> _Answer:
        # With `stream=`, httpx encodes no body and adds no Host header (aiohttp writes the
        # same one): that was 70 of the 80 µs it took to build a request.
        request = httpx.Request("GET", url, headers=headers, stream=_NO_BODY)
        response = await client.handle_async_request(request)
        try:
            status = response.status_code
            answer_headers = dict(response.headers.items())
            phrase = reason(status, response.reason_phrase)
            if status in _REDIRECTS or status == 304:
                return _Answer(status=status, reason=phrase, headers=answer_headers, content=None)
            if not 200 <= status < 300:
                raise status_error(status, phrase, answer_headers, now=self._clock())
            content = await read_body(response, cap=self._limits.max_bytes)
            return _Answer(status=status, reason=phrase, headers=answer_headers, content=content)
        finally:
            await response.aclose()


class _Redirects:
    """The redirects one fetch follows: counted, checked for loops and for being permanent."""

    __slots__ = ("_limit", "_seen", "chain", "hops", "permanent")

    def __init__(self, start: httpx.URL, *, limit: int) -> None:
        self._limit = limit
        self._seen = {str(start)}
        self.hops = 0
        self.permanent = True  # every hop so far was 301 or 308
        self.chain: tuple[tuple[str, int], ...] = ()  # (URL asked, its redirect status)

    def follow(self, answer: _Answer, current: httpx.URL) -> httpx.URL:
        """Where the redirect `answer` to a request for `current` leads.

        Raises: FetchError for a redirect without a Location, one too many, one to a URL
        that is not http(s), or one back to a URL already requested.
        """
        location = answer.headers.get("location")
        if not location:
            raise FetchError(
                f"HTTP {answer.status} redirect without a Location", status=answer.status
            )
        self.hops += 1
        self.chain += ((str(current), answer.status),)
        if self.hops > self._limit:
            raise FetchError(f"too many redirects (more than {self._limit})")
        target = _request_url(location, base=current, what="redirect to")
        if str(target) in self._seen:
            raise FetchError(f"redirect loop at {target}")
        self._seen.add(str(target))
        self.permanent = self.permanent and answer.status in _PERMANENT_REDIRECTS
        return target


def _result(
    answer: _Answer, url: str, validators: Validators, redirects: _Redirects, *, now: datetime
) -> FetchResult:
    """The fetch's outcome from the last hop's answer, at `url`."""
    if answer.status == 304:
        # RFC 9110 §15.4.5: a 304 may carry updated validators; otherwise keep ours.
        kept = Validators(
            etag=answer.headers.get("etag") or validators.etag,
            last_modified=answer.headers.get("last-modified") or validators.last_modified,
        )
    else:
        kept = Validators(
            etag=answer.headers.get("etag") or None,
            last_modified=answer.headers.get("last-modified") or None,
        )
    return FetchResult(
        url=url,
        status=answer.status,
        content=None if answer.status == 304 else answer.content,
        headers=answer.headers,
        validators=kept,
        permanent_redirect=url if redirects.hops and redirects.permanent else None,
        redirects=redirects.chain,
        fetched_at=now,
    )


def host_key(url: str) -> str:
    """The host a URL is polite to: its host name, and its port when not the default."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError):
        return url
    return f"{parsed.host}:{parsed.port}" if parsed.port else parsed.host


def auth_header(auth: Auth, environ: Mapping[str, str] = os.environ) -> tuple[str, str]:
    """The Authorization header for `auth`, with the secret read from the environment.

    Raises: FetchError naming the variable (never its value) when it is unset or not ASCII.
    """
    name = auth.token_env if auth.type == "bearer" else auth.password_env
    secret = environ.get(name or "")
    if not secret or (auth.type == "bearer" and not secret.isascii()):
        unset = "is not set" if not secret else "is not ASCII text (a bearer token is)"
        raise FetchError(f"{auth.type} auth: environment variable {name} {unset}")
    if auth.type == "bearer":
        return "Authorization", f"Bearer {secret}"
    pair = f"{auth.username or ''}:{secret}".encode("utf-8", "surrogateescape")  # bytes as set
    return "Authorization", "Basic " + base64.b64encode(pair).decode("ascii")


# One of three URL checks, each named for its contract: this one parses the URL a request
# goes to, raising FetchError; config.checks._checked_http_url validates a configured URL,
# raising ValueError for pydantic; urls.http_url cleans a feed's URL, or gives None.
def _request_url(raw: str, *, base: httpx.URL | None = None, what: str) -> httpx.URL:
    """Parse (and resolve against `base`) a URL that must be absolute http(s).

    Raises: FetchError when it is invalid or of another scheme.
    """
    try:
        url = base.join(raw) if base is not None else httpx.URL(raw.strip())
    except (httpx.InvalidURL, TypeError, ValueError) as e:
        raise FetchError(f"invalid {what}: {raw[:200]!r}") from e
    if url.scheme not in ("http", "https"):
        scheme = url.scheme or "none"
        raise FetchError(f"unsupported {what} scheme {scheme!r} (only http and https): {raw[:200]}")
    if not url.host:
        raise FetchError(f"invalid {what} (no host): {raw[:200]!r}")
    return url
