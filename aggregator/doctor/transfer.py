"""Doctor, the HTTP side: redirects, validators and whether a conditional GET answers 304,
freshness (Cache-Control/Expires), size, compression and time. Pure over a Probe: no
network, no clock (`probe.now` is the time).
"""

from __future__ import annotations

from datetime import timedelta

from aggregator.doctor.findings import Finding, Level, Probe, Settings, finding
from aggregator.fetch.messages import size
from aggregator.schedule import cache_lifetime
from aggregator.types import FetchResult

__all__ = ["fetch_failed", "transfer_findings"]

_PERMANENT = frozenset({301, 308})
# A body served without compression above this size is worth a word: gzip shrinks feeds
# (text, repetitive markup) to a fifth or less.
_UNCOMPRESSED_NOTE = 100 * 1024
_LONG_LIFETIME = timedelta(days=1)


def fetch_failed(probe: Probe, settings: Settings) -> Finding:
    """The finding for a first fetch that failed: the one error that says why."""
    error = probe.error or "no answer"
    cap = _size(settings.fetch.max_bytes)
    if "larger than" in error and "decompressed" in error:
        meaning = (
            f"The body inflates past fetch.max_bytes ({cap}) once its Content-Encoding is "
            "undone (a decompression bomb, or a feed far too large): the fetch was stopped "
            "there, and nothing of it would be stored."
        )
    elif "larger than" in error:
        meaning = (
            f"The body is over fetch.max_bytes ({cap}): the fetch was stopped there and "
            "nothing of it would be stored; raise the cap only if the feed really is this large."
        )
    else:
        meaning = (
            "The feed cannot be fetched: every check would fail with this error, and the "
            "source would back off and show it in `aggregator status`."
        )
    return finding("fetch", "error", error, meaning, status=probe.error_status)


def transfer_findings(probe: Probe, settings: Settings) -> list[Finding]:
    """Redirects, caching, the conditional GET, size, compression, time: a fetch that worked."""
    result = probe.result
    assert result is not None and result.content is not None
    return [
        _redirects(probe.url, result, settings),
        _validators(result),
        _conditional(probe, result),
        _freshness(probe, result),
        _size_found(result, settings),
        _compression(result),
        _time(probe, settings),
    ]


def _redirects(url: str, result: FetchResult, settings: Settings) -> Finding:
    hops = result.redirects
    chain = [{"url": asked, "status": status} for asked, status in hops]
    chain.append({"url": result.url, "status": result.status})
    text = " -> ".join(f"{hop['url']} ({hop['status']})" for hop in chain)
    if not hops:
        return finding(
            "redirects",
            "ok",
            f"none: {result.status} from the URL asked",
            "The feed is served at the URL given.",
            chain=chain,
        )
    permanent = all(status in _PERMANENT for _, status in hops)
    downgrade = any(
        asked.startswith("https:") and nxt.startswith("http:")
        for (asked, _), nxt in zip(hops, [*(a for a, _ in hops[1:]), result.url], strict=True)
    )
    if downgrade:
        return finding(
            "redirects",
            "warn",
            text,
            "A redirect leads from https to plain http: the feed travels unencrypted, and "
            "anyone on the way can change what is republished.",
            chain=chain,
        )
    if permanent:
        threshold = settings.fetch.redirect_threshold
        return finding(
            "redirects",
            "warn",
            text,
            f"The feed has moved for good: after {threshold} fetches that see the move, "
            f"aggregator fetches {result.url} instead; put that URL in the config to save "
            f"{len(hops)} request(s) per check.",
            chain=chain,
        )
    if len(hops) == 1:
        return finding(
            "redirects",
            "ok",
            text,
            "A temporary redirect: aggregator keeps asking the URL given, as the server "
            "asks, at the cost of one more request per check.",
            chain=chain,
        )
    return finding(
        "redirects",
        "warn",
        text,
        f"{len(hops)} redirects, not all permanent: every check costs {len(hops) + 1} "
        "requests, and aggregator keeps the URL given.",
        chain=chain,
    )


def _validators(result: FetchResult) -> Finding:
    etag, modified = result.validators.etag, result.validators.last_modified
    data = {"etag": etag, "last_modified": modified}
    if not etag and not modified:
        return finding(
            "validators",
            "warn",
            "no ETag, no Last-Modified",
            "Nothing to send back in a conditional GET: every check downloads the whole "
            f"feed ({_size(len(result.content or b''))}) even when nothing changed.",
            **data,
        )
    shown = ", ".join(
        part for part in (etag and f"ETag {etag}", modified and f"Last-Modified {modified}") if part
    )
    return finding(
        "validators",
        "ok",
        shown,
        "aggregator sends these back (If-None-Match, If-Modified-Since) on the next check.",
        **data,
    )


