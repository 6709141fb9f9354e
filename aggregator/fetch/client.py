"""Fetch stage: the only module that speaks HTTP. URL + validators in, bytes + metadata out.
It never parses, never retries and never touches the store: a failure is a FetchError.
"""

# Transport: httpx's API over the `httpx-aiohttp` transport (one aiohttp connection pool per
# Fetcher). One plain httpx.AsyncClient pool is 16-27x slower than aiohttp at c=50
# (PERFORMANCE.md; its pool rescans every connection on each event, encode/httpx#3215).
# Measured on loopback, 2,000 conditional GETs answered 304 at c=50 (2 cores, server in another
# process), CPU per request: bare aiohttp loop ~150-200 µs · this Fetcher ~310-340 µs (through
# httpx.AsyncClient and the package's request method it was ~1,100 µs) · one plain httpx pool
# about 30x aiohttp's.
# aiohttp runs with auto_decompress=False, so `aiter_raw` yields the bytes on the wire and we
# decompress and count them ourselves (_Decoder), and redirects stay ours. Requests go straight
# to the transport (httpx.Request in, httpx.Response out): the client's layers (header and
# cookie merging, auth, redirects, hooks) did nothing we use and cost more than aiohttp's whole
# request on a 304. _Transport replaces the package's request method: see there for why.

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
import http
import ipaddress
import os
import re
import socket
import ssl
import urllib.request
import zlib
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from types import TracebackType

import aiohttp
import httpx
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.helpers import basicauth_from_netrc, netrc_from_env, proxies_from_env
from aiohttp.http_exceptions import HttpProcessingError
from httpx_aiohttp import AiohttpTransport

import aggregator
from aggregator.errors import FetchError
from aggregator.types import Auth, FetchResult, Validators

__all__ = [
    "PRIVATE_NETWORKS",
    "FetchLimits",
    "Fetcher",
    "HostDeferred",
    "auth_header",
    "host_key",
]

# Where an untrusted URL may not lead (RFC 6890 special-purpose registries, abridged to what
# reaches a machine or a network that is not the public internet).
PRIVATE_NETWORKS: tuple[str, ...] = (
    "0.0.0.0/8",  # "this network"
    "10.0.0.0/8",  # RFC 1918
    "100.64.0.0/10",  # CGNAT, RFC 6598
    "127.0.0.0/8",  # loopback
    "169.254.0.0/16",  # link-local (cloud metadata services live here)
    "172.16.0.0/12",  # RFC 1918
    "192.0.0.0/24",  # IETF protocol assignments
    "192.168.0.0/16",  # RFC 1918
    "198.18.0.0/15",  # benchmarking
    "224.0.0.0/4",  # multicast
    "240.0.0.0/4",  # reserved, and the broadcast address
    "::/128",  # unspecified
    "::1/128",  # loopback
    "fc00::/7",  # unique local (ULA)
    "fe80::/10",  # link-local
    "ff00::/8",  # multicast
)

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_PERMANENT_REDIRECTS = frozenset({301, 308})  # RFC 9110 §15.4.2, RFC 7538
_ACCEPT = (
    "application/atom+xml, application/rss+xml, application/rdf+xml;q=0.9, "
    "application/xml;q=0.8, text/xml;q=0.8, */*;q=0.5"
)
# Only what _Decoder can decode under the size cap (no brotli/zstd: not installed everywhere).
_ACCEPT_ENCODING = "gzip, deflate"
# Credentials for one origin must not follow a redirect to another (as httpx does).
_ORIGIN_BOUND_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})
# Some feed hosts send huge cookies; aiohttp's default of 8190 bytes per header refuses them.
_MAX_HEADER_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True, kw_only=True)
class FetchLimits:
    """Limits for one round of fetching; times in seconds."""

    connect_timeout: float = 10.0
    read_timeout: float = 30.0  # between two reads, not for the whole body
    total_timeout: float = 60.0  # one fetch on the wire, redirects included; queueing excluded
    max_bytes: int = 10 * 1024 * 1024  # cap on the body, raw and after decompression
    max_connections: int = 50  # requests in flight at once, all hosts together
    per_host: int = 2  # requests in flight at once to one host
    max_redirects: int = 10
    # Untrusted URLs (from feed content) and redirects from a public host may not reach these
    # networks, checked on the resolved address of every hop, unless `allow_private`.
    allow_private: bool = False
    private_networks: tuple[str, ...] = PRIVATE_NETWORKS


