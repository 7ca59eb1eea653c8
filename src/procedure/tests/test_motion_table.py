"""Table tests: every row of the RONR motion table (DOMAIN.md), against every pending motion."""

from __future__ import annotations

import pytest

from procedure import (
    MOTIONS,
    NANTANG,
    RANKED,
    RONR,
    CallVote,
    Category,
    ChairRuling,
    MotionKind,
    MotionStatus,
    Move,
    NotSeconded,
    OutOfOrder,
    RuleProfile,
    Speak,
    StateQuestion,
    Threshold,
    tally,
)
from procedure.enums import VoteChoice
from procedure.tests.helpers import CHAIR, Room

K = MotionKind
RANKED_KINDS = [s.kind for s in RANKED]
CHAIR_DECIDES = {Threshold.CHAIR_RULES, Threshold.NONE}

# DOMAIN.md, "Rules of order", verbatim: rank, interrupts, second, debatable, amendable, vote.
# fmt: off
DOMAIN_TABLE = {
    K.FIX_TIME_TO_ADJOURN: (13, False, True, False, True, Threshold.MAJORITY),
    K.ADJOURN: (12, False, True, False, False, Threshold.MAJORITY),
    K.RECESS: (11, False, True, False, True, Threshold.MAJORITY),
    K.QUESTION_OF_PRIVILEGE: (10, True, False, False, False, Threshold.CHAIR_RULES),
    K.ORDERS_OF_THE_DAY: (9, True, False, False, False, Threshold.NONE),
    K.LAY_ON_THE_TABLE: (8, False, True, False, False, Threshold.MAJORITY),
    K.PREVIOUS_QUESTION: (7, False, True, False, False, Threshold.TWO_THIRDS),
    K.LIMIT_DEBATE: (6, False, True, False, True, Threshold.TWO_THIRDS),
    K.POSTPONE_TO_CERTAIN_TIME: (5, False, True, True, True, Threshold.MAJORITY),
    K.COMMIT: (4, False, True, True, True, Threshold.MAJORITY),
    K.AMEND: (3, False, True, "inherits", True, Threshold.MAJORITY),
    K.POSTPONE_INDEFINITELY: (2, False, True, True, False, Threshold.MAJORITY),
    K.MAIN: (1, False, True, True, True, Threshold.MAJORITY),
}
# fmt: on


@pytest.mark.parametrize("kind", list(DOMAIN_TABLE))
def test_spec_matches_domain_table(kind: MotionKind) -> None:
    s = MOTIONS[kind]
    assert (s.rank, s.interrupts, s.needs_second, s.debatable, s.amendable, s.threshold) == DOMAIN_TABLE[kind]


def test_ranked_list_is_the_thirteen_rows_in_order() -> None:
    assert [s.rank for s in RANKED] == list(range(13, 0, -1))
    assert {s.kind for s in RANKED} == set(DOMAIN_TABLE)


def test_every_motion_kind_has_a_spec_with_names_and_citation() -> None:
    assert set(MOTIONS) == set(MotionKind)
    for s in MOTIONS.values():
        assert s.name_zh and s.name_en and s.ronr.startswith("RONR")
        assert (s.rank is None) == (s.category is Category.INCIDENTAL)


def pending(kind: MotionKind | None, profile: RuleProfile = RONR) -> Room:
    """A room where ``kind`` is the immediately pending question (over a main motion)."""
    room = Room(profile)
    if kind is None:
        return room
    room.main()
    if kind is not K.MAIN:
        room.move(kind, by="c", second="d", speech_seconds=60)
    assert room.m.top is not None and room.m.top.kind is kind
    return room


def expected_in_order(new: MotionKind, top: MotionKind | None) -> bool:
    """The rule of DOMAIN.md: in order only if it ranks above the motion immediately pending."""
    spec = MOTIONS[new]
    assert spec.rank is not None
    if top is None:
        return spec.category is not Category.SUBSIDIARY  # subsidiaries need a question to apply to
    if MOTIONS[top].threshold in CHAIR_DECIDES:
        return False  # the chair is deciding a point; nothing else until the ruling
    if new is K.AMEND:
        return MOTIONS[top].amendable  # amend applies to whatever amendable motion is pending
    top_rank = MOTIONS[top].rank
    assert top_rank is not None
    return spec.rank > top_rank


def move_event(room: Room, kind: MotionKind) -> Move:
    spec = MOTIONS[kind]
    if not spec.interrupts:
        room.floor("e")
    return Move(actor="e", at=room.tick(), kind=kind, text="…", speech_seconds=60)


@pytest.mark.parametrize("top", [None, *RANKED_KINDS], ids=lambda k: f"pending={k}")
@pytest.mark.parametrize("new", RANKED_KINDS, ids=lambda k: f"new={k}")
def test_precedence(new: MotionKind, top: MotionKind | None) -> None:
    room = pending(top)
    event = move_event(room, new)
    want = expected_in_order(new, top)
    # Amend outranks postpone indefinitely: while it is pending the main motion may be amended
    # (RONR §12), so amend is offered, aimed at the main motion, though PI itself is not amendable.
    offered = want or (new is K.AMEND and top is K.POSTPONE_INDEFINITELY)
    assert (new in room.m.legal_actions("e").motions) is offered
    if want:
        assert room.m.is_legal(event)
        room.m.push(event)
        assert room.m.top is not None and room.m.top.kind is new
    else:
        before = room.m.copy()
        with pytest.raises(OutOfOrder) as info:
            room.m.push(event)
        assert info.value.rule in {"precedence", "not_amendable", "nothing_pending"}
        assert room.m == before


