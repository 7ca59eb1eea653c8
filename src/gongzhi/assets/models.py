"""The collective-asset register (集体资产) and its on-platform trading (阳光交易).

Thin tables; the rules live in ``domain/`` and every write in ``actions.py``. Money is ``Decimal``
yuan with two places, area ``Decimal`` m² with two places (DESIGN.md §3, core.domain.money).

A counterparty who is a person is stored like every personal number (DESIGN.md §3): ciphertext,
keyed blind index, masked form — never the plain number. ``counterparty_key`` is the key the
anti-splitting rule groups by (the USCC of a firm, the blind index of a person).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from gongzhi.assets.enums import (
    AlertKind,
    AlertStatus,
    AssetKind,
    BidMode,
    CounterpartyKind,
    DealStatus,
    FeedChannel,
    FeedRunStatus,
    FeedSourceChoice,
    LandUse,
    LeaseStatus,
    Occupancy,
)


class TradingRule(models.Model):
    """A district's on-platform trading threshold, in force from ``valid_from`` (dated, so a deal
    is judged by the rule of its own date). Default values are Longhua's (seed)."""

    district = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="+")
    valid_from = models.DateField()
    area_threshold = models.DecimalField(_("面积门槛（平方米）"), max_digits=12, decimal_places=2)
    monthly_rent_threshold = models.DecimalField(_("月租金门槛（元）"), max_digits=14, decimal_places=2)
    window_days = models.PositiveIntegerField(_("合并计算窗口（天）"), default=365)
    notice_working_days = models.PositiveSmallIntegerField(_("挂牌公告期（工作日）"), default=5)
    document_ref = models.CharField(_("文件依据"), max_length=120, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["district", "valid_from"], name="assets_rule_one_per_day")]
        verbose_name = _("进场交易规则")
        verbose_name_plural = _("进场交易规则")

    def __str__(self) -> str:
        return f"{self.district_id} {self.valid_from}"


class Company(models.Model):
    """A shareholding cooperative company (股份合作公司), by its USCC (public registration data)."""

    uscc = models.CharField(_("统一社会信用代码"), max_length=18, unique=True)
    name = models.CharField(_("名称"), max_length=120, db_index=True)
    place = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="+",
                              help_text=_("所属社区或居民小组"))
    legal_representative = models.CharField(_("法定代表人"), max_length=60, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("股份合作公司")
        verbose_name_plural = _("股份合作公司")

    def __str__(self) -> str:
        return self.name


class Asset(models.Model):
    """A land parcel, a building on it, or a unit in a building (``parent``)."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="assets")
    kind = models.CharField(max_length=10, choices=AssetKind.choices)
    code = models.CharField(_("资产编号"), max_length=40)
    name = models.CharField(_("名称"), max_length=120)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    use_type = models.CharField(_("用途"), max_length=12, choices=LandUse.choices)
    area = models.DecimalField(_("面积（平方米）"), max_digits=12, decimal_places=2)
    location = models.CharField(_("坐落"), max_length=200, blank=True)
    occupancy = models.CharField(max_length=10, choices=Occupancy.choices, default=Occupancy.VACANT)
    vacant_since = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["company", "code"], name="assets_asset_code_per_company")]
        indexes = [models.Index(fields=["company", "kind"], name="assets_asset_company_kind_idx")]
        verbose_name = _("集体资产")
        verbose_name_plural = _("集体资产")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Appraisal(models.Model):
    asset = models.ForeignKey(Asset, on_delete=models.PROTECT, related_name="appraisals")
    appraised_on = models.DateField()
    monthly_rent_value = models.DecimalField(_("评估月租金（元）"), max_digits=14, decimal_places=2)
    appraiser = models.CharField(_("评估机构"), max_length=120)
    report_ref = models.CharField(_("评估报告编号"), max_length=80, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-appraised_on", "-id"]
        verbose_name = _("资产评估")
        verbose_name_plural = _("资产评估")

    def __str__(self) -> str:
        return f"{self.asset_id} {self.appraised_on}"


class BenchmarkRent(models.Model):
    """The area's reference rent (片区租金指导价) per m² a month, by use; dated."""

    place = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="+")
    use_type = models.CharField(max_length=12, choices=LandUse.choices)
    rent_per_m2 = models.DecimalField(_("基准月租金（元/平方米）"), max_digits=14, decimal_places=2)
    valid_from = models.DateField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["place", "use_type", "valid_from"], name="assets_benchmark_unique")]
        verbose_name = _("片区租金基准价")
        verbose_name_plural = _("片区租金基准价")

    def __str__(self) -> str:
        return f"{self.place_id} {self.use_type} {self.rent_per_m2}"


