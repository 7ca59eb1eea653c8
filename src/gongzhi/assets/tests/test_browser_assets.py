"""The asset console and the public trading pages in a real browser (phone-sized): a company
manager registers a lease that falls under the rule and is sent to trading; a supervisor follows
the deal; a resident reads the public result notice on a phone, logged out, from the front door.
Each page is checked with axe-core and must not scroll sideways at 390 px."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace
from typing import Any

import pytest

from gongzhi.assets import actions
from gongzhi.assets.models import Alert, Lease
from gongzhi.core.tests.browser_fixtures import BrowserPage, check_page, log_in, with_password

from .conftest import PERSON_NUMBER, TENANT_USCC
from .test_trading import at, listed_deal

pytestmark = [pytest.mark.browser]


def test_manager_is_sent_to_trading_and_the_public_reads_the_result(
        browser_page: BrowserPage, estate: SimpleNamespace, make_user: Any) -> None:
    from gongzhi.accounts.enums import Role

    bp, page = browser_page, browser_page.page
    with_password(estate.manager)
    log_in(bp, estate.manager.username, "/assets/")
    check_page(bp, "assets-console")
    page.get_by_role("link", name=estate.company.name).first.click()
    page.wait_for_load_state("load")
    check_page(bp, "assets-company")
    page.get_by_role("link", name="登记合同").click()
    page.wait_for_load_state("load")
    form = page.locator("main form")
    form.get_by_label("资产").select_option(str(estate.building.pk))
    form.get_by_label("合同编号").fill("BR-1")
    form.get_by_label("承租方类型").select_option("org")
    form.get_by_label("承租方名称").fill("深圳某科技有限公司")
    form.get_by_label("统一社会信用代码或身份证件号码").fill(TENANT_USCC)
    form.get_by_label("面积（平方米）").fill("3000")
    form.get_by_label("月租金（元）").fill("60000")
    form.get_by_label("签订日期").fill("2026-03-01")
    form.get_by_label("租期开始").fill("2026-03-01")
    form.get_by_label("租期结束").fill("2029-02-28")
    form.get_by_role("button", name="登记").click()
    page.wait_for_load_state("load")
    refused = page.locator("#refused")
    assert refused.is_visible() and "须进场交易" in refused.inner_text()
    assert not Lease.objects.exists() and Alert.objects.filter(kind="off_platform").exists()
    bp.console_errors.clear()  # the 409 answer itself is reported as a failed load

    # Sent to trading: the shareholders' resolution opens a deal, the appraisal is recorded.
    page.get_by_role("link", name="转为进场交易（股东大会决议立项）").click()
    page.wait_for_load_state("load")
    form = page.locator("main form")
    form.get_by_label("项目名称").fill("A栋整栋招租")
    form.get_by_label("租期（月）").fill("36")
    form.get_by_label("决议文号").fill("平山股份〔2026〕股东大会决议第9号")
    form.get_by_label("决议日期").fill("2026-03-02")
    check_page(bp, "assets-deal-new")
    form.get_by_role("button", name="立项").click()
    page.wait_for_load_state("load")
    assert page.locator("#deal-status").inner_text() == "已决议"
    page.get_by_label("评估日期").fill("2026-03-05")
    page.get_by_label("评估月租金（元）").fill("58000")
    page.get_by_label("评估机构").fill("深圳某评估公司")
    page.get_by_role("button", name="确认评估").click()
    page.wait_for_load_state("load")
    assert page.locator("#deal-status").inner_text() == "已评估"

    # Another deal of the building goes all the way; a community supervisor follows it to its contract.
    deal = listed_deal(estate)
    reg = actions.do_register_bidder(deal, counterparty_kind="person", counterparty_number=PERSON_NUMBER,
                                     counterparty_name="李四", deposit_paid="50000", actor=estate.manager,
                                     at=at(date(2026, 3, 10)))
    actions.do_place_bid(deal, reg, "200000", idempotency_key="br1", actor=estate.manager, at=at(date(2026, 3, 11)))
    actions.do_award_deal(deal, actor=estate.manager, today=date(2026, 3, 17))
    actions.do_publish_result(deal, actor=estate.manager)
    actions.do_generate_contract(deal, contract_no="BR-PT-1", starts_on=date(2026, 4, 1), actor=estate.manager)
    supervisor = make_user(Role.COMMUNITY_SUPERVISOR, estate.place)
    with_password(supervisor)
    page.context.clear_cookies()
    log_in(bp, supervisor.username, f"/assets/deals/{deal.pk}/")
    assert page.locator("#deal-status").inner_text() == "已签订合同"
    assert PERSON_NUMBER not in page.content()
    check_page(bp, "assets-deal")

    # A resident, logged out, on a phone: front door → result notice.
    page.context.clear_cookies()
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/")
    page.get_by_role("link", name=deal.title).click()
    page.wait_for_load_state("load")
    body = page.locator("main").inner_text()
    assert "成交结果公告" in body and "李某" in body and "李四" not in body and PERSON_NUMBER not in body
    check_page(bp, "assets-public-result")
    wide = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert wide <= 0
