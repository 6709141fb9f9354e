"""aggregator.config: YAML + OPML -> Config, and the one-line-per-problem messages."""

from __future__ import annotations

import textwrap
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from clirunner import run_cli

from aggregator.config import (
    ImportReport,
    Subscription,
    config_fingerprint,
    export_opml,
    import_opml,
    load_config,
    parse_duration,
    subscriptions_opml,
)
from aggregator.errors import ConfigError
from aggregator.types import Category, Source

PROJECT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "data" / "golden"

SITE = """\
site:
  title: Test
  base_url: https://news.example.org/
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return list(caught.value.problems)


def opml(*outlines: str) -> str:
    body = "\n".join(outlines)
    return f'<?xml version="1.0"?>\n<opml version="2.0"><head/><body>\n{body}\n</body></opml>\n'


# ---------------------------------------------------------------------- defaults


def test_the_default_config_loads() -> None:
    config = load_config(PROJECT / "config.yaml")

    assert config.path == PROJECT / "config.yaml"
    assert config.site.base_url == "https://news.example.org/"
    assert config.site.output_dir == PROJECT / "site"
    assert config.site.timezone == "Asia/Shanghai"
    assert config.site.language == "zh-CN"
    assert config.database == f"sqlite:///{PROJECT}/aggregator.db"
    assert config.schedule.interval == timedelta(minutes=30)
    assert {"world", "tech"} <= set(config.categories)
    origins = {source.origin.split(":")[0] for source in config.sources}
    assert origins == {"config.yaml", "feeds/news.yaml", "feeds/tech.opml"}
    assert all(source.category in config.categories for source in config.sources)
    assert all(source.url.startswith("https://") for source in config.sources)


def test_the_default_feeds_folder_holds_one_yaml_list_and_one_opml() -> None:
    assert len(list((PROJECT / "feeds").glob("*.yaml"))) == 1
    assert len(list((PROJECT / "feeds").glob("*.opml"))) == 1


def test_the_golden_config_loads(tmp_path: Path) -> None:
    text = (GOLDEN / "config.yaml").read_text(encoding="utf-8").replace("PORT", "8000")
    config = load_config(write(tmp_path, "config.yaml", text))

    (source,) = config.sources
    assert source.category == "tianjinribao"
    assert source.tags == ("天津日报新闻",)
    assert config.database == f"sqlite:///{tmp_path}/golden.db"
    assert config.site.output_dir == tmp_path / "out"


def test_a_minimal_config_gets_the_documented_defaults(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "config.yaml", SITE))

    assert config.site.output_dir == tmp_path / "site"
    assert config.site.timezone == "UTC"
    assert config.site.language == "en"
    assert config.site.templates_dir is None
    assert config.site.feed_size == 50
    assert config.site.id is None
    assert config.database == f"sqlite:///{tmp_path}/aggregator.db"
    assert config.schedule.interval == timedelta(minutes=30)
    assert config.schedule.publish is None
    assert config.categories == {}
    assert config.sources == ()
    assert config.fetch.concurrency == 50


# ---------------------------------------------------------------------- every key


def test_every_key_is_read(tmp_path: Path) -> None:
    (tmp_path / "tpl").mkdir()
    path = write(
        tmp_path,
        "config.yaml",
        """\
        site:
          title: 财经新闻
          base_url: https://finews.example.com/news
          output_dir: public/out
          timezone: Europe/Paris
          language: fr
          templates_dir: tpl
          feed_size: 20
          id: me@finews.example.com,2026-01-31
        database: postgresql+psycopg://user:secret@db.example.org/agg
        schedule:
          interval: 1h30m
          publish: "*/5 * * * *"
        fetch:
          connect_timeout: 5s
          read_timeout: 2.5
          total_timeout: 2m
          max_bytes: 1000
          concurrency: 8
          per_host: 1
        categories:
          tianjinribao:
            title: 天津日报新闻
        sources:
          - name: 天津日报
            url: https://example.org/tianjin.rss
            category: tianjinribao
            tags: [天津, 日报]
            interval: 15m
            timezone: Asia/Shanghai
            headers: {X-Token: abc, Accept-Language: zh}
            user_agent: MyBot/1.0
            date_order: dmy
          - name: Hourly
            url: http://example.org/hourly.xml
            cron: "0 * * * *"
        """,
    )
    config = load_config(path)

    site = config.site
    assert site.title == "财经新闻"
    assert site.base_url == "https://finews.example.com/news/"
    assert site.output_dir == tmp_path / "public" / "out"
    assert (site.timezone, site.language, site.feed_size) == ("Europe/Paris", "fr", 20)
    assert site.templates_dir == tmp_path / "tpl"
    assert site.id == "me@finews.example.com,2026-01-31"
    assert config.database == "postgresql+psycopg://user:secret@db.example.org/agg"
    assert config.schedule.interval == timedelta(hours=1, minutes=30)
    assert config.schedule.publish == "*/5 * * * *"
    fetch = config.fetch
    assert (fetch.connect_timeout, fetch.read_timeout, fetch.total_timeout) == (5.0, 2.5, 120.0)
    assert (fetch.max_bytes, fetch.concurrency, fetch.per_host) == (1000, 8, 1)
    assert config.categories == {
        "tianjinribao": Category(slug="tianjinribao", title="天津日报新闻"),
        "hourly": Category(slug="hourly", title="Hourly"),
    }
    tianjin = config.source("天津日报")
    assert tianjin is not None
    assert tianjin.url == "https://example.org/tianjin.rss"
    assert tianjin.tags == ("天津", "日报")
    assert tianjin.interval == timedelta(minutes=15)
    assert tianjin.cron is None
    assert tianjin.timezone == "Asia/Shanghai"
    assert tianjin.headers == (("X-Token", "abc"), ("Accept-Language", "zh"))
    assert tianjin.user_agent == "MyBot/1.0"
    assert tianjin.origin == "config.yaml: sources[0]"
    assert tianjin.date_order == "dmy"
    hourly = config.source("Hourly")
    assert hourly is not None
    assert hourly.cron == "0 * * * *"
    assert hourly.interval == timedelta(hours=1, minutes=30)  # the schedule's default
    assert hourly.origin == "config.yaml: sources[1]"
    assert hourly.date_order is None  # ambiguous numeric dates refused


def test_a_source_without_category_gets_the_slug_of_its_name(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "config.yaml",
        SITE
        + """\
