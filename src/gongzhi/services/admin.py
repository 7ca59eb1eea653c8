"""Admin for the service catalog (editable, through ``services.catalog``) and read-only lists
of cases, tasks, accountability traces, reviews, rectifications and appeals.

Catalog edits go through the catalog actions (validation + audit): ``save_model`` and
``save_related`` call them instead of saving the forms. The form validates first — schema
(``check_schema``), limits, instant rules — so the user sees each problem on its field, in
Chinese. Nothing here deletes a catalog row: cases point at items for years; set 启用 = 否.
Case data is never edited here (the back office does that through its actions), and applicants
are shown masked.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gongzhi.accounts.enums import Role
from gongzhi.accounts.models import Department
from gongzhi.accounts.scope import scope_paths
from gongzhi.people.enums import DocumentType
from gongzhi.services import actions, catalog
from gongzhi.services.catalog import CatalogError
from gongzhi.services.models import (
    Accountability,
    Appeal,
    Bundle,
    Case,
    ItemCoDepartment,
    ItemMaterial,
    ItemRoute,
    Rectification,
    Review,
    ServiceItem,
    Task,
)
from gongzhi.services.queries import cases_for_user

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOC_TYPE_CHOICES = [("", "——"), *DocumentType.choices]


def _catalog_scope(user: Any) -> Q | None:
    """None = everything (superuser); otherwise departments under the user's admin places."""
    if getattr(user, "is_superuser", False):
        return None
    paths = scope_paths(user, {Role.ADMINISTRATOR})
    q = Q(pk__in=[])
    for p in paths:
        q |= Q(place__path__startswith=p)
    return q


def _departments_for(user: Any) -> QuerySet[Department]:
    scope = _catalog_scope(user)
    qs = Department.objects.select_related("place")
    return qs if scope is None else qs.filter(scope)


