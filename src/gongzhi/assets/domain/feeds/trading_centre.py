"""The construction-project trading centre's tenders (招标公告) and awards (中标结果公示).

Works on collective land (a new factory block, a renovation) are tendered through the trading
centre; the register follows them to see the money a collective company commits.

Input format: JSON, one page — an object ``{"data": [item, …], "next": "https://…" | null}``
(or a bare array). The HTTP pull follows ``next`` up to ``max_pages`` pages; the run is one
unit — a page that cannot be fetched or read fails the whole run. Items:

===================  ===============  ==============================================================
key                  Chinese name     meaning
===================  ===============  ==============================================================
type                 类型             ``tender``/招标 or ``award``/中标 (required)
project_code         项目编号          required
section_code         标段编号          required; the record's id is ``项目编号/标段编号``
title                项目名称
tenderer_uscc        招标人代码         the collective company (required, valid USCC)
tenderer_name        招标人
asset_ref            资产编号
parcel_ref           宗地代码          (asset or parcel reference required)
building_area_m2     建筑面积          m²
ceiling_price_yuan   招标控制价         yuan, total (required for a tender)
bid_price_yuan       中标价            yuan, total (required for an award)
winner_id            中标人代码         USCC (or ID number) of the winning bidder (required for an award)
winner_name          中标人
bidder_count         投标人数
published_on         公告日期          (required for a tender)
awarded_on           中标日期          (required for an award)
start_on / end_on    计划开工 / 计划竣工  planned construction period
===================  ===============  ==============================================================

Prices are totals (basis ``total``). A tender followed by its award for the same section becomes
one record at the award stage.
"""

from __future__ import annotations

from urllib.parse import urljoin