_NO_VALIDATORS = Validators()
_NO_BODY = httpx.ByteStream(b"")
_SSL_NOISE = re.compile(r"^\[[^\]]*\]|\(_ssl\.c:\d+\)$")


@dataclass(frozen=True, slots=True, kw_only=True)
class _Answer:
    """One hop's response, read within the limits."""

    status: int
    reason: str
    headers: dict[str, str]  # keys lower-cased; repeated headers joined with ", "
    content: bytes | None  # read only for 2xx


class HostDeferred(FetchError):
    """Not sent: the host asked (429/503 Retry-After) to be left alone until later.

    `retry_after` is the time left. The source did not fail: its state records no failure.
    """


class Fetcher:
    """Fetches feeds over HTTP(S) within `FetchLimits`; an async context manager, one per round.

    Raises (from `fetch`): FetchError.
    """

    def __init__(
        self, limits: FetchLimits = FetchLimits(), *, user_agent: str = aggregator.USER_AGENT
    ) -> None:
        self._limits = limits
        self._user_agent = user_agent
        self._networks = _networks(limits.private_networks)
        self._client: _Transport | None = None
        self._guarded: _Transport | None = None
        self._slots: asyncio.Semaphore | None = None
        self._host_slots: dict[str, asyncio.Semaphore] = {}
        self._deferred: dict[str, datetime] = {}  # host_key -> not before

    async def __aenter__(self) -> Fetcher:
        self._client = self._new_client(resolver=None)
        # Hops that must not reach a private address connect through a resolver that never
        # returns one: the address checked is the address connected to (no DNS rebinding).
        self._guarded = self._new_client(resolver=_GuardedResolver(self._networks))
        self._slots = asyncio.Semaphore(self._limits.max_connections)
        return self

    def _new_client(self, resolver: AbstractResolver | None) -> _Transport:
        limits = self._limits
        session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(
                limit=limits.max_connections,
                limit_per_host=limits.per_host,
                ssl=_tls_context(),
                ttl_dns_cache=300,
                resolver=resolver,
            ),
            cookie_jar=aiohttp.DummyCookieJar(),  # one feed's cookies are no other feed's
            # The environment (HTTP(S)_PROXY / NO_PROXY, ~/.netrc) is read by _Transport, once.
            trust_env=False,
            auto_decompress=False,
            max_line_size=_MAX_HEADER_BYTES,
            max_field_size=_MAX_HEADER_BYTES,
        )
        timeout = aiohttp.ClientTimeout(
            sock_connect=limits.connect_timeout,
            sock_read=limits.read_timeout,
            connect=limits.connect_timeout,  # includes waiting for a pooled connection
        )
        return _Transport(session, timeout)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
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
        limits = self._limits
        current = _http_url(url, what="URL")
        request_headers = self._request_headers(validators, headers, user_agent)
        guarded = not trusted and not limits.allow_private
        seen = {str(current)}
        permanent = True
        spent = 0.0  # seconds on the wire so far: the total deadline covers every hop
        hops = 0
        while True:
            if guarded:
                await self._check_address(current)
            answer, spent = await self._hop(current, request_headers, spent, guarded=guarded)
            if answer.status in _REDIRECTS:
                location = answer.headers.get("location")
                if not location:
                    raise FetchError(
                        f"HTTP {answer.status} redirect without a Location", status=answer.status
                    )
                hops += 1
                if hops > limits.max_redirects:
                    raise FetchError(f"too many redirects (more than {limits.max_redirects})")
                target = _http_url(location, base=current, what="redirect to")
                if str(target) in seen:
                    raise FetchError(f"redirect loop at {target}")
                seen.add(str(target))
                permanent = permanent and answer.status in _PERMANENT_REDIRECTS
                if target.host != current.host or target.port != current.port:
                    for name in _ORIGIN_BOUND_HEADERS:
                        request_headers.pop(name, None)
                if hops == 1 and not guarded and not limits.allow_private:
                    # A public source may not lead us into a private network; a source the
                    # operator put on a private network may redirect within it.
                    guarded = not await self._is_private(current)
                current = target
                continue
            break

        final = str(current)
        if answer.status == 304:
            # RFC 9110 §15.4.5: a 304 may carry updated validators; otherwise keep ours.
            content = None
            kept = Validators(
                etag=answer.headers.get("etag") or validators.etag,
                last_modified=answer.headers.get("last-modified") or validators.last_modified,
            )
        else:
            content = answer.content
            kept = Validators(
                etag=answer.headers.get("etag") or None,
                last_modified=answer.headers.get("last-modified") or None,
            )
        return FetchResult(
            url=final,
            status=answer.status,
            content=content,
            headers=answer.headers,
            validators=kept,
            permanent_redirect=final if hops and permanent else None,
            fetched_at=datetime.now(UTC),
        )

    # ----------------------------------------------------------------- internal

    async def _is_private(self, url: httpx.URL) -> bool:
        """Whether `url`'s host is (or resolves only to) a private address."""
        literal = _ip(url.host)
        if literal is not None:
            return _in(literal, self._networks)
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                url.host, url.port or 443, type=socket.SOCK_STREAM
            )
        except OSError:
            return False  # the hop itself will fail to connect and say so
        addresses = [a for a in (_ip(str(info[4][0])) for info in infos) if a is not None]
        return bool(addresses) and all(_in(a, self._networks) for a in addresses)

    async def _check_address(self, url: httpx.URL) -> None:
        """Refuse a hop to a private address that the guarded resolver cannot see.

        Raises: FetchError for an IP literal in a private network (aiohttp connects to
        literals without resolving), or a host name with private addresses behind a proxy
        (the proxy resolves it, so the name is looked up here).
        """
        literal = _ip(url.host)
        if literal is not None:
            if _in(literal, self._networks):
                raise FetchError(_refusal(url.host, literal))
            return
        if _proxied(url) and await self._is_private(url):
            raise FetchError(_refusal(url.host, None))

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
        if validators.etag:
            headers["if-none-match"] = validators.etag
        if validators.last_modified:
            headers["if-modified-since"] = validators.last_modified
        return headers

    async def _hop(
        self, url: httpx.URL, headers: dict[str, str], spent: float, *, guarded: bool
    ) -> tuple[_Answer, float]:
        """One request, inside the concurrency slots; returns the answer and time spent."""
        client = self._guarded if guarded else self._client
        slots = self._slots
        if client is None or slots is None:
            raise RuntimeError("Fetcher used outside `async with`")
        limits = self._limits
        host = url.host
        host_slots = self._host_slots.get(host)
        if host_slots is None:
            host_slots = self._host_slots[host] = asyncio.Semaphore(limits.per_host)
        loop = asyncio.get_running_loop()
        # Host slot first: a request queued behind a busy host must not hold a global slot.
        async with host_slots, slots:
            # Checked once the slot is ours: fetches queued behind the one that got a 429
            # must not go out either.
            key = f"{host}:{url.port}" if url.port else host  # host_key, without a reparse
            until = self._deferred.get(key)
            if until is not None:
                now = datetime.now(UTC)
                if until > now:
                    raise HostDeferred(
                        f"not sent: {key} asked to wait until {until:%Y-%m-%d %H:%M:%S} UTC",
                        retry_after=until - now,
                    )
            started = loop.time()
            deadline = asyncio.timeout(max(0.0, limits.total_timeout - spent))
            try:
                async with deadline:
                    answer = await self._request(client, url, headers)
            except TimeoutError as e:
                if deadline.expired():
                    raise FetchError(f"timed out after {limits.total_timeout:g}s (total)") from e
                raise FetchError(_describe(e, limits)) from e
            except FetchError as e:
                if e.retry_after is not None and e.status in (429, 503):
                    self.defer_host(key, datetime.now(UTC) + e.retry_after)
                raise
            except (httpx.HTTPError, aiohttp.ClientError, ssl.SSLError, OSError) as e:
                raise FetchError(_describe(e, limits)) from e
            return answer, spent + (loop.time() - started)

    async def _request(
        self, client: _Transport, url: httpx.URL, headers: dict[str, str]
    ) -> _Answer:
        # With `stream=`, httpx encodes no body and adds no Host header (aiohttp writes the
        # same one): that was 70 of the 80 µs it took to build a request.
        request = httpx.Request("GET", url, headers=headers, stream=_NO_BODY)
        response = await client.handle_async_request(request)
        try:
            status = response.status_code
            answer_headers = dict(response.headers.items())
            reason = _reason(status, response.reason_phrase)
            if status in _REDIRECTS or status == 304:
                return _Answer(status=status, reason=reason, headers=answer_headers, content=None)
            if not 200 <= status < 300:
                raise _status_error(status, reason, answer_headers)
            content = await self._read_body(response)
            return _Answer(status=status, reason=reason, headers=answer_headers, content=content)
        finally:
            await response.aclose()

    async def _read_body(self, response: httpx.Response) -> bytes:
        cap = self._limits.max_bytes
        too_large = f"body larger than {_size(cap)}"
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > cap:
            raise FetchError(too_large, status=response.status_code)
        decoder = _Decoder(
            response.headers.get("content-encoding", ""), status=response.status_code
        )
        body = bytearray()
        received = 0
        async for chunk in response.aiter_raw():
            received += len(chunk)
            if received > cap:
                raise FetchError(too_large, status=response.status_code)
            # Ask for at most one byte over the cap: a gzip bomb never inflates further.
            body += decoder.decode(chunk, limit=cap - len(body) + 1)
            if len(body) > cap:
                raise FetchError(f"{too_large} (decompressed)", status=response.status_code)
        return bytes(body)


