"""Parse stage, dates: a feed's date text -> datetime, read right or refused (None).

Pure: no clock, no network, no locale. It never guesses: a date that names no zone stays
naive (normalize reads it in the source's zone), and text that could mean two instants
(`03/04/2023` without the source's `date_order`, a local time that a clock change skips or
repeats) or that is impossible (`31 Feb`, `25:14`, `+2500`, a two-digit year in `99-12-31`)
is None, like a missing date: undated is better than wrong by hours.

Zone names, as read (`ZONE_OFFSETS`):

- RFC 822's own (UT, GMT, Z, EST/EDT, CST/CDT, MST/MDT, PST/PDT) and the common names of
  other zones, each at its one fixed offset: CET +01:00, CEST +02:00, BST (British Summer
  Time) +01:00, JST +09:00, AEDT +11:00... A name keeps riding on the offset
  (`timezone(offset, "CST")`): where the source's own zone uses that name, normalize reads
  it as the source's zone instead. That is how `CST` (US Central here) means China
  Standard Time in a feed from Asia/Shanghai, and `IST` (India here) Irish or Israel
  Standard Time in a feed from Europe/Dublin or Asia/Jerusalem.
- `PT`, `ET`, `CT`, `MT` (`GENERIC_ZONES`): the US zone's time on that date, standard or
  daylight.
- IANA names (`Europe/Brussels`) and `GMT+8`, `UTC-07:00`, `UTC+5:30`: that zone or offset
  (`GMT+8` is eight hours ahead of UTC, as people write it, not POSIX's reversed sign).

Numeric dates: year first is year-month-day; with the year last, dots mean day-month-year
(`16.10.2023`, as every locale that writes dots does), and slashes or dashes are read only
when the order is plain (`31/12/2023`, `12/31/2023`, `03/03/2023`) or the source says it
(`date_order`). Month names in English, German, French, Spanish, Italian, Portuguese,
Dutch and Russian; Chinese, Japanese and Korean year-month-day forms; 10-digit (seconds)
and 13-digit (milliseconds) Unix timestamps.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aggregator.parse.date_words import _AMBIGUOUS, _FILLERS, _MONTH_NAMES, _WEEKDAYS
from aggregator.types import DateOrder

__all__ = ["GENERIC_ZONES", "ZONE_OFFSETS", "order_dependent", "parse_common", "parse_date"]

# No zone is further from UTC than this (Pacific/Kiritimati, +14:00).
MAX_OFFSET = timedelta(hours=14)
# Earlier years are misreadings ("99-12-31" as year 99), never a publication date.
MIN_YEAR = 1000
# The longest date text read; anything longer is prose, not a date (and costs no scan).
MAX_LENGTH = 200

# Minutes east of UTC. Names used in more than one place mean the one given here; the
# source's zone can still claim a name (see the module docstring).
ZONE_OFFSETS: dict[str, int] = {
    # RFC 822 5.1 (and UTC)
    "UT": 0, "UTC": 0, "GMT": 0, "Z": 0,
    "EST": -300, "EDT": -240, "CST": -360, "CDT": -300,
    "MST": -420, "MDT": -360, "PST": -480, "PDT": -420,
    # the Americas
    "AKST": -540, "AKDT": -480, "HST": -600, "AST": -240, "ADT": -180,
    "NST": -210, "NDT": -150, "BRT": -180, "ART": -180,
    # Europe and Africa
    "WET": 0, "WEST": 60, "BST": 60, "IST": 330,
    "CET": 60, "CEST": 120, "MET": 60, "MEST": 120, "MEZ": 60, "MESZ": 120,
    "EET": 120, "EEST": 180, "MSK": 180, "TRT": 180,
    "WAT": 60, "CAT": 120, "SAST": 120, "EAT": 180,
    # Asia and Oceania
    "PKT": 300, "NPT": 345, "ICT": 420, "WIB": 420, "WITA": 480, "WIT": 540,
    "HKT": 480, "SGT": 480, "AWST": 480, "JST": 540, "KST": 540,
    "ACST": 570, "ACDT": 630, "AEST": 600, "AEDT": 660, "NZST": 720, "NZDT": 780,
}  # fmt: skip
# Names of a zone rather than of an offset: standard or daylight time, as on that date.
GENERIC_ZONES: dict[str, str] = {
    "PT": "America/Los_Angeles",
    "MT": "America/Denver",
    "CT": "America/Chicago",
    "ET": "America/New_York",
}


def parse_date(raw: str, *, date_order: DateOrder | None = None) -> datetime | None:
    """Read a feed date: aware when the text names a zone, naive when it does not.

    `date_order` says how the source writes numeric dates with the year last
    (`dmy`: 03/04/2023 is 3 April); without it only an order the text itself shows is read.

    Raises nothing: an unreadable, impossible or ambiguous date is None.
    """
    text = raw.strip()
    if not text or len(text) > MAX_LENGTH:
        return None
    common = parse_common(text)
    if common is not False:
        return common
    return _parse_date(text, date_order)


def parse_common(text: str) -> datetime | Literal[False] | None:
    """parse_date's reading of a stripped `text` in one of the two forms nearly every feed
    writes, without its general steps: RFC 822 (`Thu, 04 Jan 2024 07:18:23 GMT`, `+0800`,
    a US zone) and RFC 3339 (`2024-01-04T15:18:23+08:00`, `Z`, a fraction of a second).
    False when `text` is in neither form, or its fields are for the general steps to judge.
    No text in these forms is order dependent: `date_order` changes nothing.

    Raises nothing.
    """
    common = _RFC822_COMMON.fullmatch(text)
    if common is not None:
        return _rfc822_common(common)
    if _RFC3339_COMMON.fullmatch(text) is None:
        return False
    # What _iso reads of such text (it holds no fraction of an hour or minute, no "z").
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return False  # month 13, hour 25...: refused by the general steps, or read there
    offset = value.utcoffset()
    if offset is not None and abs(offset) > MAX_OFFSET:
        return None
    return value if value.year >= MIN_YEAR else None


def order_dependent(raw: str) -> bool:
    """Whether `raw` holds a numeric date with the year last, read through `date_order`."""
    if raw.count("/") < 2 and raw.count("-") < 2 and raw.count(".") < 2:
        return False  # _NUMERIC_DATE needs one separator twice: RFC 822 dates have none
    return _year_last(raw)


# ---------------------------------------------------------------- fast paths

# RFC 822 dates as almost every RSS feed writes them: read here with the results of the
# general steps below (tests/test_normalize_speedups.py holds them equal), without
# tokenizing.
_RFC822_COMMON = re.compile(
    r"(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), )?([0-9]{1,2}) "
    r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) ([1-9][0-9]{3}) "
    r"([0-9]{2}):([0-9]{2})(?::([0-9]{2}))? "
    r"(GMT|UTC|UT|Z|[ECMP][SD]T|[-+][0-9]{4})"
)
# RFC 3339 (Atom's dates, W3CDTF with seconds): read as datetime.fromisoformat reads it,
# as the general steps do (tests/test_normalize_speedups.py holds them equal).
_RFC3339_COMMON = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?(?:Z|[-+][0-9]{2}:[0-9]{2})"
)
_MONTHS = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}


def _rfc822_common(match: re.Match[str]) -> datetime | None:
    day, month, year, hour, minute, second, zone = match.groups()
    tz = _offset(zone[0], zone[1:3], zone[3:]) if zone[0] in "+-" else _named(zone)
    if tz is None:
        return None
    try:
        return datetime(
            int(year), _MONTHS[month], int(day), int(hour), int(minute), int(second or 0), 0, tz
        )
    except ValueError:
        return None


@lru_cache(maxsize=256)
def _offset(sign: str, hours: str, minutes: str | None) -> timezone | None:
    """`+05:30` as a zone; None past ±14:00 or with minutes past 59."""
    mm = int(minutes) if minutes else 0
    if mm > 59:
        return None
    offset = timedelta(hours=int(hours), minutes=mm)
    if offset > MAX_OFFSET:
        return None
    return timezone(-offset if sign == "-" else offset)


@lru_cache(maxsize=256)
def _named(name: str) -> timezone:
    """A name of ZONE_OFFSETS at its offset; the name rides along for normalize."""
    return timezone(timedelta(minutes=ZONE_OFFSETS[name]), name)


def _iso(text: str) -> datetime | None:
    # W3CDTF / ISO 8601; Python 3.11 also reads "Z", a space separator, +HHMM and the
    # basic format. Reduced forms ("2023-10", a month) are no publication date: refused.
    # A fraction of the hour or minute ("10.30", "10:30.5") Python reads as seconds': the
    # general steps refuse it.
    if _ISO_SHORT_FRACTION.search(text):
        return None
    try:
        value = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        return None
    offset = value.utcoffset()
    if offset is not None and abs(offset) > MAX_OFFSET:
        return _REFUSED
    return value


_ISO_SHORT_FRACTION = re.compile(r"[Tt ][0-9]{2}(?::?[0-9]{2})?[.,]")
_REFUSED = datetime.min  # _iso's "read, and impossible": the general steps need not try


# ------------------------------------------------------------- general steps


def _parse_date(text: str, date_order: DateOrder | None = None) -> datetime | None:
    # parse_date's general steps, for any stripped, non-empty text. isdecimal, not
    # isdigit, here and below: int() and fromisoformat refuse or misread "²" (a digit).
    if text[:4].isdecimal() and (text[4:5] == "-" or (text[8:9] in "Tt" and text[:8].isdecimal())):
        value = _iso(text)
        if value is _REFUSED:
            return None
        if value is not None:
            return value if value.year >= MIN_YEAR else None
    if text.isdecimal():
        return _timestamp(text)
    return _general(text, date_order)


def _timestamp(text: str) -> datetime | None:
    if len(text) == 10:
        return datetime.fromtimestamp(int(text), UTC)
    if len(text) == 13:
        return datetime.fromtimestamp(int(text[:10]), UTC).replace(
            microsecond=int(text[10:]) * 1000
        )
    return None  # a year, a day count, an id: nothing says which


_COMMENT = re.compile(r"\([^()]*\)")
# Chinese, Japanese and Korean forms, rewritten into the Latin ones read below.
_CJK_DATE = re.compile(r"(\d{4})\s*[年년]\s*(\d{1,2})\s*[月월]\s*(\d{1,2})\s*[日일]?")
_CJK_TIME = re.compile(
    r"(\d{1,2})\s*[時时点點시]\s*(?:(\d{1,2})\s*[分분]\s*(?:(\d{1,2})\s*[秒초])?)?"
)
_CJK_MERIDIEM = re.compile(r"(上午|早上|午前|오전|下午|晚上|午後|오후)\s*(\d{1,2}(?::\d{2}){0,2})")
_CJK_WEEKDAY = re.compile(r"(?:星期|礼拜|禮拜|周|週)[一二三四五六日天]|[月火水木金土日]曜日?")
_CJK_PM = frozenset({"下午", "晚上", "午後", "오후"})

_TIME = re.compile(
    r"(?<![\d:.+\-])(?P<h>\d{1,2})"
    r"(?:\s*(?::|h)\s*(?P<m>\d{2})(?::(?P<s>\d{2})(?:[.,](?P<f>\d{1,9}))?)?"
    r"|(?=\s*[ap]\.?\s?m\b))"
    r"(?:\s*(?P<mer>[ap])\.?\s?m\b\.?)?"
    r"(?![\d])",
    re.I,
)
# Right after the time: an offset, an IANA name or an abbreviation.
_ZONE = re.compile(
    r"\s*(?:"
    r"(?:(?P<prefix>gmt|utc|ut)\s?)?(?P<sign>[+-])(?P<hh>\d{1,2})(?::?(?P<mm>\d{2}))?(?!\d)"
    r"|(?P<iana>[A-Za-z]+(?:/[A-Za-z0-9_+\-]+)+)"
    r"|(?P<abbr>[A-Za-z]{1,5})(?![A-Za-z])"
    r")",
    re.I,
)
_ZONE_NAME_AFTER = re.compile(r"\s+([A-Za-z]{1,5})(?![A-Za-z])")
_NUMERIC_DATE = re.compile(
    r"(?<![\d+\-])(?P<a>\d{1,4})(?P<sep>[/.\-])\s?(?P<b>\d{1,2})(?P=sep)\s?(?P<c>\d{1,4})"
    r"(?![\d:])\.?"
)
_TOKEN = re.compile(r"(?P<num>\d+)|(?P<word>[^\W\d_]+)")


def _year_last(text: str) -> bool:
    m = _NUMERIC_DATE.search(text)
    return m is not None and len(m["c"]) == 4 and len(m["a"]) <= 2


# A time of day as _clock reads it: hour, minute, second, microsecond, then the zone at a
# fixed offset or the name of one to resolve once the date is known (_in_zone).
_Time = tuple[int, int, int, int, tzinfo | None, str | None]
_MIDNIGHT: _Time = (0, 0, 0, 0, None, None)


def _general(text: str, date_order: DateOrder | None) -> datetime | None:
    text = _latin(text)
    time = _MIDNIGHT
    clock = _TIME.search(text)
    if clock is not None:
        read = _clock(text, clock)
        if read is None:
            return None
        text, time = read
    ymd = _day(text, date_order)
    if ymd is None:
        return None
    year, month, day = ymd
    if year < MIN_YEAR:
        return None
    hour, minute, second, micro, zone, named = time
    try:
        naive = datetime(year, month, day, hour, minute, second, micro)
    except ValueError:
        return None
    if named is not None:
        return _in_zone(naive, named)
    return naive if zone is None else naive.replace(tzinfo=zone)


def _latin(text: str) -> str:
    """The text with comments dropped and CJK dates, times and weekdays in Latin forms."""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)  # full-width digits and brackets
    text = _COMMENT.sub(" ", text)
    if not text.isascii():
        text = _CJK_MERIDIEM.sub(lambda m: f"{m[2]} {'pm' if m[1] in _CJK_PM else 'am'}", text)
        text = _CJK_DATE.sub(r" \1-\2-\3 ", text)
        text = _CJK_TIME.sub(lambda m: f" {m[1]}:{m[2] or '00'}:{m[3] or '00'} ", text)
        text = _CJK_WEEKDAY.sub(" ", text)
    return text


def _clock(text: str, clock: re.Match[str]) -> tuple[str, _Time] | None:
    """The time `clock` found and the zone right after it, and the text without them;
    None when they are impossible."""
    hour = int(clock["h"])
    minute = int(clock["m"] or 0)
    second = int(clock["s"] or 0)
    micro = int((clock["f"] or "0")[:6].ljust(6, "0"))
    meridiem = (clock["mer"] or "").lower()
    if meridiem:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if meridiem == "p" else 0)
    rest = text[clock.end() :]
    zoned = _clock_zone(rest)
    if zoned is None:
        return None
    zone, named, end = zoned
    return f"{text[: clock.start()]} {rest[end:]}", (hour, minute, second, micro, zone, named)


def _clock_zone(rest: str) -> tuple[tzinfo | None, str | None, int] | None:
    """The zone at the start of `rest`: at a fixed offset, or by a name to resolve later,
    and where it ends (0: none there); None when it is impossible."""
    found = _ZONE.match(rest)
    if found is None:
        return None, None, 0
    zone: tzinfo | None = None
    named: str | None = None
    if found["sign"]:
        zone = _offset(found["sign"], found["hh"], found["mm"])
        if zone is None:
            return None
        # "+0000 GMT", "+0800 CST": the digits say the instant, the name after them
        # (often ambiguous) adds nothing.
        after = _ZONE_NAME_AFTER.match(rest, found.end())
        if after is not None and (
            after[1].upper() in ZONE_OFFSETS or after[1].upper() in GENERIC_ZONES
        ):
            found = after
    elif found["iana"]:
        named = found["iana"]
    else:
        abbr = found["abbr"].upper()
        if abbr in ZONE_OFFSETS:
            zone = _named(abbr)
        elif abbr in GENERIC_ZONES:
            named = abbr
        else:
            return None, None, 0  # a word ("Uhr"): read with the others below
    return zone, named, found.end()


def _day(text: str, date_order: DateOrder | None) -> tuple[int, int, int] | None:
    """The year, month and day the text (without its time) says; None when it says none,
    or more than one way to read it."""
    numeric = _NUMERIC_DATE.search(text)
    ymd = None
    if numeric is not None:
        ymd = _numeric(numeric, date_order)
        if ymd is None:
            return None
        text = f"{text[: numeric.start()]} {text[numeric.end() :]}"
    words = _words_read(text)
    if words is None:
        return None
    numbers, months = words
    if ymd is not None:
        return None if numbers or months else ymd
    if len(months) != 1 or len(numbers) != 2:
        return None
    month = months[0]
    first, second = numbers
    if len(first) == 4 and len(second) <= 2:
        return int(first), month, int(second)
    if len(second) == 4 and len(first) <= 2:
        return int(second), month, int(first)
    if len(first) <= 2 and len(second) == 2 and _day_month_year(text):
        # RFC 2822 4.3: a two-digit year after the month ("26 Dec 21") is 2000-2049
        # or 1950-1999.
        yy = int(second)
        return yy + (2000 if yy < 50 else 1900), month, int(first)
    return None


def _words_read(text: str) -> tuple[list[str], list[int]] | None:
    """The numbers and month names of the text; None when it holds a word we do not know
    (it may change the meaning)."""
    numbers: list[str] = []
    months: list[int] = []
    ambiguous: list[int] = []  # "mar": March, or Tuesday in Spanish, Italian, French
    for token in _TOKEN.finditer(text):
        if token["num"] is not None:
            numbers.append(token["num"])
            continue
        word = token["word"].lower()
        if word in _AMBIGUOUS:
            ambiguous.append(_AMBIGUOUS[word])
        elif word in _MONTH_NAMES:
            months.append(_MONTH_NAMES[word])
        elif word not in _WEEKDAYS and word not in _FILLERS:
            return None
    if not months and ambiguous:
        months = ambiguous[:1]  # "mar, 14 mar 2023": one of them is the month
    return numbers, months


_DAY_MONTH_YEAR = re.compile(r"\d{1,2}[\s\-]+[^\W\d_]+\.?[\s\-,]+\d{2}(?!\d)")


def _day_month_year(text: str) -> bool:
    return _DAY_MONTH_YEAR.search(text) is not None


def _numeric(m: re.Match[str], date_order: DateOrder | None) -> tuple[int, int, int] | None:
    a, b, c = m["a"], m["b"], m["c"]
    if len(a) == 4:
        return (int(a), int(b), int(c)) if len(c) <= 2 else None
    if len(c) != 4 or len(a) > 2:
        return None  # a two-digit year: 99-12-31 or 31-12-99, nothing says which
    x, y, year = int(a), int(b), int(c)
    order = date_order
    if order is None:
        if m["sep"] == "." or x == y or x > 12 >= y:
            order = "dmy"
        elif y > 12 >= x:
            order = "mdy"
        else:
            return None  # 03/04/2023: 3 April or March 4
    if order == "dmy":
        return year, y, x
    if order == "mdy":
        return year, x, y
    return None  # the source writes year first, and this date does not


@lru_cache(maxsize=256)
def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def _in_zone(naive: datetime, name: str) -> datetime | None:
    """`naive` as local time in a named zone, at a fixed offset; None when the zone is
    unknown or its clocks skip or repeat that time (which of two instants is not said)."""
    key = GENERIC_ZONES.get(name.upper(), name) if name.isalpha() else name
    zone = _zone(key)
    if zone is None:
        return None
    earlier = naive.replace(tzinfo=zone).utcoffset()
    later = naive.replace(tzinfo=zone, fold=1).utcoffset()
    if earlier is None or earlier != later:
        return None
    if name.isalpha():  # PT, ET...: the name rides along, as with the fixed names
        return naive.replace(tzinfo=timezone(earlier, name.upper()))
    return naive.replace(tzinfo=timezone(earlier))
