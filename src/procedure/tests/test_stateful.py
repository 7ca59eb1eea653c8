"""Hypothesis state machine: random legal and illegal actions against the engine's invariants.

In the manner of h2's tests: whatever sequence of actions arrives, the pending stack keeps its
precedence, a refused action changes nothing, the log replays to an equal meeting, and every
announced result equals a plain recount of the votes in the log.
"""

from __future__ import annotations

from datetime import timedelta
from fractions import Fraction
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from procedure import (
    EVENT_TYPES,
    NANTANG,
    RONR,
    AnnounceResult,
    Arrive,
    CallToOrder,
    CallVote,
    CastVote,
    ChairRuling,
    ChairVotes,
    CutOff,
    Decision,
    Event,
    HandOverChair,
    Leave,
    Meeting,
    Member,
    MotionKind,
    Move,
    ProcedureError,
    Recognize,
    RequestFloor,
    ResultAnnounced,
    RuleProfile,
    Second,
    Speak,
    Stance,
    StateQuestion,
    TakeUpItem,
    TallyResult,
    Threshold,
    VoteChoice,
    VoteMethod,
    VoteVoided,
    Withdraw,
)
from procedure.events import CUT_OFF_REASONS
from procedure.tests.helpers import T0

MEMBERS = (Member("a"), Member("b"), Member("c", 2), Member("d"), Member("e", 3))
ACTORS = ("a", "b", "c", "d", "e", "chair", "x")
# Actions that move business on, most urgent first (``forward`` leans towards early entries).
FORWARD = (
    "speak",
    "second",
    "state_question",
    "cast_vote",
    "announce_result",
    "yield_floor",
    "recognize",
    "move:main",
    "move:amend",
    "move:previous_question",
    "rule",
    "request_floor",
    "call_vote",
)
PRIOR = (Decision("old-1", "earlier decision", adopted=True),)
AGENDA = ("加装空调冷凝水管", "东益汽车广场污染处置", "其他事项")
PROFILES = (
    RONR,
    NANTANG,
    RuleProfile(
        name="shares",
        vote_by_weight=True,
        seconds_required=False,
        motions_need_floor=False,
        speech_seconds=60,
        max_speeches=1,
        chair_votes=ChairVotes.NEVER,
    ),
    RuleProfile(name="board", chair_may_debate=True, vote_after_debate=False, first_time_first=False),
)


def recount(meeting: Meeting) -> tuple[list[tuple[list[tuple[VoteChoice, int]], int]], list[Any]]:
    """Votes of each announced ballot (and the present weight when it was called), and of the
    open ballot, read straight from the log."""
    weights = {m.id: (m.weight if meeting.profile.vote_by_weight else 1) for m in meeting.members.values()}
    present: set[str] = set()
    closed: list[tuple[list[tuple[VoteChoice, int]], int]] = []
    current: list[tuple[VoteChoice, int]] | None = None
    called_present = 0
    for e in meeting.log:
        if isinstance(e, Arrive):
            present.add(e.actor)
        elif isinstance(e, Leave):
            present.discard(e.actor)
        elif isinstance(e, CallToOrder) and e.actor in weights:
            present.add(e.actor)
        elif isinstance(e, CallVote):
            current, called_present = [], sum(weights[m] for m in present)
        elif isinstance(e, Move) and e.kind is MotionKind.DIVISION_OF_ASSEMBLY:
            closed.pop()  # the announced show of hands is superseded and retaken
            current = []
        elif isinstance(e, CastVote):
            assert current is not None
            if e.choice is not None:  # None: a secret ballot's roll entry; its slip is in the box
                current.append((e.choice, weights[e.actor]))
        elif isinstance(e, AnnounceResult):
            assert current is not None
            closed.append((list(e.box) if e.box else current, called_present))
            current = None
    if current is not None and meeting.ballot is not None and meeting.ballot.secret:
        current = list(meeting.ballot_box())
    return closed, [] if current is None else current


def plainly_adopted(
    threshold: Threshold, votes: list[tuple[VoteChoice, int]], membership: int, present: int
) -> bool:
    y = sum(w for c, w in votes if c is VoteChoice.AYE)
    n = sum(w for c, w in votes if c is VoteChoice.NO)
    two_thirds = y + n > 0 and Fraction(y, y + n) >= Fraction(2, 3)
    return {
        Threshold.MAJORITY: y > n,
        Threshold.TWO_THIRDS: two_thirds,
        Threshold.MAJORITY_OF_MEMBERSHIP: 2 * y > membership,
        Threshold.MAJORITY_PRESENT: 2 * y > present,
        Threshold.RESCIND_WITHOUT_NOTICE: two_thirds or 2 * y > membership,
        Threshold.SUSTAIN_CHAIR: y >= n,
        Threshold.TWO_THIRDS_AGAINST: y + n > 0 and Fraction(n, y + n) >= Fraction(2, 3),
    }[threshold]


