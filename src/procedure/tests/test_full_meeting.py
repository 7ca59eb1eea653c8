"""A whole meeting, scripted, and the minutes it produces."""

from __future__ import annotations

from datetime import timedelta

from procedure import (
    NANTANG,
    RONR,
    AnnounceResult,
    Arrive,
    CallToOrder,
    CallVote,
    CastVote,
    Leave,
    Meeting,
    MotionKind,
    MotionStatus,
    Move,
    Recognize,
    RequestFloor,
    Second,
    Speak,
    Stance,
    StateQuestion,
    Threshold,
    VoteChoice,
    VoteMethod,
    YieldFloor,
    minutes_from_events,
)
from procedure.events import Event
from procedure.tests.helpers import CHAIR, MEMBERS, T0

K, A, N = MotionKind, VoteChoice.AYE, VoteChoice.NO


def script() -> list[Event]:
    t = T0
    events: list[Event] = []

    def at(seconds: float = 5) -> object:
        nonlocal t
        t += timedelta(seconds=seconds)
        return t

    def add(cls: type[Event], actor: str, seconds: float = 5, **kw: object) -> None:
        events.append(cls(actor=actor, at=at(seconds), **kw))  # type: ignore[arg-type]

    for member in MEMBERS[:6]:  # g is absent
        add(Arrive, member)
    add(CallToOrder, CHAIR)
    # Main motion, seconded and stated.
    add(RequestFloor, "a")
    add(Recognize, CHAIR, member="a")
    add(Move, "a", kind=K.MAIN, text="在楼间加装空调冷凝水管")
    add(Second, "b")
    add(StateQuestion, CHAIR)
    # Debate.
    add(RequestFloor, "a", stance=Stance.PRO)
    add(Recognize, CHAIR, member="a")
    add(Speak, "a", stance=Stance.PRO)
    add(YieldFloor, "a", seconds=240)
    add(RequestFloor, "c", stance=Stance.CON)
    add(Recognize, CHAIR, member="c")
    add(Speak, "c", stance=Stance.CON)
    add(YieldFloor, "c", seconds=610)  # overran the ten minutes
    # Amendment.
    add(RequestFloor, "d")
    add(Recognize, CHAIR, member="d")
    add(Move, "d", kind=K.AMEND, text="在3号楼与4号楼间加装空调冷凝水管，费用由民生微实事列支")
    add(Second, "e")
    add(StateQuestion, CHAIR)
    add(RequestFloor, "d", stance=Stance.PRO)
    add(Recognize, CHAIR, member="d")
    add(Speak, "d", stance=Stance.PRO)
    add(YieldFloor, "d", seconds=120)
    # Previous question fails: 3 to 3 is no two-thirds.
    add(RequestFloor, "b")
    add(Recognize, CHAIR, member="b")
    add(Move, "b", kind=K.PREVIOUS_QUESTION)
    add(Second, "a")
    add(StateQuestion, CHAIR)
    add(CallVote, CHAIR)
    for member, choice in zip("abcdef", (A, A, N, A, N, N), strict=True):
        add(CastVote, member, seconds=1, choice=choice)
    add(AnnounceResult, CHAIR)
    # Debate on the amendment goes on, then the vote on it by roll call.
    add(RequestFloor, "f", stance=Stance.CON)
    add(Recognize, CHAIR, member="f")
    add(Speak, "f", stance=Stance.CON)
    add(YieldFloor, "f", seconds=90)
    add(CallVote, CHAIR, method=VoteMethod.ROLL_CALL)
    for member, choice in zip("abcdef", (A, A, N, A, A, N), strict=True):
        add(CastVote, member, seconds=1, choice=choice)
    add(AnnounceResult, CHAIR)
    # The amended main motion, by secret ballot; f has left.
    add(Leave, "f")
    add(CallVote, CHAIR, method=VoteMethod.SECRET_BALLOT)
    for member, choice in zip("abcde", (A, A, N, A, A), strict=True):
        add(CastVote, member, seconds=1, choice=choice)
    add(AnnounceResult, CHAIR)
    # Adjourn.
    add(RequestFloor, "e")
    add(Recognize, CHAIR, member="e")
    add(Move, "e", kind=K.ADJOURN)
    add(Second, "a")
    add(StateQuestion, CHAIR)
    add(CallVote, CHAIR)
    for member in "abcde":
        add(CastVote, member, seconds=1, choice=A)
    add(AnnounceResult, CHAIR)
    return events


