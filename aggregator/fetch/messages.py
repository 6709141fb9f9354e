"""Fetch stage: the one-line messages an operator reads when a fetch fails: a transport error
told from the most specific exception in its chain, an unexpected status (with the
Retry-After it carries), a size. It sends nothing and reads no clock (`now` is a parameter);
refusals of private addresses are worded by guard.py and passed on as they are.
"""

from __future__ import annotations

import http
import re
import socket
import ssl
from datetime import datetime, timedelta

import aiohttp
import httpx
from aiohttp.http_exceptions import HttpProcessingError

from aggregator.errors import FetchError
from aggregator.fetch.guard import PrivateAddress
from aggregator.fetch.limits import FetchLimits
from aggregator.schedule import LONGEST_DELTA, delta_seconds, http_date

__all__ = ["describe", "reason", "retry_after", "size", "status_error"]

_SSL_NOISE = re.compile(r"^\[[^\]]*\]|\(_ssl\.c:\d+\)$")
# The longest wait a Retry-After is taken for: a server asking for decades (or for more
# seconds than a date can hold) is not obeyed past it, the source and its host come back.
LONGEST_RETRY_AFTER = timedelta(seconds=LONGEST_DELTA)


def reason(status: int, phrase: str) -> str:
    """The standard phrase: servers send anything there, or nothing (HTTP/2-style)."""
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return phrase.strip()[:60]


def status_error(status: int, reason: str, headers: dict[str, str], *, now: datetime) -> FetchError:
    """The error for an unexpected status; a 429 or 503 carries its Retry-After as time left."""
    message = f"HTTP {status} {reason}".rstrip()
    delay = None
    if status in (429, 503):  # RFC 6585 §4, RFC 9110 §10.2.3
        delay = retry_after(headers.get("retry-after"), now=now)
        if delay is not None:
            message += f" (retry after {int(delay.total_seconds())}s)"
    return FetchError(message, status=status, retry_after=delay)


def retry_after(value: str | None, *, now: datetime) -> timedelta | None:
    """Parse Retry-After: delta-seconds or an HTTP-date (RFC 9110 §10.2.3), at most
    LONGEST_RETRY_AFTER; None if unusable."""
    if value is None:
        return None
    value = value.strip()
    seconds = delta_seconds(value)
    if seconds is not None:
        return timedelta(seconds=seconds)
    when = http_date(value)  # "-0000" means UTC too (RFC 5322 §3.3): http_date says so
    if when is None:
        return None
    return min(max(timedelta(0), when - now), LONGEST_RETRY_AFTER)


def size(n: int) -> str:
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


def describe(exc: BaseException, limits: FetchLimits) -> str:
    """A short message for an operator, from the most specific error in the chain."""
    chain = _chain(exc)
    refused = next((e for e in chain if isinstance(e, PrivateAddress)), None)
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
