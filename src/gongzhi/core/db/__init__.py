"""Database helpers of the hot paths (intake, audit events, the SLA sweep) — public Django only.

``inserts.insert`` runs an INSERT whose text is compiled once per process, ``rows`` turns rows of
SQL written out in the module that owns a read into instances with ``Model.from_db``, and
``updates.update_fields`` runs one UPDATE per row. The SQLite backend (``sqlite3/``) queues writers.

``settings.GONGZHI_DB_SHORTCUTS`` (env ``GONGZHI_DB_SHORTCUTS``, default on) switches every helper
and every written-out read to the plain ORM when off — so the ORM path stays tested (CI runs the
suite once with it off) and bench/intake.py can print what the shortcuts are worth.
"""

from __future__ import annotations

from django.conf import settings


def shortcuts_on() -> bool:
    """Read per call (not cached), so ``override_settings`` in a test switches the path."""
    return bool(getattr(settings, "GONGZHI_DB_SHORTCUTS", True))
