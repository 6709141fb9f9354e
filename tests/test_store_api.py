"""The store's Protocols (aggregator/store/api.py): the Store is each of them, method by
method, and every public method of the Store belongs to one of them."""

from __future__ import annotations

import inspect
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from aggregator.store import (
    Leases,
    Metrics,
    Owner,
    PostWriter,
    PublishReads,
    SourceStates,
    Store,
    Subscriptions,
    UpdateStore,
    open_store,
)

PROTOCOLS = [
    pytest.param(Owner, id="Owner"),
    pytest.param(SourceStates, id="SourceStates"),
    pytest.param(PostWriter, id="PostWriter"),
    pytest.param(PublishReads, id="PublishReads"),
    pytest.param(Metrics, id="Metrics"),
    pytest.param(Leases, id="Leases"),
    pytest.param(Subscriptions, id="Subscriptions"),
]
ROOT = Path(__file__).resolve().parent.parent


def members(cls: type) -> set[str]:
    """The public names a class defines, itself or through its bases (not object's)."""
    return {
        name
        for klass in cls.__mro__
        if klass is not object
        for name in vars(klass)
        if not name.startswith("_")
    }


def protocol_members(protocol: type) -> set[str]:
    return {name for name in vars(protocol) if not name.startswith("_")}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    yield opened
    opened.close()


def test_every_public_store_method_belongs_to_a_protocol() -> None:
    every = set().union(*(protocol_members(p.values[0]) for p in PROTOCOLS))
    assert members(Store) - every == set()
    assert every - members(Store) == set()


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_an_open_store_is_each_protocol(store: Store, protocol: type) -> None:
    assert isinstance(store, protocol)


def test_the_updaters_view_is_source_states_and_post_writer_only() -> None:
    assert UpdateStore.__mro__[1:3] == (SourceStates, PostWriter)
    assert protocol_members(UpdateStore) == set()


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_each_protocol_method_has_the_store_method_signature(protocol: type) -> None:
    for name in sorted(protocol_members(protocol)):
        declared, implemented = getattr(protocol, name), getattr(Store, name)
        if isinstance(declared, property):
            assert isinstance(implemented, property), name
            declared, implemented = declared.fget, implemented.fget
        want, got = inspect.signature(declared), inspect.signature(implemented)
        assert got.return_annotation == want.return_annotation, name
        shape = [
            (p.name, p.kind, p.annotation, p.default is inspect.Parameter.empty)
            for p in want.parameters.values()
        ]
        assert [
            (p.name, p.kind, p.annotation, p.default is inspect.Parameter.empty)
            for p in got.parameters.values()
        ] == shape, name


CONFORMS = """
from aggregator.store import Metrics, Owner, PostWriter, PublishReads, SourceStates, Store
from aggregator.store import UpdateStore

def lend(
    store: Store,
) -> tuple[SourceStates, PostWriter, UpdateStore, PublishReads, Metrics, Owner]:
    return store, store, store, store, store, store
"""

# A store whose `due` takes a narrower argument than SourceStates promises its callers.
NARROWER = """
from datetime import datetime

from aggregator.store import SourceStates, Store

class Narrower(Store):
    def due(self, names: list[str], *, now: datetime) -> list[str]:  # type: ignore[override]
        return names

def lend(store: Narrower) -> SourceStates:
    return store
"""


def test_mypy_sees_the_store_as_each_protocol_and_a_narrower_one_as_not(
    tmp_path: Path,
) -> None:
    files = [tmp_path / "conforms.py", tmp_path / "narrower.py"]
    for path, text in zip(files, (CONFORMS, NARROWER), strict=True):
        path.write_text(text, encoding="utf-8")
    # From the project's root: its mypy settings, and aggregator found as the checkout.
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", *map(str, files)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    errors = [line for line in proc.stdout.splitlines() if ": error:" in line]
    assert [Path(line.split(":")[0]).name for line in errors] == ["narrower.py"], proc.stdout
    assert 'return value type (got "Narrower", expected "SourceStates")' in errors[0]
