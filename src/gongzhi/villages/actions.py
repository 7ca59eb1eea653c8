"""Every write of the villages app (DESIGN.md §2): validate, write in one transaction, audit.

Bad input raises a ``core.errors.ActionError`` with a Chinese message naming the field, and
nothing is stored. ``actor`` is a user (checked against ``accounts.permissions`` over the
village's place) or a ``SystemActor`` granted the permission (the demo, the worker).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from gongzhi.accounts.permissions import has_permission
from gongzhi.core import clock
from gongzhi.core.actions import do_arm_timer
from gongzhi.core.actors import Actor, SystemActor, system_may
from gongzhi.core.audit import record_event
from gongzhi.core.calendar import add_working_days
from gongzhi.core.domain.identifiers import check_uscc
from gongzhi.core.errors import ActionError, ConflictError, NotAllowedError
from gongzhi.people.actions import check_upload
from gongzhi.people.models import Person
from gongzhi.villages.domain import access as access_rules
from gongzhi.villages.domain import allocation
from gongzhi.villages.domain.schedule import Progress, Schedule, ScheduleError, Task
from gongzhi.villages.enums import (
    AllocationMethod,
    CredentialKind,
    CredentialStatus,
    DenyStatus,
    GateOutcome,
    ProjectStatus,
    RepairStatus,
    RoundStatus,
)
from gongzhi.villages.models import (
    Building,
    Credential,
    DenyEntry,
    FaceConsent,
    Fee,
    Gate,
    GateEvent,
    HandOver,
    Household,
    PlanTask,
    ProgressPhoto,
    ProgressReport,
    Project,
    PropertyCompany,
    RepairRequest,
    ResettlementRound,
    ScheduleAlert,
    TalentApplication,
    TalentRound,
    Unit,
    Village,
)

CHECK_TIMER = "villages.schedule_check"
MAX_PHOTOS = 6


def ensure(actor: Actor, perm: str, village: Village) -> None:
    if isinstance(actor, SystemActor):
        if system_may(actor, perm):
            return
    elif has_permission(actor, perm, village.place.path):
        return
    raise NotAllowedError(_("您无权进行此操作"))


def _user(actor: Actor) -> Any:
    return None if isinstance(actor, SystemActor) else actor


def _audit(verb: str, obj: Any, village: Village, actor: Actor, after: Any = None, before: Any = None) -> None:
    record_event(verb, actor=actor, obj=obj, place_path=village.place.path, before=before, after=after)


# --- portfolio ---------------------------------------------------------------------------------


def do_create_village(place: Any, code: str, name: str, target_year: int | None = None, *, actor: Actor) -> Village:
    if not name.strip():
        raise ActionError(_("请填写村名"), field="name")
    village = Village(place=place, code=code.strip(), name=name.strip(), target_year=target_year)
    ensure(actor, "village.manage", village)
    with transaction.atomic():
        if Village.objects.filter(code=village.code).exists():
            raise ConflictError(_("编码已被使用"), field="code")
        village.save()
        _audit("villages.create_village", village, village, actor, after={"code": village.code, "name": village.name})
    return village


def _decimal(value: Any, field: str) -> Decimal:
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise ActionError(_("金额格式不正确"), field=field) from None
    if amount <= 0:
        raise ActionError(_("金额必须大于零"), field=field)
    return amount


def do_create_project(village: Village, *, code: str, name: str, scope: str, budget: Any, agent_builder_uscc: str,
                      agent_builder_name: str, start_date: date, deadline: date, owner: Any = None,
                      supervisor: Any = None, actor: Actor) -> Project:
    ensure(actor, "village.manage", village)
    checked = check_uscc(agent_builder_uscc)
    if not checked.valid:
        raise ActionError(checked.errors[0].message(get_language()), field="agent_builder_uscc")
    if deadline <= start_date:
        raise ActionError(_("完工期限须晚于开工日期"), field="deadline")
    if not name.strip():
        raise ActionError(_("请填写项目名称"), field="name")
    project = Project(village=village, code=code.strip(), name=name.strip(), scope=scope,
                      budget=_decimal(budget, "budget"), agent_builder_uscc=checked.normalized,
                      agent_builder_name=agent_builder_name.strip(), start_date=start_date, deadline=deadline,
                      owner=owner, supervisor=supervisor)
    with transaction.atomic():
        if Project.objects.filter(code=project.code).exists():
            raise ConflictError(_("编码已被使用"), field="code")
        project.save()
        _audit("villages.create_project", project, village, actor,
               after={"code": project.code, "budget": project.budget, "agent_builder": project.agent_builder_uscc,
                      "deadline": project.deadline})
        _arm_check(project)
    return project


def do_set_project_status(project: Project, status: str, *, actor: Actor) -> Project:
    ensure(actor, "village.manage", project.village)
    if status not in ProjectStatus.values:
        raise ActionError(_("状态不正确"), field="status")
    with transaction.atomic():
        before = project.status
        Project.objects.filter(pk=project.pk).update(status=status, version=project.version + 1)
        project.status, project.version = status, project.version + 1
        _audit("villages.set_project_status", project, project.village, actor, before={"status": before},
               after={"status": status})
    return project


@dataclass(frozen=True)
class TaskSpec:
    key: str
    name: str
    duration_days: int
    predecessors: tuple[str, ...] = ()


def _offset(project: Project, day: date | None) -> int | None:
    return None if day is None else (day - project.start_date).days


def build_schedule(project: Project, today: date | None = None, tasks: Sequence[PlanTask] | None = None) -> Schedule:
    """The project's plan as a :class:`Schedule` (day 0 = the start date; the deadline day counts)."""
    rows = list(tasks if tasks is not None else project.tasks.all())
    progress = {}
    for t in rows:
        if t.started_on or t.finished_on:
            fin = _offset(project, t.finished_on)
            progress[t.key] = Progress(started=_offset(project, t.started_on),
                                       finished=None if fin is None else fin + 1, percent=t.percent)
    return Schedule.build([Task(t.key, t.duration_days, tuple(t.predecessors)) for t in rows],
                          deadline=(project.deadline - project.start_date).days + 1,
                          today=(((today or clock.localdate()) - project.start_date).days), progress=progress)


