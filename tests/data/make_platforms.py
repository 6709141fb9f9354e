"""Writes tests/data/platforms/: feeds in the shapes real platforms emit, and their expectations.

Each feed is built from item data (title text, link, instant, author, body) and written through
a template of one platform's real output: its namespaces, element order, CDATA and escaping
habits, date format, guid style and media tags. The expectation is written from the same item
data, as a faithful reader shows it, never by running the code under test.
Run: python tests/data/make_platforms.py  (tests/test_platforms.py checks the files match)
"""

from __future__ import annotations

import json
import random
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from html import escape as _html_escape
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin

OUT = Path(__file__).parent / "platforms"
FEED_URL = "https://feeds.example.org/platforms/{name}"  # the URL the test parses each feed at
TEXT_START = 40  # characters of the body's plain text an expectation holds


# ------------------------------------------------------------------ item data


@dataclass
class Item:
    title: str | None  # the text a reader shows; None: the item has no title
    url: str  # absolute link a reader opens ("" when the item has none)
    date: datetime | None  # the instant; None: the item carries no readable date
    author: str | None  # the item's own author's name
    body: str  # HTML, as the item means it (plain text when `text`)
    text: bool = False  # the body is plain text, not HTML
    slug: str = ""
    n: int = 0  # a number unique in its feed (post ids)
    extra: dict[str, str] = field(default_factory=dict)


@dataclass
class Feed:
    name: str  # file name, with .xml
    platform: str
    xml: str
    items: list[Item]
    encoding: str = "utf-8"
    headers: dict[str, str] | None = None
    count: int | None = None  # posts a reader shows, when not one per item


# ------------------------------------------------------------------ plain text


