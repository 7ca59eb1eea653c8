"""What each motion does when it is decided, and the incidental motions' own rules."""

from __future__ import annotations

from procedure import (
    AnnounceResult,
    CallToOrder,
    CallVote,
    CastVote,
    ChairRuling,
    Decision,
    DeclareAdjourned,
    MotionKind,
    MotionStatus,
    Move,
    OutOfOrder,
    RequestFloor,
    Session,
    Speak,
    Stance,
    VoteChoice,
    VoteMethod,
    VoteRecorded,
    Withdraw,
    YieldFloor,
    build_minutes,
)
from procedure.tests.helpers import CHAIR, Room

K, S = MotionKind, MotionStatus
ALL = ["a", "b", "c", "d", "e", "f", "g"]


def test_adopted_amendment_changes_the_main_motion() -> None:
    room = Room()
    main = room.main("在楼间加装空调冷凝水管")
    amendment = room.move(K.AMEND, by="c", second="d", text="在3号楼与4号楼间加装空调冷凝水管")
    assert room.vote(ayes=ALL[:4], noes=ALL[4:]).adopted
    assert room.m.motions[main].text == "在3号楼与4号楼间加装空调冷凝水管"
    assert room.m.motions[main].original_text == "在楼间加装空调冷凝水管"
    assert room.m.motions[main].amendments == [amendment] and room.m.stack == [main]


def test_lost_amendment_leaves_the_text() -> None:
    room = Room()
    main = room.main("original")
    room.move(K.AMEND, by="c", second="d", text="changed")
    room.vote(ayes=ALL[:2], noes=ALL[2:])
    assert room.m.motions[main].text == "original"


def test_postpone_and_commit_carry_the_main_motion_and_what_adheres() -> None:
    for kind, status in ((K.POSTPONE_TO_CERTAIN_TIME, S.POSTPONED), (K.COMMIT, S.COMMITTED)):
        room = Room()
        main = room.main()
        amendment = room.move(K.AMEND, by="c", second="d", text="changed")
        room.move(kind, by="e", second="f", text="下次会议")
        room.vote(ayes=ALL[:5], noes=ALL[5:])
        assert room.m.stack == []
        assert room.m.motions[main].status is status and room.m.motions[amendment].status is status
        assert room.m.motions[main].postponed_to == "下次会议"


def test_postpone_indefinitely_kills_and_its_failure_does_not() -> None:
    room = Room()
    main = room.main()
    room.move(K.POSTPONE_INDEFINITELY, by="c", second="d")
    room.vote(ayes=ALL[:3], noes=ALL[3:])
    assert room.m.stack == [main]
    room.move(K.POSTPONE_INDEFINITELY, by="e", second="f")
    room.vote(ayes=ALL[:5], noes=ALL[5:])
    assert room.m.stack == [] and room.m.motions[main].status is S.KILLED


def test_lay_on_the_table_and_take_from_the_table() -> None:
    room = Room()
    main = room.main()
    amendment = room.move(K.AMEND, by="c", second="d", text="changed")
    room.move(K.LAY_ON_THE_TABLE, by="e", second="f")
    room.vote(ayes=ALL[:5], noes=ALL[5:])
    assert room.m.stack == [] and room.m.table == {main: [main, amendment]}
    assert room.m.motions[main].status is S.TABLED
    room.floor("a")
    room.refused(Move, "a", "invalid_target", OutOfOrder, kind=K.TAKE_FROM_TABLE, target=amendment)
    room.push(YieldFloor, "a")
    room.move(K.TAKE_FROM_TABLE, by="a", second="b", target=main)
    room.vote(ayes=ALL[:5], noes=ALL[5:])
    assert room.m.stack == [main, amendment] and room.m.table == {}
    assert room.m.motions[amendment].status is S.PENDING


def test_previous_question_closes_debate_on_the_immediate_question_only() -> None:
    room = Room()
    main = room.main()
    amendment = room.move(K.AMEND, by="c", second="d", text="changed")
    room.move(K.PREVIOUS_QUESTION, by="e", second="f")
    room.vote(ayes=ALL[:5], noes=ALL[5:])
    assert room.m.motions[amendment].debate_closed and not room.m.motions[main].debate_closed
    room.floor("g")
    room.refused(Speak, "g", "debate_closed")
    room.refused(Move, "g", "debate_closed", kind=K.COMMIT, text="committee")
    room.push(YieldFloor, "g")
    room.push(RequestFloor, "g")
    room.push(CallVote, CHAIR)  # someone still wants to speak, but debate is closed


