"""Parse stage, HTML pages: a `type: html` source's page read by its CSS selectors into a
ParsedFeed, and the feeds a page advertises (autodiscovery). Pure: no network, no clock; it
must NOT fetch what a page links to (the pipeline fetches an advertised feed, fulltext.py
the articles) nor clean what normalize cleans (markup kept is sanitized there).

Only a `type: html` source's page is read by selectors (update/worker.py picks this
backend by the Job's source); for any other source an HTML body is no feed, and the
reference backend refuses it ("not a feed (HTML page)") unless it advertises one.

How a page becomes items: each match of `item` is one; within it `title` (its text; by
default the item's own text), `link` (an attribute, by default the first a@href, the
item's own href when the item is a link) resolved against the page's URL after redirects
(or its <base href>), `date` (read by `date_format`, else parse.dates, zoned as every
feed date is: naive here, the source's zone in normalize), `summary` and `content` (their
inner markup), `image` (opens the content). An item without a title or without an
http(s) link is left out and counted; a page on which `item` matches nothing is an error,
never an empty feed: its structure changed.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any
from urllib.parse import urljoin

from aggregator.errors import ParseError
from aggregator.types import DateOrder, HtmlSelectors, ParsedFeed, RawEntry
from aggregator.urls import http_url

__all__ = ["FEED_TYPES", "Advertised", "advertised_feeds", "is_html", "parse_html"]

# The media types an autodiscovery link names a feed by (RSS Autodiscovery, RFC 4287's
# practice, jsonfeed.org's "Discovery"). Not plain application/json: WordPress names its
# REST API so (rel="alternate" type="application/json" href=".../wp-json/..."), no feed.
FEED_TYPES = frozenset({"application/rss+xml", "application/atom+xml", "application/feed+json"})
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_HTML_START = re.compile(
    rb"^(?:\xef\xbb\xbf)?\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body)\b", re.I | re.S
)
# <meta charset=...> or <meta http-equiv="Content-Type" content="...; charset=...">, in the
# first 1024 bytes as the HTML standard's prescan reads it.
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9._:-]+)""", re.I)
_SPACE = re.compile(r"\s+")
_HEAD_END = re.compile(rb"</head\s*>", re.I)
# Elements whose text no reader shows: never part of a title or a date.
_HIDDEN = ("script", "style", "noscript", "template")
# strptime directives as text they match, to find a date inside longer text ("发布：…").
_DIRECTIVES = {
    "Y": r"\d{4}",
    "y": r"\d{2}",
    "m": r"\d{1,2}",
    "d": r"\d{1,2}",
    "H": r"\d{1,2}",
    "I": r"\d{1,2}",
    "M": r"\d{1,2}",
    "S": r"\d{1,2}",
    "p": r"[AaPp][Mm]",
    "b": r"[A-Za-z]{3,}",
    "B": r"[A-Za-z]{3,}",
    "a": r"[A-Za-z]{3,}",
    "A": r"[A-Za-z]{3,}",
    "z": r"[+-]\d{2}:?\d{2}|Z",
    "%": "%",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Advertised:
    """A feed a page advertises with <link rel="alternate">."""

    url: str  # absolute http(s)
    type: str  # one of FEED_TYPES
    title: str | None = None


def is_html(content: bytes, headers: Mapping[str, str]) -> bool:
    """Whether a body is an HTML page: served as HTML, or opening as one.

    Raises nothing.
    """
    media = _content_type(headers).split(";", 1)[0].strip().lower()
    if media in _HTML_TYPES:
        return True
    return _HTML_START.match(content[:4096]) is not None


def advertised_feeds(
    content: bytes,
    headers: Mapping[str, str],
    *,
    url: str,
    types: frozenset[str] = FEED_TYPES,
) -> tuple[Advertised, ...]:
    """The feeds an HTML page advertises, in page order, each once, hrefs resolved against
    the page (`url`, after redirects, or its <base href>); only http(s) URLs, and only links
    of `types` (`doctor` lists RSS 1.0's and plain JSON's too).

    Only the page's head is read when it has one: the links are there, and the pipeline
    calls this in its event loop.

    Raises nothing: a page that cannot be read advertises nothing.
    """
    end = _HEAD_END.search(content)
    if end is not None:
        content = content[: end.start()]
    try:
        root = _document(content, headers)
    except ParseError:
        return ()
    base = _base(root, url)
    found: list[Advertised] = []
    seen: set[str] = set()
    for link in root.iter("link"):
        rel = (link.get("rel") or "").lower().split()
        media = (link.get("type") or "").split(";", 1)[0].strip().lower()
        if "alternate" not in rel or media not in types:
            continue
        href = _absolute(link.get("href"), base)
        if href is None or href in seen:
            continue
        seen.add(href)
        title = _collapsed(link.get("title") or "") or None
        found.append(Advertised(url=href, type=media, title=title))
    return tuple(found)


def parse_html(
    content: bytes,
    headers: Mapping[str, str],
    *,
    url: str,
    selectors: HtmlSelectors,
    date_order: DateOrder | None = None,
) -> ParsedFeed:
    """Read a page's items by `selectors` (see the module docstring).

    Raises:
        ParseError: the page cannot be read as HTML, `selectors.item` matches nothing,
            or no match has both a title and an http(s) link.
    """
    root = _document(content, headers)
    base = _base(root, url)
    items = _select(selectors.item, root)
    if not items:
        raise ParseError(f"selector `{_shown(selectors.item)}` matched nothing")
    entries: list[RawEntry] = []
    links: set[str] = set()
    skipped = 0
    for item in items:
        entry = _entry(item, selectors, base=base, date_order=date_order)
        if entry is None or entry.link is None:
            skipped += 1
            continue
        if entry.link in links:  # the same story twice on one page (a "top" box): once
            continue
        links.add(entry.link)
        entries.append(entry)
    if not entries:
        raise ParseError(
            f"selector `{_shown(selectors.item)}` matched {len(items)} elements,"
            " none with a title and an http(s) link"
        )
    titles = root.xpath("//title")
    title = _collapsed(titles[0].text_content()) if titles else ""
    return ParsedFeed(
        title=html.escape(title, quote=False) or None,
        link=url,
        feed_id=url,
        entries=tuple(entries),
        skipped=skipped,
    )


def _content_type(headers: Mapping[str, str]) -> str:
    return next((v for k, v in headers.items() if k.lower() == "content-type"), "")


def _document(content: bytes, headers: Mapping[str, str]) -> Any:
    """The page as an lxml tree, decoded by its header charset, else its <meta charset>,
    else as parse.charset reads undeclared bytes; hidden elements removed.

    Raises: ParseError when no tree can be made of it.
    """
    import lxml.html
    from lxml import etree

    from aggregator.parse.charset import to_utf8

    content_type = _content_type(headers)
    if "charset" not in content_type.lower():
        meta = _META_CHARSET.search(content[:1024])
        if meta is not None:
            content_type = f"text/html; charset={meta.group(1).decode('ascii')}"
    body = to_utf8(content, content_type or None).body
    parser = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True)
    try:
        root = lxml.html.document_fromstring(body, parser=parser)
    except (etree.ParserError, ValueError) as e:
        raise ParseError(f"unreadable HTML page: {e}") from e
    for element in root.xpath("|".join(f"//{tag}" for tag in _HIDDEN)):
        element.drop_tree()
    return root