categories:
  tian-jin-ri-bao: {title: 天津}
sources:
  - {name: 天津日报, url: "https://a.example/"}
  - {name: Hacker News, url: "https://b.example/"}
""",
    )
    config = load_config(path)

    assert [s.category for s in config.sources] == ["tian-jin-ri-bao", "hacker-news"]
    assert config.categories["tian-jin-ri-bao"].title == "天津"  # declared: kept
    assert config.categories["hacker-news"] == Category(slug="hacker-news", title="Hacker News")
    assert [s.tags for s in config.sources] == [("天津",), ("Hacker News",)]


def test_a_source_may_name_a_category_another_source_creates(tmp_path: Path) -> None:
    write(tmp_path, "feeds/b.opml", opml('<outline text="Ars" xmlUrl="https://ars.example/"/>'))
    path = write(
        tmp_path,
        "config.yaml",
        SITE
        + """\
sources:
  - {name: Ars again, url: "https://a.example/", category: ars}
source_lists: [feeds/*.opml]
""",
    )
    config = load_config(path)

    assert [s.category for s in config.sources] == ["ars", "ars"]


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        pytest.param("sqlite:///data/agg.db", "sqlite:///{root}/data/agg.db", id="relative"),
        pytest.param("sqlite:////var/agg.db", "sqlite:////var/agg.db", id="absolute"),
        pytest.param("sqlite+pysqlite:///a.db", "sqlite+pysqlite:///{root}/a.db", id="driver"),
        pytest.param("sqlite:///a.db?timeout=5", "sqlite:///{root}/a.db?timeout=5", id="query"),
        pytest.param(
            "postgresql+psycopg://postgres@127.0.0.1/agg",
            "postgresql+psycopg://postgres@127.0.0.1/agg",
            id="postgres",
        ),
    ],
)
def test_database_urls(tmp_path: Path, written: str, expected: str) -> None:
    config = load_config(write(tmp_path, "config.yaml", SITE + f"database: '{written}'\n"))

    assert config.database == expected.format(root=tmp_path)


def test_paths_are_relative_to_the_config_folder_not_the_working_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "etc" / "agg"
    write(folder, "lists/a.yaml", "sources: [{name: A, url: 'https://a.example/'}]\n")
    write(
        folder,
        "config.yaml",
        SITE + "  output_dir: ../www\nsource_lists: [lists/*.yaml]\n",
    )
    monkeypatch.chdir(tmp_path)

    config = load_config(Path("etc/agg/config.yaml"))

    assert config.path == folder / "config.yaml"
    assert config.site.output_dir == tmp_path / "etc" / "www"
    assert config.database == f"sqlite:///{folder}/aggregator.db"
    assert [s.origin for s in config.sources] == ["lists/a.yaml: sources[0]"]


def test_source_lists_are_read_in_pattern_then_name_order_once_each(tmp_path: Path) -> None:
    write(tmp_path, "feeds/b.yaml", "sources: [{name: B, url: 'https://b.example/'}]\n")
    write(tmp_path, "feeds/a.yml", "sources: [{name: A, url: 'https://a.example/'}]\n")
    write(tmp_path, "feeds/c.opml", opml('<outline text="C" xmlUrl="https://c.example/"/>'))
    write(tmp_path, "feeds/empty.yaml", "")
    path = write(
        tmp_path,
        "config.yaml",
        SITE + "source_lists: [feeds/*.opml, 'feeds/*.y*ml', feeds/b.yaml, '*.yaml']\n",
    )
    config = load_config(path)

    # The config itself matches '*.yaml' and b.yaml matches twice: each is read once.
    assert [s.name for s in config.sources] == ["C", "A", "B"]


# ---------------------------------------------------------------------- durations, cron


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("90s", timedelta(seconds=90), id="seconds"),
        pytest.param("15m", timedelta(minutes=15), id="minutes"),
        pytest.param("2h", timedelta(hours=2), id="hours"),
        pytest.param("1d", timedelta(days=1), id="days"),
        pytest.param("1h30m", timedelta(hours=1, minutes=30), id="hours-minutes"),
        pytest.param("1d2h3m4s", timedelta(days=1, hours=2, minutes=3, seconds=4), id="all"),
        pytest.param("90m", timedelta(minutes=90), id="no-carry-needed"),
        pytest.param(" 5m ", timedelta(minutes=5), id="spaces-around"),
    ],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("5x", "bad duration '5x' (use 90s, 15m, 2h, 1d)", id="unknown-unit"),
        pytest.param("30", "bad duration '30' (use 90s, 15m, 2h, 1d)", id="no-unit"),
        pytest.param("", "bad duration '' (use 90s, 15m, 2h, 1d)", id="empty"),
        pytest.param("m", "bad duration 'm' (use 90s, 15m, 2h, 1d)", id="no-number"),
        pytest.param("30m1h", "bad duration '30m1h' (use 90s, 15m, 2h, 1d)", id="out-of-order"),
        pytest.param("1.5h", "bad duration '1.5h' (use 90s, 15m, 2h, 1d)", id="fraction"),
        pytest.param("-5m", "bad duration '-5m' (use 90s, 15m, 2h, 1d)", id="negative"),
        pytest.param("0m", "bad duration '0m' (must be more than zero)", id="zero"),
        pytest.param("9" * 20 + "d", f"bad duration '{'9' * 20}d' (too long)", id="overflow"),
    ],
)
def test_parse_duration_refuses(text: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_duration(text)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("cron", "fault"),
    [
        pytest.param("0 * * * *", None, id="hourly"),
        pytest.param("*/5 9-17 * * mon-fri", None, id="office-hours"),
        pytest.param(
            "* * *", "bad cron '* * *' (wrong number of fields; got 3, expected 5)", id="3-fields"
        ),
        pytest.param(
            "61 * * * *",
            "bad cron '61 * * * *' (error validating expression '61': "
            "the last value (61) is higher than the maximum value (59))",
            id="minute-61",
        ),
    ],
)
def test_cron(tmp_path: Path, cron: str, fault: str | None) -> None:
    path = write(
        tmp_path,
        "config.yaml",
        SITE + f"schedule: {{publish: '{cron}'}}\n"
        f"sources: [{{name: A, url: 'https://a.example/', cron: '{cron}'}}]\n",
    )
    if fault is None:
        config = load_config(path)
        assert config.schedule.publish == cron
        assert config.sources[0].cron == cron
    else:
        assert problems(path) == [
            f"config.yaml: schedule.publish: {fault}",
            f"config.yaml: sources[0].cron: {fault}",
        ]


