"""Minutes: the event log folded into a plain record the Django app renders (HTML, PDF, DOCX).

Nothing here decides anything: the record is read off a replayed :class:`Meeting`, so the
minutes can never disagree with the procedure that produced them.  A secret ballot appears
only as counts and the list of who voted.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from procedure.enums import MotionKind, MotionStatus, Stance, VoteChoice, VoteMethod
from procedure.events import Event
from procedure.meeting import Decision, Meeting, Member, Motion
from procedure.rules import MOTIONS, RONR, RuleProfile
from procedure.tally import TallyResult

_RULED_BY_CHAIR = frozenset(
    {MotionKind.POINT_OF_ORDER, MotionKind.QUESTION_OF_PRIVILEGE, MotionKind.ORDERS_OF_THE_DAY}
)


@dataclass(frozen=True, slots=True)
class AttendanceRecord:
    member: str
    weight: int
    spans: tuple[tuple[datetime, datetime | None], ...]  # (arrived, left); left None = stayed


@dataclass(frozen=True, slots=True)
class SpeechRecord:
    member: str
    stance: Stance | None
    number: int
    started: datetime
    ended: datetime | None
    seconds: float | None
    overrun: bool
    cut_off: str | None
    interrupted: bool


@dataclass(frozen=True, slots=True)
class VoteRecord:
    method: VoteMethod
    called_at: datetime
    announced_at: datetime
    result: TallyResult
    voters: tuple[str, ...]
    roll: tuple[tuple[str, VoteChoice], ...]  # empty for a secret ballot
    superseded: bool
    void: bool = False  # the quorum failed while the vote was open: no result (RONR 40:6-7)


@dataclass(frozen=True, slots=True)
class MotionRecord:
    id: str
    kind: MotionKind
    name_zh: str
    name_en: str
    text: str  # final wording, after adopted amendments
    original_text: str
    mover: str
    seconder: str | None
    made_at: datetime
    decided_at: datetime | None
    applies_to: str | None
    status: MotionStatus
    amendments: tuple[str, ...]
    parts: tuple[str, ...]
    postponed_to: str
    speeches: tuple[SpeechRecord, ...]
    votes: tuple[VoteRecord, ...]
    item: int | None = None  # the agenda item (order of the day) a main motion was made under


@dataclass(frozen=True, slots=True)
class RulingRecord:
    motion_id: str
    kind: MotionKind
    raised_by: str
    raised_at: datetime
    text: str
    well_taken: bool | None  # None: never ruled on (withdrawn, or the meeting ended)
    ruling_text: str
    appeals: tuple[str, ...]
    overruled: bool | None  # None: no appeal decided


@dataclass(frozen=True, slots=True)
class Minutes:
    profile: str
    called_to_order_at: datetime | None
    adjourned_at: datetime | None
    adjourned_to: str
    chairs: tuple[tuple[str, datetime], ...]  # who took the chair, when
    attendance: tuple[AttendanceRecord, ...]
    membership_weight: int
    quorum_needed: int
    motions: tuple[MotionRecord, ...]  # in the order made
    rulings: tuple[RulingRecord, ...]
    unfinished: tuple[str, ...]  # still pending at adjournment (RONR: unfinished business)
    tabled: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def motion(self, motion_id: str) -> MotionRecord:
        return next(m for m in self.motions if m.id == motion_id)


def _motion_record(meeting: Meeting, m: Motion) -> MotionRecord:
    spec = MOTIONS[m.kind]
    speeches = tuple(
        SpeechRecord(
            s.member, s.stance, s.number, s.started, s.ended, s.seconds, s.overrun, s.cut_off, s.interrupted
        )
        for s in meeting.speeches
        if s.motion_id == m.id
    )
    votes = tuple(
        VoteRecord(b.method, b.called_at, b.announced_at, b.result, b.voters, b.roll, b.superseded, b.void)
        for b in m.ballots
    )
    return MotionRecord(
        id=m.id,
        kind=m.kind,
        name_zh=spec.name_zh,
        name_en=spec.name_en,
        text=m.text,
        original_text=m.original_text,
        mover=m.mover,
        seconder=m.seconder,
        made_at=m.made_at,
        decided_at=m.decided_at,
        applies_to=m.target,
        status=m.status,
        amendments=tuple(m.amendments),
        parts=m.parts,
        postponed_to=m.postponed_to,
        speeches=speeches,
        votes=votes,
        item=m.item,
    )


def build_minutes(meeting: Meeting) -> Minutes:
    """Structured minutes of ``meeting`` as it stands (normally after adjournment)."""
    appeals: dict[str, list[str]] = {}
    for m in meeting.motions.values():
        if m.kind is MotionKind.APPEAL and m.target:
            appeals.setdefault(m.target, []).append(m.id)
    rulings = tuple(
        RulingRecord(
            m.id,
            m.kind,
            m.mover,
            m.made_at,
            m.text,
            m.well_taken,
            m.ruling_text,
            tuple(appeals.get(m.id, ())),
            m.overruled,
        )
        for m in meeting.motions.values()
        if m.kind in _RULED_BY_CHAIR
    )
    attendance = tuple(
        AttendanceRecord(member.id, member.weight, tuple(meeting.attendance[member.id]))
        for member in meeting.members.values()
        if member.id in meeting.attendance
    )
    return Minutes(
        profile=meeting.profile.name,
        called_to_order_at=meeting.called_at,
        adjourned_at=meeting.adjourned_at,
        adjourned_to=meeting.adjourned_to,
        chairs=tuple(meeting.chair_history),
        attendance=attendance,
        membership_weight=meeting.membership_weight(),
        quorum_needed=meeting.quorum_needed(),
        motions=tuple(_motion_record(meeting, m) for m in meeting.motions.values()),
        rulings=rulings,
        unfinished=tuple(meeting.stack) + tuple(meeting.queue),
        tabled=tuple(meeting.table),
    )


def minutes_from_events(
    events: Iterable[Event],
    *,
    members: Iterable[Member | str],
    profile: RuleProfile = RONR,
    prior: Iterable[Decision] = (),
) -> Minutes:
    """Fold an event log into minutes (replays it, so an illegal log raises)."""
    return build_minutes(Meeting.replay(events, members=members, profile=profile, prior=prior))