def day_of(project: Project, offset: int, *, finish: bool = False) -> date:
    """A schedule offset back to a date (a finish offset is exclusive: the day before)."""
    return project.start_date + timedelta(days=offset - (1 if finish else 0))


def _schedule_error(e: ScheduleError) -> ActionError:
    messages = {
        "cycle": _("任务之间存在循环依赖：%(tasks)s"),
        "unknown_predecessor": _("前置任务不存在：%(tasks)s"),
        "duplicate": _("任务编号重复：%(tasks)s"),
        "duration": _("工期不能为负数：%(tasks)s"),
    }
    text = messages.get(e.code, _("计划不正确：%(tasks)s")) % {"tasks": "、".join(e.tasks[:10])}
    return ActionError(text, field="tasks", code=e.code)


def do_set_plan(project: Project, specs: Sequence[TaskSpec], *, actor: Actor) -> Schedule:
    """Replace the project's plan (the network); refused if it has a cycle or unknown tasks."""
    ensure(actor, "village.manage", project.village)
    if not specs:
        raise ActionError(_("计划至少需要一项任务"), field="tasks")
    try:
        Schedule.build([Task(s.key, s.duration_days, s.predecessors) for s in specs], deadline=0)
    except ScheduleError as e:
        raise _schedule_error(e) from None
    with transaction.atomic():
        project.tasks.all().delete()
        PlanTask.objects.bulk_create([
            PlanTask(project=project, key=s.key, name=s.name, duration_days=s.duration_days,
                     predecessors=list(s.predecessors), position=i) for i, s in enumerate(specs)])
        sched = refresh_projection(project)
        _audit("villages.set_plan", project, project.village, actor,
               after={"tasks": len(specs), "min_float": sched.min_float})
    return sched


