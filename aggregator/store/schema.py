"""The store's tables as they are today: column types, tables, indexes, and the row
predicates queries share (pending, settled, awaiting full text).

Declares only: it runs no statement and migrates nothing (migrations.py walks a database
to this schema, and must not find a step's change made).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Final

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

__all__ = [
    "ARRIVAL_INDEX",
    "HISTORY_INDEXES",
    "IDENTITY_INDEXES",
    "IDENTITY_V6_INDEXES",
    "LEASE_DUE_DDL",
    "LEASE_DUE_INDEX",
    "LEASE_INDEXES",
    "VOLUME_INDEXES",
    "Tags",
    "UTCDateTime",
    "attempts",
    "hosts",
    "is_pending",
    "leases",
    "metadata",
    "nodes",
    "partial_on_postgresql",
    "posts",
    "pushes",
    "schema_version",
    "settled",
    "site",
    "sources",
    "subscriptions",
    "unsettled",
    "wants_article",
]


class UTCDateTime(sa.TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on every backend.

    SQLite has no time zones: values are stored as naive UTC and read back as UTC.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            # A programming error (records hold aware datetimes); SQLAlchemy wraps it in a
            # StatementError, which transactions.py turns into a StoreError.
            raise ValueError(f"naive datetime {value.isoformat()}: the store takes aware ones")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Tags(sa.TypeDecorator[tuple[str, ...]]):
    """A tuple of tags stored as JSON text (readable in any SQL shell, on any backend)."""

    impl = sa.Text
    cache_ok = True

    def process_bind_param(self, value: tuple[str, ...] | None, dialect: Dialect) -> str | None:
        return None if value is None else json.dumps(list(value), ensure_ascii=False)

    def process_result_value(self, value: str | None, dialect: Dialect) -> tuple[str, ...] | None:
        return None if value is None else tuple(json.loads(value))


metadata = sa.MetaData()

schema_version = sa.Table(
    "schema_version",
    metadata,
    sa.Column("version", sa.Integer, nullable=False),
)

sources = sa.Table(
    "sources",
    metadata,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("config_url", sa.Text, nullable=False),
    sa.Column("etag", sa.Text),
    sa.Column("last_modified", sa.Text),
    sa.Column("content_hash", sa.Text),
    sa.Column("feed_title", sa.Text),
    sa.Column("feed_link", sa.Text),
    sa.Column("feed_id", sa.Text),
    sa.Column("last_fetched", UTCDateTime),
    sa.Column("last_success", UTCDateTime),
    sa.Column("last_status", sa.Integer),
    sa.Column("failures", sa.Integer, nullable=False, default=0),
    sa.Column("last_error", sa.Text),
    sa.Column("next_check", UTCDateTime),
    sa.Column("disabled", sa.Text),
    # Version 2: redirect counting and the feed's <ttl>.
    sa.Column("redirect_target", sa.Text),
    sa.Column("redirect_count", sa.Integer, nullable=False, default=0, server_default="0"),
    sa.Column("feed_ttl_seconds", sa.Integer),
    # Version 5: items past max_items the last parsed body held, dropped unread.
    sa.Column("dropped_items", sa.Integer, nullable=False, default=0, server_default="0"),
    # Version 9: the schedule (interval, or cron and zone) next_check was drawn from.
    sa.Column("schedule", sa.Text),
    # Version 11: what `interval: auto` reads of the last parsed body (schedule.posting_rate).
    sa.Column("posting_gap_seconds", sa.Integer),
    sa.Column("newest_item", UTCDateTime),
    # Version 13: the page whose advertised feed `url` is (autodiscovery).
    sa.Column("discovered_from", sa.Text),
)

# Version 2: a host that asked us to wait (429/503 Retry-After) is left alone until then,
# whichever of its sources is due.
hosts = sa.Table(
    "hosts",
    metadata,
    sa.Column("host", sa.Text, primary_key=True),
    sa.Column("not_before", UTCDateTime, nullable=False),
    sa.Column("reason", sa.Text),
)

posts = sa.Table(
    "posts",
    metadata,
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("category", sa.Text, nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("link", sa.Text, nullable=False),
    sa.Column("published", UTCDateTime, nullable=False),
    sa.Column("updated", UTCDateTime, nullable=False),
    sa.Column("content_html", sa.Text, nullable=False),
    sa.Column("tags", Tags, nullable=False),
    sa.Column("slug", sa.Text, nullable=False, unique=True),
    sa.Column("content_hash", sa.Text, nullable=False),
    sa.Column("dated", sa.Boolean, nullable=False),
    sa.Column("first_seen", UTCDateTime, nullable=False),
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("published_revision", sa.Integer, nullable=False),
    # Version 3: identity and duplicates (see normalize.reconcile), unchanged-entry skipping.
    sa.Column("canonical_link", sa.Text, nullable=False, server_default=""),
    sa.Column("text_hash", sa.Text, nullable=False, server_default=""),
    sa.Column("raw_hash", sa.Text, nullable=False, server_default=""),
    # Version 5: how many more rounds a post's article may be tried in (0: none to fetch).
    sa.Column("full_text_tries", sa.Integer, nullable=False, server_default="0"),
    # Version 6: keys hold the source and the fragment (normalize.post_key). A row keeps
    # the key it was stored under; these say which item holds it (Post.identity_key, "" for
    # a row stored before that no item has claimed yet) and its key under the formula
    # before (Post.legacy_key: the key itself for a row stored before).
    sa.Column("identity_key", sa.Text, nullable=False, server_default=""),
    sa.Column("legacy_key", sa.Text, nullable=False, server_default=""),
    # Version 7: the item's author as normalize cleaned it; NULL: the item named none.
    sa.Column("author", sa.Text),
)

# Version 8: what the site keeps from its first publish, one value per key (see
# Store.id_base: the base_url its atom:ids are made from).
site = sa.Table(
    "site",
    metadata,
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

# Version 10: the nodes working on one PostgreSQL database, and which node holds which
# source (a lease, until a time) while it fetches it. A lease row per configured source,
# made when a node first claims it; `node` NULL: nobody holds it.
nodes = sa.Table(
    "nodes",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("host", sa.Text, nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("started", UTCDateTime, nullable=False),
    sa.Column("heartbeat", UTCDateTime, nullable=False),
    sa.Column("stopped", UTCDateTime),  # NULL: running (or died without a word)
    sa.Column("rounds", sa.Integer, nullable=False, server_default="0"),
    sa.Column("fetched", sa.Integer, nullable=False, server_default="0"),
    sa.Column("errors", sa.Integer, nullable=False, server_default="0"),
    sa.Column("store_seconds", sa.Float, nullable=False, server_default="0"),
)
leases = sa.Table(
    "leases",
    metadata,
    sa.Column("source", sa.Text, primary_key=True),
    sa.Column("host", sa.Text, nullable=False),  # the source's host: per-host limits
    sa.Column("url", sa.Text, nullable=False),  # its config URL as the claiming node knew it
    sa.Column("node", sa.Text),
    sa.Column("until", UTCDateTime),
    # Version 15: when the source is next due, kept by the database itself (LEASE_DUE_DDL,
    # PostgreSQL only): -infinity when never fetched or moved to another URL, infinity
    # when disabled, else its next check. Never read back: claims only compare and order.
    sa.Column("due", UTCDateTime),
)
# A node's own leases (renewal, release) and a host's held leases are read by index.
LEASE_INDEXES: Final = (
    sa.Index("ix_leases_node", leases.c.node),
    sa.Index("ix_leases_host", leases.c.host),
)
# Version 15: a claim reads the most overdue free sources in index order, and stops at the
# first not due: its cost is that of the rows it takes, not of every source, nor of the
# rows the nodes hold (partial: those are not in it).
_free = leases.c.node.is_(None)
LEASE_DUE_INDEX: Final = sa.Index(
    "ix_leases_free_due",
    leases.c.due,
    leases.c.source,
    sqlite_where=_free,
)
# Version 15, PostgreSQL: leases.due follows the source's state whoever writes it (a node's
# save, `sources enable`, a reschedule) and its lease row's URL (a node's sync).
LEASE_DUE_DDL: Final = (
    """
    CREATE FUNCTION aggregator_lease_due(
        disabled text, next_check timestamptz, config_url text, lease_url text
    ) RETURNS timestamptz LANGUAGE sql IMMUTABLE AS $$
        SELECT CASE
            WHEN config_url IS DISTINCT FROM lease_url THEN '-infinity'::timestamptz
            WHEN disabled IS NOT NULL THEN 'infinity'::timestamptz
            ELSE coalesce(next_check, '-infinity'::timestamptz)
        END
    $$
    """,
    """
    CREATE FUNCTION aggregator_source_due() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            UPDATE leases SET due = '-infinity' WHERE source = OLD.name;
            RETURN NULL;
        END IF;
        UPDATE leases
        SET due = aggregator_lease_due(NEW.disabled, NEW.next_check, NEW.config_url, url)
        WHERE source = NEW.name AND due IS DISTINCT FROM
            aggregator_lease_due(NEW.disabled, NEW.next_check, NEW.config_url, url);
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER sources_lease_due
    AFTER INSERT OR DELETE OR UPDATE OF next_check, disabled, config_url ON sources
    FOR EACH ROW EXECUTE FUNCTION aggregator_source_due()
    """,
    """
    CREATE FUNCTION aggregator_lease_row_due() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        NEW.due := coalesce(
            (SELECT aggregator_lease_due(s.disabled, s.next_check, s.config_url, NEW.url)
             FROM sources s WHERE s.name = NEW.source),
            '-infinity');
        RETURN NEW;
    END
    $$
    """,
    """
    CREATE TRIGGER leases_due
    BEFORE INSERT OR UPDATE OF url ON leases
    FOR EACH ROW EXECUTE FUNCTION aggregator_lease_row_due()
    """,
)

# Version 12: every attempt of every source, kept for `history.keep` (Store.prune_attempts).
attempts = sa.Table(
    "attempts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("node", sa.Text),
    sa.Column("outcome", sa.Text, nullable=False),
    sa.Column("http_status", sa.Integer),
    sa.Column("seconds", sa.Float, nullable=False),
    sa.Column("bytes", sa.Integer),
    sa.Column("new", sa.Integer, nullable=False),
    sa.Column("updated", sa.Integer, nullable=False),
    sa.Column("error", sa.Text),
)
# One source's attempts in time order; the oldest of all, for pruning.
HISTORY_INDEXES: Final = (
    sa.Index("ix_attempts_source_at", attempts.c.source, attempts.c.at),
    sa.Index("ix_attempts_at", attempts.c.at),
)

# Version 14: WebSub subscriptions (one per source, to the hub its feed names; see
# aggregator.websub.records.Subscription), and the pushes `serve` received and checked,
# waiting for the daemon to process them as fetched bodies (oldest first, then deleted).
subscriptions = sa.Table(
    "subscriptions",
    metadata,
    sa.Column("source", sa.Text, primary_key=True),
    sa.Column("hub", sa.Text, nullable=False),
    sa.Column("topic", sa.Text, nullable=False),
    sa.Column("callback_id", sa.Text, nullable=False, unique=True),
    sa.Column("secret", sa.Text, nullable=False),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("requested", UTCDateTime),
    sa.Column("lease_until", UTCDateTime),
    sa.Column("lease_seconds", sa.Integer),
    sa.Column("retry_at", UTCDateTime),
    sa.Column("failures", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_error", sa.Text),
)
pushes = sa.Table(
    "pushes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("callback_id", sa.Text, nullable=False),
    sa.Column("received", UTCDateTime, nullable=False),
    sa.Column("content_type", sa.Text),
    sa.Column("body", sa.LargeBinary, nullable=False),
)

is_pending = posts.c.revision > posts.c.published_revision
# Category pages and feeds read the newest posts of one category.
sa.Index("ix_posts_category_published", posts.c.category, posts.c.published)
# The combined feed and index page read the newest posts of all categories.
sa.Index("ix_posts_published", posts.c.published)
# Partial: after a publish almost no row is pending, so the index stays tiny.
sa.Index(
    "ix_posts_pending",
    posts.c.published,
    sqlite_where=is_pending,
)
# Version 3: a changed guid is found by its link, a duplicate story by its link or text,
# and a source's known raw hashes are read in one pass.
IDENTITY_INDEXES: Final = (
    sa.Index("ix_posts_canonical_link", posts.c.canonical_link),
    sa.Index("ix_posts_text_hash", posts.c.text_hash),
    sa.Index("ix_posts_source_raw_hash", posts.c.source, posts.c.raw_hash),
)
# Version 4: a category's arrival order (pages, positions of new posts) read from the index
# alone. The row is no help: its columns after content_html sit behind the body's overflow
# pages, so numbering a category of 2,000 posts read 2,000 bodies.
ARRIVAL_INDEX: Final = sa.Index(
    "ix_posts_category_arrival", posts.c.category, posts.c.first_seen, posts.c.key
)

# Version 5: posts whose slugs are not settled yet (see Store.settle_slugs): a round's new
# posts until the next publish, with what settling reads. A table of its own, so that
# settling rewrites no post row (each holds its body: 25,000 took 1.5 s).
unsettled = sa.Table(
    "unsettled_slugs",
    metadata,
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("slug", sa.Text, nullable=False),  # given when stored; may still move
    sa.Column("base", sa.Text, nullable=False),
    sa.Column("published", UTCDateTime, nullable=False),
    sa.Column("dated", sa.Boolean, nullable=False),
)
settled = ~sa.exists().where(unsettled.c.key == posts.c.key)
wants_article = posts.c.full_text_tries > 0
# Version 5: stays tiny (the articles a budget left for later), so a partial index finds
# them without reading the table.
VOLUME_INDEXES: Final = (
    sa.Index(
        "ix_posts_full_text_tries",
        posts.c.source,
        sqlite_where=wants_article,
    ),
)

# Version 6: a post is found by the key its item claimed it with, and by its legacy key
# (the post an upgraded store holds for an item, another source's under one global guid).
IDENTITY_V6_INDEXES: Final = (
    sa.Index("ix_posts_identity_key", posts.c.identity_key),
    sa.Index("ix_posts_legacy_key", posts.c.legacy_key),
)


def partial_on_postgresql() -> None:
    """Give each partial index its WHERE on PostgreSQL too (the one it has on SQLite):
    called when a PostgreSQL store is opened, before any DDL. Declared above, with
    `postgresql_where=`, it would load SQLAlchemy's PostgreSQL dialect (30 ms) in every
    command of an SQLite store."""
    for table in metadata.tables.values():
        for index in table.indexes:
            where = index.dialect_options["sqlite"]["where"]
            if where is not None:
                index.dialect_options["postgresql"]["where"] = where
