"""A resident who has no account signs up in a real browser and lands logged in (unverified) in
the online hall (issue 11). Every page is axe-checked; screenshots go to docs/screenshots/."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from gongzhi.core.tests.browser_fixtures import BrowserPage, open_menu
from gongzhi.people.numbers import make_id_number
from gongzhi.services.tests.test_browser_services import check_page

pytestmark = [pytest.mark.browser]

SENT: list[Any] = []


class Capture:
    def send(self, note: Any) -> None:
        SENT.append(note)


def test_resident_signs_up_and_lands_in_the_online_hall(
    browser_page: BrowserPage, place_tree: Any, make_user: Any, settings: Any, screenshot_dir: Path
) -> None:
    from gongzhi.accounts.actions import send_outbox
    from gongzhi.accounts.enums import IdentityStatus
    from gongzhi.accounts.models import User

    settings.GONGZHI_NOTIFY_BACKEND = "gongzhi.people.tests.test_browser_signup.Capture"
    SENT.clear()
    bp, page = browser_page, browser_page.page
    number = make_id_number("440305", date(1992, 6, 18), 71)

    page.goto("/accounts/login/")
    page.locator("main").get_by_role("link", name="注册").click()
    page.wait_for_load_state("load")
    check_page(bp, "accounts-signup", screenshot_dir)
    form = page.locator("main form")
    form.get_by_label("身份证件号码").fill(number)
    form.get_by_label("姓名").fill("周小雨")
    form.get_by_label("手机号码").fill("13987654321")
    form.get_by_label("居住社区").select_option(label="桃源街道 · 平山社区")
    form.get_by_role("button", name="获取验证码").click()
    page.wait_for_load_state("load")
    assert page.url.endswith("/people/signup/confirm/"), page.url
    assert "139****4321" in page.locator("main").inner_text()
    check_page(bp, "accounts-signup-code", screenshot_dir)

    send_outbox()  # the worker's tick: the code leaves through the notification backend
    match = re.search(r"\b(\d{6})\b", SENT[-1].body)
    assert match is not None and SENT[-1].recipient == "13987654321"
    code = match.group(1)
    assert code not in page.content()

    form = page.locator("main form")
    form.get_by_label("短信验证码").fill(code)
    form.get_by_label("用户名").fill("zhouxy")
    form.locator("input[name=password1]").fill("a-long-signup-passphrase")
    form.get_by_label("再次输入密码").fill("a-long-signup-passphrase")
    form.get_by_role("button", name="完成注册").click()
    page.wait_for_load_state("load")
    assert page.url.endswith("/services/online/"), page.url
    assert "尚未实名核验" in page.locator("main").inner_text()
    check_page(bp, "accounts-signup-done", screenshot_dir)
    assert User.objects.get(username="zhouxy").identity_status == IdentityStatus.UNVERIFIED

    page.goto("/accounts/")
    assert "账户状态：未实名核验" in page.locator("main").inner_text()
    check_page(bp, "accounts-home-unverified")

    # The resident shows the ID card at a window; the clerk finds the account and verifies it.
    from gongzhi.accounts.enums import Role
    from gongzhi.core.tests.browser_fixtures import log_in, with_password

    clerk = make_user(Role.WINDOW_CLERK, place_tree.wenhua, username="clerk_wen")
    with_password(clerk)
    open_menu(page)
    page.locator("form.logout button").click()
    page.wait_for_load_state("load")
    log_in(bp, "clerk_wen", "/people/verify-account/")
    check_page(bp, "accounts-verify-account", screenshot_dir)
    form = page.locator("main form").first
    form.get_by_label("身份证件号码").fill(number)
    form.get_by_role("button", name="查找账户").click()
    page.wait_for_load_state("load")
    assert "zhouxy" in page.locator("main").inner_text() and number not in page.content()
    check_page(bp, "accounts-verify-account-found", screenshot_dir)
    page.get_by_role("button", name="已查验证件原件，确认核验").click()
    page.wait_for_load_state("load")
    assert "已核验" in page.locator("main").inner_text()
    assert User.objects.get(username="zhouxy").identity_status == IdentityStatus.VERIFIED
