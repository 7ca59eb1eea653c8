"""Urban villages (城中村): renovation projects with reverse-scheduled plans, housing allocation
(talent apartments, resettlement) and consent-first access control.

People are referred to through ``people.Person`` only: no ID or phone number is stored here (the
register keeps them encrypted, indexed by a keyed hash and masked). Access control stores the
credential's kind and state and the consent — never a face image or template (PIPL Arts. 26–29).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from gongzhi.villages.enums import (
    AlertKind,
    AllocationMethod,
    CredentialKind,
    CredentialStatus,
    DenyStatus,
    GateOutcome,
    ProjectStatus,
    RepairStatus,
    RoundStatus,
)


class Village(models.Model):
    place = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="villages")
    code = models.CharField(max_length=40, unique=True)
    name = models.CharField(_("村名"), max_length=60)
    target_year = models.PositiveSmallIntegerField(_("计划完成改造年份"), null=True, blank=True)

    class Meta:
        verbose_name = _("城中村")
        verbose_name_plural = _("城中村")

    def __str__(self) -> str:
        return self.name


class Project(models.Model):
    village = models.ForeignKey(Village, on_delete=models.PROTECT, related_name="projects")
    code = models.CharField(max_length=40, unique=True)
    name = models.CharField(_("项目名称"), max_length=120)
    scope = models.TextField(_("建设内容"), blank=True)
    budget = models.DecimalField(_("概算（元）"), max_digits=14, decimal_places=2)
    agent_builder_uscc = models.CharField(_("代建单位统一社会信用代码"), max_length=18)
    agent_builder_name = models.CharField(_("代建单位"), max_length=120)
    status = models.CharField(max_length=12, choices=ProjectStatus.choices, default=ProjectStatus.DRAFT)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+", verbose_name=_("项目负责人"))
    supervisor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("督导"))
    start_date = models.DateField(_("开工日期"))
    deadline = models.DateField(_("完工期限"))
    # the last projection, kept for lists and the dashboard (recomputed by every plan change)
    projected_finish = models.DateField(null=True, blank=True)
    min_float = models.IntegerField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("改造项目")
        verbose_name_plural = _("改造项目")
        constraints = [models.CheckConstraint(condition=Q(deadline__gt=models.F("start_date")),
                                              name="villages_project_deadline_after_start")]

    def __str__(self) -> str:
        return self.name


class PlanTask(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="tasks")
    key = models.CharField(max_length=40)
    name = models.CharField(_("任务"), max_length=120)
    duration_days = models.PositiveIntegerField(_("工期（天）"))
    predecessors = models.JSONField(default=list, blank=True)  # keys of tasks in the same plan
    position = models.PositiveIntegerField(default=0)
    started_on = models.DateField(null=True, blank=True)
    finished_on = models.DateField(null=True, blank=True)
    percent = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["project", "position"]
        constraints = [models.UniqueConstraint(fields=["project", "key"], name="villages_task_key_unique")]

    def __str__(self) -> str:
        return f"{self.key} {self.name}"


class ProgressReport(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="reports")
    task = models.ForeignKey(PlanTask, on_delete=models.CASCADE, related_name="reports")
    week_of = models.DateField(_("报告周"))
    percent = models.PositiveSmallIntegerField(_("完成百分比"))
    started_on = models.DateField(null=True, blank=True)
    finished_on = models.DateField(null=True, blank=True)
    note = models.TextField(_("说明"), blank=True)
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-week_of", "-id"]

    def __str__(self) -> str:
        return f"{self.task} {self.week_of} {self.percent}%"


class ProgressPhoto(models.Model):
    report = models.ForeignKey(ProgressReport, on_delete=models.CASCADE, related_name="photos")
    file = models.FileField(upload_to="villages/progress/%Y/%m/", max_length=200)
    content_type = models.CharField(max_length=40)

    def __str__(self) -> str:
        return self.file.name or ""


class ScheduleAlert(models.Model):
    """An alert to the project's owner or supervisor; one open alert per task, kind and recipient."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="alerts")
    task_key = models.CharField(max_length=40)
    kind = models.CharField(max_length=16, choices=AlertKind.choices)
    days = models.IntegerField()
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    raised_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "task_key", "kind", "recipient"],
                                               condition=Q(closed_at__isnull=True), name="villages_one_open_alert")]

    def __str__(self) -> str:
        return f"{self.project} {self.task_key} {self.kind}"


