"""Catalogue writes (事项清单): items, their materials, co-processors and routes, bundles (一件事),
and applying a spreadsheet import. Each validates with the rules in ``services/catalog.py``,
writes in one transaction and appends an audit event; an import checks every row of every sheet
before it writes anything (see ``services/catalog.py`` for the workbook layout)."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from django.db import transaction
from django.utils.translation import gettext as _

from gongzhi.accounts.actions import ensure_admin_over
from gongzhi.accounts.models import Department
from gongzhi.core.actors import Actor
from gongzhi.core.audit import record_event
from gongzhi.core.i18n import OPENCC, draft_hant_on, draft_schema_hant, localized_text
from gongzhi.places.models import Place
from gongzhi.services.catalog import (
    DATA_SHEETS,
    ITEM_LABELS,
    SHEET_CO,
    SHEET_MATERIALS,
    SHEET_ROUTES,
    CatalogError,
    CatalogFileError,
    ImportReport,
    Progress,
    RowError,
    SheetRows,
    _code,
    _departments_by_code,
    _ensure_catalog_admin,
    _item_fields,
    _Planner,
    _Row,
    _text,
    check_bundle_items,
    check_item_consistency,
    clean_item_fields,
    clean_material_specs,
    read_workbook,
)
from gongzhi.services.models import (
    Bundle,
    CaseMaterial,
    ItemCoDepartment,
    ItemMaterial,
    ItemRoute,
    ServiceItem,
)


def _save_item(existing: ServiceItem | None, fields: Mapping[str, Any]) -> tuple[ServiceItem, dict[str, Any]]:
    """Create or update; returns the item and ``{field: [before, after]}`` of what changed."""
    item = existing or ServiceItem()
    before = _item_fields(existing) if existing else {}
    for key, value in fields.items():
        setattr(item, key, value)
    draft_hant_on(item, ("name", "description"), supplied=[k for k in fields if k.endswith("_zh_hant")])
    if item.form_schema:  # the form's labels and choices: 繁體 drafts where missing, for review
        schema = copy.deepcopy(item.form_schema)
        if draft_schema_hant(schema, existing.form_schema if existing is not None else ()):
            item.form_schema = schema
            item.zh_hant_source = OPENCC
    if existing is not None and _item_fields(item) == before:
        return item, {}  # no write for an unchanged item: re-imports stay cheap and lock-free
    item.save()
    after = _item_fields(item)
    changed = {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}
    return item, changed


def _material_rows(item: ServiceItem) -> list[dict[str, Any]]:
    return [
        {"key": m.key, "name": m.name, "name_zh_hant": m.name_zh_hant, "name_en": m.name_en, "kind": m.kind,
         "doc_type": m.doc_type, "commitment_ok": m.commitment_ok, "submit_as": m.submit_as, "order": m.order}
        for m in item.materials.order_by("order", "id")
    ]


def _save_materials(item: ServiceItem, specs: Sequence[Mapping[str, Any]]) -> bool:
    before = _material_rows(item)
    existing = {m.key: m for m in item.materials.all()}
    wanted = {str(s["key"]) for s in specs}
    gone = [m for key, m in existing.items() if key not in wanted]
    used = set(CaseMaterial.objects.filter(material__in=gone).values_list("material__key", flat=True))
    if used:
        # Cases point at their materials (PROTECT): a used material can be renamed, not removed.
        raise CatalogError([("materials", _("材料“%(key)s”已被办件使用，不能删除") % {"key": k}) for k in sorted(used)])
    ItemMaterial.objects.filter(pk__in=[m.pk for m in gone]).delete()
    for spec in specs:
        attrs = [a for a in ("name", "name_zh_hant", "name_en", "kind", "doc_type", "commitment_ok", "submit_as", "order")
                 if a in spec]
        mat = existing.get(str(spec["key"])) or ItemMaterial(item=item, key=str(spec["key"]))
        if mat.pk is not None and all(getattr(mat, a) == spec[a] for a in attrs) and mat.name_zh_hant:
            continue
        for attr in attrs:
            setattr(mat, attr, spec[attr])
        draft_hant_on(mat, supplied=[a for a in attrs if a == "name_zh_hant"])
        mat.save()
    return _material_rows(item) != before


def _co_rows(item: ServiceItem) -> list[tuple[str, int]]:
    return sorted((c.department.code, c.limit_days) for c in item.co_departments.select_related("department"))


def _save_co_departments(item: ServiceItem, specs: Sequence[tuple[Department, int]]) -> bool:
    before = _co_rows(item)
    wanted = {dept.pk: days for dept, days in specs}
    current = {c.department_id: c for c in item.co_departments.all()}
    item.co_departments.exclude(department_id__in=list(wanted)).delete()
    for dept_id, days in wanted.items():
        row = current.get(dept_id)
        if row is None:
            ItemCoDepartment.objects.create(item=item, department_id=dept_id, limit_days=days)
        elif row.limit_days != days:
            row.limit_days = days
            row.save(update_fields=["limit_days"])
    return _co_rows(item) != before


def _route_rows(item: ServiceItem) -> list[tuple[str, str]]:
    return sorted((r.place.code, r.department.code) for r in item.routes.select_related("place", "department"))


def _save_routes(item: ServiceItem, specs: Sequence[tuple[Place, Department]]) -> bool:
    before = _route_rows(item)
    wanted = {place.pk: dept for place, dept in specs}
    current = {r.place_id: r for r in item.routes.all()}
    item.routes.exclude(place_id__in=list(wanted)).delete()
    for place_id, dept in wanted.items():
        row = current.get(place_id)
        if row is None:
            ItemRoute.objects.create(item=item, place_id=place_id, department=dept)
        elif row.department_id != dept.pk:
            row.department = dept
            row.save(update_fields=["department"])
    return _route_rows(item) != before


def _bundle_fields(bundle: Bundle) -> dict[str, Any]:
    return {
        "code": bundle.code, "name": bundle.name, "name_zh_hant": bundle.name_zh_hant, "name_en": bundle.name_en,
        "description": bundle.description, "description_zh_hant": bundle.description_zh_hant,
        "description_en": bundle.description_en,
        "active": bundle.active, "items": sorted(bundle.items.values_list("code", flat=True)),
    }


def _save_bundle(existing: Bundle | None, fields: Mapping[str, Any], items: Sequence[ServiceItem]) -> tuple[Bundle, dict[str, Any]]:
    bundle = existing or Bundle()
    before = _bundle_fields(existing) if existing else {}
    for key, value in fields.items():
        setattr(bundle, key, value)
    draft_hant_on(bundle, ("name", "description"), supplied=[k for k in fields if k.endswith("_zh_hant")])
    if existing is None or any(before.get(k) != v for k, v in _bundle_fields(bundle).items() if k != "items"):
        bundle.save()
    bundle.items.set(items)  # set() itself writes only the difference
    after = _bundle_fields(bundle)
    return bundle, {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}




def do_create_item(code: str, name: str, department: Department | str, *, actor: Actor, **fields: Any) -> ServiceItem:
    """Create a catalog item. ``fields`` are the other item columns (Python values or text as
    typed in the workbook). Side effects: audit ``catalog.item.create``."""
    raw = {**fields, "code": code, "name": name, "department": department}
    # Required in a workbook (a blank cell is a mistake there); the model defaults here.
    raw.setdefault("statutory_days", 20)
    raw.setdefault("promised_days", 10)
    unknown = set(fields) - set(ITEM_LABELS)
    if unknown:
        raise CatalogError([(k, _("未知的事项字段：%(field)s") % {"field": k}) for k in sorted(unknown)])
    cleaned, errors = clean_item_fields(raw, _departments_by_code())
    errors += check_item_consistency(cleaned)
    if not errors and ServiceItem.objects.filter(code=cleaned["code"]).exists():
        errors.append(("code", _("事项编码“%(code)s”已存在") % {"code": cleaned["code"]}))
    if errors:
        raise CatalogError(errors)
    _ensure_catalog_admin(actor, cleaned["department"])
    with transaction.atomic():
        item, changed = _save_item(None, cleaned)
        record_event("catalog.item.create", actor=actor, obj=item, place_path=item.department.place.path,
                     after={k: v[1] for k, v in changed.items()})
    return item


def do_update_item(item: ServiceItem, *, actor: Actor, **fields: Any) -> ServiceItem:
    """Change some fields of an item (the code is its identity and does not change).
    Side effects: audit ``catalog.item.update`` with before/after of what changed."""
    unknown = set(fields) - (set(ITEM_LABELS) - {"code"})
    if unknown:
        raise CatalogError([(k, _("未知或不可修改的事项字段：%(field)s") % {"field": k}) for k in sorted(unknown)])
    cleaned, errors = clean_item_fields(fields, _departments_by_code(), partial=True)
    current = {k: getattr(item, k) for k in ("statutory_days", "promised_days", "mode", "instant_rules", "form_schema")}
    errors += check_item_consistency({**current, **cleaned})
    if errors:
        raise CatalogError(errors)
    _ensure_catalog_admin(actor, item.department)
    if "department" in cleaned:
        _ensure_catalog_admin(actor, cleaned["department"])
    with transaction.atomic():
        locked = ServiceItem.objects.select_for_update().get(pk=item.pk)
        locked, changed = _save_item(locked, cleaned)
        if changed:
            record_event("catalog.item.update", actor=actor, obj=locked, place_path=locked.department.place.path,
                         before={k: v[0] for k, v in changed.items()}, after={k: v[1] for k, v in changed.items()})
    return locked


def do_set_item_materials(item: ServiceItem, materials: Sequence[Mapping[str, Any]], *, actor: Actor) -> ServiceItem:
    """Replace an item's required materials by key (a kept key keeps its row, so cases that
    used it still point at it). Side effects: audit ``catalog.item.materials``."""
    specs, errors = clean_material_specs(materials)
    if errors:
        raise CatalogError(errors)
    _ensure_catalog_admin(actor, item.department)
    with transaction.atomic():
        ServiceItem.objects.select_for_update().filter(pk=item.pk).first()
        before = _material_rows(item)
        if _save_materials(item, specs):
            record_event("catalog.item.materials", actor=actor, obj=item, place_path=item.department.place.path,
                         before=before, after=_material_rows(item))
    return item


def do_set_item_co_departments(
    item: ServiceItem, co_departments: Sequence[tuple[Department, int]], *, actor: Actor
) -> ServiceItem:
    """Replace an item's co-processing departments (并联) and their limits.
    Side effects: audit ``catalog.item.co_departments``."""
    errors: list[tuple[str, str]] = []
    seen: set[int] = set()
    for dept, days in co_departments:
        if dept.pk == item.department_id:
            errors.append(("co_departments", _("协办部门“%(dept)s”就是主办部门") % {"dept": localized_text(dept)}))
        if dept.pk in seen:
            errors.append(("co_departments", _("协办部门“%(dept)s”重复") % {"dept": localized_text(dept)}))
        seen.add(dept.pk)
        if not 1 <= int(days) <= item.promised_days:
            errors.append(("co_departments", _("“%(dept)s”的协办时限应在 1 至 %(days)s（承诺时限）个工作日之间") % {"dept": localized_text(dept), "days": item.promised_days}))
    if errors:
        raise CatalogError(errors)
    _ensure_catalog_admin(actor, item.department)
    with transaction.atomic():
        before = _co_rows(item)
        if _save_co_departments(item, [(d, int(n)) for d, n in co_departments]):
            record_event("catalog.item.co_departments", actor=actor, obj=item, place_path=item.department.place.path,
                         before=before, after=_co_rows(item))
    return item


def do_set_item_routes(item: ServiceItem, routes: Sequence[tuple[Place, Department]], *, actor: Actor) -> ServiceItem:
    """Replace an item's routes (item × place → department). Side effects: audit ``catalog.item.routes``."""
    places = [p.pk for p, _d in routes]
    if len(places) != len(set(places)):
        raise CatalogError([("routes", _("同一区域只能有一条路由"))])
    _ensure_catalog_admin(actor, item.department)
    with transaction.atomic():
        before = _route_rows(item)
        if _save_routes(item, routes):
            record_event("catalog.item.routes", actor=actor, obj=item, place_path=item.department.place.path,
                         before=before, after=_route_rows(item))
    return item


