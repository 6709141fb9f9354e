"""What a source's URL becomes: moved by permanent redirects, or to the feed its page
advertises. Pure, as decide.py (which gives these with the other transitions): must NOT
log, write or fetch.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from aggregator.types import FetchResult, Source, SourceState, Validators
from aggregator.update.decision import Decision, LogLine

__all__ = ["after_discovery", "followed"]


def followed(state: SourceState, result: FetchResult, *, threshold: int) -> SourceState:
    """`state` after a successful fetch: counts a permanent redirect, moves the source at
    `threshold` consecutive sightings of the same target (a flicker must not move it).

    Raises: nothing.
    """
    target = result.permanent_redirect
    if target is None or target == state.url:
        return replace(state, redirect_target=None, redirect_count=0)
    count = state.redirect_count + 1 if target == state.redirect_target else 1
    if count >= threshold:
        return replace(state, url=target, redirect_target=None, redirect_count=0)
    return replace(state, redirect_target=target, redirect_count=count)


def after_discovery(source: Source, state: SourceState, *, page: str, feed: str) -> Decision:
    """The source's URL answered with an HTML page (`page`, after redirects) advertising
    `feed`: the source reads that feed from now on, as after a permanent redirect, and
    records the page it found it on (status shows the config line to change). The state
    to pass to `after_response` with the feed's response; nothing is saved yet.
    """
    found = replace(
        state,
        url=feed,
        discovered_from=page,
        validators=Validators(),
        content_hash=None,
        redirect_target=None,
        redirect_count=0,
    )
    line = LogLine(
        level=logging.WARNING,
        message="%s: %s is an HTML page; reading the feed it advertises: set url: %s in %s",
        args=(source.name, page, feed, source.origin),
    )
    return Decision(state=found, save=False, log=(line,))
