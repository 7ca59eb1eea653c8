"""SQLite backend that queues writers on a file lock instead of SQLite's busy handler.

SQLite has one writer at a time. With ``BEGIN IMMEDIATE`` the others wait in SQLite's busy
handler, which polls with sleeps of up to 100 ms: under load most of the time is spent
sleeping, not working (measured by bench/intake.py: p50 latency in the hundreds of
milliseconds at a few dozen submissions per second). Here each write transaction first takes an
exclusive ``flock`` on ``<database>.lock``; the kernel wakes the next waiter the moment the lock
is released, across threads and across processes (web server workers, the worker loop).

Only transactions opened by ``atomic()`` are queued; SQLite's own locking still guards
everything, so a process that does not use this backend stays correct, merely slower.

Checkpoints run after the queue is released. SQLite's automatic checkpoint (every ~1000 WAL
pages) runs inside the COMMIT call of whichever transaction crosses the threshold, that is,
while this backend still holds the queue: every writer waited for it (bench/intake.py measured
~0.4 ms of every submission's time under the lock). Here automatic checkpoints are off, and
every ``CHECKPOINT_EVERY`` commits a connection runs a PASSIVE checkpoint — the same kind SQLite
runs — after releasing the lock. PASSIVE never blocks readers or writers.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
from typing import Any

from django.db.backends.sqlite3 import base

CHECKPOINT_EVERY = 256  # commits: ~4,000 pages at intake's ~15 per commit (64 measured 0.55 ms per submission, 256 0.31 ms)


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lock_fd: int | None = None
        self._lock_held = False
        self._commits = 0

    def get_new_connection(self, conn_params: Any) -> Any:
        conn = super().get_new_connection(conn_params)
        if self._lock_path() is not None:
            conn.execute("PRAGMA wal_autocheckpoint=0")  # see the module docstring: _commit runs them
        return conn

    def _lock_path(self) -> str | None:
        name = str(self.settings_dict["NAME"])
        if self.is_in_memory_db() or not name:
            return None  # one connection shared by the test threads; nothing to queue
        return name + ".lock"

    def _acquire(self) -> None:
        path = self._lock_path()
        if path is None or self._lock_held:
            return
        if self._lock_fd is None:
            self._lock_fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
        self._lock_held = True

    def _release(self) -> None:
        if self._lock_held and self._lock_fd is not None:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
        self._lock_held = False

    def _start_transaction_under_autocommit(self) -> None:
        self._acquire()
        try:
            super()._start_transaction_under_autocommit()  # type: ignore[misc]  # private in the stubs
        except BaseException:
            self._release()
            raise

    def _commit(self) -> Any:
        held = self._lock_held
        try:
            return super()._commit()  # type: ignore[misc]
        finally:
            self._release()
            if held:
                self._commits += 1
                if self._commits % CHECKPOINT_EVERY == 0:
                    self._checkpoint()

    def _checkpoint(self) -> None:
        if self.connection is None:
            return
        try:
            self.connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except sqlite3.Error:
            pass  # busy or interrupted: the next one catches up; nothing is lost either way

    def _rollback(self) -> Any:
        try:
            return super()._rollback()  # type: ignore[misc]
        finally:
            self._release()

    def _close(self) -> Any:
        try:
            return super()._close()  # type: ignore[misc]
        finally:
            self._release()
            if self._lock_fd is not None:
                os.close(self._lock_fd)
                self._lock_fd = None
