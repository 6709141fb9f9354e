"""Compare two output trees file by file: names and bytes.

    python -m bench.tree_compare A B [--ignore NAME ...] [--lines N]

Prints the files only in A, only in B, and those whose bytes differ (with the first
differing line of each, or a unified diff of up to N lines); exits 0 when the trees hold
the same files with the same bytes, 1 otherwise. Folders count only through their files:
an empty folder is no difference. `.tmp` (the atomic writer's temp folder) is ignored
unless other names are given.
"""

from __future__ import annotations

import argparse
import difflib
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_IGNORE = (".tmp",)


@dataclass(slots=True)
class TreeDiff:
    """How tree B differs from tree A; every path is relative and POSIX-spelled."""

    only_in_a: list[str] = field(default_factory=list)
    only_in_b: list[str] = field(default_factory=list)
    differ: list[str] = field(default_factory=list)
    same: int = 0

    def __bool__(self) -> bool:
        return bool(self.only_in_a or self.only_in_b or self.differ)


def files_of(root: Path, ignore: Iterable[str] = DEFAULT_IGNORE) -> dict[str, Path]:
    """Every file under `root` by its relative path, skipping any path with a part in
    `ignore`."""
    skipped = set(ignore)
    found: dict[str, Path] = {}
    for path in root.rglob("*"):
        relative = path.relative_to(root)
        if skipped.intersection(relative.parts) or path.is_dir():
            continue
        found[relative.as_posix()] = path
    return found


def compare_trees(a: Path, b: Path, ignore: Iterable[str] = DEFAULT_IGNORE) -> TreeDiff:
    """Compare the files of trees `a` and `b` by name and bytes."""
    ignore = tuple(ignore)
    in_a, in_b = files_of(a, ignore), files_of(b, ignore)
    diff = TreeDiff(
        only_in_a=sorted(in_a.keys() - in_b.keys()),
        only_in_b=sorted(in_b.keys() - in_a.keys()),
    )
    for name in sorted(in_a.keys() & in_b.keys()):
        if in_a[name].read_bytes() == in_b[name].read_bytes():
            diff.same += 1
        else:
            diff.differ.append(name)
    return diff


def describe(a: Path, b: Path, diff: TreeDiff, *, lines: int = 20) -> str:
    """`diff` as text: each difference on its own line, and for each file that differs
    a unified diff of at most `lines` lines (or the first differing byte of a binary)."""
    out: list[str] = []
    out += [f"only in {a}: {name}" for name in diff.only_in_a]
    out += [f"only in {b}: {name}" for name in diff.only_in_b]
    for name in diff.differ:
        out.append(f"differs: {name}")
        out += _file_diff(a / name, b / name, name, lines)
    out.append(
        f"{diff.same} same, {len(diff.differ)} differ, "
        f"{len(diff.only_in_a)} only in A, {len(diff.only_in_b)} only in B"
    )
    return "\n".join(out)


def _file_diff(a: Path, b: Path, name: str, lines: int) -> list[str]:
    data_a, data_b = a.read_bytes(), b.read_bytes()
    try:
        text_a, text_b = data_a.decode(), data_b.decode()
    except UnicodeDecodeError:
        at = next(
            (i for i, (x, y) in enumerate(zip(data_a, data_b, strict=False)) if x != y),
            min(len(data_a), len(data_b)),
        )
        return [f"  first differing byte at {at} ({len(data_a)} and {len(data_b)} bytes)"]
    # Feeds are one long line: cut them at tags so a diff shows the element that moved.
    if name.endswith(".xml") and text_a.count("\n") < 3:
        text_a, text_b = text_a.replace("><", ">\n<"), text_b.replace("><", ">\n<")
    unified = difflib.unified_diff(
        text_a.splitlines(), text_b.splitlines(), f"A/{name}", f"B/{name}", lineterm="", n=1
    )
    shown = ["  " + line for _, line in zip(range(lines), unified, strict=False)]
    return shown


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.tree_compare", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("a", type=Path)
    parser.add_argument("b", type=Path)
    parser.add_argument(
        "--ignore",
        action="append",
        metavar="NAME",
        help="a file or folder name to skip wherever it is (default: .tmp)",
    )
    parser.add_argument("--lines", type=int, default=20, help="diff lines shown per file")
    args = parser.parse_args(argv)
    for root in (args.a, args.b):
        if not root.is_dir():
            parser.error(f"{root}: not a folder")
    diff = compare_trees(args.a, args.b, args.ignore or DEFAULT_IGNORE)
    print(describe(args.a, args.b, diff, lines=args.lines))
    return 1 if diff else 0


if __name__ == "__main__":
    sys.exit(main())
