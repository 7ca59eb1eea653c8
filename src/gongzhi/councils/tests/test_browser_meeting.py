"""A whole council meeting in real browsers over real websockets.

Three members and the moderator each have their own browser context (their own phone). The
meeting runs under RONR (seconds required, so every motion here is seconded): call to order, a
main motion, an amendment, a previous question that fails (1 of 3 is short of two-thirds), the
vote on the amendment, the vote on the amended motion, adjournment; then the moderator generates
the minutes and approves them, the secretary approves, and the published PDF must carry the
motion's text.

Websockets need an ASGI server, and the server needs the test's data: daphne runs in a
subprocess on a free port against a file-based SQLite database under a temporary
``GONGZHI_VAR_DIR`` (an in-memory database cannot be shared between processes), and the data is
written there by :func:`seed` through the same actions the application uses. The pages are
checked with axe-core (no serious or critical violation) and screenshots go to
docs/screenshots/meeting-*.png.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
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
from gongzhi.core.tests.browser_fixtures import (  # browser, screenshot_dir: src/conftest.py
    DEMO_PASSWORD,
    check_phone_layout,
    note_page,
)

pytestmark = [pytest.mark.browser]

ROOT = Path(__file__).resolve().parents[4]
BLOCKING = {"serious", "critical"}
MAIN_TEXT = "在楼间加装空调冷凝水管"
AMENDED = "在3号楼与4号楼之间加装空调冷凝水管"


# ------------------------------------------------------------------------ server-side helpers


def seed() -> dict[str, Any]:
    """Runs inside the server's environment (a subprocess): places, users, council, meeting."""
    from gongzhi.accounts.actions import do_assign_role, do_create_user
    from gongzhi.councils.tests.test_consumers import build_room
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
    from gongzhi.councils.actions import do_set_agenda

    do_set_agenda(r.meeting, [("楼间空调冷凝水管", "3号楼与4号楼之间的空调滴水问题"), ("其他事项", "")], actor=TEST_SYSTEM)
    return {"meeting": r.meeting.pk, "ids": r.ids}


def approve_as_secretary(meeting_id: int) -> None:
    from gongzhi.councils import actions
    from gongzhi.councils.models import Minutes

    # The secretary's own approval, recorded by the system on their behalf (no secretary account
    # in this scenario); the moderator approved in the browser.
    actions.do_approve_minutes(Minutes.objects.get(meeting_id=meeting_id), actor=TEST_SYSTEM, as_role="secretary")


