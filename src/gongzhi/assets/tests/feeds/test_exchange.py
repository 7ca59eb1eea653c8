"""The property rights exchange feed: CSV and JSON, good and broken input, HTTP pull."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

from gongzhi.assets.domain.feeds import (
    FeedSource,
    FeedStage,
    FetchError,
    PriceBasis,
    parse_exchange,
    pull_exchange,
)

Read = Callable[[str], bytes]
PERSON = "440309198512120025"
BAD_PERSON = "440309198001010018"


def test_good_csv_merges_listing_and_result(fixture_bytes: Read) -> None:
    run = parse_exchange(fixture_bytes("exchange_good.csv"))
    assert run.ok and run.source is FeedSource.EXCHANGE
    assert run.issues == ()
    assert [r.external_id for r in run.records] == ["SZ-2026-001", "SZ-2026-002", "SZ-2026-003"]
    first, second, third = run.records
    # The listing's reserve and date survive under the result that followed it.
    assert first.stage is FeedStage.RESULT
    assert first.reserve_price_yuan == Decimal("96000.00")
    assert first.deal_price_yuan == Decimal("102400.00")
    assert first.published_on == date(2026, 3, 1) and first.deal_on == date(2026, 3, 20)
    assert first.area_m2 == Decimal("3200.00") and first.price_basis is PriceBasis.MONTHLY_RENT
    assert (first.start_on, first.end_on) == (date(2026, 4, 1), date(2031, 3, 31))
    assert first.bidder_count == 3
    # Slash and Chinese date formats; a personal number as counterparty.
    assert second.published_on == date(2026, 2, 1) and second.deal_on == date(2026, 2, 20)
    assert second.counterparty_id == PERSON and second.counterparty_masked == "4403**********0025"
    assert third.stage is FeedStage.LISTING and third.price_basis is PriceBasis.TOTAL
    assert third.parcel_ref == "440309001002GB00007" and third.asset_ref == ""


def test_gb18030_csv_is_read(fixture_bytes: Read) -> None:
    data = fixture_bytes("exchange_good.csv").decode("utf-8").encode("gb18030")
    run = parse_exchange(data)
    assert run.ok and len(run.records) == 3
    assert run.records[0].company_name == "深圳市龙华区甲股份合作公司"


def test_broken_csv_reports_each_row_in_chinese_and_keeps_the_good_one(fixture_bytes: Read) -> None:
    run = parse_exchange(fixture_bytes("exchange_broken.csv"))
    assert run.ok
    assert [r.external_id for r in run.records] == ["SZ-2026-010"]
    assert run.records[0].reserve_price_yuan == Decimal("20000.00")  # the first, not the conflicting row
    reasons = {i.where: i.reason for i in run.issues}
    assert reasons["第3行"].startswith("受让方证件号码无效（4403**********0018")
    assert "统一社会信用代码" in reasons["第4行"]
    assert "类型的取值无法识别" in reasons["第5行"]
    assert reasons["第6行"] == "挂牌价不能为负数"
    assert reasons["第7行"] == "缺少成交日期"
    assert reasons["第8行"] == "截止日期早于起始日期"
    assert "不是有效日期" in reasons["第9行"]
    assert reasons["第10行"] == "缺少资产编号或宗地代码"
    assert "编号重复" in reasons["第11行"]
    assert "面积格式不正确" in reasons["第12行"]
    assert len(run.issues) == 10


def test_no_personal_number_in_clear_in_issues_or_repr(fixture_bytes: Read) -> None:
    run = parse_exchange(fixture_bytes("exchange_broken.csv"))
    text = "\n".join(str(i) for i in run.issues) + repr(run)
    assert BAD_PERSON not in text
    good = parse_exchange(fixture_bytes("exchange_good.csv"))
    assert PERSON not in repr(good) and "4403**********0025" in repr(good)


def test_json_with_english_and_chinese_keys(fixture_bytes: Read) -> None:
    run = parse_exchange(fixture_bytes("exchange_good.json"))
    assert run.ok
    assert [r.external_id for r in run.records] == ["SZ-2026-101", "SZ-2026-102"]
    first, second = run.records
    assert first.stage is FeedStage.RESULT and first.reserve_price_yuan == Decimal("48000.00")
    assert first.deal_on == date(2026, 5, 20)  # from an ISO date-time with offset
    assert second.price_basis is PriceBasis.TOTAL and second.deal_price_yuan == Decimal("3500000.00")
    assert [(i.where, i.reason) for i in run.issues] == [
        ("第4条", "记录应为对象"),
        ("第5条", "成交价格式不正确"),
    ]


def test_fatal_inputs_apply_nothing() -> None:
    no_column = "类型,转让方统一社会信用代码,计价方式\n挂牌,91440309MA5FXX010C,总价\n".encode()
    run = parse_exchange(no_column)
    assert not run.ok and run.records == ()
    assert run.fatal is not None and "项目编号" in run.fatal.reason
    assert not parse_exchange(b"").ok
    assert not parse_exchange(b"\xff\xfe\x00\x81garbage\x80\xff", fmt="csv").ok
    bad_json = parse_exchange(b"{\"records\": [")
    assert bad_json.fatal is not None and "不是有效的JSON" in bad_json.fatal.reason
    assert not parse_exchange(b"{\"other\": []}").ok
    assert not parse_exchange(b"a,b", fmt="xml").ok


def test_digest_identifies_the_input(fixture_bytes: Read) -> None:
    data = fixture_bytes("exchange_good.csv")
    assert parse_exchange(data).digest == parse_exchange(data).digest
    assert parse_exchange(data).digest != parse_exchange(data + b"\n").digest


def test_pull_through_an_injected_fetcher(fixture_bytes: Read) -> None:
    seen: list[str] = []

    def fetcher(url: str) -> bytes:
        seen.append(url)
        return fixture_bytes("exchange_good.json")

    run = pull_exchange("https://exchange.example/api/collective?date=2026-05-21", fetcher=fetcher)
    assert seen == ["https://exchange.example/api/collective?date=2026-05-21"]
    assert run.ok and len(run.records) == 2


def test_failed_pull_is_fatal() -> None:
    def refuses(url: str) -> bytes:
        raise FetchError("无法连接对方系统：connection refused")

    def crashes(url: str) -> bytes:
        raise RuntimeError("boom")

    run = pull_exchange("https://exchange.example/x", fetcher=refuses)
    assert run.fatal is not None and run.fatal.reason == "无法连接对方系统：connection refused"
    assert run.records == ()
    crashed = pull_exchange("https://exchange.example/x", fetcher=crashes)
    assert crashed.fatal is not None and "RuntimeError" in crashed.fatal.reason


def test_tab_and_semicolon_separated(fixture_bytes: Read) -> None:
    lines = fixture_bytes("exchange_good.csv").decode().splitlines()
    import csv
    import io

    cells = list(csv.reader(io.StringIO("\n".join(lines))))
    for sep in ("\t", ";"):
        data = "\n".join(sep.join(row) for row in cells).encode()
        run = parse_exchange(data, fmt="csv")
        assert run.ok and len(run.records) == 3 and run.issues == (), sep


def test_parse_feed_and_pull_feed_dispatch(fixture_bytes: Read) -> None:
    from gongzhi.assets.domain.feeds import parse_feed, pull_feed

    assert len(parse_feed(FeedSource.EXCHANGE, fixture_bytes("exchange_good.csv")).records) == 3
    assert len(parse_feed(FeedSource.PROCUREMENT, fixture_bytes("procurement_releases.json")).records) == 2
    assert len(parse_feed(FeedSource.TRADING_CENTRE, fixture_bytes("tc_page2.json")).records) == 1
    run = pull_feed(FeedSource.TRADING_CENTRE, "https://x.example/tc_page2.json",
                    fetcher=lambda url: fixture_bytes("tc_page2.json"))
    assert run.source is FeedSource.TRADING_CENTRE and len(run.records) == 1


def test_unquoted_thousands_separator_is_caught_not_misread() -> None:
    data = (
        "类型,项目编号,转让方统一社会信用代码,资产编号,计价方式,挂牌价,挂牌日期\n"
        "挂牌,SZ-2026-301,91440309MA5FXX010C,A-0301,月租金,96,000.00,2026-06-01\n"
        "挂牌,SZ-2026-302,91440309MA5FXX010C,A-0302,月租金,\"96,000.00\",2026-06-01\n"
    ).encode()
    run = parse_exchange(data)
    assert [r.external_id for r in run.records] == ["SZ-2026-302"]
    (issue,) = run.issues
    assert issue.where == "第2行" and "多于表头" in issue.reason
