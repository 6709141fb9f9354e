"""bench/scale.py end to end, small: one SQLite daemon, then two daemons on one new
PostgreSQL database, refresh every source twice (cold, then due again), and the table and
the lines under it say so. A benchmark is not a test: this only guards that it runs."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from pgdatabase import PG_MISSING, PG_URL

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.xdist_group("cluster")
@pytest.mark.skipif(PG_URL is None, reason=PG_MISSING)
def test_two_nodes_on_postgresql_refresh_every_source_twice(tmp_path: Path) -> None:
    assert PG_URL is not None
    command = [sys.executable, "bench/scale.py", "--sources", "40", "--nodes", "2"]
    command += ["--hosts", "8", "--lease", "3", "--dir", str(tmp_path / "work")]
    command += ["--pg-url", PG_URL]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=240)
    out = done.stdout
    assert done.returncode == 0, out[-3000:] + done.stderr[-3000:]
    for round_ in ("cold", "due-again"):
        row = rf"\| {round_} round, sources/s, PostgreSQL, 2 nodes +\| [\d,]+/s \([\d.]+ s\) +\|"
        assert re.search(row + r" SQLite, 1 node [\d,]+/s", out), out
        # The nodes wrote their store_seconds, and the activity of their backends was seen.
        line = re.search(rf"- PostgreSQL, 2 nodes, {round_} round: .*", out)
        assert line is not None, out
        assert re.search(r"store_seconds [\d.]+ s \(\d+% of wall × nodes\)", line[0]), line[0]
        assert "active backends" in line[0]
    assert re.search(r"peak RSS, PostgreSQL, 2 nodes +\| [\d,]+ MB in \d+ processes", out)
    assert "FAILED" not in out
    assert not (tmp_path / "work").exists()  # the working directory is deleted at the end
