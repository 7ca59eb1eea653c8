"""Demo collective assets (DEMO ONLY): 南山区's trading rule (Longhua's thresholds), area
benchmarks, and 平山股份合作公司 with its land, buildings and units, leases and a rent ledger with
arrears, a finished on-platform deal (resolution → appraisal → reserve → listing → three bidders →
award → result notice → contract), a listing now in its notice period, a lease refused for
splitting, and the open alerts the monitoring finds. A second company in 文华社区 (罗湖区).

All dates are relative to today, everything goes through the actions (a real audit trail), and
the loader is idempotent: a company already registered is left as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from gongzhi.assets import actions
from gongzhi.assets.models import Company, RentCharge
from gongzhi.core import clock
from gongzhi.core.domain.identifiers import resident_id_check_character, uscc_check_character

Progress = Callable[[str], Any] | None
SH = ZoneInfo("Asia/Shanghai")


def _uscc(body17: str) -> str:
    return body17 + uscc_check_character(body17)


def _id(body17: str) -> str:
    return body17 + resident_id_check_character(body17)


PINGSHAN_USCC = _uscc("N2440305MA5DEM001")


def _at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=SH)


def _months_ago(today: date, n: int) -> date:
    month = today.month - 1 - n
    return date(today.year + month // 12, month % 12 + 1, 1)


def load_demo_assets(*, actor: Any, progress: Progress = None) -> list[tuple[str, str, str, str]]:
    from gongzhi.accounts.demo import demo_places

    places = demo_places()
    say = progress or (lambda _m: None)
    if Company.objects.filter(uscc=PINGSHAN_USCC).exists():
        say("已存在，跳过")
        return []
    today = clock.localdate()
    actions.do_set_trading_rule(places["nanshan"], date(2020, 1, 1), actor=actor,
                                document_ref="演示：参照龙华区集体资产进场交易标准（3000平方米或月租金10万元）")
    for use, per_m2 in (("industrial", "35"), ("commercial", "90"), ("warehouse", "25")):
        actions.do_set_benchmark(places["taoyuan"], use, per_m2, date(2025, 1, 1), actor=actor)

    ps = actions.do_register_company(PINGSHAN_USCC, "深圳市平山股份合作公司（演示）", places["pingshan"], actor=actor,
                                     legal_representative="陈平山")
    reg = actions.do_register_asset
    land = reg(ps, "land", "PS-L01", "平山工业区一号地块", "industrial", "30000", actor=actor,
               location="南山区桃源街道平山一路", occupancy="leased")
    bldg_a = reg(ps, "building", "PS-A", "平山工业区A栋厂房", "industrial", "12000", actor=actor, parent=land,
                 location="平山一路1号", occupancy="leased")
    units = [reg(ps, "unit", f"PS-A-{i}", f"A栋{i}层", "industrial", "2000", actor=actor, parent=bldg_a,
                 location="平山一路1号") for i in range(1, 7)]
    bldg_b = reg(ps, "building", "PS-B", "平山商业楼B栋", "commercial", "4000", actor=actor, parent=land,
                 location="平山一路3号")
    reg(ps, "unit", "PS-B-101", "B栋首层商铺101", "commercial", "180", actor=actor, parent=bldg_b,
               location="平山一路3号", vacant_since=today - timedelta(days=130))
    depot = reg(ps, "land", "PS-L02", "平山物流用地二号地块", "warehouse", "5000", actor=actor,
                location="南山区桃源街道平山二路")
    say("资产台账：2 块土地、2 栋楼、7 个单元")

    def lease(asset: Any, no: str, name: str, kind: str, number: str, area: str, rent: str, start: date,
              years: int) -> Any:
        end = date(start.year + years, start.month, 1) - timedelta(days=1)
        return actions.do_register_lease(ps, asset, counterparty_kind=kind, counterparty_number=number,
                                         counterparty_name=name, area=area, monthly_rent=rent, deposit=str(int(rent) * 2),
                                         signed_on=start - timedelta(days=10), starts_on=start, ends_on=end,
                                         contract_no=no, actor=actor)

    a1 = lease(units[0], "PS-2025-001", "深圳市平山精密制造有限公司", "org", _uscc("91440300MA5DP7001"), "2000",
               "76000", _months_ago(today, 14), 3)
    a2 = lease(units[1], "PS-2024-007", "王建国", "person", _id("44030519700312251"), "800", "30000",
               _months_ago(today, 22), 2)  # ends within the next couple of months: no re-tender yet
    a3 = lease(units[2], "PS-2025-011", "深圳市桃源商贸有限公司", "org", _uscc("91440300MA5DP7002"), "1500",
               "30000", _months_ago(today, 8), 3)  # 20 元/m² against a 35 元 benchmark
    a4 = lease(units[3], "PS-2026-002", "深圳市拆分贸易有限公司", "org", _uscc("91440300MA5DP7003"), "1600",
               "56000", _months_ago(today, 2), 3)
    # Payments: everything paid on time, except the last three months of A1 (arrears).
    for made in (a1, a2, a3, a4):
        charges = list(RentCharge.objects.filter(lease=made).order_by("period"))
        unpaid = 3 if made is a1 else 0
        for charge in charges[: len(charges) - unpaid]:
            actions.do_record_payment(charge, charge.amount_due, charge.due_on, actor=actor)
    say("合同 4 份，租金台账已入账（A栋1层欠缴3个月）")

    # The same tenant tries another 1,600 m² floor of the same building: together 3,200 m² — refused.
    try:
        lease(units[4], "PS-2026-005", "深圳市拆分贸易有限公司", "org", _uscc("91440300MA5DP7003"), "1600",
              "56000", _months_ago(today, 0), 3)
    except actions.MustTradeOnPlatform:
        say("拆分交易被拒绝登记并留痕（同一承租方、同一楼栋，合计 3200 平方米）")

    # A finished on-platform deal: B栋 整栋招租.
    listed = today - timedelta(days=60)
    deal = actions.do_open_deal(ps, bldg_b, "平山商业楼B栋整栋招租（五年）", "3820", 60,
                                decision_ref="平山股份〔2026〕股东大会决议第2号（到会股份代表86%，同意股份78%）",
                                decided_on=listed - timedelta(days=20), actor=actor)
    appraisal = actions.do_record_appraisal(bldg_b, listed - timedelta(days=12), "290000",
                                            "深圳市鹏城资产评估有限公司（演示）", actor=actor, report_ref="鹏评字〔2026〕第118号")
    actions.do_attach_appraisal(deal, appraisal, actor=actor)
    actions.do_set_reserve(deal, "300000", "600000", actor=actor, min_increment="2000")
    actions.do_list_deal(deal, listed, actor=actor)
    deal.refresh_from_db()
    bidders = [("深圳市前海优选商业管理有限公司", _uscc("91440300MA5DP7004")),
               ("深圳市南山万家乐超市有限公司", _uscc("91440300MA5DP7005")),
               ("深圳市桃源餐饮管理有限公司", _uscc("91440300MA5DP7006"))]
    regs = [actions.do_register_bidder(deal, counterparty_kind="org", counterparty_number=number, counterparty_name=name,
                                       deposit_paid="600000", actor=actor, at=_at(listed + timedelta(days=1), 9 + i))
            for i, (name, number) in enumerate(bidders)]
    bid_day = listed + timedelta(days=3)
    for i, (r, amount) in enumerate(zip([regs[0], regs[1], regs[0], regs[2], regs[1]],
                                        ["300000", "304000", "308000", "312000", "318000"], strict=True)):
        actions.do_place_bid(deal, r, amount, idempotency_key=f"demo-ps-b-{i}", actor=actor, at=_at(bid_day, 10 + i))
    assert deal.notice_until is not None
    actions.do_award_deal(deal, actor=actor, today=deal.notice_until + timedelta(days=1))
    actions.do_publish_result(deal, actor=actor)
    deal.refresh_from_db()
    actions.do_generate_contract(deal, contract_no="PS-2026-PT01", starts_on=_months_ago(today, 1), actor=actor,
                                 signed_on=deal.notice_until + timedelta(days=3))
    say("进场交易一宗：B栋整栋，3家竞买，成交价 318000 元/月，已生成合同")

    # A listing now in its public notice period: the logistics parcel.
    open_deal = actions.do_open_deal(ps, depot, "平山物流用地二号地块租赁（十年）", "5000", 120,
                                     decision_ref="平山股份〔2026〕股东大会决议第5号", decided_on=today - timedelta(days=15),
                                     actor=actor, mode="sealed")
    appraisal2 = actions.do_record_appraisal(depot, today - timedelta(days=8), "120000", "深圳市鹏城资产评估有限公司（演示）",
                                             actor=actor)
    actions.do_attach_appraisal(open_deal, appraisal2, actor=actor)
    actions.do_set_reserve(open_deal, "125000", "250000", actor=actor)
    actions.do_list_deal(open_deal, today - timedelta(days=1), actor=actor)
    say("挂牌公告中一宗：物流用地（密封报价）")

    wh = actions.do_register_company(_uscc("N2440303MA5DWH001"), "深圳市文华股份合作公司（演示）", places["wenhua"],
                                     actor=actor, legal_representative="林文华")
    wh_b = reg(wh, "building", "WH-1", "文华综合楼", "office", "2600", actor=actor, location="罗湖区黄贝街道文华路8号")
    actions.do_register_lease(wh, wh_b, counterparty_kind="org", counterparty_number=_uscc("91440300MA5DWH002"),
                              counterparty_name="深圳市文华物业管理有限公司", area="2600", monthly_rent="98000",
                              deposit="196000", signed_on=_months_ago(today, 6), starts_on=_months_ago(today, 6),
                              ends_on=date(today.year + 3, 12, 31), contract_no="WH-2026-001", actor=actor)
    run = actions.do_recompute_alerts(actor=actor, today=today)
    say(f"预警：新开 {run.opened} 条")
    return []
