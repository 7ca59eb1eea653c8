"""Every write of the micro-projects app (DESIGN.md §2).

Each ``do_*`` validates first, writes inside one transaction and appends an audit event; bad
input raises :class:`MicroError` (a Chinese message naming the field) and stores nothing.

The council's part goes through the councils app's public actions only: an eligible proposal
is put on a meeting's agenda with ``councils.actions.do_set_agenda``; the outcome is read from
the meeting's *stored* minutes (``Minutes.content``, generated from the event log), never from
the engine's internals.
"""

from __future__ import annotations

import secrets
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from gongzhi.accounts.permissions import role_names
from gongzhi.accounts.scope import active_assignments, path_in_scope
from gongzhi.core.actors import Actor, SystemActor, system_may
from gongzhi.core.audit import record_event
from gongzhi.core.errors import ActionError, ConflictError, NotAllowedError
from gongzhi.core.files import PRIVATE_FILE_MODE, private_dir
from gongzhi.councils import actions as council_actions
from gongzhi.councils.enums import MeetingStatus
from gongzhi.councils.models import AgendaItem, Meeting, Minutes
from gongzhi.microprojects.domain.funding import Candidate, choose
from gongzhi.microprojects.enums import CouncilOutcome, FundingMethod, ProposalStatus
from gongzhi.microprojects.models import (
    Comment,
    CommunityBudget,
    FundingList,
    Milestone,
    Proposal,
    ProposalPhoto,
    Rating,
    Spending,
    Support,
)

# Without a budget row for the year, one project may cost at most this (yuan).
DEFAULT_CEILING = Decimal("500000.00")
PHOTO_TYPES = {"image/jpeg": b"\xff\xd8\xff", "image/png": b"\x89PNG\r\n\x1a\n"}
PHOTO_MAX_BYTES = 5 * 1024 * 1024
PHOTO_MAX_COUNT = 4
_CENT = Decimal("0.01")


class MicroError(ActionError):
    pass


class NotAllowed(MicroError, NotAllowedError):
    pass


class Conflict(MicroError, ConflictError):
    pass


# ---------------------------------------------------------------------------------- helpers


def _user(actor: Actor) -> Any:
    return None if isinstance(actor, SystemActor) else actor


def _require_resident(actor: Actor) -> Any:
    if isinstance(actor, SystemActor) or not getattr(actor, "is_authenticated", False):
        raise NotAllowed("请先登录。")
    return actor


def home_paths(user: Any) -> list[str]:
    """Where a resident lives: their person record's home and the places of their resident role."""
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    paths = [ra.place.path for ra in active_assignments(user) if ra.role == "resident"]
    person = getattr(user, "person", None)
    if person is not None and person.home_place_id:
        paths.append(person.home_place.path)
    return paths


def lives_in(user: Any, place: Any) -> bool:
    return any(p.startswith(place.path) for p in home_paths(user))


def may_manage(actor: Actor, place_path: str) -> bool:
    if isinstance(actor, SystemActor):
        return system_may(actor, "microproject.manage")
    if getattr(actor, "is_superuser", False):
        return True
    return path_in_scope(actor, place_path, role_names("microproject.manage"))


def _require_manage(actor: Actor, place: Any) -> None:
    if not may_manage(actor, place.path):
        raise NotAllowed("只有本社区的社区工作者或系统管理员可以办理。")


def _text(value: Any, field: str, label: str, max_len: int, *, required: bool = True) -> str:
    value = str(value or "").strip()
    if required and not value:
        raise MicroError(f"请填写{label}。", field=field)
    if len(value) > max_len:
        raise MicroError(f"{label}最多 {max_len} 字。", field=field)
    if "\x00" in value:
        raise MicroError(f"{label}含有非法字符。", field=field)
    return value


