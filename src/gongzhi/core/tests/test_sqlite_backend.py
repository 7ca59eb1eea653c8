"""core/db/sqlite3: writers queue on a file lock; WAL checkpoints run after the lock is released.

These use a file database of their own (the suite's database is in memory, or PostgreSQL), so
they run in both CI runs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connections, transaction

from gongzhi.core.db.sqlite3 import base as backend

ALIAS = "sqlite_file_test"


@pytest.fixture
def filedb(tmp_path: Path, django_db_blocker: Any) -> Iterator[Any]:
    with django_db_blocker.unblock():  # our own file, not the suite's test database
        yield from _filedb(tmp_path)


def _filedb(tmp_path: Path) -> Iterator[Any]:
    settings = {
        "ENGINE": "gongzhi.core.db.sqlite3", "NAME": str(tmp_path / "t.sqlite3"), "CONN_MAX_AGE": 0,
        "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20,
                    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"},
        "ATOMIC_REQUESTS": False, "AUTOCOMMIT": True, "CONN_HEALTH_CHECKS": False, "TIME_ZONE": None,
        "USER": "", "PASSWORD": "", "HOST": "", "PORT": "", "TEST": {},
    }
    connections.settings[ALIAS] = settings
    conn = connections[ALIAS]
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    yield conn
    connections.close_all()  # this thread's connection to the file database
    del connections.settings[ALIAS]
    try:
        delattr(connections._connections, ALIAS)  # type: ignore[attr-defined]
    except AttributeError:
        pass


def test_automatic_checkpoints_are_off_on_our_connections(filedb: Any) -> None:
    with filedb.cursor() as cur:
        cur.execute("PRAGMA wal_autocheckpoint")
        assert cur.fetchone()[0] == 0
        cur.execute("PRAGMA journal_mode")
        assert cur.fetchone()[0] == "wal"


def test_checkpoint_runs_after_the_lock_is_released(filedb: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backend, "CHECKPOINT_EVERY", 3)
    seen: list[bool] = []
    original = backend.DatabaseWrapper._checkpoint

    def spy(self: Any) -> None:
        seen.append(self._lock_held)
        original(self)

    monkeypatch.setattr(backend.DatabaseWrapper, "_checkpoint", spy)
    start = filedb._commits
    for i in range(7):
        with transaction.atomic(using=ALIAS), filedb.cursor() as cur:
            cur.execute("INSERT INTO t (v) VALUES (%s)", [f"row {i}"])
    assert filedb._commits - start == 7
    assert len(seen) == (filedb._commits // 3) - (start // 3) >= 2
    assert seen and not any(seen)  # never while holding the writers' queue
    with filedb.cursor() as cur:  # everything written so far was copied back into the database
        cur.execute("PRAGMA wal_checkpoint(PASSIVE)")
        busy, log, done = cur.fetchone()
        assert busy == 0 and log == done


def test_writers_queue_one_after_another(filedb: Any) -> None:
    inside = 0
    most = 0
    lock = threading.Lock()
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        nonlocal inside, most
        try:
            for i in range(5):
                with transaction.atomic(using=ALIAS):
                    with lock:
                        inside += 1
                        most = max(most, inside)
                    with connections[ALIAS].cursor() as cur:
                        cur.execute("INSERT INTO t (v) VALUES (%s)", [f"{n}-{i}"])
                    time.sleep(0.002)
                    with lock:
                        inside -= 1
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections[ALIAS].close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert most == 1  # one writer inside a transaction at a time, no "database is locked"
    with filedb.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM t")
        assert cur.fetchone()[0] == 20
