"""The claim statement: which free, due sources a node takes, within their hosts' limits,
spelled once for each kind of claim. Must not run it (nodes.py does, under CLAIM_LOCK), nor
decide what is due (the lease rows' due times, kept by the database, say).
"""

from __future__ import annotations

from typing import Final

import sqlalchemy as sa

__all__ = ["CLAIMS", "SCAN_FACTOR"]

# A claim looks at this many free due sources per source it may take: those over their
# host's limit are passed over, and the next ones can still fill the batch.
SCAN_FACTOR: Final = 4


def _claim_sql(*, named: bool, every: bool) -> sa.TextClause:
    """The claim, as `claim_sources` sends it: among the names given or every lease row,
    due by `due_by` or any. Spelled apart for each case (no `:flag OR …` in the WHERE), so
    that the free rows are read in the order of ix_leases_free_due, up to the first
    source not due, whatever the planner's view of the parameters. Rows held by a node
    (few: what the nodes fetch now) are read by ix_leases_node, those whose lease ran out
    taken as free. Claims run one at a time (CLAIM_LOCK), so the rows read are not locked;
    of those chosen, the claim locks the ones still free and not locked by another
    transaction (SKIP LOCKED: a node renewing a lease that just ran out, or saving it, is
    never waited for, so the two can never deadlock), and takes them."""
    among = "source = ANY(CAST(:names AS text[]))" if named else "TRUE"
    due = "TRUE" if every else "due <= :due_by"
    return sa.text(
        f"""
        WITH held_rows AS (
            SELECT source, host, due, until FROM leases WHERE node IS NOT NULL
        ), free AS (
            (SELECT source, host, due FROM leases
             WHERE node IS NULL AND {among} AND {due}
               AND source <> ALL(CAST(:skip AS text[]))
             ORDER BY due, source
             LIMIT :scan)
            UNION ALL
            SELECT source, host, due FROM held_rows
            WHERE until <= :now AND {among} AND {due}
              AND source <> ALL(CAST(:skip AS text[]))
        ), held AS (
            SELECT host, count(*) AS n FROM held_rows WHERE until > :now GROUP BY host
        ), ranked AS (
            SELECT f.source, f.due,
                   coalesce(h.n, 0)
                   + row_number() OVER (PARTITION BY f.host ORDER BY f.due, f.source) AS slot
            FROM free f LEFT JOIN held h ON h.host = f.host
        ), chosen AS (
            SELECT source FROM ranked WHERE slot <= :per_host
            ORDER BY due, source
            LIMIT :limit
        ), taken AS (
            SELECT l.source FROM leases l JOIN chosen c ON c.source = l.source
            WHERE l.node IS NULL OR l.until <= :now
            FOR UPDATE OF l SKIP LOCKED
        )
        UPDATE leases SET node = :node, until = :until
        FROM taken
        WHERE leases.source = taken.source
        RETURNING leases.source,
            (SELECT s.next_check FROM sources s WHERE s.name = leases.source) AS next_check
        """
    ).bindparams(
        *(
            sa.bindparam(name, type_=sa.DateTime(timezone=True))
            for name in ("now", "until", *(() if every else ("due_by",)))
        )
    )


CLAIMS: Final = {
    (named, every): _claim_sql(named=named, every=every)
    for named in (False, True)
    for every in (False, True)
}
