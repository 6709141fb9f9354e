"""Config stage: config.yaml + the source lists it names (YAML, OPML) -> Config.

Owns reading and checking the operator's files, the problem lines "<file>: <key path>:
<what is wrong>" (collected over all files), the config's fingerprint for the daemon, and
OPML in and out. Must not use the network or the clock, open the store, or write any file
but the one `sources import` adds to (importing.py).

    files.py      YAML and OPML reading; source_list_files, the one expansion of `source_lists`
    checks.py     value rules (durations, URLs, slugs, ...): the fault texts
    pagechecks.py the same for patterns, CSS selectors and date formats
    specs.py      pydantic shapes of each section and of a source
    problems.py   pydantic errors -> problem lines
    sections.py   a file's parsed data -> checked sections and source entries
    assemble.py   read_config, the reference: every file -> one Config and its faults
    cache.py      load_config (checked_config: the same, not raising): read_config's Config,
                  kept while the files it read are unchanged
    opml.py       the one OPML writer
    importing.py  `sources import`, `sources add`
    watch.py      the fingerprint the daemon watches

The names below are loaded on first use: loading a config needs neither `sources import`
(importing.py), the OPML writer nor the daemon's fingerprint.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aggregator.lazy import lazy_names

if TYPE_CHECKING:
    from aggregator.config.assemble import read_config
    from aggregator.config.cache import Checked, checked_config, load_config
    from aggregator.config.checks import parse_duration
    from aggregator.config.importing import (
        IMPORTED_SOURCES,
        ImportReport,
        add_source,
        import_opml,
    )
    from aggregator.config.opml import Subscription, export_opml, subscriptions_opml
    from aggregator.config.sections import DEFAULT_DATABASE
    from aggregator.config.watch import ConfigFingerprint, config_fingerprint

__all__ = [
    "DEFAULT_DATABASE",
    "IMPORTED_SOURCES",
    "Checked",
    "ConfigFingerprint",
    "ImportReport",
    "Subscription",
    "add_source",
    "checked_config",
    "config_fingerprint",
    "export_opml",
    "import_opml",
    "load_config",
    "parse_duration",
    "read_config",
    "subscriptions_opml",
]

_HOMES = {
    "DEFAULT_DATABASE": "sections",
    "IMPORTED_SOURCES": "importing",
    "Checked": "cache",
    "ConfigFingerprint": "watch",
    "ImportReport": "importing",
    "Subscription": "opml",
    "add_source": "importing",
    "checked_config": "cache",
    "config_fingerprint": "watch",
    "export_opml": "opml",
    "import_opml": "importing",
    "load_config": "cache",
    "parse_duration": "checks",
    "read_config": "assemble",
    "subscriptions_opml": "opml",
}

if not TYPE_CHECKING:
    __getattr__ = lazy_names(__name__, _HOMES)
