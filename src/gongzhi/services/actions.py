"""Every write of the service hall (DESIGN.md §2): intake, back office, SLA, reviews.

Front desk accepts once (前台一口受理), back office shares the work (后台分工协办): an application
becomes one case per item; each case gets a lead task (routed by item × place) and one task per
co-processing department, all running in parallel, each with its own limit and durable timers.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import Http404
from django.utils import timezone, translation
from django.utils.translation import gettext as _t

from gongzhi.accounts.enums import Role
from gongzhi.accounts.scope import has_role, path_in_scope
from gongzhi.core.actions import do_arm_timer, do_cancel_timer, do_schedule_timers
from gongzhi.core.actors import RESULTS, WORKER, on_behalf_of
from gongzhi.core.audit import new_event, record_event, record_events
from gongzhi.core.calendar import add_working_days, work_calendar
from gongzhi.core.crypto import decrypt
from gongzhi.core.db.inserts import insert
from gongzhi.core.domain.identifiers import IdentifierKind, check_identifier
from gongzhi.core.errors import ActionError, NotAllowedError
from gongzhi.core.models import AuditEvent
from gongzhi.people.actions import _check_upload, do_add_document, do_register_person
from gongzhi.people.models import Document, Organisation, Person
from gongzhi.people.queries import (
    find_organisation_by_uscc,
    find_person_by_number,
    wallet_for,
    wallet_index,
)
from gongzhi.services.domain.forms import rules_pass, validate_form
from gongzhi.services.domain.search import search_tokens
from gongzhi.services.domain.sla import Clock, clock_for, paused_working_days
from gongzhi.services.enums import (
    OPEN_CASE_STATUSES,
    OPEN_TASK_STATUSES,
    AppealStatus,
    ApplicantType,
    CaseMaterialStatus,
    CaseStatus,
    Channel,
    DeliveryMethod,
    HandlingMode,
    MaterialKind,
    RectificationStatus,
    SlaState,
    TaskRole,
    TaskStatus,
)
from gongzhi.services.errors import (
    ApplicantError,
    FormInvalid,
    IdempotencyConflict,
    InvalidInput,
    MaterialsMissing,
    NotAllowed,
    ReviewError,
    SupplementLate,
    TaskConflict,
    UnknownItem,
)
from gongzhi.services.models import (
    Accountability,
    Appeal,
    Application,
    Bundle,
    Case,
    CaseMaterial,
    Hold,
    ItemMaterial,
    Notification,
    Rectification,
    Review,
    ServiceItem,
    SupplementRequest,
    Task,
)
from gongzhi.services.personal import seal_form
from gongzhi.services.policy import can_deliver_result, can_reveal_numbers, case_q, may_apply_for
from gongzhi.services.routing import items_for_intake, route_department
from gongzhi.services.sql import task_for_overdue, task_for_warning, task_holds

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


# --------------------------------------------------------------------------------- intake


@dataclass
class Intake:
    """What the window clerk or the portal sends. ``files`` maps material key → upload;
    ``documents`` maps material key → an existing wallet document id the applicant chose."""

    applicant_number: str
    item_codes: list[str] = field(default_factory=list)
    bundle_code: str = ""
    form: dict[str, Any] = field(default_factory=dict)
    files: dict[str, UploadedFile] = field(default_factory=dict)
    documents: dict[str, int] = field(default_factory=dict)
    applicant_name: str = ""  # to register a first-time walk-in applicant at the window
    commitment: bool = False  # 告知承诺: applicant signs a written commitment
    accept_gaps: bool = False  # 容缺: applicant commits to supplying missing secondary materials
    address: str = ""


def _resolve_applicant(
    intake: Intake, actor: Any, channel: str
) -> tuple[Person | None, Organisation | None, str]:
    """The applicant by their one number (一号办). Returns (person, organisation, number to
    register): a first-time walk-in at the window is registered inside the intake transaction,
    so a refused application leaves no stray person behind."""
    result = check_identifier(intake.applicant_number)
    if not result.valid:
        detail = "；".join(e.message_zh for e in result.errors) or "号码无法识别"
        raise ApplicantError(f"申请人证件号码有误：{detail}", field="applicant_number")
    # Whom the actor may apply for is one rule (policy.may_apply_for), the same for the window,
    # the portal, a browser session on the API and a system's token.
    if result.kind == IdentifierKind.USCC:
        org = find_organisation_by_uscc(actor, result.normalized)
        if org is None:
            raise ApplicantError("未找到该统一社会信用代码对应的单位，请先办理单位登记", field="applicant_number")
        if not may_apply_for(actor, None, org):
            raise NotAllowed("您不是该单位的经办人，不能代为申请", field="applicant_number")
        return None, org, ""
    person = find_person_by_number(actor, result.normalized)
    if not may_apply_for(actor, person, None):
        raise NotAllowed("只能以本人身份或为您经办的单位提交申请", field="applicant_number")
    if person is None:
        if channel == Channel.WINDOW and intake.applicant_name.strip():
            return None, None, result.normalized
        raise ApplicantError("该证件号码尚未登记，请在窗口填写申请人姓名后登记", field="applicant_number")
    return person, None, ""


def _resolve_items(intake: Intake) -> tuple[Bundle | None, list[ServiceItem]]:
    bundle = None
    codes = list(dict.fromkeys(intake.item_codes))
    if intake.bundle_code:
        bundle = Bundle.objects.filter(code=intake.bundle_code, active=True).prefetch_related("items").first()
        if bundle is None:
            raise UnknownItem(f"没有编码为 {intake.bundle_code} 的“一件事”", field="bundle_code")
        codes = [i.code for i in bundle.items.all()]
    if not codes:
        raise UnknownItem("请至少选择一个办理事项", field="item_codes")
    items = items_for_intake(codes)
    unknown = [c for c in codes if c not in items]
    if unknown:
        raise UnknownItem(f"事项编码不存在或已停用：{'、'.join(unknown)}", field="item_codes")
    return bundle, [items[c] for c in codes]


@dataclass
class _MaterialPlan:
    material: ItemMaterial
    status: str
    document_id: int | None = None  # a wallet document reused for this material
    upload_key: str = ""


def _plan_materials(
    items: list[ServiceItem], owner: Person | Organisation | None, intake: Intake, bad_credit: bool
) -> tuple[dict[int, list[_MaterialPlan]], list[str]]:
    """Decide for every item's every material where it comes from; list all that are missing.

    Shared materials are asked once: a bundle's items that need the same material key (or the
    same wallet document type) are satisfied by one upload or one wallet document.
    """
    # Only (type, id) pairs: the plan links documents by id, no Document objects are needed.
    wallet: dict[str, int] = {}
    if owner is not None:
        wallet = wallet_index(owner)
    chosen: dict[str, int] = {}
    if intake.documents and owner is not None:
        own = set(wallet_for(owner).filter(pk__in=list(intake.documents.values())).values_list("pk", flat=True))
        for key, doc_id in intake.documents.items():
            if doc_id in own:
                chosen[key] = doc_id
    plans: dict[int, list[_MaterialPlan]] = {}
    missing: list[str] = []
    for item in items:
        rows: list[_MaterialPlan] = []
        for mat in item.materials.all():
            if mat.key in intake.files:
                rows.append(_MaterialPlan(mat, CaseMaterialStatus.SCANNED, upload_key=mat.key))
            elif mat.key in chosen:
                rows.append(_MaterialPlan(mat, CaseMaterialStatus.WALLET, chosen[mat.key]))
            elif mat.doc_type and mat.doc_type in wallet:
                rows.append(_MaterialPlan(mat, CaseMaterialStatus.WALLET, wallet[mat.doc_type]))
            elif intake.commitment and item.commitment_allowed and mat.commitment_ok:
                rows.append(_MaterialPlan(mat, CaseMaterialStatus.COMMITMENT))
            elif (
                intake.accept_gaps and item.accept_with_gaps and mat.kind == MaterialKind.SECONDARY and not bad_credit
            ):
                rows.append(_MaterialPlan(mat, CaseMaterialStatus.MISSING_WITH_COMMITMENT))
            else:
                label = f"{mat.name}（{item.name}）"
                if mat.kind == MaterialKind.SECONDARY and intake.accept_gaps and bad_credit:
                    label += "：申请人有失信记录，不适用容缺受理"
                if label not in missing:
                    missing.append(label)
        plans[item.pk] = rows
    return plans, missing


def _new_number(prefix: str = "GZ") -> str:
    today = timezone.localdate().strftime("%y%m%d")
    return f"{prefix}{today}{secrets.randbelow(10**8):08d}"


def _tail(number: str) -> str:
    return number[-4:].upper()


def do_submit_application(intake: Intake, *, actor: Any, channel: str, idempotency_key: str) -> Application:
    """Accept an application (window, online or API). One application → one case per item.

    Validates everything first — applicant, items, form, materials, files — and raises one
    error naming every problem (一次性告知) with nothing stored. A retry with the same
    ``idempotency_key`` returns the application already made.
    Side effects: audit ``case.accept`` per case; SLA timers; notification; instant items decided.
    """
    key = (idempotency_key or "").strip()
    if not key or len(key) > 80:
        raise ServiceErrorKey("缺少幂等键（Idempotency-Key），或长度超过 80", field="idempotency_key")
    # No probe for the key first: almost every key is new, and the unique index on
    # idempotency_key decides (a retry of a stored application fails its insert and gets the
    # stored one back). A retry refused by validation — an item withdrawn since, a document
    # expired — is also answered with the stored application, so a retry never changes the answer.
    # IntegrityError also covers two submissions with the same key at once: the loser's
    # transaction is rolled back whole and it gets the winner's application.
    try:
        return _submit(intake, actor, channel, key)
    except (IntegrityError, ActionError):
        existing = Application.objects.filter(idempotency_key=key).first()
        if existing is None:
            raise
        return _same_or_conflict(existing, intake, actor)


def _submit(intake: Intake, actor: Any, channel: str, key: str) -> Application:
    if channel not in Channel.values:
        raise InvalidInput(f"未知的受理渠道：{channel}", field="channel")
    if channel == Channel.WINDOW and not has_role(actor, *COUNTER):
        raise NotAllowed("只有综合窗口人员可以在窗口受理", field="channel")

    bundle, items = _resolve_items(intake)
    # Validate the form for every item first (read-only), so bad input writes nothing at all.
    form_errors: list[tuple[str, str]] = []
    cleaned: dict[int, dict[str, Any]] = {}
    shared = {spec["name"] for item in items for spec in item.form_schema}
    unknown = [k for k in intake.form if k not in shared]
    form_errors += [(k, f"表单中没有“{k}”这一项") for k in unknown]
    for item in items:
        own = {k: v for k, v in intake.form.items() if k in {s["name"] for s in item.form_schema}}
        data, errors = validate_form(item.form_schema, own)
        cleaned[item.pk] = data
        form_errors += [(e.field, e.message) for e in errors if (e.field, e.message) not in form_errors]
    for upload in intake.files.values():
        _check_upload(upload)  # size and type by magic bytes, before anything is written
    return _accept(intake, actor, channel, key, bundle, items, cleaned, form_errors)


def _accept(
    intake: Intake, actor: Any, channel: str, key: str, bundle: Bundle | None, items: list[ServiceItem],
    cleaned: dict[int, dict[str, Any]], form_errors: list[tuple[str, str]],
) -> Application:
    # Everything that only reads runs before the write transaction: on SQLite an IMMEDIATE
    # transaction holds the database's single write lock, so the shorter it is, the more
    # submissions per second the whole hall can take (bench/intake.py).
    person, org, register_number = _resolve_applicant(intake, actor, channel)
    for item in items:
        if item.applicant_type == ApplicantType.PERSON and org is not None:
            raise ApplicantError(f"“{item.name}”只受理自然人申请", field="applicant_number")
        if item.applicant_type == ApplicantType.ENTERPRISE and org is None:
            raise ApplicantError(f"“{item.name}”只受理法人和其他组织申请", field="applicant_number")
    if form_errors:
        raise FormInvalid("申请表有误：" + "；".join(m for _f, m in form_errors), form_errors)
    owner: Person | Organisation | None = person or org
    plans, missing = _plan_materials(items, owner, intake, bool(owner is not None and owner.bad_credit))
    if missing:
        raise MaterialsMissing("材料不齐，请一次性补齐以下材料：" + "；".join(missing), missing)
    now = timezone.now()
    today = timezone.localdate()
    cal = work_calendar()
    place = (person.home_place if person is not None else org.place if org is not None else None)
    place = place or _actor_place(actor) or items[0].department.place
    app = Application(
        number=_new_number(),
        idempotency_key=key,
        channel=channel,
        bundle=bundle,
        applicant_person=person,
        applicant_org=org,
        place=place,
        submitted_by=actor if getattr(actor, "is_authenticated", False) else None,
        submitted_at=now,
    )

    def plan_cases() -> list[_CasePlan]:
        return [
            _plan_case(app, n, item, person, org, place, cleaned[item.pk], plans[item.pk], intake, channel, actor,
                       today, cal)
            for n, item in enumerate(items, start=1)
        ]

    # Every row is built before the write transaction; inside it only inserts run. On SQLite the
    # transaction holds the database's single write lock, so its length bounds the whole hall's
    # submissions per second (bench/intake.py: the lock was held for over half of a request).
    case_plans = plan_cases() if not register_number else []
    with transaction.atomic():
        if register_number:  # a first-time walk-in: registered with the application, or not at all
            person = do_register_person(register_number, intake.applicant_name, actor=actor)
            owner = person
            app.applicant_person = person
            case_plans = plan_cases()
        assert owner is not None
        insert([app])
        # Uploads go into the applicant's wallet once, even when several items need them.
        uploaded: dict[str, Document] = {}
        for mat_key, upload in intake.files.items():
            uploaded[mat_key] = do_add_document(
                owner, _doc_type_for(items, mat_key), _material_name(items, mat_key), upload,
                source="窗口扫描" if channel == Channel.WINDOW else "网上上传", actor=_intake_actor(actor),
            )
        # The API answers from these, no re-read.
        app.created_cases = [_write_case(plan, app, uploaded, actor, now, today) for plan in case_plans]  # type: ignore[attr-defined]
    return app


def _intake_actor(actor: Any) -> Any:
    """Who files scanned papers into the applicant's wallet during intake.

    The window serves anyone who walks in (一窗办), also applicants from outside the clerk's
    jurisdiction or with no home place yet, which the wallet's own write rule would refuse. The
    intake action has already checked the clerk's right to accept, so the document is filed as
    the intake on the clerk's behalf (the audit label names the clerk).
    """
    if getattr(actor, "is_authenticated", False):
        return on_behalf_of(actor, "intake", "wallet.file")
    return actor


class ServiceErrorKey(IdempotencyConflict):
    code = "idempotency_key"


def _same_or_conflict(existing: Application, intake: Intake, actor: Any) -> Application:
    """A retry must be the same submission by the same submitter; anything else is refused."""
    same_actor = existing.submitted_by_id == getattr(actor, "pk", None)
    if not same_actor:
        raise IdempotencyConflict("该幂等键已被另一笔申请使用", field="idempotency_key")
    return existing


def _actor_place(actor: Any) -> Any:
    from gongzhi.accounts.scope import active_assignments

    for ra in active_assignments(actor):
        return ra.place
    return None


def _doc_type_for(items: list[ServiceItem], key: str) -> str:
    for item in items:
        for mat in item.materials.all():
            if mat.key == key and mat.doc_type:
                return mat.doc_type
    return "other"


def _material_name(items: list[ServiceItem], key: str) -> str:
    for item in items:
        for mat in item.materials.all():
            if mat.key == key:
                return mat.name
    return key


@dataclass
class _CasePlan:
    """One case of an application with all its rows built, waiting for their ids."""

    item: ServiceItem
    case: Case
    materials: list[tuple[CaseMaterial, _MaterialPlan]]
    tasks: list[Task]
    clocks: list[Clock]  # per task, in order: when its warning and overdue timers fire
    event: AuditEvent
    notice: Notification
    form: dict[str, Any]  # the cleaned form as typed: instant rules judge it, not its masked copy


def _plan_case(
    app: Application, n: int, item: ServiceItem, person: Person | None, org: Organisation | None, place: Any,
    data: dict[str, Any], plans: list[_MaterialPlan], intake: Intake, channel: str, actor: Any, today: date,
    cal: Any,
) -> _CasePlan:
    now = app.submitted_at
    lead_dept = route_department(item, place)
    clock = clock_for(cal, today, item.promised_days, 0, item.warning_share)
    gaps = any(p.status == CaseMaterialStatus.MISSING_WITH_COMMITMENT for p in plans)
    name = person.name if person else org.name  # type: ignore[union-attr]
    masked = person.number_masked if person is not None else org.uscc  # type: ignore[union-attr]
    # Personal numbers typed into the form are stored sealed and shown masked (services/personal.py);
    # sealed here, before the write transaction, like every other row of the case.
    shown, sealed = seal_form(item.form_schema, data)
    case = Case(
        number=f"{app.number}{n:02d}",
        item=item,
        channel=channel,
        applicant_person=person,
        applicant_org=org,
        applicant_name=name,
        applicant_masked=masked,
        applicant_tail=_tail(masked),
        place=place,
        place_path=place.path,
        department=lead_dept,
        address=intake.address[:200],
        form_data=shown,
        form_sealed=sealed,
        status=CaseStatus.ACCEPTED,
        accepted_at=now,
        accepted_by=actor if getattr(actor, "is_authenticated", False) else None,
        accepted_on=today,
        limit_days=item.promised_days,
        deadline=clock.deadline,
        deadline_provisional=clock.provisional,
        with_gaps=gaps,
        gaps_due=add_working_days(today, _setting("SERVICES_SUPPLEMENT_DAYS", SUPPLEMENT_DAYS)).deadline if gaps else None,
        by_commitment=any(p.status == CaseMaterialStatus.COMMITMENT for p in plans),
        visits=1 if channel == Channel.WINDOW else 0,
        search_text=search_tokens(app.number, name, item.name, item.code, intake.address, place.name),
    )
    materials = [(CaseMaterial(material=p.material, status=p.status, document_id=p.document_id), p) for p in plans]
    tasks = [
        Task(department=lead_dept, role=TaskRole.LEAD, limit_days=item.promised_days,
             deadline=clock.deadline, deadline_provisional=clock.provisional)
    ]
    clocks = [clock]  # each task's clock, for its timers (paused days: none yet)
    for co in item.co_departments.all():
        co_clock = clock_for(cal, today, co.limit_days, 0, item.warning_share)
        clocks.append(co_clock)
        tasks.append(
            Task(department=co.department, role=TaskRole.CO, limit_days=co.limit_days,
                 deadline=co_clock.deadline, deadline_provisional=co_clock.provisional)
        )
    event = new_event(
        "case.accept", actor=actor, obj=case, place_path=place.path,
        after={"number": case.number, "item": item.code, "channel": channel, "department": lead_dept.code,
               "deadline": clock.deadline.isoformat(), "materials": {p.material.key: p.status for p in plans}},
    )
    notice = Notification(
        recipient=name, created_at=now, subject=f"您的申请已受理：{item.name}",
        body=f"办件编号 {case.number}，承诺办结日期 {case.deadline:%Y年%m月%d日}。凭办件编号和证件号后四位可查询进度。",
    )
    return _CasePlan(item, case, materials, tasks, clocks, event, notice, data)


def _write_case(
    plan: _CasePlan, app: Application, uploaded: dict[str, Document], actor: Any, now: datetime, today: date
) -> Case:
    """Inside the intake transaction: store one planned case and its rows (ids wired in order)."""
    case, item = plan.case, plan.item
    case.application = app
    # The intake hot path writes with statements compiled once per process (core/db/inserts.py).
    insert([case])
    for material, p in plan.materials:
        material.case = case
        if p.upload_key:
            material.document_id = uploaded[p.upload_key].pk
    insert([m for m, _p in plan.materials])
    tasks = plan.tasks
    for task in tasks:
        task.case = case
    insert(tasks)
    plan.event.object_id = str(case.pk)
    record_events([plan.event])
    if item.mode == HandlingMode.INSTANT and not case.with_gaps and rules_pass(item.instant_rules, plan.form):
        _close_instantly(case, tasks, item, actor, now)
    else:
        if any(t.pk is None for t in tasks):  # bulk_create could not return ids: refetch
            tasks = list(case.tasks.all())
            plan.clocks = [clock_for(work_calendar(), today, t.limit_days, 0, item.warning_share) for t in tasks]
        do_schedule_timers([row for t, clock in zip(tasks, plan.clocks, strict=True) for row in _timer_rows(t.pk, clock)])
    plan.notice.case = case  # an outbox row, as ``_notify`` writes
    insert([plan.notice])
    return case


def _close_instantly(case: Case, tasks: list[Task], item: ServiceItem, actor: Any, now: datetime) -> None:
    """即办: decided on the spot by the item's rules — zero waiting, zero extra visits."""
    Task.objects.filter(case=case).update(status=TaskStatus.APPROVED, decided_at=now, decision_reason="即办规则自动核准")
    Case.objects.filter(pk=case.pk).update(
        status=CaseStatus.APPROVED, instant=True, closed_at=now, closed_on_time=True,
        result_note="符合即办条件，当场办结",
    )
    case.status, case.instant, case.closed_at, case.closed_on_time = CaseStatus.APPROVED, True, now, True
    record_event("case.instant_approve", actor=actor, obj=case, place_path=case.place_path,
                 after={"rules": item.instant_rules})
    _issue_result(case, item, actor)


