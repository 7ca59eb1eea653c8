"""The engine is pure Python: these tests need no database and no Django settings."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _test_settings() -> None:
    """Override src/conftest.py's autouse Django-settings fixture: nothing to configure here,
    and the suite must run with ``-p no:django``."""
