"""``/api/v1/microprojects``: 民生微实事.

Public (no token): a community's proposals and figures, one proposal with its decision trail.
Residents (session or token): propose, support. The community office: screen. Errors have the
platform's one shape; bad input is 422 with the field, nothing stored.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from django.http import Http404, HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field

from gongzhi.microprojects import actions, queries
from gongzhi.microprojects.models import Proposal

router = Router(tags=["microprojects"])
DbId = Annotated[int, Field(ge=1, le=2**31 - 1)]


class MicroProposalOut(Schema):
    id: int
    number: str
    community: str
    year: int
    title: str
    description: str
    location: str
    lat: Decimal | None
    lng: Decimal | None
    estimated_cost: Decimal
    status: str
    supporters: int
    screening_reason: str
    outcome: str
    outcome_text: str
    meeting: int | None
    funded_amount: Decimal | None
    progress: int
    spent: Decimal
    merged_into: int | None


class MicroTrailOut(Schema):
    at: datetime
    verb: str
    label: str
    chain_seq: int | None
    hash: str


class MicroProposalDetailOut(MicroProposalOut):
    trail: list[MicroTrailOut]


class MicroFiguresOut(Schema):
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


class MicroYearQuery(Schema):
    year: int | None = Field(None, ge=2000, le=2100)


class MicroProposeIn(Schema):
    community: str = Field(max_length=40, description="社区代码")
    title: str = Field(max_length=120)
    description: str = Field(max_length=4000)
    reason: str = Field("", max_length=4000)
    location: str = Field("", max_length=160)
    lat: Decimal | None = None
    lng: Decimal | None = None
    estimated_cost: str = Field(max_length=20, description="估算费用（元），如 12000.50")


class MicroScreenIn(Schema):
    eligible: bool
    reason: str = Field("", max_length=2000)


def _out(p: Proposal) -> dict[str, Any]:
    return {
        "id": p.pk, "number": p.number, "community": p.place.name, "year": p.year, "title": p.title,
        "description": p.description, "location": p.location, "lat": p.lat, "lng": p.lng,
        "estimated_cost": p.estimated_cost, "status": p.status, "supporters": p.supports.count(),
        "screening_reason": p.screening_reason, "outcome": p.outcome, "outcome_text": p.outcome_text,
        "meeting": p.meeting_id, "funded_amount": p.funded_amount, "progress": p.progress,
        "spent": actions.spent(p), "merged_into": p.merged_into_id,
    }


def _community(code: str) -> Any:
    from gongzhi.places.models import Place

    place = Place.objects.filter(code=code, kind="community").first()
    if place is None:
        raise Http404("没有找到该社区")
    return place


def _year(q: MicroYearQuery) -> int:
    from django.utils import timezone

    return q.year or timezone.localdate().year


@router.get("/communities/{code}/proposals", response=list[MicroProposalOut], auth=None, summary="社区的民生微实事项目（公开）")
def list_proposals(request: HttpRequest, code: str, q: Query[MicroYearQuery]) -> list[dict[str, Any]]:
    place = _community(code)
    return [_out(p) for p in queries.public_proposals(place, _year(q))[:500]]


@router.get("/communities/{code}/figures", response=MicroFiguresOut, auth=None, summary="社区民生微实事年度数据（公开）")
def community_figures(request: HttpRequest, code: str, q: Query[MicroYearQuery]) -> queries.Figures:
    return queries.figures(_community(code), _year(q))


@router.get("/proposals/{proposal_id}", response=MicroProposalDetailOut, auth=None, summary="项目全过程与决策记录（公开）")
def proposal_detail(request: HttpRequest, proposal_id: DbId) -> dict[str, Any]:
    p = queries.public_proposal(proposal_id)
    trail = [{"at": e.at, "verb": e.verb, "label": e.label, "chain_seq": e.chain_seq, "hash": e.hash}
             for e in queries.decision_trail(p)]
    return {**_out(p), "trail": trail}


@router.post("/proposals", response={201: MicroProposalOut}, summary="居民提出项目（本人所在社区）")
def propose(request: HttpRequest, payload: MicroProposeIn) -> Status:
    try:
        place = _community(payload.community)
    except Http404:
        raise actions.MicroError("没有找到该社区（社区代码有误）。", field="community") from None
    p = actions.do_propose(place, actor=request.user, title=payload.title, description=payload.description,
                           reason=payload.reason, location=payload.location, lat=payload.lat, lng=payload.lng,
                           estimated_cost=payload.estimated_cost)
    return Status(201, _out(p))


@router.post("/proposals/{proposal_id}/support", response=MicroProposalOut, summary="支持项目（本社区居民）")
def support(request: HttpRequest, proposal_id: DbId) -> dict[str, Any]:
    p = queries.public_proposal(proposal_id)
    actions.do_support(p, actor=request.user)
    return _out(queries.public_proposal(proposal_id))


@router.post("/proposals/{proposal_id}/screen", response=MicroProposalOut, summary="资格审核（社区办公室）")
def screen(request: HttpRequest, proposal_id: DbId, payload: MicroScreenIn) -> dict[str, Any]:
    p = queries.access_proposal(request.user, proposal_id)
    actions.do_screen_proposal(p, actor=request.user, eligible=payload.eligible, reason=payload.reason)
    return _out(queries.public_proposal(proposal_id))
