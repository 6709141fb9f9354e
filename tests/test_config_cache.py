"""The kept config (aggregator/config/cache.py): a clean load is kept and given back, equal
to the reference load (assemble.read_config), only while every file it read is the same;
any change, a fault, another $HOME or a kept file not safely ours is a new load."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import builders
import pytest

from aggregator.config import cache
from aggregator.config.assemble import read_config
from aggregator.config.cache import checked_config, load_config
from aggregator.errors import ConfigError

REPO = Path(__file__).resolve().parent.parent

SOURCES = [
    {"name": "A", "url": "https://a.example/feed", "category": "news"},
    {
        "name": "B",
        "url": "https://b.example/feed",
        "category": "news",
        "auth": {"type": "bearer", "token_env": "B_TOKEN"},
    },
]

OPML = """<?xml version="1.0"?>
<opml version="2.0"><head><title>t</title></head><body>
<outline text="Tech"><outline text="C" xmlUrl="https://c.example/rss"/></outline>
</body></opml>
"""


@pytest.fixture
def kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cache folder of this test's own."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(folder))
    monkeypatch.delenv("AGGREGATOR_CONFIG_CACHE", raising=False)
    return folder / "aggregator"


def kept_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("config-*.pickle")) if folder.is_dir() else []


def with_lists(tmp: Path) -> Path:
    (tmp / "feeds").mkdir()
    (tmp / "feeds" / "more.yaml").write_text(
        "sources:\n  - {name: D, url: 'https://d.example/feed', category: news}\n", "utf-8"
    )
    (tmp / "feeds" / "tech.opml").write_text(OPML, "utf-8")
    (tmp / "feeds" / "folder.yaml").mkdir()  # matched, and skipped: a folder
    return builders.write_config(
        tmp, SOURCES, source_lists=["feeds/*.yaml", "feeds/*.opml"], categories={"news": "News"}
    )


def configs(tmp: Path) -> list[Path]:
    """The repository's default config with its lists, and one of every kind of list."""
    shutil.copy(REPO / "config.yaml", tmp / "config.yaml")
    shutil.copytree(REPO / "feeds", tmp / "feeds")
    other = tmp / "other"
    other.mkdir()
    return [tmp / "config.yaml", with_lists(other)]


def test_a_kept_config_equals_the_reference_load(tmp_path: Path, kept: Path) -> None:
    for path in configs(tmp_path):
        reference, problems = read_config(path)
        assert problems == [] and reference is not None
        first = checked_config(path)  # read, then kept
        assert len(kept_files(kept)) >= 1
        again = checked_config(path)  # given back
        assert first.config == again.config == reference
        assert first.auth == again.auth
        assert again.problems == []
    assert len(kept_files(kept)) == 2  # one per config path


def test_the_kept_config_is_what_is_given_back(tmp_path: Path, kept: Path) -> None:
    path = with_lists(tmp_path)
    load_config(path)
    (where,) = kept_files(kept)
    stat_before = where.stat()
    load_config(path)
    assert where.stat().st_mtime_ns == stat_before.st_mtime_ns  # not written again
    assert stat_before.st_mode & 0o777 == 0o600
    assert kept.stat().st_mode & 0o077 == 0  # the folder: its owner's alone


def names(path: Path) -> list[str]:
    return [s.name for s in load_config(path).sources]


def test_any_change_to_a_file_read_is_seen(tmp_path: Path, kept: Path) -> None:
    path = with_lists(tmp_path)
    assert names(path) == ["A", "B", "D", "C"]

    # The same size and the same mtime: only the bytes tell.
    text = path.read_text("utf-8")
    stat_before = path.stat()
    path.write_text(text.replace("name: A", "name: Z"), "utf-8")
    os.utime(path, ns=(stat_before.st_atime_ns, stat_before.st_mtime_ns))
    assert names(path) == ["Z", "B", "D", "C"]

    more = tmp_path / "feeds" / "more.yaml"
    more.write_text(more.read_text("utf-8").replace("name: D", "name: E"), "utf-8")
    assert names(path) == ["Z", "B", "E", "C"]

    opml = tmp_path / "feeds" / "tech.opml"
    opml.write_text(OPML.replace('text="C"', 'text="F"'), "utf-8")
    assert names(path) == ["Z", "B", "E", "F"]

    (tmp_path / "feeds" / "added.yaml").write_text(
        "sources:\n  - {name: G, url: 'https://g.example/feed', category: news}\n", "utf-8"
    )
    assert names(path) == ["Z", "B", "G", "E", "F"]

    (tmp_path / "feeds" / "added.yaml").unlink()
    assert names(path) == ["Z", "B", "E", "F"]

    (tmp_path / "feeds" / "folder.yaml").rmdir()  # a folder becomes a file
    (tmp_path / "feeds" / "folder.yaml").write_text(
        "sources:\n  - {name: H, url: 'https://h.example/feed', category: news}\n", "utf-8"
    )
    assert names(path) == ["Z", "B", "H", "E", "F"]


