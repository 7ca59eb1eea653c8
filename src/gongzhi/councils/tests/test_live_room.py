"""Issue 12, the live room and the minutes: one state builder, phones that follow the start
without reloading, the agenda on every screen, minutes that never 404 and read in words."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.utils import translation

from gongzhi.councils import actions
from gongzhi.councils.minutes import minutes_outline
from gongzhi.councils.models import Meeting, Minutes
from gongzhi.councils.room import snapshot, state_message, viewer_for
from gongzhi.councils.tests.helpers import act, arrive_all, build_council, floor, run_meeting

pytestmark = pytest.mark.django_db


@pytest.fixture
def ns(place_tree: Any, make_user: Callable[..., Any]) -> Any:
    return build_council(place_tree, make_user, n=5)


def _client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


# ------------------------------------------------------------------------ one state builder


def test_api_page_and_socket_show_the_same_state_and_no_running_count(ns: Any) -> None:
    arrive_all(ns)
    floor(ns, 0)
    act(ns, 0, "move", kind="main", text="在3号楼与4号楼间加装空调滴水管套管")
    act(ns, "chair", "state_question")
    act(ns, "chair", "call_vote", method="show_of_hands")  # an open vote, not a secret one
    act(ns, 1, "cast_vote", choice="aye")
    meeting = Meeting.objects.get(pk=ns.meeting.pk)
    api = _client(ns.users[2]).get(f"/api/v1/councils/meetings/{meeting.pk}").json()
    viewer = viewer_for(meeting, ns.users[2])
    version, public, per = snapshot(meeting.pk, [viewer])
    strip = lambda s: {k: v for k, v in s.items() if k != "server_now"}  # noqa: E731
    assert api["version"] == version and strip(api["state"]) == strip(public) and api["you"] == per[viewer.key]
    ballot = api["state"]["ballot"]
    # How many have voted, never how: a running split sways those who have not voted yet.
    assert ballot["voted"] == 1 and not {"ayes", "noes", "counts"} & set(ballot)


def test_roles_one_rule_for_console_recording_and_minutes(ns: Any) -> None:
    meeting = Meeting.objects.get(pk=ns.meeting.pk)
    assert actions.meeting_roles(meeting, ns.mod_user) == {"chair"}
    assert actions.meeting_roles(meeting, ns.secretary) == {"secretary"}
    assert actions.meeting_roles(meeting, ns.users[0]) == frozenset()
    assert actions.runs_meeting(meeting, ns.secretary) and not actions.runs_meeting(meeting, ns.users[0])


# -------------------------------------------------------------------------------- staleness


def test_a_phone_opened_before_the_start_gets_its_buttons_when_the_meeting_opens(
        place_tree: Any, make_user: Callable[..., Any]) -> None:
    ns = build_council(place_tree, make_user, n=3, start=False)
    meeting = Meeting.objects.get(pk=ns.meeting.pk)
    phone = viewer_for(meeting, ns.users[0])  # the socket's viewer, fixed when it connected
    console = viewer_for(meeting, ns.secretary)
    assert phone.member is None
    _v, public, per = snapshot(meeting.pk, [phone, console])
    assert public["session"] == "not_started" and per[phone.key]["legal"] == []
    actions.do_start_meeting(meeting, actor=ns.mod_user)
    # The same (old) viewer objects: the hub's next push carries who they are now.
    _v, public, per = snapshot(meeting.pk, [phone, console])
    assert public["session"] == "in_session"
    assert per[phone.key]["member"] == ns.ids[0] and "arrive" in per[phone.key]["legal"]
    assert per[console.key]["moderator"] is True


def test_member_page_before_the_start_says_it_has_not_started(place_tree: Any, make_user: Callable[..., Any]) -> None:
    ns = build_council(place_tree, make_user, n=3, start=False)
    html = _client(ns.users[0]).get(f"/councils/meetings/{ns.meeting.pk}/").content.decode()
    assert "会议尚未开始" in html and "你不是本次会议的表决成员" not in html
    assert "0 / 0" not in html and "会议开始后签到" in html
    console = _client(ns.mod_user).get(f"/councils/meetings/{ns.meeting.pk}/console/").content.decode()
    # The minutes block is in the page, hidden until the live state says adjourned (room.js).
    assert re.search(r'data-room-show="adjourned" hidden', console)


# ----------------------------------------------------------------------------------- agenda


def test_agenda_current_item_and_a_motion_off_the_agenda_gets_a_comment(ns: Any) -> None:
    arrive_all(ns)
    state = state_message(ns.meeting, ns.users[0])["state"]
    assert [i["title"] for i in state["agenda"]["items"]] == ["加装空调滴水管套管整改项目", "东益汽车广场污染处置"]
    assert state["agenda"]["current"] == 0
    floor(ns, 0)
    act(ns, 0, "move", kind="main", text="举办社区篮球比赛")
    top = state_message(ns.meeting, ns.users[0])["state"]["stack"][0]
    assert top["off_agenda"] is True
    act(ns, 0, "withdraw")
    floor(ns, 1)
    act(ns, 1, "move", kind="main", text="在3号楼与4号楼间加装空调滴水管套管")
    assert state_message(ns.meeting, ns.users[0])["state"]["stack"][0]["off_agenda"] is False
    act(ns, "chair", "state_question")
    act(ns, "chair", "call_vote", method="show_of_hands")
    for i in range(4):
        act(ns, i, "cast_vote", choice="aye")
    act(ns, "chair", "announce_result")
    message = state_message(ns.meeting, ns.users[0])
    state = message["state"]
    # The item was dealt with; it stays before the meeting until the chair takes up the next.
    assert state["agenda"]["current"] == 0 and state["agenda"]["dealt"] is True and state["agenda"]["next"] == 1
    assert state["result"]["mover"] == ns.ids[1]  # the projector shows who moved it
    assert "take_up_item:2" in state_message(ns.meeting, ns.chair_user)["you"]["legal"]
    act(ns, "chair", "take_up_item", item=2)
    agenda = state_message(ns.meeting, ns.users[0])["state"]["agenda"]
    assert agenda["current"] == 1 and agenda["dealt"] is False and agenda["next"] is None


def test_projector_is_a_bare_screen(ns: Any) -> None:
    html = _client(ns.users[0]).get(f"/councils/meetings/{ns.meeting.pk}/projector/").content.decode()
    assert "site-header" not in html and "data-code=" not in html and "data-room-agenda" in html


# ---------------------------------------------------------------------------------- minutes


def test_minutes_link_never_404s_and_generates_for_those_who_may(ns: Any) -> None:
    url = f"/councils/meetings/{ns.meeting.pk}/minutes/"
    r = _client(ns.users[0]).get(url)
    assert r.status_code == 200 and "会议尚未结束" in r.content.decode()
    run_meeting(ns)
    r = _client(ns.users[0]).get(url)
    assert r.status_code == 200 and "尚未生成" in r.content.decode() and 'value="generate"' not in r.content.decode()
    moderator = _client(ns.mod_user)
    assert 'value="generate"' in moderator.get(url).content.decode()
    assert moderator.post(url, {"op": "generate"}).status_code == 302
    assert Minutes.objects.filter(meeting=ns.meeting).exists()


def test_approval_buttons_are_exactly_what_the_server_accepts(ns: Any) -> None:
    run_meeting(ns)
    minutes = actions.do_generate_minutes(Meeting.objects.get(pk=ns.meeting.pk), actor=ns.mod_user)
    url = f"/councils/meetings/{ns.meeting.pk}/minutes/"
    html = _client(ns.mod_user).get(url).content.decode()
    assert 'value="chair"' in html and 'value="secretary"' not in html
    with pytest.raises(actions.NotAllowed):
        actions.do_approve_minutes(minutes, actor=ns.mod_user, as_role="secretary")
    html = _client(ns.secretary).get(url).content.decode()
    assert 'value="secretary"' in html and 'value="chair"' not in html
    assert 'name="as_role"' not in _client(ns.users[0]).get(url).content.decode()


def test_minutes_read_in_words_and_in_three_languages(ns: Any) -> None:
    run_meeting(ns)
    minutes = actions.do_generate_minutes(Meeting.objects.get(pk=ns.meeting.pk), actor=ns.mod_user)
    text = str(minutes_outline(minutes))
    assert ns.profile.key not in text and ns.profile.name in text  # the rules' name, not their key
    assert not re.search(r"\bm\d+\b", text) and "主动议：" in text  # no engine ids (m13)
    with translation.override("en"):
        en = str(minutes_outline(minutes))
    assert "Main motion" in en and "Attendance" in en
    with translation.override("zh-hant"):
        assert "出席情況" in str(minutes_outline(minutes))


def test_public_index_lists_published_minutes_only(ns: Any) -> None:
    run_meeting(ns)
    minutes = actions.do_generate_minutes(Meeting.objects.get(pk=ns.meeting.pk), actor=ns.mod_user)
    anonymous = Client()
    assert ns.meeting.title not in anonymous.get("/councils/minutes/").content.decode()
    actions.do_approve_minutes(minutes, actor=ns.mod_user, as_role="chair")
    actions.do_approve_minutes(Minutes.objects.get(pk=minutes.pk), actor=ns.secretary, as_role="secretary")
    r = anonymous.get("/councils/minutes/")
    assert r.status_code == 200 and ns.meeting.title in r.content.decode()
    page = anonymous.get(f"/councils/minutes/{ns.meeting.pk}/").content.decode()
    assert "minutes-approval" in page and "minutes-digest" in page


# ---------------------------------------------------------------------------------- notices


def test_notice_is_queued_to_members_phones_through_the_outbox(place_tree: Any, make_user: Callable[..., Any]) -> None:
    from gongzhi.accounts.actions import do_set_phone, send_outbox
    from gongzhi.accounts.models import OutboxMessage
    from gongzhi.core.models import AuditEvent
    from gongzhi.core.tests.actors import SYSTEM

    ns = build_council(place_tree, make_user, n=3, start=False)
    do_set_phone(ns.users[0], "13912345678", actor=SYSTEM)
    before = OutboxMessage.objects.count()
    actions.do_send_notice(Meeting.objects.get(pk=ns.meeting.pk), actor=SYSTEM)
    assert OutboxMessage.objects.count() == before + 1
    note = OutboxMessage.objects.latest("id")
    assert "13912345678" not in note.recipient and ns.meeting.title in note.subject
    audit = AuditEvent.objects.filter(verb="council.meeting.notice").latest("id")
    assert audit.after["messaged"] == [ns.members[0].pk] and len(audit.after["recipients"]) == 3
    assert send_outbox() >= 1 and OutboxMessage.objects.get(pk=note.pk).sent_at is not None


# ------------------------------------------------------------------------------ ballot box


def test_tellers_enter_a_counted_paper_box_and_the_result_comes_from_the_totals(ns: Any) -> None:
    arrive_all(ns)
    floor(ns, 0)
    act(ns, 0, "move", kind="main", text="在3号楼与4号楼间加装空调滴水管套管")
    act(ns, "chair", "state_question")
    act(ns, "chair", "call_vote", method="secret_ballot")
    act(ns, 0, "cast_vote", choice="aye")  # one member votes on a phone, four put paper in the box
    meeting = Meeting.objects.get(pk=ns.meeting.pk)
    with pytest.raises(actions.NotAllowed):
        actions.do_record_ballot_box(meeting, ayes=1, noes=3, actor=ns.users[1])
    version = meeting.version
    with pytest.raises(actions.CouncilError) as info:
        actions.do_record_ballot_box(meeting, ayes=1, noes=1, actor=ns.secretary)
    assert "4" in info.value.message and Meeting.objects.get(pk=meeting.pk).version == version  # nothing stored
    url = f"/councils/meetings/{meeting.pk}/console/"
    secretary = _client(ns.secretary)
    assert 'data-room-box hidden' not in secretary.get(url).content.decode()
    assert secretary.post(url, {"op": "box", "ayes": "2", "noes": "2", "abstentions": "0"}).status_code == 302
    assert Meeting.objects.get(pk=meeting.pk).version == version + 4
    act(ns, "chair", "announce_result")
    result = state_message(Meeting.objects.get(pk=meeting.pk), ns.users[0])["state"]["result"]
    assert (result["ayes"], result["noes"]) == (3, 2) and result["roll"] == []
    with pytest.raises(actions.CouncilError):  # no secret ballot open any more
        actions.do_record_ballot_box(Meeting.objects.get(pk=meeting.pk), ayes=0, noes=0, actor=ns.secretary)