def parse_money(value: Any, field: str, label: str) -> Decimal:
    """Yuan with at most two decimals, > 0 (never a float)."""
    if isinstance(value, float):
        value = repr(value)
    text = str(value if value is not None else "").strip().replace(",", "").replace("，", "")
    text = text.removesuffix("元").strip()
    if not text:
        raise MicroError(f"请填写{label}。", field=field)
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise MicroError(f"{label}须为数字（元），例如 12000 或 12000.50。", field=field) from None
    if not amount.is_finite():
        raise MicroError(f"{label}须为数字（元），例如 12000 或 12000.50。", field=field)
    if amount <= 0:
        raise MicroError(f"{label}须大于零。", field=field)
    if amount != amount.quantize(_CENT):
        raise MicroError(f"{label}最多保留两位小数（分）。", field=field)
    if amount >= Decimal("10000000000"):
        raise MicroError(f"{label}过大。", field=field)
    return amount.quantize(_CENT)


def _coord(value: Any, field: str, low: int, high: int) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        d = Decimal(str(value).strip())
    except InvalidOperation:
        raise MicroError("地图位置须为数字坐标。", field=field) from None
    if not d.is_finite() or not (low <= d <= high):
        raise MicroError("地图位置超出范围。", field=field)
    return d.quantize(Decimal("0.000001"))


def budget_for(place: Any, year: int) -> CommunityBudget | None:
    return CommunityBudget.objects.filter(place=place, year=year).first()


def ceiling_for(place: Any, year: int) -> Decimal:
    budget = budget_for(place, year)
    return budget.ceiling if budget is not None else DEFAULT_CEILING


def _audit(verb: str, proposal: Proposal, actor: Actor, *, before: Any = None, after: Any = None) -> None:
    record_event(f"microproject.{verb}", actor=actor, obj=proposal, place_path=proposal.place.path,
                 before=before, after=after)


def _locked(proposal: Proposal) -> Proposal:
    return Proposal.objects.select_for_update(of=("self",)).select_related("place").get(pk=proposal.pk)


def _sniff(upload: Any) -> tuple[str, bytes]:
    data = upload.read(PHOTO_MAX_BYTES + 1)
    if len(data) > PHOTO_MAX_BYTES:
        raise MicroError("每张照片不能超过 5 MB。", field="photos")
    for content_type, magic in PHOTO_TYPES.items():
        if data.startswith(magic):
            return content_type, data
    raise MicroError("照片须为 JPEG 或 PNG 图片。", field="photos")


def photo_dir() -> Path:
    return private_dir(Path(settings.VAR_DIR) / "microprojects")


def photo_path(photo: ProposalPhoto) -> Path:
    return photo_dir() / photo.stored_name


# -------------------------------------------------------------------------------- proposals


RETRY_WINDOW = timedelta(minutes=10)  # how long an identical resubmission counts as a retry


def do_propose(place: Any, *, actor: Actor, title: str, description: str, estimated_cost: Any,
               reason: str = "", location: str = "", lat: Any = None, lng: Any = None,
               photos: list[Any] | None = None, year: int | None = None) -> Proposal:
    """A resident proposes a project for their own community (by their one number)."""
    user = _require_resident(actor)
    if getattr(place, "kind", "") != "community":
        raise MicroError("请选择一个社区。", field="place")
    if not lives_in(user, place):
        raise NotAllowed("只能为本人所在社区提出民生微实事项目。", field="place")
    year = year or timezone.localdate().year
    title = _text(title, "title", "项目名称", 120)
    description = _text(description, "description", "项目内容", 4000)
    reason = _text(reason, "reason", "理由", 4000, required=False)
    location = _text(location, "location", "地点", 160, required=False)
    cost = parse_money(estimated_cost, "estimated_cost", "估算费用")
    ceiling = ceiling_for(place, year)
    if cost > ceiling:
        raise MicroError(f"估算费用超过单个项目上限 {ceiling} 元。", field="estimated_cost")
    lat_d, lng_d = _coord(lat, "lat", -90, 90), _coord(lng, "lng", -180, 180)
    if (lat_d is None) != (lng_d is None):
        raise MicroError("地图位置须同时有经度和纬度。", field="lat")
    photos = list(photos or [])
    if len(photos) > PHOTO_MAX_COUNT:
        raise MicroError(f"最多上传 {PHOTO_MAX_COUNT} 张照片。", field="photos")
    sniffed = [_sniff(p) for p in photos]  # every check before anything is written
    written: list[Path] = []
    try:
        with transaction.atomic():
            # A retry (a double tap, a resent form, a repeated API call) is the same proposal: the
            # same resident proposing the same words at the same cost within minutes gets the one
            # already stored, not a second one.
            same = (Proposal.objects.select_for_update()
                    .filter(proposer=user, place=place, year=year, title=title, description=description,
                            estimated_cost=cost, created_at__gte=timezone.now() - RETRY_WINDOW)
                    .order_by("pk").first())
            if same is not None:
                return same
            proposal = Proposal.objects.create(
                place=place, year=year, proposer=user, proposer_name=(user.display_name or user.username)[:60],
                title=title, description=description, reason=reason, location=location, lat=lat_d, lng=lng_d,
                estimated_cost=cost, created_at=timezone.now())
            for content_type, data in sniffed:
                name = secrets.token_hex(16)
                path = photo_dir() / name
                with open(path, "xb") as fh:
                    fh.write(data)
                path.chmod(PRIVATE_FILE_MODE)
                written.append(path)
                ProposalPhoto.objects.create(proposal=proposal, stored_name=name, content_type=content_type,
                                             size=len(data), uploaded_by=user, uploaded_at=timezone.now())
            _audit("propose", proposal, actor, after={"title": title, "cost": cost, "year": year,
                                                      "photos": len(sniffed)})
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    return proposal


