"""The service hall in a real browser against a real server: the window clerk's intake, a
resident's online application, the back office and the board.

Every page visited is checked with axe-core (no serious or critical violation) and the browser
must report no error (a CSP violation by an inline script or style shows up only here).
Screenshots land in docs/screenshots/services-*.png for the user guide.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from gongzhi.core.tests.actors import SYSTEM as TEST_SYSTEM
from gongzhi.core.tests.browser_fixtures import BrowserPage, check_page, log_in, with_password
from gongzhi.services.tests.conftest import PDF

pytestmark = [pytest.mark.browser]

DESKTOP = {"width": 1280, "height": 900}


def _pdf_file(name: str) -> dict[str, Any]:
    return {"name": name, "mimeType": "application/pdf", "buffer": PDF}


def test_window_clerk_accepts_two_departments_items(
    browser_page: BrowserPage, hall: SimpleNamespace, screenshot_dir: Path
) -> None:
    from gongzhi.services.models import Application

    bp, page = browser_page, browser_page.page
    page.set_viewport_size(DESKTOP)
    with_password(hall.clerk)
    log_in(bp, "clerk", "/services/window/")
    check_page(bp, "services-window-lookup")

    page.get_by_label("证件号码或统一社会信用代码").fill(hall.number)
    page.get_by_role("button", name="查询申请人").click()
    page.wait_for_load_state("load")
    applicant = page.locator(".applicant")
    assert "张伟明" in applicant.inner_text() and hall.person.number_masked in applicant.inner_text()
    assert "居民身份证" in page.locator("table.wallet").inner_text()
    check_page(bp, "services-window-applicant")

    page.get_by_role("checkbox", name="临时救助申请").check()  # 民政局
    page.get_by_role("checkbox", name="个体工商户登记").check()  # 市场监督管理局
    page.get_by_role("button", name="下一步：填写申请表").click()
    page.wait_for_load_state("load")
    assert "证照库已有" in page.locator(".materials").inner_text()  # ID card reused, not asked again
    assert page.locator("input[name=file-id_card]").count() == 0
    page.get_by_label("申请事由").fill("家中突发困难")
    page.get_by_label("家庭人口").fill("3")
    page.get_by_label("字号名称").fill("平山小卖部")
    page.set_input_files("input[name=file-income]", _pdf_file("income.pdf"))
    page.set_input_files("input[name=file-tenancy]", _pdf_file("lease.pdf"))
    check_page(bp, "services-window", screenshot_dir)

    # A double click sends the form twice with the same idempotency key: one application only.
    page.get_by_role("button", name="受理", exact=True).dblclick()
    page.wait_for_url("**/services/applications/**")
    page.wait_for_load_state("load")
    assert "已受理" in page.locator(".result--ok").inner_text()
    numbers = [n.strip() for n in page.locator(".case-number").all_inner_texts()]
    app = Application.objects.get()
    assert sorted(numbers) == sorted(app.cases.values_list("number", flat=True)) and len(numbers) == 2
    check_page(bp, "services-window-accepted")

    href = page.get_by_role("link", name="打印受理回执（PDF）").get_attribute("href")
    receipt = page.context.request.get(str(href))
    assert receipt.ok and receipt.headers["content-type"] == "application/pdf"
    assert receipt.body().startswith(b"%PDF")

    assert Application.objects.count() == 1


def test_resident_applies_online_and_sees_it_in_my_cases(
    browser_page: BrowserPage, hall: SimpleNamespace, screenshot_dir: Path
) -> None:
    from gongzhi.services.models import Case

    bp, page = browser_page, browser_page.page  # a phone-sized viewport: most residents use phones
    with_password(hall.resident_user)
    log_in(bp, "resident", "/services/online/")
    check_page(bp, "services-online", screenshot_dir)

    page.get_by_role("link", name="临时救助申请").click()
    page.wait_for_load_state("load")
    assert "证照库已有" in page.locator(".materials").inner_text()
    check_page(bp, "services-online-apply")
    page.get_by_role("button", name="提交申请").click()  # empty form: errors next to the fields
    page.wait_for_load_state("load")
    assert "“申请事由”为必填项" in page.locator(".field--error").first.inner_text()
    assert Case.objects.count() == 0
    check_page(bp, "services-online-errors")

    page.get_by_label("申请事由").fill("失业，生活困难")
    page.set_input_files("input[name=file-income]", _pdf_file("income.pdf"))
    page.get_by_role("button", name="提交申请").click()
    page.wait_for_load_state("load")
    case = Case.objects.get()
    assert case.number in page.locator(".case-number").inner_text()
    check_page(bp, "services-online-accepted")

    page.get_by_role("link", name="我的办件").last.click()
    page.wait_for_load_state("load")
    row = page.locator("table.my-cases tbody tr").first
    assert case.number in row.inner_text() and "已受理" in row.inner_text()
    check_page(bp, "services-my-cases")
    page.get_by_role("link", name=case.number).click()
    page.wait_for_load_state("load")
    assert "民政局" in page.locator("main").inner_text()
    check_page(bp, "services-my-case")


def test_back_office_and_board(
    browser_page: BrowserPage, hall: SimpleNamespace, make_user: Any, screenshot_dir: Path
) -> None:
    from gongzhi.accounts.enums import Role
    from gongzhi.services.actions import Intake, do_claim_task, do_submit_application, handle_task_overdue
    from gongzhi.services.enums import TaskRole

    bp, page = browser_page, browser_page.page
    page.set_viewport_size(DESKTOP)
    supervisor = make_user(Role.DISTRICT_SUPERVISOR, hall.tree.nanshan, username="sup")
    officer = hall.officers["T-MZ"]
    with_password(officer, supervisor)
    import time

    import pyotp

    from gongzhi.accounts.actions import do_enrol_totp

    sup_secret = pyotp.random_base32(32)
    # Enrolled with the previous step's code, so the login below may use the current one.
    do_enrol_totp(supervisor, sup_secret, pyotp.TOTP(sup_secret).at(time.time() - 30), actor=TEST_SYSTEM)
    cases = []
    for n in range(3):
        intake = Intake(hall.number, ["T-MZ-001"], form={"reason": f"困难{n}", "household_size": "2"},
                        accept_gaps=True)
        cases.append(do_submit_application(intake, actor=hall.clerk, channel="window",
                                           idempotency_key=f"bo-{n}").cases.get())
    late = cases[0].tasks.get(role=TaskRole.LEAD)
    do_claim_task(late, actor=officer)
    handle_task_overdue(SimpleNamespace(payload={"task": late.pk}))

    log_in(bp, "officer_T-MZ", "/services/tasks/")
    queue = page.locator("table.tasks").inner_text()
    assert all(c.number in queue for c in cases) and "已超时" in queue  # in words, not colour only
    check_page(bp, "services-tasks", screenshot_dir)
    page.get_by_role("link", name=cases[1].number).click()
    page.wait_for_load_state("load")
    page.get_by_role("button", name="认领任务").click()
    page.wait_for_load_state("load")
    assert "已认领" in page.locator(".messages").inner_text()
    check_page(bp, "services-task-detail")

    page.context.clear_cookies()
    log_in(bp, "sup", "/services/board/", totp_secret=sup_secret)
    board = page.locator("main").inner_text()
    assert "民政局" in board and cases[0].number in board and officer.display_name in board
    check_page(bp, "services-board", screenshot_dir)

    page.context.clear_cookies()
    page.goto("/services/track")
    page.get_by_label("办件编号").fill(cases[2].number)
    page.get_by_label("申请人证件号码后四位").fill(hall.number[-4:])
    page.get_by_role("button", name="查询").click()
    page.wait_for_load_state("load")
    assert "已受理" in page.locator(".track-status").inner_text()
    assert "张伟明" not in page.locator("main").inner_text()
    check_page(bp, "services-track")
    page.goto("/services/ontime")
    check_page(bp, "services-ontime")