def do_report_progress(project: Project, task_key: str, *, week_of: date, percent: int,
                       started_on: date | None = None, finished_on: date | None = None, note: str = "",
                       photos: Sequence[UploadedFile] = (), actor: Actor) -> ProgressReport:
    """A weekly progress report on one task (with photos); re-projects the plan and the alerts."""
    ensure(actor, "village.manage", project.village)
    task = project.tasks.filter(key=task_key).first()
    if task is None:
        raise ActionError(_("该计划中没有此任务"), field="task")
    if not 0 <= percent <= 100:
        raise ActionError(_("完成百分比须在0到100之间"), field="percent")
    today = clock.localdate()
    if week_of > today:
        raise ActionError(_("报告周不能晚于今天"), field="week_of")
    started_on = started_on or task.started_on or (week_of if percent > 0 else None)
    if percent == 100 and finished_on is None:
        finished_on = week_of
    if finished_on is not None and percent < 100:
        raise ActionError(_("已完工的任务完成百分比应为100"), field="percent")
    if started_on is not None and started_on < project.start_date:
        raise ActionError(_("开始日期不能早于项目开工日期"), field="started_on")
    if finished_on is not None and (started_on is None or finished_on < started_on):
        raise ActionError(_("完成日期不能早于开始日期"), field="finished_on")
    if finished_on is not None and finished_on > today:
        raise ActionError(_("完成日期不能晚于今天"), field="finished_on")
    if len(photos) > MAX_PHOTOS:
        raise ActionError(_("照片最多%(n)s张") % {"n": MAX_PHOTOS}, field="photos")
    kinds = []
    for photo in photos:
        content_type, _ext = check_upload(photo)
        if not content_type.startswith("image/"):
            raise ActionError(_("照片须为JPEG或PNG图片"), field="photos")
        kinds.append(content_type)
    with transaction.atomic():
        report = ProgressReport.objects.create(project=project, task=task, week_of=week_of, percent=percent,
                                               started_on=started_on, finished_on=finished_on, note=note[:2000],
                                               reported_by=_user(actor))
        for photo, content_type in zip(photos, kinds, strict=True):
            photo.seek(0)
            ProgressPhoto.objects.create(report=report, file=photo, content_type=content_type)
        PlanTask.objects.filter(pk=task.pk).update(started_on=started_on, finished_on=finished_on, percent=percent)
        sched = refresh_projection(project)
        _audit("villages.report_progress", report, project.village, actor,
               after={"task": task_key, "percent": percent, "photos": len(photos), "min_float": sched.min_float})
    return report


def refresh_projection(project: Project, today: date | None = None) -> Schedule:
    """Re-project the plan, store the summary and bring the alerts in line (inside a transaction)."""
    sched = build_schedule(project, today)
    finish = day_of(project, sched.projected_finish, finish=True) if sched.times else None
    Project.objects.filter(pk=project.pk).update(projected_finish=finish, min_float=sched.min_float)
    project.projected_finish, project.min_float = finish, sched.min_float
    _sync_alerts(project, sched)
    return sched


def _sync_alerts(project: Project, sched: Schedule) -> None:
    recipients = [u for u in (project.owner, project.supervisor) if u is not None]
    wanted = {(a.task, a.kind): a.days for a in sched.alerts()}
    now = clock.now()
    open_alerts = list(project.alerts.filter(closed_at__isnull=True))
    for alert in open_alerts:
        days = wanted.get((alert.task_key, alert.kind))
        if days is None:
            ScheduleAlert.objects.filter(pk=alert.pk).update(closed_at=now)
        elif days != alert.days:
            ScheduleAlert.objects.filter(pk=alert.pk).update(days=days)
    have = {(a.task_key, a.kind, a.recipient_id) for a in open_alerts}
    new = [ScheduleAlert(project=project, task_key=t, kind=k, days=d, recipient=u, raised_at=now)
           for (t, k), d in wanted.items() for u in recipients if (t, k, u.pk) not in have]
    ScheduleAlert.objects.bulk_create(new)


def _arm_check(project: Project) -> None:
    tomorrow = clock.localdate() + timedelta(days=1)
    due = timezone.make_aware(datetime.combine(tomorrow, time(7, 0)))
    do_arm_timer(CHECK_TIMER, f"{CHECK_TIMER}:{project.pk}:{tomorrow.isoformat()}", due, {"project_id": project.pk})


def handle_schedule_check(timer: Any) -> None:
    """The daily check (a durable timer per project and day): late starts appear as days pass."""
    project = Project.objects.select_related("village__place", "owner", "supervisor").filter(
        pk=timer.payload.get("project_id")).first()
    if project is None or project.status == ProjectStatus.COMPLETED:
        return
    with transaction.atomic():
        refresh_projection(project)
        _arm_check(project)


# --- housing: talent apartments -------------------------------------------------------------


def do_open_talent_round(village: Village, name: str, units: int, rules: dict[str, Any], *, actor: Actor,
                         seed: str | None = None) -> TalentRound:
    ensure(actor, "housing.manage", village)
    try:
        allocation.check_rules(rules)
    except allocation.RuleError:
        raise ActionError(_("资格或计分规则不正确"), field="rules") from None
    if units <= 0:
        raise ActionError(_("房源套数须大于零"), field="units")
    with transaction.atomic():
        rnd = TalentRound.objects.create(village=village, name=name, units=units, rules=rules,
                                         seed=seed or secrets.token_hex(16))
        _audit("villages.open_talent_round", rnd, village, actor, after={"units": units, "rules": rules})
    return rnd


