"""SQLite backend that queues writers on a file lock instead of SQLite's busy handler.

SQLite has one writer at a time. With ``BEGIN IMMEDIATE`` the others wait in SQLite's busy
handler, which polls with sleeps of up to 100 ms: under load most of the time is spent
sleeping, not working (measured by bench/intake.py: p50 latency in the hundreds of
milliseconds at a few dozen submissions per second). Here each write transaction first takes an
exclusive ``flock`` on ``<database>.lock``; the kernel wakes the next waiter the moment the lock
is released, across threads and across processes (gunicorn workers, the worker loop).

Only transactions opened by ``atomic()`` are queued; SQLite's own locking still guards
everything, so a process that does not use this backend stays correct, merely slower.
"""

from __future__ import annotations

import fcntl
import os
from typing import Any

from django.db.backends.sqlite3 import base


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lock_fd: int | None = None
        self._lock_held = False

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
        try:
            return super()._commit()  # type: ignore[misc]
        finally:
            self._release()

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
