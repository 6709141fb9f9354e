"""Run the real `aggregator` command in a subprocess, and small helpers around its output."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

DATA = Path(__file__).parent / "data"
GOLDEN = DATA / "golden"
ATOM_RNG = DATA / "schema" / "atom.rng"


def aggregator_command() -> list[str]:
    script = Path(sys.executable).parent / "aggregator"
    if script.exists():
        return [str(script)]
    found = shutil.which("aggregator")
    return [found] if found else [sys.executable, "-m", "aggregator"]


def run_cli(
    config: Path, *args: str, check: bool = True, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """`aggregator --config CONFIG ARGS...`; with `check`, a non-zero exit fails the test."""
    env = {k: v for k, v in os.environ.items() if k != "AGGREGATOR_CONFIG"}
    env["NO_COLOR"] = "1"
    proc = subprocess.run(
        [*aggregator_command(), "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=config.parent,
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"aggregator {' '.join(args)} exited {proc.returncode}\n"
            f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
        )
    return proc


def tree_mtimes(root: Path) -> dict[str, int]:
    """Every file under `root` with its mtime in ns."""
    return {
        str(p.relative_to(root)): p.stat().st_mtime_ns
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def count_rows(db: Path, table: str) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def validate_atom(path: Path) -> None:
    """Fail unless `path` is valid Atom 1.0 per the RFC 4287 RELAX NG schema."""
    from lxml import etree

    schema = etree.RelaxNG(etree.parse(str(ATOM_RNG)))
    doc = etree.parse(str(path))
    if not schema.validate(doc):
        raise AssertionError(f"{path} is not valid Atom:\n{schema.error_log}")
