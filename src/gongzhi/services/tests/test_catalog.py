"""Catalog: demo data, spreadsheet import/export (every bad row reported, nothing half-applied),
catalog actions, the import command and the admin."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from gongzhi.accounts.actions import do_create_department
from gongzhi.accounts.enums import Role
from gongzhi.accounts.models import Department
from gongzhi.core.models import AuditEvent
from gongzhi.core.tests.actors import SYSTEM as TEST_SYSTEM
from gongzhi.people.enums import DocumentType
from gongzhi.services.actions import (
    Intake,
    do_create_item,
    do_import_catalog,
    do_save_bundle,
    do_set_item_co_departments,
    do_set_item_materials,
    do_submit_application,
    do_update_item,
)
from gongzhi.services.catalog import (
    SHEET_BUNDLES,
    SHEET_CO,
    SHEET_COLUMNS,
    SHEET_ITEMS,
    SHEET_MATERIALS,
    SHEET_ROUTES,
    CatalogError,
    catalog_snapshot,
    export_catalog_xlsx,
)
from gongzhi.services.demo import load_data, load_demo_catalog
from gongzhi.services.domain.forms import check_schema
from gongzhi.services.enums import HandlingMode
from gongzhi.services.models import Bundle, ItemCoDepartment, ItemMaterial, ItemRoute, ServiceItem
from gongzhi.services.routing import route_department
from gongzhi.services.tests.conftest import pdf

pytestmark = pytest.mark.django_db
SYSTEM = TEST_SYSTEM
DOC_TYPES = set(DocumentType.values)


# ----------------------------------------------------------------------------------- helpers


def workbook(**sheets: list[dict[str, Any]]) -> bytes:
    """A workbook with the given sheets (keyword = sheet key: items, materials, co, routes,
    bundles); each row is {column key: value}; headers are the Chinese labels."""
    names = {"items": SHEET_ITEMS, "materials": SHEET_MATERIALS, "co": SHEET_CO, "routes": SHEET_ROUTES,
             "bundles": SHEET_BUNDLES}
    wb = Workbook()
    first = wb.active
    assert first is not None
    first.title = "说明"
    for key, rows in sheets.items():
        columns = SHEET_COLUMNS[names[key]]
        ws = wb.create_sheet(names[key])
        ws.append([c.label for c in columns])
        for row in rows:
            ws.append([row.get(c.key) for c in columns])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


FORM = json.dumps([{"name": "reason", "label": "事由", "type": "text", "required": True}], ensure_ascii=False)


def item_row(code: str = "X-001", **over: Any) -> dict[str, Any]:
    row = {"code": code, "name": f"测试事项{code}", "department": "X-MZ", "mode": "complex",
           "statutory_days": 20, "promised_days": 5, "fee": 0, "form_schema": FORM}
    row.update(over)
    return row


def material_row(item: str = "X-001", key: str = "id_card", **over: Any) -> dict[str, Any]:
    return {"item": item, "key": key, "name": "身份证件", "kind": "mandatory", "doc_type": "id_card", **over}


@pytest.fixture
def depts(place_tree: SimpleNamespace) -> SimpleNamespace:
    t = place_tree
    return SimpleNamespace(
        civil=do_create_department("X-MZ", "民政局", t.nanshan, actor=SYSTEM),
        hr=do_create_department("X-RS", "人力资源和社会保障局", t.nanshan, actor=SYSTEM),
        office=do_create_department("X-TY", "桃源街道办事处", t.taoyuan, actor=SYSTEM),
        luohu=do_create_department("X-LH", "罗湖区民政局", t.luohu, actor=SYSTEM),
        tree=t,
    )


def good_workbook() -> bytes:
    return workbook(
        items=[item_row("X-001"), item_row("X-002", mode="instant", promised_days=0, statutory_days=1,
                                           instant_rules='[{"field": "reason", "op": "present"}]',
                                           result_doc_type="licence", fee="12.50")],
        materials=[material_row("X-001"), material_row("X-001", "income", name="收入证明", kind="secondary",
                                                       doc_type=""), material_row("X-002")],
        co=[{"item": "X-001", "department": "X-RS", "limit_days": 3}],
        routes=[{"item": "X-001", "place": "T440305007", "department": "X-TY"}],
        bundles=[{"code": "X-B1", "name": "测试一件事", "items": "X-001、X-002"}],
    )


def catalog_counts() -> tuple[int, int, int, int, int]:
    return (ServiceItem.objects.count(), ItemMaterial.objects.count(), ItemCoDepartment.objects.count(),
            ItemRoute.objects.count(), Bundle.objects.count())


# ------------------------------------------------------------------------------------- demo


def test_demo_catalog_loads_and_is_idempotent(place_tree: SimpleNamespace) -> None:
    assert load_demo_catalog(actor=TEST_SYSTEM) == []
    counts = catalog_counts()
    items, _m, co, routes, bundles = counts
    assert items >= 40 and bundles >= 4 and co > 0 and routes > 0
    assert ServiceItem.objects.values("department__name").distinct().count() >= 8
    names = set(Bundle.objects.values_list("name", flat=True))
    assert {"开办餐饮店一件事", "新生儿出生一件事", "退休一件事", "人才引进落户一件事"} <= names
    for bundle in Bundle.objects.all():
        assert bundle.items.values("department").distinct().count() >= 2, bundle.name
    snapshot = catalog_snapshot()
    events = AuditEvent.objects.count()

    assert load_demo_catalog(actor=TEST_SYSTEM) == []
    assert catalog_counts() == counts
    assert catalog_snapshot() == snapshot
    # The second run writes only its import event, with nothing created or updated.
    event = AuditEvent.objects.filter(verb="catalog.import").order_by("-id").first()
    assert event is not None and AuditEvent.objects.count() == events + 1
    assert event.after["items_created"] == 0 and event.after["items_updated"] == 0


def test_demo_items_are_well_formed(place_tree: SimpleNamespace) -> None:
    load_demo_catalog(actor=TEST_SYSTEM)
    modes = set()
    for item in ServiceItem.objects.prefetch_related("materials", "co_departments"):
        check_schema(item.form_schema)
        assert 3 <= len(item.form_schema) + len(item.materials.all()) and 2 <= len(item.form_schema) <= 6, item.code
        assert item.promised_days <= item.statutory_days, item.code
        assert item.fee >= 0 and item.materials.exists(), item.code
        assert item.result_doc_type in DOC_TYPES | {""}
        assert all(m.doc_type in DOC_TYPES | {""} for m in item.materials.all())
        assert all(c.limit_days <= item.promised_days for c in item.co_departments.all())
        if item.mode == HandlingMode.INSTANT:
            assert item.promised_days == 0 and item.instant_rules, item.code
        modes.add(item.mode)
    assert modes == set(HandlingMode.values)
    assert ServiceItem.objects.filter(commitment_allowed=True).exists()
    assert ServiceItem.objects.filter(co_timeout_default=True).exists()
    assert ServiceItem.objects.filter(fee__gt=0).exists()
    assert ServiceItem.objects.exclude(result_doc_type="").count() >= 5
    assert "not an official list" in " ".join(load_data()["_about"]) or "不是官方" in " ".join(load_data()["_about"])


def test_demo_subdistrict_items_route_to_the_case_subdistrict(place_tree: SimpleNamespace) -> None:
    t = place_tree
    load_demo_catalog(actor=TEST_SYSTEM)
    item = ServiceItem.objects.get(code="NS-JD-001")
    assert route_department(item, t.pingshan).code == "NS-TY-JD"
    assert route_department(item, t.nantoucheng).code == "NS-NT-JD"
    assert Department.objects.get(code="NS-NT-JD").place == t.nantou
    # Outside every route (another district) the item's own department takes it.
    assert route_department(item, t.wenhua) == item.department


def test_demo_reuses_existing_departments(place_tree: SimpleNamespace) -> None:
    existing = do_create_department("NS-MZ", "民政局", place_tree.nanshan, actor=SYSTEM)
    load_demo_catalog(actor=TEST_SYSTEM)
    assert ServiceItem.objects.get(code="NS-MZ-001").department == existing
    assert Department.objects.filter(code="NS-MZ").count() == 1


def test_demo_bundle_is_submittable(place_tree: SimpleNamespace, make_user: Callable[..., Any]) -> None:
    """一件事 end to end: the retirement bundle goes through intake as one application."""
    from gongzhi.people.actions import do_add_document, do_register_person
    from gongzhi.services.tests.conftest import id_number

    load_demo_catalog(actor=TEST_SYSTEM)
    clerk = make_user(Role.WINDOW_CLERK, place_tree.taoyuan)
    number = id_number("44030519650101123")
    person = do_register_person(number, "王建国", home_place=place_tree.pingshan, actor=SYSTEM)
    for doc_type in ("id_card", "hukou", "photo"):
        do_add_document(person, doc_type, doc_type, pdf(), actor=SYSTEM)
    # No age: 老年人优待证 reads it from the ID number (a typed "60" would contradict it).
    form = {"retire_date": "2026-06-01", "pension_bank_account": "6222000011112222", "phone": "13800138000",
            "insured_years": "30"}
    app = do_submit_application(
        Intake(number, bundle_code="NS-YJS-003", form=form, files={"personnel_file": pdf()}),
        actor=clerk, channel="window", idempotency_key="retire-1",
    )
    cases = {c.item.code: c for c in app.cases.select_related("item", "department")}
    assert set(cases) == {"NS-RS-005", "NS-YB-002", "NS-GJJ-001", "NS-JD-004"}
    assert cases["NS-JD-004"].department.code == "NS-TY-JD" and cases["NS-JD-004"].instant


# ----------------------------------------------------------------------------------- import


def test_import_happy_path(depts: SimpleNamespace) -> None:
    report = do_import_catalog(good_workbook(), actor=SYSTEM)
    assert report.ok and report.applied, report.errors
    assert (report.items_created, report.bundles_created) == (2, 1)
    item = ServiceItem.objects.get(code="X-001")
    assert item.department == depts.civil and item.promised_days == 5
    assert [(m.key, m.kind, m.order) for m in item.materials.all()] == [
        ("id_card", "mandatory", 1), ("income", "secondary", 2)]
    assert [(c.department.code, c.limit_days) for c in item.co_departments.all()] == [("X-RS", 3)]
    assert route_department(item, depts.tree.pingshan) == depts.office
    instant = ServiceItem.objects.get(code="X-002")
    assert instant.fee == Decimal("12.50") and instant.instant_rules == [{"field": "reason", "op": "present"}]
    assert set(Bundle.objects.get(code="X-B1").items.values_list("code", flat=True)) == {"X-001", "X-002"}
    event = AuditEvent.objects.get(verb="catalog.import")
    assert event.after["items_created"] == 2 and event.after["bundles_created"] == 1


def test_import_is_idempotent_and_updates_by_code(depts: SimpleNamespace) -> None:
    do_import_catalog(good_workbook(), actor=SYSTEM)
    counts, snapshot = catalog_counts(), catalog_snapshot()
    again = do_import_catalog(good_workbook(), actor=SYSTEM)
    assert (again.items_created, again.items_updated, again.items_unchanged) == (0, 0, 2)
    assert catalog_counts() == counts and catalog_snapshot() == snapshot

    changed = workbook(items=[item_row("X-001", name="改名后的事项", promised_days=3)],
                       materials=[material_row("X-001")])
    report = do_import_catalog(changed, actor=SYSTEM)
    assert report.applied and report.items_updated == 1
    item = ServiceItem.objects.get(code="X-001")
    assert item.name == "改名后的事项" and item.promised_days == 3
    # 材料 present → replaced; 协办/路由 sheets absent → left as they were.
    assert list(item.materials.values_list("key", flat=True)) == ["id_card"]
    assert item.co_departments.count() == 1 and item.routes.count() == 1


BAD_ROWS = [
    # (sheets, sheet, row, words in the reason)
    ({"items": [item_row(), item_row("X-002", department="NOPE")]}, SHEET_ITEMS, 3, "部门编码“NOPE”不存在"),
    ({"items": [item_row(promised_days=30)]}, SHEET_ITEMS, 2, "承诺时限 30 个工作日不能大于法定时限 20"),
    ({"items": [item_row(form_schema="[{oops")]}, SHEET_ITEMS, 2, "不是有效的 JSON"),
    ({"items": [item_row(form_schema='[{"name": "Bad Name"}]')]}, SHEET_ITEMS, 2, "名称 'Bad Name' 不合法"),
    ({"items": [item_row(form_schema='[{"name": "x", "type": "colour"}]')]}, SHEET_ITEMS, 2, "不受支持"),
    ({"items": [item_row(), item_row("X-002"), item_row()]}, SHEET_ITEMS, 4, "在第 2、4 行重复出现"),
    ({"items": [item_row(fee=-5)]}, SHEET_ITEMS, 2, "“收费（元）”不能小于 0"),
    ({"items": [item_row(fee="1.234")]}, SHEET_ITEMS, 2, "最多 2 位小数"),
    ({"items": [item_row(result_doc_type="passport")]}, SHEET_ITEMS, 2, "“办结证照类型”“passport”无效"),
    ({"items": [item_row(mode="instant", promised_days=0)]}, SHEET_ITEMS, 2, "即办事项必须设置即办规则"),
    ({"items": [item_row(mode="instant", promised_days=0, instant_rules='[{"field": "age", "op": "gte", "value": 1}]')]},
     SHEET_ITEMS, 2, "字段 'age' 不在表单字段中"),
    ({"items": [item_row(statutory_days="二十")]}, SHEET_ITEMS, 2, "应为整数"),
    ({"items": [item_row(code="坏 编码")]}, SHEET_ITEMS, 2, "编码“坏 编码”不合法"),
    ({"items": [item_row()], "materials": [material_row(), material_row(key="x", doc_type="passport")]},
     SHEET_MATERIALS, 3, "“证照类型”“passport”无效"),
    ({"items": [item_row()], "materials": [material_row(), material_row()]}, SHEET_MATERIALS, 3, "与第 2 行重复"),
    ({"items": [item_row()], "materials": [material_row("X-404")]}, SHEET_MATERIALS, 2, "不在“事项”表中"),
    ({"items": [item_row()], "co": [{"item": "X-001", "department": "X-RS", "limit_days": 9}]},
     SHEET_CO, 2, "协办时限 9 个工作日不能大于事项承诺时限 5"),
    ({"items": [item_row()], "co": [{"item": "X-001", "department": "X-MZ", "limit_days": 2}]},
     SHEET_CO, 2, "就是该事项的主办部门"),
    ({"items": [item_row()], "routes": [{"item": "X-001", "place": "NOWHERE", "department": "X-TY"}]},
     SHEET_ROUTES, 2, "区域编码“NOWHERE”不存在"),
    ({"items": [item_row()], "bundles": [{"code": "B1", "name": "一件事", "items": "X-001, X-999"}]},
     SHEET_BUNDLES, 2, "包含的事项编码“X-999”不存在"),
    ({"items": [item_row(), item_row("X-002", applicant_type="enterprise")],
      "bundles": [{"code": "B1", "name": "一件事", "items": "X-001, X-002"}]}, SHEET_BUNDLES, 2, "申请人类型互不相容"),
    ({"items": [item_row(), item_row("X-002", form_schema='[{"name": "reason", "type": "int"}]')],
      "bundles": [{"code": "B1", "name": "一件事", "items": "X-001, X-002"}]}, SHEET_BUNDLES, 2, "表单字段“reason”"),
]


@pytest.mark.parametrize(("sheets", "sheet", "row", "reason"), BAD_ROWS)
def test_bad_row_is_reported_and_nothing_applied(
    depts: SimpleNamespace, sheets: dict[str, list[dict[str, Any]]], sheet: str, row: int, reason: str
) -> None:
    report = do_import_catalog(workbook(**sheets), actor=SYSTEM)
    assert not report.applied
    assert any(e.sheet == sheet and e.row == row and reason in e.message for e in report.errors), report.errors
    assert catalog_counts() == (0, 0, 0, 0, 0)
    assert not AuditEvent.objects.filter(verb="catalog.import").exists()
    assert "未导入" in report.summary()


def test_every_bad_row_is_reported_at_once(depts: SimpleNamespace) -> None:
    sheets = workbook(items=[item_row(), item_row("X-002", promised_days=99), item_row("X-003", department="NOPE")],
                      materials=[material_row(), material_row("X-001", key="Bad Key")])
    report = do_import_catalog(sheets, actor=SYSTEM)
    assert {(e.sheet, e.row) for e in report.errors} == {(SHEET_ITEMS, 3), (SHEET_ITEMS, 4), (SHEET_MATERIALS, 3)}
    assert report.rejected_rows == 3 and ServiceItem.objects.count() == 0
    assert str(report.errors[0]).startswith("事项 第 3 行：")


def test_valid_rows_only_applies_the_good_rows(depts: SimpleNamespace) -> None:
    sheets = workbook(
        items=[item_row("X-001"), item_row("X-002", promised_days=99), item_row("X-003")],
        materials=[material_row("X-001"), material_row("X-003"), material_row("X-003", key="x", kind="maybe")],
        bundles=[{"code": "B-OK", "name": "好", "items": "X-001, X-003"}],
    )
    report = do_import_catalog(sheets, actor=SYSTEM, valid_rows_only=True)
    assert report.applied and report.items_created == 1
    # X-002 has a bad row; X-003 has a bad material row, so it is skipped whole; the bundle
    # needs X-003, so it is skipped too.
    assert list(ServiceItem.objects.values_list("code", flat=True)) == ["X-001"]
    rows = {(e.sheet, e.row) for e in report.errors}
    assert {(SHEET_ITEMS, 3), (SHEET_ITEMS, 4), (SHEET_MATERIALS, 4), (SHEET_BUNDLES, 2)} <= rows
    assert not Bundle.objects.exists()
    event = AuditEvent.objects.get(verb="catalog.import")
    assert event.after["valid_rows_only"] is True and event.after["rows_rejected"] == report.rejected_rows


def test_layout_errors_block_even_valid_rows_only(depts: SimpleNamespace) -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = SHEET_ITEMS
    ws.append(["事项编码", "事项名称", "承诺时限", "颜色"])
    ws.append(["X-001", "名称", 5, "红"])
    buf = io.BytesIO()
    wb.save(buf)
    report = do_import_catalog(buf.getvalue(), actor=SYSTEM, valid_rows_only=True)
    assert not report.applied
    messages = [str(e) for e in report.errors]
    assert "事项 第 1 行：未知的列“颜色”" in messages
    assert "事项 第 1 行：缺少必填列“主办部门编码”" in messages
    assert ServiceItem.objects.count() == 0


def test_not_a_workbook(depts: SimpleNamespace) -> None:
    report = do_import_catalog(b"this is not a spreadsheet", actor=SYSTEM)
    assert not report.applied and "无法读取文件" in report.errors[0].message
    empty = workbook(materials=[])
    report = do_import_catalog(empty, actor=SYSTEM)
    assert not report.applied and "没有“事项”工作表" in report.errors[0].message


def test_material_used_by_a_case_cannot_be_dropped(hall: SimpleNamespace) -> None:
    do_submit_application(Intake(hall.number, ["T-MZ-001"], form={"reason": "困难", "household_size": "3"},
                                 files={"income": pdf()}), actor=hall.clerk, channel="window", idempotency_key="k")
    sheets = workbook(items=[item_row("T-MZ-001", department="T-MZ", form_schema=json.dumps(hall.subsidy.form_schema))],
                      materials=[material_row("T-MZ-001")])
    report = do_import_catalog(sheets, actor=SYSTEM)
    assert not report.applied
    assert [(e.sheet, e.row) for e in report.errors] == [(SHEET_ITEMS, 2)]
    assert "材料“income”已被办件使用" in report.errors[0].message
    assert hall.subsidy.materials.count() == 2


def test_import_needs_an_administrator(depts: SimpleNamespace, make_user: Callable[..., Any]) -> None:
    clerk = make_user(Role.WINDOW_CLERK, depts.tree.taoyuan)
    with pytest.raises(PermissionDenied):
        do_import_catalog(good_workbook(), actor=clerk)
    # An administrator of 罗湖区 may not change 南山区's catalog: those rows are rejected.
    admin_lh = make_user(Role.ADMINISTRATOR, depts.tree.luohu)
    report = do_import_catalog(workbook(items=[item_row(), item_row("X-LH-1", department="X-LH")]), actor=admin_lh,
                               valid_rows_only=True)
    assert [(e.row, "不在您的管辖范围内" in e.message) for e in report.errors] == [(2, True)]
    assert list(ServiceItem.objects.values_list("code", flat=True)) == ["X-LH-1"]


# -------------------------------------------------------------------------------- round trip


def test_export_import_round_trip(place_tree: SimpleNamespace) -> None:
    load_demo_catalog(actor=TEST_SYSTEM)
    item = ServiceItem.objects.get(code="NS-MZ-001")
    # Text that looks like a formula must come back as text.
    do_update_item(item, name="=HYPERLINK(\"http://x\")低保", actor=SYSTEM)
    before = catalog_snapshot()
    data = export_catalog_xlsx()
    wb = load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["说明", SHEET_ITEMS, SHEET_MATERIALS, SHEET_CO, SHEET_ROUTES, SHEET_BUNDLES]
    cell = next(c for c in wb[SHEET_ITEMS]["B"] if str(c.value).startswith("=HYPERLINK"))
    assert cell.data_type == "s"

    # Import into an empty catalog: the same catalog comes back.
    Bundle.objects.all().delete()
    ServiceItem.objects.all().delete()
    report = do_import_catalog(data, actor=SYSTEM)
    assert report.ok and report.items_created == len(before[SHEET_ITEMS])
    assert catalog_snapshot() == before
    # And over itself: nothing changes.
    report = do_import_catalog(export_catalog_xlsx(), actor=SYSTEM)
    assert report.items_unchanged == len(before[SHEET_ITEMS]) and report.bundles_unchanged == len(before[SHEET_BUNDLES])
    assert catalog_snapshot() == before


def test_export_of_selected_items_keeps_only_their_bundles(place_tree: SimpleNamespace) -> None:
    load_demo_catalog(actor=TEST_SYSTEM)
    wb = load_workbook(io.BytesIO(export_catalog_xlsx(["NS-SJ-004", "NS-SW-001", "NS-CG-001"])))
    assert [r[0] for r in wb[SHEET_ITEMS].iter_rows(min_row=2, values_only=True)] == ["NS-CG-001", "NS-SJ-004",
                                                                                      "NS-SW-001"]
    assert [r[0] for r in wb[SHEET_BUNDLES].iter_rows(min_row=2, values_only=True)] == ["NS-YJS-005"]


# ----------------------------------------------------------------------------------- actions


def test_item_actions_validate_and_audit(depts: SimpleNamespace) -> None:
    with pytest.raises(CatalogError) as exc:
        do_create_item("X-9", "事项", depts.civil, statutory_days=5, promised_days=8,
                       form_schema=[{"name": "Bad"}], actor=SYSTEM)
    fields = {f for f, _m in exc.value.errors}
    assert fields == {"form_schema", "promised_days"} and ServiceItem.objects.count() == 0
    item = do_create_item("X-9", "事项", depts.civil, statutory_days=20, promised_days=5, actor=SYSTEM)
    assert AuditEvent.objects.filter(verb="catalog.item.create").count() == 1
    with pytest.raises(CatalogError):
        do_update_item(item, promised_days=21, actor=SYSTEM)
    item = do_update_item(item, promised_days=3, fee="8.5", actor=SYSTEM)
    assert item.promised_days == 3 and item.fee == Decimal("8.50")
    event = AuditEvent.objects.get(verb="catalog.item.update")
    assert event.before == {"promised_days": 5, "fee": "0.00"} and event.after == {"promised_days": 3, "fee": "8.50"}
    do_set_item_materials(item, [{"key": "id_card", "name": "身份证", "doc_type": "id_card"}], actor=SYSTEM)
    with pytest.raises(CatalogError):
        do_set_item_materials(item, [{"key": "x", "name": "x", "doc_type": "passport"}], actor=SYSTEM)
    with pytest.raises(CatalogError):
        do_set_item_co_departments(item, [(depts.hr, 4)], actor=SYSTEM)  # over the 3-day promise
    do_set_item_co_departments(item, [(depts.hr, 2)], actor=SYSTEM)
    other = do_create_item("X-10", "另一事项", "X-RS", actor=SYSTEM, promised_days=5)
    bundle = do_save_bundle("X-B", "一件事", [item, other], actor=SYSTEM)
    assert bundle.items.count() == 2
    verbs = set(AuditEvent.objects.values_list("verb", flat=True))
    assert {"catalog.item.materials", "catalog.item.co_departments", "catalog.bundle.save"} <= verbs


# ---------------------------------------------------------------------------------- command


def test_import_command(depts: SimpleNamespace, tmp_path: Path) -> None:
    good = tmp_path / "catalog.xlsx"
    good.write_bytes(good_workbook())
    out, err = io.StringIO(), io.StringIO()
    call_command("import_catalog", str(good), stdout=out, stderr=err)
    assert "事项 2/2" in out.getvalue() and "已导入：事项新增 2" in out.getvalue()
    assert ServiceItem.objects.count() == 2

    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(workbook(items=[item_row("X-003"), item_row("X-004", promised_days=50)]))
    err = io.StringIO()
    with pytest.raises(CommandError, match="未导入"):
        call_command("import_catalog", str(bad), stdout=io.StringIO(), stderr=err)
    assert "事项 第 3 行" in err.getvalue() and ServiceItem.objects.count() == 2

    out = io.StringIO()
    call_command("import_catalog", str(bad), "--valid-rows-only", stdout=out, stderr=io.StringIO())
    assert ServiceItem.objects.count() == 3 and "跳过 1 行" in out.getvalue()
    with pytest.raises(CommandError, match="文件不存在"):
        call_command("import_catalog", str(tmp_path / "missing.xlsx"))


def test_import_command_interrupted_writes_nothing(
    depts: SimpleNamespace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gongzhi.services.actions import catalog  # the writes (the import applies bundles last)

    good = tmp_path / "catalog.xlsx"
    good.write_bytes(good_workbook())
    real = catalog._save_bundle

    def interrupt(*args: Any, **kwargs: Any) -> Any:
        real(*args, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(catalog, "_save_bundle", interrupt)
    with pytest.raises(CommandError, match="已中断"):
        call_command("import_catalog", str(good), stdout=io.StringIO())
    assert catalog_counts() == (0, 0, 0, 0, 0)


# ------------------------------------------------------------------------------------ admin


@pytest.fixture
def admin_client(client: Any, make_user: Callable[..., Any], depts: SimpleNamespace) -> Any:
    client.force_login(make_user(None, superuser=True))
    return client


def _item_post(**over: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "code": "A-001", "name": "后台新增事项", "name_en": "", "department": "", "applicant_type": "person",
        "mode": "complex", "active": "on", "statutory_days": "20", "promised_days": "5", "warning_share": "0.80",
        "fee": "0", "fee_note": "", "accept_with_gaps": "on", "result_doc_type": "",
        "form_schema": FORM, "instant_rules": "[]", "description": "",
    }
    for prefix in ("materials", "co_departments", "routes"):
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    data.update(over)
    return data


def test_admin_creates_item_through_actions(admin_client: Any, depts: SimpleNamespace) -> None:
    url = reverse("admin:services_serviceitem_add")
    post = _item_post(department=str(depts.civil.pk), **{
        "materials-TOTAL_FORMS": "1", "materials-0-key": "id_card", "materials-0-name": "身份证件",
        "materials-0-kind": "mandatory", "materials-0-doc_type": "id_card", "materials-0-order": "1",
        "co_departments-TOTAL_FORMS": "1", "co_departments-0-department": str(depts.hr.pk),
        "co_departments-0-limit_days": "3",
    })
    r = admin_client.post(url, post)
    assert r.status_code == 302, r.content.decode()[:3000]
    item = ServiceItem.objects.get(code="A-001")
    assert list(item.materials.values_list("key", flat=True)) == ["id_card"]
    assert item.co_departments.get().department == depts.hr
    verbs = list(AuditEvent.objects.filter(object_id=str(item.pk)).values_list("verb", flat=True))
    assert {"catalog.item.create", "catalog.item.materials", "catalog.item.co_departments"} <= set(verbs)

    r = admin_client.post(reverse("admin:services_serviceitem_change", args=[item.pk]),
                          _item_post(department=str(depts.civil.pk), promised_days="4", **{
                              "materials-TOTAL_FORMS": "1", "materials-INITIAL_FORMS": "1",
                              "materials-0-id": str(item.materials.get().pk), "materials-0-item": str(item.pk),
                              "materials-0-key": "id_card", "materials-0-name": "居民身份证",
                              "materials-0-kind": "mandatory", "materials-0-doc_type": "id_card",
                              "materials-0-order": "1",
                              "co_departments-TOTAL_FORMS": "1", "co_departments-INITIAL_FORMS": "1",
                              "co_departments-0-id": str(item.co_departments.get().pk),
                              "co_departments-0-item": str(item.pk), "co_departments-0-department": str(depts.hr.pk),
                              "co_departments-0-limit_days": "3", "co_departments-0-DELETE": "on"}))
    assert r.status_code == 302, r.content.decode()[:3000]
    item.refresh_from_db()
    assert item.promised_days == 4 and item.materials.get().name == "居民身份证"
    assert not item.co_departments.exists()
    assert AuditEvent.objects.filter(verb="catalog.item.update", object_id=str(item.pk)).exists()


def test_admin_shows_schema_errors_in_chinese(admin_client: Any, depts: SimpleNamespace) -> None:
    r = admin_client.post(reverse("admin:services_serviceitem_add"), _item_post(
        department=str(depts.civil.pk), promised_days="30",
        form_schema='[{"name": "x", "type": "colour"}]'))
    assert r.status_code == 200
    text = r.content.decode()
    assert "字段 x 的类型 &#x27;colour&#x27; 不受支持" in text or "字段 x 的类型 'colour' 不受支持" in text
    assert "承诺时限 30 个工作日不能大于法定时限 20 个工作日" in text
    assert not ServiceItem.objects.exists()


def test_admin_export_and_read_only_lists(admin_client: Any, depts: SimpleNamespace) -> None:
    do_import_catalog(good_workbook(), actor=SYSTEM)
    r = admin_client.get(reverse("admin:services_serviceitem_export"))
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxmlformats")
    assert [row[0] for row in load_workbook(io.BytesIO(r.content))[SHEET_ITEMS].iter_rows(
        min_row=2, values_only=True)] == ["X-001", "X-002"]
    r = admin_client.post(reverse("admin:services_serviceitem_changelist"),
                          {"action": "export_selected", "_selected_action": [ServiceItem.objects.get(code="X-002").pk]})
    assert r.status_code == 200 and r["Content-Disposition"].startswith("attachment")
    for name in ("serviceitem", "bundle", "case", "task", "accountability", "review", "rectification", "appeal"):
        assert admin_client.get(reverse(f"admin:services_{name}_changelist")).status_code == 200, name
    assert admin_client.get(reverse("admin:services_case_add")).status_code == 403


def test_admin_case_is_read_only_and_masked(admin_client: Any, hall: SimpleNamespace) -> None:
    app = do_submit_application(Intake(hall.number, ["T-MZ-001"], form={"reason": "困难", "household_size": "3"},
                                       files={"income": pdf()}), actor=hall.clerk, channel="window",
                                idempotency_key="k2")
    case = app.cases.get()
    text = admin_client.get(reverse("admin:services_case_changelist")).content.decode()
    assert case.number in text and "张**" in text and "张伟明" not in text
    detail = admin_client.get(reverse("admin:services_case_change", args=[case.pk])).content.decode()
    assert "张伟明" not in detail and hall.number not in detail and 'name="_save"' not in detail


def test_admin_bundle_checks_items_and_saves_through_action(admin_client: Any, depts: SimpleNamespace) -> None:
    do_import_catalog(workbook(items=[item_row("X-001"), item_row("X-002", applicant_type="enterprise"),
                                      item_row("X-003")]), actor=SYSTEM)
    ids = dict(ServiceItem.objects.values_list("code", "pk"))
    url = reverse("admin:services_bundle_add")
    r = admin_client.post(url, {"code": "B-1", "name": "一件事", "items": [ids["X-001"], ids["X-002"]], "active": "on"})
    assert r.status_code == 200 and "申请人类型互不相容" in r.content.decode() and not Bundle.objects.exists()
    r = admin_client.post(url, {"code": "B-1", "name": "一件事", "items": [ids["X-001"], ids["X-003"]], "active": "on"})
    assert r.status_code == 302
    assert set(Bundle.objects.get(code="B-1").items.values_list("code", flat=True)) == {"X-001", "X-003"}
    assert AuditEvent.objects.filter(verb="catalog.bundle.save").count() == 1
