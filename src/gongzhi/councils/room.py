"""The live meeting room's hub: what each viewer is shown, and the one subscriber per meeting
per process that fans updates out to the local sockets.

Pages (``views``), the API and the websocket consumer (``consumers``) all read the room through
this module, so a page's first paint and the socket's updates are the same projection. The
consumer only speaks the protocol; everything about state and fan-out is here.

Fan-out and coalescing (FIELD-NOTES: ~2,000 channel-layer messages/s, and one broadcast per vote
lost messages at 1,000 sockets): the group is joined once per process by a :class:`RoomHub`, not
once per socket, so a vote costs one channel-layer message per process instead of one per socket.
The hub keeps only the newest version it has been told about, reads the state once per version
(one engine, shared by every local socket), builds each distinct view once (``view_groups``: a
thousand members are a handful of distinct screens) and sends the same text to every socket that
shares it, and during an open ballot sends tally-only updates at most ``TALLY_INTERVAL`` apart;
anything else — above all the announced result — goes out at once. The channel layer announces
each version; the stored version, polled, is only the recovery path (``RoomHub``).

Sessions: a socket lives only as long as the login that opened it. The hub also subscribes to one
group per user it has sockets for (``broadcast.user_group``), where a logout in any process is
announced, and every ``SESSION_CHECK_SECONDS`` it re-checks the sessions of its sockets (a
session deleted by deactivation or idle expiry announces nothing).
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from dataclasses import dataclass
from datetime import datetime
from importlib import import_module
from types import SimpleNamespace
from typing import Any, Protocol

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.contrib import auth
from django.utils import timezone
from django.utils.translation import get_language

from gongzhi.core.i18n import to_hant
from gongzhi.councils import engine as store
from gongzhi.councils.actions import runs_meeting
from gongzhi.councils.broadcast import group_name, user_group
from gongzhi.councils.domain.roster import participant_id
from gongzhi.councils.models import Meeting
from procedure import (
    MOTIONS,
    ActionKind,
    AnnounceResult,
    Arrive,
    CallToOrder,
    CallVote,
    CastVote,
    ChairRuling,
    CutOff,
    DeclareAdjourned,
    Event,
    Leave,
    MotionKind,
    MotionStatus,
    Move,
    NoSecond,
    Recognize,
    RequestFloor,
    Second,
    Speak,
    Stance,
    StateQuestion,
    TakeUpItem,
    VoteChoice,
    VoteMethod,
    Withdraw,
    YieldFloor,
)
from procedure import (
    Meeting as Engine,
)

log = logging.getLogger(__name__)

# Tally-only updates during an open ballot go out at most this often (a few a second is what a
# person can read; FIELD-NOTES measured the in-memory layer at ~2,000 messages/s in all).
TALLY_INTERVAL = 0.3
WATCH_SECONDS = 0.25  # one indexed read per meeting per process, four times a second
# The poll is the recovery path, not the delivery: a stored version the channel layer has not
# announced after this long counts as lost and is fetched (RoomHub.recoveries).
RECOVER_AFTER = 1.0
LISTEN_RETRY_SECONDS = 0.2
MEMBERSHIP_CONCURRENCY = 16
# Sockets that only listen (a projector, a phone lying on the table) send no frame whose check
# would find their session gone; the hub re-checks them this often (two primary-key reads per
# distinct session). A logout is announced at once through the user's group.
SESSION_CHECK_SECONDS = 30.0
SESSION_CHECK_BATCH = 25  # sessions per trip to the database thread (votes queue behind each trip)
# Close code of a socket whose login ended (the same one the handshake uses for "not logged in").
SESSION_ENDED = 4401
# Outcomes that change nothing but the running count of a ballot.
TALLY_OUTCOMES = frozenset({"VoteRecorded"})
# In-person mode lists every member with the actions the moderator may record for them; a
# council is a few dozen people, this cap keeps a mis-configured huge roster from stalling.
IN_PERSON_ROSTER_CAP = 200

_METHODS_ZH = {
    VoteMethod.SHOW_OF_HANDS: "举手表决",
    VoteMethod.ROLL_CALL: "唱名表决",
    VoteMethod.SECRET_BALLOT: "无记名投票",
}
_STATUS_ZH = {
    MotionStatus.PROPOSED: "已提出，待附议/复述",
    MotionStatus.PENDING: "审议中",
    MotionStatus.VOTING: "表决中",
    MotionStatus.ADOPTED: "通过",
    MotionStatus.LOST: "未通过",
    MotionStatus.RULED: "已裁定",
    MotionStatus.WITHDRAWN: "已撤回",
    MotionStatus.NOT_SECONDED: "无人附议",
    MotionStatus.TABLED: "已搁置",
    MotionStatus.POSTPONED: "已推迟",
    MotionStatus.COMMITTED: "已付委",
    MotionStatus.KILLED: "无限期推迟",
    MotionStatus.NOT_CONSIDERED: "不予审议",
    MotionStatus.DIVIDED: "已分拆",
    MotionStatus.RESCINDED: "已撤销",
    MotionStatus.QUEUED: "等待审议",
}


# ------------------------------------------------------------------------------- state projection


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _motion(engine: Engine, motion_id: str) -> dict[str, Any]:
    m = engine.motions[motion_id]
    spec = MOTIONS[m.kind]
    return {
        "id": m.id,
        "kind": m.kind.value,
        "kind_zh": spec.name_zh,
        "text": m.text,
        "mover": m.mover,
        "seconder": m.seconder,
        "status": m.status.value,
        "status_zh": _STATUS_ZH.get(m.status, m.status.value),
        "threshold": engine.threshold(m).value,
        "debatable": engine.debatable(m),
        "debate_closed": m.debate_closed,
        "target": m.target,
        # What a motion applied to another names, in words (a decision of an earlier meeting
        # is known by its wording, never as ``mtg12-m11``).
        "target_text": _target_text(engine, m.target),
    }


def _target_text(engine: Engine, target: str | None) -> str:
    if target is None:
        return ""
    if target in engine.motions:
        return engine.motions[target].text
    decided = engine.decided.get(target)
    return decided.text if decided is not None else ""


# A main motion that reaches one of these has dealt with its agenda item; the next one is taken up.
_ITEM_DONE = frozenset({MotionStatus.ADOPTED, MotionStatus.LOST, MotionStatus.POSTPONED, MotionStatus.COMMITTED,
                        MotionStatus.KILLED, MotionStatus.TABLED, MotionStatus.NOT_CONSIDERED})


def agenda_of(meeting: Any) -> list[dict[str, str]]:
    """The meeting's agenda items in order (title and description)."""
    return [{"title": a.title, "description": a.description} for a in meeting.agenda.all()]