def test_previous_question_on_all_pending_questions() -> None:
    room = Room()
    main = room.main()
    amendment = room.move(K.AMEND, by="c", second="d", text="changed")
    room.move(K.PREVIOUS_QUESTION, by="e", second="f", scope_all=True)
    room.vote(ayes=ALL[:5], noes=ALL[5:])
    assert room.m.motions[amendment].debate_closed and room.m.motions[main].debate_closed


def test_limit_debate_binds_the_question_and_its_amendments() -> None:
    room = Room()
    main = room.main()
    room.floor("c")
    room.refused(Move, "c", "invalid", kind=K.LIMIT_DEBATE)  # says neither what nor how much
    room.push(YieldFloor, "c")
    room.move(K.LIMIT_DEBATE, by="c", second="d", speech_seconds=60, max_speeches=1)
    room.vote(ayes=ALL[:5], noes=ALL[5:])
    question = room.m.motions[main]
    assert (room.m.speech_limit_seconds(question), room.m.max_speeches(question)) == (60, 1)
    amendment = room.move(K.AMEND, by="e", second="f", text="changed")
    assert room.m.speech_limit_seconds(room.m.motions[amendment]) == 60
    room.speak("g", seconds=61)
    assert room.m.speeches[-1].overrun
    room.floor("g")
    room.refused(Speak, "g", "speech_limit")


def test_recess_and_resume() -> None:
    room = Room()
    main = room.main()
    room.move(K.RECESS, by="c", second="d", text="十分钟")
    room.vote(ayes=ALL[:5], noes=ALL[5:])
    assert room.m.session is Session.RECESS
    room.refused(RequestFloor, "a", "in_recess")
    room.refused(CallToOrder, "a", "not_chair")
    room.push(CallToOrder, CHAIR, advance=600)
    assert room.m.session.value == "in_session" and room.m.stack == [main]


def test_adjourn_leaves_unfinished_business_and_fix_time() -> None:
    room = Room()
    room.move(K.FIX_TIME_TO_ADJOURN, by="a", second="b", text="3月8日19:00")
    room.vote(ayes=ALL[:5], noes=ALL[5:])
    main = room.main()
    room.move(K.ADJOURN, by="c", second="d")
    room.vote(ayes=ALL[:5], noes=ALL[5:])
    assert room.m.session is Session.ADJOURNED
    minutes = build_minutes(room.m)
    assert minutes.unfinished == (main,) and minutes.adjourned_to == "3月8日19:00"
    assert all(span[-1][1] == room.m.adjourned_at for span in room.m.attendance.values())


def test_declare_adjourned_only_with_no_business_pending() -> None:
    room = Room()
    room.main()
    room.refused(DeclareAdjourned, CHAIR, "business_pending")


def test_question_of_privilege_and_orders_of_the_day_interrupt_and_are_ruled_on() -> None:
    for kind in (K.QUESTION_OF_PRIVILEGE, K.ORDERS_OF_THE_DAY):
        room = Room()
        main = room.main()
        room.floor("c")
        room.push(Speak, "c")
        privilege = room.move(kind, by="d", text="会场太吵")  # interrupts the speaker
        assert room.m.speeches[-1].interrupted and room.m.speeches_made("c", main) == 0
        assert room.m.motions[privilege].status is S.PENDING and room.m.floor is None
        room.refused(CallVote, CHAIR, "not_voted")
        room.push(ChairRuling, CHAIR, well_taken=True, text="请保持安静")
        assert room.m.stack == [main] and room.m.motions[privilege].well_taken


def test_point_of_order_ruling_and_appeal_tie_sustains() -> None:
    room = Room()
    room.main()
    room.refused(Move, "c", "no_ruling", kind=K.APPEAL)
    point = room.move(K.POINT_OF_ORDER, by="c", text="发言离题")
    room.refused(Move, "d", "precedence", kind=K.POINT_OF_ORDER)
    room.push(ChairRuling, CHAIR, well_taken=False, text="发言未离题")
    appeal = room.move(K.APPEAL, by="c", second="d")
    assert room.m.motions[appeal].target == point
    result = room.vote(ayes=["a", "b"], noes=["c", "d"])
    assert result.adopted and result.reason == "chair_sustained"
    assert room.m.motions[point].overruled is False
    minutes = build_minutes(room.m)
    assert minutes.rulings[0].appeals == (appeal,) and minutes.rulings[0].well_taken is False


