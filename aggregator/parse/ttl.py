"""Parse stage: an RSS <ttl>, as both backends read it (reference.py and fast_rss.py).
Pure: no clock; it reads the value and never decides when a source is checked (schedule).
"""

from __future__ import annotations

from datetime import timedelta

__all__ = ["parse_ttl"]


def parse_ttl(value: object) -> timedelta | None:
    """An RSS <ttl> (minutes) as a duration; None when absent, unreadable or absurd."""
    if not isinstance(value, str):
        return None
    try:
        minutes = int(value.strip())
    except ValueError:
        return None
    if minutes <= 0 or minutes > 60 * 24 * 365:
        return None
    return timedelta(minutes=minutes)