class _Counterparty(models.Model):
    counterparty_kind = models.CharField(max_length=8, choices=CounterpartyKind.choices)
    counterparty_name = models.CharField(_("相对方名称"), max_length=120)
    counterparty_uscc = models.CharField(max_length=18, blank=True)
    counterparty_number_cipher = models.TextField(blank=True)
    counterparty_number_bidx = models.CharField(max_length=64, blank=True)
    counterparty_number_masked = models.CharField(max_length=24, blank=True)
    # The USCC of a firm, the blind index of a person: what the anti-splitting rule groups by.
    counterparty_key = models.CharField(max_length=64)

    class Meta:
        abstract = True

    @property
    def counterparty_shown(self) -> str:
        return self.counterparty_uscc or self.counterparty_number_masked


class Deal(models.Model):
    """One on-platform transaction (进场交易): decision → appraisal → reserve → listing → bids →
    award → result notice → contract."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="deals")
    asset = models.ForeignKey(Asset, on_delete=models.PROTECT, related_name="deals")
    title = models.CharField(_("项目名称"), max_length=160)
    area = models.DecimalField(_("出租面积（平方米）"), max_digits=12, decimal_places=2)
    term_months = models.PositiveSmallIntegerField(_("租期（月）"))
    mode = models.CharField(max_length=8, choices=BidMode.choices, default=BidMode.OPEN)
    status = models.CharField(max_length=12, choices=DealStatus.choices, default=DealStatus.DECIDED)
    decision_ref = models.CharField(_("决议文号"), max_length=120)
    decision_meeting_id = models.PositiveIntegerField(null=True, blank=True, help_text=_("议事会系统中的股东大会会议编号"))
    decided_on = models.DateField()
    appraisal = models.ForeignKey(Appraisal, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reserve_monthly_rent = models.DecimalField(_("底价（元/月）"), null=True, blank=True, max_digits=14, decimal_places=2)
    deposit = models.DecimalField(_("竞买保证金（元）"), null=True, blank=True, max_digits=14, decimal_places=2)
    min_increment = models.DecimalField(_("加价幅度（元）"), default=100, max_digits=14, decimal_places=2)
    listed_on = models.DateField(null=True, blank=True)
    notice_until = models.DateField(null=True, blank=True)
    awarded_bid = models.ForeignKey("Bid", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    result_noticed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["status", "listed_on"], name="assets_deal_status_idx")]
        verbose_name = _("进场交易项目")
        verbose_name_plural = _("进场交易项目")

    def __str__(self) -> str:
        return self.title


class Registration(_Counterparty):
    """A bidder's registration for a deal, with the deposit paid (报名及缴纳保证金)."""

    deal = models.ForeignKey(Deal, on_delete=models.PROTECT, related_name="registrations")
    deposit_paid = models.DecimalField(max_digits=14, decimal_places=2)
    registered_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["deal", "counterparty_key"], name="assets_one_registration")]
        verbose_name = _("竞买报名")
        verbose_name_plural = _("竞买报名")

    def __str__(self) -> str:
        return f"{self.deal_id} {self.counterparty_name}"


class Bid(models.Model):
    deal = models.ForeignKey(Deal, on_delete=models.PROTECT, related_name="bids")
    registration = models.ForeignKey(Registration, on_delete=models.PROTECT, related_name="bids")
    monthly_rent = models.DecimalField(_("报价（元/月）"), max_digits=14, decimal_places=2)
    sealed = models.BooleanField(default=False)
    placed_at = models.DateTimeField()
    idempotency_key = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["-monthly_rent", "placed_at"]
        verbose_name = _("报价")
        verbose_name_plural = _("报价")

    def __str__(self) -> str:
        return f"{self.deal_id} {self.monthly_rent}"


