"""The layout's rules (README: How it works), read from the source with ast: no import runs, no
socket opens.

An import is one that runs: at module level or inside a function, and the submodules a
package's `_HOMES` table loads on first use; one under `if TYPE_CHECKING:` names types
only and loads nothing, so it is left out.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path

import pytest

from aggregator.fetch import FetchLimits
from aggregator.types import FetchSettings

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "aggregator"
MAX_LINES = 400

# Modules over MAX_LINES, each with why. A listed module that shrinks under the limit must
# leave the list (the test says so); one that no longer exists is ignored.
LONG_MODULES = {
    "aggregator.parse.dates": (
        "one reader of every date grammar feeds write, in steps under 60 lines that share "
        "its zone table; its words are data in date_words.py already"
    ),
}

# Import cycles known and why they stay; each is ignored only while all its modules exist.
# None now: parse <-> fastparse went with the parse/ package, publish's atom <-> feeds with
# publish/format.py.
KNOWN_CYCLES: set[frozenset[str]] = set()

# Libraries that only one part of aggregator may import: the library's top-level name ->
# the module prefixes allowed (a prefix is a module or a package with what it holds).
ONLY_IN = {
    "httpx": ("aggregator.fetch",),
    "aiohttp": ("aggregator.fetch",),
    "sqlalchemy": ("aggregator.store",),
    "psycopg": ("aggregator.store",),
    "feedparser": ("aggregator.parse.reference",),  # the parse stage's reference backend
    "feedgen": ("aggregator.publish.atom",),
    "nh3": ("aggregator.normalize",),
}

# Imports allowed beside ONLY_IN, each with why: (module, what it imports, and what that
# holds) -> reason. (serve.py, were it an aiohttp.web server, would be one: not a client.)
ALSO_ALLOWED = {
    ("aggregator.config.checks", "sqlalchemy.engine"): (
        "a database URL is checked with SQLAlchemy's make_url, imported where it is used; "
        "asking the store would load the whole store package (0.6 s more on every config load)"
    ),
    ("aggregator.config.checks", "sqlalchemy.exc"): "the ArgumentError make_url raises",
    ("aggregator.config.assemble", "sqlalchemy.engine"): (
        "a relative SQLite path is anchored with make_url, as checks.py reads the URL"
    ),
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def is_package(name: str) -> bool:
    return MODULES[name].name == "__init__.py"


def type_checking_nodes(tree: ast.Module) -> set[int]:
    """The ids of every node under an `if TYPE_CHECKING:` (not its `else:`)."""
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test) in (
            "TYPE_CHECKING",
            "typing.TYPE_CHECKING",
        ):
            inside.update(id(n) for stmt in node.body for n in ast.walk(stmt))
    return inside


@functools.cache
def lazy_homes(name: str) -> dict[str, str]:
    """A package's lazy names (its `_HOMES` table: name -> submodule `__getattr__` loads)."""
    if not is_package(name):
        return {}
    for node in ast.parse(MODULES[name].read_text(encoding="utf-8")).body:
        for stmt in [node, *(node.orelse if isinstance(node, ast.If) else [])]:
            if (
                isinstance(stmt, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == "_HOMES" for t in stmt.targets)
                and isinstance(stmt.value, ast.Dict)
            ):
                return {
                    ast.literal_eval(k): ast.literal_eval(v)
                    for k, v in zip(stmt.value.keys, stmt.value.values, strict=True)
                    if k is not None
                }
    return {}


@functools.cache
def imported_names(name: str) -> tuple[str, ...]:
    return tuple(_imported_names(name))


def _imported_names(name: str) -> Iterator[str]:
    """Every module name `name` imports when it runs (absolute; `from a import b` gives `a`
    and `a.b`, which may be a module or a name in `a`, or the submodule that a's `_HOMES`
    loads `b` from)."""
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    skip = type_checking_nodes(tree)
    here = name if is_package(name) else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = here.rsplit(".", node.level - 1)[0] if node.level > 1 else here
                base = f"{anchor}.{base}" if base else anchor
            yield base
            homes = lazy_homes(base) if base in MODULES else {}
            for alias in node.names:
                home = homes.get(alias.name)
                yield f"{base}.{home}" if home else f"{base}.{alias.name}"


