"""Reconciling a feed with the register: each outcome, its alert, tolerance, window, order."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

from gongzhi.assets.domain.feeds import (
    FeedAlertKind,
    FeedRecord,
    FeedSource,
    FeedStage,
    Outcome,
    PriceBasis,
    PriceTolerance,
    RegisterRecord,
    parse_exchange,
    reconcile,
)

Read = Callable[[str], bytes]
EX = FeedSource.EXCHANGE
TENANT = "91440309MA5FXX030E"
PERSON = "440309198512120025"


def feed(external_id: str, **kw: object) -> FeedRecord:
    values: dict[str, object] = {
        "source": EX,
        "external_id": external_id,
        "stage": FeedStage.RESULT,
        "company_uscc": "91440309MA5FXX010C",
        "asset_ref": "A-" + external_id,
        "counterparty_id": TENANT,
        "price_basis": PriceBasis.MONTHLY_RENT,
        "deal_price_yuan": Decimal("100000.00"),
    }
    values.update(kw)
    return FeedRecord(**values)  # type: ignore[arg-type]


def reg(register_id: str, ref: str | None = None, **kw: object) -> RegisterRecord:
    values: dict[str, object] = {
        "register_id": register_id,
        "refs": {EX: ref} if ref else {},
        "asset_ref": "A-" + (ref or register_id),
        "counterparty_id": TENANT,
        "price_basis": PriceBasis.MONTHLY_RENT,
        "deal_price_yuan": Decimal("100000.00"),
        "dated": date(2026, 3, 1),
    }
    values.update(kw)
    return RegisterRecord(**values)  # type: ignore[arg-type]


def test_each_outcome_and_its_alert() -> None:
    report = reconcile(
        EX,
        [feed("P1"), feed("P2", deal_price_yuan=Decimal("90000.00")), feed("P3")],
        [reg("C1", "P1"), reg("C2", "P2"), reg("C4", "P4")],
    )
    got = [(r.outcome, r.external_id, r.register_id, r.alert_kind) for r in report.items]
    assert got == [
        (Outcome.DIFFERENT_PRICE, "P2", "C2", FeedAlertKind.PRICE_MISMATCH),
        (Outcome.MISSING_HERE, "P3", "", FeedAlertKind.MISSING_HERE),
        (Outcome.MISSING_THERE, "P4", "C4", FeedAlertKind.MISSING_THERE),
        (Outcome.MATCHED, "P1", "C1", None),
    ]
    assert [r.register_id for r in report.alerts] == ["C2", "", "C4"]
    assert report.counts() == {
        Outcome.DIFFERENT_PRICE: 1, Outcome.MISSING_HERE: 1, Outcome.MISSING_THERE: 1, Outcome.MATCHED: 1
    }
    (diff,) = report.different_price[0].differences
    assert diff.field == "deal_price_yuan"
    assert report.different_price[0].reason == "产权交易所记录P2与台账记录C2：成交价不一致（外部系统¥90,000.00，台账¥100,000.00）"


def test_tolerance_absolute_and_relative() -> None:
    f = [feed("P1", deal_price_yuan=Decimal("100000.01"))]
    r = [reg("C1", "P1")]
    assert reconcile(EX, f, r).items[0].outcome is Outcome.MATCHED  # one fen is the default slack
    f2 = [feed("P1", deal_price_yuan=Decimal("100000.02"))]
    assert reconcile(EX, f2, r).items[0].outcome is Outcome.DIFFERENT_PRICE
    f3 = [feed("P1", deal_price_yuan=Decimal("100900.00"))]
    loose = PriceTolerance(absolute=Decimal("0.01"), relative=Decimal("0.01"))
    assert reconcile(EX, f3, r, tolerance=loose).items[0].outcome is Outcome.MATCHED
    f4 = [feed("P1", deal_price_yuan=Decimal("101100.00"))]
    assert reconcile(EX, f4, r, tolerance=loose).items[0].outcome is Outcome.DIFFERENT_PRICE


def test_reserve_compared_too_and_missing_prices_are_not_differences() -> None:
    f = [feed("P1", reserve_price_yuan=Decimal("80000.00")), feed("P2", deal_price_yuan=None)]
    r = [reg("C1", "P1", reserve_price_yuan=Decimal("85000.00")), reg("C2", "P2")]
    report = reconcile(EX, f, r)
    assert [(i.external_id, i.outcome) for i in report.items] == [
        ("P1", Outcome.DIFFERENT_PRICE),
        ("P2", Outcome.MATCHED),
    ]
    assert [d.field for d in report.items[0].differences] == ["reserve_price_yuan"]


def test_different_basis_is_a_price_difference() -> None:
    report = reconcile(EX, [feed("P1", price_basis=PriceBasis.TOTAL)], [reg("C1", "P1")])
    item = report.items[0]
    assert item.outcome is Outcome.DIFFERENT_PRICE and item.differences[0].field == "price_basis"
    assert "计价方式不同" in item.reason


def test_match_by_asset_and_counterparty_when_the_register_lacks_the_reference() -> None:
    f = [feed("P9", asset_ref="A-77", counterparty_id=PERSON, start_on=date(2026, 4, 1))]
    r = [reg("C9", None, asset_ref="A-77", counterparty_id=PERSON, start_on=date(2026, 4, 1))]
    (item,) = reconcile(EX, f, r).items
    assert (item.outcome, item.matched_by, item.register_id) == (Outcome.MATCHED, "asset", "C9")
    # A different term start is another deal: missing here (and the unlinked register record is
    # not expected in this feed, so it is not missing there).
    other = [reg("C9", None, asset_ref="A-77", counterparty_id=PERSON, start_on=date(2027, 4, 1))]
    assert [i.outcome for i in reconcile(EX, f, other).items] == [Outcome.MISSING_HERE]


def test_ambiguous_asset_match_is_not_guessed() -> None:
    f = [feed("P9", asset_ref="A-77")]
    r = [reg("C8", None, asset_ref="A-77"), reg("C9", None, asset_ref="A-77")]
    assert [i.outcome for i in reconcile(EX, f, r).items] == [Outcome.MISSING_HERE]


def test_parcel_used_when_an_asset_reference_is_missing() -> None:
    f = [feed("P9", asset_ref="", parcel_ref="440309001002GB00009")]
    r = [reg("C9", None, asset_ref="A-1", parcel_ref="440309001002GB00009")]
    assert reconcile(EX, f, r).items[0].matched_by == "asset"


def test_two_register_records_claiming_one_reference() -> None:
    report = reconcile(EX, [feed("P1")], [reg("C2", "P1"), reg("C1", "P1")])
    assert [(i.outcome, i.register_id) for i in report.items] == [
        (Outcome.MISSING_THERE, "C2"),
        (Outcome.MATCHED, "C1"),
    ]


def test_window_and_incomplete_feeds_limit_missing_there() -> None:
    r = [reg("C1", "P1", dated=date(2026, 1, 15)), reg("C2", "P2", dated=date(2026, 3, 15)), reg("C3", "P3", dated=None)]
    march = (date(2026, 3, 1), date(2026, 3, 31))
    assert [i.register_id for i in reconcile(EX, [], r, window=march).items] == ["C2"]
    assert reconcile(EX, [], r, complete=False).items == ()


def test_other_sources_are_ignored() -> None:
    pr = FeedSource.PROCUREMENT
    report = reconcile(EX, [feed("P1"), feed("X", source=pr)], [reg("C1", "P1"), RegisterRecord("C5", refs={pr: "X"})])
    assert [(i.outcome, i.external_id) for i in report.items] == [(Outcome.MATCHED, "P1")]


def test_order_is_deterministic() -> None:
    f = [feed(f"P{n}") for n in (5, 3, 9, 1)]
    r = [reg(f"C{n}", f"P{n}") for n in (9, 1, 7)]
    a = reconcile(EX, f, r)
    b = reconcile(EX, list(reversed(f)), list(reversed(r)))
    assert a == b
    assert [(i.outcome.value, i.external_id) for i in a.items] == [
        ("missing_here", "P3"), ("missing_here", "P5"), ("missing_there", "P7"), ("matched", "P1"), ("matched", "P9"),
    ]


def test_reasons_mask_personal_numbers() -> None:
    report = reconcile(EX, [feed("P1", counterparty_id=PERSON)], [])
    reason = report.items[0].reason
    assert PERSON not in reason and "4403**********0025" in reason
    assert PERSON not in repr(report)


def test_with_a_parsed_feed(fixture_bytes: Read) -> None:
    run = parse_exchange(fixture_bytes("exchange_good.csv"))
    register = [
        RegisterRecord("HT-001", {EX: "SZ-2026-001"}, asset_ref="A-0001", counterparty_id=TENANT,
                       price_basis=PriceBasis.MONTHLY_RENT, reserve_price_yuan=Decimal("96000"),
                       deal_price_yuan=Decimal("102400")),
        RegisterRecord("HT-002", {}, asset_ref="A-0107", counterparty_id=PERSON, start_on=date(2026, 3, 1),
                       price_basis=PriceBasis.MONTHLY_RENT, deal_price_yuan=Decimal("8000")),
        RegisterRecord("HT-004", {EX: "SZ-2026-004"}, asset_ref="A-0400", dated=date(2026, 3, 2)),
    ]
    report = reconcile(EX, run.records, register)
    assert [(i.outcome, i.external_id, i.register_id) for i in report.items] == [
        (Outcome.DIFFERENT_PRICE, "SZ-2026-002", "HT-002"),
        (Outcome.MISSING_HERE, "SZ-2026-003", ""),
        (Outcome.MISSING_THERE, "SZ-2026-004", "HT-004"),
        (Outcome.MATCHED, "SZ-2026-001", "HT-001"),
    ]
    assert report.items[0].matched_by == "asset"
