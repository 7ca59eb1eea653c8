"""A small driver for tests: a meeting with a clock, and shorthands for the usual steps."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from procedure import (
    MOTIONS,
    RONR,
    AnnounceResult,
    Arrive,
    CallToOrder,
    CallVote,
    CastVote,
    Decision,
    Event,
    Meeting,
    Member,
    MotionKind,
    MotionMade,
    MotionStatus,
    Move,
    Outcome,
    ProcedureError,
    Recognize,
    RequestFloor,
    ResultAnnounced,
    RuleProfile,
    Second,
    Speak,
    Stance,
    StateQuestion,
    TallyResult,
    VoteChoice,
    VoteMethod,
    YieldFloor,
)

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
MEMBERS = ("a", "b", "c", "d", "e", "f", "g")
CHAIR = "chair"  # a trained moderator, not a member of the council


class Room:
    def __init__(
        self,
        profile: RuleProfile = RONR,
        members: Iterable[Member | str] = MEMBERS,
        present: Sequence[str] | None = None,
        prior: Iterable[Decision] = (),
        start: bool = True,
        chair: str = CHAIR,
    ) -> None:
        self.m = Meeting(members, profile, prior)
        self.t = T0
        for member in self.m.members if present is None else present:
            self.push(Arrive, member)
        if start:
            self.push(CallToOrder, chair)

    def tick(self, seconds: float = 1) -> datetime:
        self.t += timedelta(seconds=seconds)
        return self.t

    def ev(self, cls: type[Event], actor: str, advance: float = 1, **kw: Any) -> Event:
        return cls(actor=actor, at=self.tick(advance), **kw)

    def push(self, cls: type[Event], actor: str, advance: float = 1, **kw: Any) -> tuple[Outcome, ...]:
        return self.m.push(self.ev(cls, actor, advance, **kw))

    def floor(self, member: str, stance: Stance | None = None) -> None:
        self.push(RequestFloor, member, stance=stance)
        self.push(Recognize, self.m.chair or CHAIR, member=member)

    def move(
        self, kind: MotionKind, by: str = "a", second: str | None = "b", state: bool = True, **kw: Any
    ) -> str:
        spec = MOTIONS[kind]
        if not spec.interrupts and self.m.profile.motions_need_floor:
            self.floor(by)
        kw.setdefault("text", "…")
        out = self.push(Move, by, kind=kind, **kw)
        mid = next(o.motion_id for o in out if isinstance(o, MotionMade))
        if self.m.motions[mid].status is MotionStatus.PROPOSED:
            if second and spec.needs_second:
                self.push(Second, second)
            if state:
                self.push(StateQuestion, self.m.chair or CHAIR)
        return mid

    def main(self, text: str = "在楼间加装空调冷凝水管", by: str = "a", second: str | None = "b") -> str:
        return self.move(MotionKind.MAIN, by=by, second=second, text=text)

    def speak(self, member: str, stance: Stance | None = None, seconds: float = 60) -> None:
        self.floor(member, stance)
        self.push(Speak, member, stance=stance)
        self.push(YieldFloor, member, advance=seconds)

    def vote(
        self,
        ayes: Iterable[str] = (),
        noes: Iterable[str] = (),
        abstain: Iterable[str] = (),
        method: VoteMethod = VoteMethod.SHOW_OF_HANDS,
    ) -> TallyResult:
        chair = self.m.chair or CHAIR
        self.push(CallVote, chair, method=method)
        for members, choice in ((ayes, VoteChoice.AYE), (noes, VoteChoice.NO), (abstain, VoteChoice.ABSTAIN)):
            for member in members:
                self.push(CastVote, member, choice=choice)
        out = self.push(AnnounceResult, chair)
        return next(o.result for o in out if isinstance(o, ResultAnnounced))

    def refused(
        self, cls: type[Event], actor: str, rule: str, exc: type[ProcedureError] = ProcedureError, **kw: Any
    ) -> ProcedureError:
        """Push an illegal event: assert the rule, the exception class and that nothing changed."""
        before = self.m.copy()
        event = self.ev(cls, actor, **kw)
        assert not self.m.is_legal(event)
        with pytest.raises(exc) as info:
            self.m.push(event)
        assert info.value.rule == rule, info.value
        assert info.value.message_zh and info.value.message_en
        assert self.m == before
        return info.value
