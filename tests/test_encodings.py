"""Feeds in every common encoding, served by a real HTTP server, through fetch and parse.

The charset may be declared in the XML prolog only, in Content-Type only, in both but
disagreeing, or nowhere. RFC 7303 §3 decides: a BOM first, then the charset parameter of
Content-Type, then the XML declaration, else UTF-8.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
import yaml
from clirunner import run_cli
from httpserver import FeedServer
from lxml import etree

from aggregator.fetch import Fetcher, FetchLimits
from aggregator.parse import parse
from aggregator.types import ParsedFeed

# (codec, label for declarations, title, body): real text in each language.
TEXTS = [
    ("utf-8", "utf-8", "天津日报：港口新闻", "Ünïcödé — 天津港今日迎来新航线。"),
    ("gb2312", "gb2312", "天津市召开新闻发布会", "会议介绍了今年的经济发展情况。"),
    ("gbk", "gbk", "朱镕基谈经济改革", "镕铸新篇，喆人有言。"),
    ("gb18030", "gb18030", "古籍用字𪚥研究", "罕用字𠀀与𪚥见于古籍。"),
    ("big5", "big5", "臺北市政府發布消息", "臺灣各地今日天氣晴朗。"),
    ("shift_jis", "shift_jis", "東京都が新計画を発表", "東京都は本日、新しい計画を発表しました。"),
    ("euc-kr", "euc-kr", "서울시 새 계획 발표", "서울시는 오늘 새로운 계획을 발표했다."),
    ("cp1251", "windows-1251", "Москва: новый план", "Правительство объявило новый план развития."),
    ("latin-1", "iso-8859-1", "Café crème à Zürich", "« Déjà vu » : l'été à Genève, ça va."),
]


def feed_xml(title: str, body: str, *, declared: str | None) -> str:
    prolog = f'<?xml version="1.0" encoding="{declared}"?>' if declared else '<?xml version="1.0"?>'
    return (
        f'{prolog}\n<rss version="2.0"><channel><title>{title}</title>'
        "<link>http://example.org/</link><description>d</description>"
        f"<item><title>{title}</title><link>http://example.org/1</link>"
        f"<description>{body}</description></item></channel></rss>"
    )


def fetched_and_parsed(server: FeedServer, body: bytes, content_type: str) -> ParsedFeed:
    server.add("/feed", body, content_type=content_type)

    async def one() -> ParsedFeed:
        async with Fetcher(FetchLimits(connect_timeout=1, read_timeout=1)) as fetcher:
            result = await fetcher.fetch(server.url("/feed"))
        assert result.content is not None
        return parse(result.content, result.headers, url=result.url)

    return asyncio.run(one())


def check(feed: ParsedFeed, title: str, body: str) -> None:
    assert feed.title == title
    (entry,) = feed.entries
    assert entry.title == title
    assert entry.summary == body.replace("&", "&amp;")


@pytest.mark.parametrize(("codec", "label", "title", "body"), TEXTS, ids=[t[1] for t in TEXTS])
@pytest.mark.parametrize("where", ["prolog", "content-type", "both"])
def test_declared_charset(
    feed_server: FeedServer, codec: str, label: str, title: str, body: str, where: str
) -> None:
    declared = label if where in ("prolog", "both") else None
    content_type = "application/rss+xml"
    if where in ("content-type", "both"):
        content_type += f"; charset={label}"
    data = feed_xml(title, body, declared=declared).encode(codec)

    check(fetched_and_parsed(feed_server, data, content_type), title, body)


@pytest.mark.parametrize(("codec", "label", "title", "body"), TEXTS, ids=[t[1] for t in TEXTS])
def test_content_type_wins_over_a_wrong_prolog(
    feed_server: FeedServer, codec: str, label: str, title: str, body: str
) -> None:
    # RFC 7303 §3.2: the charset parameter outranks the XML declaration.
    wrong = "iso-8859-1" if label == "utf-8" else "utf-8"
    data = feed_xml(title, body, declared=wrong).encode(codec)

    feed = fetched_and_parsed(feed_server, data, f"text/xml; charset={label}")

    check(feed, title, body)


NOT_UTF8 = [t for t in TEXTS if t[1] != "utf-8"]


@pytest.mark.parametrize(
    ("codec", "label", "title", "body"), NOT_UTF8, ids=[t[1] for t in NOT_UTF8]
)
def test_prolog_is_used_when_content_type_charset_cannot_decode(
    feed_server: FeedServer, codec: str, label: str, title: str, body: str
) -> None:
    # A common server misconfiguration: "charset=utf-8" on every file. When the bytes are
    # not UTF-8 at all, the document's own declaration is the better witness.
    data = feed_xml(title, body, declared=label).encode(codec)

    feed = fetched_and_parsed(feed_server, data, "application/rss+xml; charset=utf-8")

    check(feed, title, body)


@pytest.mark.parametrize(
    ("data", "title"),
    [
        pytest.param(
            feed_xml("Ünïcödé 新闻", "b", declared=None).encode(), "Ünïcödé 新闻", id="utf-8"
        ),
        pytest.param(
            b"\xef\xbb\xbf" + feed_xml("Ünïcödé 新闻", "b", declared=None).encode(),
            "Ünïcödé 新闻",
            id="utf-8-bom",
        ),
        pytest.param(
            feed_xml("Ünïcödé 新闻", "b", declared=None).encode("utf-16"),
            "Ünïcödé 新闻",
            id="utf-16-bom",
        ),
        pytest.param(
            b"\xfe\xff" + feed_xml("Ünïcödé 新闻", "b", declared=None).encode("utf-16-be"),
            "Ünïcödé 新闻",
            id="utf-16-be-bom",
        ),
    ],
)
def test_undeclared_unicode(feed_server: FeedServer, data: bytes, title: str) -> None:
    feed = fetched_and_parsed(feed_server, data, "application/rss+xml")

    assert feed.title == title


@pytest.mark.parametrize("label", ["utf-16", "utf-8"])
def test_bom_wins_over_every_declaration(feed_server: FeedServer, label: str) -> None:
    title = "Ünïcödé 新闻"
    wrong = "iso-8859-1"
    data = feed_xml(title, "b", declared=wrong).encode(label)
    if label == "utf-8":
        data = b"\xef\xbb\xbf" + data

    feed = fetched_and_parsed(feed_server, data, f"application/rss+xml; charset={wrong}")

    assert feed.title == title


@pytest.mark.parametrize(
    ("codec", "label", "title", "body"), TEXTS[1:], ids=[t[1] for t in TEXTS[1:]]
)
def test_undeclared_legacy_charset_is_detected(
    feed_server: FeedServer, codec: str, label: str, title: str, body: str
) -> None:
    # Declared nowhere: only detection from the bytes can tell GBK from Big5 or Shift_JIS.
    data = feed_xml(title, body * 4, declared=None).encode(codec)

    feed = fetched_and_parsed(feed_server, data, "application/rss+xml")

    assert feed.title == title


# ------------------------------------------------------------- end to end, real CLI

LEGACY_FEEDS = [
    pytest.param(
        "application/rss+xml; charset=Shift_JIS",
        "Shift_JIS",
        "cp932",
        "㈱髙島屋、新宿店を改装～①売場拡大",  # NEC and IBM rows only windows-31j has
        "問い合わせは№3窓口、担当は山﨑まで。",
        id="shift_jis",
    ),
    pytest.param(
        "application/rss+xml; charset=ISO-8859-1",
        "ISO-8859-1",
        "cp1252",
        "Café owners’ “best year” – espresso now €2",  # bytes 0x80-0x9F
        "“We’ve never sold more,” said the owner… Prices rose by €0.20 — the first rise.",
        id="iso-8859-1-smart-quotes",
    ),
]


@pytest.mark.slow
@pytest.mark.parametrize(("content_type", "declared", "codec", "title", "body"), LEGACY_FEEDS)
def test_cli_publishes_legacy_charsets_as_browsers_read_them(
    tmp_path: Path,
    feed_server: FeedServer,
    content_type: str,
    declared: str,
    codec: str,
    title: str,
    body: str,
) -> None:
    data = (
        f'<?xml version="1.0" encoding="{declared}"?>\n<rss version="2.0"><channel>'
        "<title>Legacy</title><link>http://legacy.example.org/</link><description>d</description>"
        f"<item><title>{title}</title><link>http://legacy.example.org/1</link>"
        "<pubDate>Sun, 26 Dec 2021 09:35:42 GMT</pubDate>"
        f"<description><![CDATA[<p>{body}</p>]]></description></item>"
        # &#146; written by an older CMS: what a browser shows is ’, not U+0092.
        "<item><title>It&#146;s &#147;done&#148;</title><link>http://legacy.example.org/2</link>"
        "<pubDate>Sun, 26 Dec 2021 10:35:42 GMT</pubDate>"
        "<description>ok &amp;#150; fine</description></item>"
        "</channel></rss>"
    ).encode(codec)
    feed_server.add("/legacy.rss", data, content_type=content_type)
    config = tmp_path / "config.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "site": {
                    "title": "Test Site",
                    "base_url": "https://news.example.org/",
                    "output_dir": "out",
                    "timezone": "UTC",
                    "language": "en",
                },
                "database": "sqlite:///test.db",
                "categories": {"news": {"title": "News"}},
                "sources": [
                    {"name": "Legacy", "url": feed_server.url("/legacy.rss"), "category": "news"}
                ],
            },
            allow_unicode=True,
        ),
        encoding="utf-8",
    )

    run_cli(config, "run", "--once")

    out = tmp_path / "out"
    posts = {}
    for path in (out / "_posts").glob("*.md"):
        _, front, text = path.read_text(encoding="utf-8").split("---\n", 2)
        posts[yaml.safe_load(front)["title"]] = text
    assert set(posts) == {title, "It’s “done”"}
    assert f"<p>{body}</p>" in posts[title]
    assert "ok – fine" in posts["It’s “done”"]
    atom = etree.parse(str(out / "atom.xml"))
    ns = {"a": "http://www.w3.org/2005/Atom"}
    titles = {e.text for e in atom.iterfind("a:entry/a:title", ns)}
    assert titles == {title, "It’s “done”"}
    contents = "".join(e.text or "" for e in atom.iterfind("a:entry/a:content", ns))
    assert body in contents and "ok – fine" in contents
    for produced in (*posts.values(), *posts, contents, *titles):
        assert not re.search("[\x80-\x9f\ufffd]", produced)
