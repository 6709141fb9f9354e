"""Config stage, value rules of what reads an item or a page: `rules:` patterns (RE2),
CSS selectors (`strip:` rules and `type: html` sources, "selector@attribute" for a field)
and strptime date formats. Each check returns the value checked or raises ValueError whose
text is the fault that ends a problem line, as checks.py's do.

Must not use the network, the clock or any file; compiles what it checks (rules.py) and
keeps nothing.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import PlainValidator

__all__ = ["DateFormat", "FieldSelector", "Pattern", "Selector"]


def _pattern(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"should be text, not '{value}'")
    from aggregator.rules import check_pattern

    check_pattern(value)
    return value


def _selector(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"should be text, not '{value}'")
    from aggregator.rules import check_selector

    return check_selector(value)


def _field_selector(value: object) -> str:
    # "a@href": the selector, then the attribute read of its first match.
    if not isinstance(value, str):
        raise ValueError(f"should be text, not '{value}'")
    from aggregator.rules import check_selector

    selector, at, attribute = value.rpartition("@")
    if not at:
        selector = value
    elif not re.fullmatch(r"[A-Za-z_:][-A-Za-z0-9_:.]*", attribute.strip()):
        raise ValueError(f"not an attribute name after '@': '{attribute}'")
    if selector.strip():
        check_selector(selector)
    elif not at:
        raise ValueError("should be a CSS selector, not empty")
    return value


def _date_format(value: object) -> str:
    if not isinstance(value, str) or "%" not in value:
        raise ValueError(f"should be a strptime format such as '%Y-%m-%d %H:%M', not '{value}'")
    return value


FieldSelector = Annotated[str, PlainValidator(_field_selector)]
DateFormat = Annotated[str, PlainValidator(_date_format)]
Pattern = Annotated[str, PlainValidator(_pattern)]
Selector = Annotated[str, PlainValidator(_selector)]
