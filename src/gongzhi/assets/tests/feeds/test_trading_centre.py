"""The construction-project trading centre feed: paged JSON, good and broken input."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

from gongzhi.assets.domain.feeds import FeedStage, PriceBasis, parse_trading_centre, pull_trading_centre

Read = Callable[[str], bytes]


def test_good_page_merges_tender_and_award(fixture_bytes: Read) -> None:
    run = parse_trading_centre(fixture_bytes("tc_page1.json"))
    assert run.ok and run.issues == ()
    assert [r.external_id for r in run.records] == ["JG-2026-0101/01", "JG-2026-0102/02"]
    first, second = run.records
    assert first.stage is FeedStage.AWARD and first.price_basis is PriceBasis.TOTAL
    assert first.reserve_price_yuan == Decimal("36000000.00")  # ceiling price from the tender
    assert first.deal_price_yuan == Decimal("34560000.00")
    assert first.area_m2 == Decimal("12000.00") and first.published_on == date(2026, 1, 10)
    assert first.counterparty_id == "91440309MA5FYY010B" and first.bidder_count == 5
    assert second.asset_ref == "A-0300" and second.bidder_count == 1  # Chinese keys


def test_broken_items_reported_and_skipped(fixture_bytes: Read) -> None:
    run = parse_trading_centre(fixture_bytes("tc_broken.json"))
    assert run.ok
    assert [r.external_id for r in run.records] == ["JG-2026-0201/01"]
    reasons = {i.where: i.reason for i in run.issues}
    assert reasons["第2条"].startswith("中标人代码无效（4403**********0024")
    assert "440309198512120024" not in "".join(reasons.values())
    assert reasons["第3条"] == "缺少招标控制价"
    assert "类型的取值无法识别" in reasons["第4条"]
    assert reasons["第5条"] == "记录应为对象"
    assert "建筑面积格式不正确" in reasons["第6条"]
    assert "不能含" in reasons["第7条"]


def test_pull_follows_next_pages(fixture_bytes: Read) -> None:
    base = "https://jsjy.example/api/v1/collective/"
    pages = {base + "tc_page1.json": "tc_page1.json", base + "tc_page2.json": "tc_page2.json"}
    fetched: list[str] = []

    def fetcher(url: str) -> bytes:
        fetched.append(url)
        return fixture_bytes(pages[url])

    run = pull_trading_centre(base + "tc_page1.json", fetcher=fetcher)
    assert fetched == [base + "tc_page1.json", base + "tc_page2.json"]
    assert run.ok
    assert [r.external_id for r in run.records] == ["JG-2026-0101/01", "JG-2026-0102/02", "JG-2026-0103/01"]
    assert run.records[2].where == "第2页第1条"


def test_pull_is_all_or_nothing(fixture_bytes: Read) -> None:
    def second_page_broken(url: str) -> bytes:
        return fixture_bytes("tc_page1.json") if url.endswith("tc_page1.json") else b"<html>502</html>"

    run = pull_trading_centre("https://jsjy.example/tc_page1.json", fetcher=second_page_broken)
    assert not run.ok and run.records == ()
    assert run.fatal is not None and run.fatal.where == "第2页"


def test_pull_stops_on_a_loop_and_at_the_page_cap() -> None:
    def loops(url: str) -> bytes:
        return b'{"data": [], "next": "same.json"}'

    run = pull_trading_centre("https://jsjy.example/same.json", fetcher=loops)
    assert run.fatal is not None and "循环" in run.fatal.reason

    def endless(url: str) -> bytes:
        n = int(url.rsplit("=", 1)[1])
        return f'{{"data": [], "next": "?page={n + 1}"}}'.encode()

    capped = pull_trading_centre("https://jsjy.example/list?page=1", fetcher=endless, max_pages=3)
    assert capped.fatal is not None and "3页" in capped.fatal.reason
