"""A micro-project from a resident's phone to its public page, through the council's live room.

A resident proposes on a 390-px phone; the community worker screens it and puts it on a
council meeting's agenda; the council votes on it in the live meeting room (three members'
phones and the moderator's console over real websockets); the minutes are generated and
approved; the office records the outcome, funds the year, records delivery and accepts the
project; the resident rates it, and the public page — opened logged out — shows the whole
trail. Every page opened is checked at 390 px in the three languages.

Websockets need an ASGI server: daphne in a subprocess against a file SQLite database, as in
councils/tests/test_browser_meeting.py (whose server-side helpers and ``Phone`` are reused).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from gongzhi.core.tests.actors import SYSTEM as TEST_SYSTEM
from gongzhi.core.tests.browser_fixtures import DEMO_PASSWORD, check_phone_layout, note_page
from gongzhi.councils.tests.test_browser_meeting import ROOT, Phone, _django, _free_port

pytestmark = [pytest.mark.browser]

TITLE = "口袋公园增设休息座椅"
MOTION = f"实施民生微实事项目“{TITLE}”，估算费用 24000.00 元。"


def seed() -> dict[str, Any]:
    """Inside the server's environment: places, a resident, a worker, the council and meeting."""
    from django.utils import timezone

    from gongzhi.accounts.actions import do_assign_role, do_create_user
    from gongzhi.councils.tests.test_consumers import build_room
    from gongzhi.microprojects.actions import do_set_budget
    from gongzhi.places.actions import do_create_place

    city = do_create_place("city", "440300", "深圳市", None, actor=TEST_SYSTEM)
    district = do_create_place("district", "440305", "南山区", city, actor=TEST_SYSTEM)
    sub = do_create_place("subdistrict", "440305007", "桃源街道", district, actor=TEST_SYSTEM)
    pingshan = do_create_place("community", "440305007001", "平山社区", sub, actor=TEST_SYSTEM)
    other = do_create_place("community", "440305007002", "龙联社区", sub, actor=TEST_SYSTEM)

    def make_user(role: str, place: Any, *, username: str) -> Any:
        user = do_create_user(username, username, DEMO_PASSWORD, actor=TEST_SYSTEM, validate=False)
        do_assign_role(user, role, place, actor=TEST_SYSTEM)
        return user

    r = build_room(SimpleNamespace(community_a=pingshan, community_d=other), make_user, start=False)
    make_user("resident", pingshan, username="resident1")
    make_user("community_worker", pingshan, username="worker1")
    do_set_budget(pingshan, timezone.localdate().year, actor=TEST_SYSTEM, total="200000", ceiling="100000")
    return {"meeting": r.meeting.pk, "code": pingshan.code}


def finish(meeting_id: int) -> None:
    """After the vote: minutes approved, outcome read from them, the year funded, delivered, accepted."""
    from django.utils import timezone

    from gongzhi.accounts.models import User
    from gongzhi.councils import actions as ca
    from gongzhi.councils.models import Meeting, Minutes
    from gongzhi.microprojects import actions
    from gongzhi.microprojects.models import Proposal

    meeting = Meeting.objects.get(pk=meeting_id)
    minutes = ca.do_generate_minutes(meeting, actor=TEST_SYSTEM)
    ca.do_approve_minutes(minutes, actor=User.objects.get(username="moderator"), as_role="chair")
    ca.do_approve_minutes(Minutes.objects.get(pk=minutes.pk), actor=TEST_SYSTEM, as_role="secretary")
    p = Proposal.objects.get(title=TITLE)
    actions.do_record_council_outcome(p, actor=TEST_SYSTEM)
    actions.do_fund_year(p.place, p.year, actor=TEST_SYSTEM)
    p.refresh_from_db()
    actions.do_assign_implementer(p, "某园林公司", actor=TEST_SYSTEM, due_on=timezone.localdate())
    actions.do_record_spending(p, "20000", "座椅采购与安装", actor=TEST_SYSTEM)
    actions.do_record_milestone(p, "完工", actor=TEST_SYSTEM, progress=100)
    actions.do_accept_project(p, actor=TEST_SYSTEM, note="居民代表现场验收合格")
    print(json.dumps({"proposal": p.pk}))


@pytest.fixture
def server(tmp_path: Path) -> Iterator[SimpleNamespace]:
    if not shutil.which("chromium") and not Path("/usr/bin/chromium").exists():
        pytest.skip("no chromium")
    env = {**os.environ, "GONGZHI_VAR_DIR": str(tmp_path / "var"), "DJANGO_SETTINGS_MODULE": "gongzhi.settings",
           "LOG_LEVEL": "WARNING", "DJANGO_ALLOW_ASYNC_UNSAFE": ""}
    for key in ("DATABASE_URL", "REDIS_URL", "GONGZHI_WS_PORT", "GONGZHI_MODE"):
        env.pop(key, None)
    _django(env, "from django.core.management import call_command; call_command('migrate', verbosity=0)")
    data = json.loads(_django(env, "import json\nfrom gongzhi.microprojects.tests.test_browser_microproject import seed\n"
                                   "print(json.dumps(seed()))").strip().splitlines()[-1])
    port = _free_port()
    proc = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "gongzhi.asgi:application"],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(url + "/accounts/login/", timeout=2)  # noqa: S310 - loopback
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("daphne did not start") from None
                time.sleep(0.2)
        yield SimpleNamespace(url=url, env=env, **data)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


