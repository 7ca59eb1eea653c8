"""The property rights exchange's listings (挂牌) and results (成交) of collective assets.

Input format (file drop or HTTP pull), CSV or JSON, one record per row/item:

* **CSV**: UTF-8 (a BOM is fine) or GB18030, comma-, tab- or semicolon-separated, a header row.
  Columns are named by the key below or its Chinese name; unknown columns are ignored; rows are
  numbered as a spreadsheet shows them (header = row 1).
* **JSON**: an array of objects, or an object whose ``records`` (or ``data``) member is one; the
  same keys (or Chinese names). Numbers may be JSON numbers or strings.

=====================  ====================  =====================================================
key                    Chinese name          meaning
=====================  ====================  =====================================================
stage                  类型                  ``listing``/挂牌 or ``result``/成交 (required)
project_no             项目编号              the exchange's project number (required; the id)
company_uscc           转让方统一社会信用代码  the collective company (required, valid USCC)
company_name           转让方名称
asset_ref              资产编号              the platform's asset reference, when the company gave it
parcel_ref             宗地代码              the land parcel code
title                  项目名称
area_m2                面积                  m²
price_basis            计价方式              ``monthly_rent``/月租金 or ``total``/总价 (required)
reserve_price_yuan     挂牌价                yuan on the basis above (required for a listing)
deal_price_yuan        成交价                yuan on the basis above (required for a result)
counterparty_id        受让方证件号码          USCC or personal ID number (required for a result)
counterparty_name      受让方名称
bidder_count           竞买人数
published_on           挂牌日期              (required for a listing)
deal_on                成交日期              (required for a result)
start_on / end_on      起始日期 / 截止日期      lease term
=====================  ====================  =====================================================

Dates: ``2026-03-01``, ``2026/3/1``, ``2026年3月1日`` or ISO 8601 date-times. Amounts: yuan with at
most two decimals (thousands separators allowed). A listing and a later result with the same
project number become one record at the result stage (:func:`records.merge_stages`).
"""

from __future__ import annotations

from gongzhi.assets.domain.feeds.fetch import Fetcher, fetch_or_reason, urllib_fetcher
from gongzhi.assets.domain.feeds.parsing import (
    FieldError,
    FormatError,
    Row,
    Skipped,
    alias_table,
    read_csv_rows,
    read_json_rows,
)
from gongzhi.assets.domain.feeds.records import (
    FeedIssue,
    FeedRecord,
    FeedRun,
    FeedSource,
    FeedStage,
    PriceBasis,
    digest_of,
    merge_stages,
)

__all__ = ["parse_exchange", "pull_exchange"]

_COLUMNS: dict[str, tuple[str, ...]] = {
    "stage": ("类型", "记录类型"),
    "project_no": ("项目编号",),
    "company_uscc": ("转让方统一社会信用代码", "出租方统一社会信用代码"),
    "company_name": ("转让方名称", "出租方名称"),
    "asset_ref": ("资产编号",),
    "parcel_ref": ("宗地代码",),
    "title": ("项目名称",),
    "area_m2": ("面积", "面积（㎡）", "面积(㎡)", "面积（平方米）"),
    "price_basis": ("计价方式",),
    "reserve_price_yuan": ("挂牌价", "挂牌价（元）", "挂牌价(元)"),
    "deal_price_yuan": ("成交价", "成交价（元）", "成交价(元)"),
    "counterparty_id": ("受让方证件号码", "承租方证件号码"),
    "counterparty_name": ("受让方名称", "承租方名称"),
    "bidder_count": ("竞买人数",),
    "published_on": ("挂牌日期",),
    "deal_on": ("成交日期",),
    "start_on": ("起始日期", "租期起"),
    "end_on": ("截止日期", "租期止"),
}
_ALIASES = alias_table(_COLUMNS)
_LABELS = {key: names[0] for key, names in _COLUMNS.items()}
_REQUIRED = ("stage", "project_no", "company_uscc", "price_basis")

