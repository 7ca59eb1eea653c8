"""Every read of the councils app, scoped by who is asking (DESIGN.md §2).

Who sees a council: staff whose jurisdiction covers its place (community workers, moderators,
supervisors, administrators), and its own members and assigned moderators wherever they are.
Outside that, ``access_*`` raises Http404 (never 403: ids are not probed). Approved minutes are
public: ``public_minutes`` needs no user.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from gongzhi.accounts.enums import PUBLIC_ROLES, Role
from gongzhi.accounts.scope import scope_q
from gongzhi.core.models import AuditEvent
from gongzhi.councils import engine as eng
from gongzhi.councils.actions import minutes_digest, participant_id
from gongzhi.councils.enums import MinutesStatus
from gongzhi.councils.models import Council, Meeting, MeetingEvent, Minutes, Moderator, NeutralityComplaint
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

STAFF_READ_ROLES = {str(r) for r in Role if r not in PUBLIC_ROLES}


# --------------------------------------------------------------------------------- councils


def _own_council_q(user: Any, prefix: str = "") -> Q:
    if user is None or not getattr(user, "is_authenticated", False):
        return Q(pk__in=[])
    today = timezone.localdate()
    return (
        Q(**{f"{prefix}members__user": user, f"{prefix}members__term_start__lte": today})
        & (Q(**{f"{prefix}members__term_end__isnull": True}) | Q(**{f"{prefix}members__term_end__gt": today}))
    ) | Q(**{f"{prefix}moderator_assignments__moderator__user": user})


def councils_for_user(user: Any) -> QuerySet[Council]:
    qs = Council.objects.select_related("place", "profile")
    if getattr(user, "is_superuser", False):
        return qs.all()
    return qs.filter(scope_q(user, "place__path", STAFF_READ_ROLES) | _own_council_q(user)).distinct()


def access_council(user: Any, council_id: int) -> Council:
    council = councils_for_user(user).filter(pk=council_id).first()
    if council is None:
        raise Http404("没有找到该议事会")
    return council


def meetings_for_user(user: Any) -> QuerySet[Meeting]:
    councils = councils_for_user(user).values("pk")
    qs = Meeting.objects.select_related("council__place", "moderator").filter(council__in=councils)
    if user is not None and getattr(user, "is_authenticated", False):
        # A moderator chairs meetings of councils they are not assigned to permanently.
        qs = Meeting.objects.select_related("council__place", "moderator").filter(
            Q(council__in=councils) | Q(moderator__user=user)
        )
    return qs.distinct().order_by("-scheduled_at")


def access_meeting(user: Any, meeting_id: int) -> Meeting:
    meeting = meetings_for_user(user).filter(pk=meeting_id).first()
    if meeting is None:
        raise Http404("没有找到该会议")
    return meeting


def member_for_user(meeting: Meeting, user: Any) -> str | None:
    """The roster id under which ``user`` acts in ``meeting`` (``mod-<pk>`` for the moderator)."""
    return participant_id(meeting, user)


# ------------------------------------------------------------------------------ meeting state


def _name(meeting: Meeting, member_id: str | None) -> str:
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


def legal_for(engine: Engine, member_id: str) -> dict[str, Any]:
    """What ``member_id`` may do now: action codes, motion kinds, and the concrete choices."""
    at = max(timezone.now(), engine.last_at) if engine.last_at else timezone.now()
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


def _state(meeting: Meeting, engine: Engine, viewer: str | None, with_legal: bool) -> dict[str, Any]:
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
            counts.update(_tally_dict(engine._tally(b)))
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
        "now": timezone.now().isoformat(),
        "viewer": None if viewer is None else {"id": viewer, "name": name(viewer),
                                               "is_chair": viewer == engine.chair},
        "legal": legal_for(engine, viewer) if (with_legal and viewer is not None) else None,
    }
    return state


def meeting_state_for(meeting: Meeting, member_id: str | None) -> dict[str, Any]:
    """JSON-able snapshot of ``meeting`` for one viewer (``member_id``; None: no legal actions).

    Reads the row's current version, then the engine at that version (cache or replay).
    """
    with eng.meeting_lock(meeting.pk):
        fresh = Meeting.objects.filter(pk=meeting.pk).values("version", "status", "roster",
                                                            "profile_snapshot").first()
        if fresh is None:
            raise Http404("没有找到该会议")
        meeting.version, meeting.status = fresh["version"], fresh["status"]
        meeting.roster, meeting.profile_snapshot = fresh["roster"], fresh["profile_snapshot"]
        if not meeting.roster:
            return _not_started(meeting)
        engine = eng.engine_at(meeting)
        return _state(meeting, engine, member_id, with_legal=True)


def projector_state(meeting: Meeting) -> dict[str, Any]:
    """The projector/public screen: the same snapshot with no viewer and no legal actions."""
    return meeting_state_for(meeting, None)


def _not_started(meeting: Meeting) -> dict[str, Any]:
    return {
        "meeting": meeting.pk, "version": meeting.version, "status": meeting.status, "session": "not_started",
        "in_person": meeting.in_person, "profile": meeting.council.profile.key, "weighted": meeting.council.weighted,
        "chair": None, "members": [], "present": [], "quorum": None, "motions": [], "floor": None, "queue": [],
        "speeches": {}, "ballot": None, "last_result": None, "tabled": [], "now": timezone.now().isoformat(),
        "viewer": None, "legal": None,
    }


def meeting_events(meeting: Meeting, after: int = 0, limit: int = 500) -> list[dict[str, Any]]:
    """Stored events after ``seq == after`` (for a client resync). Secret ballot choices are
    sealed in storage and never returned."""
    rows = MeetingEvent.objects.filter(meeting=meeting, seq__gt=after).order_by("seq")[:limit]
    out = []
    for r in rows:
        payload = {k: v for k, v in r.payload.items() if k != "choice_sealed"}
        out.append({"seq": r.seq, "kind": r.kind, "payload": payload, "created_at": r.created_at.isoformat(),
                    "recorded_by": r.recorded_by_id})
    return out


# -------------------------------------------------------------------------------- moderators


@dataclass(frozen=True)
class ModeratorRecord:
    moderator: Moderator
    meetings: int
    rulings: list[dict[str, Any]]
    complaints: list[NeutralityComplaint]


def moderator_register(user: Any) -> list[ModeratorRecord]:
    """Moderators whose home place is in ``user``'s jurisdiction, with rulings and complaints."""
    if getattr(user, "is_superuser", False):
        moderators = Moderator.objects.all()
    else:
        moderators = Moderator.objects.filter(scope_q(user, "place__path", STAFF_READ_ROLES) | Q(user=user))
    out = []
    for mod in moderators.select_related("place", "user").order_by("display_name"):
        mid = f"mod-{mod.pk}"
        rulings = []
        events = MeetingEvent.objects.filter(meeting__moderator=mod, kind="ChairRuling").select_related("meeting")
        for ev in events.order_by("created_at"):
            if ev.payload.get("actor") != mid:
                continue
            rulings.append({"meeting": ev.meeting_id, "meeting_title": ev.meeting.title, "seq": ev.seq,
                            "at": ev.created_at, "well_taken": ev.payload.get("well_taken"),
                            "text": ev.payload.get("text", "")})
        out.append(ModeratorRecord(
            moderator=mod, meetings=Meeting.objects.filter(moderator=mod).count(), rulings=rulings,
            complaints=list(NeutralityComplaint.objects.filter(moderator=mod).order_by("-filed_at")),
        ))
    return out


