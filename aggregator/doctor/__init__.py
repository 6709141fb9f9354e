"""Doctor: one URL fetched and parsed as a round would, and what an operator should know
about it (`aggregator doctor URL`). Must NOT write anything: no store, no output_dir, no
state; it changes nothing of how a round fetches or parses.

    findings.py  the records: Probe (what was fetched), Finding, Report, Settings
    probe.py     the only I/O: the fetch and the conditional one after it, through the Fetcher
    transfer.py  redirects, validators, the conditional GET, freshness, size, compression, time
    document.py  format and version, parser path, well-formedness, ttl and skips
    charset.py   the charset declared and the one read
    pages.py     an HTML page's advertised feeds
    items.py     items: ids, links, dates

`diagnose` is pure over a Probe (and the config's Settings): table-testable.
"""

from __future__ import annotations

from aggregator.doctor.document import read_body
from aggregator.doctor.findings import LEVELS, Finding, Level, Probe, Report, Settings
from aggregator.doctor.items import item_findings
from aggregator.doctor.transfer import fetch_failed, transfer_findings

__all__ = ["LEVELS", "Finding", "Level", "Probe", "Report", "Settings", "diagnose"]


def diagnose(probe: Probe, settings: Settings) -> Report:
    """Every finding about `probe`'s URL, HTTP first, then the body, then its items.

    Raises nothing: what the URL, the server or the body does wrong is a finding.
    """
    result = probe.result
    if result is None or result.content is None:
        return Report(url=probe.url, final_url=None, findings=[fetch_failed(probe, settings)])
    findings = transfer_findings(probe, settings)
    body = read_body(result.content, result.headers, url=result.url, settings=settings)
    findings += body.findings
    if body.feed is not None:
        findings += item_findings(body.feed, url=result.url, settings=settings, now=probe.now)
    return Report(url=probe.url, final_url=result.url, findings=findings)