def do_apply_talent(rnd: TalentRound, person: Person, facts: dict[str, Any], *, actor: Actor) -> TalentApplication:
    ensure(actor, "housing.manage", rnd.village)
    if rnd.status != RoundStatus.OPEN:
        raise ConflictError(_("本批次已公示，不再受理申请"))
    with transaction.atomic():
        n = TalentApplication.objects.filter(round=rnd).count() + 1
        try:
            with transaction.atomic():
                app = TalentApplication.objects.create(round=rnd, number=f"RC{rnd.pk:04d}-{n:04d}", person=person,
                                                       facts=facts, submitted_at=clock.now())
        except IntegrityError:
            raise ConflictError(_("此人已在本批次申请")) from None
        _audit("villages.apply_talent", app, rnd.village, actor, after={"number": app.number, "facts": facts})
    return app


def masked_name(name: str) -> str:
    return name[:1] + "*" * max(1, len(name) - 1)


def ranking_of(rnd: TalentRound) -> list[allocation.Ranked]:
    apps = [(a.number, a.facts) for a in rnd.applications.all()]
    return allocation.rank(rnd.rules, apps, rnd.units, rnd.seed)


def do_publish_ranking(rnd: TalentRound, *, actor: Actor) -> TalentRound:
    """Rank, allocate and publish: numbers of applications, masked names, scores, the seed."""
    ensure(actor, "housing.manage", rnd.village)
    if rnd.status == RoundStatus.PUBLISHED:
        raise ConflictError(_("本批次已公示"))
    names = {a.number: a.person.name for a in rnd.applications.select_related("person")}
    ranked = ranking_of(rnd)
    table = [{"number": r.number, "name": masked_name(names[r.number]), "eligible": r.eligible, "score": r.score,
              "rank": r.rank, "allocated": r.allocated, "failed": list(r.failed), "tie_break": r.tie_break[:12]}
             for r in ranked]
    with transaction.atomic():
        TalentRound.objects.filter(pk=rnd.pk).update(status=RoundStatus.PUBLISHED, ranking=table,
                                                     published_at=clock.now())
        rnd.refresh_from_db()
        _audit("villages.publish_ranking", rnd, rnd.village, actor,
               after={"seed": rnd.seed, "allocated": [r["number"] for r in table if r["allocated"]]})
    return rnd


# --- housing: resettlement (回迁) --------------------------------------------------------------


def do_open_resettlement_round(village: Village, name: str, site: str, method: str, *, actor: Actor,
                               seed: str | None = None) -> tuple[ResettlementRound, str]:
    """Open a selection round. For a lottery the seed is drawn now and only its SHA-256 is
    published; the seed (returned once) is revealed at the draw, which checks it."""
    ensure(actor, "housing.manage", village)
    if method not in AllocationMethod.values:
        raise ActionError(_("选房方式不正确"), field="method")
    seed = seed or secrets.token_hex(16)
    with transaction.atomic():
        rnd = ResettlementRound.objects.create(
            village=village, name=name, site=site, method=method,
            seed_hash=allocation.seed_commitment(seed) if method == AllocationMethod.LOTTERY else "")
        _audit("villages.open_resettlement_round", rnd, village, actor, after={"method": method, "seed_hash": rnd.seed_hash})
    return rnd, seed


def do_add_household(rnd: ResettlementRound, ref: str, head: Person, entitled_area: Any, entitled_units: int,
                     queue_no: int | None = None, *, actor: Actor) -> Household:
    ensure(actor, "housing.manage", rnd.village)
    if rnd.drawn_at:
        raise ConflictError(_("选房顺序已确定，不能再增加安置户"))
    if entitled_units <= 0:
        raise ActionError(_("安置套数须大于零"), field="entitled_units")
    if rnd.method == AllocationMethod.QUEUE and queue_no is None:
        raise ActionError(_("按顺序号选房须填写顺序号"), field="queue_no")
    with transaction.atomic():
        try:
            with transaction.atomic():
                hh = Household.objects.create(round=rnd, ref=ref, head=head, entitled_area=_decimal(entitled_area, "entitled_area"),
                                              entitled_units=entitled_units, queue_no=queue_no)
        except IntegrityError:
            raise ConflictError(_("安置户编号重复"), field="ref") from None
        _audit("villages.add_household", hh, rnd.village, actor,
               after={"ref": ref, "area": hh.entitled_area, "units": entitled_units})
    return hh


