"""The meeting: state, the event handlers that change it, and the questions one can ask of it.

Like python-chess's ``Board``: ``push(event)`` applies one event (or raises and changes nothing),
``legal_actions(member)`` says what a member may do now, ``log`` is the move stack and
``Meeting.replay`` rebuilds a meeting from it.  Every handler comes in two halves: ``_check_<action>``
only reads and raises, ``_do_<action>`` only writes.  ``push`` runs the check first, so a refused
event cannot leave a half-applied change behind, and ``legal_events`` can ask the same checks
without applying anything.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from procedure.enums import (
    ActionKind,
    Category,
    ChairVotes,
    MotionKind,
    MotionStatus,
    QuorumRule,
    Session,
    Stance,
    Threshold,
    VoteChoice,
    VoteMethod,
)
from procedure.errors import (
    DebateError,
    InvalidAction,
    NotEntitled,
    NotSeconded,
    OutOfOrder,
    ProcedureError,
    StaleVersion,
    VotingError,
)
from procedure.events import (
    CUT_OFF_REASONS,
    AnnounceResult,
    Arrive,
    AttendanceChanged,
    CallToOrder,
    CallVote,
    CastVote,
    ChairChanged,
    ChairRuling,
    CutOff,
    DeclareAdjourned,
    Event,
    FloorGranted,
    FloorRequested,
    HandOverChair,
    ItemTakenUp,
    Leave,
    MotionDisposed,
    MotionMade,
    Move,
    NoSecond,
    Outcome,
    QuestionStated,
    Recognize,
    RequestFloor,
    ResultAnnounced,
    RulingMade,
    Second,
    Seconded,
    SessionChanged,
    Speak,
    SpeechEnded,
    SpeechOverrun,
    SpeechStarted,
    StateQuestion,
    TakeUpItem,
    VoteRecorded,
    VoteVoided,
    VotingOpened,
    Withdraw,
    YieldFloor,
)
from procedure.rules import MOTIONS, RONR, SUSPENDABLE_RULES, MotionSpec, RuleProfile
from procedure.tally import TallyResult, tally

Rank = tuple[int, int]

# Questions the chair decides instead of putting to a vote.
_CHAIR_DECIDES = frozenset({Threshold.CHAIR_RULES, Threshold.NONE})
# Main-level questions to which postpone, commit, postpone indefinitely and lay on the table apply.
_MAIN_QUESTIONS = frozenset({MotionKind.MAIN, MotionKind.RESCIND, MotionKind.AMEND_PREVIOUSLY_ADOPTED})
# Rescind and amend something previously adopted: one motion in RONR §35, two kinds here.
_RESCINDING = frozenset({MotionKind.RESCIND, MotionKind.AMEND_PREVIOUSLY_ADOPTED})
_OPPOSITE = {Stance.PRO: Stance.CON, Stance.CON: Stance.PRO}
_STANCE_ZH = {Stance.PRO: "正", Stance.CON: "反", Stance.NEUTRAL: "中立"}
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_PREVIOUS_QUESTION_RANK = MOTIONS[MotionKind.PREVIOUS_QUESTION].rank or 0
# What an assembly may still do without a quorum (RONR 40:6-7): adjourn, recess (to obtain a
# quorum), fix the time to which to adjourn.  Points the chair decides need no vote at all.
QUORUM_EXEMPT = frozenset({MotionKind.ADJOURN, MotionKind.RECESS, MotionKind.FIX_TIME_TO_ADJOURN})
# Motions whose wording is their substance: an empty text is refused at the boundary.
_NEEDS_TEXT = frozenset(
    {
        MotionKind.MAIN,
        MotionKind.AMEND,
        MotionKind.POSTPONE_TO_CERTAIN_TIME,
        MotionKind.COMMIT,
        MotionKind.FIX_TIME_TO_ADJOURN,
        MotionKind.AMEND_PREVIOUSLY_ADOPTED,
    }
)
# Enum-typed event fields, checked at the boundary: a plain string equal to a value would
# otherwise pass ``==`` tests and fail ``is`` tests (a "secret_ballot" string ran as an open vote).
_ENUM_FIELDS: dict[type[Event], tuple[tuple[str, type[Any], bool], ...]] = {
    Move: (("kind", MotionKind, False),),
    CallVote: (("method", VoteMethod, False),),
    CastVote: (("choice", VoteChoice, True),),
    RequestFloor: (("stance", Stance, True),),
    Speak: (("stance", Stance, True),),
}


# ------------------------------------------------------------------------------------- records


@dataclass(frozen=True, slots=True)
class Member:
    id: str
    weight: int = 1  # shares, in a shareholders' meeting of a collective company


@dataclass(frozen=True, slots=True)
class Decision:
    """A main motion decided by vote, kept for reconsider (this meeting) and rescind (any meeting)."""

    motion_id: str
    text: str
    adopted: bool
    # Who voted on the prevailing side; None when unknown (secret ballot, earlier meeting), in
    # which case any member may move to reconsider (RONR §37 on ballot votes).
    prevailing: frozenset[str] | None = None
    this_meeting: bool = False
    rescinded: bool = False


@dataclass(slots=True)
class Speech:
    member: str
    motion_id: str
    stance: Stance | None
    started: datetime
    number: int  # the member's 1st, 2nd ... speech on this question
    ended: datetime | None = None
    overrun: bool = False
    cut_off: str | None = None
    interrupted: bool = False  # ended by an interrupting motion; does not use up a turn

    @property
    def seconds(self) -> float | None:
        return None if self.ended is None else (self.ended - self.started).total_seconds()


@dataclass(frozen=True, slots=True)
class BallotRecord:
    motion_id: str
    method: VoteMethod
    called_at: datetime
    announced_at: datetime
    result: TallyResult
    voters: tuple[str, ...]  # who voted, sorted; public even for a secret ballot
    roll: tuple[tuple[str, VoteChoice], ...]  # how each voted; empty for a secret ballot
    superseded: bool = False  # retaken on a division of the assembly
    # Secret ballot: the opened box, (choice, weight) slips sorted, naming nobody; a recount
    # tallies it again (``recount``).  Empty for the other methods.
    box: tuple[tuple[VoteChoice, int], ...] = ()
    void: bool = False  # the quorum did not hold while the vote was open: no result


@dataclass(slots=True)
class Ballot:
    """The vote in progress."""

    motion_id: str
    method: VoteMethod
    threshold: Threshold
    called_at: datetime
    present_weight: int  # quorum and "majority of those present" are judged when the vote is called
    voters: list[str] = field(default_factory=list)
    roll: dict[str, VoteChoice] = field(default_factory=dict)  # not kept for a secret ballot
    # Secret ballot: (choice, weight) pairs kept sorted, so even the order of casting leaks nothing.
    anonymous: list[tuple[VoteChoice, int]] = field(default_factory=list)
    closed: bool = False  # the chair has voted last
    quorum_lost: bool = False  # the quorum failed at some moment while the vote was open

    @property
    def secret(self) -> bool:
        return self.method is VoteMethod.SECRET_BALLOT


@dataclass(slots=True)
class Motion:
    id: str
    kind: MotionKind
    text: str
    mover: str
    made_at: datetime
    status: MotionStatus
    rank: Rank | None  # effective rank on the stack; None for incidental motions
    target: str | None = None  # the motion (or ruling) this one applies to or brings back
    seconder: str | None = None
    original_text: str = ""
    parts: tuple[str, ...] = ()
    notice: bool = False
    scope_all: bool = False
    # Limits in force on this question, set by an adopted motion to limit or extend debate.
    speech_seconds: int | None = None
    max_speeches: int | None = None
    # What a motion to limit or extend debate proposes.
    proposed_seconds: int | None = None
    proposed_speeches: int | None = None
    rules: tuple[str, ...] = ()
    debated: bool = False  # debate or a subsidiary motion has begun: too late to object
    debate_closed: bool = False  # previous question ordered
    objected: bool = False  # objection to consideration was made and failed
    reconsidered: bool = False
    amendments: list[str] = field(default_factory=list)
    ballots: list[BallotRecord] = field(default_factory=list)
    decided_at: datetime | None = None
    well_taken: bool | None = None  # the chair's ruling, for points decided by the chair
    ruling_text: str = ""
    overruled: bool | None = None  # set when an appeal from the ruling is decided
    postponed_to: str = ""
    item: int | None = None  # the agenda item (1-based) a main motion belongs to

    @property
    def spec(self) -> MotionSpec:
        return MOTIONS[self.kind]


@dataclass(frozen=True, slots=True)
class LegalActions:
    actions: frozenset[ActionKind]
    motions: frozenset[MotionKind]
    # For motions applied to a chosen motion (amend: any pending amendable motion the motions
    # above it allow; rescind, reconsider, take from the table): the motion ids in order.
    targets: dict[MotionKind, tuple[str, ...]] = field(default_factory=dict, compare=False, hash=False)

    def __contains__(self, item: object) -> bool:
        return item in self.actions or item in self.motions


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why an action is not legal now: the stable rule code and the two messages."""

    rule: str
    message_zh: str
    message_en: str

    @classmethod
    def of(cls, error: ProcedureError) -> Refusal:
        return cls(error.rule, error.message_zh, error.message_en)


@dataclass(slots=True)
class _Redo:
    """What a division of the assembly needs to re-take the vote just announced."""

    state: dict[str, Any]
    record: BallotRecord


