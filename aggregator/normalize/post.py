"""Normalize stage, posts: a ParsedFeed's entries -> Posts (clean title, safe HTML, UTC
dates, stable keys), the source's and its category's rules applied.

Pure: no I/O and no clock (`now` is a parameter); never raises on what a feed contains.
Puts the other files' parts together: cleans no HTML, text or URL itself.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aggregator.normalize.identity import (
    _content_hash,
    _digest,
    _entry_key,
    _keys,
    _salt,
    _text_digest,
    raw_hash,
    text_hash,
)
from aggregator.normalize.sanitize import sanitize_html
from aggregator.normalize.text import (
    FALLBACK_TITLE_LENGTH,
    TITLE_LENGTH,
    _sanitized_text,
    _title_text,
    _truncate,
    clean_author,
)
from aggregator.normalize.urls import _absolute, _homes, canonical_link
from aggregator.rules import RuleSet, map_category, rule_set, strip_elements
from aggregator.slug import slugify
from aggregator.types import Category, ParsedFeed, Post, RawEntry, Source

__all__ = ["MAX_BODY_CHARS", "Oversized", "normalize", "normalize_with_keys", "with_content"]

# The most HTML of one item that is sanitized: 1,000,000 characters, some fifty times a long
# article with its markup. A larger body (a hostile feed, or a site that puts its whole
# archive in one item) is cut before its cost is paid: see _capped.
MAX_BODY_CHARS = 1_000_000
# A date this far ahead of the fetch is a wrong clock or a scheduled post, not news: it is
# clamped to the time fetched (and counts as undated, so it never moves again).
FUTURE_TOLERANCE = timedelta(minutes=15)
# A date before this year is a misread ("99-12-31" as year 99), not a publication date: the
# item counts as undated. Post files must carry four-digit years (Jekyll reads no other).
MIN_YEAR = 1000


def normalize(
    feed: ParsedFeed,
    source: Source,
    *,
    now: datetime,
    site_timezone: str,
    feed_url: str,
    category: Category | None = None,
    known: Collection[str] = frozenset(),
) -> list[Post]:
    """Map every usable entry of `feed` to a Post, in feed order, one per key.

    An entry with neither link, guid, title nor content is skipped; a later entry with
    the key of an earlier one is dropped (feeds do repeat items). The source's rules and
    its `category`'s apply (include/exclude, max age, strip, category map). An entry whose
    raw hash is in `known` was normalized before and has not changed: it is skipped
    without the cost of sanitizing it.

    Raises nothing on what the feed holds.
    """
    posts, _ = normalize_with_keys(
        feed,
        source,
        now=now,
        site_timezone=site_timezone,
        feed_url=feed_url,
        category=category,
        known=known,
    )
    return posts


def normalize_with_keys(
    feed: ParsedFeed,
    source: Source,
    *,
    now: datetime,
    site_timezone: str,
    feed_url: str,
    category: Category | None = None,
    known: Collection[str] = frozenset(),
    oversized: list[Oversized] | None = None,
    dropped_links: list[str] | None = None,
) -> tuple[list[Post], set[str]]:
    """normalize(...) and entry_keys(...) of one feed in one pass: posts and feed keys.

    Each entry whose body was cut to MAX_BODY_CHARS is added to `oversized`, and each link
    left out because it is no http(s) URL (`javascript:`, `data:`, unresolvable) to
    `dropped_links`, when given.

    Raises nothing on what the feed holds.
    """
    zone = _zone(source.timezone or site_timezone)
    now_utc = now.astimezone(UTC) if now.tzinfo is not None else now.replace(tzinfo=UTC)
    feed_home, legacy_home = _homes(feed, feed_url)
    rules = rule_set(source, category)
    salt = _salt(source, category, site_timezone, feed_home, legacy_home)
    posts: list[Post] = []
    seen: set[str] = set()
    keys: set[str] = set()
    for entry in feed.entries:
        digest = raw_hash(entry, salt)
        post = None
        if digest not in known:
            post = _post(
                entry,
                source,
                zone=zone,
                now=now_utc,
                feed_home=feed_home,
                legacy_home=legacy_home,
                rules=rules,
                raw=digest,
                oversized=oversized,
                dropped_links=dropped_links,
            )
        if post is not None and post.key not in seen:
            seen.add(post.key)
            posts.append(post)
        if entry.guid or entry.link:
            if post is not None and ((entry.guid or "").strip() or (entry.link or "").strip()):
                # Made from the guid or the link: entry_keys' keys.
                keys.add(post.key)
                keys.add(post.legacy_key)
            else:
                keys.update(_entry_key(entry, source.name, feed_home, legacy_home))
    return posts, keys


def with_content(post: Post, content_html: str) -> Post:
    """`post` showing `content_html` (already sanitized) instead, its hashes to match.

    Raises nothing.
    """
    return replace(
        post,
        content_html=content_html,
        content_hash=_digest([post.title, post.link, content_html, list(post.tags)]),
        text_hash=text_hash(content_html),
    )


def _post(
    entry: RawEntry,
    source: Source,
    *,
    zone: tzinfo,
    now: datetime,
    feed_home: str | None,
    legacy_home: str | None,
    rules: RuleSet,
    raw: str = "",
    oversized: list[Oversized] | None = None,
    dropped_links: list[str] | None = None,
) -> Post | None:
    if not (entry.link or entry.guid or entry.title or entry.content or entry.summary):
        return None
    # Parsing resolved the link against the xml:base in effect for it; what is still
    # relative resolves against the feed's own URL (entry.base is the content's base).
    link = _absolute(entry.link, feed_home) or ""
    if not link and dropped_links is not None and entry.link and entry.link.strip():
        dropped_links.append(entry.link.strip())
    base = entry.base or link or feed_home
    body = _body(entry, link, oversized)
    if rules.strip:
        body = strip_elements(body, rules.strip)
    content_html = sanitize_html(body, base_url=base, allow_data_images=source.allow_data_images)
    text = _sanitized_text(content_html)  # the body's text, once: title, rules and text hash
    title = _title(entry, text, link, source.name)
    published, updated, dated = _dates(entry, zone, source.date_offset, now)
    if rules.filters and not rules.keep(title=title, text=text, published=published, now=now):
        return None
    canonical = canonical_link(link) if link else ""
    key, legacy_key = _keys(
        entry,
        source,
        link=link,
        canonical=canonical,
        base=base,
        body=body,
        content_html=content_html,
        feed_home=feed_home,
        legacy_home=legacy_home,
    )
    tags = source.tags
    return Post(
        key=key,
        legacy_key=legacy_key,
        identity_key=key,
        source=source.name,
        category=map_category(entry.categories, source.category_map) or source.category,
        title=title,
        link=link,
        published=published,
        updated=updated,
        content_html=content_html,
        tags=tags,
        slug=slugify(title) or "post",
        content_hash=_content_hash(title, link, content_html, tags),
        dated=dated,
        canonical_link=canonical,
        text_hash=_text_digest(text),
        raw_hash=raw,
        author=clean_author(entry.author),
    )


def _title(entry: RawEntry, text: str, link: str, source_name: str) -> str:
    # clean_title, with `text` (the body's) as the fallback's reading of content_html; then
    # the link, then the source's name: a post always has a title.
    return (
        _truncate(_title_text(entry.title or ""), TITLE_LENGTH)
        or _truncate(text, FALLBACK_TITLE_LENGTH)
        or link
        or source_name
    )


def _body(entry: RawEntry, link: str, oversized: list[Oversized] | None) -> str:
    """The entry's HTML to sanitize: its content, else its summary, capped (and noted in
    `oversized`) when longer than MAX_BODY_CHARS."""
    body = entry.content or entry.summary or ""
    if len(body) > MAX_BODY_CHARS:
        capped = _capped(body, entry.summary)
        if oversized is not None:
            item = link or (entry.guid or "").strip() or (entry.title or "").strip()[:80]
            oversized.append(Oversized(item=item, size=len(body), kept=len(capped)))
        body = capped
    return body


def _dates(
    entry: RawEntry, zone: tzinfo, offset: timedelta, now: datetime
) -> tuple[datetime, datetime, bool]:
    """(published, updated, dated): an entry without a usable date, or dated too far ahead,
    is published `now` and counts as undated; updated is never before published, nor
    after `now` unless published is."""
    published = _dated(entry.published, zone, offset) or _dated(entry.updated, zone, offset)
    dated = published is not None
    if published is None or published > now + FUTURE_TOLERANCE:
        published, dated = now, False
    updated = _dated(entry.updated, zone, offset) or published
    updated = min(max(updated, published), max(now, published))
    return published, updated, dated


@dataclass(frozen=True, slots=True, kw_only=True)
class Oversized:
    """An item whose body was cut to MAX_BODY_CHARS before sanitizing."""

    item: str  # its link, else its guid, else its title
    size: int  # characters of HTML it carried
    kept: int  # characters sanitized


def _capped(body: str, summary: str | None) -> str:
    """`body` cut to at most MAX_BODY_CHARS: its summary when that is short enough and not
    the same text, else its head, ended before the last tag that would be cut in two."""
    if summary and len(summary) <= MAX_BODY_CHARS and not body.startswith(summary):
        return summary
    head = body[:MAX_BODY_CHARS]
    tag = head.rfind("<")
    # A cut inside a tag would leave half of it (an attribute's value) as text.
    if tag > MAX_BODY_CHARS // 2 and head.find(">", tag) == -1:
        head = head[:tag]
    return head


@lru_cache(maxsize=64)
def _zone(name: str) -> tzinfo:
    # Config validation refuses unknown zones; UTC here keeps normalize total anyway.
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return UTC


def _dated(value: datetime | None, zone: tzinfo, offset: timedelta) -> datetime | None:
    utc = _in_utc(value, zone)
    if utc is not None and offset:
        try:
            utc = utc + offset
        except OverflowError:
            return None
    if utc is None or utc.year < MIN_YEAR:
        return None
    return utc


def _in_utc(value: datetime | None, zone: tzinfo) -> datetime | None:
    """`value` as aware UTC; a naive value is read as local time in `zone`.

    A zone abbreviation that `zone` itself uses means `zone`: "CST" in a feed from
    Asia/Shanghai is China Standard Time (+08:00), not RFC 822's US Central (-06:00).
    """
    if value is None:
        return None
    try:
        if value.tzinfo is None:
            aware = value.replace(tzinfo=zone)
        else:
            aware = value
            name = value.tzname() if isinstance(value.tzinfo, timezone) else None
            if name and name.isalpha():
                local = value.replace(tzinfo=zone)
                if local.tzname() == name:
                    aware = local
        return aware.astimezone(UTC)
    except (OverflowError, ValueError):
        return None  # year 1 or 9999 shifted past the calendar's edge
