"""Reads of the collective-asset register, scoped by the user's places (DESIGN.md §2).

Staff see the companies under the places where they hold a role with ``asset.read``
(``accounts.permissions``): a company's manager their community, a subdistrict supervisor the
subdistrict, the district the district. ``access_*`` answer 404 outside that scope, as for an
object that does not exist. The public reads (``public_*``) show only listed deals and result
notices — never a counterparty's number, and a natural person's name only as surname + 某.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Count, Q, QuerySet, Sum
from django.utils.translation import gettext as _

from gongzhi.accounts.permissions import has_permission, role_names
from gongzhi.accounts.scope import scope_q
from gongzhi.assets.domain.feeds import PlatformTransaction, PriceBasis
from gongzhi.assets.enums import AlertStatus, CounterpartyKind, DealStatus, LandUse, LeaseStatus, Occupancy
from gongzhi.assets.models import Alert, Asset, Bid, Company, Deal, FeedRun, Lease, Registration, RentCharge
from gongzhi.core import clock
from gongzhi.core.errors import NotFoundError

PUBLIC_STATUSES = (DealStatus.LISTED, DealStatus.AWARDED, DealStatus.NOTICED, DealStatus.CONTRACTED,
                   DealStatus.FAILED)
RESULT_STATUSES = (DealStatus.NOTICED, DealStatus.CONTRACTED)


def _scope(user: Any, field: str) -> Q:
    if getattr(user, "is_superuser", False):
        return Q()
    return scope_q(user, field, roles=role_names("asset.read"))


def companies_for_user(user: Any) -> QuerySet[Company]:
    return Company.objects.filter(_scope(user, "place__path")).select_related("place").order_by("place__path", "name")


def leases_for_user(user: Any) -> QuerySet[Lease]:
    return (Lease.objects.filter(_scope(user, "company__place__path"))
            .select_related("company", "asset").order_by("-signed_on", "-id"))


def deals_for_user(user: Any) -> QuerySet[Deal]:
    return Deal.objects.filter(_scope(user, "company__place__path")).select_related("company", "asset").order_by("-id")


def alerts_for_user(user: Any, *, status: str | None = AlertStatus.OPEN) -> QuerySet[Alert]:
    qs = Alert.objects.filter(_scope(user, "company__place__path")).select_related("company", "owner", "lease", "deal")
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("deadline", "id")


def access_company(user: Any, company_id: int) -> Company:
    company = companies_for_user(user).filter(pk=company_id).first()
    if company is None:
        raise NotFoundError(_("不存在或不在管辖范围内"))
    return company


def access_deal(user: Any, deal_id: int) -> Deal:
    deal = deals_for_user(user).filter(pk=deal_id).first()
    if deal is None:
        raise NotFoundError(_("不存在或不在管辖范围内"))
    return deal


def access_alert(user: Any, alert_id: int) -> Alert:
    alert = alerts_for_user(user, status=None).filter(pk=alert_id).first()
    if alert is None:
        raise NotFoundError(_("不存在或不在管辖范围内"))
    return alert


def may_write(user: Any, company: Company) -> bool:
    return has_permission(user, "asset.write", company.place.path)


def may_reveal(user: Any, company: Company) -> bool:
    return has_permission(user, "asset.reveal", company.place.path)


def may_close_alert(user: Any, alert: Alert) -> bool:
    return has_permission(user, "alert.close", alert.company.place.path)


def may_supervise(user: Any) -> bool:
    return has_permission(user, "asset.supervise")


# --- what a company page shows ---------------------------------------------------------------------


def assets_of(company: Company) -> list[Asset]:
    """The company's assets, parcels first, each followed by what stands on it."""
    rows = list(Asset.objects.filter(company=company).order_by("code"))
    children: dict[int | None, list[Asset]] = {}
    for a in rows:
        children.setdefault(a.parent_id, []).append(a)
    out: list[Asset] = []

    def walk(parent: int | None, depth: int) -> None:
        for a in children.get(parent, []):
            a.indent = "· " * depth  # type: ignore[attr-defined]
            out.append(a)
            walk(a.pk, depth + 1)

    walk(None, 0)
    return out


def arrears_by_lease(leases: list[Lease]) -> dict[int, Decimal]:
    today = clock.localdate()
    owed: dict[int, Decimal] = {}
    rows = (RentCharge.objects.filter(lease__in=leases, due_on__lt=today).values("lease_id")
            .annotate(due=Sum("amount_due"), paid=Sum("amount_paid")))
    for row in rows:
        gap = Decimal(row["due"]) - Decimal(row["paid"])
        if gap > 0:
            owed[row["lease_id"]] = gap.quantize(Decimal("0.01"))
    return owed


@dataclass(frozen=True)
class CompanyFigures:
    company: Company
    assets: int
    area: Decimal
    leased_area: Decimal
    monthly_income: Decimal
    open_alerts: int
    vacant: int

    @property
    def occupancy_rate(self) -> Decimal:
        if not self.area:
            return Decimal("0")
        return (self.leased_area / self.area * 100).quantize(Decimal("0.1"))


