"""What the service hall's writes share: settings, the day bounds, task timers, notices, result
licences, the applicant check — used by intake, the back office, the SLA handlers and reviews."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils.translation import gettext as _

from gongzhi.accounts.enums import Role
from gongzhi.accounts.models import User
from gongzhi.core import clock
from gongzhi.core.actions import do_arm_timer, do_cancel_timer
from gongzhi.core.actors import RESULTS, Actor, on_behalf_of
from gongzhi.core.calendar import work_calendar
from gongzhi.core.db.inserts import insert
from gongzhi.people.actions import do_add_document
from gongzhi.services.domain.sla import Clock, clock_for
from gongzhi.services.errors import NotAllowed
from gongzhi.services.models import (
    Case,
    Hold,
    Notification,
    ServiceItem,
    Task,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
COUNTER = (Role.WINDOW_CLERK, Role.DEPARTMENT_OFFICER)
SUPPLEMENT_DAYS = 5  # working days an applicant has to answer a supplement request (configurable below)
RECTIFY_DAYS = 10  # 好差评: 5–15 working days locally; DOMAIN.md says configurable


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def _end_of_day(day: date) -> datetime:
    """Timers fire at the end of a local day: a deadline day is usable to its last minute."""
    return datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=SHANGHAI)


def _start_of_day(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=SHANGHAI)


def acting_user(actor: Actor) -> User:
    """The signed-in person behind a step only a person can take (claim, decide, review, appeal).

    The step's own permission check normally refuses anybody else first; this is the one place
    that turns the actor into the ``User`` the rows record, and refuses a system actor or an
    anonymous visitor should a caller skip that check.
    """
    if isinstance(actor, User) and actor.is_authenticated:
        return actor
    raise NotAllowed(_("此操作须由已登录的工作人员或申请人本人办理"))


def user_or_none(actor: Actor | None) -> User | None:
    """The signed-in user behind ``actor``, or None for a system actor or an anonymous visitor."""
    return actor if isinstance(actor, User) and actor.is_authenticated else None


def _intake_actor(actor: Actor) -> Any:
    """Who files scanned papers into the applicant's wallet during intake.

    The window serves anyone who walks in (一窗办), also applicants from outside the clerk's
    jurisdiction or with no home place yet, which the wallet's own write rule would refuse. The
    intake action has already checked the clerk's right to accept, so the document is filed as
    the intake on the clerk's behalf (the audit label names the clerk).
    """
    if getattr(actor, "is_authenticated", False):
        return on_behalf_of(actor, "intake", "wallet.file")
    return actor


def _issue_result(case: Case, item: ServiceItem, actor: Actor) -> None:
    """An electronic licence goes into the applicant's wallet (so it is never asked for again)."""
    if not item.result_doc_type:
        return
    owner = case.applicant_person or case.applicant_org
    if owner is None:
        return
    do_add_document(
        owner, item.result_doc_type, f"{item.name}（电子证照 {case.number}）", None,
        issued_on=clock.localdate(), issuer=case.department.name, source="办理结果", actor=RESULTS,
    )


TimerRow = tuple[str, str, datetime, dict[str, Any]]


def _task_timer_rows(task: Task, accepted_on: date, item: ServiceItem) -> list[TimerRow]:
    """One warning and one overdue timer per task, keyed by task: re-arming moves the same row."""
    clock = clock_for(work_calendar(), accepted_on, task.limit_days, task.paused_days, item.warning_share)
    return _timer_rows(task.pk, clock)


def _timer_rows(task_id: int, clock: Clock) -> list[TimerRow]:
    return [
        ("services.task_warning", f"task-warn:{task_id}", _start_of_day(clock.warning_on), {"task": task_id}),
        ("services.task_overdue", f"task-overdue:{task_id}", _end_of_day(clock.deadline), {"task": task_id}),
    ]


def _schedule_task_timers(task: Task, item: ServiceItem) -> None:
    for kind, key, due, payload in _task_timer_rows(task, task.case.accepted_on, item):
        do_arm_timer(kind, key, due, payload)


def _cancel_task_timers(task: Task) -> None:
    do_cancel_timer(f"task-warn:{task.pk}")
    do_cancel_timer(f"task-overdue:{task.pk}")


def _notify(case: Case, subject: str, body: str) -> None:
    recipient = case.applicant_name
    # An outbox row: the worker sends it on its next tick (services.notify.send_pending), so the
    # request does not pay a second write transaction to mark it sent.
    insert([Notification(case=case, recipient=recipient, subject=subject, body=body, created_at=clock.now())])


def _end_hold(task: Task, now: datetime) -> None:
    Hold.objects.filter(task=task, ended_at__isnull=True).update(ended_at=now)


def _is_applicant(case: Case, actor: Actor) -> bool:
    user = user_or_none(actor)
    if user is None:
        return False
    if case.applicant_person_id and case.applicant_person.user_id == user.pk:  # type: ignore[union-attr]
        return True
    return bool(case.applicant_org_id and case.applicant_org.agents.filter(pk=user.pk).exists())  # type: ignore[union-attr]
