"""Each command imports only what it uses (issue 16): the real CLI's `main` run in a
subprocess of its own, then the heavy libraries found in its `sys.modules` held against the
list each command may import. Start-up time itself is bench/startup.py's, not a test's."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import builders
import pytest
from builders import site_rss
from httpserver import FeedServer

pytestmark = pytest.mark.slow

# The libraries a command pays for at start: each is tens to hundreds of ms to import
# (asyncio too, with ssl and subprocess: 40 ms, nearly half of `--help`'s target).
HEAVY = frozenset(
    {
        "aiohttp",
        "apscheduler",
        "asyncio",
        "fastfeedparser",
        "feedgen",
        "feedparser",
        "httpcore",
        "httpx",
        "jinja2",
        "lxml",
        "nh3",
        "psycopg",
        "pydantic",
        "pypinyin",
        "re2",
        "rich",
        "sqlalchemy",
        "trafilatura",
        "yaml",
    }
)

FETCHING = {"aiohttp", "httpcore", "httpx", "fastfeedparser", "feedparser", "trafilatura"}
PUBLISHING = {"feedgen", "jinja2", "lxml"}

# Runs `aggregator ARGS...` as the console script does, then writes to OUT which heavy
# libraries the process holds, whatever the command's exit.
RUNNER = """
import json, sys
out, *argv = sys.argv[1:]
try:
    from aggregator.cli import main
    code = main(argv)
except SystemExit as e:
    code = e.code
finally:
    held = sorted({name.partition(".")[0] for name in sys.modules})
    with open(out, "w", encoding="utf-8") as f:
        json.dump({"code": code, "modules": held}, f)