# ---------------------------------------------------------------------- OPML


def test_opml_sources_take_their_category_from_the_enclosing_outline(tmp_path: Path) -> None:
    write(
        tmp_path,
        "feeds/reader.opml",
        opml(
            '<outline text="科技新闻">',
            '  <outline text="Text only" xmlUrl="https://a.example/"/>',
            '  <outline text="t" title="Title wins" xmlUrl="https://b.example/"/>',
            "</outline>",
            '<outline text="Loose" xmlUrl="https://c.example/"/>',
            '<outline text="" xmlUrl="https://d.example/feed"/>',
            '<outline text="Explicit" category="world" xmlUrl="https://e.example/"/>',
            '<outline text="Just a folder"/>',
        ),
    )
    path = write(
        tmp_path,
        "config.yaml",
        SITE + "categories: {world: {title: World}}\nsource_lists: [feeds/*.opml]\n",
    )
    config = load_config(path)

    got = [(s.name, s.category, s.origin) for s in config.sources]
    assert got == [
        ("Text only", "ke-ji-xin-wen", "feeds/reader.opml: outline[0]"),
        ("Title wins", "ke-ji-xin-wen", "feeds/reader.opml: outline[1]"),
        ("Loose", "loose", "feeds/reader.opml: outline[2]"),
        ("https://d.example/feed", "https-d-example-feed", "feeds/reader.opml: outline[3]"),
        ("Explicit", "world", "feeds/reader.opml: outline[4]"),
    ]
    assert config.categories["ke-ji-xin-wen"].title == "科技新闻"
    assert config.sources[0].tags == ("科技新闻",)


def test_opml_entities_are_refused_not_expanded(tmp_path: Path) -> None:
    laughs = (
        '<?xml version="1.0"?>\n<!DOCTYPE opml [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>\n'
        '<opml version="2.0"><body><outline text="&b;" xmlUrl="https://a.example/"/></body></opml>'
    )
    write(tmp_path, "feeds/bomb.opml", laughs)
    path = write(tmp_path, "config.yaml", SITE + "source_lists: [feeds/*.opml]\n")

    assert problems(path) == ["feeds/bomb.opml: entity declarations are not allowed in OPML"]


def test_export_then_import_round_trip(tmp_path: Path) -> None:
    exported = export_opml(load_config(PROJECT / "config.yaml"))
    opml_file = write(tmp_path, "export.opml", exported)
    target = tmp_path / "other"
    path = write(
        target,
        "config.yaml",
        SITE
        + """\
categories: {world: {title: World}, tech: {title: Tech}, zhongguo: {title: 中国新闻}}
source_lists: [feeds/*.yaml]
""",
    )

    report = import_opml(load_config(path), opml_file)
    written, added = report.path, report.added

    original = load_config(PROJECT / "config.yaml")
    imported = load_config(path)
    assert written == target / "feeds" / "imported.yaml"
    assert added == len(original.sources)
    assert [(s.name, s.url, s.category) for s in imported.sources] == [
        (s.name, s.url, s.category) for s in sorted(original.sources, key=category_order)
    ]
    # Importing the same file again adds nothing and leaves the file alone.
    before = written.read_text(encoding="utf-8")
    again = import_opml(imported, opml_file)
    assert (again.path, again.added, len(again.skipped)) == (written, 0, len(original.sources))
    assert written.read_text(encoding="utf-8") == before


def category_order(source: Source) -> int:
    # export_opml groups by category, in the order the categories were declared.
    return ["world", "tech", "zhongguo"].index(source.category)