def _issue_result(case: Case, item: ServiceItem, actor: Any) -> None:
    """An electronic licence goes into the applicant's wallet (so it is never asked for again)."""
    if not item.result_doc_type:
        return
    owner = case.applicant_person or case.applicant_org
    if owner is None:
        return
    do_add_document(
        owner, item.result_doc_type, f"{item.name}（电子证照 {case.number}）", None,
        issued_on=timezone.localdate(), issuer=case.department.name, source="办理结果", actor=RESULTS,
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
    insert([Notification(case=case, recipient=recipient, subject=subject, body=body, created_at=timezone.now())])


# ----------------------------------------------------------------------------- back office


def _officer_of(actor: Any, task: Task) -> None:
    """Only officers of the task's department (or the clerk at intake) act on a task."""
    from gongzhi.accounts.scope import active_assignments

    for ra in active_assignments(actor):
        if ra.role == Role.DEPARTMENT_OFFICER and ra.department_id == task.department_id:
            return
    raise NotAllowed("您不是该部门的审批人员，不能办理此任务", field="task")


def _locked_task(task_id: int) -> Task:
    return Task.objects.select_for_update().select_related("case__item", "department").get(pk=task_id)


def do_claim_task(task: Task, *, actor: Any, expected_version: int | None = None) -> Task:
    """Claim a pending task. Two officers at once: the conditional UPDATE lets exactly one win."""
    _officer_of(actor, task)
    now = timezone.now()
    with transaction.atomic():
        won = Task.objects.filter(
            pk=task.pk, status=TaskStatus.PENDING,
            **({"version": expected_version} if expected_version is not None else {}),
        ).update(status=TaskStatus.CLAIMED, holder=actor, held_since=now, version=F("version") + 1)
        if not won:
            current = Task.objects.select_related("holder").get(pk=task.pk)
            who = current.holder.display_name or current.holder.username if current.holder else ""
            raise TaskConflict(
                f"该任务已被{who or '他人'}认领或已变更，请刷新后再试" if current.status != TaskStatus.PENDING
                else "任务已变更，请刷新后再试",
                field="task",
            )
        Hold.objects.create(task=task, user=actor, department=task.department, step="办理", started_at=now)
        Case.objects.filter(pk=task.case_id, status=CaseStatus.ACCEPTED).update(
            status=CaseStatus.IN_PROGRESS, stats_dirty=True
        )
        record_event("task.claim", actor=actor, obj=task, place_path=task.case.place_path)
    task.refresh_from_db()
    return task


def _end_hold(task: Task, now: datetime) -> None:
    Hold.objects.filter(task=task, ended_at__isnull=True).update(ended_at=now)


def do_decide_task(task: Task, *, approve: bool, reason: str = "", actor: Any, expected_version: int | None = None) -> Task:
    """Approve or reject a claimed task (reasons required for a rejection).

    The lead decides last: while a co-processing task is still open the lead cannot close the
    case. Deciding the lead closes the case: approved only if every co-processor agreed.
    """
    _officer_of(actor, task)
    reason = (reason or "").strip()
    if not approve and not reason:
        raise InvalidInput("不予许可必须说明理由", field="reason")
    now = timezone.now()
    with transaction.atomic():
        locked = _locked_task(task.pk)
        if expected_version is not None and locked.version != expected_version:
            raise TaskConflict("任务已被他人变更，请刷新后再试", field="task")
        if locked.status != TaskStatus.CLAIMED or locked.holder_id != actor.pk:
            raise TaskConflict("只有认领该任务的人员才能作出决定", field="task")
        case = Case.objects.select_for_update().get(pk=locked.case_id)
        if locked.role == TaskRole.LEAD:
            open_co = case.tasks.filter(role=TaskRole.CO, status__in=[TaskStatus.PENDING, TaskStatus.CLAIMED, TaskStatus.SUPPLEMENT])
            if open_co.exists():
                names = "、".join(t.department.name for t in open_co.select_related("department"))
                raise NotAllowed(f"协办部门尚未全部反馈：{names}", field="task")
        locked.status = TaskStatus.APPROVED if approve else TaskStatus.REJECTED
        locked.decided_at = now
        locked.decision_reason = reason
        locked.version += 1
        locked.save(update_fields=["status", "decided_at", "decision_reason", "version"])
        _end_hold(locked, now)
        _cancel_task_timers(locked)
        record_event("task.decide", actor=actor, obj=locked, place_path=case.place_path,
                     after={"approve": approve, "reason": reason})
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
    task: Task, items: list[str], *, reason: str = "", actor: Any, expected_version: int | None = None
) -> SupplementRequest:
    """补正: tell the applicant everything missing, once; the clock stops until they answer."""
    _officer_of(actor, task)
    items = [i.strip() for i in items if i and i.strip()]
    if not items:
        raise InvalidInput("补正通知必须一次性列明全部需补正的材料", field="items")
    now = timezone.now()
    today = timezone.localdate()
    with transaction.atomic():
        locked = _locked_task(task.pk)
        if expected_version is not None and locked.version != expected_version:
            raise TaskConflict("任务已被他人变更，请刷新后再试", field="task")
        if locked.status != TaskStatus.CLAIMED or locked.holder_id != actor.pk:
            raise TaskConflict("只有认领该任务的人员才能发出补正通知", field="task")
        case = Case.objects.select_for_update().get(pk=locked.case_id)
        if case.status == CaseStatus.SUPPLEMENT:
            raise NotAllowed("该办件已在补正中，请勿重复发出", field="task")
        due = add_working_days(today, _setting("SERVICES_SUPPLEMENT_DAYS", SUPPLEMENT_DAYS)).deadline
        request = SupplementRequest.objects.create(
            case=case, task=locked, requested_by=actor, requested_at=now, requested_on=today,
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


def do_fulfil_supplement(case: Case, *, actor: Any, files: dict[str, UploadedFile] | None = None) -> Case:
    """The applicant answers a supplement request; the clock resumes with the paused days added."""
    today = timezone.localdate()
    now = timezone.now()
    files = files or {}
    for upload in files.values():
        _check_upload(upload)
    with transaction.atomic():
        case = Case.objects.select_for_update().select_related("item").get(pk=case.pk)
        _ensure_applicant_or_counter(case, actor)
        request = case.supplements.filter(fulfilled_at__isnull=True).last()
        if case.status != CaseStatus.SUPPLEMENT or request is None:
            raise NotAllowed("该办件没有待补正的通知", field="case")
        if today > request.due:
            raise SupplementLate(
                f"补正期限已于 {request.due:%Y年%m月%d日} 届满，不能再补正；请重新申请", field="case"
            )
        owner = case.applicant_person or case.applicant_org
        for key, upload in files.items():
            do_add_document(owner, "other", f"补正材料 {key}", upload, source="补正", actor=_intake_actor(actor))  # type: ignore[arg-type]
        paused = paused_working_days(work_calendar(), request.requested_on, today)
        request.fulfilled_at = now
        request.save(update_fields=["fulfilled_at"])
        cal = work_calendar()
        case.paused_days += paused
        clock = clock_for(cal, case.accepted_on, case.limit_days, case.paused_days, case.item.warning_share)
        case.deadline, case.deadline_provisional = clock.deadline, clock.provisional
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


def _ensure_applicant_or_counter(case: Case, actor: Any) -> None:
    if has_role(actor, *COUNTER) and path_in_scope(actor, case.place_path):
        return
    if has_role(actor, Role.WINDOW_CLERK):
        return  # any window accepts supplements for any case (一窗办)
    if _is_applicant(case, actor):
        return
    raise NotAllowed("只有申请人本人或综合窗口可以提交补正材料", field="case")


def _is_applicant(case: Case, actor: Any) -> bool:
    if not getattr(actor, "is_authenticated", False):
        return False
    if case.applicant_person_id and case.applicant_person.user_id == actor.pk:  # type: ignore[union-attr]
        return True
    return bool(case.applicant_org_id and case.applicant_org.agents.filter(pk=actor.pk).exists())  # type: ignore[union-attr]


def do_reveal_form_value(case: Case, field: str, *, actor: Any, reason: str = "") -> str:
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


def do_record_visit(case: Case, *, actor: Any, purpose: str = "") -> Case:
    """The applicant came to a hall for this case again (一次办 counts visits). Recorded by the
    counter that served them — a count the 5×100% figures publish must not be raised by anyone
    else (the applicant included)."""
    if not has_role(actor, *COUNTER):
        raise NotAllowed("只有综合窗口或部门人员可以登记申请人到场", field="case")
    with transaction.atomic():
        Case.objects.filter(pk=case.pk).update(visits=F("visits") + 1, stats_dirty=True)
        record_event("case.visit", actor=actor, obj=case, place_path=case.place_path, after={"purpose": purpose})
    case.refresh_from_db()
    return case


def do_deliver_result(
    case: Case, *, actor: Any, method: str, address: str = "", expected_version: int | None = None
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
        raise InvalidInput(f"请选择送达方式：{'、'.join(labels)}", field="method")
    chosen = DeliveryMethod(labels.get(raw, raw))
    address = (address or "").strip()
    if chosen == DeliveryMethod.MAIL and not address:
        raise InvalidInput("邮寄送达须填写收件地址", field="address")
    if len(address) > 200:
        raise InvalidInput("收件地址不能超过 200 个字", field="address")
    with transaction.atomic():
        case = Case.objects.select_for_update().select_related("item").get(pk=case.pk)
        if not can_deliver_result(actor, case):
            raise NotAllowed("只有主办部门审批人员或本辖区综合窗口人员可以送达办理结果", field="case")
        if case.status == CaseStatus.DELIVERED:
            raise NotAllowed(f"办件 {case.number} 的办理结果已经送达，不能重复送达", field="case")
        if case.status != CaseStatus.APPROVED:
            raise NotAllowed(
                f"只有准予许可（已办结）的办件可以送达，该办件当前为“{case.get_status_display()}”", field="case"
            )
        if expected_version is not None and case.version != expected_version:
            raise TaskConflict("办件已被他人变更，请刷新后再试", field="case")
        changes: dict[str, Any] = {
            "status": CaseStatus.DELIVERED, "version": F("version") + 1,
            "delivered_at": timezone.now(), "delivery_method": chosen.value,
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
    now = timezone.now()
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


# --------------------------------------------------------------------------------- reviews


def do_review_case(case: Case, level: int, comment: str = "", *, actor: Any) -> Review:
    """好差评 (State Council 2019 No. 51): the applicant rates a closed case once.

    The two bad levels open a rectification with a deadline and a call-back.
    """
    if level not in (1, 2, 3, 4, 5):
        raise ReviewError("评价等级应为 1–5（非常不满意 至 非常满意）", field="level")
    with transaction.atomic():
        case = Case.objects.select_for_update().select_related("department").get(pk=case.pk)
        if not _is_applicant(case, actor):
            raise ReviewError("只能评价本人申请的办件", field="case")
        if case.closed_at is None:
            raise ReviewError("办件办结后才能评价", field="case")
        if Review.objects.filter(case=case).exists():
            raise ReviewError("该办件已评价过，不能重复评价", field="case")
        review = Review.objects.create(case=case, level=level, comment=comment[:2000], reviewer=actor,
                                       created_at=timezone.now())
        if level <= 2:
            due = add_working_days(timezone.localdate(), _setting("SERVICES_RECTIFY_DAYS", RECTIFY_DAYS)).deadline
            Rectification.objects.create(review=review, department=case.department, due=due)
        record_event("case.review", actor=actor, obj=case, place_path=case.place_path,
                     after={"level": level})
    return review


def do_complete_rectification(rect: Rectification, *, action_note: str, callback_note: str, actor: Any) -> Rectification:
    if not action_note.strip() or not callback_note.strip():
        raise ReviewError("请填写整改措施和回访情况", field="action_note")
    _ensure_department_member(actor, rect.department_id)
    with transaction.atomic():
        rect = Rectification.objects.select_for_update().get(pk=rect.pk)
        if rect.status != RectificationStatus.OPEN:
            raise ReviewError("该整改已结束", field="rectification")
        rect.status, rect.action_note, rect.callback_note = RectificationStatus.DONE, action_note, callback_note
        rect.callback_at = timezone.now()
        rect.save(update_fields=["status", "action_note", "callback_note", "callback_at"])
        record_event("review.rectify", actor=actor, obj=rect, place_path=rect.review.case.place_path,
                     after={"callback": callback_note})
    return rect


def _ensure_department_member(actor: Any, department_id: int) -> None:
    from gongzhi.accounts.scope import active_assignments

    if not any(ra.department_id == department_id for ra in active_assignments(actor)):
        raise NotAllowed("您不是该部门人员", field="department")


def do_file_appeal(review: Review, reason: str, *, actor: Any) -> Appeal:
    """A department appeals a malicious bad review; a supervisor decides."""
    if not reason.strip():
        raise ReviewError("请说明申诉理由", field="reason")
    _ensure_department_member(actor, review.case.department_id)
    with transaction.atomic():
        # Lock the review so two appeals filed at once cannot both pass the check below.
        review = Review.objects.select_for_update().select_related("case").get(pk=review.pk)
        if Appeal.objects.filter(review=review).exists():
            raise ReviewError("该评价已申诉过", field="review")
        if review.level > 2:
            raise ReviewError("只有差评可以申诉", field="review")
        appeal = Appeal.objects.create(review=review, reason=reason, filed_by=actor, filed_at=timezone.now())
        record_event("review.appeal", actor=actor, obj=appeal, place_path=review.case.place_path,
                     after={"reason": reason})
    return appeal


def do_decide_appeal(appeal: Appeal, *, upheld: bool, note: str = "", actor: Any) -> Appeal:
    from gongzhi.accounts.enums import SUPERVISOR_ROLES

    if not has_role(actor, *SUPERVISOR_ROLES) or not path_in_scope(actor, appeal.review.case.place_path):
        raise NotAllowed("只有辖区督导可以审核申诉", field="appeal")
    with transaction.atomic():
        appeal = Appeal.objects.select_for_update().get(pk=appeal.pk)
        if appeal.status != AppealStatus.PENDING:
            raise ReviewError("该申诉已审核", field="appeal")
        appeal.status = AppealStatus.UPHELD if upheld else AppealStatus.DISMISSED
        appeal.decided_by, appeal.decision_note = actor, note
        appeal.save(update_fields=["status", "decided_by", "decision_note"])
        if upheld:
            # Only an open rectification is voided; one already carried out stays on record.
            Rectification.objects.filter(review=appeal.review, status=RectificationStatus.OPEN).update(
                status=RectificationStatus.VOIDED
            )
        record_event("review.appeal_decide", actor=actor, obj=appeal, place_path=appeal.review.case.place_path,
                     after={"upheld": upheld, "note": note})
    return appeal


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
