"""The back office (后台分工协办): claim, decide, ask for a supplement (补正), deliver the result (送达), reveal a sealed form value, record a visit."""

from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F
from django.http import Http404
from django.utils import timezone, translation
from django.utils.translation import gettext as _t

from gongzhi.accounts.enums import Role
from gongzhi.accounts.scope import has_role, path_in_scope
from gongzhi.core import clock
from gongzhi.core.actors import Actor
from gongzhi.core.audit import record_event
from gongzhi.core.calendar import add_working_days, work_calendar
from gongzhi.core.crypto import decrypt
from gongzhi.core.errors import ActionError, NotAllowedError
from gongzhi.core.i18n import localized_text
from gongzhi.core.templatetags.gongzhi_tags import cn_date
from gongzhi.people.actions import check_upload, do_add_document
from gongzhi.services.actions.common import (
    COUNTER,
    SUPPLEMENT_DAYS,
    _cancel_task_timers,
    _end_hold,
    _intake_actor,
    _is_applicant,
    _issue_result,
    _notify,
    _schedule_task_timers,
    _setting,
    acting_user,
)
from gongzhi.services.domain.sla import clock_for, paused_working_days
from gongzhi.services.enums import (
    CaseMaterialStatus,
    CaseStatus,
    DeliveryMethod,
    TaskRole,
    TaskStatus,
)
from gongzhi.services.errors import (
    InvalidInput,
    NotAllowed,
    SupplementLate,
    TaskConflict,
)
from gongzhi.services.models import (
    Case,
    CaseMaterial,
    Hold,
    SupplementRequest,
    Task,
)
from gongzhi.services.policy import can_deliver_result, can_reveal_numbers, case_q

# ----------------------------------------------------------------------------- back office


def _officer_of(actor: Actor, task: Task) -> None:
    """Only officers of the task's department (or the clerk at intake) act on a task."""
    from gongzhi.accounts.scope import active_assignments

    for ra in active_assignments(actor):
        if ra.role == Role.DEPARTMENT_OFFICER and ra.department_id == task.department_id:
            return
    raise NotAllowed(_t("您不是该部门的审批人员，不能办理此任务"), field="task")


def _locked_task(task_id: int) -> Task:
    return Task.objects.select_for_update().select_related("case__item", "department").get(pk=task_id)


def do_claim_task(task: Task, *, actor: Actor, expected_version: int | None = None) -> Task:
    """Claim a pending task. Two officers at once: the conditional UPDATE lets exactly one win."""
    _officer_of(actor, task)
    officer = acting_user(actor)
    now = clock.now()
    with transaction.atomic():
        won = Task.objects.filter(
            pk=task.pk, status=TaskStatus.PENDING,
            **({"version": expected_version} if expected_version is not None else {}),
        ).update(status=TaskStatus.CLAIMED, holder=officer, held_since=now, version=F("version") + 1)
        if not won:
            current = Task.objects.select_related("holder").get(pk=task.pk)
            who = current.holder.display_name or current.holder.username if current.holder else ""
            raise TaskConflict(
                (_t("该任务已被%(who)s认领或已变更，请刷新后再试") % {"who": who} if who else _t("该任务已被他人认领或已变更，请刷新后再试")) if current.status != TaskStatus.PENDING
                else _t("任务已变更，请刷新后再试"),
                field="task",
            )
        Hold.objects.create(task=task, user=officer, department=task.department, step="办理", started_at=now)
        Case.objects.filter(pk=task.case_id, status=CaseStatus.ACCEPTED).update(
            status=CaseStatus.IN_PROGRESS, stats_dirty=True
        )
        record_event("task.claim", actor=actor, obj=task, place_path=task.case.place_path)
    task.refresh_from_db()
    return task