def test_secondary_amendment_in_order_but_not_a_third_degree() -> None:
    room = pending(K.AMEND)
    secondary = room.move(K.AMEND, by="e", second="f")
    assert room.m.motions[secondary].target == room.m.stack[-2]
    assert room.m.motions[secondary].rank == (3, 1)
    room.floor("g")
    room.refused(Move, "g", "not_amendable", OutOfOrder, kind=K.AMEND, text="third degree")


def test_amendment_of_a_higher_motion_sits_just_above_it() -> None:
    room = pending(K.POSTPONE_TO_CERTAIN_TIME)
    room.move(K.AMEND, by="e", second="f", text="until next Monday")
    assert [m.rank for m in room.m.pending] == [(1, 0), (5, 0), (5, 1)]
    room.floor("g")
    room.refused(Move, "g", "precedence", OutOfOrder, kind=K.COMMIT, text="…")  # ranks below postpone
    room.push(Move, "g", kind=K.PREVIOUS_QUESTION)  # previous question outranks it


SECONDABLE = [*RANKED_KINDS, K.SUSPEND_RULES, K.OBJECTION_TO_CONSIDERATION, K.DIVISION_OF_QUESTION]


@pytest.mark.parametrize("kind", SECONDABLE)
@pytest.mark.parametrize("profile", [RONR, NANTANG], ids=lambda p: p.name)
def test_second_needed(kind: MotionKind, profile: RuleProfile) -> None:
    spec = MOTIONS[kind]
    room = Room(profile)
    if kind is not K.MAIN:
        room.main()
    if not spec.interrupts:
        room.floor("e")
    room.push(Move, "e", kind=kind, text="…", parts=("a", "b"), rules=("speech_limit",), speech_seconds=60)
    top = room.m.top
    assert top is not None
    if spec.threshold in CHAIR_DECIDES:
        assert top.status is MotionStatus.PENDING  # awaits the ruling: no second, no statement
        return
    if spec.needs_second and profile.seconds_required:
        room.refused(StateQuestion, CHAIR, "not_seconded", NotSeconded)
    else:
        room.push(StateQuestion, CHAIR)
        assert top.status is MotionStatus.PENDING


@pytest.mark.parametrize("kind", [k for k in RANKED_KINDS if MOTIONS[k].threshold not in CHAIR_DECIDES])
def test_debatable(kind: MotionKind) -> None:
    room = pending(kind)
    room.floor("e")
    event = Speak(actor="e", at=room.tick())
    debatable = MOTIONS[kind].debatable
    if debatable == "inherits":
        debatable = True  # the amendment applies to a debatable main motion
    assert room.m.is_legal(event) is debatable
    if not debatable:
        room.refused(Speak, "e", "not_debatable")


@pytest.mark.parametrize(
    ("amended", "debatable"),
    [
        (K.MAIN, True),
        (K.POSTPONE_TO_CERTAIN_TIME, True),
        (K.COMMIT, True),
        (K.RECESS, False),
        (K.LIMIT_DEBATE, False),
        (K.FIX_TIME_TO_ADJOURN, False),
    ],
)
def test_amendment_inherits_debatability(amended: MotionKind, debatable: bool) -> None:
    room = pending(amended)
    room.move(K.AMEND, by="e", second="f", text="changed")
    room.floor("g")
    assert room.m.is_legal(Speak(actor="g", at=room.tick())) is debatable


@pytest.mark.parametrize("kind", [k for k in RANKED_KINDS if MOTIONS[k].threshold not in CHAIR_DECIDES])
def test_amendable(kind: MotionKind) -> None:
    room = pending(kind)
    room.floor("e")
    event = Move(actor="e", at=room.tick(), kind=K.AMEND, text="changed")
    assert room.m.is_legal(event) is MOTIONS[kind].amendable
    if not MOTIONS[kind].amendable:
        room.refused(Move, "e", "not_amendable", OutOfOrder, kind=K.AMEND, text="changed")


@pytest.mark.parametrize("kind", RANKED_KINDS)
@pytest.mark.parametrize(("ayes", "noes"), [(3, 2), (4, 2), (2, 2), (5, 1), (1, 3)])
def test_threshold_applied(kind: MotionKind, ayes: int, noes: int) -> None:
    room = pending(kind)
    spec = MOTIONS[kind]
    if spec.threshold in CHAIR_DECIDES:
        room.refused(CallVote, CHAIR, "not_voted", OutOfOrder)
        room.push(ChairRuling, CHAIR, well_taken=True)
        assert room.m.top is not None and room.m.top.kind is K.MAIN
        return
    voters = ["a", "b", "c", "d", "e", "f"]
    result = room.vote(ayes=voters[:ayes], noes=voters[ayes : ayes + noes])
    assert result.threshold is spec.threshold
    expect = tally(
        [(VoteChoice.AYE, 1)] * ayes + [(VoteChoice.NO, 1)] * noes, spec.threshold, membership_weight=7
    ).adopted
    assert result.adopted is expect
    majority = ayes > noes
    two_thirds = ayes > 0 and 3 * ayes >= 2 * (ayes + noes)
    assert expect is (two_thirds if spec.threshold is Threshold.TWO_THIRDS else majority)
