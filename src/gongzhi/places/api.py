"""API of the administrative tree (``/api/v1/places``).

The tree is public data, so the reads take no authentication. Merging and abolishing places are
for administrators, within their jurisdiction (a place outside it answers 404, like an unknown
code). Places are addressed by code, never by database id. Errors propagate to the one handler in
``gongzhi/api.py``.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from ninja.params.functions import Query
from pydantic import Field

from gongzhi.core.errors import NotAllowedError, NotFoundError
from gongzhi.core.schemas import ErrorOut
from gongzhi.places import queries
from gongzhi.places.actions import (
    PlanDraft,
    do_abolish_place,
    do_approve_place_plan,
    do_cancel_place_plan,
    do_draft_place_plan,
    do_merge_places,
    plan_preview,
)
from gongzhi.places.enums import PlaceKind, PlanKind
from gongzhi.places.models import Place, PlaceChange, RestructurePlan

router = Router(tags=["places"])

MAX_LIMIT = 500


class PlaceBrief(Schema):
    code: str
    name: str
    kind: str
    valid_from: date | None
    valid_to: date | None


class PlaceOut(PlaceBrief):
    kind_label: str
    name_en: str
    parent_code: str | None
    depth: int
    area_km2: Decimal | None
    lat: Decimal | None
    lng: Decimal | None


class PlacePage(Schema):
    count: int
    limit: int
    offset: int
    items: list[PlaceOut]


class NameOut(Schema):
    name: str
    valid_from: date | None
    valid_to: date | None


class ChangeOut(Schema):
    kind: str
    kind_label: str
    effective: date
    sources: list[PlaceBrief]
    targets: list[PlaceBrief]
    note: str
    document_ref: str


class PlaceDetail(PlaceOut):
    note: str
    ancestors: list[PlaceBrief]
    children: list[PlaceBrief]
    names: list[NameOut]
    predecessors: list[PlaceBrief]
    successors: list[PlaceBrief]


class LineageOut(Schema):
    place: PlaceBrief
    changes: list[ChangeOut]
    predecessors: list[PlaceBrief]
    successors: list[PlaceBrief]
    current: list[PlaceBrief] = Field(description="今天有效、由本单位演变而来的单位")


def _ref(p: Place) -> PlaceBrief:
    return PlaceBrief(code=p.code, name=p.name, kind=p.kind, valid_from=p.valid_from, valid_to=p.valid_to)


def _out(p: Place) -> dict[str, Any]:
    return {
        "code": p.code,
        "name": p.name,
        "kind": p.kind,
        "kind_label": str(PlaceKind(p.kind).label),
        "name_en": p.name_en,
        "parent_code": p.parent.code if p.parent_id and p.parent else None,
        "depth": p.depth,
        "valid_from": p.valid_from,
        "valid_to": p.valid_to,
        "area_km2": p.area_km2,
        "lat": p.lat,
        "lng": p.lng,
    }


def _change(c: PlaceChange) -> ChangeOut:
    return ChangeOut(
        kind=c.kind,
        kind_label=str(c.get_kind_display()),
        effective=c.effective,
        sources=[_ref(p) for p in c.sources.all()],
        targets=[_ref(p) for p in c.targets.all()],
        note=c.note,
        document_ref=c.document_ref,
    )


def _get(code: str, field: str = "code") -> Place:
    place = queries.get_by_code(code)
    if place is None:
        raise NotFoundError(_("区划代码 %(code)s 不存在") % {"code": code[:40]}, field=field)
    return place


@router.get("", response={200: PlacePage, 404: ErrorOut}, auth=None, summary="List places")
def list_places(
    request: HttpRequest,
    kind: PlaceKind | None = None,
    parent: Annotated[str | None, Query(max_length=40, description="上级区划代码")] = None,
    as_of: Annotated[date | None, Query(description="只列出该日有效的单位；省略则含历史单位")] = None,
    q: Annotated[str, Query(max_length=60, description="名称包含或代码前缀")] = "",
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> PlacePage:
    parent_place = _get(parent, "parent") if parent else None
    qs = queries.list_places(kind=kind, parent=parent_place, as_of=as_of, search=q.strip())
    items = [PlaceOut(**_out(p)) for p in qs[offset : offset + limit]]
    return PlacePage(count=qs.count(), limit=limit, offset=offset, items=items)


# --- administrators: merge and abolish ---------------------------------------------------------
# ``/merges`` is declared before ``/{code}``: the first matching URL pattern wins, and ``{code}``
# would otherwise take "merges" for a place code (a GET-only route: 405).


class MergeIn(Schema):
    codes: list[Annotated[str, Field(max_length=40)]] = Field(
        min_length=2, max_length=50, description="被合并单位的区划代码（同一上级、同一层级）"
    )
    effective: date = Field(description="生效日期（当日起由新单位承继）")
    code: str = Field(max_length=40, description="新单位的区划代码（永不复用）")
    name: str = Field(max_length=60, description="新单位名称")
    note: str = Field("", max_length=500)
    document_ref: str = Field("", max_length=120, description="批准文件文号")


class AbolishIn(Schema):
    effective: date = Field(description="生效日期（当日起不再有效）")
    note: str = Field("", max_length=500)
    document_ref: str = Field("", max_length=120, description="批准文件文号")


@router.post(
    "/merges", response={201: PlaceOut, 404: ErrorOut}, summary="Merge places into a new one (administrators)"
)
def merge_places(request: HttpRequest, payload: MergeIn) -> Status[PlaceOut]:
    sources = [queries.access_place_to_change(request.user, c, field="codes") for c in payload.codes]
    merged = do_merge_places(
        sources,
        payload.effective,
        payload.code,
        payload.name,
        actor=request.user,
        note=payload.note,
        document_ref=payload.document_ref,
    )
    return Status(201, PlaceOut(**_out(merged)))


# --- restructuring plans (issue 15): supervisors, within their jurisdiction ----------------------
# Declared before ``/{code}`` for the same reason as ``/merges``.

DB_INT = 2**31 - 1


class PlanTargetIn(Schema):
    code: str = Field(max_length=40, description="新社区代码（永不复用）")
    name: str = Field(max_length=60)
    name_en: str = Field("", max_length=80)
    parent: str = Field("", max_length=40, description="同一区内另一街道的代码；省略则与原社区同属一街道")
    children: list[Annotated[str, Field(max_length=40)]] = Field(
        default_factory=list, max_length=500, description="划入的居民小组、网格代码"
    )
    rest: bool = Field(False, description="承接原社区本级的居民、在办办件等（只能一个；省略则第一个）")


class PlanIn(Schema):
    kind: PlanKind
    sources: list[Annotated[str, Field(max_length=40)]] = Field(min_length=1, max_length=50)
    effective: date = Field(description="生效日期（不早于今天）")
    targets: list[PlanTargetIn] = Field(default_factory=list, max_length=50, description="拆分：新社区")
    code: str = Field("", max_length=40, description="合并：新社区代码")
    name: str = Field("", max_length=60, description="合并或更名：新名称")
    name_en: str = Field("", max_length=80)
    note: str = Field("", max_length=2000)
    document_ref: str = Field("", max_length=120)


class PlanCountOut(Schema):
    key: str
    label: str
    count: int


class PlanPreviewOut(Schema):
    target: str
    counts: list[PlanCountOut]


class PlanOut(Schema):
    id: int
    kind: str
    status: str
    status_label: str
    title: str
    effective: date
    version: int
    sources: list[PlaceBrief]
    spec: dict[str, Any]
    preview: list[PlanPreviewOut]
    moved: dict[str, int]
    last_error: str


class PlanDecisionIn(Schema):
    expected_version: int | None = Field(None, ge=1, le=DB_INT)
    reason: str = Field("", max_length=500)


def _plan_out(plan: RestructurePlan) -> PlanOut:
    return PlanOut(
        id=plan.pk, kind=plan.kind, status=plan.status, status_label=str(plan.get_status_display()),
        title=plan.title, effective=plan.effective, version=plan.version,
        sources=[_ref(p) for p in plan.sources.order_by("code")], spec=plan.spec,
        preview=[PlanPreviewOut(**row) for row in plan_preview(plan)] if plan.is_open else [],
        moved={str(k): int(v) for k, v in plan.moved.items()}, last_error=plan.last_error,
    )


def _require_planner(request: HttpRequest) -> None:
    if not queries.may_draft_plans(request.user):
        raise NotAllowedError(_("只有街道、区级督导和系统管理员可以拟定区划调整方案。"))


@router.get("/plans", response={200: list[PlanOut], 403: ErrorOut}, summary="Restructuring plans of my jurisdiction")
def list_plans(request: HttpRequest) -> list[PlanOut]:
    _require_planner(request)
    return [_plan_out(p) for p in queries.plans_for_user(request.user)[:200]]


@router.post("/plans", response={201: PlanOut, 403: ErrorOut, 404: ErrorOut},
             summary="Draft a split, merge or rename of communities")
def draft_plan(request: HttpRequest, payload: PlanIn) -> Status[PlanOut]:
    _require_planner(request)
    plan = do_draft_place_plan(
        PlanDraft(kind=payload.kind, source_codes=payload.sources, effective=payload.effective,
                  targets=[t.dict() for t in payload.targets], code=payload.code, name=payload.name,
                  name_en=payload.name_en, note=payload.note, document_ref=payload.document_ref),
        actor=request.user,
    )
    return Status(201, _plan_out(plan))


@router.get("/plans/{plan_id}", response={200: PlanOut, 404: ErrorOut}, summary="One plan with its preview")
def get_plan(request: HttpRequest, plan_id: int) -> PlanOut:
    return _plan_out(queries.access_plan(request.user, plan_id))


@router.post("/plans/{plan_id}/approval", response={200: PlanOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
             summary="Approve a plan (a district supervisor of its district, not its drafter)")
def approve_plan(request: HttpRequest, plan_id: int, payload: PlanDecisionIn) -> PlanOut:
    plan = queries.access_plan(request.user, plan_id)
    return _plan_out(do_approve_place_plan(plan, actor=request.user, expected_version=payload.expected_version))


@router.post("/plans/{plan_id}/cancellation", response={200: PlanOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
             summary="Withdraw a plan before it takes effect")
def cancel_plan(request: HttpRequest, plan_id: int, payload: PlanDecisionIn) -> PlanOut:
    plan = queries.access_plan(request.user, plan_id)
    return _plan_out(do_cancel_place_plan(plan, actor=request.user, reason=payload.reason))


@router.get(
    "/{code}", response={200: PlaceDetail, 404: ErrorOut}, auth=None, summary="One place with its history"
)
def place_detail(request: HttpRequest, code: str) -> PlaceDetail:
    place = _get(code)
    return PlaceDetail(
        **_out(place),
        note=place.note,
        ancestors=[_ref(p) for p in queries.ancestors(place)],
        children=[_ref(p) for p in queries.children(place)],
        names=[
            NameOut(name=n.name, valid_from=n.valid_from, valid_to=n.valid_to)
            for n in queries.name_history(place)
        ],
        predecessors=[_ref(p) for p in queries.predecessors(place)],
        successors=[_ref(p) for p in queries.successors(place)],
    )


@router.get(
    "/{code}/lineage", response={200: LineageOut, 404: ErrorOut}, auth=None, summary="Split/merge lineage"
)
def place_lineage(request: HttpRequest, code: str) -> LineageOut:
    place = _get(code)
    return LineageOut(
        place=_ref(place),
        changes=[_change(c) for c in queries.changes_for(place)],
        predecessors=[_ref(p) for p in queries.predecessors(place)],
        successors=[_ref(p) for p in queries.successors(place)],
        current=[_ref(p) for p in queries.current_places_for(place)],
    )


@router.post(
    "/{code}/abolition", response={200: PlaceOut, 404: ErrorOut}, summary="Abolish a place (administrators)"
)
def abolish_place(request: HttpRequest, code: str, payload: AbolishIn) -> PlaceOut:
    place = queries.access_place_to_change(request.user, code)
    place = do_abolish_place(
        place, payload.effective, actor=request.user, note=payload.note, document_ref=payload.document_ref
    )
    return PlaceOut(**_out(place))
