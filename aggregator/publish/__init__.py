"""Publish stage: posts from the store -> post files, feeds, OPML and HTML pages.

Owns the output tree: what changes (plan), what shaped the tree last time and which
outputs a change of it rewrites (fingerprint), where everything lives (sitemap: the one
place a path or URL is made), Jekyll post files and pages (posts), templates filled or rendered
(form), text escaped for each syntax (escape), what a feed format is (format), the
formats and documents (feeds; Atom in atom, feedgen there only; RSS 2.0 in rss, JSON Feed
1.1 in jsonfeed), list pages (pages), a category's outputs (categories), RFC 5005 archives
(archives), the threaded atomic writer (files); the Publisher (publisher) runs them. Every
file is replaced atomically and one whose bytes would not change is not touched, so readers
never see half a file and mtimes say what changed.

Must NOT fetch or parse feeds, nor speak HTTP: the WebSub ping after a publish is
fetch.websub's, and the OPML text config.opml's. Of the store it only reads (PublishReads),
except settling slugs, deleting expired posts (retention) and marking what it published.

The names below are loaded on first use: the commands that only clear a killed publish's
temp files (files.py) or compile the operator's templates (form.py) import no more.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aggregator.lazy import lazy_names

if TYPE_CHECKING:
    from aggregator.publish.escape import markdown_text, yaml_quote, yaml_slug, yaml_tags
    from aggregator.publish.files import (
        TEMP_DIR,
        WRITE_THREADS,
        clear_stale_temp_files,
        write_atomic,
    )
    from aggregator.publish.form import WORDS, words_for
    from aggregator.publish.pages import PAGE_SIZE
    from aggregator.publish.publisher import Publisher, publish
    from aggregator.publish.report import PublishReport
    from aggregator.publish.sitemap import Sitemap, day_strings, tag_slug

__all__ = [
    "PAGE_SIZE",
    "TEMP_DIR",
    "WORDS",
    "WRITE_THREADS",
    "PublishReport",
    "Publisher",
    "Sitemap",
    "clear_stale_temp_files",
    "day_strings",
    "markdown_text",
    "publish",
    "tag_slug",
    "words_for",
    "write_atomic",
    "yaml_quote",
    "yaml_slug",
    "yaml_tags",
]

_HOMES = {
    "PAGE_SIZE": "pages",
    "TEMP_DIR": "files",
    "WORDS": "form",
    "WRITE_THREADS": "files",
    "PublishReport": "report",
    "Publisher": "publisher",
    "Sitemap": "sitemap",
    "clear_stale_temp_files": "files",
    "day_strings": "sitemap",
    "markdown_text": "escape",
    "publish": "publisher",
    "tag_slug": "sitemap",
    "words_for": "form",
    "write_atomic": "files",
    "yaml_quote": "escape",
    "yaml_slug": "escape",
    "yaml_tags": "escape",
}

if not TYPE_CHECKING:
    __getattr__ = lazy_names(__name__, _HOMES)
