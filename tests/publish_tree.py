"""A varied site, built the same way every time, for the output-tree check.

`write_config` writes its config and `fill_store` its store (through the store's own
writes, with a fixed `now`): several sources (one never fetched), configured categories,
one only the store knows and one left empty, more posts than a list page holds, archived
feeds, tag feeds, authors or none, non-ASCII titles and tags, Liquid, one date before
year 1000. Stage 2 is what a later round brings: new posts, an edit that moves a post's
date, and a retention that expires the oldest posts (dated long before any clock this
runs under, and the kept ones long after any retention reaches).

`python tests/publish_tree.py` writes the reference trees into tests/data/publish_tree/
with the code checked out: run it only from code whose output is known right.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aggregator.publish.fingerprint import FINGERPRINT_FILE
from aggregator.slug import slugify
from aggregator.store import open_store
from aggregator.types import Post, SourceState

REFERENCE = Path(__file__).parent / "data" / "publish_tree"
# Not part of the site: the writer's temp folder, and what shaped the tree (its hashes
# move with any template).
IGNORED = (".tmp", FINGERPRINT_FILE)
ARRIVAL = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)  # the store's `now` of the first round
RECENT = datetime(2045, 6, 1, 2, 30, tzinfo=UTC)  # kept: past any retention run today
OLD = datetime(1999, 12, 31, 20, 0, tzinfo=UTC)  # expired by stage 2's retention

CONFIG = """\
site:
  title: 市场与科技 · Markets & Tech
  base_url: https://news.example.org/agg/
  output_dir: out
  timezone: Asia/Shanghai
  language: zh-CN
  feed_size: 8
  tag_feeds: true
  archives: true
{retention}
database: sqlite:///store.db

websub:
  hub: http://127.0.0.1:9/hub

categories:
  markets:
    title: 市场
  tech:
    title: Tech & Science
  culture:
    title: "文化 {{ site.title }}"
  empty:
    title: Nothing yet

sources:
  - name: 天津日报
    url: http://127.0.0.1:9/tianjin.rss
    category: markets
  - name: Example Wire
    url: http://127.0.0.1:9/wire.xml
    category: tech
  - name: 文化周刊
    url: http://127.0.0.1:9/culture.atom
    category: culture
  - name: Never Fetched
    url: http://127.0.0.1:9/never.xml
    category: tech