def figures_for(companies: list[Company]) -> list[CompanyFigures]:
    """Per company: assets, top-level area, leased area, monthly income of current leases, alerts."""
    ids = [c.pk for c in companies]
    today = clock.localdate()
    assets: dict[int, dict[str, Any]] = {r["company_id"]: dict(r) for r in Asset.objects.filter(company_id__in=ids, parent__isnull=True)
              .values("company_id").annotate(n=Count("id"), area=Sum("area"))}
    counts = dict(Asset.objects.filter(company_id__in=ids).values_list("company_id").annotate(n=Count("id")))
    vacant = dict(Asset.objects.filter(company_id__in=ids, occupancy=Occupancy.VACANT)
                  .values_list("company_id").annotate(n=Count("id")))
    leases: dict[int, dict[str, Any]] = {r["company_id"]: dict(r) for r in Lease.objects.filter(
        company_id__in=ids, status=LeaseStatus.ACTIVE, starts_on__lte=today, ends_on__gte=today)
        .values("company_id").annotate(area=Sum("area"), rent=Sum("monthly_rent"))}
    alerts = dict(Alert.objects.filter(company_id__in=ids, status=AlertStatus.OPEN)
                  .values_list("company_id").annotate(n=Count("id")))
    zero = Decimal("0.00")
    out = []
    for c in companies:
        a: dict[str, Any] = assets.get(c.pk, {})
        lease: dict[str, Any] = leases.get(c.pk, {})
        out.append(CompanyFigures(c, counts.get(c.pk, 0), Decimal(a.get("area") or zero),
                                  Decimal(lease.get("area") or zero), Decimal(lease.get("rent") or zero),
                                  alerts.get(c.pk, 0), vacant.get(c.pk, 0)))
    return out


def _use_label(use: str) -> str:
    return str(LandUse(use).label) if use in LandUse.values else use


def rent_by_use(leases: QuerySet[Lease]) -> list[dict[str, Any]]:
    """Rent per m² a month of current leases, by use — the company's or area's line against the district's."""
    today = clock.localdate()
    rows = (leases.filter(status=LeaseStatus.ACTIVE, starts_on__lte=today, ends_on__gte=today)
            .values("asset__use_type").annotate(area=Sum("area"), rent=Sum("monthly_rent"), n=Count("id"))
            .order_by("asset__use_type"))
    out = []
    for r in rows:
        area = Decimal(r["area"] or 0)
        out.append({"use_type": r["asset__use_type"], "use_label": _use_label(r["asset__use_type"]),
                    "leases": r["n"], "area": area,
                    "per_m2": (Decimal(r["rent"]) / area).quantize(Decimal("0.01")) if area else None})
    return out


def _per_year_use(leases: QuerySet[Lease]) -> dict[tuple[int, str], Decimal]:
    rows = (leases.exclude(status=LeaseStatus.TERMINATED).values("signed_on__year", "asset__use_type")
            .annotate(area=Sum("area"), rent=Sum("monthly_rent")))
    out = {}
    for r in rows:
        area = Decimal(r["area"] or 0)
        if area:
            out[(r["signed_on__year"], r["asset__use_type"])] = (Decimal(r["rent"]) / area).quantize(Decimal("0.01"))
    return out


def district_of(user: Any) -> Any:
    """The district over the user's (first) place of ``asset.read``, for the comparison line."""
    from gongzhi.accounts.scope import scope_paths
    from gongzhi.places.models import Place

    paths = scope_paths(user, role_names("asset.read"))
    if not paths:
        return None
    path = paths[0]
    prefixes = ["/".join(path.split("/")[:i]) + "/" for i in range(2, path.count("/") + 1)]
    return Place.objects.filter(kind="district", path__in=prefixes).first()


def rent_trend(user: Any) -> list[dict[str, Any]]:
    """Rent per m² a month of the leases signed each year, by use: the user's jurisdiction against
    the whole district it lies in (dynamic analysis: is a company letting below the district?)."""
    mine = _per_year_use(leases_for_user(user))
    district = district_of(user)
    theirs = (_per_year_use(Lease.objects.filter(company__place__path__startswith=district.path))
              if district is not None else {})
    return [{"year": year, "use_type": use, "use_label": _use_label(use), "mine": value,
             "district": theirs.get((year, use))}
            for (year, use), value in sorted(mine.items(), reverse=True)]


def deal_bids(deal: Deal, *, reveal_sealed: bool) -> list[Bid]:
    """Bids of a deal; sealed amounts are shown only once the deal is awarded."""
    bids = list(Bid.objects.filter(deal=deal).select_related("registration").order_by("placed_at", "id"))
    hidden = deal.mode == "sealed" and deal.status == DealStatus.LISTED and not reveal_sealed
    for b in bids:
        b.hidden = hidden  # type: ignore[attr-defined]
    return bids


