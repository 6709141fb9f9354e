"""Fetch stage: the only package that speaks HTTP. URL + validators in, bytes + metadata out.
It never parses, never retries and never touches the store: a failure is a FetchError.
"""

from aggregator.fetch.client import (
    PRIVATE_NETWORKS,
    FetchLimits,
    Fetcher,
    HostDeferred,
    auth_header,
    host_key,
)

__all__ = [
    "PRIVATE_NETWORKS",
    "FetchLimits",
    "Fetcher",
    "HostDeferred",
    "auth_header",
    "host_key",
]
