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

from gongzhi.core.errors import NotFoundError
from gongzhi.core.schemas import ErrorOut
from gongzhi.places import queries
from gongzhi.places.actions import do_abolish_place, do_merge_places
from gongzhi.places.enums import PlaceKind
from gongzhi.places.models import Place, PlaceChange

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
