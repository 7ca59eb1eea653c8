"""The Gantt chart in a real browser, on a phone (390 px, checked by the fixture in every
language) and on a desktop: a community worker reports a week's progress with a site photo and
reads the chart with the critical chain marked. Screenshots: docs/screenshots/villages-*.png."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from gongzhi.core.tests.browser_fixtures import BrowserPage, check_page, log_in, with_password

pytestmark = [pytest.mark.browser]
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde"
       b"\x00\x00\x00\x0cIDATx\x9cc\xf8\xcf\xc0\x00\x00\x03\x01\x01\x00\xc9\xfe\x92\xef\x00\x00\x00\x00IEND\xaeB`\x82")


def test_gantt_on_a_phone_and_a_desktop(browser_page: BrowserPage, place_tree: Any, make_user: Any,
                                        screenshot_dir: Path, tmp_path: Path) -> None:
    from gongzhi.core import clock
    from gongzhi.villages.tests.helpers import build_project

    worker = make_user("community_worker", place_tree.pingshan, username="vg_worker")
    with_password(worker)
    today = clock.localdate()
    ns = build_project(place_tree.pingshan, "平山", start=today - timedelta(days=3),
                       deadline=today + timedelta(days=55), owner=worker)
    bp, page = browser_page, browser_page.page
    log_in(bp, "vg_worker", f"/villages/projects/{ns.project.pk}/")
    assert page.locator("#vg-infeasible").is_visible()  # the deadline can no longer be met
    check_page(bp, "villages-project", screenshot_dir)

    photo = tmp_path / "site.png"
    photo.write_bytes(PNG)
    form = page.locator("main form.vg-form")
    form.get_by_label("任务").select_option("survey")
    form.get_by_label("完成百分比").fill("50")
    form.get_by_label("现场照片（JPEG、PNG）").set_input_files(str(photo))
    form.get_by_role("button", name="提交进度").click()
    page.wait_for_load_state("load")
    assert page.locator(".vg-photos img").count() == 1

    page.get_by_role("link", name="甘特图").click()
    page.wait_for_load_state("load")
    critical = page.locator('.vg-gantt li[data-critical="1"]')
    assert [critical.nth(i).get_attribute("data-task") for i in range(critical.count())] == \
        ["survey", "pipes", "fire", "accept"]
    assert page.locator('.vg-gantt li[data-task="facade"]').get_attribute("data-critical") == "0"
    check_page(bp, "villages-gantt-phone", screenshot_dir)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.reload()
    check_page(bp, "villages-gantt-desktop", screenshot_dir)
    widths = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1] + 1