class _Text(HTMLParser):
    SKIP = frozenset({"script", "style", "template"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self.skipping += 1
        self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP and self.skipping:
            self.skipping -= 1
        self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def text_of(html: str) -> str:
    """The plain text of an HTML fragment, whitespace collapsed (tags count as a space)."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    return " ".join("".join(parser.parts).split())


def text_start(item: Item) -> str:
    text = " ".join(item.body.split()) if item.text else text_of(item.body)
    return text[:TEXT_START]


# ------------------------------------------------------------------ escaping


def x(text: str) -> str:
    """XML character data: & < > escaped, quotes left."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def xa(text: str, quote: str = '"') -> str:
    """An XML attribute value in `quote`."""
    out = x(text)
    return out.replace('"', "&quot;") if quote == '"' else out.replace("'", "&apos;")


def cdata(text: str) -> str:
    assert "]]>" not in text
    return f"<![CDATA[{text}]]>"


_WP_REFS = {
    "’": "&#8217;",
    "‘": "&#8216;",
    "“": "&#8220;",
    "”": "&#8221;",
    "–": "&#8211;",
    "—": "&#8212;",
    "…": "&#8230;",
    "×": "&#215;",
}


def wp(text: str) -> str:
    """A title as WordPress writes it (the_title_rss): & as &#038;, curly punctuation as
    numeric references, < > escaped, everything else raw."""
    out = text.replace("&", "&#038;").replace("<", "&lt;").replace(">", "&gt;")
    return "".join(_WP_REFS.get(c, c) for c in out)


def refs(text: str) -> str:
    """Every non-ASCII character as a decimal reference (ASP, ColdFusion, old Java CMSs)."""
    return "".join(c if ord(c) < 128 else f"&#{ord(c)};" for c in x(text))


def hexrefs(text: str) -> str:
    return "".join(c if ord(c) < 128 else f"&#x{ord(c):X};" for c in x(text))


# ------------------------------------------------------------------ dates

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _at(dt: datetime, hours: float) -> datetime:
    return dt.astimezone(timezone(timedelta(hours=hours)))


def rfc822(dt: datetime, zone: str = "+0000") -> str:
    """RFC 822 date: zone "+0200"/"-0400" (the instant shown in that offset), "GMT", "UT"."""
    hours = 0.0
    if zone[0] in "+-":
        hours = (1 if zone[0] == "+" else -1) * (int(zone[1:3]) + int(zone[3:5]) / 60)
    local = _at(dt, hours)
    return (
        f"{_DAYS[local.weekday()]}, {local.day:02d} {_MONTHS[local.month - 1]} {local.year} "
        f"{local:%H:%M:%S} {zone}"
    )


def w3c(dt: datetime, offset: str = "Z", frac: str = "") -> str:
    """RFC 3339: offset "Z" or "+08:00"; frac e.g. ".123" written as is."""
    if offset == "Z":
        return f"{dt.astimezone(UTC):%Y-%m-%dT%H:%M:%S}{frac}Z"
    hours = (1 if offset[0] == "+" else -1) * (int(offset[1:3]) + int(offset[4:6]) / 60)
    return f"{_at(dt, hours):%Y-%m-%dT%H:%M:%S}{frac}{offset}"


def utc_iso(dt: datetime | None) -> str | None:
    return None if dt is None else dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def dates(rng: random.Random, n: int, newest: datetime) -> list[datetime]:
    """`n` instants, newest first, hours apart, to the second."""
    out = []
    when = newest
    for _ in range(n):
        out.append(when)
        when -= timedelta(hours=rng.randint(2, 40), minutes=rng.randint(0, 59))
        when = when.replace(second=rng.randint(0, 59))
    return out


def newest(rng: random.Random) -> datetime:
    return datetime(2024, rng.randint(1, 11), rng.randint(1, 28), rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59), tzinfo=UTC)  # fmt: skip


# ------------------------------------------------------------------ content

Story = tuple[str, str]  # (title, body HTML)

EN: list[Story] = [
    (
        "What’s new in Python 3.13: a “free-threaded” build & a better REPL",
        "<p>Python 3.13 ships with an experimental free-threaded build, a new interactive "
        'interpreter and colour tracebacks.</p>\n<figure><img src="/images/py313-repl.png" '
        'alt="The new REPL" width="800" height="450"><figcaption>The new REPL</figcaption>'
        '</figure>\n<p>See <a href="/docs/whatsnew/3.13">the full list</a>.</p>',
    ),
    (
        "Tom & Jerry’s 85th anniversary: the restoration, frame by frame",
        "<p>Restorers spent <strong>two years</strong> cleaning 161 shorts &amp; their "
        'soundtracks.</p><p><img src="https://cdn.example.net/tj/frame-0412.jpg" alt="">'
        "</p><blockquote><p>“Every scratch tells a story,” says the lead colourist.</p>"
        "</blockquote>",
    ),
    (
        "I built a 🚀 rocket telemetry dashboard in Rust",
        "<p>Over six weekends I wrote a small dashboard that reads telemetry from a hobby "
        "rocket at 200 Hz.</p><pre><code>cargo run --release -- --port /dev/ttyUSB0</code>"
        '</pre><p>Source: <a href="https://git.example.dev/rk/telemetry">git.example.dev</a>'
        "</p>",
    ),
    (
        "10 tips for better sleep (#7 will surprise you)",
        "<ol><li>Keep a schedule, even at weekends.</li><li>Dim the lights an hour before "
        "bed.</li><li>Skip the late espresso.</li></ol><p>And tip #7? Get up when you can’t "
        "sleep.</p>",
    ),
    (
        "Q&A: “We’re not leaving,” says the mayor of Ørsted",
        "<p><em>The mayor of the small Danish town talks floods, ferries and the future.</em>"
        "</p><p><b>Q:</b> Why stay?<br><b>A:</b> Because this is home.</p>",
    ),
    (
        "Release notes: v2.4.0 — faster sync, fewer bugs",
        "<h2>Highlights</h2><ul><li>Sync is 3× faster on large libraries</li><li>Fixed a "
        'crash when importing <code>.opml</code> files</li></ul><p><a href="/changelog">'
        "Full changelog</a></p>",
    ),
    (
        "Why 2 < 3 isn’t always what floating point says",
        "<p>Comparisons between floats and big integers hold surprises: 2**53 + 1 &lt; "
        "2.0**53 + 1 is False.</p><table><tr><th>Expression</th><th>Result</th></tr><tr>"
        "<td>0.1 + 0.2 == 0.3</td><td>False</td></tr></table>",
    ),
    (
        "Recipe: crème brûlée with a café-au-lait twist ☕",
        '<p><img src="images/creme-brulee.jpg" alt="Crème brûlée"></p><p>Serves four. '
        "You will need six egg yolks, 500 ml of cream and a strong espresso.</p>",
    ),
    (
        "The 50/50 rule: splitting chores at home",
        "<p>Couples who split housework evenly report less conflict, a new survey of "
        "2,000 households finds.</p><p>Read the <a href='../reports/chores.pdf'>full "
        "report</a> (PDF).</p>",
    ),
    (
        "Weekly links #142: CSS :has(), SQLite & more",
        "<p>This week: <a href='https://web.example.dev/has'>CSS :has() in practice</a>, "
        "SQLite’s new JSONB functions, and a look at HTTP/3 adoption.</p>",
    ),
    (
        "Interview with the team behind “Hollow Knight: Silksong”",
        '<p><iframe width="560" height="315" src="https://www.youtube.com/embed/pFAknD_AHQ8" '
        'frameborder="0" allowfullscreen></iframe></p><p>We sat down with the three-person '
        "studio in Adelaide to talk about scope, silence and bugs.</p>",
    ),
    (
        "How we cut our cloud bill by 40% 💸",
        "<p>In March our bill hit $38,000. Here’s how we brought it down without a single "
        'outage.</p><p><img src="/assets/bill-chart.svg" alt="Monthly bill, Jan–Jun"></p>',
    ),
    (
        "Η Αθήνα φιλοξενεί το ευρωπαϊκό συνέδριο λογισμικού",
        "<p>Περισσότεροι από 3.000 προγραμματιστές αναμένονται στην Αθήνα τον Μάιο.</p>",
    ),
    (
        "서울에서 열린 오픈소스 컨퍼런스 현장 스케치",
        "<p>올해로 10회를 맞은 컨퍼런스에는 1,200명이 참석했다.</p><p><img "
        'src="/img/conf-2024.jpg" alt="컨퍼런스 현장"></p>',
    ),
    (
        "افتتاح معرض القاهرة الدولي للكتاب بمشاركة 70 دولة",
        "<p>افتتح معرض القاهرة الدولي للكتاب دورته الجديدة اليوم بمشاركة واسعة.</p>",
    ),
    (
        "פסטיבל האור בירושלים נפתח הערב",
        "<p>עשרות מיצבי אור יוצגו בעיר העתיקה במשך שבוע.</p>",
    ),
    (
        "Straße, Öl & Übermut: a road trip through the Black Forest",
        "<p>Four days, 900 km and one very patient Volkswagen.</p><table><thead><tr><th>Day"
        "</th><th>Route</th></tr></thead><tbody><tr><td>1</td><td>Freiburg → Titisee</td>"
        "</tr><tr><td>2</td><td>Titisee → Triberg</td></tr></tbody></table>",
    ),
    (
        "A table of every emoji 😀 added since 2015",
        "<p>Unicode adds new emoji every year. Here they are, by version.</p><table "
        'class="emoji"><tr><td>2015</td><td>🤖 🦄 🌮</td></tr><tr><td>2016</td><td>🥑 🤡</td>'
        "</tr></table>",
    ),
    (
        "Our conference keynote, now on video",
        '<p><iframe src="https://player.vimeo.com/video/76979871" width="640" height="360" '
        'allow="autoplay; fullscreen"></iframe></p><p>Missed the keynote? Watch the full '
        "talk here, with captions in five languages.</p>",
    ),
    (
        "“Smart quotes” and 'dumb quotes' — a typographer’s guide",
        "<p>Typewriters gave us the straight quote. Typesetters never wanted it.</p>"
        "<p>Use ‘single’ and “double” curly quotes in running text.</p>",
    ),
    (
        "Ask the editors: is it “e-mail” or “email”?",
        "<p>Short answer: <i>email</i>. Long answer below.</p>",
    ),
    (
        "Notes from PyCon US 2024 in Pittsburgh",
        "<p>Three days of talks, two days of sprints and one very long line for coffee.</p>"
        '<ul><li><a href="/talks/packaging">Packaging in 2024</a></li><li>Typing the '
        "untypable</li></ul>",
    ),
    (
        "Deep dive: how SQLite’s query planner picks an index",
        "<p>SQLite estimates the cost of each plan from <code>sqlite_stat1</code>.</p>"
        '<p><img src="diagrams/planner.png" alt="Planner flow"></p>',
    ),
    (
        "Café society: the return of the neighbourhood coffee shop",
        "<p>Independent cafés are opening faster than chains for the first time since 2008.</p>",
    ),
    (
        "Breaking: storm closes schools across three counties",
        "<p>Schools in Kent, Essex and Sussex will stay closed on Tuesday as winds of up "
        "to 80 mph are forecast.</p>",
    ),
    (
        "Photos: the northern lights over Reykjavík",
        '<p><img src="https://images.example.com/aurora-01.jpg" alt="Aurora"></p>'
        '<p><img src="https://images.example.com/aurora-02.jpg" alt="Aurora over the bay">'
        "</p><p>The aurora was visible for almost four hours on Friday night.</p>",
    ),
    (
        "Understanding <details> and <summary> elements",
        "<p>The details element gives you a disclosure widget without JavaScript.</p>"
        "<pre>&lt;details&gt;&lt;summary&gt;More&lt;/summary&gt;…&lt;/details&gt;</pre>",
    ),
    (
        "Year in review: 12 months, 48 posts & 1 new baby",
        "<p>What a year. Thank you all for reading.</p><p>Here are the posts you liked most.</p>",
    ),
    (
        "Städte im Wandel: Wie Zürich Parkplätze in Parks verwandelt",
        "<p>Seit 2020 hat Zürich mehr als 700 Parkplätze entfernt.</p>",
    ),
    (
        "L’été à Montréal : cinq festivals à ne pas manquer",
        "<p>Jazz, humour, cinéma : l’été montréalais est chargé.</p>",
    ),
]

ZH: list[Story] = [
    (
        "上海发布新一轮人工智能产业扶持政策",
        "<p>上海市经信委今日发布《关于支持人工智能产业高质量发展的若干措施》，提出到2025年"
        "产业规模突破4000亿元。</p>",
    ),
    (
        "《天津市新一代信息技术产业发展“十四五”专项规划》出台",
        "<p>日前，市工信局正式印发专项规划，到2025年电子信息制造业产值将突破3000亿元。</p>"
        '<p><img src="/images/2024/tj-plan.jpg"></p>',
    ),
    (
        "国家统计局：4月份CPI同比上涨0.3%",
        "<p>国家统计局今天发布数据，4月份全国居民消费价格同比上涨0.3%，环比上涨0.1%。</p>"
        "<table><tr><td>指标</td><td>同比</td></tr><tr><td>CPI</td><td>0.3%</td></tr></table>",
    ),
    (
        "春运首日全国铁路发送旅客1100万人次",
        "<p>记者从国铁集团获悉，春运首日全国铁路预计发送旅客1100万人次。</p>",
    ),
    (
        "深圳：新能源汽车保有量突破200万辆",
        "<p>截至4月底，深圳市新能源汽车保有量达到200.5万辆，居全国城市前列。</p>",
    ),
    (
        "朱镕基讲话实录再版发行",
        "<p>《朱镕基讲话实录》再版发行，收录讲话、信件等三百余篇。</p>",
    ),
    (
        "杭州亚运会场馆赛后利用情况调查",
        "<p>亚运会结束半年后，杭州56个竞赛场馆已全部向公众开放。</p>"
        '<p><img src="http://img.example.cn/2024/0430/stadium.jpg" alt="场馆"></p>',
    ),
    (
        "教育部：2024年高考报名人数达1342万",
        "<p>教育部新闻发言人表示，2024年全国高考报名人数为1342万人，比去年增加51万人。</p>",
    ),
]

ZH_TW: list[Story] = [
    (
        "台北捷運環狀線北環段動工",
        "<p>台北市捷運局今日宣布，環狀線北環段正式動工，預計2030年完工。</p>",
    ),
    (
        "颱風警報解除 各地恢復上班上課",
        "<p>中央氣象署上午解除陸上颱風警報，各縣市恢復上班上課。</p>",
    ),
    ("台積電第一季營收創同期新高", "<p>台積電公布第一季營收為新台幣5926億元，創同期新高。</p>"),
]

JA: list[Story] = [
    (
        "東京で桜が満開に　平年より５日早く",
        "<p>気象庁は２９日、東京都心で桜が満開になったと発表した。</p>",
    ),
    (
        "新紙幣の発行始まる　２０年ぶり刷新",
        "<p>日本銀行は３日、新しい一万円札、五千円札、千円札の発行を始めた。</p>",
    ),
    (
        "【速報】北海道で震度４の地震",
        "<p>午前１０時ごろ、北海道東部で震度４の揺れを観測した。津波の心配はない。</p>",
    ),
    (
        "夏の甲子園、組み合わせ抽選会　①開幕試合は",
        "<p>第１０６回全国高校野球選手権大会の組み合わせ抽選会が行われた。</p>",
    ),
    (
        "ラーメン店の倒産が過去最多に",
        "<p>帝国データバンクによると、ラーメン店の倒産は４５件で過去最多となった。</p>",
    ),
]

RU: list[Story] = [
    (
        "Год в цифрах: итоги 2024 года для города",
        "<p>Мэрия опубликовала отчёт о работе за год: построено 12 школ и 40 км дорог.</p>",
    ),
    (
        "В Москве открылась выставка «Русский авангард»",
        "<p>В Третьяковской галерее открылась выставка — более 300 работ.</p>",
    ),
    (
        "Синоптики пообещали снег в начале мая",
        "<p>По данным Гидрометцентра, в среду в регионе ожидается мокрый снег.</p>",
    ),
    (
        "Курс рубля: что будет с валютой летом",
        "<p>Аналитики расходятся во мнениях о курсе рубля на ближайшие месяцы.</p>",
    ),
    (
        "Новый мост через Волгу откроют в сентябре",
        "<p>Строители завершают укладку асфальта на мосту длиной 1,2 км.</p>",
    ),
]

AUTHORS = [
    "Jane Doe",
    "John Roe",
    "María José Núñez",
    "Zoë O’Brien",
    "Priya Raman",
    "Chen Wei",
    "Olu Adebayo",
    "Sam Lee",
]
ZH_AUTHORS = ["新华社", "人民网", "记者 王小明", "本报记者 李华"]
HANDLES = ["octocat", "ada_l", "gvanrossum", "linus-t", "mjn", "kaz", "zoe_ob", "p-raman"]


def slugify(title: str, n: int) -> str:
    words = re.findall(r"[a-z0-9]+", title.lower().replace("’", ""))
    slug = "-".join(words[:8])
    return slug if len(slug) >= 6 else f"post-{n}"


def pick(rng: random.Random, pool: Sequence[Story], n: int) -> list[Story]:
    return rng.sample(list(pool), n)


def stories(
    rng: random.Random,
    n: int,
    pool: Sequence[Story] = EN,
    *,
    url: Callable[[str, int], str],
    authors: Sequence[str] | None = AUTHORS,
    first: datetime | None = None,
    markup_titles: bool = False,
) -> list[Item]:
    """`n` items of `pool`: url(slug, number) gives each its absolute link. Titles that
    name a tag ("<details>") only where the format says a title is text (Atom)."""
    when = dates(rng, n, first or newest(rng))
    usable = [s for s in pool if markup_titles or not re.search(r"<[a-z]", s[0])]
    items = []
    for i, ((title, body), dt) in enumerate(zip(pick(rng, usable, n), when, strict=True)):
        number = rng.randint(1000, 99999)
        slug = slugify(title, number)
        items.append(
            Item(
                title=title,
                url=url(slug, number),
                date=dt,
                author=rng.choice(authors) if authors else None,
                body=body,
                slug=slug,
                n=number + i,
            )
        )
    return items


def words(html: str, count: int) -> str:
    return " ".join(text_of(html).split()[:count])


def prolog(encoding: str | None = "UTF-8", quote: str = '"') -> str:
    if encoding is None:
        return f"<?xml version={quote}1.0{quote}?>\n"
    return f"<?xml version={quote}1.0{quote} encoding={quote}{encoding}{quote}?>\n"


# =================================================================== WordPress


WP_NS = (
    '<rss version="2.0"\n\txmlns:content="http://purl.org/rss/1.0/modules/content/"\n'
    '\txmlns:wfw="http://wellformedweb.org/CommentAPI/"\n'
    '\txmlns:dc="http://purl.org/dc/elements/1.1/"\n'
    '\txmlns:atom="http://www.w3.org/2005/Atom"\n'
    '\txmlns:sy="http://purl.org/rss/1.0/modules/syndication/"\n'
    '\txmlns:slash="http://purl.org/rss/1.0/modules/slash/"\n'
)


def wp_channel(title: str, home: str, self_url: str, built: datetime, extra_ns: str = "", head: str = "") -> str:  # fmt: skip
    return (
        prolog("UTF-8")
        + WP_NS
        + extra_ns
        + "\t>\n\n<channel>\n"
        + f"\t<title>{wp(title)}</title>\n"
        + f'\t<atom:link href="{xa(self_url)}" rel="self" type="application/rss+xml" />\n'
        + f"\t<link>{home}</link>\n"
        + "\t<description>Just another WordPress site</description>\n"
        + f"\t<lastBuildDate>{rfc822(built)}</lastBuildDate>\n"
        + "\t<language>en-US</language>\n"
        + "\t<sy:updatePeriod>\n\thourly\t</sy:updatePeriod>\n"
        + "\t<sy:updateFrequency>\n\t1\t</sy:updateFrequency>\n"
        + "\t<generator>https://wordpress.org/?v=6.5.2</generator>\n"
        + head
        + "\n<image>\n"
        + f"\t<url>{home}/wp-content/uploads/2023/01/cropped-icon-32x32.png</url>\n"
        + f"\t<title>{wp(title)}</title>\n\t<link>{home}</link>\n"
        + "\t<width>32</width>\n\t<height>32</height>\n</image> \n"
    )


def wp_figure(home: str, n: int) -> str:
    src = f"{home}/wp-content/uploads/2024/04/photo-{n}-1024x683.jpg"
    return (
        '<figure class="wp-block-image size-large"><img decoding="async" width="1024" '
        f'height="683" src="{src}" alt="" class="wp-image-{n}" srcset="{src} 1024w, '
        f'{home}/wp-content/uploads/2024/04/photo-{n}-300x200.jpg 300w" sizes="(max-width: '
        '1024px) 100vw, 1024px" /></figure>\n'
    )


def wordpress(name: str, rng: random.Random, flavor: str = "default") -> Feed:
    home = {
        "default": "https://blog.example.com",
        "excerpt": "https://www.gardening-notes.example",
        "yoast": "https://yoast-site.example.net",
        "category": "https://news.example-town.gov",
        "double-escaped": "https://www.old-plugin.example",
        "comments": "https://blog.example.com",
        "localized": "https://blog.example.fr",
    }[flavor]
    n = rng.randint(4, 7)
    pool = EN if flavor != "localized" else [s for s in EN if "é" in s[0] or "’" in s[0]]
    items = stories(rng, min(n, len(pool)), pool, url=lambda slug, _: f"{home}/2024/04/{slug}/")
    site = {"category": "News – Town of Springfield"}.get(flavor, "Notes & Letters")
    self_url = f"{home}/category/news/feed/" if flavor == "category" else f"{home}/feed/"
    if flavor == "comments":
        self_url = f"{home}/comments/feed/"
        site = f"Comments for {site}"
    out = [wp_channel(site, home, self_url, items[0].date or datetime.now(UTC))]
    for item in items:
        post_id = item.n
        assert item.date is not None
        if flavor == "comments":
            post_title = item.title or ""
            comment = rng.randint(100, 9999)
            item.title = f"Comment on {post_title} by {item.author}"
            item.url = f"{item.url}#comment-{comment}"
            item.body = "<p>Thanks for this — I tried it &amp; it worked on the first go.</p>\n"
            out.append(
                "\t<item>\n"
                f"\t\t<title>{wp(item.title)}</title>\n"
                f"\t\t<link>{item.url}</link>\n"
                f"\t\t<dc:creator><![CDATA[{item.author}]]></dc:creator>\n"
                f"\t\t<pubDate>{rfc822(item.date)}</pubDate>\n"
                f'\t\t<guid isPermaLink="false">{item.url}</guid>\n'
                f"\t\t<description><![CDATA[{text_of(item.body)}]]></description>\n"
                f"\t\t<content:encoded><![CDATA[{item.body}]]></content:encoded>\n"
                "\t</item>\n"
            )
            continue
        if flavor != "excerpt" and rng.random() < 0.6:
            item.body = wp_figure(home, post_id) + item.body
        excerpt = f"{words(item.body, 55)} [&#8230;]"
        link = item.url
        title = wp(item.title or "")
        if flavor == "double-escaped":
            # A "feed fixer" plugin escapes what WordPress already escaped.
            title = title.replace("&", "&amp;")
            item.url = f"{home}/?p={post_id}&lang=en"
            link = x(item.url).replace("&", "&amp;")
        out.append(
            "\t<item>\n"
            f"\t\t<title>{title}</title>\n"
            f"\t\t<link>{link}</link>\n"
            f"\t\t\t\t\t<comments>{link}#respond</comments>\n"
            f"\t\t\n\t\t<dc:creator><![CDATA[{item.author}]]></dc:creator>\n"
            f"\t\t<pubDate>{rfc822(item.date)}</pubDate>\n"
            "\t\t\t\t<category><![CDATA[News]]></category>\n"
            f"\t\t<category><![CDATA[{rng.choice(['Travel', 'Python', 'Food', 'Life'])}]]></category>\n"
            f'\n\t\t<guid isPermaLink="false">{home}/?p={post_id}</guid>\n\n'
        )
        if flavor == "excerpt":
            # Settings > Reading > "Summary": no content:encoded, the excerpt is the body.
            item.body = excerpt
            out.append(f"\t\t\t\t\t<description><![CDATA[{excerpt}]]></description>\n")
        elif flavor == "yoast":
            teaser = (
                f'<p>{words(item.body, 30)}</p>\n<p>The post <a href="{item.url}">'
                f'{wp(item.title or "")}</a> appeared first on <a href="{home}">{wp(site)}</a>.</p>'
            )
            body = item.body + (
                f'\n<p>The post <a href="{item.url}">{wp(item.title or "")}</a> appeared '
                f'first on <a href="{home}">{wp(site)}</a>.</p>\n'
            )
            item.body = body
            out.append(f"\t\t\t\t\t<description><![CDATA[{teaser}]]></description>\n")
            out.append(
                f"\t\t\t\t\t\t\t\t\t\t<content:encoded><![CDATA[{body}]]></content:encoded>\n"
            )
        else:
            out.append(f"\t\t\t\t\t<description><![CDATA[{excerpt}]]></description>\n")
            out.append(
                f"\t\t\t\t\t\t\t\t\t\t<content:encoded><![CDATA[{item.body}]]></content:encoded>\n"
            )
        out.append(
            f"\t\t\t\t\t<wfw:commentRss>{link}feed/</wfw:commentRss>\n"
            f"\t\t\t<slash:comments>{rng.randint(0, 30)}</slash:comments>\n"
            "\t\t\n\t\t\n\t\t\t\t\t\t\t\n\t\t\t</item>\n"
        )
    out.append("\t</channel>\n</rss>\n")
    return Feed(name=name, platform=f"WordPress ({flavor})", xml="".join(out), items=items)


def woocommerce(name: str, rng: random.Random, flavor: str = "products") -> Feed:
    home = "https://shop.example-outdoor.com"
    products = [
        ("Hoodie – Blue", "<p>Soft, 100% organic cotton hoodie with a kangaroo pocket.</p>"),
        ("Trail Runner “Storm” GTX", "<p>Waterproof &amp; breathable trail shoe, 290 g.</p>"),
        ("Tent 2P Ultralight", "<p>Two-person tent at 1.1 kg. <strong>In stock</strong>.</p>"),
        ("Mug & Spoon Set", "<p>Enamel camping mug with a folding titanium spoon.</p>"),
        ("Gift card — €50", "<p>Give the gift of the outdoors. Valid for two years.</p>"),
        ("Beanie (Kids) – Red", "<p>Merino wool beanie for ages 4–10.</p>"),
    ]
    chosen = rng.sample(products, rng.randint(3, 5))
    when = dates(rng, len(chosen), newest(rng))
    items = []
    out = [
        wp_channel(
            "Products – Outdoor Shop",
            home,
            f"{home}/shop/feed/" if flavor == "products" else f"{home}/product-category/kids/feed/",
            when[0],
        )
    ]
    for (title, body), dt in zip(chosen, when, strict=True):
        pid = rng.randint(100, 999)
        slug = slugify(title, pid)
        item = Item(title, f"{home}/product/{slug}/", dt, "shopadmin", body, n=pid)
        items.append(item)
        short = words(body, 12)
        out.append(
            "\t<item>\n"
            f"\t\t<title>{wp(title)}</title>\n"
            f"\t\t<link>{item.url}</link>\n"
            "\t\t\n\t\t<dc:creator><![CDATA[shopadmin]]></dc:creator>\n"
            f"\t\t<pubDate>{rfc822(dt)}</pubDate>\n"
            "\t\t\t\t\n"
            f'\t\t<guid isPermaLink="false">{home}/?post_type=product&#038;p={pid}</guid>\n\n'
            f"\t\t\t\t\t<description><![CDATA[<p>{short}</p>\n]]></description>\n"
            f"\t\t\t\t\t\t\t\t\t\t<content:encoded><![CDATA[{body}]]></content:encoded>\n"
            "\t\t\t\t\t\n\t\t\n\t\t\n\t\t\t\t\t\t\t\n\t\t\t</item>\n"
        )
    out.append("\t</channel>\n</rss>\n")
    return Feed(name=name, platform="WooCommerce", xml="".join(out), items=items)


def wordpress_com(name: str, rng: random.Random, flavor: str = "blog") -> Feed:
    home = {"blog": "https://lenstravels.wordpress.com", "photo": "https://dailyphoto.blog",
            "custom": "https://www.example-recipes.com"}[flavor]  # fmt: skip
    items = stories(rng, rng.randint(3, 6), url=lambda slug, _: f"{home}/2024/04/30/{slug}/")
    head = (
        f'\t<cloud domain="{home.split("//")[1]}" port="80" path="/?rsscloud=notify" '
        'registerProcedure="" protocol="http-post" />\n'
        f"<image>\n\t\t<url>https://s0.wp.com/i/buttonw-com.png</url>\n\t\t<title>Lens "
        f"&#38; Travels</title>\n\t\t<link>{home}</link>\n\t</image>\n"
        f'\t<atom:link rel="search" type="application/opensearchdescription+xml" '
        f'href="{home}/osd.xml" title="Lens &#38; Travels" />\n'
        '\t<atom:link rel="hub" href="https://lenstravels.wordpress.com/?pushpress=hub"/>\n'
    )
    out = [
        wp_channel(
            "Lens & Travels",
            home,
            f"{home}/feed/",
            items[0].date or datetime.now(UTC),
            extra_ns='\txmlns:georss="http://www.georss.org/georss"\n'
            '\txmlns:geo="http://www.w3.org/2003/01/geo/wgs84_pos#"\n'
            '\txmlns:media="http://search.yahoo.com/mrss/"\n',
            head=head,
        )
    ]
    for item in items:
        assert item.date is not None
        handle = (item.author or "x").lower().replace(" ", "").replace("’", "")
        handle = re.sub(r"[^a-z]", "", handle) or "writer"
        thumb = f"{home}/wp-content/uploads/2024/04/img_{item.n}.jpg?w=150"
        item.body = wp_figure(home, item.n) + item.body
        out.append(
            "\t<item>\n"
            f"\t\t<title>{wp(item.title or '')}</title>\n"
            f"\t\t<link>{item.url}</link>\n"
            f"\t\t\t\t\t<comments>{item.url}#respond</comments>\n"
            f"\t\t\n\t\t<dc:creator><![CDATA[{item.author}]]></dc:creator>\n"
            f"\t\t<pubDate>{rfc822(item.date)}</pubDate>\n"
            "\t\t\t\t<category><![CDATA[Uncategorized]]></category>\n"
            f'\t\t<guid isPermaLink="false">http://{home.split("//")[1]}/?p={item.n}</guid>\n\n'
            f"\t\t\t\t\t<description><![CDATA[{words(item.body, 40)} [&#8230;]]]></description>\n"
            f"\t\t\t\t\t\t\t\t\t\t<content:encoded><![CDATA[{item.body}]]></content:encoded>\n"
            f"\t\t\t\t\t<wfw:commentRss>{item.url}feed/</wfw:commentRss>\n"
            f"\t\t\t<slash:comments>{rng.randint(0, 9)}</slash:comments>\n"
            f'\t\t\n\t\t<media:thumbnail url="{xa(thumb)}" />\n'
            f'\t\t<media:content url="{xa(thumb)}" medium="image">\n'
            f'\t\t\t<media:title type="html">{x(item.title or "")}</media:title>\n'
            "\t\t</media:content>\n\n"
            f'\t\t<media:content url="https://0.gravatar.com/avatar/{item.n:032x}?s=96&#38;d=identicon&#38;r=G" medium="image">\n'
            f'\t\t\t<media:title type="html">{handle}</media:title>\n'
            "\t\t</media:content>\n"
            "\t</item>\n"
        )
    out.append("\t</channel>\n</rss>\n")
    return Feed(name=name, platform=f"WordPress.com ({flavor})", xml="".join(out), items=items)


# =================================================================== Blogger


BLOGGER_NS = (
    "xmlns='http://www.w3.org/2005/Atom' xmlns:openSearch='http://a9.com/-/spec/opensearchrss/1.0/' "
    "xmlns:blogger='http://schemas.google.com/blogger/2008' xmlns:georss='http://www.georss.org/georss' "
    "xmlns:gd=\"http://schemas.google.com/g/2005\" xmlns:thr='http://purl.org/syndication/thread/1.0'"
)


def blogger_author(name: str, profile: str) -> str:
    return (
        f"<author><name>{x(name)}</name><uri>https://www.blogger.com/profile/{profile}</uri>"
        "<email>noreply@blogger.com</email><gd:image rel='http://schemas.google.com/g/2005#thumbnail' "
        "width='16' height='16' src='https://img1.blogblog.com/img/b16-rounded.gif'/></author>"
    )


def blogger_body(item: Item) -> str:
    return f'<div dir="ltr" style="text-align: left;" trbidi="on">{item.body}</div>'


def blogger(name: str, rng: random.Random, flavor: str = "atom") -> Feed:
    host = {"atom": "travelnotes", "atom-zh": "taipei-food", "atom-summary": "retro-games",
            "rss": "knitting-circle", "rss-zh": "shanghai-diary", "atom-custom": "blog"}[flavor]  # fmt: skip
    home = (
        "https://www.example-diary.com/"
        if flavor == "atom-custom"
        else f"https://{host}.blogspot.com/"
    )
    blog_id = "".join(str(rng.randint(0, 9)) for _ in range(19))
    pool = ZH_TW if flavor == "atom-zh" else ZH if flavor == "rss-zh" else EN
    items = stories(
        rng,
        min(rng.randint(3, 6), len(pool)),
        pool,
        url=lambda slug, n: (
            f"{home}2024/04/{slug if slug != f'post-{n}' else f'blog-post_{n % 30:02d}'}.html"
        ),
        authors=["Ana Sousa"] if flavor != "rss-zh" else ["小林"],
    )
    profile = "".join(str(rng.randint(0, 9)) for _ in range(20))
    built = items[0].date or datetime.now(UTC)
    for item in items:
        item.body = blogger_body(item)
    if flavor.startswith("rss"):
        out = [
            "<?xml version='1.0' encoding='UTF-8'?>"
            "<rss xmlns:atom='http://www.w3.org/2005/Atom' xmlns:openSearch='http://a9.com/-/spec/opensearchrss/1.0/' "
            "xmlns:blogger='http://schemas.google.com/blogger/2008' xmlns:georss='http://www.georss.org/georss' "
            "xmlns:gd=\"http://schemas.google.com/g/2005\" xmlns:thr='http://purl.org/syndication/thread/1.0' version='2.0'>"
            f"<channel><atom:id>tag:blogger.com,1999:blog-{blog_id}</atom:id>"
            f"<lastBuildDate>{rfc822(built)}</lastBuildDate><category>knitting</category>"
            f"<title>{x('Purl & Plain')}</title><description></description><link>{home}</link>"
            f"<managingEditor>noreply@blogger.com ({x(items[0].author or '')})</managingEditor>"
            "<generator>Blogger</generator><openSearch:totalResults>87</openSearch:totalResults>"
            "<openSearch:startIndex>1</openSearch:startIndex><openSearch:itemsPerPage>25</openSearch:itemsPerPage>"
        ]
        for item in items:
            assert item.date is not None
            out.append(
                f"<item><guid isPermaLink='false'>tag:blogger.com,1999:blog-{blog_id}.post-{item.n}</guid>"
                f"<pubDate>{rfc822(item.date)}</pubDate>"
                f"<atom:updated>{w3c(item.date + timedelta(hours=3), '-07:00', '.101')}</atom:updated>"
                "<category domain='http://www.blogger.com/atom/ns#'>patterns</category>"
                f"<title>{x(item.title or '')}</title><description>{x(item.body)}</description>"
                f"<link>{item.url}</link><author>noreply@blogger.com ({x(item.author or '')})</author>"
                "<media:thumbnail xmlns:media='http://search.yahoo.com/mrss/' "
                f"url='https://blogger.googleusercontent.com/img/b/R29vZ2xl/AVvXsEi{item.n}/s72-c/photo.jpg' "
                f"height='72' width='72'/><thr:total>{rng.randint(0, 12)}</thr:total></item>"
            )
        out.append("</channel></rss>")
        return Feed(name=name, platform=f"Blogger ({flavor})", xml="".join(out), items=items)

    out = [
        "<?xml version='1.0' encoding='UTF-8'?><?xml-stylesheet href=\"http://www.blogger.com/styles/atom.css\" "
        f'type="text/css"?><feed {BLOGGER_NS}><id>tag:blogger.com,1999:blog-{blog_id}</id>'
        f'<updated>{w3c(built, "-07:00", ".123")}</updated><category term="food"/><category term="travel"/>'
        f"<title type='text'>{x('Notes from the road')}</title><subtitle type='html'></subtitle>"
        f"<link rel='http://schemas.google.com/g/2005#feed' type='application/atom+xml' href='{home}feeds/posts/default'/>"
        f"<link rel='self' type='application/atom+xml' href='https://www.blogger.com/feeds/{blog_id}/posts/default'/>"
        f"<link rel='alternate' type='text/html' href='{home}'/><link rel='hub' href='http://pubsubhubbub.appspot.com/'/>"
        f"<link rel='next' type='application/atom+xml' href='https://www.blogger.com/feeds/{blog_id}/posts/default?start-index=26&amp;max-results=25'/>"
        + blogger_author(items[0].author or "", profile)
        + "<generator version='7.00' uri='http://www.blogger.com'>Blogger</generator>"
        "<openSearch:totalResults>212</openSearch:totalResults><openSearch:startIndex>1</openSearch:startIndex>"
        "<openSearch:itemsPerPage>25</openSearch:itemsPerPage>"
    ]
    for item in items:
        assert item.date is not None
        post = f"{blog_id}.post-{item.n}"
        comments = rng.randint(0, 20)
        if flavor == "atom-summary":
            # "Allow blog feed: short": Blogger sends a summary of the text, no content.
            item.body = words(item.body, 60)
            item.text = True
            body = f"<summary type='text'>{x(item.body)}</summary>"
        else:
            body = f"<content type='html'>{x(item.body)}</content>"
        out.append(
            f"<entry><id>tag:blogger.com,1999:blog-{post}</id>"
            f"<published>{w3c(item.date, '+08:00', '.005')}</published>"
            f"<updated>{w3c(item.date + timedelta(days=1), '-07:00', '.101')}</updated>"
            '<category scheme="http://www.blogger.com/atom/ns#" term="travel"/>'
            f"<title type='text'>{x(item.title or '')}</title>{body}"
            f"<link rel='replies' type='application/atom+xml' href='{home}feeds/{item.n}/comments/default' title='Post Comments'/>"
            f"<link rel='replies' type='text/html' href='https://www.blogger.com/comment/fullpage/post/{blog_id}/{item.n}' title='{comments} Comments'/>"
            f"<link rel='edit' type='application/atom+xml' href='https://www.blogger.com/feeds/{blog_id}/posts/default/{item.n}'/>"
            f"<link rel='self' type='application/atom+xml' href='https://www.blogger.com/feeds/{blog_id}/posts/default/{item.n}'/>"
            f"<link rel='alternate' type='text/html' href='{item.url}' title='{xa(item.title or '', chr(39))}'/>"
            + blogger_author(item.author or "", profile)
            + '<media:thumbnail xmlns:media="http://search.yahoo.com/mrss/" '
            f'url="https://blogger.googleusercontent.com/img/b/R29vZ2xl/AVvXsEj{item.n}/s72-w640-h426-c/IMG_{item.n}.jpg" '
            f'height="72" width="72"/><thr:total>{comments}</thr:total></entry>'
        )
    out.append("</feed>")
    return Feed(name=name, platform=f"Blogger ({flavor})", xml="".join(out), items=items)


# =================================================================== Medium, Substack, Ghost


def medium(name: str, rng: random.Random, flavor: str = "user") -> Feed:
    who = {"user": "@jane.codes", "publication": "better-programming", "tag": "tag/python",
           "custom": "engineering.example-corp.com"}[flavor]  # fmt: skip
    if flavor == "custom":
        home, feed = (
            "https://engineering.example-corp.com",
            "https://engineering.example-corp.com/feed",
        )
    else:
        home, feed = f"https://medium.com/{who}", f"https://medium.com/feed/{who}"
    src = f"rss-{rng.randint(10**11, 10**12 - 1):x}------2"
    items = stories(
        rng, rng.randint(3, 6), url=lambda slug, n: f"{home}/{slug}-{n:012x}?source={src}"
    )
    channel_title = {"user": "Stories by Jane on Medium", "publication": "Better Programming - Medium",
                     "tag": "Python on Medium", "custom": "Example Corp Engineering - Medium"}[flavor]  # fmt: skip
    out = [
        prolog("UTF-8")
        + '<rss xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:atom="http://www.w3.org/2005/Atom" version="2.0" '
        'xmlns:cc="http://cyber.law.harvard.edu/rss/creativeCommonsRssModule.html">'
        f"<channel><title><![CDATA[{channel_title}]]></title><description><![CDATA[{channel_title}]]></description>"
        f"<link>{home}?source={src}</link><image><url>https://cdn-images-1.medium.com/fit/c/150/150/1*abc.png</url>"
        f"<title>{x(channel_title)}</title><link>{home}?source={src}</link></image><generator>Medium</generator>"
        f"<lastBuildDate>{rfc822(items[0].date or datetime.now(UTC), 'GMT')}</lastBuildDate>"
        f'<atom:link href="{feed}" rel="self" type="application/rss+xml"/>'
        "<webMaster><![CDATA[yourfriends@medium.com]]></webMaster>"
        '<atom:link href="http://medium.superfeedr.com" rel="hub"/>'
    ]
    for item in items:
        assert item.date is not None
        pid = f"{item.n:012x}"
        item.body = (
            f"<h3>{_html_escape(item.title or '', quote=False)}</h3>"
            f'<figure><img alt="" src="https://cdn-images-1.medium.com/max/1024/1*{pid}.png" /></figure>'
            + item.body
            + f'<img src="https://medium.com/_/stat?event=post.clientViewed&referrerSource=full_rss&postId={pid}" width="1" height="1" alt="">'
        )
        if flavor == "tag":
            item.body = item.body.replace("<h3>", '<h3 class="graf">', 1)
        tags = "".join(f"<category><![CDATA[{t}]]></category>" for t in rng.sample(["python", "programming", "software-development", "data-science", "technology"], 3))  # fmt: skip
        out.append(
            f"<item><title><![CDATA[{item.title}]]></title><link>{x(item.url)}</link>"
            f'<guid isPermaLink="false">https://medium.com/p/{pid}</guid>{tags}'
            f"<dc:creator><![CDATA[{item.author}]]></dc:creator><pubDate>{rfc822(item.date, 'GMT')}</pubDate>"
            f"<atom:updated>{w3c(item.date + timedelta(minutes=7), 'Z', '.345')}</atom:updated>"
            f"<content:encoded><![CDATA[{item.body}]]></content:encoded></item>"
        )
    out.append("</channel></rss>")
    return Feed(name=name, platform=f"Medium ({flavor})", xml="".join(out), items=items)


def substack(name: str, rng: random.Random, flavor: str = "newsletter") -> Feed:
    pub = {"newsletter": "thehistorian", "podcast": "deepdives", "custom": "www.example-letters.com",
           "paywall": "marketmoves"}[flavor]  # fmt: skip
    home = f"https://{pub}" if "." in pub else f"https://{pub}.substack.com"
    items = stories(rng, rng.randint(3, 5), url=lambda slug, _: f"{home}/p/{slug}")
    author = items[0].author or ""
    for item in items:
        item.author = author  # one writer's newsletter
    out = [
        prolog("UTF-8")
        + '<rss xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:atom="http://www.w3.org/2005/Atom" version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd" '
        'xmlns:googleplay="http://www.google.com/schemas/play-podcasts/1.0"><channel>'
        f"<title><![CDATA[The {pub.split('.')[0].title()} Letter]]></title>"
        "<description><![CDATA[Essays on history, markets and the long view.]]></description>"
        f"<link>{home}</link><image><url>https://substackcdn.com/image/fetch/w_256,c_limit,f_auto,q_auto:good,fl_progressive:steep/https%3A%2F%2Fsubstack-post-media.s3.amazonaws.com%2Fpublic%2Fimages%2F{rng.randint(10**8, 10**9)}.png</url>"
        f"<title>The Letter</title><link>{home}</link></image><generator>Substack</generator>"
        f"<lastBuildDate>{rfc822(items[0].date or datetime.now(UTC), 'GMT')}</lastBuildDate>"
        f'<atom:link href="{home}/feed" rel="self" type="application/rss+xml"/>'
        f"<copyright><![CDATA[{author}]]></copyright><language><![CDATA[en]]></language>"
        f"<webMaster><![CDATA[{pub.split('.')[0]}@substack.com]]></webMaster>"
        f"<itunes:owner><itunes:email><![CDATA[{pub.split('.')[0]}@substack.com]]></itunes:email>"
        f"<itunes:name><![CDATA[{author}]]></itunes:name></itunes:owner><itunes:author><![CDATA[{author}]]></itunes:author>"
        f"<googleplay:owner><![CDATA[{pub.split('.')[0]}@substack.com]]></googleplay:owner>"
        f"<googleplay:email><![CDATA[{pub.split('.')[0]}@substack.com]]></googleplay:email>"
        f"<googleplay:author><![CDATA[{author}]]></googleplay:author>"
    ]
    for item in items:
        assert item.date is not None
        subtitle = words(item.body, 14)
        img = f"https://substackcdn.com/image/fetch/f_auto,q_auto:good/https%3A%2F%2Fsubstack-post-media.s3.amazonaws.com%2Fpublic%2Fimages%2F{item.n:08x}-1456x816.jpeg"
        if flavor == "paywall":
            item.body = (
                item.body
                + '<div class="paywall-jump" data-component-name="PaywallToDOM"></div>'
                + '<p class="button-wrapper"><a class="button primary" href="'
                + f'{home}/subscribe"><span>Subscribe</span></a></p>'
            )
        else:
            item.body = (
                item.body
                + '<div class="captioned-image-container"><figure><a class="image-link image2" '
                f'target="_blank" href="{img}"><div class="image2-inset"><picture><img src="{img}" '
                'width="1456" height="816" alt="" loading="lazy"></picture></div></a></figure></div>'
            )
        enclosure = f'<enclosure url="{img}" length="0" type="image/jpeg"/>'
        extra = ""
        if flavor == "podcast":
            secs = rng.randint(900, 4000)
            enclosure = (
                f'<enclosure url="https://api.substack.com/feed/podcast/{item.n}/{item.n:x}.mp3" '
                f'length="{secs * 16000}" type="audio/mpeg"/>'
            )
            extra = (
                f"<itunes:author>{x(author)}</itunes:author><itunes:explicit>No</itunes:explicit>"
                f"<itunes:duration>{secs}</itunes:duration>"
                f'<itunes:image href="{img}"/><itunes:episodeType>full</itunes:episodeType>'
            )
        out.append(
            f"<item><title><![CDATA[{item.title}]]></title><description><![CDATA[{subtitle}]]></description>"
            f'<link>{item.url}</link><guid isPermaLink="false">{item.url}</guid>'
            f"<dc:creator><![CDATA[{author}]]></dc:creator><pubDate>{rfc822(item.date, 'GMT')}</pubDate>"
            f"{enclosure}{extra}<content:encoded><![CDATA[{item.body}]]></content:encoded></item>"
        )
    out.append("</channel></rss>")
    return Feed(name=name, platform=f"Substack ({flavor})", xml="".join(out), items=items)


def ghost(name: str, rng: random.Random, flavor: str = "default") -> Feed:
    home = {"default": "https://journal.example-studio.com", "ghostio": "https://makers.ghost.io",
            "excerpt": "https://www.example-photo.blog", "tag": "https://journal.example-studio.com"}[flavor]  # fmt: skip
    items = stories(rng, rng.randint(3, 6), url=lambda slug, _: f"{home}/{slug}/")
    self_url = f"{home}/tag/design/rss/" if flavor == "tag" else f"{home}/rss/"
    out = [
        prolog("UTF-8")
        + '<rss xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:atom="http://www.w3.org/2005/Atom" version="2.0" xmlns:media="http://search.yahoo.com/mrss/">'
        "<channel><title><![CDATA[Studio Journal]]></title><description><![CDATA[Thoughts, stories and ideas.]]></description>"
        f"<link>{home}/</link><image><url>{home}/favicon.png</url><title>Studio Journal</title><link>{home}/</link></image>"
        f"<generator>Ghost 5.82</generator><lastBuildDate>{rfc822(items[0].date or datetime.now(UTC), 'GMT')}</lastBuildDate>"
        f'<atom:link href="{self_url}" rel="self" type="application/rss+xml"/><ttl>60</ttl>'
    ]
    for item in items:
        assert item.date is not None
        image = f"{home}/content/images/2024/04/{item.slug[:20] or 'cover'}-{item.n}.jpg"
        full = f'<img src="{image}" alt="{xa(item.title or "")}"><p>' + item.body[3:] if item.body.startswith("<p>") else f'<img src="{image}" alt="">' + item.body  # fmt: skip
        excerpt = words(item.body, 25)
        content = ""
        if flavor == "excerpt":
            item.body = excerpt  # Ghost "excerpt only" in the RSS settings
        else:
            item.body = full
            content = f"<content:encoded><![CDATA[{full}]]></content:encoded>"
        authors = "".join(f"<dc:creator><![CDATA[{item.author}]]></dc:creator>" for _ in range(1))
        out.append(
            f"<item><title><![CDATA[{item.title}]]></title><description><![CDATA[{excerpt}]]></description>"
            f'<link>{item.url}</link><guid isPermaLink="false">{item.n:024x}</guid>'
            "<category><![CDATA[Design]]></category>"
            f"{authors}<pubDate>{rfc822(item.date, 'GMT')}</pubDate>"
            f'<media:content url="{image}" medium="image"/>{content}</item>'
        )
    out.append("</channel></rss>")
    return Feed(name=name, platform=f"Ghost ({flavor})", xml="".join(out), items=items)


# =================================================================== YouTube, Reddit


def _video_id(rng: random.Random) -> str:
    chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    return "".join(rng.choice(chars) for _ in range(11))


VIDEOS = [
    (
        "Building a tiny house in 30 days | Full timelapse",
        "We built a 20 m² tiny house from scratch in one month.\n\nChapters:\n00:00 Intro\n02:13 Foundation\n\nTools we used: https://example.com/tools",
    ),
    (
        "Tom & Jerry’s creators: the untold story",
        "The story of William Hanna & Joseph Barbera, told by the people who worked with them.\n\n#animation #history",
    ),
    (
        "東京の夜景 4K — Tokyo night walk",
        "A relaxing night walk through Shinjuku in 4K HDR.\n新宿の夜を4Kで散歩します。",
    ),
    (
        'Why "simple" code is hard to write',
        "A talk on simplicity, recorded at a meetup in Berlin.\nSlides: https://example.org/slides.pdf",
    ),
    (
        "🔴 LIVE: Q&A with the dev team",
        "Ask us anything about the 2.0 release!\n\nTimestamps in the pinned comment.",
    ),
    (
        "Cómo hacer pan de masa madre en casa",
        "Receta completa de pan de masa madre, paso a paso.\n\nIngredientes:\n- 500 g de harina",
    ),
    (
        "The <canvas> element in 100 seconds",
        "Everything you need to know about the HTML canvas element, fast.",
    ),
]


def youtube(name: str, rng: random.Random, flavor: str = "channel") -> Feed:
    channel_id = "UC" + _video_id(rng) + _video_id(rng)[:11]
    channel = {"channel": "Maker Workshop", "playlist": "Maker Workshop", "user": "TravelWithAiko",
               "shorts": "Daily Cooking"}[flavor]  # fmt: skip
    chosen = rng.sample(VIDEOS, rng.randint(3, 6))
    when = dates(rng, len(chosen), newest(rng))
    items = []
    if flavor == "playlist":
        playlist = "PL" + _video_id(rng) + _video_id(rng)
        self_link = f"http://www.youtube.com/feeds/videos.xml?playlist_id={playlist}"
        feed_id = f"yt:playlist:{playlist}"
        head_extra = (
            f"<yt:playlistId>{playlist}</yt:playlistId>\n <yt:channelId>{channel_id}</yt:channelId>"
        )
        alt = f"https://www.youtube.com/playlist?list={playlist}"
    else:
        self_link = f"http://www.youtube.com/feeds/videos.xml?channel_id={channel_id}"
        feed_id = f"yt:channel:{channel_id[2:]}"
        head_extra = f"<yt:channelId>{channel_id[2:]}</yt:channelId>"
        alt = f"https://www.youtube.com/channel/{channel_id}"
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<feed xmlns:yt="http://www.youtube.com/xml/schemas/2015" xmlns:media="http://search.yahoo.com/mrss/" '
        'xmlns="http://www.w3.org/2005/Atom">\n'
        f' <link rel="self" href="{xa(self_link)}"/>\n <id>{feed_id}</id>\n {head_extra}\n'
        f" <title>{x(channel)}</title>\n"
        f' <link rel="alternate" href="{alt}"/>\n'
        f" <author>\n  <name>{x(channel)}</name>\n  <uri>https://www.youtube.com/channel/{channel_id}</uri>\n </author>\n"
        " <published>2013-06-14T09:21:07+00:00</published>\n"
    ]
    for (title, description), dt in zip(chosen, when, strict=True):
        vid = _video_id(rng)
        url = (
            f"https://www.youtube.com/shorts/{vid}"
            if flavor == "shorts"
            else f"https://www.youtube.com/watch?v={vid}"
        )
        item = Item(title, url, dt, channel, description, text=True)
        items.append(item)
        out.append(
            f" <entry>\n  <id>yt:video:{vid}</id>\n  <yt:videoId>{vid}</yt:videoId>\n"
            f"  <yt:channelId>{channel_id}</yt:channelId>\n  <title>{x(title)}</title>\n"
            f'  <link rel="alternate" href="{url}"/>\n'
            f"  <author>\n   <name>{x(channel)}</name>\n   <uri>https://www.youtube.com/channel/{channel_id}</uri>\n  </author>\n"
            f"  <published>{w3c(dt, '+00:00')}</published>\n"
            f"  <updated>{w3c(dt + timedelta(hours=rng.randint(1, 90)), '+00:00')}</updated>\n"
            "  <media:group>\n"
            f"   <media:title>{x(title)}</media:title>\n"
            f'   <media:content url="https://www.youtube.com/v/{vid}?version=3" type="application/x-shockwave-flash" width="640" height="390"/>\n'
            f'   <media:thumbnail url="https://i{rng.randint(1, 4)}.ytimg.com/vi/{vid}/hqdefault.jpg" width="480" height="360"/>\n'
            f"   <media:description>{x(description)}</media:description>\n"
            "   <media:community>\n"
            f'    <media:starRating count="{rng.randint(10, 99999)}" average="5.00" min="1" max="5"/>\n'
            f'    <media:statistics views="{rng.randint(100, 9999999)}"/>\n'
            "   </media:community>\n  </media:group>\n </entry>\n"
        )
    out.append("</feed>")
    return Feed(name=name, platform=f"YouTube ({flavor})", xml="".join(out), items=items)


