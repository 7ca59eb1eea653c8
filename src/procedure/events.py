"""Events in (what people do) and outcomes out (what the engine tells everyone happened).

Events are the log: ``Meeting.replay(events)`` rebuilds a meeting from them.  Each carries who
acted, when (the engine never reads the wall clock), and optionally the version the client saw,
so that an action taken on a stale screen is refused instead of applied to a meeting that has
moved on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from procedure.enums import ActionKind, MotionKind, MotionStatus, Stance, VoteChoice, VoteMethod
from procedure.tally import TallyResult

# ---------------------------------------------------------------------------------------- events


@dataclass(frozen=True, kw_only=True, slots=True)
class Event:
    action: ClassVar[ActionKind]
    actor: str
    at: datetime
    expected_version: int | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class CallToOrder(Event):
    """Opens the meeting (the actor becomes the chair) or resumes it after a recess."""

    action: ClassVar[ActionKind] = ActionKind.CALL_TO_ORDER


@dataclass(frozen=True, kw_only=True, slots=True)
class Arrive(Event):
    action: ClassVar[ActionKind] = ActionKind.ARRIVE


@dataclass(frozen=True, kw_only=True, slots=True)
class Leave(Event):
    action: ClassVar[ActionKind] = ActionKind.LEAVE


@dataclass(frozen=True, kw_only=True, slots=True)
class Move(Event):
    """Make a motion of any kind.

    ``text`` is the motion's wording (for an amendment: the proposed new wording of the motion it
    amends; for postpone/commit/recess/fix-time: the time or committee).  The other fields are
    used only by the kinds named beside them.
    """

    action: ClassVar[ActionKind] = ActionKind.MOVE
    kind: MotionKind
    text: str = ""
    target: str | None = None  # take from table, rescind, reconsider: the motion brought back
    parts: tuple[str, ...] = ()  # division of the question
    notice: bool = False  # rescind: previous notice was given, so a majority suffices
    scope_all: bool = False  # previous question: on all pending questions, not only the immediate one
    speech_seconds: int | None = None  # limit or extend debate
    max_speeches: int | None = None  # limit or extend debate
    rules: tuple[str, ...] = ()  # suspend the rules: the rule codes suspended
    item: int | None = None  # main motion: the agenda item (1-based) it belongs to; None: the current one


@dataclass(frozen=True, kw_only=True, slots=True)
class Second(Event):
    action: ClassVar[ActionKind] = ActionKind.SECOND


@dataclass(frozen=True, kw_only=True, slots=True)
class StateQuestion(Event):
    """The chair states the question: the motion becomes pending (RONR §4)."""

    action: ClassVar[ActionKind] = ActionKind.STATE_QUESTION


@dataclass(frozen=True, kw_only=True, slots=True)
class NoSecond(Event):
    """The chair declares that the motion is not seconded and drops it."""

    action: ClassVar[ActionKind] = ActionKind.NO_SECOND


@dataclass(frozen=True, kw_only=True, slots=True)
class Withdraw(Event):
    """The mover withdraws the immediately pending motion (default) or the named one."""

    action: ClassVar[ActionKind] = ActionKind.WITHDRAW
    motion_id: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class RequestFloor(Event):
    action: ClassVar[ActionKind] = ActionKind.REQUEST_FLOOR
    stance: Stance | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Recognize(Event):
    """The chair gives the floor to a member who asked for it."""

    action: ClassVar[ActionKind] = ActionKind.RECOGNIZE
    member: str


@dataclass(frozen=True, kw_only=True, slots=True)
class Speak(Event):
    """Start a speech in debate on the immediately pending question."""

    action: ClassVar[ActionKind] = ActionKind.SPEAK
    stance: Stance | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class YieldFloor(Event):
    """End one's speech, or give back the floor unused."""

    action: ClassVar[ActionKind] = ActionKind.YIELD_FLOOR


CUT_OFF_REASONS = frozenset({"overrun", "off_topic", "personal_attack"})


@dataclass(frozen=True, kw_only=True, slots=True)
class CutOff(Event):
    """The chair stops a speech: for overrunning its time, or (南塘十三条) for straying from the
    topic or attacking a person."""

    action: ClassVar[ActionKind] = ActionKind.CUT_OFF
    reason: str = "overrun"


@dataclass(frozen=True, kw_only=True, slots=True)
class ChairRuling(Event):
    """The chair decides a point of order, a question of privilege or a call for the orders of
    the day.  ``well_taken`` is the chair's answer; an appeal may follow at once."""

    action: ClassVar[ActionKind] = ActionKind.RULE
    well_taken: bool
    text: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class CallVote(Event):
    """The chair puts the immediately pending question to a vote."""

    action: ClassVar[ActionKind] = ActionKind.CALL_VOTE
    method: VoteMethod = VoteMethod.SHOW_OF_HANDS


