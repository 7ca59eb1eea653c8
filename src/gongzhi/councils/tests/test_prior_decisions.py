"""Decisions of earlier meetings are loaded into a meeting, so that they can be rescinded or
amended (RONR §35; issue 12)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from gongzhi.councils import actions, engine
from gongzhi.councils.models import Meeting
from gongzhi.councils.room import state_message
from gongzhi.councils.tests.helpers import SYSTEM, act, arrive_all, build_council, floor, run_meeting


def _next_meeting(ns: SimpleNamespace, title: str, hours: int) -> None:
    ns.meeting = actions.do_schedule_meeting(
        ns.council, title, ns.meeting.scheduled_at + timedelta(hours=hours), actor=SYSTEM, moderator=ns.mod,
    )
    actions.do_start_meeting(ns.meeting, actor=ns.chair_user)
    arrive_all(ns)


def _decided(ns: SimpleNamespace) -> dict[str, Any]:
    engine.forget()
    return engine.rebuild(Meeting.objects.get(pk=ns.meeting.pk)).decided


def _legal(ns: SimpleNamespace, index: int) -> list[str]:
    """What the member's phone offers (the room's one state builder)."""
    from gongzhi.councils import room

    engine.forget()
    live = engine.rebuild(Meeting.objects.get(pk=ns.meeting.pk))
    return room.legal_for(live, ns.ids[index])


def _bring_back(ns: SimpleNamespace, kind: str, target: str, text: str = "") -> str:
    floor(ns, 2)
    act(ns, 2, "move", kind=kind, target=target, **({"text": text} if text else {}))
    act(ns, "chair", "state_question")
    act(ns, "chair", "call_vote", method="show_of_hands")
    for i in range(5):
        act(ns, i, "cast_vote", choice="aye")
    act(ns, "chair", "announce_result")
    return str(state_message(Meeting.objects.get(pk=ns.meeting.pk), ns.secretary)["state"]["result"]["status"])


def test_a_decision_of_an_earlier_meeting_can_be_rescinded(place_tree: Any, make_user: Callable[..., Any]) -> None:
    ns = build_council(place_tree, make_user)
    first = ns.meeting
    run_meeting(ns, ayes=5, noes=0)  # adopted, adjourned
    (adopted,) = [d for d in _decided(ns).values() if d.adopted]
    target = engine.prior_decision_id(first.pk, adopted.motion_id)

    _next_meeting(ns, "第二次议事会", 24)
    prior = _decided(ns)[target]
    assert prior.adopted and not prior.this_meeting and not prior.rescinded
    floor(ns, 2)
    legal = _legal(ns, 2)
    assert f"move:rescind:{target}" in legal and f"move:amend_previously_adopted:{target}" in legal
    act(ns, 2, "yield_floor")
    assert _bring_back(ns, "rescind", target) == "adopted"
    assert _decided(ns)[target].rescinded
    act(ns, "chair", "declare_adjourned")

    # A third meeting sees it rescinded, and cannot rescind it again.
    _next_meeting(ns, "第三次议事会", 48)
    assert _decided(ns)[target].rescinded
    floor(ns, 2)
    legal = _legal(ns, 2)
    assert not any(code.startswith("move:rescind") for code in legal)


def test_a_decision_of_an_earlier_meeting_can_be_amended(place_tree: Any, make_user: Callable[..., Any]) -> None:
    ns = build_council(place_tree, make_user)
    first = ns.meeting
    run_meeting(ns, ayes=5, noes=0)
    (adopted,) = [d for d in _decided(ns).values() if d.adopted]
    target = engine.prior_decision_id(first.pk, adopted.motion_id)
    _next_meeting(ns, "第二次议事会", 24)
    assert _bring_back(ns, "amend_previously_adopted", target, "在3号楼加装空调滴水管套管，费用由业委会列支") == "adopted"
    assert _decided(ns)[target].text == "在3号楼加装空调滴水管套管，费用由业委会列支"


def test_the_agenda_is_frozen_at_the_start_and_keeps_motions_to_the_item(
    place_tree: Any, make_user: Callable[..., Any]
) -> None:
    ns = build_council(place_tree, make_user)
    m = Meeting.objects.get(pk=ns.meeting.pk)
    assert m.agenda_snapshot == ["加装空调滴水管套管整改项目", "东益汽车广场污染处置"]
    m.agenda.all().delete()  # a later edit of the agenda does not change the meeting
    arrive_all(ns)
    floor(ns, 0)
    with pytest.raises(actions.ActionRefused) as info:
        act(ns, 0, "move", kind="main", text="污染处置", item=2)
    assert info.value.rule == "off_agenda"
    act(ns, 0, "move", kind="main", text="套管整改", item=1)
    act(ns, "chair", "state_question")
    act(ns, 0, "withdraw")
    act(ns, "chair", "take_up_item", item=2)
    engine.forget()
    rebuilt = engine.rebuild(Meeting.objects.get(pk=m.pk))
    assert rebuilt.item == 2 and rebuilt.agenda == ("加装空调滴水管套管整改项目", "东益汽车广场污染处置")
