"""The RSS 2.0 and JSON Feed 1.1 checks every published feed of those formats passes
(tests/clirunner.py's validate_feeds runs them beside the Atom one on every output tree).

- RSS 2.0 by the RSS Advisory Board's profile (https://www.rssboard.org/rss-profile):
  the channel's required title, link and description; RFC 822 dates with four-digit years
  and the right day name; exactly one guid per item, unique in the feed; no element inside a
  text element (HTML is escaped, never markup); absolute http(s) links; <source url>; and a
  feedparser round-trip that finds every item and reports nothing (`bozo` false).
- JSON Feed 1.1 by tests/data/schema/jsonfeed-1.1.json (written from the spec) through
  `jsonschema`, with the `uri` and `date-time` formats checked, ids unique in the feed; and
  a round-trip through our own JSON Feed input (aggregator.parse) that reads back every
  item's id, link, title, dates, author, tags and content as written.
"""

from __future__ import annotations

import email.utils
import functools
import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent / "data"
JSONFEED_SCHEMA = DATA / "schema" / "jsonfeed-1.1.json"
ATOM_NS = "http://www.w3.org/2005/Atom"

# RSS 2.0's elements (https://www.rssboard.org/rss-specification); namespaced ones are
# extensions, allowed anywhere.
_CHANNEL = {
    "title", "link", "description", "language", "copyright", "managingEditor", "webMaster",
    "pubDate", "lastBuildDate", "category", "generator", "docs", "cloud", "ttl", "image",
    "rating", "textInput", "skipHours", "skipDays", "item",
}  # fmt: skip
_ITEM = {
    "title", "link", "description", "author", "category", "comments", "enclosure", "guid",
    "pubDate", "source",
}  # fmt: skip
_REPEATABLE = {"category", "item"}
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec"
# The profile: a four-digit year, the day name, seconds, and GMT or a numeric zone.
_RFC822 = re.compile(
    rf"(?P<day>{'|'.join(_DAYS)}), \d{{2}} (?:{_MONTHS}) \d{{4}} \d{{2}}:\d{{2}}:\d{{2}} "
    r"(?:GMT|[+-]\d{4})"
)
_RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})", re.IGNORECASE
)


def _http_url(value: str | None) -> bool:
    import rfc3987

    return bool(value) and bool(rfc3987.match(value, rule="URI")) and value.startswith("http")


def rfc822_date(text: str | None, where: str) -> datetime:
    """The date `text` as the profile writes one, or fail."""
    match = _RFC822.fullmatch(text or "")
    if match is None:
        raise AssertionError(f"{where}: {text!r} is no RFC 822 date")
    when = email.utils.parsedate_to_datetime(text)
    if _DAYS[when.weekday()] != match.group("day"):
        raise AssertionError(f"{where}: {text!r} names the wrong day")
    return when


def validate_rss(path: Path) -> None:
    """Fail unless `path` is RSS 2.0 by the RSS Advisory Board's profile (see the module)."""
    from lxml import etree

    data = path.read_bytes()
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    rss = etree.fromstring(data, parser)
    if rss.tag != "rss" or rss.get("version") != "2.0":
        raise AssertionError(f'{path}: no <rss version="2.0"> root')
    channels = rss.findall("channel")
    if len(channels) != 1 or len(rss) != 1:
        raise AssertionError(f"{path}: the root must hold one channel and nothing else")
    channel = channels[0]
    _known_once(channel, _CHANNEL, f"{path}: channel")
    for required in ("title", "link", "description"):
        if channel.find(required) is None:
            raise AssertionError(f"{path}: channel has no {required}")
    if not (channel.findtext("title") or "").strip():
        raise AssertionError(f"{path}: channel title is empty")
    if not _http_url(channel.findtext("link")):
        raise AssertionError(f"{path}: channel link {channel.findtext('link')!r}")
    for name in ("pubDate", "lastBuildDate"):
        if channel.find(name) is not None:
            rfc822_date(channel.findtext(name), f"{path}: channel {name}")
    guids: list[str] = []
    for number, item in enumerate(channel.findall("item"), 1):
        where = f"{path}: item {number}"
        _known_once(item, _ITEM, where)
        if item.find("title") is None and item.find("description") is None:
            raise AssertionError(f"{where}: neither title nor description")
        found = item.findall("guid")
        if len(found) != 1:
            raise AssertionError(f"{where}: {len(found)} guids, not one")
        guid = found[0]
        if guid.get("isPermaLink", "true") != "false" and not _http_url(guid.text):
            raise AssertionError(f"{where}: a permalink guid {guid.text!r} is no URL")
        guids.append(guid.text or "")
        if item.find("pubDate") is not None:
            rfc822_date(item.findtext("pubDate"), f"{where}: pubDate")
        if item.find("link") is not None and not _http_url(item.findtext("link")):
            raise AssertionError(f"{where}: link {item.findtext('link')!r}")
        source = item.find("source")
        if source is not None and not _http_url(source.get("url")):
            raise AssertionError(f"{where}: source url {source.get('url')!r}")
    if len(guids) != len(set(guids)):
        raise AssertionError(f"{path}: two items share a guid")
    for element in channel.iter():
        if not isinstance(element.tag, str):
            continue  # a comment or processing instruction
        if element.tag == f"{{{ATOM_NS}}}link" and not _http_url(element.get("href")):
            raise AssertionError(f"{path}: atom:link rel={element.get('rel')} href")
        # A text element holds text only: HTML in one is escaped, never markup.
        if element.tag not in ("channel", "item", "image", "textInput", "cloud") and len(element):
            raise AssertionError(f"{path}: <{element.tag}> holds elements: unescaped markup")
    _feedparser_round_trip(path, data, guids)


