"""Every write to the collective-asset register and its trading (DESIGN.md §2).

Each ``do_*`` checks the actor (``accounts.permissions``: ``asset.write`` over the company's
place, ``asset.supervise`` for rules and benchmarks, ``alert.close``), validates, writes inside
one transaction and appends an audit event with masked values only. A ``SystemActor`` may act
when granted ``assets.manage`` (the demo loader, the console) or ``assets.monitor`` (the worker's
alert recomputation).

A lease that falls under the on-platform trading rule (``domain.trading_rule``) cannot be
registered without its platform transaction: the attempt is refused *and recorded* — an audit
event ``asset.lease_refused`` and an open alert, written in their own transaction after the
refused one rolled back, so the refusal is kept while nothing of the lease is.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.accounts.enums import Role
from gongzhi.accounts.permissions import has_permission
from gongzhi.assets.domain import alerts as alert_rules
from gongzhi.assets.domain import trading
from gongzhi.assets.domain.trading_rule import (
    GROUP_KEYS,
    DealFacts,
    Rule,
    Verdict,
    judge,
    rule_on,
    term_months,
    term_too_long,
)
from gongzhi.assets.enums import (
    AlertKind,
    AlertStatus,
    AssetKind,
    BidMode,
    CounterpartyKind,
    DealStatus,
    LandUse,
    LeaseStatus,
    Occupancy,
)
from gongzhi.assets.models import (
    Alert,
    Appraisal,
    Asset,
    BenchmarkRent,
    Bid,
    Company,
    Deal,
    FeedRun,
    Lease,
    Registration,
    RentCharge,
    TradingRule,
)
from gongzhi.core import clock
from gongzhi.core.actors import Actor, SystemActor, system_may
from gongzhi.core.audit import new_event, record_event, record_events
from gongzhi.core.calendar import add_working_days
from gongzhi.core.crypto import blind_index, encrypt
from gongzhi.core.domain.identifiers import check_person_number, check_uscc
from gongzhi.core.domain.money import MoneyError, to_area, to_yuan
from gongzhi.core.errors import ActionError, ConflictError, NotAllowedError, NotFoundError

SYSTEM_GRANT = "assets.manage"
MONITOR_GRANT = "assets.monitor"


class MustTradeOnPlatform(ConflictError):
    """The contract falls under the trading rule and has no platform transaction."""

    code = "must_trade_on_platform"


# --- helpers ---------------------------------------------------------------------------------


def _path(company: Company) -> str:
    return str(company.place.path)


def _ensure(actor: Actor, perm: str, path: str, *, grant: str = SYSTEM_GRANT) -> None:
    """404 outside the actor's reading scope, 403 inside it without ``perm``."""
    if isinstance(actor, SystemActor):
        if system_may(actor, grant):
            return
        raise NotAllowedError(_("无权进行此操作"))
    if has_permission(actor, perm, path):
        return
    if has_permission(actor, "asset.read", path):
        raise NotAllowedError(_("无权进行此操作"))
    raise NotFoundError(_("不存在或不在管辖范围内"))


def _money(value: Any, field: str, *, positive: bool = True) -> Decimal:
    try:
        amount = to_yuan(value)
    except MoneyError as exc:
        raise ActionError(_("金额格式不正确"), field=field) from exc
    if amount < 0 or (positive and amount == 0):
        raise ActionError(_("金额应大于零"), field=field)
    if amount >= Decimal("1000000000000"):
        raise ActionError(_("金额过大"), field=field)
    return amount


def _area(value: Any, field: str = "area") -> Decimal:
    try:
        area = to_area(value)
    except MoneyError as exc:
        raise ActionError(_("面积格式不正确"), field=field) from exc
    if area <= 0:
        raise ActionError(_("面积应大于零"), field=field)
    if area >= Decimal("10000000000"):
        raise ActionError(_("面积过大"), field=field)
    return area


def _text(value: str, field: str, max_length: int, *, required: bool = True) -> str:
    text = " ".join((value or "").split())
    if required and not text:
        raise ActionError(_("此项必填"), field=field)
    if len(text) > max_length:
        raise ActionError(_("不能超过 %(n)d 个字") % {"n": max_length}, field=field)
    return text


def _choice(value: str, choices: Any, field: str) -> str:
    if value not in choices.values:
        raise ActionError(_("取值不在允许范围内"), field=field)
    return value


def _uscc(raw: str, field: str) -> str:
    result = check_uscc(raw or "")
    if not result.valid:
        from django.utils.translation import get_language

        message = "；".join(e.message(get_language()) for e in result.errors) or _("统一社会信用代码无效")
        raise ActionError(message, field=field, code="invalid_uscc")
    return result.normalized


@dataclass(frozen=True)
class Counterparty:
    """A counterparty as stored: a firm by USCC, a person by an encrypted, indexed, masked number."""

    kind: str
    name: str
    uscc: str = ""
    cipher: str = ""
    bidx: str = ""
    masked: str = ""

    @property
    def key(self) -> str:
        return self.uscc or self.bidx

    @property
    def shown(self) -> str:
        return self.uscc or self.masked

    def fields(self) -> dict[str, str]:
        return {"counterparty_kind": self.kind, "counterparty_name": self.name, "counterparty_uscc": self.uscc,
                "counterparty_number_cipher": self.cipher, "counterparty_number_bidx": self.bidx,
                "counterparty_number_masked": self.masked, "counterparty_key": self.key}


def counterparty(kind: str, number: str, name: str, *, field: str = "counterparty_number") -> Counterparty:
    """Validate a counterparty: a USCC for a firm, an ID / permit number for a person (GB 11643)."""
    kind = _choice(kind, CounterpartyKind, "counterparty_kind")
    name = _text(name, "counterparty_name", 120)
    if kind == CounterpartyKind.ORG:
        return Counterparty(kind, name, uscc=_uscc(number, field))
    result = check_person_number(number or "")
    if not result.valid:
        from django.utils.translation import get_language

        message = "；".join(e.message(get_language()) for e in result.errors) or _("证件号码无效")
        raise ActionError(message, field=field, code="invalid_number")
    return Counterparty(kind, name, cipher=encrypt(result.normalized), bidx=blind_index(result.normalized),
                        masked=result.masked)


def _stored_counterparty(obj: Any) -> Counterparty:
    return Counterparty(obj.counterparty_kind, obj.counterparty_name, obj.counterparty_uscc,
                        obj.counterparty_number_cipher, obj.counterparty_number_bidx, obj.counterparty_number_masked)


def _rules_for(company: Company) -> list[Rule]:
    path = _path(company)
    prefixes = ["/".join(path.split("/")[:i]) + "/" for i in range(2, path.count("/") + 1)]
    rows = TradingRule.objects.filter(district__path__in=prefixes)
    return [Rule(r.valid_from, r.area_threshold, r.monthly_rent_threshold, r.window_days) for r in rows]


def trading_rule_row(company: Company, on: date) -> TradingRule | None:
    path = _path(company)
    prefixes = ["/".join(path.split("/")[:i]) + "/" for i in range(2, path.count("/") + 1)]
    return TradingRule.objects.filter(district__path__in=prefixes, valid_from__lte=on).order_by("-valid_from").first()


def rule_for(company: Company, on: date) -> Rule:
    return rule_on(_rules_for(company), on)


def _building_and_parcel(asset: Asset) -> tuple[Asset | None, Asset | None]:
    """The building a unit is in (or the building itself) and the parcel under it."""
    building = parcel = None
    node: Asset | None = asset
    while node is not None:
        if node.kind == AssetKind.BUILDING and building is None:
            building = node
        if node.kind == AssetKind.LAND and parcel is None:
            parcel = node
        node = node.parent
    return building, parcel


def _facts(lease: Lease) -> DealFacts:
    return DealFacts(
        ref=str(lease.pk), company=str(lease.company_id), area=lease.area, monthly_rent=lease.monthly_rent,
        signed_on=lease.signed_on, asset=str(lease.asset_id),
        parcel=str(lease.parcel_id) if lease.parcel_id and lease.asset_id == lease.parcel_id else None,
        counterparty=lease.counterparty_key, on_platform=lease.deal_id is not None,
    )