def own_module(imported: str) -> str | None:
    """The module of aggregator that `imported` names (the longest that exists), if any."""
    while imported:
        if imported in MODULES:
            return imported
        imported = imported.rpartition(".")[0]
    return None


def import_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for name in MODULES:
        targets = {own_module(i) for i in imported_names(name) if i.startswith("aggregator")}
        graph[name] = {t for t in targets if t is not None and t != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(frozenset(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


# ------------------------------------------------------------------ the rules


def test_the_reader_of_imports_sees_every_kind_of_import() -> None:
    # Guards the rules below against a reader that finds nothing.
    assert "aggregator.fetch.websub" in set(imported_names("aggregator.publish.publisher"))
    assert "aggregator.fetch.client" in set(imported_names("aggregator.update.updater"))
    assert "sqlalchemy" not in set(imported_names("aggregator.lock"))  # TYPE_CHECKING only
    assert "aggregator.store.lock" in set(imported_names("aggregator.lock"))  # in functions
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [frozenset({"a", "b", "c"})]


def test_the_import_graph_has_no_cycle() -> None:
    known = {c for c in KNOWN_CYCLES if all(m in MODULES for m in c)}
    assert [sorted(c) for c in cycles(import_graph()) if c not in known] == []


@pytest.mark.parametrize("library", sorted(ONLY_IN))
def test_a_library_is_imported_only_where_it_belongs(library: str) -> None:
    allowed = ONLY_IN[library]
    wrong = sorted(
        (name, imported)
        for name in MODULES
        if not any(name == a or name.startswith(a + ".") for a in allowed)
        for imported in set(imported_names(name))
        if imported.split(".")[0] == library and not allowed_beside(name, imported)
    )
    assert wrong == []


def allowed_beside(name: str, imported: str) -> bool:
    return any(
        name == module and (imported == prefix or imported.startswith(prefix + "."))
        for module, prefix in ALSO_ALLOWED
    )


def test_every_allowance_is_still_used() -> None:
    used = {(name, i) for name in MODULES for i in imported_names(name)}
    assert set(ALSO_ALLOWED) - used == set()


@pytest.mark.parametrize("name", sorted(MODULES))
def test_every_module_says_what_it_owns(name: str) -> None:
    doc = ast.get_docstring(ast.parse(MODULES[name].read_text(encoding="utf-8")))
    assert doc, f"{name} has no docstring"
    if is_package(name):
        assert "must not" in doc.lower(), f"{name}'s docstring does not say what it must not do"


def test_no_module_is_over_the_limit_unless_listed_with_its_reason() -> None:
    lines = {
        name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in MODULES.items()
    }
    assert {n: c for n, c in lines.items() if c > MAX_LINES and n not in LONG_MODULES} == {}
    assert [n for n in LONG_MODULES if n in lines and lines[n] <= MAX_LINES] == [], (
        "under the limit now: take it off LONG_MODULES"
    )


# --------------------------------------------------------- concepts written once


def test_fetch_limits_are_the_fetch_section_under_the_fetchers_names() -> None:
    renamed = {"max_connections": "concurrency"}
    section = {f.name for f in fields(FetchSettings)}
    assert {renamed.get(f.name, f.name) for f in fields(FetchLimits)} <= section
    assert FetchLimits.of(FetchSettings()) == FetchLimits()
    custom = FetchSettings(
        concurrency=7, per_host=3, read_timeout=1.5, private_networks=("10.0.0.0/8",)
    )
    limits = FetchLimits.of(custom)
    assert (limits.max_connections, limits.per_host, limits.read_timeout) == (7, 3, 1.5)
    assert limits.private_networks == ("10.0.0.0/8",)
