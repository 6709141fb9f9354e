"""The instance lock: one holder per store, released when the holder dies (even by SIGKILL)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from pgdatabase import PG_MISSING, new_database

from aggregator.errors import StoreError
from aggregator.lock import AlreadyRunning, acquire_instance_lock, lock_path_for

PG_URL = os.environ.get("AGGREGATOR_TEST_POSTGRES_URL")

# A child that takes the lock, says so, and then sleeps until killed.
HOLDER = """
import sys, time
from aggregator.lock import acquire_instance_lock
lock = acquire_instance_lock(sys.argv[1])
print("locked", flush=True)
time.sleep(120)
"""


def hold_in_child(url: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, url],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    if proc.stdout.readline().strip() != "locked":
        proc.wait()
        proc.stdout.close()
        raise AssertionError(f"the child did not take the lock (exit {proc.returncode})")
    return proc


def kill(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    if proc.stdout is not None:
        proc.stdout.close()


def acquire_eventually(url: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            acquire_instance_lock(url).release()
            return
        except AlreadyRunning:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def test_sqlite_lock_file_sits_beside_the_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/a.db"
    assert lock_path_for(url) == tmp_path / "a.db.lock"
    assert lock_path_for("sqlite://") is None
    assert lock_path_for("sqlite:///:memory:") is None


def test_second_holder_is_refused_with_pid_and_host(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/a.db"
    with acquire_instance_lock(url):
        with pytest.raises(AlreadyRunning) as refused:
            acquire_instance_lock(url)
        message = str(refused.value)
        assert f"pid {os.getpid()}" in message
        assert socket.gethostname() in message
        assert str(tmp_path / "a.db.lock") in message
    # Released: taken again at once.
    acquire_instance_lock(url).release()


def test_release_twice_is_harmless(tmp_path: Path) -> None:
    lock = acquire_instance_lock(f"sqlite:///{tmp_path}/a.db")
    lock.release()
    lock.release()


def test_different_databases_do_not_share_a_lock(tmp_path: Path) -> None:
    with acquire_instance_lock(f"sqlite:///{tmp_path}/a.db"):
        acquire_instance_lock(f"sqlite:///{tmp_path}/b.db").release()


def test_memory_database_needs_no_lock() -> None:
    with acquire_instance_lock("sqlite://"):
        acquire_instance_lock("sqlite://").release()


def test_sigkilled_holder_releases_the_lock(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/a.db"
    child = hold_in_child(url)
    try:
        with pytest.raises(AlreadyRunning, match=f"pid {child.pid} "):
            acquire_instance_lock(url)
    finally:
        kill(child)
    acquire_instance_lock(url).release()


def test_unwritable_folder_is_a_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(StoreError, match="lock file"):
        acquire_instance_lock(f"sqlite:///{blocker}/a.db")


@pytest.mark.postgres
def test_postgres_advisory_lock_refuses_then_frees_on_sigkill() -> None:
    if not PG_URL:
        pytest.skip(PG_MISSING)
    child = hold_in_child(PG_URL)
    try:
        with pytest.raises(AlreadyRunning) as refused:
            acquire_instance_lock(PG_URL)
        assert f"pid {child.pid} on {socket.gethostname()}" in str(refused.value)
        assert "advisory lock" in str(refused.value)
    finally:
        kill(child)
    # The server ends the session when it sees the socket close; allow it a moment.
    acquire_eventually(PG_URL)


@pytest.mark.postgres
def test_postgres_lock_released_by_release() -> None:
    if not PG_URL:
        pytest.skip(PG_MISSING)
    lock = acquire_instance_lock(PG_URL)
    with pytest.raises(AlreadyRunning):
        acquire_instance_lock(PG_URL)
    lock.release()
    acquire_instance_lock(PG_URL).release()


def test_unreachable_postgres_is_a_store_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        with pytest.raises(StoreError, match="cannot lock database"):
            acquire_instance_lock(f"postgresql+psycopg://nobody@127.0.0.1:{port}/x")


def test_file_lock_check_keeps_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/a.db"
    with acquire_instance_lock(url) as lock:
        assert lock.check() is False
        with pytest.raises(AlreadyRunning):
            acquire_instance_lock(url)


@pytest.fixture
def pg_database() -> Iterator[str]:
    """A PostgreSQL database of the test's own: advisory locks are per database, and other
    test runs may hold the one of the server's default database."""
    if not PG_URL:
        pytest.skip(PG_MISSING)
    with new_database() as url:
        yield url


