"""Publish stage: posts from the store -> post files, Atom feeds, OPML and HTML pages."""

from aggregator.publish.publisher import (
    PAGE_SIZE,
    WORDS,
    Publisher,
    PublishReport,
    Urls,
    clear_stale_temp_files,
    day_strings,
    markdown_text,
    publish,
    words_for,
    write_atomic,
    yaml_quote,
    yaml_slug,
    yaml_tags,
)

__all__ = [
    "PAGE_SIZE",
    "WORDS",
    "PublishReport",
    "Publisher",
    "Urls",
    "clear_stale_temp_files",
    "day_strings",
    "markdown_text",
    "publish",
    "words_for",
    "write_atomic",
    "yaml_quote",
    "yaml_slug",
    "yaml_tags",
]
