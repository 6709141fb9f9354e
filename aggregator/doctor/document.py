"""Doctor, the body: its charset (declared and read), its format and version, whether it is
well-formed, which parser backend took it, its TTL and skipHours/skipDays, and for an HTML
page the feeds it advertises. Pure: no network, no clock; it parses through
aggregator.parse as a round does, and must NOT change how anything is parsed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from lxml import etree

from aggregator.doctor.charset import charset_finding
from aggregator.doctor.findings import Finding, Level, Settings, finding
from aggregator.doctor.pages import advertised
from aggregator.errors import ParseError
from aggregator.parse import FAST_FIRST, REFERENCE_ONLY, Backend, parse
from aggregator.parse.fast import parse_fast
from aggregator.parse.jsonfeed import parse_jsonfeed
from aggregator.parse.reference import parse_reference
from aggregator.parse.ttl import parse_skip_days, parse_skip_hours
from aggregator.types import DateOrder, ParsedFeed

__all__ = ["Body", "read_body"]

_HTML = re.compile(
    rb"^\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html)\b", re.I | re.S
)
_JSON = re.compile(rb"^[ \t\r\n]*[{\[]")
_JSON_VERSION = re.compile(
    r"^\s*https?://(?:www\.)?jsonfeed\.org/version/(\d+(?:\.\d+)?)/?\s*$", re.I
)
_ATOM = "{http://www.w3.org/2005/Atom}feed"
_ATOM_03 = "{http://purl.org/atom/ns#}feed"
_RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}RDF"
_RSS_10 = "http://purl.org/rss/1.0/"
_RSS_090 = "http://my.netscape.com/rdf/simple/0.9/"
_BACKEND_NAMES: Mapping[object, str] = {
    parse_jsonfeed: "JSON Feed",
    parse_fast: "fast (fastfeedparser)",
    parse_reference: "reference (feedparser)",
}
_LONG_TTL = timedelta(days=1)
# A strict parser, as strict readers are; it resolves no entity and fetches nothing.
_STRICT = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
_LENIENT = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, recover=True)


@dataclass(frozen=True, slots=True, kw_only=True)
class Body:
    """What the doctor read of one body: its findings, and the feed parsed (None: refused)."""

    findings: list[Finding]
    feed: ParsedFeed | None
    url: str  # the base the body's relative links resolve against (where it came from)


def read_body(content: bytes, headers: Mapping[str, str], *, url: str, settings: Settings) -> Body:
    """The charset, format, well-formedness, parser path and schedule hints of a body.

    Raises nothing: what the body lacks or breaks is a finding.
    """
    content_type = headers.get("content-type")
    charset, decoded = charset_finding(content, content_type)
    findings = [charset]
    kind, version, root, xml_error = _kind(decoded if decoded is not None else content)
    date_order: DateOrder | None = settings.source.date_order if settings.source else None
    took: list[str] = []
    backends = FAST_FIRST if settings.fast else REFERENCE_ONLY
    feed: ParsedFeed | None = None
    refused: str | None = None
    try:
        feed = parse(
            content,
            headers,
            url=url,
            backends=[_tracked(b, took) for b in backends],
            date_order=date_order,
        )
    except ParseError as e:
        refused = str(e)
    if kind == "html" and feed is None:
        findings.append(
            finding(
                "format",
                "error",
                "an HTML page, not a feed",
                "aggregator cannot poll a web page: give the URL of one of the feeds it "
                "advertises instead.",
                kind="html",
                version=None,
            )
        )
        findings.append(advertised(content, url))
        return Body(findings=findings, feed=None, url=url)
    findings.append(_format(kind, version, content_type, parsed=feed is not None))
    if refused is not None:
        findings.append(
            finding(
                "parse",
                "error",
                refused,
                "No parser can read it: every check would fail with this error.",
                backends_declined=took,
            )
        )
    else:
        findings.append(_parser_path(took, settings))
    if kind == "xml":
        findings.append(_well_formed(xml_error, parsed=feed is not None))
    if feed is not None:
        findings.append(_schedule_hints(feed, root))
    return Body(findings=findings, feed=feed, url=url)


def _tracked(backend: Backend, took: list[str]) -> Backend:
    """`backend`, noting its name in `took` when it reads the body rather than decline it."""
    name = _BACKEND_NAMES.get(backend, getattr(backend, "__name__", "backend"))

    def run(
        content: bytes, headers: Mapping[str, str], *, url: str, date_order: DateOrder | None
    ) -> ParsedFeed | None:
        parsed = backend(content, headers, url=url, date_order=date_order)
        took.append(name if parsed is not None else f"{name}: declined")
        return parsed

    return run


# ------------------------------------------------------------------- format


def _kind(body: bytes) -> tuple[str, str | None, etree._Element | None, str | None]:
    """("xml" | "json" | "html" | "other", the format's name, the XML root, the first XML
    error); `body` is UTF-8."""
    if _JSON.match(body):
        try:
            document = json.loads(body)
        except (ValueError, RecursionError):  # RecursionError: arrays nested too deeply
            return "json", None, None, None
        version = document.get("version") if isinstance(document, dict) else None
        match = _JSON_VERSION.match(version) if isinstance(version, str) else None
        return "json", f"JSON Feed {match.group(1)}" if match else None, None, None
    if _HTML.match(body[:4096]):
        return "html", None, None, None
    error = None
    try:
        root = etree.fromstring(body, parser=_STRICT)
    except etree.XMLSyntaxError as e:
        error = f"line {e.lineno}: {e.msg}"
        try:
            root = etree.fromstring(body, parser=_LENIENT)
        except etree.XMLSyntaxError:
            root = None
    if root is None:
        return ("xml" if body.lstrip().startswith(b"<") else "other"), None, None, error
    tag = root.tag if isinstance(root.tag, str) else ""
    if tag in ("html", "{http://www.w3.org/1999/xhtml}html"):
        return "html", None, None, None
    return "xml", _xml_format(root, tag), root, error


def _xml_format(root: etree._Element, tag: str) -> str | None:
    if tag == "rss":
        version = (root.get("version") or "").strip()
        return f"RSS {version}" if version else "RSS (no version)"
    if tag == _ATOM:
        return "Atom 1.0"
    if tag == _ATOM_03:
        return "Atom 0.3"
    if tag == _RDF:
        namespaces = {etree.QName(child).namespace for child in root if isinstance(child.tag, str)}
        if _RSS_10 in namespaces:
            return "RSS 1.0 (RDF)"
        if _RSS_090 in namespaces:
            return "RSS 0.90 (RDF)"
        return "RDF (no RSS channel)"
    return None


def _format(kind: str, version: str | None, content_type: str | None, *, parsed: bool) -> Finding:
    media = (content_type or "").split(";", 1)[0].strip().lower() or None
    if version is None:
        what = {"json": "JSON, but no JSON Feed", "xml": "XML of no feed format known"}
        return finding(
            "format",
            # feedparser reads some shapes no spec names (a root without its namespace...).
            "warn" if parsed else "error",
            what.get(kind, "neither XML nor JSON"),
            "Not a format the feed specs name, though the parser made a feed of it."
            if parsed
            else "Not a feed aggregator reads (RSS 0.9x/2.0, RSS 1.0, Atom, JSON Feed 1.x).",
            kind=kind,
            version=None,
            content_type=media,
        )
    if version in ("Atom 0.3", "RSS 0.90 (RDF)"):
        meaning = f"{version} is long obsolete: it is read, but the site may stop serving it."
        return finding(
            "format", "warn", version, meaning, kind=kind, version=version, content_type=media
        )
    return finding(
        "format",
        "ok",
        f"{version} (served as {media or 'no Content-Type'})",
        "A format aggregator reads.",
        kind=kind,
        version=version,
        content_type=media,
    )


def _parser_path(took: list[str], settings: Settings) -> Finding:
    used = next((t for t in took if not t.endswith(": declined")), "?")
    declined = [t.removesuffix(": declined") for t in took if t.endswith(": declined")]
    if used.startswith("reference") and "fast (fastfeedparser)" in declined:
        meaning = (
            "The fast path declined this body (it takes only what it maps exactly); "
            "feedparser reads it: the same result, at a few times the cost per check."
        )
    elif used.startswith("reference") and not settings.fast:
        meaning = "parser: feedparser in the config: the reference parser reads every body."
    else:
        meaning = "The parser a round would use for this body."
    return finding("parser", "ok", used, meaning, backend=used, declined=declined)


def _well_formed(error: str | None, *, parsed: bool) -> Finding:
    if error is None:
        return finding(
            "well-formed", "ok", "well-formed XML", "Any XML reader can read it.", error=None
        )
    if parsed:
        return finding(
            "well-formed",
            "warn",
            f"not well-formed: {error}",
            "feedparser recovered what it could (items after the fault may be lost); "
            "stricter readers refuse it. Tell the site.",
            error=error,
        )
    return finding(
        "well-formed",
        "error",
        f"not well-formed: {error}",
        "Nothing could be recovered from it.",
        error=error,
    )


def _schedule_hints(feed: ParsedFeed, root: etree._Element | None) -> Finding:
    hours: tuple[int, ...] = ()
    days: tuple[str, ...] = ()
    if root is not None and root.tag == "rss":
        hours = parse_skip_hours(h.text for h in root.iterfind("channel/skipHours/hour"))
        days = parse_skip_days(d.text for d in root.iterfind("channel/skipDays/day"))
    ttl = feed.ttl
    minutes = int(ttl.total_seconds() // 60) if ttl else None
    data: dict[str, object] = {
        "ttl_minutes": minutes,
        "skip_hours": list(hours),
        "skip_days": list(days),
    }
    parts = [f"ttl {minutes} min" if ttl else "no ttl"]
    if hours:
        parts.append("skipHours " + ",".join(map(str, hours)) + " (GMT)")
    if days:
        parts.append("skipDays " + ",".join(days))
    sentences = []
    if ttl:
        sentences.append(
            f"With respect_cache (the default) the source is checked at most every {minutes} min."
        )
    if hours or days:
        sentences.append(
            "aggregator does not skip the hours or days the feed names: it checks on its own "
            "schedule (a `cron:` on the source can match them)."
        )
    level: Level = "warn" if ttl and ttl > _LONG_TTL else "ok"
    if level == "warn":
        sentences.append("A ttl over a day: new items may wait that long (respect_cache: false).")
    meaning = " ".join(sentences) or "The feed gives no hint of how often to check it."
    return finding("ttl/skip", level, "; ".join(parts), meaning, **data)