def _end_sessions_holding_the_lock(url: str) -> None:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            ended = conn.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory'"
                    " AND granted AND database = (SELECT oid FROM pg_database"
                    " WHERE datname = current_database())"
                )
            ).all()
        assert ended == [(True,)]
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_postgres_lock_lost_with_its_session_is_taken_again(pg_database: str) -> None:
    with acquire_instance_lock(pg_database) as lock:
        assert lock.check() is False
        _end_sessions_holding_the_lock(pg_database)
        deadline = time.monotonic() + 10
        while not lock.check():  # the backend ends a moment after it is told to
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert lock.check() is False
        with pytest.raises(AlreadyRunning, match=f"pid {os.getpid()} "):
            acquire_instance_lock(pg_database)
    acquire_instance_lock(pg_database).release()


@pytest.mark.postgres
def test_postgres_lock_lost_to_another_holder_is_already_running(pg_database: str) -> None:
    with acquire_instance_lock(pg_database) as lock:
        _end_sessions_holding_the_lock(pg_database)
        child = None
        deadline = time.monotonic() + 10
        while child is None:
            try:
                child = hold_in_child(pg_database)
            except AssertionError:  # the ended session still held it: not yet gone
                assert time.monotonic() < deadline
                time.sleep(0.05)
        try:
            with pytest.raises(AlreadyRunning) as lost:
                lock.check()
            assert str(lost.value).startswith("instance lock lost")
            assert f"pid {child.pid} on {socket.gethostname()}" in str(lost.value)
        finally:
            kill(child)


class _Proxy:
    """A TCP relay to PostgreSQL on 127.0.0.1 whose client legs can be cut while the
    server's legs (and their sessions) stay open: a connection lost on our side only, as
    when a NAT or a pooler drops it."""

    def __init__(self) -> None:
        import threading

        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen()
        self.port = self._listener.getsockname()[1]
        self.legs: list[tuple[socket.socket, socket.socket]] = []
        self._threads = threading
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", 5432))
            self.legs.append((client, server))
            for a, b in ((client, server), (server, client)):
                self._threads.Thread(target=_pump, args=(a, b), daemon=True).start()

    def cut_clients(self) -> None:
        for client, _server in self.legs:
            with contextlib.suppress(OSError):
                client.shutdown(socket.SHUT_RDWR)
            client.close()

    def close(self) -> None:
        self._listener.close()
        for client, server in self.legs:
            client.close()
            server.close()


def _pump(a: socket.socket, b: socket.socket) -> None:
    try:
        while data := a.recv(65536):
            b.sendall(data)
    except OSError:
        pass


@pytest.mark.postgres
def test_postgres_lock_held_by_our_own_orphaned_session_is_taken_back(pg_database: str) -> None:
    # Our side of the lock's connection drops, the server's backend lives on, holding the
    # lock: that holder is this process, not another aggregator.
    proxy = _Proxy()
    url = sa.make_url(pg_database).set(host="127.0.0.1", port=proxy.port)
    try:
        with acquire_instance_lock(url.render_as_string(hide_password=False)) as lock:
            assert lock.check() is False
            proxy.cut_clients()
            assert lock.check() is True  # the orphan ended, the lock taken on a new session
            assert lock.check() is False
            with pytest.raises(AlreadyRunning, match=f"pid {os.getpid()} "):
                acquire_instance_lock(pg_database)
    finally:
        proxy.close()
