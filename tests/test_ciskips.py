"""tests/ciskips.py: with CI=true a skip (of a test, or of a whole module at collection)
fails the run; without it a skip stays a skip. Run on a small test file by a real pytest."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent

SKIPS = {
    "test_skips.py": (
        "import pytest\n\n"
        "def test_runs():\n    pass\n\n"
        "def test_skips():\n    pytest.skip('frobnicator is missing (apt-get install frob)')\n\n"
        "@pytest.mark.xfail(reason='known')\ndef test_xfails():\n    assert False\n"
    ),
    "test_module_skips.py": (
        "import pytest\n\n"
        "pytest.importorskip('no_such_module_here', reason='pip install no-such-module')\n\n"
        "def test_never():\n    pass\n"
    ),
}


def run_pytest(folder: Path, name: str, *, ci: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    if ci is not None:
        env["CI"] = ci
    env["PYTHONPATH"] = str(TESTS)
    (folder / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    (folder / name).write_text(SKIPS[name], encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "ciskips", "-p", "no:cacheprovider", "-q", name],
        capture_output=True,
        text=True,
        cwd=folder,
        env=env,
        timeout=120,
    )


@pytest.mark.parametrize("name", sorted(SKIPS))
def test_a_skip_fails_the_run_in_ci(tmp_path: Path, name: str) -> None:
    proc = run_pytest(tmp_path, name, ci="true")
    assert proc.returncode != 0, proc.stdout
    assert "skipped in CI (CI=true)" in proc.stdout, proc.stdout
    # The reason is kept: it says what CI failed to install.
    assert ("apt-get install frob" if "test_skips" in name else "pip install no-such-module") in (
        proc.stdout
    )


@pytest.mark.parametrize("ci", [None, "false"])
@pytest.mark.parametrize("name", sorted(SKIPS))
def test_a_skip_is_a_skip_outside_ci(tmp_path: Path, name: str, ci: str | None) -> None:
    proc = run_pytest(tmp_path, name, ci=ci)
    # A module skipped whole leaves nothing that ran: pytest's "no tests" status, no failure.
    assert proc.returncode in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED), proc.stdout
    assert "skipped" in proc.stdout and not re.search(r"\d+ failed", proc.stdout), proc.stdout


def test_an_xfail_is_no_skip_in_ci(tmp_path: Path) -> None:
    proc = run_pytest(tmp_path, "test_skips.py", ci="true")
    assert "1 xfailed" in proc.stdout and "1 passed" in proc.stdout, proc.stdout
    assert "1 failed" in proc.stdout, proc.stdout  # test_skips only
