"""End to end: each documented failure of an operator or of the machine, through the real
CLI in a subprocess: its exit code (README's table), one line on stderr, no traceback."""

from __future__ import annotations

import base64
import functools
import os
import resource
import shutil
import signal
import socket
import subprocess
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import builders
import pytest
import yaml
from builders import site_rss
from clirunner import aggregator_command, run_cli
from httpserver import FeedServer

pytestmark = pytest.mark.slow

write_config = functools.partial(builders.write_config, fetch=builders.timeouts("1s", "2s", "3s"))
UNUSED_SOURCE = {
    "name": "A",
    "url": "http://127.0.0.1:9/a.rss",
    "category": "news",
}  # never fetched


def aggregator(
    config: Path,
    *args: str,
    stdout: int | None = subprocess.PIPE,
    preexec_fn: Callable[[], None] | None = None,
) -> subprocess.CompletedProcess[str]:
    """`aggregator --config CONFIG --log-level warning ARGS`: the log's INFO lines left out,
    stderr holds the failure alone."""
    env = {k: v for k, v in os.environ.items() if k != "AGGREGATOR_CONFIG"}
    return subprocess.run(
        [*aggregator_command(), "--config", str(config), "--log-level", "warning", *args],
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        timeout=60,
        env=env,
        cwd=config.parent,
        preexec_fn=preexec_fn,
    )


def one_line(proc: subprocess.CompletedProcess[str], code: int) -> str:
    """The one line `proc` wrote on stderr, once its exit code is `code`."""
    assert "Traceback" not in proc.stderr and "Traceback" not in (proc.stdout or ""), proc.stderr
    assert proc.returncode == code, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


@pytest.fixture
def site(tmp_path: Path, feed_server: FeedServer) -> Path:
    """A config with one source, fetched and published once; its path."""
    feed_server.add("/a.rss", site_rss("a", [("a1", "First", "<p>one</p>")]))
    config = write_config(
        tmp_path, [{"name": "A", "url": feed_server.url("/a.rss"), "category": "news"}]
    )
    run_cli(config, "run", "--once")
    return config


