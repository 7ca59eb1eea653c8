"""The administrative tree, effective-dated, with split / merge / rename lineage.

A place row is never deleted or re-parented: a split closes the old place (``valid_to``) and
opens new ones, linked by a ``PlaceChange``. Objects filed against the old place keep pointing
at it, so a case filed in 2016 in 将石 still reports under 将石 for 2016.

``path`` is the materialised path of primary keys (``/1/4/37/``); jurisdiction filters are a
single indexed ``startswith`` on it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from gongzhi.places.enums import OPEN_PLAN_STATUSES, ChangeKind, PlaceKind, PlanKind, PlanStatus


class Place(models.Model):
    kind = models.CharField(max_length=12, choices=PlaceKind.choices)
    code = models.CharField(max_length=40, unique=True, help_text=_("统计用区划代码或平台编码"))
    name = models.CharField(max_length=60, db_index=True)
    name_zh_hant = models.CharField(max_length=60, blank=True)
    name_en = models.CharField(max_length=80, blank=True)
    zh_hant_source = models.CharField(max_length=12, blank=True)  # "opencc": machine draft (core/i18n.py)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    path = models.CharField(max_length=200, db_index=True, editable=False)
    valid_from = models.DateField(null=True, blank=True)
    valid_to = models.DateField(null=True, blank=True, help_text=_("撤销/拆分生效日（当日起不再有效）"))
    area_km2 = models.DecimalField(max_digits=9, decimal_places=2, null=True, blank=True)
    lat = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    lng = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    # Boundary shapes are data the district supplies from an officially reviewed map (审图号).
    boundary = models.JSONField(null=True, blank=True)
    # Free-text provenance: spelling variants, data source, "demo data" markers.
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["path"]
        indexes = [models.Index(fields=["kind", "valid_to"], name="place_kind_valid_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_to__isnull=True)
                | models.Q(valid_from__isnull=True)
                | models.Q(valid_to__gt=models.F("valid_from")),
                name="place_valid_range",
            )
        ]
        verbose_name = _("行政区域")
        verbose_name_plural = _("行政区域")

    def __str__(self) -> str:
        return self.name

    @property
    def depth(self) -> int:
        return self.path.count("/") - 1


class PlaceName(models.Model):
    """Name history: a rename keeps the same place (and its objects) with a dated new name."""

    place = models.ForeignKey(Place, on_delete=models.CASCADE, related_name="names")
    name = models.CharField(max_length=60)
    valid_from = models.DateField(null=True, blank=True)
    valid_to = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["place", "valid_from"]
        verbose_name = _("名称沿革")
        verbose_name_plural = _("名称沿革")

    def __str__(self) -> str:
        return self.name


class PlaceChange(models.Model):
    kind = models.CharField(max_length=10, choices=ChangeKind.choices)
    effective = models.DateField()
    sources = models.ManyToManyField(Place, related_name="changes_out", blank=True)
    targets = models.ManyToManyField(Place, related_name="changes_in", blank=True)
    note = models.TextField(blank=True)
    document_ref = models.CharField(max_length=120, blank=True, help_text=_("批准文号"))
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["effective", "id"]
        verbose_name = _("区划变更")
        verbose_name_plural = _("区划变更")

    def __str__(self) -> str:
        return f"{self.effective} {self.get_kind_display()}"


class RestructurePlan(models.Model):
    """One reviewed plan to split, merge or rename communities on an effective date.

    Drafted by a subdistrict/district supervisor (or an administrator), approved by a district
    supervisor of the district (not the drafter), applied on ``effective`` by a durable timer
    (``places.apply_plan``) or by ``do_apply_place_plan`` once the date has come. Until then it
    may be edited (which sends it back to draft) or cancelled. ``spec`` holds what the plan
    does, by place code (``actions.plan_spec`` documents the shape); ``preview`` and ``moved``
    the per-app counts the registry's place-move hooks gave at approval and at application.
    """

    kind = models.CharField(max_length=10, choices=PlanKind.choices)
    status = models.CharField(max_length=10, choices=PlanStatus.choices, default=PlanStatus.DRAFT, db_index=True)
    effective = models.DateField(help_text=_("生效日期（当日起按新区划）"))
    sources = models.ManyToManyField(Place, related_name="plans_out")
    district = models.ForeignKey(Place, on_delete=models.PROTECT, related_name="district_plans")
    # The first source's path: jurisdiction filters (who may see, edit and approve the plan).
    place_path = models.CharField(max_length=200, db_index=True)
    spec = models.JSONField(default=dict)
    title = models.CharField(max_length=200)
    note = models.TextField(blank=True)
    document_ref = models.CharField(max_length=120, blank=True, help_text=_("批准文号"))
    version = models.PositiveIntegerField(default=1)
    drafted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    drafted_at = models.DateTimeField()
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    change = models.ForeignKey(PlaceChange, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    preview = models.JSONField(default=dict, blank=True)
    moved = models.JSONField(default=dict, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-effective", "-id"]
        verbose_name = _("区划调整方案")
        verbose_name_plural = _("区划调整方案")

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_PLAN_STATUSES
