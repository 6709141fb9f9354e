"""Publish stage, files: the threaded atomic writer, removals, and temp files left behind.

Owns how bytes reach the output tree: each file replaced atomically through
`output_dir/.tmp`, left untouched when its bytes would not change, on a few threads.
Must NOT render anything or choose a name: callers hand it finished bytes and paths
(from the sitemap).
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import shutil
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from itertools import count
from pathlib import Path

from aggregator.errors import PublishError
from aggregator.publish.report import PublishReport

__all__ = [
    "TEMP_DIR",
    "WRITE_THREADS",
    "WriteFile",
    "Writer",
    "clear_stale_temp_files",
    "make_output_dir",
    "prune_numbered",
    "remove",
    "write_atomic",
]

log = logging.getLogger("aggregator.publish")

TEMP_DIR = ".tmp"  # under output_dir: temp files of atomic writes
WRITE_THREADS = 4  # threads replacing files (measured: 2-6 do alike on 2 cores)
_WRITE_WINDOW = 256  # files rendered but not yet written, at most
_WRITE_BATCH = 32  # files handed to a thread at once

WriteFile = Callable[[str, str | bytes], None]  # a path under the output folder, its data

# A path that the file system refuses for its name alone (too long, a byte it cannot hold):
# that file is skipped with an error, not the whole publish.
_UNWRITABLE_NAME = frozenset({errno.ENAMETOOLONG, errno.EILSEQ})


class Writer:
    """Replaces files on a few threads, in the order they were given.

    Creating a file is what a big publish spends most on (here 0.5-1 ms of kernel time
    each), with the GIL released: rendering goes on meanwhile. Files go to the threads in
    batches, and each thread creates its temp files in its own folder, since creations in
    one folder queue on its lock. At most `_WRITE_WINDOW` files are in flight, so memory
    stays bounded.
    """

    def __init__(self, out: Path, report: PublishReport, *, threads: int = WRITE_THREADS) -> None:
        # .tmp/<pid>.<writer>.<thread>/: a dead writer's leftovers are found by the pid.
        self._temp_prefix = f"{out / TEMP_DIR}/{os.getpid()}.{next(_writer_ids)}."
        self._report = report
        self._threads = threads
        self._pool: ThreadPoolExecutor | None = None
        self._batch: list[_File] = []
        self._in_flight: deque[tuple[list[_File], Future[list[bool | OSError]]]] = deque()
        self._local = threading.local()
        self._thread_ids = count()
        self._temp_dirs: list[str] = []

    def write(self, path: str, data: bytes, *, fresh: bool = False, durable: bool = False) -> None:
        """Queue `data` for `path`; `fresh`: the file is known not to exist yet.

        Raises:
            PublishError: an earlier queued write failed.
        """
        self._batch.append(_File(path, data, fresh, durable))
        if len(self._batch) >= _WRITE_BATCH:
            self._submit()

    def flush(self) -> None:
        """Wait for every queued write.

        Raises:
            PublishError: a file could not be written.
        """
        self._submit()
        while self._in_flight:
            self._settle()

    def close(self) -> None:
        """Drop writes not started yet (after a failure), wait for those running, and
        remove the temp folders."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        self._batch.clear()
        self._in_flight.clear()
        for folder in self._temp_dirs:
            shutil.rmtree(folder, ignore_errors=True)

    def _submit(self) -> None:
        if not self._batch:
            return
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self._threads, thread_name_prefix="publish")
        batch, self._batch = self._batch, []
        self._in_flight.append((batch, self._pool.submit(self._replace_all, batch)))
        while len(self._in_flight) * _WRITE_BATCH > _WRITE_WINDOW:
            self._settle()

    def _settle(self) -> None:
        batch, future = self._in_flight.popleft()
        for file, outcome in zip(batch, future.result(), strict=False):
            if isinstance(outcome, OSError):
                if outcome.errno in _UNWRITABLE_NAME:
                    # This file can never be written under this name; the rest can.
                    self._report.skipped.append(Path(file.path))
                    log.error(
                        "skipped %s: %s (the name comes from a slug: shorten or rename it)",
                        file.path,
                        outcome.strerror or outcome,
                    )
                    continue
                raise PublishError(f"cannot write {file.path}: {outcome.strerror or outcome}")
            if outcome:
                self._report.written.append(Path(file.path))

    def _replace_all(self, batch: list[_File]) -> list[bool | OSError]:
        """Each file's outcome, up to the first that failed (an error, as a value)."""
        local = self._local
        folder: str | None = getattr(local, "folder", None)
        if folder is None:
            folder = f"{self._temp_prefix}{next(self._thread_ids)}"
            self._temp_dirs.append(folder)
            local.folder, local.names = folder, count()
        outcomes: list[bool | OSError] = []
        for file in batch:
            try:
                outcomes.append(_replace(file, f"{folder}/{next(local.names)}.tmp"))
            except OSError as e:
                outcomes.append(e)
                if e.errno not in _UNWRITABLE_NAME:
                    break
        return outcomes