# --- housing ---------------------------------------------------------------------------------


class TalentRound(models.Model):
    """A round of talent-apartment allocation. ``rules`` are data (domain/allocation.py)."""

    village = models.ForeignKey(Village, on_delete=models.PROTECT, related_name="talent_rounds")
    name = models.CharField(_("批次"), max_length=120)
    units = models.PositiveIntegerField(_("房源套数"))
    rules = models.JSONField(default=dict)
    seed = models.CharField(max_length=64)  # tie-break seed, published with the ranking
    status = models.CharField(max_length=10, choices=RoundStatus.choices, default=RoundStatus.OPEN)
    ranking = models.JSONField(default=list, blank=True)  # the published ranking (no numbers)
    published_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.name


class TalentApplication(models.Model):
    round = models.ForeignKey(TalentRound, on_delete=models.CASCADE, related_name="applications")
    number = models.CharField(max_length=24, unique=True)  # public reference in the ranking
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    facts = models.JSONField(default=dict)
    submitted_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["round", "person"], name="villages_one_application")]

    def __str__(self) -> str:
        return self.number


class ResettlementRound(models.Model):
    village = models.ForeignKey(Village, on_delete=models.PROTECT, related_name="resettlement_rounds")
    name = models.CharField(_("选房批次"), max_length=120)
    site = models.CharField(_("安置地块"), max_length=120)
    method = models.CharField(max_length=10, choices=AllocationMethod.choices)
    seed_hash = models.CharField(max_length=64, blank=True)  # published before the draw
    seed = models.CharField(max_length=64, blank=True)  # revealed at the draw
    order = models.JSONField(default=list, blank=True)  # household refs in selection order
    drawn_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.name


class Household(models.Model):
    round = models.ForeignKey(ResettlementRound, on_delete=models.CASCADE, related_name="households")
    ref = models.CharField(max_length=24)
    head = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    entitled_area = models.DecimalField(_("安置面积（平方米）"), max_digits=8, decimal_places=2)
    entitled_units = models.PositiveSmallIntegerField(_("安置套数"))
    queue_no = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["round", "ref"], name="villages_household_ref_unique")]

    def __str__(self) -> str:
        return self.ref


class Unit(models.Model):
    round = models.ForeignKey(ResettlementRound, on_delete=models.CASCADE, related_name="units")
    building = models.CharField(max_length=20)
    number = models.CharField(max_length=20)
    area = models.DecimalField(max_digits=8, decimal_places=2)
    household = models.ForeignKey(Household, null=True, blank=True, on_delete=models.PROTECT, related_name="units")
    selected_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["round", "building", "number"], name="villages_unit_unique")]

    def __str__(self) -> str:
        return f"{self.building}-{self.number}"


class HandOver(models.Model):
    unit = models.OneToOneField(Unit, on_delete=models.PROTECT, related_name="hand_over")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="hand_overs")
    handed_over_on = models.DateField()
    keys = models.PositiveSmallIntegerField(default=2)
    note = models.CharField(max_length=200, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    def __str__(self) -> str:
        return f"{self.unit} {self.handed_over_on}"


# --- access control --------------------------------------------------------------------------


class Gate(models.Model):
    village = models.ForeignKey(Village, on_delete=models.PROTECT, related_name="gates")
    name = models.CharField(max_length=60)

    def __str__(self) -> str:
        return self.name


class FaceConsent(models.Model):
    """A separate, withdrawable consent to face entry; the template stays on the device."""

    village = models.ForeignKey(Village, on_delete=models.PROTECT, related_name="+")
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    notice_version = models.CharField(max_length=20)
    given_at = models.DateTimeField()
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["village", "person"], condition=Q(withdrawn_at__isnull=True),
                                               name="villages_one_live_consent")]

    def __str__(self) -> str:
        return f"{self.person_id} {self.given_at:%Y-%m-%d}"


