"""Reviews (好差评): the applicant's review, the department's rectification and appeal, the supervisor's decision."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from gongzhi.accounts.scope import has_role, path_in_scope
from gongzhi.core import clock
from gongzhi.core.actors import Actor
from gongzhi.core.audit import record_event
from gongzhi.core.calendar import add_working_days
from gongzhi.services.actions.common import (
    RECTIFY_DAYS,
    _is_applicant,
    _setting,
    acting_user,
)
from gongzhi.services.enums import (
    AppealStatus,
    RectificationStatus,
)
from gongzhi.services.errors import (
    NotAllowed,
    ReviewError,
)
from gongzhi.services.models import (
    Appeal,
    Case,
    Rectification,
    Review,
)

# --------------------------------------------------------------------------------- reviews


def do_review_case(case: Case, level: int, comment: str = "", *, actor: Actor) -> Review:
    """好差评 (State Council 2019 No. 51): the applicant rates a closed case once.

    The two bad levels open a rectification with a deadline and a call-back.
    """
    if level not in (1, 2, 3, 4, 5):
        raise ReviewError(_("评价等级应为 1–5（非常不满意 至 非常满意）"), field="level")
    with transaction.atomic():
        case = Case.objects.select_for_update().select_related("department").get(pk=case.pk)
        if not _is_applicant(case, actor):
            raise ReviewError(_("只能评价本人申请的办件"), field="case")
        if case.closed_at is None:
            raise ReviewError(_("办件办结后才能评价"), field="case")
        if Review.objects.filter(case=case).exists():
            raise ReviewError(_("该办件已评价过，不能重复评价"), field="case")
        review = Review.objects.create(case=case, level=level, comment=comment[:2000], reviewer=acting_user(actor),
                                       created_at=clock.now())
        if level <= 2:
            due = add_working_days(clock.localdate(), _setting("SERVICES_RECTIFY_DAYS", RECTIFY_DAYS)).deadline
            Rectification.objects.create(review=review, department=case.department, due=due)
        record_event("case.review", actor=actor, obj=case, place_path=case.place_path,
                     after={"level": level})
    return review


def do_complete_rectification(rect: Rectification, *, action_note: str, callback_note: str, actor: Actor) -> Rectification:
    if not action_note.strip() or not callback_note.strip():
        raise ReviewError(_("请填写整改措施和回访情况"), field="action_note")
    _ensure_department_member(actor, rect.department_id)
    with transaction.atomic():
        rect = Rectification.objects.select_for_update().get(pk=rect.pk)
        if rect.status != RectificationStatus.OPEN:
            raise ReviewError(_("该整改已结束"), field="rectification")
        rect.status, rect.action_note, rect.callback_note = RectificationStatus.DONE, action_note, callback_note
        rect.callback_at = clock.now()
        rect.save(update_fields=["status", "action_note", "callback_note", "callback_at"])
        record_event("review.rectify", actor=actor, obj=rect, place_path=rect.review.case.place_path,
                     after={"callback": callback_note})
    return rect


def _ensure_department_member(actor: Actor, department_id: int) -> None:
    from gongzhi.accounts.scope import active_assignments

    if not any(ra.department_id == department_id for ra in active_assignments(actor)):
        raise NotAllowed(_("您不是该部门人员"), field="department")


def do_file_appeal(review: Review, reason: str, *, actor: Actor) -> Appeal:
    """A department appeals a malicious bad review; a supervisor decides."""
    if not reason.strip():
        raise ReviewError(_("请说明申诉理由"), field="reason")
    _ensure_department_member(actor, review.case.department_id)
    with transaction.atomic():
        # Lock the review so two appeals filed at once cannot both pass the check below.
        review = Review.objects.select_for_update().select_related("case").get(pk=review.pk)
        if Appeal.objects.filter(review=review).exists():
            raise ReviewError(_("该评价已申诉过"), field="review")
        if review.level > 2:
            raise ReviewError(_("只有差评可以申诉"), field="review")
        appeal = Appeal.objects.create(review=review, reason=reason, filed_by=acting_user(actor), filed_at=clock.now())
        record_event("review.appeal", actor=actor, obj=appeal, place_path=review.case.place_path,
                     after={"reason": reason})
    return appeal


def do_decide_appeal(appeal: Appeal, *, upheld: bool, note: str = "", actor: Actor) -> Appeal:
    from gongzhi.accounts.enums import SUPERVISOR_ROLES

    if not has_role(actor, *SUPERVISOR_ROLES) or not path_in_scope(actor, appeal.review.case.place_path):
        raise NotAllowed(_("只有辖区督导可以审核申诉"), field="appeal")
    with transaction.atomic():
        appeal = Appeal.objects.select_for_update().get(pk=appeal.pk)
        if appeal.status != AppealStatus.PENDING:
            raise ReviewError(_("该申诉已审核"), field="appeal")
        appeal.status = AppealStatus.UPHELD if upheld else AppealStatus.DISMISSED
        appeal.decided_by, appeal.decision_note = acting_user(actor), note
        appeal.save(update_fields=["status", "decided_by", "decision_note"])
        if upheld:
            # Only an open rectification is voided; one already carried out stays on record.
            Rectification.objects.filter(review=appeal.review, status=RectificationStatus.OPEN).update(
                status=RectificationStatus.VOIDED
            )
        record_event("review.appeal_decide", actor=actor, obj=appeal, place_path=appeal.review.case.place_path,
                     after={"upheld": upheld, "note": note})
    return appeal
