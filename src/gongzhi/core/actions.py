"""Writes owned by core: durable timers and the working-day calendar."""

from __future__ import annotations

import os
import secrets
import socket
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connections, router, transaction

from gongzhi.core import clock, registry
from gongzhi.core.actors import Actor
from gongzhi.core.audit import record_event
from gongzhi.core.calendar import invalidate_calendar_cache, parse_calendar_file, replace_years
from gongzhi.core.db import shortcuts_on
from gongzhi.core.db.inserts import insert_values
from gongzhi.core.db.rows import quote
from gongzhi.core.enums import CalendarSource, DayKind, TimerStatus
from gongzhi.core.models import CalendarDay, CalendarYear, Timer


def do_schedule_timer(kind: str, key: str, due_at: datetime, payload: dict[str, Any] | None = None) -> Timer:
    """Schedule a durable timer; the same ``key`` twice keeps the first (retries never duplicate)."""
    timer, _created = Timer.objects.get_or_create(
        key=key, defaults={"kind": kind, "due_at": due_at, "payload": payload or {}}
    )
    return timer


def do_arm_timer(kind: str, key: str, due_at: datetime, payload: dict[str, Any] | None = None) -> None:
    """Create the timer or re-arm it (pending, new due time) — e.g. after a paused clock resumes.

    A timer that already fired stays done: a deadline that has passed is not un-passed.
    """
    updated = Timer.objects.filter(key=key).exclude(status__in=[TimerStatus.DONE, TimerStatus.RUNNING]).update(
        due_at=due_at, status=TimerStatus.PENDING, kind=kind, payload=payload or {}
    )
    if not updated and not Timer.objects.filter(key=key).exists():
        do_schedule_timer(kind, key, due_at, payload)


def do_schedule_timers(rows: list[tuple[str, str, datetime, dict[str, Any]]]) -> None:
    """Insert many new timers in one statement (intake creates several per case)."""
    insert_values(
        Timer, [{"kind": kind, "key": key, "due_at": due, "payload": payload} for kind, key, due, payload in rows],
        ignore_conflicts=True,  # same key again = a retry: keep the first
    )


def do_cancel_timer(key: str) -> int:
    return Timer.objects.filter(key=key, status=TimerStatus.PENDING).update(status=TimerStatus.CANCELLED)


# Who claimed a timer: host, process and a random tag (``id(object())`` alone repeats across
# processes started the same way on one host).
WORKER_ID = f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(3)}"  # fits claimed_by (80)


def claim_due_timers(now: datetime | None = None, limit: int = 100, worker_id: str = WORKER_ID) -> list[Timer]:
    """Claim due timers with a conditional UPDATE (healthchecks' sendalerts), in due order.

    Only rows still pending are taken: a row another worker got first is not updated, so it is
    not ours. Claims abandoned by a dead worker are released after TIMER_CLAIM_TIMEOUT_SECONDS.
    The whole batch is claimed in one statement that returns the ids it won, and the won rows
    are read in one query (one UPDATE and one SELECT per timer cost most of a sweep's claiming).
    """
    now = now or clock.now()
    stale = now - timedelta(seconds=settings.TIMER_CLAIM_TIMEOUT_SECONDS)
    Timer.objects.filter(status=TimerStatus.RUNNING, claimed_at__lt=stale).update(status=TimerStatus.PENDING)
    candidates = list(
        Timer.objects.filter(status=TimerStatus.PENDING, due_at__lte=now).order_by("due_at").values_list("id", flat=True)[:limit]
    )
    if not candidates:
        return []
    won = _claim(candidates, now, worker_id)
    by_id = {t.pk: t for t in Timer.objects.filter(id__in=won)} if won else {}
    return [by_id[timer_id] for timer_id in candidates if timer_id in by_id]


def _claim(ids: list[int], now: datetime, worker_id: str) -> set[int]:
    """Set ``ids`` that are still pending to running (ours); return the ids this call won."""
    conn = connections[router.db_for_write(Timer)]
    if not shortcuts_on() or not _update_returning(conn):  # the plain ORM: one UPDATE per timer
        won: set[int] = set()
        for timer_id in ids:  # one conditional UPDATE each: zero rows means another worker won
            if Timer.objects.filter(id=timer_id, status=TimerStatus.PENDING).update(
                status=TimerStatus.RUNNING, claimed_by=worker_id, claimed_at=now
            ):
                won.add(timer_id)
        return won
    claimed_at = Timer._meta.get_field("claimed_at").get_db_prep_save(now, connection=conn)
    with conn.cursor() as cur:
        cur.execute(_claim_sql(conn, len(ids)), [TimerStatus.RUNNING.value, worker_id, claimed_at, *ids,
                                                 TimerStatus.PENDING.value])
        return {int(row[0]) for row in cur.fetchall()}


