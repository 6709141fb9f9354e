"""Doctor: the records a diagnosis is made of, what was fetched (Probe) and what was found
(Finding, Report). Values only: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from aggregator.types import FetchResult, FetchSettings, Source

__all__ = ["LEVELS", "Finding", "Level", "Probe", "Report", "Settings", "finding"]

Level = Literal["ok", "warn", "error"]
LEVELS: tuple[Level, ...] = ("ok", "warn", "error")

# What a finding's `data` may hold: JSON's values.
Data = Mapping[str, object]


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """One thing the doctor looked at: what it saw, and what that means for the operator."""

    check: str  # what was looked at: "redirects", "conditional GET", "charset"...
    level: Level
    text: str  # what was seen, short ("301 -> 302 -> 200", "RSS 2.0")
    meaning: str  # a plain sentence: what it means for polling and republishing this feed
    data: Data = field(default_factory=dict)  # the same, as JSON values


def finding(check: str, level: Level, text: str, meaning: str, **data: object) -> Finding:
    """A Finding; `data` as keyword arguments."""
    return Finding(check=check, level=level, text=text, meaning=meaning, data=data)


@dataclass(frozen=True, slots=True, kw_only=True)
class Probe:
    """What the doctor fetched: one GET, and a second one with the validators it gave."""

    url: str  # as asked
    now: datetime  # when the first fetch ended (aware, UTC)
    seconds: float  # the first fetch, redirects and body included
    result: FetchResult | None = None  # None: the fetch failed (`error`)
    error: str | None = None  # the FetchError's line
    error_status: int | None = None
    conditional: FetchResult | None = None  # the second GET; None: not sent, or it failed
    conditional_error: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    """What the diagnosis reads of the config (the defaults when there is none)."""

    fetch: FetchSettings = field(default_factory=FetchSettings)
    fast: bool = True  # parser: auto (False: parser: feedparser)
    source: Source | None = None  # the configured source at this URL, if any
    site_timezone: str = "UTC"
    config: str | None = None  # the config file read; None: none found, defaults


@dataclass(frozen=True, slots=True, kw_only=True)
class Report:
    """Every finding about one URL, in the order they were made."""

    url: str
    final_url: str | None  # where the body came from, after redirects; None: nothing came
    findings: Sequence[Finding]

    @property
    def usable(self) -> bool:
        """No error-level finding: the feed can be polled and republished as it is."""
        return all(f.level != "error" for f in self.findings)

    def as_json(self) -> dict[str, object]:
        return {
            "url": self.url,
            "final_url": self.final_url,
            "usable": self.usable,
            "findings": [
                {
                    "check": f.check,
                    "level": f.level,
                    "text": f.text,
                    "meaning": f.meaning,
                    "data": dict(f.data),
                }
                for f in self.findings
            ],
        }
