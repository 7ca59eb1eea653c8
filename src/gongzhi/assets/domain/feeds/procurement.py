"""The government procurement system's contracts, as OCDS 1.1 release packages or record packages.

Input: one JSON document, either

* a **release package** (``releases``): the releases are grouped by ``ocid`` and each contracting
  process is compiled into its current state with ocdsmerge (later releases win); or
* a **record package** (``records``): each record's ``compiledRelease`` is read; a record with
  embedded releases and no compiled release is compiled here; ``versionedRelease`` is ignored
  (its validation schema is not vendored) and one with only linked releases is reported.

The package is validated against the vendored OCDS 1.1 schemas (with the platform's lease
extension, see ``ocds.py``). An invalid package envelope (no ``uri``, ``version`` …) fails the
run; an invalid release or record is reported and its whole contracting process skipped, since
compiling the rest would give a wrong current state.

One feed record per contract of a compiled release (a cancelled contract is left out):

* ``external_id``: ``"{ocid}/{contract id}"``; ``stage``: contract;
* company: the buyer (``buyer`` or ``tender.procuringEntity``) — its USCC when its identifier
  scheme is ``CN-USCC`` or ``CN-SAIC``; counterparty: the first supplier of the contract's award
  (for a lease, the tenant: OCDS names the winning party "supplier" whoever pays). A Chinese
  identifier must check out; any other scheme is kept as ``"SCHEME:id"``, opaque;
* price: ``contracts[].lease.monthlyRent`` (basis monthly rent) when the lease extension is used,
  else ``contracts[].value`` (basis total); reserve: ``tender.lease.reserveMonthlyRent`` or
  ``tender.minValue`` on the same basis. Amounts must be in CNY, otherwise the contract is
  reported and skipped — the register keeps yuan only;
* asset, parcel and area: ``lease.assetRef``/``parcelRef``/``area``, else the contract's items:
  classifications with scheme ``GONGZHI-ASSET`` or ``CN-PARCEL``, quantities in m² (UN/CEFACT
  ``MTK``);
* dates: signed (``dateSigned``, else the award's date), term (``period``), published
  (``tender.tenderPeriod.startDate``), all as the date in Beijing; bidders: ``numberOfTenderers``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from gongzhi.assets.domain.feeds.fetch import Fetcher, fetch_or_reason, urllib_fetcher
from gongzhi.assets.domain.feeds.ocds import (
    SchemaError,
    compile_releases,
    duplicate_items,
    record_package_validator,
    release_package_validator,
    schema_errors,
)
from gongzhi.assets.domain.feeds.parsing import (
    FieldError,
    FormatError,
    checked_identifier,
    load_json,
    parse_datetime_date,
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
from gongzhi.core.domain.identifiers import check_uscc
from gongzhi.core.domain.money import MoneyError, to_area, to_yuan

__all__ = ["USCC_SCHEMES", "parse_procurement", "pull_procurement", "records_from_compiled_release"]

USCC_SCHEMES = frozenset({"CN-USCC", "CN-SAIC"})
ASSET_SCHEME = "GONGZHI-ASSET"
PARCEL_SCHEME = "CN-PARCEL"
SQUARE_METRE = "MTK"  # UN/CEFACT Recommendation 20


def parse_procurement(data: bytes) -> FeedRun:
    """Read an OCDS 1.1 release package or record package (bytes of one JSON document)."""
    digest = digest_of(data)
    try:
        doc = load_json(data)
    except FormatError as exc:
        return FeedRun.failed(FeedSource.PROCUREMENT, str(exc), digest=digest)
    if not isinstance(doc, dict) or not ({"releases", "records"} & doc.keys()):
        return FeedRun.failed(
            FeedSource.PROCUREMENT, "不是OCDS发布包或记录包（缺少releases或records）", digest=digest
        )
    if "releases" in doc:
        return _release_package(doc, digest)
    return _record_package(doc, digest)


def pull_procurement(url: str, *, fetcher: Fetcher | None = None) -> FeedRun:
    """Fetch an OCDS package from ``url`` and read it as :func:`parse_procurement` does."""
    body = fetch_or_reason(fetcher or urllib_fetcher(), url)
    if isinstance(body, str):
        return FeedRun.failed(FeedSource.PROCUREMENT, body, where="获取")
    return parse_procurement(body)


def _split_problems(
    validator: Any, doc: dict[str, Any], member: str
) -> tuple[list[str], dict[int, list[str]]]:
    envelope: list[str] = []
    per_item: dict[int, list[str]] = {}
    for problem in schema_errors(validator, doc):
        if len(problem.path) >= 2 and problem.path[0] == member and isinstance(problem.path[1], int):
            per_item.setdefault(problem.path[1], []).append(problem.reason)
        else:
            envelope.append(problem.reason)
    return envelope, per_item


def _fatal_schema(reasons: list[str], digest: str) -> FeedRun:
    shown = "；".join(reasons[:5]) + ("等" if len(reasons) > 5 else "")
    return FeedRun.failed(FeedSource.PROCUREMENT, f"数据包不符合OCDS 1.1模式：{shown}", digest=digest)


def _joined(reasons: list[str]) -> str:
    return "不符合OCDS 1.1模式：" + "；".join(reasons[:3]) + ("等" if len(reasons) > 3 else "")


def _release_package(doc: dict[str, Any], digest: str) -> FeedRun:
    envelope, per_release = _split_problems(release_package_validator(), doc, "releases")
    if envelope:
        return _fatal_schema(envelope, digest)
    releases: list[Any] = doc["releases"]
    duplicates = duplicate_items(releases)
    issues: list[FeedIssue] = []
    by_ocid: dict[str, list[dict[str, Any]]] = {}
    bad_ocids: set[str] = set()
    for i, release in enumerate(releases):
        ocid = str(release.get("ocid") or "")
        if i in duplicates:
            first = duplicates[i]
            issues.append(FeedIssue(f"第{i + 1}个发布（releases[{i}]）", f"与第{first + 1}个发布完全相同，已跳过", ocid))
            continue
        if i in per_release:
            issues.append(FeedIssue(f"第{i + 1}个发布（releases[{i}]）", _joined(per_release[i]), ocid))
            bad_ocids.add(ocid)
            continue
        by_ocid.setdefault(ocid, []).append(release)
    records: list[FeedRecord] = []
    for ocid, group in by_ocid.items():
        where = f"采购过程{ocid}"
        if ocid in bad_ocids:
            issues.append(FeedIssue(where, "同一采购过程有不符合模式的发布，整个过程已跳过", ocid))
            continue
        try:
            compiled = compile_releases(group)
        except SchemaError as exc:
            issues.append(FeedIssue(where, str(exc), ocid))
            continue
        found, problems = records_from_compiled_release(compiled)
        records.extend(found)
        issues.extend(problems)
    merged, conflicts = merge_stages(records)
    return FeedRun(FeedSource.PROCUREMENT, tuple(merged), tuple(issues + conflicts), digest=digest)


def _record_package(doc: dict[str, Any], digest: str) -> FeedRun:
    # versionedRelease is not read, and its validation schema is not vendored: drop it first.
    records_in = doc.get("records")
    if isinstance(records_in, list):
        doc = {**doc, "records": [_without_versions(r) for r in records_in]}
    envelope, per_record = _split_problems(record_package_validator(), doc, "records")
    if envelope:
        return _fatal_schema(envelope, digest)
    issues: list[FeedIssue] = []
    records: list[FeedRecord] = []
    duplicates = duplicate_items(doc["records"])
    for i, record in enumerate(doc["records"]):
        ocid = str(record.get("ocid") or "")
        where = f"第{i + 1}条记录（records[{i}]）"
        if i in duplicates:
            issues.append(FeedIssue(where, f"与第{duplicates[i] + 1}条记录完全相同，已跳过", ocid))
            continue
        if i in per_record:
            issues.append(FeedIssue(where, _joined(per_record[i]), ocid))
            continue
        compiled = record.get("compiledRelease")
        if compiled is None:
            embedded = [r for r in record["releases"] if "url" not in r]
            if not embedded:
                issues.append(FeedIssue(where, "记录只有发布链接，没有汇编发布，无法导入", ocid))
                continue
            try:
                compiled = compile_releases(embedded)
            except SchemaError as exc:
                issues.append(FeedIssue(where, str(exc), ocid))
                continue
        found, problems = records_from_compiled_release(compiled)
        records.extend(found)
        issues.extend(problems)
    merged, conflicts = merge_stages(records)
    return FeedRun(FeedSource.PROCUREMENT, tuple(merged), tuple(issues + conflicts), digest=digest)


def _without_versions(record: Any) -> Any:
    if isinstance(record, dict) and "versionedRelease" in record:
        return {k: v for k, v in record.items() if k != "versionedRelease"}
    return record


def records_from_compiled_release(release: Mapping[str, Any]) -> tuple[list[FeedRecord], list[FeedIssue]]:
    """The feed records of one compiled release (one per contract) and the contracts skipped."""
    ocid = str(release.get("ocid") or "")
    parties = {str(p.get("id")): p for p in release.get("parties") or [] if isinstance(p, dict)}
    awards = {str(a.get("id")): a for a in release.get("awards") or [] if isinstance(a, dict)}
    tender = release.get("tender") or {}
    buyer_ref = release.get("buyer") or tender.get("procuringEntity") or {}
    records: list[FeedRecord] = []
    issues: list[FeedIssue] = []
    for contract in release.get("contracts") or []:
        if not isinstance(contract, dict) or contract.get("status") == "cancelled":
            continue
        cid = str(contract.get("id") or "")
        external_id = f"{ocid}/{cid}"
        where = f"采购过程{ocid}的合同{cid}"
        try:
            records.append(_contract_record(external_id, where, contract, tender, awards, parties, buyer_ref))
        except FieldError as exc:
            issues.append(FeedIssue(where, str(exc), external_id))
    return records, issues


def _contract_record(
    external_id: str,
    where: str,
    contract: Mapping[str, Any],
    tender: Mapping[str, Any],
    awards: Mapping[str, Mapping[str, Any]],
    parties: Mapping[str, Mapping[str, Any]],
    buyer_ref: Mapping[str, Any],
) -> FeedRecord:
    award = awards.get(str(contract.get("awardID") or ""))
    if award is None:
        raise FieldError("合同的awardID找不到对应的授标")
    suppliers = award.get("suppliers") or []
    if not suppliers:
        raise FieldError("合同对应的授标没有供应商（承租方）")
    supplier = parties.get(str(suppliers[0].get("id") or ""), suppliers[0])
    counterparty_id = _party_identifier(supplier, "供应商")
    if not counterparty_id:
        raise FieldError("供应商（承租方）没有标识")
    buyer = parties.get(str(buyer_ref.get("id") or ""), buyer_ref)
    company_uscc = _buyer_uscc(buyer)

    contract_lease = contract.get("lease") or {}
    tender_lease = tender.get("lease") or {}
    if contract_lease.get("monthlyRent"):
        basis = PriceBasis.MONTHLY_RENT
        deal = _amount(contract_lease.get("monthlyRent"), "合同月租金（lease.monthlyRent）")
        reserve = _amount(tender_lease.get("reserveMonthlyRent"), "挂牌月租金底价（tender.lease.reserveMonthlyRent）")
    else:
        basis = PriceBasis.TOTAL
        deal = _amount(contract.get("value"), "合同金额（contracts.value）")
        reserve = _amount(tender.get("minValue"), "最低价（tender.minValue）")

    items = contract.get("items") or award.get("items") or []
    asset_ref = str(contract_lease.get("assetRef") or tender_lease.get("assetRef") or _classified(items, ASSET_SCHEME))
    parcel_ref = str(contract_lease.get("parcelRef") or tender_lease.get("parcelRef") or _classified(items, PARCEL_SCHEME))
    area_value = contract_lease.get("area")
    if area_value is None:
        area_value = tender_lease.get("area")
    area = _area(area_value) if area_value is not None else _items_area(items)

    period = contract.get("period") or {}
    tender_period = tender.get("tenderPeriod") or {}
    count = tender.get("numberOfTenderers")
    return FeedRecord(
        source=FeedSource.PROCUREMENT,
        external_id=external_id,
        stage=FeedStage.CONTRACT,
        company_uscc=company_uscc,
        company_name=str(buyer.get("name") or ""),
        asset_ref=asset_ref,
        parcel_ref=parcel_ref,
        title=str(contract.get("title") or tender.get("title") or ""),
        counterparty_id=counterparty_id,
        counterparty_name=str(supplier.get("name") or ""),
        area_m2=area,
        price_basis=basis,
        reserve_price_yuan=reserve,
        deal_price_yuan=deal,
        published_on=_date(tender_period.get("startDate")),
        deal_on=_date(contract.get("dateSigned") or award.get("date")),
        start_on=_date(period.get("startDate")),
        end_on=_date(period.get("endDate")),
        bidder_count=count if isinstance(count, int) and not isinstance(count, bool) else None,
        where=where,
    )


def _party_identifier(party: Mapping[str, Any], role: str) -> str:
    identifier = party.get("identifier") or {}
    scheme = str(identifier.get("scheme") or "")
    number = str(identifier.get("id") or "")
    if not number:
        return ""
    if scheme in USCC_SCHEMES:
        return checked_identifier(number, f"{role}的统一社会信用代码")
    return f"{scheme}:{number}" if scheme else number


def _buyer_uscc(buyer: Mapping[str, Any]) -> str:
    identifier = buyer.get("identifier") or {}
    if str(identifier.get("scheme") or "") not in USCC_SCHEMES:
        return ""
    result = check_uscc(str(identifier.get("id") or ""))
    if not result.valid:
        raise FieldError(f"采购人的统一社会信用代码无效（{result.errors[0].message_zh}）")
    return result.normalized


def _amount(value: Any, label: str) -> Decimal | None:
    if not isinstance(value, Mapping) or value.get("amount") is None:
        return None
    currency = value.get("currency")
    if currency != "CNY":
        raise FieldError(f"{label}的币种为{currency or '空'}，不是人民币（CNY），台账只记人民币")
    try:
        amount = to_yuan(value["amount"])
    except MoneyError as exc:
        raise FieldError(f"{label}格式不正确") from exc
    if amount < 0:
        raise FieldError(f"{label}不能为负数")
    return amount


def _area(value: Any) -> Decimal:
    try:
        return to_area(value)
    except MoneyError as exc:
        raise FieldError("租赁面积（lease.area）格式不正确") from exc


def _classified(items: list[Any], scheme: str) -> str:
    for item in items:
        if not isinstance(item, dict):
            continue
        for c in [item.get("classification") or {}, *(item.get("additionalClassifications") or [])]:
            if isinstance(c, dict) and c.get("scheme") == scheme and c.get("id"):
                return str(c["id"])
    return ""


def _items_area(items: list[Any]) -> Decimal | None:
    total: Decimal | None = None
    for item in items:
        if not isinstance(item, dict):
            continue
        unit = item.get("unit") or {}
        if unit.get("id") == SQUARE_METRE and item.get("quantity") is not None:
            total = (total or Decimal(0)) + _area(item["quantity"])
    return total


def _date(value: Any) -> date | None:
    return parse_datetime_date(value) if isinstance(value, str) else None