def test_exported_opml_loads_as_a_source_list(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "config.yaml",
        SITE
        + """\
categories: {zhongguo: {title: 中国新闻}}
sources:
  - {name: 中国新闻网, url: "https://a.example/", category: zhongguo}
  - {name: "Quote \\" & <angle>", url: "https://b.example/?a=1&b=2"}
""",
    )
    exported = export_opml(load_config(path))
    other = write(
        tmp_path / "other",
        "config.yaml",
        SITE + "categories: {zhongguo: {title: 中国新闻}}\nsource_lists: [x.opml]\n",
    )
    write(tmp_path / "other", "x.opml", exported)

    config = load_config(other)

    assert exported.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<opml version="2.0">')
    assert [(s.name, s.url, s.category) for s in config.sources] == [
        ("中国新闻网", "https://a.example/", "zhongguo"),
        ('Quote " & <angle>', "https://b.example/?a=1&b=2", "quote-angle"),
    ]


def test_subscriptions_opml_is_the_file_publish_writes(tmp_path: Path) -> None:
    # The one OPML writer against the published subscriptions.opml, byte for byte: the
    # real `publish` command, titles with XML's special characters and non-ASCII text.
    path = write(
        tmp_path,
        "config.yaml",
        """\
site:
  title: "Nachrichten & <Tests>"
  base_url: https://news.example.org/sub/
  output_dir: out
database: sqlite:///test.db
categories:
  zhongguo: {title: 中国新闻}
  tech: {title: 'Tech "&" more'}
  empty: {title: Empty}
sources:
  - {name: A, url: "https://a.example.org/feed", category: zhongguo}
  - {name: B, url: "https://b.example.org/feed", category: tech}
""",
    )
    config = load_config(path)
    base = config.site.base_url
    site = Subscription(title=config.site.title, xml_url=f"{base}atom.xml", html_url=base)
    feeds = [site] + [
        Subscription(
            title=f"{category.title} · {config.site.title}",
            xml_url=f"{base}category/{slug}.xml",
            html_url=f"{base}category/{slug}.html",
        )
        for slug, category in config.categories.items()
    ]

    run_cli(path, "publish")

    published = (tmp_path / "out" / "subscriptions.opml").read_bytes()
    assert subscriptions_opml(config.site.title, feeds).encode("utf-8") == published
    assert b"Nachrichten &amp; &lt;Tests&gt;" in published  # the case is not a trivial one
    assert published.count(b"<outline ") == 4


def test_text_of_only_characters_xml_cannot_carry_is_empty(tmp_path: Path) -> None:
    # A post's last fallback title is its source's name, and a feed's title the site's or
    # the category's: written in a feed they would be "", which feedgen refuses (ValueError).
    path = write(
        tmp_path,
        "config.yaml",
        r"""
        site:
          title: "\x1b "
          base_url: https://news.example.org/
        categories:
          news: {title: "\ufffe"}
        sources:
          - {name: "\x01\x07", url: "https://a.example.org/feed", category: news}
          - {name: "ok\x01", url: "https://b.example.org/feed", category: news}
        """,
    )

    assert problems(path) == [
        "config.yaml: site.title: should not be empty",
        "config.yaml: categories.news.title: should not be empty",
        "config.yaml: sources[0].name: should not be empty",
    ]


def test_the_fingerprint_watches_every_file_a_load_reads_or_refuses(tmp_path: Path) -> None:
    path = write(tmp_path, "config.yaml", SITE + "source_lists: [feeds/*, extra.yaml]\n")
    write(tmp_path, "feeds/a.yaml", "sources: []\n")
    write(tmp_path, "feeds/b.opml", opml())
    write(tmp_path, "extra.yaml", "sources: []\n")
    notes = write(tmp_path, "feeds/notes.txt", "not a source list\n")
    assert problems(path) == [
        "config.yaml: source_lists[0]: 'feeds/notes.txt' is not a .yaml, .yml, .opml or .xml file"
    ]
    first = config_fingerprint(path)
    watched = [Path(name) for name, *_ in first.files]
    assert watched == [
        path,
        tmp_path / "feeds" / "a.yaml",
        tmp_path / "feeds" / "b.opml",
        tmp_path / "feeds" / "notes.txt",
        tmp_path / "extra.yaml",
    ]
    assert config_fingerprint(path, first) == first

    notes.unlink()  # the only fault goes: the config loads now, and the fingerprint moved

    load_config(path)
    assert config_fingerprint(path, first) != first


def test_import_extends_the_list_keeping_its_comments(tmp_path: Path) -> None:
    imported = write(
        tmp_path,
        "feeds/imported.yaml",
        """\
        # kept
        sources:
          - name: Old   # also kept
            url: https://old.example/
        """,
    )
    path = write(
        tmp_path,
        "config.yaml",
        SITE
        + """\
categories: {tech: {title: Tech}}
sources: [{name: Same name, url: "https://config.example/"}]
source_lists: [feeds/*.yaml]
""",
    )
    opml_file = write(
        tmp_path,
        "in.opml",
        opml(
            '<outline text="Tech">',
            '  <outline text="Old again" xmlUrl="https://old.example/"/>',
            '  <outline text="Same name" xmlUrl="https://other.example/"/>',
            '  <outline text="Twice" xmlUrl="https://twice.example/"/>',
            '  <outline text="Twice" xmlUrl="https://twice.example/"/>',
            "</outline>",
            '<outline text="Unknown group">',
            '  <outline text="Lonely" category="nope" xmlUrl="https://lonely.example/"/>',
            "</outline>",
        ),
    )

    report = import_opml(load_config(path), opml_file)
    assert (report.path, report.added) == (imported, 3)
    assert report.skipped == (
        "in.opml: outline[0]: 'Old again' https://old.example/: already source 'Old'"
        " (feeds/imported.yaml: sources[0])",
        "in.opml: outline[3]: 'Twice' https://twice.example/: already imported as 'Twice'"
        " (in.opml: outline[2])",
    )
    assert report.renamed == (
        "in.opml: outline[1]: 'Same name' https://other.example/: imported as 'Same name (2)'",
    )

    text = imported.read_text(encoding="utf-8")
    assert text.startswith("# kept\nsources:\n  - name: Old   # also kept\n")
    assert yaml.safe_load(text)["sources"][1:] == [
        {"name": "Same name (2)", "url": "https://other.example/", "category": "tech"},
        {"name": "Twice", "url": "https://twice.example/", "category": "tech"},
        # The group is kept, as an OPML source list keeps it: its category made on load.
        {"name": "Lonely", "url": "https://lonely.example/", "group": "Unknown group"},
    ]
    config = load_config(path)
    lonely = config.source("Lonely")
    assert lonely is not None
    assert lonely.category == "unknown-group"
    assert config.categories["unknown-group"].title == "Unknown group"