# Fields not rolled back by a division of the assembly: the log and its bookkeeping.
_NOT_SNAPSHOT = frozenset({"log", "version", "last_at", "redo", "appealable", "replaying", "_view_cache"})


def _names(kind: MotionKind | str | None = None, pending: MotionKind | str | None = None) -> dict[str, str]:
    """Message placeholders: the English and Chinese names of the motions involved."""

    def pair(k: MotionKind | str | None) -> tuple[str, str]:
        if isinstance(k, MotionKind):
            return MOTIONS[k].name_en, MOTIONS[k].name_zh
        return (k or "motion", k or "动议")

    out: dict[str, str] = {}
    out["kind"], out["kind_zh"] = pair(kind)
    out["pending"], out["pending_zh"] = pair(pending)
    return out


# ------------------------------------------------------------------------------------- meeting


class Meeting:
    """One meeting (one session, in RONR's sense) of one body."""

    def __init__(
        self,
        members: Iterable[Member | str],
        profile: RuleProfile = RONR,
        prior: Iterable[Decision] = (),
        agenda: Iterable[str] = (),
    ) -> None:
        self.profile = profile
        # The orders of the day, in order; ``item`` is the one now before the meeting (1-based;
        # 0 without an agenda).  A main motion belongs to it (RONR §41).
        self.agenda: tuple[str, ...] = tuple(agenda)
        self.item = 1 if self.agenda else 0
        self.members: dict[str, Member] = {}
        for m in members:
            member = Member(m) if isinstance(m, str) else m
            if member.id in self.members:
                raise ValueError(f"duplicate member {member.id!r}")
            if member.weight < 1:
                raise ValueError(f"member {member.id!r} must have a weight of at least 1")
            self.members[member.id] = member
        if not self.members:
            raise ValueError("a meeting needs members")
        self.session = Session.NOT_STARTED
        self.chair: str | None = None
        self.chair_history: list[tuple[str, datetime]] = []
        # A chair who steps down to debate may not return until the main question then pending
        # is disposed of (RONR 43:29; 南塘: "hands the chair over until the vote").
        self.vacated_by: str | None = None
        self.vacated_for: str | None = None
        self.called_at: datetime | None = None
        self.adjourned_at: datetime | None = None
        self.adjourned_to = ""
        self.present: dict[str, None] = {}  # an ordered set
        self.attendance: dict[str, list[tuple[datetime, datetime | None]]] = {}
        self.motions: dict[str, Motion] = {}
        self.stack: list[str] = []  # pending motions, bottom first
        self.queue: list[str] = []  # parts of a divided question waiting their turn
        self.table: dict[str, list[str]] = {}  # main motion id -> the stack laid on the table with it
        self.decided: dict[str, Decision] = {}
        for d in prior:
            self.decided[d.motion_id] = replace(d, this_meeting=False)
        self.suspended: frozenset[str] = frozenset()
        self.suspended_for: str | None = None
        self.floor: str | None = None
        self.floor_stance: Stance | None = None
        self.speech: Speech | None = None  # the speech in progress
        self.speeches: list[Speech] = []
        self.requests: list[tuple[str, Stance | None]] = []  # members waiting for the floor
        self.speech_counts: dict[tuple[str, str], int] = {}  # (member, motion) -> speeches made
        self.last_stance: dict[str, Stance] = {}  # motion -> stance of its last pro/con speech
        self.ballot: Ballot | None = None
        self.appealable: str | None = None  # the ruling just made, while an appeal is in order
        self.redo: _Redo | None = None  # the vote just announced, while a division is in order
        self.timed_out: str | None = None  # whose floor just ended at the time limit
        self.version = 0
        self.last_at: datetime | None = None
        # The log as stored: a secret ballot's votes are roll entries without a choice, and its
        # result carries the sorted box (see ``_logged``).  Never the events as pushed.
        self.log: list[Event] = []
        self.replaying = False  # taking events from a stored log (``extend``), not from people
        # The meeting as it stands once the current speech has run out (``_view``), by version:
        # a thousand phones asking what they may do must not copy the meeting a thousand times.
        self._view_cache: tuple[int, Meeting] | None = None

    # ------------------------------------------------------------------------------- value API

    @classmethod
    def replay(
        cls,
        events: Iterable[Event],
        *,
        members: Iterable[Member | str],
        profile: RuleProfile = RONR,
        prior: Iterable[Decision] = (),
        box: Iterable[tuple[VoteChoice, int]] | None = None,
        agenda: Iterable[str] = (),
    ) -> Meeting:
        """Rebuild a meeting from its stored log (raises if the log contains an illegal event).

        ``box``: the slips of a secret ballot still open at the end of the log, which the log
        does not hold (its votes are roll entries only)."""
        meeting = cls(members, profile, prior, agenda)
        meeting.extend(events, box=box)
        return meeting

    def extend(self, events: Iterable[Event], *, box: Iterable[tuple[VoteChoice, int]] | None = None) -> None:
        """Apply events read back from a stored log (``log`` entries, in order): a secret vote
        may be a roll entry without a choice, a result may carry its ballot box.  ``box`` then
        restores the slips of a secret ballot still open (see ``restore_box``)."""
        self.replaying = True
        try:
            for event in events:
                self.push(event)
        finally:
            self.replaying = False
        if box is not None:
            self.restore_box(box)

    def ballot_box(self) -> tuple[tuple[VoteChoice, int], ...]:
        """The slips in the box of the secret ballot now open, sorted (empty otherwise): what
        the app stores beside the log, and gives back to ``replay``/``restore_box``."""
        b = self.ballot
        return tuple(b.anonymous) if b is not None and b.secret else ()

    def restore_box(self, slips: Iterable[tuple[VoteChoice, int]]) -> None:
        """Put the stored slips of the open secret ballot back: one slip per voter on the roll."""
        b = self.ballot
        box = sorted((VoteChoice(c), int(w)) for c, w in slips)
        if b is None or not b.secret:
            if box:
                raise InvalidAction(detail="no secret ballot is open")
            return
        if len(box) != len(b.voters):
            raise InvalidAction("ballot_box", boxed=len(box), voters=len(b.voters))
        b.anonymous = box

    def copy(self) -> Meeting:
        cache, self._view_cache = self._view_cache, None
        try:
            return copy.deepcopy(self)
        finally:
            self._view_cache = cache

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Meeting):
            return False
        mine, theirs = dict(vars(self)), dict(vars(other))
        mine.pop("_view_cache"), theirs.pop("_view_cache")
        return mine == theirs

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return f"<Meeting {self.profile.name} v{self.version} {self.session.value} stack={self.stack}>"

    def push(self, event: Event) -> tuple[Outcome, ...]:
        """Apply ``event`` and return what happened; on a refusal raise and change nothing."""
        self.check(event)
        out: list[Outcome] = []
        appealable, redo, timed_out = self.appealable, self.redo, self.timed_out
        self._expire(event.at, out)
        logged = self._logged(event)
        out.extend(HANDLERS[event.action].apply(self, event))
        if self.timed_out == timed_out:
            self.timed_out = None  # the speaker whose time ran out had one event to yield
        # An appeal and a division of the assembly must come at once: any other event closes the
        # window (RONR §24, §29).
        if self.appealable == appealable:
            self.appealable = None
        if self.redo is redo:
            self.redo = None
        self.version += 1
        self.last_at = event.at
        self.log.append(logged)
        return tuple(out)

    apply = push

    def _logged(self, event: Event) -> Event:
        """The form of ``event`` kept in the log: a secret ballot is stored the way paper works,
        a roll of who voted (no choice) and, at the result, the box of slips (no member), sorted
        so that not even the order of casting is kept."""
        b = self.ballot
        if b is None or not b.secret:
            return event
        if isinstance(event, CastVote) and event.choice is not None:
            return replace(event, choice=None)
        if isinstance(event, AnnounceResult):
            return replace(event, box=tuple(sorted([*b.anonymous, *event.box])))
        return event

    def check(self, event: Event) -> None:
        """Raise the :class:`ProcedureError` that ``push(event)`` would raise, or return None."""
        self._validate(event)
        view = self._view(event.at)
        view._check_common(event)
        HANDLERS[event.action].check(view, event)

    def _view(self, at: datetime) -> Meeting:
        """The meeting as it stands at ``at``: a speech past its limit has lost the floor."""
        if self.speech is None or self.profile.rules_version < 2 or not self._overran(self.speech, at):
            return self
        # The speech ends at its limit whatever ``at`` is past it, so one view serves a version.
        cached = self._view_cache
        if cached is not None and cached[0] == self.version:
            return cached[1]
        view = self.copy()
        view._expire(at, [])
        self._view_cache = (self.version, view)
        return view

    def _validate(self, e: Event) -> None:
        """The engine's boundary: types and values an event must have, whatever the state."""
        if not isinstance(e.at, datetime):
            raise InvalidAction("clock")
        for name, enum_type, optional in _ENUM_FIELDS.get(type(e), ()):
            value = getattr(e, name)
            if value is None and optional:
                continue
            if not isinstance(value, enum_type):
                choices = "、".join(str(m.value) for m in enum_type)
                raise InvalidAction("bad_value", field=name, value=str(value)[:40], choices=choices)
        needs_text = _NEEDS_TEXT if self.profile.rules_version >= 2 else (MotionKind.MAIN, MotionKind.AMEND)
        if isinstance(e, Move) and e.kind in needs_text and not e.text.strip():
            raise InvalidAction("empty_text", **_names(e.kind))
        if isinstance(e, AnnounceResult) and e.box and not self.replaying:
            raise InvalidAction(detail="the ballot box is opened by the engine, not sent")

    def is_legal(self, event: Event) -> bool:
        try:
            self.check(event)
        except ProcedureError:
            return False
        return True

    def legal_events(self, member_id: str, at: datetime | None = None) -> list[Event]:
        """Examples of events ``member_id`` could push now, one per possible action/motion."""
        when = at or self.last_at or _EPOCH
        view = self._view(when)
        return [e for e in view._probes(member_id, when) if view.is_legal(e)]

    def legal_actions(self, member_id: str, at: datetime | None = None) -> LegalActions:
        events = self.legal_events(member_id, at)
        targets: dict[MotionKind, list[str]] = {}
        for e in events:
            if isinstance(e, Move) and e.target is not None:
                targets.setdefault(e.kind, []).append(e.target)
        return LegalActions(
            actions=frozenset(e.action for e in events),
            motions=frozenset(e.kind for e in events if isinstance(e, Move)),
            targets={k: tuple(v) for k, v in targets.items()},
        )

    def why_not(
        self, member_id: str, action: ActionKind | MotionKind | Event, at: datetime | None = None
    ) -> Refusal | None:
        """Why ``member_id`` may not take ``action`` now (None when it is legal).

        ``action`` is an action kind (``ActionKind.CALL_VOTE``), a motion kind (``MotionKind.AMEND``:
        making that motion) or a concrete event.  For a kind, the refusal is that of the first
        example event, the same examples ``legal_actions`` tries: the greyed-out button's reason.
        """
        when = at or self.last_at or _EPOCH
        if isinstance(action, Event):
            candidates: list[Event] = [action]
        else:
            candidates = [
                e
                for e in self._probes(member_id, when)
                if (isinstance(action, MotionKind) and isinstance(e, Move) and e.kind is action)
                or (isinstance(action, ActionKind) and not isinstance(action, MotionKind) and e.action is action)
            ]
            if not candidates and isinstance(action, MotionKind):
                candidates = [Move(actor=member_id, at=when, kind=action, text="…")]
            elif not candidates and action is ActionKind.TAKE_UP_ITEM:
                candidates = [TakeUpItem(actor=member_id, at=when, item=self.item + 1)]
        first: Refusal | None = None
        for event in candidates:
            try:
                self.check(event)
            except ProcedureError as error:
                first = first or Refusal.of(error)
            else:
                return None
        return first or Refusal("invalid", "无效的操作。", "Invalid action.")

    def refusals(self, member_id: str, at: datetime | None = None) -> dict[str, Refusal]:
        """Every action and motion kind ``member_id`` may not take now, keyed ``action`` or
        ``move:<kind>``, with the rule and message: what a console shows on greyed-out buttons.
        One pass over the examples ``legal_actions`` tries; a key is refused when none of its
        examples is legal, with the first example's reason."""
        when = at or self.last_at or _EPOCH
        groups: dict[str, list[Event]] = {}
        for e in self._probes(member_id, when):
            key = f"move:{e.kind.value}" if isinstance(e, Move) else e.action.value
            groups.setdefault(key, []).append(e)
        for kind in MotionKind:
            groups.setdefault(f"move:{kind.value}", [Move(actor=member_id, at=when, kind=kind, text="…")])
        groups.pop(ActionKind.MOVE.value, None)
        out: dict[str, Refusal] = {}
        for key, events in groups.items():
            first: Refusal | None = None
            for event in events:
                try:
                    self.check(event)
                except ProcedureError as error:
                    first = first or Refusal.of(error)
                else:
                    first = None
                    break
            if first is not None:
                out[key] = first
        for action in ActionKind:
            if action is not ActionKind.MOVE and action.value not in groups:
                why = self.why_not(member_id, action, at)
                if why is not None:
                    out[action.value] = why
        return out

    def movable_once_recognised(self, member_id: str, at: datetime | None = None) -> frozenset[MotionKind]:
        """The motions ``member_id`` could make if the chair gave them the floor now."""
        when = at or self.last_at or _EPOCH
        view = self._view(when)
        if view.floor != member_id:
            if view.floor is not None or view.speech is not None:
                return frozenset(e.kind for e in view.legal_events(member_id, when) if isinstance(e, Move))
            view = view.copy() if view is self else view
            view.floor = member_id
            view.requests = [r for r in view.requests if r[0] != member_id]
        return frozenset(e.kind for e in view.legal_events(member_id, when) if isinstance(e, Move))

    # ------------------------------------------------------------------------------- queries

    @property
    def top(self) -> Motion | None:
        """The immediately pending question."""
        return self.motions[self.stack[-1]] if self.stack else None

    @property
    def pending(self) -> list[Motion]:
        return [self.motions[i] for i in self.stack]

    def weight(self, member_id: str) -> int:
        return self.members[member_id].weight if self.profile.vote_by_weight else 1

    def membership_weight(self) -> int:
        return sum(self.weight(m) for m in self.members)

    def present_weight(self) -> int:
        return sum(self.weight(m) for m in self.present)

    def quorum_needed(self) -> int:
        total = self.membership_weight()
        rule = self.profile.quorum_rule
        if rule is QuorumRule.MAJORITY:
            return total // 2 + 1
        if rule is QuorumRule.TWO_THIRDS:
            return -(-2 * total // 3)
        return self.profile.quorum_count

    def has_quorum(self) -> bool:
        return self.present_weight() >= self.quorum_needed()

    def debatable(self, motion: Motion) -> bool:
        debatable = motion.spec.debatable
        if debatable == "inherits":
            return motion.target is not None and self.debatable(self.motions[motion.target])
        return bool(debatable)

    def speech_limit_seconds(self, motion: Motion) -> int:
        # A limit set by "limit or extend debate" binds the question and amendments applied to it.
        m: Motion | None = motion
        while m is not None:
            if m.speech_seconds is not None:
                return m.speech_seconds
            m = self.motions[m.target] if m.kind is MotionKind.AMEND and m.target else None
        return self.profile.speech_seconds

    def max_speeches(self, motion: Motion) -> int:
        m: Motion | None = motion
        while m is not None:
            if m.max_speeches is not None:
                return m.max_speeches
            m = self.motions[m.target] if m.kind is MotionKind.AMEND and m.target else None
        return self.profile.max_speeches

    def speeches_made(self, member_id: str, motion_id: str) -> int:
        return self.speech_counts.get((member_id, motion_id), 0)

    def speech_elapsed(self, at: datetime) -> float | None:
        """Seconds the current speech has run at ``at`` (for the clock on the projector)."""
        return None if self.speech is None else (at - self.speech.started).total_seconds()

    def threshold(self, motion: Motion) -> Threshold:
        if motion.kind is MotionKind.MAIN:
            return self.profile.main_threshold
        if motion.kind in _RESCINDING and motion.notice:
            return Threshold.MAJORITY  # previous notice given (RONR 35:2)
        return motion.spec.threshold

    def ballot_votes(self, ballot: Ballot) -> list[tuple[VoteChoice, int]]:
        if ballot.secret:
            return list(ballot.anonymous)
        return [(choice, self.weight(member)) for member, choice in ballot.roll.items()]

    def current_tally(self) -> TallyResult | None:
        """The running count of the vote in progress, for the projector screen.

        None for a secret ballot: a count that moves as each named voter casts would tell the room
        how each voted, so a ballot is counted only when the result is announced.
        """
        if self.ballot is None or self.ballot.secret:
            return None
        return self.count_votes(self.ballot)

    def count_votes(self, ballot: Ballot, extra: tuple[VoteChoice, int] | None = None) -> TallyResult:
        """Count ``ballot`` (plus one ``extra`` vote, to ask "would it change the result?").

        The public counting API.  A secret ballot's running count is for the engine alone until
        the result (``current_tally`` returns None for it): callers showing counts should use
        ``current_tally``."""
        return self._tally(ballot, extra)

    def recount(self, motion_id: str, index: int = -1) -> TallyResult:
        """Count a decided vote again from what was kept: the roll, or a secret ballot's box."""
        record = self.motions[motion_id].ballots[index]
        votes = (
            list(record.box)
            if record.method is VoteMethod.SECRET_BALLOT
            else [(c, self.weight(m)) for m, c in record.roll]
        )
        r = record.result
        return tally(votes, r.threshold, membership_weight=r.membership_weight, present_weight=r.present_weight)

    def _tally(self, ballot: Ballot, extra: tuple[VoteChoice, int] | None = None) -> TallyResult:
        votes = self.ballot_votes(ballot) + ([extra] if extra else [])
        return tally(
            votes,
            ballot.threshold,
            membership_weight=self.membership_weight(),
            present_weight=ballot.present_weight,
        )

    def _suspended(self, rule: str) -> bool:
        return rule in self.suspended

    # --------------------------------------------------------------------------- common checks

    def _check_common(self, e: Event) -> None:
        if e.expected_version is not None and e.expected_version != self.version:
            raise StaleVersion(current=self.version, expected=e.expected_version)
        if e.at.tzinfo is None or (self.last_at is not None and e.at < self.last_at):
            raise InvalidAction("clock")
        if isinstance(e, Arrive | Leave):
            if self.session is Session.ADJOURNED:
                raise OutOfOrder("adjourned")
            return
        if self.session is Session.NOT_STARTED and not isinstance(e, CallToOrder):
            raise OutOfOrder("not_in_session")
        if self.session is Session.ADJOURNED:
            raise OutOfOrder("adjourned")
        if self.session is Session.RECESS and not isinstance(e, CallToOrder):
            raise OutOfOrder("in_recess")
        if self.ballot is not None and not isinstance(e, CastVote | AnnounceResult):
            raise OutOfOrder("vote_in_progress")

    def _need_chair(self, actor: str) -> None:
        if actor != self.chair:
            raise NotEntitled("not_chair")

    def _need_present_member(self, actor: str) -> None:
        if actor not in self.members:
            raise NotEntitled("not_member", member=actor)
        if actor not in self.present:
            raise NotEntitled("not_present", member=actor)

    def _need_participant(self, actor: str) -> None:
        # The presiding officer neither debates nor makes motions (RONR 43:29; 南塘: the chair
        # only runs the procedure and never gives opinions).
        if actor == self.chair and not self.profile.chair_may_debate:
            raise DebateError("chair_debating")
        self._need_present_member(actor)

    # ---------------------------------------------------------------------------------- session

    def _check_call_to_order(self, e: CallToOrder) -> None:
        if self.session is Session.IN_SESSION:
            raise OutOfOrder("already_in_session")
        if self.session is Session.RECESS:
            self._need_chair(e.actor)

    def _do_call_to_order(self, e: CallToOrder) -> list[Outcome]:
        out: list[Outcome] = []
        if self.session is Session.NOT_STARTED:
            self.chair = e.actor
            self.chair_history.append((e.actor, e.at))
            self.called_at = e.at
            out.append(ChairChanged(e.actor))
            if e.actor in self.members and e.actor not in self.present:
                out.extend(self._do_arrive(Arrive(actor=e.actor, at=e.at)))
        self.session = Session.IN_SESSION
        out.append(SessionChanged(self.session.value))
        return out

    def _check_arrive(self, e: Arrive) -> None:
        if e.actor not in self.members:
            raise NotEntitled("not_member", member=e.actor)
        if e.actor in self.present:
            raise InvalidAction("already_present", member=e.actor)

    def _do_arrive(self, e: Arrive) -> list[Outcome]:
        self.present[e.actor] = None
        self.attendance.setdefault(e.actor, []).append((e.at, None))
        return [AttendanceChanged(e.actor, True, self.has_quorum())]

    def _check_leave(self, e: Leave) -> None:
        self._need_present_member(e.actor)
        if e.actor == self.chair:
            raise NotEntitled("chair_leaving")

    def _do_leave(self, e: Leave) -> list[Outcome]:
        out: list[Outcome] = []
        if self.floor == e.actor:
            self._release_floor(e.at, out)
        self.requests = [r for r in self.requests if r[0] != e.actor]
        del self.present[e.actor]
        self._close_attendance(e.actor, e.at)
        if self.ballot is not None and not self.has_quorum():
            self.ballot.quorum_lost = True
        out.append(AttendanceChanged(e.actor, False, self.has_quorum()))
        return out

    def _close_attendance(self, member: str, at: datetime) -> None:
        spans = self.attendance[member]
        if spans and spans[-1][1] is None:
            spans[-1] = (spans[-1][0], at)

    def _check_hand_over_chair(self, e: HandOverChair) -> None:
        self._need_chair(e.actor)
        if e.to == self.chair:
            raise InvalidAction(detail=f"{e.to} is already the chair")
        # The chair goes to a present member, or back to the presiding officer who handed it
        # over (who may be a moderator from outside the body).
        if e.to != self.vacated_by:
            self._need_present_member(e.to)
        if e.to == self.floor:
            raise DebateError("floor_held")
        if e.to == self.vacated_by and self.vacated_for in self.stack:
            raise OutOfOrder("chair_debated")

    def _do_hand_over_chair(self, e: HandOverChair) -> list[Outcome]:
        if self.vacated_by is None:
            self.vacated_by = e.actor
            self.vacated_for = self.stack[0] if self.stack else None
        elif e.to == self.vacated_by:
            self.vacated_by = self.vacated_for = None
        self.chair = e.to
        self.chair_history.append((e.to, e.at))
        self.requests = [r for r in self.requests if r[0] != e.to]
        return [ChairChanged(e.to)]

    def _check_take_up_item(self, e: TakeUpItem) -> None:
        self._need_chair(e.actor)
        if not isinstance(e.item, int) or isinstance(e.item, bool):
            raise InvalidAction("bad_value", field="item", value=str(e.item)[:40], choices="1…")
        if self.stack:
            raise OutOfOrder("business_pending")
        if not 1 <= e.item <= len(self.agenda):
            raise OutOfOrder("invalid_target", detail=f"the agenda has no item {e.item}")
        # General orders are taken up in the order the agenda lists them (RONR 41:37: out of
        # order only by suspending the rules, which this engine does not model for the agenda).
        if e.item != self.item + 1:
            raise OutOfOrder("agenda_order", next=self.item + 1)

    def _do_take_up_item(self, e: TakeUpItem) -> list[Outcome]:
        self.item = e.item
        self.requests.clear()
        return [ItemTakenUp(e.item, self.agenda[e.item - 1])]

    def _check_declare_adjourned(self, e: DeclareAdjourned) -> None:
        self._need_chair(e.actor)
        if self.stack:
            raise OutOfOrder("business_pending")

    def _do_declare_adjourned(self, e: DeclareAdjourned) -> list[Outcome]:
        out: list[Outcome] = []
        self._adjourn(e.at, out)
        return out

    def _adjourn(self, at: datetime, out: list[Outcome]) -> None:
        self._release_floor(at, out)
        self.requests.clear()
        self.session = Session.ADJOURNED
        self.adjourned_at = at
        for member in self.present:
            self._close_attendance(member, at)
        out.append(SessionChanged(self.session.value))

    # ---------------------------------------------------------------------------------- motions

    def _check_move(self, e: Move) -> None:
        spec = MOTIONS[e.kind]
        self._need_participant(e.actor)
        top = self.top
        if top is not None and top.status is MotionStatus.PROPOSED:
            raise OutOfOrder("pending_proposal")
        self._check_position(e, spec, top)
        # Motions that cannot interrupt need the floor (RONR §42), and nobody else may hold it.
        if not spec.interrupts:
            if self.floor is not None and self.floor != e.actor:
                raise DebateError("no_floor")
            if self.profile.motions_need_floor and self.floor != e.actor:
                raise DebateError("no_floor")

    def _check_position(self, e: Move, spec: MotionSpec, top: Motion | None) -> None:
        """Precedence: is a motion of this kind in order with ``top`` immediately pending?"""
        names = _names(e.kind, top.kind if top else None)
        # While the chair is deciding a point, nothing else is taken up.
        if top is not None and top.spec.threshold in _CHAIR_DECIDES:
            raise OutOfOrder("precedence", **names)
        category = spec.category
        if category in (Category.MAIN, Category.BRING_BACK):
            # A main motion (or one bringing a question back) only when nothing is pending (RONR §10).
            if top is not None:
                raise OutOfOrder("precedence", **names)
            self._check_main_level(e)
        elif category is Category.SUBSIDIARY:
            self._check_subsidiary(e, spec, top, names)
        elif category is Category.PRIVILEGED:
            assert spec.rank is not None
            if top is not None and (top.rank is None or (spec.rank, 0) <= top.rank):
                raise OutOfOrder("precedence", **names)
        else:
            self._check_incidental(e, top, names)

    def _check_main_level(self, e: Move) -> None:
        if e.kind is MotionKind.MAIN:
            # 南塘十三条: no discussion without a concrete motion.
            if not e.text.strip():
                raise InvalidAction(detail="a main motion needs its wording")
            # The orders of the day: a main motion belongs to the item before the meeting.
            if e.item is not None and self.agenda:
                if not 1 <= e.item <= len(self.agenda):
                    raise OutOfOrder("invalid_target", detail=f"the agenda has no item {e.item}")
                if e.item != self.item:
                    raise OutOfOrder("off_agenda", current=self.item, title=self.agenda[self.item - 1])
        elif e.kind is MotionKind.TAKE_FROM_TABLE:
            if e.target not in self.table:
                raise OutOfOrder("invalid_target", detail=f"{e.target} is not on the table")
        elif e.kind in _RESCINDING:
            d = self.decided.get(e.target or "")
            if d is None or not d.adopted or d.rescinded:
                raise OutOfOrder("invalid_target", detail=f"{e.target} is not an adopted motion in force")
        elif e.kind is MotionKind.RECONSIDER:
            d = self.decided.get(e.target or "")
            if d is None or not d.this_meeting or self.motions[d.motion_id].reconsidered:
                raise OutOfOrder(
                    "invalid_target",
                    detail=f"{e.target} is not a vote of this meeting that can be reconsidered",
                )
            # Only one who voted with the prevailing side may move to reconsider (RONR §37), so
            # the losing side cannot simply ask for the same vote again.
            if d.prevailing is not None and e.actor not in d.prevailing:
                raise NotEntitled("reconsider_not_prevailing")

    def _check_subsidiary(self, e: Move, spec: MotionSpec, top: Motion | None, names: dict[str, str]) -> None:
        if top is None:
            raise OutOfOrder("nothing_pending", **names)
        if top.rank is None:  # an incidental question must be decided first
            raise OutOfOrder("precedence", **names)
        assert spec.rank is not None
        if e.kind is MotionKind.AMEND:
            self._check_amend_target(e, top, names)
            if not e.text.strip():
                raise InvalidAction("empty_text", **_names(e.kind))
            if e.target is not None and e.target != top.id:
                # Previous question ordered on the motion amended or one above it: vote first.
                if any(self.motions[m].debate_closed for m in self.stack[self.stack.index(e.target) :]):
                    raise OutOfOrder("debate_closed")
                return
        elif (spec.rank, 0) <= top.rank:
            raise OutOfOrder("precedence", **names)
        # Once the previous question is ordered only the vote, or a motion outranking the previous
        # question, may intervene (RONR §16).
        if top.debate_closed and spec.rank < _PREVIOUS_QUESTION_RANK:
            raise OutOfOrder("debate_closed")
        if e.kind in (MotionKind.PREVIOUS_QUESTION, MotionKind.LIMIT_DEBATE):
            # These act on debate (and amendment), so they need a debatable or amendable question.
            if not (self.debatable(top) or top.spec.amendable):
                raise OutOfOrder("not_applicable", **names)
        elif e.kind is not MotionKind.AMEND:
            # Postpone, commit, postpone indefinitely and lay on the table carry the main question.
            if self.motions[self.stack[0]].kind not in _MAIN_QUESTIONS:
                raise OutOfOrder("not_applicable", **_names(e.kind, self.motions[self.stack[0]].kind))
        if e.kind is MotionKind.LIMIT_DEBATE:
            if e.speech_seconds is None and e.max_speeches is None:
                raise InvalidAction(detail="say the new speech length or number of speeches")
            if (e.speech_seconds is not None and e.speech_seconds < 1) or (
                e.max_speeches is not None and e.max_speeches < 1
            ):
                raise InvalidAction(detail="limits must be positive")

    def _amend_target(self, e: Move) -> Motion | None:
        top = self.top
        if e.target is None:
            return top
        return self.motions[e.target] if e.target in self.stack else None

    def _check_amend_target(self, e: Move, top: Motion, names: dict[str, str]) -> None:
        """Amend applies to any pending amendable motion, whatever its rank, as long as every
        motion above it on the stack yields to the amendment (RONR §12, 6:6: the main motion
        may be amended while postpone indefinitely is pending); never to an amendment of an
        amendment (two degrees only).  ``Move.target`` names it; None means the immediately
        pending question."""
        target = self._amend_target(e)
        if target is None:
            raise OutOfOrder("invalid_target", detail=f"{e.target} is not a pending motion")
        t_names = _names(e.kind, target.kind)
        if target.rank is None or target.status is not MotionStatus.PENDING:
            raise OutOfOrder("not_amendable", **t_names)
        inner = self.motions[target.target] if target.kind is MotionKind.AMEND and target.target else None
        if not target.spec.amendable or (inner is not None and inner.kind is MotionKind.AMEND):
            raise OutOfOrder("not_amendable", **t_names)
        rank = self._rank_for(e.kind, target)
        assert rank is not None
        above = self.stack[self.stack.index(target.id) + 1 :]
        for mid in above:
            m = self.motions[mid]
            if m.rank is None or m.rank >= rank:
                raise OutOfOrder("precedence", **names)

    def _check_incidental(self, e: Move, top: Motion | None, names: dict[str, str]) -> None:
        kind = e.kind
        if kind is MotionKind.POINT_OF_ORDER:
            return  # in order whenever a breach occurs (RONR §23)
        if kind is MotionKind.APPEAL:
            if self.appealable is None:
                raise OutOfOrder("no_ruling")
            return
        if kind is MotionKind.DIVISION_OF_ASSEMBLY:
            # Demanded right after a vote taken by show of hands is announced (RONR §29).
            if self.redo is None:
                raise OutOfOrder(
                    "too_late",
                    detail="a division must be demanded as soon as the "
                    "result of a vote by show of hands is announced",
                )
            return
        if top is None:
            raise OutOfOrder("nothing_pending", **names)
        if kind is MotionKind.SUSPEND_RULES:
            if top.rank is None:
                raise OutOfOrder("precedence", **names)
            bad = [r for r in e.rules if r not in SUSPENDABLE_RULES]
            if not e.rules or bad:
                raise InvalidAction(detail=f"rules to suspend must be among {sorted(SUSPENDABLE_RULES)}")
            return
        # Objection to consideration and division of the question apply to a main motion itself.
        if top.kind is not MotionKind.MAIN:
            raise OutOfOrder("precedence", **names)
        if kind is MotionKind.OBJECTION_TO_CONSIDERATION:
            # Only before debate begins or any subsidiary motion is stated (RONR §26).
            if top.debated or top.objected:
                raise OutOfOrder("too_late", detail="debate on the question has begun")
        elif kind is MotionKind.DIVISION_OF_QUESTION:
            if len(e.parts) < 2 or any(not p.strip() for p in e.parts):
                raise InvalidAction(detail="a division needs at least two non-empty parts")

    def _rank_for(self, kind: MotionKind, top: Motion | None) -> Rank | None:
        rank = MOTIONS[kind].rank
        if rank is None:
            return None
        if kind is MotionKind.AMEND:
            # An amendment sits just above the motion it amends: at rank 3 over a main motion, and
            # just above a higher-ranking motion it amends (say, postpone), so that only motions
            # outranking that one are in order while the amendment is pending.
            assert top is not None and top.rank is not None
            t0, t1 = top.rank
            return (rank, 0) if t0 < rank else (t0, t1 + 1)
        return (rank, 0)

    def _do_move(self, e: Move) -> list[Outcome]:
        spec = MOTIONS[e.kind]
        out: list[Outcome] = []
        top = self.top
        # Making a motion ends the mover's turn at the floor; an interrupting motion made by
        # someone else stops the speaker, whose interrupted speech is not counted against them.
        if self.floor is not None:
            self._release_floor(e.at, out, interrupted=self.floor != e.actor)
        if e.kind is MotionKind.DIVISION_OF_ASSEMBLY:
            return out + self._retake_vote(e)
        if e.kind is MotionKind.APPEAL:
            target = self.appealable
        elif spec.category is Category.BRING_BACK:
            target = e.target
        elif spec.category is Category.PRIVILEGED or e.kind is MotionKind.POINT_OF_ORDER:
            target = None
        elif e.kind is MotionKind.AMEND:
            amended = self._amend_target(e)
            target = amended.id if amended else None
        else:
            target = top.id if top else None
        motion_id = f"m{self.version + 1}"
        motion = Motion(
            id=motion_id,
            kind=e.kind,
            text=e.text,
            original_text=e.text,
            mover=e.actor,
            made_at=e.at,
            # A point the chair decides needs no second and no statement: it awaits the ruling.
            status=MotionStatus.PENDING if spec.threshold in _CHAIR_DECIDES else MotionStatus.PROPOSED,
            rank=self._rank_for(e.kind, self.motions[target] if e.kind is MotionKind.AMEND and target else top),
            target=target,
            # Keep only the parameters this kind of motion uses; the rest of the event is ignored.
            parts=e.parts if e.kind is MotionKind.DIVISION_OF_QUESTION else (),
            notice=e.notice and e.kind in _RESCINDING,
            scope_all=e.scope_all and e.kind is MotionKind.PREVIOUS_QUESTION,
            proposed_seconds=e.speech_seconds if e.kind is MotionKind.LIMIT_DEBATE else None,
            proposed_speeches=e.max_speeches if e.kind is MotionKind.LIMIT_DEBATE else None,
            rules=e.rules if e.kind is MotionKind.SUSPEND_RULES else (),
            item=self.item if e.kind is MotionKind.MAIN and self.agenda else None,
        )
        if e.kind is MotionKind.AMEND and target is not None:
            self.motions[target].amendments.append(motion_id)
        self.motions[motion_id] = motion
        self.stack.append(motion_id)
        self.requests.clear()  # requests to speak were for the question that is no longer immediate
        out.append(MotionMade(motion_id, e.kind, e.actor))
        return out

    def _check_second(self, e: Second) -> None:
        self._need_participant(e.actor)
        top = self.top
        if top is None or top.status is not MotionStatus.PROPOSED:
            raise OutOfOrder("nothing_to_second")
        if not top.spec.needs_second or top.seconder is not None:
            raise InvalidAction("already_seconded")
        if top.mover == e.actor:
            raise InvalidAction("own_motion")

    def _do_second(self, e: Second) -> list[Outcome]:
        top = self.top
        assert top is not None
        top.seconder = e.actor
        return [Seconded(top.id, e.actor)]

    def _needs_second(self, motion: Motion) -> bool:
        return motion.spec.needs_second and self.profile.seconds_required and motion.seconder is None

    def _check_state_question(self, e: StateQuestion) -> None:
        self._need_chair(e.actor)
        top = self.top
        if top is None or top.status is not MotionStatus.PROPOSED:
            raise OutOfOrder("nothing_to_state")
        # RONR §4: a motion needing a second is not stated until seconded (profiles for small
        # boards and 南塘 switch seconds off).
        if self._needs_second(top):
            raise NotSeconded()

    def _do_state_question(self, e: StateQuestion) -> list[Outcome]:
        top = self.top
        assert top is not None
        top.status = MotionStatus.PENDING
        if top.spec.category is Category.SUBSIDIARY and top.target:
            self.motions[top.target].debated = True  # objection to consideration now too late
        return [QuestionStated(top.id)]

    def _check_no_second(self, e: NoSecond) -> None:
        self._need_chair(e.actor)
        top = self.top
        if top is None or top.status is not MotionStatus.PROPOSED:
            raise OutOfOrder("nothing_to_state")
        if not self._needs_second(top):
            raise InvalidAction("already_seconded")

    def _do_no_second(self, e: NoSecond) -> list[Outcome]:
        out: list[Outcome] = []
        self._pop(MotionStatus.NOT_SECONDED, e.at, out)
        self._after_pop(out)
        return out

    def _check_withdraw(self, e: Withdraw) -> None:
        self._need_present_member(e.actor)
        top = self.top
        if top is None:
            raise OutOfOrder("nothing_pending", **_names("withdraw", None))
        if e.motion_id is not None and e.motion_id != top.id:
            raise OutOfOrder("invalid_target", detail="only the immediately pending motion can be withdrawn")
        if top.mover != e.actor:
            raise NotEntitled("not_mover")

    def _do_withdraw(self, e: Withdraw) -> list[Outcome]:
        # Simplification of RONR §33: once stated, withdrawal needs the assembly's leave; the
        # engine grants it, and the minutes record the withdrawal.
        out: list[Outcome] = []
        self._pop(MotionStatus.WITHDRAWN, e.at, out)
        self._after_pop(out)
        return out

    def _pop(self, status: MotionStatus, at: datetime, out: list[Outcome]) -> Motion:
        motion = self.motions[self.stack.pop()]
        motion.status = status
        motion.decided_at = at
        out.append(MotionDisposed(motion.id, status))
        return motion

    def _dispose_rest(self, status: MotionStatus, at: datetime, out: list[Outcome], to: str = "") -> None:
        """Postpone, commit, postpone indefinitely: the main question goes, with all that adheres."""
        while self.stack:
            self._pop(status, at, out).postponed_to = to

    def _after_pop(self, out: list[Outcome]) -> None:
        # Suspension of the rules lasts for the question it was adopted for (RONR §25).
        if self.suspended_for is not None and self.suspended_for not in self.stack:
            self.suspended, self.suspended_for = frozenset(), None
        if not self.stack and self.queue:
            nxt = self.motions[self.queue.pop(0)]
            nxt.status = MotionStatus.PENDING
            self.stack.append(nxt.id)
            out.append(QuestionStated(nxt.id))
        self.requests.clear()

    # ------------------------------------------------------------------------------ floor, debate

    def _check_request_floor(self, e: RequestFloor) -> None:
        self._need_participant(e.actor)
        if e.actor == self.floor or any(m == e.actor for m, _ in self.requests):
            raise InvalidAction("already_requested")

    def _do_request_floor(self, e: RequestFloor) -> list[Outcome]:
        self.requests.append((e.actor, e.stance))
        return [FloorRequested(e.actor)]

    def _debate_question(self) -> Motion | None:
        """The immediately pending question if it is open to debate now."""
        top = self.top
        if top is None or top.status is not MotionStatus.PENDING or top.debate_closed:
            return None
        return top if self.debatable(top) else None

    def _check_recognize(self, e: Recognize) -> None:
        self._need_chair(e.actor)
        if self.floor is not None:
            raise DebateError("floor_taken", member=self.floor)
        stance = next((s for m, s in self.requests if m == e.member), None)
        if all(m != e.member for m, _ in self.requests):
            raise DebateError("not_requested", member=e.member)
        question = self._debate_question()
        if question is None:
            return
        made = self.speeches_made
        limit = self.max_speeches(question)
        first_timer = made(e.member, question.id) == 0
        others = [(m, s) for m, s in self.requests if m != e.member and made(m, question.id) < limit]
        # RONR 43:8 / DOMAIN.md: nobody speaks a second time while someone who has not spoken
        # on the question wants the floor.
        ftf = self.profile.first_time_first and not self._suspended("first_time_first")
        if ftf and not first_timer and any(made(m, question.id) == 0 for m, _ in others):
            raise DebateError("first_time_first")
        # 南塘十三条: the chair alternates pro and con speakers when both are waiting.
        if self.profile.alternate_stances and not self._suspended("alternation"):
            last = self.last_stance.get(question.id)
            if last in _OPPOSITE and stance == last:
                want = _OPPOSITE[last]
                pool = [(m, s) for m, s in others if not (ftf and first_timer) or made(m, question.id) == 0]
                if any(s == want for _, s in pool):
                    raise DebateError("alternation", stance=want.value, stance_zh=_STANCE_ZH[want])

    def _do_recognize(self, e: Recognize) -> list[Outcome]:
        self.floor_stance = next(s for m, s in self.requests if m == e.member)
        self.requests = [r for r in self.requests if r[0] != e.member]
        self.floor = e.member
        return [FloorGranted(e.member)]

    def _check_speak(self, e: Speak) -> None:
        self._need_participant(e.actor)
        if self.floor != e.actor:
            raise DebateError("no_floor")
        if self.speech is not None:
            raise InvalidAction(detail="already speaking")
        top = self.top
        if top is None:
            raise OutOfOrder("nothing_pending", kind="speech", kind_zh="发言")
        if top.status is MotionStatus.PROPOSED:
            raise OutOfOrder("not_stated")
        if not self.debatable(top):
            raise DebateError("not_debatable", **_names(None, top.kind))
        if top.debate_closed:
            raise DebateError("debate_closed")
        limit = self.max_speeches(top)
        if self.speeches_made(e.actor, top.id) >= limit and not self._suspended("speech_limit"):
            raise DebateError("speech_limit", limit=limit)
        stance = e.stance or self.floor_stance
        if (
            self.profile.stance_required
            and not self._suspended("stance_required")
            and stance not in _OPPOSITE
        ):
            raise DebateError("stance_required")

    def _do_speak(self, e: Speak) -> list[Outcome]:
        top = self.top
        assert top is not None
        stance = e.stance or self.floor_stance
        key = (e.actor, top.id)
        self.speech_counts[key] = self.speech_counts.get(key, 0) + 1
        self.speech = Speech(e.actor, top.id, stance, e.at, self.speech_counts[key])
        self.speeches.append(self.speech)
        top.debated = True
        if stance in _OPPOSITE:
            self.last_stance[top.id] = stance
        return [SpeechStarted(e.actor, top.id, stance, self.speech_counts[key])]

    def _check_yield_floor(self, e: YieldFloor) -> None:
        if self.floor is None and self.timed_out == e.actor:
            return  # the speaker's time ran out just before: yielding is a no-op
        if self.floor != e.actor:
            raise DebateError("no_floor")

    def _do_yield_floor(self, e: YieldFloor) -> list[Outcome]:
        self.timed_out = None
        out: list[Outcome] = []
        self._release_floor(e.at, out)
        return out

    def _check_cut_off(self, e: CutOff) -> None:
        self._need_chair(e.actor)
        if self.speech is None and not (self.timed_out is not None and e.reason == "overrun"):
            raise DebateError("not_speaking")
        if e.reason not in CUT_OFF_REASONS:
            raise InvalidAction(detail=f"reason must be one of {sorted(CUT_OFF_REASONS)}")
        if e.reason == "overrun" and self.speech is not None and not self._overran(self.speech, e.at):
            raise DebateError("not_overrun")

    def _do_cut_off(self, e: CutOff) -> list[Outcome]:
        self.timed_out = None
        out: list[Outcome] = []
        self._release_floor(e.at, out, cut_off=e.reason)
        return out

    def _overran(self, speech: Speech, at: datetime) -> bool:
        if self._suspended("speech_time"):
            return False
        limit = self.speech_limit_seconds(self.motions[speech.motion_id])
        return (at - speech.started).total_seconds() > limit

    def _expire(self, at: datetime, out: list[Outcome]) -> None:
        """The floor ends at the speech's time limit (RONR 43:8; 南塘 two minutes).  The engine has
        no clock: the first event whose timestamp is past the limit ends the speech *at* the
        limit, before that event is judged, so a member past the limit no longer holds the floor
        and cannot make motions.  Screens show the running clock with ``speech_elapsed(now)``."""
        s = self.speech
        if s is None or not self._overran(s, at):
            return
        limit = self.speech_limit_seconds(self.motions[s.motion_id])
        if self.profile.rules_version < 2:
            # First edition: the overrun is flagged and the chair cuts the speech off.
            if not s.overrun:
                s.overrun = True
                out.append(SpeechOverrun(s.member, s.motion_id, limit))
            return
        s.overrun = True
        out.append(SpeechOverrun(s.member, s.motion_id, limit))
        self._release_floor(s.started + timedelta(seconds=limit), out, cut_off="overrun")
        self.timed_out = s.member

    def _release_floor(
        self, at: datetime, out: list[Outcome], *, interrupted: bool = False, cut_off: str | None = None
    ) -> None:
        s = self.speech
        if s is not None:
            s.ended, s.cut_off, s.interrupted = at, cut_off, interrupted
            if interrupted:
                self.speech_counts[(s.member, s.motion_id)] -= 1
            out.append(SpeechEnded(s.member, s.motion_id, (at - s.started).total_seconds(), cut_off))
        self.speech = None
        self.floor = None
        self.floor_stance = None

    # --------------------------------------------------------------------------------- rulings

    def _check_rule(self, e: ChairRuling) -> None:
        self._need_chair(e.actor)
        top = self.top
        if top is None or top.spec.threshold not in _CHAIR_DECIDES:
            raise OutOfOrder("nothing_to_rule")

    def _do_rule(self, e: ChairRuling) -> list[Outcome]:
        out: list[Outcome] = []
        motion = self._pop(MotionStatus.RULED, e.at, out)
        motion.well_taken = e.well_taken
        motion.ruling_text = e.text
        self.appealable = motion.id
        out.append(RulingMade(motion.id, e.well_taken))
        self._after_pop(out)
        return out

    # ---------------------------------------------------------------------------------- voting

    def _check_call_vote(self, e: CallVote) -> None:
        self._need_chair(e.actor)
        top = self.top
        if top is None:
            raise OutOfOrder("nothing_pending", kind="vote", kind_zh="表决")
        if top.status is MotionStatus.PROPOSED:
            raise OutOfOrder("not_stated")
        if top.spec.threshold in _CHAIR_DECIDES:
            raise OutOfOrder("not_voted", **_names(None, top.kind))
        # RONR §40: no business requiring a vote without a quorum, judged when the vote is called;
        # adjourn, recess and fix the time to which to adjourn remain in order (RONR 40:6-7).
        if not self.has_quorum() and top.kind not in QUORUM_EXEMPT:
            raise VotingError("no_quorum", present=self.present_weight(), needed=self.quorum_needed())
        if self.floor is not None:
            raise DebateError("floor_held")
        # Only the chair calls the vote, and only after the speeches are used up (南塘; RONR §43:
        # closing debate against the will of members takes the previous question).
        if self.profile.vote_after_debate and self._debate_question() is top:
            limit = self.max_speeches(top)
            if any(self.speeches_made(m, top.id) < limit for m, _ in self.requests):
                raise DebateError("debate_open")

    def _do_call_vote(self, e: CallVote) -> list[Outcome]:
        top = self.top
        assert top is not None
        self.requests.clear()
        self.ballot = Ballot(top.id, e.method, self.threshold(top), e.at, self.present_weight())
        top.status = MotionStatus.VOTING
        return [VotingOpened(top.id, e.method)]

    def _check_cast_vote(self, e: CastVote) -> None:
        b = self.ballot
        if b is None:
            raise OutOfOrder("no_vote")
        self._need_present_member(e.actor)
        if e.actor in b.voters:
            raise VotingError("double_vote")
        if b.closed:
            raise VotingError("vote_closed")
        if e.choice is None:
            # Only a stored secret ballot's roll entry comes without a choice; a person votes.
            if not (self.replaying and b.secret):
                raise InvalidAction("bad_value", field="choice", value="", choices="aye、no、abstain")
            return
        if e.choice is VoteChoice.ABSTAIN and not self.profile.abstentions_asked:
            raise VotingError("abstain_not_asked")
        if e.actor == self.chair:
            rule = self.profile.chair_votes
            if rule is ChairVotes.NEVER:
                raise VotingError("chair_vote")
            if rule is ChairVotes.WHEN_DECISIVE and b.secret:
                return  # RONR 44:12: by ballot the chair votes like everyone
            # The chair never votes first: 南塘 "the chair votes last"; RONR 44:12 "when the vote
            # would change the result", which is known only once the others have voted.
            others = [m for m in self.present if m != e.actor and m in self.members]
            if self.profile.rules_version < 2:
                others = []  # recorded before the chair had to wait for the others
            if rule is ChairVotes.LAST and self.profile.rules_version >= 2 and not any(v != e.actor for v in b.voters):
                raise VotingError("chair_votes_first")
            if rule is ChairVotes.WHEN_DECISIVE:
                if any(m not in b.voters for m in others):
                    raise VotingError("chair_votes_first")
                before = self._tally(b).adopted
                after = self._tally(b, (e.choice, self.weight(e.actor))).adopted
                if before == after:
                    raise VotingError("not_decisive")

    def _do_cast_vote(self, e: CastVote) -> list[Outcome]:
        b = self.ballot
        assert b is not None
        b.voters.append(e.actor)
        if b.secret:
            if e.choice is not None:  # None: a roll entry read back from the log
                b.anonymous.append((e.choice, self.weight(e.actor)))
                b.anonymous.sort()
        else:
            assert e.choice is not None
            b.roll[e.actor] = e.choice
        if e.actor == self.chair and not (self.profile.chair_votes is ChairVotes.WHEN_DECISIVE and b.secret):
            b.closed = True  # the chair votes last (南塘), or casts the deciding vote (RONR 44:12)
        return [VoteRecorded(e.actor, None if b.secret else e.choice)]

    def _check_announce_result(self, e: AnnounceResult) -> None:
        self._need_chair(e.actor)
        b = self.ballot
        if b is None:
            raise OutOfOrder("no_vote")
        if e.box:
            if not b.secret:
                raise InvalidAction(detail="only a secret ballot has a ballot box")
            if len(b.anonymous) + len(e.box) != len(b.voters):
                raise InvalidAction("ballot_box", boxed=len(b.anonymous) + len(e.box), voters=len(b.voters))
        elif b.secret and len(b.anonymous) != len(b.voters):
            raise InvalidAction("ballot_box", boxed=len(b.anonymous), voters=len(b.voters))

    def _quorum_held(self, b: Ballot) -> bool:
        motion = self.motions[b.motion_id]
        if self.profile.rules_version < 2:
            return True  # recorded before a vote without a quorum throughout was void
        return motion.kind in QUORUM_EXEMPT or not (b.quorum_lost or not self.has_quorum())

    def _do_announce_result(self, e: AnnounceResult) -> list[Outcome]:
        b = self.ballot
        assert b is not None
        if e.box:
            b.anonymous = sorted([*b.anonymous, *e.box])
        if not self._quorum_held(b):
            return self._void_vote(b, e.at)
        # One deepcopy of all fields together keeps shared references (the current speech) shared.
        snapshot = (
            copy.deepcopy({k: v for k, v in vars(self).items() if k not in _NOT_SNAPSHOT})
            if b.method is VoteMethod.SHOW_OF_HANDS
            else None
        )
        result = self._tally(b)
        record = BallotRecord(
            motion_id=b.motion_id,
            method=b.method,
            called_at=b.called_at,
            announced_at=e.at,
            result=result,
            voters=tuple(sorted(b.voters)),
            roll=() if b.secret else tuple(sorted(b.roll.items())),
            box=tuple(b.anonymous) if b.secret else (),
        )
        self.ballot = None
        motion = self.motions[self.stack.pop()]
        assert motion.id == b.motion_id
        motion.ballots.append(record)
        motion.status = MotionStatus.ADOPTED if result.adopted else MotionStatus.LOST
        motion.decided_at = e.at
        out: list[Outcome] = [ResultAnnounced(motion.id, result, motion.status)]
        if motion.kind is MotionKind.MAIN:
            prevailing = None
            if not b.secret:
                side = VoteChoice.AYE if result.adopted else VoteChoice.NO
                prevailing = frozenset(m for m, c in b.roll.items() if c is side)
            self.decided[motion.id] = Decision(motion.id, motion.text, result.adopted, prevailing, True)
        self._apply_result(motion, result.adopted, e.at, out)
        self._after_pop(out)
        if snapshot is not None:
            self.redo = _Redo(snapshot, record)
        return out

    def _void_vote(self, b: Ballot, at: datetime) -> list[Outcome]:
        """A quorum lost while the vote was open: no result (RONR 40:6-7, the engine's reading:
        the quorum must hold from the call to the announcement).  The record is kept, marked void;
        the question is pending again and may be put once a quorum is present."""
        record = BallotRecord(
            motion_id=b.motion_id,
            method=b.method,
            called_at=b.called_at,
            announced_at=at,
            result=self._tally(b),
            voters=tuple(sorted(b.voters)),
            roll=() if b.secret else tuple(sorted(b.roll.items())),
            box=tuple(b.anonymous) if b.secret else (),
            superseded=True,
            void=True,
        )
        self.ballot = None
        motion = self.motions[b.motion_id]
        motion.ballots.append(record)
        motion.status = MotionStatus.PENDING
        return [VoteVoided(motion.id, "quorum_lost")]

    def _retake_vote(self, e: Move) -> list[Outcome]:
        """Division of the assembly: undo the announced result and vote again, counted by name."""
        redo = self.redo
        assert redo is not None
        for key, value in redo.state.items():
            setattr(self, key, value)
        self.redo = None
        motion = self.motions[redo.record.motion_id]
        motion.ballots.append(replace(redo.record, superseded=True))
        demand_id = f"m{self.version + 1}"
        self.motions[demand_id] = Motion(
            id=demand_id,
            kind=e.kind,
            text=e.text,
            mover=e.actor,
            made_at=e.at,
            status=MotionStatus.ADOPTED,
            rank=None,
            target=motion.id,
            decided_at=e.at,
        )
        old = self.ballot
        assert old is not None
        self.ballot = Ballot(motion.id, VoteMethod.ROLL_CALL, old.threshold, e.at, old.present_weight)
        return [MotionMade(demand_id, e.kind, e.actor), VotingOpened(motion.id, VoteMethod.ROLL_CALL)]

    def _apply_result(self, motion: Motion, adopted: bool, at: datetime, out: list[Outcome]) -> None:
        """The effect of a decided motion on the rest of the meeting (the motion is already popped)."""
        kind = motion.kind
        target = self.motions.get(motion.target or "")
        if kind is MotionKind.APPEAL:
            assert target is not None
            target.overruled = not adopted  # "adopted" = the decision of the chair stands
            return
        if kind is MotionKind.OBJECTION_TO_CONSIDERATION:
            assert target is not None
            if adopted:
                self._pop(MotionStatus.NOT_CONSIDERED, at, out)
            else:
                target.objected = True
            return
        if not adopted:
            return
        if kind is MotionKind.AMEND:
            assert target is not None
            target.text = motion.text
        elif kind is MotionKind.POSTPONE_INDEFINITELY:
            self._dispose_rest(MotionStatus.KILLED, at, out)
        elif kind is MotionKind.POSTPONE_TO_CERTAIN_TIME:
            self._dispose_rest(MotionStatus.POSTPONED, at, out, motion.text)
        elif kind is MotionKind.COMMIT:
            self._dispose_rest(MotionStatus.COMMITTED, at, out, motion.text)
        elif kind is MotionKind.LAY_ON_THE_TABLE:
            group = list(self.stack)
            for mid in group:
                self.motions[mid].status = MotionStatus.TABLED
                out.append(MotionDisposed(mid, MotionStatus.TABLED))
            self.table[group[0]] = group
            self.stack.clear()
        elif kind is MotionKind.TAKE_FROM_TABLE:
            assert motion.target is not None
            group = self.table.pop(motion.target)
            for mid in group:
                self.motions[mid].status = MotionStatus.PENDING
            self.stack.extend(group)
        elif kind is MotionKind.PREVIOUS_QUESTION:
            for mid in self.stack if motion.scope_all else self.stack[-1:]:
                self.motions[mid].debate_closed = True
        elif kind is MotionKind.LIMIT_DEBATE:
            assert target is not None
            if motion.proposed_seconds is not None:
                target.speech_seconds = motion.proposed_seconds
            if motion.proposed_speeches is not None:
                target.max_speeches = motion.proposed_speeches
        elif kind is MotionKind.RECESS:
            self._release_floor(at, out)
            self.requests.clear()
            self.session = Session.RECESS
            out.append(SessionChanged(self.session.value))
        elif kind is MotionKind.ADJOURN:
            self._adjourn(at, out)
        elif kind is MotionKind.FIX_TIME_TO_ADJOURN:
            self.adjourned_to = motion.text
        elif kind is MotionKind.SUSPEND_RULES:
            self.suspended = self.suspended | frozenset(motion.rules)
            self.suspended_for = self.stack[0]
        elif kind is MotionKind.DIVISION_OF_QUESTION:
            main = self._pop(MotionStatus.DIVIDED, at, out)
            parts = []
            for i, text in enumerate(motion.parts, 1):
                part = Motion(
                    id=f"{main.id}.{i}",
                    kind=MotionKind.MAIN,
                    text=text,
                    original_text=text,
                    mover=main.mover,
                    seconder=main.seconder,
                    made_at=at,
                    status=MotionStatus.QUEUED,
                    rank=main.rank,
                    target=main.id,
                    item=main.item,
                )
                self.motions[part.id] = part
                parts.append(part.id)
            self.queue[:0] = parts  # taken up one by one, before anything queued earlier
        elif kind is MotionKind.RESCIND:
            assert motion.target is not None
            self.decided[motion.target] = replace(self.decided[motion.target], rescinded=True)
            if target is not None:
                target.status = MotionStatus.RESCINDED
        elif kind is MotionKind.AMEND_PREVIOUSLY_ADOPTED:
            # The decision stands with the new wording (RONR §35), whichever meeting adopted it.
            assert motion.target is not None
            self.decided[motion.target] = replace(self.decided[motion.target], text=motion.text)
            if target is not None:
                target.text = motion.text
        elif kind is MotionKind.RECONSIDER:
            # The question returns to the state it was in just before the vote being reconsidered.
            assert target is not None
            del self.decided[target.id]
            target.status = MotionStatus.PENDING
            target.reconsidered = True
            target.debate_closed = False
            target.decided_at = None
            self.stack.append(target.id)
            out.append(QuestionStated(target.id))

    # ---------------------------------------------------------------------------------- probes

    def _probes(self, member: str, at: datetime) -> Iterator[Event]:
        """Candidate events for ``legal_events``: one per action (and motion kind, and target)."""
        a: dict[str, Any] = {"actor": member, "at": at}
        yield CallToOrder(**a)
        yield Arrive(**a)
        yield Leave(**a)
        for kind in MotionKind:
            targets: Iterable[str | None] = [None]
            if kind is MotionKind.TAKE_FROM_TABLE:
                targets = list(self.table)
            elif kind in _RESCINDING:
                targets = [d.motion_id for d in self.decided.values() if d.adopted and not d.rescinded]
            elif kind is MotionKind.RECONSIDER:
                targets = [d.motion_id for d in self.decided.values() if d.this_meeting]
            elif kind is MotionKind.AMEND:
                targets = list(reversed(self.stack))
            for target in targets:
                yield Move(
                    kind=kind,
                    text="…",
                    target=target,
                    parts=("…", "…"),
                    rules=("speech_limit",),
                    speech_seconds=60,
                    **a,
                )
        yield Second(**a)
        yield StateQuestion(**a)
        yield NoSecond(**a)
        yield Withdraw(**a)
        yield RequestFloor(**a)
        for requester, _ in self.requests:
            yield Recognize(member=requester, **a)
        for stance in (None, Stance.PRO, Stance.CON):
            yield Speak(stance=stance, **a)
        yield YieldFloor(**a)
        yield CutOff(reason="off_topic", **a)
        yield ChairRuling(well_taken=True, **a)
        yield CallVote(**a)
        for choice in VoteChoice:
            yield CastVote(choice=choice, **a)
        yield AnnounceResult(**a)
        for other in self.present:
            yield HandOverChair(to=other, **a)
        yield DeclareAdjourned(**a)
        if self.item < len(self.agenda):
            yield TakeUpItem(item=self.item + 1, **a)


@dataclass(frozen=True, slots=True)
class Handler:
    """How the engine takes one kind of event: ``check`` raises the refusal (changing nothing),
    ``apply`` changes the meeting and returns what happened."""

    check: Callable[[Meeting, Any], None]
    apply: Callable[[Meeting, Any], list[Outcome]]


# Every action the engine knows, with its check and its effect: an explicit table rather than a
# method name built from the action at run time, so reading it shows where an action is handled
# and an action without handlers fails at import, not in the middle of a meeting.
HANDLERS: dict[ActionKind, Handler] = {
    ActionKind.CALL_TO_ORDER: Handler(Meeting._check_call_to_order, Meeting._do_call_to_order),
    ActionKind.ARRIVE: Handler(Meeting._check_arrive, Meeting._do_arrive),
    ActionKind.LEAVE: Handler(Meeting._check_leave, Meeting._do_leave),
    ActionKind.MOVE: Handler(Meeting._check_move, Meeting._do_move),
    ActionKind.SECOND: Handler(Meeting._check_second, Meeting._do_second),
    ActionKind.STATE_QUESTION: Handler(Meeting._check_state_question, Meeting._do_state_question),
    ActionKind.NO_SECOND: Handler(Meeting._check_no_second, Meeting._do_no_second),
    ActionKind.WITHDRAW: Handler(Meeting._check_withdraw, Meeting._do_withdraw),
    ActionKind.REQUEST_FLOOR: Handler(Meeting._check_request_floor, Meeting._do_request_floor),
    ActionKind.RECOGNIZE: Handler(Meeting._check_recognize, Meeting._do_recognize),
    ActionKind.SPEAK: Handler(Meeting._check_speak, Meeting._do_speak),
    ActionKind.YIELD_FLOOR: Handler(Meeting._check_yield_floor, Meeting._do_yield_floor),
    ActionKind.CUT_OFF: Handler(Meeting._check_cut_off, Meeting._do_cut_off),
    ActionKind.RULE: Handler(Meeting._check_rule, Meeting._do_rule),
    ActionKind.CALL_VOTE: Handler(Meeting._check_call_vote, Meeting._do_call_vote),
    ActionKind.CAST_VOTE: Handler(Meeting._check_cast_vote, Meeting._do_cast_vote),
    ActionKind.ANNOUNCE_RESULT: Handler(Meeting._check_announce_result, Meeting._do_announce_result),
    ActionKind.HAND_OVER_CHAIR: Handler(Meeting._check_hand_over_chair, Meeting._do_hand_over_chair),
    ActionKind.DECLARE_ADJOURNED: Handler(Meeting._check_declare_adjourned, Meeting._do_declare_adjourned),
    ActionKind.TAKE_UP_ITEM: Handler(Meeting._check_take_up_item, Meeting._do_take_up_item),
}
_missing = set(ActionKind) - set(HANDLERS)
if _missing:  # pragma: no cover - a programming error, caught on import
    raise RuntimeError(f"procedure: no handler for {sorted(_missing)}")


def replay(
    events: Iterable[Event],
    *,
    members: Iterable[Member | str],
    profile: RuleProfile = RONR,
    prior: Iterable[Decision] = (),
    box: Iterable[tuple[VoteChoice, int]] | None = None,
    agenda: Iterable[str] = (),
) -> Meeting:
    """Rebuild a meeting from its event log."""
    return Meeting.replay(events, members=members, profile=profile, prior=prior, box=box, agenda=agenda)