def _export_response(item_codes: list[str] | None = None) -> HttpResponse:
    response = HttpResponse(catalog.export_catalog_xlsx(item_codes), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="catalog-{timezone.localdate():%Y%m%d}.xlsx"'
    return response


def _errors_to_form(form: forms.BaseForm, errors: list[tuple[str, str]]) -> None:
    for key, message in errors:
        form.add_error(key if key in form.fields else None, message)


# ------------------------------------------------------------------------------------ catalog


class ServiceItemForm(forms.ModelForm):
    result_doc_type = forms.ChoiceField(label=_("办结证照类型"), choices=DOC_TYPE_CHOICES, required=False)

    class Meta:
        model = ServiceItem
        fields = (
            "code", "name", "name_zh_hant", "name_en", "department", "applicant_type", "mode", "active",
            "statutory_days", "promised_days", "warning_share", "fee", "fee_note", "commitment_allowed",
            "accept_with_gaps", "co_timeout_default", "result_doc_type", "form_schema", "instant_rules",
            "eligibility_rules", "description", "description_zh_hant", "description_en", "conditions", "legal_basis",
            "location", "low_assurance",
        )
        widgets = {
            "form_schema": forms.Textarea(attrs={"rows": 12, "cols": 100, "style": "font-family: monospace"}),
            "instant_rules": forms.Textarea(attrs={"rows": 4, "cols": 100, "style": "font-family: monospace"}),
            "eligibility_rules": forms.Textarea(attrs={"rows": 4, "cols": 100, "style": "font-family: monospace"}),
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        raw = {k: v for k, v in data.items() if k in catalog.ITEM_LABELS}
        cleaned, errors = catalog.clean_item_fields(raw, {}, partial=True)
        errors += catalog.check_item_consistency({**raw, **cleaned})
        _errors_to_form(self, errors)
        return data


class MaterialForm(forms.ModelForm):
    doc_type = forms.ChoiceField(label=_("证照类型"), choices=DOC_TYPE_CHOICES, required=False)

    class Meta:
        model = ItemMaterial
        fields = ("key", "name", "name_zh_hant", "name_en", "kind", "doc_type", "commitment_ok", "submit_as", "order")


class MaterialInline(admin.TabularInline):
    model = ItemMaterial
    form = MaterialForm
    extra = 1
    fields = ("order", "key", "name", "name_zh_hant", "name_en", "kind", "doc_type", "commitment_ok", "submit_as")


class CoDepartmentInline(admin.TabularInline):
    model = ItemCoDepartment
    extra = 0
    fields = ("department", "limit_days")
    autocomplete_fields = ("department",)
    verbose_name = _("协办部门")
    verbose_name_plural = _("协办部门（并联审批）")


class RouteInline(admin.TabularInline):
    model = ItemRoute
    extra = 0
    fields = ("place", "department")
    raw_id_fields = ("place",)
    autocomplete_fields = ("department",)
    verbose_name = _("办理路由")
    verbose_name_plural = _("办理路由（区域 → 承办部门）")


def _kept(formset: Any) -> list[dict[str, Any]]:
    """The rows the user wants to keep: filled-in forms not marked for deletion."""
    rows = []
    for form in formset.forms:
        data = getattr(form, "cleaned_data", None) or {}
        if not data or data.get("DELETE") or (not form.has_changed() and form.instance.pk is None):
            continue
        rows.append(data)
    return rows


@admin.register(ServiceItem)
class ServiceItemAdmin(admin.ModelAdmin):
    form = ServiceItemForm
    inlines = [MaterialInline, CoDepartmentInline, RouteInline]
    list_display = ("code", "name", "department", "mode", "promised_days", "statutory_days", "fee", "active")
    # zh_hant_source = "opencc": 繁體 texts drafted by OpenCC, waiting for a person to check them.
    list_filter = ("department", "mode", "applicant_type", "active", "commitment_allowed", "zh_hant_source")
    search_fields = ("code", "name", "name_zh_hant", "name_en")
    autocomplete_fields = ("department",)
    actions = ["export_selected"]
    fieldsets = (
        (None, {"fields": ("code", "name", "name_zh_hant", "name_en", "department", "applicant_type", "mode", "active")}),
        (_("时限与收费"), {"fields": ("statutory_days", "promised_days", "warning_share", "fee", "fee_note")}),
        (_("办理规则"), {"fields": ("commitment_allowed", "accept_with_gaps", "co_timeout_default", "result_doc_type",
                                  "low_assurance")}),
        (_("申请表与即办规则"), {"fields": ("form_schema", "instant_rules", "eligibility_rules"),
                                 "description": _("表单字段为 JSON 列表，类型：text、textarea、int、decimal、date、choice、bool、phone")}),
        (_("说明"), {"fields": ("description", "description_zh_hant", "description_en")}),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[ServiceItem]:
        qs = super().get_queryset(request).select_related("department")
        scope = _catalog_scope(request.user)
        return qs if scope is None else qs.filter(department__in=_departments_for(request.user))

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "department":
            kwargs["queryset"] = _departments_for(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ("code",) if obj is not None else ()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # cases point at items (PROTECT); retire an item with 启用 = 否

    def get_urls(self) -> list[URLPattern]:
        export = path("export/", self.admin_site.admin_view(self.export_view), name="services_serviceitem_export")
        return [export, *super().get_urls()]

    def export_view(self, request: HttpRequest) -> HttpResponse:
        """GET admin/services/serviceitem/export/ — the whole catalog the user may manage."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        scope = _catalog_scope(request.user)
        codes = None if scope is None else list(self.get_queryset(request).values_list("code", flat=True))
        return _export_response(codes)

    @admin.action(description=_("导出所选事项为 Excel 事项清单（可修改后用 import_catalog 导入）"), permissions=["view"])
    def export_selected(self, request: HttpRequest, queryset: QuerySet[ServiceItem]) -> HttpResponse:
        return _export_response(list(queryset.values_list("code", flat=True)))

    def save_model(self, request: HttpRequest, obj: ServiceItem, form: Any, change: bool) -> None:
        data = form.cleaned_data
        fields = {k: data[k] for k in catalog.ITEM_LABELS if k in data and k not in {"code", "name", "department"}}
        try:
            if change:
                current = ServiceItem.objects.get(pk=obj.pk)
                changed = {k: data[k] for k in form.changed_data if k in catalog.ITEM_LABELS and k != "code"}
                actions.do_update_item(current, actor=request.user, **changed)
            else:
                created = actions.do_create_item(data["code"], data["name"], data["department"], actor=request.user,
                                                 **fields)
                obj.pk = created.pk
                obj._state.adding = False
        except (CatalogError, PermissionDenied) as exc:
            # The form has already checked everything it can; this is a race or a scope change.
            self.message_user(request, getattr(exc, "message", str(exc)), messages.ERROR)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        for formset in formsets:
            # The formsets are not saved (the actions write the rows); the admin's own change
            # message reads these lists. The audit log carries the real before/after.
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        if form.instance.pk is None:
            return  # creation failed (reported by save_model)
        item = ServiceItem.objects.select_related("department__place").get(pk=form.instance.pk)
        try:
            for formset in formsets:
                rows = _kept(formset)
                if formset.model is ItemMaterial:
                    if formset.has_changed():
                        actions.do_set_item_materials(item, rows, actor=request.user)
                elif formset.model is ItemCoDepartment:
                    if formset.has_changed():
                        actions.do_set_item_co_departments(
                            item, [(r["department"], r["limit_days"]) for r in rows], actor=request.user
                        )
                elif formset.model is ItemRoute and formset.has_changed():
                    actions.do_set_item_routes(item, [(r["place"], r["department"]) for r in rows], actor=request.user)
        except (CatalogError, PermissionDenied) as exc:
            self.message_user(request, getattr(exc, "message", str(exc)), messages.ERROR)


class BundleForm(forms.ModelForm):
    class Meta:
        model = Bundle
        fields = ("code", "name", "name_zh_hant", "name_en", "items", "description", "description_zh_hant",
                  "description_en", "active")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        items = list(data.get("items") or [])
        for problem in catalog.check_bundle_items(items):
            self.add_error("items", problem)
        return data


@admin.register(Bundle)
class BundleAdmin(admin.ModelAdmin):
    form = BundleForm
    list_display = ("code", "name", "item_count", "active")
    list_filter = ("active",)
    search_fields = ("code", "name")
    filter_horizontal = ("items",)

    @admin.display(description=_("事项数"))
    def item_count(self, obj: Bundle) -> int:
        return obj.items.count()

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ("code",) if obj is not None else ()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # applications point at bundles; retire one with 启用 = 否

    def save_model(self, request: HttpRequest, obj: Bundle, form: Any, change: bool) -> None:
        data = form.cleaned_data
        try:
            bundle = actions.do_save_bundle(
                obj.code, data["name"], list(data["items"]), actor=request.user, name_en=data.get("name_en", ""),
                description=data.get("description", ""), active=data.get("active", True),
                name_zh_hant=data.get("name_zh_hant", ""), description_zh_hant=data.get("description_zh_hant", ""),
                description_en=data.get("description_en", ""),
            )
            obj.pk = bundle.pk
            obj._state.adding = False
        except (CatalogError, PermissionDenied) as exc:
            self.message_user(request, getattr(exc, "message", str(exc)), messages.ERROR)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        return  # the items were set by do_save_bundle


# ------------------------------------------------------------------------- read-only records


class ReadOnlyMixin:
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _mask_name(name: str) -> str:
    return name[:1] + "*" * max(len(name) - 1, 1) if name else ""


def _scoped_cases(request: HttpRequest) -> QuerySet[Case]:
    if getattr(request.user, "is_superuser", False):
        return Case.objects.all()
    return cases_for_user(request.user)


@admin.register(Case)
class CaseAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("number", "item", "department", "applicant", "applicant_masked", "channel", "status", "sla",
                    "deadline")
    list_filter = ("status", "sla", "channel", "department")
    search_fields = ("number",)
    date_hierarchy = "accepted_at"
    # form_data and the applicant links can hold personal data: not shown here.
    fields = ("number", "item", "department", "channel", "applicant", "applicant_masked", "place", "status",
              "accepted_at", "accepted_on", "limit_days", "paused_days", "deadline", "deadline_provisional", "sla",
              "with_gaps", "gaps_due", "by_commitment", "instant", "visits", "closed_at", "closed_on_time",
              "delivered_at", "delivery_method",
              "result_note")
    readonly_fields = fields

    @admin.display(description=_("申请人"))
    def applicant(self, obj: Case) -> str:
        return _mask_name(obj.applicant_name)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Case]:
        return _scoped_cases(request).select_related("item", "department", "place")


@admin.register(Task)
class TaskAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("case", "department", "role", "status", "sla", "deadline", "holder", "decided_at")
    list_filter = ("role", "status", "sla", "department")
    search_fields = ("case__number",)
    readonly_fields = ("case", "department", "role", "status", "limit_days", "paused_days", "deadline",
                       "deadline_provisional", "sla", "holder", "held_since", "decided_at", "decision_reason")
    fields = readonly_fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Task]:
        return Task.objects.filter(case__in=_scoped_cases(request)).select_related("case", "department", "holder")


@admin.register(Accountability)
class AccountabilityAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("case", "department", "holder", "step", "deadline", "detected_at")
    list_filter = ("department",)
    search_fields = ("case__number",)
    readonly_fields = ("case", "task", "department", "holder", "held_from", "held_to", "step", "deadline",
                       "detected_at", "trace", "resolution")
    fields = readonly_fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Accountability]:
        return Accountability.objects.filter(case__in=_scoped_cases(request)).select_related(
            "case", "department", "holder")


@admin.register(Review)
class ReviewAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("case", "level", "created_at")
    list_filter = ("level",)
    search_fields = ("case__number",)
    readonly_fields = ("case", "level", "comment", "created_at")
    fields = readonly_fields  # the reviewer is a person: not shown

    def get_queryset(self, request: HttpRequest) -> QuerySet[Review]:
        return Review.objects.filter(case__in=_scoped_cases(request)).select_related("case")


@admin.register(Rectification)
class RectificationAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("review", "department", "due", "status", "callback_at")
    list_filter = ("status", "department")
    readonly_fields = ("review", "department", "due", "status", "action_note", "callback_at", "callback_note")
    fields = readonly_fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Rectification]:
        return Rectification.objects.filter(review__case__in=_scoped_cases(request)).select_related(
            "review__case", "department")


@admin.register(Appeal)
class AppealAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("review", "status", "filed_at")
    list_filter = ("status",)
    readonly_fields = ("review", "reason", "filed_by", "filed_at", "status", "decided_by", "decision_note")
    fields = readonly_fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Appeal]:
        return Appeal.objects.filter(review__case__in=_scoped_cases(request)).select_related("review__case")

