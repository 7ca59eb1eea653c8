"""Intake (前台一口受理): an application becomes one case per item, with its tasks, timers and receipt."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction

from gongzhi.accounts.scope import has_role
from gongzhi.core import clock
from gongzhi.core.actions import do_schedule_timers
from gongzhi.core.audit import new_event, record_event, record_events
from gongzhi.core.calendar import add_working_days, work_calendar
from gongzhi.core.db.inserts import insert
from gongzhi.core.domain.identifiers import IdentifierKind, check_identifier
from gongzhi.core.errors import ActionError
from gongzhi.core.models import AuditEvent
from gongzhi.people.actions import check_upload, do_add_document, do_register_person
from gongzhi.people.models import Document, Organisation, Person
from gongzhi.people.queries import (
    find_organisation_by_uscc,
    find_person_by_number,
    wallet_for,
    wallet_index,
)
from gongzhi.services.actions.common import (
    COUNTER,
    SUPPLEMENT_DAYS,
    _intake_actor,
    _issue_result,
    _setting,
    _timer_rows,
)
from gongzhi.services.domain.forms import rules_pass, validate_form
from gongzhi.services.domain.search import search_tokens
from gongzhi.services.domain.sla import Clock, clock_for
from gongzhi.services.enums import (
    ApplicantType,
    CaseMaterialStatus,
    CaseStatus,
    Channel,
    HandlingMode,
    MaterialKind,
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
    UnknownItem,
)
from gongzhi.services.models import (
    Application,
    Bundle,
    Case,
    CaseMaterial,
    ItemMaterial,
    Notification,
    ServiceItem,
    Task,
)
from gongzhi.services.personal import seal_form
from gongzhi.services.policy import may_apply_for
from gongzhi.services.routing import items_for_intake, route_department

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
    today = clock.localdate().strftime("%y%m%d")
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
        check_upload(upload)  # size and type by magic bytes, before anything is written
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
    now = clock.now()
    today = clock.localdate()
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