def test_full_meeting_and_minutes() -> None:
    events = script()
    meeting = Meeting.replay(events, members=MEMBERS, profile=RONR)
    assert meeting.version == len(events) and meeting.adjourned_at == events[-1].at
    minutes = minutes_from_events(events, members=MEMBERS, profile=RONR)

    # Attendance: six came, f left before the last votes, g never came.
    assert [a.member for a in minutes.attendance] == ["a", "b", "c", "d", "e", "f"]
    f = next(a for a in minutes.attendance if a.member == "f")
    assert f.spans[0][1] is not None and f.spans[0][1] < events[-1].at
    assert all(a.spans[-1][1] == events[-1].at for a in minutes.attendance if a.member != "f")
    assert minutes.chairs == ((CHAIR, events[6].at),) and minutes.quorum_needed == 4

    assert [m.kind for m in minutes.motions] == [K.MAIN, K.AMEND, K.PREVIOUS_QUESTION, K.ADJOURN]
    main, amendment, pq, adjourn = minutes.motions
    # The main motion: mover, seconder, amended text, speakers with stance and duration.
    assert (main.mover, main.seconder, main.status) == ("a", "b", MotionStatus.ADOPTED)
    assert main.text == "在3号楼与4号楼间加装空调冷凝水管，费用由民生微实事列支"
    assert main.original_text == "在楼间加装空调冷凝水管" and main.amendments == (amendment.id,)
    assert [(s.member, s.stance, s.seconds, s.overrun) for s in main.speeches] == [
        ("a", Stance.PRO, 240, False),
        ("c", Stance.CON, 600, True),  # the floor ends at the 10-minute limit
    ]
    # Final vote by secret ballot: counts only.
    (final,) = main.votes
    assert final.method is VoteMethod.SECRET_BALLOT and final.roll == ()
    assert (final.result.ayes, final.result.noes, final.result.present_weight) == (4, 1, 5)

    # The amendment: adopted 4-2 by roll call, names recorded.
    assert (amendment.mover, amendment.seconder, amendment.applies_to) == ("d", "e", main.id)
    assert amendment.status is MotionStatus.ADOPTED
    (roll_call,) = amendment.votes
    assert roll_call.roll == (("a", A), ("b", A), ("c", N), ("d", A), ("e", A), ("f", N))
    assert [(s.member, s.stance) for s in amendment.speeches] == [("d", Stance.PRO), ("f", Stance.CON)]

    # The previous question failed: 3-3 is short of two-thirds.
    assert pq.kind is K.PREVIOUS_QUESTION and pq.status is MotionStatus.LOST and pq.applies_to == amendment.id
    (pq_vote,) = pq.votes
    assert pq_vote.result.threshold is Threshold.TWO_THIRDS
    assert (pq_vote.result.ayes, pq_vote.result.noes, pq_vote.result.reason) == (
        3,
        3,
        "two_thirds_not_reached",
    )

    assert adjourn.kind is K.ADJOURN and adjourn.status is MotionStatus.ADOPTED
    assert minutes.unfinished == () and minutes.rulings == ()
    as_dict = minutes.as_dict()
    assert as_dict["motions"][0]["speeches"][1]["overrun"] is True


def test_nantang_meeting_flow() -> None:
    """南塘十三条: no seconds, stance first, pro/con alternation, chair votes last, ayes then noes."""
    from procedure.tests.helpers import Room

    room = Room(NANTANG, chair="g")
    room.floor("a")
    room.push(Move, "a", kind=K.MAIN, text="居民议事会每月开一次")
    room.push(StateQuestion, "g")  # no second needed
    room.floor("b", Stance.PRO)
    room.push(Speak, "b")
    room.push(YieldFloor, "b", advance=130)
    assert room.m.speeches[-1].overrun  # 2 minutes
    room.push(RequestFloor, "c", stance=Stance.PRO)
    room.push(RequestFloor, "d", stance=Stance.CON)
    room.refused(Recognize, "g", "alternation", member="c")
    room.push(Recognize, "g", member="d")
    room.push(Speak, "d")
    room.push(YieldFloor, "d")
    room.push(Recognize, "g", member="c")
    room.push(Speak, "c")
    room.push(YieldFloor, "c")
    room.push(CallVote, "g")
    for member in "abc":
        room.push(CastVote, member, choice=A)
    for member in "def":
        room.push(CastVote, member, choice=N)
    room.refused(CastVote, "e", "double_vote", choice=A)
    room.push(CastVote, "g", choice=A)  # the chair votes last and breaks the tie
    out = room.push(AnnounceResult, "g")
    (main,) = room.m.motions.values()
    assert main.status is MotionStatus.ADOPTED and main.seconder is None
    assert (main.ballots[0].result.ayes, main.ballots[0].result.noes) == (4, 3)
    assert out[0].status is MotionStatus.ADOPTED  # type: ignore[attr-defined]