def test_import_command_keeps_groups_as_an_opml_source_list_does(tmp_path: Path) -> None:
    outlines = opml(
        '<outline text="Tech News">',
        '  <outline text="Gadgets" xmlUrl="https://gadgets.example/"/>',
        '  <outline text="Chips" xmlUrl="https://chips.example/"/>',
        "</outline>",
        '<outline text="世界">',
        '  <outline text="Globe" xmlUrl="https://globe.example/"/>',
        '  <outline text="Gadgets again" xmlUrl="https://gadgets.example/"/>',
        "</outline>",
        '<outline text="Known" xmlUrl="https://known.example/"/>',
    )
    # The same OPML file taken in by source_lists: what the import must come to.
    listed = write(tmp_path / "listed", "config.yaml", SITE + "source_lists: [feeds/*.opml]\n")
    write(tmp_path / "listed", "feeds/in.opml", outlines)
    importing = tmp_path / "importing"
    path = write(
        importing,
        "config.yaml",
        SITE
        + "categories: {news: {title: News}}\n"
        + "sources: [{name: Known, url: 'https://known.example/', category: news}]\n"
        + "source_lists: [feeds/*.yaml]\n",
    )
    opml_file = write(importing, "in.opml", outlines)

    out = run_cli(path, "sources", "import", str(opml_file)).stdout.splitlines()

    assert out == [
        "skipped, a duplicate: in.opml: outline[3]: 'Gadgets again' https://gadgets.example/:"
        " already imported as 'Gadgets' (in.opml: outline[0])",
        "skipped, a duplicate: in.opml: outline[4]: 'Known' https://known.example/:"
        " already source 'Known' (config.yaml: sources[0])",
        f"3 source(s) added to {importing / 'feeds' / 'imported.yaml'}, 2 skipped as duplicates",
    ]
    want, got = load_config(listed), load_config(path)
    imported = [(s.name, s.category, s.tags) for s in got.sources if s.name != "Known"]
    assert imported == [(s.name, s.category, s.tags) for s in want.sources[:3]]
    assert {slug: c.title for slug, c in got.categories.items() if slug != "news"} == {
        slug: c.title for slug, c in want.categories.items() if slug != "known"
    }
    assert {s.category for s in got.sources} == {"news", "tech-news", "shi-jie"}
    run_cli(path, "check")


def test_import_rewrites_a_list_it_cannot_append_to(tmp_path: Path) -> None:
    imported = write(
        tmp_path, "feeds/imported.yaml", "sources: [{name: Old, url: 'https://old.example/'}]\n"
    )
    path = write(tmp_path, "config.yaml", SITE + "source_lists: [feeds/*.yaml]\n")
    opml_file = write(
        tmp_path, "in.opml", opml('<outline text="New" xmlUrl="https://n.example/"/>')
    )

    assert import_opml(load_config(path), opml_file) == ImportReport(path=imported, added=1)

    assert imported.read_text(encoding="utf-8").startswith("# Sources added by")
    assert [s.name for s in load_config(path).sources] == ["Old", "New"]


def test_import_puts_the_file_back_when_the_config_would_no_longer_load(tmp_path: Path) -> None:
    imported = write(
        tmp_path, "feeds/imported.yaml", "sources:\n- {name: Old, url: 'https://o/'}\n"
    )
    path = write(tmp_path, "config.yaml", SITE + "source_lists: [feeds/*.yaml]\n")
    config = load_config(path)
    # Written after the config was loaded: the import cannot know the name is taken.
    write(tmp_path, "feeds/later.yaml", "sources: [{name: New, url: 'https://later.example/'}]\n")
    opml_file = write(
        tmp_path, "in.opml", opml('<outline text="New" xmlUrl="https://n.example/"/>')
    )

    with pytest.raises(ConfigError) as caught:
        import_opml(config, opml_file)

    assert caught.value.problems == (
        "feeds/later.yaml: sources[0].name: duplicate name 'New'"
        " (also feeds/imported.yaml: sources[1])",
    )
    assert imported.read_text(encoding="utf-8") == "sources:\n- {name: Old, url: 'https://o/'}\n"


