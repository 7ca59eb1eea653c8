"""pytest plugin run by ``make test`` (``-p gongzhi.core.pii_check``): nothing personal in clear.

* While the suite runs, every log record also goes to ``var/test-run.log`` through the same
  masking filter as the production log handler — the log the deployment would have written.
* When the session ends, before pytest-django drops the test database, every text column of every
  table is scanned (``core/pii_scan.py``); findings fail the run, naming table and column.

``scripts/scan_personal_numbers.py`` then scans ``var/`` (uploads, notification log, the SQLite
file, this run's log). Both show numbers masked only.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gongzhi.core.files import private_file
from gongzhi.core.pii_scan import Finding, scan_database

_FINDINGS: list[Finding] = []
_HANDLER: logging.Handler | None = None


def pytest_configure(config: pytest.Config) -> None:
    global _HANDLER
    from django.conf import settings

    from gongzhi.core.logging import MaskPersonalNumbersFilter

    path = private_file(Path(settings.VAR_DIR) / "test-run.log", create=True)  # 0600 like any log
    path.write_text("", encoding="utf-8")
    handler = logging.FileHandler(path, mode="a", encoding="utf-8")
    handler.addFilter(MaskPersonalNumbersFilter())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    handler.setLevel(logging.INFO)
    logging.getLogger().addHandler(handler)
    _HANDLER = handler


@pytest.fixture(scope="session", autouse=True)
def _scan_test_database(django_db_setup: Any, django_db_blocker: Any) -> Iterator[None]:
    yield
    # Runs before django_db_setup's teardown (fixtures finish in reverse order), so the test
    # database is still there: whatever tests committed (transactional and live-server tests,
    # migrations' seed data) is what a real database would hold.
    from django.db import connection

    with django_db_blocker.unblock():
        _FINDINGS.extend(scan_database(connection))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _HANDLER is not None:
        logging.getLogger().removeHandler(_HANDLER)
        _HANDLER.close()
    if _FINDINGS:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _FINDINGS:
        terminalreporter.write_line("personal numbers in clear in the test database: none")
        return
    terminalreporter.section("personal numbers in clear in the test database", red=True)
    for finding in _FINDINGS:
        terminalreporter.write_line(str(finding))
