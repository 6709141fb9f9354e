"""Parse stage, the JSON Feed backend: a JSON Feed 1.0 or 1.1 document (jsonfeed.org) ->
ParsedFeed, as the RSS and Atom backends make it. Pure: no network, no clock; it must NOT
fetch what a feed names (next_url, feed_url, icons) nor clean what normalize cleans (HTML
is sanitized there, text scrubbed there). Whatever is not JSON it declines, for the XML
backends.

How the spec's fields map (to what a reader would show of them):
- item `id` is the guid (a number is coerced to a string, as the spec asks); `url` the
  link, else `external_url`. With both, the post links to its own page and its content
  ends with a link to the external one (a linkblog's post is about that page).
- `content_html` is the content, else `content_text` escaped (blank lines make paragraphs,
  line breaks <br>); `summary` (plain text) is the summary. `image`, else `banner_image`,
  opens the content when the content does not show it already; `attachments` close it as
  links to their files (a Post has no enclosures, and RSS enclosures are not read: this
  keeps a JSON Feed podcast's episodes reachable). `date_published`/`date_modified` are
  read by parse.dates; `authors` (1.1), else `author` (1.0), else the feed's (the spec
  says they apply to items naming none), name the author; `tags` are the categories.
- the feed's `title`, `home_page_url` (its link) and `feed_url` (its id, else the home
  page). `description`, `icon`, `favicon` and `expired` have no place in a ParsedFeed, as
  RSS's description and image have none: an expired feed is read as a feed that stopped.
  `next_url` is never followed: the first page is the feed.
- `language` (1.1, the feed's and an item's) is left out, whatever it holds, as RSS's
  <language> and Atom's xml:lang are: a post has no language (DESIGN's post format; a new
  front matter key would change every post file), and what a published page or feed
  declares is the site's `site.language`, for every post of every source alike.
Values of the wrong type are treated as absent; a body that is no JSON Feed raises.
"""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from aggregator.errors import ParseError
from aggregator.parse.charset import to_utf8
from aggregator.parse.dates import parse_date
from aggregator.parse.hubs import websub_links
from aggregator.types import DateOrder, ParsedFeed, RawEntry

__all__ = ["JSON_FEED_TYPES", "parse_jsonfeed"]

# The media types a server labels JSON with (RFC 8259, jsonfeed.org's application/feed+json).
JSON_FEED_TYPES = frozenset({"application/feed+json", "application/json"})
# The spec's version URLs; generators also write them with http: or www. (Hakyll does).
_VERSION = re.compile(r"\s*https?://(?:www\.)?jsonfeed\.org/version/", re.I)
_VERSION_BYTES = re.compile(rb"jsonfeed\.org/version/", re.I)
# A JSON text opens with an object or an array (after a BOM and whitespace); XML never does.
_JSON_START = re.compile(rb"(?:\xef\xbb\xbf)?[ \t\r\n]*[{\[]")
_PARAGRAPHS = re.compile(r"\n[ \t]*\n\s*")
_LINE_BREAK = re.compile(r"\r\n?")


def parse_jsonfeed(
    content: bytes,
    headers: Mapping[str, str],
    *,
    url: str,
    date_order: DateOrder | None = None,
) -> ParsedFeed | None:
    """Read a JSON Feed: served as JSON (application/feed+json, application/json, any
    +json type) or, served as anything, a JSON object whose `version` is jsonfeed.org's.

    Returns None for a body that does not open as JSON, or that is JSON of some other
    kind not served as JSON: the XML backends then read it. `date_order` is the source's
    (aggregator.parse.dates.parse_date).

    Raises:
        ParseError: a body served as JSON, or naming a JSON Feed version, that is not
            valid JSON, is nested too deeply, is no JSON Feed object, or whose `items`
            is not a list.
    """
    if _JSON_START.match(content) is None:
        return None
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    media = content_type.split(";", 1)[0].strip().lower()
    served_as_json = media in JSON_FEED_TYPES or media.endswith("+json")
    try:
        document = json.loads(_decoded(content, content_type))
    except RecursionError:
        raise ParseError("malformed JSON: nested too deeply") from None
    except ValueError as e:  # JSONDecodeError, and int() refusing a 5,000-digit number
        if not served_as_json and not _names_a_version(content):
            return None
        if isinstance(e, json.JSONDecodeError):
            reason = f"{e.msg.removesuffix(' at')}: line {e.lineno} column {e.colno}"
        else:
            reason = str(e).splitlines()[0][:120]
        raise ParseError(f"malformed JSON: {reason}") from None
    if not _is_json_feed(document, media):
        if not served_as_json:
            return None
        raise ParseError("not a feed (JSON, but not a JSON Feed: no jsonfeed.org version)")
    return _feed(document, date_order)