def _base(root: Any, url: str) -> str:
    """What the page's relative URLs resolve against: its <base href>, else its URL."""
    for element in root.iter("base"):
        href = element.get("href")
        if href:
            resolved = _absolute(href, url)
            if resolved is not None:
                return resolved
        break
    return url


def _absolute(value: str | None, base: str) -> str | None:
    """`value` resolved against `base` when that gives an http(s) URL (urls.http_url)."""
    if not value or not value.strip():
        return None
    try:
        return http_url(urljoin(base, value.strip()))
    except ValueError:  # a malformed IPv6 host and the like
        return None


@lru_cache(maxsize=256)
def _compiled(selector: str) -> Any:
    from lxml.cssselect import CSSSelector

    return CSSSelector(selector)


def _select(selector: str, element: Any) -> list[Any]:
    try:
        return list(_compiled(selector)(element))
    except Exception as e:  # config checks every selector; stay total anyway
        raise ParseError(f"selector `{_shown(selector)}` unusable: {e}") from e


def _split(field: str) -> tuple[str, str | None]:
    """ "a@href" -> ("a", "href"); "a" -> ("a", None); "@href" -> ("", "href")."""
    selector, at, attribute = field.rpartition("@")
    if not at:
        return field, None
    return selector.strip(), attribute.strip()


