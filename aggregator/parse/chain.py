"""Parse stage, the chain: the backends in the order a source's `parser` gives them, and
parse(), which asks each in turn. Pure, as the whole stage: no network, no clock.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from aggregator.errors import ParseError
from aggregator.parse.fast import parse_fast
from aggregator.parse.jsonfeed import parse_jsonfeed
from aggregator.parse.reference import parse_reference
from aggregator.types import DateOrder, ParsedFeed

__all__ = ["FAST_FIRST", "REFERENCE_ONLY", "Backend", "parse"]


class Backend(Protocol):
    """Reads a body into a ParsedFeed, or declines it (None) for the next backend."""

    def __call__(
        self,
        content: bytes,
        headers: Mapping[str, str],
        *,
        url: str,
        date_order: DateOrder | None,
    ) -> ParsedFeed | None: ...


# `parser: auto` (the default): JSON Feed, then the fast path for RSS and Atom, then the
# reference for what it declines. The JSON backend declines every body that is not JSON
# at its first byte, so XML pays one regex match for it.
FAST_FIRST: tuple[Backend, ...] = (parse_jsonfeed, parse_fast, parse_reference)
# `parser: feedparser`: the reference alone for XML (feedparser reads no JSON Feed).
REFERENCE_ONLY: tuple[Backend, ...] = (parse_jsonfeed, parse_reference)


def parse(
    content: bytes,
    headers: Mapping[str, str],
    *,
    url: str,
    backends: Sequence[Backend] | None = None,
    fast: bool = True,
    date_order: DateOrder | None = None,
) -> ParsedFeed:
    """Parse one response body into a feed and its raw entries: the first backend that
    does not decline gives them.

    `backends` defaults to FAST_FIRST, or REFERENCE_ONLY when `fast` is false (the
    source's `parser: feedparser`). `date_order` is the source's
    (aggregator.parse.dates.parse_date); the fast path declines every date it could change.

    Raises:
        ParseError: the body is empty, an HTML page, XML from which feedparser
            recovered neither a feed nor a single item, or JSON that is no JSON Feed;
            or every backend declined it.
    """
    if not content or content.isspace():  # `not content.strip()`, without copying it
        raise ParseError("empty body")
    if backends is None:
        backends = FAST_FIRST if fast else REFERENCE_ONLY
    for backend in backends:
        parsed = backend(content, headers, url=url, date_order=date_order)
        if parsed is not None:
            return parsed
    raise ParseError("not a feed (every parser declined it)")
