"""The store's history methods: every attempt of every source, recorded in batches, read
back for a source or a time span, and pruned past the age the config keeps.

Must not decide what an attempt was (the updater says) nor how long history is kept (the
config does): it writes, reads and deletes what it is given.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from aggregator.store.schema import attempts
from aggregator.store.transactions import Transactions, chunks
from aggregator.types import Attempt

__all__ = ["HistoryMethods"]


class HistoryMethods(Transactions):
    """Attempts of sources (see api.SourceStates and api.Metrics)."""

    def record_attempts(self, made: Sequence[Attempt]) -> None:
        """Add `made` to the history, in one transaction."""
        if not made:
            return
        rows = [
            {
                "source": a.source,
                "at": a.at,
                "node": a.node,
                "outcome": a.outcome,
                "http_status": a.http_status,
                "seconds": a.seconds,
                "bytes": a.bytes,
                "new": a.new,
                "updated": a.updated,
                "error": a.error,
            }
            for a in made
        ]

        def work(conn: Connection) -> None:
            for chunk in chunks(rows):
                conn.execute(attempts.insert(), list(chunk))

        self._run("cannot record attempts", work, write=True)

    def prune_attempts(self, before: datetime, *, limit: int = 10_000) -> int:
        """Delete at most `limit` of the oldest attempts made before `before`; how many (a
        big backlog goes in several calls, none holding the database for long)."""
        oldest = (
            sa.select(attempts.c.id)
            .where(attempts.c.at < before)
            .order_by(attempts.c.at)
            .limit(limit)
            .scalar_subquery()
        )
        statement = sa.delete(attempts).where(attempts.c.id.in_(oldest))
        return self._run(
            "cannot prune the history",
            lambda conn: int(conn.execute(statement).rowcount or 0),
            write=True,
        )

    def attempts(
        self, *, source: str | None = None, since: datetime | None = None, limit: int = 1000
    ) -> list[Attempt]:
        """The newest `limit` attempts (of `source`, since `since`), oldest first."""
        query = sa.select(attempts)
        if source is not None:
            query = query.where(attempts.c.source == source)
        if since is not None:
            query = query.where(attempts.c.at >= since)
        query = query.order_by(attempts.c.at.desc(), attempts.c.id.desc()).limit(limit)

        def work(conn: Connection) -> list[Attempt]:
            rows = conn.execute(query).all()
            return [
                Attempt(
                    source=r.source,
                    at=r.at,
                    node=r.node,
                    outcome=r.outcome,
                    http_status=r.http_status,
                    seconds=r.seconds,
                    bytes=r.bytes,
                    new=r.new,
                    updated=r.updated,
                    error=r.error,
                )
                for r in reversed(rows)
            ]

        return self._run("cannot read the history", work)