def _first(field: str, item: Any) -> tuple[Any | None, str | None]:
    """The first element `field` selects within `item` (the item itself for "@attr"),
    and the attribute named, if any."""
    selector, attribute = _split(field)
    if not selector:
        return item, attribute
    matched = _select(selector, item)
    return (matched[0] if matched else None), attribute


def _text_of(field: str | None, item: Any) -> str | None:
    """Plain text: the attribute named, else the element's text, whitespace collapsed."""
    if field is None:
        return _collapsed(item.text_content()) or None
    element, attribute = _first(field, item)
    if element is None:
        return None
    value = element.get(attribute) if attribute else element.text_content()
    return _collapsed(value or "") or None


def _markup_of(field: str | None, item: Any) -> str | None:
    """Markup: the element's inner HTML (the attribute named, escaped, for "@attr")."""
    if field is None:
        return None
    from lxml import etree

    element, attribute = _first(field, item)
    if element is None:
        return None
    if attribute:
        value = element.get(attribute)
        return html.escape(value) if value and value.strip() else None
    inner = html.escape(element.text or "", quote=False) + "".join(
        etree.tostring(child, encoding="unicode", method="html") for child in element
    )
    return inner if inner.strip() else None


def _url_of(field: str | None, item: Any, base: str, *, default: str) -> str | None:
    if field is None:
        # The item's own href when it is a link itself, else its first link's.
        if item.tag == "a" and item.get("href"):
            return _absolute(item.get("href"), base)
        field = default
    element, attribute = _first(field, item)
    if element is None:
        return None
    return _absolute(element.get(attribute or default.rpartition("@")[2]), base)


def _entry(
    item: Any, selectors: HtmlSelectors, *, base: str, date_order: DateOrder | None
) -> RawEntry | None:
    title = _text_of(selectors.title, item)
    link = _url_of(selectors.link, item, base, default="a@href")
    if not title or link is None:
        return None
    content = _markup_of(selectors.content, item)
    summary = _markup_of(selectors.summary, item)
    image = None
    if selectors.image is not None:
        image = _url_of(selectors.image, item, base, default="img@src")
    if image is not None and image not in (content or summary or ""):
        # As a JSON Feed item's image: it opens the content (sanitized in normalize).
        content = f'<p><img src="{html.escape(image)}" alt=""></p>' + (content or summary or "")
    published = None
    if selectors.date is not None:
        text = _text_of(selectors.date, item)
        if text is not None:
            published = _date(text, selectors.date_format, date_order)
    return RawEntry(
        link=link,
        # RawEntry.title is markup: the text is escaped so that "<b>" in it stays text.
        title=html.escape(title, quote=False),
        content=content,
        summary=summary,
        published=published,
        base=base,
    )


def _date(text: str, date_format: str | None, date_order: DateOrder | None) -> datetime | None:
    """The date `text` gives: by `date_format` (the whole text, else the first run of it
    that has the format's shape), else as parse.dates reads feed dates."""
    if date_format is None:
        from aggregator.parse.dates import parse_date

        return parse_date(text, date_order=date_order)
    try:
        return datetime.strptime(text, date_format)
    except ValueError:
        pass
    found = _format_pattern(date_format).search(text)
    if found is None:
        return None
    try:
        return datetime.strptime(found.group(), date_format)
    except ValueError:
        return None


@lru_cache(maxsize=64)
def _format_pattern(date_format: str) -> re.Pattern[str]:
    parts: list[str] = []
    i = 0
    while i < len(date_format):
        char = date_format[i]
        if char == "%" and i + 1 < len(date_format):
            parts.append(_DIRECTIVES.get(date_format[i + 1], r"\S+"))
            i += 2
        elif char.isspace():
            parts.append(r"\s*")
            i += 1
        else:
            parts.append(re.escape(char))
            i += 1
    return re.compile("".join(parts))


def _collapsed(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def _shown(selector: str) -> str:
    """A selector as an error line shows it: one line, not too long."""
    return _collapsed(selector)[:200]
