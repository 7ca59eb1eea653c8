"""A real meeting driven from its agenda, in separate browsers over real websockets (issue 12).

An earlier meeting of the same council adopted a decision (set up through the actions). In this
one the moderator's console, three members' phones and a recorder each have their own browser
context: the meeting opens, item 1 rescinds the earlier decision by secret ballot (the phones
offer it by its wording, never as ``mtg12-m11``), the chair takes up item 2 from the agenda, two
members leave while a vote is open (the quorum is lost, the vote is voided and said so in words,
a greyed-out 付诸表决 explains itself), they come back (the quorum is regained), the motion is
adopted and the meeting adjourned. The minutes are generated and approved by the chair and the
recorder in their browsers, published, found on the public index and read in 简体, 繁體 and
English. Every page is axe-checked; every page visited passes the 390-px check.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from gongzhi.core.tests.actors import SYSTEM as TEST_SYSTEM
from gongzhi.core.tests.browser_fixtures import DEMO_PASSWORD, check_phone_layout, note_page
from gongzhi.councils.tests.test_browser_meeting import ROOT, Phone, _django, _free_port

pytestmark = [pytest.mark.browser]

EARLIER_DECISION = "每月第一个周六组织清扫楼道"
ITEM_ONE = "撤销楼道清扫决议"
ITEM_TWO = "增设楼道照明"
LIGHTS = "在3号楼各层楼道增设声控照明灯"
TITLE = "关于楼道事务的议事会议"


def seed() -> dict[str, Any]:
    """Runs in the server's environment: the council, an earlier meeting held through the
    actions (its decision is what this meeting rescinds), and this meeting with its agenda."""
    from django.utils import timezone

    from gongzhi.accounts.actions import do_assign_role, do_create_user
    from gongzhi.accounts.enums import Role
    from gongzhi.councils import actions
    from gongzhi.councils.models import Meeting
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
    # The earlier meeting: held and adjourned through the same actions the room uses.
    earlier = r.meeting
    Meeting.objects.filter(pk=earlier.pk).update(scheduled_at=timezone.now() - timedelta(days=30))
    earlier.refresh_from_db()
    actions.do_start_meeting(earlier, actor=r.mod_user)

    def act(user: Any, type_: str, **fields: Any) -> None:
        actions.do_apply_meeting_action(Meeting.objects.get(pk=earlier.pk), {"type": type_, **fields}, actor=user)

    m1, m2 = r.users[:2]
    for user in r.users:
        act(user, "arrive")
    act(m1, "request_floor")
    act(r.mod_user, "recognize", member=r.ids[0])
    act(m1, "move", kind="main", text=EARLIER_DECISION)
    act(m2, "second")
    act(r.mod_user, "state_question")
    act(r.mod_user, "call_vote", method="show_of_hands")
    for user in r.users:
        act(user, "cast_vote", choice="aye")
    act(r.mod_user, "announce_result")
    act(r.mod_user, "declare_adjourned")
    # This meeting, with a recorder who approves the minutes in her own browser.
    recorder = make_user(Role.COUNCIL_MEMBER, pingshan, username="recorder")
    meeting = actions.do_schedule_meeting(r.council, TITLE, timezone.now() + timedelta(hours=1), actor=TEST_SYSTEM,
                                          moderator=r.moderator, secretary=recorder, location="平山社区党群服务中心",
                                          agenda=[(ITEM_ONE, "上次会议决定每月清扫楼道，物业已承担"), (ITEM_TWO, "")])
    return {"meeting": meeting.pk, "earlier": earlier.pk, "ids": r.ids}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[SimpleNamespace]:
    import os
    import shutil

    if not shutil.which("chromium") and not Path("/usr/bin/chromium").exists():
        pytest.skip("no chromium")
    env = {**os.environ, "GONGZHI_VAR_DIR": str(tmp_path / "var"), "DJANGO_SETTINGS_MODULE": "gongzhi.settings",
           "LOG_LEVEL": "WARNING", "DJANGO_ALLOW_ASYNC_UNSAFE": ""}
    for key in ("DATABASE_URL", "REDIS_URL", "GONGZHI_WS_PORT", "GONGZHI_MODE"):
        env.pop(key, None)  # one process: SQLite file, in-memory channel layer, same-port sockets
    _django(env, "from django.core.management import call_command; call_command('migrate', verbosity=0)")
    data = json.loads(_django(env, "import json\nfrom gongzhi.councils.tests.test_browser_agenda_meeting import seed\n"
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


class Reader:
    """A browser context on ordinary pages (minutes, the public index), logged in or not."""

    def __init__(self, browser: Any, base: str, username: str | None = None) -> None:
        self.context = browser.new_context(base_url=base, locale="zh-CN", viewport={"width": 1280, "height": 900})
        self.context.set_default_timeout(15_000)
        self.page = self.context.new_page()
        self.visited: list[str] = []
        self.page.on("response", lambda r: note_page(r, self.visited))
        if username:
            self.page.goto("/accounts/login/")
            form = self.page.locator("main form")
            form.get_by_label("用户名").fill(username)
            form.locator("input[type=password]").fill(DEMO_PASSWORD)
            form.get_by_role("button").click()
            self.page.wait_for_load_state("load")

    axe = Phone.axe


def test_meeting_driven_from_the_agenda(browser: Any, server: SimpleNamespace, screenshot_dir: Path) -> None:
    mid = server.meeting
    room = f"/councils/meetings/{mid}/"
    console = Phone(browser, server.url, "moderator", f"{room}console/", desktop=True)
    m1 = Phone(browser, server.url, "member1", room)  # open before the start: follows it without reload
    console.page.get_by_role("button", name="宣布开会").click()
    console.page.wait_for_url(f"**{room}console/")
    console.connected()
    m1.page.locator("[data-room]").get_by_role("button", name="签到（我已到场）", exact=True).wait_for()
    m2, m3 = (Phone(browser, server.url, f"member{i}", room) for i in (2, 3))
    members = [m1, m2, m3]
    everyone = [console, *members]
    version = console.version()

    def step(who: Phone, name: str, *, kind: str | None = None, text: str = "") -> None:
        nonlocal version
        if kind is not None:
            who.move(kind, text)
        else:
            who.click(name)
        version += 1
        for phone in everyone:  # every screen follows without a reload
            phone.wait_version(version)

    for m in members:
        step(m, "签到（我已到场）")
    agenda = m2.page.locator("[data-room-agenda]").inner_text()
    assert ITEM_ONE in agenda and "当前议程" in agenda

    # Item 1: rescind the earlier meeting's decision, offered by its wording.
    step(m1, "举手申请发言")
    step(console, "准许发言：成员1")
    options = m1.page.locator("[data-motion-kind] option").all_inner_texts()
    rescind = [o for o in options if o.startswith("撤销已通过的决议")]
    assert rescind and EARLIER_DECISION in rescind[0] and "mtg" not in " ".join(options), options
    value = m1.page.locator("[data-motion-kind] option", has_text="撤销已通过的决议").get_attribute("value") or ""
    m1.page.select_option("[data-motion-kind]", value)
    m1.page.fill("[data-motion-text]", "物业已承担楼道清扫，撤销该决议")
    m1.click("提出")
    version += 1
    for phone in everyone:
        phone.wait_version(version)
    assert EARLIER_DECISION in console.page.locator("[data-room-stack]").inner_text()
    step(m2, "附议")
    step(console, "复述议题（进入审议）")
    # A secret ballot: phones show only how many have voted.
    step(console, "付诸表决：无记名投票")
    step(m1, "✓ 投赞成票")
    step(m2, "✓ 投赞成票")
    assert "已投票 2" in m3.page.locator("[data-room-ballot]").inner_text()
    m3.axe("agenda-meeting-secret-ballot")
    step(m3, "✓ 投赞成票")
    step(console, "宣布表决结果")
    assert "撤销已通过的决议 · 通过" in m3.page.locator("[data-room-result]").inner_text()

    # Item 2, taken up by the chair from the agenda.
    step(console, f"进入下一项议程：{ITEM_TWO}")
    current = m1.page.locator("[data-room-agenda] [aria-current=step]").inner_text()
    assert ITEM_TWO in current
    step(m2, "举手申请发言")
    step(console, "准许发言：成员2")
    step(m2, "", kind="main", text=LIGHTS)
    step(m3, "附议")
    step(console, "复述议题（进入审议）")
    step(console, "付诸表决：举手")
    step(m1, "✓ 投赞成票")
    # Two members leave while the vote is open: the quorum is lost, on every screen.
    step(m2, "离场（退出会场）")
    step(m3, "离场（退出会场）")
    for phone in (console, m1):
        banner = phone.page.locator("[data-room-quorum]")
        assert banner.is_visible() and "未达法定人数" in banner.inner_text()
    step(console, "宣布表决结果")
    void = m1.page.locator("[data-room-result]").inner_text()
    assert "表决无效" in void and "不足法定人数" in void
    assert "表决无效" in m1.page.locator("[data-room-announce]").inner_text()  # said aloud too
    # A greyed-out button explains itself (asked for when tapped, in the reader's language).
    # aria-disabled (not disabled): focusable and tappable, so it can say why; Playwright treats
    # it as not enabled, hence force.
    console.page.locator("[data-room] button[data-why=call_vote]").click(force=True)
    why = console.page.locator("[data-room-why]")
    why.filter(has_text="法定人数").wait_for()
    console.axe("agenda-meeting-console-no-quorum")
    console.page.screenshot(path=str(screenshot_dir / "meeting-agenda-no-quorum.png"), full_page=True)
    # They come back: the quorum is regained.
    step(m2, "签到（我已到场）")
    step(m3, "签到（我已到场）")
    assert m1.page.locator("[data-room-quorum]").is_hidden()
    assert "已恢复法定人数" in m1.page.locator("[data-room-quorum-news]").inner_text()
    step(console, "付诸表决：举手")
    for m in members:
        step(m, "✓ 投赞成票")
    step(console, "宣布表决结果")
    assert "主动议 · 通过" in m2.page.locator("[data-room-result]").inner_text()
    m2.axe("agenda-meeting-member")
    console.click("宣布散会")
    step(console, "确定散会")
    assert "已散会" in m3.page.locator("[data-field=session]").inner_text()

    # Minutes: generated and approved by the chair, then by the recorder in her browser.
    console.page.reload()
    console.page.get_by_role("button", name="生成会议纪要").click()
    console.page.wait_for_url(f"**{room}minutes/")
    console.axe("agenda-meeting-minutes-draft")
    console.page.locator("form button[name=as_role][value=chair]").click()
    console.page.wait_for_load_state("load")
    recorder = Reader(browser, server.url, "recorder")
    recorder.page.goto(f"{room}minutes/")
    recorder.page.locator("form button[name=as_role][value=secretary]").click()
    recorder.page.wait_for_load_state("load")
    recorder.axe("agenda-meeting-minutes-recorder")
    # Published: on the public index, for a reader who is not logged in.
    public = Reader(browser, server.url)
    public.page.goto("/councils/minutes/")
    public.axe("agenda-meeting-minutes-index")
    public.page.get_by_role("link", name=TITLE).click()
    public.page.wait_for_url(f"**/councils/minutes/{mid}/")
    text = public.page.locator("main").inner_text()
    assert LIGHTS in text and EARLIER_DECISION in text and "mtg" not in text, text
    public.axe("agenda-meeting-minutes-zh-hans")
    for language, word in (("zh-hant", "會議紀要"), ("en", "Minutes")):
        public.page.locator(f"button[name=language][value={language}]").first.click()
        public.page.wait_for_url(f"**/councils/minutes/{mid}/")
        body = public.page.locator("main").inner_text()
        assert word in body and "mtg" not in body, body[:400]
        public.axe(f"agenda-meeting-minutes-{language}")
    public.page.screenshot(path=str(screenshot_dir / "meeting-agenda-minutes-en.png"), full_page=True)

    problems: list[str] = []
    for phone in everyone:
        assert not [e for e in phone.errors if "WebSocket" not in e], phone.errors
    for who in (*everyone, recorder, public):
        problems += check_phone_layout(who.context, server.url, who.visited)
        who.context.close()
    assert not problems, "\n".join(problems)
