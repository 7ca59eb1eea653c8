"""The engine's issue-12 features as the room shows them: the agenda's current item from the
engine, amendment targets, earlier decisions by their words (room and minutes), quorum and a
voided vote, and the on-demand explanation of a greyed-out button (GET .../why-not)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.test import Client

from gongzhi.core.i18n import to_hant
from gongzhi.councils import actions, engine
from gongzhi.councils.minutes import minutes_outline
from gongzhi.councils.models import Meeting
from gongzhi.councils.room import state_message
from gongzhi.councils.tests.helpers import SYSTEM, act, arrive_all, build_council, floor, run_meeting


def _client(user: Any, language: str | None = None) -> Client:
    c = Client()
    c.force_login(user)
    if language:
        c.cookies["gongzhi_language"] = language
    return c


def _you(ns: Any, user: Any) -> dict[str, Any]:
    return dict(state_message(Meeting.objects.get(pk=ns.meeting.pk), user)["you"])


def _main_pending(ns: Any, text: str = "在3号楼与4号楼间加装空调滴水管套管") -> str:
    floor(ns, 0)
    act(ns, 0, "move", kind="main", text=text)
    act(ns, 1, "second")
    act(ns, "chair", "state_question")
    return str(state_message(Meeting.objects.get(pk=ns.meeting.pk), ns.users[0])["state"]["stack"][-1]["id"])


def test_an_amendment_names_its_motion_when_it_is_not_the_one_on_top(place_tree: Any,
                                                                     make_user: Callable[..., Any]) -> None:
    ns = build_council(place_tree, make_user, n=3, base="ronr")
    arrive_all(ns)
    main = _main_pending(ns)
    floor(ns, 2)
    assert "move:amend" in _you(ns, ns.users[2])["legal"]  # only the question on top: no choice to make
    act(ns, 2, "move", kind="postpone_indefinitely")
    act(ns, 0, "second")
    act(ns, "chair", "state_question")
    floor(ns, 1)
    you = _you(ns, ns.users[1])
    # Postpone indefinitely cannot be amended, the main motion under it can (RONR §12).
    assert f"move:amend:{main}" in you["legal"] and "move:amend" not in you["legal"]
    assert you["targets"][main] == "主动议「在3号楼与4号楼间加装空调滴水管套管」"
    act(ns, 1, "move", kind="amend", target=main, text="在3号楼与4号楼间加装空调滴水管套管，费用由业委会列支")
    top = state_message(Meeting.objects.get(pk=ns.meeting.pk), ns.users[0])["state"]["stack"][-1]
    assert top["kind"] == "amend" and top["target"] == main
    assert top["target_text"] == "在3号楼与4号楼间加装空调滴水管套管"


def test_a_vote_without_quorum_is_void_and_the_state_says_so(place_tree: Any, make_user: Callable[..., Any]) -> None:
    ns = build_council(place_tree, make_user, n=3, base="ronr")
    arrive_all(ns)
    _main_pending(ns)
    act(ns, "chair", "call_vote", method="show_of_hands")
    act(ns, 0, "cast_vote", choice="aye")
    act(ns, 1, "leave")
    act(ns, 2, "leave")
    state = state_message(Meeting.objects.get(pk=ns.meeting.pk), ns.users[0])["state"]
    assert state["quorum"]["has"] is False
    act(ns, "chair", "announce_result")
    state = state_message(Meeting.objects.get(pk=ns.meeting.pk), ns.users[0])["state"]
    assert state["result"]["void"] is True and state["stack"][-1]["status"] == "pending"
    # The minutes say the vote was void, not that the motion was lost.
    act(ns, 0, "withdraw")
    act(ns, "chair", "declare_adjourned")
    minutes = actions.do_generate_minutes(Meeting.objects.get(pk=ns.meeting.pk), actor=ns.chair_user)
    text = json.dumps(minutes_outline(minutes), ensure_ascii=False)
    assert "表决无效，未宣布结果" in text and "；未通过" not in text


def test_a_greyed_out_button_explains_itself_in_the_readers_language(place_tree: Any,
                                                                    make_user: Callable[..., Any]) -> None:
    ns = build_council(place_tree, make_user, n=3, base="ronr")
    arrive_all(ns)
    url = f"/api/v1/councils/meetings/{ns.meeting.pk}/why-not"
    zh = _client(ns.chair_user).get(url, {"code": "call_vote"}).json()
    assert zh["legal"] is False and zh["rule"] and zh["message"]
    en = _client(ns.chair_user, "en").get(url, {"code": "call_vote"}).json()
    hant = _client(ns.chair_user, "zh-hant").get(url, {"code": "call_vote"}).json()
    assert en["rule"] == zh["rule"] and en["message"] != zh["message"] and en["message"].isascii()
    assert hant["message"] == to_hant(zh["message"])
    # A live action says so; a member's own button is judged for that member.
    assert _client(ns.users[0]).get(url, {"code": "request_floor"}).json()["legal"] is True
    assert _client(ns.users[0]).get(url, {"code": "second"}).json()["legal"] is False
    assert _client(ns.users[0]).get(url, {"code": "cast_vote:aye"}).json()["legal"] is False
    assert _client(ns.users[0]).get(url, {"code": "move:amend"}).json()["legal"] is False
    # Bad codes are a 422 in words, nothing else.
    for bad in ("fly", "cast_vote:maybe", "move:nonsense", "move", "call_vote:x y"):
        r = _client(ns.users[0]).get(url, {"code": bad})
        assert r.status_code == 422, (bad, r.content)
    # Someone who may follow the meeting but take no part is told so.
    follower = _client(ns.secretary).get(url, {"code": "arrive"}).json()
    assert follower["legal"] is False and follower["rule"] == "not_member"


def test_the_chair_takes_up_the_next_item_and_its_button_says_which(place_tree: Any,
                                                                     make_user: Callable[..., Any]) -> None:
    ns = build_council(place_tree, make_user, n=3, base="ronr")
    arrive_all(ns)
    legal = _you(ns, ns.chair_user)["legal"]
    assert "take_up_item:2" in legal
    html = _client(ns.chair_user).get(f"/councils/meetings/{ns.meeting.pk}/console/").content.decode()
    assert 'data-code="take_up_item:2">进入下一项议程<' in html
    act(ns, "chair", "take_up_item", item=2)
    state = state_message(Meeting.objects.get(pk=ns.meeting.pk), ns.users[0])["state"]
    assert state["agenda"]["current"] == 1 and not any(
        c.startswith("take_up_item") for c in _you(ns, ns.chair_user)["legal"])


def test_earlier_decisions_are_offered_and_minuted_by_their_words(place_tree: Any,
                                                                  make_user: Callable[..., Any]) -> None:
    ns = build_council(place_tree, make_user)
    first = ns.meeting
    run_meeting(ns, ayes=5, noes=0)
    ns.meeting = actions.do_schedule_meeting(ns.council, "第二次议事会", first.scheduled_at + timedelta(hours=24),
                                             actor=SYSTEM, moderator=ns.mod)
    actions.do_start_meeting(ns.meeting, actor=ns.chair_user)
    arrive_all(ns)
    engine.forget()
    floor(ns, 2)
    you = _you(ns, ns.users[2])
    (code,) = [c for c in you["legal"] if c.startswith("move:rescind:")]
    target = code.split(":", 2)[2]
    label = you["targets"][target]
    assert "在3号楼与4号楼间加装空调滴水管套管" in label and "第一次议事会" in label and "mtg" not in label
    act(ns, 2, "move", kind="rescind", target=target, text="撤销")
    act(ns, "chair", "state_question")
    stack = state_message(Meeting.objects.get(pk=ns.meeting.pk), ns.users[0])["state"]["stack"]
    assert stack[-1]["target_text"] == "在3号楼与4号楼间加装空调滴水管套管"
    act(ns, "chair", "call_vote", method="show_of_hands")
    for i in range(7):
        act(ns, i, "cast_vote", choice="aye")
    act(ns, "chair", "announce_result")
    act(ns, "chair", "declare_adjourned")
    minutes = actions.do_generate_minutes(Meeting.objects.get(pk=ns.meeting.pk), actor=ns.chair_user)
    text = json.dumps(minutes_outline(minutes), ensure_ascii=False)
    assert "先前会议的决议「在3号楼与4号楼间加装空调滴水管套管」（第一次议事会" in text and "mtg" not in text
