"""Recompute provisional case and task deadlines when a new year's calendar is loaded."""

from __future__ import annotations

from django.db import transaction

from gongzhi.core.calendar import work_calendar
from gongzhi.services.domain.sla import clock_for
from gongzhi.services.enums import OPEN_CASE_STATUSES, OPEN_TASK_STATUSES
from gongzhi.services.models import Case, Task


def recompute_provisional_case_deadlines() -> int:
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
            from gongzhi.services.actions import _cancel_task_timers, _schedule_task_timers

            clock = clock_for(cal, task.case.accepted_on, task.limit_days, task.paused_days, task.case.item.warning_share)
            _cancel_task_timers(task)
            Task.objects.filter(pk=task.pk).update(deadline=clock.deadline, deadline_provisional=clock.provisional)
            task.deadline = clock.deadline
            _schedule_task_timers(task, task.case.item)
            changed += 1
    return changed
