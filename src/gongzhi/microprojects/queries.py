"""Every read of the micro-projects app.

Public (no user): a project's page and a community's list show what residents may know —
titles, costs, screening reasons, the council's outcome and minutes, funding, progress,
spending, acceptance and ratings; a proposer is shown by surname only. The office console
reads through ``proposals_for_user`` (the user's jurisdiction, ``microproject.manage``) and
``access_proposal`` raises 404 outside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from gongzhi.accounts.permissions import role_names
from gongzhi.accounts.scope import scope_q
from gongzhi.core.models import AuditEvent
from gongzhi.councils.models import Meeting
from gongzhi.microprojects.actions import may_manage
from gongzhi.microprojects.enums import CouncilOutcome, ProposalStatus
from gongzhi.microprojects.models import CommunityBudget, FundingList, Proposal

DECIDED = (ProposalStatus.ADOPTED, ProposalStatus.VOTED_DOWN, ProposalStatus.FUNDED, ProposalStatus.UNFUNDED,
           ProposalStatus.ACCEPTED)


def masked_name(name: str) -> str:
    """A proposer's name on public pages: the surname and stars (陈**)."""
    name = (name or "").strip()
    return (name[:1] + "*" * max(len(name) - 1, 1)) if name else "—"


# ------------------------------------------------------------------------------------ public


def public_proposals(place: Any = None, year: int | None = None) -> QuerySet[Proposal]:
    qs = Proposal.objects.select_related("place").annotate(n_supports=Count("supports", distinct=True))
    if place is not None:
        qs = qs.filter(place=place)
    if year is not None:
        qs = qs.filter(year=year)
    return qs.order_by("-year", "-created_at", "-id")


def public_proposal(proposal_id: int) -> Proposal:
    row = Proposal.objects.select_related("place", "meeting", "minutes", "merged_into").filter(pk=proposal_id).first()
    if row is None:
        raise Http404("没有找到该项目")
    return row


def communities_with_projects() -> list[dict[str, Any]]:
    rows = (Proposal.objects.values("place_id", "place__name", "place__code").annotate(n=Count("id"))
            .order_by("place__name"))
    return [{"id": r["place_id"], "name": r["place__name"], "code": r["place__code"], "count": r["n"]} for r in rows]


def years_of(place: Any) -> list[int]:
    return sorted(set(Proposal.objects.filter(place=place).values_list("year", flat=True)), reverse=True)


# Labels of the trail's audit verbs (the decision trail on the public page).
TRAIL_VERBS: dict[str, Any] = {
    "microproject.propose": _("居民提出项目"),
    "microproject.support": _("居民支持"),
    "microproject.comment": _("居民留言"),
    "microproject.merge": _("合并到其他项目"),
    "microproject.merge_in": _("合并重复项目"),
    "microproject.screen": _("社区资格审核"),
    "microproject.agenda": _("提交议事会"),
    "microproject.council_outcome": _("议事会表决结果"),
    "microproject.fund": _("列入年度立项清单"),
    "microproject.unfunded": _("本年度预算内未入选"),
    "microproject.implementer": _("确定实施单位"),
    "microproject.milestone": _("实施节点"),
    "microproject.spending": _("支出登记"),
    "microproject.accept": _("居民验收"),
    "microproject.rate": _("满意度评价"),
    "council.meeting.motion": _("议事会：提出动议"),
    "council.meeting.result": _("议事会：宣布表决结果"),
    "minutes.publish": _("议事会：纪要批准公开"),
}


_TRAIL_KEYS = ("reason", "status", "outcome", "text", "amount", "progress", "milestone", "funded_amount", "note",
               "implementer", "digest", "motion_text")


def _shown(key: str, value: Any) -> Any:
    """A trail value as a reader sees it: labels for codes, a short digest, a percent."""
    if key == "status" and value in ProposalStatus.values:
        return str(ProposalStatus(value).label)
    if key == "outcome" and value in CouncilOutcome.values:
        return str(CouncilOutcome(value).label)
    if key == "digest":
        return f"SHA-256 {str(value)[:12]}…"
    if key == "progress":
        return f"{value}%"
    return value


@dataclass(frozen=True)
class TrailEntry:
    at: Any
    verb: str
    label: str
    chain_seq: int | None
    hash: str
    detail: dict[str, Any]


