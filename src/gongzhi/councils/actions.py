"""Every write of the councils app (DESIGN.md §2).

Each ``do_*`` function validates, writes inside one transaction, appends an audit event and
schedules side effects (live-room broadcasts) with ``transaction.on_commit``. Bad input raises a
:class:`CouncilError` subclass with a Chinese ``message`` and changes nothing.

``actor`` is a :class:`User` (checked against their roles and jurisdiction) or a string naming a
system actor (``core.actors.SystemActor``) granted ``council.manage`` — system actors are code, not people.

Who presides. A meeting with a trained moderator (议事规则主持人) is chaired by the moderator, who
is *not* a member: the engine gets the id ``mod-<Moderator.pk>``, which it accepts as chair (call
to order, recognise, state the question, call the vote, rule, adjourn) but refuses for anything a
member does — moving, seconding, debating, voting (rule ``not_member``). That is RONR's neutral
presiding officer and 南塘十三条's "the chair only runs the procedure". Without a moderator the
council's own chair (召集人, a member) presides; the profile then decides whether and when the chair
votes (RONR: only when decisive; 南塘: last) and a chair who wants to debate hands the chair over.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from gongzhi.accounts.enums import Role
from gongzhi.accounts.models import User
from gongzhi.accounts.scope import is_administrator, path_in_scope
from gongzhi.core.actors import Actor, SystemActor, system_may
from gongzhi.core.audit import record_event
from gongzhi.core.domain.masking import mask_numbers_in
from gongzhi.core.errors import ActionError, ConflictError, NotAllowedError
from gongzhi.councils import engine as eng
from gongzhi.councils.broadcast import broadcast_meeting
from gongzhi.councils.domain.codec import (
    CodecError,
    event_class,
    event_from_client,
    outcome_to_dict,
    to_jsonable,
)
from gongzhi.councils.domain.digest import minutes_digest
from gongzhi.councils.domain.roster import moderator_member_id, participant_id, roster_entry
from gongzhi.councils.enums import (
    ComplaintStatus,
    CouncilKind,
    MeetingStatus,
    MemberRole,
    MemberSector,
    MinutesStatus,
)
from gongzhi.councils.models import (
    AgendaItem,
    Council,
    CouncilMember,
    Meeting,
    MeetingEvent,
    Minutes,
    Moderator,
    ModeratorAssignment,
    NeutralityComplaint,
    RuleProfileRecord,
)
from procedure import (
    PROFILES,
    AnnounceResult,
    Arrive,
    CallToOrder,
    CastVote,
    ChairRuling,
    DeclareAdjourned,
    Event,
    HandOverChair,
    Leave,
    Move,
    Outcome,
    ProcedureError,
    ProfileError,
    ResultAnnounced,
    RulingMade,
    SessionChanged,
    VoteChoice,
    build_minutes,
    profile_from_dict,
    profile_to_dict,
)

# ------------------------------------------------------------------------------------ errors


class CouncilError(ActionError):
    code = "council"


class NotAllowed(CouncilError, NotAllowedError):
    """The actor may not do this here (role, jurisdiction, or the object's state): 403."""

    code = "not_allowed"
    status = 403


class ActionRefused(CouncilError):
    """The rules of order refuse a meeting action; nothing was stored.

    ``rule`` is the engine's stable code (``precedence``, ``speech_limit``, ``double_vote`` …),
    ``message`` (= ``message_zh``) and ``message_en`` explain it.
    """

    code = "refused"

    def __init__(self, rule: str, message_zh: str, message_en: str = "", *, field: str = "") -> None:
        # ``rule`` and ``message_en`` travel beside ``detail`` in an API answer (``error_body``).
        super().__init__(message_zh, field=field, code="refused",
                         extra={"rule": rule, "message_en": message_en or message_zh})
        self.rule = rule
        self.message_zh = message_zh
        self.message_en = message_en or message_zh


class StaleAction(CouncilError, ConflictError):
    """The client acted on an old screen: ``current_version`` is where the meeting is now (409)."""

    code = "stale"
    status = 409

    def __init__(self, current_version: int, expected_version: int | None = None) -> None:
        super().__init__(
            f"会议状态已更新（当前第{current_version}步，你基于第{expected_version}步），请刷新后重试。",
            code="stale", field="expected_version", extra={"current_version": current_version},
        )
        self.current_version = current_version
        self.expected_version = expected_version
        self.rule = "stale_version"


@dataclass(frozen=True)
class ActionResult:
    version: int
    outcomes: list[dict[str, Any]]


# ------------------------------------------------------------------------------ permissions

MANAGER_ROLES = {Role.ADMINISTRATOR, Role.COMMUNITY_WORKER}


def _is_system(actor: Actor) -> bool:
    """A system actor granted the councils (the demo loader, the console)."""
    return system_may(actor, "council.manage")


def _user_or_none(actor: Actor) -> Any:
    return None if isinstance(actor, SystemActor) else actor


def _may_manage(actor: Actor, place_path: str, roles: set[str] | None = None) -> bool:
    if _is_system(actor) or getattr(actor, "is_superuser", False):
        return True
    return path_in_scope(actor, place_path, {str(r) for r in (roles or MANAGER_ROLES)})


def _require_manage(actor: Actor, place_path: str, roles: set[str] | None = None) -> None:
    if not _may_manage(actor, place_path, roles):
        raise NotAllowed("无权管理该社区的议事会（须为辖区内的社区工作者或系统管理员）。")


def _require_admin(actor: Actor) -> None:
    if not (_is_system(actor) or is_administrator(actor)):
        raise NotAllowed("只有系统管理员可以这样做。")


def _text(value: str, name: str, label: str, max_len: int, *, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise CouncilError(f"请填写{label}。", field=name)
    if len(value) > max_len:
        raise CouncilError(f"{label}最多 {max_len} 字。", field=name)
    if "\x00" in value:
        raise CouncilError(f"{label}含有非法字符。", field=name)
    return value


# ---------------------------------------------------------------------------------- profiles

_PROFILE_FIELD_ZH = {
    "name": "名称", "seconds_required": "动议须附议", "speech_seconds": "每次发言秒数",
    "max_speeches": "每人每议题发言次数", "first_time_first": "未发言者优先",
    "alternate_stances": "正反方轮流发言", "stance_required": "发言先表明立场",
    "chair_may_debate": "主持人可参与辩论", "chair_votes": "主持人投票方式",
    "abstentions_asked": "询问弃权", "motions_need_floor": "提动议须获准发言",
    "vote_after_debate": "发言用尽后才表决", "quorum_rule": "法定人数规则", "quorum_count": "法定人数",
    "vote_by_weight": "按股份表决", "main_threshold": "主动议通过标准",
}


def resolve_profile(base: str, overrides: dict[str, Any]) -> dict[str, Any]:
    """Validate ``overrides`` on ``base`` and return the full resolved parameter dict.

    Raises :class:`CouncilError` with a Chinese message naming the parameter at fault.
    """
    if base not in PROFILES:
        raise CouncilError(f"未知的基础规则“{base}”，可选：{'、'.join(PROFILES)}。", field="base")
    if not isinstance(overrides, dict):
        raise CouncilError("规则参数应为 JSON 对象（参数名: 值）。", field="overrides")
    unknown = sorted(set(overrides) - set(_PROFILE_FIELD_ZH))
    if unknown:
        raise CouncilError(
            f"未知的规则参数：{'、'.join(str(u)[:40] for u in unknown)}。可用参数：{'、'.join(_PROFILE_FIELD_ZH)}。",
            field="overrides",
        )
    try:
        return profile_to_dict(profile_from_dict(base, overrides))
    except ProfileError as exc:
        detail = str(exc.context.get("detail", ""))
        name = detail.split(":", 1)[0].strip()
        label = _PROFILE_FIELD_ZH.get(name, "")
        prefix = f"参数“{label}”（{name}）有误：" if label else "规则参数有误："
        raise CouncilError(prefix + detail, field="overrides") from exc


@transaction.atomic
def do_create_profile(key: str, name: str, base: str, overrides: dict[str, Any], *, actor: Actor,
                      description: str = "") -> RuleProfileRecord:
    _require_admin(actor)
    key = _text(key, "key", "规则代码", 40)
    name = _text(name, "name", "规则名称", 80)
    resolve_profile(base, overrides)
    if RuleProfileRecord.objects.filter(key=key).exists():
        raise CouncilError(f"规则代码“{key}”已存在。", field="key")
    record = RuleProfileRecord.objects.create(key=key, name=name, base=base, overrides=dict(overrides),
                                              description=description)
    record_event("council.profile.create", actor=actor, obj=record,
                 after={"key": key, "base": base, "overrides": overrides})
    return record


@transaction.atomic
def do_update_profile(record: RuleProfileRecord, *, actor: Actor, name: str | None = None, base: str | None = None,
                      overrides: dict[str, Any] | None = None, description: str | None = None) -> RuleProfileRecord:
    """Change a profile. Meetings already started keep the snapshot they froze."""
    _require_admin(actor)
    before = {"name": record.name, "base": record.base, "overrides": record.overrides}
    new_base = base if base is not None else record.base
    new_overrides = overrides if overrides is not None else record.overrides
    resolve_profile(new_base, new_overrides)
    record.name = _text(name, "name", "规则名称", 80) if name is not None else record.name
    record.base, record.overrides = new_base, dict(new_overrides)
    if description is not None:
        record.description = description
    record.save()
    record_event("council.profile.update", actor=actor, obj=record, before=before,
                 after={"name": record.name, "base": record.base, "overrides": record.overrides})
    return record


# ---------------------------------------------------------------------------- councils, members


@transaction.atomic
def do_create_council(name: str, place: Any, profile: RuleProfileRecord, *, actor: Actor,
                      kind: str = CouncilKind.RESIDENTS, weighted: bool = False,
                      organisation: Any = None) -> Council:
    _require_manage(actor, place.path)
    name = _council_fields(name, kind, weighted)
    council = Council.objects.create(name=name, place=place, profile=profile, kind=kind, weighted=weighted,
                                     organisation=organisation)
    record_event("council.create", actor=actor, obj=council, place_path=place.path,
                 after={"name": name, "kind": kind, "profile": profile.key, "weighted": weighted})
    return council


@transaction.atomic
def do_add_member(council: Council, display_name: str, *, actor: Actor, user: Any = None,
                  role: str = MemberRole.MEMBER, sector: str = MemberSector.RESIDENT, weight: int = 1,
                  term_start: date | None = None, term_end: date | None = None) -> CouncilMember:
    _require_manage(actor, council.place.path)
    display_name = _member_fields(council, display_name, role, sector, weight)
    term_start = term_start or timezone.localdate()
    if term_end is not None and term_end <= term_start:
        raise CouncilError("任期结束日须晚于开始日。", field="term_end")
    if user is not None and _active_members(council).filter(user=user).exists():
        raise CouncilError("该用户已是本议事会的在任成员。", field="user")
    member = CouncilMember.objects.create(council=council, user=user, display_name=display_name, role=role,
                                          sector=sector, weight=weight, term_start=term_start, term_end=term_end)
    record_event("council.member.add", actor=actor, obj=member, place_path=council.place.path,
                 after={"council": council.pk, "name": display_name, "role": role, "weight": weight})
    return member


def _council_fields(name: str, kind: str, weighted: bool) -> str:
    name = _text(name, "name", "议事会名称", 120)
    if kind not in CouncilKind.values:
        raise CouncilError("议事会类型无效。", field="kind")
    if weighted and kind != CouncilKind.SHAREHOLDERS:
        raise CouncilError("只有股东大会按股份表决。", field="weighted")
    return name


# Marks a keyword left out (None is a value: "no organisation", "no user").
_KEEP: Any = object()


@transaction.atomic
def do_update_council(council: Council, *, actor: Actor, name: str | None = None, place: Any = None,
                      profile: RuleProfileRecord | None = None, kind: str | None = None,
                      weighted: bool | None = None, organisation: Any = _KEEP,
                      active: bool | None = None) -> Council:
    """Change a council's settings. Meetings already started keep the roster and rules they froze;
    moving a council to another place needs authority over both places."""
    row = Council.objects.select_for_update(of=("self",)).select_related("place").get(pk=council.pk)
    _require_manage(actor, row.place.path)
    if place is not None and place.pk != row.place_id:
        _require_manage(actor, place.path)
    before = {"name": row.name, "place": row.place_id, "profile": row.profile_id, "kind": row.kind,
              "weighted": row.weighted, "organisation": row.organisation_id, "active": row.active}
    new_kind = kind if kind is not None else row.kind
    new_weighted = weighted if weighted is not None else row.weighted
    row.name = _council_fields(name if name is not None else row.name, new_kind, new_weighted)
    if new_weighted != row.weighted and CouncilMember.objects.filter(council=row).exclude(weight=1).exists():
        raise CouncilError("已有成员按股份计票，不能改为一人一票。", field="weighted")
    row.kind, row.weighted = new_kind, new_weighted
    if place is not None:
        row.place = place
    if profile is not None:
        row.profile = profile
    if organisation is not _KEEP:
        row.organisation = organisation
    if active is not None:
        row.active = bool(active)
    row.save()
    after = {"name": row.name, "place": row.place_id, "profile": row.profile_id, "kind": row.kind,
             "weighted": row.weighted, "organisation": row.organisation_id, "active": row.active}
    record_event("council.update", actor=actor, obj=row, place_path=row.place.path,
                 before={k: v for k, v in before.items() if after[k] != v},
                 after={k: v for k, v in after.items() if before[k] != v})
    council.refresh_from_db()
    return row


def _member_fields(council: Council, display_name: str, role: str, sector: str, weight: Any) -> str:
    display_name = _text(display_name, "display_name", "成员姓名", 60)
    if role not in MemberRole.values:
        raise CouncilError("成员角色无效。", field="role")
    if sector not in MemberSector.values:
        raise CouncilError("成员界别无效。", field="sector")
    if isinstance(weight, bool) or not isinstance(weight, int) or weight < 1:
        raise CouncilError("表决权数至少为 1。", field="weight")
    if weight != 1 and not council.weighted:
        raise CouncilError("本议事会一人一票，表决权数只能为 1。", field="weight")
    return display_name


@transaction.atomic
def do_update_member(member: CouncilMember, *, actor: Actor, display_name: str | None = None,
                     role: str | None = None, sector: str | None = None, weight: int | None = None,
                     user: Any = _KEEP) -> CouncilMember:
    """Correct a member's record (name, role, sector, weight, account). Ending a term is
    :func:`do_end_membership`; meetings already started keep the roster they froze."""
    row = CouncilMember.objects.select_for_update(of=("self",)).select_related("council__place").get(pk=member.pk)
    council = row.council
    _require_manage(actor, council.place.path)
    before = {"display_name": row.display_name, "role": row.role, "sector": row.sector, "weight": row.weight,
              "user": row.user_id}
    row.display_name = _member_fields(
        council, display_name if display_name is not None else row.display_name, role or row.role,
        sector or row.sector, weight if weight is not None else row.weight)
    row.role, row.sector = role or row.role, sector or row.sector
    row.weight = weight if weight is not None else row.weight
    if user is not _KEEP and getattr(user, "pk", None) != row.user_id:
        if user is not None and _active_members(council).filter(user=user).exclude(pk=row.pk).exists():
            raise CouncilError("该用户已是本议事会的在任成员。", field="user")
        row.user = user
    row.save()
    after = {"display_name": row.display_name, "role": row.role, "sector": row.sector, "weight": row.weight,
             "user": row.user_id}
    record_event("council.member.update", actor=actor, obj=row, place_path=council.place.path,
                 before={k: v for k, v in before.items() if after[k] != v},
                 after={k: v for k, v in after.items() if before[k] != v})
    member.refresh_from_db()
    return row


def _active_members(council: Council, on: date | None = None) -> Any:
    from django.db.models import Q

    on = on or timezone.localdate()
    return council.members.filter(term_start__lte=on).filter(Q(term_end__isnull=True) | Q(term_end__gt=on))


@transaction.atomic
def do_end_membership(member: CouncilMember, *, actor: Actor, on: date | None = None) -> CouncilMember:
    """End a member's term on ``on`` (default today): they drop out of meetings started after
    it; the rosters of meetings already held keep them."""
    member = CouncilMember.objects.select_for_update(of=("self",)).select_related("council__place").get(pk=member.pk)
    _require_manage(actor, member.council.place.path)
    on = on or timezone.localdate()
    if member.term_end is not None and member.term_end <= on:
        raise CouncilError("该成员的任期已经结束。", field="term_end")
    if on < member.term_start:
        raise CouncilError("结束日期不能早于任期开始。", field="term_end")
    member.term_end = on
    member.save(update_fields=["term_end"])
    record_event("council.member.end", actor=actor, obj=member,
                 place_path=member.council.place.path, after={"term_end": on.isoformat()})
    return member


# ------------------------------------------------------------------------------- moderators


@transaction.atomic
def do_register_moderator(user: Any, place: Any, *, actor: Actor, display_name: str = "", training_hours: int = 0,
                          trained_on: date | None = None, certificate_no: str = "",
                          certified_on: date | None = None) -> Moderator:
    """Enter a trained rules moderator in the register (or update their training record)."""
    _require_manage(actor, place.path)
    certificate_no = _moderator_fields(training_hours, certificate_no, certified_on)
    display_name = _text(display_name or getattr(user, "display_name", "") or user.get_username(),
                         "display_name", "主持人姓名", 60)
    moderator, created = Moderator.objects.get_or_create(
        user=user, defaults={"display_name": display_name, "place": place},
    )
    before = None if created else {"training_hours": moderator.training_hours, "certificate_no": moderator.certificate_no}
    moderator.display_name, moderator.place = display_name, place
    moderator.training_hours, moderator.trained_on = training_hours, trained_on
    moderator.certificate_no, moderator.certified_on, moderator.active = certificate_no, certified_on, True
    moderator.save()
    record_event("council.moderator.register", actor=actor, obj=moderator, place_path=place.path,
                 before=before, after={"user": user.pk, "training_hours": training_hours,
                                       "certificate_no": certificate_no})
    return moderator


def _moderator_fields(training_hours: Any, certificate_no: str, certified_on: date | None) -> str:
    if isinstance(training_hours, bool) or not isinstance(training_hours, int) or not 0 <= training_hours <= 2000:
        raise CouncilError("培训学时应为 0 至 2000 之间的整数。", field="training_hours")
    certificate_no = _text(certificate_no, "certificate_no", "证书编号", 40, required=False)
    if certificate_no and certified_on is None:
        raise CouncilError("有证书编号时请填写发证日期。", field="certified_on")
    return certificate_no


@transaction.atomic
def do_update_moderator(moderator: Moderator, *, actor: Actor, display_name: str, place: Any, training_hours: int,
                        trained_on: date | None, certificate_no: str, certified_on: date | None,
                        active: bool) -> Moderator:
    """Correct a moderator's register entry, or stop (``active=False``) / resume them. A stopped
    moderator is not given new meetings; meetings they chaired keep their record."""
    row = Moderator.objects.select_for_update(of=("self",)).select_related("place").get(pk=moderator.pk)
    _require_manage(actor, row.place.path)
    if place.pk != row.place_id:
        _require_manage(actor, place.path)
    certificate_no = _moderator_fields(training_hours, certificate_no, certified_on)
    fields = {"display_name": _text(display_name, "display_name", "主持人姓名", 60), "place_id": place.pk,
              "training_hours": training_hours, "trained_on": trained_on, "certificate_no": certificate_no,
              "certified_on": certified_on, "active": bool(active)}
    before = {k: getattr(row, k) for k in fields}
    for k, v in fields.items():
        setattr(row, k, v)
    row.save()
    changed = [k for k in fields if before[k] != fields[k]]
    record_event("council.moderator.update", actor=actor, obj=row, place_path=place.path,
                 before={k: before[k] for k in changed}, after={k: fields[k] for k in changed})
    moderator.refresh_from_db()
    return row


@transaction.atomic
def do_end_assignment(assignment: ModeratorAssignment, end: date, *, actor: Actor) -> ModeratorAssignment:
    """Set (or bring forward) the day a moderator's assignment to a council ends."""
    row = ModeratorAssignment.objects.select_for_update(of=("self",)).select_related("council__place").get(pk=assignment.pk)
    _require_manage(actor, row.council.place.path)
    if not isinstance(end, date):
        raise CouncilError("请填写结束日期。", field="end")
    if end <= row.start:
        raise CouncilError("结束日须晚于开始日。", field="end")
    before = row.end
    row.end = end
    row.save(update_fields=["end"])
    record_event("council.moderator.assignment.end", actor=actor, obj=row.council,
                 place_path=row.council.place.path,
                 after={"moderator": row.moderator_id, "end": end.isoformat(),
                        "was": before.isoformat() if before else None})
    assignment.refresh_from_db()
    return row


@transaction.atomic
def do_assign_moderator(moderator: Moderator, council: Council, *, actor: Actor, start: date | None = None,
                        end: date | None = None) -> ModeratorAssignment:
    _require_manage(actor, council.place.path)
    if not moderator.active:
        raise CouncilError("该主持人已停用。", field="moderator")
    if not moderator.certificate_no:
        # Only trained, certified moderators chair under the rules (Luohu trained 83 of them).
        raise CouncilError("该主持人尚未取得议事规则主持人证书。", field="moderator")
    start = start or timezone.localdate()
    if end is not None and end <= start:
        raise CouncilError("结束日须晚于开始日。", field="end")
    assignment = ModeratorAssignment.objects.create(moderator=moderator, council=council, start=start, end=end)
    record_event("council.moderator.assign", actor=actor, obj=council, place_path=council.place.path,
                 after={"moderator": moderator.pk, "start": start.isoformat()})
    return assignment


@transaction.atomic
def do_file_neutrality_complaint(moderator: Moderator, text: str, *, actor: Actor,
                                 meeting: Meeting | None = None) -> NeutralityComplaint:
    """Any member of a council the moderator chaired (or staff) may complain of partiality."""
    text = _text(text, "text", "投诉内容", 4000)
    if not isinstance(actor, User):
        raise NotAllowed("投诉须由具体的人提出。")
    if meeting is not None and meeting.moderator_id != moderator.pk:
        raise CouncilError("该会议不是由这位主持人主持的。", field="meeting")
    complaint = NeutralityComplaint.objects.create(moderator=moderator, meeting=meeting, filed_by=actor,
                                                   filed_at=timezone.now(), text=text)
    record_event("council.complaint.file", actor=actor, obj=complaint, place_path=moderator.place.path,
                 after={"moderator": moderator.pk, "meeting": meeting.pk if meeting else None})
    return complaint


@transaction.atomic
def do_resolve_complaint(complaint: NeutralityComplaint, status: str, resolution: str, *,
                         actor: Actor) -> NeutralityComplaint:
    _require_manage(actor, complaint.moderator.place.path)
    if complaint.status != ComplaintStatus.OPEN:
        raise CouncilError("该投诉已处理。", field="status")
    if status not in (ComplaintStatus.UPHELD, ComplaintStatus.DISMISSED):
        raise CouncilError("处理结果应为“成立”或“不成立”。", field="status")
    complaint.status, complaint.resolution = status, _text(resolution, "resolution", "处理意见", 4000)
    complaint.save(update_fields=["status", "resolution"])
    record_event("council.complaint.resolve", actor=actor, obj=complaint,
                 place_path=complaint.moderator.place.path, after={"status": status})
    return complaint


# -------------------------------------------------------------------------------- meetings


@transaction.atomic
def do_schedule_meeting(council: Council, title: str, scheduled_at: datetime, *, actor: Actor,
                        agenda: list[str | tuple[str, str]] = (),  # type: ignore[assignment]
                        location: str = "", moderator: Moderator | None = None, secretary: Any = None,
                        in_person: bool = False) -> Meeting:
    _require_manage(actor, council.place.path, MANAGER_ROLES | {Role.COUNCIL_MODERATOR})
    title = _text(title, "title", "会议名称", 160)
    location = _text(location, "location", "地点", 160, required=False)
    if scheduled_at.tzinfo is None:
        raise CouncilError("会议时间须带时区。", field="scheduled_at")
    if not council.active:
        raise CouncilError("该议事会已停用。", field="council")
    if moderator is not None and not moderator.active:
        raise CouncilError("该主持人已停用。", field="moderator")
    meeting = Meeting.objects.create(council=council, title=title, scheduled_at=scheduled_at, location=location,
                                     moderator=moderator, secretary=secretary, in_person=in_person)
    for i, item in enumerate(agenda, 1):
        item_title, description = (item, "") if isinstance(item, str) else item
        AgendaItem.objects.create(meeting=meeting, order=i, title=_text(item_title, "agenda", "议程", 200),
                                  description=description)
    record_event("council.meeting.schedule", actor=actor, obj=meeting,
                 place_path=council.place.path,
                 after={"title": title, "scheduled_at": scheduled_at, "agenda": [a.title for a in meeting.agenda.all()]})
    return meeting


def _require_not_started(meeting: Meeting) -> None:
    if meeting.status not in (MeetingStatus.SCHEDULED, MeetingStatus.NOTICED):
        raise CouncilError("会议已经开始或已经结束，其安排不能再改。", field="status")


@transaction.atomic
def do_update_meeting(meeting: Meeting, *, actor: Actor, title: str, scheduled_at: datetime, location: str = "",
                      moderator: Moderator | None = None, secretary: Any = None,
                      in_person: bool = False) -> Meeting:
    """Change a meeting's arrangements before it starts (then its record is frozen)."""
    row = Meeting.objects.select_for_update(of=("self",)).select_related("council__place").get(pk=meeting.pk)
    _require_manage(actor, row.council.place.path, MANAGER_ROLES | {Role.COUNCIL_MODERATOR})
    _require_not_started(row)
    title = _text(title, "title", "会议名称", 160)
    location = _text(location, "location", "地点", 160, required=False)
    if scheduled_at is None or scheduled_at.tzinfo is None:
        raise CouncilError("会议时间须带时区。", field="scheduled_at")
    if moderator is not None and moderator.pk != row.moderator_id and not moderator.active:
        raise CouncilError("该主持人已停用。", field="moderator")
    fields = {"title": title, "scheduled_at": scheduled_at, "location": location,
              "moderator_id": moderator.pk if moderator else None,
              "secretary_id": secretary.pk if secretary else None, "in_person": bool(in_person)}
    before = {k: getattr(row, k) for k in fields}
    for k, v in fields.items():
        setattr(row, k, v)
    row.save(update_fields=[k.removesuffix("_id") for k in fields])
    changed = [k for k in fields if before[k] != fields[k]]
    record_event("council.meeting.update", actor=actor, obj=row, place_path=row.council.place.path,
                 before={k: before[k] for k in changed}, after={k: fields[k] for k in changed})
    meeting.refresh_from_db()
    return row


@transaction.atomic
def do_set_agenda(meeting: Meeting, items: list[tuple[str, str]], *, actor: Actor) -> Meeting:
    """Replace the agenda of a meeting that has not started (in the order given)."""
    row = Meeting.objects.select_for_update(of=("self",)).select_related("council__place").get(pk=meeting.pk)
    _require_manage(actor, row.council.place.path, MANAGER_ROLES | {Role.COUNCIL_MODERATOR})
    _require_not_started(row)
    clean = [(_text(t, "agenda", "议程", 200), _text(d, "agenda", "议程说明", 4000, required=False))
             for t, d in items]
    before = list(row.agenda.values_list("title", flat=True))
    row.agenda.all().delete()
    AgendaItem.objects.bulk_create(
        [AgendaItem(meeting=row, order=i, title=t, description=d) for i, (t, d) in enumerate(clean, 1)])
    record_event("council.meeting.agenda", actor=actor, obj=row, place_path=row.council.place.path,
                 before={"agenda": before}, after={"agenda": [t for t, _d in clean]})
    return row


@transaction.atomic
def do_send_notice(meeting: Meeting, *, actor: Actor) -> Meeting:
    """Give notice of the meeting to every member in office.

    Each member with an account and a phone on record gets a text message through the accounts
    outbox (sent by the worker); ``notice_sent_at`` and an audit event name every recipient and
    whether a message was queued (the proof of due notice a later challenge asks for). Members
    without a phone on record see the notice on their meeting list only.
    """
    from gongzhi.accounts.actions import queue_user_message

    _require_manage(actor, meeting.council.place.path, MANAGER_ROLES | {Role.COUNCIL_MODERATOR})
    if meeting.status not in (MeetingStatus.SCHEDULED, MeetingStatus.NOTICED):
        raise CouncilError("会议已开始或已结束，不能再发通知。", field="status")
    members = list(_active_members(meeting.council).select_related("user"))
    if not members:
        raise CouncilError("议事会没有在任成员。", field="council")
    when = timezone.localtime(meeting.scheduled_at).strftime("%Y-%m-%d %H:%M")
    agenda = "；".join(meeting.agenda.values_list("title", flat=True))
    subject = f"议事会会议通知：{meeting.title}"
    body = (f"{meeting.council.name}定于{when}在{meeting.location or '（地点另行通知）'}召开“{meeting.title}”。"
            + (f"议程：{agenda}。" if agenda else "") + "请准时出席。")
    delivered = [m.pk for m in members if m.user is not None and queue_user_message(m.user, subject, body)]
    meeting.notice_sent_at = timezone.now()
    meeting.status = MeetingStatus.NOTICED
    meeting.save(update_fields=["notice_sent_at", "status"])
    record_event("council.meeting.notice", actor=actor, obj=meeting,
                 place_path=meeting.council.place.path,
                 after={"recipients": [m.pk for m in members], "messaged": delivered,
                        "scheduled_at": meeting.scheduled_at})
    return meeting


def _presiding(meeting: Meeting) -> tuple[str, dict[str, Any]]:
    if meeting.moderator is not None:
        mod = meeting.moderator
        return moderator_member_id(mod.pk), {"id": moderator_member_id(mod.pk), "name": mod.display_name,
                                          "user_id": mod.user_id, "weight": 0, "voting": False,
                                          "role": "moderator", "sector": ""}
    chair = _active_members(meeting.council, timezone.localdate()).filter(role=MemberRole.CHAIR).first()
    if chair is None:
        raise CouncilError("会议没有主持人：请指派议事规则主持人，或为议事会设主席/召集人。", field="moderator")
    return str(chair.pk), {}


def presides(meeting: Meeting, user: Any) -> bool:
    """Whether ``user`` is the presiding officer of ``meeting`` — the one rule, used by the
    actions, the pages, the API and the sockets alike.

    With a trained moderator it is the moderator. Without one it is the member in the chair: once
    the meeting is in session the engine's chair (after a hand-over, whoever holds it now), before
    that the council's chair in office, who will call the meeting to order.
    """
    if _is_system(user):
        return True
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if meeting.moderator_id is not None:
        return bool(meeting.moderator is not None and meeting.moderator.user_id == user.pk)
    if meeting.roster:
        member = participant_id(meeting, user)
        if member is None:
            return False
        with eng.meeting_lock(meeting.pk):
            # A cached engine ahead of this (possibly older) row is the newer truth; only when
            # the process has none as recent is the log replayed.
            engine = eng.cached(meeting.pk)
            if engine is None or engine.version < meeting.version:
                engine = eng.engine_at(meeting)
            return bool(engine.chair == member)
    return bool(_active_members(meeting.council).filter(user=user, role=MemberRole.CHAIR).exists())


def meeting_roles(meeting: Meeting, user: Any) -> frozenset[str]:
    """Who runs this meeting — the one rule behind the console, recording for members, the
    minutes' approval buttons and the server's checks of all three.

    ``"chair"``: the presiding officer (``presides``). ``"secretary"``: the meeting's recorder
    (记录员) — the secretary named when it was scheduled, or else the council's secretary in the
    frozen roster.
    """
    if _is_system(user):
        return frozenset({"chair", "secretary"})
    uid = getattr(user, "pk", None) if getattr(user, "is_authenticated", False) else None
    if uid is None:
        return frozenset()
    roles = set()
    if meeting.secretary_id is not None:
        if meeting.secretary_id == uid:
            roles.add("secretary")
    elif any(r.get("user_id") == uid and r.get("role") == MemberRole.SECRETARY for r in meeting.roster or []):
        roles.add("secretary")
    if presides(meeting, user):
        roles.add("chair")
    return frozenset(roles)


def runs_meeting(meeting: Meeting, user: Any) -> bool:
    """Whether ``user``'s console runs the room (moderator console, recording for members who
    have no phone, minutes): the presiding officer and the meeting's recorder (``meeting_roles``)."""
    return bool(meeting_roles(meeting, user))


def _may_start(meeting: Meeting, actor: Actor) -> bool:
    return _may_manage(actor, meeting.council.place.path) or presides(meeting, actor)


def do_start_meeting(meeting: Meeting, *, actor: Actor, at: datetime | None = None) -> ActionResult:
    """Freeze roster and rules, open the session: the presiding officer calls to order."""
    if not _may_start(meeting, actor):
        raise NotAllowed("只有本次会议的主持人、议事会召集人或社区工作者可以宣布开会。")
    with eng.meeting_lock(meeting.pk), transaction.atomic():
        row = Meeting.objects.select_for_update(of=("self",)).select_related("council__profile", "moderator").get(pk=meeting.pk)
        if row.status not in (MeetingStatus.SCHEDULED, MeetingStatus.NOTICED):
            raise CouncilError("会议已经开始或已经结束。", field="status")
        members = list(_active_members(row.council, timezone.localdate()))
        if not members:
            raise CouncilError("议事会没有在任成员。", field="council")
        chair_id, chair_entry = _presiding(row)
        roster = ([chair_entry] if chair_entry else []) + [
            {"id": str(m.pk), "name": m.display_name, "user_id": m.user_id, "weight": m.weight, "voting": True,
             "role": m.role, "sector": m.sector}
            for m in members
        ]
        profile = resolve_profile(row.council.profile.base, row.council.profile.overrides)
        profile["name"] = row.council.profile.key
        if row.council.weighted:
            profile["vote_by_weight"] = True  # a shareholders' meeting votes by shares whatever the base says
        row.roster, row.profile_snapshot = roster, profile
        # The orders of the day, frozen like the roster: the engine keeps main motions to the item
        # before the meeting, and a later edit of the agenda must not change how the log replays.
        row.agenda_snapshot = [a.title for a in row.agenda.all()]
        row.status = MeetingStatus.IN_SESSION
        row.save(update_fields=["roster", "profile_snapshot", "agenda_snapshot", "status"])
        record_event("council.meeting.start", actor=actor, obj=row,
                     place_path=row.council.place.path,
                     after={"chair": chair_id, "members": len(members), "profile": profile})
        eng.forget(row.pk)
        result = _apply(row, CallToOrder, {"type": "call_to_order"}, member_id=chair_id, actor_user=_user_or_none(actor),
                        recorded_by=None, at=at)
    meeting.refresh_from_db()
    return result


# ------------------------------------------------------------------------- the meeting room


def do_record_attendance(meeting: Meeting, member_id: str, *, actor: Actor, present: bool = True,
                         expected_version: int | None = None) -> ActionResult:
    """Sign a member in (``Arrive``) or out (``Leave``) — by themselves or by the moderator at the door."""
    action = {"type": "arrive" if present else "leave"}
    acting = participant_id(meeting, actor)
    if acting == member_id:
        return do_apply_meeting_action(meeting, action, actor=actor, expected_version=expected_version)
    return do_apply_meeting_action(meeting, action, actor=actor, expected_version=expected_version,
                                   on_behalf_of=member_id)


def do_apply_meeting_action(meeting: Meeting, action: dict[str, Any], *, actor: Actor,
                            expected_version: int | None = None, on_behalf_of: str | None = None,
                            at: datetime | None = None) -> ActionResult:
    """Apply one action from the room (a member's phone, the moderator's console, the API).

    ``action`` is ``{"type": "move", "kind": "main", "text": "…"}`` and so on (see
    ``domain/codec.py``). The server fills in who acts (the member id of ``actor``, or of
    ``on_behalf_of`` when the moderator records for a member in the room) and when (the server's
    clock; ``at`` exists only for importing a paper meeting and the demo, never from a client).

    Raises :class:`StaleAction` when ``expected_version`` is not the meeting's version, and
    :class:`ActionRefused` (rule + messages) when the rules of order refuse; either way nothing is
    stored. On success one ``MeetingEvent`` is appended, ``Meeting.version`` bumped, significant
    events audited, and the room told after commit.
    """
    if meeting.status != MeetingStatus.IN_SESSION:
        raise ActionRefused("not_in_session", "会议不在进行中。", "The meeting is not in session.")
    if isinstance(action, dict):
        # A personal number typed into a motion or a reason would reach every screen in the
        # room, the socket frames and the published minutes: it is masked before the engine
        # sees it (core.domain.masking, the rule application forms use).
        action = {k: mask_numbers_in(v) if isinstance(v, str) else v for k, v in action.items()}
    acting_id = participant_id(meeting, actor)
    try:
        cls = event_class(action.get("type") if isinstance(action, dict) else None)
    except CodecError as exc:
        raise ActionRefused("invalid", exc.message, field=exc.field) from exc
    recorded_by = None
    actor_user = _user_or_none(actor)
    if on_behalf_of is not None:
        member_id = str(on_behalf_of)
        entry = roster_entry(meeting.roster, member_id)
        if entry is None or not entry.get("voting", True):
            raise ActionRefused("not_member", f"{member_id}不是本会成员。", f"{member_id} is not a member.")
        if not (meeting.in_person or cls in (Arrive, Leave)):
            raise ActionRefused("not_in_person", "只有现场模式下才能代成员记录操作。",
                                "Recording for a member is only possible in in-person mode.")
        if not runs_meeting(meeting, actor):
            raise ActionRefused("not_chair", "只有主持人或记录员可以代成员记录。",
                                "Only the chair or the secretary may record for a member.")
        recorded_by = actor_user
        actor_user = _user_model_or_none(entry.get("user_id"))
    else:
        if acting_id is None:
            raise ActionRefused("not_member", "你不是本次会议的成员或主持人。",
                                "You are not a member or the chair of this meeting.")
        member_id = acting_id
    with eng.meeting_lock(meeting.pk):
        return _apply(meeting, cls, action, member_id=member_id, actor_user=actor_user, recorded_by=recorded_by,
                      at=at, expected_version=expected_version)


def do_record_ballot_box(meeting: Meeting, *, ayes: Any, noes: Any, abstentions: Any = 0,
                         actor: Actor) -> ActionResult:
    """Tellers (计票人: the chair or the recorder) enter a counted paper secret-ballot box.

    A paper ballot box holds choices, not names; the roll of who voted is the list of members
    who deposited a ballot — every present member who has not voted on a phone (a blank ballot
    counts as an abstention). The counts must add up to that number. Each ballot is recorded as
    one vote of the open secret ballot, the choices dealt to the roll in a random order: the
    engine keeps a secret ballot's choices apart from its voters, so the result, the minutes and
    a recount come from the totals entered, and nothing ties a member to a choice. Nothing is
    stored unless every ballot is accepted.
    """
    if not runs_meeting(meeting, actor):
        raise NotAllowed("只有主持人或记录员（计票人）可以录入票箱清点结果。")
    counts: dict[str, int] = {}
    for key, value, label in (("aye", ayes, "赞成票"), ("no", noes, "反对票"), ("abstain", abstentions, "弃权票")):
        try:
            number = int(value or 0)
        except (TypeError, ValueError):
            raise CouncilError(f"{label}数应为整数。", field=key) from None
        if not 0 <= number <= 100_000:
            raise CouncilError(f"{label}数应在 0 到 100000 之间。", field=key)
        counts[key] = number
    recorder = _user_or_none(actor)
    with eng.meeting_lock(meeting.pk):
        row = Meeting.objects.select_related("council__place").get(pk=meeting.pk)
        if row.status != MeetingStatus.IN_SESSION:
            raise ActionRefused("not_in_session", "会议不在进行中。", "The meeting is not in session.")
        engine = eng.engine_at(row)
        if not eng.is_secret_ballot_open(engine) or engine.ballot is None:
            raise CouncilError("现在没有进行中的无记名投票。", field="ballot")
        if row.council.weighted:
            raise CouncilError("按股份表决的会议，票箱须逐张录入（每张票的股份不同）。", field="ballot")
        now = timezone.now()
        voted = set(engine.ballot.voters)
        roll = [m for m in sorted(engine.present) if m not in voted
                and engine.is_legal(CastVote(actor=m, at=max(now, engine.last_at or now), choice=VoteChoice.AYE))]
        total = sum(counts.values())
        if not roll:
            raise CouncilError("出席成员都已投票，没有需要录入的纸质选票。", field="ayes")
        if total != len(roll):
            raise CouncilError(f"清点票数合计 {total} 张，与尚未投票的出席成员 {len(roll)} 人不符"
                               "（空白票计入弃权）。", field="ayes")
        choices = ["aye"] * counts["aye"] + ["no"] * counts["no"] + ["abstain"] * counts["abstain"]
        secrets.SystemRandom().shuffle(choices)
        result = ActionResult(version=row.version, outcomes=[])
        try:
            with transaction.atomic():
                for member_id, choice in zip(roll, choices, strict=True):
                    entry = roster_entry(row.roster, member_id) or {}
                    result = _apply(row, CastVote, {"type": "cast_vote", "choice": choice}, member_id=member_id,
                                    actor_user=_user_model_or_none(entry.get("user_id")), recorded_by=recorder,
                                    at=None)
                    row.refresh_from_db()
                record_event("council.meeting.ballot_box", actor=recorder, obj=row, place_path=row.council.place.path,
                             after={"meeting": row.pk, "ballots": total, **counts})
        except BaseException:
            eng.forget(meeting.pk)  # the cached engine may have run ahead of what was stored
            raise
    meeting.refresh_from_db()
    return result


def _user_model_or_none(user_id: Any) -> Any:
    if not user_id:
        return None
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(pk=user_id).first()


_SIGNIFICANT = (Move, CastVote, AnnounceResult, ChairRuling, DeclareAdjourned, CallToOrder, HandOverChair)


def _apply(meeting: Meeting, cls: type[Event], action: dict[str, Any], *, member_id: str, actor_user: Any,
           recorded_by: Any, at: datetime | None, expected_version: int | None = None) -> ActionResult:
    """Push one event and store it. Caller holds ``eng.meeting_lock(meeting.pk)``."""
    pushed = False
    try:
        with transaction.atomic():
            row = Meeting.objects.select_for_update(of=("self",)).select_related("council__place").get(pk=meeting.pk)
            if row.status != MeetingStatus.IN_SESSION:
                raise ActionRefused("not_in_session", "会议不在进行中。", "The meeting is not in session.")
            if expected_version is not None and expected_version != row.version:
                raise StaleAction(row.version, expected_version)
            engine = eng.engine_at(row)
            if engine.version != row.version:
                raise StaleAction(row.version, expected_version)
            now = at or timezone.now()
            if engine.last_at is not None and now < engine.last_at:
                # Another process's clock ran slightly ahead; the log must not go backwards.
                now = engine.last_at
            body = {k: v for k, v in action.items() if k != "type"}
            body["type"] = cls.__name__
            try:
                event = event_from_client(body, actor=member_id, at=now)
            except CodecError as exc:
                raise ActionRefused("invalid", exc.message, field=exc.field) from exc
            secret = eng.is_secret_ballot_open(engine)
            try:
                outcomes = engine.push(event)
            except ProcedureError as exc:
                raise ActionRefused(exc.rule, exc.message_zh, exc.message_en) from exc
            pushed = True
            seq = row.version + 1
            # The engine's log entry, not the event sent: a secret vote is stored as a roll entry
            # (who voted), its choice only as a slip in the ballot box (naming nobody).
            MeetingEvent.objects.create(
                meeting=row, seq=seq, kind=cls.__name__, payload=eng.payload_for(engine.log[-1]),
                actor=actor_user, recorded_by=recorded_by, created_at=now,
            )
            if secret or eng.is_secret_ballot_open(engine):
                eng.store_ballot_box(row, engine, seq)
            status = row.status
            if any(isinstance(o, SessionChanged) and o.session == "adjourned" for o in outcomes):
                status = MeetingStatus.ADJOURNED
            if Meeting.objects.filter(pk=row.pk, version=row.version).update(version=seq, status=status) != 1:
                raise StaleAction(row.version + 1, expected_version)
            out = [outcome_to_dict(o) for o in outcomes]
            if isinstance(event, _SIGNIFICANT) or status != row.status:
                _audit(row, event, outcomes, secret, actor_user, recorded_by, seq)
            transaction.on_commit(lambda: broadcast_meeting(row.pk, seq, out))
    except IntegrityError:
        # Another process stored this seq first (only possible without row locks): resync.
        eng.forget(meeting.pk)
        current = Meeting.objects.filter(pk=meeting.pk).values_list("version", flat=True).first() or 0
        raise StaleAction(current, expected_version) from None
    except BaseException:
        if pushed:
            eng.forget(meeting.pk)  # the cached engine ran ahead of what was stored
        raise
    eng.remember(row.pk, engine)
    row.version, row.status = seq, status
    meeting.version, meeting.status = seq, status
    # The state a client shows is built in one place (``room.snapshot``), not here.
    return ActionResult(version=seq, outcomes=out)


def _audit(meeting: Meeting, event: Event, outcomes: tuple[Outcome, ...], secret: bool, actor_user: Any,
           recorded_by: Any, seq: int) -> None:
    base: dict[str, Any] = {"meeting": meeting.pk, "seq": seq, "member": event.actor}
    if recorded_by is not None:
        base["recorded_by"] = recorded_by.pk
    verb = "council.meeting.event"
    if isinstance(event, Move):
        verb = "council.meeting.motion"
        base.update(kind=event.kind.value, text=event.text)
    elif isinstance(event, CastVote):
        verb = "council.meeting.vote"
        # A secret ballot: who voted is public, how is not — never in the audit chain.
        base.update(secret=secret) if secret or event.choice is None else base.update(choice=event.choice.value)
    elif isinstance(event, AnnounceResult):
        verb = "council.meeting.result"
        for o in outcomes:
            if isinstance(o, ResultAnnounced):
                base.update(motion=o.motion_id, status=o.status.value, result=to_jsonable(o.result))
    elif isinstance(event, ChairRuling):
        verb = "council.meeting.ruling"
        base.update(well_taken=event.well_taken, text=event.text,
                    motion=next((o.motion_id for o in outcomes if isinstance(o, RulingMade)), None))
    elif isinstance(event, CallToOrder):
        verb = "council.meeting.call_to_order"
    elif isinstance(event, HandOverChair):
        verb = "council.meeting.chair"
        base.update(to=event.to)
    if any(isinstance(o, SessionChanged) and o.session == "adjourned" for o in outcomes):
        record_event("council.meeting.adjourn", actor=actor_user, obj=meeting, place_path=meeting.council.place.path,
                     after={"meeting": meeting.pk, "seq": seq})
        if isinstance(event, DeclareAdjourned):
            return
    record_event(verb, actor=actor_user, obj=meeting, place_path=meeting.council.place.path, after=base)


# ----------------------------------------------------------------------------------- minutes


def minutes_content(meeting: Meeting) -> dict[str, Any]:
    """The minutes record: header facts plus the engine's minutes of the replayed log."""
    engine = eng.rebuild(meeting)
    record = to_jsonable(build_minutes(engine))
    council = meeting.council
    return {
        "format": 1,
        "meeting": {
            "id": meeting.pk, "title": meeting.title, "council": council.name, "council_kind": council.kind,
            "place": council.place.name, "location": meeting.location,
            "scheduled_at": meeting.scheduled_at.isoformat(), "in_person": meeting.in_person,
            "notice_sent_at": meeting.notice_sent_at.isoformat() if meeting.notice_sent_at else None,
            "weighted": council.weighted, "events": meeting.version,
        },
        "agenda": [a.title for a in meeting.agenda.all()],
        "names": {str(r["id"]): r["name"] for r in meeting.roster or []},
        "profile": meeting.profile_snapshot,
        "profile_name": council.profile.name,  # the rules' display name, for readers (not the key)
        # Decisions of earlier meetings this one could name (rescind, amend something previously
        # adopted): by wording and meeting, so the minutes never show an id like ``mtg12-m11``.
        "prior": prior_labels(engine),
        "record": record,
    }


def prior_labels(engine: Any) -> dict[str, str]:
    """``mtg<pk>-<motion>`` → "「wording」（meeting title，date）" for the earlier meetings' decisions."""
    earlier = eng.earlier_meetings(engine)
    out: dict[str, str] = {}
    for d in engine.decided.values():
        pk = eng.prior_meeting_pk(d.motion_id)
        if pk is not None:
            where = earlier.get(pk)
            out[d.motion_id] = f"「{d.text or '—'}」（{where}）" if where else f"「{d.text or '—'}」"
    return out


def may_generate_minutes(meeting: Meeting, actor: Actor) -> bool:
    """The meeting's chair or recorder, or a community worker of the place."""
    return _may_manage(actor, meeting.council.place.path) or runs_meeting(meeting, actor)


@transaction.atomic
def do_generate_minutes(meeting: Meeting, *, actor: Actor) -> Minutes:
    """Fold the event log into minutes (draft). Regenerating resets approvals; approved minutes
    are final."""
    if not may_generate_minutes(meeting, actor):
        raise NotAllowed("只有会议主持人、记录员或社区工作者可以生成纪要。")
    row = Meeting.objects.select_for_update(of=("self",)).select_related("council__place").get(pk=meeting.pk)
    if row.status != MeetingStatus.ADJOURNED:
        raise CouncilError("会议散会后才能生成纪要。", field="status")
    content = minutes_content(row)
    digest = minutes_digest(content)
    existing = Minutes.objects.select_for_update().filter(meeting=row).first()
    if existing is not None and existing.status == MinutesStatus.APPROVED:
        raise CouncilError("纪要已批准公开，不能重新生成。", field="status")
    minutes = existing or Minutes(meeting=row)
    minutes.content, minutes.digest, minutes.generated_at = content, digest, timezone.now()
    minutes.status = MinutesStatus.DRAFT
    minutes.chair_approved_by = minutes.secretary_approved_by = None
    minutes.chair_approved_at = minutes.secretary_approved_at = None
    minutes.published_at = None
    minutes.save()
    record_event("council.minutes.generate", actor=actor, obj=minutes,
                 place_path=row.council.place.path, after={"meeting": row.pk, "digest": digest})
    return minutes


def _may_approve(minutes: Minutes, actor: Actor, as_role: str) -> bool:
    return as_role in meeting_roles(minutes.meeting, actor)


def minutes_approvals_open(minutes: Minutes, user: Any) -> list[str]:
    """The approvals ``user`` may still give (``chair``/``secretary``): the minutes page offers
    exactly these buttons, and ``do_approve_minutes`` accepts exactly these."""
    if minutes.status == MinutesStatus.APPROVED:
        return []
    done = {"chair": minutes.chair_approved_at is not None, "secretary": minutes.secretary_approved_at is not None}
    roles = meeting_roles(minutes.meeting, user)
    return [r for r in ("chair", "secretary") if r in roles and not done[r]]


@transaction.atomic
def do_approve_minutes(minutes: Minutes, *, actor: Actor, as_role: str = "chair") -> Minutes:
    """Approve as chair or secretary; with both, the minutes are published and their digest sealed
    into the audit chain (``council.minutes.publish``)."""
    if as_role not in ("chair", "secretary"):
        raise CouncilError("批准身份应为主持人（chair）或记录员（secretary）。", field="as_role")
    row = Minutes.objects.select_for_update(of=("self",)).select_related("meeting__council__place", "meeting__moderator").get(
        pk=minutes.pk)
    if not _may_approve(row, actor, as_role):
        raise NotAllowed("只有本次会议的主持人或记录员可以批准纪要。" if as_role == "chair" else "只有本次会议的记录员可以批准纪要。")
    if row.status == MinutesStatus.APPROVED:
        raise CouncilError("纪要已经批准公开。", field="status")
    if minutes_digest(row.content) != row.digest:
        raise CouncilError("纪要内容与生成时的摘要不符，请重新生成后再批准。", field="content")
    now = timezone.now()
    user = _user_or_none(actor)
    if as_role == "chair":
        if row.chair_approved_at is not None:
            raise CouncilError("主持人已经批准过。", field="as_role")
        row.chair_approved_by, row.chair_approved_at = user, now
    else:
        if row.secretary_approved_at is not None:
            raise CouncilError("记录员已经批准过。", field="as_role")
        row.secretary_approved_by, row.secretary_approved_at = user, now
    place_path = row.meeting.council.place.path
    record_event("council.minutes.approve", actor=user, obj=row, place_path=place_path,
                 after={"as": as_role, "digest": row.digest})
    if row.chair_approved_at is not None and row.secretary_approved_at is not None:
        row.status, row.published_at = MinutesStatus.APPROVED, now
        record_event("minutes.publish", actor=user, obj=row, place_path=place_path,
                     after={"meeting": row.meeting_id, "digest": row.digest})
    row.save()
    minutes.refresh_from_db()
    return row
