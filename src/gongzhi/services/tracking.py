"""The public progress lookup (办件进度查询): one implementation for the page and the API.

No login: the case number (public — Open311 lists it) plus the last four characters of the
applicant's number. A 4-character tail is guessable, so lookups are limited per client address,
in one budget whichever interface asks (two buckets would double a guesser's budget). A wrong
number and a wrong tail get the same answer, so neither can be confirmed on its own. The
timeline names departments and dates only, never who handled the case.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.core.cache import cache
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gongzhi.services.enums import CaseStatus, DeliveryMethod
from gongzhi.services.models import Case
from gongzhi.services.queries import track_case

TRACK_LIMIT = 30  # lookups per client address per TRACK_WINDOW
TRACK_WINDOW = 600  # seconds
NOT_FOUND = gettext_lazy("没有查到该办件：请核对办件编号和证件号码后四位。")
THROTTLED = gettext_lazy("查询过于频繁，请 10 分钟后再试。")


@dataclass(frozen=True)
class TrackStep:
    at: datetime
    label: str


@dataclass
class Progress:
    """What a lookup found: ``status`` 200 with the case and its steps, 404 or 429 with ``error``."""

    status: int
    case: Case | None = None
    steps: list[TrackStep] = field(default_factory=list)
    error: str = ""


def track_bucket(client: str) -> str:
    return f"services:track:{client or 'unknown'}"


def _throttled(client: str) -> bool:
    bucket = track_bucket(client)
    count = cache.get_or_set(bucket, 0, TRACK_WINDOW) or 0
    if count >= TRACK_LIMIT:
        return True
    try:
        cache.incr(bucket)
    except ValueError:  # expired between the two calls
        cache.set(bucket, 1, TRACK_WINDOW)
    return False


def lookup_progress(number: str, tail: str, *, client: str) -> Progress:
    """Look a case up for ``client`` (its address); every lookup counts against the budget."""
    if _throttled(client):
        return Progress(429, error=str(THROTTLED))
    case = track_case(number, tail)
    if case is None:
        return Progress(404, error=str(NOT_FOUND))
    return Progress(200, case, track_steps(case))


def track_steps(case: Case) -> list[TrackStep]:
    """What happened, in order — departments and dates only, never who handled it."""
    steps = [TrackStep(case.accepted_at, _("已受理（%(channel)s）") % {"channel": case.get_channel_display()})]
    for s in case.supplements.all():
        steps.append(TrackStep(s.requested_at, _("要求补正，请于 %(due)s 前补齐") % {"due": f"{s.due:%Y-%m-%d}"}))
        if s.fulfilled_at:
            steps.append(TrackStep(s.fulfilled_at, _("已补正，恢复办理")))
    for t in case.tasks.select_related("department").all():
        names = {"department": t.department.name, "role": t.get_role_display()}
        if t.held_since:
            steps.append(TrackStep(t.held_since, _("%(department)s开始办理（%(role)s）") % names))
        if t.decided_at:
            steps.append(TrackStep(t.decided_at, _("%(department)s%(role)s意见：%(status)s")
                                   % {**names, "status": t.get_status_display()}))
    if case.closed_at:
        # Only an approved case is delivered: its closing step stays "approved" after delivery.
        closed_as = CaseStatus.APPROVED if case.status == CaseStatus.DELIVERED else CaseStatus(case.status)
        steps.append(TrackStep(case.closed_at, _("办结：%(status)s") % {"status": closed_as.label}))
    if case.delivered_at and case.delivery_method:
        steps.append(TrackStep(case.delivered_at,
                               _("已送达（%(method)s）") % {"method": DeliveryMethod(case.delivery_method).label}))
    steps.sort(key=lambda s: s.at)
    return steps