def decision_trail(proposal: Proposal) -> list[TrailEntry]:
    """The proposal's events from the audit chain, with the council's result and the minutes'
    publication for its meeting. Supports and comments are counted, not listed one by one."""
    q = Q(object_type="microprojects.proposal", object_id=str(proposal.pk)) & ~Q(
        verb__in=["microproject.support", "microproject.comment", "microproject.rate"])
    if proposal.meeting_id:
        q |= Q(object_type="councils.meeting", object_id=str(proposal.meeting_id), verb="council.meeting.result")
    if proposal.minutes_id:
        q |= Q(object_type="councils.minutes", object_id=str(proposal.minutes_id), verb="minutes.publish")
    out = []
    for e in AuditEvent.objects.filter(q).order_by("created_at", "id"):
        after = e.after if isinstance(e.after, dict) else {}
        detail = {k: _shown(k, v) for k, v in after.items() if v not in (None, "") and k in _TRAIL_KEYS}
        out.append(TrailEntry(e.created_at, e.verb, str(TRAIL_VERBS.get(e.verb, e.verb)), e.chain_seq,
                              (e.hash or "")[:12], detail))
    return out


@dataclass(frozen=True)
class Figures:
    place_id: int
    year: int
    proposals: int
    participants: int
    decided: int
    adopted: int
    adoption_rate: float | None
    funded: Decimal
    spent: Decimal
    accepted: int
    on_time: int
    on_time_rate: float | None
    satisfaction: float | None


def figures(place: Any, year: int) -> Figures:
    """Proposals, participation, adoption rate, money spent, on-time delivery for one
    community and year (aggregates only: public)."""
    qs = Proposal.objects.filter(place=place, year=year)
    people: set[int] = set(qs.values_list("proposer_id", flat=True))
    for rel, field in (("supports", "supports__user_id"), ("comments", "comments__author_id"),
                       ("ratings", "ratings__user_id")):
        people |= {u for u in qs.filter(**{f"{rel}__isnull": False}).values_list(field, flat=True) if u}
    council = qs.exclude(outcome="")
    decided = council.count()
    adopted = council.filter(outcome__in=[CouncilOutcome.ADOPTED, CouncilOutcome.AMENDED]).count()
    accepted = qs.filter(status=ProposalStatus.ACCEPTED)
    on_time = sum(1 for p in accepted if p.due_on is None or (p.accepted_at and p.accepted_at.date() <= p.due_on))
    stars = qs.aggregate(s=Sum("ratings__stars"), n=Count("ratings"))
    return Figures(
        place_id=place.pk, year=year, proposals=qs.exclude(status=ProposalStatus.MERGED).count(),
        participants=len(people), decided=decided, adopted=adopted,
        adoption_rate=(adopted / decided) if decided else None,
        funded=_yuan(qs.aggregate(s=Sum("funded_amount"))["s"]),
        spent=_yuan(qs.aggregate(s=Sum("spending__amount"))["s"]),
        accepted=accepted.count(), on_time=on_time,
        on_time_rate=(on_time / accepted.count()) if accepted.count() else None,
        satisfaction=(stars["s"] / stars["n"]) if stars["n"] else None,
    )


def _yuan(value: Any) -> Decimal:
    return Decimal(value or 0).quantize(Decimal("0.01"))


def funding_list(place: Any, year: int) -> FundingList | None:
    return FundingList.objects.filter(place=place, year=year).prefetch_related("chosen").first()


def budget(place: Any, year: int) -> CommunityBudget | None:
    return CommunityBudget.objects.filter(place=place, year=year).first()


# ---------------------------------------------------------------------------- office console


def proposals_for_user(user: Any) -> QuerySet[Proposal]:
    qs = Proposal.objects.select_related("place")
    if getattr(user, "is_superuser", False):
        return qs.all()
    return qs.filter(scope_q(user, "place__path", role_names("microproject.manage")))


def access_proposal(user: Any, proposal_id: int) -> Proposal:
    row = proposals_for_user(user).filter(pk=proposal_id).first()
    if row is None:
        raise Http404("没有找到该项目")
    return row


def managed_places(user: Any) -> list[Any]:
    """The communities the user's office covers (for the console)."""
    from gongzhi.places.models import Place

    qs = Place.objects.filter(kind="community", valid_to__isnull=True)
    if not getattr(user, "is_superuser", False):
        qs = qs.filter(scope_q(user, "path", role_names("microproject.manage")))
    return list(qs.order_by("path")[:200])


def access_place(user: Any, place_id: int) -> Any:
    from gongzhi.places.models import Place

    place = Place.objects.filter(pk=place_id, kind="community").first()
    if place is None or not may_manage(user, place.path):
        raise Http404("没有找到该社区")
    return place


def open_meetings(place: Any) -> QuerySet[Meeting]:
    """Meetings of the community's councils that have not started (an agenda can still grow)."""
    return (Meeting.objects.filter(council__place__path__in=_ancestors(place.path), status__in=["scheduled", "noticed"])
            .select_related("council").order_by("scheduled_at"))


def adjourned_meetings(place: Any) -> QuerySet[Meeting]:
    return Meeting.objects.filter(council__place=place, status="adjourned").order_by("-scheduled_at")


def _ancestors(path: str) -> list[str]:
    parts = [p for p in path.split("/") if p]
    return ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]