REDDIT_POSTS = [
    (
        "What’s your favourite underrated Python library?",
        "self",
        "<p>Mine is <code>more-itertools</code>. It has saved me hundreds of lines.</p>",
    ),
    ("I made a tool that turns any RSS feed into an e-mail digest [OC]", "link", ""),
    ("TIL the Eiffel Tower grows ~15 cm in summer", "link", ""),
    ("Finally finished my 3D-printed keyboard! 🎉", "image", ""),
    (
        "Is it worth learning Rust in 2024? Honest opinions please",
        "self",
        "<p>I’ve been a Go developer for 5 years &amp; I’m curious.</p><ul><li>Job market?</li><li>Learning curve?</li></ul>",
    ),
    ("PSA: update your router firmware — CVE-2024-3400 is being exploited", "link", ""),
    ("我用Python写了一个中文分词工具", "self", "<p>欢迎大家试用并提出意见！</p>"),
    (
        "[Meta] New rules for self-promotion posts",
        "self",
        "<p>Starting next week, self-promotion posts need a flair.</p>",
    ),
]


def reddit(name: str, rng: random.Random, flavor: str = "subreddit") -> Feed:
    sub = {"subreddit": "Python", "user": "Python", "comments": "Python", "top": "programming",
           "search": "homelab"}[flavor]  # fmt: skip
    chosen = rng.sample(REDDIT_POSTS, rng.randint(3, 6))
    when = dates(rng, len(chosen), newest(rng))
    feed_path = {"subreddit": f"/r/{sub}/.rss", "user": "/user/spez/submitted/.rss",
                 "comments": f"/r/{sub}/comments/.rss", "top": f"/r/{sub}/top/.rss?t=week",
                 "search": f"/r/{sub}/search.rss?q=proxmox&amp;restrict_sr=on"}[flavor]  # fmt: skip
    out = [
        '<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom" '
        'xmlns:media="http://search.yahoo.com/mrss/">'
        f'<category term="{sub}" label="r/{sub}"/><updated>{w3c(when[0] + timedelta(minutes=5), "+00:00")}</updated>'
        f"<icon>https://www.redditstatic.com/icon.png/</icon><id>{feed_path}</id>"
        f'<link rel="self" href="https://www.reddit.com{feed_path}" type="application/atom+xml" />'
        f'<link rel="alternate" href="https://www.reddit.com/r/{sub}" type="text/html" />'
        f"<subtitle>News about the programming language Python.</subtitle><title>{sub}</title>"
    ]
    items = []
    for (title, kind, text), dt in zip(chosen, when, strict=True):
        post = "1" + "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(6))
        user = "spez" if flavor == "user" else rng.choice(HANDLES)
        slug = "_".join(re.findall(r"[a-z0-9]+", title.lower())[:6]) or "post"
        permalink = f"https://www.reddit.com/r/{sub}/comments/{post}/{slug}/"
        tail = (
            f' &#32; submitted by &#32; <a href="https://www.reddit.com/user/{user}"> /u/{user} </a>'
            f' <br/> <span><a href="{{link}}">[link]</a></span> &#32; <span><a href="{permalink}">[comments]</a></span>'
        )
        if flavor == "comments":
            cid = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(7))
            body = '<!-- SC_OFF --><div class="md"><p>Great write-up, thanks &amp; welcome!</p> </div><!-- SC_ON -->'
            item = Item(f"/u/{user} on {title}", f"{permalink}{cid}/", dt, f"/u/{user}", body)
            ident = f"t1_{cid}"
        elif kind == "self":
            body = f'<!-- SC_OFF --><div class="md">{text} </div><!-- SC_ON -->' + tail.replace(
                "{link}", permalink
            )
            item = Item(title, permalink, dt, f"/u/{user}", body)
            ident = f"t3_{post}"
        else:
            target = (
                "https://i.redd.it/" + post + ".jpeg"
                if kind == "image"
                else f"https://www.example-news.com/story/{post}"
            )
            body = (
                f'<table> <tr><td> <a href="{permalink}"> <img src="https://b.thumbs.redditmedia.com/{post}.jpg" '
                f'alt="{xa(title)}" title="{xa(title)}" /> </a> </td><td>'
                + tail.replace("{link}", target)
                + " </td></tr></table>"
            )
            item = Item(title, permalink, dt, f"/u/{user}", body)
            ident = f"t3_{post}"
        items.append(item)
        thumb = (
            f'<media:thumbnail url="https://b.thumbs.redditmedia.com/{post}.jpg" />'
            if kind != "self" and flavor != "comments"
            else ""
        )
        out.append(
            f"<entry><author><name>/u/{user}</name><uri>https://www.reddit.com/user/{user}</uri></author>"
            f'<category term="{sub}" label="r/{sub}"/><content type="html">{x(item.body)}</content>'
            f'<id>{ident}</id>{thumb}<link href="{item.url}" /><updated>{w3c(dt, "+00:00")}</updated>'
            f"<published>{w3c(dt, '+00:00')}</published><title>{x(item.title or '')}</title></entry>"
        )
    out.append("</feed>")
    return Feed(name=name, platform=f"Reddit ({flavor})", xml="".join(out), items=items)


# =================================================================== GitHub, GitLab


def github(name: str, rng: random.Random, flavor: str = "releases") -> Feed:
    owner, repo = {"releases": ("astral-sh", "ruff"), "releases-cjk": ("fxsjy", "jieba"),
                   "commits": ("python", "cpython"), "commits-branch": ("torvalds", "linux"),
                   "tags": ("pallets", "flask"), "releases-empty": ("example-org", "tiny-tool")}[flavor]  # fmt: skip
    base = f"https://github.com/{owner}/{repo}"
    when = dates(rng, rng.randint(3, 6), newest(rng))
    items: list[Item] = []
    if flavor.startswith("commits"):
        branch = "master" if flavor == "commits-branch" else "main"
        messages = [
            (
                "gh-117431: Fix the <select> example in the docs",
                "The example used an attribute that does not exist.\n\nCo-authored-by: Jane Doe <jane@example.com>",
            ),
            ("Merge pull request #1234 from ada_l/fix-utf8", "Fix UTF-8 handling in the tokenizer"),
            (
                "Bump actions/checkout from 3 to 4",
                "Bumps actions/checkout from 3 to 4.\n- Release notes\n- Commits",
            ),
            (
                'Revert "Use & in URLs"',
                "This reverts commit 3f2a9c1.\n\nIt broke the Windows build.",
            ),
            ("docs: typo in README (“recieve” → “receive”)", ""),
            ("Add 日本語 translation", "Thanks to the translators!"),
        ]
        chosen = rng.sample(messages, len(when))
        head = (
            f"<id>tag:github.com,2008:/{owner}/{repo}/commits/{branch}</id>\n"
            f'  <link type="text/html" rel="alternate" href="{base}/commits/{branch}"/>\n'
            f'  <link type="application/atom+xml" rel="self" href="{base}/commits/{branch}.atom"/>\n'
            f"  <title>Recent Commits to {repo}:{branch}</title>\n"
        )
        entries = []
        for (subject, rest), dt in zip(chosen, when, strict=True):
            sha = f"{rng.getrandbits(160):040x}"
            user = rng.choice(HANDLES)
            message = subject + ("\n\n" + rest if rest else "")
            body = f"<pre style='white-space:pre-wrap;width:81ex'>{_html_escape(message, quote=False)}</pre>"
            item = Item(subject, f"{base}/commit/{sha}", dt, user, body)
            items.append(item)
            entries.append(
                f"  <entry>\n    <id>tag:github.com,2008:Grit::Commit/{sha}</id>\n"
                f'    <link type="text/html" rel="alternate" href="{item.url}"/>\n'
                f"    <title>\n        {x(subject)}\n    </title>\n"
                f"    <updated>{w3c(dt, 'Z')}</updated>\n"
                f'    <media:thumbnail height="30" width="30" url="https://avatars.githubusercontent.com/u/{rng.randint(1, 99999)}?s=30&amp;v=4"/>\n'
                f"    <author>\n      <name>{user}</name>\n      <uri>https://github.com/{user}</uri>\n    </author>\n"
                f'    <content type="html">\n      {x(body)}\n    </content>\n  </entry>\n'
            )
    else:
        what = "Tags from" if flavor == "tags" else "Release notes from"
        head = (
            f"<id>tag:github.com,2008:https://github.com/{owner}/{repo}/{'tags' if flavor == 'tags' else 'releases'}</id>\n"
            f'  <link type="text/html" rel="alternate" href="{base}/{"tags" if flavor == "tags" else "releases"}"/>\n'
            f'  <link type="application/atom+xml" rel="self" href="{base}/{"tags" if flavor == "tags" else "releases"}.atom"/>\n'
            f"  <title>{what} {repo}</title>\n"
        )
        major, minor, patch = rng.randint(0, 3), rng.randint(0, 20), rng.randint(3, 9)
        entries = []
        for i, dt in enumerate(when):
            version = f"{major}.{minor}.{patch - i}"
            tag = f"v{version}" if flavor != "releases-cjk" else version
            user = rng.choice(HANDLES)
            if flavor == "releases-empty" or flavor == "tags":
                title = tag
                body = "<p>No content.</p>"
            else:
                title = (
                    f"{tag} – “{rng.choice(['Hotfix', 'Spring cleaning', 'Faster & leaner', '修复中文分词'])}”"
                    if i % 2 == 0
                    else tag
                )
                body = (
                    '<h2>What\'s Changed</h2>\n<ul>\n<li>Fix the &lt;select&gt; parser by <a class="user-mention notranslate" '
                    f'data-hovercard-type="user" href="https://github.com/{user}">@{user}</a> in '
                    f'<a class="issue-link js-issue-link" href="{base}/pull/{rng.randint(100, 9999)}">#{rng.randint(100, 9999)}</a></li>\n</ul>\n'
                    f'<p><strong>Full Changelog</strong>: <a class="commit-link" href="{base}/compare/v{major}.{minor}.{patch - i - 1}...{tag}">'
                    f"<tt>v{major}.{minor}.{patch - i - 1}...{tag}</tt></a></p>"
                )
            url = f"{base}/releases/tag/{tag}"
            item = Item(title, url, dt, user, body)
            items.append(item)
            entries.append(
                f"  <entry>\n    <id>tag:github.com,2008:Repository/{rng.randint(10**6, 10**9)}/{tag}</id>\n"
                f"    <updated>{w3c(dt, 'Z')}</updated>\n"
                f'    <link rel="alternate" type="text/html" href="{url}"/>\n'
                f"    <title>{x(title)}</title>\n"
                f'    <content type="html">{x(body)}</content>\n'
                f"    <author>\n      <name>{user}</name>\n    </author>\n"
                f'    <media:thumbnail height="30" width="30" url="https://avatars.githubusercontent.com/u/{rng.randint(1, 99999)}?s=60&amp;v=4"/>\n'
                "  </entry>\n"
            )
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<feed xmlns="http://www.w3.org/2005/Atom" xmlns:media="http://search.yahoo.com/mrss/" xml:lang="en-US">\n  '
        + head
        + f"  <updated>{w3c(when[0], 'Z')}</updated>\n"
        + "".join(entries)
        + "</feed>\n"
    )
    return Feed(name=name, platform=f"GitHub ({flavor})", xml=xml, items=items)