"""

STATES = (
    SourceState(
        name="天津日报",
        url="http://127.0.0.1:9/tianjin.rss",
        config_url="http://127.0.0.1:9/tianjin.rss",
        feed_title="天津日报 · 新闻",
        feed_link="http://www.tianjinwe.com/",
        feed_id="tag:tianjinwe.com,2020:feed",
        last_fetched=ARRIVAL,
        last_success=ARRIVAL,
        last_status=200,
    ),
    SourceState(
        name="Example Wire",
        url="http://127.0.0.1:9/wire.xml",
        config_url="http://127.0.0.1:9/wire.xml",
        feed_title=None,
        feed_link="javascript:alert(1)",
        feed_id="123",
        last_fetched=ARRIVAL,
        last_success=ARRIVAL - timedelta(days=2),
        last_status=200,
    ),
    SourceState(
        name="文化周刊",
        url="http://例子.测试/culture.atom",
        config_url="http://127.0.0.1:9/culture.atom",
        feed_title="文化周刊",
        feed_link="http://例子.测试/a path/{x}",
        feed_id="http://例子.测试/culture.atom",
        last_fetched=ARRIVAL,
        last_success=None,
        last_status=500,
        failures=1,
        last_error="HTTP 500",
    ),
)

BODIES = (
    "<p>Plain body {n}.</p>",
    '<p>A <a href="https://example.org/x?a=1&amp;b=2">link</a> and <em>emphasis</em>'
    " * stars * and _under_ {n}.</p>",
    "<p>天津市今日发布第 {n} 号公告：“十四五”规划。</p><ul><li>一</li><li>二</li></ul>",
    '<p><img src="https://img.example.org/{n}.png" alt="pic | table"></p><pre><code>x &lt; y'
    "</code></pre>",
    "<blockquote><p>Quoted &lt;not a tag&gt; # hash {n}</p></blockquote>",
    "<p>{{{{ site.secret }}}} and {{% raise %}} in body {n}</p>",
)
TAGS = (
    ("经济",),
    ("Hong Kong", "C++"),
    ("yes",),
    ("a:b", "经济"),
    (),
    ("Ω",),
)
AUTHORS = (None, "王五", "Jane O'Neil", None, "{{ author }}")


def _post(
    source: str,
    category: str,
    n: int,
    *,
    title: str,
    published: datetime,
    version: int = 1,
    link: str | None = None,
) -> Post:
    return Post(
        key=f"{slugify(source) or 'src'}-{n:03d}",
        source=source,
        category=category,
        title=title,
        link=link if link is not None else f"https://example.org/{category}/{n}?ref=rss|x",
        published=published,
        updated=published + timedelta(minutes=version - 1),
        content_html=BODIES[n % len(BODIES)].format(n=n),
        tags=TAGS[n % len(TAGS)],
        slug=slugify(title) or "post",
        content_hash=f"h{n}-{version}",
        author=AUTHORS[n % len(AUTHORS)],
    )


def stage1_posts() -> list[list[Post]]:
    """The first round's posts, in the batches they arrive in (each a minute later)."""
    markets = [
        _post(
            "天津日报",
            "markets",
            n,
            # Repeated titles: the store numbers their slugs (-2, -3, ...).
            title=f"天津市场快讯 第{n % 20}期",
            published=RECENT - timedelta(hours=7 * n),
        )
        for n in range(1, 61)
    ]
    tech = [
        _post(
            "Example Wire",
            "tech",
            n,
            title=title,
            published=RECENT + timedelta(days=n, minutes=n),
        )
        for n, title in enumerate(
            [
                'He said "hi": key: value',
                "---",
                "C++ & Rust <b>not bold</b>",
                "{{ site.title }} {% if x %}",
                "yes",
                "#comment",
                "tab\there \x07 bell \u2028 ls",
                "Ünïcödé — ✓",
                "Ω Ω",
                "A very long title " * 12,
                "Same title",
                "Same title",
            ],
            start=100,
        )
    ]
    culture = [
        _post(
            "文化周刊",
            "culture",
            n,
            title=f"《文化》第{n}篇：春节",
            published=RECENT - timedelta(days=3 * n, seconds=n),
            link="http://例子.测试/文章/{n}".replace("{n}", str(n)),
        )
        for n in range(200, 215)
    ]
    # A category only the store knows (its config entry was removed), and old posts.
    misc = [
        _post("Example Wire", "misc", 300, title="Orphan post", published=RECENT),
        _post("Example Wire", "misc", 301, title="Old post", published=OLD),
        _post("天津日报", "markets", 302, title="旧闻", published=OLD - timedelta(days=400)),
        _post(
            "Example Wire",
            "tech",
            303,
            title="Ancient",
            published=datetime(999, 5, 4, 12, 0, tzinfo=UTC),
        ),
    ]
    return [markets[30:], tech, markets[:30], culture, misc]


def stage2_posts() -> list[list[Post]]:
    """The second round: new posts, and post 105 edited with a later date."""
    new = [
        _post(
            "天津日报",
            "markets",
            n,
            title=f"新快讯 {n}",
            published=RECENT + timedelta(hours=n),
        )
        for n in range(400, 406)
    ]
    edited = _post(
        "Example Wire",
        "tech",
        105,
        title="#comment",
        published=RECENT + timedelta(days=40),
        version=2,
    )
    return [[*new, edited]]


def write_config(folder: Path, *, stage: int) -> Path:
    """config.yaml of `stage` in `folder` (stage 2 adds the retention)."""
    retention = "  retention: 7300d\n" if stage == 2 else ""
    path = folder / "config.yaml"
    path.write_text(CONFIG.format(retention=retention), encoding="utf-8")
    return path


def fill_store(folder: Path, *, stage: int) -> None:
    """Write `stage`'s posts (and, for stage 1, the source states) into folder/store.db."""
    store = open_store(f"sqlite:///{folder / 'store.db'}")
    try:
        if stage == 1:
            store.save_states(STATES)
        batches = stage1_posts() if stage == 1 else stage2_posts()
        start = ARRIVAL + timedelta(days=1 if stage == 2 else 0)
        for number, batch in enumerate(batches):
            store.upsert_posts(batch, now=start + timedelta(minutes=number))
    finally:
        store.close()


def _regenerate() -> None:
    sys.path.insert(0, str(Path(__file__).parent))
    from clirunner import run_cli

    if REFERENCE.exists():
        shutil.rmtree(REFERENCE)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for stage, args in ((1, ("publish", "--all")), (2, ("publish",))):
            config = write_config(folder, stage=stage)
            fill_store(folder, stage=stage)
            run_cli(config, *args)
            shutil.copytree(
                folder / "out",
                REFERENCE / f"stage{stage}",
                ignore=shutil.ignore_patterns(*IGNORED),
            )


if __name__ == "__main__":
    _regenerate()