_STAGES = {
    "listing": FeedStage.LISTING,
    "挂牌": FeedStage.LISTING,
    "result": FeedStage.RESULT,
    "成交": FeedStage.RESULT,
}
_BASES = {
    "monthly_rent": PriceBasis.MONTHLY_RENT,
    "月租金": PriceBasis.MONTHLY_RENT,
    "total": PriceBasis.TOTAL,
    "总价": PriceBasis.TOTAL,
}


def parse_exchange(data: bytes, *, fmt: str = "auto") -> FeedRun:
    """Read the exchange's CSV or JSON (``fmt`` = ``"csv"``, ``"json"`` or ``"auto"``)."""
    digest = digest_of(data)
    kind = fmt if fmt != "auto" else ("json" if data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"[", b"{") else "csv")
    rows: list[Row | Skipped]
    try:
        if kind == "json":
            rows, _ = read_json_rows(data, ("records", "data"), _ALIASES, _LABELS)
        elif kind == "csv":
            rows = list(read_csv_rows(data, _ALIASES, _LABELS, _REQUIRED))
        else:
            raise FormatError(f"未知格式：{fmt}")
    except FormatError as exc:
        return FeedRun.failed(FeedSource.EXCHANGE, str(exc), digest=digest)
    return _run(rows, digest)


def pull_exchange(url: str, *, fetcher: Fetcher | None = None, fmt: str = "auto") -> FeedRun:
    """Fetch ``url`` and read it as :func:`parse_exchange` does; a failed fetch is a fatal run."""
    body = fetch_or_reason(fetcher or urllib_fetcher(), url)
    if isinstance(body, str):
        return FeedRun.failed(FeedSource.EXCHANGE, body, where="获取")
    return parse_exchange(body, fmt=fmt)


def _run(rows: list[Row | Skipped], digest: str) -> FeedRun:
    records: list[FeedRecord] = []
    issues: list[FeedIssue] = []
    for row in rows:
        if isinstance(row, Skipped):
            issues.append(FeedIssue(where=row.where, reason=row.reason))
            continue
        try:
            records.append(_record(row))
        except FieldError as exc:
            issues.append(FeedIssue(where=row.where, reason=str(exc), external_id=_safe_id(row)))
    merged, conflicts = merge_stages(records)
    return FeedRun(
        source=FeedSource.EXCHANGE, records=tuple(merged), issues=tuple(issues + conflicts), digest=digest
    )


def _safe_id(row: Row) -> str:
    try:
        return row.text("project_no")[:100]
    except FieldError:
        return ""


def _record(row: Row) -> FeedRecord:
    stage = row.choice("stage", _STAGES)
    result = stage is FeedStage.RESULT
    start_on, end_on = row.date("start_on"), row.date("end_on")
    if start_on and end_on and end_on < start_on:
        raise FieldError(f"{row.label('end_on')}早于{row.label('start_on')}")
    record = FeedRecord(
        source=FeedSource.EXCHANGE,
        external_id=row.text("project_no", required=True),
        stage=stage,
        company_uscc=row.uscc("company_uscc", required=True),
        company_name=row.text("company_name"),
        asset_ref=row.text("asset_ref"),
        parcel_ref=row.text("parcel_ref"),
        title=row.text("title"),
        counterparty_id=row.identifier("counterparty_id", required=result),
        counterparty_name=row.text("counterparty_name"),
        area_m2=row.area("area_m2"),
        price_basis=row.choice("price_basis", _BASES),
        reserve_price_yuan=row.yuan("reserve_price_yuan", required=not result),
        deal_price_yuan=row.yuan("deal_price_yuan", required=result),
        bidder_count=row.count("bidder_count"),
        published_on=row.date("published_on", required=not result),
        deal_on=row.date("deal_on", required=result),
        start_on=start_on,
        end_on=end_on,
        where=row.where,
    )
    if not (record.asset_ref or record.parcel_ref):
        raise FieldError(f"缺少{row.label('asset_ref')}或{row.label('parcel_ref')}")
    return record
