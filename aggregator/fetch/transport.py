"""Fetch stage: the transport under the Fetcher: httpx's transport interface over one aiohttp
session (the `httpx-aiohttp` package, with its request method replaced). It sends one request
and hands back the response as it comes: it follows no redirect, decodes no body, enforces no
size cap and turns no error into a message (client.py, body.py and messages.py do).
"""

# One plain httpx.AsyncClient pool is 16-27x slower than aiohttp at c=50 on loopback (its pool
# rescans every connection on each event, encode/httpx#3215).
# Measured on loopback, 2,000 conditional GETs answered 304 at c=50 (2 cores, server in another
# process), CPU per request: bare aiohttp loop ~150-200 µs · the Fetcher ~310-340 µs (through
# httpx.AsyncClient and the package's request method it was ~1,100 µs) · one plain httpx pool
# about 30x aiohttp's.
# aiohttp runs with auto_decompress=False, so `aiter_raw` yields the bytes on the wire and
# body.py decompresses and counts them, and redirects stay the Fetcher's.

from __future__ import annotations

import contextlib
import functools
import ssl
import urllib.request
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import httpx
from aiohttp.abc import AbstractResolver
from aiohttp.helpers import basicauth_from_netrc, netrc_from_env, proxies_from_env
from httpx_aiohttp import AiohttpTransport

from aggregator.fetch.limits import FetchLimits

__all__ = ["new_transport"]

# Some feed hosts send huge cookies; aiohttp's default of 8190 bytes per header refuses them.
_MAX_HEADER_BYTES = 64 * 1024


def new_transport(
    limits: FetchLimits, *, resolver: AbstractResolver | None
) -> httpx.AsyncBaseTransport:
    """A transport over a new aiohttp session and pool sized by `limits`; close it with aclose.

    `resolver`: None for aiohttp's own; the guard's for hops that must not reach a private
    network.
    """
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


class _Transport(AiohttpTransport):
    """httpx's transport interface over one aiohttp session, at aiohttp's own cost per request.

    The package's `handle_async_request` runs with the session's `trust_env`, which sends two
    lookups per request to a thread (the proxy for the URL, and ~/.netrc, reread each time):
    on a 304 that was more than the request itself. Here the environment is read once, as
    aiohttp reads it, and the answer kept per scheme and host. aiohttp's errors are left as
    they are (the package maps them to the wrong httpx classes); messages.describe reads them.
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


@functools.cache
def _tls_context() -> ssl.SSLContext:
    # Loading the CA bundle takes ~45 ms; one context serves every Fetcher (never mutated).
    return httpx.create_ssl_context()