def do_save_bundle(
    code: str, name: str, items: Sequence[ServiceItem], *, actor: Actor, name_en: str = "", description: str = "",
    active: bool = True, name_zh_hant: str | None = None, description_zh_hant: str | None = None,
    description_en: str | None = None,
) -> Bundle:
    """Create or update a bundle (一件事) by code. Side effects: audit ``catalog.bundle.save``."""
    row = _Row()
    code = row.get("", _code, code, "一件事编码")
    name = row.get("名称", _text, name, max_length=120, required=True)
    name_en = row.get("英文名称", _text, name_en, max_length=160)
    # Translations left out (None) keep what is stored; an empty 繁體 text is drafted by OpenCC.
    translated = {k: row.get("", _text, v, max_length=5000 if k.startswith("description") else 120)
                  for k, v in (("name_zh_hant", name_zh_hant), ("description_zh_hant", description_zh_hant),
                               ("description_en", description_en)) if v is not None}
    errors: list[tuple[str, str]] = [("code", p) for p in row.problems]
    errors += [("items", p) for p in check_bundle_items(items)]
    if errors:
        raise CatalogError(errors)
    for item in items:
        _ensure_catalog_admin(actor, item.department)
    with transaction.atomic():
        existing = Bundle.objects.select_for_update().filter(code=code).first()
        bundle, changed = _save_bundle(
            existing, {"code": code, "name": name, "name_en": name_en, "description": description, "active": active,
                       **translated},
            items,
        )
        if changed:
            record_event("catalog.bundle.save", actor=actor, obj=bundle,
                         before={k: v[0] for k, v in changed.items()}, after={k: v[1] for k, v in changed.items()})
    return bundle