def gitlab(name: str, rng: random.Random, flavor: str = "activity") -> Feed:
    project = {"activity": "gitlab-org/gitlab-runner", "issues": "inkscape/inkscape", "self-hosted": "infra/ansible-roles"}[flavor]  # fmt: skip
    host = "https://git.example-university.edu" if flavor == "self-hosted" else "https://gitlab.com"
    base = f"{host}/{project}"
    when = dates(rng, rng.randint(3, 6), newest(rng))
    people = [
        ("Jane Doe", "jane"),
        ("Kenji Sato", "ksato"),
        ("Zoë O’Brien", "zoe"),
        ("Chen Wei", "chenwei"),
    ]
    items = []
    entries = []
    group, proj = project.split("/")
    for dt in when:
        person, handle = rng.choice(people)
        avatar = (
            f"https://secure.gravatar.com/avatar/{rng.getrandbits(128):032x}?s=80&amp;d=identicon"
        )
        if flavor == "issues":
            number = rng.randint(1000, 9999)
            title = rng.choice(
                [
                    "Crash when opening an SVG with <use> loops",
                    "Text tool: Arabic shaping is wrong",
                    "Export PNG & PDF at 300 dpi",
                    "Undo history lost after “Save as”",
                    "日本語フォントが表示されない",
                ]
            )
            description = "Steps to reproduce:\n1. Open the attached file\n2. Press Ctrl+Z"
            item = Item(title, f"{base}/-/issues/{number}", dt, person, description, text=True)
            entries.append(
                f'<entry>\n  <id>{item.url}</id>\n  <link href="{item.url}"/>\n  <title>{x(title)}</title>\n'
                f"  <updated>{w3c(dt, 'Z')}</updated>\n"
                f'  <media:thumbnail width="40" height="40" url="{avatar}"/>\n'
                f"  <author>\n    <name>{x(person)}</name>\n    <email>{handle}@example.com</email>\n  </author>\n"
                f"  <summary>{x(title)}</summary>\n  <content>{x(description)}</content>\n"
                "  <labels>\n    <label>bug</label>\n  </labels>\n  <state>opened</state>\n</entry>\n"
            )
        else:
            sha = f"{rng.getrandbits(160):040x}"
            message = rng.choice(
                [
                    "Fix flaky test in runner_test.go",
                    "Update docs for the “shell” executor",
                    "Merge branch 'fix-utf8' into 'main'",
                    "Bump golang.org/x/net to 0.23.0",
                ]
            )
            title = f"{person} pushed to project branch main at {group} / {proj}"
            body = (
                f'<div xmlns="http://www.w3.org/1999/xhtml"><div class="blank-state-body">'
                f'<p><a href="{base}/-/commit/{sha}">{sha[:8]}</a> · {_html_escape(message, quote=False)}</p></div></div>'
            )
            item = Item(title, f"{base}/-/commit/{sha}", dt, person, body)
            entries.append(
                f'<entry>\n  <id>{base}/-/commit/{sha}</id>\n  <link href="{item.url}"/>\n  <title>{x(title)}</title>\n'
                f"  <updated>{w3c(dt, 'Z')}</updated>\n"
                f'  <media:thumbnail width="40" height="40" url="{avatar}"/>\n'
                f"  <author>\n    <name>{x(person)}</name>\n    <email>{handle}@example.com</email>\n  </author>\n"
                f'  <summary type="xhtml">{body}</summary>\n</entry>\n'
            )
        items.append(item)
    kind = "issues" if flavor == "issues" else "activity"
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<feed xmlns="http://www.w3.org/2005/Atom" xmlns:media="http://search.yahoo.com/mrss/">\n'
        f"<title>{group} / {proj} {kind}</title>\n"
        f'<link href="{base}{"/-/issues.atom" if kind == "issues" else ".atom"}" rel="self" type="application/atom+xml"/>\n'
        f'<link href="{base}/{"-/issues" if kind == "issues" else "activity"}" rel="alternate" type="text/html"/>\n'
        f"<id>{base}/{'-/issues' if kind == 'issues' else 'activity'}</id>\n"
        f"<updated>{w3c(when[0], 'Z')}</updated>\n" + "".join(entries) + "</feed>\n"
    )
    return Feed(name=name, platform=f"GitLab ({flavor})", xml=xml, items=items)


# =================================================================== Mastodon, HN, Lobsters

TOOTS = [
    '<p>Just released v2.0 of my little RSS reader 🎉 Thanks to everyone who tested it!</p><p><a href="https://mastodon.social/tags/opensource" class="mention hashtag" rel="tag">#<span>opensource</span></a></p>',
    "<p>Morning fog over the harbour this morning. No filter.</p>",
    '<p><span class="h-card" translate="no"><a href="https://fosstodon.org/@ada" class="u-url mention">@<span>ada</span></a></span> that’s exactly the bug I hit last week &amp; the fix works, thanks!</p>',
    "<p>Reminder: the meetup is tomorrow at 18:30 — room 2.14, bring a laptop.</p>",
    "<p>Ich habe heute gelernt, dass Ameisen nicht schlafen, sondern Mikropausen machen. 🐜</p>",
    "<p>今日は新しいキーボードが届いた！打鍵感が最高。</p>",
    "<p>Hot take: YAML should not be used for configuration files that humans edit.</p><p>(I will not be taking questions.)</p>",
    '<p>New blog post: how I moved my home server to NixOS <a href="https://blog.example.net/nixos" rel="nofollow noopener noreferrer" target="_blank"><span class="invisible">https://</span><span class="">blog.example.net/nixos</span><span class="invisible"></span></a></p>',
]


def mastodon(name: str, rng: random.Random, flavor: str = "user") -> Feed:
    host, user = {"user": ("mastodon.social", "jane"), "tag": ("fosstodon.org", "tags/python"),
                  "media": ("pixelfed.example", "photos"), "instance": ("hachyderm.io", "kaz")}[flavor]  # fmt: skip
    chosen = rng.sample(TOOTS, rng.randint(3, 6))
    when = dates(rng, len(chosen), newest(rng))
    home = f"https://{host}/{user}" if flavor == "tag" else f"https://{host}/@{user}"
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:webfeeds="http://webfeeds.org/rss/1.0" xmlns:media="http://search.yahoo.com/mrss/">\n'
        "  <channel>\n"
        f"    <title>{'#python' if flavor == 'tag' else 'Jane 🌿'}</title>\n"
        f"    <description>{'Public posts tagged #python' if flavor == 'tag' else 'Public posts from @' + user + '@' + host}</description>\n"
        f"    <link>{home}</link>\n"
        f"    <image>\n      <url>https://files.{host}/accounts/avatars/000/001/original/a.png</url>\n"
        f"      <title>{'#python' if flavor == 'tag' else 'Jane 🌿'}</title>\n      <link>{home}</link>\n    </image>\n"
        f"    <lastBuildDate>{rfc822(when[0])}</lastBuildDate>\n"
        f"    <webfeeds:icon>https://files.{host}/accounts/avatars/000/001/original/a.png</webfeeds:icon>\n"
        "    <generator>Mastodon v4.2.8</generator>\n"
    ]
    items = []
    for i, (toot, dt) in enumerate(zip(chosen, when, strict=True)):
        status = 112000000000000000 + rng.randint(0, 10**15)
        who = rng.choice(["kaz", "ada", "p_raman"]) if flavor == "tag" else user
        url = f"https://{host}/@{who}/{status}"
        item = Item(None, url, dt, None, toot)
        items.append(item)
        media = ""
        if flavor == "media" or i % 3 == 1:
            media = (
                f'      <media:content url="https://files.{host}/media_attachments/files/112/{status % 1000:03d}/original/{status:x}.jpeg" '
                f'type="image/jpeg" fileSize="{rng.randint(10**5, 10**7)}" medium="image">\n'
                '        <media:rating scheme="urn:simple">nonadult</media:rating>\n'
                f'        <media:description type="plain">A photo: {x(text_of(toot)[:30])}</media:description>\n'
                "      </media:content>\n"
            )
        cats = "".join(
            f"      <category>{t}</category>\n"
            for t in rng.sample(["python", "photography", "opensource", "til"], rng.randint(0, 2))
        )
        out.append(
            "    <item>\n"
            f'      <guid isPermaLink="true">{url}</guid>\n      <link>{url}</link>\n'
            f"      <pubDate>{rfc822(dt)}</pubDate>\n"
            f"      <description>{x(toot)}</description>\n{media}{cats}    </item>\n"
        )
    out.append("  </channel>\n</rss>\n")
    return Feed(name=name, platform=f"Mastodon ({flavor})", xml="".join(out), items=items)


HN_TITLES = [
    "Show HN: I built a 🚀 static site generator in 200 lines of Go",
    "Ask HN: What’s your “boring” tech stack in 2024?",
    "The C++ committee’s new <charconv> proposal",
    "SQLite is not a toy database (2023)",
    "Launch HN: Acme (YC W24) – Open-source observability",
    "Tell HN: Thank you & goodbye",
    "Why don't we have 128-bit integers everywhere?",
    "A history of the em dash — and why it matters",
    "Полный гид по PostgreSQL индексам [pdf]",
]


def hacker_news(name: str, rng: random.Random, flavor: str = "hnrss") -> Feed:
    # Titles naming a tag are left out: an RSS title is HTML to most readers, text to hnrss.
    titles = [t for t in HN_TITLES if "<" not in t]
    chosen = rng.sample(titles, rng.randint(4, 7))
    when = dates(rng, len(chosen), newest(rng))
    items = []
    if flavor == "official":
        out = [
            '<rss version="2.0"><channel><title>Hacker News</title><link>https://news.ycombinator.com/</link>'
            "<description>Links for the intellectually curious, ranked by readers.</description>"
        ]
        for title, dt in zip(chosen, when, strict=True):
            hn = rng.randint(40000000, 41000000)
            comments = f"https://news.ycombinator.com/item?id={hn}"
            url = (
                comments
                if title.startswith(("Ask HN", "Tell HN"))
                else f"https://www.example-{hn % 97}.com/article/{hn}"
            )
            body = f'<a href="{comments}">Comments</a>'
            item = Item(title, url, dt, None, body)
            items.append(item)
            out.append(
                f"<item><title>{x(title)}</title><link>{x(url)}</link><pubDate>{rfc822(dt)}</pubDate>"
                f"<comments>{x(comments)}</comments><description>{cdata(body)}</description></item>"
            )
        out.append("</channel></rss>")
        return Feed(
            name=name,
            platform="Hacker News (news.ycombinator.com/rss)",
            xml="".join(out),
            items=items,
        )

    feed_title = {"hnrss": "Hacker News: Front Page", "newest": "Hacker News: Newest", "comments": "Hacker News: New Comments",
                  "ask": "Hacker News: Ask HN"}[flavor]  # fmt: skip
    path = {
        "hnrss": "frontpage",
        "newest": "newest?points=100",
        "comments": "newcomments",
        "ask": "ask",
    }[flavor]
    out = [
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:atom="http://www.w3.org/2005/Atom"><channel>'
        f"<title>{feed_title}</title><link>https://news.ycombinator.com/</link>"
        "<description>Hacker News RSS</description><docs>https://hnrss.org/</docs>"
        f"<generator>hnrss v2.1.1</generator><lastBuildDate>{rfc822(when[0])}</lastBuildDate>"
        f'<atom:link href="https://hnrss.org/{x(path)}" rel="self" type="application/rss+xml"></atom:link>'
    ]
    for title, dt in zip(chosen, when, strict=True):
        hn = rng.randint(40000000, 41000000)
        user = rng.choice(["pg", "dang", "tptacek", "patio11", "jacquesm", "ingve"])
        comments = f"https://news.ycombinator.com/item?id={hn}"
        if flavor == "comments":
            cid = hn + rng.randint(1, 999)
            url = f"https://news.ycombinator.com/item?id={cid}"
            body = "<p>I’ve used this in production for two years &amp; it’s been rock solid.</p>"
            item = Item(f'New comment by {user} in "{title}"', url, dt, user, body)
            items.append(item)
            out.append(
                f"<item><title>{cdata(item.title or '')}</title><description>{cdata(body)}</description>"
                f"<pubDate>{rfc822(dt)}</pubDate><link>{x(url)}</link><dc:creator>{user}</dc:creator>"
                f'<comments>{x(url)}</comments><guid isPermaLink="false">{x(url)}</guid></item>'
            )
            continue
        own = title.startswith(("Ask HN", "Tell HN")) or flavor == "ask"
        url = comments if own else f"https://www.example-{hn % 97}.com/article/{hn}"
        points, count = rng.randint(1, 900), rng.randint(0, 400)
        if own:
            body = (
                "\n<p>I’m curious what people run for side projects &amp; at work.</p>\n<hr>\n"
                f'<p>Comments URL: <a href="{comments}">{comments}</a></p>\n'
                f"<p>Points: {points}</p>\n<p># Comments: {count}</p>\n"
            )
        else:
            body = (
                f'\n<p>Article URL: <a href="{url}">{url}</a></p>\n'
                f'<p>Comments URL: <a href="{comments}">{comments}</a></p>\n'
                f"<p>Points: {points}</p>\n<p># Comments: {count}</p>\n"
            )
        item = Item(title, url, dt, user, body)
        items.append(item)
        out.append(
            f"<item><title>{cdata(title)}</title><description>{cdata(body)}</description>"
            f"<pubDate>{rfc822(dt)}</pubDate><link>{x(url)}</link><dc:creator>{user}</dc:creator>"
            f'<comments>{x(comments)}</comments><guid isPermaLink="false">{x(comments)}</guid></item>'
        )
    out.append("</channel></rss>")
    return Feed(name=name, platform=f"Hacker News (hnrss {flavor})", xml="".join(out), items=items)


def lobsters(name: str, rng: random.Random, flavor: str = "front") -> Feed:
    chosen = rng.sample([t for t in HN_TITLES if "<" not in t], rng.randint(4, 6))
    when = dates(rng, len(chosen), newest(rng))
    path = "rss" if flavor == "front" else "t/rust.rss"
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">\n<channel>\n'
        f"<title>{'Lobsters' if flavor == 'front' else 'Lobsters: Stories tagged rust'}</title>\n"
        f"<link>https://lobste.rs/</link>\n"
        f'<atom:link href="https://lobste.rs/{path}" rel="self" type="application/rss+xml" />\n'
        "<description></description>\n"
        f"<pubDate>{rfc822(when[0], '-0500')}</pubDate>\n<ttl>120</ttl>\n"
    ]
    items = []
    for title, dt in zip(chosen, when, strict=True):
        short = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(6))
        user = rng.choice(["pushcx", "friendlysock", "hwayne", "calvin"])
        slug = "_".join(re.findall(r"[a-z0-9]+", title.lower())[:5])
        story = f"https://lobste.rs/s/{short}/{slug}"
        url = f"https://www.example-{short}.org/posts/{slug}.html" if rng.random() < 0.7 else story
        body = (
            f'<p><a href="{story}">Comments</a></p>'
            if url != story
            else (
                f"<p>Has anyone benchmarked this? I get different numbers on ARM &amp; x86.</p>\n"
                f'<p><a href="{story}">Comments</a></p>'
            )
        )
        item = Item(title, url, dt, user, body)
        items.append(item)
        tags = "".join(
            f"<category>{t}</category>\n"
            for t in rng.sample(["programming", "rust", "databases", "history", "ask"], 2)
        )
        out.append(
            f"<item>\n<title>{x(title)}</title>\n<link>{x(url)}</link>\n"
            f'<guid isPermaLink="false">https://lobste.rs/s/{short}</guid>\n'
            f"<author>{user}@users.lobste.rs ({user})</author>\n"
            f"<pubDate>{rfc822(dt, '-0500')}</pubDate>\n<comments>{story}</comments>\n"
            f"<description>\n  {x(body)}\n</description>\n{tags}</item>\n"
        )
    out.append("</channel>\n</rss>\n")
    return Feed(name=name, platform=f"Lobsters ({flavor})", xml="".join(out), items=items)


# =================================================================== podcasts

EPISODES = [
    (
        "Episode 142: The “Sound of Silence” & noise-cancelling tech",
        "<p>How do noise-cancelling headphones actually work? We take apart three pairs.</p><ul><li>00:00 Intro</li><li>04:12 Anti-noise</li></ul>",
    ),
    (
        "#87 – Why cities are quietly getting greener 🌳",
        '<p>Urban forests, rooftop gardens and the people who plant them.</p><p>Guest: <a href="https://example.org/guest">Dr. Amara Obi</a></p>',
    ),
    (
        "Bonus: Listener Q&A (part 2)",
        "<p>You asked, we answered: gear, workflows &amp; what we’d do differently.</p>",
    ),
    ("S3E04: Der Weg nach Übersee", "<p>Eine Geschichte über Auswanderer im 19. Jahrhundert.</p>"),
    (
        "Episode 12 — Building a 1,000-year clock",
        "<p>Inside the mountain in Texas where a clock is being built to tick for ten millennia.</p>",
    ),
    ("第35期：聊聊独立游戏开发", "<p>本期嘉宾分享了独立游戏从立项到上线的全过程。</p>"),
    (
        "Trailer: welcome to the show!",
        "<p>A two-minute taste of what’s coming. New episodes every Tuesday.</p>",
    ),
    (
        "Interview: “I quit my job to build violins”",
        "<p>Luthier Sofia Marin on wood, patience and failure.</p><p>Transcript available.</p>",
    ),
]


def _duration(rng: random.Random, style: str) -> tuple[str, int]:
    secs = rng.randint(120, 7200)
    if style == "hms":
        return f"{secs // 3600:02d}:{secs % 3600 // 60:02d}:{secs % 60:02d}", secs
    if style == "ms":
        return f"{secs // 60}:{secs % 60:02d}", secs
    return str(secs), secs


PODCAST_NS = (
    'xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd" '
    'xmlns:googleplay="http://www.google.com/schemas/play-podcasts/1.0" '
    'xmlns:atom="http://www.w3.org/2005/Atom" xmlns:media="http://search.yahoo.com/mrss/" '
    'xmlns:content="http://purl.org/rss/1.0/modules/content/"'
)


def podcast(name: str, rng: random.Random, flavor: str = "libsyn") -> Feed:
    host = "Ravi Patel" if flavor != "anchor" else "Mia & Leo"
    show = {"libsyn": "The Curious Engineer", "anchor": "Two Friends Talking", "buzzsprout": "Green City Radio",
            "transistor": "Ship It Weekly", "megaphone": "The Daily Brief", "summary-only": "Old Radio Hour",
            "powerpress": "Garden Talk"}.get(flavor, "Podcasting 2.0")  # fmt: skip
    chosen = rng.sample(EPISODES, rng.randint(3, 6))
    when = dates(rng, len(chosen), newest(rng))
    home = f"https://{re.sub(r'[^a-z]', '', show.lower())}.example.fm"
    items = []
    if flavor == "anchor":
        head = (
            '<?xml version="1.0" encoding="UTF-8"?><rss xmlns:dc="http://purl.org/dc/elements/1.1/" '
            'xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:atom="http://www.w3.org/2005/Atom" '
            'version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd" xmlns:anchor="https://anchor.fm/xmlns" '
            'xmlns:podcast="https://podcastindex.org/namespace/1.0">'
            f"<channel><title><![CDATA[{show}]]></title><description><![CDATA[Two friends, one microphone.]]></description>"
            "<link>https://podcasters.spotify.com/pod/show/twofriends</link><image><url>https://d3t3ozftmdmh3i.cloudfront.net/production/podcast_uploaded/1/1-1.jpg</url>"
            f"<title>{x(show)}</title><link>https://podcasters.spotify.com/pod/show/twofriends</link></image>"
            f"<generator>Anchor Podcasts</generator><lastBuildDate>{rfc822(when[0], 'GMT')}</lastBuildDate>"
            '<atom:link href="https://anchor.fm/s/1a2b3c4d/podcast/rss" rel="self" type="application/rss+xml"/>'
            f"<author><![CDATA[{host}]]></author><copyright><![CDATA[{host}]]></copyright><language><![CDATA[en]]></language>"
            '<atom:link rel="hub" href="https://pubsubhubbub.appspot.com/"/>'
            f"<itunes:author>{x(host)}</itunes:author><itunes:summary>Two friends, one microphone.</itunes:summary>"
            "<itunes:type>episodic</itunes:type><itunes:owner><itunes:name>Mia</itunes:name><itunes:email>mia@example.com</itunes:email></itunes:owner>"
            '<itunes:explicit>false</itunes:explicit><itunes:category text="Comedy"/>'
            '<itunes:image href="https://d3t3ozftmdmh3i.cloudfront.net/production/podcast_uploaded/1/1-1.jpg"/>'
        )
        out = [head]
        for (title, body), dt in zip(chosen, when, strict=True):
            slug = slugify(title, 1)
            ep = f"e2{rng.getrandbits(20):05x}"
            item = Item(
                title,
                f"https://podcasters.spotify.com/pod/show/twofriends/episodes/{slug}-{ep}",
                dt,
                host,
                body,
            )
            items.append(item)
            dur, secs = _duration(rng, "hms")
            out.append(
                f"<item><title><![CDATA[{title}]]></title><description><![CDATA[{body}]]></description>"
                f'<link>{item.url}</link><guid isPermaLink="false">{rng.getrandbits(128):032x}</guid>'
                f"<dc:creator><![CDATA[{host}]]></dc:creator><pubDate>{rfc822(dt, 'GMT')}</pubDate>"
                f'<enclosure url="https://anchor.fm/s/1a2b3c4d/podcast/play/{rng.randint(10**7, 10**8)}/https%3A%2F%2Fd3ctxlq1ktw2nl.cloudfront.net%2Fstaging%2F2024-3-30%2F{ep}.m4a" length="{secs * 16000}" type="audio/x-m4a"/>'
                f"<itunes:summary>{x(body)}</itunes:summary><itunes:explicit>false</itunes:explicit>"
                f'<itunes:duration>{dur}</itunes:duration><itunes:image href="https://d3t3ozftmdmh3i.cloudfront.net/production/podcast_uploaded_episode/1/{ep}.jpg"/>'
                "<itunes:episodeType>full</itunes:episodeType></item>"
            )
        out.append("</channel></rss>")
        return Feed(
            name=name,
            platform="Podcast (Anchor / Spotify for Podcasters)",
            xml="".join(out),
            items=items,
        )

    p20 = flavor in ("buzzsprout", "transistor", "podcasting20", "podcasting20-value")
    ns = PODCAST_NS + (' xmlns:podcast="https://podcastindex.org/namespace/1.0"' if p20 else "")
    generator = {"libsyn": "Libsyn WebEngine 2.0", "powerpress": "Blubrry PowerPress/11.6.3"}.get(
        flavor, "Podcast host"
    )
    stylesheet = (
        '<?xml-stylesheet href="https://feeds.buzzsprout.com/styles.xsl" type="text/xsl"?>\n'
        if flavor == "buzzsprout"
        else ""
    )
    out = [
        f'<?xml version="1.0" encoding="UTF-8"{" " if flavor == "buzzsprout" else ""}?>\n{stylesheet}<rss version="2.0" {ns}>\n<channel>\n'
        f'  <atom:link href="{home}/rss" rel="self" type="application/rss+xml"/>\n'
        f"  <title>{x(show)}</title>\n"
        f"  <pubDate>{rfc822(when[0])}</pubDate>\n"
        f"  <generator>{generator}</generator>\n"
        f"  <link>{home}</link>\n  <language>en-us</language>\n"
        f"  <copyright><![CDATA[© 2024 {host}]]></copyright>\n"
        f"  <itunes:author>{x(host)}</itunes:author>\n"
        f"  <itunes:summary><![CDATA[A show about how things work.]]></itunes:summary>\n"
        f"  <description><![CDATA[A show about how things work.]]></description>\n"
        f'  <itunes:image href="{home}/artwork-3000.jpg"/>\n'
        "  <itunes:owner>\n    <itunes:name>Ravi Patel</itunes:name>\n    <itunes:email>ravi@example.fm</itunes:email>\n  </itunes:owner>\n"
        '  <itunes:category text="Technology"/>\n  <itunes:explicit>false</itunes:explicit>\n  <itunes:type>episodic</itunes:type>\n'
    ]
    if p20:
        out.append(
            f'  <podcast:guid>{rng.getrandbits(128):032x}</podcast:guid>\n  <podcast:locked owner="ravi@example.fm">yes</podcast:locked>\n'
            f'  <podcast:funding url="{home}/support">Support the show</podcast:funding>\n'
        )
    for number, ((title, body), dt) in enumerate(
        zip(chosen, when, strict=True), start=rng.randint(10, 200)
    ):
        slug = slugify(title, number)
        guid = f"{rng.getrandbits(32):08x}-{rng.getrandbits(16):04x}-4{rng.getrandbits(12):03x}-a{rng.getrandbits(12):03x}-{rng.getrandbits(48):012x}"
        url = f"{home}/episodes/{slug}"
        dur, secs = _duration(rng, {"libsyn": "ms", "megaphone": "hms"}.get(flavor, "s"))
        own_author = flavor not in ("libsyn", "megaphone")
        item = Item(title, url, dt, host if own_author else None, body)
        items.append(item)
        summary = words(body, 20)
        lines = [
            f"  <item>\n    <title>{x(title)}</title>\n    <itunes:title>{x(title)}</itunes:title>\n"
        ]
        lines.append(
            f"    <pubDate>{rfc822(dt, '-0400' if flavor == 'buzzsprout' else '+0000')}</pubDate>\n"
        )
        if flavor == "libsyn":
            lines.append(
                f'    <guid isPermaLink="false"><![CDATA[{guid}]]></guid>\n    <link><![CDATA[{url}]]></link>\n'
            )
        elif flavor == "buzzsprout":
            lines.append(
                f'    <guid isPermaLink="false">Buzzsprout-{number * 1000 + 7}</guid>\n    <link>{url}</link>\n'
            )
        else:
            lines.append(f'    <guid isPermaLink="false">{guid}</guid>\n    <link>{url}</link>\n')
        lines.append(f'    <itunes:image href="{home}/episodes/{number}.jpg"/>\n')
        if flavor == "summary-only":
            # An old host that writes the show notes in itunes:summary alone.
            item.body = summary
            item.text = True
            lines.append(f"    <itunes:summary>{x(summary)}</itunes:summary>\n")
        else:
            lines.append(f"    <description><![CDATA[{body}]]></description>\n")
            if flavor in ("libsyn", "transistor", "buzzsprout", "powerpress"):
                lines.append(f"    <content:encoded><![CDATA[{body}]]></content:encoded>\n")
            lines.append(f"    <itunes:summary><![CDATA[{summary}]]></itunes:summary>\n")
        if own_author:
            if flavor == "transistor":
                lines.append(f"    <author>{x(host)}</author>\n")
            lines.append(f"    <itunes:author>{x(host)}</itunes:author>\n")
        lines.append(
            f'    <enclosure length="{secs * 16000}" type="audio/mpeg" url="https://traffic.example-cdn.fm/{slug}.mp3?dest-id={number}"/>\n'
            f"    <itunes:duration>{dur}</itunes:duration>\n    <itunes:explicit>false</itunes:explicit>\n"
            f"    <itunes:episode>{number}</itunes:episode>\n    <itunes:episodeType>{'bonus' if 'Bonus' in title else 'trailer' if 'Trailer' in title else 'full'}</itunes:episodeType>\n"
        )
        if p20:
            lines.append(
                f'    <podcast:transcript url="{home}/episodes/{number}/transcript.vtt" type="text/vtt" language="en"/>\n'
                f'    <podcast:transcript url="{home}/episodes/{number}/transcript.srt" type="application/srt"/>\n'
                f'    <podcast:chapters url="{home}/episodes/{number}/chapters.json" type="application/json+chapters"/>\n'
                f'    <podcast:person role="host" img="{home}/people/ravi.jpg" href="{home}/people/ravi">{x(host)}</podcast:person>\n'
                f'    <podcast:person role="guest" group="cast">Dr. Amara Obi</podcast:person>\n'
                f"    <podcast:season>{number // 50 + 1}</podcast:season>\n    <podcast:episode>{number}</podcast:episode>\n"
                f'    <podcast:soundbite startTime="{secs // 3}" duration="30.0">The best 30 seconds</podcast:soundbite>\n'
            )
            if flavor == "podcasting20-value":
                lines.append(
                    '    <podcast:value type="lightning" method="keysend" suggested="0.00000005000">\n'
                    '      <podcast:valueRecipient name="Ravi" type="node" address="02d5c1bf8b940dc9cadca86d1b0a3c37fbe39cee4c7e839e33bef9174531d27f52" split="95"/>\n'
                    "    </podcast:value>\n"
                )
        lines.append("  </item>\n")
        out.append("".join(lines))
    out.append("</channel>\n</rss>\n")
    return Feed(name=name, platform=f"Podcast ({flavor})", xml="".join(out), items=items)