def _open_for_residents(proposal: Proposal) -> None:
    if proposal.status == ProposalStatus.MERGED:
        raise Conflict("该项目已合并到另一个项目，请支持合并后的项目。", field="proposal")


@transaction.atomic
def do_support(proposal: Proposal, *, actor: Actor) -> Support:
    user = _require_resident(actor)
    row = _locked(proposal)
    _open_for_residents(row)
    if row.status not in (ProposalStatus.PROPOSED, ProposalStatus.ELIGIBLE, ProposalStatus.ON_AGENDA):
        raise Conflict("该项目已进入决定阶段，不再征集支持。", field="proposal")
    if not lives_in(user, row.place):
        raise NotAllowed("只能支持本人所在社区的项目。", field="proposal")
    if Support.objects.filter(proposal=row, user=user).exists():
        raise Conflict("您已经支持过这个项目。", field="proposal")
    try:
        support = Support.objects.create(proposal=row, user=user, created_at=timezone.now())
    except IntegrityError:  # a double click that raced the check above
        raise Conflict("您已经支持过这个项目。", field="proposal") from None
    _audit("support", row, actor)
    return support


@transaction.atomic
def do_comment(proposal: Proposal, text: str, *, actor: Actor) -> Comment:
    user = _require_resident(actor)
    row = _locked(proposal)
    text = _text(text, "text", "留言", 1000)
    comment = Comment.objects.create(proposal=row, author=user, author_name=(user.display_name or user.username)[:60],
                                     text=text, created_at=timezone.now())
    _audit("comment", row, actor, after={"comment": comment.pk})
    return comment


@transaction.atomic
def do_merge_proposals(duplicate: Proposal, into: Proposal, *, actor: Actor, reason: str = "") -> Proposal:
    """Merge a duplicate into another proposal of the same community and year, credit kept:
    its supporters are carried over (each once) and its proposer is credited as a co-proposer."""
    dup, target = _locked(duplicate), _locked(into)
    _require_manage(actor, target.place)
    if dup.pk == target.pk:
        raise MicroError("不能把项目合并到它自己。", field="into")
    if dup.place_id != target.place_id or dup.year != target.year:
        raise MicroError("只能合并同一社区、同一年度的项目。", field="into")
    for p in (dup, target):
        if p.status not in (ProposalStatus.PROPOSED, ProposalStatus.ELIGIBLE):
            raise Conflict(f"项目“{p.title}”已进入议事或决定阶段，不能再合并。", field="into")
    reason = _text(reason, "reason", "合并理由", 1000, required=False)
    carried = 0
    have = set(Support.objects.filter(proposal=target).values_list("user_id", flat=True))
    for s in Support.objects.filter(proposal=dup).order_by("id"):
        if s.user_id not in have and s.user_id != target.proposer_id:
            Support.objects.create(proposal=target, user_id=s.user_id, created_at=s.created_at, carried_from=dup)
            have.add(s.user_id)
            carried += 1
    # The duplicate's proposer supports the merged project and is credited as co-proposer.
    if dup.proposer_id not in have and dup.proposer_id != target.proposer_id:
        Support.objects.create(proposal=target, user_id=dup.proposer_id, created_at=dup.created_at, carried_from=dup)
        carried += 1
    if dup.proposer_id != target.proposer_id:
        target.co_proposers.add(dup.proposer_id)
    target.co_proposers.add(*dup.co_proposers.values_list("pk", flat=True))
    dup.status, dup.merged_into = ProposalStatus.MERGED, target
    dup.screening_reason = reason or f"与“{target.title}”重复，已合并。"
    dup.save(update_fields=["status", "merged_into", "screening_reason"])
    _audit("merge", dup, actor, after={"into": target.pk, "reason": dup.screening_reason})
    _audit("merge_in", target, actor, after={"from": dup.pk, "supports_carried": carried})
    return target


