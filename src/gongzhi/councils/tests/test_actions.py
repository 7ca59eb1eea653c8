"""The write path of the meeting room: ``do_apply_meeting_action`` and friends."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from gongzhi.core.models import AuditEvent
from gongzhi.core.tests.actors import SYSTEM as TEST_SYSTEM
from gongzhi.councils import actions, engine
from gongzhi.councils.actions import ActionRefused, StaleAction
from gongzhi.councils.models import BallotBox, Meeting, MeetingEvent
from gongzhi.councils.room import state_message
from gongzhi.councils.tests.helpers import act, arrive_all, build_council, floor, run_meeting

pytestmark = pytest.mark.django_db


@pytest.fixture
def room(place_tree: Any, make_user: Callable[..., Any]) -> Any:
    return build_council(place_tree, make_user)


@contextmanager
def nothing_stored(meeting: Meeting) -> Iterator[None]:
    events, audits = MeetingEvent.objects.count(), AuditEvent.objects.count()
    version = Meeting.objects.get(pk=meeting.pk).version
    yield
    assert MeetingEvent.objects.count() == events
    assert AuditEvent.objects.count() == audits
    assert Meeting.objects.get(pk=meeting.pk).version == version


def refused(ns: Any, who: Any, type_: str, rule: str, **fields: Any) -> ActionRefused:
    with nothing_stored(ns.meeting), pytest.raises(ActionRefused) as info:
        act(ns, who, type_, **fields)
    assert info.value.rule == rule, info.value.message
    assert info.value.message_zh and info.value.message_en
    return info.value


def test_start_freezes_roster_and_profile_and_calls_to_order(room: Any) -> None:
    m = Meeting.objects.get(pk=room.meeting.pk)
    assert m.status == "in_session" and m.version == 1
    assert [r["id"] for r in m.roster] == [room.chair_id, *room.ids]
    assert m.roster[0]["voting"] is False
    assert m.profile_snapshot["stance_required"] is True and m.profile_snapshot["name"] == room.profile.key
    first = MeetingEvent.objects.get(meeting=m, seq=1)
    assert first.kind == "CallToOrder" and first.payload["actor"] == room.chair_id
    assert AuditEvent.objects.filter(verb="council.meeting.start", object_id=str(m.pk)).exists()


def test_legal_action_is_stored_with_seq_and_version(room: Any) -> None:
    arrive_all(room)
    floor(room, 0)
    before = AuditEvent.objects.filter(verb="council.meeting.motion").count()
    result = act(room, 0, "move", kind="main", text="加装空调滴水管套管")
    ev = MeetingEvent.objects.get(meeting=room.meeting, seq=result.version)
    assert ev.kind == "Move" and ev.payload["text"] == "加装空调滴水管套管"
    assert ev.actor == room.users[0] and ev.recorded_by is None
    assert Meeting.objects.get(pk=room.meeting.pk).version == result.version
    assert result.outcomes[0]["type"] == "MotionMade"
    state = state_message(room.meeting, room.users[0])
    assert state["version"] == result.version
    assert state["state"]["stack"][0]["mover"] == room.ids[0]
    assert AuditEvent.objects.filter(verb="council.meeting.motion").count() == before + 1
    # The moderator's console shows only legal actions: stating the question is one, voting is not.
    chair_state = state_message(Meeting.objects.get(pk=room.meeting.pk), room.chair_user)
    assert "state_question" in chair_state["you"]["legal"]
    assert not any(c.startswith("cast_vote") for c in chair_state["you"]["legal"])


def test_out_of_order_motion_is_refused(room: Any) -> None:
    arrive_all(room)
    floor(room, 0)
    act(room, 0, "move", kind="main", text="动议一")
    act(room, "chair", "state_question")
    floor(room, 1, "pro")
    refused(room, 1, "move", "precedence", kind="main", text="另一个主动议")


def test_speaking_without_the_floor_is_refused(room: Any) -> None:
    arrive_all(room)
    floor(room, 0)
    act(room, 0, "move", kind="main", text="动议一")
    act(room, "chair", "state_question")
    refused(room, 2, "speak", "no_floor", stance="pro")


def test_third_speech_is_refused(room: Any) -> None:
    arrive_all(room)
    floor(room, 0)
    act(room, 0, "move", kind="main", text="动议一")
    act(room, "chair", "state_question")
    for _ in range(2):
        floor(room, 0, "pro")
        act(room, 0, "speak")
        act(room, 0, "yield_floor")
    floor(room, 0, "pro")
    refused(room, 0, "speak", "speech_limit")


def test_the_chair_may_not_debate(room: Any) -> None:
    arrive_all(room)
    floor(room, 0)
    act(room, 0, "move", kind="main", text="动议一")
    act(room, "chair", "state_question")
    refused(room, "chair", "request_floor", "chair_debating", stance="con")


def test_voting_twice_and_by_a_non_member_are_refused(room: Any, make_user: Any) -> None:
    arrive_all(room)
    floor(room, 0)
    act(room, 0, "move", kind="main", text="动议一")
    act(room, "chair", "state_question")
    act(room, "chair", "call_vote")
    act(room, 3, "cast_vote", choice="aye")
    refused(room, 3, "cast_vote", "double_vote", choice="no")
    # The moderator chairs but is not a member: no vote.
    refused(room, "chair", "cast_vote", "not_member", choice="aye")
    # Someone who is not on the roster at all.
    outsider = make_user("council_member", room.place)
    with nothing_stored(room.meeting), pytest.raises(ActionRefused) as info:
        actions.do_apply_meeting_action(Meeting.objects.get(pk=room.meeting.pk),
                                        {"type": "cast_vote", "choice": "aye"}, actor=outsider)
    assert info.value.rule == "not_member"


def test_vote_without_quorum_is_refused(room: Any) -> None:
    arrive_all(room, 3)  # 3 of 7: quorum is 4
    floor(room, 0)
    act(room, 0, "move", kind="main", text="动议一")
    act(room, "chair", "state_question")
    err = refused(room, "chair", "call_vote", "no_quorum")
    assert "3" in err.message_zh and "4" in err.message_zh


def test_malformed_action_is_refused_as_invalid(room: Any) -> None:
    refused(room, 0, "teleport", "invalid")
    arrive_all(room)
    refused(room, 0, "request_floor", "invalid", stance="sideways")
    refused(room, 0, "request_floor", "invalid", actor="99")


def test_stale_version_is_refused_with_current_version(room: Any) -> None:
    m = Meeting.objects.get(pk=room.meeting.pk)
    with nothing_stored(m), pytest.raises(StaleAction) as info:
        actions.do_apply_meeting_action(m, {"type": "arrive"}, actor=room.users[0], expected_version=0)
    assert info.value.current_version == 1
    result = actions.do_apply_meeting_action(m, {"type": "arrive"}, actor=room.users[0], expected_version=1)
    assert result.version == 2


def _strip(state: dict[str, Any]) -> dict[str, Any]:
    return {**state, "state": {k: v for k, v in state["state"].items() if k != "server_now"}}


def test_replay_after_restart_gives_the_same_state(room: Any) -> None:
    arrive_all(room)
    floor(room, 0)
    act(room, 0, "move", kind="main", text="动议一")
    act(room, "chair", "state_question")
    floor(room, 0, "pro")
    act(room, 0, "speak")
    m = Meeting.objects.get(pk=room.meeting.pk)
    before = _strip(state_message(m, room.chair_user))
    engine.forget()  # the process restarts mid-meeting
    assert engine.cached(m.pk) is None
    after = _strip(state_message(m, room.chair_user))
    assert after == before
    # and the meeting goes on from the rebuilt state
    act(room, 0, "yield_floor")
    assert state_message(m, room.users[0])["state"]["floor"] is None


def test_cache_behind_the_row_is_rebuilt(room: Any) -> None:
    """Another process wrote: our cached engine is at an older version and must not be used."""
    arrive_all(room, 2)
    m = Meeting.objects.get(pk=room.meeting.pk)
    stale = engine.rebuild(m, upto=2)
    engine.remember(m.pk, stale)
    state = state_message(m, room.secretary)
    assert state["version"] == m.version == 3
    assert state["state"]["quorum"]["present_members"] == 2


def test_in_person_moderator_records_for_a_member(place_tree: Any, make_user: Any) -> None:
    ns = build_council(place_tree, make_user, in_person=True)
    m = Meeting.objects.get(pk=ns.meeting.pk)
    for mid in ns.ids:
        actions.do_record_attendance(m, mid, actor=ns.mod_user)
    r = actions.do_apply_meeting_action(m, {"type": "request_floor"}, actor=ns.mod_user, on_behalf_of=ns.ids[2])
    ev = MeetingEvent.objects.get(meeting=m, seq=r.version)
    assert ev.payload["actor"] == ns.ids[2]
    assert ev.actor == ns.users[2] and ev.recorded_by == ns.mod_user
    # A member cannot record for another member.
    with pytest.raises(ActionRefused) as info:
        actions.do_apply_meeting_action(m, {"type": "request_floor"}, actor=ns.users[0], on_behalf_of=ns.ids[3])
    assert info.value.rule == "not_chair"


def test_recording_for_others_needs_in_person_mode(room: Any) -> None:
    m = Meeting.objects.get(pk=room.meeting.pk)
    # Attendance at the door is fine in any mode ...
    actions.do_record_attendance(m, room.ids[0], actor=room.mod_user)
    # ... but nothing else.
    with pytest.raises(ActionRefused) as info:
        actions.do_apply_meeting_action(m, {"type": "request_floor"}, actor=room.mod_user, on_behalf_of=room.ids[0])
    assert info.value.rule == "not_in_person"


def test_weighted_shareholder_vote_counts_shares(place_tree: Any, make_user: Any) -> None:
    ns = build_council(place_tree, make_user, n=3, weighted=True, weights=[60, 25, 15])
    arrive_all(ns)
    quorum = state_message(Meeting.objects.get(pk=ns.meeting.pk), ns.secretary)["state"]["quorum"]
    assert (quorum["needed"], quorum["present"], quorum["membership"], quorum["has"]) == (51, 100, 100, True)
    floor(ns, 0)
    act(ns, 0, "move", kind="main", text="出租集体物业")
    act(ns, "chair", "state_question")
    act(ns, "chair", "call_vote", method="roll_call")
    act(ns, 0, "cast_vote", choice="aye")
    act(ns, 1, "cast_vote", choice="no")
    act(ns, 2, "cast_vote", choice="no")
    act(ns, "chair", "announce_result")
    result = state_message(Meeting.objects.get(pk=ns.meeting.pk), ns.secretary)["state"]["result"]
    assert result["status"] == "adopted"  # 60 shares against 40, though one head against two
    assert (result["ayes"], result["noes"]) == (1, 2)
    assert (result["ayes_weight"], result["noes_weight"]) == (60, 40)
    assert sorted(result["roll"]) == sorted([[ns.ids[0], "aye"], [ns.ids[1], "no"], [ns.ids[2], "no"]])


def test_weights_only_in_weighted_councils(room: Any) -> None:
    with pytest.raises(actions.CouncilError) as info:
        actions.do_add_member(room.council, "某人", actor=TEST_SYSTEM, weight=5)
    assert info.value.field == "weight"


def test_secret_ballot_keeps_choices_out_of_storage_audit_and_state(room: Any) -> None:
    arrive_all(room)
    floor(room, 0)
    act(room, 0, "move", kind="main", text="动议一")
    act(room, "chair", "state_question")
    act(room, "chair", "call_vote", method="secret_ballot")
    r = act(room, 2, "cast_vote", choice="no")
    ev = MeetingEvent.objects.get(meeting=room.meeting, seq=r.version)
    # Stored as paper works: the roll entry has no choice; the box has the slip, naming nobody.
    assert ev.payload.get("choice") is None and "choice_sealed" not in ev.payload
    assert BallotBox.objects.get(meeting=room.meeting, open=True).slips == [["no", 1]]
    audit = AuditEvent.objects.filter(verb="council.meeting.vote").latest("id")
    assert "choice" not in audit.after and audit.after["secret"] is True
    ballot = state_message(Meeting.objects.get(pk=room.meeting.pk), room.secretary)["state"]["ballot"]
    assert (ballot["voted"], ballot["present"]) == (1, 7) and "ayes" not in ballot and "voters" not in ballot
    act(room, 3, "cast_vote", choice="aye")
    act(room, 4, "cast_vote", choice="aye")
    act(room, "chair", "announce_result")
    last = state_message(Meeting.objects.get(pk=room.meeting.pk), room.secretary)["state"]["result"]
    assert last["roll"] == [] and (last["ayes"], last["noes"]) == (2, 1)
    # Replay reads the opened box from the result event and agrees.
    engine.forget()
    assert state_message(Meeting.objects.get(pk=room.meeting.pk), room.secretary)["state"]["result"]["status"] == "adopted"


def test_full_meeting_adjourns_and_audits_results(room: Any) -> None:
    run_meeting(room)
    m = Meeting.objects.get(pk=room.meeting.pk)
    assert m.status == "adjourned"
    assert AuditEvent.objects.filter(verb="council.meeting.result", object_id=str(m.pk)).count() == 1
    assert AuditEvent.objects.filter(verb="council.meeting.adjourn", object_id=str(m.pk)).count() == 1
    with pytest.raises(ActionRefused) as info:
        act(room, 0, "arrive")
    assert info.value.rule == "not_in_session"


def test_council_chair_presides_without_a_moderator(place_tree: Any, make_user: Any) -> None:
    ns = build_council(place_tree, make_user, moderator=False)
    m = Meeting.objects.get(pk=ns.meeting.pk)
    assert m.roster[0]["id"] == ns.ids[0] and ns.chair_id == ns.ids[0]
    state = state_message(m, ns.users[0])["state"]
    assert state["chair"] == ns.ids[0] and state["quorum"]["present_members"] == 1


def test_only_the_presiding_side_may_start(place_tree: Any, make_user: Any) -> None:
    ns = build_council(place_tree, make_user, start=False)
    with pytest.raises(actions.NotAllowed):
        actions.do_start_meeting(ns.meeting, actor=ns.users[3])
    actions.do_start_meeting(ns.meeting, actor=ns.mod_user)
    with pytest.raises(actions.CouncilError):
        actions.do_start_meeting(ns.meeting, actor=ns.mod_user)


def test_notice_records_recipients(place_tree: Any, make_user: Any) -> None:
    ns = build_council(place_tree, make_user, start=False)
    actions.do_send_notice(ns.meeting, actor=ns.secretary)
    m = Meeting.objects.get(pk=ns.meeting.pk)
    assert m.status == "noticed" and m.notice_sent_at is not None
    ev = AuditEvent.objects.get(verb="council.meeting.notice")
    assert sorted(ev.after["recipients"]) == sorted(mm.pk for mm in ns.members)


def test_moderator_register_and_complaints(room: Any) -> None:
    from gongzhi.councils.queries import moderator_register

    c = actions.do_file_neutrality_complaint(room.mod, "主持人总结了发言", actor=room.users[1], meeting=room.meeting)
    with pytest.raises(actions.NotAllowed):
        actions.do_resolve_complaint(c, "upheld", "属实", actor=room.users[2])
    actions.do_resolve_complaint(c, "dismissed", "经查看记录，主持人未发表意见", actor=room.secretary)
    records = moderator_register(room.secretary)
    assert [r.moderator for r in records] == [room.mod]
    assert records[0].complaints[0].status == "dismissed" and records[0].meetings == 1


def test_uncertified_moderator_cannot_be_assigned(room: Any, make_user: Any) -> None:
    user = make_user("council_moderator", room.place)
    mod = actions.do_register_moderator(user, room.place, actor=TEST_SYSTEM, training_hours=8)
    with pytest.raises(actions.CouncilError) as info:
        actions.do_assign_moderator(mod, room.council, actor=TEST_SYSTEM)
    assert info.value.field == "moderator"


def test_a_personal_number_typed_into_a_motion_is_masked_before_it_is_stored(room: Any) -> None:
    """A member pastes an ID number and a mobile number into a motion: the event, the state the
    room and the API show, and so the minutes, carry them masked (found by the authorization
    matrix's helper: an auditor read them in full)."""
    arrive_all(room)
    floor(room, 0)
    text = "请为11010519491231002X家庭加装扶手，联系人电话13912345678"
    result = act(room, 0, "move", kind="main", text=text)
    ev = MeetingEvent.objects.get(meeting=room.meeting, seq=result.version)
    stored = ev.payload["text"]
    assert "11010519491231002X" not in stored and "13912345678" not in stored
    assert "请为" in stored and "家庭加装扶手" in stored
    shown = str(state_message(room.meeting, room.users[1]))
    assert "11010519491231002X" not in shown and "13912345678" not in shown
