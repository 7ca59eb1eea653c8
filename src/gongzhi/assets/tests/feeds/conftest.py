"""Fixtures for the feed tests: pure Python, no database, no network.

The tests run with or without pytest-django (``-p no:django``): the project-wide autouse
fixtures of ``src/conftest.py`` that need Django settings are replaced here by no-ops.

``ocp_dir`` is the Open Contracting Partnership's sample data (``shared/data/ocds``): found through
``GONGZHI_SHARED_DIR`` or as a ``shared`` folder beside the repository or one of its parents;
tests that use it skip cleanly where it is absent. ``fixtures/`` holds the project's own inputs.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(autouse=True)
def _fresh_process_memos() -> None:
    """No process memos to reset: nothing here touches Django (overrides src/conftest.py)."""


@pytest.fixture(autouse=True)
def _test_settings() -> None:
    """No settings needed (overrides src/conftest.py, which asks pytest-django for them)."""


def _find_ocp_dir() -> Path | None:
    env = os.environ.get("GONGZHI_SHARED_DIR")
    if env:  # told where: look nowhere else (GONGZHI_SHARED_DIR=/nonexistent shows the skips)
        candidates = [Path(env) / "data" / "ocds"]
    else:
        candidates = [parent / "shared" / "data" / "ocds" for parent in Path(__file__).resolve().parents]
    return next((c for c in candidates if (c / "fictional-example-1.1").is_dir()), None)


@pytest.fixture(scope="session")
def ocp_dir() -> Path:
    found = _find_ocp_dir()
    if found is None:
        pytest.skip("OCP sample data (shared/data/ocds) not present")
    return found


@pytest.fixture
def fixture_bytes() -> object:
    def read(name: str) -> bytes:
        return (FIXTURES / name).read_bytes()

    return read
