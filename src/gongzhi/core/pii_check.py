"""pytest plugin run by ``make test`` (``-p gongzhi.core.pii_check``): nothing personal in clear.

* After the body of every test that uses the database — before pytest-django rolls its
  transaction back, so everything the test wrote is still there — every text column of every
  table is scanned (``core/pii_scan.py``). A finding names table and column (and the first test
  that left it) and fails the run.
* While the suite runs, every log record also goes to ``var/test-run.log`` through the same
  masking filter as the production log handler — the log a deployment would have written;
  ``scripts/scan_personal_numbers.py`` then scans ``var/`` (uploads, notification log, the SQLite
  file, this log).

Numbers are only ever shown masked.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gongzhi.core.files import private_file
from gongzhi.core.pii_scan import Finding, scan_database

_DB_FIXTURES = frozenset({"db", "transactional_db", "django_db_reset_sequences", "django_db_serialized_rollback"})
_FOUND: dict[tuple[str, str, str], tuple[Finding, str]] = {}
_HANDLER: logging.Handler | None = None
_COLUMNS: dict[str, list[str]] = {}


def _uses_database(item: pytest.Item) -> bool:
    names = set(getattr(item, "fixturenames", ()))
    return item.get_closest_marker("django_db") is not None or bool(names & _DB_FIXTURES)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    yield
    if not _uses_database(item):
        return
    from django.db import connection

    for finding in scan_database(connection, _COLUMNS):
        _FOUND.setdefault((finding.where, finding.kind, finding.masked), (finding, item.nodeid))


@pytest.fixture(scope="session", autouse=True)
def _log_the_run_through_the_masking_filter() -> Iterator[None]:
    # Installed here, not in pytest_configure: django.setup() applies settings.LOGGING, which
    # replaces the root logger's handlers.
    global _HANDLER
    from django.conf import settings

    from gongzhi.core.logging import MaskPersonalNumbersFilter

    path = private_file(Path(settings.VAR_DIR) / "test-run.log", create=True)  # 0600 like any log
    path.write_text("", encoding="utf-8")
    handler = logging.FileHandler(path, mode="a", encoding="utf-8")
    handler.addFilter(MaskPersonalNumbersFilter())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    logging.getLogger().addHandler(handler)
    _HANDLER = handler
    yield
    logging.getLogger().removeHandler(handler)
    handler.close()
    _HANDLER = None


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _FOUND and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _FOUND:
        terminalreporter.write_line("personal numbers in clear in the test database: none")
        return
    terminalreporter.section("personal numbers in clear in the test database", red=True)
    for finding, nodeid in sorted(_FOUND.values(), key=lambda f: f[0].where):
        terminalreporter.write_line(f"{finding}  (first left by {nodeid})")
