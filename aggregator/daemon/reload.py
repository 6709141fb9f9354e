"""A reload of the running daemon's config: the new config checked against the running
one, the shortened schedules it brings carried out in the store (as
decide.after_reschedule decides: the only state the daemon writes), and the shape of the
site it fixes (a change asks for a publish). Must NOT swap the running config or the
scheduler's jobs, nor publish: the Daemon does.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from aggregator.config import load_config
from aggregator.daemon.logs import log
from aggregator.errors import ConfigError, StoreError
from aggregator.store.api import SourceStates
from aggregator.types import UTC, Config, Source

__all__ = ["log_reload", "reloaded", "reschedule", "site_shape"]


def site_shape(config: Config) -> tuple[tuple[str, str], ...]:
    """What the config and its templates fix of the published site (publish.fingerprint):
    a reload that changes it publishes at once, whatever `schedule.publish` says."""
    from aggregator.publish.fingerprint import config_aspects
    from aggregator.publish.form import environment

    aspects = config_aspects(config, environment(config.site.templates_dir))
    return tuple((a.name, a.digest) for a in aspects)


def reloaded(config_path: Path, old: Config, store: SourceStates, why: str) -> Config | None:
    """The config at `config_path`, its shortened schedules carried out in `store`; None
    (the refusal logged) when it cannot replace `old`."""
    try:
        config = load_config(config_path)
    except ConfigError as e:
        for line in e.problems:
            log.error("reload refused (%s): %s", why, line)
        log.error("still running on the previous config")
        return None
    if config.database != old.database:
        log.error("reload refused (%s): database changed: restart to switch stores", why)
        return None
    try:
        reschedule(store, old.sources, config.sources, now=datetime.now(UTC))
    except StoreError as e:
        log.error("reload refused (%s): %s", why, e)
        return None
    return config


def reschedule(
    store: SourceStates, old: Iterable[Source], new: Iterable[Source], *, now: datetime
) -> None:
    """Bring forward the next check of sources whose interval or cron got shorter
    (decide.after_reschedule says which and to when).

    Raises:
        StoreError: a state cannot be read or saved.
    """
    from aggregator.update.decide import after_reschedule, schedule_changed

    previous = {s.name: s for s in old}
    for source in new:
        was = previous.get(source.name)
        if was is None or not schedule_changed(was, source):
            continue  # its state is not read: most sources of a reload are unchanged
        stored = store.get_state(source.name)
        decision = after_reschedule(was, source, stored, now=now)
        if decision is not None and decision.save and stored is not None:
            # Only the schedule, and only if no node fetched the source meanwhile.
            store.reschedule(decision.state, fetched=stored.last_fetched)


def log_reload(why: str, old: Config, config: Config) -> None:
    before, after = {s.name for s in old.sources}, {s.name for s in config.sources}
    changed = sum(1 for s in config.sources if s.name in before and s != old.source(s.name))
    log.info(
        "config reloaded (%s): %d sources, %d added, %d removed, %d changed",
        why,
        len(after),
        len(after - before),
        len(before - after),
        changed,
        extra={
            "fields": {
                "event": "reload",
                "sources": len(after),
                "added": sorted(after - before),
                "removed": sorted(before - after),
                "changed": changed,
            }
        },
    )
