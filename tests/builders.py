"""Builders for the feeds and config files the tests serve and load.

RSS and Atom documents are built from their parts (a document, its items, a namespace bound
on its root), and a config from a site, its sources and its categories; each test file
states its own defaults once (often as a `functools.partial`) and calls these. A builder
returns exactly the text its arguments spell: it escapes nothing, so that a test can put
any markup, entity or control character where it wants one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import yaml

# --------------------------------------------------------------------- XML parts

XML_PROLOG = '<?xml version="1.0"?>'
UTF8_PROLOG = '<?xml version="1.0" encoding="UTF-8"?>'
LOWER_UTF8_PROLOG = '<?xml version="1.0" encoding="utf-8"?>'  # the same, as many writers spell it
ATOM_NS = "http://www.w3.org/2005/Atom"
CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
DC_NS = "http://purl.org/dc/elements/1.1/"
ITUNES_NS = "http://www.itunes.com/dtds/podcast-1.0.dtd"
MEDIA_NS = "http://search.yahoo.com/mrss/"


def xmlns(prefix: str, uri: str) -> str:
    """The attribute that binds `prefix` to `uri`, with its leading space."""
    return f' xmlns:{prefix}="{uri}"'


def bind_namespace(feed: bytes, prefix: str, uri: str) -> bytes:
    """`feed` with `prefix` bound to `uri` on its root element, before the root's other
    attributes (as WordPress binds atom: and .NET's SyndicationFeed a10: on <rss>)."""
    root = re.search(rb"<(?![?!])([\w:]+) ", feed)
    assert root is not None, "no root element with attributes"
    at = root.end()
    return feed[:at] + f'xmlns:{prefix}="{uri}" '.encode() + feed[at:]


# --------------------------------------------------------------------- RSS


def rss(
    *items: str,
    title: str = "T",
    link: str = "https://site.example.org/",
    description: str | None = None,
    channel: str = "",
    namespaces: str = "",
    prolog: str = XML_PROLOG,
) -> bytes:
    """An RSS 2.0 document, UTF-8: the channel's title, link and optional description, then
    `channel` (more channel elements), then the items. `namespaces` is written on <rss>
    after version="2.0" (see `xmlns`)."""
    described = "" if description is None else f"<description>{description}</description>"
    return (
        f'{prolog}<rss version="2.0"{namespaces}><channel>'
        f"<title>{title}</title><link>{link}</link>{described}{channel}"
        f"{''.join(items)}</channel></rss>"
    ).encode()


def rss_item(
    *,
    title: str,
    link: str,
    guid: str,
    pub_date: str,
    description: str,
    permalink: bool | None = None,
    cdata: bool = False,
) -> str:
    """One <item> with its elements in this order: title, link, guid (isPermaLink only when
    `permalink` is given), pubDate, description (in a CDATA section when `cdata`)."""
    guid_attribute = "" if permalink is None else f' isPermaLink="{str(permalink).lower()}"'
    body = f"<![CDATA[{description}]]>" if cdata else description
    return (
        f"<item><title>{title}</title><link>{link}</link>"
        f"<guid{guid_attribute}>{guid}</guid><pubDate>{pub_date}</pubDate>"
        f"<description>{body}</description></item>"
    )


class Story(NamedTuple):
    """One post of a `site_rss` feed; `html` defaults to <p>title</p>, `link` to
    http://example.org/NAME/GUID.html."""

    guid: str
    title: str
    html: str | None = None
    link: str | None = None


def numbered_rss(items: int, *, title: str = "Feed") -> bytes:
    """A UTF-8 feed of `items` items, "Item 0"…, guids item-0…, one date for all."""
    entries = [
        rss_item(
            title=f"Item {n}",
            link=f"http://example.org/{n}",
            guid=f"item-{n}",
            pub_date="Wed, 01 May 2024 08:00:00 GMT",
            description=f"item {n}",
        )
        for n in range(items)
    ]
    return rss(*entries, title=title, link="http://example.org/", prolog=UTF8_PROLOG)


def hourly(n: int) -> str:
    """The date of a site's n-th story: 26 Dec 2021 at 0n:35:42 UTC. From n = 10 on the
    hour is unreadable ("010"), and the story undated: kept, as test_budget's feeds of
    thousands of items have always been built so."""
    return f"Sun, 26 Dec 2021 0{n}:35:42 GMT"


def each_minute(n: int) -> str:
    """The date of a site's n-th story: 26 Dec 2021 at n minutes past midnight UTC."""
    return f"Sun, 26 Dec 2021 {n // 60:02d}:{n % 60:02d}:00 GMT"


def site_rss(
    name: str,
    stories: Iterable[Story | Sequence[str]],
    *,
    title: str | None = None,
    link: str | None = None,
    dated: Callable[[int], str] = hourly,
) -> bytes:
    """The feed of a site called `name` (UTF-8, at http://example.org/NAME/, described as
    "test"): each story an item with a guid that is no permalink and its HTML in CDATA,
    the n-th dated `dated(n)`. Stories are `Story`s or tuples of the same fields."""
    items = []
    for n, fields in enumerate(stories):
        story = Story(*fields)
        items.append(
            rss_item(
                title=story.title,
                link=story.link or f"http://example.org/{name}/{story.guid}.html",
                guid=story.guid,
                permalink=False,
                pub_date=dated(n),
                description=f"<p>{story.title}</p>" if story.html is None else story.html,
                cdata=True,
            )
        )
    return rss(
        *items,
        title=title or name,
        link=link or f"http://example.org/{name}/",
        description="test",
        prolog=UTF8_PROLOG,
    )


# --------------------------------------------------------------------- Atom

ATOM_HEAD = '<updated>2021-12-26T00:00:00Z</updated><link href="https://atom.example.org/"/>'


def atom(
    *entries: str,
    title: str = "A",
    feed_id: str = "tag:example.org,2021:feed",
    head: str = ATOM_HEAD,
    attributes: str = "",
    prolog: str = XML_PROLOG,
) -> bytes:
    """An Atom document, UTF-8: the feed's title and id, then `head` (the feed's other
    elements), then the entries. `attributes` is written on <feed> after its xmlns."""
    return (
        f'{prolog}<feed xmlns="{ATOM_NS}"{attributes}>'
        f"<title>{title}</title><id>{feed_id}</id>{head}{''.join(entries)}</feed>"
    ).encode()


# --------------------------------------------------------------------- config


def site_section(title: str = "Test Site", **more: str) -> dict[str, str]:
    """The `site:` section: a title, https://news.example.org/, output in out/, and `more`
    (which may replace any of these)."""
    return {
        "title": title,
        "base_url": "https://news.example.org/",
        "output_dir": "out",
    } | more


def timeouts(connect: str, read: str, total: str) -> dict[str, str]:
    """The `fetch:` section's three timeouts."""
    return {"connect_timeout": connect, "read_timeout": read, "total_timeout": total}


NEWS: Mapping[str, str] = {"news": "News"}


def config_data(
    sources: Sequence[Mapping[str, Any]],
    categories: Mapping[str, str | Mapping[str, Any]] = NEWS,
    *,
    site: Mapping[str, str] | None = None,
    database: str = "sqlite:///test.db",
    fetch: Mapping[str, Any] | None = None,
    **more: Any,
) -> dict[str, Any]:
    """A config as data, keys in this order: site, database, fetch (when given),
    categories, sources, then `more`. A category given as a string is its title."""
    data: dict[str, Any] = {"site": dict(site or site_section()), "database": database}
    if fetch is not None:
        data["fetch"] = dict(fetch)
    data["categories"] = {
        slug: {"title": spec} if isinstance(spec, str) else dict(spec)
        for slug, spec in categories.items()
    }
    data["sources"] = [dict(s) for s in sources]
    return data | more


def dump_config(data: Mapping[str, Any], *, sort_keys: bool = True) -> str:
    """`data` as the YAML of a config file."""
    return yaml.safe_dump(dict(data), allow_unicode=True, sort_keys=sort_keys)


def write_config(
    folder: Path,
    sources: Sequence[Mapping[str, Any]],
    categories: Mapping[str, str | Mapping[str, Any]] = NEWS,
    *,
    sort_keys: bool = True,
    **options: Any,
) -> Path:
    """Write folder/config.yaml (`config_data` of the same arguments) and return its path."""
    path = folder / "config.yaml"
    text = dump_config(config_data(sources, categories, **options), sort_keys=sort_keys)
    path.write_text(text, encoding="utf-8")
    return path