# ---------------------------------------------------------------------------------- minutes


def public_minutes() -> QuerySet[Minutes]:
    """Approved minutes: public to everyone (居民议事 is open government)."""
    return (Minutes.objects.filter(status=MinutesStatus.APPROVED, published_at__isnull=False)
            .select_related("meeting__council__place").order_by("-published_at"))


def access_minutes(user: Any, meeting_id: int) -> Minutes:
    """Minutes of a meeting: published ones for anyone, drafts only for those who see the meeting."""
    minutes = public_minutes().filter(meeting_id=meeting_id).first()
    if minutes is not None:
        return minutes
    meeting = access_meeting(user, meeting_id)
    minutes = Minutes.objects.filter(meeting=meeting).select_related("meeting__council__place").first()
    if minutes is None:
        raise Http404("该会议尚无纪要")
    return minutes


@dataclass(frozen=True)
class MinutesCheck:
    ok: bool
    content_matches: bool  # the content hashes to the stored digest
    sealed_matches: bool | None  # the digest equals the one in the publish audit event (None: unpublished)
    reason: str


def verify_minutes(minutes: Minutes) -> MinutesCheck:
    """Tamper evidence: recompute the digest and compare it with the stored one and the one
    written into the audit chain when the minutes were published."""
    fresh = Minutes.objects.get(pk=minutes.pk)
    content_ok = minutes_digest(fresh.content) == fresh.digest
    sealed: bool | None = None
    if fresh.status == MinutesStatus.APPROVED:
        event = (AuditEvent.objects.filter(verb="minutes.publish", object_type="councils.minutes",
                                           object_id=str(fresh.pk)).order_by("-id").first())
        sealed = bool(event and (event.after or {}).get("digest") == minutes_digest(fresh.content))
    if not content_ok:
        reason = "纪要内容与存储的摘要不符：内容已被改动。"
    elif sealed is False:
        reason = "纪要摘要与审计链中公开时记录的摘要不符。"
    else:
        reason = "纪要完整，与审计链记录一致。" if sealed else "纪要内容与摘要一致（尚未公开）。"
    return MinutesCheck(ok=content_ok and sealed is not False, content_matches=content_ok,
                        sealed_matches=sealed, reason=reason)