def _bigrams(text: str) -> set[str]:
    # Chinese has no spaces: two characters in a row are the smallest unit that carries a topic
    # (空调, 滴水, 污染); Latin words and numbers count as themselves.
    out: set[str] = set()
    run = ""
    for ch in text.lower() + " ":
        if ch.isalnum():
            run += ch
            continue
        if run.isascii() and len(run) > 1:
            out.add(run)
        elif not run.isascii():
            out.update(run[i:i + 2] for i in range(len(run) - 1))
        run = ""
    return out


def related_to_item(text: str, item: dict[str, str]) -> bool:
    """Whether a motion's text shares a topic word with an agenda item (title or description)."""
    return bool(_bigrams(text) & _bigrams(f"{item.get('title', '')} {item.get('description', '')}"))


def agenda_view(engine: Engine, items: list[dict[str, str]], stack: list[dict[str, Any]]) -> dict[str, Any]:
    """The agenda with the item under consideration (the engine's orders of the day), and a
    comment on pending main motions that seem off it.

    The engine keeps the item now before the meeting (``Meeting.item``, taken up in order by the
    chair's ``TakeUpItem``; RONR 41) and refuses a main motion naming another. ``dealt``: a main
    motion on the current item has been adopted, lost, postponed, committed or laid on the
    table, so the chair may take up the next (``next``: its index, None at the end). A pending
    main motion that shares no topic word with the current item is marked ``off_agenda``: the
    rules do not forbid it (its wording is the assembly's business), but the chair should ask.
    """
    if engine.agenda:
        current: int | None = engine.item - 1 if 1 <= engine.item <= len(items) else None
        dealt = current is not None and any(m.kind is MotionKind.MAIN and m.status in _ITEM_DONE
                                            and m.item == engine.item for m in engine.motions.values())
    else:
        # A meeting started before the agenda was frozen for the engine: an item is dealt with
        # once a main motion is decided, and the next one is up.
        done = sum(1 for m in engine.motions.values() if m.kind is MotionKind.MAIN and m.status in _ITEM_DONE)
        current, dealt = (done if done < len(items) else None), False
    for m in stack:
        if m["kind"] == MotionKind.MAIN.value:
            m["off_agenda"] = current is None or not related_to_item(m["text"], items[current])
    following = current + 1 if engine.agenda and current is not None and current + 1 < len(items) else None
    return {"items": items, "current": current, "dealt": dealt, "next": following}


