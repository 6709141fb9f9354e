"""The command line: `aggregator [--config PATH] COMMAND`.

Exit status: 0 when the command did its work (a round in which some sources failed
included: they are reported), 2 for a config that cannot be used, 3 when the store
cannot be opened or written, 4 when publishing failed (a template's fault included), 5
when another process holds the store, 64 for a command line that is wrong, 141 when
stdout's reader went away, 1 for anything else (a file or the disk failed, the port is
taken). An operator's or the machine's fault is one line on stderr, never a traceback.

This file parses the arguments and turns errors into exit codes; each command group has
its own file (rounds: run, fetch, publish; status: status, check; serving: serve;
sources: sources import/export/enable; history: history; doctor: doctor). Must NOT fetch,
publish or read the store itself.

Each command imports what it uses when it runs, not when its parser is built: `--help`
loads none of the stages, `check` the config alone (tests/test_imports.py holds the list).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, cast

from aggregator import __version__
from aggregator.cli import doctor, history, rounds, serving, sources, status
from aggregator.cli.common import (
    EXIT_CONFIG,
    EXIT_PIPE,
    EXIT_PUBLISH,
    EXIT_RUNNING,
    EXIT_STORE,
    EXIT_USAGE,
)
from aggregator.cli.logs import JsonFormatter, setup_logging
from aggregator.cli.status import status_rows
from aggregator.errors import (
    AggregatorError,
    AlreadyRunning,
    ConfigError,
    PublishError,
    StoreError,
)

if TYPE_CHECKING:
    from aggregator.cli.common import SubParsers

__all__ = [
    "EXIT_CONFIG",
    "EXIT_PIPE",
    "EXIT_PUBLISH",
    "EXIT_RUNNING",
    "EXIT_STORE",
    "EXIT_USAGE",
    "JsonFormatter",
    "build_parser",
    "main",
    "setup_logging",
    "status_rows",
]


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    refuse = getattr(args, "refuse", None)
    if refuse is not None and (why := refuse(args)):
        args.command_parser.error(why)
    setup_logging(args.log_level, args.log_format)
    try:
        result: int = args.func(args)
        # Inside the try: a write that fails at exit (a full disk) would be Python's.
        sys.stdout.flush()
        return result
    except ConfigError as e:
        for line in e.problems:
            print(line, file=sys.stderr)
        print(f"aggregator: config refused ({len(e.problems)} problem(s))", file=sys.stderr)
        return EXIT_CONFIG
    except StoreError as e:
        print(f"aggregator: store: {e}", file=sys.stderr)
        return EXIT_STORE
    except PublishError as e:
        print(f"aggregator: publish: {e}", file=sys.stderr)
        return EXIT_PUBLISH
    except AlreadyRunning as e:
        print(f"aggregator: {e}", file=sys.stderr)
        return EXIT_RUNNING
    except AggregatorError as e:
        print(f"aggregator: {e}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # The reader has what it wanted (`| head`): quiet, as cat and grep are. Python's
        # own flush at exit must not fail again on the closed pipe.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_PIPE
    except OSError as e:
        # What the commands write themselves: stdout to a full disk (`> /dev/full`) or a
        # file the system refuses. The stages wrap their own (StoreError, PublishError).
        print(f"aggregator: {_os_problem(e)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _os_problem(e: OSError) -> str:
    """`e` in words an operator acts on: what failed, on which file."""
    what = e.strerror or str(e)
    if e.filename is not None:
        return f"{e.filename}: {what}"
    return f"cannot write the output: {what}"


class _Parser(argparse.ArgumentParser):
    """argparse, its usage errors exiting EXIT_USAGE (argparse's own 2 is a refused config)."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    """The options every command takes, then each group's commands (in `--help` order)."""
    p = _Parser(prog="aggregator", description="Feed aggregator and republisher.")
    p.add_argument(
        "--config",
        type=Path,
        default=Path(os.environ.get("AGGREGATOR_CONFIG", "config.yaml")),
        help="config file (default: $AGGREGATOR_CONFIG or ./config.yaml)",
    )
    p.add_argument(
        "--log-level",
        default="INFO",
        type=str.upper,  # `--log-level debug` as well
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
    )
    p.add_argument("--log-format", default="plain", choices=["plain", "json"])
    p.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="off a terminal too, a progress line per source and every tenth of a publish",
    )
    p.add_argument("--version", action="version", version=f"aggregator {__version__}")
    # Each command's parser is a _Parser too (argparse makes them of the parent's class).
    sub = cast("SubParsers", p.add_subparsers(dest="command", required=True, metavar="COMMAND"))
    rounds.add_parsers(sub)
    status.add_parsers(sub)
    serving.add_parsers(sub)
    sources.add_parsers(sub)
    history.add_parsers(sub)
    doctor.add_parsers(sub)
    return p


if __name__ == "__main__":
    sys.exit(main())
