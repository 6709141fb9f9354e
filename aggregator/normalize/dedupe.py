"""Normalize stage, dedupe: `reconcile` decides which stored post each new post is, and which
new posts are another source's story already stored.

Pure: no I/O, no clock; reads the stored identities it is given, never the store. Makes
no key (identity.py does) and never raises.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace

from aggregator.types import Post, StoredIdentity

__all__ = ["reconcile"]


def reconcile(
    posts: Sequence[Post],
    stored: Sequence[StoredIdentity],
    *,
    feed_keys: Collection[str] = frozenset(),
    dedupe: Mapping[str, str] | None = None,
) -> list[Post]:
    """Posts as the store should take them: identities kept, duplicates of other sources gone.

    `stored` is what the store holds under the posts' keys and legacy keys, their canonical
    links and text hashes (Store.identities). A post takes the stored post of its own source
    that it is:

    - the one under its key, or that it claimed before (`identity_key`);
    - the one under its legacy key, stored before keys held the source and the fragment,
      that no item has claimed yet: of the posts sharing that legacy key (a page's anchors,
      once folded into one), the one showing the stored link, else the first;
    - the one its canonical link names, the only one of the source there, when the key that
      post was stored under is gone from the feed: the same item under a changed guid.

    Otherwise its category's `dedupe` mode (default "link") decides whether another
    source's post in the same category is the same story, and the post is dropped (the
    first source is credited): by its link or its global guid ("link", "content"), or its
    text ("content"); "off" keeps it. Nothing else folds two items into one post.

    Raises nothing.
    """
    modes = dedupe or {}
    found = _Stored.of(posts, stored, feed_keys)
    links_in_batch = Counter((p.source, p.canonical_link) for p in posts if p.canonical_link)
    heirs = _heirs(posts, found.by_key, found.by_identity)
    result: list[Post] = []
    taken: set[str] = set()
    for index, post in enumerate(posts):
        hit = _own_row(post, found.by_key, found.by_identity)
        if hit is None and heirs.get(post.legacy_key) == index:
            hit = found.by_key[post.legacy_key]
        if hit is not None:
            if hit.key not in taken:
                taken.add(hit.key)
                result.append(post if hit.key == post.key else replace(post, key=hit.key))
            continue
        if post.canonical_link and links_in_batch[(post.source, post.canonical_link)] == 1:
            moved = _moved(post, found, taken)
            if moved is not None:
                taken.add(moved.key)
                result.append(replace(post, key=moved.key))
                continue
        if _duplicate(post, stored, modes.get(post.category, "link")):
            continue
        if post.key not in taken:
            taken.add(post.key)
            result.append(post)
    return result


@dataclass(frozen=True, slots=True, kw_only=True)
class _Stored:
    """The stored identities as reconcile looks them up."""

    by_key: dict[str, StoredIdentity]
    by_identity: dict[str, StoredIdentity]  # under the key that claimed each
    by_link: dict[tuple[str, str], list[StoredIdentity]]  # (source, canonical link)
    current: set[str]  # every key the feed still carries, the posts' own included

    @classmethod
    def of(
        cls, posts: Sequence[Post], stored: Sequence[StoredIdentity], feed_keys: Collection[str]
    ) -> _Stored:
        current = set(feed_keys)
        for p in posts:
            current.add(p.key)
            if p.legacy_key:
                current.add(p.legacy_key)
        by_link: dict[tuple[str, str], list[StoredIdentity]] = {}
        for s in stored:
            if s.canonical_link:
                by_link.setdefault((s.source, s.canonical_link), []).append(s)
        return cls(
            by_key={s.key: s for s in stored},
            by_identity={s.identity_key: s for s in stored if s.identity_key},
            by_link=by_link,
            current=current,
        )


def _moved(post: Post, found: _Stored, taken: Collection[str]) -> StoredIdentity | None:
    """The stored post of post's source that post is under a changed guid, if any: the only
    one its canonical link names, whose key is gone from the feed and not taken yet."""
    olds = found.by_link.get((post.source, post.canonical_link), [])
    # Exactly one stored post, and its old guid is gone from the feed: a site that links
    # every item to its home page must not fold them all into one post.
    if (
        len(olds) == 1
        and olds[0].key not in found.current
        and olds[0].identity_key not in found.current
        and olds[0].key not in taken
        and _fragments_agree(post.link, olds[0].link)
    ):
        return olds[0]
    return None


def _own_row(
    post: Post, by_key: Mapping[str, StoredIdentity], by_identity: Mapping[str, StoredIdentity]
) -> StoredIdentity | None:
    # The post of post's source stored under its key, or claimed by it under another.
    for found in (by_key.get(post.key), by_identity.get(post.key)):
        if found is not None and found.source == post.source:
            return found
    return None


def _heirs(
    posts: Sequence[Post],
    by_key: Mapping[str, StoredIdentity],
    by_identity: Mapping[str, StoredIdentity],
) -> dict[str, int]:
    """For each unclaimed post stored under a legacy key of `posts` by their source: the
    index of the one post that takes it over."""
    heirs: dict[str, int] = {}
    for index, post in enumerate(posts):
        legacy = post.legacy_key
        if not legacy or legacy == post.key or _own_row(post, by_key, by_identity):
            continue
        old = by_key.get(legacy)
        if old is None or old.source != post.source or old.identity_key:
            continue
        first = heirs.get(legacy)
        if first is None or (post.link == old.link and posts[first].link != old.link):
            heirs[legacy] = index
    return heirs


def _duplicate(post: Post, stored: Sequence[StoredIdentity], mode: str) -> bool:
    if mode == "off":
        return False
    for s in stored:
        if s.source == post.source or s.category != post.category:
            continue
        same_link = bool(post.canonical_link) and s.canonical_link == post.canonical_link
        # A legacy key holds no source name only for a global guid (or an absolute link):
        # another source's post under it carries the same guid.
        same_id = bool(post.legacy_key) and post.legacy_key in (s.key, s.legacy_key)
        if (same_link or same_id) and _fragments_agree(post.link, s.link):
            return True
        if mode == "content" and post.text_hash and s.text_hash == post.text_hash:
            return True
    return False


def _fragments_agree(a: str, b: str) -> bool:
    # Two links to one page name one item unless each names an anchor of its own.
    fa, fb = _fragment(a), _fragment(b)
    return not fa or not fb or fa == fb


def _fragment(link: str) -> str:
    return link.partition("#")[2]
