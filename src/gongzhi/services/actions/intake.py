"""Intake (前台一口受理): an application becomes one case per item, with its tasks, timers and receipt."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils.translation import get_language, gettext_noop
from django.utils.translation import gettext as _

from gongzhi.accounts.scope import has_role
from gongzhi.core import clock
from gongzhi.core.actions import do_schedule_timers
from gongzhi.core.actors import Actor
from gongzhi.core.audit import new_event, record_event, record_events
from gongzhi.core.calendar import add_working_days, work_calendar
from gongzhi.core.crypto import decrypt
from gongzhi.core.db.inserts import insert
from gongzhi.core.domain.identifiers import IdentifierKind, check_identifier, identity_facts
from gongzhi.core.errors import ActionError
from gongzhi.core.i18n import localized_text
from gongzhi.core.models import AuditEvent
from gongzhi.people.actions import (
    LookupBatch,
    check_upload,
    do_add_document,
    do_register_person,
    lookups_batched,
)
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
    user_or_none,
)
from gongzhi.services.domain.eligibility import IDENTITY_FACTS, Failed, rule_message, unmet
from gongzhi.services.domain.forms import (
    PERSON_SOURCES,
    contradictions,
    derived_values,
    identity_values,
    rules_pass,
    validate_form,
)
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
    NotEligible,
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
from gongzhi.services.policy import assurance_refusal, may_apply_for
from gongzhi.services.routing import resolve_choice, route_department

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


def _refuse_unverified(actor: Actor, items: list[ServiceItem]) -> None:
    """An account not yet verified at the window is told which items wait for that check."""
    refusal = assurance_refusal(actor, items)
    if refusal:
        raise NotAllowed(refusal, field="applicant_number", code="unverified")


def _resolve_applicant(
    intake: Intake, actor: Actor, channel: str, items: list[ServiceItem]
) -> tuple[Person | None, Organisation | None, str]:
    """The applicant by their one number (一号办). Returns (person, organisation, number to
    register): a first-time walk-in at the window is registered inside the intake transaction,
    so a refused application leaves no stray person behind."""
    result = check_identifier(intake.applicant_number)
    if not result.valid:
        detail = "；".join(e.message(get_language()) for e in result.errors) or _("号码无法识别")
        raise ApplicantError(_("申请人证件号码有误：%(detail)s") % {"detail": detail}, field="applicant_number")
    # Whom the actor may apply for is one rule (policy.may_apply_for), the same for the window,
    # the portal, a browser session on the API and a system's token.
    if result.kind == IdentifierKind.USCC:
        org = find_organisation_by_uscc(actor, result.normalized)
        if org is None:
            raise ApplicantError(_("未找到该统一社会信用代码对应的单位，请先办理单位登记"), field="applicant_number")
        if not may_apply_for(actor, None, org, items):
            _refuse_unverified(actor, items)
            raise NotAllowed(_("您不是该单位的经办人，不能代为申请"), field="applicant_number")
        return None, org, ""
    person = find_person_by_number(actor, result.normalized)
    if not may_apply_for(actor, person, None, items):
        _refuse_unverified(actor, items)
        raise NotAllowed(_("只能以本人身份或为您经办的单位提交申请"), field="applicant_number")
    if person is None:
        if channel == Channel.WINDOW and intake.applicant_name.strip():
            return None, None, result.normalized
        raise ApplicantError(_("该证件号码尚未登记，请在窗口填写申请人姓名后登记"), field="applicant_number")
    return person, None, ""


def _resolve_items(intake: Intake) -> tuple[Bundle | None, list[ServiceItem]]:
    return resolve_choice(intake.item_codes, intake.bundle_code)


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
        own = dict(wallet_for(owner).filter(pk__in=list(intake.documents.values())).values_list("pk", "doc_type"))
        types = {mat.key: (mat.doc_type or "other", mat.name) for item in items for mat in item.materials.all()}
        for key, doc_id in intake.documents.items():
            if doc_id not in own:
                continue
            # A document is offered only for materials of its type (forms.material_rows); the
            # same rule here, so an ID card cannot be handed in as a household register.
            if key in types and own[doc_id] != types[key][0]:
                raise InvalidInput(
                    _("证照库中选用的证照不是“%(material)s”：请选用同类证照，或上传扫描件") % {"material": types[key][1]},
                    field=key, code="wallet_type",
                )
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
                label = _("%(material)s（%(item)s）") % {"material": localized_text(mat), "item": localized_text(item)}
                if mat.kind == MaterialKind.SECONDARY and intake.accept_gaps and bad_credit:
                    label += _("：申请人有失信记录，不适用容缺受理")
                if label not in missing:
                    missing.append(label)
        plans[item.pk] = rows
    return plans, missing


def _new_number(prefix: str = "GZ") -> str:
    today = clock.localdate().strftime("%y%m%d")
    return f"{prefix}{today}{secrets.randbelow(10**8):08d}"


def _tail(number: str) -> str:
    return number[-4:].upper()


def do_submit_application(intake: Intake, *, actor: Actor, channel: str, idempotency_key: str) -> Application:
    """Accept an application (window, online or API). One application → one case per item.

    Validates everything first — applicant, items, form, materials, files — and raises one
    error naming every problem (一次性告知) with nothing stored. A retry with the same
    ``idempotency_key`` returns the application already made.
    Side effects: audit ``case.accept`` per case; SLA timers; notification; instant items decided.
    """
    key = (idempotency_key or "").strip()
    if not key or len(key) > 80:
        raise ServiceErrorKey(_("缺少幂等键（Idempotency-Key），或长度超过 80"), field="idempotency_key")
    # No probe for the key first: almost every key is new, and the unique index on
    # idempotency_key decides (a retry of a stored application fails its insert and gets the
    # stored one back). A retry refused by validation — an item withdrawn since, a document
    # expired — is also answered with the stored application, so a retry never changes the answer.
    # IntegrityError also covers two submissions with the same key at once: the loser's
    # transaction is rolled back whole and it gets the winner's application.
    for attempt in range(NUMBER_ATTEMPTS):
        try:
            return _submit(intake, actor, channel, key)
        except (IntegrityError, ActionError) as exc:
            existing = Application.objects.filter(idempotency_key=key).first()
            if existing is not None:
                return _same_or_conflict(existing, intake, actor)
            if not isinstance(exc, IntegrityError) or attempt == NUMBER_ATTEMPTS - 1:
                raise
            # Not a retry of a stored key: the random application number was taken the same
            # day (8 digits, so rare but certain at scale) — the whole transaction rolled back;
            # try again with a new number.
            for upload in intake.files.values():
                upload.seek(0)
    raise AssertionError("unreachable")  # the loop returns or raises


NUMBER_ATTEMPTS = 3


def _submit(intake: Intake, actor: Actor, channel: str, key: str) -> Application:
    if channel not in Channel.values:
        raise InvalidInput(_("未知的受理渠道：%(channel)s") % {"channel": channel}, field="channel")
    if channel == Channel.WINDOW and not has_role(actor, *COUNTER):
        raise NotAllowed(_("只有综合窗口人员可以在窗口受理"), field="channel")

    bundle, items = _resolve_items(intake)
    for upload in intake.files.values():
        check_upload(upload)  # size and type by magic bytes, before anything is written
    return _accept(intake, actor, channel, key, bundle, items)


def _check_forms(
    items: list[ServiceItem], intake: Intake, person: Person | None
) -> tuple[dict[int, dict[str, Any]], list[tuple[str, str]], dict[str, Any]]:
    """Each item's cleaned form, every form error, and the facts eligibility is judged on.

    Fields taken from the identity are filled from the applicant's number (a posted value that
    contradicts it is an error, never used); fields taken from the person record are filled from
    it when left blank. Read-only: bad input writes nothing.
    """
    facts = identity_values(identity_facts(intake.applicant_number, today=clock.localdate()))
    form_errors: list[tuple[str, str]] = []
    cleaned: dict[int, dict[str, Any]] = {}
    shared = {spec["name"] for item in items for spec in item.form_schema}
    unknown = [k for k in intake.form if k not in shared]
    form_errors += [(k, _("表单中没有“%(field)s”这一项") % {"field": k}) for k in unknown]
    asks_record = any(spec.get("from") in PERSON_SOURCES for item in items for spec in item.form_schema)
    record = _person_values(person) if asks_record else {}  # decrypt the phone only when a form uses it
    for item in items:
        schema = item.form_schema
        own = {k: v for k, v in intake.form.items() if k in {s["name"] for s in schema}}
        derived = derived_values(schema, facts)
        for name, label in contradictions(schema, derived, own):
            error = (name, _("“%(label)s”与申请人的证件号码不符：这一项按证件号码填写，不能更改") % {"label": label})
            if error not in form_errors:
                form_errors.append(error)
        own.update(derived)
        for spec in schema:
            source = spec.get("from", "")
            if source in PERSON_SOURCES and own.get(spec["name"]) in (None, "") and record.get(source):
                own[spec["name"]] = record[source]
        data, errors = validate_form(schema, own)
        cleaned[item.pk] = data
        form_errors += [(e.field, e.message) for e in errors if (e.field, e.message) not in form_errors]
    merged = {k: v for data in cleaned.values() for k, v in data.items()}
    return cleaned, form_errors, {**merged, **facts}


def _person_values(person: Person | None) -> dict[str, str]:
    if person is None:
        return {}
    return {"person.phone": decrypt(person.phone_cipher), "person.address": person.address}


def _check_eligibility(items: list[ServiceItem], facts: dict[str, Any], form_errors: list[tuple[str, str]]) -> None:
    """申请条件: every item's rules against the identity and the form; all failures at once.
    A rule on a form field the applicant got wrong waits for the field to be corrected."""
    problems: list[tuple[str, str]] = []
    wrong = {f for f, _m in form_errors} - set(IDENTITY_FACTS)
    for item in items:
        labels = {s["name"]: s.get("label", s["name"]) for s in item.form_schema}
        rules = [r for r in item.eligibility_rules or [] if r.get("field") not in wrong]
        for failed in unmet(rules, facts):
            message = _eligibility_message(item, failed, labels)
            if (failed.field, message) not in problems:
                problems.append((failed.field, message))
    if problems:
        raise NotEligible(_("申请人不符合申请条件：") + "；".join(m for _f, m in problems), problems)


_FACT_LABELS = {
    "age": gettext_noop("年龄（周岁）"), "birth_date": gettext_noop("出生日期"), "sex": gettext_noop("性别"),
    "region": gettext_noop("证件签发地区"),
}


def _eligibility_message(item: ServiceItem, failed: Failed, labels: dict[str, str]) -> str:
    what = _(_FACT_LABELS[failed.field]) if failed.field in IDENTITY_FACTS else labels.get(failed.field, failed.field)
    if failed.actual is None:
        if failed.field in IDENTITY_FACTS:
            return _("无法从申请人的证件号码确定%(what)s，不能判断是否符合“%(item)s”的申请条件，请持证件到窗口核验") % {
                "what": what, "item": item.name}
        return _("“%(item)s”的申请条件要求填写“%(what)s”") % {"item": localized_text(item), "what": what}
    own = rule_message(failed.rule, get_language(), failed.actual)
    if own:
        return own
    value = failed.rule.get("value")
    shown = "、".join(str(v) for v in value) if isinstance(value, list) else str(value)
    return _("不符合“%(item)s”的申请条件：%(what)s应 %(op)s %(value)s，申请人为 %(actual)s") % {
        "item": item.name, "what": what, "op": failed.rule.get("op"), "value": shown, "actual": failed.actual}


def _accept(
    intake: Intake, actor: Actor, channel: str, key: str, bundle: Bundle | None, items: list[ServiceItem],
) -> Application:
    # The applicant's lookup (quota and audit log) is written inside the intake transaction, not
    # in one of its own; a refused or failed submission still writes it (people.actions).
    with lookups_batched() as lookups:
        return _accept_batched(intake, actor, channel, key, bundle, items, lookups)


def _accept_batched(
    intake: Intake, actor: Actor, channel: str, key: str, bundle: Bundle | None, items: list[ServiceItem],
    lookups: LookupBatch,
) -> Application:
    # Everything that only reads runs before the write transaction: on SQLite an IMMEDIATE
    # transaction holds the database's single write lock, so the shorter it is, the more
    # submissions per second the whole hall can take (bench/intake.py).
    person, org, register_number = _resolve_applicant(intake, actor, channel, items)
    for item in items:
        if item.applicant_type == ApplicantType.PERSON and org is not None:
            raise ApplicantError(_("“%(item)s”只受理自然人申请") % {"item": localized_text(item)}, field="applicant_number")
        if item.applicant_type == ApplicantType.ENTERPRISE and org is None:
            raise ApplicantError(_("“%(item)s”只受理法人和其他组织申请") % {"item": localized_text(item)}, field="applicant_number")
    cleaned, form_errors, facts = _check_forms(items, intake, person)
    # Eligibility before the form's own errors: fixing a form is no use to someone not entitled.
    _check_eligibility(items, facts, form_errors)
    if form_errors:
        raise FormInvalid(_("申请表有误：%(errors)s") % {"errors": "；".join(m for _f, m in form_errors)}, form_errors)
    owner: Person | Organisation | None = person or org
    plans, missing = _plan_materials(items, owner, intake, bool(owner is not None and owner.bad_credit))
    if missing:
        raise MaterialsMissing(_("材料不齐，请一次性补齐以下材料：%(materials)s") % {"materials": "；".join(missing)}, missing)
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
        submitted_by=user_or_none(actor),
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
        lookups.write()
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


def _same_or_conflict(existing: Application, intake: Intake, actor: Actor) -> Application:
    """A retry must be the same submission by the same submitter; anything else is refused."""
    same_actor = existing.submitted_by_id == getattr(actor, "pk", None)
    if not same_actor:
        raise IdempotencyConflict(_("该幂等键已被另一笔申请使用"), field="idempotency_key")
    return existing


def _actor_place(actor: Actor) -> Any:
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
    data: dict[str, Any], plans: list[_MaterialPlan], intake: Intake, channel: str, actor: Actor, today: date,
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
        accepted_by=user_or_none(actor),
        accepted_on=today,
        limit_days=item.promised_days,
        deadline=clock.deadline,
        deadline_provisional=clock.provisional,
        with_gaps=gaps,
        # 容缺: the owed material is due within the supplement period but never after the
        # promised completion date — the case must be decidable on time with every paper in.
        gaps_due=min(add_working_days(today, _setting("SERVICES_SUPPLEMENT_DAYS", SUPPLEMENT_DAYS)).deadline,
                     clock.deadline) if gaps else None,
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
    plan: _CasePlan, app: Application, uploaded: dict[str, Document], actor: Actor, now: datetime, today: date
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


def _close_instantly(case: Case, tasks: list[Task], item: ServiceItem, actor: Actor, now: datetime) -> None:
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
