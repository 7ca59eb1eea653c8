"""Every read of the councils app, scoped by who is asking (DESIGN.md §2).

Who sees a council: staff whose jurisdiction covers its place (community workers, moderators,
supervisors, administrators), and its own members and assigned moderators wherever they are.
Outside that, ``access_*`` raises Http404 (never 403: ids are not probed). Approved minutes are
public: ``public_minutes`` needs no user.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from gongzhi.accounts.enums import PUBLIC_ROLES, Role
from gongzhi.accounts.scope import scope_q
from gongzhi.core.models import AuditEvent
from gongzhi.councils.domain.digest import minutes_digest
from gongzhi.councils.domain.roster import participant_id
from gongzhi.councils.enums import MinutesStatus
from gongzhi.councils.models import Council, Meeting, MeetingEvent, Minutes, Moderator, NeutralityComplaint

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
        # A moderator chairs meetings of councils they are not assigned to permanently; a
        # meeting's recorder (记录员) need not be a member of its council.
        qs = Meeting.objects.select_related("council__place", "moderator").filter(
            Q(council__in=councils) | Q(moderator__user=user) | Q(secretary=user)
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
# The state shown to a viewer is built in one place for the pages, the API and the sockets:
# ``councils.room.snapshot`` / ``state_message``.


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


def moderators_for_user(user: Any) -> QuerySet[Moderator]:
    """Moderators whose home place is in ``user``'s jurisdiction (and the user's own entry)."""
    if getattr(user, "is_superuser", False):
        return Moderator.objects.all()
    return Moderator.objects.filter(scope_q(user, "place__path", STAFF_READ_ROLES) | Q(user=user))


def moderator_register(user: Any) -> list[ModeratorRecord]:
    """Moderators whose home place is in ``user``'s jurisdiction, with rulings and complaints."""
    moderators = moderators_for_user(user)
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


def minutes_of(meeting: Meeting) -> Minutes | None:
    """The minutes of a meeting the caller was already allowed to see (``access_meeting``)."""
    return Minutes.objects.filter(meeting=meeting).select_related("meeting__council__place").first()


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


def resolution_of_meeting(meeting_id: int) -> Any:
    """The meeting's resolution for other apps (``core.registry.resolution_of``): the adopted main
    motions with their head and share counts, read from the minutes record; None without minutes."""
    from django.urls import reverse

    from gongzhi.core.registry import Resolution

    meeting = Meeting.objects.filter(pk=meeting_id).select_related("council__place").first()
    minutes = Minutes.objects.filter(meeting_id=meeting_id).first() if meeting is not None else None
    if meeting is None or minutes is None:
        return None
    record = (minutes.content or {}).get("record", {})
    adopted = []
    for motion in record.get("motions", []):
        if motion.get("kind") != "main":
            continue
        votes = [v for v in motion.get("votes", []) if not v.get("superseded")]
        if votes and votes[-1]["result"].get("adopted"):
            r = votes[-1]["result"]
            adopted.append({"text": motion.get("text") or "", "ayes": r.get("ayes"), "noes": r.get("noes"),
                            "ayes_weight": r.get("ayes_weight"), "noes_weight": r.get("noes_weight")})
    return Resolution(
        meeting_id=meeting.pk, title=meeting.title, place_path=str(meeting.council.place.path),
        council_kind=meeting.council.kind, weighted=meeting.council.weighted,
        minutes_approved=minutes.status == MinutesStatus.APPROVED, adopted=tuple(adopted),
        minutes_url=reverse("councils:public_minutes", args=[meeting.pk]))
