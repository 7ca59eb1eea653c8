"""Reading a company's books from a workbook (.xlsx): sheet 资产 and sheet 合同, headers in row 1.

Columns of 资产: 资产编号, 资产名称, 类型 (土地/楼栋/房屋单元), 上级资产编号, 用途 (工业/商业/居住/仓储/
办公/综合/其他), 面积, 坐落, 使用状态 (已出租/空置). Columns of 合同: 合同编号, 资产编号, 承租方类型
(单位/个人), 承租方名称, 承租方证件号码, 出租面积, 月租金, 押金, 签订日期, 租期开始, 租期结束.
Rows are numbered as the spreadsheet shows them, so the error report points at the right line.
"""

from __future__ import annotations

from typing import IO, Any

from django.utils.translation import gettext as _
from openpyxl import load_workbook

from gongzhi.core.errors import ActionError

ASSET_COLUMNS = ("资产编号", "资产名称", "类型", "上级资产编号", "用途", "面积", "坐落", "使用状态")
LEASE_COLUMNS = ("合同编号", "资产编号", "承租方类型", "承租方名称", "承租方证件号码", "出租面积", "月租金", "押金",
                 "签订日期", "租期开始", "租期结束")

Rows = list[tuple[int, dict[str, Any]]]


def read_books(source: str | IO[bytes]) -> tuple[Rows, Rows]:
    try:
        book = load_workbook(source, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types (zip, XML, key errors) for a non-xlsx file
        raise ActionError(_("无法读取工作簿：应为 .xlsx 文件"), field="file") from exc
    out: list[Rows] = []
    for sheet, required in (("资产", ASSET_COLUMNS), ("合同", LEASE_COLUMNS)):
        if sheet not in book.sheetnames:
            raise ActionError(_("工作簿缺少工作表「%(s)s」") % {"s": sheet}, field="file")
        rows = list(book[sheet].iter_rows(values_only=True))
        header = [str(c).strip() if c is not None else "" for c in (rows[0] if rows else ())]
        missing = [c for c in required if c not in header]
        if missing:
            raise ActionError(_("工作表「%(s)s」缺少列：%(c)s") % {"s": sheet, "c": "、".join(missing)}, field="file")
        parsed: Rows = []
        for n, values in enumerate(rows[1:], start=2):
            if all(v is None or str(v).strip() == "" for v in values):
                continue
            parsed.append((n, {h: v for h, v in zip(header, values, strict=False) if h}))
        out.append(parsed)
    return out[0], out[1]
