"""Fetch stage: the only package that speaks HTTP. URL + validators in, bytes + metadata out;
and a WebSub hub told which feeds changed. It never parses, never retries and never touches
the store: a failed fetch is a FetchError, a failed ping a logged warning.

    client.py     Fetcher: one fetch and its redirects, concurrency slots, hosts' Retry-After
    transport.py  aiohttp under httpx's transport API (the speed path); sends one request
    body.py       the body within the size cap; Content-Encoding undone, bombs stopped
    guard.py      private networks: which addresses, and the refusal of a guarded hop
    messages.py   the one-line messages of a failed fetch
    limits.py     FetchLimits, the record of a round's limits
    websub.py     ping_hub: WebSub publish notifications
"""

from aggregator.fetch.client import Fetcher, HostDeferred, auth_header, host_key
from aggregator.fetch.guard import PRIVATE_NETWORKS
from aggregator.fetch.limits import FetchLimits
from aggregator.fetch.websub import ping_hub

__all__ = [
    "PRIVATE_NETWORKS",
    "FetchLimits",
    "Fetcher",
    "HostDeferred",
    "auth_header",
    "host_key",
    "ping_hub",
]
