"""Demo service catalog for 南山区 from ``data/nanshan_catalog.json``.

DEMO DATA, modelled on the public Shenzhen / Nanshan service catalogs — not an official list
(the data file says so too). Needs the places demo (南山区 and its subdistricts); the accounts
demo's department codes (NS-MZ, NS-RS, …, NS-TY-JD) are reused, and any department that is
missing is created here, so the loader also works on its own.

Items handled by 街道办事处 are routed (ItemRoute) to the office of the case's subdistrict: one
office department per current subdistrict of 南山区.

The catalog goes through ``actions.import_rows`` — the same validation an uploaded workbook
gets — so a mistake in the data file fails loudly instead of loading a broken item.
Idempotent: items and bundles are matched by code; a second run changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from gongzhi.accounts.actions import do_create_department
from gongzhi.accounts.models import Department
from gongzhi.core.actors import Actor
from gongzhi.places.enums import PlaceKind
from gongzhi.places.models import Place
from gongzhi.services.actions import import_rows
from gongzhi.services.catalog import (
    SHEET_BUNDLES,
    SHEET_CO,
    SHEET_ITEMS,
    SHEET_MATERIALS,
    SHEET_ROUTES,
    ImportReport,
    SheetRows,
)

DATA_FILE = Path(__file__).parent / "data" / "nanshan_catalog.json"
DISTRICT = "南山区"

Progress = Callable[[str], Any] | None


def load_data() -> dict[str, Any]:
    with DATA_FILE.open(encoding="utf-8") as fh:
        data: dict[str, Any] = json.load(fh)
    return data


def _district() -> Place:
    place = Place.objects.filter(name=DISTRICT, kind=PlaceKind.DISTRICT, valid_to__isnull=True).order_by("path").first()
    if place is None:
        raise ImproperlyConfigured(f"demo place {DISTRICT!r} not found: load the places demo data first")
    return place


def _ensure_departments(data: dict[str, Any], district: Place, actor: Actor) -> list[tuple[Place, Department]]:
    """Create missing departments; return (subdistrict, office) for every current subdistrict."""
    for entry in data["departments"]:
        if not Department.objects.filter(code=entry["code"]).exists():
            do_create_department(entry["code"], entry["name"], district, actor=actor, name_en=entry.get("name_en", ""))
    known = {k: v for k, v in data["subdistrict_offices"].items() if not k.startswith("_")}
    offices: list[tuple[Place, Department]] = []
    subdistricts = Place.objects.filter(parent=district, kind=PlaceKind.SUBDISTRICT, valid_to__isnull=True)
    for sub in subdistricts.order_by("code"):
        entry = known.get(sub.name) or {"code": f"NS-{sub.code}-JD",
                                        "name_en": f"{sub.name_en} Office" if sub.name_en else ""}
        dept = Department.objects.filter(code=entry["code"]).first()
        if dept is None:
            dept = do_create_department(entry["code"], f"{sub.name}办事处", sub, actor=actor, name_en=entry["name_en"])
        offices.append((sub, dept))
    return offices


def _default_office(data: dict[str, Any], offices: list[tuple[Place, Department]], district: Place, actor: Actor) -> str:
    """The department a subdistrict item falls back to outside every route (e.g. a case whose
    place is another district): the configured office, else the first one there is."""
    wanted = str(data["default_subdistrict_office"])
    if Department.objects.filter(code=wanted).exists():
        return wanted
    if offices:
        return offices[0][1].code
    return do_create_department(wanted, "街道办事处", district, actor=actor, name_en="Subdistrict Office").code


def catalog_sheets(data: dict[str, Any], offices: list[tuple[Place, Department]], default_office: str) -> dict[str, SheetRows]:
    """The JSON catalog as workbook rows (row numbers count entries from 2, like a sheet)."""
    sheets: dict[str, SheetRows] = {SHEET_ITEMS: [], SHEET_MATERIALS: [], SHEET_CO: [], SHEET_ROUTES: [],
                                    SHEET_BUNDLES: []}
    nested = {"materials", "co_departments", "route"}
    guides = data.get("guides", {})
    submit_as = data.get("material_submit_as", {})
    for item in data["items"]:
        row = {k: v for k, v in item.items() if k not in nested}
        # 办事指南 texts live in their own section of the data file (one line per item, beside
        # the items rather than inside them); an item's own keys win.
        guide = guides.get(item["code"], {})
        default_location = guides.get("location_subdistrict" if item.get("route") == "subdistrict"
                                      else "location_district", "")
        row = {"location": default_location, **guide, **row}
        if item.get("route") == "subdistrict":
            row["department"] = default_office
            for sub, office in offices:
                sheets[SHEET_ROUTES].append((len(sheets[SHEET_ROUTES]) + 2,
                                             {"item": item["code"], "place": sub.code, "department": office.code}))
        sheets[SHEET_ITEMS].append((len(sheets[SHEET_ITEMS]) + 2, row))
        for order, mat in enumerate(item.get("materials", []), start=1):
            sheets[SHEET_MATERIALS].append((len(sheets[SHEET_MATERIALS]) + 2,
                                            {"order": order, "submit_as": submit_as.get(mat["key"], ""), **mat,
                                             "item": item["code"]}))
        for co in item.get("co_departments", []):
            sheets[SHEET_CO].append((len(sheets[SHEET_CO]) + 2, {**co, "item": item["code"]}))
    for bundle in data["bundles"]:
        sheets[SHEET_BUNDLES].append((len(sheets[SHEET_BUNDLES]) + 2, dict(bundle)))
    return sheets


def load_demo_catalog(*, actor: Actor, progress: Progress = None) -> list[Any]:
    """Load the demo catalog (departments, items, materials, co-processors, routes, bundles).

    Returns ``[]``: the catalog adds no logins. Run after the places, accounts and people
    demo loaders.
    """
    data = load_data()
    with transaction.atomic():
        district = _district()
        offices = _ensure_departments(data, district, actor)
        default_office = _default_office(data, offices, district, actor)
        if progress:
            progress(f"{len(data['departments'])} 个区级部门，{len(offices)} 个街道办事处")
        report: ImportReport = import_rows(
            catalog_sheets(data, offices, default_office), actor=actor, progress=progress, source="demo:nanshan_catalog"
        )
        if report.errors:
            raise ImproperlyConfigured("演示事项清单数据有误：\n" + "\n".join(str(e) for e in report.errors))
        if progress:
            progress(report.summary())
    return []
