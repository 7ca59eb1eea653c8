"""The SLA timers' handlers (warning, overdue with its accountability trace) and the recompute of provisional deadlines."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import F

from gongzhi.core import clock
from gongzhi.core.actors import WORKER
from gongzhi.core.audit import record_event
from gongzhi.core.calendar import work_calendar
from gongzhi.core.db.inserts import insert
from gongzhi.services.actions.common import (
    _cancel_task_timers,
    _end_hold,
    _schedule_task_timers,
)
from gongzhi.services.domain.sla import clock_for
from gongzhi.services.enums import (
    OPEN_CASE_STATUSES,
    OPEN_TASK_STATUSES,
    SlaState,
    TaskRole,
    TaskStatus,
)
from gongzhi.services.models import (
    Accountability,
    Case,
    Task,
)
from gongzhi.services.sql import task_for_overdue, task_for_warning, task_holds

# ------------------------------------------------------------------------------ SLA timers
# A backlog of due timers (a midnight sweep) runs these handlers thousands of times in a row, so
# their reads are written out as SQL (services/sql.py).


def _timer_task(timer: Any, *related: str) -> Task | None:
    """The task a SLA timer names (``payload["task"]``), with its ``related`` objects loaded."""
    task_id = timer.payload.get("task")
    if type(task_id) is int:
        return task_for_overdue(task_id) if "holder" in related else task_for_warning(task_id)
    return Task.objects.select_related(*related).filter(pk=task_id).first()  # an unusual payload: the ORM


def handle_task_warning(timer: Any) -> None:
    task = _timer_task(timer, "case", "department")
    if task is None or task.status not in (TaskStatus.PENDING, TaskStatus.CLAIMED):
        return
    if Task.objects.filter(pk=task.pk, sla=SlaState.ON_TRACK).update(sla=SlaState.WARNING):
        Case.objects.filter(pk=task.case_id, sla=SlaState.ON_TRACK).update(sla=SlaState.WARNING)
        record_event("task.sla_warning", actor=WORKER, obj=task, place_path=task.case.place_path,
                     after={"deadline": task.deadline.isoformat()})


def handle_task_overdue(timer: Any) -> None:
    """Mark the task overdue and trace who held it (问责倒查); 超时默认 where the item says so."""
    task = _timer_task(timer, "case__item", "department", "holder")
    if task is None or task.status not in (TaskStatus.PENDING, TaskStatus.CLAIMED):
        return
    now = clock.now()
    holds = task_holds(task.pk)
    trace = [
        {"user": h.user.username if h.user else "", "name": (h.user.display_name if h.user else ""),
         "department": task.department.name, "step": h.step,
         "from": h.started_at.isoformat(), "to": h.ended_at.isoformat() if h.ended_at else None}
        for h in holds
    ]
    last = holds[-1] if holds else None
    step = ("待认领（无人认领）" if task.status == TaskStatus.PENDING else (last.step if last else "办理"))
    # get_or_create in one statement: the unique constraint on the task keeps the first record
    # (a re-run, or another worker's race, inserts nothing).
    insert([Accountability(
        task=task, case=task.case, department=task.department, holder=task.holder,
        held_from=last.started_at if last else task.case.accepted_at, held_to=now,
        step=step, deadline=task.deadline, detected_at=now, trace=trace,
    )], ignore_conflicts=True)
    defaulted = task.role == TaskRole.CO and task.case.item.co_timeout_default
    # One UPDATE of the task: overdue, and 超时默认 where it applies.
    default_approve = {"status": TaskStatus.DEFAULTED, "decided_at": now, "decision_reason": "协办超时，按规定视为同意"}
    Task.objects.filter(pk=task.pk).update(sla=SlaState.OVERDUE, version=F("version") + 1,
                                           **(default_approve if defaulted else {}))
    if task.role == TaskRole.LEAD:
        Case.objects.filter(pk=task.case_id).update(sla=SlaState.OVERDUE, stats_dirty=True)
    record_event("task.overdue", actor=WORKER, obj=task, place_path=task.case.place_path,
                 after={"deadline": task.deadline.isoformat(), "holder": task.holder.username if task.holder else None,
                        "step": step})
    if defaulted:
        _end_hold(task, now)
        record_event("task.default_approve", actor=WORKER, obj=task, place_path=task.case.place_path)


# ------------------------------------------------------------------------- calendar changes


def do_recompute_provisional_deadlines() -> int:
    """After a new year's calendar is loaded: recompute provisional case and task deadlines and
    move their timers (registered with ``on_calendar_changed``)."""
    cal = work_calendar()
    changed = 0
    with transaction.atomic():
        for case in Case.objects.filter(deadline_provisional=True, status__in=OPEN_CASE_STATUSES).select_related("item"):
            clock = clock_for(cal, case.accepted_on, case.limit_days, case.paused_days, case.item.warning_share)
            Case.objects.filter(pk=case.pk).update(deadline=clock.deadline, deadline_provisional=clock.provisional)
            changed += 1
        for task in Task.objects.filter(deadline_provisional=True, status__in=OPEN_TASK_STATUSES).select_related(
            "case__item"
        ):
            clock = clock_for(cal, task.case.accepted_on, task.limit_days, task.paused_days, task.case.item.warning_share)
            _cancel_task_timers(task)
            Task.objects.filter(pk=task.pk).update(deadline=clock.deadline, deadline_provisional=clock.provisional)
            task.deadline = clock.deadline
            _schedule_task_timers(task, task.case.item)
            changed += 1
    return changed
