"""README.md is true: its examples run as written and the names it gives are the code's.

Each test reads README.md itself (a section by its heading, a fenced block by its language)
and holds it against the real thing: the config reference through `aggregator check`, the
crontab line through /bin/sh with cron's bare environment, the output tree and `status`
through a real `run --once` against tests/httpserver.py, the systemd unit against
contrib/aggregator.service. Nothing README says is repeated here, so a README that drifts
from the code fails, and one that changes along with it passes.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from builders import config_data, dump_config, site_rss, write_config
from clirunner import aggregator_command, run_cli
from httpserver import FeedServer

from aggregator.config import load_config, specs
from aggregator.lock import lock_path_for
from aggregator.publish.sitemap import POSTS_DIR

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
_HEADING = re.compile(r"^(#{1,6}) (.+?)\s*$", re.M)
_FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.M | re.S)
# Folders of the checkout that are no part of the project.
_NOT_PROJECT = {".git", ".venv", "__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache"}


# ------------------------------------------------------------------ reading README


def section(title: str) -> str:
    """The text under the heading `title`, up to the next heading of its level or above
    (its subsections included)."""
    fences = [m.span() for m in _FENCE.finditer(README)]
    headings = [
        h for h in _HEADING.finditer(README) if not any(a < h.start() < b for a, b in fences)
    ]
    for i, heading in enumerate(headings):
        if heading.group(2) == title:
            level = len(heading.group(1))
            end = next(
                (h.start() for h in headings[i + 1 :] if len(h.group(1)) <= level), len(README)
            )
            return README[heading.end() : end]
    raise AssertionError(f"README has no heading {title!r}")


def fenced(text: str, language: str | None = None) -> list[str]:
    """The fenced code blocks of `text`, of `language` when given ("" for a bare fence)."""
    return [m.group(2) for m in _FENCE.finditer(text) if language in (None, m.group(1))]


def block(title: str, language: str) -> str:
    """The first `language` block under the heading `title`."""
    found = fenced(section(title), language)
    assert found, f"README: no ```{language} block under {title!r}"
    return found[0]


def inline_code(text: str) -> list[str]:
    """The `inline code` spans of `text` outside its fenced blocks."""
    return re.findall(r"`([^`\n]+)`", _FENCE.sub("", text))


def unit() -> dict[str, str]:
    """The [Service] and [Unit] keys of the systemd unit README shows."""
    keys: dict[str, str] = {}
    for line in block("As a systemd service", "ini").splitlines():
        name, equals, value = line.partition("=")
        if equals and not line.startswith("#"):
            keys[name.strip()] = value.strip()
    return keys


# ----------------------------------------------------------- a real run to hold it to


@dataclass(frozen=True)
class Run:
    folder: Path  # the config's folder: config.yaml, the database and its lock, feeds/
    output: Path  # site.output_dir
    config: Path


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    """One `run --once` with every optional output on (tag feeds, archives: feed_size 2 of
    3 posts, every feed format), output_dir left at its default, then `sources import` of
    an OPML file."""
    folder = tmp_path_factory.mktemp("readme-run")
    with FeedServer() as server:
        # Titles without numbers: no post's file is named like a numbered page.
        stories = [(guid, f"Story {guid}") for guid in ("one", "two", "three")]
        server.add("/news.rss", site_rss("news", stories))
        data = config_data(
            [{"name": "News site", "url": server.url("/news.rss")}],
            source_lists=["feeds/*.yaml"],
        )
        del data["site"]["output_dir"]  # its default, which README names
        data["site"] |= {"feed_size": 2, "tag_feeds": True, "archives": True}
        data["site"]["formats"] = ["atom", "rss", "json"]
        config = folder / "config.yaml"
        config.write_text(dump_config(data), encoding="utf-8")
        run_cli(config, "run", "--once")
        opml, more = folder / "more.opml", server.url("/more.rss")
        opml.write_text(
            '<?xml version="1.0"?><opml version="2.0"><head><title>t</title></head><body>'
            f'<outline text="News"><outline type="rss" text="More" xmlUrl="{more}"/>'
            "</outline></body></opml>",
            encoding="utf-8",
        )
        run_cli(config, "sources", "import", str(opml))
        yield Run(folder=folder, output=folder / load_config(config).site.output_dir, config=config)


def repository() -> set[str]:
    """The repository's files and folders as `tree` gives them: what git tracks, in a
    checkout (so nothing a local run left counts)."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        return tree(ROOT)
    listed = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files"], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    folders = {"/".join(f.split("/")[:n]) + "/" for f in listed for n in range(1, f.count("/") + 1)}
    return set(listed) | folders


