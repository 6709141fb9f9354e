"""The operator's status page that `aggregator serve` answers at /status (with its token):
every source's health, its check interval and why, its items per day over 30 days as an
inline SVG sparkline, and the site's requests, new items and fetch times per hour.

Pure: renders what it is given (status.py's health, the store's attempts, `now`) into one
HTML document with no script and no external asset. Must NOT read the store, decide a
source's health (status.py) or serve anything (healthroutes.py). Every value from a feed,
a server or the config is escaped by Jinja's autoescape; the SVGs hold numbers only.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from markupsafe import Markup

from aggregator.schedule import as_scheduled
from aggregator.status import Health, SourceHealth
from aggregator.types import Attempt

__all__ = ["DAYS", "Row", "interval_and_why", "render_status_page", "sparkline"]

DAYS = 30  # the sparklines' span
HOURS = 48  # the site-wide plots' span


@dataclass(frozen=True, slots=True, kw_only=True)
class Row:
    """One source's line of the page."""

    name: str
    url: str
    health: str  # ok, failing, disabled, deferred, new, moved
    last: str  # when last fetched, site zone
    next: str
    interval: str
    why: str
    error: str
    posts: int
    spark: Markup


def interval_and_why(h: SourceHealth, *, now: datetime) -> tuple[timedelta | None, str]:
    """The delay before `h`'s next check as its state holds it, and why it is that."""
    state, source = h.state, h.source
    if state.disabled:
        return None, "disabled"
    if state.next_check is None or state.last_fetched is None:
        return None, "due now (never fetched)"
    delay = state.next_check - state.last_fetched
    if state.failures:
        return delay, f"backoff after {state.failures} failure(s)"
    if _asked_to_wait(state.last_error):
        return delay, "Retry-After"
    if source.cron:
        return delay, f"cron {source.cron}"
    base = as_scheduled(source, state, now=state.last_fetched).interval
    if state.feed_ttl is not None and state.feed_ttl > base:
        return delay, "the feed's <ttl>"
    if delay > base * 1.2:  # beyond the jitter: the server's cache lifetime
        return delay, "Cache-Control / Expires"
    if source.adaptive:
        return delay, "adaptive (posting rate)"
    return delay, "fixed interval"


def sparkline(values: Sequence[int], *, width: int = 120, height: int = 24) -> Markup:
    """An inline SVG of `values` (one bar each), scaled to the largest; numbers only."""
    most = max(values, default=0) or 1
    step = width / max(len(values), 1)
    bars = "".join(
        f'<rect x="{i * step:.1f}" y="{height - v * height / most:.1f}" '
        f'width="{max(step - 1, 1):.1f}" height="{v * height / most:.1f}"/>'
        for i, v in enumerate(values)
        if v
    )
    total = sum(values)
    return Markup(
        f'<svg class="spark" viewBox="0 0 {width} {height}" width="{width}" height="{height}"'
        f' role="img" aria-label="{total} items in {len(values)} days">{bars}'
        f'<line x1="0" y1="{height - 0.5}" x2="{width}" y2="{height - 0.5}"/></svg>'
    )


def render_status_page(
    health: Health, attempts: Iterable[Attempt], *, now: datetime, zone: str, title: str
) -> str:
    """The whole page, as UTF-8 text."""
    import jinja2

    tz = ZoneInfo(zone)
    made = list(attempts)
    per_day = _per_day(made, now=now, tz=tz)
    rows = [_row(h, per_day.get(h.source.name, [0] * DAYS), now=now, tz=tz) for h in health.sources]
    counts = Counter(r.health for r in rows)
    hours = _per_hour(made, now=now)
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    return env.from_string(_PAGE).render(
        title=title,
        now=now.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
        zone=zone,
        rows=rows,
        counts=sorted(counts.items()),
        published=health.published,
        pending=health.pending,
        nodes=health.nodes,
        plots=[
            ("requests per hour", sparkline([h[0] for h in hours], width=480, height=60)),
            ("new items per hour", sparkline([h[1] for h in hours], width=480, height=60)),
            (
                "mean fetch time per hour (ms)",
                sparkline([h[2] for h in hours], width=480, height=60),
            ),
        ],
        hours=HOURS,
        days=DAYS,
    )


def _row(h: SourceHealth, days: list[int], *, now: datetime, tz: ZoneInfo) -> Row:
    state = h.state
    delay, why = interval_and_why(h, now=now)
    if h.stored is None:
        health = "new"
    elif state.disabled:
        health = "disabled"
    elif state.failures:
        health = "deferred" if _asked_to_wait(state.last_error) else "failing"
    elif state.url != h.source.url:
        health = "moved"
    else:
        health = "ok"
    return Row(
        name=h.source.name,
        url=h.source.url,
        health=health,
        last=_when(state.last_fetched, tz, "never"),
        next="-" if state.disabled else _when(state.next_check, tz, "now"),
        interval="-" if delay is None else _duration(delay),
        why=why,
        error=state.disabled or state.last_error or "",
        posts=h.posts,
        spark=sparkline(days),
    )


