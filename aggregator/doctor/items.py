"""Doctor, the items: how many, how many have ids, links and dates; dates without a zone,
in the future or shared; ids used twice; relative links and what they resolve to, through
normalize as a round resolves them. Pure: no I/O, and `now` is a parameter.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aggregator.doctor.findings import Finding, Settings, finding
from aggregator.normalize import normalize_with_keys
from aggregator.normalize.post import FUTURE_TOLERANCE
from aggregator.types import ParsedFeed, RawEntry, Schedule, Source
from aggregator.update.worker import keep_newest
from aggregator.urls import http_url

__all__ = ["item_findings"]

_EXAMPLES = 3  # items named in a finding's text
_RESOLVED = 20  # relative links resolved one by one to show what they become (JSON `data`)


def item_findings(
    feed: ParsedFeed, *, url: str, settings: Settings, now: datetime
) -> list[Finding]:
    """What the feed's items hold, as a round would store them (`url`: where it came from).

    Raises nothing.
    """
    source = settings.source or Source(
        name="doctor", url=url, category="doctor", tags=(), interval=Schedule().interval
    )
    zone_name = source.timezone or settings.site_timezone
    entries = feed.entries
    limit = source.max_items or settings.fetch.max_items
    kept = keep_newest(entries, limit)
    dropped: list[str] = []  # links normalize left out: no http(s) URL once resolved
    posts, _ = normalize_with_keys(
        replace(feed, entries=kept),
        source,
        now=now,
        site_timezone=settings.site_timezone,
        feed_url=url,
        dropped_links=dropped,
    )
    resolve = _Resolver(feed, source, url=url, now=now, site_timezone=settings.site_timezone)
    return [
        _count(entries, kept, len(posts), limit),
        _ids(entries),
        _links(entries, resolve, lost=len(dropped)),
        *_dates(entries, _zone(zone_name), zone_name, now=now),
    ]


def _count(
    entries: tuple[RawEntry, ...], kept: tuple[RawEntry, ...], posts: int, limit: int
) -> Finding:
    data = {"entries": len(entries), "kept": len(kept), "posts": posts, "max_items": limit}
    if not entries:
        return finding(
            "items", "warn", "no items", "The feed is empty: nothing to publish yet.", **data
        )
    text = f"{len(entries)} items, {posts} posts"
    if len(kept) < len(entries):
        return finding(
            "items",
            "warn",
            text,
            f"Over max_items ({limit}): only the newest {len(kept)} are kept.",
            **data,
        )
    if posts < len(entries):
        return finding(
            "items",
            "ok",
            text,
            f"{len(entries) - posts} items give no post of their own (empty, or a repeat of "
            "another item's identity).",
            **data,
        )
    return finding("items", "ok", text, "Each item becomes a post.", **data)


def _ids(entries: tuple[RawEntry, ...]) -> Finding:
    ids = [(e.guid or "").strip() for e in entries]
    with_id = sum(1 for i in ids if i)
    repeated = {i: n for i, n in Counter(i for i in ids if i).items() if n > 1}
    data = {"with_id": with_id, "entries": len(entries), "duplicates": sorted(repeated)}
    text = f"{with_id} of {len(entries)} items have an id"
    if repeated:
        shown = ", ".join(repr(i[:80]) for i in sorted(repeated)[:_EXAMPLES])
        return finding(
            "ids",
            "warn",
            f"{text}; {len(repeated)} used more than once: {shown}",
            "Items that share an id are one post: only the first of each is kept, the "
            "others are lost.",
            **data,
        )
    if entries and with_id < len(entries):
        return finding(
            "ids",
            "warn",
            text,
            "Items without an id are told apart by their link (else title and content): "
            "an item whose link changes comes back as a new post.",
            **data,
        )
    return finding("ids", "ok", text, "Items keep their identity when edited.", **data)


class _Resolver:
    """The link normalize gives one item of the feed (None: it leaves the link out)."""

    def __init__(
        self, feed: ParsedFeed, source: Source, *, url: str, now: datetime, site_timezone: str
    ) -> None:
        self._feed, self._source, self._url = feed, source, url
        self._now, self._zone = now, site_timezone

    def __call__(self, entry: RawEntry) -> str | None:
        posts, _ = normalize_with_keys(
            replace(self._feed, entries=(entry,)),
            self._source,
            now=self._now,
            site_timezone=self._zone,
            feed_url=self._url,
        )
        return posts[0].link if posts and posts[0].link else None


def _links(
    entries: tuple[RawEntry, ...], resolve: Callable[[RawEntry], str | None], *, lost: int
) -> Finding:
    """`lost`: how many links normalize left out of the posts, relative or not."""
    with_link = [e for e in entries if (e.link or "").strip()]
    relative = [e for e in with_link if http_url((e.link or "").strip()) is None]
    # One item at a time through normalize, for the first few: what each post would link to.
    resolved = [
        {"link": (e.link or "").strip(), "resolved": resolve(e)} for e in relative[:_RESOLVED]
    ]
    data = {
        "with_link": len(with_link),
        "entries": len(entries),
        "relative_count": len(relative),
        "relative": resolved,
        "left_out": lost,
    }
    text = f"{len(with_link)} of {len(entries)} items have a link"
    if resolved:
        shown = ", ".join(f"{r['link']} -> {r['resolved'] or 'none'}" for r in resolved[:_EXAMPLES])
        text += f"; {len(relative)} relative: {shown}"
    if lost:
        return finding(
            "links",
            "warn",
            text,
            f"{lost} links resolve to no http(s) URL: those posts are published without a link.",
            **data,
        )
    if resolved:
        return finding(
            "links",
            "warn",
            text,
            "Relative links are resolved against the item's xml:base, else the feed's URL "
            "(RFC 3986 §5.1.3): check that they lead where the site means.",
            **data,
        )
    if entries and len(with_link) < len(entries):
        return finding(
            "links",
            "warn",
            text,
            "Posts of items without a link do not point back to the original.",
            **data,
        )
    return finding("links", "ok", text, "Every post links to its original.", **data)


def _dates(
    entries: tuple[RawEntry, ...], zone: tzinfo, zone_name: str, *, now: datetime
) -> list[Finding]:
    dated = [(e, e.published or e.updated) for e in entries]
    values = [when for _, when in dated if when is not None]
    naive = [when for when in values if when.tzinfo is None]
    utc = [u for u in (_in_utc(when, zone) for when in values) if u is not None]
    future = [when for when in utc if when > now + FUTURE_TOLERANCE]
    counts = Counter(utc)
    shared = sum(n for n in counts.values() if n > 1)
    undated = len(entries) - len(values)
    data = {
        "dated": len(values),
        "entries": len(entries),
        "without_zone": len(naive),
        "future": [when.isoformat() for when in sorted(future)],
        "shared": shared,
        "undated": undated,
    }
    found = [
        finding(
            "dates",
            "warn" if undated else "ok",
            f"{len(values)} of {len(entries)} items dated",
            "Undated items are published at the time they are first seen."
            if undated
            else "Every item carries a date.",
            **data,
        )
    ]
    if naive:
        found.append(
            finding(
                "dates without a zone",
                "warn",
                f"{len(naive)} dates name no time zone",
                f"They are read as {zone_name} time (the source's `timezone`, else "
                "site.timezone): set the source's timezone if that is not the feed's.",
                **data,
            )
        )
    if future:
        found.append(
            finding(
                "future dates",
                "warn",
                f"{len(future)} dates in the future, the first {future[0]:%Y-%m-%d %H:%M} UTC",
                "Dated more than 15 minutes ahead (a wrong clock or zone, or a scheduled "
                "post): those items are published at the time they are first seen, as undated.",
                **data,
            )
        )
    if shared and len(values) > 1:
        everything = shared == len(values)
        found.append(
            finding(
                "shared dates",
                "warn" if everything else "ok",
                f"{shared} items share their date with another",
                "Every item has the same date (the feed's build time, not the posts'): their "
                "order is arbitrary and `interval: auto` cannot read a posting rate."
                if everything
                else "Items of the same date are ordered as the feed lists them.",
                **data,
            )
        )
    return found


def _in_utc(when: datetime, zone: tzinfo) -> datetime | None:
    try:
        return (when.replace(tzinfo=zone) if when.tzinfo is None else when).astimezone(UTC)
    except (OverflowError, ValueError):  # year 1 or 9999 shifted past the calendar's edge
        return None


def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return UTC
