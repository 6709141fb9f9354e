"""The record of a `type: html` source's selectors (config's `html:`), read by
aggregator.parse.html. A value only, re-exported by aggregator.types beside Source.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["HtmlSelectors"]


@dataclass(frozen=True, slots=True, kw_only=True)
class HtmlSelectors:
    """`html:` of a `type: html` source: CSS selectors reading items out of a page.

    A field given as "selector@attribute" reads that attribute of the first match; else
    the match's text (title, date) or markup (summary, content).
    """

    item: str  # each match is one item
    title: str | None = None  # within the item; None: the item's own text
    link: str | None = None  # None: the first a@href
    date: str | None = None
    date_format: str | None = None  # strptime format; None: parse.dates reads the text
    summary: str | None = None
    content: str | None = None
    image: str | None = None
