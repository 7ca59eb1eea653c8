"""The front door and the window's item picker in a real browser: a logged-out visitor searches
and opens a guide page; a clerk finds an item by its pinyin initials. Each page is checked with
axe-core and must not scroll sideways at 390 px (a small phone)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from gongzhi.core.tests.browser_fixtures import BrowserPage, check_page, log_in, with_password

pytestmark = [pytest.mark.browser]

PHONE = {"width": 390, "height": 844}


def _no_sideways_scroll(bp: BrowserPage) -> None:
    wide = bp.page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert wide <= 0, f"{bp.page.url} scrolls sideways by {wide}px at 390 px"


def test_logged_out_visitor_searches_and_opens_a_guide(browser_page: BrowserPage, hall: SimpleNamespace) -> None:
    from gongzhi.services.models import ItemMaterial

    hall.subsidy.conditions = "因突发事件导致基本生活暂时出现严重困难的家庭。"
    hall.subsidy.legal_basis = "《社会救助暂行办法》第十一章"
    hall.subsidy.save()
    ItemMaterial.objects.filter(item=hall.subsidy, key="id_card").update(submit_as="both")
    bp, page = browser_page, browser_page.page
    page.set_viewport_size(PHONE)
    page.goto("/")
    check_page(bp, "front-door")
    _no_sideways_scroll(bp)
    for name in ("办件进度查询", "按时办结率公示", "个人办事", "法人办事", "开办小店一件事"):
        assert page.get_by_role("link", name=name).count() >= 1, name

    page.get_by_label("我要办").fill("lsjz")  # 临时救助 by its pinyin initials
    page.get_by_label("我要办").press("Enter")
    page.wait_for_load_state("load")
    assert "/services/catalog/" in page.url
    check_page(bp, "front-catalogue-search")
    _no_sideways_scroll(bp)
    results = page.locator("#hall-items ~ ul, section[aria-labelledby=hall-items]").first.inner_text()
    assert "临时救助申请" in results and "个体工商户登记" not in results

    page.get_by_role("link", name="临时救助申请").click()
    page.wait_for_load_state("load")
    assert page.get_by_role("heading", name="受理条件").is_visible()
    body = page.locator("main").inner_text()
    assert "因突发事件导致基本生活暂时出现严重困难的家庭。" in body and "《社会救助暂行办法》第十一章" in body
    assert "原件核验，复印件留存" in body and "民政局" in body
    check_page(bp, "front-guide")
    _no_sideways_scroll(bp)


def test_clerk_finds_an_item_by_pinyin_initials(browser_page: BrowserPage, hall: SimpleNamespace) -> None:
    bp, page = browser_page, browser_page.page
    page.set_viewport_size(PHONE)
    with_password(hall.clerk)
    log_in(bp, "clerk", "/services/window/")
    page.get_by_label("证件号码或统一社会信用代码").fill(hall.number)
    page.get_by_role("button", name="查询申请人").click()
    page.wait_for_load_state("load")

    page.get_by_label("查找事项").fill("gtgs")  # 个体工商户登记, filtered as the clerk types
    wanted = page.get_by_role("checkbox", name="个体工商户登记")
    assert wanted.is_visible()
    assert not page.get_by_role("checkbox", name="临时救助申请").is_visible()
    assert "找到 1 个事项" in page.locator("#picker-count").inner_text()
    check_page(bp, "window-picker-filtered")
    _no_sideways_scroll(bp)
    wanted.check()
    page.get_by_role("button", name="下一步：填写申请表").click()
    page.wait_for_load_state("load")
    assert "个体工商户登记" in page.locator("#items-heading + ul").inner_text()
    assert "临时救助申请" not in page.locator("#items-heading + ul").inner_text()
    _no_sideways_scroll(bp)
