"""The on-platform trading lifecycle, step by step, each step audited."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from gongzhi.assets import actions
from gongzhi.assets.models import Alert, Deal
from gongzhi.core.errors import ActionError, ConflictError
from gongzhi.core.models import AuditEvent
from gongzhi.core.tests.authz_world import uscc

from .conftest import PERSON_NUMBER

SH = ZoneInfo("Asia/Shanghai")


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=SH)


def listed_deal(estate: SimpleNamespace, mode: str = "open") -> Deal:
    m = estate.manager
    deal = actions.do_open_deal(estate.company, estate.building, "平山工业区A栋整栋招租", "8000", 60,
                                decision_ref="平山股份〔2026〕股东大会决议第3号", decided_on=date(2026, 3, 2), actor=m,
                                mode=mode)
    appraisal = actions.do_record_appraisal(estate.building, date(2026, 3, 5), "200000", "深圳某评估公司", actor=m)
    actions.do_attach_appraisal(deal, appraisal, actor=m)
    with pytest.raises(ActionError) as err:
        actions.do_set_reserve(deal, "199999.99", "50000", actor=m)
    assert err.value.code == "below_appraisal"
    actions.do_set_reserve(deal, "200000", "50000", actor=m, min_increment="1000")
    actions.do_list_deal(deal, date(2026, 3, 9), actor=m)
    deal.refresh_from_db()
    return deal


def test_lifecycle_from_decision_to_contract(estate: SimpleNamespace) -> None:
    m = estate.manager
    deal = listed_deal(estate)
    assert deal.status == "listed" and deal.notice_until == date(2026, 3, 16)  # five working days
    with pytest.raises(ActionError):  # deposit short
        actions.do_register_bidder(deal, counterparty_kind="org", counterparty_number=uscc("91440300MA5G00004"),
                                   counterparty_name="甲公司", deposit_paid="100", actor=m, at=at(date(2026, 3, 10)))
    a = actions.do_register_bidder(deal, counterparty_kind="org", counterparty_number=uscc("91440300MA5G00004"),
                                   counterparty_name="甲公司", deposit_paid="50000", actor=m, at=at(date(2026, 3, 10)))
    b = actions.do_register_bidder(deal, counterparty_kind="person", counterparty_number=PERSON_NUMBER,
                                   counterparty_name="李某", deposit_paid="50000", actor=m, at=at(date(2026, 3, 11)))
    with pytest.raises(ConflictError):  # after the notice period
        actions.do_register_bidder(deal, counterparty_kind="org", counterparty_number=uscc("91440300MA5G00005"),
                                   counterparty_name="丙公司", deposit_paid="50000", actor=m, at=at(date(2026, 3, 17)))
    with pytest.raises(ActionError) as err:
        actions.do_place_bid(deal, a, "199000", idempotency_key="k0", actor=m, at=at(date(2026, 3, 12)))
    assert err.value.code == "below_reserve"
    actions.do_place_bid(deal, a, "200000", idempotency_key="k1", actor=m, at=at(date(2026, 3, 12)))
    with pytest.raises(ActionError) as err:
        actions.do_place_bid(deal, b, "200500", idempotency_key="k2", actor=m, at=at(date(2026, 3, 12), 11))
    assert err.value.code == "increment"
    top = actions.do_place_bid(deal, b, "201000", idempotency_key="k3", actor=m, at=at(date(2026, 3, 12), 12))
    again = actions.do_place_bid(deal, b, "999999", idempotency_key="k3", actor=m, at=at(date(2026, 3, 12), 13))
    assert again.pk == top.pk  # a retry never makes a second bid
    with pytest.raises(ConflictError):  # the notice period is still running
        actions.do_award_deal(deal, actor=m, today=date(2026, 3, 16))
    actions.do_award_deal(deal, actor=m, today=date(2026, 3, 17))
    deal.refresh_from_db()
    assert deal.status == "awarded" and deal.awarded_bid_id == top.pk
    assert not Alert.objects.filter(deal=deal).exists()  # two bidders, above the reserve
    actions.do_publish_result(deal, actor=m)
    contract = actions.do_generate_contract(deal, contract_no="PT-2026-001", starts_on=date(2026, 4, 1), actor=m)
    assert contract.deal_id == deal.pk and contract.monthly_rent == Decimal("201000.00")
    assert contract.area == Decimal("8000.00") and contract.ends_on == date(2031, 3, 31)
    assert contract.counterparty_number_masked.startswith("4403") and contract.counterparty_uscc == ""
    verbs = list(AuditEvent.objects.filter(object_type__startswith="assets.").values_list("verb", flat=True))
    for verb in ("asset.deal_decide", "asset.appraisal", "asset.deal_appraise", "asset.deal_price", "asset.deal_list",
                 "asset.deal_register", "asset.deal_bid", "asset.deal_award", "asset.deal_notice",
                 "asset.deal_contract", "asset.lease_register"):
        assert verb in verbs, verb


def test_sealed_bids_single_bidder_at_reserve_alerts(estate: SimpleNamespace) -> None:
    m = estate.manager
    deal = listed_deal(estate, mode="sealed")
    a = actions.do_register_bidder(deal, counterparty_kind="org", counterparty_number=uscc("91440300MA5G00004"),
                                   counterparty_name="甲公司", deposit_paid="50000", actor=m, at=at(date(2026, 3, 10)))
    actions.do_place_bid(deal, a, "200000", idempotency_key="s1", actor=m, at=at(date(2026, 3, 12)))
    with pytest.raises(ActionError) as err:
        actions.do_place_bid(deal, a, "250000", idempotency_key="s2", actor=m, at=at(date(2026, 3, 12)))
    assert err.value.code == "sealed_twice"
    sealed_event = AuditEvent.objects.get(verb="asset.deal_bid")
    assert sealed_event.after["amount"] is None  # a sealed amount stays out of the log until the award
    actions.do_award_deal(deal, actor=m, today=date(2026, 3, 17))
    kinds = set(Alert.objects.filter(deal=deal).values_list("kind", flat=True))
    assert kinds == {"at_reserve", "single_bidder"}


def test_sealed_highest_wins_earliest_on_tie(estate: SimpleNamespace) -> None:
    m = estate.manager
    deal = listed_deal(estate, mode="sealed")
    regs = [actions.do_register_bidder(deal, counterparty_kind="org", counterparty_number=uscc(f"91440300MA5G0001{i}"),
                                       counterparty_name=f"公司{i}", deposit_paid="50000", actor=m,
                                       at=at(date(2026, 3, 10))) for i in range(3)]
    bids = [actions.do_place_bid(deal, r, amount, idempotency_key=f"t{i}", actor=m, at=at(date(2026, 3, 12), 9 + i))
            for i, (r, amount) in enumerate(zip(regs, ["210000", "230000", "230000"], strict=True))]
    actions.do_award_deal(deal, actor=m, today=date(2026, 3, 20))
    deal.refresh_from_db()
    assert deal.awarded_bid_id == bids[1].pk


def test_no_bids_the_listing_fails_and_steps_keep_their_order(estate: SimpleNamespace) -> None:
    m = estate.manager
    deal = listed_deal(estate)
    with pytest.raises(ConflictError):
        actions.do_publish_result(deal, actor=m)
    actions.do_award_deal(deal, actor=m, today=deal.notice_until + timedelta(days=1))
    deal.refresh_from_db()
    assert deal.status == "failed"


def test_a_lease_from_the_award_passes_the_rule(estate: SimpleNamespace) -> None:
    # 8,000 m² off the platform is refused; the same from the award is the platform's contract.
    with pytest.raises(actions.MustTradeOnPlatform):
        actions.do_register_lease(estate.company, estate.building, counterparty_kind="org",
                                  counterparty_number=uscc("91440300MA5G00004"), counterparty_name="甲公司",
                                  area="8000", monthly_rent="201000", signed_on=date(2026, 4, 1),
                                  starts_on=date(2026, 4, 1), ends_on=date(2031, 3, 31), contract_no="X",
                                  actor=estate.manager)