@transaction.atomic
def do_screen_proposal(proposal: Proposal, *, actor: Actor, eligible: bool, reason: str = "") -> Proposal:
    """The community office's eligibility check (资格审核), with a reason the proposer sees."""
    row = _locked(proposal)
    _require_manage(actor, row.place)
    if row.status not in (ProposalStatus.PROPOSED, ProposalStatus.ELIGIBLE, ProposalStatus.REJECTED):
        raise Conflict("该项目已提交议事会或已决定，不能再审核。", field="proposal")
    reason = _text(reason, "reason", "审核意见", 2000, required=not eligible)
    if eligible:
        if row.estimated_cost > ceiling_for(row.place, row.year):
            raise MicroError("估算费用超过本年度单个项目上限，不能审核通过。", field="eligible")
        funded = Proposal.objects.filter(place=row.place, title=row.title).exclude(pk=row.pk).filter(
            status__in=[ProposalStatus.FUNDED, ProposalStatus.ACCEPTED]).exists()
        if funded:
            raise MicroError("同名项目已经立项，请合并或驳回。", field="eligible")
    before = {"status": row.status}
    row.status = ProposalStatus.ELIGIBLE if eligible else ProposalStatus.REJECTED
    row.screening_reason = reason
    row.screened_by, row.screened_at = _user(actor), timezone.now()
    row.save(update_fields=["status", "screening_reason", "screened_by", "screened_at"])
    _audit("screen", row, actor, before=before, after={"status": row.status, "reason": reason})
    return row


# ---------------------------------------------------------------------------------- council


def agenda_title(proposal: Proposal) -> str:
    return f"民生微实事 {proposal.number}：{proposal.title}"[:200]


@transaction.atomic
def do_put_on_agenda(proposal: Proposal, meeting: Meeting, *, actor: Actor, motion_text: str = "") -> Proposal:
    """Put a screened-eligible proposal on a council meeting's agenda (through councils' own
    ``do_set_agenda``), with the wording the council will move."""
    row = _locked(proposal)
    _require_manage(actor, row.place)
    if row.status != ProposalStatus.ELIGIBLE:
        raise Conflict("只有通过资格审核的项目才能提交议事会表决。", field="proposal")
    if not meeting.council.place.path or not row.place.path.startswith(meeting.council.place.path):
        raise MicroError("该议事会不属于项目所在社区。", field="meeting")
    if meeting.status not in (MeetingStatus.SCHEDULED, MeetingStatus.NOTICED):
        raise MicroError("会议已经开始或已经结束，不能再增加议程。", field="meeting")
    motion_text = _text(motion_text or f"实施民生微实事项目“{row.title}”，估算费用 {row.estimated_cost} 元。",
                        "motion_text", "动议文本", 2000)
    items = [(a.title, a.description) for a in meeting.agenda.all()]
    title = agenda_title(row)
    items.append((title, f"{row.description}\n\n动议：{motion_text}"[:4000]))
    linked = list(Proposal.objects.filter(meeting=meeting).exclude(pk=row.pk))
    council_actions.do_set_agenda(meeting, items, actor=actor)
    by_title = {a.title: a for a in AgendaItem.objects.filter(meeting=meeting)}
    for other in linked:  # the agenda rows were rebuilt: point the other proposals at theirs again
        other.agenda_item = by_title.get(agenda_title(other))
        other.save(update_fields=["agenda_item"])
    row.status, row.meeting, row.agenda_item = ProposalStatus.ON_AGENDA, meeting, by_title.get(title)
    row.motion_text = motion_text
    row.save(update_fields=["status", "meeting", "agenda_item", "motion_text"])
    _audit("agenda", row, actor, after={"meeting": meeting.pk, "motion_text": motion_text})
    return row


