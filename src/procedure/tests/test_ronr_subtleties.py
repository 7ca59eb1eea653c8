"""Where RONR is subtle (issue 12): amendments below the top of the stack, secret ballots stored
as paper, the floor ending at the time limit, the chair's vote, the engine's boundary, business
without a quorum, and why an action is not legal."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from procedure import (
    NANTANG,
    RONR,
    ActionKind,
    AnnounceResult,
    Arrive,
    CallToOrder,
    CallVote,
    CastVote,
    ChairVotes,
    CutOff,
    Decision,
    InvalidAction,
    ItemTakenUp,
    Leave,
    Meeting,
    MotionKind,
    MotionStatus,
    Move,
    OutOfOrder,
    Recognize,
    RequestFloor,
    ResultAnnounced,
    RuleProfile,
    Second,
    Speak,
    SpeechEnded,
    StateQuestion,
    TakeUpItem,
    VoteChoice,
    VoteMethod,
    VoteRecorded,
    VoteVoided,
    YieldFloor,
    build_minutes,
)
from procedure.tests.helpers import CHAIR, Room

K = MotionKind
A, N, AB = VoteChoice.AYE, VoteChoice.NO, VoteChoice.ABSTAIN

# ------------------------------------------------------------------------ 1. amend below the top


def _main_with_postpone_indefinitely() -> tuple[Room, str, str]:
    room = Room()
    main = room.main()
    pi = room.move(K.POSTPONE_INDEFINITELY, by="c", second="d")
    return room, main, pi


def test_main_motion_amended_while_postpone_indefinitely_is_pending() -> None:
    room, main, pi = _main_with_postpone_indefinitely()
    assert K.AMEND in room.m.movable_once_recognised("e")
    room.floor("e")
    legal = room.m.legal_actions("e")
    assert K.AMEND in legal.motions and legal.targets[K.AMEND] == (main,)  # PI itself is not amendable
    room.refused(Move, "e", "not_amendable", OutOfOrder, kind=K.AMEND, text="改为三号楼")  # default: PI
    out = room.push(Move, "e", kind=K.AMEND, text="在三号楼加装冷凝水管", target=main)
    amendment = out[-1].motion_id  # type: ignore[attr-defined]
    room.push(Second, "f")
    room.push(StateQuestion, CHAIR)
    assert room.m.motions[amendment].target == main and room.m.stack == [main, pi, amendment]
    assert room.m.motions[main].amendments == [amendment]
    assert room.m.motions[amendment].rank == (3, 0)
    room.vote(ayes="abcde", noes="fg")
    assert room.m.motions[main].text == "在三号楼加装冷凝水管" and room.m.top is not None
    assert room.m.top.id == pi  # back to postpone indefinitely, on the amended main motion


def test_amendment_target_must_be_allowed_by_the_motions_above_it() -> None:
    room = Room()
    main = room.main()
    commit = room.move(K.COMMIT, by="c", second="d", text="交物业小组")
    room.floor("e")
    # Commit outranks amend: the main motion cannot be amended until commit is decided.
    room.refused(Move, "e", "precedence", OutOfOrder, kind=K.AMEND, text="x", target=main)
    assert room.m.legal_actions("e").targets.get(K.AMEND) == (commit,)
    room.refused(Move, "e", "invalid_target", OutOfOrder, kind=K.AMEND, text="x", target="m999")


def test_amendment_target_respects_two_degrees_and_previous_question() -> None:
    room = Room()
    main = room.main()
    first = room.move(K.AMEND, by="c", second="d", text="一")
    second = room.move(K.AMEND, by="e", second="f", text="二", target=first)
    room.floor("g")
    room.refused(Move, "g", "not_amendable", OutOfOrder, kind=K.AMEND, text="三", target=second)
    # The main motion is not amendable while a first-degree amendment to it is pending: the
    # secondary amendment (3, 1) sits above, and another (3, 0) does not outrank it.
    room.refused(Move, "g", "precedence", OutOfOrder, kind=K.AMEND, text="三", target=main)


# ------------------------------------------------------------------- 2. secret ballot as paper


def _secret_meeting(choices: dict[str, VoteChoice], order: str = "abcdefg") -> tuple[Room, list[object]]:
    room = Room()
    room.main()
    outputs: list[object] = []
    outputs += room.push(CallVote, CHAIR, method=VoteMethod.SECRET_BALLOT)
    for member in order:
        if member in choices:
            outputs += room.push(CastVote, member, choice=choices[member])
    outputs += room.push(AnnounceResult, CHAIR)
    return room, outputs


def test_secret_ballot_log_is_a_roll_and_a_sorted_box() -> None:
    room, outputs = _secret_meeting({"a": N, "b": A, "c": A, "d": AB, "e": A})
    votes = [e for e in room.m.log if isinstance(e, CastVote)]
    assert [(v.actor, v.choice) for v in votes] == [(m, None) for m in "abcde"]
    (result,) = [e for e in room.m.log if isinstance(e, AnnounceResult)]
    assert result.box == ((AB, 1), (A, 1), (A, 1), (A, 1), (N, 1))  # sorted, not in casting order
    assert all(o.choice is None for o in outputs if isinstance(o, VoteRecorded))
    record = room.m.motions["m11"].ballots[-1]
    assert record.roll == () and record.voters == tuple("abcde") and record.box == result.box
    assert room.m.recount("m11") == record.result and (record.result.ayes, record.result.noes) == (3, 1)
    replayed = Meeting.replay(room.m.log, members=room.m.members.values(), profile=RONR)
    assert replayed == room.m and build_minutes(replayed) == build_minutes(room.m)


def test_open_secret_ballot_replays_with_its_box() -> None:
    room = Room()
    room.main()
    room.push(CallVote, CHAIR, method=VoteMethod.SECRET_BALLOT)
    for member, choice in zip("cab", (N, A, A), strict=True):
        room.push(CastVote, member, choice=choice)
    box = room.m.ballot_box()
    assert box == ((A, 1), (A, 1), (N, 1))
    members = room.m.members.values()
    assert Meeting.replay(room.m.log, members=members, profile=RONR, box=box) == room.m
    with pytest.raises(InvalidAction) as info:
        Meeting.replay(room.m.log, members=members, profile=RONR, box=box[:2])
    assert info.value.rule == "ballot_box"
    # Without the box the result cannot be announced: the count would be wrong.
    blind = Meeting.replay(room.m.log, members=members, profile=RONR)
    with pytest.raises(InvalidAction):
        blind.push(AnnounceResult(actor=CHAIR, at=room.tick()))


def test_a_client_cannot_send_a_box_or_a_vote_without_a_choice() -> None:
    room = Room()
    room.main()
    room.push(CallVote, CHAIR, method=VoteMethod.SECRET_BALLOT)
    room.refused(CastVote, "a", "bad_value", InvalidAction)
    room.push(CastVote, "a", choice=A)
    room.refused(AnnounceResult, CHAIR, "invalid", InvalidAction, box=((N, 1),))


# --------------------------------------------------------------- 3. the floor ends at the limit


def test_speaker_past_the_limit_loses_the_floor_and_cannot_move() -> None:
    room = Room(RuleProfile(speech_seconds=120))
    room.main()
    room.floor("c")
    room.push(Speak, "c")
    started = room.t
    room.tick(121)
    # Asked at a time past the limit, the engine already treats the floor as ended.
    assert K.POSTPONE_INDEFINITELY not in room.m.legal_actions("c", room.t).motions
    why = room.m.why_not("c", K.POSTPONE_INDEFINITELY, room.t)
    assert why is not None and why.rule == "no_floor"
    room.refused(Move, "c", "no_floor", kind=K.POSTPONE_INDEFINITELY, advance=0)
    out = room.push(RequestFloor, "d", advance=0)
    (ended,) = [o for o in out if isinstance(o, SpeechEnded)]
    assert (ended.member, ended.seconds, ended.cut_off) == ("c", 120, "overrun")
    speech = room.m.speeches[-1]
    assert speech.ended == started + timedelta(seconds=120) and room.m.floor is None
    room.push(YieldFloor, "c")  # the speaker may still acknowledge: nothing changes
    room.refused(YieldFloor, "c", "no_floor")


def test_chair_cut_off_after_the_limit_is_an_acknowledgement() -> None:
    room = Room(RuleProfile(speech_seconds=60))
    room.main()
    room.floor("c")
    room.push(Speak, "c")
    out = room.push(CutOff, CHAIR, advance=90, reason="overrun")
    assert [o.seconds for o in out if isinstance(o, SpeechEnded)] == [60]
    assert room.m.speech is None


# ---------------------------------------------------------------------- 4. the chair's vote


def test_ronr_chair_never_votes_first_nor_closes_the_vote_early() -> None:
    room = Room(RONR, chair="a", present="abcde")
    room.main(by="b", second="c")
    room.push(CallVote, "a")
    # With nobody voted, "aye" would turn a 0-0 failure into adoption: still refused.
    room.refused(CastVote, "a", "chair_votes_first", choice=A)
    room.push(CastVote, "b", choice=A)
    room.refused(CastVote, "a", "chair_votes_first", choice=A)  # others still to vote
    room.push(CastVote, "c", choice=N)
    room.push(CastVote, "d", choice=A)
    room.push(CastVote, "e", choice=N)
    room.push(CastVote, "a", choice=A)  # 2-2 fails; the chair's aye decides (RONR 44:12)
    result = room.push(AnnounceResult, "a")
    assert next(o for o in result if isinstance(o, ResultAnnounced)).result.adopted


def test_nantang_chair_votes_last_never_first() -> None:
    room = Room(NANTANG, chair="a")
    room.main(by="b", second="c")
    room.push(CallVote, "a")
    room.refused(CastVote, "a", "chair_votes_first", choice=A)
    room.push(CastVote, "b", choice=A)
    room.push(CastVote, "a", choice=A)
    assert room.m.ballot is not None and room.m.ballot.closed


def test_chair_votes_by_secret_ballot_in_any_order() -> None:
    room = Room(RuleProfile(chair_votes=ChairVotes.WHEN_DECISIVE), chair="a")
    room.main(by="b", second="c")
    room.push(CallVote, "a", method=VoteMethod.SECRET_BALLOT)
    room.push(CastVote, "a", choice=A)
    room.push(CastVote, "b", choice=N)
    assert room.m.ballot is not None and not room.m.ballot.closed


# ------------------------------------------------------------------------ 5. at the boundary


def test_plain_strings_are_refused_where_enums_are_expected() -> None:
    room = Room()
    room.main()
    error = room.refused(CallVote, CHAIR, "bad_value", InvalidAction, method="secret_ballot")
    assert "secret_ballot" in error.message_zh and "method" in error.message_zh
    room.push(CallVote, CHAIR, method=VoteMethod.SECRET_BALLOT)
    room.refused(CastVote, "a", "bad_value", InvalidAction, choice="aye")


def test_abstention_refused_where_not_asked() -> None:
    room = Room(NANTANG)
    room.main()
    room.push(CallVote, CHAIR)
    room.refused(CastVote, "c", "abstain_not_asked", choice=AB)
    room.refused(CastVote, "c", "bad_value", InvalidAction, choice="abstain")


@pytest.mark.parametrize("kind", [K.MAIN, K.POSTPONE_TO_CERTAIN_TIME, K.COMMIT, K.AMEND])
@pytest.mark.parametrize("text", ["", "   "])
def test_empty_motion_text_refused(kind: MotionKind, text: str) -> None:
    room = Room()
    if kind is not K.MAIN:
        room.main()
    room.floor("e")
    error = room.refused(Move, "e", "empty_text", InvalidAction, kind=kind, text=text)
    assert error.message_zh.endswith("须写明内容。")


def test_move_kind_must_be_a_motion_kind() -> None:
    room = Room()
    room.floor("e")
    room.refused(Move, "e", "bad_value", InvalidAction, kind="main", text="x")


# ---------------------------------------------------------------------- 6. without a quorum


@pytest.mark.parametrize("kind", [K.ADJOURN, K.RECESS, K.FIX_TIME_TO_ADJOURN])
def test_adjourn_recess_fix_time_voted_without_quorum(kind: MotionKind) -> None:
    room = Room(present="abc")
    assert not room.m.has_quorum()
    room.move(kind, by="a", second="b", text="下周一晚七点")
    result = room.vote(ayes="abc")
    assert result.adopted


def test_main_motion_not_voted_without_quorum() -> None:
    room = Room(present="abc")
    room.main(by="a", second="b")
    room.refused(CallVote, CHAIR, "no_quorum")


def test_quorum_lost_during_a_vote_voids_it() -> None:
    room = Room(present="abcd")  # 4 of 7: exactly a quorum
    main = room.main()
    room.push(CallVote, CHAIR)
    room.push(CastVote, "a", choice=A)
    room.push(Leave, "d")  # the quorum is gone
    room.push(Arrive, "d")  # and back: the vote was still taken without it for a while
    room.push(CastVote, "b", choice=A)
    out = room.push(AnnounceResult, CHAIR)
    assert out == (VoteVoided(main, "quorum_lost"),)
    motion = room.m.motions[main]
    assert motion.status is MotionStatus.PENDING and room.m.top is motion and room.m.ballot is None
    assert motion.ballots[-1].void and motion.ballots[-1].superseded
    # Put again with a quorum present, the vote stands.
    result = room.vote(ayes="abc", noes="d")
    assert result.adopted and room.m.motions[main].status is MotionStatus.ADOPTED


def test_quorum_lost_during_an_adjournment_vote_still_announced() -> None:
    room = Room(present="abcd")
    room.move(K.ADJOURN, by="a", second="b")
    room.push(CallVote, CHAIR)
    room.push(Leave, "d")
    room.push(CastVote, "a", choice=A)
    out = room.push(AnnounceResult, CHAIR)
    assert any(isinstance(o, ResultAnnounced) and o.result.adopted for o in out)


# --------------------------------------------------------------------------------- 7. why not


def test_why_not_explains_each_refusal() -> None:
    room = Room()
    main = room.main()
    assert room.m.why_not(CHAIR, ActionKind.CALL_VOTE) is None
    why = room.m.why_not("a", ActionKind.CALL_VOTE)
    assert why is not None and why.rule == "not_chair" and why.message_zh == "只有主持人可以这样做。"
    why = room.m.why_not("a", K.MAIN)
    assert why is not None and why.rule == "precedence" and "主动议" in why.message_zh
    refusals = room.m.refusals("a")
    assert refusals["call_vote"].rule == "not_chair" and "request_floor" not in refusals
    assert refusals["move:main"].rule == "precedence"
    # Once recognised, a (for now floorless) member could make these motions.
    could = room.m.movable_once_recognised("c")
    assert {K.AMEND, K.POSTPONE_INDEFINITELY, K.COMMIT, K.ADJOURN} <= could and K.MAIN not in could
    assert room.m.legal_actions("c").motions.isdisjoint({K.AMEND, K.COMMIT})  # not recognised yet
    assert room.m.why_not("c", Move(actor="c", at=room.t, kind=K.AMEND, text="x", target=main)) is not None


def test_why_not_is_none_for_legal_and_does_not_change_the_meeting() -> None:
    room = Room()
    room.main()
    before = room.m.copy()
    room.push(RequestFloor, "c")
    room.push(Recognize, CHAIR, member="c")
    assert room.m.why_not("c", K.AMEND) is None
    room.m.refusals("c")
    room.m.movable_once_recognised("d")
    assert room.m.version == before.version + 2


def test_state_question_still_needed() -> None:
    room = Room()
    room.floor("a")
    room.push(Move, "a", kind=K.MAIN, text="x")
    why = room.m.why_not(CHAIR, ActionKind.STATE_QUESTION)
    assert why is not None and why.rule == "not_seconded"
    assert room.m.why_not(CHAIR, StateQuestion(actor=CHAIR, at=room.t)) == why


# ------------------------------------------------------- property: a secret ballot stays secret

_VOTERS = st.permutations(list("abcdefg")).flatmap(
    lambda order: st.integers(1, len(order)).map(lambda n: order[:n])
)


def _run_secret(profile: RuleProfile, voters: list[str], choices: list[VoteChoice]) -> tuple[Room, list[object]]:
    room = Room(profile)
    room.main()
    outputs: list[object] = [room.m.legal_actions(m) for m in "abcdefg"]
    outputs += room.push(CallVote, CHAIR, method=VoteMethod.SECRET_BALLOT)
    for voter, choice in zip(voters, choices, strict=True):
        outputs += room.push(CastVote, voter, choice=choice)
        outputs += [room.m.current_tally(), room.m.legal_actions(voter), room.m.ballot and room.m.ballot.voters[:]]
    outputs += room.push(AnnounceResult, CHAIR)
    return room, outputs


@settings(max_examples=150, deadline=None, database=None)
@given(
    profile=st.sampled_from([RONR, RuleProfile(vote_by_weight=True, name="shares")]),
    voters=_VOTERS,
    data=st.data(),
)
def test_secret_ballot_cannot_be_reassociated_with_members(
    profile: RuleProfile, voters: list[str], data: st.DataObject
) -> None:
    """Two meetings whose voters cast the same ballots in the same order, but with the ballots
    shuffled among the voters, leave identical logs, outputs, records and minutes: nothing kept
    or shown tells who cast which ballot.  And each replays from its log to the live state."""
    choices = data.draw(st.lists(st.sampled_from(list(VoteChoice)), min_size=len(voters), max_size=len(voters)))
    shuffled = data.draw(st.permutations(choices))
    one, out_one = _run_secret(profile, voters, choices)
    two, out_two = _run_secret(profile, voters, list(shuffled))
    assert one.m.log == two.m.log
    assert out_one == out_two
    assert build_minutes(one.m) == build_minutes(two.m)
    assert one.m.motions == two.m.motions and one.m.decided == two.m.decided
    for room in (one, two):
        members = room.m.members.values()
        assert Meeting.replay(room.m.log, members=members, profile=profile) == room.m
        record = room.m.motions["m11"].ballots[-1]
        assert room.m.recount("m11") == record.result
        assert sorted(c for c, _ in record.box) == sorted(choices)


# ------------------------------------------------------- 8. decisions of an earlier meeting


def test_amend_something_previously_adopted_at_an_earlier_meeting() -> None:
    earlier = Decision("mtg3-m11", "每月第一个周六清洁楼道", adopted=True)
    room = Room(prior=[earlier])
    room.floor("a")
    legal = room.m.legal_actions("a")
    assert legal.targets[K.AMEND_PREVIOUSLY_ADOPTED] == ("mtg3-m11",) == legal.targets[K.RESCIND]
    room.refused(Move, "a", "empty_text", InvalidAction, kind=K.AMEND_PREVIOUSLY_ADOPTED, target="mtg3-m11")
    room.push(YieldFloor, "a")
    room.move(K.AMEND_PREVIOUSLY_ADOPTED, by="a", second="b", target="mtg3-m11", text="每月第二个周六清洁楼道")
    result = room.vote(ayes="abcde", noes="fg")  # two-thirds without notice (RONR 35:2)
    assert result.adopted and room.m.decided["mtg3-m11"].text == "每月第二个周六清洁楼道"
    assert not room.m.decided["mtg3-m11"].rescinded


def test_amend_previously_adopted_needs_rescind_thresholds() -> None:
    earlier = Decision("mtg3-m11", "每月第一个周六清洁楼道", adopted=True)
    room = Room(prior=[earlier], present="abcde")
    room.move(K.AMEND_PREVIOUSLY_ADOPTED, by="a", second="b", target="mtg3-m11", text="改")
    assert not room.vote(ayes="abc", noes="de").adopted  # 3-2: neither two-thirds nor 4 of 7
    room.move(K.AMEND_PREVIOUSLY_ADOPTED, by="a", second="b", target="mtg3-m11", text="改", notice=True)
    assert room.vote(ayes="abc", noes="de").adopted  # with previous notice a majority
    room.floor("c")
    room.refused(Move, "c", "invalid_target", OutOfOrder, kind=K.AMEND_PREVIOUSLY_ADOPTED, target="m999", text="x")


# ------------------------------------------------------------- logs held under the first rules


def test_a_log_recorded_under_the_first_rules_replays_as_held() -> None:
    """A meeting held before issue 12 (``rules_version=1``) replays as it was held: the speaker
    kept the floor past the limit, the chair voted first, a vote stood without a quorum."""
    first = RuleProfile(rules_version=1, speech_seconds=60)
    room = Room(first, chair="a", present="abcd")
    main = room.main(by="b", second="c")
    room.floor("c")
    room.push(Speak, "c")
    room.tick(90)
    room.push(RequestFloor, "d")
    assert room.m.floor == "c" and room.m.speech is not None and room.m.speech.overrun
    room.push(Move, "c", kind=K.POSTPONE_INDEFINITELY, text="")
    room.push(Second, "d")
    room.push(StateQuestion, "a")
    room.push(CallVote, "a")
    room.push(Leave, "d")
    room.push(CastVote, "a", choice=A)  # first, and decisive: accepted then
    out = room.push(AnnounceResult, "a")
    assert any(isinstance(o, ResultAnnounced) and o.result.adopted for o in out)
    assert room.m.motions[main].status is MotionStatus.KILLED
    replayed = Meeting.replay(room.m.log, members=room.m.members.values(), profile=first)
    assert replayed == room.m


def test_past_the_limit_one_view_serves_every_question_until_the_next_event() -> None:
    room = Room(RuleProfile(speech_seconds=60))
    room.main()
    room.floor("c")
    room.push(Speak, "c")
    before = room.m.copy()
    later, much_later = room.t + timedelta(seconds=61), room.t + timedelta(seconds=600)
    for member in "abcdefg":
        room.m.legal_actions(member, later)
        room.m.legal_actions(member, much_later)
    assert room.m._view(later) is room.m._view(much_later)  # copied once, not per question
    assert room.m == before and room.m.speech is not None  # asking changed nothing


# ------------------------------------------------------------------- orders of the day (agenda)


def _agenda_room() -> Room:
    room = Room()
    room.m = Meeting(room.m.members.values(), RONR, (), ("加装空调冷凝水管", "东益汽车广场污染处置"))
    for member in "abcdefg":
        room.push(Arrive, member)
    room.push(CallToOrder, CHAIR)
    return room


def test_main_motion_belongs_to_the_order_of_the_day_before_the_meeting() -> None:
    room = _agenda_room()
    assert room.m.item == 1
    room.floor("a")
    error = room.refused(Move, "a", "off_agenda", OutOfOrder, kind=K.MAIN, text="污染处置", item=2)
    assert "第1项" in error.message_zh and "加装空调冷凝水管" in error.message_zh
    room.refused(Move, "a", "invalid_target", OutOfOrder, kind=K.MAIN, text="x", item=7)
    room.push(Move, "a", kind=K.MAIN, text="加装冷凝水管", item=1)
    assert room.m.motions[room.m.stack[-1]].item == 1
    room.refused(TakeUpItem, CHAIR, "business_pending", OutOfOrder, item=2)


def test_orders_of_the_day_are_taken_up_in_order() -> None:
    room = _agenda_room()
    room.refused(TakeUpItem, "a", "not_chair", item=2)
    room.refused(TakeUpItem, CHAIR, "agenda_order", OutOfOrder, item=1)  # already before us
    assert room.m.why_not(CHAIR, ActionKind.TAKE_UP_ITEM) is None
    out = room.push(TakeUpItem, CHAIR, item=2)
    assert out == (ItemTakenUp(2, "东益汽车广场污染处置"),) and room.m.item == 2
    main = room.main(text="东益汽车广场污染处置方案")  # item None: the current one
    assert room.m.motions[main].item == 2
    minutes = build_minutes(room.m)
    assert minutes.motion(main).item == 2
    room.vote(ayes="abcde")
    why = room.m.why_not(CHAIR, ActionKind.TAKE_UP_ITEM)
    assert why is not None and why.rule == "invalid_target"  # the agenda has no item 3
    replayed = Meeting.replay(room.m.log, members=room.m.members.values(), agenda=room.m.agenda)
    assert replayed == room.m