def related_leases(company: Company, asset: Asset, party_key: str, parcel: Asset | None, signed_on: date,
                   window_days: int) -> list[Lease]:
    """The company's earlier off-platform leases the rule adds a new one up with (indexed)."""
    lo, hi = signed_on - timedelta(days=window_days - 1), signed_on + timedelta(days=window_days - 1)
    # One query per key, each on its own (key, signed_on) index: an OR of the three lets SQLite's
    # planner fall back to scanning the company's leases, which grows with the register
    # (bench/assets.py: ×7.9 from 10,000 to 50,000 contracts with the OR, flat without it).
    keys: list[dict[str, Any]] = [{"asset": asset}, {"counterparty_key": party_key}]
    if parcel is not None and asset.pk == parcel.pk:
        keys.append({"parcel": parcel, "asset": parcel})
    # Only the key and the date range go to the database, so the (key, signed_on) index is the
    # one the planner can use; company, platform and status are checked on the few rows found.
    found: dict[int, Lease] = {}
    for key in keys:
        for lease in Lease.objects.filter(**key, signed_on__gte=lo, signed_on__lte=hi):
            if lease.company_id == company.pk and lease.deal_id is None and lease.status != LeaseStatus.TERMINATED:
                found[lease.pk] = lease
    return list(found.values())


def judge_lease(company: Company, asset: Asset, party_key: str, area: Decimal, monthly_rent: Decimal,
                signed_on: date) -> Verdict:
    """The rule's verdict on a proposed lease, with the company's related earlier leases."""
    rule = rule_for(company, signed_on)
    _building, parcel = _building_and_parcel(asset)
    others = [_facts(lease) for lease in related_leases(company, asset, party_key, parcel, signed_on, rule.window_days)]
    facts = DealFacts(ref="new", company=str(company.pk), area=area, monthly_rent=monthly_rent, signed_on=signed_on,
                      asset=str(asset.pk), parcel=str(parcel.pk) if parcel is not None and parcel.pk == asset.pk else None,
                      counterparty=party_key)
    return judge(facts, others, rule)


def _default_owner(company: Company) -> Any:
    """The alert's owner: an asset manager over the company's place (else nobody yet)."""
    from gongzhi.accounts.models import RoleAssignment

    path = _path(company)
    today = clock.localdate()
    rows = (RoleAssignment.objects.filter(role=Role.ASSET_MANAGER)
            .filter(Q(valid_from__isnull=True) | Q(valid_from__lte=today))
            .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=today))
            .select_related("place", "user").order_by("-place__path", "user_id"))
    for ra in rows:
        if path.startswith(ra.place.path) and ra.user.is_active:
            return ra.user
    return None


def _open_alert(kind: str, key: str, company: Company, message: str, *, actor: Actor, today: date,
                asset: Asset | None = None, lease: Lease | None = None, deal: Deal | None = None,
                facts: dict[str, Any] | None = None) -> Alert | None:
    """Open an alert unless one with ``key`` exists (open or closed: a closed finding stays closed)."""
    if Alert.objects.filter(key=key).exists():
        return None
    alert = Alert.objects.create(
        kind=kind, key=key, company=company, asset=asset, lease=lease, deal=deal, message=message[:300],
        facts=facts or {}, owner=_default_owner(company), deadline=alert_rules.deadline_for(kind, today),
        opened_at=clock.now(),
    )
    record_event("asset.alert_open", actor=actor, obj=alert, place_path=_path(company),
                 after={"kind": kind, "key": key, "message": alert.message, "deadline": alert.deadline})
    return alert


# --- configuration: rules and benchmarks ---------------------------------------------------------


def do_set_trading_rule(district: Any, valid_from: date, *, actor: Actor, area_threshold: Any = "3000",
                        monthly_rent_threshold: Any = "100000", window_days: int = 365,
                        notice_working_days: int = 5, document_ref: str = "") -> TradingRule:
    """Set (or replace for that day) a district's trading rule. Audit ``asset.rule_set``."""
    _ensure(actor, "asset.supervise", district.path)
    if district.kind != "district":
        raise ActionError(_("交易规则按区设定"), field="district")
    if not 1 <= int(window_days) <= 3660:
        raise ActionError(_("合并计算窗口应在 1 至 3660 天之间"), field="window_days")
    if not 1 <= int(notice_working_days) <= 60:
        raise ActionError(_("公告期应在 1 至 60 个工作日之间"), field="notice_working_days")
    values = {"area_threshold": _area(area_threshold, "area_threshold"),
              "monthly_rent_threshold": _money(monthly_rent_threshold, "monthly_rent_threshold"),
              "window_days": int(window_days), "notice_working_days": int(notice_working_days),
              "document_ref": _text(document_ref, "document_ref", 120, required=False)}
    with transaction.atomic():
        rule, created = TradingRule.objects.update_or_create(district=district, valid_from=valid_from, defaults=values)
        record_event("asset.rule_set", actor=actor, obj=rule, place_path=district.path,
                     after={**values, "valid_from": valid_from, "created": created})
    return rule


def do_set_benchmark(place: Any, use_type: str, rent_per_m2: Any, valid_from: date, *, actor: Actor) -> BenchmarkRent:
    _ensure(actor, "asset.supervise", place.path)
    use_type = _choice(use_type, LandUse, "use_type")
    amount = _money(rent_per_m2, "rent_per_m2")
    with transaction.atomic():
        row, _created = BenchmarkRent.objects.update_or_create(
            place=place, use_type=use_type, valid_from=valid_from, defaults={"rent_per_m2": amount})
        record_event("asset.benchmark_set", actor=actor, obj=row, place_path=place.path,
                     after={"use_type": use_type, "rent_per_m2": amount, "valid_from": valid_from})
    return row


# --- the register -------------------------------------------------------------------------------


def do_register_company(uscc: str, name: str, place: Any, *, actor: Actor, legal_representative: str = "") -> Company:
    """Register a shareholding cooperative company by its USCC; idempotent by USCC.

    Side effects: audit ``asset.company_register``."""
    code = _uscc(uscc, "uscc")
    name = _text(name, "name", 120)
    if place is None or place.kind not in {"community", "group"}:
        raise ActionError(_("股份合作公司应挂在社区或居民小组下"), field="place")
    _ensure(actor, "asset.write", place.path)
    existing = Company.objects.filter(uscc=code).select_related("place").first()
    if existing is not None:
        if existing.place.path.startswith(place.path) or place.path.startswith(existing.place.path):
            return existing
        raise ConflictError(_("该统一社会信用代码已在其他辖区登记"), field="uscc")
    with transaction.atomic():
        company = Company.objects.create(uscc=code, name=name, place=place,
                                         legal_representative=_text(legal_representative, "legal_representative", 60,
                                                                    required=False))
        record_event("asset.company_register", actor=actor, obj=company, place_path=place.path,
                     after={"uscc": code, "name": name, "place": place.pk})
    return company


def do_register_asset(company: Company, kind: str, code: str, name: str, use_type: str, area: Any, *,
                      actor: Actor, parent: Asset | None = None, location: str = "",
                      occupancy: str = Occupancy.VACANT, vacant_since: date | None = None) -> Asset:
    """A land parcel, a building (on a parcel) or a unit (in a building). Audit ``asset.register``."""
    _ensure(actor, "asset.write", _path(company))
    kind = _choice(kind, AssetKind, "kind")
    use_type = _choice(use_type, LandUse, "use_type")
    occupancy = _choice(occupancy, Occupancy, "occupancy")
    code = _text(code, "code", 40)
    name = _text(name, "name", 120)
    size = _area(area)
    if parent is not None:
        if parent.company_id != company.pk:
            raise ActionError(_("上级资产不属于本公司"), field="parent")
        allowed = {AssetKind.BUILDING: {AssetKind.LAND}, AssetKind.UNIT: {AssetKind.BUILDING}}.get(AssetKind(kind), set())
        if parent.kind not in allowed:
            raise ActionError(_("楼栋只能挂在土地下，单元只能挂在楼栋下"), field="parent")
    elif kind == AssetKind.UNIT:
        raise ActionError(_("房屋单元须指明所在楼栋"), field="parent")
    if occupancy == Occupancy.VACANT and vacant_since is None:
        vacant_since = clock.localdate()
    try:
        with transaction.atomic():
            asset = Asset.objects.create(
                company=company, kind=kind, code=code, name=name, parent=parent, use_type=use_type, area=size,
                location=_text(location, "location", 200, required=False), occupancy=occupancy,
                vacant_since=vacant_since if occupancy == Occupancy.VACANT else None)
            record_event("asset.register", actor=actor, obj=asset, place_path=_path(company),
                         after={"kind": kind, "code": code, "name": name, "use_type": use_type, "area": size,
                                "parent": getattr(parent, "pk", None)})
    except IntegrityError as exc:
        raise ConflictError(_("资产编号已存在"), field="code") from exc
    return asset


