"""Issue 11, the resident's whole first hour in one browser session, on a phone: a resident with no
account signs up (the phone code arrives through the notification backend), finds the item by
searching the front door, applies online with a material owed under 容缺, tracks the
application by its number while logged out, and hands the owed material in from the case page.

Each step is the step before's result — nothing is prepared behind the browser's back except
the catalogue and the code the phone receives. Every page is checked with axe-core and must not
scroll sideways at 390 px (the phone-layout check then re-opens each page in three languages).
"""

from __future__ import annotations

import re
from datetime import date
from types import SimpleNamespace
from typing import Any

import pytest

from gongzhi.core.tests.browser_fixtures import BrowserPage, check_page, open_menu
from gongzhi.people.numbers import make_id_number
from gongzhi.services.tests.test_browser_services import _pdf_file

pytestmark = [pytest.mark.browser]
PHONE = {"width": 390, "height": 844}
SENT: list[Any] = []


class Capture:
    """The notification backend of this test: the resident's phone."""

    def send(self, note: Any) -> None:
        SENT.append(note)


def _check(bp: BrowserPage, name: str) -> None:
    check_page(bp, name)
    wide = bp.page.evaluate("document.documentElement.scrollWidth")
    assert wide <= PHONE["width"], f"{name} ({bp.page.url}) scrolls sideways: {wide}px wide at 390px"


def test_a_new_resident_signs_up_finds_applies_tracks_and_hands_in(
    browser_page: BrowserPage, hall: SimpleNamespace, settings: Any
) -> None:
    from gongzhi.accounts.actions import send_outbox
    from gongzhi.core.models import AuditEvent
    from gongzhi.services.enums import CaseMaterialStatus
    from gongzhi.services.models import Application

    hall.subsidy.low_assurance = True  # an unverified account may apply for it (the catalogue says so)
    hall.subsidy.save()
    settings.GONGZHI_NOTIFY_BACKEND = "gongzhi.services.tests.test_browser_journey.Capture"
    SENT.clear()
    bp, page = browser_page, browser_page.page
    page.set_viewport_size(PHONE)
    number = make_id_number("440305", date(1990, 3, 9), 52)

    # 1. signs up: number, name, phone; the code comes to the phone; a password
    page.goto("/people/signup/")
    form = page.locator("main form")
    form.get_by_label("身份证件号码").fill(number)
    form.get_by_label("姓名").fill("陈小满")
    form.get_by_label("手机号码").fill("13700001111")
    form.get_by_label("居住社区").select_option(label="桃源街道 · 平山社区")
    form.get_by_role("button", name="获取验证码").click()
    page.wait_for_load_state("load")
    _check(bp, "journey-signup-code")
    send_outbox()  # the worker's tick: the code leaves through the notification backend
    match = re.search(r"\b(\d{6})\b", SENT[-1].body)
    assert match is not None and SENT[-1].recipient == "13700001111"
    form = page.locator("main form")
    form.get_by_label("短信验证码").fill(match.group(1))
    form.get_by_label("用户名").fill("chenxm")
    form.locator("input[name=password1]").fill("a-long-journey-passphrase")
    form.get_by_label("再次输入密码").fill("a-long-journey-passphrase")
    form.get_by_role("button", name="完成注册").click()
    page.wait_for_load_state("load")
    assert page.url.endswith("/services/online/"), page.url
    assert "尚未实名核验" in page.locator("main").inner_text()
    _check(bp, "journey-online-hall")

    # 2. finds the item from the front door by searching in words, opens its guide
    page.goto("/")
    page.get_by_label("我要办").fill("临时救助")
    page.get_by_label("我要办").press("Enter")
    page.wait_for_load_state("load")
    assert "未核验可申请" in page.locator("main").inner_text()  # the catalogue says who may apply
    _check(bp, "journey-search")
    page.get_by_role("link", name="临时救助申请").first.click()
    page.wait_for_load_state("load")
    _check(bp, "journey-guide")
    page.get_by_role("link", name="在线申请").click()
    page.wait_for_load_state("load")

    # 3. applies online: the ID card scanned, the income proof owed under 容缺
    _check(bp, "journey-apply")
    page.get_by_label("申请事由").fill("家中突发困难")
    page.set_input_files("input[name=file-id_card]", _pdf_file("id.pdf"))
    page.locator("#id_accept_gaps").check()
    page.get_by_role("button", name="提交申请").click()
    page.wait_for_load_state("load")
    app = Application.objects.get(submitted_by__username="chenxm")
    case = app.cases.get()
    assert case.with_gaps and case.materials.get(material__key="income").status == CaseMaterialStatus.MISSING_WITH_COMMITMENT
    assert app.number in page.locator("main").inner_text()
    _check(bp, "journey-accepted")

    # 4. logged out, tracks by the application number and the last four characters of the ID
    open_menu(page)
    page.locator("form.logout button").click()
    page.wait_for_load_state("load")
    page.goto("/services/track")
    page.get_by_label("申请编号或办件编号").fill(app.number)
    page.get_by_label("申请人证件号码后四位").fill(number[-4:])
    page.get_by_role("button", name="查询").click()
    page.wait_for_load_state("load")
    main = page.locator("main").inner_text()
    assert case.number in main and "收入证明 待补交" in main and "陈小满" not in main
    _check(bp, "journey-track")

    # 5. back in, hands the owed material in from the case page
    page.goto(f"/accounts/login/?next=/services/online/cases/{case.number}/")
    form = page.locator("main form")
    form.get_by_label("用户名").fill("chenxm")
    form.locator("input[type=password]").fill("a-long-journey-passphrase")
    form.get_by_role("button").click()
    page.wait_for_load_state("load")
    assert "待补交的容缺材料" in page.locator("main").inner_text()
    _check(bp, "journey-my-case")
    page.set_input_files("input[type=file][name=file]", _pdf_file("income.pdf"))
    with page.expect_navigation():
        page.get_by_role("button", name="补交此材料").click()
    assert "已补交材料：收入证明" in page.locator(".messages").inner_text()
    assert "已补交容缺材料：收入证明" in page.locator("ol.timeline").inner_text()
    _check(bp, "journey-handed-in")
    income = case.materials.get(material__key="income")
    assert income.status == CaseMaterialStatus.SCANNED and income.document is not None
    assert AuditEvent.objects.filter(verb="case.gap_hand_in", object_id=str(case.pk)).count() == 1