@dataclass(frozen=True, kw_only=True, slots=True)
class CastVote(Event):
    """A vote.  In a secret ballot the engine's log keeps only the roll entry (``choice`` None):
    the choice goes into the ballot box, which carries no member (see ``AnnounceResult.box``)."""

    action: ClassVar[ActionKind] = ActionKind.CAST_VOTE
    choice: VoteChoice | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class AnnounceResult(Event):
    """The chair announces the result.  For a secret ballot the engine's log entry carries the
    opened ballot box: the ``(choice, weight)`` slips, sorted, naming nobody.  A client never
    sends ``box``; a replay reads it back from the log."""

    action: ClassVar[ActionKind] = ActionKind.ANNOUNCE_RESULT
    box: tuple[tuple[VoteChoice, int], ...] = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class HandOverChair(Event):
    """The chair hands the chair to a present member (南塘: to speak, the chair must step down)."""

    action: ClassVar[ActionKind] = ActionKind.HAND_OVER_CHAIR
    to: str


@dataclass(frozen=True, kw_only=True, slots=True)
class DeclareAdjourned(Event):
    """With no business pending the chair declares the meeting adjourned (RONR §21)."""

    action: ClassVar[ActionKind] = ActionKind.DECLARE_ADJOURNED


@dataclass(frozen=True, kw_only=True, slots=True)
class TakeUpItem(Event):
    """The chair takes up the next order of the day (agenda item ``item``, 1-based), with no
    business pending (RONR §41: general orders in the order the agenda lists them)."""

    action: ClassVar[ActionKind] = ActionKind.TAKE_UP_ITEM
    item: int


EVENT_TYPES: tuple[type[Event], ...] = (
    CallToOrder,
    Arrive,
    Leave,
    Move,
    Second,
    StateQuestion,
    NoSecond,
    Withdraw,
    RequestFloor,
    Recognize,
    Speak,
    YieldFloor,
    CutOff,
    ChairRuling,
    CallVote,
    CastVote,
    AnnounceResult,
    HandOverChair,
    DeclareAdjourned,
    TakeUpItem,
)

# -------------------------------------------------------------------------------------- outcomes


@dataclass(frozen=True, slots=True)
class Outcome:
    """Something the room should be told; returned by ``Meeting.push``."""


@dataclass(frozen=True, slots=True)
class SessionChanged(Outcome):
    session: str  # "in_session", "recess", "adjourned"


@dataclass(frozen=True, slots=True)
class AttendanceChanged(Outcome):
    member: str
    present: bool
    has_quorum: bool


@dataclass(frozen=True, slots=True)
class MotionMade(Outcome):
    motion_id: str
    kind: MotionKind
    mover: str


@dataclass(frozen=True, slots=True)
class Seconded(Outcome):
    motion_id: str
    seconder: str


@dataclass(frozen=True, slots=True)
class QuestionStated(Outcome):
    motion_id: str


@dataclass(frozen=True, slots=True)
class MotionDisposed(Outcome):
    """A motion left the pending stack without (or as a side effect of) its own vote."""

    motion_id: str
    status: MotionStatus


@dataclass(frozen=True, slots=True)
class FloorRequested(Outcome):
    member: str


@dataclass(frozen=True, slots=True)
class FloorGranted(Outcome):
    member: str


@dataclass(frozen=True, slots=True)
class SpeechStarted(Outcome):
    member: str
    motion_id: str
    stance: Stance | None
    number: int  # 1 for the member's first speech on this question


@dataclass(frozen=True, slots=True)
class SpeechOverrun(Outcome):
    member: str
    motion_id: str
    limit_seconds: int


@dataclass(frozen=True, slots=True)
class SpeechEnded(Outcome):
    member: str
    motion_id: str
    seconds: float
    cut_off: str | None


@dataclass(frozen=True, slots=True)
class RulingMade(Outcome):
    motion_id: str
    well_taken: bool


@dataclass(frozen=True, slots=True)
class VotingOpened(Outcome):
    motion_id: str
    method: VoteMethod


@dataclass(frozen=True, slots=True)
class VoteRecorded(Outcome):
    member: str
    choice: VoteChoice | None  # None for a secret ballot: who voted is public, how is not


@dataclass(frozen=True, slots=True)
class ResultAnnounced(Outcome):
    motion_id: str
    result: TallyResult
    status: MotionStatus


@dataclass(frozen=True, slots=True)
class ItemTakenUp(Outcome):
    item: int
    title: str


@dataclass(frozen=True, slots=True)
class VoteVoided(Outcome):
    """The vote was taken without a quorum throughout: no result is announced (RONR 40:6-7) and
    the question is pending again."""

    motion_id: str
    reason: str  # "quorum_lost"


@dataclass(frozen=True, slots=True)
class ChairChanged(Outcome):
    chair: str
