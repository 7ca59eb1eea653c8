"""The procurement system's contracts as OCDS 1.1 packages: the OCP samples and our own fixture."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from gongzhi.assets.domain.feeds import PriceBasis, parse_procurement, pull_procurement
from gongzhi.assets.domain.feeds.ocds import compile_releases, validate_release_package

Read = Callable[[str], bytes]
SAMPLE = "fictional-example-1.1"
STAGES = ["01-planning", "02-tender", "03-tenderAmendment", "04-award", "05-contract", "06-implementation"]


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)


def _dump(doc: Any) -> bytes:
    return json.dumps(doc, default=str, ensure_ascii=False).encode()


def _numbers(doc: Any) -> Any:
    # _dump wrote Decimals as strings; give them back as numbers for a mutated fixture.
    return json.loads(json.dumps(doc, default=float))


# --- The Open Contracting Partnership's samples (skip where shared/ is absent) ---------------


@pytest.mark.parametrize("stage", STAGES)
def test_ocp_release_packages_are_valid_and_read(ocp_dir: Path, stage: str) -> None:
    path = ocp_dir / SAMPLE / f"ocds-213czf-000-00001-{stage}.json"
    assert validate_release_package(_load(path), with_lease=False) == []
    run = parse_procurement(path.read_bytes())
    assert run.ok, run.fatal
    assert run.records == ()  # the sample's contract is in GBP: reported, not imported (below)


def test_ocp_releases_compile_to_the_published_record(ocp_dir: Path) -> None:
    releases: list[dict[str, Any]] = []
    for stage in STAGES:
        releases += _load(ocp_dir / SAMPLE / f"ocds-213czf-000-00001-{stage}.json")["releases"]
    published = _load(ocp_dir / SAMPLE / "record" / "ocds-213czf-000-00001.json")
    assert compile_releases(releases) == published["records"][0]["compiledRelease"]


def test_ocp_contract_in_gbp_is_reported_in_chinese(ocp_dir: Path) -> None:
    run = parse_procurement((ocp_dir / SAMPLE / "ocds-213czf-000-00001-05-contract.json").read_bytes())
    assert run.ok and run.records == ()
    (issue,) = run.issues
    assert issue.external_id == "ocds-213czf-000-00001/ocds-213czf-000-00001-contract-01"
    assert "GBP" in issue.reason and "人民币" in issue.reason


@pytest.mark.parametrize("name", ["ocds-213czf-000-00001.json", "ocds-213czf-000-00001-withversions.json"])
def test_ocp_record_packages_are_read(ocp_dir: Path, name: str) -> None:
    run = parse_procurement((ocp_dir / SAMPLE / "record" / name).read_bytes())
    assert run.ok, run.fatal
    assert [i.external_id for i in run.issues] == ["ocds-213czf-000-00001/ocds-213czf-000-00001-contract-01"]


def test_ocp_package_with_broken_release_skips_its_process(ocp_dir: Path) -> None:
    doc = _numbers(_load(ocp_dir / SAMPLE / "ocds-213czf-000-00001.json"))
    del doc["releases"][3]["date"]
    doc["releases"][4]["tag"] = ["signed"]
    run = parse_procurement(_dump(doc))
    assert run.ok and run.records == ()
    reasons = {i.where: i.reason for i in run.issues}
    assert "缺少必填字段date" in reasons["第4个发布（releases[3]）"]
    assert "取值不在代码表中" in reasons["第5个发布（releases[4]）"]
    assert "整个过程已跳过" in reasons["采购过程ocds-213czf-000-00001"]


def test_ocp_package_without_envelope_fields_is_fatal(ocp_dir: Path) -> None:
    doc = _numbers(_load(ocp_dir / SAMPLE / "ocds-213czf-000-00001-05-contract.json"))
    del doc["uri"]
    doc["version"] = "one"
    run = parse_procurement(_dump(doc))
    assert not run.ok and run.fatal is not None
    assert "缺少必填字段uri" in run.fatal.reason and "version的格式不对" in run.fatal.reason


# --- The project's own fixture (runs in any clone) ------------------------------------------


def test_own_release_package_compiles_each_process(fixture_bytes: Read) -> None:
    run = parse_procurement(fixture_bytes("procurement_releases.json"))
    assert run.ok and run.issues == ()
    lease, works = run.records
    assert lease.external_id == "ocds-gzhi00-LH-2026-0001/LH-2026-0001-C"
    # The tender release and the contract release of one ocid, compiled.
    assert lease.company_uscc == "91440309MA5FXX010C"
    assert lease.counterparty_id == "91440309MA5FXX030E"
    assert lease.price_basis is PriceBasis.MONTHLY_RENT
    assert (lease.reserve_price_yuan, lease.deal_price_yuan) == (Decimal("96000.00"), Decimal("102400.00"))
    assert (lease.asset_ref, lease.area_m2) == ("A-0001", Decimal("3200.00"))
    assert (lease.start_on, lease.end_on) == (date(2026, 4, 1), date(2031, 3, 31))
    assert lease.deal_on == date(2026, 3, 25) and lease.bidder_count == 3
    # Without the extension: total value, reserve from minValue, asset and area from the items.
    assert works.price_basis is PriceBasis.TOTAL
    assert (works.reserve_price_yuan, works.deal_price_yuan) == (Decimal("1500000.00"), Decimal("1800000.00"))
    assert (works.asset_ref, works.area_m2) == ("A-0200", Decimal("1500.00"))
    assert works.counterparty_id == "91440309MA5FYY010B"  # scheme CN-SAIC


def _own(fixture_bytes: Read) -> dict[str, Any]:
    doc: dict[str, Any] = _numbers(json.loads(fixture_bytes("procurement_releases.json")))
    return doc


def test_own_package_broken_contracts(fixture_bytes: Read) -> None:
    doc = _own(fixture_bytes)
    doc["releases"][2]["contracts"][0]["value"]["currency"] = "USD"
    doc["releases"][1]["parties"][0]["identifier"]["id"] = "91440309MA5FXX030F"
    run = parse_procurement(_dump(doc))
    assert run.ok and run.records == ()
    reasons = {i.external_id: i.reason for i in run.issues}
    assert "USD" in reasons["ocds-gzhi00-LH-2026-0002/LH-2026-0002-C"]
    assert "供应商的统一社会信用代码无效" in reasons["ocds-gzhi00-LH-2026-0001/LH-2026-0001-C"]


def test_lease_extension_fields_are_validated(fixture_bytes: Read) -> None:
    doc = _own(fixture_bytes)
    doc["releases"][0]["tender"]["lease"]["area"] = "三千二"
    run = parse_procurement(_dump(doc))
    assert [r.external_id for r in run.records] == ["ocds-gzhi00-LH-2026-0002/LH-2026-0002-C"]
    assert any("tender.lease.area的类型不对" in i.reason for i in run.issues)


def test_record_package_of_our_own_releases(fixture_bytes: Read) -> None:
    releases = _own(fixture_bytes)["releases"][:2]
    package = {
        "uri": "https://ccgp-shenzhen.example/ocds/records/1.json",
        "version": "1.1",
        "publishedDate": "2026-03-31T18:00:00+08:00",
        "publisher": {"name": "示例"},
        "records": [
            {"ocid": "ocds-gzhi00-LH-2026-0001", "releases": releases},
            {"ocid": "ocds-gzhi00-LH-2026-0009",
             "releases": [{"url": "https://ccgp-shenzhen.example/p.json#r1", "date": "2026-03-01T00:00:00Z"}]},
        ],
    }
    run = parse_procurement(_dump(package))
    assert [r.external_id for r in run.records] == ["ocds-gzhi00-LH-2026-0001/LH-2026-0001-C"]
    assert [(i.where, i.reason) for i in run.issues] == [
        ("第2条记录（records[1]）", "记录只有发布链接，没有汇编发布，无法导入")
    ]


def test_not_a_package() -> None:
    for data in (b"[]", b'{"hello": 1}', b"\x00\x01", b'{"releases": "x", "uri": 1}'):
        run = parse_procurement(data)
        assert not run.ok and run.records == ()


def test_pull(fixture_bytes: Read) -> None:
    run = pull_procurement("https://ccgp.example/ocds.json", fetcher=lambda url: fixture_bytes("procurement_releases.json"))
    assert run.ok and len(run.records) == 2


def test_schema_refs_never_fetch(monkeypatch: pytest.MonkeyPatch, fixture_bytes: Read) -> None:
    import urllib.request

    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("a schema was fetched")

    monkeypatch.setattr(urllib.request, "urlopen", no_network)
    assert parse_procurement(fixture_bytes("procurement_releases.json")).ok


def test_an_identical_release_twice_is_reported_and_skipped(fixture_bytes: Read) -> None:
    doc = _own(fixture_bytes)
    doc["releases"].append(doc["releases"][1])
    assert validate_release_package(doc) == ["releases[3]与releases[1]完全相同"]
    run = parse_procurement(_dump(doc))
    assert len(run.records) == 2
    assert [(i.where, i.reason) for i in run.issues] == [("第4个发布（releases[3]）", "与第2个发布完全相同，已跳过")]
