"""The companies' existing books from a workbook: per-row errors, all or nothing, old contracts flagged."""

from __future__ import annotations

from io import BytesIO
from types import SimpleNamespace
from typing import Any

import pytest
from openpyxl import Workbook

from gongzhi.assets import actions
from gongzhi.assets.models import Alert, Asset, Lease
from gongzhi.assets.spreadsheet import ASSET_COLUMNS, LEASE_COLUMNS, read_books
from gongzhi.core.errors import ActionError
from gongzhi.core.tests.actors import SYSTEM
from gongzhi.core.tests.authz_world import uscc

from .conftest import PERSON_NUMBER


def _book(assets: list[list[Any]], leases: list[list[Any]]) -> BytesIO:
    wb = Workbook()
    ws = wb.active
    ws.title = "资产"
    ws.append(list(ASSET_COLUMNS))
    for r in assets:
        ws.append(r)
    ws2 = wb.create_sheet("合同")
    ws2.append(list(LEASE_COLUMNS))
    for r in leases:
        ws2.append(r)
    out = BytesIO()
    wb.save(out)
    out.seek(0)
    return out


ASSETS = [["OB-L1", "旧账地块", "土地", "", "工业", 10000, "平山三路", "已出租"],
          ["OB-B1", "旧账厂房", "楼栋", "OB-L1", "工业", "6000", "平山三路1号", "已出租"]]
LEASES = [["OB-001", "OB-B1", "单位", "旧账承租公司", uscc("91440300MA5G00041"), 4000, 40000, 0, "2024-01-01",
           "2024-01-01", "2045-12-31"],
          ["OB-002", "OB-B1", "个人", "张某", PERSON_NUMBER, "500", "9000", "18000", "2025-06-01", "2025-06-01",
           "2027-05-31"]]


def test_good_books_are_imported_and_old_contracts_flagged(estate: SimpleNamespace) -> None:
    assets, leases = read_books(_book(ASSETS, LEASES))
    report = actions.do_import_books(estate.company, assets, leases, actor=estate.manager)
    assert report.applied and not report.errors
    assert Lease.objects.filter(contract_no__startswith="OB-").count() == 2
    actions.do_recompute_alerts(actor=SYSTEM)
    kinds = set(Alert.objects.values_list("kind", flat=True))
    assert {"off_platform", "term_too_long"} <= kinds  # 4,000 m² off the platform, 22 years


def test_one_bad_row_stores_nothing_and_every_bad_row_is_reported(estate: SimpleNamespace) -> None:
    bad_assets = [*ASSETS, ["OB-U9", "无楼单元", "房屋单元", "", "工业", "100", "", "空置"]]
    bad_leases = [*LEASES, ["OB-003", "OB-XX", "单位", "某公司", uscc("91440300MA5G00042"), 10, 10, 0, "2025-01-01",
                            "2025-01-01", "2026-01-01"],
                  ["OB-004", "OB-B1", "个人", "李某", "440305198001011230", 10, 10, 0, "2025/01/01", "2025-01-01",
                   "2026-01-01"]]
    assets, leases = read_books(_book(bad_assets, bad_leases))
    before = (Asset.objects.count(), Lease.objects.count())
    report = actions.do_import_books(estate.company, assets, leases, actor=estate.manager)
    assert not report.applied
    assert [(s, n) for s, n, _m in report.errors] == [("资产", 4), ("合同", 4), ("合同", 5)]
    assert "楼栋" in report.errors[0][2][0] and "OB-XX" in report.errors[1][2][0]
    assert (Asset.objects.count(), Lease.objects.count()) == before
    partial = actions.do_import_books(estate.company, assets, leases, actor=estate.manager, valid_rows_only=True)
    assert partial.applied and Lease.objects.filter(contract_no__startswith="OB-").count() == 2


def test_not_a_workbook_or_missing_columns(estate: SimpleNamespace) -> None:
    with pytest.raises(ActionError):
        read_books(BytesIO(b"not a workbook"))
    wb = Workbook()
    wb.active.title = "资产"
    wb.active.append(["资产编号"])
    wb.create_sheet("合同")
    out = BytesIO()
    wb.save(out)
    out.seek(0)
    with pytest.raises(ActionError) as err:
        read_books(out)
    assert "缺少列" in err.value.message