def do_add_units(rnd: ResettlementRound, units: Sequence[tuple[str, str, Any]], *, actor: Actor) -> int:
    ensure(actor, "housing.manage", rnd.village)
    with transaction.atomic():
        Unit.objects.bulk_create([Unit(round=rnd, building=b, number=n, area=_decimal(a, "area")) for b, n, a in units])
        _audit("villages.add_units", rnd, rnd.village, actor, after={"units": len(units)})
    return len(units)


def do_draw_order(rnd: ResettlementRound, *, seed: str = "", actor: Actor) -> ResettlementRound:
    ensure(actor, "housing.manage", rnd.village)
    if rnd.drawn_at:
        raise ConflictError(_("选房顺序已确定"))
    refs = list(rnd.households.values_list("ref", "queue_no"))
    if not refs:
        raise ActionError(_("尚无安置户"))
    if rnd.method == AllocationMethod.LOTTERY:
        if allocation.seed_commitment(seed) != rnd.seed_hash:
            raise ActionError(_("摇号种子与事先公布的校验值不符"), field="seed")
        order = allocation.lottery_order(seed, [r for r, _q in refs])
    else:
        order = allocation.queue_order({r: q or 0 for r, q in refs})
    with transaction.atomic():
        ResettlementRound.objects.filter(pk=rnd.pk).update(seed=seed, order=order, drawn_at=clock.now())
        rnd.refresh_from_db()
        _audit("villages.draw_order", rnd, rnd.village, actor, after={"seed": seed, "order": order})
    return rnd


def current_turn(rnd: ResettlementRound) -> str | None:
    """The household whose turn it is: the first in the order still entitled to a unit."""
    chosen: dict[int, int] = {}
    for hh_id in Unit.objects.filter(round=rnd, household__isnull=False).values_list("household_id", flat=True):
        chosen[hh_id] = chosen.get(hh_id, 0) + 1
    households = {h.ref: h for h in rnd.households.all()}
    for ref in rnd.order:
        h = households[ref]
        if chosen.get(h.pk, 0) < h.entitled_units:
            return ref
    return None


def do_select_unit(household: Household, unit: Unit, *, actor: Actor, done: bool = False) -> Unit:
    """The household in turn picks a unit within its entitlement (count and area)."""
    rnd = household.round
    ensure(actor, "housing.manage", rnd.village)
    if not rnd.drawn_at:
        raise ConflictError(_("选房顺序尚未确定"))
    if unit.round_id != rnd.pk:
        raise ActionError(_("该房源不属于本批次"), field="unit")
    with transaction.atomic():
        if current_turn(rnd) != household.ref:
            raise ConflictError(_("尚未轮到该安置户选房"))
        taken = list(Unit.objects.filter(household=household))
        area = sum((u.area for u in taken), Decimal(0)) + unit.area
        if area > household.entitled_area:
            raise ActionError(_("所选房源面积超过安置面积"), field="unit")
        if not Unit.objects.filter(pk=unit.pk, household__isnull=True).update(household=household, selected_at=clock.now()):
            raise ConflictError(_("该房源已被选定"), field="unit")
        unit.refresh_from_db()
        _audit("villages.select_unit", unit, rnd.village, actor, after={"household": household.ref, "unit": str(unit)})
    return unit


def do_record_hand_over(unit: Unit, handed_over_on: date, keys: int = 2, note: str = "", *, actor: Actor) -> HandOver:
    ensure(actor, "housing.manage", unit.round.village)
    if unit.household_id is None:
        raise ActionError(_("该房源尚未被选定"), field="unit")
    with transaction.atomic():
        try:
            with transaction.atomic():
                ho = HandOver.objects.create(unit=unit, household_id=unit.household_id, handed_over_on=handed_over_on,
                                             keys=keys, note=note, recorded_by=_user(actor))
        except IntegrityError:
            raise ConflictError(_("该房源已交付")) from None
        _audit("villages.hand_over", ho, unit.round.village, actor, after={"unit": str(unit), "on": handed_over_on})
    return ho


# --- access control ----------------------------------------------------------------------------


def do_record_face_consent(village: Village, person: Person, notice_version: str, *, actor: Actor) -> FaceConsent:
    """The separate consent to face entry (PIPL Art. 29), recorded with the notice shown."""
    ensure(actor, "access.manage", village)
    with transaction.atomic():
        try:
            with transaction.atomic():
                consent = FaceConsent.objects.create(village=village, person=person, notice_version=notice_version,
                                                     given_at=clock.now(), recorded_by=_user(actor))
        except IntegrityError:
            raise ConflictError(_("此人已同意人脸通行")) from None
        _audit("villages.face_consent", consent, village, actor, after={"notice": notice_version})
    return consent