# =================================================================== Chinese, Japanese, Russian portals

CST = timezone(timedelta(hours=8))
JST = timezone(timedelta(hours=9))
MSK = timezone(timedelta(hours=3))


def _encodable(pool: Sequence[Story], codec: str) -> list[Story]:
    out = []
    for story in pool:
        try:
            (story[0] + story[1]).encode(codec)
        except UnicodeEncodeError:
            continue
        out.append(story)
    return out


@dataclass
class Portal:
    home: str
    title: str
    pool: Sequence[Story]
    codec: str  # the Python codec the bytes are written in
    label: str | None  # the encoding declared in the prolog (None: no declaration)
    header: str | None = None  # Content-Type of the response, when it says more than XML
    date: str = (
        "rfc+0800"  # rfc+0800 | iso+08:00 | zoneless | chinese | rfc+0900 | rfc+0300 | dateonly
    )
    authors: Sequence[str] | None = None
    rdf: bool = False  # RSS 1.0 (livedoor, Seesaa)
    cdata: bool = True
    need: str = ""  # a character the feed must carry (one only the declared charset's superset has)


def _portal_date(dt: datetime, style: str) -> str:
    if style == "rfc+0800":
        return rfc822(dt, "+0800")
    if style == "rfc+0900":
        return rfc822(dt, "+0900")
    if style == "rfc+0300":
        return rfc822(dt, "+0300")
    if style == "iso+08:00":
        return w3c(dt, "+08:00")
    if style == "iso+09:00":
        return w3c(dt, "+09:00")
    local = dt.astimezone(CST)
    if style == "zoneless":
        return f"{local:%Y-%m-%d %H:%M:%S}"
    if style == "chinese":
        return f"{local:%Y年%m月%d日 %H:%M}"
    raise ValueError(style)


def portal(name: str, rng: random.Random, spec: Portal) -> Feed:
    pool = _encodable(spec.pool, spec.codec)
    n = min(len(pool), rng.randint(3, 5))
    chosen = rng.sample(pool, n)
    if spec.need and not any(spec.need in t + b for t, b in chosen):
        chosen[-1] = next(s for s in pool if spec.need in s[0] + s[1])
    when = dates(rng, n, newest(rng))
    if spec.date in ("zoneless", "chinese"):
        when = [w.replace(second=0) if spec.date == "chinese" else w for w in when]
    items = []
    for (title, body), dt in zip(chosen, when, strict=True):
        local = dt.astimezone(JST if "0900" in spec.date or "09:00" in spec.date else CST)
        num = rng.randint(10**6, 10**7)
        url = (
            f"{spec.home}{local:%Y-%m/%d}/c_{num}.htm"
            if not spec.rdf
            else f"{spec.home}archives/{num}.html"
        )
        author = rng.choice(spec.authors) if spec.authors else None
        items.append(Item(title, url, dt, author, body, n=num))
    wrap = cdata if spec.cdata else x
    language, section = {
        id(JA): ("ja", "国内"),
        id(RU): ("ru", "Новости"),
        id(ZH_TW): ("zh-tw", "國內"),
    }.get(id(spec.pool), ("zh-cn", "国内新闻"))
    out = [prolog(spec.label)]
    if spec.rdf:
        out.append(
            '<rdf:RDF\n  xmlns="http://purl.org/rss/1.0/"\n  xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"\n'
            '  xmlns:dc="http://purl.org/dc/elements/1.1/"\n  xmlns:content="http://purl.org/rss/1.0/modules/content/"\n  xml:lang="ja">\n'
            f'<channel rdf:about="{spec.home}">\n<title>{x(spec.title)}</title>\n<link>{spec.home}</link>\n'
            "<description>日々の出来事</description>\n<dc:language>ja</dc:language>\n<items>\n<rdf:Seq>\n"
            + "".join(f'<rdf:li rdf:resource="{i.url}" />\n' for i in items)
            + "</rdf:Seq>\n</items>\n</channel>\n"
        )
        for item in items:
            assert item.date is not None
            out.append(
                f'<item rdf:about="{item.url}">\n<title>{x(item.title or "")}</title>\n<link>{item.url}</link>\n'
                f"<description>{x(words(item.body, 30))}</description>\n<dc:subject>ニュース</dc:subject>\n"
                + (f"<dc:creator>{x(item.author)}</dc:creator>\n" if item.author else "")
                + f"<dc:date>{_portal_date(item.date, 'iso+09:00')}</dc:date>\n"
                f"<content:encoded><![CDATA[{item.body}]]></content:encoded>\n</item>\n"
            )
        out.append("</rdf:RDF>\n")
    else:
        out.append(
            '<rss version="2.0">\n<channel>\n'
            f"<title>{wrap(spec.title)}</title>\n<link>{spec.home}</link>\n"
            f"<description>{wrap(spec.title)}</description>\n"
            f"<language>{language}</language>\n"
            f"<copyright>{wrap('Copyright (C) ' + spec.home)}</copyright>\n"
            f"<pubDate>{_portal_date(when[0], spec.date)}</pubDate>\n"
        )
        for item in items:
            assert item.date is not None
            out.append(
                f"<item>\n<title>{wrap(item.title or '')}</title>\n<link>{item.url}</link>\n"
                + (f"<author>{wrap(item.author)}</author>\n" if item.author else "")
                + f"<guid>{item.url}</guid>\n<category>{wrap(section)}</category>\n"
                f"<pubDate>{_portal_date(item.date, spec.date)}</pubDate>\n"
                f"<comments>{item.url}#comment</comments>\n"
                f"<description>{wrap(item.body)}</description>\n</item>\n"
            )
        out.append("</channel>\n</rss>\n")
    headers = {"content-type": spec.header} if spec.header else None
    return Feed(
        name=name,
        platform="portal",
        xml="".join(out),
        items=items,
        encoding=spec.codec,
        headers=headers,
    )


PORTALS: dict[str, Portal] = {
    # Declared GB2312, written by a GBK encoder (镕 is GBK only): WHATWG reads gb2312 as GBK.
    "sina-gb2312-prolog.xml": Portal(
        "http://news.sina.example.cn/",
        "新浪新闻-国内新闻",
        ZH,
        "gbk",
        "gb2312",
        need="镕",
        authors=["新浪新闻"],
    ),
    "netease-gbk-header.xml": Portal(
        "https://news.163.example.com/",
        "网易新闻",
        ZH,
        "gbk",
        None,
        "text/xml; charset=GBK",
        date="zoneless",
    ),
    "people-gb18030-prolog.xml": Portal(
        "http://www.people.example.com.cn/",
        "人民网－时政频道",
        ZH,
        "gb18030",
        "GB18030",
        authors=ZH_AUTHORS,
    ),
    "xinhua-utf8-iso-dates.xml": Portal(
        "http://www.news.example.cn/",
        "新华网 — 时政",
        ZH,
        "utf-8",
        "utf-8",
        date="iso+08:00",
        authors=["新华社"],
    ),
    "gov-cn-chinese-dates.xml": Portal(
        "https://www.gov.example.cn/xinwen/",
        "中国政府网 - 要闻",
        ZH,
        "utf-8",
        "UTF-8",
        date="chinese",
        cdata=False,
    ),
    "ifeng-gbk-both.xml": Portal(
        "https://news.ifeng.example.com/",
        "凤凰资讯",
        ZH,
        "gbk",
        "GBK",
        "application/rss+xml; charset=GBK",
        date="zoneless",
        authors=ZH_AUTHORS,
    ),
    "qq-gb2312-header.xml": Portal(
        "https://news.qq.example.com/",
        "腾讯新闻",
        ZH,
        "gbk",
        None,
        "text/xml;charset=gb2312",
        need="镕",
    ),
    "gb18030-header-only.xml": Portal(
        "https://www.example-portal.cn/",
        "综合新闻",
        ZH,
        "gb18030",
        None,
        "application/xml; charset=gb18030",
    ),
    "udn-big5-prolog.xml": Portal(
        "https://udn.example.com.tw/news/", "聯合新聞網", ZH_TW, "big5", "big5", authors=["中央社"]
    ),
    "sjis-cp932-prolog.xml": Portal(
        "https://www.example-shimbun.jp/",
        "サンプル新聞　ニュース速報",
        JA,
        "cp932",
        "Shift_JIS",
        date="rfc+0900",
        need="①",
    ),
    "sjis-header-only.xml": Portal(
        "https://www.example-news.jp/",
        "ニュース一覧",
        JA,
        "shift_jis",
        None,
        "text/xml; charset=Shift_JIS",
        date="rfc+0900",
    ),
    "livedoor-eucjp-rdf.xml": Portal(
        "http://blog.livedoor.example.jp/tanaka/",
        "田中の雑記帳",
        JA,
        "euc_jp",
        "EUC-JP",
        rdf=True,
        date="iso+09:00",
        authors=["tanaka"],
    ),
    "nhk-utf8.xml": Portal(
        "https://www3.nhk.example.jp/news/",
        "ＮＨＫニュース",
        JA,
        "utf-8",
        "UTF-8",
        date="rfc+0900",
        cdata=False,
    ),
    "ru-cp1251-prolog.xml": Portal(
        "https://www.example-gazeta.ru/",
        "Газета «Вечерний город»",
        RU,
        "cp1251",
        "windows-1251",
        date="rfc+0300",
        authors=["Иван Петров", "Ольга Смирнова"],
    ),
    "ru-cp1251-header.xml": Portal(
        "https://news.example-region.ru/",
        "Новости региона",
        RU,
        "cp1251",
        None,
        "application/rss+xml; charset=windows-1251",
        date="rfc+0300",
        cdata=False,
    ),
    "ru-koi8r-prolog.xml": Portal(
        "http://www.example-koi.ru/",
        "Старый новостной сайт",
        RU,
        "koi8_r",
        "KOI8-R",
        date="rfc+0300",
    ),
}


# =================================================================== news sites

NEWS: list[Story] = [
    (
        "Storm Kathleen: thousands without power as 80mph winds hit coast",
        "<p>More than 20,000 homes lost power overnight as the storm brought gusts of up to 80mph.</p>",
    ),
    (
        "Central bank holds rates at 5.25% for sixth month",
        "<p>The decision was widely expected, but two members voted for a cut.</p>",
    ),
    (
        "‘It’s a miracle’: climbers rescued after three days on K2",
        "<p>Rescuers reached the group on Sunday morning after a break in the weather.</p>",
    ),
    (
        "Election 2024: what we know so far & what happens next",
        "<p>Polls closed at 22:00. Here is everything you need to know.</p>",
    ),
    (
        "Scientists map 3,000-year-old city beneath the Sahara",
        "<p>Satellite radar revealed streets, houses and a temple buried under the sand.</p>",
    ),
    (
        "Live: world leaders gather for summit in Geneva",
        "<p>Follow the latest as talks begin on trade, climate and security.</p>",
    ),
    (
        "Review: “Dune: Part Two” is a towering sequel",
        "<p>Denis Villeneuve’s epic is bigger, louder and somehow more intimate.</p>",
    ),
    (
        "Why egg prices are falling — and why it won’t last",
        "<p>Supply has recovered after last year’s outbreak of avian flu.</p>",
    ),
    (
        "Tech giant fined €1.2bn over data transfers",
        "<p>The regulator said the company failed to protect users’ data.</p>",
    ),
    (
        "Marathon record smashed in Berlin by 30 seconds",
        "<p>The 24-year-old crossed the line in 2:00:35 to cheers from the crowd.</p>",
    ),
]
FR: list[Story] = [
    (
        "Réforme des retraites : ce qui change au 1er septembre",
        "<p>L’âge légal de départ passe à 62 ans et neuf mois pour les personnes nées en 1962.</p>",
    ),
    (
        "À Marseille, la canicule fait craindre des pénuries d’eau",
        "<p>Les autorités appellent à limiter la consommation.</p>",
    ),
    (
        "Jeux olympiques : la flamme est arrivée à Paris",
        "<p>Des milliers de personnes ont assisté au passage de la flamme sur les Champs-Élysées.</p>",
    ),
    (
        "« Nous ne lâcherons rien » : les agriculteurs bloquent l’autoroute",
        "<p>Plus de 300 tracteurs ont convergé vers la capitale.</p>",
    ),
]
DE: list[Story] = [
    (
        "Bahnstreik: Was Pendler jetzt wissen müssen",
        "<p>Die Gewerkschaft hat zu einem 24-stündigen Streik aufgerufen.</p>",
    ),
    (
        "Zürich, Wien, München: Die lebenswertesten Städte Europas",
        "<p>Im neuen Ranking liegt Wien erneut vorn.</p>",
    ),
    (
        "Energiepreise sinken – aber nicht für alle",
        "<p>Vor allem Neukunden profitieren von günstigeren Tarifen.</p>",
    ),
    (
        "Fußball-EM: Nagelsmann nominiert überraschend drei Neulinge",
        "<p>Der Bundestrainer setzt auf Erfahrung und frische Kräfte.</p>",
    ),
]
AR: list[Story] = [
    (
        "الأمم المتحدة تحذر من أزمة غذاء في المنطقة",
        "<p>حذرت الأمم المتحدة من تفاقم أزمة الغذاء خلال الأشهر المقبلة.</p>",
    ),
    (
        "افتتاح أكبر محطة للطاقة الشمسية في الشرق الأوسط",
        "<p>تبلغ قدرة المحطة 2 غيغاواط وتغطي احتياجات مليون منزل.</p>",
    ),
    ("قمة عربية طارئة لبحث الأوضاع الإقليمية", "<p>يجتمع القادة العرب يوم الخميس في العاصمة.</p>"),
]


def news(name: str, rng: random.Random, flavor: str) -> Feed:
    pool = {"lemonde": FR, "spiegel": DE, "aljazeera-ar": AR}.get(flavor, NEWS)
    n = min(len(pool), rng.randint(3, 6))
    home = {"bbc": "https://www.bbc.co.uk/news", "bbc-world": "https://www.bbc.co.uk/news/world",
            "nyt": "https://www.nytimes.com", "nyt-section": "https://www.nytimes.com/section/technology",
            "guardian": "https://www.theguardian.com/world", "guardian-uk": "https://www.theguardian.com/uk-news",
            "wire": "https://www.example-wire.com", "wire-dcdate": "https://www.example-wire.com",
            "npr": "https://www.npr.org", "aljazeera-ar": "https://www.aljazeera.net",
            "lemonde": "https://www.lemonde.fr", "spiegel": "https://www.spiegel.de"}[flavor]  # fmt: skip
    site = home.split("/")[2]

    def link(slug: str, n: int) -> str:
        if flavor.startswith("bbc"):
            return f"https://www.bbc.com/news/articles/c{n:x}o"
        if flavor.startswith("nyt"):
            return f"https://www.nytimes.com/2024/04/30/world/europe/{slug}.html"
        if flavor.startswith("guardian"):
            return f"{home}/2024/apr/30/{slug}"
        if flavor == "npr":
            return f"https://www.npr.org/2024/04/30/{n}/{slug}"
        return f"https://{site}/{'actualite' if flavor == 'lemonde' else 'news'}/{n}/{slug}"

    items = stories(
        rng,
        n,
        pool,
        url=link,
        authors=AUTHORS
        if flavor not in ("bbc", "bbc-world", "aljazeera-ar", "lemonde", "spiegel")
        else None,
    )
    ns = (
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:atom="http://www.w3.org/2005/Atom" xmlns:media="http://search.yahoo.com/mrss/"'
    )
    if flavor.startswith("nyt"):
        ns += ' xmlns:nyt="http://www.nytimes.com/namespaces/rss/2.0"'
    zone = {"lemonde": "+0200", "spiegel": "+0200", "npr": "-0400"}.get(
        flavor, "GMT" if flavor.startswith(("bbc", "guardian")) else "+0000"
    )
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        + (
            '<?xml-stylesheet title="XSL_formatting" type="text/xsl" href="/shared/bsp/xsl/rss/nolsol.xsl"?>\n'
            if flavor.startswith("bbc")
            else ""
        )
        + f'<rss {ns} version="2.0">\n    <channel>\n'
        f"        <title>{cdata('BBC News') if flavor.startswith('bbc') else x('NYT > Top Stories' if flavor.startswith('nyt') else site)}</title>\n"
        f"        <description>{cdata('BBC News - World') if flavor.startswith('bbc') else ''}</description>\n"
        f"        <link>{home}</link>\n"
        f'        <atom:link href="{home}/rss" rel="self" type="application/rss+xml"/>\n'
        f"        <lastBuildDate>{rfc822(items[0].date or datetime.now(UTC), zone)}</lastBuildDate>\n"
        + ("        <ttl>15</ttl>\n" if flavor.startswith("bbc") else "")
    ]
    for item in items:
        assert item.date is not None
        image = f"https://images.{site}/2024/04/{item.n}.jpg"
        tags: list[str] = []
        if flavor.startswith("bbc"):
            if flavor == "bbc-world":
                item.url += "?at_medium=RSS&at_campaign=rss"
            item.body = words(item.body, 40)
            item.text = True
            tags += [
                f"<title>{cdata(item.title or '')}</title>", f"<description>{cdata(item.body)}</description>",
                f"<link>{x(item.url)}</link>",
                f'<guid isPermaLink="false">{x(item.url.split("?")[0])}#0</guid>',
                f"<pubDate>{rfc822(item.date, 'GMT')}</pubDate>",
                f'<media:thumbnail width="240" height="135" url="https://ichef.bbci.co.uk/ace/standard/240/cpsprodpb/{item.n:x}/live/{item.n}.jpg"/>',
            ]  # fmt: skip
        elif flavor.startswith("nyt"):
            item.author = (
                f"{item.author} and {rng.choice([a for a in AUTHORS if a != item.author])}"
            )
            caption = "A photo from the scene on Tuesday."
            tags += [
                f"<title>{x(item.title or '')}</title>", f"<link>{item.url}</link>",
                f'<guid isPermaLink="true">{item.url}</guid>',
                f'<atom:link href="{item.url}" rel="standout"></atom:link>',
                f"<description>{x(text_of(item.body))}</description>",
                f"<dc:creator>{x(item.author)}</dc:creator>",
                f"<pubDate>{rfc822(item.date)}</pubDate>",
                '<category domain="http://www.nytimes.com/namespaces/keywords/des">Politics and Government</category>',
                f'<media:content height="1800" medium="image" url="{image}" width="1800"></media:content>',
                "<media:credit>Jane Photographer for The New York Times</media:credit>",
                f"<media:description>{caption}</media:description>",
            ]  # fmt: skip
            item.body = text_of(item.body)
            item.text = True
        elif flavor.startswith("guardian"):
            item.author = (
                f"{item.author} in {rng.choice(['Kyiv', 'Paris', 'Manchester', 'São Paulo'])}"
            )
            item.body = item.body + f' <a href="{item.url}">Continue reading...</a>'
            tags += [
                f"<title>{x(item.title or '')}</title>", f"<link>{item.url}</link>",
                f"<description>{x(item.body)}</description>",
                f'<category domain="{home}/world">World news</category>',
                f"<pubDate>{rfc822(item.date, 'GMT')}</pubDate>", f"<guid>{item.url}</guid>",
                f'<media:content width="140" url="{x(image)}?width=140&amp;quality=85&amp;auto=format&amp;fit=max&amp;s=abc">'
                '<media:credit scheme="urn:ebu">Photograph: Reuters</media:credit></media:content>',
                f"<dc:creator>{x(item.author)}</dc:creator>",
                f"<dc:date>{w3c(item.date)}</dc:date>",
            ]  # fmt: skip
        elif flavor.startswith("wire"):
            # An item's own atom:link rel="self" (its API URL) comes before its <link>.
            api = f"https://api.example-wire.com/v2/items/{item.n}.rss"
            tags += [
                f'<atom:link href="{api}" rel="self" type="application/rss+xml"/>',
                f"<title>{x(item.title or '')}</title>", f"<link>{item.url}</link>",
                f'<guid isPermaLink="false">urn:newsml:example-wire.com:20240430:{item.n}</guid>',
                f"<description>{x(item.body)}</description>",
                f"<dc:creator>{x(item.author or '')}</dc:creator>",
                "<category>World</category>",
                f"<dc:date>{w3c(item.date, 'Z')}</dc:date>" if flavor == "wire-dcdate" else f"<pubDate>{rfc822(item.date)}</pubDate>",
                f'<media:content url="{image}" type="image/jpeg" medium="image"><media:title>{x(item.title or "")}</media:title></media:content>',
            ]  # fmt: skip
        elif flavor == "npr":
            teaser = words(item.body, 20)
            item.body = (
                f'<img src="{image}" alt="Photo" /><p>{teaser}</p>'
                + item.body
                + f'<p>(Image credit: AP)</p><img src="https://media.npr.org/include/images/tracking/npr-rss-pixel.png?story={item.n}" />'
            )
            tags += [
                f"<title>{x(item.title or '')}</title>", f"<description>{x(teaser)}</description>",
                f"<pubDate>{rfc822(item.date, '-0400')}</pubDate>", f"<link>{item.url}</link>",
                f"<guid>{item.n}</guid>", f"<content:encoded>{cdata(item.body)}</content:encoded>",
                f"<dc:creator>{x(item.author or '')}</dc:creator>",
            ]  # fmt: skip
        else:  # lemonde, spiegel, aljazeera
            tags += [
                f"<title>{cdata(item.title or '')}</title>", f"<pubDate>{rfc822(item.date, zone)}</pubDate>",
                f"<description>{cdata(item.body)}</description>",
                f'<guid isPermaLink="true">{item.url}</guid>', f"<link>{item.url}</link>",
                f'<media:content url="{image}" width="644" height="322"><media:description type="plain">{x(text_of(item.body)[:30])}</media:description>'
                '<media:credit scheme="urn:ebu">AFP</media:credit></media:content>',
            ]  # fmt: skip
        out.append(
            "        <item>\n" + "".join(f"            {t}\n" for t in tags) + "        </item>\n"
        )
    out.append("    </channel>\n</rss>\n")
    return Feed(name=name, platform=f"news ({flavor})", xml="".join(out), items=items)