def _per_day(made: Sequence[Attempt], *, now: datetime, tz: ZoneInfo) -> dict[str, list[int]]:
    """Source -> new items per day, the last DAYS days (the oldest first), site zone."""
    today = now.astimezone(tz).date()
    counts: dict[str, list[int]] = defaultdict(lambda: [0] * DAYS)
    for a in made:
        back = (today - a.at.astimezone(tz).date()).days
        if 0 <= back < DAYS and a.new:
            counts[a.source][DAYS - 1 - back] += a.new
    return dict(counts)


def _per_hour(made: Sequence[Attempt], *, now: datetime) -> list[tuple[int, int, int]]:
    """(requests, new items, mean fetch ms) per hour, the last HOURS hours, oldest first."""
    requests, new, ms = [0] * HOURS, [0] * HOURS, [0.0] * HOURS
    for a in made:
        back = int((now - a.at).total_seconds() // 3600)
        if 0 <= back < HOURS:
            i = HOURS - 1 - back
            requests[i] += 1
            new[i] += a.new
            ms[i] += a.seconds * 1000
    return [(r, n, int(t / r) if r else 0) for r, n, t in zip(requests, new, ms, strict=True)]


def _asked_to_wait(error: str | None) -> bool:
    """The last error was a server's 429/503 with a time to wait (decide.after_failure)."""
    return error is not None and "retry after" in error.lower()


def _when(when: datetime | None, tz: ZoneInfo, missing: str) -> str:
    return missing if when is None else when.astimezone(tz).strftime("%m-%d %H:%M")


def _duration(delay: timedelta) -> str:
    seconds = int(delay.total_seconds())
    if seconds >= 86400:
        return f"{seconds / 86400:.1f}d"
    if seconds >= 3600:
        return f"{seconds / 3600:.1f}h"
    return f"{max(seconds, 0) // 60}m"


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>Status: {{ title }}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:0 auto;max-width:72rem;padding:.5rem;color:#222}
h1{font-size:1.3rem}h2{font-size:1.05rem;margin-top:1.5rem}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.25rem .4rem;border-bottom:1px solid #ddd;vertical-align:top}
td.err{color:#a00;max-width:22rem;overflow-wrap:anywhere}
.url{color:#555;font-size:.85em;overflow-wrap:anywhere}
.h{font-weight:600;border-radius:.3rem;padding:0 .3rem}
.ok{background:#dfd}.failing{background:#fdd}.disabled{background:#ddd}
.deferred{background:#ffd}.new{background:#def}.moved{background:#fed}
svg.spark rect{fill:#369}svg.spark line{stroke:#999;stroke-width:1}
.plots{display:flex;flex-wrap:wrap;gap:1rem}
.plots figure{margin:0;flex:1 1 16rem;min-width:0}.plots svg{width:100%;height:auto}
@media (max-width:40rem){
 table,thead,tbody,tr,td,th{display:block}thead{display:none}
 tr{border-bottom:2px solid #bbb;padding:.3rem 0}td{border:0;padding:.1rem 0}
 td[data-k]::before{content:attr(data-k) ": ";color:#666}
}
</style></head><body>
<h1>{{ title }}: status</h1>
<p>{{ now }} {{ zone }} &middot; {{ rows|length }} sources:
{% for name, n in counts %}<span class="h {{ name }}">{{ n }} {{ name }}</span> {% endfor %}
&middot; {{ published }} posts published, {{ pending }} pending</p>
<h2>The last {{ hours }} hours</h2>
<div class="plots">{% for label, svg in plots %}<figure>{{ svg }}<figcaption>{{ label }}
</figcaption></figure>{% endfor %}</div>
{% if nodes %}<h2>Nodes</h2><table><thead><tr><th>node</th><th>state</th><th>leases</th>
<th>rounds</th><th>errors</th></tr></thead><tbody>
{% for n in nodes %}<tr><td>{{ n.record.id }}</td><td>{{ n.state }}</td><td>{{ n.leases }}</td>
<td>{{ n.record.rounds }}</td><td>{{ n.record.errors }}</td></tr>{% endfor %}
</tbody></table>{% endif %}
<h2>Sources</h2>
<table><thead><tr><th>source</th><th>health</th><th>last</th><th>next</th><th>interval</th>
<th>items, {{ days }} days</th><th>posts</th><th>error</th></tr></thead><tbody>
{% for r in rows %}<tr>
<td>{{ r.name }}<div class="url">{{ r.url }}</div></td>
<td data-k="health"><span class="h {{ r.health }}">{{ r.health }}</span></td>
<td data-k="last">{{ r.last }}</td><td data-k="next">{{ r.next }}</td>
<td data-k="interval">{{ r.interval }} <span class="url">{{ r.why }}</span></td>
<td data-k="items">{{ r.spark }}</td><td data-k="posts">{{ r.posts }}</td>
<td class="err" data-k="error">{{ r.error }}</td></tr>
{% endfor %}</tbody></table>
</body></html>
"""