def do_decide_task(task: Task, *, approve: bool, reason: str = "", actor: Actor, expected_version: int | None = None) -> Task:
    """Approve or reject a claimed task (reasons required for a rejection).

    The lead decides last: while a co-processing task is still open the lead cannot close the
    case. Deciding the lead closes the case: approved only if every co-processor agreed.
    """
    _officer_of(actor, task)
    reason = (reason or "").strip()
    if not approve and not reason:
        raise InvalidInput(_t("不予许可必须说明理由"), field="reason")
    now = clock.now()
    with transaction.atomic():
        locked = _locked_task(task.pk)
        if expected_version is not None and locked.version != expected_version:
            raise TaskConflict(_t("任务已被他人变更，请刷新后再试"), field="task")
        if locked.status != TaskStatus.CLAIMED or locked.holder_id != acting_user(actor).pk:
            raise TaskConflict(_t("只有认领该任务的人员才能作出决定"), field="task")
        case = Case.objects.select_for_update().get(pk=locked.case_id)
        if locked.role == TaskRole.LEAD:
            open_co = case.tasks.filter(role=TaskRole.CO, status__in=[TaskStatus.PENDING, TaskStatus.CLAIMED, TaskStatus.SUPPLEMENT])
            if open_co.exists():
                names = "、".join(localized_text(t.department) for t in open_co.select_related("department"))
                raise NotAllowed(_t("协办部门尚未全部反馈：%(names)s") % {"names": names}, field="task")
        # 容缺: the lead's approval (which closes the case and issues the result) while a material
        # promised under 容缺 is still owed is allowed only with a recorded reason (kept as the
        # decision's reason and, with the owed materials, in the audit event), so nobody
        # approves past a missing paper without saying why.
        owed = owed_material_names(case) if approve and locked.role == TaskRole.LEAD else []
        if owed and not reason:
            raise InvalidInput(
                _t("仍有容缺材料未补交：%(materials)s（补交期限 %(due)s）。如确需先行同意，请在“理由”中说明（将记入审计）")
                % {"materials": "、".join(owed), "due": case.gaps_due or "—"},
                field="reason", code="owed_materials",
            )
        locked.status = TaskStatus.APPROVED if approve else TaskStatus.REJECTED
        locked.decided_at = now
        locked.decision_reason = reason
        locked.version += 1
        locked.save(update_fields=["status", "decided_at", "decision_reason", "version"])
        _end_hold(locked, now)
        _cancel_task_timers(locked)
        decided: dict[str, Any] = {"approve": approve, "reason": reason}
        if owed:
            decided["owed_materials"] = owed
        record_event("task.decide", actor=actor, obj=locked, place_path=case.place_path, after=decided)
        if locked.role == TaskRole.LEAD:
            co_rejected = case.tasks.filter(role=TaskRole.CO, status=TaskStatus.REJECTED).exists()
            final = approve and not co_rejected
            case.status = CaseStatus.APPROVED if final else CaseStatus.REJECTED
            case.closed_at = now
            case.closed_on_time = timezone.localtime(now).date() <= case.deadline
            case.result_note = reason
            case.stats_dirty = True
            case.version += 1
            case.save(update_fields=["status", "closed_at", "closed_on_time", "result_note", "stats_dirty", "version"])
            record_event("case.close", actor=actor, obj=case, place_path=case.place_path,
                         after={"status": case.status, "on_time": case.closed_on_time})
            if final:
                _issue_result(case, case.item, actor)
            _notify(case, "您的申请已办结", f"办件 {case.number}：{case.get_status_display()}。{reason}")
    locked.refresh_from_db()
    return locked


def do_request_supplement(
    task: Task, items: list[str], *, reason: str = "", actor: Actor, expected_version: int | None = None
) -> SupplementRequest:
    """补正: tell the applicant everything missing, once; the clock stops until they answer."""
    _officer_of(actor, task)
    items = [i.strip() for i in items if i and i.strip()]
    if not items:
        raise InvalidInput(_t("补正通知必须一次性列明全部需补正的材料"), field="items")
    now = clock.now()
    today = clock.localdate()
    with transaction.atomic():
        locked = _locked_task(task.pk)
        if expected_version is not None and locked.version != expected_version:
            raise TaskConflict(_t("任务已被他人变更，请刷新后再试"), field="task")
        if locked.status != TaskStatus.CLAIMED or locked.holder_id != acting_user(actor).pk:
            raise TaskConflict(_t("只有认领该任务的人员才能发出补正通知"), field="task")
        case = Case.objects.select_for_update().get(pk=locked.case_id)
        if case.status == CaseStatus.SUPPLEMENT:
            raise NotAllowed(_t("该办件已在补正中，请勿重复发出"), field="task")
        due = add_working_days(today, _setting("SERVICES_SUPPLEMENT_DAYS", SUPPLEMENT_DAYS)).deadline
        request = SupplementRequest.objects.create(
            case=case, task=locked, requested_by=acting_user(actor), requested_at=now, requested_on=today,
            items=items, reason=reason, due=due,
        )
        for t in case.tasks.filter(status__in=[TaskStatus.PENDING, TaskStatus.CLAIMED]):
            _cancel_task_timers(t)
        Task.objects.filter(pk=locked.pk).update(status=TaskStatus.SUPPLEMENT, version=F("version") + 1)
        _end_hold(locked, now)
        case.status, case.paused_since = CaseStatus.SUPPLEMENT, today
        case.version += 1
        case.save(update_fields=["status", "paused_since", "version"])
        record_event("case.supplement_request", actor=actor, obj=case, place_path=case.place_path,
                     after={"items": items, "due": due.isoformat()})
        _notify(case, "请补正材料（一次性告知）",
                f"办件 {case.number} 需补正：{'；'.join(items)}。请于 {due:%Y年%m月%d日} 前提交。")
    return request


