"""The on-platform trading rule at its edges (pure: no database)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from gongzhi.assets.domain.trading_rule import (
    DEFAULT_RULE,
    DealFacts,
    Rule,
    judge,
    rule_on,
    term_months,
    term_too_long,
)

D = Decimal


def deal(ref: str = "new", area: str = "100", rent: str = "1000", on: date = date(2026, 6, 1), **kw: object) -> DealFacts:
    return DealFacts(ref=ref, company="c1", area=D(area), monthly_rent=D(rent), signed_on=on, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(("area", "rent", "must"), [
    ("2999.99", "99999.99", False),
    ("3000.00", "1.00", True),
    ("1.00", "100000.00", True),
    ("3000", "100000", True),
    ("2999.99", "100000.00", True),
])
def test_thresholds_at_the_edges(area: str, rent: str, must: bool) -> None:
    verdict = judge(deal(area=area, rent=rent), [], DEFAULT_RULE)
    assert verdict.must_trade is must
    assert verdict.alone is must


def test_two_leases_to_one_tenant_of_the_same_building_are_added_up() -> None:
    first = deal("L1", area="1600", rent="40000", on=date(2026, 3, 1), asset="unit-1", counterparty="TENANT")
    second = deal(area="1600", rent="40000", on=date(2026, 5, 1), asset="unit-2", counterparty="TENANT")
    verdict = judge(second, [first], DEFAULT_RULE)
    assert verdict.must_trade and verdict.is_split
    assert verdict.grouped_by == "counterparty" and verdict.related == ("L1",)
    assert verdict.total_area == D("3200")


def test_same_asset_leased_in_pieces_is_added_up() -> None:
    first = deal("L1", area="2000", on=date(2026, 1, 10), asset="bldg", counterparty="A")
    second = deal(area="1000", on=date(2026, 2, 10), asset="bldg", counterparty="B")
    verdict = judge(second, [first], DEFAULT_RULE)
    assert verdict.must_trade and verdict.grouped_by == "asset"


def test_parcel_pieces_are_added_up_and_rent_adds_too() -> None:
    first = deal("L1", area="10", rent="60000", on=date(2026, 1, 10), parcel="p1", counterparty="A", asset="p1")
    second = deal(area="10", rent="40000", on=date(2026, 2, 10), parcel="p1", counterparty="B", asset="p1")
    assert judge(second, [first], DEFAULT_RULE).total_monthly_rent == D("100000")


def test_outside_the_window_or_on_platform_or_another_company_is_not_added() -> None:
    old = deal("L1", area="1600", on=date(2025, 5, 1), counterparty="T")
    new = deal(area="1600", on=date(2026, 5, 1), counterparty="T")
    assert not judge(new, [old], DEFAULT_RULE).must_trade  # 365 days apart: outside the window
    inside = deal("L2", area="1600", on=date(2025, 5, 2), counterparty="T")
    assert judge(new, [inside], DEFAULT_RULE).must_trade  # 364 days apart
    traded = DealFacts("L3", "c1", D("1600"), D("1"), date(2026, 4, 1), counterparty="T", on_platform=True)
    assert not judge(new, [traded], DEFAULT_RULE).must_trade
    other = DealFacts("L4", "c2", D("1600"), D("1"), date(2026, 4, 1), counterparty="T")
    assert not judge(new, [other], DEFAULT_RULE).must_trade


def test_below_the_threshold_together_stays_off() -> None:
    a = deal("L1", area="1499.99", rent="49999.99", counterparty="T")
    b = deal(area="1500", rent="50000", counterparty="T")
    assert not judge(b, [a], DEFAULT_RULE).must_trade


def test_the_rule_is_dated_and_configurable() -> None:
    rules = [Rule(date(2020, 1, 1), D("5000"), D("200000")), Rule(date(2026, 7, 1), D("2000"), D("50000"), 180)]
    assert rule_on(rules, date(2019, 12, 31)) == DEFAULT_RULE
    assert rule_on(rules, date(2026, 6, 30)).area_threshold == D("5000")
    assert rule_on(rules, date(2026, 7, 1)).area_threshold == D("2000")
    assert not judge(deal(area="3000"), [], rules[0]).must_trade
    assert judge(deal(area="2000"), [], rules[1]).must_trade


def test_term_beyond_twenty_years() -> None:
    assert not term_too_long(date(2026, 1, 1), date(2045, 12, 31))  # exactly twenty years
    assert term_too_long(date(2026, 1, 1), date(2046, 1, 1))
    assert not term_too_long(date(2024, 2, 29), date(2044, 2, 27))
    assert term_months(date(2026, 1, 1), date(2045, 12, 31)) == 240
    assert term_months(date(2026, 3, 15), date(2027, 3, 14)) == 12