def _decoded(content: bytes, content_type: str) -> str:
    # JSON is UTF-8 (RFC 8259 §8.1: a charset parameter means nothing for it), so a label
    # is followed only when the bytes are not UTF-8: a feed served with a wrong one.
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return to_utf8(content, content_type or None).body.decode("utf-8", "replace")


def _names_a_version(content: bytes) -> bool:
    return _VERSION_BYTES.search(content, 0, 65536) is not None


def _is_json_feed(document: object, media: str) -> bool:
    if not isinstance(document, dict):
        return False
    version = document.get("version")
    if isinstance(version, str) and _VERSION.match(version):
        return True
    # The server says it is one, and it has what a JSON Feed has: read it without a version.
    return media == "application/feed+json" and isinstance(document.get("items"), list)


def _feed(document: dict[str, Any], date_order: DateOrder | None) -> ParsedFeed:
    items = document.get("items", [])
    if items is None:
        items = []
    if not isinstance(items, list):
        raise ParseError(f"malformed JSON Feed: items is {_kind(items)}, not a list")
    link = _text(document.get("home_page_url"))
    feed_authors = _authors(document)
    entries = tuple(
        _entry(item, feed_authors, date_order) for item in items if isinstance(item, dict)
    )
    # JSON Feed 1.1 `hubs`: [{"type": "WebSub", "url": ...}]; its own URL is `feed_url`.
    hubs = document.get("hubs")
    named = [
        ("hub", hub.get("url"))
        for hub in (hubs if isinstance(hubs, list) else ())
        if isinstance(hub, dict) and str(hub.get("type", "")).lower() == "websub"
    ]
    hub_urls, self_url = websub_links([*named, ("self", document.get("feed_url"))])
    return ParsedFeed(
        title=_text(document.get("title")),
        link=link,
        feed_id=_text(document.get("feed_url")) or link,
        hubs=hub_urls,
        self_url=self_url,
        entries=entries,
    )


def _entry(
    item: dict[str, Any], feed_authors: str | None, date_order: DateOrder | None
) -> RawEntry:
    url = _text(item.get("url"))
    external = _text(item.get("external_url"))
    title = _text(item.get("title"))
    summary = _plain_html(item.get("summary"))
    body = _text(item.get("content_html")) or _paragraphs(item.get("content_text"))
    content = _shown(body or summary, item, own=url, external=external)
    tags = item.get("tags")
    return RawEntry(
        guid=_id(item.get("id")),
        link=url or external,
        title=html.escape(title, quote=False) if title is not None else None,
        content=content,
        summary=summary,
        published=_date(item.get("date_published"), date_order),
        updated=_date(item.get("date_modified"), date_order),
        author=_authors(item) or feed_authors,
        categories=tuple(t for t in map(_text, tags) if t is not None)
        if isinstance(tags, list)
        else (),
    )