def do_withdraw_face_consent(consent: FaceConsent, *, actor: Actor) -> int:
    """Withdrawal is as easy as consent: the face credentials stop at once (the other ways stay)."""
    ensure(actor, "access.manage", consent.village)
    if consent.withdrawn_at:
        raise ConflictError(_("同意已撤回"))
    now = clock.now()
    with transaction.atomic():
        FaceConsent.objects.filter(pk=consent.pk).update(withdrawn_at=now)
        consent.withdrawn_at = now
        n = Credential.objects.filter(consent=consent, status=CredentialStatus.ACTIVE).update(
            status=CredentialStatus.REVOKED, revoked_at=now)
        _audit("villages.withdraw_face_consent", consent, consent.village, actor, after={"revoked": n})
    return n


def _non_face_active(village: Village, person: Person) -> int:
    return Credential.objects.filter(village=village, person=person, status=CredentialStatus.ACTIVE).exclude(
        kind=CredentialKind.FACE).count()


def do_issue_credential(village: Village, person: Person, kind: str, *, actor: Actor) -> Credential:
    ensure(actor, "access.manage", village)
    if kind not in CredentialKind.values:
        raise ActionError(_("凭证类型不正确"), field="kind")
    consent = None
    if kind == CredentialKind.FACE:
        consent = FaceConsent.objects.filter(village=village, person=person, withdrawn_at__isnull=True).first()
        if consent is None:
            raise ActionError(_("开通人脸通行须先取得本人单独同意"), field="kind", code="no_consent")
        if not _non_face_active(village, person):
            raise ActionError(_("须同时持有门禁卡、二维码或密码等非人脸通行方式"), field="kind", code="no_alternative")
    with transaction.atomic():
        cred = Credential.objects.create(village=village, person=person, kind=kind, token=secrets.token_hex(16),
                                         consent=consent, issued_at=clock.now())
        _audit("villages.issue_credential", cred, village, actor, after={"kind": kind})
    return cred


def do_revoke_credential(cred: Credential, *, actor: Actor) -> Credential:
    ensure(actor, "access.manage", cred.village)
    if cred.status != CredentialStatus.ACTIVE:
        raise ConflictError(_("凭证已注销"))
    if cred.kind != CredentialKind.FACE and _non_face_active(cred.village, cred.person) == 1 and \
            Credential.objects.filter(village=cred.village, person=cred.person, kind=CredentialKind.FACE,
                                      status=CredentialStatus.ACTIVE).exists():
        raise ActionError(_("不能注销最后一种非人脸通行方式"), code="no_alternative")
    with transaction.atomic():
        Credential.objects.filter(pk=cred.pk).update(status=CredentialStatus.REVOKED, revoked_at=clock.now())
        cred.refresh_from_db()
        _audit("villages.revoke_credential", cred, cred.village, actor, after={"kind": cred.kind})
    return cred


def do_add_deny_entry(village: Village, person: Person, *, legal_basis: str, reason: str, starts_at: datetime,
                      expires_at: datetime, notice_text: str, approver: Any, actor: Actor) -> DenyEntry:
    """An entry acts on a credential holder of this village — never on a face or a stranger."""
    ensure(actor, "access.manage", village)
    if not has_permission(approver, "access.approve", village.place.path):
        raise ActionError(_("批准人须为有权批准的督导人员"), field="approver")
    if not Credential.objects.filter(village=village, person=person).exists():
        raise ActionError(_("禁止通行名单只适用于本村门禁凭证持有人"), field="person", code="not_a_holder")
    for field, text in (("legal_basis", legal_basis), ("reason", reason), ("notice_text", notice_text)):
        if not text.strip():
            raise ActionError(_("请填写此项"), field=field)
    problem = access_rules.deny_period_error(starts_at, expires_at)
    if problem == "expires_before_start":
        raise ActionError(_("到期时间须晚于开始时间"), field="expires_at")
    if problem == "too_long":
        raise ActionError(_("期限最长%(days)s天") % {"days": access_rules.MAX_DENY_DAYS}, field="expires_at")
    with transaction.atomic():
        entry = DenyEntry.objects.create(village=village, person=person, legal_basis=legal_basis, reason=reason,
                                         approver=approver, starts_at=starts_at, expires_at=expires_at,
                                         notice_sent_at=clock.now(), notice_text=notice_text)
        _audit("villages.add_deny_entry", entry, village, actor,
               after={"legal_basis": legal_basis, "approver": approver.get_username(), "expires_at": expires_at})
    return entry