def do_fulfil_supplement(case: Case, *, actor: Actor, files: dict[str, UploadedFile] | None = None) -> Case:
    """The applicant answers a supplement request; the clock resumes with the paused days added."""
    today = clock.localdate()
    now = clock.now()
    files = files or {}
    for upload in files.values():
        check_upload(upload)
    with transaction.atomic():
        case = Case.objects.select_for_update().select_related("item").get(pk=case.pk)
        _ensure_applicant_or_counter(case, actor)
        request = case.supplements.filter(fulfilled_at__isnull=True).last()
        if case.status != CaseStatus.SUPPLEMENT or request is None:
            raise NotAllowed(_t("该办件没有待补正的通知"), field="case")
        if today > request.due:
            raise SupplementLate(
                _t("补正期限已于 %(date)s 届满，不能再补正；请重新申请") % {"date": cn_date(request.due)}, field="case"
            )
        owner = case.applicant_person or case.applicant_org
        for key, upload in files.items():
            do_add_document(owner, "other", f"补正材料 {key}", upload, source="补正", actor=_intake_actor(actor))  # type: ignore[arg-type]
        paused = paused_working_days(work_calendar(), request.requested_on, today)
        request.fulfilled_at = now
        request.save(update_fields=["fulfilled_at"])
        cal = work_calendar()
        case.paused_days += paused
        case_clock = clock_for(cal, case.accepted_on, case.limit_days, case.paused_days, case.item.warning_share)
        case.deadline, case.deadline_provisional = case_clock.deadline, case_clock.provisional
        case.status, case.paused_since = CaseStatus.IN_PROGRESS, None
        case.version += 1
        case.save(update_fields=["paused_days", "deadline", "deadline_provisional", "status", "paused_since", "version"])
        for task in case.tasks.filter(status__in=[TaskStatus.PENDING, TaskStatus.CLAIMED, TaskStatus.SUPPLEMENT]):
            task.paused_days += paused
            tclock = clock_for(cal, case.accepted_on, task.limit_days, task.paused_days, case.item.warning_share)
            task.deadline, task.deadline_provisional = tclock.deadline, tclock.provisional
            if task.status == TaskStatus.SUPPLEMENT:
                task.status = TaskStatus.CLAIMED
                Hold.objects.create(task=task, user=task.holder, department=task.department, step="补正后续办",
                                    started_at=now)
            task.version += 1
            task.save(update_fields=["paused_days", "deadline", "deadline_provisional", "status", "version"])
            _schedule_task_timers(task, case.item)
        record_event("case.supplement_fulfil", actor=actor, obj=case, place_path=case.place_path,
                     after={"paused_working_days": paused, "deadline": case.deadline.isoformat()})
    return case


def owed_material_names(case: Case) -> list[str]:
    """Names of the materials accepted under 容缺 and not yet handed in (the one rule of "owed")."""
    return list(
        CaseMaterial.objects.filter(
            case=case, status=CaseMaterialStatus.MISSING_WITH_COMMITMENT, document__isnull=True
        ).order_by("material__order", "pk").values_list("material__name", flat=True)
    )


HANDED_IN_SOURCE = "容缺补交"  # the wallet document's source: the timeline and the material list read it


