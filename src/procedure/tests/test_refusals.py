"""Every refusal names the rule it enforces and leaves the meeting exactly as it was."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from procedure import (
    RONR,
    AnnounceResult,
    Arrive,
    CallToOrder,
    CallVote,
    CastVote,
    ChairRuling,
    DebateError,
    DeclareAdjourned,
    HandOverChair,
    InvalidAction,
    Leave,
    MotionKind,
    Move,
    NoSecond,
    NotEntitled,
    NotSeconded,
    OutOfOrder,
    Recognize,
    RequestFloor,
    Second,
    Speak,
    StaleVersion,
    StateQuestion,
    VoteChoice,
    VotingError,
    Withdraw,
    YieldFloor,
)
from procedure.tests.helpers import CHAIR, Room

K = MotionKind


def test_out_of_order_motion() -> None:
    room = Room()
    room.main()
    room.move(K.PREVIOUS_QUESTION, by="c", second="d")
    room.floor("e")
    error = room.refused(Move, "e", "precedence", OutOfOrder, kind=K.COMMIT, text="to the finance group")
    assert "commit or refer" in error.message_en and "付委" in error.message_zh
    assert "previous question" in error.message_en and "停止辩论立即表决" in error.message_zh


def test_second_main_motion_while_one_is_pending() -> None:
    room = Room()
    room.main()
    room.floor("c")
    room.refused(Move, "c", "precedence", OutOfOrder, kind=K.MAIN, text="another")


def test_subsidiary_motion_with_nothing_pending() -> None:
    room = Room()
    room.floor("c")
    room.refused(Move, "c", "nothing_pending", OutOfOrder, kind=K.POSTPONE_INDEFINITELY)


def test_speaking_without_the_floor() -> None:
    room = Room()
    room.main()
    room.refused(Speak, "c", "no_floor", DebateError)
    room.push(RequestFloor, "c")
    room.refused(Speak, "c", "no_floor", DebateError)  # asked, but not yet recognised


def test_motion_without_the_floor() -> None:
    room = Room()
    room.main()
    room.refused(Move, "c", "no_floor", DebateError, kind=K.AMEND, text="changed")


def test_third_speech() -> None:
    room = Room()
    room.main()
    room.speak("c")
    room.speak("c")
    room.floor("c")
    error = room.refused(Speak, "c", "speech_limit", DebateError)
    assert "2" in error.message_en and "2" in error.message_zh


def test_chair_debating() -> None:
    room = Room()
    room.main()
    room.refused(Speak, CHAIR, "chair_debating", DebateError)
    room.refused(RequestFloor, CHAIR, "chair_debating", DebateError)
    room.refused(Move, CHAIR, "chair_debating", DebateError, kind=K.AMEND, text="changed")
    room.refused(Second, CHAIR, "chair_debating", DebateError)


def test_chair_who_is_a_member_must_hand_over_to_speak_and_may_not_return_early() -> None:
    room = Room(chair="a")
    main = room.main(by="b", second="c")
    room.refused(RequestFloor, "a", "chair_debating", DebateError)
    room.push(HandOverChair, "a", to="d")
    room.floor("a")
    room.push(Speak, "a")
    room.push(YieldFloor, "a")
    room.refused(HandOverChair, "d", "chair_debated", OutOfOrder, to="a")
    room.vote(ayes=["a", "b", "c"], noes=["e"])
    assert main not in room.m.stack
    room.push(HandOverChair, "d", to="a")
    assert room.m.chair == "a"


def test_voting_twice() -> None:
    room = Room()
    room.main()
    room.push(CallVote, CHAIR)
    room.push(CastVote, "c", choice=VoteChoice.AYE)
    room.refused(CastVote, "c", "double_vote", VotingError, choice=VoteChoice.NO)


def test_vote_by_a_non_member_or_an_absent_member() -> None:
    room = Room(present=["a", "b", "c", "d", "e"])
    room.main()
    room.push(CallVote, CHAIR)
    room.refused(CastVote, "stranger", "not_member", NotEntitled, choice=VoteChoice.AYE)
    room.refused(CastVote, CHAIR, "not_member", NotEntitled, choice=VoteChoice.AYE)
    room.refused(CastVote, "g", "not_present", NotEntitled, choice=VoteChoice.AYE)
    room.push(Arrive, "g")
    room.push(CastVote, "g", choice=VoteChoice.AYE)


def test_vote_without_quorum() -> None:
    room = Room(present=["a", "b", "c", "d"])
    room.main()
    room.push(Leave, "d")
    error = room.refused(CallVote, CHAIR, "no_quorum", VotingError)
    assert "3" in error.message_en and "4" in error.message_en


def test_reconsider_by_the_losing_side() -> None:
    room = Room()
    main = room.main()
    room.vote(ayes=["a", "b", "c", "d"], noes=["e", "f"])
    room.floor("e")
    room.refused(Move, "e", "reconsider_not_prevailing", NotEntitled, kind=K.RECONSIDER, target=main)
    room.push(YieldFloor, "e")
    room.floor("c")
    room.push(Move, "c", kind=K.RECONSIDER, target=main)


def test_stale_version() -> None:
    room = Room()
    seen = room.m.version
    room.main()
    error = room.refused(RequestFloor, "c", "stale_version", StaleVersion, expected_version=seen)
    assert str(room.m.version) in error.message_en
    room.push(RequestFloor, "c", expected_version=room.m.version)


def test_not_debatable_and_not_amendable() -> None:
    room = Room()
    room.main()
    room.move(K.PREVIOUS_QUESTION, by="c", second="d")
    room.floor("e")
    room.refused(Speak, "e", "not_debatable", DebateError)
    room.refused(Move, "e", "not_amendable", OutOfOrder, kind=K.AMEND, text="changed")


def test_not_seconded() -> None:
    room = Room()
    room.floor("a")
    room.push(Move, "a", kind=K.MAIN, text="motion")
    room.refused(StateQuestion, CHAIR, "not_seconded", NotSeconded)
    room.refused(Second, "a", "own_motion", InvalidAction)
    room.push(NoSecond, CHAIR)
    assert room.m.stack == []


def test_only_the_chair_runs_the_meeting() -> None:
    room = Room()
    room.main()
    for cls in (CallVote, StateQuestion, DeclareAdjourned, ChairRuling, AnnounceResult):
        kw = {"well_taken": True} if cls is ChairRuling else {}
        room.refused(cls, "c", "not_chair", NotEntitled, **kw)
    room.push(RequestFloor, "c")
    room.refused(Recognize, "d", "not_chair", NotEntitled, member="c")


def test_before_call_to_order_and_after_adjournment() -> None:
    room = Room(start=False)
    room.refused(RequestFloor, "a", "not_in_session", OutOfOrder)
    room.push(CallToOrder, CHAIR)
    room.refused(CallToOrder, CHAIR, "already_in_session", OutOfOrder)
    room.push(DeclareAdjourned, CHAIR)
    room.refused(RequestFloor, "a", "adjourned", OutOfOrder)
    room.refused(Arrive, "a", "adjourned", OutOfOrder)


def test_during_a_vote_only_votes() -> None:
    room = Room()
    room.main()
    room.push(CallVote, CHAIR)
    room.refused(RequestFloor, "c", "vote_in_progress", OutOfOrder)
    room.refused(Move, "c", "vote_in_progress", OutOfOrder, kind=K.POINT_OF_ORDER)


def test_timestamps_must_not_go_back_or_be_naive() -> None:
    room = Room()
    before = room.m.copy()
    with pytest.raises(InvalidAction) as info:
        room.m.push(RequestFloor(actor="a", at=room.t - timedelta(seconds=1)))
    assert info.value.rule == "clock" and room.m == before
    with pytest.raises(InvalidAction):
        room.m.push(RequestFloor(actor="a", at=datetime(2026, 3, 1, 10)))  # naive
    assert room.m == before


def test_withdraw_only_by_the_mover() -> None:
    room = Room()
    main = room.main()
    room.refused(Withdraw, "b", "not_mover", NotEntitled)
    room.move(K.AMEND, by="c", second="d", text="changed")
    room.refused(Withdraw, "a", "invalid_target", OutOfOrder, motion_id=main)


def test_recognize_someone_who_did_not_ask() -> None:
    room = Room()
    room.main()
    room.refused(Recognize, CHAIR, "not_requested", DebateError, member="c")
    room.floor("c")
    room.push(RequestFloor, "d")
    room.refused(Recognize, CHAIR, "floor_taken", DebateError, member="d")


def test_arrive_twice_and_leave_as_chair() -> None:
    room = Room(chair="a")
    room.refused(Arrive, "b", "already_present", InvalidAction)
    room.refused(Arrive, "stranger", "not_member", NotEntitled)
    room.refused(Leave, "a", "chair_leaving", NotEntitled)


def test_profile_default_is_ronr() -> None:
    assert Room().m.profile is RONR


def test_a_moderator_from_outside_gets_the_chair_back_after_the_question() -> None:
    room = Room()
    room.main()
    room.push(HandOverChair, CHAIR, to="g")
    room.refused(HandOverChair, "g", "chair_debated", OutOfOrder, to=CHAIR)
    room.refused(HandOverChair, "g", "not_member", NotEntitled, to="stranger")
    room.vote(ayes=["a", "b", "c", "d"], noes=["e"])
    room.push(HandOverChair, "g", to=CHAIR)
    assert room.m.chair == CHAIR and [c for c, _ in room.m.chair_history] == [CHAIR, "g", CHAIR]
