"""Parse stage: an RSS <ttl>, as both backends read it (reference.py and fast_rss.py), and
RSS <skipHours>/<skipDays>, which `aggregator doctor` reports. Pure: no clock; it reads the
values and never decides when a source is checked (schedule).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

__all__ = ["DAYS", "parse_skip_days", "parse_skip_hours", "parse_ttl"]

DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


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


def parse_skip_hours(values: Iterable[object]) -> tuple[int, ...]:
    """RSS <skipHours>' <hour> values (0-23, GMT as RSS 2.0 says), each once and sorted;
    unreadable ones left out ("24", which some feeds write for midnight, is 0)."""
    hours: set[int] = set()
    for value in values:
        text = value.strip() if isinstance(value, str) else ""
        # Decimal digits (any script's), few: int() refuses "²" (which isdigit takes) and
        # 4,300 digits.
        if text.isdecimal() and len(text) <= 2:
            hour = int(text)
            if hour <= 24:
                hours.add(hour % 24)
    return tuple(sorted(hours))


def parse_skip_days(values: Iterable[object]) -> tuple[str, ...]:
    """RSS <skipDays>' <day> values as DAYS names, each once, Monday first; unreadable
    ones left out (case is ignored)."""
    names = {value.strip().lower() for value in values if isinstance(value, str)}
    return tuple(day for day in DAYS if day.lower() in names)
