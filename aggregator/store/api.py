"""What the rest of aggregator sees of the store: a Protocol per kind of consumer, and
Owner, for whoever opened it.

The updater sees SourceStates and PostWriter (UpdateStore: both), the publisher
PublishReads, status, serve and metrics Metrics, a node of a shared store Leases, WebSub's
subscriber and serve's /websub/ routes Subscriptions (subscribing.py, re-exported); the
daemon and the CLI open the Store (Owner: its URL and close) and lend it out as each of
the others. Declares only: no SQL, no implementation (a method's behaviour is documented
on the Store's method, in sources.py, posts.py, reads.py and nodes.py).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Protocol, runtime_checkable

from aggregator.cluster import Candidate, Lease, LeasedSave, NodeRecord
from aggregator.store.subscribing import Subscriptions
from aggregator.types import (
    Attempt,
    ListedPost,
    Post,
    Reconcile,
    SourceState,
    StoredIdentity,
    UpsertResult,
)

__all__ = [
    "Leases",
    "Metrics",
    "Owner",
    "PostWriter",
    "PublishReads",
    "SourceStates",
    "Subscriptions",
    "UpdateStore",
]


@runtime_checkable
class Owner(Protocol):
    """What the process that opened the store uses of it besides lending it out: the URL
    it names in messages, and closing it."""

    @property
    def url(self) -> str:
        """The database URL, password hidden."""
        ...

    def close(self) -> None:
        """Close every pooled connection."""
        ...


@runtime_checkable
class SourceStates(Protocol):
    """Each source's fetch state and the hosts that asked to wait: what the updater and
    the daemon read and write between attempts."""

    def get_state(self, name: str) -> SourceState | None:
        """The state saved for source `name`, or None."""
        ...

    def states(self) -> list[SourceState]:
        """Every saved source state, ordered by name."""
        ...

    def get_states(self, names: Sequence[str]) -> list[SourceState]:
        """The states saved for `names` (those never saved left out), ordered by name."""
        ...

    def save_state(self, state: SourceState) -> None:
        """Insert or replace the state of `state.name`."""
        ...

    def reschedule(self, state: SourceState, *, fetched: datetime | None) -> bool:
        """Write `state`'s next check and schedule if its source's last fetch is still
        `fetched`; whether it was written."""
        ...

    def save_states(self, states: Sequence[SourceState]) -> dict[str, str]:
        """Insert or replace several states; the refused ones, name -> reason."""
        ...

    def any_state_due(self, *, now: datetime) -> bool:
        """Whether any saved state is enabled with a next check unset or not after `now`
        (one read, in the database: no state is built)."""
        ...

    def due(self, names: Iterable[str], *, now: datetime) -> list[str]:
        """Of `names` (in order), those enabled whose next check is unset or not after `now`."""
        ...

    def defer_host(self, host: str, *, until: datetime, reason: str | None = None) -> None:
        """Leave `host` alone until `until` (a later deferral wins over an earlier one)."""
        ...

    def deferred_hosts(self, *, now: datetime) -> dict[str, datetime]:
        """Hosts that asked to be left alone past `now`, with the time they gave."""
        ...

    def record_attempts(self, made: Sequence[Attempt]) -> None:
        """Add `made` to the history."""
        ...

    def prune_attempts(self, before: datetime, *, limit: int = ...) -> int:
        """Delete at most `limit` of the oldest attempts made before `before`; how many."""
        ...


@runtime_checkable
class PostWriter(Protocol):
    """Storing a source's posts, and the reads the updater needs to decide what to store
    (identities for dedupe, raw hashes to skip unchanged entries, articles to fetch)."""

    def upsert_posts(
        self,
        new_posts: Sequence[Post],
        *,
        now: datetime,
        reconcile: Reconcile | None = None,
    ) -> UpsertResult:
        """Insert new posts, update changed ones, skip unchanged ones (by key and hash);
        with `reconcile`, those it makes of them and their stored identities, read under
        the post writers' lock."""
        ...

    def identities(
        self,
        *,
        keys: Sequence[str] = (),
        links: Sequence[str] = (),
        text_hashes: Sequence[str] = (),
        legacy_keys: Sequence[str] = (),
    ) -> list[StoredIdentity]:
        """Stored posts found by key, identity key, legacy key, canonical link or text hash."""
        ...

    def raw_hashes(self, source: str) -> set[str]:
        """The raw hashes of `source`'s stored posts: entries normalize need not redo."""
        ...

    def full_text_pending(self, source: str) -> list[Post]:
        """`source`'s posts whose article is still to fetch, oldest first."""
        ...

    def mark_full_text(self, keys: Sequence[str], *, pending: bool) -> None:
        """Record that the articles of posts `keys` are still to fetch (or no longer are)."""
        ...


