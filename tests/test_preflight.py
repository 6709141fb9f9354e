"""`check` end to end (the real CLI): the config's faults and its surroundings' (the
database, output_dir, templates, auth variables), all in one pass, one line each."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import builders
import pytest
from clirunner import run_cli, tree_mtimes
from pgdatabase import PG_MISSING, PG_URL, new_database

from aggregator.config import load_config

SOURCE = {"name": "A", "url": "https://a.example/feed", "category": "news"}
BEARER = {"type": "bearer", "token_env": "AGGREGATOR_TEST_UNSET_TOKEN"}


def refused(config: Path) -> list[str]:
    """The problem lines `check` prints; fails unless it refused the config cleanly."""
    proc = run_cli(config, "check", check=False)
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr
    *lines, summary = proc.stderr.splitlines()
    assert summary == f"aggregator: config refused ({len(lines)} problem(s))"
    return lines


def test_faults_of_every_kind_come_in_one_pass_and_nothing_is_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(BEARER["token_env"], raising=False)
    (tmp_path / "not-a-folder").write_text("a file\n", encoding="utf-8")
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "post.html").write_text("{% if post %}\n<p>{{ post.title }}</p>\n", "utf-8")
    (templates / "nav.html").write_text("<nav>{{ words | no_such_filter }}</nav>\n", "utf-8")
    feeds = tmp_path / "feeds"
    feeds.mkdir()
    (feeds / "broken.yaml").write_text(
        'sources:\n  - name: "Unclosed\n    url: https://b.example/\n', encoding="utf-8"
    )
    sources = [
        {"name": "Bad URL", "url": "ftp://a.example/", "category": "typo"},
        {**SOURCE, "include": ["/(unclosed/"], "exclude": ["/(?<=x)y/"]},
        {"name": "Secret", "url": "https://s.example/", "category": "news", "auth": BEARER},
    ]
    config = builders.write_config(
        tmp_path,
        sources,
        site=builders.site_section(output_dir="not-a-folder/site", templates_dir="templates"),
        database="sqlite:///no/such/folder/test.db",
        source_lists=["feeds/*.yaml"],
        sort_keys=False,
    )
    before = tree_mtimes(tmp_path)

    lines = refused(config)

    db = tmp_path / "no/such/folder"
    assert lines == [
        "config.yaml: sources[0].url: not an http(s) URL",
        "config.yaml: sources[1].include[0]: not a valid RE2 regex '/(unclosed/':"
        " missing ): (unclosed",
        "config.yaml: sources[1].exclude[0]: not a valid RE2 regex '/(?<=x)y/':"
        " invalid perl operator: (?<=",
        "feeds/broken.yaml: line 2, column 11: YAML syntax error: a quoted scalar starts here;"
        " found unexpected end of stream at line 4, column 1",
        # Cross-file: a source refused for its URL still has its category checked.
        "config.yaml: sources[0].category: unknown category 'typo'",
        f"config.yaml: database: cannot open database sqlite:///{db}/test.db:"
        f" no such folder '{db}'",
        "config.yaml: site.output_dir: cannot write 'not-a-folder/site':"
        f" '{tmp_path / 'not-a-folder'}' is not a folder",
        "config.yaml: site.templates_dir: templates/nav.html: line 1:"
        " No filter named 'no_such_filter'.",
        "config.yaml: site.templates_dir: templates/post.html: line 2: Unexpected end of"
        " template. Jinja was looking for the following tags: 'elif' or 'else' or 'endif'."
        " The innermost block that needs to be closed is 'if'.",
        "config.yaml: sources[2].auth.token_env: environment variable"
        " AGGREGATOR_TEST_UNSET_TOKEN is not set (or empty) where check runs",
    ]
    stderr = run_cli(config, "check", check=False).stderr
    assert "re2.cc" not in stderr and "absl" not in stderr and "b'" not in stderr
    assert tree_mtimes(tmp_path) == before


def test_a_good_config_passes_and_check_creates_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGGREGATOR_TEST_TOKEN", "secret")
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "nav.html").write_text("<nav>{{ words.home }}</nav>\n", encoding="utf-8")
    auth = {"type": "bearer", "token_env": "AGGREGATOR_TEST_TOKEN"}
    config = builders.write_config(
        tmp_path,
        [{**SOURCE, "include": ["/^a+b$/"], "auth": auth}],
        site=builders.site_section(output_dir="out/site", templates_dir="templates"),
    )
    before = sorted(p.name for p in tmp_path.rglob("*"))

    proc = run_cli(config, "check")

    assert proc.stdout == f"{config}: ok (1 sources in 1 categories)\n"
    assert proc.stderr == ""
    # Neither the database (test.db) nor output_dir (out/) is made, nor a temp file left.
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


def test_an_existing_database_is_only_read(tmp_path: Path) -> None:
    config = builders.write_config(tmp_path, [SOURCE])
    with sqlite3.connect(tmp_path / "test.db") as conn:
        conn.execute("CREATE TABLE t (x)")
    before = tree_mtimes(tmp_path)

    run_cli(config, "check")

    assert tree_mtimes(tmp_path) == before  # no -wal or -shm file, no schema written


@pytest.mark.parametrize(
    ("database", "fault"),
    [
        pytest.param(
            "mysql://user@localhost/news",
            "cannot open database mysql://user@localhost/news:"
            " only sqlite and postgresql are supported",
            id="unsupported",
        ),
        pytest.param(
            "postgresql+pg8000://user@localhost/news",
            "cannot open database postgresql+pg8000://user@localhost/news:"
            " No module named 'pg8000'",
            id="driver-missing",
        ),
        pytest.param(
            "sqlite:///config.yaml",
            "cannot open database sqlite:///{tmp}/config.yaml: file is not a database",
            id="not-a-database",
        ),
    ],
)
def test_a_database_that_would_not_open_is_one_line(
    tmp_path: Path, database: str, fault: str
) -> None:
    config = builders.write_config(tmp_path, [SOURCE], database=database)
    assert refused(config) == [f"config.yaml: database: {fault.format(tmp=tmp_path)}"]


@pytest.mark.skipif(PG_URL is None, reason=PG_MISSING)
def test_postgresql_is_connected_to_and_left_as_it_was(tmp_path: Path) -> None:
    import sqlalchemy as sa

    with new_database() as url:
        config = builders.write_config(tmp_path, [SOURCE], database=url)
        run_cli(config, "check")
        engine = sa.create_engine(url)
        try:
            assert sa.inspect(engine).get_table_names() == []  # no schema made
        finally:
            engine.dispose()
        missing = sa.make_url(url).set(database=f"{sa.make_url(url).database}_missing")
        config = builders.write_config(
            tmp_path, [SOURCE], database=missing.render_as_string(hide_password=False)
        )
        (line,) = refused(config)
        assert line.startswith("config.yaml: database: cannot open database postgresql")
        assert line.endswith(f'database "{missing.database}" does not exist')


def test_output_dir_in_a_folder_that_cannot_be_written(tmp_path: Path) -> None:
    (tmp_path / "out").write_text("a file where the site would go\n", encoding="utf-8")
    config = builders.write_config(tmp_path, [SOURCE])  # output_dir: out
    assert refused(config) == [
        f"config.yaml: site.output_dir: cannot write 'out': '{tmp_path / 'out'}' is not a folder"
    ]


def test_a_yaml_fault_names_the_line_it_starts_on(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        "site:\n  title: [Unclosed, list\n  base_url: https://a.example/\nsources: []\n",
        encoding="utf-8",
    )
    assert refused(config) == [
        "config.yaml: line 2, column 10: YAML syntax error: a flow sequence starts here;"
        " expected ',' or ']', but got ':' at line 3, column 11"
    ]


def test_a_bad_indentation_is_named_where_it_is(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("site:\n  title: T\n base_url: https://a.example/\n", encoding="utf-8")
    assert refused(config) == [
        "config.yaml: line 3, column 2: YAML syntax error:"
        " expected <block end>, but found '<block mapping start>'"
    ]


def test_the_surroundings_are_checked_by_check_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every command loads the config (`status` from shells, the daemon on each reload): the
    # database, output_dir and variables are looked at by `check`, never on load.
    monkeypatch.delenv(BEARER["token_env"], raising=False)
    config = builders.write_config(
        tmp_path,
        [{**SOURCE, "auth": BEARER}],
        site=builders.site_section(output_dir="missing/out"),
        database="mysql://user@localhost/news",
    )
    assert load_config(config).sources[0].auth is not None
    assert len(refused(config)) == 2


@pytest.mark.parametrize(
    ("category", "categories", "fault"),
    [
        pytest.param(
            "a",
            {"a": {"title": "A", "include": ["/(unclosed/"]}},
            "config.yaml: categories.a.include[0]: not a valid RE2 regex",
            id="its-category-refused",
        ),
        pytest.param(
            "nope", {"news": "News"}, "config.yaml: sources[0].category: unknown", id="unknown"
        ),
    ],
)
def test_a_source_left_out_for_its_category_still_has_its_auth_checked(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    category: str,
    categories: dict[str, object],
    fault: str,
) -> None:
    monkeypatch.delenv(BEARER["token_env"], raising=False)
    source = {"name": "Secret", "url": "https://s.example/", "category": category, "auth": BEARER}
    config = builders.write_config(tmp_path, [source], categories)
    lines = refused(config)
    assert any(line.startswith(fault) for line in lines), lines
    assert (
        "config.yaml: sources[0].auth.token_env: environment variable"
        " AGGREGATOR_TEST_UNSET_TOKEN is not set (or empty) where check runs"
    ) in lines
