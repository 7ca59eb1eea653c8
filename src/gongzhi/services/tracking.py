"""The public progress lookup (办件进度查询) and the one timeline builder.

No login: a case number *or* the application number the confirmation shows (one reference
number: either finds the cases), plus the last four characters of the applicant's number. A
4-character tail is guessable, so lookups are limited per client address, in one budget whichever
interface asks (two buckets would double a guesser's budget). A wrong number and a wrong tail get
the same answer, so neither can be confirmed on its own. The timeline names departments and
dates only, never who handled the case; the public answer shows no name and no number of the
applicant.

``track_steps`` is the one timeline: the tracker page and API, the applicant's case page and
the case API all read it. ``status_text`` (services/domain/wording.py) is the one resident-facing
wording of a status.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.cache import cache
from django.db.models import Model
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gongzhi.core.i18n import localized_html, localized_text
from gongzhi.services.domain.wording import case_status_text
from gongzhi.services.enums import CaseMaterialStatus, CaseStatus, DeliveryMethod
from gongzhi.services.models import Case
from gongzhi.services.queries import track_cases

TRACK_LIMIT = 30  # lookups per client address per TRACK_WINDOW
TRACK_WINDOW = 600  # seconds
NOT_FOUND = gettext_lazy("没有查到该办件：请核对申请编号或办件编号，以及证件号码后四位。")
THROTTLED = gettext_lazy("查询过于频繁，请 10 分钟后再试。")


@dataclass(frozen=True)
class TrackStep:
    """One step: ``label`` is plain text in the reader's language (API, PDFs); ``html`` is the
    same for pages, where a name with no translation carries its untranslated marker."""

    at: datetime
    label: str
    html: str = ""


def _step(at: datetime, template: str, **values: Any) -> TrackStep:
    """A step whose values may be catalogue content (items, materials, departments): named in
    the reader's language (core.i18n), the page version marked where a translation is missing."""
    plain = template % {k: localized_text(v) if isinstance(v, Model) else v for k, v in values.items()}
    html = conditional_escape(template) % {
        k: localized_html(v) if isinstance(v, Model) else conditional_escape(v) for k, v in values.items()
    }
    return TrackStep(at, plain, mark_safe(html))  # noqa: S308  (every value escaped above)


@dataclass
class CaseProgress:
    """One case as a resident sees it: the case, its plain-language status and its timeline."""

    case: Case
    status_text: str
    steps: list[TrackStep]


@dataclass
class Progress:
    """What a lookup found: ``status`` 200 with every case found (one for a case number, each
    case of the application for an application number), 404 or 429 with ``error``."""

    status: int
    cases: list[CaseProgress] = field(default_factory=list)
    error: str = ""
    application_number: str = ""

    @property
    def case(self) -> Case | None:
        """The case looked up, or the first case of the application."""
        return self.cases[0].case if self.cases else None

    @property
    def steps(self) -> list[TrackStep]:
        return self.cases[0].steps if self.cases else []


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


def progress_of(case: Case) -> CaseProgress:
    return CaseProgress(case, case_status_text(case.status), track_steps(case))


def lookup_progress(number: str, tail: str, *, client: str) -> Progress:
    """Look cases up for ``client`` (its address) by a case or application number; every lookup
    counts against the one budget."""
    if _throttled(client):
        return Progress(429, error=str(THROTTLED))
    cases = track_cases(number, tail)
    if not cases:
        return Progress(404, error=str(NOT_FOUND))
    return Progress(200, [progress_of(c) for c in cases], application_number=cases[0].application.number)


def track_steps(case: Case) -> list[TrackStep]:
    """What happened, in order — departments and dates only, never who handled it. Materials
    accepted under 容缺 show what is owed and by when, and when it was handed in."""
    steps = [_step(case.accepted_at, _("已受理（%(channel)s）"), channel=case.get_channel_display())]
    gaps = case.materials.filter(status__in=[CaseMaterialStatus.MISSING_WITH_COMMITMENT, CaseMaterialStatus.SCANNED]
                                 ).select_related("material", "document")
    for cm in gaps:
        if cm.status == CaseMaterialStatus.MISSING_WITH_COMMITMENT and cm.document_id is None:
            due = f"{case.gaps_due:%Y-%m-%d}" if case.gaps_due else "—"
            steps.append(_step(case.accepted_at, _("容缺受理：%(material)s 待补交，请于 %(due)s 前补交"),
                               material=cm.material, due=due))
        elif cm.document is not None and cm.document.source == "容缺补交":
            steps.append(_step(cm.document.uploaded_at, _("已补交容缺材料：%(material)s"), material=cm.material))
    for s in case.supplements.all():
        steps.append(TrackStep(s.requested_at, _("要求补正，请于 %(due)s 前补齐") % {"due": f"{s.due:%Y-%m-%d}"}))
        if s.fulfilled_at:
            steps.append(TrackStep(s.fulfilled_at, _("已补正，恢复办理")))
    for t in case.tasks.select_related("department").all():
        names = {"department": t.department, "role": t.get_role_display()}
        if t.held_since:
            steps.append(_step(t.held_since, _("%(department)s开始办理（%(role)s）"), **names))
        if t.decided_at:
            steps.append(_step(t.decided_at, _("%(department)s%(role)s意见：%(status)s"),
                               **names, status=t.get_status_display()))
    if case.closed_at:
        # Only an approved case is delivered: its closing step stays "approved" after delivery.
        closed_as = CaseStatus.APPROVED if case.status == CaseStatus.DELIVERED else CaseStatus(case.status)
        steps.append(TrackStep(case.closed_at, _("办结：%(status)s") % {"status": closed_as.label}))
    if case.delivered_at and case.delivery_method:
        steps.append(TrackStep(case.delivered_at,
                               _("已送达（%(method)s）") % {"method": DeliveryMethod(case.delivery_method).label}))
    steps.sort(key=lambda s: s.at)
    return steps