def _conditional(probe: Probe, result: FetchResult) -> Finding:
    if not result.validators.etag and not result.validators.last_modified:
        return finding(
            "conditional GET",
            "warn",
            "not tried: no validators",
            "The server gives nothing to make a request conditional with: an unchanged "
            "feed is downloaded again on every check.",
            status=None,
        )
    second = probe.conditional
    if second is None:
        return finding(
            "conditional GET",
            "warn",
            f"the second request failed: {probe.conditional_error}",
            "Whether the server answers 304 could not be told.",
            status=None,
        )
    if second.status == 304:
        return finding(
            "conditional GET",
            "ok",
            "304 Not Modified",
            "An unchanged feed costs a short answer and no parsing on each check.",
            status=304,
        )
    same = second.content == result.content
    etag_moved = bool(result.validators.etag) and second.validators.etag != result.validators.etag
    text = f"{second.status} with the whole body again" + (", unchanged" if same else "")
    if etag_moved and same:
        text += "; its ETag changed though the body did not"
    return finding(
        "conditional GET",
        "warn",
        text,
        "The server ignores the validators it sent: every check downloads the whole feed "
        "again (aggregator does skip parsing a body identical to the last one).",
        status=second.status,
        same_body=same,
        etag_changed=etag_moved,
    )


def _freshness(probe: Probe, result: FetchResult) -> Finding:
    headers = result.headers
    said = {k: headers.get(k) for k in ("cache-control", "expires") if headers.get(k)}
    shown = "; ".join(f"{k.title()}: {v}" for k, v in said.items()) or "neither"
    lifetime = cache_lifetime(headers, now=probe.now)
    seconds = int(lifetime.total_seconds()) if lifetime else None
    data = {"cache_control": said.get("cache-control"), "expires": said.get("expires")}
    if lifetime is None:
        return finding(
            "freshness",
            "ok",
            f"Cache-Control/Expires: {shown}; no lifetime",
            "The response sets no freshness lifetime: the source's interval alone decides "
            "when it is checked.",
            lifetime_seconds=None,
            **data,
        )
    level: Level = "warn" if lifetime > _LONG_LIFETIME else "ok"
    return finding(
        "freshness",
        level,
        f"{shown}; fresh for {_duration(lifetime)}",
        f"With respect_cache (the default) aggregator checks it at most every "
        f"{_duration(lifetime)}, whatever the interval"
        + (
            ": new items may wait that long (respect_cache: false ignores it)."
            if level == "warn"
            else "."
        ),
        lifetime_seconds=seconds,
        **data,
    )


def _size_found(result: FetchResult, settings: Settings) -> Finding:
    length = len(result.content or b"")
    cap = settings.fetch.max_bytes
    data = {"bytes": length, "max_bytes": cap}
    if length > cap // 2:
        return finding(
            "size",
            "warn",
            f"{_size(length)} (fetch.max_bytes {_size(cap)})",
            "Over half the size cap: a feed that grows past it fails on every check.",
            **data,
        )
    return finding("size", "ok", _size(length), "Well within fetch.max_bytes.", **data)


def _compression(result: FetchResult) -> Finding:
    coding = result.headers.get("content-encoding", "").strip()
    length = len(result.content or b"")
    declared = result.headers.get("content-length", "")
    wire = int(declared) if declared.isdigit() else None
    data = {"content_encoding": coding or None, "wire_bytes": wire, "bytes": length}
    if coding and coding.lower() != "identity":
        on_wire = f", {_size(wire)} on the wire" if wire is not None else ""
        return finding(
            "compression",
            "ok",
            f"Content-Encoding: {coding}{on_wire}",
            "Compressed on the way: each full download costs less.",
            **data,
        )
    level: Level = "warn" if length > _UNCOMPRESSED_NOTE else "ok"
    return finding(
        "compression",
        level,
        "none",
        "Served uncompressed: each full download costs the whole size"
        + (", which gzip would cut to a fraction." if level == "warn" else " (it is small)."),
        **data,
    )


def _time(probe: Probe, settings: Settings) -> Finding:
    limit = settings.fetch.total_timeout
    text = f"{probe.seconds:.2f}s (fetch.total_timeout {limit:g}s)"
    if probe.seconds > limit / 2:
        return finding(
            "time",
            "warn",
            text,
            "Over half the time allowed: a slower answer fails the check.",
            seconds=round(probe.seconds, 3),
        )
    return finding(
        "time", "ok", text, "Well within the time allowed.", seconds=round(probe.seconds, 3)
    )


def _size(n: int | None) -> str:
    return "?" if n is None else size(n)


def _duration(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    for unit, length in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= length and seconds % length == 0:
            return f"{seconds // length}{unit}"
    return f"{seconds}s"