def do_hand_in_owed_material(case: Case, material_id: int, upload: UploadedFile | None, *, actor: Actor) -> CaseMaterial:
    """Hand in a material promised under 容缺 (accepted with a gap, 承诺补交).

    The applicant (or a window) uploads it; the file goes into the applicant's wallet (so it is
    never asked again) and is attached to the case material, which then counts as received
    (status ``scanned``, its document's source "容缺补交"). Allowed until the case is closed;
    a late hand-in (after ``gaps_due``) is still taken and the audit event says so — refusing
    it would only stop the case. Errors store nothing. Side effects: audit ``case.gap_hand_in``.
    """
    if upload is None:
        raise InvalidInput(_t("请选择要补交的材料文件"), field="file")
    check_upload(upload)
    with transaction.atomic():
        case = Case.objects.select_for_update().select_related("item").get(pk=case.pk)
        _ensure_applicant_or_counter(case, actor)
        cm = CaseMaterial.objects.select_for_update().select_related("material").filter(
            case=case, pk=material_id
        ).first()
        if cm is None or cm.status != CaseMaterialStatus.MISSING_WITH_COMMITMENT or cm.document_id is not None:
            raise NotAllowed(_t("该材料不是待补交的容缺材料（可能已经补交）"), field="file")
        if case.status not in (CaseStatus.ACCEPTED, CaseStatus.IN_PROGRESS, CaseStatus.SUPPLEMENT):
            raise NotAllowed(_t("办件已办结（%(status)s），不再接收补交材料") % {"status": case.get_status_display()},
                            field="file")
        owner = case.applicant_person or case.applicant_org
        doc = do_add_document(
            owner, cm.material.doc_type or "other", f"{cm.material.name}（办件 {case.number}）", upload,  # type: ignore[arg-type]
            source=HANDED_IN_SOURCE, actor=_intake_actor(actor),
        )
        cm.document = doc
        cm.status = CaseMaterialStatus.SCANNED
        cm.save(update_fields=["document", "status"])
        late = case.gaps_due is not None and clock.localdate() > case.gaps_due
        case.version += 1
        case.save(update_fields=["version"])
        record_event("case.gap_hand_in", actor=actor, obj=case, place_path=case.place_path,
                     after={"material": cm.material.key, "document": doc.pk, "late": late})
    return cm


def _ensure_applicant_or_counter(case: Case, actor: Actor) -> None:
    if has_role(actor, *COUNTER) and path_in_scope(actor, case.place_path):
        return
    if has_role(actor, Role.WINDOW_CLERK):
        return  # any window accepts supplements for any case (一窗办)
    if _is_applicant(case, actor):
        return
    raise NotAllowed(_t("只有申请人本人或综合窗口可以提交补正材料"), field="case")


def do_reveal_form_value(case: Case, field: str, *, actor: Actor, reason: str = "") -> str:
    """The full personal number typed into ``field`` of the case's form; audited ``case.reveal``.

    The register's rule (``people.actions.do_reveal_number``): the applicant sees what they typed;
    anyone else needs the case in what they may read (else 404, as if it did not exist), the
    register's reveal permission (else 403) and a reason (kept in the audit event).
    """
    if not getattr(actor, "is_authenticated", False):
        raise Http404("case not found")
    self_view = _is_applicant(case, actor)
    reason = " ".join((reason or "").split())
    if not self_view:
        if not Case.objects.filter(case_q(actor), pk=case.pk).exists():
            raise Http404("case not found")
        if not can_reveal_numbers(actor):
            raise NotAllowedError(_t("您没有查看完整号码的权限"), field="field")
        if not reason:
            raise ActionError(_t("请填写查看完整号码的原因（将记录在审计日志中）"), field="reason", code="reveal")
    entry = (case.form_sealed or {}).get(field)
    if not entry:
        raise ActionError(_t("申请表中没有这一项个人号码"), field="field", code="reveal")
    with transaction.atomic():
        record_event(
            "case.reveal", actor=actor, obj=case, place_path=case.place_path,
            after={"field": field, "reason": reason[:200] or "本人查看", "self": self_view},
        )
    return decrypt(entry["cipher"])