def do_record_appraisal(asset: Asset, appraised_on: date, monthly_rent_value: Any, appraiser: str, *,
                        actor: Actor, report_ref: str = "") -> Appraisal:
    company = asset.company
    _ensure(actor, "asset.write", _path(company))
    value = _money(monthly_rent_value, "monthly_rent_value")
    with transaction.atomic():
        appraisal = Appraisal.objects.create(asset=asset, appraised_on=appraised_on, monthly_rent_value=value,
                                             appraiser=_text(appraiser, "appraiser", 120),
                                             report_ref=_text(report_ref, "report_ref", 80, required=False))
        record_event("asset.appraisal", actor=actor, obj=appraisal, place_path=_path(company),
                     after={"asset": asset.pk, "value": value, "on": appraised_on, "by": appraisal.appraiser})
    return appraisal


# --- leases and the rent ledger ---------------------------------------------------------------------


def _first_of_month(day: date) -> date:
    return day.replace(day=1)


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def _post_charges(lease: Lease, through: date) -> int:
    """Rent due on the first of each month of the lease up to ``through`` (idempotent)."""
    have = set(RentCharge.objects.filter(lease=lease).values_list("period", flat=True))
    rows = []
    period = _first_of_month(lease.starts_on)
    while period <= min(lease.ends_on, through):
        if period not in have:
            rows.append(RentCharge(lease=lease, period=period, due_on=max(period, lease.starts_on),
                                   amount_due=lease.monthly_rent))
        period = _next_month(period)
    RentCharge.objects.bulk_create(rows)
    return len(rows)


def _lease_snapshot(lease: Lease) -> dict[str, Any]:
    return {"contract_no": lease.contract_no, "asset": lease.asset_id, "counterparty": lease.counterparty_name,
            "counterparty_id": lease.counterparty_shown, "area": lease.area, "monthly_rent": lease.monthly_rent,
            "deposit": lease.deposit, "signed_on": lease.signed_on, "starts_on": lease.starts_on,
            "ends_on": lease.ends_on, "deal": lease.deal_id}


def _record_refusal(company: Company, asset: Asset, party: Counterparty, verdict: Verdict, facts: dict[str, Any],
                    *, actor: Actor) -> None:
    """The refused attempt, kept: an audit event and an open alert (own transaction)."""
    kind = AlertKind.SPLIT_DEAL if verdict.is_split else AlertKind.OFF_PLATFORM
    if verdict.is_split:
        message = _("拆分交易被拒绝登记：与同一%(key)s的 %(n)d 份合同合计 %(area)s 平方米、月租金 %(rent)s 元，达到进场交易标准") % {
            "key": {"asset": _("资产"), "parcel": _("地块"), "counterparty": _("承租方")}[verdict.grouped_by],
            "n": len(verdict.related), "area": verdict.total_area, "rent": verdict.total_monthly_rent}
    else:
        message = _("应进场交易的合同未经平台交易，被拒绝登记：%(area)s 平方米、月租金 %(rent)s 元") % {
            "area": verdict.total_area, "rent": verdict.total_monthly_rent}
    with transaction.atomic():
        record_event("asset.lease_refused", actor=actor, object_type="assets.company", object_id=company.pk,
                     place_path=_path(company), after={**facts, "reason": str(kind), "grouped_by": verdict.grouped_by,
                                                       "related": list(verdict.related)})
        _open_alert(kind, f"refused:{uuid.uuid4().hex}", company, message, actor=actor, today=clock.localdate(),
                    asset=asset, facts={**facts, "related": list(verdict.related), "grouped_by": verdict.grouped_by})


def do_register_lease(company: Company, asset: Asset, *, counterparty_kind: str, counterparty_number: str,
                      counterparty_name: str, area: Any, monthly_rent: Any, signed_on: date, starts_on: date,
                      ends_on: date, contract_no: str, actor: Actor, deposit: Any = "0",
                      deal: Deal | None = None, imported: bool = False) -> Lease:
    """Register a lease (or other contract) on an asset and post its rent ledger to date.

    Refused: a term beyond twenty years (Civil Code Art. 705); a lease the trading rule puts on the
    platform, alone or added up with related earlier leases, without its platform transaction —
    that refusal is recorded (audit ``asset.lease_refused`` and an alert) before it is raised.
    Side effects: audit ``asset.lease_register``; the asset becomes leased.
    """
    _ensure(actor, "asset.write", _path(company))
    if asset.company_id != company.pk:
        raise NotFoundError(_("资产不属于本公司"), field="asset")
    party = counterparty(counterparty_kind, counterparty_number, counterparty_name)
    size = _area(area)
    rent = _money(monthly_rent, "monthly_rent")
    guarantee = _money(deposit or "0", "deposit", positive=False)
    contract_no = _text(contract_no, "contract_no", 60)
    if size > asset.area:
        raise ActionError(_("出租面积不能大于资产面积（%(area)s 平方米）") % {"area": asset.area}, field="area")
    if ends_on <= starts_on:
        raise ActionError(_("租期结束日应晚于开始日"), field="ends_on")
    if signed_on > starts_on + timedelta(days=366):
        raise ActionError(_("签订日期不应晚于租期开始一年以上"), field="signed_on")
    if term_too_long(starts_on, ends_on) and not imported:  # old books: kept, and the alert flags it
        raise ActionError(_("租赁期限不得超过二十年（《民法典》第七百零五条），超过部分无效"), field="ends_on",
                          code="term_too_long")
    if deal is None and not imported:
        verdict = judge_lease(company, asset, party.key, size, rent, signed_on)
        if verdict.must_trade:
            facts = {"contract_no": contract_no, "asset": asset.pk, "counterparty": party.name,
                     "counterparty_id": party.shown, "area": str(size), "monthly_rent": str(rent),
                     "signed_on": signed_on.isoformat()}
            _record_refusal(company, asset, party, verdict, facts, actor=actor)
            rule = verdict.rule
            if verdict.is_split:
                message = _("该合同与同一%(key)s在 %(days)d 天内的其他合同合计达到进场交易标准（%(area)s 平方米或月租金 %(rent)s 元），"
                            "不得拆分规避，须通过平台进场交易后登记。此次登记已被拒绝并留痕。") % {
                    "key": {"asset": _("资产"), "parcel": _("地块"), "counterparty": _("承租方")}[verdict.grouped_by],
                    "days": rule.window_days, "area": rule.area_threshold, "rent": rule.monthly_rent_threshold}
            else:
                message = _("面积达到 %(area)s 平方米或月租金达到 %(rent)s 元的集体资产交易须进场交易，"
                            "请先在平台完成交易后由成交结果生成合同。此次登记已被拒绝并留痕。") % {
                    "area": rule.area_threshold, "rent": rule.monthly_rent_threshold}
            raise MustTradeOnPlatform(message, field="deal", extra={"grouped_by": verdict.grouped_by,
                                                                    "total_area": str(verdict.total_area),
                                                                    "total_monthly_rent": str(verdict.total_monthly_rent)})
    building, parcel = _building_and_parcel(asset)
    try:
        with transaction.atomic():
            lease = Lease.objects.create(
                company=company, asset=asset, building=building, parcel=parcel, deal=deal, contract_no=contract_no,
                area=size, monthly_rent=rent, deposit=guarantee, signed_on=signed_on, starts_on=starts_on,
                ends_on=ends_on, **party.fields())
            Asset.objects.filter(pk=asset.pk).update(occupancy=Occupancy.LEASED, vacant_since=None)
            _post_charges(lease, clock.localdate())
            record_event("asset.lease_import" if imported else "asset.lease_register", actor=actor, obj=lease,
                         place_path=_path(company), after=_lease_snapshot(lease))
    except IntegrityError as exc:
        raise ConflictError(_("合同编号已存在"), field="contract_no") from exc
    return lease


def do_reveal_counterparty_number(lease: Lease, reason: str, *, actor: Actor) -> str:
    """The full ID number of a lease's person counterparty, for a stated reason (DESIGN.md §3:
    seeing a full number is a permission and leaves an audit event). Audit ``asset.reveal``."""
    from gongzhi.accounts.permissions import may_reveal_numbers
    from gongzhi.core.crypto import decrypt

    path = _path(lease.company)
    if isinstance(actor, SystemActor) or not has_permission(actor, "asset.reveal", path):
        if not isinstance(actor, SystemActor) and not has_permission(actor, "asset.read", path):
            raise NotFoundError(_("不存在或不在管辖范围内"))
        raise NotAllowedError(_("无权查看完整证件号码"))
    if not may_reveal_numbers(actor):
        raise NotAllowedError(_("无权查看完整证件号码"))
    reason = _text(reason, "reason", 200)
    if not lease.counterparty_number_cipher:
        raise ActionError(_("该合同相对方为单位，统一社会信用代码已公开显示"), field="lease")
    with transaction.atomic():
        record_event("asset.reveal", actor=actor, obj=lease, place_path=path,
                     after={"field": "counterparty_number", "masked": lease.counterparty_number_masked,
                            "reason": reason})
    return decrypt(lease.counterparty_number_cipher)