class Lease(_Counterparty):
    """A lease or other contract on an asset; ``deal`` is its platform transaction, if any."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="leases")
    asset = models.ForeignKey(Asset, on_delete=models.PROTECT, related_name="leases")
    # Keys of the anti-splitting rule: the building (a unit's building, or the asset itself) and
    # the land parcel it stands on, kept on the row so the rolling-window checks are indexed.
    building = models.ForeignKey(Asset, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    parcel = models.ForeignKey(Asset, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    deal = models.OneToOneField(Deal, null=True, blank=True, on_delete=models.PROTECT, related_name="lease")
    contract_no = models.CharField(_("合同编号"), max_length=60)
    area = models.DecimalField(_("面积（平方米）"), max_digits=12, decimal_places=2)
    monthly_rent = models.DecimalField(_("月租金（元）"), max_digits=14, decimal_places=2)
    deposit = models.DecimalField(_("押金（元）"), default=0, max_digits=14, decimal_places=2)
    signed_on = models.DateField()
    starts_on = models.DateField()
    ends_on = models.DateField()
    status = models.CharField(max_length=12, choices=LeaseStatus.choices, default=LeaseStatus.ACTIVE)
    # The deal's number in other systems ({"exchange": "SZ-2026-001", ...}), learnt when a feed
    # matched it by asset and counterparty; a later feed matches it by reference.
    feed_refs = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company", "contract_no"], name="assets_contract_no_per_company"),
            models.CheckConstraint(condition=models.Q(ends_on__gt=models.F("starts_on")), name="assets_lease_ends_after_start"),
        ]
        indexes = [
            models.Index(fields=["counterparty_key", "signed_on"], name="assets_lease_party_idx"),
            models.Index(fields=["building", "signed_on"], name="assets_lease_building_idx"),
            models.Index(fields=["parcel", "signed_on"], name="assets_lease_parcel_idx"),
            models.Index(fields=["asset", "signed_on"], name="assets_lease_asset_idx"),
            models.Index(fields=["status", "ends_on"], name="assets_lease_expiry_idx"),
        ]
        verbose_name = _("租赁合同")
        verbose_name_plural = _("租赁合同")

    def __str__(self) -> str:
        return self.contract_no


class RentCharge(models.Model):
    """One month of the rent ledger: what is due and what was paid."""

    lease = models.ForeignKey(Lease, on_delete=models.PROTECT, related_name="charges")
    period = models.DateField(help_text=_("所属月份（当月1日）"))
    due_on = models.DateField()
    amount_due = models.DecimalField(max_digits=14, decimal_places=2)
    amount_paid = models.DecimalField(default=0, max_digits=14, decimal_places=2)
    paid_on = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["lease", "period"], name="assets_one_charge_per_month")]
        indexes = [models.Index(fields=["due_on"], name="assets_charge_due_idx")]
        verbose_name = _("租金台账")
        verbose_name_plural = _("租金台账")

    def __str__(self) -> str:
        return f"{self.lease_id} {self.period:%Y-%m}"


class Alert(models.Model):
    """A monitoring alert (预警) with an owner, a deadline and a closing note. ``key`` makes the
    recomputation idempotent: the same finding never opens a second alert."""

    kind = models.CharField(max_length=24, choices=AlertKind.choices)
    status = models.CharField(max_length=8, choices=AlertStatus.choices, default=AlertStatus.OPEN)
    key = models.CharField(max_length=120, unique=True)
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="alerts")
    asset = models.ForeignKey(Asset, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    lease = models.ForeignKey(Lease, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    deal = models.ForeignKey(Deal, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    message = models.CharField(max_length=300)
    facts = models.JSONField(default=dict, blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    deadline = models.DateField()
    opened_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    closing_note = models.TextField(blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["status", "kind"], name="assets_alert_status_idx"),
            models.Index(fields=["company", "status"], name="assets_alert_company_idx"),
        ]
        verbose_name = _("预警")
        verbose_name_plural = _("预警")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.company_id}"


class FeedRun(models.Model):
    """One import of another system's feed (a dropped file or an HTTP pull), applied atomically.

    ``digest`` is the SHA-256 of the input: an applied input is never applied twice (one applied
    run per source and digest). A fatal run (nothing readable) stores only this row, ``failed``.
    ``issues`` are the malformed records skipped and ``items`` the reconciliation's findings, both
    as JSON with personal numbers masked."""

    source = models.CharField(_("来源系统"), max_length=16, choices=FeedSourceChoice.choices)
    channel = models.CharField(max_length=8, choices=FeedChannel.choices)
    origin = models.CharField(_("文件名或地址"), max_length=300, blank=True)
    digest = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=8, choices=FeedRunStatus.choices)
    fatal = models.CharField(_("失败原因"), max_length=500, blank=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    records = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    matched = models.PositiveIntegerField(default=0)
    missing_here = models.PositiveIntegerField(default=0)
    missing_there = models.PositiveIntegerField(default=0)
    different_price = models.PositiveIntegerField(default=0)
    alerts_opened = models.PositiveIntegerField(default=0)
    issues = models.JSONField(default=list, blank=True)
    items = models.JSONField(default=list, blank=True)
    started_by = models.CharField(max_length=120, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["source", "digest"], condition=models.Q(status="applied"),
                                               name="assets_feed_applied_once")]
        indexes = [models.Index(fields=["-started_at"], name="assets_feedrun_started_idx")]
        verbose_name = _("外部数据导入")
        verbose_name_plural = _("外部数据导入")

    def __str__(self) -> str:
        return f"{self.source} {self.started_at:%Y-%m-%d %H:%M}"
