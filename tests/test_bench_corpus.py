"""bench.corpus.run_measured: a command's largest process is found even where the command
never reaps it (as a forkserver's workers are not reaped by the cold round's main process,
so the kernel's ru_maxrss of the main process leaves them out).
"""

from __future__ import annotations

import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from bench.corpus import run_measured  # noqa: E402

_MB = 1024 * 1024

# The main process forks a child that holds 96 MB for a while and exits; the main process
# outlives it without waiting for it, so its wait4() figure never includes the child.
_COMMAND = """
import os, time
if os.fork() == 0:
    held = b"x" * (96 * 1024 * 1024)
    time.sleep(0.8)
    os._exit(0)
time.sleep(1.6)
os._exit(0)
"""


def test_the_largest_process_is_a_child_the_command_never_reaps() -> None:
    measured = run_measured([sys.executable, "-c", _COMMAND], timeout=60)
    assert measured.returncode == 0, measured.stderr
    assert measured.processes == 2
    assert measured.largest_rss_bytes < 64 * _MB  # the main process's own
    assert measured.process_peak_bytes >= 96 * _MB
    assert measured.max_rss_bytes >= 96 * _MB  # the tree's sum holds the child too
