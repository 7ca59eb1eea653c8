"""The platform's own transactions as an OCDS 1.1 release package with the lease extension."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal

from gongzhi.assets.domain.feeds import (
    PlatformTransaction,
    PriceBasis,
    export_release_package,
    parse_procurement,
    release_package_json,
    validate_release_package,
)
from gongzhi.assets.domain.feeds.ocds import lease_extension_metadata, release_schema
from gongzhi.assets.domain.feeds.parsing import BEIJING

COMPANY = "91440309MA5FXX010C"
TENANT = "91440309MA5FXX030E"
PERSON = "440309198512120025"


def _at(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 3, day, hour, 0, tzinfo=BEIJING)


def transactions() -> list[PlatformTransaction]:
    common = {"company_uscc": COMPANY, "company_name": "深圳市龙华区甲股份合作公司"}
    return [
        PlatformTransaction(  # signed lease to a company
            "LH-2026-0001", title="甲公司3号厂房整体出租", listed_at=_at(1), notice_end_at=_at(15, 17),
            asset_ref="A-0001", parcel_ref="440309001001GB00001", area_m2=Decimal("3200.00"), use_type="工业",
            reserve_price_yuan=Decimal("96000.00"), bidder_count=3, awarded_at=_at(20),
            deal_price_yuan=Decimal("102400.00"), counterparty_id=TENANT, counterparty_name="深圳市某某科技有限公司",
            signed_at=_at(25), start_on=date(2026, 4, 1), end_on=date(2031, 3, 31),
            deposit_yuan=Decimal("204800.00"), total_value_yuan=Decimal("6144000.00"), **common,
        ),
        PlatformTransaction(  # awarded to a person, not yet signed
            "LH-2026-0002", title="甲公司商铺出租", listed_at=_at(2), asset_ref="A-0107",
            area_m2=Decimal("120.50"), reserve_price_yuan=Decimal("8000.00"), bidder_count=1,
            awarded_at=_at(22), deal_price_yuan=Decimal("8500.00"), counterparty_id=PERSON,
            counterparty_name="李小明", **common,
        ),
        PlatformTransaction(  # a listing on the total basis (transfer)
            "LH-2026-0003", title="甲公司空地使用权转让", listed_at=_at(3), parcel_ref="440309001002GB00007",
            area_m2=Decimal("5000"), price_basis=PriceBasis.TOTAL, reserve_price_yuan=Decimal("12000000.00"),
            **common,
        ),
        PlatformTransaction("LH-2026-0004", title="撤回的挂牌", listed_at=_at(4), cancelled=True,
                            updated_at=_at(6), **common),
    ]


def package() -> dict[str, object]:
    return export_release_package(
        transactions(),
        uri="https://gongzhi.example/api/v1/assets/ocds/2026-03.json",
        published_at=_at(31, 18),
        publisher_name="深圳市龙华区集体资产监管平台",
        extension_url="https://gongzhi.example/ocds/extensions/lease/extension.json",
        license_url="https://creativecommons.org/licenses/by/4.0/",
    )


def test_export_is_a_valid_release_package_with_the_lease_extension() -> None:
    doc = package()
    assert validate_release_package(doc) == []
    # Through the bytes too (amounts become JSON numbers).
    assert validate_release_package(json.loads(release_package_json(doc))) == []


def test_export_shape() -> None:
    doc = package()
    releases = doc["releases"]
    assert isinstance(releases, list)
    assert [r["tag"] for r in releases] == [["contract"], ["award"], ["tender"], ["tenderCancellation"]]
    signed = releases[0]
    assert signed["ocid"] == "ocds-gzhi00-LH-2026-0001"
    assert signed["date"] == "2026-03-25T10:00:00+08:00"
    contract = signed["contracts"][0]
    assert contract["lease"]["monthlyRent"] == {"amount": Decimal("102400.00"), "currency": "CNY"}
    assert contract["period"] == {"startDate": "2026-04-01T00:00:00+08:00", "endDate": "2031-03-31T23:59:59+08:00"}
    assert signed["tender"]["lease"]["reserveMonthlyRent"]["amount"] == Decimal("96000.00")
    assert "minValue" not in signed["tender"]
    assert releases[2]["tender"]["minValue"] == {"amount": Decimal("12000000.00"), "currency": "CNY"}


def test_a_person_is_published_without_a_number() -> None:
    data = release_package_json(package()).decode()
    assert PERSON not in data
    person = next(p for p in json.loads(data)["releases"][1]["parties"] if "supplier" in p["roles"])
    assert person == {"id": "person-LH-2026-0002", "name": "李**", "roles": ["tenderer", "supplier"]}


def test_export_reads_back_through_the_procurement_adapter() -> None:
    run = parse_procurement(release_package_json(package()))
    assert run.ok
    # The person's award has no contract and the others none either: one contract record.
    (record,) = run.records
    assert record.external_id == "ocds-gzhi00-LH-2026-0001/ocds-gzhi00-LH-2026-0001-contract"
    assert record.counterparty_id == TENANT and record.company_uscc == COMPANY
    assert (record.price_basis, record.reserve_price_yuan, record.deal_price_yuan) == (
        PriceBasis.MONTHLY_RENT, Decimal("96000.00"), Decimal("102400.00"),
    )
    assert (record.asset_ref, record.area_m2, record.start_on, record.end_on) == (
        "A-0001", Decimal("3200.00"), date(2026, 4, 1), date(2031, 3, 31),
    )


def test_a_broken_export_is_caught_by_the_schema() -> None:
    doc = package()
    doc["releases"][0]["contracts"][0]["lease"]["area"] = -1  # type: ignore[index]
    assert any("lease.area不能小于0" in reason for reason in validate_release_package(doc))


def test_lease_extension_files() -> None:
    meta = lease_extension_metadata()
    assert meta["compatibility"] == ["1.1"]
    lease = release_schema()["definitions"]["Lease"]["properties"]
    assert {"assetRef", "parcelRef", "area", "useType", "reserveMonthlyRent", "monthlyRent", "deposit"} <= set(lease)
    assert "Lease" not in release_schema(with_lease=False)["definitions"]


def test_export_order_is_deterministic() -> None:
    a = export_release_package(transactions(), uri="https://x.example/p.json", published_at=_at(31),
                               publisher_name="p", extension_url="https://x.example/e.json")
    b = export_release_package(list(reversed(transactions())), uri="https://x.example/p.json", published_at=_at(31),
                               publisher_name="p", extension_url="https://x.example/e.json")
    assert release_package_json(a) == release_package_json(b)