def tree(root: Path) -> set[str]:
    """Every file (`a/b.md`) and folder (`a/`) under `root`, relative to it."""
    found: set[str] = set()
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in _NOT_PROJECT and not d.endswith(".egg-info")]
        here = Path(folder).relative_to(root).as_posix()
        prefix = "" if here == "." else here + "/"
        found.update(prefix + d + "/" for d in dirs)
        found.update(prefix + f for f in files)
    return found


def pattern(name: str) -> re.Pattern[str]:
    """A path as README writes it, as a regex: `<slug>`, `YYYY` and `*` stand for a name,
    digits for any number (its example date)."""
    out = []
    for token in re.split(r"(<[^>]+>|\*|YYYY|MM|DD|[0-9]+)", name.removeprefix("./")):
        if token.startswith("<") or token in ("*", "YYYY", "MM", "DD"):
            out.append(r"[^/]+")
        elif token.isdigit():
            out.append(r"[0-9]+")
        else:
            out.append(re.escape(token))
    return re.compile("".join(out))


def found_in(name: str, paths: set[str]) -> bool:
    """Whether `name` is one of `paths`, or (without a folder) the name of one of them."""
    regex = pattern(name)
    return any(
        regex.fullmatch(p) or ("/" not in name.rstrip("/") and regex.fullmatch(p.split("/")[-1]))
        for p in paths
    )


# ------------------------------------------------------------------ config reference


def reference() -> str:
    return block("Config reference", "yaml")


def _env_names(data: object) -> Iterator[str]:
    """The environment variables a config names (`token_env`, `password_env`)."""
    if isinstance(data, dict):
        for key, value in data.items():
            if key.endswith("_env") and isinstance(value, str):
                yield value
            yield from _env_names(value)
    elif isinstance(data, list):
        for value in data:
            yield from _env_names(value)


def test_config_reference_passes_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = reference()
    data = yaml.safe_load(text)
    (tmp_path / "config.yaml").write_text(text, encoding="utf-8")
    # What it names beside itself: its secrets in the environment, its templates folder,
    # and one file per source list.
    for name in _env_names(data):
        monkeypatch.setenv(name, "secret")
    (tmp_path / data["site"]["templates_dir"]).mkdir()
    for glob in data.get("source_lists", []):
        listed = tmp_path / glob.replace("*", "readme")
        listed.parent.mkdir(parents=True, exist_ok=True)
        listed.write_text(
            '<?xml version="1.0"?><opml version="2.0"><head/><body/></opml>'
            if glob.endswith(".opml")
            else "sources: []\n",
            encoding="utf-8",
        )

    proc = run_cli(tmp_path / "config.yaml", "check", check=False)

    assert proc.returncode == 0, f"README's config reference refused:\n{proc.stderr}"
    assert "Traceback" not in proc.stderr


def _comments(text: str) -> dict[int, str]:
    """Line number -> that line's comment, with the comment-only lines under it."""
    lines = text.splitlines()
    comments: dict[int, str] = {}
    for number, line in enumerate(lines):
        code, _, comment = line.partition(" #")
        if code.strip():
            more = []
            for later in lines[number + 1 :]:
                if later.strip() and not later.strip().startswith("#"):
                    break
                more.append(later.strip().lstrip("#"))
            comments[number] = " ".join([comment, *more])
    return comments


def _sections() -> list[tuple[str, type[Any], Any, yaml.MappingNode]]:
    """(where, spec model, parsed mapping, YAML node) of each section of the reference."""
    text = reference()
    data = yaml.safe_load(text)
    root = yaml.compose(text)
    assert isinstance(root, yaml.MappingNode)
    nodes = {k.value: v for k, v in root.value}

    def first(node: yaml.Node) -> yaml.Node:
        return node.value[0][1] if isinstance(node, yaml.MappingNode) else node.value[0]

    return [
        ("top level", specs.ConfigFile, data, root),
        ("site", specs.SiteSpec, data["site"], nodes["site"]),
        ("schedule", specs.ScheduleSpec, data["schedule"], nodes["schedule"]),
        ("fetch", specs.FetchSpec, data["fetch"], nodes["fetch"]),
        ("websub", specs.WebSubSpec, data["websub"], nodes["websub"]),
        ("a category", specs.CategorySpec, next(iter(data["categories"].values())),
         first(nodes["categories"])),
        ("a source", specs.SourceSpec, data["sources"][0], first(nodes["sources"])),
    ]  # fmt: skip