# =================================================================== CMSs and site builders


def dotnet(name: str, rng: random.Random, flavor: str = "updated") -> Feed:
    """System.ServiceModel.Syndication's Rss20FeedFormatter: Atom bits as a10:, guid first."""
    home = "https://devblog.example-corp.net/"
    items = stories(rng, rng.randint(3, 6), url=lambda slug, n: f"{home}posts/{n}/{slug}")
    out = [
        '<?xml version="1.0" encoding="utf-8"?><rss xmlns:a10="http://www.w3.org/2005/Atom" version="2.0"><channel>'
        f"<title>Example Corp Dev Blog</title><link>{home}</link><description>News from the team</description>"
        f"<language>en-US</language><lastBuildDate>{rfc822(items[0].date or datetime.now(UTC), 'Z')}</lastBuildDate>"
        f"<a10:id>urn:uuid:{rng.getrandbits(128):032x}</a10:id>"
        f'<a10:link rel="self" type="application/rss+xml" href="{home}feed" />'
    ]
    for item in items:
        assert item.date is not None
        parts = [f'<item><guid isPermaLink="false">{item.n}</guid><link>{item.url}</link>']
        if flavor == "email-author":
            parts.append(
                f"<author>{(item.author or '').split()[0].lower()}@example-corp.net</author>"
            )
            item.author = f"{(item.author or '').split()[0].lower()}@example-corp.net"
        else:
            parts.append(f"<a10:author><a10:name>{x(item.author or '')}</a10:name></a10:author>")
        parts.append(f"<category>Engineering</category><title>{x(item.title or '')}</title>")
        if flavor == "content":
            parts.append(f'<a10:content type="html">{x(item.body)}</a10:content>')
        else:
            parts.append(f"<description>{x(item.body)}</description>")
        if flavor == "pubdate":
            parts.append(f"<pubDate>{rfc822(item.date, 'Z')}</pubDate>")
        # LastUpdatedTime with PublishDate unset: only a10:updated carries the date.
        parts.append(f"<a10:updated>{w3c(item.date, '+02:00')}</a10:updated>")
        parts.append("</item>")
        out.append("".join(parts))
    out.append("</channel></rss>")
    return Feed(
        name=name, platform=f".NET SyndicationFeed ({flavor})", xml="".join(out), items=items
    )


def drupal(name: str, rng: random.Random, flavor: str = "d7") -> Feed:
    home = {"d7": "https://www.example-county.gov", "d9-relative": "https://www.example-museum.org",
            "d10": "https://www.example-university.edu"}[flavor]  # fmt: skip
    items = stories(rng, rng.randint(3, 6), url=lambda slug, n: f"{home}/news/{slug}")
    out = [
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<rss version="2.0" xml:base="{home}" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:atom="http://www.w3.org/2005/Atom">\n  <channel>\n'
        f"    <title>News | Example</title>\n    <link>{home}/</link>\n    <description/>\n    <language>en</language>\n"
        f'    <atom:link href="{home}/rss.xml" rel="self" type="application/rss+xml"/>\n'
    ]
    for item in items:
        assert item.date is not None
        link = item.url
        if flavor == "d9-relative":
            # Views RSS with relative paths: they resolve against the document's xml:base.
            link = f"/node/{item.n}"
            item.url = urljoin(home, link)
        body = (
            f'<span>{x(item.title or "")}</span>\n<div class="field field--name-body"><p>'
            + item.body
            + "</p></div>"
        )
        item.body = body
        out.append(
            f"  <item>\n    <title>{x(item.title or '')}</title>\n    <link>{link}</link>\n"
            f"    <description>{x(body)}</description>\n"
            f"    <pubDate>{rfc822(item.date, '-0500' if flavor != 'd10' else '+0000')}</pubDate>\n"
            f"    <dc:creator>{x(item.author or '')}</dc:creator>\n"
            f'    <guid isPermaLink="false">{item.n} at {home}</guid>\n  </item>\n'
        )
    out.append("  </channel>\n</rss>\n")
    return Feed(name=name, platform=f"Drupal ({flavor})", xml="".join(out), items=items)


def tumblr(name: str, rng: random.Random, flavor: str = "text") -> Feed:
    blog = "inkandpaper" if flavor == "text" else "dailypixels"
    home = f"https://{blog}.tumblr.com/"
    items = stories(
        rng, rng.randint(3, 6), url=lambda slug, n: f"{home}post/{745000000000000000 + n}/{slug}"
    )
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss xmlns:dc="http://purl.org/dc/elements/1.1/" version="2.0"><channel>'
        f"<description>ink, paper &amp; the occasional cat</description><title>{blog}</title>"
        f"<generator>Tumblr (3.0; @{blog})</generator><link>{home}</link>"
    ]
    for item in items:
        assert item.date is not None
        if flavor == "photo":
            item.body = (
                f'<img src="https://64.media.tumblr.com/{item.n:032x}/{item.n:x}-s1280x1920/photo.jpg"/><br/><br/>'
                + item.body
            )
        out.append(
            f"<item><title>{x(item.title or '')}</title><description>{x(item.body)}</description>"
            f"<link>{item.url}</link><guid>{item.url.rsplit('/', 1)[0]}</guid>"
            f"<pubDate>{rfc822(item.date, '-0400')}</pubDate>"
            f"<category>art</category><category>writing</category><dc:creator>{blog}</dc:creator></item>"
        )
        item.author = blog
    out.append("</channel></rss>\n")
    return Feed(name=name, platform=f"Tumblr ({flavor})", xml="".join(out), items=items)


def squarespace(name: str, rng: random.Random, flavor: str = "blog") -> Feed:
    home = (
        "https://www.example-studio.com/blog"
        if flavor == "blog"
        else "https://www.example-bakery.com/journal"
    )
    items = stories(rng, rng.randint(3, 5), url=lambda slug, _: f"{home}/{slug}")
    built = items[0].date or datetime.now(UTC)
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<!--Generated by Squarespace Site Server v5.13.662-SNAPSHOT (http://www.squarespace.com) on {rfc822(built, 'GMT')}-->"
        '<rss xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd" xmlns:media="http://search.yahoo.com/mrss/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wfw="http://wellformedweb.org/CommentAPI/" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/" version="2.0"><channel>'
        f"<title>Blog - Studio</title><link>{home}/</link><lastBuildDate>{rfc822(built, '+0000')}</lastBuildDate>"
        "<language>en-US</language><generator>Site-Server v@build.version@ (http://www.squarespace.com)</generator>"
        "<description><![CDATA[]]></description>"
    ]
    for item in items:
        assert item.date is not None
        image = (
            f"https://images.squarespace-cdn.com/content/v1/5f1a/{item.n:x}/photo.jpg?format=1500w"
        )
        item.body = item.body.replace("<p>", '<p class="">')
        out.append(
            f"<item><title>{x(item.title or '')}</title><category>Studio news</category>"
            f"<dc:creator>{x(item.author or '')}</dc:creator><pubDate>{rfc822(item.date, '+0000')}</pubDate>"
            f'<link>{item.url}</link><guid isPermaLink="false">5f1a2b3c4d5e6f7a8b9c0d1e:5f1a2b3c4d5e6f7a8b9c0d20:{item.n:024x}</guid>'
            f"<description><![CDATA[{item.body}]]></description>"
            f'<media:content type="image/jpeg" url="{x(image)}" medium="image" isDefault="true" width="1500" height="1000">'
            f'<media:title type="plain">{x(item.slug or "photo")}</media:title></media:content></item>'
        )
    out.append("</channel></rss>")
    return Feed(name=name, platform=f"Squarespace ({flavor})", xml="".join(out), items=items)


def wix(name: str, rng: random.Random, flavor: str = "blog") -> Feed:
    home = (
        "https://www.example-yoga.com"
        if flavor == "blog"
        else "https://janedoe.wixsite.com/portfolio"
    )
    items = stories(rng, rng.randint(3, 5), url=lambda slug, _: f"{home}/post/{slug}")
    out = [
        '<?xml version="1.0" encoding="UTF-8"?><rss xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:atom="http://www.w3.org/2005/Atom" version="2.0">'
        f"<channel><title><![CDATA[Yoga & Life]]></title><description><![CDATA[Yoga & Life]]></description><link>{home}/blog</link>"
        f"<generator>RSS for Node</generator><lastBuildDate>{rfc822(items[0].date or datetime.now(UTC), 'GMT')}</lastBuildDate>"
        f'<atom:link href="{home}/blog-feed.xml" rel="self" type="application/rss+xml"/>'
    ]
    for item in items:
        assert item.date is not None
        excerpt = words(item.body, 30)
        item.body = excerpt
        out.append(
            f"<item><title><![CDATA[{item.title}]]></title><description><![CDATA[{excerpt}]]></description>"
            f'<link>{item.url}</link><guid isPermaLink="false">{item.n:024x}</guid>'
            f"<category><![CDATA[Wellness]]></category><pubDate>{rfc822(item.date, 'GMT')}</pubDate>"
            f'<enclosure url="https://static.wixstatic.com/media/{item.n:x}~mv2.jpg/v1/fit/w_1000,h_667,al_c,q_80/file.png" length="0" type="image/png"/>'
            f"<dc:creator>{x(item.author or '')}</dc:creator></item>"
        )
    out.append("</channel></rss>")
    return Feed(name=name, platform=f"Wix ({flavor})", xml="".join(out), items=items)


def jekyll(name: str, rng: random.Random, flavor: str = "github-pages") -> Feed:
    """jekyll-feed's Atom: title type="html" (smartified, then XML-escaped), content with xml:base."""
    home = {"github-pages": "https://janedoe.github.io/", "project-site": "https://example-org.github.io/tool/",
            "custom-domain": "https://notes.example.dev/"}[flavor]  # fmt: skip
    author = rng.choice(AUTHORS)
    items = stories(
        rng,
        rng.randint(3, 6),
        url=lambda slug, _: f"{home}2024/04/30/{slug}.html",
        authors=[author],
        markup_titles=True,
    )
    built = items[0].date or datetime.now(UTC)
    out = [
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom" >'
        '<generator uri="https://jekyllrb.com/" version="4.3.3">Jekyll</generator>'
        f'<link href="{home}feed.xml" rel="self" type="application/atom+xml" /><link href="{home}" rel="alternate" type="text/html" />'
        f"<updated>{w3c(built, '+00:00')}</updated><id>{home}feed.xml</id>"
        f'<title type="html">{x(_html_escape("Jane’s notes & sketches", quote=False))}</title>'
        f"<subtitle>Things I learned</subtitle><author><name>{x(author)}</name></author>"
    ]
    for item in items:
        assert item.date is not None
        title_html = _html_escape(item.title or "", quote=False)
        # jekyll-feed writes absolute_url; a theme's own template may write the page's path
        # without the project's baseurl, and only the content carries an xml:base.
        absolute = item.url
        href = item.url
        if flavor == "project-site":
            href = item.url.removeprefix(home.rstrip("/"))
            item.url = urljoin(FEED_URL.format(name=name), href)  # no xml:base on the link
        out.append(
            f'<entry><title type="html">{x(title_html)}</title>'
            f'<link href="{href}" rel="alternate" type="text/html" title="{xa(title_html)}" />'
            f"<published>{w3c(item.date, '+00:00')}</published><updated>{w3c(item.date, '+00:00')}</updated>"
            f"<id>{absolute.removesuffix('.html')}</id>"
            f'<content type="html" xml:base="{absolute}">{x(item.body)}</content>'
            f'<author><name>{x(author)}</name></author><category term="notes" />'
            f'<summary type="html">{x(x(words(item.body, 20)))}</summary></entry>'
        )
    out.append("</feed>")
    return Feed(name=name, platform=f"Jekyll ({flavor})", xml="".join(out), items=items)


def hugo(name: str, rng: random.Random, flavor: str = "rss") -> Feed:
    home = {"rss": "https://example.dev/", "rss-relative": "https://www.example-photos.net/",
            "atom-base": "https://blog.example-hugo.org/", "rss-summary": "https://docs.example-project.io/"}[flavor]  # fmt: skip
    items = stories(
        rng,
        rng.randint(3, 6),
        url=lambda slug, _: f"{home}posts/{slug}/",
        authors=None,
        markup_titles=flavor == "atom-base",
    )
    built = items[0].date or datetime.now(UTC)
    if flavor == "atom-base":
        # A theme's Atom template: xml:base on the feed, paths relative to it.
        out = [
            f'<?xml version="1.0" encoding="utf-8" standalone="yes"?>\n<feed xmlns="http://www.w3.org/2005/Atom" xml:base="{home}">\n'
            '  <title>Hugo Blog</title>\n  <link href="index.xml" rel="self"/>\n  <link href="/"/>\n'
            f"  <updated>{w3c(built, '+02:00')}</updated>\n  <id>{home}</id>\n"
            "  <generator>Hugo -- gohugo.io</generator>\n"
        ]
        for item in items:
            assert item.date is not None
            path = item.url.removeprefix(home)
            out.append(
                f'  <entry>\n    <title type="text">{x(item.title or "")}</title>\n    <link href="{path}"/>\n'
                f"    <id>{item.url}</id>\n    <updated>{w3c(item.date, '+02:00')}</updated>\n"
                f"    <published>{w3c(item.date, '+02:00')}</published>\n"
                f'    <content type="html">{x(item.body)}</content>\n  </entry>\n'
            )
        out.append("</feed>\n")
        return Feed(name=name, platform=f"Hugo ({flavor})", xml="".join(out), items=items)
    out = [
        '<?xml version="1.0" encoding="utf-8" standalone="yes"?>\n<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">\n'
        f"  <channel>\n    <title>Posts on Example</title>\n    <link>{home}posts/</link>\n"
        "    <description>Recent content in Posts on Example</description>\n    <generator>Hugo</generator>\n"
        f"    <language>en-us</language>\n    <lastBuildDate>{rfc822(built, '+0200')}</lastBuildDate>\n"
        f'    <atom:link href="{home}posts/index.xml" rel="self" type="application/rss+xml" />\n'
    ]
    for item in items:
        assert item.date is not None
        link = item.url
        if flavor == "rss-relative":
            # relativeURLs = true: the links come out as paths, resolved against the feed's URL.
            link = item.url.removeprefix(home.rstrip("/"))
            item.url = urljoin(FEED_URL.format(name=name), link)
        if flavor == "rss-summary":
            item.body = words(item.body, 70)
            item.text = True
        out.append(
            f"    <item>\n      <title>{x(item.title or '')}</title>\n      <link>{link}</link>\n"
            f"      <pubDate>{rfc822(item.date, '+0200')}</pubDate>\n      <guid>{link}</guid>\n"
            f"      <description>{x(item.body)}</description>\n    </item>\n"
        )
    out.append("  </channel>\n</rss>\n")
    return Feed(name=name, platform=f"Hugo ({flavor})", xml="".join(out), items=items)


# =================================================================== forums, Q&A, papers


def discourse(name: str, rng: random.Random, flavor: str = "latest") -> Feed:
    home = (
        "https://discuss.example-lang.org"
        if flavor == "latest"
        else "https://community.example-app.com"
    )
    items = stories(
        rng, rng.randint(3, 6), url=lambda slug, n: f"{home}/t/{slug}/{n}", authors=HANDLES
    )
    out = [
        '<?xml version="1.0" encoding="UTF-8" ?>\n<rss version="2.0" xmlns:discourse="http://www.discourse.org/" '
        'xmlns:atom="http://www.w3.org/2005/Atom" xmlns:dc="http://purl.org/dc/elements/1.1/">\n  <channel>\n'
        f"    <title>Example Forum - Latest topics</title>\n    <link>{home}/latest</link>\n"
        "    <description>Latest topics</description>\n"
        f'    <atom:link href="{home}/latest.rss" rel="self" type="application/rss+xml" />\n'
    ]
    for item in items:
        assert item.date is not None
        posts, people = rng.randint(1, 40), rng.randint(1, 12)
        item.body = (
            item.body
            + f"\n            <p><small>{posts} posts - {people} participants</small></p>\n"
            f'            <p><a href="{item.url}">Read full topic</a></p>\n'
        )
        out.append(
            "      <item>\n"
            f"        <title>{x(item.title or '')}</title>\n"
            f"        <dc:creator><![CDATA[{item.author}]]></dc:creator>\n"
            "        <category>Help</category>\n"
            f"        <description><![CDATA[\n            {item.body}\n          ]]></description>\n"
            f"        <link>{item.url}</link>\n"
            f"        <pubDate>{rfc822(item.date)}</pubDate>\n"
            "        <discourse:topicPinned>No</discourse:topicPinned>\n"
            "        <discourse:topicClosed>No</discourse:topicClosed>\n"
            "        <discourse:topicArchived>No</discourse:topicArchived>\n"
            f'        <guid isPermaLink="false">{home.split("//")[1]}-topic-{item.n}</guid>\n'
            f'        <source url="{item.url}.rss">{x(item.title or "")}</source>\n'
            "      </item>\n"
        )
    out.append("  </channel>\n</rss>\n")
    return Feed(name=name, platform=f"Discourse ({flavor})", xml="".join(out), items=items)


QUESTIONS = [
    (
        "How do I merge two dictionaries in a single expression?",
        "<p>I have two Python dictionaries, and I want to write a single expression that returns them merged.</p><pre><code>z = merge(x, y)</code></pre>",
    ),
    (
        "Why is processing a sorted array faster than an unsorted array?",
        "<p>In this C++ code, sorting the data before the timed region makes the loop ~6× faster.</p>",
    ),
    (
        'What does "&&" mean in a bash script?',
        "<p>I saw <code>make &amp;&amp; make install</code> in a README. What does it do?</p>",
    ),
    (
        "Regex to match <p> tags but not <pre>",
        "<p>I need a regular expression that matches paragraph tags only.</p>",
    ),
    (
        "Git: how to undo the most recent local commits?",
        "<p>I accidentally committed the wrong files to Git, but didn’t push the commit to the server yet.</p>",
    ),
    (
        "Как перевести строку в число в JavaScript?",
        '<p>Есть строка "42", нужно получить число.</p>',
    ),
]


def stack_exchange(name: str, rng: random.Random, flavor: str = "tag") -> Feed:
    site = "stackoverflow.com" if flavor == "tag" else "superuser.com"
    chosen = rng.sample(QUESTIONS, rng.randint(3, 6))
    when = dates(rng, len(chosen), newest(rng))
    self_url = (
        f"https://{site}/feeds/tag?tagnames=python&amp;sort=newest"
        if flavor == "tag"
        else f"https://{site}/feeds"
    )
    out = [
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom" '
        'xmlns:creativeCommons="http://backend.userland.com/creativeCommonsRssModule" xmlns:re="http://purl.org/atompub/rank/1.0">\n'
        f'    <title type="text">Newest questions tagged python - Stack Overflow</title>\n'
        f'    <link rel="self" href="{self_url}" type="application/atom+xml" />\n'
        f'    <link rel="alternate" href="https://{site}/questions/tagged?tagnames=python&amp;sort=newest" type="text/html" />\n'
        f"    <subtitle>most recent 30 from {site}</subtitle>\n    <updated>{w3c(when[0])}</updated>\n"
        f"    <id>{self_url}</id>\n"
        "    <creativeCommons:license>https://creativecommons.org/licenses/by-sa/4.0/rdf</creativeCommons:license>\n"
    ]
    items = []
    for (title, body), dt in zip(chosen, when, strict=True):
        qid = rng.randint(78000000, 79000000)
        user = rng.choice(HANDLES)
        slug = "-".join(re.findall(r"[a-z0-9]+", title.lower())[:8]) or "question"
        item = Item(title, f"https://{site}/questions/{qid}/{slug}", dt, user, body)
        items.append(item)
        out.append(
            f"    <entry>\n        <id>https://{site}/q/{qid}</id>\n"
            f'        <re:rank scheme="https://{site}">0</re:rank>\n'
            f'        <title type="text">{x(title)}</title>\n'
            '            <category scheme="https://stackoverflow.com/tags" term="python" />\n'
            f"        <author>\n            <name>{user}</name>\n            <uri>https://{site}/users/{qid % 999}/{user}</uri>\n        </author>\n"
            f'        <link rel="alternate" href="{item.url}" />\n'
            f"        <published>{w3c(dt)}</published>\n        <updated>{w3c(dt + timedelta(minutes=3))}</updated>\n"
            f'        <summary type="html">\n            {x(body)}\n        </summary>\n    </entry>\n'
        )
    out.append("</feed>\n")
    return Feed(name=name, platform=f"Stack Exchange ({flavor})", xml="".join(out), items=items)


PAPERS = [
    (
        "Attention Is Not All You Need: Pure Attention Loses Rank Doubly Exponentially with Depth",
        "Attention-based architectures have become ubiquitous in machine learning. We show that pure self-attention loses expressive power with depth.",
    ),
    (
        "Scaling Laws for Neural Language Models: A Replication",
        "We replicate the scaling laws of Kaplan et al. across five model families and find consistent exponents.",
    ),
    (
        "On the Difficulty of Tokenizing 中文 and 日本語 Text",
        "Tokenizers trained on English underperform on CJK scripts. We quantify the gap & propose a fix.",
    ),
    (
        "Large Language Models as Optimizers",
        "We present OPRO, a simple approach to leverage LLMs as optimizers, where the task is described in natural language.",
    ),
    (
        "A Survey on Retrieval-Augmented Generation for $k$-NN Search",
        "We survey 150 papers on retrieval-augmented generation and k-nearest-neighbour search.",
    ),
]


