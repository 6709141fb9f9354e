"""Fetch stage: a WebSub subscription request (WebSub §5.1): one form POST to a hub, within
the fetch limits' timeouts and private-network policy. It decides nothing about when to ask
and reads or writes no store: an answer other than 2xx, or no answer, is a FetchError.
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from aggregator.errors import FetchError
from aggregator.fetch.guard import Guard, parse_networks
from aggregator.fetch.limits import FetchLimits
from aggregator.fetch.messages import describe

__all__ = ["request_subscription"]

_ERROR_TEXT = 300  # characters of a hub's refusal kept for the message


async def request_subscription(
    hub: str,
    form: Mapping[str, str],
    *,
    limits: FetchLimits,
    named_by: str,
    transport: httpx.AsyncBaseTransport | None = None,
) -> int:
    """POST `form` to `hub`; the status of its 2xx answer (202: it will verify).

    The hub comes from a feed (`named_by`, the feed's URL): like any URL a feed names it may
    not lead into a private network unless the feed itself is in one or the limits allow
    private addresses (Fetcher.trusts_links_of). No redirect is followed.

    Raises: FetchError for an invalid or refused URL, a transport failure or timeout, or
    an answer of 300 or more (its status and the start of its text in the message).
    """
    try:
        url = httpx.URL(hub)
    except (httpx.InvalidURL, TypeError, ValueError) as e:
        raise FetchError(f"invalid hub URL: {hub[:200]!r}") from e
    if url.scheme not in ("http", "https") or not url.host:
        raise FetchError(f"invalid hub URL: {hub[:200]!r}")
    if not limits.allow_private:
        guard = Guard(parse_networks(limits.private_networks), lookup_names=True)
        try:
            trusted = await guard.is_private(httpx.URL(named_by))
        except (httpx.InvalidURL, TypeError, ValueError):
            trusted = False
        if not trusted:
            await guard.check(url)
    timeout = httpx.Timeout(
        limits.total_timeout,
        connect=limits.connect_timeout,
        read=limits.read_timeout,
    )
    try:
        async with (
            httpx.AsyncClient(timeout=timeout, transport=transport) as client,
            client.stream("POST", url, data=dict(form)) as response,
        ):
            if response.status_code < 300:
                return response.status_code
            text = b""
            async for chunk in response.aiter_bytes():
                text += chunk
                if len(text) >= _ERROR_TEXT:
                    break
    except httpx.HTTPError as e:
        raise FetchError(f"hub {hub}: {describe(e, limits)}") from e
    said = " ".join(text[:_ERROR_TEXT].decode("utf-8", "replace").split())
    raise FetchError(
        f"hub {hub} answered HTTP {response.status_code}" + (f": {said}" if said else ""),
        status=response.status_code,
    )
