"""The log lines of what one parsed body left out (items past max_items, page items without
a title or link, links that are no http(s) URL, bodies cut before sanitizing): one warning a
kind a source, each item at DEBUG. Must NOT decide what is left out (worker.py does).
"""

from __future__ import annotations

import logging

from aggregator.update.worker import JobResult

__all__ = ["log_left_out"]

# Named as before the stage became a package: the JSON log lines carry it.
log = logging.getLogger("aggregator.update")


def log_left_out(name: str, parsed: JobResult, *, max_items: int | None) -> None:
    """Log what source `name`'s parsed body left out."""
    if parsed.dropped:
        log.warning(
            "%s: %d items past max_items dropped (the newest %d kept)",
            name,
            parsed.dropped,
            max_items,
        )
    if parsed.expired:
        log.debug("%s: %d item(s) older than site.retention left out", name, parsed.expired)
    if parsed.skipped:
        log.warning(
            "%s: %d page item(s) left out, without a title or an http(s) link",
            name,
            parsed.skipped,
        )
    if parsed.dropped_links:
        log.warning(
            "%s: %d item link(s) left out, not http(s) URLs (first: %r);"
            " those items are published without a link",
            name,
            len(parsed.dropped_links),
            parsed.dropped_links[0][:200],
        )
    if parsed.oversized:
        # One line a source, not one an item (cron mail); each item at DEBUG.
        first = parsed.oversized[0]
        log.warning(
            "%s: %d item bodies cut before sanitizing (first %s: %d characters to %d)",
            name,
            len(parsed.oversized),
            first.item or "(no link)",
            first.size,
            first.kept,
        )
    for cut in parsed.oversized:
        log.debug(
            "%s: item %s: body of %d characters cut to %d before sanitizing",
            name,
            cut.item or "(no link)",
            cut.size,
            cut.kept,
        )