def do_import_catalog(
    path_or_file: str | Path | IO[bytes] | bytes, *, actor: Actor, valid_rows_only: bool = False,
    progress: Progress = None,
) -> ImportReport:
    """Import a catalog workbook (layout in the module docstring).

    Checks every row first. Any bad row → nothing is written and the report lists every
    problem, unless ``valid_rows_only``: then the good rows are applied and the bad ones
    reported (an item with a bad material, co-processor or route row is skipped whole — half an
    item is worse than the old item). Side effects: one audit ``catalog.import`` with counts.
    """
    ensure_admin_over(actor, None)
    try:
        sheets, errors = read_workbook(path_or_file)
    except CatalogFileError as exc:
        return ImportReport(errors=[RowError(_("文件"), 0, exc.message)], valid_rows_only=valid_rows_only)
    source = str(path_or_file) if isinstance(path_or_file, str | Path) else getattr(path_or_file, "name", "")
    if any(e.row <= 1 for e in errors):
        # A wrong layout (missing sheet or column) is not a row problem: nothing is safe to apply.
        return ImportReport(errors=errors, valid_rows_only=valid_rows_only,
                            rows_read=sum(len(r) for r in sheets.values()))
    return import_rows(sheets, actor=actor, valid_rows_only=valid_rows_only, progress=progress,
                       source=Path(source).name if source else "")


