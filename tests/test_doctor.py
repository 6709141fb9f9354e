"""aggregator.doctor and `aggregator doctor`: each finding and its level. Against the
misbehaving server of tests/httpserver.py through the real Fetcher (aggregator.doctor.probe)
and the real CLI; the rest as tables over fetch results built here (diagnose is pure).
"""

from __future__ import annotations

import asyncio
import json
import zlib
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from builders import UTF8_PROLOG, atom, rss, rss_item, write_config
from clirunner import run_cli
from httpserver import FeedServer, closed_port, http_date

from aggregator.doctor import Finding, Probe, Report, Settings, diagnose
from aggregator.doctor.probe import probe
from aggregator.fetch import FetchLimits
from aggregator.parse.ttl import parse_skip_days, parse_skip_hours
from aggregator.types import FetchResult, FetchSettings, Validators

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
URL = "https://feeds.example.org/news/rss"
QUICK = FetchLimits(connect_timeout=1.0, read_timeout=2.0, total_timeout=5.0)
MODIFIED = http_date(datetime(2026, 2, 1, tzinfo=UTC))


def item(guid: str, *, link: str | None = None, date: str = "Sun, 01 Feb 2026 10:00:00 GMT") -> str:
    return rss_item(
        title=f"Item {guid}",
        link=link or f"https://site.example.org/{guid}",
        guid=guid,
        permalink=False,
        pub_date=date,
        description=f"<p>{guid}</p>",
        cdata=True,
    )


FEED = rss(item("1"), item("2", date="Sun, 01 Feb 2026 11:00:00 GMT"), prolog=UTF8_PROLOG)


# ------------------------------------------------------------------ helpers


def fetched(
    content: bytes = FEED,
    *,
    headers: Mapping[str, str] | None = None,
    url: str = URL,
    status: int = 200,
    redirects: tuple[tuple[str, int], ...] = (),
    validators: Validators = Validators(),  # noqa: B008 - frozen value
) -> FetchResult:
    return FetchResult(
        url=url,
        status=status,
        content=None if status == 304 else content,
        headers={"content-type": "application/rss+xml; charset=utf-8"}
        if headers is None
        else dict(headers),
        validators=validators,
        redirects=redirects,
        fetched_at=NOW,
    )


def diagnosed(
    result: FetchResult, *, conditional: FetchResult | None = None, settings: Settings | None = None
) -> Report:
    made = Probe(url=URL, now=NOW, seconds=0.2, result=result, conditional=conditional)
    return diagnose(made, settings or Settings())


def found(report: Report | Mapping[str, Any], check: str) -> Finding:
    """The one finding of `check` in a report (or in `doctor --json`'s output)."""
    if isinstance(report, Report):
        matching = [f for f in report.findings if f.check == check]
    else:
        matching = [
            Finding(
                check=f["check"],
                level=f["level"],
                text=f["text"],
                meaning=f["meaning"],
                data=f["data"],
            )
            for f in report["findings"]
            if f["check"] == check
        ]
    assert len(matching) == 1, f"{check}: {matching}"
    return matching[0]


def checks(report: Report) -> set[str]:
    return {f.check for f in report.findings}


def real(url: str, limits: FetchLimits = QUICK) -> Report:
    """`url` through the real Fetcher (the two requests the command makes), diagnosed."""
    return diagnose(asyncio.run(probe(url, limits)), Settings(fetch=FetchSettings()))


def doctor(tmp_path: Path, url: str, *, config: Path | None = None) -> tuple[int, dict[str, Any]]:
    """`aggregator doctor --json URL` in a subprocess: its exit status and its report."""
    proc = run_cli(config or tmp_path / "no-config.yaml", "doctor", "--json", url, check=False)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def gzip_bomb(size: int) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return packer.compress(bytes(size)) + packer.flush()


# --------------------------------------------------------- the real CLI