class Resident:
    """The resident's own phone: 390 px wide."""

    def __init__(self, browser: Any, base: str, username: str) -> None:
        self.context = browser.new_context(base_url=base, locale="zh-CN", viewport={"width": 390, "height": 844})
        self.context.set_default_timeout(15_000)
        self.page = self.context.new_page()
        self.visited: list[str] = []
        self.errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on("response", lambda r: note_page(r, self.visited))
        if username:
            self.page.goto("/accounts/login/?next=/microprojects/propose/")
            form = self.page.locator("main form")
            form.get_by_label("用户名").fill(username)
            form.locator("input[type=password]").fill(DEMO_PASSWORD)
            form.get_by_role("button").click()
            self.page.wait_for_url("**/microprojects/propose/")


def test_resident_to_council_to_public_page(browser: Any, server: SimpleNamespace, screenshot_dir: Path) -> None:
    # 1. The resident proposes on the phone (a bad cost first: a clear error, nothing stored).
    res = Resident(browser, server.url, "resident1")
    page = res.page
    page.get_by_label("项目名称").fill(TITLE)
    page.get_by_label("要做什么").fill("在口袋公园增设12张防腐木座椅，方便老人休息。")
    page.get_by_label("估算费用（元）").fill("两万四")
    page.get_by_role("button", name="提交项目").click()
    assert "须为数字" in page.locator("main").inner_text()
    page.get_by_label("估算费用（元）").fill("24000")
    page.get_by_role("button", name="提交项目").click()
    page.wait_for_url("**/microprojects/*/")
    detail = page.url
    assert TITLE in page.locator("h1").inner_text()
    page.screenshot(path=str(screenshot_dir / "microproject-proposed.png"), full_page=True)

    # 2. The community worker screens it and puts it on the council's agenda.
    office = Resident(browser, server.url, "")
    office.page.goto(f"/accounts/login/?next={detail.removeprefix(server.url)}")
    form = office.page.locator("main form")
    form.get_by_label("用户名").fill("worker1")
    form.locator("input[type=password]").fill(DEMO_PASSWORD)
    form.get_by_role("button").click()
    office.page.wait_for_url(detail)
    office.page.get_by_role("button", name="审核通过").click()
    office.page.wait_for_url(detail)
    office.page.get_by_role("button", name="提交议事会表决").click()
    office.page.wait_for_url(detail)
    assert "提交议事会" in office.page.locator("[data-status]").inner_text()

    # 3. The council votes in the live room.
    mid = server.meeting
    console = Phone(browser, server.url, "moderator", f"/councils/meetings/{mid}/console/", desktop=True)
    console.page.get_by_role("button", name="宣布开会").click()
    console.page.wait_for_url(f"**/councils/meetings/{mid}/console/")
    console.connected()
    members = [Phone(browser, server.url, f"member{i}", f"/councils/meetings/{mid}/") for i in (1, 2, 3)]
    everyone = [console, *members]
    version = 1
    m1, m2, m3 = members
    assert TITLE in m1.page.locator("[data-room-agenda]").inner_text()

    def step(who: Phone, name: str, *, kind: str | None = None, text: str = "") -> None:
        nonlocal version
        if kind is not None:
            who.move(kind, text)
        else:
            who.click(name)
        version += 1
        for phone in everyone:
            phone.wait_version(version)

    for m in members:
        step(m, "签到（我已到场）")
    step(m1, "举手申请发言")
    step(console, "准许发言：成员1")
    step(m1, "", kind="main", text=MOTION)
    step(m2, "附议")
    step(console, "复述议题（进入审议）")
    step(console, "付诸表决：举手")
    step(m1, "✓ 投赞成票")
    step(m2, "✓ 投赞成票")
    step(m3, "✗ 投反对票")
    step(console, "宣布表决结果")
    console.click("宣布散会")
    step(console, "确定散会")

    # 4. Minutes, outcome, funding, delivery, acceptance (the office's steps, through the actions).
    out = _django(server.env, "from gongzhi.microprojects.tests.test_browser_microproject import finish\n"
                              f"finish({mid})")
    pid = json.loads(out.strip().splitlines()[-1])["proposal"]

    # 5. The resident rates it; the public page, logged out, shows the whole trail.
    page.goto(f"/microprojects/{pid}/")
    page.get_by_label("满意度（1–5 星）").select_option("5")
    page.get_by_role("button", name="提交评价").click()
    page.wait_for_url(f"**/microprojects/{pid}/")
    public = Resident(browser, server.url, "")
    public.page.goto("/")
    public.page.get_by_role("link", name="全部民生微实事").click()
    public.page.get_by_role("link", name="平山社区").click()
    public.page.get_by_role("link", name=TITLE).click()
    public.page.wait_for_url(f"**/microprojects/{pid}/")
    text = public.page.locator("main").inner_text()
    assert "已验收" in text and "议事会表决结果" in text and "纪要批准公开" in text and "5★" in text
    assert public.page.locator("[data-outcome]").get_attribute("data-outcome") == "adopted"
    public.page.get_by_role("link", name="会议纪要").click()
    public.page.wait_for_url(f"**/councils/minutes/{mid}/")
    assert MOTION in public.page.locator("main").inner_text()
    public.page.goto(f"/microprojects/{pid}/")
    public.page.screenshot(path=str(screenshot_dir / "microproject-public.png"), full_page=True)

    problems: list[str] = []
    for who in (res, office, public):
        assert not who.errors, who.errors
        problems += check_phone_layout(who.context, server.url, who.visited)
    assert not problems, problems