def do_contest_deny_entry(entry: DenyEntry, reason: str, *, actor: Actor) -> DenyEntry:
    ensure(actor, "access.manage", entry.village)
    if not reason.strip():
        raise ActionError(_("请填写异议理由"), field="reason")
    if entry.status != DenyStatus.ACTIVE:
        raise ConflictError(_("该记录当前不能提出异议"))
    with transaction.atomic():
        DenyEntry.objects.filter(pk=entry.pk).update(status=DenyStatus.CONTESTED, contest_reason=reason,
                                                     contested_at=clock.now())
        entry.refresh_from_db()
        _audit("villages.contest_deny_entry", entry, entry.village, actor, after={"reason": reason})
    return entry


def do_decide_contest(entry: DenyEntry, *, lift: bool, decision: str, actor: Actor) -> DenyEntry:
    ensure(actor, "access.approve", entry.village)
    if entry.status != DenyStatus.CONTESTED:
        raise ConflictError(_("该记录没有待审查的异议"))
    if not decision.strip():
        raise ActionError(_("请填写审查意见"), field="decision")
    status = DenyStatus.LIFTED if lift else DenyStatus.UPHELD
    with transaction.atomic():
        DenyEntry.objects.filter(pk=entry.pk).update(status=status, decision=decision, decided_at=clock.now())
        entry.refresh_from_db()
        _audit("villages.decide_contest", entry, entry.village, actor, after={"status": status, "decision": decision})
    return entry


@dataclass(frozen=True)
class GateAnswer:
    answer: str  # admit / ask_person / unknown
    credential: Credential | None
    entries: tuple[DenyEntry, ...]


def do_gate_lookup(gate: Gate, token: str, *, actor: Actor) -> GateAnswer:
    """What the gate does with a presented credential. Every lookup is an audit event."""
    ensure(actor, "access.gate", gate.village)
    now = clock.now()
    cred = Credential.objects.filter(token=token, village=gate.village).select_related("person").first()
    entries: tuple[DenyEntry, ...] = ()
    if cred is not None:
        entries = tuple(e for e in DenyEntry.objects.filter(village=gate.village, person=cred.person)
                        if access_rules.in_force(access_rules.DenyWindow(e.starts_at, e.expires_at, e.status), now))
    answer = access_rules.gate_answer(cred is not None and cred.status == CredentialStatus.ACTIVE, len(entries))
    with transaction.atomic():
        if answer == "admit" and cred is not None:
            GateEvent.objects.create(gate=gate, credential=cred, outcome=GateOutcome.ADMITTED, at=now)
        record_event("villages.gate_lookup", actor=actor, obj=gate, place_path=gate.village.place.path,
                     after={"credential": cred.pk if cred else None, "answer": answer,
                            "entries": [e.pk for e in entries]})
    return GateAnswer(answer, cred, entries)


def do_confirm_gate(gate: Gate, cred: Credential, *, refuse: bool, actor: Actor) -> GateEvent:
    """A person at the gate decides after a deny flag: refused entry is never the device's call."""
    ensure(actor, "access.gate", gate.village)
    if isinstance(actor, SystemActor) and actor.on_behalf_of is None:
        raise NotAllowedError(_("拒绝通行须由值守人员确认"))
    now = clock.now()
    entry = next((e for e in DenyEntry.objects.filter(village=gate.village, person=cred.person)
                  if access_rules.in_force(access_rules.DenyWindow(e.starts_at, e.expires_at, e.status), now)), None)
    if refuse and entry is None:
        raise ActionError(_("没有生效的禁止通行记录，不能拒绝"), code="no_entry")
    outcome = GateOutcome.REFUSED if refuse else GateOutcome.ADMITTED_AFTER_REVIEW
    with transaction.atomic():
        event = GateEvent.objects.create(gate=gate, credential=cred, deny_entry=entry, outcome=outcome,
                                         confirmed_by=_user(actor) or getattr(actor, "on_behalf_of", None), at=now)
        _audit("villages.confirm_gate", event, gate.village, actor, after={"outcome": outcome})
    return event