def do_record_visit(case: Case, *, actor: Actor, purpose: str = "") -> Case:
    """The applicant came to a hall for this case again (一次办 counts visits). Recorded by the
    counter that served them — a count the 5×100% figures publish must not be raised by anyone
    else (the applicant included)."""
    if not has_role(actor, *COUNTER):
        raise NotAllowed(_t("只有综合窗口或部门人员可以登记申请人到场"), field="case")
    with transaction.atomic():
        Case.objects.filter(pk=case.pk).update(visits=F("visits") + 1, stats_dirty=True)
        record_event("case.visit", actor=actor, obj=case, place_path=case.place_path, after={"purpose": purpose})
    case.refresh_from_db()
    return case


def do_deliver_result(
    case: Case, *, actor: Actor, method: str, address: str = "", expected_version: int | None = None
) -> Case:
    """送达: hand an approved result to the applicant, once.

    ``method`` is a ``DeliveryMethod`` value (``electronic`` / ``window`` / ``mail``; the Chinese
    label is accepted too). 电子送达: the licence is already in the wallet. 窗口领取: the applicant
    came to a window — one more visit, and the case is marked for the monthly roll-up. 邮寄送达:
    needs the postal ``address``, kept in the audit event. Only an officer of the lead department
    or a window clerk of the case's jurisdiction may deliver (``policy.can_deliver_result``).
    The case keeps when and how (``delivered_at``, ``delivery_method``: shown on the progress
    pages), never the address. Errors name what is wrong and store nothing. Side effects: audit
    ``case.deliver``; a notification to the applicant.
    """
    with translation.override(None):  # the Chinese labels, whatever the page's language
        labels = {str(label): value for value, label in DeliveryMethod.choices}
    raw = (method or "").strip()
    if raw not in DeliveryMethod.values and raw not in labels:
        raise InvalidInput(_t("请选择送达方式：%(methods)s") % {"methods": "、".join(str(label) for _v, label in DeliveryMethod.choices)}, field="method")
    chosen = DeliveryMethod(labels.get(raw, raw))
    address = (address or "").strip()
    if chosen == DeliveryMethod.MAIL and not address:
        raise InvalidInput(_t("邮寄送达须填写收件地址"), field="address")
    if len(address) > 200:
        raise InvalidInput(_t("收件地址不能超过 200 个字"), field="address")
    with transaction.atomic():
        case = Case.objects.select_for_update().select_related("item").get(pk=case.pk)
        if not can_deliver_result(actor, case):
            raise NotAllowed(_t("只有主办部门审批人员或本辖区综合窗口人员可以送达办理结果"), field="case")
        if case.status == CaseStatus.DELIVERED:
            raise NotAllowed(_t("办件 %(number)s 的办理结果已经送达，不能重复送达") % {"number": case.number}, field="case")
        if case.status != CaseStatus.APPROVED:
            raise NotAllowed(
                _t("只有准予许可（已办结）的办件可以送达，该办件当前为“%(status)s”") % {"status": case.get_status_display()}, field="case"
            )
        if expected_version is not None and case.version != expected_version:
            raise TaskConflict(_t("办件已被他人变更，请刷新后再试"), field="case")
        changes: dict[str, Any] = {
            "status": CaseStatus.DELIVERED, "version": F("version") + 1,
            "delivered_at": clock.now(), "delivery_method": chosen.value,
        }
        if chosen == DeliveryMethod.WINDOW:
            changes.update(visits=F("visits") + 1, stats_dirty=True)  # 一次办 counts every visit
        Case.objects.filter(pk=case.pk).update(**changes)
        case.refresh_from_db(
            fields=["status", "version", "visits", "stats_dirty", "delivered_at", "delivery_method"]
        )
        after: dict[str, Any] = {"method": chosen.value}
        if chosen == DeliveryMethod.MAIL:
            after["address"] = address
        record_event("case.deliver", actor=actor, obj=case, place_path=case.place_path, after=after)
        if chosen == DeliveryMethod.ELECTRONIC:
            how = "已存入您的证照库，可在“我的证照”中查看和使用" if case.item.result_doc_type else "已通过电子方式送达"
        elif chosen == DeliveryMethod.WINDOW:
            how = "已在窗口领取"
        else:
            how = f"已邮寄至：{address}"
        _notify(case, "办理结果已送达", f"办件 {case.number}（{case.item.name}）的办理结果{how}。")
    return case