def registrations_of(deal: Deal) -> list[Registration]:
    return list(Registration.objects.filter(deal=deal).order_by("registered_at", "id"))


# --- public (阳光交易) --------------------------------------------------------------------------------


def public_deals() -> QuerySet[Deal]:
    return (Deal.objects.filter(status__in=PUBLIC_STATUSES).select_related("company", "asset", "awarded_bid")
            .order_by("-listed_on", "-id"))


def public_deal(deal_id: int) -> Deal:
    deal = public_deals().filter(pk=deal_id).first()
    if deal is None:
        raise NotFoundError(_("不存在或未公开"))
    return deal


def public_winner(deal: Deal) -> str:
    """The winner as published: a firm's name; a person's surname + 某 (no number, ever)."""
    if deal.status not in RESULT_STATUSES or deal.awarded_bid is None:
        return ""
    reg = deal.awarded_bid.registration
    if reg.counterparty_kind == CounterpartyKind.PERSON:
        return (reg.counterparty_name[:1] + "某") if reg.counterparty_name else "某"
    return str(reg.counterparty_name)


def public_bid_count(deal: Deal) -> int:
    return Bid.objects.filter(deal=deal).values("registration_id").distinct().count()


# --- feed runs (supervisors: the runs cover the whole district's systems) -------------------------


def feed_runs_for(user: Any) -> QuerySet[FeedRun]:
    if not may_supervise(user):
        return FeedRun.objects.none()
    return FeedRun.objects.order_by("-started_at", "-pk")


def access_feed_run(user: Any, run_id: int) -> FeedRun:
    run = feed_runs_for(user).filter(pk=run_id).first()
    if run is None:
        raise NotFoundError(_("不存在或不在管辖范围内"))
    return run


# --- the platform's own transactions as OCDS (public: what the listing and result pages show) -----


def _at(day: date | None, hour: int = 9) -> datetime | None:
    if day is None:
        return None
    return datetime.combine(day, time(hour), tzinfo=ZoneInfo("Asia/Shanghai"))


def ocds_transactions(*, limit: int = 1000, offset: int = 0) -> list[PlatformTransaction]:
    """The public deals (listed, awarded with the result noticed, contracted, failed) as export rows.

    Only what the public pages show: the winner and price once the result notice is published, a
    person without a number (the export masks the name), bidders counted after the result."""
    deals = list(public_deals().select_related("asset__parent", "awarded_bid__registration")
                 .order_by("pk")[offset:offset + limit])
    leases = {x.deal_id: x for x in Lease.objects.filter(deal_id__in=[d.pk for d in deals])}
    bidders = dict(Bid.objects.filter(deal_id__in=[d.pk for d in deals]).values("deal_id")
                   .annotate(n=Count("registration_id", distinct=True)).values_list("deal_id", "n"))
    rows: list[PlatformTransaction] = []
    for d in deals:
        result = d.status in RESULT_STATUSES and d.awarded_bid is not None
        reg = d.awarded_bid.registration if result and d.awarded_bid is not None else None
        lease = leases.get(d.pk)
        parent = d.asset.parent
        listed_at = _at(d.listed_on) or d.created_at
        rows.append(PlatformTransaction(
            transaction_id=f"D{d.pk}", company_uscc=d.company.uscc, company_name=d.company.name, title=d.title,
            listed_at=listed_at, notice_end_at=_at(d.notice_until, 17), asset_ref=d.asset.code,
            parcel_ref=parent.code if parent is not None and parent.kind == "land" else "",
            area_m2=d.area, use_type=d.asset.get_use_type_display(), price_basis=PriceBasis.MONTHLY_RENT,
            reserve_price_yuan=d.reserve_monthly_rent,
            bidder_count=bidders.get(d.pk, 0) if d.status in RESULT_STATUSES else None,
            cancelled=d.status == DealStatus.FAILED,
            awarded_at=d.result_noticed_at if result else None,
            deal_price_yuan=d.awarded_bid.monthly_rent if result and d.awarded_bid is not None else None,
            counterparty_id=(reg.counterparty_uscc if reg is not None and reg.counterparty_kind == CounterpartyKind.ORG
                             else ""),
            counterparty_name=reg.counterparty_name if reg is not None else "",
            signed_at=_at(lease.signed_on) if lease is not None else None,
            start_on=lease.starts_on if lease is not None else None,
            end_on=lease.ends_on if lease is not None else None,
            deposit_yuan=lease.deposit if lease is not None else None,
            updated_at=d.result_noticed_at or listed_at,
        ))
    return rows


def deal_resolution(deal: Deal) -> Any:
    """The shareholders' meeting that decided the deal (``core.registry.resolution_of``), if any."""
    from gongzhi.core.registry import resolution_of

    return resolution_of(deal.decision_meeting_id) if deal.decision_meeting_id else None