def edit_site(config: Path, **values: str) -> None:
    """Set keys of the config's `site:` section."""
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["site"].update(values)
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def test_serve_on_a_port_in_use_says_so(site: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = aggregator(site, "serve", "--port", str(port))
    line = one_line(proc, 1)
    assert line == (
        f"aggregator: cannot serve on 127.0.0.1:{port}: the port is in use"
        " (stop what holds it, or --port)"
    )


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_serve_stops_cleanly_on_sigterm_as_on_sigint(site: Path, sig: signal.Signals) -> None:
    env = {k: v for k, v in os.environ.items() if k != "AGGREGATOR_CONFIG"}
    with subprocess.Popen(
        [*aggregator_command(), "--config", str(site), "serve", "--port", "0"],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=site.parent,
        # A shell's background job ignores SIGINT; the command must not inherit that.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    ) as proc:
        try:
            assert proc.stderr is not None
            assert "serving" in proc.stderr.readline()
            proc.send_signal(sig)
            assert proc.wait(timeout=30) == 0
            assert "Traceback" not in proc.stderr.read()
        finally:
            proc.kill()


def test_status_into_a_closed_pipe_exits_141_quietly(site: Path) -> None:
    # `status --json | head -c1`: the reader is gone before the command writes.
    read, write = os.pipe()
    os.close(read)
    try:
        proc = aggregator(site, "status", "--json", stdout=write)
    finally:
        os.close(write)
    assert proc.returncode == 141, proc.stderr
    assert proc.stderr == ""


@pytest.mark.parametrize("args", [("status", "--json"), ("status",), ("sources", "export")])
def test_output_to_a_full_disk_is_one_line(site: Path, args: Sequence[str]) -> None:
    with open("/dev/full", "w") as full:
        proc = aggregator(site, *args, stdout=full.fileno())
    line = one_line(proc, 1)
    assert line == "aggregator: cannot write the output: No space left on device"


def _file_size_limit(limit: int) -> Callable[[], None]:
    def limit_files() -> None:
        # Past the limit a write fails with EFBIG, as on a full disk (ENOSPC), once the
        # signal the kernel sends first is ignored.
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return limit_files


def test_publish_onto_a_full_disk_is_one_line_exit_4(site: Path) -> None:
    # Each page carries the site's title: every one is past the limit, the store is not.
    store_size = (site.parent / "test.db").stat().st_size
    limit = store_size + 100_000
    edit_site(site, title="T" * (limit + 1))
    proc = aggregator(site, "publish", "--all", preexec_fn=_file_size_limit(limit))
    line = one_line(proc, 4)
    assert line.startswith(f"aggregator: publish: cannot write {site.parent / 'out'}/"), line
    assert line.endswith(": File too large"), line


def test_a_store_on_a_full_disk_is_one_line_exit_3(site: Path) -> None:
    # Too little room for SQLite's write-ahead log: the store cannot be opened for writing.
    proc = aggregator(site, "run", "--once", "--all", preexec_fn=_file_size_limit(4000))
    line = one_line(proc, 3)
    assert line.startswith("aggregator: store: cannot open database sqlite:///"), line


def test_an_output_file_that_cannot_be_written_is_one_line_exit_4(site: Path) -> None:
    # A folder where the site's feed goes: rename() refuses, even to root.
    feed = site.parent / "out" / "atom.xml"
    feed.unlink()
    (feed / "in-the-way").mkdir(parents=True)
    line = one_line(aggregator(site, "publish", "--all"), 4)
    assert line == f"aggregator: publish: cannot write {feed}: Is a directory"
    shutil.rmtree(feed)  # what the operator does; the rebuild cut short is then finished
    run_cli(site, "publish")  # by the next publish, with no --all
    assert feed.is_file()


def test_a_store_that_cannot_be_written_is_one_line_exit_3(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder", encoding="utf-8")
    config = write_config(tmp_path, [UNUSED_SOURCE], database="sqlite:///file/test.db")
    line = one_line(aggregator(config, "publish"), 3)
    assert line.startswith("aggregator: store: cannot open "), line
    assert f"{tmp_path / 'file' / 'test.db'}" in line, line


@pytest.mark.parametrize(
    ("template", "line", "problem"),
    [
        pytest.param("{% for x in %}", 1, "Expected an expression", id="syntax"),
        pytest.param("<p>\n{{ nosuch.attr }}\n", 2, "'nosuch' is undefined", id="undefined"),
        pytest.param("<p>\n\n{{ 1 / 0 }}", 3, "division by zero", id="runtime"),
    ],
)
def test_a_template_fault_names_the_file_and_line_exit_4(
    site: Path, template: str, line: int, problem: str
) -> None:
    templates = site.parent / "templates"
    templates.mkdir()
    (templates / "list.html").write_text(template, encoding="utf-8")
    edit_site(site, templates_dir="templates")
    message = one_line(aggregator(site, "publish", "--all"), 4)
    assert message.startswith(
        f"aggregator: publish: template {templates / 'list.html'}, line {line}: {problem}"
    ), message


def test_a_template_that_includes_a_missing_one_is_named(site: Path) -> None:
    templates = site.parent / "templates"
    templates.mkdir()
    (templates / "list.html").write_text('{% include "nope.html" %}', encoding="utf-8")
    edit_site(site, templates_dir="templates")
    line = one_line(aggregator(site, "publish", "--all"), 4)
    assert line == "aggregator: publish: template nope.html: not found"


@pytest.mark.parametrize(
    ("args", "error"),
    [
        pytest.param(("nope",), "argument COMMAND: invalid choice: 'nope'", id="unknown-command"),
        pytest.param(("run", "--all"), "--all needs --once", id="run-all-without-once"),
        pytest.param(
            ("serve", "--port", "x"), "argument --port: not a port number", id="bad-value"
        ),
        pytest.param(
            ("serve", "--port", "99999"),
            "argument --port: not a port number (0 to 65535): '99999'",
            id="port-out-of-range",
        ),
        pytest.param(
            ("history", "--limit", "99999999999999999999"),
            "argument --limit: must be at most 1000000: '99999999999999999999'",
            id="limit-past-the-stores-integers",
        ),
        pytest.param(
            ("run", "--tick", "1e308"), "argument --tick: must be at most 86400", id="tick-huge"
        ),
        pytest.param(
            ("run", "--grace", "inf"), "argument --grace: must be at most", id="grace-inf"
        ),
    ],
)
def test_usage_errors_exit_64_not_a_refused_configs_2(
    tmp_path: Path, args: Sequence[str], error: str
) -> None:
    config = write_config(
        tmp_path, [{"name": "A", "url": "http://127.0.0.1:9/", "category": "news"}]
    )
    proc = aggregator(config, *args)
    assert "Traceback" not in proc.stderr
    assert proc.returncode == 64, proc.stderr
    assert error in proc.stderr.strip().splitlines()[-1], proc.stderr
    # Nothing ran: `run --all` did not start the daemon, nothing was created.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.yaml"]


def test_a_refused_config_exits_2(tmp_path: Path) -> None:
    config = write_config(
        tmp_path, [{"name": "A", "url": "ftp://example.org/", "category": "news"}]
    )
    proc = aggregator(config, "check")
    assert "Traceback" not in proc.stderr
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == "aggregator: config refused (1 problem(s))"


@pytest.mark.parametrize("level", ["debug", "Info", "WARNING", "error"])
def test_log_level_is_case_insensitive(tmp_path: Path, level: str) -> None:
    config = write_config(
        tmp_path, [{"name": "A", "url": "http://127.0.0.1:9/", "category": "news"}]
    )
    proc = run_cli(config, "--log-level", level, "check")
    assert proc.stdout.startswith(f"{config}: ok"), proc.stdout


@pytest.mark.parametrize(
    "value",
    # 5,000 digits: more than int() reads (4,300) without a ValueError.
    ["99999999999999999999", "9" * 5000, "Fri, 31 Dec 9999 23:59:59 GMT"],
    ids=["20-digits", "5000-digits", "year-9999"],
)
def test_an_absurd_retry_after_delays_its_source_a_year_at_most(
    tmp_path: Path, feed_server: FeedServer, value: str
) -> None:
    """A Retry-After past what a date holds fails its own source: the round goes on."""
    feed_server.add("/busy.rss", status=429, retry_after=value)
    with FeedServer() as other:  # another host: the 429 defers only its own
        other.add("/good.rss", site_rss("good", [("g1", "Good news", "<p>fine</p>")]))
        sources = [
            {"name": "busy", "url": feed_server.url("/busy.rss"), "category": "news"},
            {"name": "good", "url": other.url("/good.rss"), "category": "news"},
        ]
        config = write_config(tmp_path, sources)
        proc = aggregator(config, "run", "--once")
    assert "Traceback" not in proc.stderr and proc.returncode == 0, proc.stderr
    assert len(list((tmp_path / "out" / "_posts").glob("*.md"))) == 1
    rows = {r["name"]: r for r in yaml.safe_load(aggregator(config, "status", "--json").stdout)}
    assert rows["busy"]["last_error"] == "HTTP 429 Too Many Requests (retry after 31536000s)"
    next_check = datetime.fromisoformat(rows["busy"]["next_check"])
    assert next_check < datetime.now(UTC) + timedelta(days=365 * 1.1 + 1)  # its jitter above


@pytest.mark.parametrize(
    "odd",
    [
        # A Cache-Control max-age past what a timedelta holds is capped.
        {"Cache-Control": "max-age=99999999999999999999"},
        {"Cache-Control": "max-age=" + "9" * 5000},  # past what int() reads
        {"Cache-Control": "max-age=600", "Age": "9" * 5000},
        # A WebSub Link header whose target is no URL (an IPv6 host not closed) names no hub.
        {"Link": '<http://[::1/hub>; rel="hub", <http://[::1/feed>; rel="self"'},
    ],
    ids=["max-age-20-digits", "max-age-5000-digits", "age-5000-digits", "link-to-no-url"],
)
def test_an_odd_response_header_leaves_its_source_and_the_others_publishing(
    tmp_path: Path, feed_server: FeedServer, odd: dict[str, str]
) -> None:
    feed_server.add("/odd.rss", site_rss("o", [("o1", "Odd", "<p>x</p>")]), headers=odd)
    feed_server.add("/good.rss", site_rss("good", [("g1", "Good news", "<p>fine</p>")]))
    sources = [
        {"name": "odd", "url": feed_server.url("/odd.rss"), "category": "news"},
        {"name": "good", "url": feed_server.url("/good.rss"), "category": "news"},
    ]
    config = write_config(tmp_path, sources)
    proc = aggregator(config, "run", "--once")
    assert "Traceback" not in proc.stderr and proc.returncode == 0, proc.stderr
    assert len(list((tmp_path / "out" / "_posts").glob("*.md"))) == 2


def test_a_file_where_the_posts_folder_goes_is_one_line_exit_4(site: Path) -> None:
    posts = site.parent / "out" / "_posts"
    shutil.rmtree(posts)
    posts.write_text("in the way", encoding="utf-8")
    line = one_line(aggregator(site, "publish", "--all"), 4)
    assert line == f"aggregator: publish: cannot list {posts}: Not a directory"
    posts.unlink()  # what the operator does; the rebuild cut short is then finished
    run_cli(site, "publish")
    assert len(list(posts.glob("*.md"))) == 1


def test_a_non_ascii_etag_is_not_sent_back(tmp_path: Path, feed_server: FeedServer) -> None:
    """A validator that cannot be sent in a request header costs its conditional GET: the
    next rounds fetch the feed (and the others) as before."""
    body = site_rss("e", [("e1", "Tagged", "<p>x</p>")])
    feed_server.add("/etag.rss", body, etag='W/"\u00e9t\u00e9"', last_modified="d\u00e9c 2026")
    feed_server.add("/good.rss", site_rss("good", [("g1", "Good news", "<p>fine</p>")]))
    sources = [
        {"name": "etag", "url": feed_server.url("/etag.rss"), "category": "news"},
        {"name": "good", "url": feed_server.url("/good.rss"), "category": "news"},
    ]
    config = write_config(tmp_path, sources)
    for _ in range(2):
        proc = aggregator(config, "run", "--once", "--all")
        assert "Traceback" not in proc.stderr and proc.returncode == 0, proc.stderr
    assert feed_server.hits("/etag.rss") == feed_server.hits("/good.rss") == 2
    assert len(list((tmp_path / "out" / "_posts").glob("*.md"))) == 2


def test_auth_secrets_that_are_not_ascii_fail_their_own_source_alone(
    tmp_path: Path, feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bearer token that is not ASCII cannot be sent: its source fails, saying so; a
    basic password of bytes that are no UTF-8 is sent as they are."""
    monkeypatch.setenv("AGG_TEST_TOKEN", "tok\u00e9n")
    monkeypatch.setenv("AGG_TEST_PASSWORD", "pass\udcff")  # the byte 0xff in the environment
    for name in ("bearer", "basic", "good"):
        feed_server.add(f"/{name}.rss", site_rss(name, [(f"{name}1", name, "<p>x</p>")]))
    auths = {
        "bearer": {"type": "bearer", "token_env": "AGG_TEST_TOKEN"},
        "basic": {"type": "basic", "username": "u", "password_env": "AGG_TEST_PASSWORD"},
    }
    sources = [
        {"name": n, "url": feed_server.url(f"/{n}.rss"), "category": "news"}
        | ({"auth": auths[n]} if n in auths else {})
        for n in ("bearer", "basic", "good")
    ]
    config = write_config(tmp_path, sources)
    proc = aggregator(config, "run", "--once")
    assert "Traceback" not in proc.stderr and proc.returncode == 0, proc.stderr
    assert len(list((tmp_path / "out" / "_posts").glob("*.md"))) == 2
    rows = {r["name"]: r for r in yaml.safe_load(aggregator(config, "status", "--json").stdout)}
    assert rows["bearer"]["last_error"] == (
        "bearer auth: environment variable AGG_TEST_TOKEN is not ASCII text (a bearer token is)"
    )
    [request] = feed_server.requests("/basic.rss")
    sent = request.headers["authorization"].removeprefix("Basic ")
    assert base64.b64decode(sent) == b"u:pass\xff"


@pytest.mark.parametrize("where", ["out", "parent"])
def test_a_file_where_output_dir_goes_is_one_line_exit_4(site: Path, where: str) -> None:
    out = site.parent / "out"
    shutil.rmtree(out)
    if where == "out":
        out.write_text("in the way", encoding="utf-8")
        expected = f"aggregator: publish: output_dir {out} is a file, not a folder"
    else:
        (site.parent / "above").write_text("in the way", encoding="utf-8")
        edit_site(site, output_dir="above/out")
        out = site.parent / "above" / "out"
        expected = f"aggregator: publish: cannot make output_dir {out}: a file is in its path"
    assert one_line(aggregator(site, "publish"), 4) == expected


@pytest.mark.parametrize("args", [("run", "--once"), ("publish",)], ids=["run", "publish"])
def test_a_database_driver_sqlalchemy_cannot_load_is_one_line_exit_3(
    tmp_path: Path, args: Sequence[str]
) -> None:
    url = "postgresql+nosuchdriver://u@127.0.0.1:9/db"
    config = write_config(tmp_path, [UNUSED_SOURCE], database=url)
    line = one_line(aggregator(config, *args), 3)
    assert line == (
        f"aggregator: store: cannot open database {url}:"
        " Can't load plugin: sqlalchemy.dialects:postgresql.nosuchdriver"
    )


def test_a_date_of_digits_int_refuses_leaves_its_item_undated(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    """'²' is a digit to str.isdigit: ten of them were read as Unix seconds, and int()
    raised out of the parse, ending the round."""
    feed = site_rss("d", [("d1", "Dated", "<p>x</p>")], dated=lambda n: "\u00b2" * 10)
    feed_server.add("/dated.rss", feed)
    feed_server.add("/good.rss", site_rss("good", [("g1", "Good news", "<p>fine</p>")]))
    sources = [
        {"name": "dated", "url": feed_server.url("/dated.rss"), "category": "news"},
        {"name": "good", "url": feed_server.url("/good.rss"), "category": "news"},
    ]
    config = write_config(tmp_path, sources)
    proc = aggregator(config, "run", "--once")
    assert "Traceback" not in proc.stderr and proc.returncode == 0, proc.stderr
    assert len(list((tmp_path / "out" / "_posts").glob("*.md"))) == 2