def test_a_redirect_chain_is_shown_hop_by_hop_with_its_codes(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    feed_server.add("/old", redirect_to="/moved", redirect_status=301)
    feed_server.add("/moved", redirect_to=feed_server.url("/feed"), redirect_status=302)
    feed_server.add("/feed", FEED, etag=True)

    code, report = doctor(tmp_path, feed_server.url("/old"))

    assert code == 0 and report["usable"] is True
    redirects = found(report, "redirects")
    assert redirects.level == "warn"
    assert [(hop["url"], hop["status"]) for hop in redirects.data["chain"]] == [  # type: ignore[attr-defined]
        (feed_server.url("/old"), 301),
        (feed_server.url("/moved"), 302),
        (feed_server.url("/feed"), 200),
    ]
    assert "3 requests" in redirects.meaning
    assert report["final_url"] == feed_server.url("/feed")
    # The conditional GET went through the chain again and got its 304.
    assert found(report, "conditional GET").level == "ok"
    assert feed_server.hits("/old") == 2 and feed_server.hits("/feed") == 2


def test_the_table_names_each_finding_with_its_level(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    feed_server.add("/old", redirect_to="/feed", redirect_status=308)
    feed_server.add("/feed", FEED)

    proc = run_cli(tmp_path / "no-config.yaml", "doctor", feed_server.url("/old"))

    lines = proc.stdout.splitlines()
    redirect_row = next(line for line in lines if "redirects" in line)
    assert "warn" in redirect_row and "(308)" in redirect_row
    assert any("validators" in line and "warn" in line for line in lines)
    assert "no config found: defaults" in proc.stdout
    assert lines[-1].endswith("the feed is usable")


def test_an_html_page_lists_the_feeds_it_advertises(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    page = (
        b"<!DOCTYPE html><html><head><title>Blog</title>"
        b'<link rel="stylesheet" href="/style.css">'
        b'<link rel="alternate" type="application/rss+xml" title="Posts" href="/feed.xml">'
        b'<link rel="alternate" type="application/atom+xml" href="comments/atom.xml">'
        b'<link rel="alternate" hreflang="fr" href="/fr/">'
        b"</head><body><p>Hello</p></body></html>"
    )
    feed_server.add("/blog/", page, content_type="text/html; charset=utf-8")

    code, report = doctor(tmp_path, feed_server.url("/blog/"))

    assert code == 1 and report["usable"] is False
    assert found(report, "format").level == "error"
    advertised = found(report, "advertised feeds")
    assert advertised.level == "ok"
    assert advertised.data["feeds"] == [
        {"url": feed_server.url("/feed.xml"), "type": "application/rss+xml", "title": "Posts"},
        {
            "url": feed_server.url("/blog/comments/atom.xml"),
            "type": "application/atom+xml",
            "title": None,
        },
    ]


def test_a_gzip_bomb_is_stopped_by_the_size_cap_and_reported(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    bomb = gzip_bomb(64 << 20)  # 64 MiB of zeros in ~64 KiB: past the default 10 MiB cap
    assert len(bomb) < 100_000
    feed_server.add("/bomb", bomb, headers={"Content-Encoding": "gzip"})

    code, report = doctor(tmp_path, feed_server.url("/bomb"))

    assert code == 1
    failure = found(report, "fetch")
    assert failure.level == "error"
    assert failure.text == "body larger than 10 MiB (decompressed)"
    assert "decompression bomb" in failure.meaning
    assert len(report["findings"]) == 1


def test_json_nested_past_the_recursion_limit_is_a_parse_error_finding(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    deep = b'{"version": "https://jsonfeed.org/version/1.1", "items": [' + b"[" * 100_000
    feed_server.add("/deep.json", deep + b"]" * 100_000 + b"]}", content_type="application/json")

    code, report = doctor(tmp_path, feed_server.url("/deep.json"))

    assert code == 1 and report["usable"] is False
    failure = found(report, "parse")
    assert failure.level == "error"
    assert failure.text == "malformed JSON: nested too deeply"


@pytest.mark.parametrize(
    ("url", "said"),
    [
        pytest.param("ftp://example.org/feed", "unsupported URL scheme 'ftp'", id="bad-scheme"),
        pytest.param("not a url", "unsupported URL scheme 'none'", id="not-a-url"),
        pytest.param("http://doctor-test.invalid/feed", "cannot resolve host", id="dead-host"),
        pytest.param("refused", "connection refused", id="refused"),
    ],
)
def test_a_dead_host_or_bad_url_is_one_error_finding(tmp_path: Path, url: str, said: str) -> None:
    with closed_port() as port:
        if url == "refused":
            url = f"http://127.0.0.1:{port}/feed"
        code, report = doctor(tmp_path, url)

    assert code == 1 and report["usable"] is False
    [failure] = report["findings"]
    assert failure["check"] == "fetch" and failure["level"] == "error"
    assert said in failure["text"]


def test_the_configs_limits_and_source_apply_and_nothing_is_written(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    big = rss(*(item(str(i)) for i in range(40)))
    feed_server.add("/big", big)
    feed_server.add("/feed", FEED)
    config = write_config(
        tmp_path,
        [
            {
                "name": "news",
                "url": feed_server.url("/feed"),
                "category": "news",
                "headers": {"X-Token": "t0"},
            }
        ],
        fetch={"max_bytes": 4000},
    )

    code, big_report = doctor(tmp_path, feed_server.url("/big"), config=config)
    assert code == 1
    assert found(big_report, "fetch").text == "body larger than 3.91 KiB"
    assert big_report["config"] == str(config) and big_report["source"] is None

    code, report = doctor(tmp_path, feed_server.url("/feed"), config=config)
    assert code == 0 and report["source"] == "news"
    assert found(report, "size").data["max_bytes"] == 4000
    assert [r.headers.get("x-token") for r in feed_server.requests("/feed")] == ["t0"]
    # No database, no output_dir: the folder holds the config alone.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.yaml"]


def test_a_sources_missing_auth_variable_is_an_error_finding(
    feed_server: FeedServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DOCTOR_TEST_TOKEN", raising=False)
    feed_server.add("/private", FEED)
    source = {
        "name": "private",
        "url": feed_server.url("/private"),
        "category": "news",
        "auth": {"type": "bearer", "token_env": "DOCTOR_TEST_TOKEN"},
    }
    config = write_config(tmp_path, [source])

    code, report = doctor(tmp_path, feed_server.url("/private"), config=config)

    assert code == 1 and report["source"] == "private"
    failure = found(report, "fetch")
    assert failure.level == "error"
    assert failure.text == "bearer auth: environment variable DOCTOR_TEST_TOKEN is not set"
    assert feed_server.hits("/private") == 0


def test_feed_words_stay_inert_in_the_table(feed_server: FeedServer, tmp_path: Path) -> None:
    hostile = "[bold red]x[/bold red]\x1b[2J"
    feed_server.add("/feed", rss(item(hostile), item(hostile)))

    proc = run_cli(tmp_path / "no-config.yaml", "doctor", feed_server.url("/feed"))

    assert "[bold red]x[/bold red]\\x1b[2J" in proc.stdout
    assert "\x1b" not in proc.stdout


# ------------------------------------- the misbehaving server, real Fetcher


@pytest.mark.parametrize(
    ("honour", "level", "status"),
    [
        pytest.param(True, "ok", 304, id="honours-validators"),
        pytest.param(False, "warn", 200, id="ignores-validators"),
    ],
)
def test_the_conditional_get_is_tried_with_the_validators_given(
    feed_server: FeedServer, honour: bool, level: str, status: int
) -> None:
    feed_server.add("/feed", FEED, etag=True, last_modified=MODIFIED, honour_conditional=honour)

    report = real(feed_server.url("/feed"))

    conditional = found(report, "conditional GET")
    assert (conditional.level, conditional.data["status"]) == (level, status)
    second = feed_server.requests("/feed")[1]
    assert second.headers["if-none-match"] == found(report, "validators").data["etag"]
    assert second.headers["if-modified-since"] == MODIFIED
    if not honour:
        assert conditional.data["same_body"] is True
        assert "ignores the validators" in conditional.meaning


def test_no_validators_means_no_second_request(feed_server: FeedServer) -> None:
    feed_server.add("/feed", FEED)

    report = real(feed_server.url("/feed"))

    assert found(report, "validators").level == "warn"
    assert found(report, "conditional GET").level == "warn"
    assert feed_server.hits("/feed") == 1


def test_a_charset_conflict_is_told_with_what_was_read(feed_server: FeedServer) -> None:
    body = rss(item("caf\u00e9"), prolog='<?xml version="1.0" encoding="ISO-8859-1"?>')
    latin1 = body.decode("utf-8").encode("latin-1")  # "é" as the single byte 0xE9
    feed_server.add("/feed", latin1, content_type="application/rss+xml; charset=utf-8")

    report = real(feed_server.url("/feed"))

    charset = found(report, "charset")
    assert charset.level == "warn"
    assert charset.data == {
        "header": "utf-8",
        "document": "ISO-8859-1",
        "bom": None,
        "read_as": "windows-1252",
    }
    assert charset.meaning.startswith("Charset conflict: the header says utf-8")


def test_zone_less_and_future_dates_are_warned_of(feed_server: FeedServer) -> None:
    feed_server.add(
        "/feed",
        rss(
            item("naive", date="Sun, 01 Feb 2026 10:00:00"),
            item("future", date="Fri, 01 Jan 2100 00:00:00 GMT"),
            item("fine", date="Sun, 01 Feb 2026 09:00:00 +0100"),
        ),
    )

    report = real(feed_server.url("/feed"))

    assert found(report, "dates").level == "ok"
    naive = found(report, "dates without a zone")
    assert naive.level == "warn" and naive.data["without_zone"] == 1
    assert "read as UTC time" in naive.meaning
    future = found(report, "future dates")
    assert future.level == "warn"
    assert future.data["future"] == ["2100-01-01T00:00:00+00:00"]


def test_dates_at_the_calendars_edge_are_read_without_a_traceback(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    # Year 1 at +14:00 is year 0 in UTC, and 9999-12-31 at -14:00 is year 10000: neither
    # is a datetime.
    feed_server.add(
        "/feed",
        rss(
            item("early", date="Mon, 01 Jan 0001 00:00:00 +1400"),
            item("late", date="Fri, 31 Dec 9999 23:59:59 -1400"),
            item("fine", date="Sun, 01 Feb 2026 09:00:00 +0100"),
        ),
    )

    code, report = doctor(tmp_path, feed_server.url("/feed"))

    assert code == 0 and report["usable"] is True
    assert found(report, "dates").data["entries"] == 3


def test_duplicate_ids_are_named_and_what_they_cost(feed_server: FeedServer) -> None:
    feed_server.add(
        "/feed", rss(item("dup"), item("dup", link="https://site.example.org/other"), item("3"))
    )

    report = real(feed_server.url("/feed"))

    ids = found(report, "ids")
    assert ids.level == "warn"
    assert ids.data["duplicates"] == ["dup"]
    # normalize keeps the first item of an id: three items, two posts.
    assert (found(report, "items").data["entries"], found(report, "items").data["posts"]) == (3, 2)


def test_a_gzipped_feed_says_so(feed_server: FeedServer) -> None:
    feed_server.add("/feed", FEED, gzip=True)

    report = real(feed_server.url("/feed"))

    compression = found(report, "compression")
    assert compression.level == "ok" and compression.data["content_encoding"] == "gzip"
    assert found(report, "size").data["bytes"] == len(FEED)
    assert report.usable


# ------------------------------------------------------- pure: the tables

HTTPS, HTTP = "https://a.example.org/feed", "http://a.example.org/feed"


@pytest.mark.parametrize(
    ("redirects", "final", "level", "words"),
    [
        pytest.param((), URL, "ok", "served at the URL given", id="none"),
        pytest.param(((HTTPS, 301),), URL, "warn", "moved for good", id="permanent"),
        pytest.param(((HTTPS, 302),), URL, "ok", "temporary redirect", id="one-temporary"),
        pytest.param(((HTTPS, 302), (HTTPS + "2", 301)), URL, "warn", "3 requests", id="mixed"),
        pytest.param(((HTTPS, 301),), HTTP, "warn", "unencrypted", id="https-to-http"),
    ],
)
def test_redirect_levels(
    redirects: tuple[tuple[str, int], ...], final: str, level: str, words: str
) -> None:
    redirect = found(diagnosed(fetched(url=final, redirects=redirects)), "redirects")
    assert redirect.level == level and words in redirect.meaning


@pytest.mark.parametrize(
    ("headers", "level", "lifetime"),
    [
        pytest.param({}, "ok", None, id="nothing-said"),
        pytest.param({"cache-control": "max-age=3600"}, "ok", 3600, id="an-hour"),
        pytest.param({"cache-control": "public, max-age=604800"}, "warn", 604800, id="a-week"),
        pytest.param({"cache-control": "no-cache, max-age=60"}, "ok", None, id="no-cache"),
        pytest.param(
            {"date": http_date(NOW), "expires": http_date(NOW.replace(hour=13))},
            "ok",
            3600,
            id="expires-against-date",
        ),
    ],
)
def test_freshness_levels(headers: dict[str, str], level: str, lifetime: int | None) -> None:
    freshness = found(diagnosed(fetched(headers=headers)), "freshness")
    assert (freshness.level, freshness.data["lifetime_seconds"]) == (level, lifetime)


RDF = (
    b'<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"'
    b' xmlns="http://purl.org/rss/1.0/"><channel rdf:about="https://s.example.org/">'
    b"<title>R</title><link>https://s.example.org/</link><description>d</description></channel>"
    b'<item rdf:about="https://s.example.org/1"><title>One</title>'
    b"<link>https://s.example.org/1</link></item></rdf:RDF>"
)
JSON_FEED = json.dumps(
    {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "J",
        "items": [{"id": "1", "url": "https://j.example.org/1", "content_text": "hi"}],
    }
).encode()
ATOM_03 = (
    b'<?xml version="1.0"?><feed version="0.3" xmlns="http://purl.org/atom/ns#"><title>Old</title>'
    b'<entry><title>e</title><link rel="alternate" href="https://o.example.org/1"/>'
    b"<id>tag:o,1</id><issued>2026-02-01T10:00:00Z</issued></entry></feed>"
)
ATOM_10 = atom(
    "<entry><title>e</title><id>tag:example.org,2026:1</id>"
    '<link href="https://atom.example.org/1"/><updated>2026-02-01T10:00:00Z</updated>'
    '<content type="html">x</content></entry>'
)


@pytest.mark.parametrize(
    ("content", "media", "level", "version", "parser"),
    [
        pytest.param(FEED, "application/rss+xml", "ok", "RSS 2.0", "fast", id="rss-2.0"),
        pytest.param(
            FEED.replace(b'version="2.0"', b'version="0.91"'),
            "application/rss+xml", "ok", "RSS 0.91", "fast", id="rss-0.91",
        ),
        pytest.param(ATOM_10, "application/atom+xml", "ok", "Atom 1.0", "fast", id="atom-1.0"),
        pytest.param(RDF, "application/rdf+xml", "ok", "RSS 1.0 (RDF)", "reference", id="rdf"),
        pytest.param(
            ATOM_03, "application/atom+xml", "warn", "Atom 0.3", "reference", id="atom-0.3"
        ),
        pytest.param(
            JSON_FEED, "application/feed+json", "ok", "JSON Feed 1.1", "JSON Feed", id="json"
        ),
    ],
)  # fmt: skip
def test_format_version_and_parser_path(
    content: bytes, media: str, level: str, version: str, parser: str
) -> None:
    report = diagnosed(fetched(content, headers={"content-type": media}))

    shown = found(report, "format")
    assert (shown.level, shown.data["version"]) == (level, version)
    assert str(found(report, "parser").data["backend"]).startswith(parser)
    assert report.usable


def test_xml_of_no_feed_format_is_an_error() -> None:
    report = diagnosed(fetched(b'<?xml version="1.0"?><note><to>x</to></note>'))

    assert found(report, "format").level == "error"
    assert found(report, "parse").level == "error"
    assert not report.usable


def test_a_malformed_feed_read_by_the_reference_is_a_warning() -> None:
    # &nbsp; is HTML's, not XML's: feedparser reads on, strict readers stop.
    broken = rss(item("1"), item("2")).replace(
        b"<title>Item 2</title>", b"<title>Item&nbsp;2</title>"
    )

    report = diagnosed(fetched(broken))

    well_formed = found(report, "well-formed")
    assert well_formed.level == "warn"
    assert "nbsp" in str(well_formed.data["error"])
    parser = found(report, "parser")
    assert parser.data["backend"] == "reference (feedparser)"
    assert "fast (fastfeedparser)" in parser.data["declined"]  # type: ignore[operator]
    assert report.usable


def test_parser_feedparser_in_the_config_is_the_path_taken() -> None:
    report = diagnosed(fetched(), settings=Settings(fast=False))

    assert found(report, "parser").data["backend"] == "reference (feedparser)"


def test_every_item_of_one_date_is_a_warning() -> None:
    same = rss(*(item(str(i), date="Sun, 01 Feb 2026 10:00:00 GMT") for i in range(4)))

    shared = found(diagnosed(fetched(same)), "shared dates")

    assert shared.level == "warn" and shared.data["shared"] == 4


def test_relative_links_are_shown_resolved_as_normalize_resolves_them() -> None:
    feed = rss(item("1", link="../posts/1.html"), item("2", link="javascript:alert(1)"))

    links = found(diagnosed(fetched(feed)), "links")

    assert links.level == "warn"
    assert links.data["relative"] == [
        {"link": "../posts/1.html", "resolved": "https://feeds.example.org/posts/1.html"},
        {"link": "javascript:alert(1)", "resolved": None},
    ]
    assert "published without a link" in links.meaning


def test_ttl_and_skips_are_reported() -> None:
    channel = (
        "<ttl>120</ttl><skipHours><hour>0</hour><hour>24</hour><hour>3</hour></skipHours>"
        "<skipDays><day>sunday</day><day>Saturday</day></skipDays>"
    )

    hints = found(diagnosed(fetched(rss(item("1"), channel=channel))), "ttl/skip")

    assert hints.level == "ok"
    assert hints.data == {
        "ttl_minutes": 120,
        "skip_hours": [0, 3],
        "skip_days": ["Saturday", "Sunday"],
    }
    assert "does not skip" in hints.meaning


def test_a_skip_hour_of_digits_int_refuses_is_left_out() -> None:
    # "²" is a digit to str.isdigit, and int() refuses it: once a ValueError out of doctor.
    channel = "<skipHours><hour>\u00b2</hour><hour>\u0663</hour></skipHours>"

    hints = found(diagnosed(fetched(rss(item("1"), channel=channel))), "ttl/skip")

    assert hints.data["skip_hours"] == [3]  # the Arabic-Indic three is a decimal digit


def test_a_server_error_keeps_its_status() -> None:
    failed = Probe(
        url=URL, now=NOW, seconds=0.1, error="HTTP 500 Internal Server Error", error_status=500
    )

    report = diagnose(failed, Settings())

    assert not report.usable and report.final_url is None
    assert report.as_json()["findings"] == [
        {
            "check": "fetch",
            "level": "error",
            "text": "HTTP 500 Internal Server Error",
            "meaning": found(report, "fetch").meaning,
            "data": {"status": 500},
        }
    ]


@pytest.mark.parametrize(
    ("hours", "expected"),
    [
        pytest.param(["1", " 2 ", "2"], (1, 2), id="each-once"),
        pytest.param(["24", "0"], (0,), id="24-is-midnight"),
        pytest.param(["25", "x", None, "-1"], (), id="unreadable"),
        # Digits int() refuses: other scripts' (str.isdigit takes "²"), past 4,300 of them.
        pytest.param(["²", "３", "9" * 5000, "3"], (3,), id="digits-int-refuses"),
    ],
)
def test_skip_hours(hours: list[object], expected: tuple[int, ...]) -> None:
    assert parse_skip_hours(hours) == expected


def test_skip_days() -> None:
    assert parse_skip_days(["Sunday", "monday", "Funday", None]) == ("Monday", "Sunday")


def test_every_finding_of_a_good_feed_is_ok_but_the_missing_validators() -> None:
    report = diagnosed(
        fetched(validators=Validators(etag='"v1"')),
        conditional=fetched(status=304, validators=Validators(etag='"v1"')),
    )

    assert {f.check: f.level for f in report.findings if f.level != "ok"} == {}
    assert {"redirects", "validators", "conditional GET", "charset", "format", "items"} <= checks(
        report
    )
