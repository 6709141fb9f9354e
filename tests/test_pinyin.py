"""pinyin.py against pypinyin with its whole phrase dictionary (the reference), each in a
process of its own: pypinyin's dictionary is process-wide state."""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).parent
HAN_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]{2,}")

REFERENCE = """
import json, sys
from pypinyin import lazy_pinyin
texts = json.load(open(sys.argv[1], encoding="utf-8"))
json.dump([lazy_pinyin(t) for t in texts], sys.stdout)
"""

OURS = """
import json, sys
from aggregator.pinyin import syllables
texts = json.load(open(sys.argv[1], encoding="utf-8"))
out = [syllables(t) for t in texts]
json.dump({"out": out, "modules": sorted(m for m in sys.modules if m.startswith("pypinyin"))},
          sys.stdout)
"""


def _run(code: str, texts: list[str], tmp_path: Path, env: dict[str, str]) -> object:
    source = tmp_path / "texts.json"
    source.write_text(json.dumps(texts, ensure_ascii=False), "utf-8")
    done = subprocess.run(
        [sys.executable, "-c", code, str(source)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _env(cache: Path | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYPINYIN_")}
    env.pop("XDG_CACHE_HOME", None)
    env.pop("HOME", None)
    if cache is not None:
        env["XDG_CACHE_HOME"] = str(cache)
    return env


def dictionary_phrases() -> list[str]:
    from pypinyin.phrases_dict import phrases_dict

    return list(phrases_dict)


def real_text() -> list[str]:
    """Every run of Han characters in the test corpora: titles, descriptions, pages."""
    runs: set[str] = set()
    for path in sorted(TESTS.rglob("*")):
        if path.is_file() and path.suffix in {".xml", ".json", ".html", ".rss", ".atom"}:
            try:
                runs.update(HAN_RUN.findall(path.read_text("utf-8")))
            except (UnicodeDecodeError, OSError):
                continue
    return sorted(runs)


@pytest.fixture(scope="module")
def phrases() -> list[str]:
    return dictionary_phrases()


def test_every_dictionary_phrase_and_every_corpus_text_reads_as_the_reference(
    tmp_path: Path, phrases: list[str]
) -> None:
    text = real_text()
    assert len(text) > 300  # the corpora hold Chinese feeds and pages
    mixed = ["天津日报：重庆银行在成都开业", "Apple 发布 iPhone 16", "长江 2024 年"]
    texts = phrases + text + mixed
    ours = _run(OURS, texts, tmp_path, _env(tmp_path / "cache"))
    assert isinstance(ours, dict)
    assert "pypinyin.phrases_dict" not in ours["modules"]  # the table, not the dictionary
    reference = _run(REFERENCE, texts, tmp_path, _env(None))
    wrong = [(t, o, r) for t, o, r in zip(texts, ours["out"], reference, strict=True) if o != r]
    assert wrong == []
    assert list(tmp_path.joinpath("cache", "aggregator").glob("pinyin-*.json"))


def test_running_text_of_overlapping_phrases_reads_as_the_reference_but_for_its_splits(
    tmp_path: Path, phrases: list[str]
) -> None:
    # Strings of 2 to 6 dictionary phrases: where the end of one and the start of the next
    # make another dictionary phrase, the whole dictionary's split can differ from the
    # table's (its phrases read the same either way). Measured: 125 of 50,000.
    rng = random.Random(7)
    texts = ["".join(rng.choice(phrases) for _ in range(rng.randint(2, 6))) for _ in range(20_000)]
    ours = _run(OURS, texts, tmp_path, _env(tmp_path / "cache"))
    reference = _run(REFERENCE, texts, tmp_path, _env(None))
    assert isinstance(ours, dict) and isinstance(reference, list)
    differ = sum(o != r for o, r in zip(ours["out"], reference, strict=True))
    assert differ <= len(texts) // 200  # at most 0.5%
    # Each difference is one of reading, never of length: a syllable per character.
    assert all(len(o) == len(r) for o, r in zip(ours["out"], reference, strict=True))


def test_a_kept_table_is_used_and_a_broken_one_rebuilt(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    texts = ["重庆银行"]
    first = _run(OURS, texts, tmp_path, _env(cache))
    (table,) = cache.joinpath("aggregator").glob("pinyin-*.json")
    built = table.stat().st_mtime_ns
    again = _run(OURS, texts, tmp_path, _env(cache))
    assert table.stat().st_mtime_ns == built  # read, not built again
    table.write_text("{not json", "utf-8")
    rebuilt = _run(OURS, texts, tmp_path, _env(cache))
    assert json.loads(table.read_text("utf-8"))["format"] == 1
    # A table of the wrong shape (a reading that is no list, one short) is never loaded.
    table.write_text(json.dumps({"format": 1, "readings": {"重庆": "x", "银行": [["yín"]]}}))
    reshaped = _run(OURS, texts, tmp_path, _env(cache))
    assert json.loads(table.read_text("utf-8"))["readings"]["重庆"] == [["chóng"], ["qìng"]]
    assert not list(cache.joinpath("aggregator").glob(".*.tmp"))
    for result in (first, again, rebuilt, reshaped):
        assert isinstance(result, dict)
        assert result["out"] == [["chong", "qing", "yin", "hang"]]
        assert "pypinyin.phrases_dict" not in result["modules"]


def test_without_a_cache_folder_the_whole_dictionary_is_read(tmp_path: Path) -> None:
    result = _run(OURS, ["重庆银行", "成都"], tmp_path, _env(None))  # no HOME, no XDG
    assert isinstance(result, dict)
    assert result["out"] == [["chong", "qing", "yin", "hang"], ["cheng", "du"]]
    assert "pypinyin.phrases_dict" in result["modules"]


def test_a_cache_folder_that_cannot_be_written_leaves_the_reference_in_use(
    tmp_path: Path,
) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "aggregator").write_text("a file where the folder would be", "utf-8")
    result = _run(OURS, ["重庆银行"], tmp_path, _env(cache))
    assert isinstance(result, dict)
    assert result["out"] == [["chong", "qing", "yin", "hang"]]
    assert "pypinyin.phrases_dict" in result["modules"]