def test_import_needs_source_lists_to_cover_the_imported_file(tmp_path: Path) -> None:
    path = write(tmp_path, "config.yaml", SITE + "source_lists: [feeds/*.opml]\n")
    opml_file = write(tmp_path, "in.opml", opml('<outline text="A" xmlUrl="https://a.example/"/>'))

    with pytest.raises(ConfigError) as caught:
        import_opml(load_config(path), opml_file)

    assert caught.value.problems == (
        "config.yaml: source_lists: does not take in feeds/imported.yaml (add feeds/*.yaml)",
    )
    assert not (tmp_path / "feeds").exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(None, "in.opml: no such file", id="missing"),
        pytest.param(
            "<opml><body>", "in.opml: line 1: not well-formed XML: no element found", id="xml"
        ),
        pytest.param("<rss/>", "in.opml: not an OPML document (no <opml><body>)", id="not-opml"),
        pytest.param(
            opml('<outline text="A" xmlUrl="ftp://a.example/"/>'),
            "in.opml: outline[0].xmlUrl: not an http(s) URL",
            id="bad-url",
        ),
    ],
)
def test_import_refuses_an_unusable_opml_file(
    tmp_path: Path, content: str | None, message: str
) -> None:
    path = write(tmp_path, "config.yaml", SITE + "source_lists: [feeds/*.yaml]\n")
    if content is not None:
        write(tmp_path, "in.opml", content)

    with pytest.raises(ConfigError) as caught:
        import_opml(load_config(path), tmp_path / "in.opml")

    assert caught.value.problems == (message,)
    assert not (tmp_path / "feeds").exists()


# ---------------------------------------------------------------------- errors


