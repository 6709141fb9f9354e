"""Chinese to pinyin syllables for slugs: pypinyin's readings without its whole phrase
dictionary in memory (55 MB in every process that slugs a Chinese title; 12 MB this way).

pypinyin reads a run of Han characters phrase by phrase, as its dictionary (47,000 phrases)
says, and any other character by its first reading. Without tones, only about 3,500 of
those phrases read otherwise than their characters one by one, or hold one that does: the
table keeps just those, and pypinyin runs without its dictionary (PYPINYIN_NO_PHRASES) plus
the table (`load_phrases_dict`). Every phrase of the dictionary then reads as pypinyin reads
it; in running text, where two dictionary phrases overlap, the split can differ (about 1 in
400 random strings of phrases; tests/test_pinyin.py holds both).

The table is built once per pypinyin release, in a child process (the whole dictionary is
loaded there, not in the process that asks), and kept in the user's cache folder (cachedir.py).
With no folder, one that cannot be written, or a child that fails, pypinyin's whole
dictionary is loaded: the reference.

Reads and writes only its table file, and starts no process but the child that builds it.
Must NOT decide what a slug is (slug.py does).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import zlib
from collections.abc import Callable
from pathlib import Path

__all__ = ["build_table", "syllables"]

_FORMAT = 1  # the table file's layout: a new one makes every kept table a miss
_BUILD_TIMEOUT = 120.0  # seconds; a child that takes longer leaves the reference in use

_lock = threading.Lock()
_convert: Callable[[str], list[str]] | None = None


def syllables(text: str) -> list[str]:
    """The pinyin of `text` without tones, a syllable per Han character; other runs of
    characters passed through as pypinyin passes them (`lazy_pinyin`)."""
    convert = _convert or _load()
    return convert(text)


def _load() -> Callable[[str], list[str]]:
    global _convert
    with _lock:
        if _convert is None:
            _convert = _loaded(_table())
        return _convert


def _loaded(table: dict[str, list[list[str]]] | None) -> Callable[[str], list[str]]:
    if table is None or "pypinyin" in sys.modules:
        from pypinyin import lazy_pinyin  # the whole dictionary: the reference

        return lazy_pinyin
    names = ("PYPINYIN_NO_PHRASES", "PYPINYIN_NO_DICT_COPY")
    before = {name: os.environ.get(name) for name in names}
    os.environ.update(dict.fromkeys(names, "1"))  # read once, by pypinyin's import
    try:
        from pypinyin import lazy_pinyin, load_phrases_dict
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    load_phrases_dict(table)
    return lazy_pinyin


def _table() -> dict[str, list[list[str]]] | None:
    """The kept table of the installed pypinyin, built when missing; None: use the whole
    dictionary (no cache folder, no pypinyin data file, the build failed)."""
    from aggregator.cachedir import cache_root

    folder = cache_root()
    stamp = _data_stamp()
    if folder is None or stamp is None:
        return None
    path = folder / f"pinyin-{stamp}.json"
    kept = _read_table(path)
    if kept is None and _writable(folder) and _build_in_child(path):
        kept = _read_table(path)
    return kept


def _read_table(path: Path) -> dict[str, list[list[str]]] | None:
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != _FORMAT:
        return None
    readings = data.get("readings")
    if not isinstance(readings, dict) or not all(map(_is_reading, readings.items())):
        return None  # pypinyin would fail on it, on some title, far from here
    return readings


def _is_reading(entry: tuple[object, object]) -> bool:
    """Whether (phrase, readings) has load_phrases_dict's shape: a reading per character,
    each a non-empty list of strings."""
    phrase, readings = entry
    return (
        isinstance(phrase, str)
        and isinstance(readings, list)
        and len(readings) == len(phrase)
        and all(isinstance(r, list) and r and all(isinstance(x, str) for x in r) for r in readings)
    )


def _writable(folder: Path) -> bool:
    """Whether a table can be kept in `folder`: a child building one that cannot be kept
    would cost every process its build."""
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError:
        return False
    return os.access(folder, os.W_OK | os.X_OK)


def _data_stamp() -> str | None:
    """The installed pypinyin's release and its phrase data file's size and time, as a
    name; None when pypinyin or its data file cannot be found."""
    from importlib.machinery import PathFinder
    from importlib.metadata import PackageNotFoundError, version

    spec = PathFinder.find_spec("pypinyin")
    if spec is None or not spec.submodule_search_locations:
        return None
    data = Path(next(iter(spec.submodule_search_locations)), "phrases_dict.json")
    try:
        st = data.stat()
        release = version("pypinyin")
    except (OSError, PackageNotFoundError):
        return None
    key = f"{_FORMAT}:{release}:{st.st_size}:{st.st_mtime_ns}:{data}".encode()
    return f"{release}-{zlib.crc32(key):08x}"


def _build_in_child(path: Path) -> bool:
    try:
        done = subprocess.run(
            [sys.executable, "-m", "aggregator.pinyin", str(path)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=_BUILD_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


def build_table() -> dict[str, list[list[str]]]:
    """The phrases pypinyin's whole dictionary reads otherwise (without tones) than
    pypinyin without it: those whose characters read otherwise one by one, then, until none
    is left, those the table so far reads otherwise. Loads the whole dictionary: run it in
    a process of its own (`python -m aggregator.pinyin PATH`)."""
    os.environ["PYPINYIN_NO_PHRASES"] = "1"
    from pypinyin import Style, lazy_pinyin, load_phrases_dict
    from pypinyin.phrases_dict import phrases_dict  # the whole dictionary, loaded here
    from pypinyin.style import convert

    def plain(readings: list[list[str]]) -> list[str]:
        return [convert(r[0], Style.NORMAL, strict=True) for r in readings]

    table: dict[str, list[list[str]]] = {}
    while True:
        more = {
            phrase: readings
            for phrase, readings in phrases_dict.items()
            if phrase not in table and lazy_pinyin(phrase) != plain(readings)
        }
        if not more:
            return table
        table.update(more)
        load_phrases_dict(more)


def _write_table(path: Path) -> None:
    data = json.dumps({"format": _FORMAT, "readings": build_table()}, ensure_ascii=False)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temporary.write_text(data, "utf-8")
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)  # a full disk leaves no part of a table behind


if __name__ == "__main__":
    _write_table(Path(sys.argv[1]))