def test_a_fault_is_reported_every_time_and_never_kept(tmp_path: Path, kept: Path) -> None:
    path = with_lists(tmp_path)
    load_config(path)
    more = tmp_path / "feeds" / "more.yaml"
    more.write_text("sources:\n  - {name: D, url: 'not a url', category: news}\n", "utf-8")
    for _ in range(2):
        with pytest.raises(ConfigError) as refused:
            load_config(path)
        assert any("feeds/more.yaml" in line for line in refused.value.problems)
    more.write_text(
        "sources:\n  - {name: D, url: 'https://d.example/feed', category: news}\n", "utf-8"
    )
    assert names(path) == ["A", "B", "D", "C"]


def test_a_missing_templates_folder_is_a_fault_of_a_kept_config_too(
    tmp_path: Path, kept: Path
) -> None:
    (tmp_path / "templates").mkdir()
    path = builders.write_config(
        tmp_path, SOURCES, site=builders.site_section(templates_dir="templates")
    )
    load_config(path)
    (tmp_path / "templates").rmdir()
    with pytest.raises(ConfigError) as refused:
        load_config(path)
    assert list(refused.value.problems) == [
        "config.yaml: site.templates_dir: no such folder 'templates'"
    ]


def test_another_home_is_a_new_load(
    tmp_path: Path, kept: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = builders.write_config(tmp_path, SOURCES, site=builders.site_section(output_dir="~/site"))
    for home in (tmp_path / "home", tmp_path / "other-home", tmp_path / "home"):
        monkeypatch.setenv("HOME", str(home))
        assert load_config(path).site.output_dir == home / "site"


def test_a_kept_file_not_safely_ours_is_not_read(tmp_path: Path, kept: Path) -> None:
    path = with_lists(tmp_path)
    load_config(path)
    (where,) = kept_files(kept)
    where.chmod(0o666)  # anyone could have written it
    before = where.stat().st_mtime_ns
    assert names(path) == ["A", "B", "D", "C"]
    assert where.stat().st_mtime_ns != before  # read again, and kept anew
    assert where.stat().st_mode & 0o777 == 0o600

    where.write_bytes(b"\x80\x05not a pickle")
    assert names(path) == ["A", "B", "D", "C"]
    assert checked_config(path).config == read_config(path)[0]


def test_a_cache_that_cannot_be_written_or_is_off_changes_nothing(
    tmp_path: Path, kept: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = with_lists(tmp_path)
    kept.parent.mkdir(parents=True)
    kept.write_text("a file where the folder would be", "utf-8")
    assert names(path) == ["A", "B", "D", "C"]
    kept.unlink()
    monkeypatch.setenv("AGGREGATOR_CONFIG_CACHE", "off")
    assert names(path) == ["A", "B", "D", "C"]
    assert not kept.exists()
    assert cache.cache_folder() is None


def test_check_twice_reads_no_yaml_and_builds_no_model_the_second_time(
    tmp_path: Path, kept: Path
) -> None:
    path = with_lists(tmp_path)
    env = {**os.environ, "B_TOKEN": "x"}
    probe = (
        "import sys; from aggregator.cli import main\n"
        "code = main(['--config', sys.argv[1], 'check'])\n"
        "print(sorted({'pydantic', 'yaml'} & set(sys.modules)))\n"
    )
    seen = []
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-c", probe, str(path)],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        assert "config.yaml: ok (4 sources in 2 categories)" in done.stdout
        seen.append(done.stdout.strip().splitlines()[-1])
    assert seen == ["['pydantic', 'yaml']", "[]"]


def test_check_of_a_kept_config_still_names_an_unset_auth_variable(
    tmp_path: Path, kept: Path
) -> None:
    path = with_lists(tmp_path)
    env = {k: v for k, v in os.environ.items() if k != "B_TOKEN"}
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-m", "aggregator", "--config", str(path), "check"],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        assert done.returncode == 2
        assert (
            "config.yaml: sources[1].auth.token_env: environment variable B_TOKEN is not set"
            in done.stderr
        ), done.stderr
        assert "Traceback" not in done.stderr


def test_the_cache_folder_is_xdg_cache_home_else_the_home_folders_dot_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aggregator.cachedir import cache_root

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_root() == tmp_path / "xdg" / "aggregator"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_root() == tmp_path / "home" / ".cache" / "aggregator"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/not/used")
    assert cache_root() == tmp_path / "home" / ".cache" / "aggregator"
    monkeypatch.delenv("HOME")
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache_root() is None
