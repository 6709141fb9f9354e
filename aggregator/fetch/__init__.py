"""Fetch stage: the only package that speaks HTTP. URL + validators in, bytes + metadata out.
It never parses, never retries and never touches the store: a failure is a FetchError.

    client.py     Fetcher: one fetch and its redirects, concurrency slots, hosts' Retry-After
    transport.py  aiohttp under httpx's transport API (the speed path); sends one request
    body.py       the body within the size cap; Content-Encoding undone, bombs stopped
    guard.py      private networks: which addresses, and the refusal of a guarded hop
    messages.py   the one-line messages of a failed fetch
    limits.py     FetchLimits, the record of a round's limits
"""

from aggregator.fetch.client import Fetcher, HostDeferred, auth_header, host_key
from aggregator.fetch.guard import PRIVATE_NETWORKS
from aggregator.fetch.limits import FetchLimits

__all__ = [
    "PRIVATE_NETWORKS",
    "FetchLimits",
    "Fetcher",
    "HostDeferred",
    "auth_header",
    "host_key",
]
