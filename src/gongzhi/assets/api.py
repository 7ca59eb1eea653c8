"""API of the collective-asset register and its trading (``/api/v1/assets``).

Lists are scoped by the caller's places (``queries``); an object outside them answers 404. Writes
call the same actions as the pages; errors propagate to the one handler in ``gongzhi/api.py``
(a lease the trading rule refuses: 409 ``must_trade_on_platform``, the refusal recorded).
Counterparties' ID numbers are only ever shown masked. The public operations need no login.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import File, Router, Schema, Status, UploadedFile
from ninja.params.functions import Query
from pydantic import Field

from gongzhi.assets import actions, queries
from gongzhi.assets.domain import feeds as feeds_pkg
from gongzhi.assets.enums import AlertStatus
from gongzhi.assets.models import Alert, Asset, Company, Deal, FeedRun, Lease, Registration
from gongzhi.core import clock
from gongzhi.core.errors import ActionError, NotAllowedError, NotFoundError

router = Router(tags=["assets"])

MAX_LIMIT = 500
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]


class CompanyOut(Schema):
    id: int
    uscc: str
    name: str
    place_code: str
    place_name: str


class AssetOut(Schema):
    id: int
    kind: str
    code: str
    name: str
    parent_id: int | None
    use_type: str
    area: Decimal
    occupancy: str
    location: str


class CompanyDetail(CompanyOut):
    assets: list[AssetOut]
    open_alerts: int
    monthly_income: Decimal
    occupancy_rate: Decimal


class LeaseOut(Schema):
    id: int
    company_id: int
    asset_id: int
    contract_no: str
    counterparty_kind: str
    counterparty_name: str
    counterparty_id: str = Field(description="统一社会信用代码，或脱敏的身份证件号码")
    area: Decimal
    monthly_rent: Decimal
    deposit: Decimal
    signed_on: date
    starts_on: date
    ends_on: date
    deal_id: int | None


class LeaseIn(Schema):
    asset_id: int
    contract_no: str = Field(max_length=60)
    counterparty_kind: str = Field(description="org（单位）或 person（个人）")
    counterparty_number: str = Field(max_length=30)
    counterparty_name: str = Field(max_length=120)
    area: Decimal = Field(ge=0, max_digits=12, decimal_places=2)
    monthly_rent: Decimal = Field(ge=0, max_digits=14, decimal_places=2)
    deposit: Decimal = Field(default=Decimal("0"), ge=0, max_digits=14, decimal_places=2)
    signed_on: date
    starts_on: date
    ends_on: date


class DealOut(Schema):
    id: int
    company_id: int
    title: str
    status: str
    mode: str
    area: Decimal
    term_months: int
    decision_ref: str
    reserve_monthly_rent: Decimal | None
    deposit: Decimal | None
    listed_on: date | None
    notice_until: date | None
    awarded_monthly_rent: Decimal | None


class RegistrationOut(Schema):
    id: int
    name: str
    counterparty_id: str


class DealDetail(DealOut):
    registrations: list[RegistrationOut]
    bids: list[dict[str, Any]]


class BidIn(Schema):
    registration_id: int
    monthly_rent: Decimal = Field(ge=0, max_digits=14, decimal_places=2)
    idempotency_key: str = Field(min_length=1, max_length=64)


class PublicDealOut(Schema):
    id: int
    title: str
    status: str
    company: str
    company_uscc: str
    asset: str
    use_type: str
    area: Decimal
    term_months: int
    mode: str
    reserve_monthly_rent: Decimal | None
    deposit: Decimal | None
    listed_on: date | None
    notice_until: date | None
    winner: str
    awarded_monthly_rent: Decimal | None


class AlertOut(Schema):
    id: int
    kind: str
    kind_label: str
    status: str
    company_id: int
    message: str
    owner: str
    deadline: date
    closing_note: str


class CloseIn(Schema):
    note: str = Field(min_length=1, max_length=2000)


class RecomputeOut(Schema):
    opened: int
    checked_leases: int


def _company(c: Company) -> dict[str, Any]:
    return {"id": c.pk, "uscc": c.uscc, "name": c.name, "place_code": c.place.code, "place_name": c.place.name}


def _asset(a: Asset) -> dict[str, Any]:
    return {"id": a.pk, "kind": a.kind, "code": a.code, "name": a.name, "parent_id": a.parent_id,
            "use_type": a.use_type, "area": a.area, "occupancy": a.occupancy, "location": a.location}


def _lease(x: Lease) -> dict[str, Any]:
    return {"id": x.pk, "company_id": x.company_id, "asset_id": x.asset_id, "contract_no": x.contract_no,
            "counterparty_kind": x.counterparty_kind, "counterparty_name": x.counterparty_name,
            "counterparty_id": x.counterparty_shown, "area": x.area, "monthly_rent": x.monthly_rent,
            "deposit": x.deposit, "signed_on": x.signed_on, "starts_on": x.starts_on, "ends_on": x.ends_on,
            "deal_id": x.deal_id}


def _deal(d: Deal) -> dict[str, Any]:
    return {"id": d.pk, "company_id": d.company_id, "title": d.title, "status": d.status, "mode": d.mode,
            "area": d.area, "term_months": d.term_months, "decision_ref": d.decision_ref,
            "reserve_monthly_rent": d.reserve_monthly_rent, "deposit": d.deposit, "listed_on": d.listed_on,
            "notice_until": d.notice_until,
            "awarded_monthly_rent": d.awarded_bid.monthly_rent if d.awarded_bid_id and d.awarded_bid else None}


def _reg(r: Registration) -> dict[str, Any]:
    return {"id": r.pk, "name": r.counterparty_name, "counterparty_id": r.counterparty_shown}


def _alert(a: Alert) -> dict[str, Any]:
    return {"id": a.pk, "kind": a.kind, "kind_label": str(a.get_kind_display()), "status": a.status,
            "company_id": a.company_id, "message": a.message,
            "owner": a.owner.get_username() if a.owner_id and a.owner else "", "deadline": a.deadline,
            "closing_note": a.closing_note}


def _limit(limit: int) -> int:
    return max(1, min(limit, MAX_LIMIT))


@router.get("/companies", response=list[CompanyOut])
def list_companies(request: HttpRequest, limit: Limit = 100, offset: Offset = 0) -> list[dict[str, Any]]:
    rows = queries.companies_for_user(request.user)[max(offset, 0):max(offset, 0) + _limit(limit)]
    return [_company(c) for c in rows]


@router.get("/companies/{company_id}", response=CompanyDetail)
def get_company(request: HttpRequest, company_id: int) -> dict[str, Any]:
    company = queries.access_company(request.user, company_id)
    figures = queries.figures_for([company])[0]
    return {**_company(company), "assets": [_asset(a) for a in queries.assets_of(company)],
            "open_alerts": figures.open_alerts, "monthly_income": figures.monthly_income,
            "occupancy_rate": figures.occupancy_rate}


@router.post("/companies/{company_id}/leases", response={201: LeaseOut})
def register_lease(request: HttpRequest, company_id: int, payload: LeaseIn) -> Status:
    """Register a lease. Under the trading rule without its platform transaction: 409, recorded."""
    company = queries.access_company(request.user, company_id)
    asset = Asset.objects.filter(company=company, pk=payload.asset_id).first()
    if asset is None:
        raise NotFoundError(_("资产不存在"), field="asset_id")
    lease = actions.do_register_lease(
        company, asset, counterparty_kind=payload.counterparty_kind, counterparty_number=payload.counterparty_number,
        counterparty_name=payload.counterparty_name, area=payload.area, monthly_rent=payload.monthly_rent,
        deposit=payload.deposit, signed_on=payload.signed_on, starts_on=payload.starts_on, ends_on=payload.ends_on,
        contract_no=payload.contract_no, actor=request.user)
    return Status(201, _lease(lease))


@router.get("/leases", response=list[LeaseOut])
def list_leases(request: HttpRequest, company_id: Annotated[int | None, Query(ge=1, le=2**31)] = None, limit: Limit = 100,
                offset: Offset = 0) -> list[dict[str, Any]]:
    qs = queries.leases_for_user(request.user)
    if company_id is not None:
        qs = qs.filter(company_id=company_id)
    return [_lease(x) for x in qs[max(offset, 0):max(offset, 0) + _limit(limit)]]


@router.get("/deals", response=list[DealOut])
def list_deals(request: HttpRequest, limit: Limit = 100, offset: Offset = 0) -> list[dict[str, Any]]:
    qs = queries.deals_for_user(request.user).select_related("awarded_bid")
    return [_deal(d) for d in qs[max(offset, 0):max(offset, 0) + _limit(limit)]]


@router.get("/deals/{deal_id}", response=DealDetail)
def get_deal(request: HttpRequest, deal_id: int) -> dict[str, Any]:
    deal = queries.access_deal(request.user, deal_id)
    bids = [{"registration_id": b.registration_id, "placed_at": b.placed_at.isoformat(),
             "monthly_rent": None if getattr(b, "hidden", False) else str(b.monthly_rent)}
            for b in queries.deal_bids(deal, reveal_sealed=False)]
    return {**_deal(deal), "registrations": [_reg(r) for r in queries.registrations_of(deal)], "bids": bids}


@router.post("/deals/{deal_id}/bids", response={201: dict[str, Any]})
def place_bid(request: HttpRequest, deal_id: int, payload: BidIn) -> Status:
    """A bid for a registered bidder (idempotent by ``idempotency_key``)."""
    deal = queries.access_deal(request.user, deal_id)
    reg = Registration.objects.filter(deal=deal, pk=payload.registration_id).first()
    if reg is None:
        raise NotFoundError(_("竞买人未报名本项目"), field="registration_id")
    bid = actions.do_place_bid(deal, reg, payload.monthly_rent, idempotency_key=payload.idempotency_key,
                               actor=request.user)
    return Status(201, {"id": bid.pk, "monthly_rent": str(bid.monthly_rent), "sealed": bid.sealed})


@router.get("/alerts", response=list[AlertOut])
def list_alerts(request: HttpRequest, status: Annotated[str, Query(max_length=10)] = AlertStatus.OPEN,
                kind: Annotated[str, Query(max_length=20)] = "", limit: Limit = 100,
                offset: Offset = 0) -> list[dict[str, Any]]:
    qs = queries.alerts_for_user(request.user, status=status if status in AlertStatus.values else None)
    if kind:
        qs = qs.filter(kind=kind)
    return [_alert(a) for a in qs[max(offset, 0):max(offset, 0) + _limit(limit)]]


@router.post("/alerts/{alert_id}/close", response=AlertOut)
def close_alert(request: HttpRequest, alert_id: int, payload: CloseIn) -> dict[str, Any]:
    alert = queries.access_alert(request.user, alert_id)
    return _alert(actions.do_close_alert(alert, payload.note, actor=request.user))


@router.post("/alerts/recompute", response=RecomputeOut)
def recompute_alerts(request: HttpRequest) -> dict[str, int]:
    """Recompute the alerts of the caller's jurisdiction (supervisors)."""
    if not queries.may_supervise(request.user):
        raise NotAllowedError(_("无权进行此操作"))
    run = actions.do_recompute_alerts(actor=request.user)
    return {"opened": run.opened, "checked_leases": run.checked_leases}