class _Decoder:
    """Undoes Content-Encoding (gzip, deflate) with a bound on the output of each call."""

    def __init__(self, content_encoding: str, *, status: int) -> None:
        codings = [c.strip().lower() for c in content_encoding.split(",")]
        codings = [c for c in codings if c and c != "identity"]
        self._status = status
        self._coding = codings[0] if len(codings) == 1 else ""
        if len(codings) > 1 or self._coding not in ("", "gzip", "x-gzip", "deflate"):
            raise FetchError(
                f"unsupported Content-Encoding: {content_encoding.strip()[:40]}", status=status
            )
        self._zlib: zlib._Decompress | None = None
        self._pending = b""  # deflate: bytes held until the header shows which format

    def decode(self, data: bytes, *, limit: int) -> bytes:
        """Decode `data`; returns at most `limit` bytes (stop reading once it is reached)."""
        if not self._coding:
            return data
        try:
            return self._inflate(data, limit)
        except zlib.error as e:
            raise FetchError(f"cannot decode {self._coding} body: {e}", status=self._status) from e

    def _inflate(self, data: bytes, limit: int) -> bytes:
        if self._zlib is None:
            if self._coding == "deflate":
                # "deflate" should be zlib-wrapped (RFC 9110 §8.4.1.2) but some servers send
                # raw deflate; the two-byte zlib header tells them apart.
                data = self._pending + data
                if len(data) < 2:
                    self._pending = data
                    return b""
                self._pending = b""
                wrapped = data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0
                self._zlib = zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)
            else:
                self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)
        out = bytearray()
        while data and len(out) < limit:
            out += self._zlib.decompress(data, limit - len(out))
            if self._zlib.unconsumed_tail:  # the limit was reached
                break
            data = self._zlib.unused_data if self._zlib.eof else b""
            if data and self._coding != "deflate" and data[:2] == b"\x1f\x8b":
                # A gzip body may be several members in a row (RFC 1952 §2.2).
                self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)
            else:
                break  # anything after the end of the stream is padding: ignored
        return bytes(out)


