"""The store's source-state methods: each source's fetch state, and hosts that asked to wait.

What the updater and the daemon read and write between attempts (validators, failures,
next check, Retry-After per host). Must not decide any of it: a state is kept as given
(update decides what it becomes); `due` only compares the stored next check with `now`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from aggregator.store.rows import state_from_row, state_values
from aggregator.store.schema import hosts, sources
from aggregator.store.transactions import Transactions, chunks, insert_of, replacing
from aggregator.types import SourceState

__all__ = ["SourceMethods"]


class SourceMethods(Transactions):
    """Source state and host deferrals (see api.SourceStates)."""

    def get_state(self, name: str) -> SourceState | None:
        """The state saved for source `name`, or None."""

        def work(conn: Connection) -> SourceState | None:
            row = conn.execute(sa.select(sources).where(sources.c.name == name)).first()
            return None if row is None else state_from_row(row)

        return self._run(f"cannot read the state of {name!r}", work)

    def states(self) -> list[SourceState]:
        """Every saved source state, ordered by name."""

        def work(conn: Connection) -> list[SourceState]:
            rows = conn.execute(sa.select(sources)).all()
            # Sorted here, not in SQL: collations differ between backends and databases.
            return sorted((state_from_row(r) for r in rows), key=lambda s: s.name)

        return self._run("cannot read source states", work)

    def get_states(self, names: Sequence[str]) -> list[SourceState]:
        """The states saved for `names` (those never saved left out), ordered by name."""
        wanted = list(dict.fromkeys(names))

        def work(conn: Connection) -> list[SourceState]:
            found: list[SourceState] = []
            for chunk in chunks(wanted):
                rows = conn.execute(sa.select(sources).where(sources.c.name.in_(chunk)))
                found.extend(state_from_row(r) for r in rows)
            return sorted(found, key=lambda s: s.name)

        return self._run("cannot read source states", work)

    def reschedule(self, state: SourceState, *, fetched: datetime | None) -> bool:
        """Write `state`'s next check and schedule, only if its source was last fetched at
        `fetched` still (no node fetched it meanwhile); whether it was written."""
        statement = (
            sa.update(sources)
            .where(
                sources.c.name == state.name,
                sources.c.last_fetched.is_(None)
                if fetched is None
                else sources.c.last_fetched == fetched,
            )
            .values(next_check=state.next_check, schedule=state.schedule)
        )
        return self._run(
            f"cannot save the schedule of {state.name!r}",
            lambda conn: bool(conn.execute(statement).rowcount),
            write=True,
        )

    def save_state(self, state: SourceState) -> None:
        """Insert or replace the state of `state.name`."""
        statement = replacing(self._engine.dialect.name, sources, state_values(state), key="name")
        self._run(
            f"cannot save the state of {state.name!r}",
            lambda conn: conn.execute(statement),
            write=True,
        )

    def save_states(self, states: Sequence[SourceState]) -> dict[str, str]:
        """Insert or replace several states in one transaction (the last one of a name wins).

        A state whose data the database refuses keeps no other out: the others are saved,
        and the refused ones returned, name -> the database's reason.
        """
        if not states:
            return {}
        rows = list({s.name: state_values(s) for s in states}.values())
        insert = insert_of(self._engine.dialect.name, sources)
        statement = insert.on_conflict_do_update(
            index_elements=[sources.c.name],
            set_={c.name: insert.excluded[c.name] for c in sources.columns if c.name != "name"},
        )

        def work(conn: Connection, batch: Sequence[dict[str, Any]]) -> None:
            for chunk in chunks(batch):
                conn.execute(statement, list(chunk))

        _, refused = self._write_rows("cannot save source states", rows, work)
        return {row["name"]: reason for row, reason in refused}

    def any_state_due(self, *, now: datetime) -> bool:
        """Whether any saved state is enabled with a next check unset or not after `now`
        (one read, in the database: no state is built)."""
        due = sa.exists().where(
            sources.c.disabled.is_(None),
            sa.or_(sources.c.next_check.is_(None), sources.c.next_check <= now),
        )
        query = sa.select(due)
        return bool(self._run("cannot read due sources", lambda conn: conn.scalar(query)))

    def due(self, names: Iterable[str], *, now: datetime) -> list[str]:
        """Of `names` (in order), those enabled whose next check is unset or not after `now`."""
        wanted = list(dict.fromkeys(names))

        def work(conn: Connection) -> list[str]:
            known: dict[str, Any] = {}  # name -> row
            for chunk in chunks(wanted):
                query = sa.select(sources.c.name, sources.c.next_check, sources.c.disabled)
                for row in conn.execute(query.where(sources.c.name.in_(chunk))):
                    known[row.name] = row
            result = []
            for name in wanted:
                state = known.get(name)
                if state is None or (
                    state.disabled is None and (state.next_check is None or state.next_check <= now)
                ):
                    result.append(name)
            return result

        return self._run("cannot read due sources", work)

    # ------------------------------------------------------------------- hosts

    def defer_host(self, host: str, *, until: datetime, reason: str | None = None) -> None:
        """Leave `host` alone until `until` (a later deferral wins over an earlier one)."""
        values = {"host": host, "not_before": until, "reason": reason}
        insert = insert_of(self._engine.dialect.name, hosts).values(**values)
        statement = insert.on_conflict_do_update(
            index_elements=[hosts.c.host],
            set_={"not_before": insert.excluded.not_before, "reason": insert.excluded.reason},
            where=hosts.c.not_before < insert.excluded.not_before,
        )
        self._run(
            f"cannot save the deferral of {host!r}",
            lambda conn: conn.execute(statement),
            write=True,
        )

    def deferred_hosts(self, *, now: datetime) -> dict[str, datetime]:
        """Hosts that asked to be left alone past `now`, with the time they gave."""
        query = sa.select(hosts.c.host, hosts.c.not_before).where(hosts.c.not_before > now)
        return self._run(
            "cannot read deferred hosts",
            lambda conn: {row.host: row.not_before for row in conn.execute(query)},
        )