class TrendOut(Schema):
    year: int
    use_type: str
    mine: Decimal
    district: Decimal | None


@router.get("/analysis/rent-trend", response=list[TrendOut])
def rent_trend(request: HttpRequest) -> list[dict[str, Any]]:
    """Rent per m² a month of leases signed each year, by use: the caller's jurisdiction against
    the district (empty for a caller without asset.read)."""
    return queries.rent_trend(request.user)


def _public(d: Deal) -> dict[str, Any]:
    return {"id": d.pk, "title": d.title, "status": d.status, "company": d.company.name, "company_uscc": d.company.uscc,
            "asset": d.asset.name, "use_type": d.asset.use_type, "area": d.area, "term_months": d.term_months,
            "mode": d.mode, "reserve_monthly_rent": d.reserve_monthly_rent, "deposit": d.deposit,
            "listed_on": d.listed_on, "notice_until": d.notice_until, "winner": queries.public_winner(d),
            "awarded_monthly_rent": d.awarded_bid.monthly_rent if queries.public_winner(d) and d.awarded_bid else None}


@router.get("/public/deals", response=list[PublicDealOut], auth=None)
def public_deals(request: HttpRequest, limit: Limit = 100, offset: Offset = 0) -> list[dict[str, Any]]:
    """Listings and result notices (阳光交易): public, no login."""
    return [_public(d) for d in queries.public_deals()[max(offset, 0):max(offset, 0) + _limit(limit)]]