def import_rows(
    sheets: Mapping[str, SheetRows], *, actor: Actor, valid_rows_only: bool = False, progress: Progress = None,
    source: str = "",
) -> ImportReport:
    """Validate and apply already-read rows (the workbook reader and the demo loader both end
    here, so demo data passes the very checks an uploaded file does). One transaction."""
    report = ImportReport(valid_rows_only=valid_rows_only, rows_read=sum(len(r) for r in sheets.values()))
    with transaction.atomic():
        planner = _Planner(sheets, actor)
        planner.plan_items()
        if SHEET_MATERIALS in sheets:
            planner.plan_materials()
        if SHEET_CO in sheets:
            planner.plan_co()
        if SHEET_ROUTES in sheets:
            planner.plan_routes()
        planner.check_used_materials()
        planner.plan_bundles()
        if valid_rows_only:
            planner.cascade()
        report.errors = sorted(planner.errors, key=lambda e: (DATA_SHEETS.index(e.sheet) if e.sheet in DATA_SHEETS else 9, e.row))
        if report.errors and not valid_rows_only:
            return report
        _apply(planner, sheets, report, progress)
        report.applied = True
        record_event(
            "catalog.import", actor=actor, object_type="services.catalog", object_id=source[:64],
            after={**report.counts(), "valid_rows_only": valid_rows_only, "source": source,
                   "rejected": [str(e) for e in report.errors[:50]]},
        )
    return report


def _apply(planner: _Planner, sheets: Mapping[str, SheetRows], report: ImportReport, progress: Progress) -> None:
    existing = {i.code: i for i in ServiceItem.objects.select_for_update().filter(code__in=list(planner.items))}
    total = len(planner.items)
    saved: dict[str, ServiceItem] = {}
    for n, (code, plan) in enumerate(planner.items.items(), start=1):
        item, changed = _save_item(existing.get(code), plan.fields)
        saved[code] = item
        touched = bool(changed)
        if SHEET_MATERIALS in sheets:
            touched = _save_materials(item, plan.materials) or touched
        if SHEET_CO in sheets:
            touched = _save_co_departments(item, plan.co) or touched
        if SHEET_ROUTES in sheets:
            touched = _save_routes(item, plan.routes) or touched
        if code not in existing:
            report.items_created += 1
        elif touched:
            report.items_updated += 1
        else:
            report.items_unchanged += 1
        if progress is not None and (n % 20 == 0 or n == total):
            progress(f"事项 {n}/{total}")
    stored_bundles = {b.code: b for b in Bundle.objects.select_for_update().filter(code__in=[b.code for b in planner.bundles])}
    needed = {c for b in planner.bundles for c in b.item_codes} - set(saved)
    saved |= {i.code: i for i in ServiceItem.objects.filter(code__in=needed)}
    for bundle_plan in planner.bundles:
        current = stored_bundles.get(bundle_plan.code)
        _bundle, changed = _save_bundle(current, bundle_plan.fields, [saved[c] for c in bundle_plan.item_codes])
        if current is None:
            report.bundles_created += 1
        elif changed:
            report.bundles_updated += 1
        else:
            report.bundles_unchanged += 1
    if progress is not None and planner.bundles:
        progress(f"一件事 {len(planner.bundles)} 个")