def public_state(engine: Engine, meeting: Any, agenda: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """What every viewer may see: no names of how anyone voted before the result, no personal data.

    This is the one projection of a meeting: the pages' first paint, the API's state and every
    socket frame are built here (``snapshot``). An open ballot shows only how many have voted,
    never a running split, whatever the method.

    Ids, not names: the roster (ids → names) is sent once with the first message, so a tally
    update to a thousand phones stays a few hundred bytes. ``agenda``: the meeting's items
    (``agenda_of``), with the one under consideration marked (``agenda_view``).
    """
    speech = engine.speech
    floor: dict[str, Any] | None = None
    if engine.floor is not None:
        top = engine.top
        floor = {
            "member": engine.floor,
            "stance": (speech.stance.value if speech and speech.stance else
                       engine.floor_stance.value if engine.floor_stance else None),
            "speaking": speech is not None,
            "started": _iso(speech.started) if speech else None,
            "limit": engine.speech_limit_seconds(top) if top is not None else engine.profile.speech_seconds,
            "number": speech.number if speech else None,
        }
    ballot: dict[str, Any] | None = None
    if engine.ballot is not None:
        b = engine.ballot
        # Only how many have voted, not how: a running count sways those who have not voted
        # yet; the chair announces ayes and noes together (南塘: ayes counted, then noes).
        ballot = {
            "motion_id": b.motion_id,
            "method": b.method.value,
            "method_zh": _METHODS_ZH[b.method],
            "threshold": b.threshold.value,
            "voted": len(b.voters),
            "present": len(engine.present),
            "closed": b.closed,
        }
    result: dict[str, Any] | None = None
    decided = [m for m in engine.motions.values() if m.ballots]
    if decided:
        last = max(decided, key=lambda m: m.ballots[-1].announced_at)
        record = last.ballots[-1]
        r = record.result
        result = {
            "motion_id": last.id,
            "kind": last.kind.value,
            "kind_zh": MOTIONS[last.kind].name_zh,
            "text": last.text,
            "mover": last.mover,
            "seconder": last.seconder,
            "adopted": r.adopted,
            "status": last.status.value,
            "status_zh": _STATUS_ZH.get(last.status, last.status.value),
            "ayes": r.ayes,
            "noes": r.noes,
            "abstentions": r.abstentions,
            "ayes_weight": r.ayes_weight,
            "noes_weight": r.noes_weight,
            "threshold": r.threshold.value,
            "reason": r.reason,
            # The quorum failed while the vote was open: no result was announced (RONR 40:6-7).
            "void": record.void,
            "method": record.method.value,
            "method_zh": _METHODS_ZH[record.method],
            "at": _iso(record.announced_at),
            # A roll call is recorded by name once announced (RONR 45:46); no other method is.
            "roll": ([[mid, c.value] for mid, c in record.roll] if record.method is VoteMethod.ROLL_CALL else []),
        }
    stack = [_motion(engine, mid) for mid in engine.stack]
    agenda_info = agenda_view(engine, agenda or [], stack)
    return {
        "version": engine.version,
        "meeting": meeting.pk,
        "session": engine.session.value,
        "chair": engine.chair,
        "profile": engine.profile.name,
        "in_person": bool(getattr(meeting, "in_person", False)),
        "quorum": {"present": engine.present_weight(), "needed": engine.quorum_needed(),
                   "has": engine.has_quorum(), "members": len(engine.members),
                   "membership": engine.membership_weight(), "present_members": len(engine.present)},
        "floor": floor,
        "queue": [{"member": m, "stance": s.value if s else None} for m, s in engine.requests],
        "stack": stack,
        "agenda": agenda_info,
        "ballot": ballot,
        "result": result,
        "speech_seconds": engine.profile.speech_seconds,
        "abstentions_asked": engine.profile.abstentions_asked,
        "stance_required": engine.profile.stance_required,
    }


def _probe(engine: Engine, event: Event) -> bool:
    return engine.is_legal(event)


def _member_probes(engine: Engine, member: str, at: datetime) -> list[tuple[str, Event]]:
    """Candidate actions of one member (not the chair), cheap enough for a thousand phones.

    ``Meeting.legal_events`` also tries handing the chair to every present member, which costs
    ~6 ms a member in a room of 1,000; a member can never do that, so it is not asked here.
    """
    a: dict[str, Any] = {"actor": member, "at": at}
    if engine.ballot is not None:
        # During a vote only voting (and leaving) is in order (RONR §45): 5 checks, not 40.
        return [*((f"cast_vote:{c.value}", CastVote(choice=c, **a)) for c in VoteChoice),
                ("leave", Leave(**a)), ("arrive", Arrive(**a))]
    probes: list[tuple[str, Event]] = [
        ("arrive", Arrive(**a)), ("leave", Leave(**a)),
        ("request_floor", RequestFloor(**a)), ("yield_floor", YieldFloor(**a)),
        ("second", Second(**a)), ("withdraw", Withdraw(**a)),
    ]
    probes += [(f"speak:{s.value}" if s else "speak", Speak(stance=s, **a)) for s in (None, Stance.PRO, Stance.CON)]
    for kind in MotionKind:
        if kind is MotionKind.AMEND and len(engine.stack) > 1:
            # Any pending amendable motion the motions above it allow (RONR §12): the member
            # chooses which; ``legal_for`` folds a single legal target on top into ``move:amend``.
            probes += [(f"move:amend:{t}", Move(kind=kind, text="…", target=t, **a)) for t in reversed(engine.stack)]
            continue
        if kind in (MotionKind.TAKE_FROM_TABLE, MotionKind.RESCIND, MotionKind.RECONSIDER,
                    MotionKind.AMEND_PREVIOUSLY_ADOPTED):
            targets = _targets(engine, kind)
            probes += [(f"move:{kind.value}:{t}", Move(kind=kind, text="…", target=t, **a)) for t in targets]
            continue
        probes.append((f"move:{kind.value}", Move(kind=kind, text="…", parts=("…", "…"),
                                                  rules=("speech_limit",), speech_seconds=60, **a)))
    return probes


def _targets(engine: Engine, kind: MotionKind) -> list[str]:
    if kind is MotionKind.TAKE_FROM_TABLE:
        return list(engine.table)
    if kind in (MotionKind.RESCIND, MotionKind.AMEND_PREVIOUSLY_ADOPTED):
        return [d.motion_id for d in engine.decided.values() if d.adopted and not d.rescinded]
    return [d.motion_id for d in engine.decided.values() if d.this_meeting]


def _chair_probes(engine: Engine, chair: str, at: datetime) -> list[tuple[str, Event]]:
    a: dict[str, Any] = {"actor": chair, "at": at}
    probes: list[tuple[str, Event]] = [
        ("state_question", StateQuestion(**a)), ("no_second", NoSecond(**a)),
        ("rule:true", ChairRuling(well_taken=True, **a)), ("rule:false", ChairRuling(well_taken=False, **a)),
        ("announce_result", AnnounceResult(**a)), ("declare_adjourned", DeclareAdjourned(**a)),
        ("call_to_order", CallToOrder(**a)),  # resumes after a recess
    ]
    probes += [(f"call_vote:{m.value}", CallVote(method=m, **a)) for m in VoteMethod]
    probes += [(f"cut_off:{r}", CutOff(reason=r, **a)) for r in ("overrun", "off_topic", "personal_attack")]
    probes += [(f"recognize:{m}", Recognize(member=m, **a)) for m, _ in engine.requests]
    if engine.item < len(engine.agenda):
        probes.append((f"take_up_item:{engine.item + 1}", TakeUpItem(item=engine.item + 1, **a)))
    return probes


def legal_for(engine: Engine, viewer: str | None, at: datetime | None = None) -> list[str]:
    """Codes of the actions ``viewer`` may take now (``call_vote:secret_ballot``, ``move:amend``…).

    Every code was checked by the engine itself (``Meeting.is_legal``), so the console can never
    offer a button the rules forbid. ``call_to_order`` is offered only to the moderator.
    """
    if viewer is None:
        return []
    when = max(at or timezone.now(), engine.last_at or at or timezone.now())
    out: list[str] = []
    if viewer == engine.chair:
        probes = _chair_probes(engine, viewer, when)
        if viewer in engine.members:
            probes += _member_probes(engine, viewer, when)
    else:
        probes = _member_probes(engine, viewer, when)
    for code, event in probes:
        if _probe(engine, event):
            out.append(code)
    amend = [c for c in out if c.startswith("move:amend:")]
    if len(amend) == 1 and engine.stack and amend[0] == f"move:amend:{engine.stack[-1]}":
        # One choice, the immediately pending question: nothing to choose.
        out[out.index(amend[0])] = "move:amend"
    return out


def _targeted(code: str) -> str | None:
    """The motion or decision a ``move:<kind>:<target>`` code names (None for other codes)."""
    parts = code.split(":", 2)
    return parts[2] if len(parts) == 3 and parts[0] == "move" else None


def target_labels(engine: Engine, targets: set[str], earlier: dict[int, str] | None = None) -> dict[str, str]:
    """Readable names of the motions and decisions the viewer's codes name: a pending motion by
    kind and wording, a decision of an earlier meeting by wording and that meeting
    (``earlier``: pk → "title, date", from ``store.earlier_meetings``)."""
    out: dict[str, str] = {}
    for t in sorted(targets):
        if t in engine.motions:
            m = engine.motions[t]
            out[t] = f"{MOTIONS[m.kind].name_zh}「{m.text or '—'}」"
            continue
        text = _target_text(engine, t) or "—"
        pk = store.prior_meeting_pk(t)
        where = (earlier or {}).get(pk) if pk is not None else None
        out[t] = f"「{text}」（{where}）" if where else f"「{text}」"
    return out


def viewer_state(engine: Engine, viewer: str | None, *, moderator: bool = False,
                 at: datetime | None = None, earlier: dict[int, str] | None = None) -> dict[str, Any]:
    """The part of the state only ``viewer`` gets: who they are here and what they may do."""
    you: dict[str, Any] = {"member": viewer, "chair": viewer is not None and viewer == engine.chair,
                           "moderator": moderator}
    if viewer is None:
        you["legal"] = []
        return you
    legal = legal_for(engine, viewer, at)
    you["legal"] = legal
    targets = {t for t in map(_targeted, legal) if t is not None}
    if targets:
        # Only for a viewer offered a choice: the words of what each choice names.
        you["targets"] = target_labels(engine, targets, earlier)
    you["present"] = viewer in engine.present
    you["requested"] = any(m == viewer for m, _ in engine.requests)
    you["voted"] = engine.ballot is not None and viewer in engine.ballot.voters
    return you


def in_person_rows(engine: Engine, at: datetime | None = None) -> list[dict[str, Any]]:
    """For the moderator recording hands, speakers and votes of members without phones."""
    rows = []
    for member in list(engine.members)[:IN_PERSON_ROSTER_CAP]:
        rows.append({"member": member, "present": member in engine.present,
                     "legal": [c for c in legal_for(engine, member, at)
                               if c.split(":")[0] in {"arrive", "leave", "request_floor", "speak",
                                                      "yield_floor", "second", "cast_vote"}]})
    return rows


# ------------------------------------------------------------------------ greyed-out buttons


class UnknownCode(ValueError):
    """An action code ``why_not`` cannot read."""


def action_for_code(code: str, actor: str, at: datetime) -> ActionKind | MotionKind | Event:
    """What ``Meeting.why_not`` is asked about for a button's code (the codes of ``legal_for``)."""
    head, _sep, arg = code.partition(":")
    a: dict[str, Any] = {"actor": actor, "at": at}
    try:
        if head == "move":
            kind_code, _sep2, target = arg.partition(":")
            kind = MotionKind(kind_code)
            return Move(kind=kind, text="…", target=target, **a) if target else kind
        if head == "cast_vote" and arg:
            return CastVote(choice=VoteChoice(arg), **a)
        if head == "call_vote" and arg:
            return CallVote(method=VoteMethod(arg), **a)
        action = ActionKind(head)
    except ValueError:
        raise UnknownCode(code) from None
    if action is ActionKind.MOVE:
        raise UnknownCode(code)
    return action


def why_not(meeting: Any, user: Any, code: str) -> dict[str, Any]:
    """Why the viewer may not take the action of ``code`` now, in the reader's language: the
    explanation of one greyed-out button, asked for when it is tapped (``GET .../why-not``), so
    no state message to a thousand phones carries reasons nobody reads.

    ``{"code", "legal", "rule", "message"}``; ``legal`` true means the button is live by now.
    """
    lang = (get_language() or "zh-hans").lower()

    def say(rule: str, zh: str, en: str) -> dict[str, Any]:
        message = en if lang.startswith("en") else to_hant(zh) if lang in ("zh-hant", "zh-tw", "zh-hk") else zh
        return {"code": code, "legal": False, "rule": rule, "message": message}

    viewer = viewer_for(meeting, user)
    row = Meeting.objects.get(pk=meeting.pk)
    now = timezone.now()
    if not row.roster:
        action_for_code(code, "-", now)  # an unknown code is still a 422
        return say("not_in_session", "会议尚未开始。", "The meeting has not started yet.")
    member = viewer.member
    if member is None:
        action_for_code(code, "-", now)
        return say("not_member", "你不是本次会议的成员或主持人，只能旁听。",
                   "You are not a member or the chair of this meeting; you may only follow it.")
    with store.meeting_lock(row.pk):
        engine = store.engine_at(row)
        when = max(now, engine.last_at or now)
        refusal = engine.why_not(member, action_for_code(code, member, when), when)
    if refusal is None:
        return {"code": code, "legal": True, "rule": "", "message": ""}
    return say(refusal.rule, refusal.message_zh, refusal.message_en)


# ------------------------------------------------------------------------------------- adapters


@dataclass(frozen=True)
class Viewer:
    """Who is behind one socket: engine member id (or None) and whether they run the meeting."""

    user_id: int
    member: str | None
    moderator: bool
    projector: bool = False

    @property
    def key(self) -> tuple[Any, ...]:
        # A viewer whose member id was not known when the socket opened (the roster is frozen
        # when the meeting starts) is keyed by user, so that ``snapshot`` can find them in the
        # roster once it exists: a phone opened before the start gets its buttons without reload.
        if self.member is None and not self.projector:
            return ("user", self.user_id, self.moderator)
        return (self.member, self.moderator)


def viewer_for(meeting: Any, user: Any, projector: bool = False) -> Viewer:
    member = participant_id(meeting, user)
    moderator = runs_meeting(meeting, user)
    return Viewer(user.pk, None if projector else member, moderator and not projector, projector)


def _empty_state(meeting: Any) -> dict[str, Any]:
    # Not started yet: no roster is frozen, so there is no engine to ask (a meeting needs members).
    return {"version": meeting.version, "meeting": meeting.pk, "session": "not_started", "chair": None,
            "profile": "", "in_person": meeting.in_person,
            "quorum": {"present": 0, "needed": 0, "has": False, "members": 0, "membership": 0,
                       "present_members": 0},
            "floor": None, "queue": [], "stack": [], "agenda": {"items": agenda_of(meeting), "current": None},
            "ballot": None, "result": None,
            "speech_seconds": 0, "abstentions_asked": True, "stance_required": False}


def snapshot(meeting_id: int, viewers: list[Viewer]) -> tuple[int, dict[str, Any], dict[Any, dict[str, Any]]]:
    """Read the state once for every local viewer (runs in a worker thread).

    Returns the version, the part every viewer shares, and each viewer's own part keyed by
    ``Viewer.key``. A viewer that was nobody when its socket opened is looked up in the roster
    again here, so the start of the meeting reaches phones opened before it.
    """
    meeting = Meeting.objects.get(pk=meeting_id)
    now = timezone.now()
    per: dict[Any, dict[str, Any]] = {}
    if not meeting.roster:
        public = _empty_state(meeting)
        for v in viewers:
            per[v.key] = {"member": v.member, "chair": False, "moderator": v.moderator, "legal": [],
                          "present": False, "requested": False, "voted": False}
        public["server_now"] = now.isoformat()
        public["status"] = meeting.status
        return meeting.version, public, per
    by_user = {r.get("user_id"): str(r["id"]) for r in meeting.roster if r.get("user_id")}
    agenda = agenda_of(meeting)
    with store.meeting_lock(meeting_id):
        engine = store.engine_at(meeting)
        public = public_state(engine, meeting, agenda)
        # Titles of the earlier meetings whose decisions may be rescinded or amended now (one
        # small read, only while the council has such decisions).
        earlier = store.earlier_meetings(engine)
        for v in viewers:
            if v.key in per:
                continue
            member = v.member if (v.member is not None or v.projector) else by_user.get(v.user_id)
            you = viewer_state(engine, member, moderator=v.moderator, at=now, earlier=earlier)
            if v.moderator and meeting.in_person:
                you["in_person"] = in_person_rows(engine, now)
            per[v.key] = you
    public["server_now"] = now.isoformat()
    public["status"] = meeting.status
    return engine.version, public, per


def state_message(meeting: Any, user: Any, *, projector: bool = False) -> dict[str, Any]:
    """The whole state for one viewer, as the socket's first frame carries it (``type`` aside):
    what the pages render first and the API returns."""
    viewer = viewer_for(meeting, user, projector=projector)
    version, public, per = snapshot(meeting.pk, [viewer])
    roster = roster_of(Meeting.objects.only("roster").get(pk=meeting.pk))
    return {"version": version, "state": public, "you": per[viewer.key], "roster": roster}


def roster_of(meeting: Any) -> dict[str, str]:
    """Engine ids → display names (the frozen roster: members and the presiding moderator)."""
    return {str(r["id"]): str(r.get("name") or r["id"]) for r in meeting.roster or []}


# -------------------------------------------------------------------------------------- sessions


def session_valid(session_key: str, user_id: int) -> bool:
    """Whether the login ``session_key`` still exists, is unexpired and still belongs to the
    active user ``user_id`` (Django's own check of a request's session: the backend refuses
    inactive users, a changed password invalidates the session hash)."""
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    user = auth.get_user(SimpleNamespace(session=store))  # type: ignore[arg-type]
    return bool(user.is_authenticated and user.pk == user_id and user.is_active)


# ------------------------------------------------------------------------------ distinct views
# A room of a thousand members is a few distinct screens: everyone who is present, has not voted
# and is named nowhere in the meeting's state sees the same thing. The hub builds each distinct
# update once and sends the same text to every socket of the group (FIELD-NOTES: building and
# serialising per socket cost ~0.4 ms a socket).


def _named_members(engine: Engine) -> set[str]:
    """Members the engine's state names one by one (chair, floor, queue, movers, seconders,
    speakers): what they may do depends on who they are, so each gets a view of their own."""
    named = {m for m in (engine.chair, engine.floor, engine.vacated_by) if m is not None}
    if engine.speech is not None:
        named.add(engine.speech.member)
    named.update(m for m, _ in engine.requests)
    for motion in engine.motions.values():
        named.add(motion.mover)
        if motion.seconder is not None:
            named.add(motion.seconder)
    named.update(m for m, _ in engine.speech_counts)
    return named


def view_groups(engine: Engine | None, viewers: list[Viewer]) -> dict[Any, list[Viewer]]:
    """Group ``viewers`` by the inputs of their ``viewer_state``: one list per distinct view.

    The key of a member the state does not name is what the engine's rules read of an anonymous
    member — their voting weight, whether they are present, whether they have voted in the open ballot,
    and the decisions on whose prevailing side they voted (who may move to reconsider). Anyone
    named, anyone who runs the meeting, gets a group of their own. ``test_room_views`` checks
    the grouping against building every member's view on its own.
    """
    def alone(v: Viewer) -> Any:
        return ("own", v.key)

    try:
        keys: dict[Any, Any]
        if engine is None:  # not started: nobody has actions yet
            keys = {v.key: ("unstarted", v.member is None, v.moderator) for v in viewers}
        else:
            named = _named_members(engine)
            voted = set(engine.ballot.voters) if engine.ballot is not None else set()
            prevailing = [(d.motion_id, d.prevailing) for d in engine.decided.values() if d.prevailing is not None]
            keys = {}
            for v in viewers:
                m = v.member
                if m is None:
                    keys[v.key] = ("nobody", v.moderator)
                elif v.moderator or m in named:
                    keys[v.key] = alone(v)
                else:
                    weight = engine.weight(m) if m in engine.members else None
                    keys[v.key] = ("member", weight, m in engine.present, m in voted,
                                   tuple(mid for mid, who in prevailing if m in who))
    except Exception:  # the engine's state changed shape: slower, never wrong
        log.exception("grouping the room's views failed; building one per viewer")
        keys = {v.key: alone(v) for v in viewers}
    groups: dict[Any, list[Viewer]] = {}
    for v in viewers:
        groups.setdefault(keys[v.key], []).append(v)
    return groups


@dataclass
class Frames:
    """One refresh of the room: the text of each distinct update and which viewer gets which."""

    version: int
    texts: dict[Any, str]  # group key -> the whole update message
    group_of: dict[Any, Any]  # Viewer.key -> group key


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def room_frames(meeting_id: int, viewers: list[Viewer]) -> Frames:
    """Read the state once and build the update message of each distinct view once (runs in a
    worker thread). ``you`` in an update carries ``member`` only as ``true`` (a member of this
    meeting) or ``null``: the id is the one thing that differs between sockets sharing a view;
    the first ``state`` (and every ``resync``) names it.

    A viewer who was nobody when the socket opened is looked up in the roster first, as
    ``snapshot`` does, so that a phone opened before the start is grouped — and served — as the
    member it has become."""
    with store.meeting_lock(meeting_id):
        for _attempt in range(3):
            meeting = Meeting.objects.get(pk=meeting_id)
            engine = store.engine_at(meeting) if meeting.roster else None
            grouped_at = engine.version if engine is not None else meeting.version
            by_user = {r.get("user_id"): str(r["id"]) for r in meeting.roster or [] if r.get("user_id")}
            resolved = [_as_member(v, by_user) for v in viewers]
            groups = view_groups(engine, resolved)
            version, public, per = snapshot(meeting_id, [g[0] for g in groups.values()])
            if version == grouped_at:
                break
        else:  # another process keeps writing between our reads: no grouping this time
            groups = {}
            for r in resolved:
                groups.setdefault(("own", r.key), []).append(r)
            version, public, per = snapshot(meeting_id, resolved)
    original = {id(r): v for r, v in zip(resolved, viewers, strict=True)}
    shared = _dumps(public)
    texts: dict[Any, str] = {}
    group_of: dict[Any, Any] = {}
    for key, members in groups.items():
        you = {k: v for k, v in per[members[0].key].items() if k != "member"}
        you["member"] = True if members[0].member is not None else None
        texts[key] = f'{{"type":"update","version":{version},"state":{shared},"you":{_dumps(you)}}}'
        for r in members:
            group_of[original[id(r)].key] = key
    return Frames(version, texts, group_of)


def _as_member(viewer: Viewer, by_user: dict[Any, str]) -> Viewer:
    """The viewer as the member the frozen roster says they are (projectors stay nobody)."""
    if viewer.member is not None or viewer.projector or viewer.user_id not in by_user:
        return viewer
    return Viewer(viewer.user_id, by_user[viewer.user_id], viewer.moderator, viewer.projector)


# ------------------------------------------------------------------------------------------ hub


class RoomSocket(Protocol):
    """What the hub needs of a socket (``consumers.MeetingConsumer``)."""

    viewer: Viewer | None
    user_id: int
    # The login session that opened the socket; None when it was authenticated without one
    # (in-process callers), in which case there is no session to re-check.
    session_key: str | None

    async def offer(self, version: int, text: str) -> None: ...

    async def end_session(self) -> None: ...


class RoomHub:
    """One per meeting per process (and event loop): the single subscriber to ``meeting-<id>``
    and to the user groups of the people with a socket in the room.

    Delivery: every stored event is announced on the group (``broadcast``); the hub's listener
    must never stop. It did: with redis-py ≥ 6 a connection's read timeout defaults to 5 s, the
    same as channels_redis's blocking pop, so after five quiet seconds ``receive`` raised
    ``TimeoutError``, the listening task died unseen, and from then on that process heard only
    what its own sockets did — the result announced from the other process reached its phones
    only through the version poll (and a message popped in the instant of the timeout was gone
    for good). The layer's read timeout is now longer than the pop (``settings.CHANNEL_LAYERS``),
    and the listener survives any error. The poll stays as the recovery path: a stored version
    the layer has not announced within ``RECOVER_AFTER`` is fetched and counted
    (``RoomHub.recoveries``, logged); the bench prints the count, and it should stay 0.
    """

    _hubs: dict[tuple[int, int], RoomHub] = {}
    # Process-wide counts since start (all meetings): versions the poll had to recover, and
    # errors the listener survived.
    recoveries = 0
    late = 0  # recovered versions whose announcement did come, later than RECOVER_AFTER
    listen_errors = 0

    def __init__(self, meeting_id: int) -> None:
        self.meeting_id = meeting_id
        self.group = group_name(meeting_id)
        self.sockets: set[RoomSocket] = set()
        self.users: dict[int, int] = {}  # user id -> sockets of theirs here (their group is joined)
        self.target = 0  # newest version the group told us about
        self.loaded = 0  # newest version we have read and handed to the sockets
        self.tally_only = True  # every update since the last load only changed a ballot's count
        self.last_push = -math.inf
        self.wake = asyncio.Event()
        self.channel = ""
        self.started = asyncio.Event()  # the channel exists (a second socket may join meanwhile)
        self.tasks: list[asyncio.Task[None]] = []
        # Group membership changes run at most this many at once: a thousand phones reconnecting
        # together must not ask for a thousand Redis connections (redis-py's pool holds 100).
        self.membership = asyncio.Semaphore(MEMBERSHIP_CONCURRENCY)
        self.builds = 0  # distinct update messages built (one per distinct view per refresh)
        self.recovered = 0  # versions this hub's poll had to recover
        self.recovered_upto = 0
        self.announced = 0  # newest version the layer announced

    @classmethod
    async def join(cls, consumer: RoomSocket, meeting_id: int) -> RoomHub:
        key = (id(asyncio.get_running_loop()), meeting_id)
        hub = cls._hubs.get(key)
        if hub is None:
            hub = cls._hubs[key] = cls(meeting_id)
            await hub._start()
        await hub.started.wait()
        hub.sockets.add(consumer)
        count = hub.users.get(consumer.user_id, 0)
        hub.users[consumer.user_id] = count + 1
        if count == 0:
            layer = get_channel_layer()
            assert layer is not None
            async with hub.membership:
                await layer.group_add(user_group(consumer.user_id), hub.channel)
        return hub

    async def leave(self, consumer: RoomSocket) -> None:
        if consumer not in self.sockets:
            return
        self.sockets.discard(consumer)
        layer = get_channel_layer()
        count = self.users.get(consumer.user_id, 1) - 1
        if count <= 0:
            self.users.pop(consumer.user_id, None)
            if layer is not None and self.channel:
                try:
                    async with self.membership:
                        await layer.group_discard(user_group(consumer.user_id), self.channel)
                except Exception:  # a stale membership only sends this hub messages it ignores
                    log.exception("meeting %s: leaving the group of user %s failed", self.meeting_id,
                                  consumer.user_id)
        else:
            self.users[consumer.user_id] = count
        if not self.sockets:
            key = (id(asyncio.get_running_loop()), self.meeting_id)
            if self._hubs.get(key) is self:
                del self._hubs[key]
            for task in self.tasks:
                task.cancel()
            current = asyncio.current_task()
            await asyncio.gather(*(t for t in self.tasks if t is not current), return_exceptions=True)
            if layer is not None and self.channel:
                await layer.group_discard(self.group, self.channel)

    async def _start(self) -> None:
        layer = get_channel_layer()
        assert layer is not None, "CHANNEL_LAYERS must be configured for the meeting room"
        # The default prefix on purpose: channels_redis serves all of a process's "specific."
        # channels from one Redis list, and a channel with another prefix starves behind it.
        self.channel = await layer.new_channel()
        await layer.group_add(self.group, self.channel)
        # Sockets read their first state after joining; what is stored now is no news to them.
        try:
            self.target = self.loaded = await database_sync_to_async(self._stored_version)()
        except Exception:
            log.exception("meeting %s: reading the version failed", self.meeting_id)
        loop = asyncio.get_running_loop()
        self.tasks = [loop.create_task(self._listen()), loop.create_task(self._pump()),
                      loop.create_task(self._watch()), loop.create_task(self._check_sessions())]
        self.started.set()

    def _stored_version(self) -> int:
        return int(Meeting.objects.filter(pk=self.meeting_id).values_list("version", flat=True).first() or 0)

    async def _listen(self) -> None:
        layer = get_channel_layer()
        assert layer is not None
        while True:
            try:
                message = await layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except Exception:
                # Never let the listener die (see the class docstring); the poll covers the gap.
                type(self).listen_errors += 1
                log.exception("meeting %s: receiving from the channel layer failed", self.meeting_id)
                await asyncio.sleep(LISTEN_RETRY_SECONDS)
                continue
            try:
                if message.get("type") == "meeting.update":
                    version = int(message.get("version", 0))
                    if version <= self.recovered_upto and version > self.announced:
                        # Not lost after all, only later than RECOVER_AFTER: say which it was.
                        type(self).late += 1
                        log.warning("meeting %s: the announcement of v%s came after the poll recovered "
                                    "it; late announcements in this process: %d", self.meeting_id, version,
                                    type(self).late)
                    self.announced = max(self.announced, version)
                    self.note(version, message.get("outcomes"))
                elif message.get("type") == "session.ended":
                    await self.end_sessions(message.get("user"), message.get("session_key"))
            except Exception:
                log.exception("meeting %s: handling %r failed", self.meeting_id, message.get("type"))

    async def end_sessions(self, user_id: Any, session_key: Any = None) -> None:
        """Close the sockets of ``user_id`` opened with ``session_key`` (every one of theirs when
        the key is unknown)."""
        for socket in [s for s in self.sockets if s.user_id == user_id]:
            if session_key is None or socket.session_key in (None, session_key):
                await socket.end_session()

    async def _check_sessions(self) -> None:
        """Close sockets whose login ended without a logout (deactivation, idle expiry, a
        session deleted by another process): one check per distinct session, in a worker thread."""

        def invalid(pairs: set[tuple[str, int]]) -> set[tuple[str, int]]:
            return {pair for pair in pairs if not session_valid(*pair)}

        while True:
            await asyncio.sleep(SESSION_CHECK_SECONDS)
            pairs = sorted({(s.session_key, s.user_id) for s in self.sockets if s.session_key is not None})
            # In batches: the worker thread is the process's one database thread, and a thousand
            # sessions checked in one call held up every vote and the result behind it (~1.5 s,
            # bench/meeting.py).
            for start in range(0, len(pairs), SESSION_CHECK_BATCH):
                try:
                    ended = await database_sync_to_async(invalid)(set(pairs[start:start + SESSION_CHECK_BATCH]))
                except Exception:
                    log.exception("meeting %s: session check failed", self.meeting_id)
                    continue
                for socket in [s for s in self.sockets if (s.session_key, s.user_id) in ended]:
                    await socket.end_session()

    async def _watch(self) -> None:
        """Recovery path: compare the meeting's stored version every WATCH_SECONDS.

        The stored version is the truth. A version the layer has not announced after
        RECOVER_AFTER seconds is taken as lost: the hub fetches it, and counts and logs the
        recovery. Before that the announcement is merely on its way, and the poll leaves it alone.
        """
        ahead_since: float | None = None
        while True:
            await asyncio.sleep(WATCH_SECONDS)
            try:
                version = await database_sync_to_async(self._stored_version)()
            except Exception:
                log.exception("meeting %s: version check failed", self.meeting_id)
                continue
            if version <= self.target:
                ahead_since = None
                continue
            now = time.monotonic()
            if ahead_since is None:
                ahead_since = now
            if now - ahead_since < RECOVER_AFTER:
                continue
            ahead_since = None
            self.recovered += 1
            self.recovered_upto = version
            type(self).recoveries += 1
            log.warning("meeting %s: the version poll recovered v%s (the hub was told of v%s); "
                        "room recoveries in this process: %d", self.meeting_id, version, self.target,
                        type(self).recoveries)
            self.note(version)

    def note(self, version: int, outcomes: Any = None) -> None:
        """A newer version exists: remember only the newest (coalescing), wake the pump."""
        if version <= self.target:
            return
        kinds = set(outcomes or ())
        # Unknown outcomes (an older broadcaster, a recovery) count as "not tally-only": never
        # delay them.
        if not kinds or not kinds <= TALLY_OUTCOMES:
            self.tally_only = False
        self.target = version
        self.wake.set()

    async def _pump(self) -> None:
        while True:
            await self.wake.wait()
            self.wake.clear()
            while self.loaded < self.target:
                if self.tally_only:
                    # A ballot's running count: at most one push per TALLY_INTERVAL. A non-tally
                    # update (the result!) arriving meanwhile cuts the wait short.
                    wait = self.last_push + TALLY_INTERVAL - time.monotonic()
                    if wait > 0:
                        try:
                            await asyncio.wait_for(self._until_not_tally(), wait)
                        except TimeoutError:
                            pass
                self.tally_only = True
                try:
                    await self.refresh()
                except Exception:  # keep the room alive; the next update or a reconnect resyncs
                    log.exception("meeting %s: reading the state failed", self.meeting_id)
                    await asyncio.sleep(0.5)

    async def _until_not_tally(self) -> None:
        while self.tally_only:
            await self.wake.wait()
            self.wake.clear()

    async def refresh(self) -> None:
        sockets = [s for s in self.sockets if s.viewer is not None]
        if not sockets:
            return
        frames = await database_sync_to_async(room_frames)(self.meeting_id, [s.viewer for s in sockets
                                                                              if s.viewer is not None])
        version = frames.version
        self.loaded = max(self.loaded, version)
        self.target = max(self.target, version)
        self.last_push = time.monotonic()
        self.builds += len(frames.texts)
        for socket in sockets:
            if socket.viewer is None:
                continue
            text = frames.texts.get(frames.group_of.get(socket.viewer.key))
            if text is not None:  # None: the viewer changed while we read (its next push has it)
                await socket.offer(version, text)