def do_post_rent_charges(*, actor: Actor, through: date | None = None) -> int:
    """Post each active lease's rent due up to ``through`` (the worker, monthly). Idempotent."""
    if not system_may(actor, MONITOR_GRANT) and not system_may(actor, SYSTEM_GRANT):
        raise NotAllowedError(_("无权进行此操作"))
    through = through or clock.localdate()
    posted = 0
    with transaction.atomic():
        for lease in Lease.objects.filter(status=LeaseStatus.ACTIVE, starts_on__lte=through):
            posted += _post_charges(lease, through)
    return posted


def do_record_payment(charge: RentCharge, amount: Any, paid_on: date, *, actor: Actor) -> RentCharge:
    """A payment against one month's rent. Audit ``asset.rent_paid``."""
    lease = charge.lease
    _ensure(actor, "asset.write", _path(lease.company))
    paid = _money(amount, "amount")
    if charge.amount_paid + paid > charge.amount_due:
        raise ActionError(_("收款金额超过应收金额"), field="amount")
    with transaction.atomic():
        before = charge.amount_paid
        charge.amount_paid = before + paid
        charge.paid_on = paid_on
        charge.save(update_fields=["amount_paid", "paid_on"])
        record_event("asset.rent_paid", actor=actor, obj=charge, place_path=_path(lease.company),
                     before={"paid": before}, after={"paid": charge.amount_paid, "on": paid_on})
    return charge


# --- the companies' existing books (spreadsheet import) ---------------------------------------------

ASSET_KINDS_ZH = {"土地": AssetKind.LAND, "楼栋": AssetKind.BUILDING, "房屋单元": AssetKind.UNIT}
USES_ZH = {str(label): value for value, label in [
    ("industrial", "工业"), ("commercial", "商业"), ("residential", "居住"), ("warehouse", "仓储"),
    ("office", "办公"), ("mixed", "综合"), ("other", "其他")]}
PARTY_ZH = {"单位": CounterpartyKind.ORG, "个人": CounterpartyKind.PERSON}


@dataclass
class ImportReport:
    """Per row: (sheet, row number, ok?, messages). ``applied``: whether anything was stored."""

    rows: list[tuple[str, int, bool, list[str]]]
    applied: bool = False

    @property
    def errors(self) -> list[tuple[str, int, list[str]]]:
        return [(sheet, n, msgs) for sheet, n, ok, msgs in self.rows if not ok]


def _cell(row: dict[str, Any], key: str) -> str:
    value = row.get(key)
    return "" if value is None else str(value).strip()


def _cell_date(row: dict[str, Any], key: str) -> date:
    value = row.get(key)
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(_cell(row, key))
    except ValueError as exc:
        raise ActionError(_("%(col)s：日期格式应为 YYYY-MM-DD") % {"col": key}, field=key) from exc


def do_import_books(company: Company, asset_rows: list[tuple[int, dict[str, Any]]],
                    lease_rows: list[tuple[int, dict[str, Any]]], *, actor: Actor,
                    valid_rows_only: bool = False) -> ImportReport:
    """Import a company's existing books: assets (资产) then contracts (合同), each row through the
    same actions as a page. Every rejected row is reported with its reasons; unless
    ``valid_rows_only``, one bad row means nothing is stored (DESIGN.md §3, bad input).

    Contracts already signed before the platform are registered as they are (``imported``: the
    trading rule cannot undo a signed contract), and the alert recomputation then flags those that
    should have been traded on the platform or were split."""
    _ensure(actor, "asset.write", _path(company))
    report = ImportReport(rows=[])
    with transaction.atomic():
        by_code = {a.code: a for a in Asset.objects.filter(company=company)}
        for n, row in asset_rows:
            try:
                with transaction.atomic():
                    kind = ASSET_KINDS_ZH.get(_cell(row, "类型"), _cell(row, "类型"))
                    use = USES_ZH.get(_cell(row, "用途"), _cell(row, "用途"))
                    parent_code = _cell(row, "上级资产编号")
                    parent = by_code.get(parent_code) if parent_code else None
                    if parent_code and parent is None:
                        raise ActionError(_("上级资产编号 %(c)s 不存在（上级须写在前面的行）") % {"c": parent_code},
                                          field="上级资产编号")
                    asset = do_register_asset(company, kind, _cell(row, "资产编号"), _cell(row, "资产名称"), use,
                                              _cell(row, "面积"), actor=actor, parent=parent,
                                              location=_cell(row, "坐落"),
                                              occupancy=Occupancy.LEASED if _cell(row, "使用状态") == "已出租"
                                              else Occupancy.VACANT)
                    by_code[asset.code] = asset
                report.rows.append(("资产", n, True, []))
            except ActionError as exc:
                report.rows.append(("资产", n, False, [m for _f, m in exc.entries()]))
        for n, row in lease_rows:
            try:
                with transaction.atomic():
                    leased = by_code.get(_cell(row, "资产编号"))
                    if leased is None:
                        raise ActionError(_("资产编号 %(c)s 不存在") % {"c": _cell(row, "资产编号")}, field="资产编号")
                    do_register_lease(
                        company, leased, counterparty_kind=PARTY_ZH.get(_cell(row, "承租方类型"), _cell(row, "承租方类型")),
                        counterparty_number=_cell(row, "承租方证件号码"), counterparty_name=_cell(row, "承租方名称"),
                        area=_cell(row, "出租面积"), monthly_rent=_cell(row, "月租金"), deposit=_cell(row, "押金") or "0",
                        signed_on=_cell_date(row, "签订日期"), starts_on=_cell_date(row, "租期开始"),
                        ends_on=_cell_date(row, "租期结束"), contract_no=_cell(row, "合同编号"), actor=actor,
                        imported=True)
                report.rows.append(("合同", n, True, []))
            except ActionError as exc:
                report.rows.append(("合同", n, False, [m for _f, m in exc.entries()]))
        if report.errors and not valid_rows_only:
            transaction.set_rollback(True)
            return report
        report.applied = any(ok for _s, _n, ok, _m in report.rows)
        record_event("asset.books_import", actor=actor, obj=company, place_path=_path(company),
                     after={"rows": len(report.rows), "rejected": len(report.errors)})
    return report


# --- on-platform trading ------------------------------------------------------------------------------


def _deal_event(verb: str, deal: Deal, actor: Actor, **after: Any) -> None:
    record_event(verb, actor=actor, obj=deal, place_path=_path(deal.company), after={"status": deal.status, **after})


def _step(deal: Deal, expected: str) -> None:
    if deal.status != expected:
        raise ConflictError(_("交易当前状态为「%(now)s」，不能进行此步骤") % {"now": DealStatus(deal.status).label},
                            field="status")


def do_open_deal(company: Company, asset: Asset, title: str, area: Any, term_months_: int, *, decision_ref: str,
                 decided_on: date, actor: Actor, mode: str = BidMode.OPEN,
                 decision_meeting_id: int | None = None) -> Deal:
    """Step 1: the company's decision (board / shareholders' meeting resolution). Audit ``asset.deal_decide``."""
    _ensure(actor, "asset.write", _path(company))
    if asset.company_id != company.pk:
        raise NotFoundError(_("资产不属于本公司"), field="asset")
    size = _area(area)
    if size > asset.area:
        raise ActionError(_("出租面积不能大于资产面积（%(area)s 平方米）") % {"area": asset.area}, field="area")
    if not 1 <= int(term_months_) <= 240:
        raise ActionError(_("租期应在 1 至 240 个月之间（《民法典》第七百零五条：不得超过二十年）"), field="term_months")
    with transaction.atomic():
        deal = Deal.objects.create(company=company, asset=asset, title=_text(title, "title", 160), area=size,
                                   term_months=int(term_months_), mode=_choice(mode, BidMode, "mode"),
                                   decision_ref=_text(decision_ref, "decision_ref", 120), decided_on=decided_on,
                                   decision_meeting_id=decision_meeting_id)
        _deal_event("asset.deal_decide", deal, actor, title=deal.title, asset=asset.pk, area=size,
                    term_months=deal.term_months, decision_ref=deal.decision_ref, meeting=decision_meeting_id)
    return deal