@dataclass(frozen=True, slots=True)
class _File:
    path: str
    data: bytes
    fresh: bool  # known not to exist yet: not read back first
    durable: bool  # fsync before the rename


_writer_ids = count()  # tells apart the writers of one process (the daemon publishes often)
_WRITE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC


def _replace(file: _File, temp: str) -> bool:
    """Atomically replace `file.path` with `file.data`; False when it held those bytes.

    Plain os calls rather than open(): each call releases the GIL, and fewer calls mean
    fewer hand-overs with the thread rendering.
    """
    path, data = file.path, file.data
    if not file.fresh:
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            pass
        else:
            try:
                # A size that differs settles it without reading the file.
                if os.fstat(fd).st_size == len(data) and os.read(fd, len(data) + 1) == data:
                    return False
            finally:
                os.close(fd)
    try:
        fd = os.open(temp, _WRITE_FLAGS, 0o666)
    except FileNotFoundError:
        # The thread's temp folder is made on its first file, not checked before each.
        os.makedirs(os.path.dirname(temp), exist_ok=True)
        fd = os.open(temp, _WRITE_FLAGS, 0o666)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            if file.durable:
                # Feeds are few and what readers poll: make them survive a power cut.
                # Post files and pages are rebuilt from the store, so they skip it.
                os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.replace(temp, path)
        except FileNotFoundError:
            # The folder is new: made on demand rather than checked before every file.
            os.makedirs(os.path.dirname(path), exist_ok=True)
            os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
    return True


def make_output_dir(output_dir: Path) -> None:
    """Make `output_dir` (and its parents) unless it is there.

    Raises:
        PublishError: a file is where it or a parent folder goes, or it cannot be made.
    """
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
    except FileExistsError as e:
        raise PublishError(f"output_dir {output_dir} is a file, not a folder") from e
    except NotADirectoryError as e:
        raise PublishError(f"cannot make output_dir {output_dir}: a file is in its path") from e
    except OSError as e:
        raise PublishError(f"cannot make output_dir {output_dir}: {e.strerror or e}") from e


def clear_stale_temp_files(output_dir: Path, *, others: bool = False) -> int:
    """Remove temp files of writers that died (SIGKILL, power cut) before renaming: those
    of processes not alive on this machine, or, with `others`, of every other process (the
    caller holds the publish lock of a shared store, whose writers may be on other hosts).

    Every atomic write of the publisher goes through `output_dir/.tmp`, so only that
    folder is looked at, however big the site. Returns how many were removed.
    """
    folder = output_dir / TEMP_DIR
    if not folder.is_dir():
        return 0
    removed = 0
    for path in folder.iterdir():
        pid = _number(path.name.split(".", 1)[0])
        if pid is not None and pid != os.getpid() and (others or not _alive(pid)):
            if path.is_dir():  # one writer thread's folder
                removed += sum(1 for _ in path.iterdir())
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
                removed += 1
    return removed


def _number(text: str) -> int | None:
    """`text` as a number when it is ASCII digits (int() refuses "²", which str.isdigit
    takes), else None."""
    return int(text) if text.isascii() and text.isdigit() else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):  # OverflowError: no pid is that large
        return False
    except PermissionError:
        return True
    return True


def write_atomic(
    path: Path, data: bytes, *, durable: bool = False, temp: Path | None = None
) -> None:
    """Replace `path` with `data` so that readers see the old file or the new one, never half.

    `temp` is where the data is written first; it must be on the same file system
    (default: a hidden file beside `path`).

    Raises:
        OSError: the folder cannot be created or the disk refused the write; the old
            file is then left as it was.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if temp is None:
        temp = path.parent / f".{path.name}.{os.getpid()}.tmp"
    else:
        temp.parent.mkdir(parents=True, exist_ok=True)
    _replace(_File(str(path), data, fresh=True, durable=durable), str(temp))


def remove(path: Path, report: PublishReport) -> None:
    """Remove `path` if it exists, noting it in `report`.

    Raises:
        PublishError: the file exists and cannot be removed.
    """
    try:
        if not path.exists():
            return
        path.unlink()
    except OSError as e:
        raise PublishError(f"cannot remove {path}: {e.strerror or e}") from e
    report.removed.append(path)


def prune_numbered(folder: Path, suffix: str, keep: int, report: PublishReport) -> None:
    """Remove <n>.<suffix> in `folder` for n > keep (left by a longer past).

    Raises:
        PublishError: such a file cannot be removed.
    """
    if not folder.is_dir():
        return
    for path in folder.glob(f"*.{suffix}"):
        number = _number(path.stem)
        if number is not None and number > keep:
            remove(path, report)