@router.get("/public/deals/{deal_id}", response=PublicDealOut, auth=None)
def public_deal(request: HttpRequest, deal_id: int) -> dict[str, Any]:
    return _public(queries.public_deal(deal_id))


# --- feeds from other systems (supervisors) -------------------------------------------------------


class FeedRunOut(Schema):
    id: int
    source: str
    channel: str
    origin: str
    status: str
    fatal: str
    digest: str
    started_at: datetime
    finished_at: datetime
    records: int
    skipped: int
    matched: int
    missing_here: int
    missing_there: int
    different_price: int
    alerts_opened: int


class FeedRunDetail(FeedRunOut):
    issues: list[dict[str, str]]
    items: list[dict[str, str]]


class PullIn(Schema):
    url: str = Field(max_length=300)


FEED_SOURCES = ("exchange", "procurement", "trading_centre")
_RUN_FIELDS = tuple(FeedRunOut.model_fields)


def _run(run: FeedRun, *, detail: bool = False) -> dict[str, Any]:
    out = {f: getattr(run, f) if f != "id" else run.pk for f in _RUN_FIELDS}
    if detail:
        out.update(issues=run.issues, items=run.items)
    return out


def _supervisor(request: HttpRequest) -> None:
    if not queries.may_supervise(request.user):
        raise NotAllowedError(_("无权进行此操作"))


