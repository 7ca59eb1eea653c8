"""The board in a real browser at a phone's width (390 px): no sideways scroll on the board, its
drill-down and the public on-time page (tables become stacked cards), axe-clean, no errors."""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

import pyotp
import pytest

from gongzhi.core.tests.actors import SYSTEM as TEST_SYSTEM
from gongzhi.core.tests.browser_fixtures import BrowserPage, check_page, log_in, with_password

pytestmark = [pytest.mark.browser]

PHONE = {"width": 390, "height": 844}


def _no_sideways_scroll(bp: BrowserPage, name: str) -> None:
    """The page is no wider than the phone, nothing in it sticks out, and each table row is a
    stacked card (the .board-table rule below 600 px), not a squeezed table row."""
    page = bp.page
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{name}: the page is {width} px wide at {PHONE['width']} px"
    # Column headings stay for screen readers in a thead clipped to 1 px: not drawn, not counted.
    wide = page.evaluate("Array.from(document.querySelectorAll('main *')).filter("
                         "e => !e.closest('thead') && e.getBoundingClientRect().right > window.innerWidth + 1)"
                         ".map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))")
    assert not wide, f"{name}: elements stick out to the right: {wide}"
    displays = page.evaluate("Array.from(document.querySelectorAll('table.board-table tbody tr'))"
                             ".map(r => getComputedStyle(r).display)")
    assert displays and set(displays) == {"block"}, f"{name}: table rows are {set(displays)}, not stacked cards"


def test_board_pages_fit_a_phone(browser_page: BrowserPage, hall: SimpleNamespace, make_user: Any) -> None:
    from gongzhi.accounts.actions import do_enrol_totp
    from gongzhi.accounts.enums import Role
    from gongzhi.services.actions import Intake, do_claim_task, do_submit_application, handle_task_overdue
    from gongzhi.services.enums import TaskRole

    bp, page = browser_page, browser_page.page
    page.set_viewport_size(PHONE)
    supervisor = make_user(Role.DISTRICT_SUPERVISOR, hall.tree.nanshan, username="sup")
    with_password(supervisor)
    secret = pyotp.random_base32(32)
    do_enrol_totp(supervisor, secret, pyotp.TOTP(secret).at(time.time() - 30), actor=TEST_SYSTEM)
    cases = [do_submit_application(Intake(hall.number, ["T-MZ-001"], form={"reason": f"困难{n}"}, accept_gaps=True),
                                   actor=hall.clerk, channel="window", idempotency_key=f"ph-{n}").cases.get()
             for n in range(2)]
    late = cases[0].tasks.get(role=TaskRole.LEAD)
    do_claim_task(late, actor=hall.officers["T-MZ"])
    handle_task_overdue(SimpleNamespace(payload={"task": late.pk}))  # the trace table has a row

    log_in(bp, "sup", "/services/board/", totp_secret=secret)
    assert "一次办" in page.locator("main").inner_text()
    _no_sideways_scroll(bp, "board")
    check_page(bp, "board-phone")
    page.locator(".board-measure").filter(has_text="一次办").get_by_role("link").first.click()
    page.wait_for_load_state("load")
    assert cases[1].number in page.locator("main").inner_text()
    _no_sideways_scroll(bp, "board drill-down")
    check_page(bp, "board-cases-phone")
    page.context.clear_cookies()
    page.goto("/services/ontime")
    assert "南山区" in page.locator("h1").inner_text()
    _no_sideways_scroll(bp, "ontime")
    check_page(bp, "ontime-phone")
