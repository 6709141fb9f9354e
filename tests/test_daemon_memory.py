"""The daemon's heap settings (aggregator/daemon/memory.py): taken by glibc, a no-op
elsewhere. What they save is bench/soak.py's figure, not a test's."""

from __future__ import annotations

import subprocess
import sys


def test_the_daemons_heap_settings_take_on_glibc_and_do_nothing_elsewhere() -> None:
    import platform

    from aggregator.daemon.memory import give_back, limit_arenas

    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from aggregator.daemon.memory import limit_arenas as f; print(f())",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    glibc = platform.libc_ver()[0] == "glibc"
    assert done.stdout.strip() == str(glibc)
    give_back()  # never raises, wherever it runs
    assert limit_arenas(8) is glibc
