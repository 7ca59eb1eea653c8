"""The meeting's state as the API shows it to one viewer (pure: engine + frozen roster in, JSON out).

Actions return it with their result and ``queries.meeting_state_for`` serves it, so the two can
never disagree; the live room's sockets use their own, smaller projection (``councils/room.py``).
``now`` is passed in: this module reads no clock and no database.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from procedure import (
    MOTIONS,
    HandOverChair,
    MotionKind,
    Move,
    Recognize,
    VoteMethod,
)
from procedure import (
    Meeting as Engine,
)


def _name(meeting: Any, member_id: str | None) -> str:
    if member_id is None:
        return ""
    for r in meeting.roster or []:
        if str(r["id"]) == member_id:
            return str(r["name"])
    return member_id


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _tally_dict(result: Any) -> dict[str, Any]:
    return {
        "ayes": result.ayes, "noes": result.noes, "abstentions": result.abstentions,
        "ayes_weight": result.ayes_weight, "noes_weight": result.noes_weight,
        "abstentions_weight": result.abstentions_weight, "present_weight": result.present_weight,
        "membership_weight": result.membership_weight, "adopted": result.adopted, "reason": result.reason,
        "threshold": result.threshold.value,
    }


def legal_for(engine: Engine, member_id: str, now: datetime) -> dict[str, Any]:
    """What ``member_id`` may do now: action codes, motion kinds, and the concrete choices."""
    at = max(now, engine.last_at) if engine.last_at else now
    events = engine.legal_events(member_id, at)
    targets: dict[str, list[str]] = {}
    for e in events:
        if isinstance(e, Move) and e.target is not None:
            targets.setdefault(e.kind.value, []).append(e.target)
    return {
        "actions": sorted({e.action.value for e in events}),
        "motions": sorted({e.kind.value for e in events if isinstance(e, Move)},
                          key=lambda k: -(MOTIONS[MotionKind(k)].rank or 0)),
        "recognize": [e.member for e in events if isinstance(e, Recognize)],
        "hand_over_to": [e.to for e in events if isinstance(e, HandOverChair)],
        "targets": targets,
    }


def meeting_state(meeting: Any, engine: Engine, viewer: str | None, now: datetime, *, with_legal: bool = True) -> dict[str, Any]:
    """JSON-able snapshot of ``meeting`` (a started one: its roster is frozen) for ``viewer``."""
    def name(mid: str | None) -> str:
        return _name(meeting, mid)

    stack = []
    for m in engine.pending:
        stack.append({
            "id": m.id, "kind": m.kind.value, "name_zh": m.spec.name_zh, "name_en": m.spec.name_en,
            "text": m.text, "mover": m.mover, "mover_name": name(m.mover), "seconder": m.seconder,
            "seconder_name": name(m.seconder), "status": m.status.value, "debatable": engine.debatable(m),
            "needs_second": bool(m.spec.needs_second and engine.profile.seconds_required and m.seconder is None),
            "threshold": engine.threshold(m).value, "debate_closed": m.debate_closed, "target": m.target,
            "speech_seconds": engine.speech_limit_seconds(m), "max_speeches": engine.max_speeches(m),
        })
    top = engine.top
    floor = None
    if engine.floor is not None:
        speech = engine.speech
        floor = {
            "member": engine.floor, "name": name(engine.floor),
            "stance": engine.floor_stance.value if engine.floor_stance else None,
            "speech": None if speech is None else {
                "started": _iso(speech.started), "number": speech.number, "overrun": speech.overrun,
                "stance": speech.stance.value if speech.stance else None,
                "limit_seconds": engine.speech_limit_seconds(engine.motions[speech.motion_id]),
            },
        }
    queue = [
        {"member": m, "name": name(m), "stance": s.value if s else None,
         "speeches_made": engine.speeches_made(m, top.id) if top else 0}
        for m, s in engine.requests
    ]
    speeches = {}
    if top is not None:
        speeches = {m: n for (m, mid), n in engine.speech_counts.items() if mid == top.id}
    ballot = None
    if engine.ballot is not None:
        b = engine.ballot
        counts: dict[str, Any] = {"cast": len(b.voters), "present": len(engine.present)}
        if not b.secret:
            # A secret ballot's running split is withheld until the result: with a broadcast per
            # vote, a running split would reveal each voter's choice by difference.
            counts.update(_tally_dict(engine.count_votes(b)))
        motion = engine.motions[b.motion_id]
        ballot = {
            "motion_id": b.motion_id, "text": motion.text, "kind": motion.kind.value, "method": b.method.value,
            "threshold": b.threshold.value, "called_at": _iso(b.called_at), "voters": sorted(b.voters),
            "counts": counts, "closed": b.closed,
            "voted": viewer in b.voters if viewer else False,
        }
    last = None
    decided = [m for m in engine.motions.values() if m.ballots]
    if decided:
        m = max(decided, key=lambda x: x.ballots[-1].announced_at)
        rec = m.ballots[-1]
        last = {
            "motion_id": m.id, "kind": m.kind.value, "name_zh": m.spec.name_zh, "text": m.text,
            "status": m.status.value, "method": rec.method.value, "announced_at": _iso(rec.announced_at),
            "result": _tally_dict(rec.result),
            # Roll call and show of hands: marks by name once announced; a secret ballot never.
            "roll": [[mid, c.value] for mid, c in rec.roll] if rec.method is not VoteMethod.SECRET_BALLOT else [],
        }
    roster = [
        {"id": str(r["id"]), "name": r["name"], "weight": r.get("weight", 1), "voting": r.get("voting", True),
         "role": r.get("role", ""), "present": str(r["id"]) in engine.present}
        for r in meeting.roster or []
    ]
    state: dict[str, Any] = {
        "meeting": meeting.pk, "version": engine.version, "status": meeting.status,
        "session": engine.session.value, "in_person": meeting.in_person, "profile": engine.profile.name,
        "weighted": engine.profile.vote_by_weight,
        "chair": None if engine.chair is None else {"id": engine.chair, "name": name(engine.chair)},
        "members": roster,
        "present": list(engine.present),
        "quorum": {"needed": engine.quorum_needed(), "present": engine.present_weight(),
                   "membership": engine.membership_weight(), "has_quorum": engine.has_quorum()},
        "motions": stack,
        "floor": floor,
        "queue": queue,
        "speeches": speeches,
        "ballot": ballot,
        "last_result": last,
        "tabled": list(engine.table),
        "now": now.isoformat(),
        "viewer": None if viewer is None else {"id": viewer, "name": name(viewer),
                                               "is_chair": viewer == engine.chair},
        "legal": legal_for(engine, viewer, now) if (with_legal and viewer is not None) else None,
    }
    return state