def test_the_readme_example_message(tmp_path: Path) -> None:
    write(
        tmp_path,
        "feeds/tech.yaml",
        """\
        sources:
          - {name: A, url: "https://a.example/"}
          - {name: B, url: "http://b.example/"}
          - {name: C, url: "https://c.example/"}
          - {name: D, url: "file:///etc/passwd"}
        """,
    )
    path = write(tmp_path, "config.yaml", SITE + "source_lists: [feeds/*.yaml]\n")

    assert problems(path) == ["feeds/tech.yaml: sources[3].url: not an http(s) URL"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            "site: {title: T, base_url: 'https://a/', colour: red}",
            "config.yaml: site.colour: unknown key",
            id="unknown-key",
        ),
        pytest.param(
            SITE + "colour: red\n", "config.yaml: colour: unknown key", id="unknown-top-key"
        ),
        pytest.param(
            SITE + "  timezone: Mars/Base\n",
            "config.yaml: site.timezone: unknown time zone 'Mars/Base'",
            id="time-zone",
        ),
        pytest.param(
            SITE + "  timezone: ../etc\n",
            "config.yaml: site.timezone: unknown time zone '../etc'",
            id="time-zone-path",
        ),
        pytest.param(
            "site: {title: T, base_url: /relative/}",
            "config.yaml: site.base_url: not an http(s) URL",
            id="base-url",
        ),
        pytest.param(
            SITE + "  id: https://news.example.org/\n",
            "config.yaml: site.id: not a tag authority 'https://news.example.org/' (a domain or"
            " email address you own, in lower case, a comma and a date it was yours:"
            " example.org,2026 or me@example.org,2026-01-31)",
            id="site-id",
        ),
        pytest.param(
            "site: {base_url: 'https://a/'}",
            "config.yaml: site.title: missing required key",
            id="missing-title",
        ),
        pytest.param("", "config.yaml: site: missing required key", id="empty-file"),
        pytest.param("- a\n- b\n", "config.yaml: should be a mapping of keys", id="not-mapping"),
        pytest.param(
            SITE + "  language: zh_CN\n",
            "config.yaml: site.language: not a language tag 'zh_CN' (e.g. en, zh-CN)",
            id="language",
        ),
        pytest.param(
            SITE + "  feed_size: 0\n",
            "config.yaml: site.feed_size: should be more than 0",
            id="feed-size",
        ),
        pytest.param(
            SITE + "  feed_size: 99999999999999999999\n",
            "config.yaml: site.feed_size: should be at most 1000000",
            id="feed-size-past-the-databases-integers",
        ),
        pytest.param(
            SITE + "  templates_dir: nowhere\n",
            "config.yaml: site.templates_dir: no such folder 'nowhere'",
            id="templates-dir",
        ),
        pytest.param(
            SITE + "database: not a url\n",
            "config.yaml: database: not a database URL 'not a url' (e.g. sqlite:///aggregator.db)",
            id="database",
        ),
        *(
            pytest.param(
                SITE + f"database: '{url}'\n",
                "config.yaml: database: an SQLite database in memory keeps nothing from one"
                " command to the next: name a file (e.g. sqlite:///aggregator.db)",
                id=f"database-in-memory-{n}",
            )
            for n, url in enumerate(
                ["sqlite://", "sqlite:///:memory:", "sqlite:///", "sqlite://?timeout=5"]
            )
        ),
        pytest.param(
            SITE + "schedule: {interval: 5x}\n",
            "config.yaml: schedule.interval: bad duration '5x' (use 90s, 15m, 2h, 1d, or auto)",
            id="duration",
        ),
        pytest.param(
            SITE + "schedule: {interval: 30}\n",
            "config.yaml: schedule.interval: bad duration '30' (use 90s, 15m, 2h, 1d, or auto)",
            id="duration-number",
        ),
        pytest.param(
            SITE + "fetch: {per_host: 0}\n",
            "config.yaml: fetch.per_host: should be more than 0",
            id="fetch-limit",
        ),
        pytest.param(
            SITE + "categories: {World: {title: W}}\n",
            "config.yaml: categories.World: bad slug 'World' (use a-z, 0-9 and -)",
            id="category-slug",
        ),
        pytest.param(
            SITE + "categories: {world: {}}\n",
            "config.yaml: categories.world.title: missing required key",
            id="category-title",
        ),
        pytest.param(
            SITE + f"categories: {{{'a' * 101}: {{title: Long}}}}\n",
            f"config.yaml: categories.{'a' * 101}: slug '{'a' * 40}…' is 101 characters long"
            " (at most 100: it names files and folders)",
            id="category-slug-too-long",
        ),
        pytest.param(
            SITE + "sources: [{name: A, url: 'https://a/', category: foo}]\n",
            "config.yaml: sources[0].category: unknown category 'foo'",
            id="unknown-category",
        ),
        pytest.param(
            SITE + "sources: [{name: A, url: 'https://a/', date_order: dym}]\n",
            "config.yaml: sources[0].date_order: input should be 'dmy', 'mdy' or 'ymd'",
            id="date-order",
        ),
        pytest.param(
            SITE + "sources: [{url: 'https://a/'}]\n",
            "config.yaml: sources[0].name: missing required key",
            id="missing-name",
        ),
        pytest.param(
            SITE + "sources: [{name: A, url: 'https://a/', interval: 1h, cron: '0 * * * *'}]\n",
            "config.yaml: sources[0]: interval and cron both given (use one)",
            id="interval-and-cron",
        ),
        pytest.param(
            SITE + "sources: [{name: A, url: 'https://a/', headers: {'X Y': z}}]\n",
            "config.yaml: sources[0].headers: bad header name 'X Y'",
            id="header-name",
        ),
        pytest.param(
            SITE + "sources: [{name: A, url: 'https://a/', headers: {X-Y: 'caf\u00e9'}}]\n",
            "config.yaml: sources[0].headers: value of header 'X-Y': not one line of ASCII text"
            " (it is sent as is in a request header)",
            id="header-value-not-ascii",
        ),
        pytest.param(
            SITE + "sources: [{name: A, url: 'https://a/', user_agent: 'Bot/1 \u00e9'}]\n",
            "config.yaml: sources[0].user_agent: not one line of ASCII text"
            " (it is sent as is in a request header)",
            id="user-agent-not-ascii",
        ),
        pytest.param(
            SITE + "sources: [{name: A, url: 'https://a/', tags: x}]\n",
            "config.yaml: sources[0].tags: should be a list",
            id="tags",
        ),
        pytest.param(
            SITE + "sources: [{name: A, url: 'https://a/', timezone: Nowhere}]\n",
            "config.yaml: sources[0].timezone: unknown time zone 'Nowhere'",
            id="source-time-zone",
        ),
        pytest.param(
            SITE + "sources: [{name: A, url: 'https://a/', enabled: no}]\n",
            "config.yaml: sources[0].enabled: unknown key",
            id="source-unknown-key",
        ),
        pytest.param(
            SITE + "sources: [{name: A, url: 'https://a:port/'}]\n",
            "config.yaml: sources[0].url: not an http(s) URL",
            id="url-port",
        ),
        pytest.param(
            SITE + "sources:\n  - {name: A, url: 'https://a/'}\n  - {name: A, url: 'https://b/'}\n",
            "config.yaml: sources[1].name: duplicate name 'A' (also config.yaml: sources[0])",
            id="duplicate-name",
        ),
        pytest.param(
            SITE + "source_lists: [feeds/missing.yaml]\n",
            "config.yaml: source_lists[0]: no such file 'feeds/missing.yaml'",
            id="missing-list",
        ),
        pytest.param(
            "site:\n  title: T\n  base_url: [\n",
            "config.yaml: line 4, column 1: YAML syntax error: "
            "expected the node content, but found '<stream end>'",
            id="yaml-syntax",
        ),
        pytest.param(
            SITE + "schedule:\n  publish: */5 * * * *\n",
            "config.yaml: line 5, column 13: YAML syntax error: expected alphabetic or numeric"
            " character, but found '/' (quote values that start with * or &)",
            id="yaml-unquoted-cron",
        ),
        pytest.param(
            SITE + "websub: {callback_url: /push}\n",
            "config.yaml: websub.callback_url: not an http(s) URL",
            id="websub-callback-relative",
        ),
        pytest.param(
            SITE + "websub: {callback_url: 'https://a.example/push?x=1'}\n",
            "config.yaml: websub.callback_url: a callback URL takes no query or fragment",
            id="websub-callback-query",
        ),
        pytest.param(
            SITE + "websub: {callback_url: 'https://a.example/', lease: 30s}\n",
            "config.yaml: websub: lease shorter than 1m (a hub would be asked again all the time)",
            id="websub-lease-short",
        ),
        pytest.param(
            SITE + "database: sqlite:///a.db\ndatabase: sqlite:///b.db\n",
            "config.yaml: line 5, column 1: YAML syntax error: duplicate key 'database'",
            id="yaml-duplicate-key",
        ),
        pytest.param(
            SITE + "database: sqlite:///a\x00.db\n",
            "config.yaml: line 4, column 22: YAML syntax error: unacceptable character #x0000:"
            " special characters are not allowed",
            id="yaml-control-character",
        ),
    ],
)
def test_each_fault_is_one_exact_line(tmp_path: Path, text: str, message: str) -> None:
    assert problems(write(tmp_path, "config.yaml", text)) == [message]


