"""Config stage, problem lines: pydantic's errors -> "<file>: <key path>: <what is wrong>".

Words and formats only: defines no shape and no rule (specs.py and checks.py do), reads
no file. The lines are what operators see and tests compare: their text must not change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TypeVar

from pydantic import TypeAdapter, ValidationError
from pydantic_core import ErrorDetails

__all__ = ["Loc", "checked", "problem_line"]

_T = TypeVar("_T")
Loc = tuple[str | int, ...]


def _path_text(loc: Iterable[str | int]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part != "[key]":  # pydantic's marker for "the key itself" in a mapping
            text += f".{part}" if text else part
    return text


def problem_line(file: str, loc: Iterable[str | int], fault: str) -> str:
    """One problem line: the file, the key path when there is one, the fault."""
    path = _path_text(loc)
    return f"{file}: {path}: {fault}" if path else f"{file}: {fault}"


def _fault(error: ErrorDetails) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "value_error" and "error" in ctx:
        return str(ctx["error"])
    faults = {
        "extra_forbidden": "unknown key",
        "missing": "missing required key",
        "model_type": "should be a mapping of keys",
        "model_attributes_type": "should be a mapping of keys",
        "dict_type": "should be a mapping",
        "list_type": "should be a list",
        "string_type": "should be text",
        "int_type": "should be a whole number",
        "int_parsing": "should be a whole number",
        "int_from_float": "should be a whole number",
        "greater_than": f"should be more than {ctx.get('gt')}",
        "less_than_equal": f"should be at most {ctx.get('le')}",
    }
    message = error["msg"]
    return faults.get(kind, message[:1].lower() + message[1:])


def checked(
    adapter: TypeAdapter[_T],
    value: object,
    file: str,
    loc: Loc = (),
    names: Mapping[str, str] | None = None,
) -> tuple[_T, list[str]] | tuple[None, list[str]]:
    """Validate `value`; on failure return None and one line per fault.

    `names` renames keys in messages (an OPML outline's `xmlUrl` is a source's `url`).
    """
    try:
        return adapter.validate_python(value), []
    except ValidationError as e:
        rename = names or {}
        return None, [
            problem_line(
                file,
                (*loc, *(rename.get(p, p) if isinstance(p, str) else p for p in err["loc"])),
                _fault(err),
            )
            for err in e.errors()
        ]