def _claim_sql(conn: Any, count: int) -> str:
    qn = quote  # SQLite and PostgreSQL (_update_returning) both read "…" identifiers
    opts = Timer._meta
    table = qn(opts.db_table)
    cols = {f.name: qn(str(f.column)) for f in opts.concrete_fields}
    pk, status, by, at = cols["id"], cols["status"], cols["claimed_by"], cols["claimed_at"]
    marks = ", ".join(["%s"] * count)
    # SQLite without statistics guesses that ``status = 'pending'`` selects a handful of rows and
    # walks the (status, due_at) index — every pending timer, two million at the bench's large
    # size (bench/intake.py: the sweep grew 2.3×) — instead of looking the ids up. NOT INDEXED
    # leaves it the primary key only. PostgreSQL's planner has statistics.
    hint = " NOT INDEXED" if conn.vendor == "sqlite" else ""
    # Only the quoted names of the model's own table and columns are formatted in; values are parameters.
    return (f"UPDATE {table}{hint} SET {status} = %s, {by} = %s, {at} = %s "  # noqa: S608
            f"WHERE {pk} IN ({marks}) AND {status} = %s RETURNING {pk}")


def _update_returning(conn: Any) -> bool:
    """Whether the database returns rows from an UPDATE (PostgreSQL; SQLite since 3.35)."""
    if conn.vendor == "postgresql":
        return True
    if conn.vendor == "sqlite":
        import sqlite3

        return sqlite3.sqlite_version_info >= (3, 35, 0)
    return False


def run_timer(timer: Timer) -> bool:
    """Run one claimed timer's handler inside a transaction; mark it done or record the error."""
    handler = registry.REGISTRY.timer_handlers.get(timer.kind)
    if handler is None:
        Timer.objects.filter(id=timer.pk).update(status=TimerStatus.FAILED, last_error=f"no handler for {timer.kind}")
        return False
    try:
        with transaction.atomic():
            handler(timer)
            Timer.objects.filter(id=timer.pk, status=TimerStatus.RUNNING).update(
                status=TimerStatus.DONE, done_at=clock.now(), attempts=timer.attempts + 1
            )
        return True
    except Exception as exc:  # keep the worker alive; the row records what went wrong
        attempts = timer.attempts + 1
        Timer.objects.filter(id=timer.pk).update(
            status=TimerStatus.FAILED if attempts >= 5 else TimerStatus.PENDING,
            attempts=attempts,
            last_error=repr(exc)[:2000],
            due_at=clock.now() + timedelta(seconds=30 * attempts),
        )
        return False


def _notify_calendar_changed() -> None:
    invalidate_calendar_cache()
    for listener in registry.REGISTRY.calendar_listeners:
        listener()


def do_load_calendar(path: Path, *, actor: Actor) -> list[int]:
    """Import a year's (or years') holiday schedule; recompute provisional deadlines after."""
    years, rows = parse_calendar_file(path)
    with transaction.atomic():
        replace_years(years, rows, CalendarSource.IMPORT)
        record_event(
            "calendar.load",
            actor=actor,
            object_type="core.calendaryear",
            object_id=",".join(map(str, years)),
            after={"years": years, "days": len(rows), "file": path.name},
        )
        transaction.on_commit(_notify_calendar_changed)
    return years


def do_set_calendar_day(day: date, kind: str | None, name: str = "", *, actor: Actor) -> None:
    """Administrator edit: mark ``day`` as off/work, or ``kind=None`` to restore the weekday rule."""
    with transaction.atomic():
        old = CalendarDay.objects.filter(date=day).first()
        before = {"kind": old.kind, "name": old.name} if old else None
        if kind is None:
            CalendarDay.objects.filter(date=day).delete()
        else:
            if kind not in DayKind.values:
                raise ValueError(f"unknown day kind {kind!r}")
            CalendarDay.objects.update_or_create(
                date=day, defaults={"kind": kind, "name": name, "source": CalendarSource.ADMIN}
            )
        record_event(
            "calendar.set_day",
            actor=actor,
            object_type="core.calendarday",
            object_id=day.isoformat(),
            before=before,
            after={"kind": kind, "name": name} if kind else None,
        )
        transaction.on_commit(_notify_calendar_changed)


def do_mark_calendar_year(year: int, complete: bool, *, actor: Actor) -> None:
    with transaction.atomic():
        CalendarYear.objects.update_or_create(year=year, defaults={"complete": complete, "source": CalendarSource.ADMIN})
        record_event("calendar.mark_year", actor=actor, object_type="core.calendaryear", object_id=year,
                     after={"complete": complete})
        transaction.on_commit(_notify_calendar_changed)