def council_decisions(meeting: Meeting) -> list[dict[str, Any]]:
    """The main motions decided at ``meeting``, read from its stored minutes."""
    minutes = Minutes.objects.filter(meeting=meeting).first()
    if minutes is None:
        return []
    motions = (minutes.content or {}).get("record", {}).get("motions", [])
    return [m for m in motions if m.get("kind") == "main"]


def match_motion(proposal: Proposal, decisions: list[dict[str, Any]], motion_id: str = "") -> dict[str, Any] | None:
    if motion_id:
        return next((m for m in decisions if str(m.get("id")) == motion_id), None)
    for m in decisions:
        if (m.get("original_text") or "").strip() == proposal.motion_text.strip():
            return m
    return next((m for m in decisions if proposal.number in (m.get("original_text") or "")), None)


@transaction.atomic
def do_record_council_outcome(proposal: Proposal, *, actor: Actor, motion_id: str = "") -> Proposal:
    """Read the council's decision on the proposal from the meeting's minutes: adopted as
    moved, adopted as amended (the amended wording kept), or rejected."""
    row = _locked(proposal)
    _require_manage(actor, row.place)
    if row.status != ProposalStatus.ON_AGENDA or row.meeting is None:
        raise Conflict("该项目没有待记录的议事会表决。", field="proposal")
    if row.meeting.status != MeetingStatus.ADJOURNED:
        raise Conflict("会议散会并生成纪要后才能记录表决结果。", field="meeting")
    minutes = Minutes.objects.filter(meeting=row.meeting).first()
    if minutes is None:
        raise Conflict("请先生成该次会议的纪要。", field="meeting")
    motion = match_motion(row, council_decisions(row.meeting), (motion_id or "").strip())
    if motion is None:
        raise MicroError("纪要中没有找到与该项目对应的动议，请指定动议。", field="motion_id")
    status = motion.get("status")
    if status == "adopted":
        text = (motion.get("text") or "").strip()
        amended = text != (motion.get("original_text") or "").strip()
        row.outcome = CouncilOutcome.AMENDED if amended else CouncilOutcome.ADOPTED
        row.outcome_text = text
        row.status = ProposalStatus.ADOPTED
    elif status == "lost":
        row.outcome, row.outcome_text, row.status = CouncilOutcome.REJECTED, "", ProposalStatus.VOTED_DOWN
    else:
        raise Conflict("该动议尚未表决（可能被搁置、延期或撤回）。", field="motion_id")
    row.motion_id, row.minutes = str(motion.get("id")), minutes
    row.save(update_fields=["outcome", "outcome_text", "status", "motion_id", "minutes"])
    _audit("council_outcome", row, actor, after={"meeting": row.meeting_id, "motion": row.motion_id,
                                                  "outcome": row.outcome, "text": row.outcome_text,
                                                  "minutes_digest": minutes.digest})
    return row


# ---------------------------------------------------------------------------------- funding


@transaction.atomic
def do_set_budget(place: Any, year: int, *, actor: Actor, total: Any, ceiling: Any,
                  method: str = FundingMethod.KNAPSACK) -> CommunityBudget:
    _require_manage(actor, place)
    total_d = parse_money(total, "total", "年度预算")
    ceiling_d = parse_money(ceiling, "ceiling", "单个项目上限")
    if ceiling_d > total_d:
        raise MicroError("单个项目上限不能高于年度预算。", field="ceiling")
    if method not in FundingMethod.values:
        raise MicroError("遴选方式应为“预算最优组合”或“按支持数排序”。", field="method")
    if FundingList.objects.filter(place=place, year=year).exists():
        raise Conflict("该年度已确定立项清单，预算不能再改。", field="year")
    budget, _created = CommunityBudget.objects.update_or_create(
        place=place, year=year, defaults={"total": total_d, "ceiling": ceiling_d, "method": method})
    record_event("microproject.budget", actor=actor, obj=budget, place_path=place.path,
                 after={"year": year, "total": total_d, "ceiling": ceiling_d, "method": method})
    return budget