def do_attach_resolution(deal: Deal, meeting_id: int, *, actor: Actor) -> Deal:
    """Attach the company decision held as a shareholders' meeting in the councils engine: a
    council that votes by shares, of the company's place, with approved minutes and an adopted
    main motion. The deal keeps the meeting; its minutes are linked from the deal. Audit
    ``asset.deal_resolution`` with the share counts."""
    from gongzhi.core.registry import resolution_of

    _ensure(actor, "asset.write", _path(deal.company))
    try:
        meeting_id = int(meeting_id)
    except (TypeError, ValueError) as exc:
        raise ActionError(_("会议编号不正确"), field="meeting") from exc
    res = resolution_of(meeting_id) if meeting_id > 0 else None
    if res is None:
        raise ActionError(_("会议不存在或尚未生成纪要"), field="meeting")
    path = _path(deal.company)
    if not (path.startswith(res.place_path) or res.place_path.startswith(path)):
        raise ActionError(_("会议不属于本公司所在社区"), field="meeting")
    if res.council_kind != "shareholders" or not res.weighted:
        raise ActionError(_("公司决议须由按股份表决的股东大会作出"), field="meeting")
    if not res.minutes_approved:
        raise ActionError(_("会议纪要尚未批准"), field="meeting")
    if not res.adopted:
        raise ActionError(_("该会议没有通过的决议"), field="meeting")
    with transaction.atomic():
        deal.decision_meeting_id = res.meeting_id
        deal.save(update_fields=["decision_meeting_id"])
        _deal_event("asset.deal_resolution", deal, actor, meeting=res.meeting_id, title=res.title,
                    adopted=list(res.adopted), minutes=res.minutes_url)
    return deal


def do_attach_appraisal(deal: Deal, appraisal: Appraisal, *, actor: Actor) -> Deal:
    """Step 2: the appraisal of the deal's asset."""
    _ensure(actor, "asset.write", _path(deal.company))
    _step(deal, DealStatus.DECIDED)
    if appraisal.asset_id != deal.asset_id:
        raise ActionError(_("评估报告不是本项目资产的"), field="appraisal")
    with transaction.atomic():
        deal.appraisal = appraisal
        deal.status = DealStatus.APPRAISED
        deal.save(update_fields=["appraisal", "status"])
        _deal_event("asset.deal_appraise", deal, actor, appraisal=appraisal.pk, value=appraisal.monthly_rent_value)
    return deal


def do_set_reserve(deal: Deal, reserve_monthly_rent: Any, deposit: Any, *, actor: Actor,
                   min_increment: Any = "100") -> Deal:
    """Step 3: the reserve price, never below the appraised value."""
    _ensure(actor, "asset.write", _path(deal.company))
    _step(deal, DealStatus.APPRAISED)
    reserve = _money(reserve_monthly_rent, "reserve_monthly_rent")
    assert deal.appraisal is not None
    if not trading.reserve_ok(reserve, deal.appraisal.monthly_rent_value):
        raise ActionError(_("底价不得低于评估价（%(value)s 元/月）") % {"value": deal.appraisal.monthly_rent_value},
                          field="reserve_monthly_rent", code="below_appraisal")
    with transaction.atomic():
        deal.reserve_monthly_rent = reserve
        deal.deposit = _money(deposit, "deposit")
        deal.min_increment = _money(min_increment, "min_increment")
        deal.status = DealStatus.PRICED
        deal.save(update_fields=["reserve_monthly_rent", "deposit", "min_increment", "status"])
        _deal_event("asset.deal_price", deal, actor, reserve=reserve, deposit=deal.deposit, increment=deal.min_increment)
    return deal


def do_list_deal(deal: Deal, listed_on: date, *, actor: Actor) -> Deal:
    """Step 4: list it with its public notice period (the district's working days, default 5)."""
    _ensure(actor, "asset.write", _path(deal.company))
    _step(deal, DealStatus.PRICED)
    row = trading_rule_row(deal.company, listed_on)
    days = row.notice_working_days if row is not None else 5
    with transaction.atomic():
        deal.listed_on = listed_on
        deal.notice_until = add_working_days(listed_on, days).deadline
        deal.status = DealStatus.LISTED
        deal.save(update_fields=["listed_on", "notice_until", "status"])
        _deal_event("asset.deal_list", deal, actor, listed_on=listed_on, notice_until=deal.notice_until)
    return deal


def do_register_bidder(deal: Deal, *, counterparty_kind: str, counterparty_number: str, counterparty_name: str,
                       deposit_paid: Any, actor: Actor, at: datetime | None = None) -> Registration:
    """Step 5: a bidder registers and pays the deposit, within the notice period."""
    _ensure(actor, "asset.write", _path(deal.company))
    _step(deal, DealStatus.LISTED)
    at = at or clock.now()
    if not trading.notice_open(deal.listed_on, deal.notice_until, timezone.localtime(at).date()):
        raise ConflictError(_("不在挂牌公告期内，不能报名"), field="registered_at")
    party = counterparty(counterparty_kind, counterparty_number, counterparty_name)
    paid = _money(deposit_paid, "deposit_paid")
    if deal.deposit is not None and paid < deal.deposit:
        raise ActionError(_("保证金不足：应缴 %(d)s 元") % {"d": deal.deposit}, field="deposit_paid")
    try:
        with transaction.atomic():
            reg = Registration.objects.create(deal=deal, deposit_paid=paid, registered_at=at, **party.fields())
            record_event("asset.deal_register", actor=actor, obj=reg, place_path=_path(deal.company),
                         after={"deal": deal.pk, "bidder": party.name, "id": party.shown, "deposit": paid})
    except IntegrityError as exc:
        raise ConflictError(_("该竞买人已报名"), field="counterparty_number") from exc
    return reg


def do_place_bid(deal: Deal, registration: Registration, monthly_rent: Any, *, idempotency_key: str, actor: Actor,
                 at: datetime | None = None) -> Bid:
    """Step 6: a bid (open ascending or sealed). A retry with the same key returns the first bid."""
    _ensure(actor, "asset.write", _path(deal.company))
    key = _text(idempotency_key, "idempotency_key", 64)
    existing = Bid.objects.filter(idempotency_key=key).first()
    if existing is not None:
        if existing.deal_id != deal.pk:
            raise ConflictError(_("幂等键已用于其他项目"), field="idempotency_key")
        return existing
    _step(deal, DealStatus.LISTED)
    if registration.deal_id != deal.pk:
        raise ActionError(_("竞买人未报名本项目"), field="registration")
    at = at or clock.now()
    if not trading.notice_open(deal.listed_on, deal.notice_until, timezone.localtime(at).date()):
        raise ConflictError(_("不在报价期内"), field="placed_at")
    amount = _money(monthly_rent, "monthly_rent")
    assert deal.reserve_monthly_rent is not None
    earlier = [trading.BidFacts(str(b.pk), str(b.registration_id), b.monthly_rent, b.placed_at)
               for b in Bid.objects.filter(deal=deal)]
    problem = trading.bid_problem(deal.mode, amount, str(registration.pk), deal.reserve_monthly_rent,
                                  deal.min_increment, earlier)
    if problem:
        messages = {"below_reserve": _("报价低于底价（%(r)s 元/月）") % {"r": deal.reserve_monthly_rent},
                    "increment": _("报价须比当前最高价至少高 %(i)s 元") % {"i": deal.min_increment},
                    "sealed_twice": _("密封报价每位竞买人只能报一次")}
        raise ActionError(messages[problem], field="monthly_rent", code=problem)
    with transaction.atomic():
        bid = Bid.objects.create(deal=deal, registration=registration, monthly_rent=amount,
                                 sealed=deal.mode == BidMode.SEALED, placed_at=at, idempotency_key=key)
        # A sealed bid's amount stays out of the log until the award (the log is read by auditors
        # during the bidding); the award event lists every bid.
        record_event("asset.deal_bid", actor=actor, obj=bid, place_path=_path(deal.company),
                     after={"deal": deal.pk, "bidder": registration.pk,
                            "amount": None if bid.sealed else amount})
    return bid


def do_award_deal(deal: Deal, *, actor: Actor, today: date | None = None) -> Deal:
    """Step 7: after the notice period, award to the best valid bid (none: the listing fails).

    Side effects: audit ``asset.deal_award`` with every bid; alerts for an award at the reserve and a
    single bidder."""
    _ensure(actor, "asset.write", _path(deal.company))
    _step(deal, DealStatus.LISTED)
    today = today or clock.localdate()
    assert deal.notice_until is not None
    if today <= deal.notice_until:
        raise ConflictError(_("公告期至 %(d)s 结束，期满后方可确定成交") % {"d": deal.notice_until}, field="status")
    bids = list(Bid.objects.filter(deal=deal))
    best = trading.best_bid([trading.BidFacts(str(b.pk), str(b.registration_id), b.monthly_rent, b.placed_at)
                             for b in bids])
    with transaction.atomic():
        if best is None:
            deal.status = DealStatus.FAILED
            deal.save(update_fields=["status"])
            _deal_event("asset.deal_fail", deal, actor)
            return deal
        winner = next(b for b in bids if str(b.pk) == best.ref)
        deal.awarded_bid = winner
        deal.status = DealStatus.AWARDED
        deal.save(update_fields=["awarded_bid", "status"])
        _deal_event("asset.deal_award", deal, actor, bid=winner.pk, amount=winner.monthly_rent,
                    bids=[{"bid": b.pk, "bidder": b.registration_id, "amount": b.monthly_rent} for b in bids])
        _award_alerts(deal, winner, bids, actor=actor, today=today)
    return deal


