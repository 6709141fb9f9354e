"""Names a package loads on first use: the module `__getattr__` (PEP 562) of a package
whose `_HOMES` table says which submodule holds each name, so that importing the package,
or one light submodule of it, does not import every other (tests/test_imports.py holds
what each command loads; tests/test_architecture.py reads `_HOMES` as imports).

Must NOT import anything of aggregator: every package's `__init__` imports this.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping

__all__ = ["lazy_names"]


def lazy_names(package: str, homes: Mapping[str, str]) -> Callable[[str], object]:
    """The `__getattr__` of `package`: name -> `package.<homes[name]>`'s, then kept in the
    package's namespace (looked up once)."""

    def __getattr__(name: str) -> object:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{home}"), name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__
