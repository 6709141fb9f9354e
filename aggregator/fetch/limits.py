"""Fetch stage: the limits one round of fetching runs within. A record and nothing else:
it reads no environment and no clock, and what a private network is, is guard.py's.
"""

from __future__ import annotations

from dataclasses import dataclass

from aggregator.fetch.guard import PRIVATE_NETWORKS

__all__ = ["FetchLimits"]


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