def _award_alerts(deal: Deal, winner: Bid, bids: list[Bid], *, actor: Actor, today: date) -> None:
    if deal.reserve_monthly_rent is not None and winner.monthly_rent <= deal.reserve_monthly_rent:
        _open_alert(AlertKind.AT_RESERVE, f"at_reserve:{deal.pk}", deal.company,
                    _("「%(t)s」以底价成交（%(a)s 元/月）") % {"t": deal.title, "a": winner.monthly_rent},
                    actor=actor, today=today, deal=deal, asset=deal.asset)
    if len({b.registration_id for b in bids}) == 1:
        _open_alert(AlertKind.SINGLE_BIDDER, f"single_bidder:{deal.pk}", deal.company,
                    _("「%(t)s」仅一家竞买人报价") % {"t": deal.title}, actor=actor, today=today, deal=deal,
                    asset=deal.asset)


def do_publish_result(deal: Deal, *, actor: Actor) -> Deal:
    """Step 8: the result notice (public page)."""
    _ensure(actor, "asset.write", _path(deal.company))
    _step(deal, DealStatus.AWARDED)
    with transaction.atomic():
        deal.status = DealStatus.NOTICED
        deal.result_noticed_at = clock.now()
        deal.save(update_fields=["status", "result_noticed_at"])
        _deal_event("asset.deal_notice", deal, actor)
    return deal