@runtime_checkable
class UpdateStore(SourceStates, PostWriter, Protocol):
    """All the updater sees of the store: source states and post writes, nothing else."""


@runtime_checkable
class Leases(Protocol):
    """What a node of a shared (PostgreSQL) store uses to work beside the others: its row
    and heartbeat, claims on due sources, saves under a lease, the publish lock."""

    @property
    def shared(self) -> bool:
        """Whether several processes may work on this store at once (PostgreSQL)."""
        ...

    @property
    def store_seconds(self) -> float:
        """Seconds this process has spent in the store's transactions."""
        ...

    def join_node(self, node: NodeRecord, *, forget_before: datetime | None = None) -> int:
        """Record `node` as running; release the leases a previous life of its id left;
        forget the nodes last heard of before `forget_before` that hold nothing."""
        ...

    def node_heartbeat(self, node: NodeRecord, *, until: datetime) -> int:
        """Record that `node` is alive; extend its leases to `until`; how many it holds."""
        ...

    def leave_node(self, node: NodeRecord) -> int:
        """Record that `node` stopped; release its leases; how many were released."""
        ...

    def sync_leases(self, configured: Sequence[Candidate]) -> int:
        """A lease row for each of `configured`, none for a source not configured that
        nobody holds; how many were removed."""
        ...

    def any_claimable(self, *, now: datetime) -> bool:
        """Whether a claim now could take any source (one with a lease row, due by `now`,
        held by no node or by one whose lease ran out): one indexed read."""
        ...

    def claim_sources(
        self,
        node: str,
        candidates: Sequence[Candidate] | None,
        *,
        now: datetime,
        until: datetime,
        limit: int,
        per_host: int,
        every: bool = False,
        skip: Sequence[str] = (),
        due_by: datetime | None = None,
    ) -> list[str]:
        """Lease at most `limit` sources due by `due_by` (default `now`), unheld, to `node`
        (of `candidates`, or of every source with a lease row, but `skip`); the names."""
        ...

    def release_sources(self, node: str, names: Sequence[str]) -> None:
        """Release the leases `node` holds on `names`."""
        ...

    def save_leased_states(self, states: Sequence[SourceState], *, node: str) -> LeasedSave:
        """Save the states whose source `node` still holds, releasing each."""
        ...

    def node_records(self) -> list[NodeRecord]:
        """Every node that joined, with the leases each holds now."""
        ...

    def leases_held(self) -> dict[str, Lease]:
        """Source name -> who holds it until when."""
        ...

    def publishing(self) -> contextlib.AbstractContextManager[bool]:
        """Hold the publish lock for a block if no other node does; whether it is held."""
        ...


