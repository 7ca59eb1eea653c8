"""After submitting, in a real browser at 390 px: a resident tracks by the application number
the confirmation showed and hands in the material owed under 容缺; the officer approves
(no warning once it is in), finds the case in the 待送达 queue and delivers it; the result is
in the resident's wallet. Every page is checked with axe-core and must not scroll sideways."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from gongzhi.core.tests.browser_fixtures import BrowserPage, check_page, log_in, with_password
from gongzhi.services.tests.test_browser_services import _pdf_file

pytestmark = [pytest.mark.browser]
PHONE = {"width": 390, "height": 844}


def _no_sideways_scroll(bp: BrowserPage, name: str) -> None:
    page = bp.page
    wide = page.evaluate("document.documentElement.scrollWidth")
    if wide > PHONE["width"]:
        print(page.evaluate("""[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > 392)
            .slice(0, 8).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right) + ' ' + (e.textContent || '').slice(0, 60))"""))
        page.screenshot(path=f"/tmp/{name}.png", full_page=True)
    assert wide <= PHONE["width"], f"{name} ({page.url}) scrolls sideways: {wide}px wide at {PHONE['width']}px"


def _check(bp: BrowserPage, name: str) -> None:
    check_page(bp, name)
    _no_sideways_scroll(bp, name)


def test_resident_tracks_hands_in_and_gets_the_result(browser_page: BrowserPage, hall: SimpleNamespace) -> None:
    from gongzhi.people.models import Document
    from gongzhi.services.actions import Intake, do_claim_task, do_decide_task, do_submit_application
    from gongzhi.services.enums import CaseStatus, TaskRole
    from gongzhi.services.models import Case
    from gongzhi.services.tests.conftest import pdf

    hall.subsidy.result_doc_type = "licence"  # the approval issues an electronic licence
    hall.subsidy.save()
    intake = Intake(hall.number, ["T-MZ-001", "T-SJ-003"], form={"reason": "困难", "shop_name": "南山小馆"},
                    files={"tenancy": pdf()}, accept_gaps=True)
    app = do_submit_application(intake, actor=hall.resident_user, channel="online", idempotency_key="br-cp")
    case = app.cases.get(item__code="T-MZ-001")
    shop = app.cases.get(item__code="T-SJ-003")
    bp, page = browser_page, browser_page.page
    page.set_viewport_size(PHONE)
    officer = hall.officers["T-MZ"]
    with_password(hall.resident_user, officer)

    # 1. tracked by the application number: both cases, plain words, no name
    page.goto("/services/track")
    page.get_by_label("申请编号或办件编号").fill(app.number)
    page.get_by_label("申请人证件号码后四位").fill(hall.number[-4:])
    page.get_by_role("button", name="查询").click()
    page.wait_for_load_state("load")
    main = page.locator("main").inner_text()
    assert case.number in main and shop.number in main and "张伟明" not in main
    assert page.locator(".track-case").count() == 2
    assert "已受理，等待部门审核" in page.locator(".track-status").first.inner_text()
    assert "收入证明 待补交" in main
    _check(bp, "casepage-track")

    # 2. the case page: timeline, the owed material, handed in
    log_in(bp, "resident", f"/services/online/cases/{case.number}/")
    assert "待补交的容缺材料" in page.locator("main").inner_text()
    assert page.locator("ol.timeline li").count() >= 2
    _check(bp, "casepage-my-case")
    page.set_input_files("input[type=file][name=file]", _pdf_file("income.pdf"))
    with page.expect_navigation():
        page.get_by_role("button", name="补交此材料").click()
    assert "已补交材料：收入证明" in page.locator(".messages").inner_text()
    assert page.locator("section.owed").count() == 0
    assert "已补交容缺材料：收入证明" in page.locator("ol.timeline").inner_text()
    _check(bp, "casepage-my-case-handed-in")

    # 3. the officer approves (no warning now) and delivers from the 待送达 queue
    for task in case.tasks.filter(role=TaskRole.CO).select_related("department"):
        co = hall.officers[task.department.code]
        do_decide_task(do_claim_task(task, actor=co), approve=True, actor=co)
    lead = do_claim_task(case.tasks.get(role=TaskRole.LEAD), actor=officer)
    page.context.clear_cookies()
    log_in(bp, "officer_T-MZ", f"/services/tasks/{lead.pk}/")
    assert page.locator(".owed-warning").count() == 0
    assert "收入证明：容缺补交" in page.locator("main").inner_text()  # told as what it was
    _check(bp, "casepage-task")
    page.get_by_label("同意", exact=True).check()
    with page.expect_navigation():
        page.get_by_role("button", name="提交审批意见").click()
    assert Case.objects.get(pk=case.pk).status == CaseStatus.APPROVED, page.locator("main").inner_text()
    assert page.url.endswith("/services/tasks/"), page.url
    page.locator("a[data-queue=deliver]").click()
    page.wait_for_load_state("load")
    assert case.number in page.locator("table.tasks").inner_text()
    _check(bp, "casepage-deliver-queue")
    page.get_by_role("link", name=case.number).click()
    page.wait_for_load_state("load")
    page.get_by_label("送达方式").select_option("electronic")
    with page.expect_navigation():
        page.get_by_role("button", name="确认送达").click()
    assert Case.objects.get(pk=case.pk).status == CaseStatus.DELIVERED
    assert "办理结果已送达" in page.locator(".messages").inner_text()
    page.goto("/services/tasks/?queue=deliver")
    assert case.number not in page.locator("table.tasks").inner_text()

    # 4. the result is in the resident's wallet, and the case page says so in plain words
    assert Document.objects.filter(person=hall.person, doc_type="licence").exists()
    page.context.clear_cookies()
    log_in(bp, "resident", "/people/me/wallet/")
    assert f"电子证照 {case.number}" in page.locator("main").inner_text()
    _check(bp, "casepage-wallet")
    page.goto(f"/services/online/cases/{case.number}/")
    assert "已批准，结果已送达" in page.locator("main").inner_text()
    _check(bp, "casepage-my-case-delivered")