class Credential(models.Model):
    village = models.ForeignKey(Village, on_delete=models.PROTECT, related_name="credentials")
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=8, choices=CredentialKind.choices)
    token = models.CharField(max_length=64, unique=True)  # card serial / QR secret id (not personal data)
    status = models.CharField(max_length=8, choices=CredentialStatus.choices, default=CredentialStatus.ACTIVE)
    consent = models.ForeignKey(FaceConsent, null=True, blank=True, on_delete=models.PROTECT, related_name="credentials")
    issued_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.kind} {self.token[:6]}…"


class DenyEntry(models.Model):
    """An entry of the deny list: it acts on the person's credentials in one village, for a
    limited time, with a legal basis, an approver, a notice to the person and a way to contest."""

    village = models.ForeignKey(Village, on_delete=models.PROTECT, related_name="deny_entries")
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    legal_basis = models.CharField(_("法律依据"), max_length=200)
    reason = models.TextField(_("事由"))
    approver = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    starts_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    notice_sent_at = models.DateTimeField()
    notice_text = models.TextField()
    status = models.CharField(max_length=10, choices=DenyStatus.choices, default=DenyStatus.ACTIVE)
    contest_reason = models.TextField(blank=True)
    contested_at = models.DateTimeField(null=True, blank=True)
    decision = models.TextField(blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(expires_at__gt=models.F("starts_at")),
                                              name="villages_deny_expires_after_start")]

    def __str__(self) -> str:
        return f"{self.person_id} {self.starts_at:%Y-%m-%d}–{self.expires_at:%Y-%m-%d}"


class GateEvent(models.Model):
    gate = models.ForeignKey(Gate, on_delete=models.PROTECT, related_name="events")
    credential = models.ForeignKey(Credential, on_delete=models.PROTECT, related_name="events")
    deny_entry = models.ForeignKey(DenyEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="events")
    outcome = models.CharField(max_length=24, choices=GateOutcome.choices)
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.gate} {self.outcome}"


# --- property management -----------------------------------------------------------------------


class PropertyCompany(models.Model):
    village = models.ForeignKey(Village, on_delete=models.PROTECT, related_name="property_companies")
    uscc = models.CharField(_("统一社会信用代码"), max_length=18)
    name = models.CharField(_("物业服务企业"), max_length=120)

    def __str__(self) -> str:
        return self.name


class Building(models.Model):
    village = models.ForeignKey(Village, on_delete=models.PROTECT, related_name="buildings")
    company = models.ForeignKey(PropertyCompany, null=True, blank=True, on_delete=models.PROTECT,
                                related_name="buildings")
    name = models.CharField(max_length=60)
    units = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return self.name


class RepairRequest(models.Model):
    """A resident's repair request with a limit in working days (core's calendar)."""

    building = models.ForeignKey(Building, on_delete=models.PROTECT, related_name="repairs")
    unit_label = models.CharField(max_length=20)
    person = models.ForeignKey("people.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    description = models.TextField()
    filed_on = models.DateField()
    limit_days = models.PositiveSmallIntegerField()
    due_on = models.DateField()
    due_provisional = models.BooleanField(default=False)
    status = models.CharField(max_length=8, choices=RepairStatus.choices, default=RepairStatus.OPEN)
    closed_on = models.DateField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "due_on"], name="villages_repair_due_idx")]

    def __str__(self) -> str:
        return f"{self.building}-{self.unit_label} {self.filed_on}"


class Fee(models.Model):
    building = models.ForeignKey(Building, on_delete=models.PROTECT, related_name="fees")
    unit_label = models.CharField(max_length=20)
    period = models.CharField(max_length=7)  # YYYY-MM
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["building", "unit_label", "period"], name="villages_fee_unique")]

    def __str__(self) -> str:
        return f"{self.building}-{self.unit_label} {self.period}"
