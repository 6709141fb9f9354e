"""Parse stage: response bytes + headers -> ParsedFeed, over a list of backends.

A backend reads the body into a ParsedFeed or declines it (None), and the next one tries.
jsonfeed.py reads JSON Feed and declines whatever is not JSON; fast.py (fastfeedparser's
extractor) declines whatever it cannot map exactly; reference.py (feedparser, imported
there only) reads everything else, or raises ParseError. dates.py reads date text,
charset.py decodes the bytes: every backend reads through them, and the two XML ones
agree (tests/test_parse_differential.py). html.py reads a `type: html` source's page by
its selectors (the worker calls it for those sources only, never in this list) and finds
the feeds a page advertises. Pure: must NOT touch the network or read the clock.

    chain.py     the backends in order, and parse()

The names below are loaded on first use: the main process of a round asks html.py and
hubs.py of a response, and must not load the parsers (feedparser, fastfeedparser,
charset detection) that only its parse workers use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aggregator.lazy import lazy_names

if TYPE_CHECKING:
    from aggregator.parse.chain import FAST_FIRST, REFERENCE_ONLY, Backend, parse
    from aggregator.parse.dates import parse_date

__all__ = ["FAST_FIRST", "REFERENCE_ONLY", "Backend", "parse", "parse_date"]

_HOMES = {
    "FAST_FIRST": "chain",
    "REFERENCE_ONLY": "chain",
    "Backend": "chain",
    "parse": "chain",
    "parse_date": "dates",
}

if not TYPE_CHECKING:
    __getattr__ = lazy_names(__name__, _HOMES)
