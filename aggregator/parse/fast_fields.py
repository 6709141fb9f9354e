"""Parse stage, fast path: an entry's dates, author and categories as the reference reads them, from
what the item scan found (fast_scan's _Item) and the extractor's entry. Pure: no network,
no clock. A date the source's date_order could change, a named zone other than UTC, two
dates or authors where feedparser keeps one: _Decline, never a guess.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from aggregator.parse.dates import order_dependent, parse_common, parse_date
from aggregator.parse.fast_markup import _Decline, _text

# Which record field each date element of fast_scan's _DATE_NAMES fills.
_DATE_KEY = {
    b"pubDate": "published",
    b"published": "published",
    b"atom:published": "published",
    b"issued": "published",
    b"dc:date": "updated",
    b"updated": "updated",
    b"atom:updated": "updated",
    b"modified": "updated",
}
# Zone names that mean UTC. Any other name (CST, CET, IST, PT...) parse_date keeps for
# normalize to reread ("CST" in a Chinese feed): left to the reference, which is exact.
_UTC_NAMES = frozenset({"UT", "UTC", "GMT", "Z"})


def _dates(
    found_dates: list[tuple[bytes, bytes]],
    e: Mapping[str, Any],
    more: tuple[tuple[str, bytes], ...] = (),
) -> dict[str, datetime | None]:
    """The entry's dates; `found_dates` are its date elements (_Item.dates), `more` Atom
    dates under another prefix, read by _rss_atom."""
    found: dict[str, datetime | None] = {}
    if "published" not in e and "updated" not in e:
        # The extractor saw no date: any date-like text here is inside a comment.
        if found_dates:
            raise _Decline
    else:
        read: dict[bytes, datetime | None] = {}  # Atom's published and updated are often one
        for name, raw in found_dates:
            key = _DATE_KEY[name]
            if key in found:
                raise _Decline  # which of two dates feedparser keeps is its business
            if raw not in read:
                read[raw] = _date(raw)
            found[key] = read[raw]
    for key, raw in more:
        if key in found:
            raise _Decline
        found[key] = _date(raw)
    return found


def _date(raw: bytes) -> datetime | None:
    text = html.unescape(raw.decode("utf-8")) if b"&" in raw else raw.decode("utf-8")
    stripped = text.strip()
    if not stripped:
        return None
    value = parse_common(stripped)  # almost every date: no order to ask about
    if value is False:
        if order_dependent(text):
            raise _Decline  # 03/04/2023 reads through the source's date_order, which parse has
        value = parse_date(text)
    name = value.tzname() if value is not None else None
    if name is not None and name.isalpha() and name not in _UTC_NAMES:
        raise _Decline
    return value  # None (refused) is the reference's reading too


# Elements an item's author may be read from. The extractor takes the first of several and
# any prefix's "author" (googleplay:author too); feedparser keeps the last it maps and maps
# only these: an item with more than one, or another, is declined. Their tags: _AUTHOR_TAG.
_RSS_AUTHORS = frozenset({b"author", b"dc:creator", b"itunes:author"})
_ATOM_AUTHORS = frozenset({b"author"})


def _author(e: Mapping[str, Any], found: list[bytes], allowed: frozenset[bytes]) -> str | None:
    """The item's author as the reference reads it from feedparser, or a decline.
    `found`: the item's author tags (_Item.authors)."""
    authors = [tag for tag in found if not tag.endswith(b"name")]
    if not authors:
        if e.get("author"):
            raise _Decline
        return None
    if len(authors) > 1 or any(tag not in allowed for tag in authors):
        raise _Decline
    if allowed is _ATOM_AUTHORS and authors:
        # An Atom author's name: one <name> in the entry (a contributor's is one more).
        names = [tag for tag in found if tag.endswith(b"name")]
        if names != [b"name"]:
            raise _Decline
    return _text(e.get("author"))


def _terms(e: Mapping[str, Any]) -> tuple[str, ...]:
    tags = e.get("tags") or []
    return tuple(t for t in (_text(tag.get("term")) for tag in tags) if t is not None)


def _feed_date(el: Any, tags: tuple[str, ...]) -> datetime | None:
    found = [x for tag in tags for x in el.findall(tag)]
    if len(found) > 1:
        raise _Decline  # feedparser keeps the last of them: one key for all these tags
    if found and found[0].text and found[0].text.strip():
        return _date(found[0].text.strip().encode("utf-8"))
    return None
