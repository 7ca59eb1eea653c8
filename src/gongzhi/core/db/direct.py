"""Run statements that the hot path compiled itself (``inserts.py``, ``prepared.py``) on the
database driver's own cursor.

Why this exists: for every statement Django builds a cursor wrapper, checks the connection's
health and thread, passes the call through its execute-wrapper and error-translation layers,
and — on SQLite — rewrites the SQL from ``%s`` to ``?`` with a regular expression. For intake's
ten short statements per submission that costs about as much CPU as SQLite spends executing
them (py-spy on the bench's web workers: the rewrite alone was ~3% of a submission).

Here the SQL is rewritten once, when the caller compiles it, and each call keeps what matters
for correctness: the same connection (opened if needed), the thread-sharing and
broken-transaction checks, and Django's exception classes (a duplicate key still raises
``django.db.IntegrityError``, which intake's idempotency relies on). While Django records queries
(``DEBUG``, ``assertNumQueries``, ``CaptureQueriesContext``) or an execute wrapper is installed,
the ordinary cursor runs the statement, so that every statement is seen.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connections
from django.db.backends.sqlite3.base import FORMAT_QMARK_REGEX


def native_sql(sql: str, vendor: str) -> str:
    """The statement in the driver's own parameter style (as Django's SQLite cursor converts it)."""
    if vendor == "sqlite":
        return FORMAT_QMARK_REGEX.sub("?", sql).replace("%%", "%")
    return sql  # psycopg takes Django's %s style as it is


def execute(alias: str, sql: str, native: str, params: Sequence[Any], *, fetch: bool) -> list[Any]:
    """Execute ``sql`` (Django's style; ``native`` is the same statement from ``native_sql``) and
    return its rows when ``fetch``."""
    conn = connections[alias]
    if conn.queries_logged or conn.execute_wrappers:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return list(cur.fetchall()) if fetch else []
    conn.close_if_health_check_failed()
    conn.ensure_connection()
    conn.validate_thread_sharing()
    conn.validate_no_broken_transaction()
    with conn.wrap_database_errors:
        cur = conn.connection.cursor()
        try:
            cur.execute(native, params)
            return list(cur.fetchall()) if fetch else []
        finally:
            cur.close()