def test_appeal_majority_overrules_and_must_be_immediate() -> None:
    room = Room()
    room.main()
    point = room.move(K.POINT_OF_ORDER, by="c")
    room.push(ChairRuling, CHAIR, well_taken=True)
    appeal = room.move(K.APPEAL, by="c", second="d")
    assert not room.vote(ayes=["a"], noes=["c", "d"]).adopted
    assert room.m.motions[point].overruled is True and room.m.motions[appeal].status is S.LOST
    room.move(K.POINT_OF_ORDER, by="c")
    room.push(ChairRuling, CHAIR, well_taken=True)
    room.push(RequestFloor, "e")  # other business intervenes
    room.refused(Move, "c", "no_ruling", kind=K.APPEAL)


def test_withdraw() -> None:
    room = Room()
    main = room.main()
    amendment = room.move(K.AMEND, by="c", second="d", text="changed")
    room.push(Withdraw, "c")
    assert room.m.motions[amendment].status is S.WITHDRAWN and room.m.stack == [main]
    room.push(Withdraw, "a", motion_id=main)
    assert room.m.stack == []


def test_division_of_the_question_takes_the_parts_in_turn() -> None:
    room = Room()
    main = room.main("装水管并粉刷外墙")
    room.move(K.DIVISION_OF_QUESTION, by="c", second="d", parts=("装水管", "粉刷外墙"))
    room.vote(ayes=ALL[:5], noes=ALL[5:])
    first, second = f"{main}.1", f"{main}.2"
    assert room.m.motions[main].status is S.DIVIDED
    assert room.m.stack == [first] and room.m.queue == [second]
    room.vote(ayes=ALL[:2], noes=ALL[2:])
    assert room.m.motions[first].status is S.LOST and room.m.stack == [second]
    room.vote(ayes=ALL[:5], noes=ALL[5:])
    assert room.m.motions[second].status is S.ADOPTED and room.m.stack == room.m.queue == []
    assert set(room.m.decided) == {first, second}


def test_division_of_the_assembly_retakes_a_show_of_hands_by_roll_call() -> None:
    room = Room()
    main = room.main()
    room.vote(ayes=ALL[:4], noes=ALL[4:])
    assert room.m.motions[main].status is S.ADOPTED
    room.push(Move, "e", kind=K.DIVISION_OF_ASSEMBLY)
    ballot = room.m.ballot
    assert ballot is not None and ballot.method is VoteMethod.ROLL_CALL and ballot.voters == []
    assert room.m.motions[main].status is S.VOTING and main not in room.m.decided
    for member in ALL[:3]:
        room.push(CastVote, member, choice=VoteChoice.AYE)
    for member in ALL[3:]:
        room.push(CastVote, member, choice=VoteChoice.NO)
    room.push(AnnounceResult, CHAIR)
    record = room.m.motions[main]
    assert record.status is S.LOST and [b.superseded for b in record.ballots] == [True, False]
    room.refused(Move, "e", "too_late", kind=K.DIVISION_OF_ASSEMBLY)  # a roll call is already counted


def test_division_of_the_assembly_too_late_after_other_business() -> None:
    room = Room()
    room.main()
    room.vote(ayes=ALL[:4], noes=ALL[4:])
    room.push(RequestFloor, "a")
    room.refused(Move, "e", "too_late", kind=K.DIVISION_OF_ASSEMBLY)


def test_objection_to_consideration() -> None:
    room = Room()
    main = room.main()
    room.move(K.OBJECTION_TO_CONSIDERATION, by="c")
    result = room.vote(ayes=["a"], noes=["c", "d"])  # two-thirds against consideration
    assert result.adopted and room.m.motions[main].status is S.NOT_CONSIDERED and room.m.stack == []
    main = room.main("another")
    room.speak("c")
    room.refused(Move, "d", "too_late", kind=K.OBJECTION_TO_CONSIDERATION)


def test_failed_objection_cannot_be_renewed() -> None:
    room = Room()
    room.main()
    room.move(K.OBJECTION_TO_CONSIDERATION, by="c")
    assert not room.vote(ayes=["a", "b"], noes=["c", "d"]).adopted
    room.refused(Move, "d", "too_late", kind=K.OBJECTION_TO_CONSIDERATION)


def test_suspend_the_rules_for_the_question_pending() -> None:
    room = Room()
    room.main()
    room.speak("c")
    room.speak("c")
    room.floor("c")
    room.refused(Speak, "c", "speech_limit")
    room.push(YieldFloor, "c")
    room.floor("d")
    room.refused(Move, "d", "invalid", kind=K.SUSPEND_RULES, rules=("precedence",))
    room.push(YieldFloor, "d")
    room.move(K.SUSPEND_RULES, by="d", second="e", rules=("speech_limit",))
    assert room.vote(ayes=ALL[:5], noes=ALL[5:]).adopted
    room.speak("c")  # a third speech, by leave of two-thirds
    room.vote(ayes=ALL[:5], noes=ALL[5:])
    assert room.m.suspended == frozenset()  # the suspension ends with the question


