"""The exception tree. Every error the project raises on purpose is one of these.

AggregatorError
├── ConfigError     config unusable: refused at start, one line per problem (.problems)
├── SourceError     one source failed: recorded in its state, never fatal
│   ├── FetchError  transport failure or unexpected status (.status, .retry_after)
│   └── ParseError  the bytes are not a usable feed
├── StoreError      the database is unreachable or refused a write
└── PublishError    an output file could not be written
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta


class AggregatorError(Exception):
    """Base of every error raised on purpose by aggregator."""


class ConfigError(AggregatorError):
    """The configuration cannot be used; `problems` holds one line per fault."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems: tuple[str, ...] = tuple(problems)
        super().__init__("\n".join(self.problems))


class SourceError(AggregatorError):
    """One source failed this time; the caller records it and goes on."""


class FetchError(SourceError):
    """Transport failure or an HTTP status we cannot use.

    `status` is the HTTP status when there was a response; `retry_after` is the
    delay the server asked for (Retry-After), when it gave one.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        retry_after: timedelta | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class ParseError(SourceError):
    """The response body is not a feed we can read."""


class StoreError(AggregatorError):
    """The store could not be opened or written."""


class PublishError(AggregatorError):
    """An output file could not be written."""
