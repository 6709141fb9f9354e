"""Start-up of the CLI: `aggregator --help` and `aggregator check` (20 sources, an SQLite
store made by a real `open_store`), each run N times in a fresh process, against the bare
interpreter's start (`python -c pass`) and pydantic's own floor (imported, one model
built) measured in the same run, interleaved.

    python -m bench.startup            # 20 runs of each, medians
    python -m bench.startup --runs 50

Prints the median wall and CPU (user + system, the child's own rusage) of each command.
Wall is what issue 16's target counts (under 100 ms); CPU says what a loaded machine does
to it. Measures only: everything it writes lives in a temp dir, removed at the end.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if not __package__:  # run as `python bench/startup.py`: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.corpus import REPO_ROOT, write_config

if TYPE_CHECKING:
    from bench.run import Report

__all__ = ["Startup", "measure_startup", "startup_command", "startup_rows"]

TARGET_MS = 100.0

# The least any command that loads a config pays: pydantic imported and one model built
# (its first model also loads its plugin machinery, importlib.metadata among it).
PYDANTIC_FLOOR = "pydantic, one model"
_ONE_MODEL = "from pydantic import BaseModel\nclass M(BaseModel):\n    x: int\nM(x=1)"


@dataclass(frozen=True, slots=True, kw_only=True)
class Startup:
    """Medians over `runs` runs of one command, in ms."""

    what: str
    wall_ms: float
    cpu_ms: float
    runs: int


def startup_command() -> list[str]:
    """How an operator starts the CLI: the `aggregator` script beside this interpreter,
    else `python -m aggregator`."""
    script = Path(sys.executable).parent / "aggregator"
    return [str(script)] if script.exists() else [sys.executable, "-m", "aggregator"]


def _once(argv: Sequence[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """(wall s, CPU s) of one run of `argv`, which must exit 0."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=cwd
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read() if proc.stderr is not None else b""
    if proc.stderr is not None:
        proc.stderr.close()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {proc.returncode}: {err.decode()[-500:]}")
    return wall, usage.ru_utime + usage.ru_stime


def measure_startup(directory: Path, runs: int = 20) -> list[Startup]:
    """The bare interpreter, `--help` and `check`, interleaved `runs` times in `directory`
    (a config and its store are written there)."""
    from aggregator.config import load_config
    from aggregator.store import open_store

    urls = [f"http://127.0.0.1:9/feed/{i}.xml" for i in range(20)]
    config = write_config(directory, urls)
    open_store(load_config(config).database).close()
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    # With bytecode, as an installed package has it: the warm-up run below writes it here
    # (PYTHONDONTWRITEBYTECODE would have every start compile aggregator's modules again).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(directory / "pycache")
    cli = startup_command()
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        PYDANTIC_FLOOR: [sys.executable, "-c", _ONE_MODEL],
        "aggregator --help": [*cli, "--help"],
        "aggregator check": [*cli, "--config", str(config), "check"],
    }
    for argv in commands.values():  # warm the page cache and the bytecode
        _once(argv, env, directory)
    times: dict[str, list[tuple[float, float]]] = {what: [] for what in commands}
    for _ in range(runs):
        for what, argv in commands.items():
            times[what].append(_once(argv, env, directory))
    return [
        Startup(
            what=what,
            wall_ms=statistics.median(w for w, _ in got) * 1000,
            cpu_ms=statistics.median(c for _, c in got) * 1000,
            runs=runs,
        )
        for what, got in times.items()
    ]


def startup_rows(report: Report, directory: Path, runs: int = 20) -> None:
    """`--help` and `check` start-up rows of `python -m bench`'s table (issue 16, target 1)."""
    from bench.run import Row

    directory.mkdir(parents=True)
    results = {r.what: r for r in measure_startup(directory, runs)}
    bare, floor = results["python -c pass"], results[PYDANTIC_FLOOR]
    for what in ("aggregator --help", "aggregator check"):
        r = results[what]
        report.add(
            Row(
                figure=f"`{what.removeprefix('aggregator ')}` start-up, wall (median of {runs})",
                ours=f"{r.wall_ms:.0f} ms ({r.cpu_ms:.0f} ms CPU)",
                baseline=(
                    f"python -c pass {bare.wall_ms:.0f} ms ({bare.cpu_ms:.0f} CPU)"
                    + (
                        f"; pydantic, one model {floor.wall_ms:.0f} ms ({floor.cpu_ms:.0f} CPU)"
                        if what.endswith("check")
                        else ""
                    )
                ),
                ratio=f"{r.wall_ms / bare.wall_ms:.1f}× bare Python",
                target=f"< {TARGET_MS:.0f} ms",
                met=r.wall_ms < TARGET_MS,
                note=(
                    "the `aggregator` script in a fresh process, interleaved with the"
                    " baselines, bytecode written once before (bench/startup.py)"
                    + (
                        "; `check`: 20 sources, an SQLite store, no templates_dir"
                        if what.endswith("check")
                        else ""
                    )
                ),
            )
        )


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.startup", description=__doc__)
    p.add_argument("--runs", type=int, default=20)
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="startup-") as tmp:
        results = measure_startup(Path(tmp), args.runs)
    load = os.getloadavg()
    print(f"medians of {args.runs} runs; load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    print(f"{'command':<20} {'wall ms':>8} {'CPU ms':>8}")
    for r in results:
        target = f"  (target < {TARGET_MS:.0f} ms wall)" if r.what.startswith("aggregator") else ""
        print(f"{r.what:<20} {r.wall_ms:>8.1f} {r.cpu_ms:>8.1f}{target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
