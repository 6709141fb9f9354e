"""Doctor, the I/O: one GET of a URL through the real Fetcher and its limits, then a second
with the validators the first gave (does the server answer 304?). It must NOT parse, store
or write anything; what failed is told in the Probe, never raised.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime

from aggregator.doctor.findings import Probe
from aggregator.errors import FetchError
from aggregator.fetch import Fetcher, FetchLimits

__all__ = ["probe"]


async def probe(
    url: str,
    limits: FetchLimits,
    *,
    headers: Sequence[tuple[str, str]] = (),
    user_agent: str | None = None,
) -> Probe:
    """Fetch `url` as a round fetches an operator's source (trusted), then conditionally."""
    async with Fetcher(limits) as fetcher:
        started = time.monotonic()
        try:
            result = await fetcher.fetch(url, headers=headers, user_agent=user_agent)
        except FetchError as e:
            return Probe(
                url=url,
                now=datetime.now(UTC),
                seconds=time.monotonic() - started,
                error=str(e),
                error_status=e.status,
            )
        seconds = time.monotonic() - started
        now = datetime.now(UTC)
        if not result.validators.etag and not result.validators.last_modified:
            return Probe(url=url, now=now, seconds=seconds, result=result)
        try:
            # From the URL given, redirects and all, as the next check asks.
            second = await fetcher.fetch(
                url, validators=result.validators, headers=headers, user_agent=user_agent
            )
        except FetchError as e:
            return Probe(url=url, now=now, seconds=seconds, result=result, conditional_error=str(e))
        return Probe(url=url, now=now, seconds=seconds, result=result, conditional=second)