def _source(source: str) -> str:
    if source not in FEED_SOURCES:
        raise NotFoundError(_("不支持的来源系统"))
    return source


@router.get("/feeds", response=list[FeedRunOut])
def list_feed_runs(request: HttpRequest, limit: Limit = 100, offset: Offset = 0) -> list[dict[str, Any]]:
    return [_run(r) for r in queries.feed_runs_for(request.user)[offset:offset + _limit(limit)]]


@router.get("/feeds/{run_id}", response=FeedRunDetail)
def get_feed_run(request: HttpRequest, run_id: int) -> dict[str, Any]:
    _supervisor(request)
    return _run(queries.access_feed_run(request.user, run_id), detail=True)


@router.post("/feeds/{source}/import", response={201: FeedRunDetail, 422: FeedRunDetail})
def import_feed(request: HttpRequest, source: str, file: UploadedFile = File(...)) -> Status:  # noqa: B008
    """A dropped file (multipart ``file``). 201 applied; 422 nothing readable (the failed run);
    409 already applied."""
    _supervisor(request)
    if file.size is not None and file.size > actions.MAX_FEED_BYTES:
        raise ActionError(_("文件过大"), field="file")
    run = actions.do_import_feed(_source(source), file.read(), actor=request.user, name=file.name or "")
    return Status(201 if run.status == "applied" else 422, _run(run, detail=True))


@router.post("/feeds/{source}/pull", response={201: FeedRunDetail, 422: FeedRunDetail})
def pull_feed(request: HttpRequest, source: str, payload: PullIn) -> Status:
    """Pull ``source`` from ``url`` over HTTP. 201 applied; 422 failed fetch or unreadable input."""
    _supervisor(request)
    run = actions.do_pull_feed(_source(source), payload.url, actor=request.user)
    return Status(201 if run.status == "applied" else 422, _run(run, detail=True))


# --- the platform's own transactions as OCDS 1.1 (public, like the listing and result pages) ------

EXTENSION_DIR = Path(feeds_pkg.__file__).parent / "data" / "lease-extension"


def extension_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/api/v1/assets/ocds/lease-extension/extension.json")


@router.get("/ocds/releases.json", auth=None, response=dict[str, Any])
def ocds_releases(request: HttpRequest, limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
                  offset: Offset = 0) -> HttpResponse:
    """The public deals as an OCDS 1.1 release package with the lease extension."""
    package = feeds_pkg.export_release_package(
        queries.ocds_transactions(limit=limit, offset=offset), uri=request.build_absolute_uri(),
        published_at=clock.now(), publisher_name=_("共治平台集体资产阳光交易"), extension_url=extension_url(request))
    return HttpResponse(feeds_pkg.release_package_json(package), content_type="application/json; charset=utf-8")


@router.get("/ocds/lease-extension/{name}", auth=None, response=dict[str, Any])
def ocds_extension(request: HttpRequest, name: str) -> HttpResponse:
    """The lease extension (``extension.json`` and its ``release-schema.json``), served as vendored."""
    if name not in {"extension.json", "release-schema.json"}:
        raise NotFoundError(_("不存在"))
    return HttpResponse((EXTENSION_DIR / name).read_bytes(), content_type="application/json; charset=utf-8")