@transaction.atomic
def do_fund_year(place: Any, year: int, *, actor: Actor, method: str | None = None) -> FundingList:
    """The approving office's funding decision: the adopted projects of the year chosen within
    the budget by the configured rule; the inputs are stored so anyone can recompute it."""
    _require_manage(actor, place)
    budget = budget_for(place, year)
    if budget is None:
        raise MicroError("请先设定该社区本年度的民生微实事预算。", field="year")
    method = method or budget.method
    if method not in FundingMethod.values:
        raise MicroError("遴选方式应为“预算最优组合”或“按支持数排序”。", field="method")
    if FundingList.objects.filter(place=place, year=year).exists():
        raise Conflict("该年度的立项清单已经确定。", field="year")
    adopted = list(Proposal.objects.select_for_update().filter(place=place, year=year,
                                                                status=ProposalStatus.ADOPTED).order_by("id"))
    if not adopted:
        raise MicroError("本年度还没有议事会通过的项目。", field="year")
    # Approvals: the proposer and every supporter (a merged duplicate's proposer is a supporter).
    cands = [Candidate(p.pk, p.estimated_cost, p.supports.count() + 1) for p in adopted]
    result = choose(method, cands, budget.total)
    try:
        funding = FundingList.objects.create(
            place=place, year=year, method=method, budget=budget.total, total=result.total,
            inputs=[{"id": c.id, "cost": str(c.cost), "supporters": c.supporters} for c in cands],
            decided_by=_user(actor), decided_at=timezone.now())
    except IntegrityError:
        raise Conflict("该年度的立项清单已经确定。", field="year") from None
    for p in adopted:
        funded = p.pk in result.chosen
        p.status = ProposalStatus.FUNDED if funded else ProposalStatus.UNFUNDED
        p.funded_amount = p.estimated_cost if funded else None
        p.save(update_fields=["status", "funded_amount"])
        _audit("fund" if funded else "unfunded", p, actor, after={"year": year, "funded_amount": p.funded_amount})
    funding.chosen.set(result.chosen)
    record_event("microproject.funding_list", actor=actor, obj=funding, place_path=place.path,
                 after={"year": year, "method": method, "budget": budget.total, "total": result.total,
                        "chosen": list(result.chosen)})
    return funding


# --------------------------------------------------------------------------------- delivery


def _require_funded(row: Proposal) -> None:
    if row.status != ProposalStatus.FUNDED:
        raise Conflict("只有已立项、尚未验收的项目才能登记实施情况。", field="proposal")


@transaction.atomic
def do_assign_implementer(proposal: Proposal, implementer: str, *, actor: Actor, due_on: date | None = None) -> Proposal:
    row = _locked(proposal)
    _require_manage(actor, row.place)
    _require_funded(row)
    row.implementer = _text(implementer, "implementer", "实施单位", 120)
    row.due_on = due_on
    row.save(update_fields=["implementer", "due_on"])
    _audit("implementer", row, actor, after={"implementer": row.implementer, "due_on": due_on})
    return row


def _percent(value: Any) -> int:
    try:
        pct = int(str(value).strip())
    except (TypeError, ValueError):
        raise MicroError("进度须为 0 到 100 的整数。", field="progress") from None
    if not 0 <= pct <= 100:
        raise MicroError("进度须为 0 到 100 的整数。", field="progress")
    return pct


