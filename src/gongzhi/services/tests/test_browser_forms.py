"""In a real browser: a window clerk's form survives an error and the one-time notice (一次性告知).

The clerk fills a bundle's form and scans a material, forgets one field (the error summary takes
the focus), then meets the one-time notice for a missing ID card and goes back: everything typed
and scanned is still there, only the ID card is added.
"""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from gongzhi.core.tests.browser_fixtures import BrowserPage, check_page, log_in, with_password
from gongzhi.services.tests.test_browser_services import _pdf_file

pytestmark = [pytest.mark.browser]


def test_clerk_goes_back_from_the_one_time_notice_without_retyping(
    browser_page: BrowserPage, hall: SimpleNamespace, screenshot_dir: Path, settings: object, tmp_path: Path
) -> None:
    from gongzhi.services.models import Application, Case

    settings.VAR_DIR = tmp_path  # type: ignore[attr-defined]  # this test's kept scans only
    bp, page = browser_page, browser_page.page
    with_password(hall.clerk)
    log_in(bp, "clerk", "/services/window/")
    page.get_by_label("证件号码或统一社会信用代码").fill(hall.other_number)
    page.get_by_role("button", name="查询申请人").click()
    page.wait_for_load_state("load")
    page.get_by_role("radio", name=re.compile("开办小店一件事")).check()
    page.get_by_role("button", name="下一步：填写申请表").click()
    page.wait_for_load_state("load")

    page.get_by_label("字号名称").fill("文华小店")
    page.get_by_label("用途").select_option("入学")
    page.get_by_label("家庭人口").fill("4")  # 申请事由 forgotten
    page.set_input_files("input[name=file-tenancy]", _pdf_file("场所证明.pdf"))
    page.get_by_label(re.compile("容缺受理")).check()
    page.get_by_role("button", name="受理", exact=True).click()
    page.wait_for_load_state("load")

    # The error summary is at the top, has the focus, and links to the field.
    summary = page.locator("#error-summary")
    assert "“申请事由”为必填项" in summary.inner_text()
    page.wait_for_function("document.activeElement && document.activeElement.id === 'error-summary'")
    summary.get_by_role("link", name=re.compile("申请事由")).click()
    page.wait_for_function("document.activeElement && document.activeElement.id === 'id_form-reason'")
    assert "已收到扫描件：场所证明.pdf" in page.locator("#material-tenancy").inner_text()
    check_page(bp, "services-forms-errors", screenshot_dir)

    page.get_by_label("申请事由").fill("家中困难")
    page.get_by_role("button", name="受理", exact=True).click()
    page.wait_for_load_state("load")
    assert "一次性告知" in page.locator("main").inner_text()
    assert "身份证件" in page.locator(".missing-list").inner_text()
    check_page(bp, "services-forms-notice")

    page.get_by_role("button", name="返回补充材料").click()
    page.wait_for_load_state("load")
    # Nothing to retype: the values, the checkbox and the scan came back with the clerk.
    assert page.get_by_label("字号名称").input_value() == "文华小店"
    assert page.get_by_label("申请事由").input_value() == "家中困难"
    assert page.get_by_label("家庭人口").input_value() == "4"
    assert page.get_by_label("用途").input_value() == "入学"
    assert page.get_by_label(re.compile("容缺受理")).is_checked()
    assert "已收到扫描件：场所证明.pdf" in page.locator("#material-tenancy").inner_text()
    check_page(bp, "services-window-back-from-notice")

    page.set_input_files("input[name=file-id_card]", _pdf_file("身份证.pdf"))
    page.get_by_role("button", name="受理", exact=True).click()
    page.wait_for_url("**/services/applications/**")
    app = Application.objects.get()
    assert app.cases.count() == 3
    case = Case.objects.get(application=app, item__code="T-SJ-003")
    assert case.form_data["shop_name"] == "文华小店"
    doc = case.materials.get(material__key="tenancy").document
    assert doc is not None and doc.filename == "场所证明.pdf"
    assert not [p for p in (tmp_path / "pending").iterdir()]  # the kept copies are gone
