"""Fetch stage: the only package that speaks HTTP. URL + validators in, bytes + metadata out;
and a WebSub hub told which feeds changed. It must NOT parse, retry or touch
the store: a failed fetch is a FetchError, a failed ping a logged warning.

    client.py     Fetcher: one fetch and its redirects, concurrency slots, hosts' Retry-After
    transport.py  aiohttp under httpx's transport API (the speed path); sends one request
    body.py       the body within the size cap; Content-Encoding undone, bombs stopped
    guard.py      private networks: which addresses, and the refusal of a guarded hop
    messages.py   the one-line messages of a failed fetch
    limits.py     FetchLimits, the record of a round's limits
    websub.py     ping_hub: WebSub publish notifications (needs httpx only)
    subscribe.py  request_subscription: a WebSub subscribe request to a source's hub
"""

# The names below are imported when first used, not with the package: publish pings a hub
# through websub.py, which needs httpx alone, and the Fetcher's aiohttp would add ~0.3-0.6 s
# to that command's start. mypy reads the imports under TYPE_CHECKING as usual.

from __future__ import annotations

from typing import TYPE_CHECKING

from aggregator.errors import HostDeferred  # defined with the tree; re-exported for callers
from aggregator.lazy import lazy_names

__all__ = [
    "PRIVATE_NETWORKS",
    "FetchLimits",
    "Fetcher",
    "HostDeferred",
    "auth_header",
    "host_key",
    "ping_hub",
    "request_subscription",
]

if TYPE_CHECKING:
    from aggregator.fetch.client import Fetcher, auth_header, host_key
    from aggregator.fetch.guard import PRIVATE_NETWORKS
    from aggregator.fetch.limits import FetchLimits
    from aggregator.fetch.subscribe import request_subscription
    from aggregator.fetch.websub import ping_hub
else:
    _HOMES = {
        "PRIVATE_NETWORKS": "guard",
        "FetchLimits": "limits",
        "Fetcher": "client",
        "auth_header": "client",
        "host_key": "client",
        "ping_hub": "websub",
        "request_subscription": "subscribe",
    }

    __getattr__ = lazy_names(__name__, _HOMES)
