"""The whole output tree of a varied site, byte for byte, against the reference trees in
tests/data/publish_tree/ (written by tests/publish_tree.py before publish became a
package): `publish --all`, then an incremental `publish` after new posts, an edit that
moves a post's date and a retention that expires the oldest ones; through the real CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from clirunner import run_cli
from publish_tree import IGNORED, REFERENCE, fill_store, write_config

from bench.tree_compare import compare_trees, describe

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_output_tree_is_byte_identical_to_the_reference(tmp_path: Path) -> None:
    for stage, args in ((1, ("publish", "--all")), (2, ("publish",))):
        config = write_config(tmp_path, stage=stage)
        fill_store(tmp_path, stage=stage)
        run_cli(config, *args)
        expected = REFERENCE / f"stage{stage}"
        diff = compare_trees(expected, tmp_path / "out", IGNORED)
        assert not diff, describe(expected, tmp_path / "out", diff)
        assert diff.same > 200  # the reference is there and was compared


def test_the_reference_trees_differ_where_stage_2_changed_them() -> None:
    # The comparison can fail: stage 2 removed, added and rewrote files.
    diff = compare_trees(REFERENCE / "stage1", REFERENCE / "stage2")
    assert "_posts/2000-01-01-old-post.md" in diff.only_in_a  # expired
    assert "_posts/2045-07-11-comment.md" in diff.only_in_b  # the edit moved its date
    assert "_posts/2045-09-14-comment.md" in diff.only_in_a
    assert "category/markets/archive/8.xml" in diff.only_in_b
    assert "category/markets.xml" in diff.differ
    assert "category/markets/archive/1.xml" not in diff.differ  # archives are immutable


def test_tree_compare_reports_names_and_bytes(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    for root in (a, b):
        (root / "sub" / ".tmp").mkdir(parents=True)
        (root / "same.txt").write_bytes(b"x")
        (root / "sub" / ".tmp" / "left.tmp").write_bytes(root.name.encode())
    (a / "sub" / "page.html").write_text("<p>one</p>\n<p>two</p>\n")
    (b / "sub" / "page.html").write_text("<p>one</p>\n<p>2</p>\n")
    (a / "gone.xml").write_bytes(b"<a/>")
    (b / "new.md").write_bytes(b"new")
    (b / "empty").mkdir()

    diff = compare_trees(a, b)
    assert (diff.only_in_a, diff.only_in_b, diff.differ, diff.same) == (
        ["gone.xml"],
        ["new.md"],
        ["sub/page.html"],
        1,
    )
    proc = subprocess.run(
        [sys.executable, "-m", "bench.tree_compare", str(a), str(b)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert proc.returncode == 1
    assert f"only in {a}: gone.xml" in proc.stdout
    assert f"only in {b}: new.md" in proc.stdout
    assert "differs: sub/page.html" in proc.stdout
    assert "-<p>two</p>" in proc.stdout and "+<p>2</p>" in proc.stdout
    same = subprocess.run(
        [sys.executable, "-m", "bench.tree_compare", str(a), str(a)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert same.returncode == 0, same.stdout