def arxiv(name: str, rng: random.Random, flavor: str = "rss") -> Feed:
    chosen = rng.sample(PAPERS, rng.randint(3, 5))
    announce = newest(rng).replace(hour=4, minute=0, second=0)
    items = []
    if flavor == "rdf":
        # The old RSS 1.0 listing: no date on items, authors as links in dc:creator.
        ids = [f"2404.{rng.randint(10000, 19999)}" for _ in chosen]
        out = [
            '<?xml version="1.0" encoding="UTF-8"?>\n\n<rdf:RDF\n xmlns="http://purl.org/rss/1.0/"\n'
            ' xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"\n xmlns:dc="http://purl.org/dc/elements/1.1/"\n'
            ' xmlns:syn="http://purl.org/rss/1.0/modules/syndication/"\n'
            ' xmlns:admin="http://webns.net/mvcb/"\n>\n\n<channel rdf:about="http://arxiv.org/">\n'
            "<title>cs.CL updates on arXiv.org</title>\n<link>http://arxiv.org/</link>\n"
            '<description rdf:parseType="Literal">Computer Science -- Computation and Language (cs.CL) updates on the arXiv.org e-print archive</description>\n'
            f"<dc:language>en-us</dc:language>\n<dc:date>{w3c(announce, '-05:00')}</dc:date>\n"
            "<dc:publisher>help@arxiv.org</dc:publisher>\n<dc:subject>Computer Science -- Computation and Language</dc:subject>\n"
            "<syn:updateBase>1901-01-01T00:00+00:00</syn:updateBase>\n<syn:updateFrequency>1</syn:updateFrequency>\n"
            "<syn:updatePeriod>daily</syn:updatePeriod>\n\n<items>\n <rdf:Seq>\n"
            + "".join(f'  <rdf:li rdf:resource="http://arxiv.org/abs/{i}" />\n' for i in ids)
            + ' </rdf:Seq>\n</items>\n<image rdf:resource="http://arxiv.org/icons/sfx.gif" />\n\n</channel>\n'
        ]
        for (title, abstract), aid in zip(chosen, ids, strict=True):
            names = rng.sample(AUTHORS, 2)
            creators = ", ".join(
                f'<a href="http://arxiv.org/find/cs/1/au:+{n.split()[-1]}_{n[0]}/0/1/0/all/0/1">{_html_escape(n, quote=False)}</a>'
                for n in names
            )
            full_title = f"{title}. (arXiv:{aid}v1 [cs.CL])"
            body = f"<p>{_html_escape(abstract, quote=False)}</p>"
            item = Item(full_title, f"http://arxiv.org/abs/{aid}", None, ", ".join(names), body)
            items.append(item)
            out.append(
                f'<item rdf:about="http://arxiv.org/abs/{aid}">\n<title>{x(full_title)}</title>\n'
                f'<link>http://arxiv.org/abs/{aid}</link>\n<description rdf:parseType="Literal">{x(body)}</description>\n'
                f"<dc:creator> {x(creators)}</dc:creator>\n</item>\n"
            )
        out.append("</rdf:RDF>\n")
        return Feed(
            name=name, platform="arXiv (RSS 1.0, before 2024)", xml="".join(out), items=items
        )
    out = [
        "<?xml version='1.0' encoding='UTF-8'?>\n"
        '<rss xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:atom="http://www.w3.org/2005/Atom" xmlns:content="http://purl.org/rss/1.0/modules/content/" version="2.0">\n'
        "  <channel>\n    <title>cs.CL updates on arXiv.org</title>\n    <link>http://rss.arxiv.org/rss/cs.CL</link>\n"
        "    <description>cs.CL updates on the arXiv.org e-print archive.</description>\n"
        '    <atom:link href="https://rss.arxiv.org/rss/cs.CL" rel="self" type="application/rss+xml"/>\n'
        "    <docs>http://www.rssboard.org/rss-specification</docs>\n    <language>en-us</language>\n"
        f"    <lastBuildDate>{rfc822(announce)}</lastBuildDate>\n    <managingEditor>rss-help@arxiv.org</managingEditor>\n"
        f"    <pubDate>{rfc822(announce, '-0400')}</pubDate>\n"
        "    <skipDays>\n      <day>Sunday</day>\n      <day>Saturday</day>\n    </skipDays>\n"
    ]
    for title, abstract in chosen:
        aid = f"2404.{rng.randint(10000, 19999)}"
        names = rng.sample(AUTHORS, rng.randint(1, 3))
        kind = rng.choice(["new", "cross", "replace"])
        version = "v1" if kind != "replace" else "v2"
        body = f"arXiv:{aid}{version} Announce Type: {kind} \nAbstract: {abstract}"
        item = Item(
            title, f"https://arxiv.org/abs/{aid}", announce, ", ".join(names), body, text=True
        )
        items.append(item)
        out.append(
            f"    <item>\n      <title>{x(title)}</title>\n      <link>https://arxiv.org/abs/{aid}</link>\n"
            f"      <description>{x(body)}</description>\n"
            f'      <guid isPermaLink="false">oai:arXiv.org:{aid}{version}</guid>\n      <category>cs.CL</category>\n'
            f"      <pubDate>{rfc822(announce, '-0400')}</pubDate>\n"
            f"      <arxiv:announce_type>{kind}</arxiv:announce_type>\n"
            "      <dc:rights>http://creativecommons.org/licenses/by/4.0/</dc:rights>\n"
            f"      <dc:creator>{x(', '.join(names))}</dc:creator>\n    </item>\n"
        )
    out.append("  </channel>\n</rss>\n")
    return Feed(name=name, platform="arXiv (RSS 2.0)", xml="".join(out), items=items)


# =================================================================== press releases and odd dates


def _named(offset: float, name: str) -> Callable[[datetime], str]:
    def render(dt: datetime) -> str:
        local = _at(dt, offset)
        return f"{_DAYS[local.weekday()]}, {local.day:02d} {_MONTHS[local.month - 1]} {local.year} {local:%H:%M:%S} {name}"

    return render


def _clock12(offset: float, name: str, fmt: str) -> Callable[[datetime], str]:
    def render(dt: datetime) -> str:
        local = _at(dt, offset)
        hour = local.hour % 12 or 12
        half = "AM" if local.hour < 12 else "PM"
        return fmt.format(d=local, day=_DAYS[local.weekday()], mon=_MONTHS[local.month - 1], h=hour, ap=half, zone=name,
                          month=local.strftime("%B"), weekday=local.strftime("%A"))  # fmt: skip

    return render


_DE_DAYS = ("Mo", "Di", "Mi", "Do", "Fr", "Sa", "So")
_FR_DAYS = ("lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim.")
_FR_MONTHS = (
    "janv.",
    "févr.",
    "mars",
    "avr.",
    "mai",
    "juin",
    "juil.",
    "août",
    "sept.",
    "oct.",
    "nov.",
    "déc.",
)
_ES_MONTHS = ("ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov", "dic")


def _local(offset: float, render: Callable[[datetime], str]) -> Callable[[datetime], str]:
    return lambda dt: render(_at(dt, offset))


# Each renders an instant the way one real feed writes it. US zone names are used where the
# instant falls in their season (EDT in summer, EST in winter): see _season.
ODD_DATES: dict[str, Callable[[datetime], str]] = {
    "12h-edt": _clock12(-4, "EDT", "{day}, {d.day:02d} {mon} {d.year} {h}:{d:%M:%S} {ap} {zone}"),
    "12h-noon": _clock12(-4, "EDT", "{day}, {d.day:02d} {mon} {d.year} {h}:{d:%M:%S} {ap} {zone}"),
    "month-day-et": _clock12(-4, "ET", "{month} {d.day}, {d.year} {h}:{d:%M} {ap} {zone}"),
    "weekday-long": _clock12(
        0, "GMT", "{weekday}, {d.day:02d} {month} {d.year} {d:%H:%M:%S} {zone}"
    ),
    "full-month": _local(
        0, lambda d: f"{_DAYS[d.weekday()]}, {d.day:02d} {d:%B} {d.year} {d:%H:%M:%S} +0000"
    ),
    "two-digit-year": _local(
        -5,
        lambda d: (
            f"{_DAYS[d.weekday()]}, {d.day:02d} {_MONTHS[d.month - 1]} {d:%y} {d:%H:%M:%S} -0500"
        ),
    ),
    "iso-millis": lambda d: w3c(d, "-04:00", ".000"),
    "cest": _named(2, "CEST"),
    "bst": _named(1, "BST"),
    "aest": _named(10, "AEST"),
    "pdt": _named(-7, "PDT"),
    "jst": _named(9, "JST"),
    "msk": _named(3, "MSK"),
    "hkt": _named(8, "HKT"),
    "german-day": _local(
        2,
        lambda d: (
            f"{_DE_DAYS[d.weekday()]}, {d.day:02d} {_MONTHS[d.month - 1]} {d.year} {d:%H:%M:%S} +0200"
        ),
    ),
    "french": _local(
        2,
        lambda d: (
            f"{_FR_DAYS[d.weekday()]}, {d.day:02d} {_FR_MONTHS[d.month - 1]} {d.year} {d:%H:%M:%S} +0200"
        ),
    ),
    "spanish": _local(
        2, lambda d: f"{d.day:02d} {_ES_MONTHS[d.month - 1]} {d.year} {d:%H:%M:%S} +0200"
    ),
    "dotted": _local(2, lambda d: f"{d:%d.%m.%Y %H:%M:%S} +0200"),
    "java-tostring": _local(
        -4,
        lambda d: (
            f"{_DAYS[d.weekday()]} {_MONTHS[d.month - 1]} {d.day:02d} {d:%H:%M:%S} EDT {d.year}"
        ),
    ),
    "unix-utc": _local(
        0,
        lambda d: (
            f"{_DAYS[d.weekday()]} {_MONTHS[d.month - 1]} {d.day:2d} {d:%H:%M:%S} UTC {d.year}"
        ),
    ),
    "basic-iso": lambda d: f"{d.astimezone(UTC):%Y%m%dT%H%M%S}Z",
    "zone-comment": _local(
        2,
        lambda d: (
            f"{_DAYS[d.weekday()]}, {d.day:02d} {_MONTHS[d.month - 1]} {d.year} {d:%H:%M:%S} +0200 (CEST)"
        ),
    ),
    "no-seconds": _local(
        2,
        lambda d: (
            f"{_DAYS[d.weekday()]}, {d.day:02d} {_MONTHS[d.month - 1]} {d.year} {d:%H:%M} +0200"
        ),
    ),
    "space-offset": _local(2, lambda d: f"{d:%Y-%m-%d %H:%M:%S} +0200"),
    "z-zone": _named(0, "Z"),
    "est-winter": _named(-5, "EST"),
}
_SEASON = {"est-winter": 1}  # the month the instant is put in; the others: summer


def press(name: str, rng: random.Random, kinds: Sequence[str], unreadable: bool = False) -> Feed:
    home = {0: "https://www.example-agency.gov/newsroom", 1: "https://www.prnewswire.example.com/news-releases",
            2: "https://ec.example.eu/commission/presscorner", 3: "https://www.example-city.gov.au/media",
            4: "https://www.businesswire.example.com/news/home"}[len(name) % 5]  # fmt: skip
    items = stories(
        rng, len(kinds) + unreadable, NEWS, url=lambda slug, n: f"{home}/{slug}-{n}", authors=None
    )
    out = [
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">\n<channel>\n'
        f"<title>Press releases</title>\n<link>{home}</link>\n<description>Official press releases</description>\n"
    ]
    for i, item in enumerate(items):
        if i < len(kinds):
            kind = kinds[i]
            month = _SEASON.get(kind, rng.randint(6, 9))
            item.date = datetime(2024, month, rng.randint(1, 28), rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59), tzinfo=UTC)  # fmt: skip
            if kind in ("month-day-et", "no-seconds"):
                item.date = item.date.replace(second=0)
            if kind == "12h-noon":
                item.date = item.date.replace(hour=16, minute=30)  # 12:30 PM EDT
            written = ODD_DATES[kind](item.date)
        else:
            item.date = None
            written = "TBD"
        out.append(
            f"<item>\n<title>{x(item.title or '')}</title>\n<link>{item.url}</link>\n"
            f"<description>{x(item.body)}</description>\n<pubDate>{written}</pubDate>\n"
            f'<guid isPermaLink="false">PR-{item.n}</guid>\n</item>\n'
        )
    out.append("</channel>\n</rss>\n")
    return Feed(name=name, platform="press releases (odd dates)", xml="".join(out), items=items)


def gov_uk(name: str, rng: random.Random) -> Feed:
    items = stories(
        rng,
        rng.randint(3, 5),
        NEWS,
        url=lambda slug, _: f"https://www.gov.example.uk/government/news/{slug}",
        authors=None,
    )
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>\n<feed xml:lang="en-GB" xmlns="http://www.w3.org/2005/Atom">\n'
        "  <id>tag:www.gov.example.uk,2005:/search/news-and-communications</id>\n"
        '  <link rel="alternate" type="text/html" href="https://www.gov.example.uk/search/news-and-communications"/>\n'
        '  <link rel="self" type="application/atom+xml" href="https://www.gov.example.uk/search/news-and-communications.atom"/>\n'
        "  <title>News and communications</title>\n"
        f"  <updated>{w3c(items[0].date or datetime.now(UTC), '+01:00')}</updated>\n"
    ]
    for item in items:
        assert item.date is not None
        item.body = words(item.body, 30)
        item.text = True
        out.append(
            f"  <entry>\n    <id>tag:www.gov.example.uk,2005:{item.url.split('.uk')[1]}</id>\n"
            f"    <updated>{w3c(item.date, '+01:00')}</updated>\n"
            f'    <link rel="alternate" type="text/html" href="{item.url}"/>\n'
            f"    <title>{x(item.title or '')}</title>\n    <summary>{x(item.body)}</summary>\n  </entry>\n"
        )
    out.append("</feed>\n")
    return Feed(name=name, platform="GOV.UK (Atom)", xml="".join(out), items=items)


def google_news(name: str, rng: random.Random, flavor: str = "search") -> Feed:
    chosen = rng.sample(NEWS, rng.randint(3, 6))
    when = dates(rng, len(chosen), newest(rng))
    publishers = [
        "The Example Times",
        "Daily Planet",
        "Gotham Gazette",
        "Le Monde.fr",
        "NHK WORLD",
        "Reuters UK",
    ]
    query = (
        "q=climate&amp;hl=en-US&amp;gl=US&amp;ceid=US:en"
        if flavor == "search"
        else "hl=en-US&amp;gl=US&amp;ceid=US:en"
    )
    feed_title = '"climate" - Google News' if flavor == "search" else "Top stories - Google News"
    out = [
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/">'
        f"<channel><generator>NFE/5.0</generator><title>{x(feed_title)}</title>"
        f"<link>https://news.google.com/{'search?' + query if flavor == 'search' else '?' + query}</link>"
        "<language>en-US</language><webMaster>news-webmaster@google.com</webMaster><copyright>2024 Google LLC</copyright>"
        f"<lastBuildDate>{rfc822(when[0], 'GMT')}</lastBuildDate><description>Google News</description>"
    ]
    items = []
    for (title, _), dt in zip(chosen, when, strict=True):
        publisher = rng.choice(publishers)
        token = "CBMi" + "".join(
            rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
            for _ in range(60)
        )
        url = f"https://news.google.com/rss/articles/{token}?oc=5"
        full = f"{title} - {publisher}"
        if flavor == "topic":
            other = rng.choice([p for p in publishers if p != publisher])
            body = (
                f'<ol><li><a href="{url}" target="_blank">{_html_escape(title, quote=False)}</a>&nbsp;&nbsp;<font color="#6f6f6f">{_html_escape(publisher, quote=False)}</font></li>'
                f'<li><a href="https://news.google.com/rss/articles/{token[::-1]}?oc=5" target="_blank">More on this story</a>&nbsp;&nbsp;<font color="#6f6f6f">{_html_escape(other, quote=False)}</font></li></ol>'
            )
        else:
            body = f'<a href="{url}" target="_blank">{_html_escape(title, quote=False)}</a>&nbsp;&nbsp;<font color="#6f6f6f">{_html_escape(publisher, quote=False)}</font>'
        item = Item(full, url, dt, None, body)
        items.append(item)
        out.append(
            f'<item><title>{x(full)}</title><link>{url}</link><guid isPermaLink="false">{token}</guid>'
            f"<pubDate>{rfc822(dt, 'GMT')}</pubDate><description>{x(body)}</description>"
            f'<source url="https://www.{re.sub(r"[^a-z]", "", publisher.lower())}.example.com">{x(publisher)}</source></item>'
        )
    out.append("</channel></rss>")
    return Feed(name=name, platform=f"Google News ({flavor})", xml="".join(out), items=items)


# =================================================================== Feedburner, RDF, Atom oddities

FB_NS = 'xmlns:feedburner="http://rssnamespace.org/feedburner/ext/1.0"'


def feedburner(name: str, rng: random.Random, flavor: str = "rss") -> Feed:
    """Feeds still served through Feedburner: <link> points at feedproxy, the article is origLink."""
    short = {"rss": "NotesAndLetters", "atom": "TravelNotesBlog", "podcast": "GardenTalkPodcast"}[
        flavor
    ]
    home = {"rss": "https://blog.example.com", "atom": "https://travelnotes.blogspot.com",
            "podcast": "https://gardentalk.example.fm"}[flavor]  # fmt: skip
    items = stories(
        rng,
        rng.randint(3, 6),
        url=lambda slug, _: (
            f"{home}/2024/04/{slug}/" if flavor != "atom" else f"{home}/2024/04/{slug}.html"
        ),
    )
    proxies = [
        f"http://feedproxy.google.com/~r/{short}/~3/{''.join(rng.choice('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789') for _ in range(11))}/"
        for _ in items
    ]
    if flavor == "atom":
        out = [
            "<?xml version='1.0' encoding='UTF-8'?><?xml-stylesheet href=\"http://www.blogger.com/styles/atom.css\" type=\"text/css\"?>"
            f"<feed {BLOGGER_NS} {FB_NS}><id>tag:blogger.com,1999:blog-{rng.randint(10**18, 10**19 - 1)}</id>"
            f"<updated>{w3c(items[0].date or datetime.now(UTC), '-07:00', '.123')}</updated><title type='text'>Travel Notes</title>"
            f"<link rel='alternate' type='text/html' href='{home}/'/>"
            f'<atom10:link xmlns:atom10="http://www.w3.org/2005/Atom" rel="self" type="application/atom+xml" href="http://feeds.feedburner.com/{short}" />'
            f'<feedburner:info uri="{short.lower()}" />'
        ]
        for item, proxy in zip(items, proxies, strict=True):
            assert item.date is not None
            out.append(
                f"<entry><id>tag:blogger.com,1999:blog-1.post-{item.n}</id><published>{w3c(item.date, '+02:00', '.000')}</published>"
                f"<updated>{w3c(item.date, '+02:00', '.000')}</updated><title type='text'>{x(item.title or '')}</title>"
                f"<content type='html'>{x(item.body)}</content>"
                f"<link rel='replies' type='text/html' href='{item.url}#comment-form' title='0 Comments'/>"
                f"<link rel='alternate' type='text/html' href='{proxy}{item.slug}.html' title='{xa(item.title or '', chr(39))}'/>"
                + blogger_author(item.author or "", "1234")
                + f"<thr:total>0</thr:total><feedburner:origLink>{item.url}</feedburner:origLink></entry>"
            )
        out.append("</feed>")
        return Feed(name=name, platform="Feedburner (Blogger Atom)", xml="".join(out), items=items)
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<?xml-stylesheet type="text/xsl" media="screen" href="/~d/styles/rss2full.xsl"?>'
        '<?xml-stylesheet type="text/css" media="screen" href="http://feeds.feedburner.com/~d/styles/itemcontent.css"?>'
        '<rss xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:wfw="http://wellformedweb.org/CommentAPI/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom" '
        'xmlns:sy="http://purl.org/rss/1.0/modules/syndication/" xmlns:slash="http://purl.org/rss/1.0/modules/slash/" '
        + (
            'xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd" '
            if flavor == "podcast"
            else ""
        )
        + f'{FB_NS} version="2.0">\n<channel>\n<title>{x(short)}</title>\n<link>{home}</link>\n'
        "<description>Letters &amp; notes</description>\n"
        f"<lastBuildDate>{rfc822(items[0].date or datetime.now(UTC))}</lastBuildDate>\n"
        f'<atom10:link xmlns:atom10="http://www.w3.org/2005/Atom" rel="self" type="application/rss+xml" href="http://feeds.feedburner.com/{short}" />'
        f'<feedburner:info uri="{short.lower()}" /><atom10:link xmlns:atom10="http://www.w3.org/2005/Atom" rel="hub" href="http://pubsubhubbub.appspot.com/" />\n'
    ]
    for item, proxy in zip(items, proxies, strict=True):
        assert item.date is not None
        pixel = f'<img src="http://feeds.feedburner.com/~r/{short}/~4/{proxy.rstrip("/").rsplit("/", 1)[1]}" height="1" width="1" alt=""/>'
        enclosure = ""
        if flavor == "podcast":
            mp3 = f"{home}/media/{item.slug}.mp3"
            enclosure = (
                f'<enclosure url="http://feedproxy.google.com/~r/{short}/~5/{item.n:x}/{item.slug}.mp3" length="{item.n * 100}" type="audio/mpeg" />'
                f"<feedburner:origEnclosureLink>{mp3}</feedburner:origEnclosureLink>"
            )
        body = item.body + pixel
        out.append(
            f"<item>\n<title>{wp(item.title or '')}</title>\n<link>{proxy}</link>\n"
            f"<comments>{item.url}#respond</comments>\n<pubDate>{rfc822(item.date)}</pubDate>\n"
            f"<dc:creator><![CDATA[{item.author}]]></dc:creator>\n<category><![CDATA[News]]></category>\n"
            f'<guid isPermaLink="false">{home}/?p={item.n}</guid>\n'
            f"<description>{x(words(item.body, 30))} [&amp;#8230;]</description>\n"
            f"<content:encoded><![CDATA[{body}]]></content:encoded>\n"
            f"<wfw:commentRss>{item.url}feed/</wfw:commentRss>\n<slash:comments>0</slash:comments>\n{enclosure}"
            f"<feedburner:origLink>{item.url}</feedburner:origLink></item>\n"
        )
        item.body = body
    out.append("</channel></rss>\n")
    return Feed(name=name, platform=f"Feedburner ({flavor})", xml="".join(out), items=items)


