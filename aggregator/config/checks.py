"""Config stage, value rules: each check takes one value from a file and returns it checked,
or raises ValueError whose text is the fault that ends a problem line.

No network, no clock, none of the operator's files (a zone name is looked up in the
time-zone database); knows nothing of files, keys or problem lines (problems.py puts the
key path and the file name in front of the fault).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Annotated
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import PlainValidator

from aggregator.dburl import plain_sqlite
from aggregator.types import FEED_FORMATS

__all__ = [
    "MAX_CATEGORY_SLUG",
    "BaseUrl",
    "CallbackUrl",
    "CategorySlug",
    "Cron",
    "DatabaseUrl",
    "Duration",
    "EnvName",
    "FeedFormats",
    "HeaderValue",
    "Headers",
    "HttpUrl",
    "Interval",
    "Language",
    "LeaseSeconds",
    "Name",
    "Network",
    "NodeId",
    "Seconds",
    "SignedDuration",
    "StatusToken",
    "TagAuthority",
    "Text",
    "TimeZoneName",
    "parse_duration",
]

_DURATION = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")
_CATEGORY_SLUG = re.compile(r"[a-z0-9-]+")
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # RFC 9110 token
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*")  # BCP 47, loosely
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NODE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@-]{0,62}")


def parse_duration(text: str) -> timedelta:
    """Read a duration such as `90s`, `15m`, `2h`, `1d` or `1h30m`.

    Raises:
        ValueError: not a duration, or zero.
    """
    match = _DURATION.fullmatch(text.strip())
    if not text.strip() or match is None:
        raise ValueError(f"bad duration '{text}' (use 90s, 15m, 2h, 1d)")
    days, hours, minutes, seconds = (int(group or 0) for group in match.groups())
    try:
        delta = timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    except OverflowError:
        raise ValueError(f"bad duration '{text}' (too long)") from None
    if not delta:
        # A zero interval would have the scheduler fetch a source in a busy loop.
        raise ValueError(f"bad duration '{text}' (must be more than zero)")
    return delta


def _duration(value: object) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(f"bad duration '{value}' (use 90s, 15m, 2h, 1d)")
    return parse_duration(str(value))


def _interval(value: object) -> timedelta | str:
    # A check interval: a duration, or "auto" (from the source's own posting rate).
    if value == "auto":
        return "auto"
    try:
        return _duration(value)
    except ValueError as e:
        raise ValueError(
            str(e).replace("(use 90s, 15m, 2h, 1d)", "(use 90s, 15m, 2h, 1d, or auto)")
        ) from None


def _seconds(value: object) -> float:
    # A timeout: a duration ("10s") or a plain number of seconds (0.5).
    if isinstance(value, int | float) and not isinstance(value, bool):
        if value > 0:
            return float(value)
        raise ValueError(f"bad duration '{value}' (must be more than zero)")
    return _duration(value).total_seconds()


def _lease(value: object) -> float:
    seconds = _seconds(value)
    if seconds < 2:
        raise ValueError(f"bad lease '{value}' (at least 2 seconds)")
    return seconds


def _node_id(value: object) -> str:
    if not isinstance(value, str) or not _NODE_ID.fullmatch(value):
        raise ValueError(
            f"bad node id '{value}' (1-63 letters, digits and . _ : @ -, starting with a"
            " letter or digit)"
        )
    return value


def _status_token(value: object) -> str:
    if not isinstance(value, str) or len(value) < 16 or not value.isprintable() or " " in value:
        raise ValueError("bad status token (16 or more printable characters, no spaces)")
    return value


def _cron(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"bad cron '{value}' (5 fields: minute hour day month weekday)")
    # Imported here, as in the other checks below that need a library: a config that has
    # no cron, rules or database URL loads without APScheduler, RE2, lxml or SQLAlchemy.
    from apscheduler.triggers.cron import CronTrigger

    try:
        # A fixed zone: validation must not depend on (or look up) the machine's zone.
        CronTrigger.from_crontab(value, timezone="UTC")
    except ValueError as e:
        reason = str(e)
        raise ValueError(f"bad cron '{value}' ({reason[:1].lower()}{reason[1:]})") from None
    return value


def _timezone(value: object) -> str:
    try:
        if not isinstance(value, str):
            raise ValueError
        ZoneInfo(value)
    except (ValueError, OSError, ZoneInfoNotFoundError):
        raise ValueError(f"unknown time zone '{value}'") from None
    return value


# Named for its contract (one of three URL checks, see fetch.client._request_url): a
# configured URL, as given, or ValueError for pydantic's problem line.
def _checked_http_url(value: object) -> str:
    text = value.strip() if isinstance(value, str) else ""
    parts = urlsplit(text)
    try:
        parts.port  # noqa: B018 -- raises ValueError on a malformed port
    except ValueError:
        text = ""
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        text = ""
    if not text or any(char.isspace() for char in text):
        raise ValueError("not an http(s) URL")
    return text


def _callback_url(value: object) -> str:
    # `websub.callback_url`: hubs call <it>/websub/<id>; a query or fragment would not survive.
    url = _checked_http_url(value)
    parts = urlsplit(url)
    if parts.query or parts.fragment or "#" in url:
        raise ValueError("a callback URL takes no query or fragment")
    return url.rstrip("/")


def _base_url(value: object) -> str:
    url = _checked_http_url(value)
    return url if url.endswith("/") else url + "/"


# RFC 4151 §2.1: taggingEntity = authorityName "," date, the name a domain or an email
# address, in lower case as the W3C Feed Validator reads a tag (aggregator.urls.atom_id).
_DNS_NAME = r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*"
_TAG_AUTHORITY = re.compile(
    rf"(?:[a-z0-9._-]+@)?{_DNS_NAME},([0-9]{{4}})(?:-([0-9]{{2}})(?:-([0-9]{{2}}))?)?"
)


def _tag_authority(value: object) -> str:
    text = value.strip() if isinstance(value, str) else ""
    match = _TAG_AUTHORITY.fullmatch(text)
    try:
        year, month, day = (int(part or 1) for part in match.groups()) if match else (0, 0, 0)
        date(year, month, day)
    except ValueError:
        raise ValueError(
            f"not a tag authority '{value}' (a domain or email address you own, in lower case,"
            " a comma and a date it was yours: example.org,2026 or me@example.org,2026-01-31)"
        ) from None
    return text


# Each command, and each of a command's threads, would open an empty database of its own.
_IN_MEMORY = (
    "an SQLite database in memory keeps nothing from one command to the next:"
    " name a file (e.g. sqlite:///aggregator.db)"
)


def _database(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError("not a database URL (e.g. sqlite:///aggregator.db)")
    if (plain := plain_sqlite(value)) is not None:
        if plain.in_memory:
            raise ValueError(_IN_MEMORY)
        return value  # make_url reads every plain SQLite URL (aggregator/dburl.py)
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(value)
    except ArgumentError:
        raise ValueError(f"not a database URL '{value}' (e.g. sqlite:///aggregator.db)") from None
    sqlite = url.get_backend_name() == "sqlite" and "uri" not in url.query
    if sqlite and url.database in (None, "", ":memory:"):
        raise ValueError(_IN_MEMORY)
    return value


# A category's slug names folders and files (category/<slug>/archive/1.xml): file systems
# refuse names over 255 bytes, so one this long would fail every publish of its posts.
MAX_CATEGORY_SLUG = 100


def _category_slug(value: object) -> str:
    if not isinstance(value, str) or not _CATEGORY_SLUG.fullmatch(value):
        raise ValueError(f"bad slug '{value}' (use a-z, 0-9 and -)")
    if len(value) > MAX_CATEGORY_SLUG:
        raise ValueError(
            f"slug '{value[:40]}…' is {len(value)} characters long"
            f" (at most {MAX_CATEGORY_SLUG}: it names files and folders)"
        )
    return value


def _language(value: object) -> str:
    if not isinstance(value, str) or not _LANGUAGE.fullmatch(value):
        raise ValueError(f"not a language tag '{value}' (e.g. en, zh-CN)")
    return value


# What XML 1.0 cannot carry (as aggregator.publish.escape drops from every feed).
_XML_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _text(value: object) -> str:
    # YAML reads `name: 2024` as a number; a name is text whatever it looks like.
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError("should be text")
    text = str(value).strip()
    # Nothing but characters XML cannot carry is empty too: such a source name or title
    # would be written "" in a feed, and an Atom entry or feed must have a title.
    if not _XML_UNSAFE.sub("", text).strip():
        raise ValueError("should not be empty")
    return text


def _name(value: object) -> str:
    # A source's name starts every log line about it: a line break in it (a newline, U+2028,
    # NEL) would write a line of its own, as if logged. Every run of white space is a space.
    return " ".join(_text(value).split())


def _feed_formats(value: object) -> tuple[str, ...]:
    allowed = ", ".join(FEED_FORMATS)
    if not isinstance(value, list) or not value:
        raise ValueError(f"should be a list of feed formats, of: {allowed}")
    found: list[str] = []
    for name in value:
        if not isinstance(name, str) or name.strip().lower() not in FEED_FORMATS:
            raise ValueError(f"unknown feed format '{name}' (allowed: {allowed})")
        if name.strip().lower() in found:
            raise ValueError(f"'{name}' is named twice")
        found.append(name.strip().lower())
    return tuple(found)


def _headers(value: object) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise ValueError("should be a mapping of header name to value")
    headers: dict[str, str] = {}
    for name, header in value.items():
        if not isinstance(name, str) or not _HEADER_NAME.fullmatch(name):
            raise ValueError(f"bad header name '{name}'")
        headers[name] = _header_value(header, f"value of header '{name}': ")
    return headers


def _header_value(value: object, what: str = "") -> str:
    if not isinstance(value, str) or not value.isascii() or "\r" in value or "\n" in value:
        raise ValueError(f"{what}not one line of ASCII text (it is sent as is in a request header)")
    return value


Duration = Annotated[timedelta, PlainValidator(_duration)]
Interval = Annotated[timedelta | str, PlainValidator(_interval)]
Seconds = Annotated[float, PlainValidator(_seconds)]
LeaseSeconds = Annotated[float, PlainValidator(_lease)]
NodeId = Annotated[str, PlainValidator(_node_id)]
StatusToken = Annotated[str, PlainValidator(_status_token)]
Cron = Annotated[str, PlainValidator(_cron)]
TimeZoneName = Annotated[str, PlainValidator(_timezone)]
HttpUrl = Annotated[str, PlainValidator(_checked_http_url)]
BaseUrl = Annotated[str, PlainValidator(_base_url)]
CallbackUrl = Annotated[str, PlainValidator(_callback_url)]
TagAuthority = Annotated[str, PlainValidator(_tag_authority)]
DatabaseUrl = Annotated[str, PlainValidator(_database)]
CategorySlug = Annotated[str, PlainValidator(_category_slug)]
Language = Annotated[str, PlainValidator(_language)]
Text = Annotated[str, PlainValidator(_text)]
Name = Annotated[str, PlainValidator(_name)]
Headers = Annotated[dict[str, str], PlainValidator(_headers)]
HeaderValue = Annotated[str, PlainValidator(_header_value)]
FeedFormats = Annotated[tuple[str, ...], PlainValidator(_feed_formats)]


def _network(value: object) -> str:
    try:
        if not isinstance(value, str):
            raise ValueError
        return str(ipaddress.ip_network(value.strip(), strict=False))
    except ValueError:
        raise ValueError(f"not a network '{value}' (e.g. 10.0.0.0/8, fc00::/7)") from None


def _env_name(value: object) -> str:
    if not isinstance(value, str) or not _ENV_NAME.fullmatch(value):
        raise ValueError(f"not an environment variable name '{value}'")
    return value


Network = Annotated[str, PlainValidator(_network)]


def _signed_duration(value: object) -> timedelta:
    # date_offset: a clock may be ahead ("-8h") as well as behind ("30m").
    if isinstance(value, str) and value.strip().startswith("-"):
        return -_duration(value.strip()[1:])
    return _duration(value)


SignedDuration = Annotated[timedelta, PlainValidator(_signed_duration)]
EnvName = Annotated[str, PlainValidator(_env_name)]