from gongzhi.assets.domain.feeds.fetch import Fetcher, fetch_or_reason, urllib_fetcher
from gongzhi.assets.domain.feeds.parsing import (
    FieldError,
    FormatError,
    Row,
    Skipped,
    alias_table,
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

__all__ = ["parse_trading_centre", "pull_trading_centre"]

_COLUMNS: dict[str, tuple[str, ...]] = {
    "type": ("类型",),
    "project_code": ("项目编号",),
    "section_code": ("标段编号",),
    "title": ("项目名称",),
    "tenderer_uscc": ("招标人代码", "招标人统一社会信用代码"),
    "tenderer_name": ("招标人",),
    "asset_ref": ("资产编号",),
    "parcel_ref": ("宗地代码",),
    "building_area_m2": ("建筑面积",),
    "ceiling_price_yuan": ("招标控制价",),
    "bid_price_yuan": ("中标价",),
    "winner_id": ("中标人代码", "中标人统一社会信用代码"),
    "winner_name": ("中标人",),
    "bidder_count": ("投标人数",),
    "published_on": ("公告日期",),
    "awarded_on": ("中标日期",),
    "start_on": ("计划开工",),
    "end_on": ("计划竣工",),
}
_ALIASES = alias_table(_COLUMNS)
_LABELS = {key: names[0] for key, names in _COLUMNS.items()}
_TYPES = {"tender": FeedStage.TENDER, "招标": FeedStage.TENDER, "award": FeedStage.AWARD, "中标": FeedStage.AWARD}
DEFAULT_MAX_PAGES = 1000


def parse_trading_centre(data: bytes) -> FeedRun:
    """Read one page (or a whole file) of the trading centre's JSON."""
    return _parse_pages([data])


def pull_trading_centre(
    url: str, *, fetcher: Fetcher | None = None, max_pages: int = DEFAULT_MAX_PAGES
) -> FeedRun:
    """Fetch ``url`` and every ``next`` page after it; all pages or nothing."""
    fetch = fetcher or urllib_fetcher()
    pages: list[bytes] = []
    seen: set[str] = set()
    next_url: str | None = url
    while next_url:
        if next_url in seen:
            return FeedRun.failed(FeedSource.TRADING_CENTRE, "分页链接出现循环", where=f"第{len(pages) + 1}页")
        if len(pages) >= max_pages:
            return FeedRun.failed(FeedSource.TRADING_CENTRE, f"超过{max_pages}页上限，未导入", where="获取")
        seen.add(next_url)
        body = fetch_or_reason(fetch, next_url)
        if isinstance(body, str):
            return FeedRun.failed(FeedSource.TRADING_CENTRE, body, where=f"第{len(pages) + 1}页")
        pages.append(body)
        try:
            _, doc = read_json_rows(body, ("data", "records"), _ALIASES, _LABELS)
        except FormatError as exc:
            return FeedRun.failed(FeedSource.TRADING_CENTRE, str(exc), where=f"第{len(pages)}页")
        link = doc.get("next") if isinstance(doc, dict) else None
        next_url = urljoin(next_url, link) if isinstance(link, str) and link else None
    return _parse_pages(pages)


def _parse_pages(pages: list[bytes]) -> FeedRun:
    digest = digest_of(*pages)
    records: list[FeedRecord] = []
    issues: list[FeedIssue] = []
    for number, page in enumerate(pages, start=1):
        prefix = f"第{number}页" if len(pages) > 1 else ""
        try:
            rows, _ = read_json_rows(page, ("data", "records"), _ALIASES, _LABELS)
        except FormatError as exc:
            return FeedRun.failed(FeedSource.TRADING_CENTRE, str(exc), where=prefix or "文件", digest=digest)
        for row in rows:
            if isinstance(row, Skipped):
                issues.append(FeedIssue(prefix + row.where, row.reason))
                continue
            row.where = prefix + row.where
            try:
                records.append(_record(row))
            except FieldError as exc:
                issues.append(FeedIssue(row.where, str(exc), _safe_id(row)))
    merged, conflicts = merge_stages(records)
    return FeedRun(FeedSource.TRADING_CENTRE, tuple(merged), tuple(issues + conflicts), digest=digest)


def _safe_id(row: Row) -> str:
    try:
        project, section = row.text("project_code"), row.text("section_code")
    except FieldError:
        return ""
    return f"{project}/{section}"[:200] if project else ""


def _record(row: Row) -> FeedRecord:
    stage = row.choice("type", _TYPES)
    award = stage is FeedStage.AWARD
    start_on, end_on = row.date("start_on"), row.date("end_on")
    if start_on and end_on and end_on < start_on:
        raise FieldError(f"{row.label('end_on')}早于{row.label('start_on')}")
    project = row.text("project_code", required=True)
    section = row.text("section_code", required=True)
    if "/" in project or "/" in section:
        raise FieldError("项目编号和标段编号不能含“/”")
    record = FeedRecord(
        source=FeedSource.TRADING_CENTRE,
        external_id=f"{project}/{section}",
        stage=stage,
        company_uscc=row.uscc("tenderer_uscc", required=True),
        company_name=row.text("tenderer_name"),
        asset_ref=row.text("asset_ref"),
        parcel_ref=row.text("parcel_ref"),
        title=row.text("title"),
        counterparty_id=row.identifier("winner_id", required=award),
        counterparty_name=row.text("winner_name"),
        area_m2=row.area("building_area_m2"),
        price_basis=PriceBasis.TOTAL,
        reserve_price_yuan=row.yuan("ceiling_price_yuan", required=not award),
        deal_price_yuan=row.yuan("bid_price_yuan", required=award),
        bidder_count=row.count("bidder_count"),
        published_on=row.date("published_on", required=not award),
        deal_on=row.date("awarded_on", required=award),
        start_on=start_on,
        end_on=end_on,
        where=row.where,
    )
    if not (record.asset_ref or record.parcel_ref):
        raise FieldError(f"缺少{row.label('asset_ref')}或{row.label('parcel_ref')}")
    return record