@runtime_checkable
class PublishReads(Protocol):
    """What a publish reads (settled posts only), and what it marks: slugs settled,
    revisions published, old posts deleted, the base of its ids kept."""

    @property
    def shared(self) -> bool:
        """Whether several processes may work on this store at once (PostgreSQL)."""
        ...

    def publishing(self) -> contextlib.AbstractContextManager[bool]:
        """Hold the publish lock for a block if no other node does; whether it is held."""
        ...

    def settle_slugs(self) -> int:
        """Give the posts stored since the last call their slugs for good; how many moved."""
        ...

    def pending(self) -> list[Post]:
        """Posts new or changed since they were last published, oldest first."""
        ...

    def pending_revisions(self) -> list[tuple[str, int]]:
        """(key, revision) of every post new or changed since last published; no content."""
        ...

    def mark_published(self, keys_and_revisions: Sequence[tuple[str, int]]) -> None:
        """Record that each (key, revision) was published."""
        ...

    def recent_posts(self, *, category: str | None = None, limit: int | None = None) -> list[Post]:
        """Posts newest first (published descending, then key), of one category or all."""
        ...

    def iter_posts(self, *, batch: int = ...) -> Iterator[list[Post]]:
        """Every post whose slug is settled, `batch` at a time (by key)."""
        ...

    def get_post(self, key: str) -> Post | None:
        """The post stored under `key`, or None."""
        ...

    def get_posts(self, keys: Sequence[str]) -> list[Post]:
        """The posts stored under `keys` (missing ones left out), in the order of `keys`."""
        ...

    def listed_posts(self, category: str, *, offset: int, limit: int) -> list[ListedPost]:
        """One category's posts in arrival order (first seen, then key), without content."""
        ...

    def arrival_positions(self, keys: Sequence[str]) -> dict[str, int]:
        """Each post's 0-based index in its category's arrival order."""
        ...

    def categories(self) -> list[str]:
        """Category slugs that have at least one post, sorted."""
        ...

    def tags(self) -> list[str]:
        """Every tag some post carries, sorted."""
        ...

    def posts_with_tags(self, tags: Sequence[str], *, limit: int) -> list[Post]:
        """The newest `limit` posts carrying any of `tags`."""
        ...

    def delete_posts_published_before(self, cutoff: datetime) -> list[ListedPost]:
        """Delete every post published before `cutoff`; return what was deleted."""
        ...

    def count_posts(self, category: str | None = None) -> int:
        """Number of posts (settled, as recent_posts), of one category or all."""
        ...

    def count_pending(self) -> int:
        """Number of posts new or changed since they were last published (as `pending`)."""
        ...

    def states(self) -> list[SourceState]:
        """Every saved source state, ordered by name (feed titles and links)."""
        ...

    def id_base(self, base_url: str) -> str:
        """The base URL the site's ids are made from: the first publish's (`base_url` then)."""
        ...

    def category_titles(self, titles: Mapping[str, str]) -> dict[str, str]:
        """Keep `titles` (slug -> title); every title kept, those of categories gone too."""
        ...

    def retag(self, tags: Mapping[str, tuple[str, ...]], rehash: Callable[[Post], Post]) -> int:
        """Give each named source's posts its `tags` (a new revision each changed one, its
        hashes by `rehash`); how many changed."""
        ...


@runtime_checkable
class Metrics(Protocol):
    """The figures `status`, `serve` (/healthz, /metrics) and metrics read: the sources',
    and on a shared store the nodes' and their leases."""

    @property
    def shared(self) -> bool:
        """Whether several processes may work on this store at once (PostgreSQL)."""
        ...

    def states(self) -> list[SourceState]:
        """Every saved source state, ordered by name."""
        ...

    def post_counts(self) -> dict[str, int]:
        """Number of stored posts by source name (sources without posts are absent)."""
        ...

    def attempts(
        self, *, source: str | None = None, since: datetime | None = None, limit: int = ...
    ) -> list[Attempt]:
        """The newest `limit` attempts (of `source`, since `since`), oldest first."""
        ...

    def publish_counts(self) -> tuple[int, int]:
        """(posts published at least once, posts new or changed since last published)."""
        ...

    def node_records(self) -> list[NodeRecord]:
        """Every node that joined, with the leases each holds now ([] on SQLite)."""
        ...

    def leases_held(self) -> dict[str, Lease]:
        """Source name -> who holds it until when ({} on SQLite)."""
        ...