def _known_once(parent: Any, known: set[str], where: str) -> None:
    seen: set[str] = set()
    for child in parent:
        if not isinstance(child.tag, str) or child.tag.startswith("{"):
            continue  # comments and namespaced extensions
        if child.tag not in known:
            raise AssertionError(f"{where}: <{child.tag}> is no RSS 2.0 element there")
        if child.tag in seen and child.tag not in _REPEATABLE:
            raise AssertionError(f"{where}: <{child.tag}> twice")
        seen.add(child.tag)


def _feedparser_round_trip(path: Path, data: bytes, guids: list[str]) -> None:
    import feedparser

    parsed = feedparser.parse(data, response_headers={"content-type": "application/rss+xml"})
    if parsed.bozo:
        raise AssertionError(f"{path}: feedparser: {parsed.bozo_exception}")
    if parsed.version != "rss20":
        raise AssertionError(f"{path}: feedparser reads it as {parsed.version!r}")
    if [e.get("id") for e in parsed.entries] != guids:
        raise AssertionError(f"{path}: feedparser reads other guids")


@functools.cache
def _jsonfeed_validator() -> Any:
    import jsonschema

    checker = jsonschema.FormatChecker(formats=())

    @checker.checks("uri")
    def _uri(value: object) -> bool:
        import rfc3987

        return not isinstance(value, str) or bool(rfc3987.match(value, rule="URI"))

    @checker.checks("date-time", raises=ValueError)
    def _date_time(value: object) -> bool:
        if not isinstance(value, str):
            return True
        if not _RFC3339.fullmatch(value):
            return False
        datetime.fromisoformat(value.upper().replace("Z", "+00:00"))  # a real date
        return True

    schema = json.loads(JSONFEED_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=checker)


def validate_jsonfeed(path: Path) -> dict[str, Any]:
    """Fail unless `path` is JSON Feed 1.1 by the schema (see the module); the document."""
    data = path.read_bytes()
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise AssertionError(f"{path}: no JSON in UTF-8: {e}") from e
    errors = sorted(_jsonfeed_validator().iter_errors(document), key=lambda e: list(e.path))
    if errors:
        lines = [f"{'/'.join(map(str, e.path)) or '.'}: {e.message}" for e in errors[:5]]
        raise AssertionError(f"{path} is not valid JSON Feed 1.1:\n" + "\n".join(lines))
    ids = [item["id"] for item in document["items"]]
    if len(ids) != len(set(ids)):
        raise AssertionError(f"{path}: two items share an id")
    _jsonfeed_round_trip(path, data, document)
    return dict(document)


def _jsonfeed_round_trip(path: Path, data: bytes, document: dict[str, Any]) -> None:
    """Our own JSON Feed input (the parse stage, served as application/feed+json) reads
    back every item as written: id, link, title, dates, author, tags and content."""
    import html

    from aggregator.parse import parse
    from aggregator.parse.dates import MIN_YEAR

    url = document.get("feed_url", "https://example.invalid/feed.json")
    parsed = parse(data, {"content-type": "application/feed+json"}, url=url)

    def same(what: str, read: object, written: object) -> None:
        if read != written:
            raise AssertionError(f"{path}: read back, {what} is {read!r}, not {written!r}")

    text = _stripped
    same("the title", parsed.title, text(document["title"]))
    same("the home page", parsed.link, document.get("home_page_url"))
    same("the feed id", parsed.feed_id, document.get("feed_url") or document.get("home_page_url"))
    same("the ids", [e.guid for e in parsed.entries], [i["id"] for i in document["items"]])
    for entry, item in zip(parsed.entries, document["items"], strict=True):
        where = f"item {item['id']}"
        same(f"{where}: the link", entry.link, item.get("url") or item.get("external_url"))
        # A title is text; the parse stage hands it on as HTML, escaped once.
        same(
            f"{where}: the title", html.unescape(entry.title or "") or None, text(item.get("title"))
        )
        for key, read in (("date_published", entry.published), ("date_modified", entry.updated)):
            if key in item:
                written = datetime.fromisoformat(item[key])
                # The input's rule: a year before MIN_YEAR is a misreading, so no date.
                same(f"{where}: {key}", read, written if written.year >= MIN_YEAR else None)
        names = ", ".join(dict.fromkeys(text(a.get("name")) for a in item.get("authors", [])))
        same(f"{where}: the author", entry.author, names or None)
        same(
            f"{where}: the tags",
            list(entry.categories),
            [t for t in map(text, item.get("tags", [])) if t],
        )
        content = text(item.get("content_html"))
        if content is not None and not (entry.content or "").startswith(content):
            raise AssertionError(f"{path}: read back, {where}: the content is not what was written")


def _stripped(value: object) -> Any:
    """A JSON Feed string as a reader takes it: stripped, None when blank."""
    return value.strip() or None if isinstance(value, str) else None