def do_create_gate(village: Village, name: str, *, actor: Actor) -> Gate:
    ensure(actor, "access.manage", village)
    with transaction.atomic():
        gate = Gate.objects.create(village=village, name=name)
        _audit("villages.create_gate", gate, village, actor, after={"name": name})
    return gate


# --- property management -----------------------------------------------------------------------

REPAIR_TIMER = "villages.repair_overdue"


def do_register_property_company(village: Village, uscc: str, name: str, *, actor: Actor) -> PropertyCompany:
    ensure(actor, "property.manage", village)
    checked = check_uscc(uscc)
    if not checked.valid:
        raise ActionError(checked.errors[0].message(get_language()), field="uscc")
    with transaction.atomic():
        company = PropertyCompany.objects.create(village=village, uscc=checked.normalized, name=name)
        _audit("villages.register_property_company", company, village, actor, after={"uscc": company.uscc})
    return company


def do_add_building(village: Village, name: str, units: int, company: PropertyCompany | None = None, *,
                    actor: Actor) -> Building:
    ensure(actor, "property.manage", village)
    if company is not None and company.village_id != village.pk:
        raise ActionError(_("物业服务企业不属于本村"), field="company")
    with transaction.atomic():
        building = Building.objects.create(village=village, name=name, units=units, company=company)
        _audit("villages.add_building", building, village, actor, after={"name": name, "units": units})
    return building


def do_file_repair(building: Building, unit_label: str, description: str, *, limit_days: int = 3,
                   person: Person | None = None, actor: Actor) -> RepairRequest:
    """A repair request: due ``limit_days`` working days after filing (core's holiday calendar;
    a year without a schedule gives a provisional date, never an error); a durable timer marks
    it overdue once the due day has ended."""
    ensure(actor, "property.manage", building.village)
    if not description.strip():
        raise ActionError(_("请描述需要维修的问题"), field="description")
    if not 1 <= limit_days <= 60:
        raise ActionError(_("维修时限须为1到60个工作日"), field="limit_days")
    today = clock.localdate()
    due = add_working_days(today, limit_days)
    with transaction.atomic():
        req = RepairRequest.objects.create(building=building, unit_label=unit_label, person=person,
                                           description=description[:2000], filed_on=today, limit_days=limit_days,
                                           due_on=due.deadline, due_provisional=due.provisional)
        end = timezone.make_aware(datetime.combine(due.deadline + timedelta(days=1), time(0, 0)))
        do_arm_timer(REPAIR_TIMER, f"{REPAIR_TIMER}:{req.pk}", end, {"repair_id": req.pk})
        _audit("villages.file_repair", req, building.village, actor, after={"due_on": req.due_on})
    return req


def handle_repair_overdue(timer: Any) -> None:
    RepairRequest.objects.filter(pk=timer.payload.get("repair_id"), status=RepairStatus.OPEN).update(
        status=RepairStatus.OVERDUE)


def do_close_repair(req: RepairRequest, *, actor: Actor) -> RepairRequest:
    ensure(actor, "property.manage", req.building.village)
    if req.status == RepairStatus.DONE:
        raise ConflictError(_("该报修已完成"))
    with transaction.atomic():
        RepairRequest.objects.filter(pk=req.pk).update(status=RepairStatus.DONE, closed_on=clock.localdate())
        req.refresh_from_db()
        _audit("villages.close_repair", req, req.building.village, actor,
               after={"on_time": req.closed_on is not None and req.closed_on <= req.due_on})
    return req


def do_bill_fee(building: Building, unit_label: str, period: str, amount: Any, *, actor: Actor) -> Fee:
    ensure(actor, "property.manage", building.village)
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", period):
        raise ActionError(_("账期格式应为 YYYY-MM"), field="period")
    with transaction.atomic():
        try:
            with transaction.atomic():
                fee = Fee.objects.create(building=building, unit_label=unit_label, period=period,
                                         amount=_decimal(amount, "amount"))
        except IntegrityError:
            raise ConflictError(_("该账期已出账"), field="period") from None
        _audit("villages.bill_fee", fee, building.village, actor, after={"period": period, "amount": fee.amount})
    return fee


def do_record_payment(fee: Fee, *, actor: Actor) -> Fee:
    ensure(actor, "property.manage", fee.building.village)
    with transaction.atomic():
        if not Fee.objects.filter(pk=fee.pk, paid_at__isnull=True).update(paid_at=clock.now()):
            raise ConflictError(_("该费用已缴清"))
        fee.refresh_from_db()
        _audit("villages.record_payment", fee, fee.building.village, actor, after={"amount": fee.amount})
    return fee