class MeetingMachine(RuleBasedStateMachine):
    meeting: Meeting
    results: list[TallyResult | None]  # None: a vote voided because the quorum did not hold

    @initialize(profile=st.sampled_from(PROFILES), opening=st.sampled_from([2, 2, 2, 1, 0]))
    def start(self, profile: RuleProfile, opening: int) -> None:
        self.meeting = Meeting(MEMBERS, profile, PRIOR, AGENDA)
        self.results = []
        self.t = T0
        # Thirty random steps rarely get from an empty room to a vote, so most runs begin with
        # everyone present (opening >= 1) or with a main motion already pending (opening 2).
        if opening >= 1:
            for member in MEMBERS:
                self.apply(Arrive(actor=member.id, at=self.t))
            self.apply(CallToOrder(actor="chair", at=self.t))
        if opening >= 2:
            self.apply(RequestFloor(actor="a", at=self.t))
            self.apply(Recognize(actor="chair", member="a", at=self.t))
            self.apply(Move(actor="a", kind=MotionKind.MAIN, text="加装冷凝水管", at=self.t))
            if profile.seconds_required:
                self.apply(Second(actor="b", at=self.t))
            self.apply(StateQuestion(actor="chair", at=self.t))

    def apply(self, event: Event) -> None:
        out = self.meeting.push(event)
        self.t = event.at
        if isinstance(event, Move) and event.kind is MotionKind.DIVISION_OF_ASSEMBLY:
            self.results.pop()  # the show of hands just announced is retaken
        self.results.extend(o.result for o in out if isinstance(o, ResultAnnounced))
        self.results.extend(None for o in out if isinstance(o, VoteVoided))

    def legal_groups(self, at: Any) -> dict[str, list[Event]]:
        """Every legal event of every actor, grouped by action (a move by its motion kind)."""
        groups: dict[str, list[Event]] = {}
        for actor in ACTORS:
            for e in self.meeting.legal_events(actor, at):
                key = f"move:{e.kind.value}" if isinstance(e, Move) else e.action.value
                groups.setdefault(key, []).append(e)
        return groups

    @rule(data=st.data())
    def step(self, data: st.DataObject) -> None:
        """A legal event of any kind (pushing it must succeed), or a random one (which, if
        refused, must change nothing)."""
        at = self.t + timedelta(seconds=data.draw(st.integers(0, 150), label="seconds"))
        # Hypothesis favours small numbers, so 0 is the common case in each of these draws.
        if data.draw(st.integers(0, 3), label="illegal?") < 3:
            groups = self.legal_groups(at)
            if data.draw(st.integers(0, 9), label="may end?") < 9:  # end the meeting only rarely
                for key in ("declare_adjourned", "leave", "move:adjourn"):
                    groups.pop(key, None)
            if groups:
                key = data.draw(st.sampled_from(sorted(groups)), label="action")
                self.apply(data.draw(st.sampled_from(groups[key]), label="legal event"))
            return
        late = data.draw(st.integers(0, 9), label="late?") == 9
        event = data.draw(self.random_event(at - timedelta(seconds=3 if late else 0)), label="random event")
        before = self.meeting.copy()
        try:
            self.apply(event)
        except ProcedureError as error:
            assert error.rule and error.message_zh and error.message_en
            assert self.meeting == before, f"refused {event} ({error.rule}) but changed the meeting"

    @rule(data=st.data())
    def forward(self, data: st.DataObject) -> None:
        """A legal event that moves business on, the most urgent kind most often: random steps
        alone seldom get from an empty room to a debate and a vote."""
        at = self.t + timedelta(seconds=data.draw(st.integers(0, 150), label="seconds"))
        groups = self.legal_groups(at)
        available = [k for k in FORWARD if k in groups]
        if available:
            key = available[data.draw(st.integers(0, len(available) - 1), label="which")]
            self.apply(data.draw(st.sampled_from(groups[key]), label="legal event"))

    def random_event(self, earliest: Any) -> st.SearchStrategy[Event]:
        ids = [*self.meeting.motions, "old-1", "nope", None]
        v = self.meeting.version
        common = {
            "actor": st.sampled_from(ACTORS),
            "at": st.integers(0, 150).map(lambda s: earliest + timedelta(seconds=s)),
            "expected_version": st.sampled_from([None] * 7 + [v, v - 1, v + 1]),
        }
        extra: dict[type[Event], dict[str, st.SearchStrategy[Any]]] = {
            Move: {
                "kind": st.sampled_from(list(MotionKind)),
                "text": st.sampled_from(["", "x", "改为三号楼"]),
                "target": st.sampled_from(ids),
                "parts": st.sampled_from([(), ("p",), ("p", "q")]),
                "notice": st.booleans(),
                "scope_all": st.booleans(),
                "speech_seconds": st.sampled_from([None, 0, 30]),
                "max_speeches": st.sampled_from([None, 0, 1, 3]),
                "rules": st.sampled_from([(), ("speech_limit",), ("bogus",)]),
                "item": st.sampled_from([None, 1, 2, 3, 9]),
            },
            Withdraw: {"motion_id": st.sampled_from(ids)},
            RequestFloor: {"stance": st.sampled_from([None, *Stance])},
            Speak: {"stance": st.sampled_from([None, *Stance])},
            Recognize: {"member": st.sampled_from(ACTORS)},
            CutOff: {"reason": st.sampled_from([*CUT_OFF_REASONS, "bogus"])},
            ChairRuling: {"well_taken": st.booleans()},
            # Plain strings too: the engine must refuse them at its boundary, not run them.
            CallVote: {"method": st.sampled_from([*VoteMethod, "secret_ballot"])},
            CastVote: {"choice": st.sampled_from([*VoteChoice, "abstain", None])},
            HandOverChair: {"to": st.sampled_from(ACTORS)},
            TakeUpItem: {"item": st.integers(0, 4)},
        }
        return st.one_of(*(st.builds(cls, **common, **extra.get(cls, {})) for cls in EVENT_TYPES))

    @invariant()
    def stack_keeps_precedence(self) -> None:
        ranks = [m.rank for m in self.meeting.pending]
        ranked = [r for r in ranks if r is not None]
        assert ranked == sorted(ranked) and len(set(ranked)) == len(ranked), ranks
        # Incidental questions (no rank) only ever sit above every ranked one.
        assert ranks[: len(ranked)] == ranked, ranks

    @invariant()
    def replay_gives_an_equal_meeting(self) -> None:
        m = self.meeting
        assert m.version == len(m.log)
        box = m.ballot_box() if m.ballot is not None and m.ballot.secret else None
        assert Meeting.replay(m.log, members=MEMBERS, profile=m.profile, prior=PRIOR, box=box, agenda=AGENDA) == m

    @invariant()
    def secret_ballots_are_stored_as_paper(self) -> None:
        """The log keeps who voted in a secret ballot, never how: the box (at the result, or
        ``ballot_box`` while open) names nobody and is sorted."""
        secret = False
        for e in self.meeting.log:
            if isinstance(e, CallVote):
                secret = e.method is VoteMethod.SECRET_BALLOT
            elif isinstance(e, CastVote) and secret:
                assert e.choice is None
            elif isinstance(e, AnnounceResult):
                assert list(e.box) == sorted(e.box) and (secret or not e.box)
                secret = False

    @invariant()
    def tallies_equal_a_recount(self) -> None:
        m = self.meeting
        closed, current = recount(m)
        assert len(closed) == len(self.results)
        for (votes, present), result in zip(closed, self.results, strict=True):
            if result is None:
                continue
            for choice, heads, weight in (
                (VoteChoice.AYE, result.ayes, result.ayes_weight),
                (VoteChoice.NO, result.noes, result.noes_weight),
                (VoteChoice.ABSTAIN, result.abstentions, result.abstentions_weight),
            ):
                assert heads == sum(1 for c, _ in votes if c is choice)
                assert weight == sum(w for c, w in votes if c is choice)
            assert result.present_weight == present
            assert result.adopted is plainly_adopted(result.threshold, votes, m.membership_weight(), present)
        running = m.current_tally()
        assert (running is None) is (m.ballot is None or m.ballot.secret)
        if running is not None:
            assert (running.ayes_weight, running.noes_weight) == (
                sum(w for c, w in current if c is VoteChoice.AYE),
                sum(w for c, w in current if c is VoteChoice.NO),
            )

    @invariant()
    def floor_and_ballot_are_consistent(self) -> None:
        m = self.meeting
        if m.speech is not None:
            assert m.floor == m.speech.member and m.speech.ended is None
        requesters = [r for r, _ in m.requests]
        assert len(set(requesters)) == len(requesters) and set(requesters) <= set(m.present)
        if m.ballot is not None:
            assert len(set(m.ballot.voters)) == len(m.ballot.voters)
            assert m.ballot.secret or set(m.ballot.roll) == set(m.ballot.voters)
            assert m.top is not None and m.top.id == m.ballot.motion_id


MeetingMachine.TestCase.settings = settings(
    max_examples=100,
    stateful_step_count=30,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
TestMeetingMachine = MeetingMachine.TestCase
