"""Fetch stage: WebSub publisher notifications (WebSub §7): tell a hub which topics changed,
over HTTP. A hub that cannot be reached, times out or refuses is logged, never raised: the
feeds are in place and subscribers still poll them. It decides nothing about which feeds
changed and reads or writes no file.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import httpx

__all__ = ["ping_hub"]

log = logging.getLogger(__name__)


def ping_hub(
    hub: str,
    topics: Iterable[str],
    *,
    timeout: float = 10.0,
    transport: httpx.BaseTransport | None = None,
    logger: logging.Logger = log,
) -> list[str]:
    """POST `hub.mode=publish` for each topic URL to `hub`; the topics it accepted, in order.

    An answer of 300 or more is logged (to `logger`) and the next topic is tried; an
    `httpx.HTTPError` (unreachable hub, timeout, a URL httpx cannot send) is logged once and
    ends the pings. No topics, or no hub: nothing is sent. `transport` is for tests.

    Raises: nothing for an HTTP failure.
    """
    urls = list(topics)
    pinged: list[str] = []
    if not hub or not urls:
        return pinged
    try:
        with httpx.Client(timeout=timeout, transport=transport) as client:
            for url in urls:
                # WebSub §7: the publisher's notification names the topic that changed.
                response = client.post(hub, data={"hub.mode": "publish", "hub.url": url})
                if response.status_code >= 300:
                    logger.warning("hub %s answered %d for %s", hub, response.status_code, url)
                    continue
                pinged.append(url)
    except httpx.HTTPError as e:
        logger.warning("cannot ping hub %s: %s", hub, e)
    return pinged