class _Transport(AiohttpTransport):
    """httpx's transport interface over one aiohttp session, at aiohttp's own cost per request.

    The package's `handle_async_request` runs with the session's `trust_env`, which sends two
    lookups per request to a thread (the proxy for the URL, and ~/.netrc, reread each time):
    on a 304 that was more than the request itself. Here the environment is read once, as
    aiohttp reads it, and the answer kept per scheme and host. aiohttp's errors are left as
    they are (the package maps them to the wrong httpx classes); `_describe` reads them.
    """

    def __init__(self, session: aiohttp.ClientSession, timeout: aiohttp.ClientTimeout) -> None:
        super().__init__(verify=_tls_context(), client=session)
        self._session = session
        self._timeout = timeout
        self._proxies = proxies_from_env()
        self._netrc = netrc_from_env()
        self._routes: dict[tuple[str, str], _Route] = {}

    def _route(self, scheme: str, host: str) -> _Route:
        # As aiohttp's get_env_proxy_for_url and _get_netrc_auth decide for one request.
        proxy = proxy_auth = auth = None
        info = self._proxies.get(scheme)
        if info is not None and not urllib.request.proxy_bypass(host):
            proxy, proxy_auth = info.proxy, info.proxy_auth
        if self._netrc is not None:
            with contextlib.suppress(LookupError):
                auth = basicauth_from_netrc(self._netrc, host)
        route = self._routes[scheme, host] = _Route(
            proxy=None if proxy is None else str(proxy), proxy_auth=proxy_auth, auth=auth
        )
        return route

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        route = self._routes.get((url.scheme, url.host)) or self._route(url.scheme, url.host)
        headers = request.headers
        response = await self._session.request(
            request.method,
            str(url),
            # A list, which aiohttp copies as it is; from the Headers mapping it would merge
            # repeated names first (the Fetcher never repeats one).
            headers=headers.multi_items(),
            allow_redirects=False,
            timeout=self._timeout,
            proxy=route.proxy,
            proxy_auth=route.proxy_auth,
            # aiohttp refuses netrc credentials next to an Authorization header.
            auth=None if "authorization" in headers else route.auth,
            server_hostname=request.extensions.get("sni_hostname"),
        )
        extensions: dict[str, bytes] = {"http_version": b"HTTP/1.1"}
        if response.reason:
            extensions["reason_phrase"] = response.reason.encode()
        return httpx.Response(
            status_code=response.status,
            headers=response.raw_headers,
            stream=_Stream(response),
            request=request,
            extensions=extensions,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class _Route:
    """How requests to one scheme and host go out: through which proxy, with which auth."""

    proxy: str | None
    proxy_auth: aiohttp.BasicAuth | None
    auth: aiohttp.BasicAuth | None


class _Stream(httpx.AsyncByteStream):
    """An aiohttp response body as httpx reads one; aiohttp's errors pass through."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._response.content.iter_chunked(16 * 1024):
            yield chunk

    async def aclose(self) -> None:
        await self._response.__aexit__(None, None, None)


class _PrivateAddress(OSError):
    """Raised by the guarded resolver: every address of a name is in a private network."""


class _GuardedResolver(AbstractResolver):
    """aiohttp's resolver, minus the addresses in private networks."""

    def __init__(self, networks: Sequence[_Network]) -> None:
        self._networks = networks
        self._resolver: AbstractResolver | None = None

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        if self._resolver is None:
            self._resolver = aiohttp.DefaultResolver()
        found = await self._resolver.resolve(host, port, family)
        allowed = [r for r in found if not _in(_ip(r["host"]), self._networks)]
        if found and not allowed:
            raise _PrivateAddress(_refusal(host, _ip(found[0]["host"])))
        return allowed

    async def close(self) -> None:
        if self._resolver is not None:
            await self._resolver.close()


_Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _networks(texts: Iterable[str]) -> tuple[_Network, ...]:
    return tuple(ipaddress.ip_network(t, strict=False) for t in texts)


def _ip(host: str) -> _Address | None:
    try:
        address = ipaddress.ip_address(host.strip("[]").split("%")[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped  # ::ffff:10.0.0.1 is 10.0.0.1
    return address


def _in(address: _Address | None, networks: Sequence[_Network]) -> bool:
    return address is not None and any(address in n for n in networks)


def _refusal(host: str, address: _Address | None) -> str:
    where = f"{host} ({address})" if address is not None and str(address) != host else host
    return f"refused: {where} is a private address (fetch.allow_private allows it)"


def _proxied(url: httpx.URL) -> bool:
    proxies = urllib.request.getproxies_environment()
    if url.scheme not in proxies:
        return False
    # Not in typeshed, though public since Python 3.4 (it reads NO_PROXY).
    bypass = urllib.request.proxy_bypass_environment  # type: ignore[attr-defined]
    return not bypass(url.host, proxies)


def host_key(url: str) -> str:
    """The host a URL is polite to: its host name, and its port when not the default."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError):
        return url
    return f"{parsed.host}:{parsed.port}" if parsed.port else parsed.host


def auth_header(auth: Auth, environ: Mapping[str, str] = os.environ) -> tuple[str, str]:
    """The Authorization header for `auth`, with the secret read from the environment.

    Raises: FetchError naming the variable (never its value) when it is not set.
    """
    name = auth.token_env if auth.type == "bearer" else auth.password_env
    secret = environ.get(name or "")
    if not secret:
        raise FetchError(f"{auth.type} auth: environment variable {name} is not set")
    if auth.type == "bearer":
        return "Authorization", f"Bearer {secret}"
    pair = f"{auth.username or ''}:{secret}".encode()
    return "Authorization", "Basic " + base64.b64encode(pair).decode("ascii")


@functools.cache
def _tls_context() -> ssl.SSLContext:
    # Loading the CA bundle takes ~45 ms; one context serves every Fetcher (never mutated).
    return httpx.create_ssl_context()


def _http_url(raw: str, *, base: httpx.URL | None = None, what: str) -> httpx.URL:
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


def _reason(status: int, phrase: str) -> str:
    # The standard phrase: servers send anything there, or nothing (HTTP/2-style).
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return phrase.strip()[:60]


def _status_error(status: int, reason: str, headers: dict[str, str]) -> FetchError:
    message = f"HTTP {status} {reason}".rstrip()
    retry_after = None
    if status in (429, 503):  # RFC 6585 §4, RFC 9110 §10.2.3
        retry_after = _retry_after(headers.get("retry-after"), now=datetime.now(UTC))
        if retry_after is not None:
            message += f" (retry after {int(retry_after.total_seconds())}s)"
    return FetchError(message, status=status, retry_after=retry_after)


def _retry_after(value: str | None, *, now: datetime) -> timedelta | None:
    """Parse Retry-After: delta-seconds or an HTTP-date (RFC 9110 §10.2.3); None if unusable."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return timedelta(seconds=int(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # "-0000" means UTC too (RFC 5322 §3.3)
        when = when.replace(tzinfo=UTC)
    return max(timedelta(0), when - now)


def _size(n: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n} bytes"


def _first_line(text: str) -> str:
    # aiohttp's parser messages span lines, with a caret under the offending byte.
    return text.strip().splitlines()[0].rstrip(":") if text.strip() else ""


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _describe(exc: BaseException, limits: FetchLimits) -> str:
    """A short message for an operator, from the most specific error in the chain."""
    chain = _chain(exc)
    refused = next((e for e in chain if isinstance(e, _PrivateAddress)), None)
    if refused is not None:
        return str(refused)

    def find(kind: type[BaseException] | tuple[type[BaseException], ...]) -> BaseException | None:
        return next((e for e in chain if isinstance(e, kind)), None)

    connect = f"timed out after {limits.connect_timeout:g}s (connect)"
    read = f"timed out after {limits.read_timeout:g}s (read)"

    # The deepest ssl.SSLError is the library's own (aiohttp's wrappers subclass it too).
    tls = next((e for e in reversed(chain) if isinstance(e, ssl.SSLError)), None)
    if isinstance(tls, ssl.SSLCertVerificationError) and tls.verify_message:
        return f"TLS error: certificate verify failed: {tls.verify_message}"
    if tls is not None:
        # "[SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1006)" -> the words only
        text = _SSL_NOISE.sub("", tls.strerror or str(tls)).strip()
        return f"TLS error: {text or type(tls).__name__}"[:200]
    # aiohttp's own classes first: the transport maps them to the wrong httpx classes.
    if find(aiohttp.ConnectionTimeoutError):
        return connect
    if find(aiohttp.ServerTimeoutError):
        return read
    if isinstance(e := find(aiohttp.ClientConnectorDNSError), aiohttp.ClientConnectorDNSError):
        return f"cannot resolve host {e.host}"
    if find(socket.gaierror):
        return "cannot resolve host"
    if find(ConnectionRefusedError):
        return "connection refused"
    if find(ConnectionResetError):
        return "connection reset by peer"
    if find(aiohttp.ServerDisconnectedError) or find(httpx.RemoteProtocolError):
        return "server closed the connection without a response"
    if find(aiohttp.ClientPayloadError):
        detail = find(HttpProcessingError)
        why = _first_line(detail.message) if isinstance(detail, HttpProcessingError) else ""
        return f"body cut short: {why or 'connection closed mid-body'}"[:200]
    if isinstance(e := find(aiohttp.ClientResponseError), aiohttp.ClientResponseError):
        return f"malformed HTTP response: {_first_line(e.message)}"[:200]
    if find(httpx.ConnectTimeout):
        return connect
    if find((httpx.ReadTimeout, httpx.WriteTimeout)):
        return read
    if find(httpx.PoolTimeout):
        return f"timed out after {limits.connect_timeout:g}s (waiting for a connection)"
    if isinstance(e := find(OSError), OSError) and e.strerror:
        return f"cannot connect: {e.strerror}"
    return f"{type(exc).__name__}: {exc}"[:200]
