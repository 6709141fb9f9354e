"""Date parsing: µs per date for aggregator.parse.dates.parse_date against email.utils and the
general-purpose libraries, over a realistic mix of feed dates (mostly RFC 822 and ISO 8601,
some odd ones). In process; measures only.

    python -m bench.dates            # µs per date, each parser over the same mix
    python -m bench.dates --table    # and how many rows of tests/test_dates.py each reads right

Candidates that are not installed (ciso8601, pendulum) are left out.
"""

from __future__ import annotations

import argparse
import email.utils
import random
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if not __package__:  # run as `python bench/dates.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# The odd ones, as real feeds write them; {d} is the day of the month.
_ODD = (
    "Nov. {d}, 2020, 10:57 a.m.",
    "October {d}, 2023 1:55 PM EST",
    "Mo, {d} Okt 2023 10:00:00 +0200",
    "{d} octobre 2023",
    "{d} de octubre de 2023 a las 10:00 CEST",
    "2023年10月{d}日 21:55",
    "{d} октября 2023 г.",
    "Mon, {d} Oct 2023 10:00:00 CEST",
    "2023-10-{d:02d} 10:00:00 America/Los_Angeles",
    "{d}.10.2023 10:00",
)


def mix(n: int = 5000, seed: int = 1) -> list[str]:
    """`n` dates: 70% RFC 822 (62% the common shape, 8% zone names or no seconds), 25% ISO
    8601 (Atom, dc:date), 5% the odd shapes above."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        day, month, year = rng.randint(1, 28), rng.randint(1, 12), rng.randint(2015, 2025)
        hh, mm, ss = rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59)
        weekday = _DAYS[datetime(year, month, day).weekday()]
        r = rng.random()
        if r < 0.62:
            zone = rng.choice(("GMT", "+0800", "+0000", "-0500", "+0200"))
            clock = f"{hh:02d}:{mm:02d}:{ss:02d}"
            out.append(f"{weekday}, {day:02d} {_MONTHS[month - 1]} {year} {clock} {zone}")
        elif r < 0.70:
            zone = rng.choice(("EST", "PDT", "CST", "+0800"))
            out.append(f"{weekday}, {day} {_MONTHS[month - 1]} {year} {hh:02d}:{mm:02d} {zone}")
        elif r < 0.95:
            zone = rng.choice(("Z", "+08:00", ".000Z", "-04:00", ""))
            out.append(f"{year}-{month:02d}-{day:02d}T{hh:02d}:{mm:02d}:{ss:02d}{zone}")
        else:
            out.append(rng.choice(_ODD).format(d=day))
    return out


def _quiet(fn: Callable[[str], Any]) -> Callable[[str], Any]:
    def call(text: str) -> Any:
        try:
            return fn(text)
        except Exception:  # each candidate's own way of saying "cannot read"
            return None

    return call


def candidates() -> dict[str, Callable[[str], Any]]:
    """name -> a function of one date string (None or an exception: not read)."""
    from aggregator.parse.dates import parse_date

    found: dict[str, Callable[[str], Any]] = {
        "ours (aggregator.parse.dates)": parse_date,
        "email.utils.parsedate_to_datetime": _quiet(email.utils.parsedate_to_datetime),
    }
    try:
        from dateutil import parser as dateutil_parser

        found["dateutil.parser.parse"] = _quiet(dateutil_parser.parse)
    except ImportError:
        pass
    try:
        import dateparser

        settings = {"RETURN_AS_TIMEZONE_AWARE": False, "PREFER_DATES_FROM": "past"}
        found["dateparser.parse"] = _quiet(lambda s: dateparser.parse(s, settings=settings))
    except ImportError:
        pass
    try:
        import ciso8601

        found["ciso8601.parse_datetime"] = _quiet(ciso8601.parse_datetime)
    except ImportError:
        pass
    try:
        import pendulum

        found["pendulum.parse"] = _quiet(lambda s: pendulum.parse(s, strict=False))
    except ImportError:
        pass
    return found


@dataclass(frozen=True)
class Timing:
    name: str
    us_per_date: float
    read: int  # dates that gave a value
    dates: int


def time_candidates(dates: Sequence[str], *, slow_share: int = 10) -> list[Timing]:
    """µs per date for each candidate over `dates` (the best of three passes); dateparser
    and pendulum, ~100× slower, over every `slow_share`-th date only."""
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # dateutil's UnknownTimezoneWarning and the like
        for name, fn in candidates().items():
            subset = (
                list(dates[::slow_share])
                if name.startswith(("dateparser", "pendulum"))
                else list(dates)
            )
            read = sum(1 for d in subset if fn(d) is not None)  # also warms caches up
            best = min(_timed(fn, subset) for _ in range(3))
            out.append(Timing(name, best / len(subset) * 1e6, read, len(subset)))
    return out


def _timed(fn: Callable[[str], Any], dates: Sequence[str]) -> float:
    began = time.perf_counter()
    for d in dates:
        fn(d)
    return time.perf_counter() - began


def _right(got: Any, expected: str | None) -> bool:
    if expected is None:
        return got is None
    if not isinstance(got, datetime):
        return False
    if expected.endswith("Z"):
        return got.tzinfo is not None and got.astimezone(UTC) == datetime.fromisoformat(expected)
    return got.tzinfo is None and got == datetime.fromisoformat(expected)


def score_table() -> dict[str, tuple[int, int, int, int]]:
    """name -> (right, wrong, unread, rows) over tests/test_dates.py's table: a wrong value
    where the row expects one or None, or a value where it expects a refusal."""
    tests = str(Path(__file__).resolve().parent.parent / "tests")
    if tests not in sys.path:
        sys.path.insert(0, tests)  # test_dates imports its helpers as pytest does
    from tests.test_dates import TABLE

    rows = [(p.values[0], p.values[1]) for p in TABLE]
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, fn in candidates().items():
            right = wrong = unread = 0
            for raw, expected in rows:
                got = fn(raw)
                if _right(got, expected):
                    right += 1
                elif got is None:
                    unread += 1
                else:
                    wrong += 1
            out[name] = (right, wrong, unread, len(rows))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.dates", description=__doc__)
    p.add_argument("--dates", type=int, default=5000)
    p.add_argument("--table", action="store_true", help="score each parser on the test table")
    args = p.parse_args(argv)
    dates = mix(args.dates)
    print(f"{'parser':<36} {'µs/date':>9} {'read':>12}")
    for t in time_candidates(dates):
        print(f"{t.name:<36} {t.us_per_date:>9.2f} {t.read:>6}/{t.dates}")
    if args.table:
        print(f"\n{'parser':<36} {'right':>6} {'wrong':>6} {'unread':>6}  of tests/test_dates.py")
        for name, (right, wrong, unread, rows) in score_table().items():
            print(f"{name:<36} {right:>6} {wrong:>6} {unread:>6}  {rows}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