def test_reconsider_brings_the_question_back_once() -> None:
    room = Room()
    main = room.main()
    room.vote(ayes=ALL[:2], noes=ALL[2:])
    assert room.m.decided[main].prevailing == frozenset(ALL[2:])
    room.move(K.RECONSIDER, by="c", second="d", target=main)
    room.vote(ayes=ALL[:5], noes=ALL[5:])
    assert room.m.stack == [main] and room.m.motions[main].status is S.PENDING
    room.vote(ayes=ALL[:5], noes=ALL[5:])
    assert room.m.motions[main].status is S.ADOPTED
    room.floor("a")
    room.refused(Move, "a", "invalid_target", kind=K.RECONSIDER, target=main)


def test_reconsider_after_a_secret_ballot_any_voter_may_move() -> None:
    room = Room()
    main = room.main()
    room.vote(ayes=ALL[:2], noes=ALL[2:], method=VoteMethod.SECRET_BALLOT)
    assert room.m.decided[main].prevailing is None
    room.move(K.RECONSIDER, by="a", second="b", target=main)


def test_rescind_thresholds_with_and_without_notice() -> None:
    earlier = Decision("2026-02/m4", "每月第一个周六清洁楼道", adopted=True)
    room = Room(prior=[earlier])
    room.move(K.RESCIND, by="a", second="b", target=earlier.motion_id)
    result = room.vote(ayes=ALL[:4], noes=ALL[4:])  # 4-3: no two-thirds, but 4 of 7 members
    assert result.adopted and result.reason == "membership_majority_reached"
    assert room.m.decided[earlier.motion_id].rescinded
    room.floor("a")
    room.refused(Move, "a", "invalid_target", kind=K.RESCIND, target=earlier.motion_id)

    room = Room(prior=[earlier], present=ALL[:5])
    room.move(K.RESCIND, by="a", second="b", target=earlier.motion_id)
    assert not room.vote(ayes=ALL[:3], noes=ALL[3:5]).adopted  # 3-2 without notice fails
    room.move(K.RESCIND, by="a", second="b", target=earlier.motion_id, notice=True)
    assert room.vote(ayes=ALL[:3], noes=ALL[3:5]).adopted  # with previous notice a majority does


def test_rescind_a_lost_motion_is_refused() -> None:
    room = Room()
    main = room.main()
    room.vote(ayes=ALL[:2], noes=ALL[2:])
    room.floor("c")
    room.refused(Move, "c", "invalid_target", kind=K.RESCIND, target=main)


def test_secret_ballot_does_not_reveal_votes() -> None:
    room = Room()
    main = room.main()
    room.push(CallVote, CHAIR, method=VoteMethod.SECRET_BALLOT)
    out = room.push(CastVote, "c", choice=VoteChoice.NO)
    assert out == (VoteRecorded("c", None),)
    assert room.m.ballot is not None and room.m.ballot.roll == {}
    assert room.m.current_tally() is None  # no running count to read votes off
    for member in ("a", "b", "d"):
        room.push(CastVote, member, choice=VoteChoice.AYE)
    room.push(AnnounceResult, CHAIR)
    record = room.m.motions[main].ballots[0]
    assert record.roll == () and record.voters == ("a", "b", "c", "d")
    assert (record.result.ayes, record.result.noes) == (3, 1)
    assert "roll" not in str(build_minutes(room.m).motion(main).votes[0].result)


def test_interrupted_speaker_keeps_the_turn() -> None:
    room = Room()
    main = room.main()
    room.floor("c", Stance.PRO)
    room.push(Speak, "c")
    room.move(K.POINT_OF_ORDER, by="d")
    assert room.m.speeches[-1].interrupted and room.m.speeches_made("c", main) == 0


def test_parameters_a_motion_does_not_use_are_ignored() -> None:
    room = Room()
    main = room.move(
        K.MAIN, text="motion", speech_seconds=5, max_speeches=9, parts=("x", "y"), rules=("speech_limit",)
    )
    motion = room.m.motions[main]
    assert room.m.speech_limit_seconds(motion) == 600 and room.m.max_speeches(motion) == 2
    assert motion.parts == () and motion.rules == ()