def slashdot(name: str, rng: random.Random, flavor: str = "main") -> Feed:
    latin = flavor == "latin1"
    pool = [s for s in EN if all(ord(c) < 256 for c in s[0] + s[1])] if latin else EN
    section = "tech" if flavor == "main" else "science"
    items = stories(rng, rng.randint(4, 7), pool, url=lambda slug, n: f"https://{section}.slashdot.example.org/story/24/04/30/{n:07d}/{slug[:40]}?utm_source=rss1.0mainlinkanon&utm_medium=feed", authors=["BeauHD", "msmash", "EditorDavid"])  # fmt: skip
    out = [
        f'<?xml version="1.0" encoding="{"ISO-8859-1" if latin else "utf-8"}"?>\n\n'
        '<rdf:RDF\n xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"\n xmlns="http://purl.org/rss/1.0/"\n'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/"\n xmlns:syn="http://purl.org/rss/1.0/modules/syndication/"\n'
        ' xmlns:taxo="http://purl.org/rss/1.0/modules/taxonomy/"\n xmlns:slash="http://purl.org/rss/1.0/modules/slash/"\n'
        ' xmlns:admin="http://webns.net/mvcb/"\n>\n\n<channel rdf:about="https://slashdot.example.org/">\n'
        "<title>Slashdot</title>\n<link>https://slashdot.example.org/</link>\n"
        "<description>News for nerds, stuff that matters</description>\n<dc:language>en-us</dc:language>\n"
        f"<dc:date>{w3c(items[0].date or datetime.now(UTC), '+00:00')}</dc:date>\n<dc:publisher>Slashdot Media</dc:publisher>\n"
        "<syn:updatePeriod>hourly</syn:updatePeriod>\n<syn:updateFrequency>1</syn:updateFrequency>\n"
        "<syn:updateBase>1970-01-01T00:00+00:00</syn:updateBase>\n<items>\n <rdf:Seq>\n"
        + "".join(f'  <rdf:li rdf:resource="{xa(i.url)}" />\n' for i in items)
        + ' </rdf:Seq>\n</items>\n<image rdf:resource="https://a.fsdn.com/sd/topics/topicslashdot.gif" />\n</channel>\n\n'
    ]
    for item in items:
        assert item.date is not None
        item.body = (
            item.body
            + f'<p><div class="share_submission" style="position:relative;"><a class="slashpop" href="http://twitter.com/home?status={item.n}"><img src="https://a.fsdn.com/sd/twitter_icon_large.png"></a></div></p>'
            f'<p><a href="{x(item.url)}">Read more of this story</a> at Slashdot.</p>'
        )
        out.append(
            f'<item rdf:about="{xa(item.url)}">\n<title>{x(item.title or "")}</title>\n<link>{x(item.url)}</link>\n'
            f"<description>{x(item.body)}</description>\n<dc:creator>{item.author}</dc:creator>\n"
            f"<dc:date>{w3c(item.date, '+00:00')}</dc:date>\n<dc:subject>technology</dc:subject>\n"
            f"<slash:department>{rng.choice(['what-could-possibly-go-wrong', 'i-for-one-welcome', 'that-s-a-lot'])}</slash:department>\n"
            f"<slash:section>{section}</slash:section>\n<slash:comments>{rng.randint(0, 400)}</slash:comments>\n"
            "<slash:hit_parade>120,110,80,60,20,10,5</slash:hit_parade>\n</item>\n\n"
        )
    out.append("</rdf:RDF>\n")
    return Feed(
        name=name,
        platform=f"RSS 1.0 / RDF (Slashdot, {flavor})",
        xml="".join(out),
        items=items,
        encoding="iso-8859-1" if latin else "utf-8",
    )


def atom_xhtml(name: str, rng: random.Random, flavor: str = "content") -> Feed:
    """Atom whose text constructs are type="xhtml": the outer div is a wrapper, not content."""
    home = (
        "https://www.example-w3.org/blog/"
        if flavor == "content"
        else "https://planet.example-project.org/"
    )
    items = stories(
        rng, rng.randint(3, 5), url=lambda slug, _: f"{home}2024/{slug}/", markup_titles=True
    )
    out = [
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en"'
        + (f' xml:base="{home}"' if flavor == "summary-base" else "")
        + ">\n"
        '  <title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">The <em>Example</em> Blog</div></title>\n'
        f'  <link rel="alternate" href="{home}"/>\n  <id>tag:{home.split("/")[2]},2024:blog</id>\n'
        f"  <updated>{w3c(items[0].date or datetime.now(UTC))}</updated>\n"
    ]
    for item in items:
        assert item.date is not None
        # XHTML must be well-formed XML: self-closed void tags, &amp; etc. as they were.
        xhtml = re.sub(r"<(img|br)([^>]*?)\s*/?>", r"<\1\2/>", item.body)
        xhtml = xhtml.replace("allowfullscreen>", 'allowfullscreen="allowfullscreen">')
        title = _html_escape(item.title or "", quote=False)
        if flavor == "summary-base":
            path = item.url.removeprefix(home)
            out.append(
                f'  <entry xml:base="{path.split("/")[0]}/">\n'
                f'    <title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">{title}</div></title>\n'
                f'    <link rel="alternate" href="{path.split("/", 1)[1]}"/>\n'
                f"    <id>tag:{home.split('/')[2]},2024:{item.n}</id>\n"
                f"    <published>{w3c(item.date, '+02:00')}</published>\n    <updated>{w3c(item.date, '+02:00')}</updated>\n"
                f"    <author><name>{x(item.author or '')}</name></author>\n"
                f'    <summary type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">{xhtml}</div></summary>\n  </entry>\n'
            )
        else:
            out.append(
                "  <entry>\n"
                f'    <title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">{title}</div></title>\n'
                f'    <link rel="alternate" type="text/html" href="{item.url}"/>\n'
                f"    <id>{item.url}</id>\n    <updated>{w3c(item.date)}</updated>\n"
                f"    <author><name>{x(item.author or '')}</name><email>{(item.author or 'x').split()[0].lower()}@example.org</email></author>\n"
                f'    <content type="xhtml" xml:lang="en">\n      <div xmlns="http://www.w3.org/1999/xhtml">\n        {xhtml}\n      </div>\n    </content>\n  </entry>\n'
            )
    out.append("</feed>\n")
    return Feed(name=name, platform=f"Atom with xhtml ({flavor})", xml="".join(out), items=items)


def xhtml_body(name: str, rng: random.Random, flavor: str = "prefixed") -> Feed:
    """RSS whose only content is an XHTML body (xhtml:body), or a `fullitem` element."""
    home = {"prefixed": "https://www.example-essays.net", "default-ns": "https://weblog.example-tools.com",
            "fullitem": "https://www.example-cms.cn"}[flavor]  # fmt: skip
    pool = ZH if flavor == "fullitem" else EN
    items = stories(
        rng, rng.randint(3, 5), pool, url=lambda slug, n: f"{home}/archives/{n}.html", authors=None
    )
    ns = ' xmlns:xhtml="http://www.w3.org/1999/xhtml"' if flavor == "prefixed" else ""
    out = [
        f'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"{ns}>\n<channel>\n<title>Essays</title>\n<link>{home}/</link>\n<description>Long reads</description>\n'
    ]
    for item in items:
        assert item.date is not None
        xhtml = re.sub(r"<(img|br)([^>]*?)\s*/?>", r"<\1\2/>", item.body).replace(
            "allowfullscreen>", 'allowfullscreen="allowfullscreen">'
        )
        if flavor == "prefixed":
            xhtml = re.sub(r"<(/?)([a-z][a-z0-9]*)", r"<\1xhtml:\2", xhtml)
            content = f"<xhtml:body>{xhtml}</xhtml:body>"
        elif flavor == "default-ns":
            content = f'<body xmlns="http://www.w3.org/1999/xhtml">{xhtml}</body>'
        else:
            content = f"<fullitem>{x(item.body)}</fullitem>"
        out.append(
            f"<item>\n<title>{x(item.title or '')}</title>\n<link>{item.url}</link>\n"
            f"<pubDate>{rfc822(item.date, '+0800' if flavor == 'fullitem' else '+0000')}</pubDate>\n{content}\n</item>\n"
        )
    out.append("</channel>\n</rss>\n")
    return Feed(name=name, platform=f"RSS with {flavor} body only", xml="".join(out), items=items)


def media_title_only(name: str, rng: random.Random, flavor: str = "group") -> Feed:
    """A video platform's RSS: no <title>, the item is named by media:title alone."""
    chosen = rng.sample(VIDEOS, rng.randint(3, 5))
    when = dates(rng, len(chosen), newest(rng))
    host = "https://video.example-tube.com" if flavor == "group" else "https://www.example-clips.tv"
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/">\n<channel>\n<title>Latest videos</title>\n'
        f"<link>{host}/</link>\n<description>New uploads</description>\n"
    ]
    items = []
    for (title, description), dt in zip(chosen, when, strict=True):
        vid = _video_id(rng)
        item = Item(title, f"{host}/video/{vid}", dt, None, description, text=True)
        items.append(item)
        media = (
            f'<media:content url="{host}/media/{vid}.mp4" type="video/mp4" medium="video" duration="{rng.randint(30, 900)}"/>\n'
            f'<media:thumbnail url="{host}/thumbs/{vid}.jpg" width="640" height="360"/>\n'
        )
        if flavor == "group":
            block = (
                f"<media:group>\n<media:title>{x(title)}</media:title>\n"
                f'<media:description type="plain">{x(description)}</media:description>\n{media}</media:group>\n'
            )
        else:
            block = f'<media:title type="plain">{x(title)}</media:title>\n<media:description>{x(description)}</media:description>\n{media}'
        out.append(
            f'<item>\n<link>{item.url}</link>\n<guid isPermaLink="false">video:{vid}</guid>\n'
            f"<pubDate>{rfc822(dt)}</pubDate>\n{block}</item>\n"
        )
    out.append("</channel>\n</rss>\n")
    return Feed(name=name, platform=f"media:title only ({flavor})", xml="".join(out), items=items)


_CP1252_REFS = {"’": "&#146;", "‘": "&#145;", "“": "&#147;", "”": "&#148;", "–": "&#150;", "—": "&#151;", "…": "&#133;", "€": "&#128;", "™": "&#153;"}  # fmt: skip


def cp1252_refs(name: str, rng: random.Random, flavor: str = "refs") -> Feed:
    """Old ASP/ColdFusion press pages: Windows-1252 punctuation written as &#146;-style
    references (HTML reads them as Windows-1252), or as raw bytes under an ISO-8859-1 label."""
    pool = [s for s in EN + NEWS if all(ord(c) < 256 or c in _CP1252_REFS for c in s[0] + s[1])]
    pool = [s for s in pool if any(c in _CP1252_REFS for c in s[0])]
    home = (
        "http://www.example-corp.com/press"
        if flavor == "refs"
        else "http://www.example-oldnews.com"
    )
    items = stories(
        rng,
        min(len(pool), rng.randint(3, 5)),
        pool,
        url=lambda slug, n: f"{home}/release.asp?id={n}",
        authors=None,
    )

    def enc(text: str) -> str:
        out = x(text)
        if flavor == "refs":
            out = "".join(_CP1252_REFS.get(c, c) for c in out)
        return out

    doctype = (
        '<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" "http://my.netscape.com/publish/formats/rss-0.91.dtd">\n'
        if flavor == "refs"
        else ""
    )
    out = [
        f'<?xml version="1.0" encoding="ISO-8859-1"?>\n{doctype}<rss version="{"0.91" if flavor == "refs" else "2.0"}">\n<channel>\n'
        f"<title>Press Room</title>\n<link>{home}/</link>\n<description>Company news</description>\n<language>en-us</language>\n"
    ]
    for item in items:
        assert item.date is not None
        out.append(
            f"<item>\n<title>{enc(item.title or '')}</title>\n<link>{x(item.url)}</link>\n"
            f"<description>{enc(item.body)}</description>\n<pubDate>{rfc822(item.date, '-0400')}</pubDate>\n</item>\n"
        )
    out.append("</channel>\n</rss>\n")
    return Feed(name=name, platform=f"Windows-1252 punctuation ({flavor})", xml="".join(out), items=items,
                encoding="iso-8859-1" if flavor == "refs" else "cp1252")  # fmt: skip


def fragments(name: str, rng: random.Random, flavor: str = "changelog") -> Feed:
    """One page, one anchor per item, no guid: the links differ only by their #fragment."""
    page = (
        "https://www.example-app.com/changelog"
        if flavor == "changelog"
        else "https://links.example-daily.net/2024/04/30.html"
    )
    items = stories(rng, rng.randint(3, 5), url=lambda slug, n: f"{page}#{slug}", authors=None)
    out = [
        f'<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0">\n<channel>\n<title>{"Changelog" if flavor == "changelog" else "Daily links"}</title>\n'
        f"<link>{page}</link>\n<description>What changed</description>\n"
    ]
    for item in items:
        assert item.date is not None
        out.append(
            f"<item>\n<title>{x(item.title or '')}</title>\n<link>{item.url}</link>\n"
            f"<description>{x(item.body)}</description>\n<pubDate>{rfc822(item.date)}</pubDate>\n</item>\n"
        )
    out.append("</channel>\n</rss>\n")
    return Feed(
        name=name, platform=f"fragment links, no guid ({flavor})", xml="".join(out), items=items
    )


def scripting_news(name: str, rng: random.Random) -> Feed:
    """A linkblog in Dave Winer's style: no titles, no links, a permalink guid."""
    chosen = rng.sample(TOOTS, 4)
    when = dates(rng, 4, newest(rng))
    out = [
        '<?xml version="1.0"?>\n<rss version="2.0" xmlns:source="http://source.scripting.com/">\n\t<channel>\n'
        "\t\t<title>Scripting News</title>\n\t\t<link>http://scripting.example.com/</link>\n"
        "\t\t<description>It's even worse than it appears..</description>\n"
        f"\t\t<pubDate>{rfc822(when[0], 'GMT')}</pubDate>\n\t\t<docs>http://cyber.law.harvard.edu/rss/rss.html</docs>\n"
        '\t\t<cloud domain="rpc.rsscloud.io" port="5337" path="/pleaseNotify" registerProcedure="" protocol="http-post"/>\n'
    ]
    items = []
    for toot, dt in zip(chosen, when, strict=True):
        url = f"http://scripting.example.com/{dt:%Y/%m/%d}/{dt:%H%M%S}.html?title={rng.randint(1, 999)}"
        items.append(Item(None, url, dt, None, toot))
        out.append(
            f"\t\t<item>\n\t\t\t<description>{x(toot)}</description>\n\t\t\t<pubDate>{rfc822(dt, 'GMT')}</pubDate>\n"
            f'\t\t\t<guid>{x(url)}</guid>\n\t\t\t<source:outline text="{xa(text_of(toot)[:40])}" created="{rfc822(dt, "GMT")}" type="outline"/>\n\t\t\t</item>\n'
        )
    out.append("\t</channel>\n</rss>\n")
    return Feed(
        name=name, platform="Scripting News (titleless, guid-only)", xml="".join(out), items=items
    )


def double_escaped(name: str, rng: random.Random, flavor: str = "java") -> Feed:
    """A CMS that escapes its already-escaped titles and links once more."""
    home = (
        "https://www.example-portal.com"
        if flavor == "java"
        else "https://news.example-aggregator.net"
    )
    pool = [s for s in EN + NEWS if re.search(r"[&“”\"']", s[0]) and "<" not in s[0]]
    items = stories(
        rng,
        min(len(pool), rng.randint(3, 5)),
        pool,
        url=lambda slug, n: f"{home}/article.do?id={n}&section=news",
        authors=None,
    )
    out = [
        f'<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0">\n<channel>\n<title>Portal</title>\n<link>{home}/</link>\n<description>News</description>\n'
    ]
    for item in items:
        assert item.date is not None
        once = _html_escape(item.title or "", quote=True)  # the template's escaping
        out.append(
            f"<item>\n<title>{x(once)}</title>\n<link>{x(x(item.url))}</link>\n"
            f"<description>{x(item.body)}</description>\n<pubDate>{rfc822(item.date)}</pubDate>\n"
            f'<guid isPermaLink="false">{item.n}</guid>\n</item>\n'
        )
    out.append("</channel>\n</rss>\n")
    return Feed(
        name=name,
        platform=f"double-escaped titles and links ({flavor})",
        xml="".join(out),
        items=items,
    )


# =================================================================== the corpus

Template = Callable[[str, random.Random], Feed]


def _with(fn: Callable[..., Feed], *args: object) -> Template:
    return lambda name, rng: fn(name, rng, *args)


CORPUS: dict[str, Template] = {
    **{
        f"wordpress-{f}.xml": _with(wordpress, f)
        for f in (
            "default",
            "excerpt",
            "yoast",
            "category",
            "double-escaped",
            "comments",
            "localized",
        )
    },
    "wordpress-default-2.xml": _with(wordpress, "default"),
    "wordpress-yoast-2.xml": _with(wordpress, "yoast"),
    "wordpress-excerpt-2.xml": _with(wordpress, "excerpt"),
    "woocommerce-products.xml": _with(woocommerce, "products"),
    "woocommerce-category.xml": _with(woocommerce, "category"),
    **{f"wordpress-com-{f}.xml": _with(wordpress_com, f) for f in ("blog", "photo", "custom")},
    **{
        f"blogger-{f}.xml": _with(blogger, f)
        for f in ("atom", "atom-zh", "atom-summary", "atom-custom", "rss", "rss-zh")
    },
    **{f"medium-{f}.xml": _with(medium, f) for f in ("user", "publication", "tag", "custom")},
    **{
        f"substack-{f}.xml": _with(substack, f)
        for f in ("newsletter", "podcast", "custom", "paywall")
    },
    **{f"ghost-{f}.xml": _with(ghost, f) for f in ("default", "ghostio", "excerpt", "tag")},
    **{f"youtube-{f}.xml": _with(youtube, f) for f in ("channel", "playlist", "user", "shorts")},
    **{
        f"reddit-{f}.xml": _with(reddit, f)
        for f in ("subreddit", "user", "comments", "top", "search")
    },
    **{
        f"github-{f}.xml": _with(github, f)
        for f in ("releases", "releases-cjk", "releases-empty", "commits", "commits-branch", "tags")
    },
    **{f"gitlab-{f}.xml": _with(gitlab, f) for f in ("activity", "issues", "self-hosted")},
    **{f"mastodon-{f}.xml": _with(mastodon, f) for f in ("user", "tag", "media", "instance")},
    **{f"hnrss-{f}.xml": _with(hacker_news, f) for f in ("hnrss", "newest", "comments", "ask")},
    "hackernews-official.xml": _with(hacker_news, "official"),
    "hnrss-hnrss-2.xml": _with(hacker_news, "hnrss"),
    "mastodon-user-2.xml": _with(mastodon, "user"),
    "github-releases-2.xml": _with(github, "releases"),
    "medium-user-2.xml": _with(medium, "user"),
    "lobsters-front.xml": _with(lobsters, "front"),
    "lobsters-tag.xml": _with(lobsters, "tag"),
    **{
        f"podcast-{f}.xml": _with(podcast, f)
        for f in (
            "libsyn",
            "anchor",
            "buzzsprout",
            "transistor",
            "megaphone",
            "summary-only",
            "powerpress",
            "podcasting20",
            "podcasting20-value",
        )
    },
    **{k: _with(portal, v) for k, v in PORTALS.items()},
    **{
        f"news-{f}.xml": _with(news, f)
        for f in (
            "bbc",
            "bbc-world",
            "nyt",
            "nyt-section",
            "guardian",
            "guardian-uk",
            "wire",
            "wire-dcdate",
            "npr",
            "aljazeera-ar",
            "lemonde",
            "spiegel",
        )
    },
    **{
        f"dotnet-{f}.xml": _with(dotnet, f)
        for f in ("updated", "pubdate", "content", "email-author")
    },
    **{f"drupal-{f}.xml": _with(drupal, f) for f in ("d7", "d9-relative", "d10")},
    "tumblr-text.xml": _with(tumblr, "text"),
    "tumblr-photo.xml": _with(tumblr, "photo"),
    "squarespace-blog.xml": _with(squarespace, "blog"),
    "squarespace-journal.xml": _with(squarespace, "journal"),
    "wix-blog.xml": _with(wix, "blog"),
    "wix-site.xml": _with(wix, "site"),
    **{
        f"jekyll-{f}.xml": _with(jekyll, f)
        for f in ("github-pages", "project-site", "custom-domain")
    },
    **{
        f"hugo-{f}.xml": _with(hugo, f) for f in ("rss", "rss-relative", "atom-base", "rss-summary")
    },
    "discourse-latest.xml": _with(discourse, "latest"),
    "discourse-category.xml": _with(discourse, "category"),
    "stackexchange-tag.xml": _with(stack_exchange, "tag"),
    "stackexchange-site.xml": _with(stack_exchange, "site"),
    "arxiv-rss.xml": _with(arxiv, "rss"),
    "arxiv-rdf.xml": _with(arxiv, "rdf"),
    "press-12h-clock.xml": _with(press, ("12h-edt", "12h-noon", "month-day-et", "weekday-long")),
    "press-zone-names.xml": _with(press, ("cest", "bst", "aest", "pdt", "jst")),
    "press-localized-names.xml": _with(press, ("german-day", "french", "spanish", "dotted")),
    "press-odd-shapes.xml": _with(
        press, ("java-tostring", "unix-utc", "basic-iso", "zone-comment", "no-seconds")
    ),
    "press-mixed.xml": _with(
        press,
        (
            "full-month",
            "two-digit-year",
            "iso-millis",
            "space-offset",
            "z-zone",
            "est-winter",
            "msk",
            "hkt",
        ),
        True,
    ),
    "gov-uk-atom.xml": gov_uk,
    "google-news-search.xml": _with(google_news, "search"),
    "google-news-topic.xml": _with(google_news, "topic"),
    **{f"feedburner-{f}.xml": _with(feedburner, f) for f in ("rss", "atom", "podcast")},
    "rdf-slashdot.xml": _with(slashdot, "main"),
    "rdf-slashdot-latin1.xml": _with(slashdot, "latin1"),
    "atom-xhtml-content.xml": _with(atom_xhtml, "content"),
    "atom-xhtml-summary-base.xml": _with(atom_xhtml, "summary-base"),
    "rss-xhtml-body-prefixed.xml": _with(xhtml_body, "prefixed"),
    "rss-xhtml-body-default-ns.xml": _with(xhtml_body, "default-ns"),
    "rss-fullitem.xml": _with(xhtml_body, "fullitem"),
    "video-media-title-group.xml": _with(media_title_only, "group"),
    "video-media-title-item.xml": _with(media_title_only, "item"),
    "cp1252-numeric-refs.xml": _with(cp1252_refs, "refs"),
    "cp1252-raw-bytes-latin1-label.xml": _with(cp1252_refs, "raw"),
    "fragments-changelog.xml": _with(fragments, "changelog"),
    "fragments-daily-links.xml": _with(fragments, "links"),
    "scripting-news.xml": scripting_news,
    "double-escaped-java.xml": _with(double_escaped, "java"),
    "double-escaped-aggregator.xml": _with(double_escaped, "aggregator"),
}


def expectation(feed: Feed) -> dict[str, object]:
    """What a faithful reader shows for `feed`, from its item data."""
    result: dict[str, object] = {"platform": feed.platform}
    if feed.headers:
        result["headers"] = feed.headers
    result["count"] = len(feed.items) if feed.count is None else feed.count
    result["posts"] = [
        {
            "title": item.title,
            "link": item.url or None,
            "published": utc_iso(item.date),
            "author": item.author,
            "text_start": text_start(item),
        }
        for item in feed.items
    ]
    return result


def build() -> list[Feed]:
    feeds = []
    for name, template in CORPUS.items():
        feed = template(name, random.Random(name))
        feed.name = name
        feeds.append(feed)
    return feeds


def write(out: Path) -> int:
    """Write every feed and its expectation into `out` (old ones removed); return the count."""
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*"):
        old.unlink()
    feeds = build()
    for feed in feeds:
        (out / feed.name).write_bytes(feed.xml.encode(feed.encoding))
        expected = out / f"{feed.name.removesuffix('.xml')}.expected.json"
        expected.write_text(
            json.dumps(expectation(feed), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
    return len(feeds)


def main() -> int:
    count = write(OUT)
    print(f"{count} feeds written to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