"""


def heavy_imports(config: Path, *args: str, expect: int = 0) -> set[str]:
    """The heavy libraries `aggregator --config CONFIG ARGS...` imported; it must exit `expect`."""
    out = config.parent / "modules.json"
    env = {k: v for k, v in os.environ.items() if k != "AGGREGATOR_CONFIG"}
    env["NO_COLOR"] = "1"
    proc = subprocess.run(
        [sys.executable, "-c", RUNNER, str(out), "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=config.parent,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(out.read_text(encoding="utf-8"))
    out.unlink()
    assert result["code"] == expect, f"{args}: exit {result['code']}\n{proc.stderr}"
    assert "Traceback" not in proc.stderr, proc.stderr
    return set(result["modules"]) & HEAVY


def site(tmp: Path, server: FeedServer, **site: str) -> Path:
    server.add("/a.rss", site_rss("a", [("a1", "First", "<p>one</p>")]), etag=True)
    source = {"name": "A", "url": server.url("/a.rss"), "category": "news"}
    return builders.write_config(tmp, [source], site=builders.site_section(**site))


def only(held: set[str], forbidden: Sequence[str] | set[str]) -> set[str]:
    return held & set(forbidden)


def test_help_imports_no_heavy_library(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"  # --help reads no config: there is none
    assert heavy_imports(config, "--help") == set()
    assert heavy_imports(config, "run", "--help") == set()


def test_check_reads_the_config_and_probes_a_sqlite_file_with_the_standard_library(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    config = site(tmp_path, feed_server)
    held = heavy_imports(config, "check")
    assert {"pydantic", "yaml"} <= held  # the config was read: the list sees imports
    assert held - {"pydantic", "yaml", "re2"} == set()
    # Unchanged since: the config kept by that check (aggregator/config/cache.py).
    for _ in ("before the database exists", "after a round made it"):
        assert heavy_imports(config, "check") == set()
        heavy_imports(config, "fetch")
    assert (tmp_path / "test.db").exists()
    config.write_text(config.read_text("utf-8") + "\n# edited\n", "utf-8")
    assert {"pydantic", "yaml"} <= heavy_imports(config, "check")


def test_check_compiles_templates_only_when_the_site_has_its_own(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "nav.html").write_text("<nav>{{ words.home }}</nav>\n", "utf-8")
    config = site(tmp_path, feed_server, templates_dir="templates")
    held = heavy_imports(config, "check")
    assert "jinja2" in held
    assert only(held, {*FETCHING, "apscheduler", "nh3", "feedgen", "sqlalchemy"}) == set()


def test_check_of_a_database_sqlite_cannot_read_alone_asks_sqlalchemy(tmp_path: Path) -> None:
    source = {"name": "A", "url": "https://a.example/feed", "category": "news"}
    config = builders.write_config(tmp_path, [source], database="mysql://user@localhost/news")
    held = heavy_imports(config, "check", expect=2)
    assert "sqlalchemy" in held  # the reference reading of every other URL
    assert only(held, {*FETCHING, *PUBLISHING, "apscheduler", "nh3"}) == set()


def test_each_command_imports_only_what_it_uses(tmp_path: Path, feed_server: FeedServer) -> None:
    config = site(tmp_path, feed_server)

    held = heavy_imports(config, "run", "--once")
    assert {"httpx", "aiohttp", "sqlalchemy", "jinja2"} <= held  # it fetched and published
    assert only(held, {"apscheduler"}) == set()

    # Every source answers 304, and the config is the one kept: nothing is parsed or
    # checked, so no parser, sanitizer or config library is loaded.
    held = heavy_imports(config, "run", "--once", "--all")
    assert {"httpx", "aiohttp", "sqlalchemy"} <= held
    assert only(held, {"feedparser", "fastfeedparser", "nh3", "pydantic", "yaml"}) == set()

    held = heavy_imports(config, "status")
    assert {"sqlalchemy", "rich"} <= held
    assert only(held, {*FETCHING, *PUBLISHING, "apscheduler", "nh3"}) == set()

    held = heavy_imports(config, "status", "--json")
    assert only(held, {*FETCHING, *PUBLISHING, "apscheduler", "nh3", "rich"}) == set()

    held = heavy_imports(config, "publish", "--all")
    assert {"sqlalchemy", "jinja2", "feedgen"} <= held  # it rendered every page and feed
    assert only(held, {*FETCHING, "apscheduler"}) == set()

    held = heavy_imports(config, "fetch", "--all")
    assert "httpx" in held
    assert only(held, {"feedgen", "jinja2", "apscheduler", "rich"}) == set()  # lxml: parsing

    held = heavy_imports(config, "sources", "export")
    assert only(held, {*FETCHING, *PUBLISHING, "apscheduler", "nh3", "sqlalchemy"}) == set()


LAZY_PACKAGES = [
    "aggregator.config",
    "aggregator.daemon",
    "aggregator.fetch",
    "aggregator.normalize",
    "aggregator.parse",
    "aggregator.publish",
    "aggregator.store",
    "aggregator.update",
]


@pytest.mark.parametrize("name", LAZY_PACKAGES)
def test_every_name_a_lazy_package_exports_loads_from_its_home(name: str) -> None:
    package = importlib.import_module(name)
    homes: dict[str, str] = vars(package)["_HOMES"]
    assert set(package.__all__) - {"HostDeferred"} == set(homes)  # fetch's one eager name
    for exported in package.__all__:
        value = getattr(package, exported)
        if exported in homes:
            home = importlib.import_module(f"{name}.{homes[exported]}")
            assert value is getattr(home, exported), exported
    with pytest.raises(AttributeError):
        getattr(package, "no_such_name")  # noqa: B009


def test_an_sqlite_store_never_loads_the_postgresql_dialect(tmp_path: Path) -> None:
    # Opened (made), written to with both kinds of upsert, and read: on SQLite only.
    probe = (
        "import sys\n"
        "from aggregator.store import open_store\n"
        "store = open_store(sys.argv[1])\n"
        "store.category_titles({'news': 'News'}); store.id_base('https://x.example/')\n"
        "store.states(); store.close()\n"
        "print(sorted(m for m in sys.modules if 'postgresql' in m or 'psycopg' in m))\n"
    )
    url = f"sqlite:///{tmp_path / 'x.db'}"
    done = subprocess.run(
        [sys.executable, "-c", probe, url], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
    assert (tmp_path / "x.db").exists()