@transaction.atomic
def do_record_milestone(proposal: Proposal, title: str, *, actor: Actor, progress: Any, due_on: date | None = None,
                        done_on: date | None = None, note: str = "") -> Milestone:
    """A milestone (节点) with the project's progress after it."""
    row = _locked(proposal)
    _require_manage(actor, row.place)
    _require_funded(row)
    pct = _percent(progress)
    if pct < row.progress:
        raise MicroError(f"进度不能倒退（当前 {row.progress}%）。", field="progress")
    milestone = Milestone.objects.create(proposal=row, title=_text(title, "title", "节点名称", 120), due_on=due_on,
                                         done_on=done_on, progress=pct,
                                         note=_text(note, "note", "说明", 1000, required=False),
                                         recorded_at=timezone.now())
    before = row.progress
    row.progress = pct
    row.save(update_fields=["progress"])
    _audit("milestone", row, actor, before={"progress": before},
           after={"milestone": milestone.title, "progress": pct, "done_on": done_on})
    return milestone


def do_record_progress(proposal: Proposal, progress: Any, *, actor: Actor, note: str = "") -> Milestone:
    return do_record_milestone(proposal, "进度更新", actor=actor, progress=progress, note=note,
                               done_on=timezone.localdate())


def spent(proposal: Proposal) -> Decimal:
    return proposal.spending.aggregate(s=Sum("amount"))["s"] or Decimal("0.00")


@transaction.atomic
def do_record_spending(proposal: Proposal, amount: Any, description: str, *, actor: Actor,
                       spent_on: date | None = None) -> Spending:
    """A spending entry; the total may never exceed the funded amount."""
    row = _locked(proposal)
    _require_manage(actor, row.place)
    _require_funded(row)
    value = parse_money(amount, "amount", "支出金额")
    description = _text(description, "description", "支出说明", 160)
    already = spent(row)
    funded = row.funded_amount or Decimal("0.00")
    if already + value > funded:
        raise MicroError(f"支出超出立项金额：已支出 {already} 元，立项金额 {funded} 元，本次最多 {funded - already} 元。",
                         field="amount")
    entry = Spending.objects.create(proposal=row, amount=value, description=description,
                                    spent_on=spent_on or timezone.localdate(), recorded_by=_user(actor),
                                    recorded_at=timezone.now())
    _audit("spending", row, actor, after={"amount": value, "description": description, "total": already + value})
    return entry


@transaction.atomic
def do_accept_project(proposal: Proposal, *, actor: Actor, note: str = "", accepted_at: Any = None) -> Proposal:
    """The residents' acceptance check (验收), recorded by the community office."""
    row = _locked(proposal)
    _require_manage(actor, row.place)
    _require_funded(row)
    if row.progress < 100:
        raise Conflict(f"项目完成（进度 100%）后才能验收，当前 {row.progress}%。", field="proposal")
    row.status, row.accepted_at, row.accepted_by = ProposalStatus.ACCEPTED, accepted_at or timezone.now(), _user(actor)
    row.acceptance_note = _text(note, "note", "验收意见", 2000, required=False)
    row.save(update_fields=["status", "accepted_at", "accepted_by", "acceptance_note"])
    _audit("accept", row, actor, after={"note": row.acceptance_note, "spent": spent(row)})
    return row


@transaction.atomic
def do_rate_project(proposal: Proposal, stars: Any, *, actor: Actor, comment: str = "") -> Rating:
    user = _require_resident(actor)
    row = _locked(proposal)
    if row.status != ProposalStatus.ACCEPTED:
        raise Conflict("项目验收后才能评价。", field="proposal")
    if not lives_in(user, row.place):
        raise NotAllowed("只有本社区居民可以评价该项目。", field="proposal")
    try:
        n = int(str(stars).strip())
    except (TypeError, ValueError):
        raise MicroError("满意度须为 1 到 5 星。", field="stars") from None
    if not 1 <= n <= 5:
        raise MicroError("满意度须为 1 到 5 星。", field="stars")
    comment = _text(comment, "comment", "评价", 300, required=False)
    if Rating.objects.filter(proposal=row, user=user).exists():
        raise Conflict("您已经评价过这个项目。", field="stars")
    try:
        rating = Rating.objects.create(proposal=row, user=user, stars=n, comment=comment, created_at=timezone.now())
    except IntegrityError:
        raise Conflict("您已经评价过这个项目。", field="stars") from None
    _audit("rate", row, actor, after={"stars": n})
    return rating