def _shown(
    body: str | None, item: dict[str, Any], *, own: str | None, external: str | None
) -> str | None:
    """The item's HTML with what a reader shows around it: its image first, unless the
    body shows it already; the external page a linkblog post is about, and attachments,
    after it. Every URL is an attribute value here: sanitize_html drops what is no
    http(s) URL (javascript:, data:)."""
    before: list[str] = []
    after: list[str] = []
    image = _shown_url(item.get("image")) or _shown_url(item.get("banner_image"))
    if image is not None and (body is None or image not in body):
        before.append(f'<p><img src="{_attr(image)}" alt=""></p>')
    external = _shown_url(external)
    if own is not None and external is not None and external != own:
        host = _host(external)
        after.append(f'<p><a href="{_attr(external)}">{_escaped(host or external)}</a></p>')
    attachments = item.get("attachments")
    for attachment in attachments if isinstance(attachments, list) else ():
        shown = _attachment(attachment)
        if shown is not None:
            after.append(shown)
    if not before and not after:
        return body
    return "".join([*before, body or "", *after])


def _attachment(attachment: object) -> str | None:
    if not isinstance(attachment, dict):
        return None
    url = _shown_url(attachment.get("url"))
    if url is None:
        return None
    name = _text(attachment.get("title")) or _file_name(url) or _host(url) or url
    facts = [f for f in (_text(attachment.get("mime_type")), _duration(attachment)) if f]
    extra = f" ({_escaped(', '.join(facts))})" if facts else ""
    return f'<p><a href="{_attr(url)}">{_escaped(name)}</a>{extra}</p>'


def _duration(attachment: dict[str, Any]) -> str | None:
    seconds = attachment.get("duration_in_seconds")
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        return None
    if not math.isfinite(seconds) or not 0 < seconds < 10**7:
        return None
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _shown_url(value: object) -> str | None:
    """`value` when it is a URL worth an element: http(s), or relative to the item's page.
    Anything else (javascript:, data:, mailto:) would leave an empty element once
    sanitize_html drops it."""
    url = _text(value)
    if url is None:
        return None
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        return None
    return url if scheme in ("", "http", "https") else None


def _file_name(url: str) -> str:
    try:
        path = urlsplit(url).path
    except ValueError:
        return ""
    return path.rstrip("/").rpartition("/")[2]


def _host(url: str) -> str:
    try:
        return urlsplit(url).hostname or ""
    except ValueError:
        return ""


def _authors(owner: dict[str, Any]) -> str | None:
    """The names of `authors` (1.1), else of `author` (1.0), joined as a byline."""
    authors = owner.get("authors")
    if not isinstance(authors, list) or not authors:
        authors = [owner.get("author")]
    names: list[str] = []
    for author in authors:
        name = _text(author.get("name")) if isinstance(author, dict) else None
        if name is not None and name not in names:
            names.append(name)
    return ", ".join(names) or None


def _id(value: object) -> str | None:
    # JSON Feed 1.1: "If an id is presented as a number or other type, a JSON Feed reader
    # must coerce it to a string." Lists and objects have no string a reader would agree on.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return str(int(value)) if value.is_integer() else repr(value)
    return _text(value)


def _date(value: object, date_order: DateOrder | None) -> datetime | None:
    # The spec asks for RFC 3339; parse_date reads that and what feeds write instead.
    return parse_date(value, date_order=date_order) if isinstance(value, str) else None


def _text(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    return value.strip() or None


def _plain_html(value: object) -> str | None:
    """Plain text as HTML that reads back as the same text."""
    text = _text(value)
    return _escaped(text) if text is not None else None


def _paragraphs(value: object) -> str | None:
    """content_text as HTML: escaped, blank lines between paragraphs, line breaks kept."""
    text = _text(value)
    if text is None:
        return None
    blocks = _PARAGRAPHS.split(_LINE_BREAK.sub("\n", text))
    return "".join(f"<p>{_escaped(b.strip()).replace(chr(10), '<br>')}</p>" for b in blocks)


def _escaped(text: str) -> str:
    return html.escape(text, quote=False)


def _attr(value: str) -> str:
    return html.escape(value, quote=True)


def _kind(value: object) -> str:
    return {dict: "an object", str: "a string", bool: "a boolean"}.get(
        type(value), "a number" if isinstance(value, int | float) else "not a list"
    )