def test_config_reference_names_every_key() -> None:
    comments = " ".join(_comments(reference()).values())
    named = set(re.findall(r"[a-z_]+", comments))
    for where, spec, data, _ in _sections():
        missing = [k for k in spec.model_fields if k not in data and k not in named]
        assert not missing, f"README's config reference lacks {where} keys {missing}"


def test_config_reference_shows_defaults_or_says_so() -> None:
    """A key shown with another value than its default says so in its comment ("default
    …", or "optional")."""
    comments = _comments(reference())
    for where, spec, data, node in _sections()[1:]:
        shown = spec.model_validate(data)
        lines = {k.value: k.start_mark.line for k, _ in node.value}
        for key, field in spec.model_fields.items():
            default = field.get_default(call_default_factory=True)
            if (
                field.is_required()
                or key not in data
                or default is None
                or isinstance(default, list | dict | tuple)
            ):
                continue
            comment = comments.get(lines[key], "")
            if getattr(shown, key) != default:
                assert re.search(r"\b(default|optional)\b", comment), (
                    f"README's config reference: {where}.{key} is shown as {data[key]!r}, "
                    f"not its default {default!r}, and its comment does not say so"
                )


# ------------------------------------------------------------------ production


def test_crontab_line_runs_as_written(tmp_path: Path, feed_server: FeedServer) -> None:
    from apscheduler.triggers.cron import CronTrigger

    (line,) = [x for x in block("From cron", "cron").splitlines() if x and x[0] != "#"]
    minute, hour, day, month, weekday, command = line.split(maxsplit=5)
    CronTrigger.from_crontab(f"{minute} {hour} {day} {month} {weekday}")
    workdir = re.match(r"cd (\S+) && ", command)
    assert workdir, f"the crontab line does not cd to its folder first: {command}"
    assert workdir.group(1) == unit()["WorkingDirectory"], "cron and systemd use two folders"
    command = command.replace(workdir.group(1), str(tmp_path))
    for word in shlex.split(command):
        # The service user may write its own folder only (the unit's ReadWritePaths).
        assert not word.startswith("/") or word.startswith(str(tmp_path)), word
    feed_server.add("/news.rss", site_rss("news", [("g1", "One")]))
    config = write_config(tmp_path, [{"name": "News site", "url": feed_server.url("/news.rss")}])
    venv = tmp_path / ".venv" / "bin"
    venv.mkdir(parents=True)
    (venv / "aggregator").write_text(
        f'#!/bin/sh\nexec {shlex.join(aggregator_command())} "$@"\n', encoding="utf-8"
    )
    (venv / "aggregator").chmod(0o755)
    cron_env = {"PATH": "/usr/bin:/bin", "SHELL": "/bin/sh", "HOME": str(tmp_path)}

    proc = subprocess.run(
        ["/bin/sh", "-c", command],
        cwd="/",
        env=cron_env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    log = re.search(r">>\s*(\S+)", command)
    written = (tmp_path / log.group(1)).read_text(encoding="utf-8") if log else proc.stderr
    assert proc.returncode == 0, f"the crontab line exited {proc.returncode}:\n{written}"
    assert "Traceback" not in written
    output = Path(load_config(config).site.output_dir)
    assert len(list((output / POSTS_DIR).glob("*.md"))) == 1, "the round published no post"


def test_readme_unit_is_contrib_service() -> None:
    shipped = (ROOT / "contrib" / "aggregator.service").read_text(encoding="utf-8")
    assert block("As a systemd service", "ini") == shipped


def test_systemd_steps_create_the_service_user_first() -> None:
    user, writable = unit()["User"], unit()["ReadWritePaths"]
    steps = [
        shlex.split(s, comments=True)
        for s in fenced(section("As a systemd service"), "sh")[0].splitlines()
    ]
    creates = [n for n, s in enumerate(steps) if s[:1] in (["useradd"], ["adduser"]) and user in s]
    chowns = [(n, s) for n, s in enumerate(steps) if s[:1] == ["chown"] and writable in s]
    owns = [n for n, s in chowns if any(w.split(":")[0] == user for w in s)]
    starts = [n for n, s in enumerate(steps) if s[:2] == ["systemctl", "enable"]]
    assert creates, f"no useradd/adduser step for the unit's User={user}"
    assert owns, f"no step gives {user} its ReadWritePaths={writable}"
    assert starts and creates[0] < starts[0] and owns[0] < starts[0]


def test_gitignore_ignores_what_a_checkout_run_writes() -> None:
    """The database of config.yaml, its lock file (as the lock code names it), the output
    folder and the cron line's log."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs git and a git checkout (apt-get install git; run from a clone)")
    config = load_config(ROOT / "config.yaml")
    lock = lock_path_for(config.database)
    assert lock is not None, "config.yaml names no SQLite file"
    written = [lock.with_suffix("").relative_to(ROOT).as_posix(), lock.relative_to(ROOT).as_posix()]
    written.append(Path(config.site.output_dir).relative_to(ROOT).as_posix() + "/")
    written += re.findall(r">>\s*([^/\s]\S*)", block("From cron", "cron"))
    for relative in written:
        ignored = subprocess.run(
            ["git", "-C", str(ROOT), "check-ignore", "-q", "--no-index", relative]
        )
        assert ignored.returncode == 0, f".gitignore does not ignore {relative}"


def test_the_lock_file_is_the_one_written(published: Run) -> None:
    """What the .gitignore test takes from the lock code is the file a run leaves."""
    lock = lock_path_for(load_config(published.config).database)
    assert lock is not None
    assert {p.name for p in published.folder.glob("*.lock")} == {lock.name}


# ------------------------------------------------------------------ output and names


def test_output_paths_are_what_a_run_writes(published: Run) -> None:
    written = tree(published.output)
    words = (w.strip("(),;:") for w in block("Output", "").split())
    paths = [w for w in words if _path_like(w)]
    assert len(paths) >= 5, paths
    for path in paths:
        assert found_in(path, written), f"README's Output names {path}: no such file in a run"


def _named_paths() -> list[str]:
    """Relative paths and file names README gives in inline code, and the packages its
    stage table names: no URL, absolute path (from / or ~), time zone, date or markup."""
    spans = inline_code(README) + re.findall(r"aggregator/[\w/.]+", section("How it works"))
    return sorted({s for s in spans if _path_like(s)})


_EXTENSION = re.compile(r"[\w.<>*-]+\.(md|py|yaml|yml|opml|xml|html|service|toml|lock|db)")
_ZONES = zoneinfo.available_timezones()


def _path_like(s: str) -> bool:
    return (
        " " not in s
        and ("/" in s or _EXTENSION.fullmatch(s) is not None)
        and not s.startswith(("/", "~", "$", "-"))
        and not re.search(r"[:…]|</", s)
        and s not in _ZONES
        and not all(part.isdigit() for part in s.split("/"))
    )


def test_every_name_readme_gives_exists(published: Run) -> None:
    everything = repository() | tree(published.folder) | tree(published.output)
    names = _named_paths()
    assert len(names) > 10, names
    missing = [n for n in names if not found_in(n, everything)]
    assert not missing, f"README names what neither the repository nor a run has: {missing}"


def test_every_document_the_project_names_exists() -> None:
    files = repository()
    sources = [
        p
        for p in files
        if p.endswith((".py", ".toml", ".md", ".service", ".yaml")) or p == ".ci/run"
    ]
    names = {
        (path, name)
        for path in sources
        for name in re.findall(r"\b[A-Z][A-Z_]+\.md\b", (ROOT / path).read_text(errors="replace"))
    }
    missing = [(p, n) for p, n in sorted(names) if not found_in(n, files)]
    assert not missing, f"documents named that the repository lacks: {missing}"


# ------------------------------------------------------------------ status


def _status_columns_in_readme() -> list[str]:
    row = next((r for r in section("Command line").splitlines() if r.startswith("| `status")), None)
    assert row, "README's command table has no `status` row"
    listed = re.search(r"columns ((?:`[^`]+`(?:, | and )?)+)", row)
    assert listed, f"README's `status` row names no columns (`a`, `b`, …): {row}"
    return re.findall(r"`([^`]+)`", listed.group(1))


def test_status_columns_are_the_ones_printed(published: Run) -> None:
    printed = run_cli(published.config, "status").stdout
    header = [line for line in printed.splitlines() if "┃" in line]
    assert header, f"status printed no table header:\n{printed}"
    cells = [[c.strip() for c in line.strip().strip("┃").split("┃")] for line in header]
    columns = [" ".join(filter(None, parts)) for parts in zip(*cells, strict=True)]
    assert _status_columns_in_readme() == columns
