"""Fetch stage: the limits one round of fetching runs within. A record and nothing else:
it reads no environment and no clock, and what a private network is, is guard.py's.

One concept with the config's `fetch:` section (aggregator.types.FetchSettings): FetchLimits
is the part of it the Fetcher obeys, under the Fetcher's names, with the section's
defaults; `FetchLimits.of` is the one mapping from the section.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from aggregator.fetch.guard import PRIVATE_NETWORKS
from aggregator.types import FetchSettings

__all__ = ["FetchLimits"]

_SECTION: Final = FetchSettings()  # the defaults, written once (in types.py)


@dataclass(frozen=True, slots=True, kw_only=True)
class FetchLimits:
    """Limits for one round of fetching; times in seconds. Each field is the FetchSettings
    field of the same name, except `max_connections` (its `concurrency`)."""

    connect_timeout: float = _SECTION.connect_timeout
    read_timeout: float = _SECTION.read_timeout  # between two reads, not for the whole body
    # One fetch on the wire, redirects included; queueing excluded.
    total_timeout: float = _SECTION.total_timeout
    max_bytes: int = _SECTION.max_bytes  # cap on the body, raw and after decompression
    max_connections: int = _SECTION.concurrency  # requests in flight at once, all hosts together
    per_host: int = _SECTION.per_host  # requests in flight at once to one host
    max_redirects: int = _SECTION.max_redirects
    # Untrusted URLs (from feed content) and redirects from a public host may not reach these
    # networks, checked on the resolved address of every hop, unless `allow_private`.
    allow_private: bool = _SECTION.allow_private
    private_networks: tuple[str, ...] = PRIVATE_NETWORKS  # the section's None

    @classmethod
    def of(cls, settings: FetchSettings) -> FetchLimits:
        """The limits the `fetch:` section `settings` sets."""
        networks = settings.private_networks
        return cls(
            connect_timeout=settings.connect_timeout,
            read_timeout=settings.read_timeout,
            total_timeout=settings.total_timeout,
            max_bytes=settings.max_bytes,
            max_connections=settings.concurrency,
            per_host=settings.per_host,
            max_redirects=settings.max_redirects,
            allow_private=settings.allow_private,
            private_networks=PRIVATE_NETWORKS if networks is None else tuple(networks),
        )
