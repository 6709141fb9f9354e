"""Writes tests/data/upgrade/store-v5.sql and site/: what a release before store version 6
made of feeds/ with config.yaml, for tests/test_cli.py's upgrade test.

Run it with that release's own command, from a checkout of it (commit dbdb173 made the
files here):

    git worktree add --detach /tmp/old dbdb173
    python3 -m venv /tmp/old/.venv && /tmp/old/.venv/bin/pip install -e /tmp/old
    python tests/data/upgrade/make_fixture.py /tmp/old/.venv/bin/aggregator

It serves feeds/ on 127.0.0.1 as config.yaml lists them, runs `run --once --all` once,
and keeps the database as SQL text and the published tree, the server's port written as
PORT (the test serves the same bytes on a port of its own).
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))  # tests/: the test suite's HTTP server

from httpserver import FeedServer  # noqa: E402

# URL path -> file under feeds/: what config.yaml's sources fetch.
ROUTES = {
    "/anchors.xml": "anchors.xml",
    "/wire.xml": "wire.xml",
    "/paper.xml": "paper.xml",
    "/planet_one.xml": "planet_one.xml",
    "/planet_two.xml": "planet_two.xml",
    "/mirror_one.xml": "mirror_one.xml",
    "/mirror_two.xml": "mirror_two.xml",
    "/sub/feed.xml": "sub_relative.xml",
    "/local.xml": "local.xml",
}


def serve(server: FeedServer) -> None:
    for path, name in ROUTES.items():
        server.add(path, (HERE / "feeds" / name).read_bytes())


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(f"usage: {argv[0]} PATH/TO/OLD/aggregator", file=sys.stderr)
        return 2
    command = argv[1]
    with tempfile.TemporaryDirectory() as tmp, FeedServer() as server:
        root = Path(tmp)
        serve(server)
        port = str(server.port)
        host = f"127.0.0.1:{port}"
        config = root / "config.yaml"
        config.write_text(
            (HERE / "config.yaml").read_text(encoding="utf-8").replace("PORT", port),
            encoding="utf-8",
        )
        subprocess.run(
            [command, "--config", str(config), "run", "--once", "--all"],
            check=True,
            cwd=root,
        )
        with sqlite3.connect(root / "upgrade.db") as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            dump = "\n".join(conn.iterdump()) + "\n"
        (HERE / "store-v5.sql").write_text(dump.replace(host, "127.0.0.1:PORT"), encoding="utf-8")
        site = HERE / "site"
        shutil.rmtree(site, ignore_errors=True)
        for path in sorted((root / "out").rglob("*")):
            if path.is_file() and not any(p.startswith(".") for p in path.parts[-3:]):
                target = site / path.relative_to(root / "out")
                target.parent.mkdir(parents=True, exist_ok=True)
                text = path.read_text(encoding="utf-8")
                target.write_text(text.replace(host, "127.0.0.1:PORT"), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