def _django(env: dict[str, str], code: str) -> str:
    script = "import django; django.setup()\n" + code
    out = subprocess.run([sys.executable, "-c", script], env=env, cwd=ROOT, capture_output=True, text=True,  # noqa: S603
                         check=False, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[SimpleNamespace]:
    if not shutil.which("chromium") and not Path("/usr/bin/chromium").exists():
        pytest.skip("no chromium")
    env = {**os.environ, "GONGZHI_VAR_DIR": str(tmp_path / "var"), "DJANGO_SETTINGS_MODULE": "gongzhi.settings",
           "LOG_LEVEL": "WARNING", "DJANGO_ALLOW_ASYNC_UNSAFE": ""}
    for key in ("DATABASE_URL", "REDIS_URL", "GONGZHI_WS_PORT", "GONGZHI_MODE"):
        env.pop(key, None)  # one process: SQLite file, in-memory channel layer, same-port sockets
    _django(env, "from django.core.management import call_command; call_command('migrate', verbosity=0)")
    data = json.loads(_django(env, "import json\nfrom gongzhi.councils.tests.test_browser_meeting import seed\n"
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
                    raise RuntimeError("daphne did not start: " + (proc.stderr.read().decode()[-2000:]
                                                                   if proc.poll() is not None and proc.stderr else "")) from None
                time.sleep(0.2)
        yield SimpleNamespace(url=url, env=env, **data)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


# ----------------------------------------------------------------------------- browser helpers


class Phone:
    """One participant's browser context, logged in, on one room page."""

    def __init__(self, browser: Any, base: str, username: str, path: str, desktop: bool = False) -> None:
        size = {"width": 1280, "height": 900} if desktop else {"width": 414, "height": 896}
        self.context = browser.new_context(base_url=base, locale="zh-CN", viewport=size)
        self.context.set_default_timeout(15_000)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.visited: list[str] = []
        self.page.on("response", lambda r: note_page(r, self.visited))
        page = self.page
        page.goto(f"/accounts/login/?next={path}")
        form = page.locator("main form")
        form.get_by_label("用户名").fill(username)
        form.locator("input[type=password]").fill(DEMO_PASSWORD)
        form.get_by_role("button").click()
        page.wait_for_url(f"**{path}")
        self.connected()

    def connected(self) -> None:
        self.page.wait_for_selector("[data-room][data-connected]")

    def click(self, name: str) -> None:
        self.page.locator("[data-room]").get_by_role("button", name=name, exact=True).click()

    def move(self, kind: str, text: str = "") -> None:
        self.page.select_option("[data-motion-kind]", f"move:{kind}")
        self.page.fill("[data-motion-text]", text)
        self.click("提出")

    def version(self) -> int:
        return int(self.page.locator("[data-room]").get_attribute("data-version") or 0)

    def wait_version(self, version: int) -> None:
        self.page.wait_for_selector(f"[data-room][data-version='{version}']")

    def axe(self, name: str) -> None:
        from axe_playwright_python.sync_playwright import Axe

        results = Axe().run(self.page)
        blocking = [v for v in results.response["violations"] if v.get("impact") in BLOCKING]
        assert not blocking, f"{name}: " + json.dumps(
            [{"id": v["id"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:3]} for v in blocking],
            ensure_ascii=False)


def test_full_meeting_in_four_browsers(browser: Any, server: SimpleNamespace, screenshot_dir: Path) -> None:
    mid = server.meeting
    # Member 1's phone is open before the meeting starts: it must follow the start without a reload.
    early = Phone(browser, server.url, "member1", f"/councils/meetings/{mid}/")
    assert "会议尚未开始" in early.page.locator("[data-room-who]").inner_text()
    console = Phone(browser, server.url, "moderator", f"/councils/meetings/{mid}/console/", desktop=True)
    console.page.get_by_role("button", name="宣布开会").click()
    console.page.wait_for_url(f"**/councils/meetings/{mid}/console/")
    console.connected()
    early.page.locator("[data-room]").get_by_role("button", name="签到（我已到场）", exact=True).wait_for()
    assert early.page.locator("[data-room-who]").is_hidden()
    members = [early, *(Phone(browser, server.url, f"member{i}", f"/councils/meetings/{mid}/") for i in (2, 3))]
    projector = Phone(browser, server.url, "member3", f"/councils/meetings/{mid}/projector/", desktop=True)
    everyone = [console, *members, projector]
    version = 1  # the call to order
    m1, m2, m3 = members

    def step(who: Phone, name: str, *, kind: str | None = None, text: str = "") -> None:
        # One action at a time, and every screen caught up before the next: each action carries
        # the version its screen showed, so this also proves nobody acts on a stale screen.
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
    # Main motion: floor, move, second (RONR §4), state.
    step(m1, "举手申请发言")
    step(console, "准许发言：成员1")
    step(m1, "", kind="main", text=MAIN_TEXT)
    step(m2, "附议")
    step(console, "复述议题（进入审议）")
    # An amendment.
    step(m2, "举手申请发言")
    step(console, "准许发言：成员2")
    step(m2, "", kind="amend", text=AMENDED)
    step(m3, "附议")
    step(console, "复述议题（进入审议）")
    # The previous question fails: 1 of 3 is short of two-thirds (RONR 44:3).
    step(m3, "举手申请发言")
    step(console, "准许发言：成员3")
    step(m3, "", kind="previous_question")
    step(m1, "附议")
    step(console, "复述议题（进入审议）")
    step(console, "付诸表决：举手")
    step(m3, "✓ 投赞成票")
    step(m1, "✗ 投反对票")
    step(m2, "✗ 投反对票")
    step(console, "宣布表决结果")
    assert "停止辩论立即表决 · 未通过" in projector.page.locator("[data-room-result]").inner_text()
    # The amendment, 2 to 1.
    step(console, "付诸表决：举手")
    step(m1, "✓ 投赞成票")
    step(m2, "✓ 投赞成票")
    step(m3, "✗ 投反对票")
    step(console, "宣布表决结果")
    assert "修正 · 通过" in projector.page.locator("[data-room-result]").inner_text()
    # The amended main motion: screenshots and accessibility checks with the ballot open.
    step(console, "付诸表决：举手")
    step(m1, "✓ 投赞成票")
    assert "你已投票" in m1.page.locator("[data-room-ballot]").inner_text()
    # The agenda on every screen, with the item under consideration marked.
    for phone in (console, m2, projector):
        assert "当前议程" in phone.page.locator("[data-room-agenda]").inner_text()
    for phone, name in ((m2, "meeting-member"), (console, "meeting-moderator"), (projector, "meeting-projector")):
        phone.axe(name)
        phone.page.screenshot(path=str(screenshot_dir / f"{name}.png"), full_page=True)
    step(m2, "✓ 投赞成票")
    step(m3, "✓ 投赞成票")
    step(console, "宣布表决结果")
    result = projector.page.locator("[data-room-result]").inner_text()
    assert "主动议 · 通过" in result and AMENDED in result and "动议人 成员1" in result
    # Adjourning asks first; cancelling leaves the meeting in session.
    console.click("宣布散会")
    console.click("取消")
    console.click("宣布散会")
    step(console, "确定散会")
    assert "已散会" in m1.page.locator("[data-field=session]").inner_text()

    # Before anyone generates them, the minutes link says so instead of a 404.
    m1.page.goto(f"/councils/meetings/{mid}/minutes/")
    assert "会议纪要尚未生成" in m1.page.locator("main").inner_text()
    # Minutes: generated and approved by the moderator in the browser, then by the secretary.
    console.page.reload()
    console.page.get_by_role("button", name="生成会议纪要").click()
    console.page.wait_for_url(f"**/councils/meetings/{mid}/minutes/")
    console.page.locator("form button[name=as_role][value=chair]").click()
    console.page.wait_for_load_state("load")
    _django(server.env, f"from gongzhi.councils.tests.test_browser_meeting import approve_as_secretary\n"
                        f"approve_as_secretary({mid})")
    public = projector.context.request.get(f"{server.url}/councils/minutes/{mid}/")
    assert public.status == 200 and AMENDED in public.text()
    # The public index lists it; both pages are opened so the 390-px check below covers them.
    projector.page.goto("/councils/minutes/")
    projector.page.get_by_role("link", name="关于楼间空调冷凝水管的议事会议").click()
    projector.page.wait_for_url(f"**/councils/minutes/{mid}/")
    assert AMENDED in projector.page.locator("main").inner_text()
    pdf = projector.context.request.get(f"{server.url}/councils/meetings/{mid}/minutes.pdf").body()
    assert pdf.startswith(b"%PDF")
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()  # noqa: S607
        assert AMENDED.replace("之间", "") in text.replace("之间", "").replace("\n", "") or "冷凝水管" in text
    problems: list[str] = []
    for phone in everyone:
        assert not [e for e in phone.errors if "WebSocket" not in e], phone.errors
        # Every page each participant opened, at 390 px in the three languages (browser_fixtures).
        problems += check_phone_layout(phone.context, server.url, phone.visited)
        phone.context.close()
    assert not problems, "\n".join(problems)