def test_websub_subscriptions_are_read_with_their_defaults(tmp_path: Path) -> None:
    path = write(tmp_path, "config.yaml", SITE + "websub: {callback_url: 'https://a.example/p/'}\n")
    websub = load_config(path).websub
    assert websub is not None
    assert (websub.hub, websub.callback_url) == (None, "https://a.example/p")
    assert (websub.lease, websub.poll_interval) == (timedelta(days=10), timedelta(days=1))

    path.write_text(
        textwrap.dedent(SITE)
        + "websub: {hub: 'https://hub.example/', lease: 2h, poll_interval: 6h}\n",
        encoding="utf-8",
    )
    websub = load_config(path).websub
    assert websub is not None and websub.callback_url is None
    assert (websub.lease, websub.poll_interval) == (timedelta(hours=2), timedelta(hours=6))


def test_a_missing_config_file(tmp_path: Path) -> None:
    assert problems(tmp_path / "config.yaml") == [f"config.yaml: no such file (in {tmp_path})"]


def test_every_problem_in_every_file_is_reported_at_once(tmp_path: Path) -> None:
    write(
        tmp_path,
        "feeds/news.yaml",
        """\
        sources:
          - {name: Dup, url: "https://dup.example/"}
          - {name: Bad, url: "gopher://bad.example/"}
        extra: 1
        """,
    )
    write(tmp_path, "feeds/broken.yaml", "sources:\n  - name: [\n")
    write(
        tmp_path,
        "feeds/tech.opml",
        opml(
            '<outline text="Tech">',
            '  <outline text="Bad" xmlUrl="nope"/>',
            '  <outline title="Typo" category="tehc" xmlUrl="https://t.example/"/>',
            "</outline>",
        ),
    )
    path = write(
        tmp_path,
        "config.yaml",
        """\
        site:
          title: T
          base_url: https://a.example/
          timezone: Mars/Base
          colour: red
        schedule:
          interval: 5x
        categories:
          tech: {title: Tech}
          Bad: {title: Bad}
        sources:
          - {name: Dup, url: "https://one.example/"}
          - {name: Foo, url: "https://foo.example/", category: foo}
          - {name: Uses bad, url: "https://ub.example/", category: Bad}
        source_lists: [feeds/*.yaml, feeds/*.opml]
        """,
    )

    assert problems(path) == [
        "config.yaml: site.timezone: unknown time zone 'Mars/Base'",
        "config.yaml: site.colour: unknown key",
        "config.yaml: schedule.interval: bad duration '5x' (use 90s, 15m, 2h, 1d, or auto)",
        "config.yaml: categories.Bad: bad slug 'Bad' (use a-z, 0-9 and -)",
        "feeds/broken.yaml: line 3, column 1: YAML syntax error: "
        "expected the node content, but found '<stream end>'",
        "feeds/news.yaml: extra: unknown key",
        "feeds/news.yaml: sources[1].url: not an http(s) URL",
        "feeds/tech.opml: outline[0].xmlUrl: not an http(s) URL",
        # Cross-file checks come last; a source naming a faulty category is not reported twice.
        "config.yaml: sources[1].category: unknown category 'foo'",
        "feeds/news.yaml: sources[0].name: duplicate name 'Dup' (also config.yaml: sources[0])",
        # Sources refused for their own faults are cross-checked too, in the same pass.
        "feeds/tech.opml: outline[0].text: duplicate name 'Bad' (also feeds/news.yaml: sources[1])",
        "feeds/tech.opml: outline[1].category: unknown category 'tehc'",
    ]


def test_duplicate_names_in_opml_name_the_opml_key(tmp_path: Path) -> None:
    write(
        tmp_path,
        "feeds/a.opml",
        opml(
            '<outline text="Same" xmlUrl="https://a.example/"/>',
            '<outline title="Same" xmlUrl="https://b.example/"/>',
        ),
    )
    path = write(tmp_path, "config.yaml", SITE + "source_lists: [feeds/*.opml]\n")

    assert problems(path) == [
        "feeds/a.opml: outline[1].title: duplicate name 'Same' (also feeds/a.opml: outline[0])"
    ]


def test_libyaml_reads_every_shipped_config_as_the_python_parser_does() -> None:
    from aggregator.config.files import _loaders

    _Loader, _FastLoader = _loaders()
    if _FastLoader is _Loader:
        pytest.skip(
            "PyYAML was built without libyaml (pip install --force-reinstall PyYAML: its wheels"
            " bring it)"
        )
    root = Path(__file__).resolve().parent.parent
    files = [root / "config.yaml", *sorted((root / "feeds").glob("*.yaml"))]
    files += sorted((root / "tests").rglob("*.yaml"))
    assert len(files) >= 3
    tricky = (
        'a: "x: y"\nb: [1, 2.5, yes, null, ~, 0o17, 2021-12-26]\n'
        "c: |\n  two\n  lines\nd: &x {e: 1}\nf: *x\n"
    )
    for text in [*(f.read_text(encoding="utf-8-sig") for f in files), tricky]:
        assert yaml.load(text, Loader=_FastLoader) == yaml.load(text, Loader=_Loader)
    with pytest.raises(yaml.YAMLError, match="duplicate key"):
        yaml.load("a: 1\na: 2\n", Loader=_FastLoader)


def test_a_source_name_is_one_line(tmp_path: Path) -> None:
    # A name starts every log line about its source: a line break in it would write a line
    # of its own into the log, as if logged. White space runs, breaks among them, are spaces.
    path = write(
        tmp_path,
        "config.yaml",
        SITE
        + """\
sources:
  - {name: "a\\nERROR forged line", url: "https://a.example/"}
  - {name: "b\\u2028c\\r\\n\\u0085d", url: "https://b.example/"}
  - {name: "  e \\t f  ", url: "https://c.example/"}
""",
    )
    config = load_config(path)

    assert [s.name for s in config.sources] == ["a ERROR forged line", "b c d", "e f"]
