"""Rules from config, per source and per category: include/exclude, max age, strip, category map.
Pure: no I/O, no clock (`now` is a parameter). Patterns run on RE2, which has no backtracking,
so a hostile item cannot make a match run for minutes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from aggregator.types import Category, Rules, Source

__all__ = [
    "Matcher",
    "RuleSet",
    "check_pattern",
    "check_selector",
    "map_category",
    "rule_set",
    "strip_elements",
]


@dataclass(frozen=True, slots=True)
class Matcher:
    """One include/exclude pattern: a keyword (case-insensitive substring) or a /regex/."""

    text: str
    regex: Any = None  # compiled RE2 pattern; None for a keyword

    def matches(self, haystack: str) -> bool:
        if self.regex is None:
            return self.text.casefold() in haystack.casefold()
        return self.regex.search(haystack) is not None


def check_pattern(text: str) -> Matcher:
    """Compile one include/exclude pattern: "/regex/" is an RE2 regex, anything else a keyword.

    Raises:
        ValueError: the regex is not valid RE2 syntax (backreferences and lookaround are not).
    """
    if len(text) >= 2 and text.startswith("/") and text.endswith("/"):
        # RE2 and lxml are imported where they are used: loading a config with keyword
        # rules, or none, needs neither.
        import re2  # type: ignore[import-untyped,unused-ignore]

        try:
            return Matcher(text=text, regex=_compile(text[1:-1]))
        except re2.error as e:
            # RE2 gives its reason as bytes: shown as text, never as b'...'.
            reason = e.args[0] if e.args else ""
            if isinstance(reason, bytes):
                reason = reason.decode("utf-8", "replace")
            raise ValueError(f"not a valid RE2 regex '{text}': {reason}") from None
    if not text.strip():
        raise ValueError("empty keyword")
    return Matcher(text=text.strip())


def check_selector(text: str) -> str:
    """Check one CSS selector (`strip:`); return it unchanged.

    Raises:
        ValueError: the selector cannot be parsed.
    """
    try:
        _selector(text)
    except Exception as e:  # cssselect's SelectorSyntaxError and ExpressionError
        raise ValueError(f"not a CSS selector '{text}': {e}") from None
    return text


@lru_cache(maxsize=256)
def _compile(pattern: str) -> Any:
    import re2  # type: ignore[import-untyped,unused-ignore]

    options = re2.Options()
    options.case_sensitive = False
    options.max_mem = 8 << 20  # a pathological pattern fails to compile instead of eating RAM
    # RE2 would also log each refused pattern to stderr as C++ log lines (absl), around
    # the one problem line config gives for it.
    options.log_errors = False
    return re2.compile(pattern, options)


@lru_cache(maxsize=256)
def _selector(text: str) -> Any:
    from lxml.cssselect import CSSSelector  # needs the cssselect package

    return CSSSelector(text)


@dataclass(frozen=True, slots=True)
class _Level:
    include: tuple[Matcher, ...]
    exclude: tuple[Matcher, ...]


@dataclass(frozen=True, slots=True)
class RuleSet:
    """A source's rules and its category's, compiled: both levels must let an item through."""

    levels: tuple[_Level, ...]
    max_age: Any  # timedelta | None: the smaller of the two levels'
    strip: tuple[str, ...]

    @property
    def filters(self) -> bool:
        return self.max_age is not None or any(lv.include or lv.exclude for lv in self.levels)

    def keep(self, *, title: str, text: str, published: datetime, now: datetime) -> bool:
        """True when the item passes every level's include/exclude and the max age.

        Raises nothing.
        """
        if self.max_age is not None and published < now - self.max_age:
            return False
        haystack = f"{title}\n{text}"
        for level in self.levels:
            if any(m.matches(haystack) for m in level.exclude):
                return False
            if level.include and not any(m.matches(haystack) for m in level.include):
                return False
        return True


NO_RULES = Rules()


@lru_cache(maxsize=1024)
def _compiled(rules: Rules) -> _Level:
    return _Level(
        include=tuple(check_pattern(p) for p in rules.include),
        exclude=tuple(check_pattern(p) for p in rules.exclude),
    )


def rule_set(source: Source, category: Category | None = None) -> RuleSet:
    """The rules in force for `source`: its own and its category's.

    Raises:
        ValueError: a pattern does not compile (config validation refuses those first).
    """
    both = [source.rules] + ([category.rules] if category is not None else [])
    ages = [r.max_age for r in both if r.max_age is not None]
    strip = tuple(dict.fromkeys(s for r in both for s in r.strip))
    levels = tuple(_compiled(r) for r in both if r != NO_RULES)
    return RuleSet(levels=levels, max_age=min(ages) if ages else None, strip=strip)


def strip_elements(fragment: str, selectors: Sequence[str]) -> str:
    """Remove the elements matching any CSS selector from an HTML fragment (before sanitizing,
    while class and id attributes are still there). The tail text of a removed element stays.

    Raises nothing: an unparsable fragment comes back unchanged.
    """
    if not selectors or not fragment.strip():
        return fragment
    import lxml.html
    from lxml import etree

    try:
        root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    except (etree.ParserError, ValueError):
        return fragment
    removed = False
    for text in selectors:
        try:
            matched = _selector(text)(root)
        except Exception:  # an invalid selector is refused by config; stay total anyway
            continue
        for element in matched:
            if element is root or element.getparent() is None:
                continue
            element.drop_tree()
            removed = True
    if not removed:
        return fragment
    inner = (root.text or "") + "".join(
        etree.tostring(child, encoding="unicode", method="html") for child in root
    )
    return inner


def map_category(
    feed_categories: Sequence[str], mapping: Mapping[str, str] | Sequence[tuple[str, str]]
) -> str | None:
    """Our category for an item: the first of its feed categories the map names, else None.

    Feed categories compare case-insensitively and with whitespace trimmed.

    Raises nothing.
    """
    pairs = mapping.items() if isinstance(mapping, Mapping) else mapping
    table = {k.strip().casefold(): v for k, v in pairs}
    if not table:
        return None
    for name in feed_categories:
        found = table.get(name.strip().casefold())
        if found is not None:
            return found
    return None