def do_generate_contract(deal: Deal, *, contract_no: str, starts_on: date, actor: Actor,
                         signed_on: date | None = None) -> Lease:
    """Step 9: the contract, generated from the award (winner, rent, area, term, deposit)."""
    _ensure(actor, "asset.write", _path(deal.company))
    _step(deal, DealStatus.NOTICED)
    bid = deal.awarded_bid
    assert bid is not None
    reg = bid.registration
    party = _stored_counterparty(reg)
    months = deal.term_months
    end_month = starts_on.month - 1 + months
    ends_on = date(starts_on.year + end_month // 12, end_month % 12 + 1, 1)
    ends_on = ends_on.replace(day=min(starts_on.day, 28)) - timedelta(days=1)
    with transaction.atomic():
        lease = _create_lease_from(deal, party, contract_no, bid.monthly_rent, reg.deposit_paid, signed_on or starts_on,
                                   starts_on, ends_on, actor=actor)
        deal.status = DealStatus.CONTRACTED
        deal.save(update_fields=["status"])
        _deal_event("asset.deal_contract", deal, actor, lease=lease.pk, contract_no=lease.contract_no)
    return lease


def _create_lease_from(deal: Deal, party: Counterparty, contract_no: str, rent: Decimal, deposit: Decimal,
                       signed_on: date, starts_on: date, ends_on: date, *, actor: Actor) -> Lease:
    building, parcel = _building_and_parcel(deal.asset)
    try:
        with transaction.atomic():
            lease = Lease.objects.create(
                company=deal.company, asset=deal.asset, building=building, parcel=parcel, deal=deal,
                contract_no=_text(contract_no, "contract_no", 60), area=deal.area, monthly_rent=rent, deposit=deposit,
                signed_on=signed_on, starts_on=starts_on, ends_on=ends_on, **party.fields())
            Asset.objects.filter(pk=deal.asset_id).update(occupancy=Occupancy.LEASED, vacant_since=None)
            _post_charges(lease, clock.localdate())
            record_event("asset.lease_register", actor=actor, obj=lease, place_path=_path(deal.company),
                         after=_lease_snapshot(lease))
    except IntegrityError as exc:
        raise ConflictError(_("合同编号已存在"), field="contract_no") from exc
    return lease


# --- alerts ----------------------------------------------------------------------------------------


@dataclass
class AlertRun:
    opened: int = 0
    checked_leases: int = 0


def do_recompute_alerts(*, actor: Actor, today: date | None = None,
                        companies: Iterable[Company] | None = None) -> AlertRun:
    """Look at every lease and asset (of ``companies``, or all) and open the alerts found.

    Idempotent: each finding has a key; an alert once opened (or closed) is not opened again.
    Findings: off-platform leases above the threshold or adding up to it (split), term beyond
    twenty years, rent below the area benchmark, arrears, expiry within 90/60/30 days with no
    re-tender under way, assets vacant 90 days or more."""
    if isinstance(actor, SystemActor):
        if not (system_may(actor, MONITOR_GRANT) or system_may(actor, SYSTEM_GRANT)):
            raise NotAllowedError(_("无权进行此操作"))
    elif not has_permission(actor, "asset.supervise"):
        raise NotAllowedError(_("无权进行此操作"))
    today = today or clock.localdate()
    run = AlertRun()
    qs = Company.objects.select_related("place")
    if companies is not None:
        qs = qs.filter(pk__in=[c.pk for c in companies])
    elif not isinstance(actor, SystemActor):
        from gongzhi.accounts.permissions import role_names
        from gongzhi.accounts.scope import scope_q

        if not getattr(actor, "is_superuser", False):
            qs = qs.filter(scope_q(actor, "place__path", roles=role_names("asset.supervise")))
    with transaction.atomic():
        for company in qs:
            run.opened += _company_alerts(company, today, actor=actor, run=run)
    return run


def _benchmark(company: Company, use_type: str, on: date) -> Decimal | None:
    path = _path(company)
    prefixes = ["/".join(path.split("/")[:i]) + "/" for i in range(2, path.count("/") + 1)]
    row = (BenchmarkRent.objects.filter(place__path__in=prefixes, use_type=use_type, valid_from__lte=on)
           .order_by("-place__path", "-valid_from").first())
    return row.rent_per_m2 if row is not None else None


class _AlertBatch:
    """A recomputation's findings, opened set-based: the owner looked up once per company, the
    keys already taken read in chunks (one ``IN`` query per chunk), the new alerts written with
    one ``bulk_create`` and their audit events with one ``record_events`` — instead of three
    queries and an insert per finding (``_open_alert``), which does not scale to a district."""

    CHUNK = 500  # keys per look-up: well under SQLite's bound on query parameters

    def __init__(self, company: Company, *, actor: Actor, today: date) -> None:
        self.company = company
        self.actor = actor
        self.today = today
        self.pending: dict[str, Alert] = {}

    def add(self, kind: str, key: str, message: str, *, asset: Asset | None = None, lease: Lease | None = None,
            deal: Deal | None = None, facts: dict[str, Any] | None = None) -> None:
        if key in self.pending:
            return
        self.pending[key] = Alert(kind=kind, key=key, company=self.company, asset=asset, lease=lease, deal=deal,
                                  message=message[:300], facts=facts or {},
                                  deadline=alert_rules.deadline_for(kind, self.today))

    def flush(self) -> int:
        """Open the pending alerts whose key is new (an alert once opened, or closed, stays as it is)."""
        if not self.pending:
            return 0
        keys = list(self.pending)
        taken: set[str] = set()
        for at in range(0, len(keys), self.CHUNK):
            taken.update(Alert.objects.filter(key__in=keys[at:at + self.CHUNK]).values_list("key", flat=True))
        new = [alert for key, alert in self.pending.items() if key not in taken]
        self.pending = {}
        if not new:
            return 0
        owner = _default_owner(self.company)
        now = clock.now()
        for alert in new:
            alert.owner = owner
            alert.opened_at = now
        Alert.objects.bulk_create(new, batch_size=1000)
        path = _path(self.company)
        record_events([new_event("asset.alert_open", actor=self.actor, obj=alert, place_path=path,
                                 after={"kind": alert.kind, "key": alert.key, "message": alert.message,
                                        "deadline": alert.deadline}) for alert in new])
        return len(new)


def _company_alerts(company: Company, today: date, *, actor: Actor, run: AlertRun) -> int:
    batch = _AlertBatch(company, actor=actor, today=today)
    benchmarks: dict[str, Decimal | None] = {}
    leases = list(Lease.objects.filter(company=company).exclude(status=LeaseStatus.TERMINATED).select_related("asset"))
    rules = _rules_for(company)
    facts = [_facts(lease) for lease in leases]
    retender = set(Deal.objects.filter(company=company, status__in=[
        DealStatus.DECIDED, DealStatus.APPRAISED, DealStatus.PRICED, DealStatus.LISTED, DealStatus.AWARDED,
        DealStatus.NOTICED]).values_list("asset_id", flat=True))
    owed_by_lease: dict[int, Decimal] = {}
    for row in (RentCharge.objects.filter(lease__company=company, due_on__lt=today)
                .values("lease_id").annotate(due=Sum("amount_due"), paid=Sum("amount_paid"))):
        if row["paid"] < row["due"]:
            owed_by_lease[row["lease_id"]] = (Decimal(row["due"]) - Decimal(row["paid"])).quantize(Decimal("0.01"))

    alert = batch.add

    by_key: dict[tuple[str, str], list[DealFacts]] = {}
    for f in facts:
        for key in GROUP_KEYS:
            value = getattr(f, key)
            if value is not None:
                by_key.setdefault((key, value), []).append(f)
    for lease, fact in zip(leases, facts, strict=True):
        run.checked_leases += 1
        if lease.deal_id is None:
            rule = rule_on(rules, lease.signed_on)
            # Only the leases sharing a key can add up with this one: look them up by key, not by
            # scanning the company's every lease (a company may hold thousands).
            candidates = {id(f): f for key in GROUP_KEYS if getattr(fact, key) is not None
                          for f in by_key.get((key, getattr(fact, key)), ())}
            earlier = [f for f in candidates.values() if f.signed_on <= lease.signed_on and f.ref != fact.ref]
            verdict = judge(fact, earlier, rule)
            if verdict.must_trade and verdict.alone:
                alert(AlertKind.OFF_PLATFORM, f"off_platform:{lease.pk}",
                      _("合同 %(no)s 达到进场交易标准却未经平台交易") % {"no": lease.contract_no}, lease=lease,
                      asset=lease.asset)
            elif verdict.must_trade:
                alert(AlertKind.SPLIT_DEAL, f"split:{lease.pk}",
                      _("合同 %(no)s 与 %(n)d 份相关合同合计达到进场交易标准，疑似拆分") % {
                          "no": lease.contract_no, "n": len(verdict.related)}, lease=lease, asset=lease.asset,
                      facts={"related": list(verdict.related), "grouped_by": verdict.grouped_by})
        if term_too_long(lease.starts_on, lease.ends_on):
            alert(AlertKind.TERM_TOO_LONG, f"term:{lease.pk}",
                  _("合同 %(no)s 租期超过二十年") % {"no": lease.contract_no}, lease=lease, asset=lease.asset)
        if lease.status == LeaseStatus.ACTIVE and lease.starts_on <= today <= lease.ends_on:
            use = lease.asset.use_type
            if use not in benchmarks:
                benchmarks[use] = _benchmark(company, use, today)
            bench = benchmarks[use]
            if alert_rules.below_benchmark(lease.monthly_rent, lease.area, bench):
                alert(AlertKind.BELOW_BENCHMARK, f"benchmark:{lease.pk}:{today:%Y}",
                      _("合同 %(no)s 租金 %(r)s 元/平方米·月，低于片区基准价 %(b)s") % {
                          "no": lease.contract_no, "r": (lease.monthly_rent / lease.area).quantize(Decimal("0.01")),
                          "b": bench}, lease=lease, asset=lease.asset)
            step = alert_rules.expiry_step(lease.ends_on, today, lease.asset_id in retender)
            if step is not None:
                alert(AlertKind.EXPIRING, f"expiring:{lease.pk}:{step}",
                      _("合同 %(no)s 将于 %(d)s 到期（%(s)d 天内），尚未启动重新招租") % {
                          "no": lease.contract_no, "d": lease.ends_on, "s": step}, lease=lease, asset=lease.asset)
        owed = owed_by_lease.get(lease.pk)
        if owed:
            alert(AlertKind.ARREARS, f"arrears:{lease.pk}:{today:%Y-%m}",
                  _("合同 %(no)s 拖欠租金 %(a)s 元") % {"no": lease.contract_no, "a": owed}, lease=lease,
                  asset=lease.asset, facts={"owed": str(owed)})
    for asset in Asset.objects.filter(company=company, occupancy=Occupancy.VACANT, vacant_since__isnull=False):
        if alert_rules.vacant_too_long(asset.vacant_since, today):
            alert(AlertKind.VACANT, f"vacant:{asset.pk}:{asset.vacant_since}",
                  _("资产 %(c)s 自 %(d)s 起空置") % {"c": asset.code, "d": asset.vacant_since}, asset=asset)
    return batch.flush()


def do_assign_alert(alert: Alert, owner: Any, deadline: date, *, actor: Actor) -> Alert:
    _ensure(actor, "asset.supervise", _path(alert.company))
    with transaction.atomic():
        before = {"owner": alert.owner_id, "deadline": alert.deadline}
        alert.owner, alert.deadline = owner, deadline
        alert.save(update_fields=["owner", "deadline"])
        record_event("asset.alert_assign", actor=actor, obj=alert, place_path=_path(alert.company), before=before,
                     after={"owner": getattr(owner, "pk", None), "deadline": deadline})
    return alert


def do_close_alert(alert: Alert, note: str, *, actor: Actor) -> Alert:
    """Close an alert with a note saying what was done. Audit ``asset.alert_close``."""
    _ensure(actor, "alert.close", _path(alert.company))
    note = _text(note, "note", 2000)
    if alert.status == AlertStatus.CLOSED:
        raise ConflictError(_("该预警已办结"), field="status")
    with transaction.atomic():
        alert.status = AlertStatus.CLOSED
        alert.closing_note = note
        alert.closed_at = clock.now()
        alert.closed_by = None if isinstance(actor, SystemActor) else actor  # type: ignore[assignment]
        alert.save(update_fields=["status", "closing_note", "closed_at", "closed_by"])
        record_event("asset.alert_close", actor=actor, obj=alert, place_path=_path(alert.company),
                     before={"status": AlertStatus.OPEN}, after={"status": AlertStatus.CLOSED, "note": note})
    return alert


def lease_term_months(lease: Lease) -> int:
    return term_months(lease.starts_on, lease.ends_on)


# --- the daily monitoring timer (a durable timer row: DESIGN.md §3) ------------------------------

DAILY_TIMER = "assets.daily_monitoring"
_armed_for: list[date] = []  # the day this process last made sure the timer exists


def _daily_key(day: date) -> str:
    return f"{DAILY_TIMER}:{day.isoformat()}"


def arm_daily_monitoring() -> None:
    """Periodic (every worker tick): make sure today's monitoring timer exists. One query a day per
    process; the timer's key makes several workers arm it once."""
    from gongzhi.core.actions import do_schedule_timer

    today = clock.localdate()
    if _armed_for and _armed_for[0] == today:
        return
    # The next 02:00 to come (never one already past: arming fires nothing at once).
    at_night = timezone.make_aware(datetime.combine(today, datetime.min.time())) + timedelta(hours=2)
    if at_night <= clock.now():
        at_night += timedelta(days=1)
    do_schedule_timer(DAILY_TIMER, _daily_key(timezone.localtime(at_night).date()), at_night)
    _armed_for[:] = [today]


def handle_daily_monitoring(timer: Any) -> None:
    """Post the rent due to date and recompute every company's alerts (the worker, once a day)."""
    from gongzhi.core.actors import ASSETS_MONITOR

    do_post_rent_charges(actor=ASSETS_MONITOR)
    do_recompute_alerts(actor=ASSETS_MONITOR)



# --- feeds from other systems: file drop and HTTP pull, reconciled with the register -------------

FEED_ALERT_KINDS = {
    "feed_missing_here": AlertKind.FEED_MISSING_HERE,
    "feed_missing_there": AlertKind.FEED_MISSING_THERE,
    "feed_price_mismatch": AlertKind.FEED_PRICE_MISMATCH,
}
MAX_FEED_BYTES = 64 * 1024 * 1024


def _feed_source(source: str) -> Any:
    from gongzhi.assets.domain.feeds import FeedSource

    try:
        return FeedSource(source)
    except ValueError as exc:
        raise ActionError(_("不支持的来源系统"), field="source") from exc


def _may_run_feeds(actor: Actor) -> None:
    if isinstance(actor, SystemActor):
        if system_may(actor, SYSTEM_GRANT) or system_may(actor, MONITOR_GRANT):
            return
        raise NotAllowedError(_("无权进行此操作"))
    if not has_permission(actor, "asset.supervise"):
        raise NotAllowedError(_("无权进行此操作"))


def _counterparty_key_of(number: str) -> str:
    """The register's grouping key for a feed's counterparty: a firm's USCC, a person's blind index."""
    text = "".join((number or "").split()).upper()
    if not text:
        return ""
    if check_uscc(text).valid:
        return text
    person = check_person_number(text)
    return blind_index(person.normalized) if person.valid else text


def register_records_for(source: Any, feed_records: Iterable[Any]) -> tuple[list[Any], dict[str, Lease]]:
    """The register's side of a reconciliation: the leases of the companies the feed names, and
    every lease that names a reference in ``source`` (which the feed is expected to have).

    One query (leases joined with their asset, parcel and platform deal), keyed by the company's
    USCC and the JSON reference; returns the records and the leases by register id."""
    from gongzhi.assets.domain.feeds import PriceBasis, RegisterRecord

    usccs = sorted({r.company_uscc for r in feed_records if r.company_uscc})
    qs = (Lease.objects.filter(Q(company__uscc__in=usccs) | Q(feed_refs__has_key=source.value))
          .exclude(status=LeaseStatus.TERMINATED)
          .select_related("company", "asset", "parcel", "deal").order_by("pk"))
    records: list[Any] = []
    by_id: dict[str, Lease] = {}
    for lease in qs:
        register_id = f"{lease.company.uscc}/{lease.contract_no}"
        by_id[register_id] = lease
        refs = {k: str(v) for k, v in (lease.feed_refs or {}).items() if k == source.value and v}
        records.append(RegisterRecord(
            register_id=register_id, refs={source: refs[source.value]} if refs else {},
            company_uscc=lease.company.uscc, asset_ref=lease.asset.code,
            parcel_ref=lease.parcel.code if lease.parcel is not None else "",
            counterparty_id=lease.counterparty_key, area_m2=lease.area, price_basis=PriceBasis.MONTHLY_RENT,
            reserve_price_yuan=lease.deal.reserve_monthly_rent if lease.deal is not None else None,
            deal_price_yuan=lease.monthly_rent, dated=lease.signed_on, start_on=lease.starts_on,
            end_on=lease.ends_on))
    return records, by_id


def _feed_key(source: str, item: Any) -> str:
    import hashlib

    raw = f"feed:{source}:{item.outcome.value}:{item.external_id}:{item.register_id}"
    if len(raw) <= 120:
        return raw
    return f"feed:{source}:{item.outcome.value}:" + hashlib.sha256(raw.encode()).hexdigest()[:64]


def _issue_json(issue: Any) -> dict[str, str]:
    from gongzhi.core.domain.identifiers import mask_number

    reason = str(issue.reason)
    ext = str(issue.external_id)
    # The adapters never write a personal number unmasked; mask anything that looks like one anyway.
    for word in set(reason.replace("：", " ").replace("，", " ").split()):
        if len(word) >= 15 and check_person_number(word).valid:
            reason = reason.replace(word, mask_number(word))
    return {"where": str(issue.where), "reason": reason, "external_id": ext}


def _apply_feed(source: Any, parsed: Any, *, actor: Actor, channel: str, origin: str,
                started_at: datetime) -> Any:
    from gongzhi.assets.domain.feeds import reconcile
    who = getattr(actor, "username", "") or getattr(actor, "name", "") or str(actor)
    base = {"source": source.value, "channel": channel, "origin": origin[:300], "digest": parsed.digest,
            "started_at": started_at, "started_by": str(who)[:120],
            "issues": [_issue_json(i) for i in parsed.issues]}
    if parsed.fatal is not None:
        with transaction.atomic():
            run = FeedRun.objects.create(**base, status="failed", fatal=str(parsed.fatal)[:500],
                                         finished_at=clock.now(), skipped=len(parsed.issues))
            record_event("asset.feed_failed", actor=actor, obj=run, place_path="/",
                         after={"source": source.value, "reason": run.fatal})
        return run
    if parsed.digest and FeedRun.objects.filter(source=source.value, digest=parsed.digest, status="applied").exists():
        raise ConflictError(_("该数据已导入过，不再重复导入"), field="file", code="feed_already_applied")
    # The feed's counterparties compared by the register's key (a person by blind index).
    records = [replace(r, counterparty_id=_counterparty_key_of(r.counterparty_id)) for r in parsed.records]
    originals = {r.external_id: r for r in parsed.records}
    today = clock.localdate()
    try:
        with transaction.atomic():
            registers, leases = register_records_for(source, records)
            dates = [d for r in records for d in (r.deal_on, r.published_on) if d is not None]
            window = (min(dates), max(dates)) if dates else None
            report = reconcile(source, records, registers, window=window, complete=window is not None)
            run = FeedRun.objects.create(
                **base, status="applied", finished_at=clock.now(), records=len(records), skipped=len(parsed.issues),
                matched=len(report.matched), missing_here=len(report.missing_here),
                missing_there=len(report.missing_there), different_price=len(report.different_price))
            companies = {c.uscc: c for c in Company.objects.filter(
                uscc__in={r.company_uscc for r in records if r.company_uscc}).select_related("place")}
            items: list[dict[str, Any]] = []
            opened = 0
            for item in report.items:
                lease = leases.get(item.register_id) if item.register_id else None
                if item.matched_by == "asset" and lease is not None and item.external_id:
                    lease.feed_refs = {**(lease.feed_refs or {}), source.value: item.external_id}
                    lease.save(update_fields=["feed_refs"])
                if item.feed is not None and item.feed.external_id in originals:  # masked from the real number
                    item = replace(item, feed=originals[item.feed.external_id])
                text = item.reason
                entry = {"outcome": item.outcome.value, "external_id": item.external_id,
                         "register_id": item.register_id, "text": text, "alert": ""}
                kind = FEED_ALERT_KINDS.get(item.alert_kind.value) if item.alert_kind is not None else None
                company = lease.company if lease is not None else (
                    companies.get(item.feed.company_uscc) if item.feed is not None else None)
                if kind is not None and company is not None:
                    key = _feed_key(source.value, item)
                    facts = {"feed_run": run.pk, "source": source.value, "external_id": item.external_id,
                             "register_id": item.register_id}
                    alert = _open_alert(kind, key, company, text, actor=actor, today=today, lease=lease,
                                        asset=lease.asset if lease is not None else None, facts=facts)
                    if alert is not None:
                        opened += 1
                    else:  # refresh an open one with this run's figures
                        Alert.objects.filter(key=key, status=AlertStatus.OPEN).update(message=text[:300],
                                                                                      facts=facts)
                    entry["alert"] = key
                elif kind is not None:
                    entry["alert"] = "no_company"
                items.append(entry)
            run.items = items
            run.alerts_opened = opened
            run.save(update_fields=["items", "alerts_opened"])
            record_event("asset.feed_applied", actor=actor, obj=run, place_path="/",
                         after={"source": source.value, "digest": parsed.digest, "records": run.records,
                                "skipped": run.skipped, "alerts_opened": opened})
    except IntegrityError as exc:  # the same input applied concurrently
        raise ConflictError(_("该数据已导入过，不再重复导入"), field="file", code="feed_already_applied") from exc
    return run


def do_import_feed(source: str, data: bytes, *, actor: Actor, name: str = "") -> Any:
    """Apply a dropped file of ``source`` (``exchange``, ``procurement`` or ``trading_centre``).

    The run is applied atomically: the run row, the references learnt and the alerts raised for
    each mismatch, or (a fatal input) only the failed run row. Malformed records are reported in
    the run and skipped. An input already applied (same SHA-256) is refused with 409."""
    _may_run_feeds(actor)
    feed_source = _feed_source(source)
    if not data:
        raise ActionError(_("请选择要导入的文件"), field="file")
    if len(data) > MAX_FEED_BYTES:
        raise ActionError(_("文件过大"), field="file")
    from gongzhi.assets.domain.feeds import parse_feed

    started = clock.now()
    parsed = parse_feed(feed_source, data)
    return _apply_feed(feed_source, parsed, actor=actor, channel="file", origin=name, started_at=started)


def do_pull_feed(source: str, url: str, *, actor: Actor, fetcher: Any = None) -> Any:
    """Pull ``source`` over HTTP (``urllib``; the trading centre's pages followed) and apply it
    like a dropped file. A failed fetch is stored as a failed run."""
    _may_run_feeds(actor)
    feed_source = _feed_source(source)
    url = (url or "").strip()
    if not url.startswith(("http://", "https://")) or len(url) > 300:
        raise ActionError(_("地址无效，只接受http或https地址"), field="url")
    from gongzhi.assets.domain.feeds import pull_feed, urllib_fetcher

    started = clock.now()
    parsed = pull_feed(feed_source, url, fetcher=fetcher or urllib_fetcher())
    return _apply_feed(feed_source, parsed, actor=actor, channel="pull", origin=url, started_at=started)
