"""The exception tree. Every error the project raises on purpose is one of these.

AggregatorError
├── ConfigError       config unusable: refused at start, one line per problem (.problems)
├── SourceError       one source failed: recorded in its state, never fatal
│   ├── FetchError    transport failure or unexpected status (.status, .retry_after)
│   │   └── HostDeferred  not sent: the host asked to be left alone (.retry_after); no failure
│   └── ParseError    the bytes are not a usable feed
├── StoreError        the database is unreachable or refused a write
├── AlreadyRunning    another process holds the store's instance lock (aggregator.lock)
├── PublishError      an output file could not be written, or a template failed
└── ServeError        `serve` cannot listen where it was asked (the port is taken)

Raised on purpose outside the tree, each where a library or Python asks for that type, and
none escaping the project as itself:
- ValueError in pydantic validators (config/specs.py, config/checks.py, config/pagechecks.py,
  rules.py's checks): pydantic turns it into a problem line of a ConfigError;
- argparse.ArgumentTypeError in the CLI's argument types: argparse prints it, and the CLI's
  parser exits with its usage code (64);
- yaml ConstructorError for a duplicate key (config/files.py): read as every YAML error is;
- PrivateAddress (fetch/guard.py), an OSError raised inside aiohttp's resolver: it reaches
  the Fetcher wrapped by aiohttp and leaves it as a FetchError;
- BrokenProcessPool (update/pool.py) for a job of a stopped pool: the pool's own signal,
  caught and retried there;
- fastparse's _Decline: control flow within the fast parser, caught there;
- AttributeError from a module's or an object's __getattr__: Python's protocol.
A RuntimeError or ValueError raised elsewhere (a Fetcher used outside `async with`, a naive
datetime given to the store) is a programming error: it must surface, not be handled. In a
round it surfaces as the failure of the one source it was met on, logged with its traceback
(update/updater.py): the other sources are fetched and stored as ever.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

__all__ = [
    "AggregatorError",
    "AlreadyRunning",
    "ConfigError",
    "FetchError",
    "HostDeferred",
    "ParseError",
    "PublishBusy",
    "PublishError",
    "ServeError",
    "SourceError",
    "StoreError",
]


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


class HostDeferred(FetchError):
    """Not sent: the host asked (429/503 Retry-After) to be left alone until later.

    `retry_after` is the time left. The source did not fail: its state records no failure.
    """


class ParseError(SourceError):
    """The response body is not a feed we can read."""


class StoreError(AggregatorError):
    """The store could not be opened or written."""


class AlreadyRunning(AggregatorError):
    """Another process holds the store's instance lock; the message names it."""


class PublishError(AggregatorError):
    """An output file could not be written."""


class PublishBusy(PublishError):
    """Another node of a shared store is publishing now: this one's turn comes later."""


class ServeError(AggregatorError):
    """The server cannot listen on the address it was given; the message says what to do."""
