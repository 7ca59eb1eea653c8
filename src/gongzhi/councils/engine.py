"""The meeting's engine state: a per-process cache in front of the event log.

Truth is the database: ``Meeting.version`` (the last stored ``MeetingEvent.seq``) and the rows
of ``MeetingEvent``. Each process keeps the replayed :class:`procedure.Meeting` of the meetings it
has served, keyed by meeting id *and version*. A cached engine is used only when its version is
the row's version; on a miss or a mismatch the engine is rebuilt by replaying the rows. So any
number of web workers and daphne processes stay correct without talking to each other: a
process that has not seen another's write finds its cached version behind the row and replays,
and a restart mid-meeting costs one replay.

Concurrency inside one process: a per-meeting lock is held while an engine is read or pushed,
because ``Meeting.push`` mutates in place. Across processes, the meeting row lock
(``select_for_update``) plus the conditional version update in ``actions`` serialise writers.

Secret ballots are stored the way paper works (no key can link a member to a choice): the log
keeps the engine's ``log`` entries, where a secret ``CastVote`` is a roll entry without a choice,
and a ``BallotBox`` row keeps the slips ``[choice, weight]`` as one sorted list naming nobody.
At the result the engine writes the opened box into the ``AnnounceResult`` event; a replay reads
it from there, and the open ballot's slips from the ``BallotBox`` row (``restore_box``).
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from django.db.models import Q
from django.utils import timezone

from gongzhi.councils.domain.codec import event_from_dict, event_to_dict
from gongzhi.councils.enums import MeetingStatus
from gongzhi.councils.models import BallotBox, Meeting, MeetingEvent
from procedure import (
    RONR,
    Decision,
    Event,
    Member,
    RuleProfile,
    VoteMethod,
    profile_from_dict,
)
from procedure import (
    Meeting as Engine,
)

MAX_CACHED = 256  # meetings in session at once per process is far below this

_guard = threading.Lock()
_engines: OrderedDict[int, Engine] = OrderedDict()
_locks: dict[int, threading.RLock] = {}


def meeting_lock(meeting_id: int) -> threading.RLock:
    with _guard:
        lock = _locks.get(meeting_id)
        if lock is None:
            lock = _locks[meeting_id] = threading.RLock()
        return lock


def forget(meeting_id: int | None = None) -> None:
    """Drop cached engines (all of them with no id): what a process restart does."""
    with _guard:
        if meeting_id is None:
            _engines.clear()
        else:
            _engines.pop(meeting_id, None)


def cached(meeting_id: int) -> Engine | None:
    with _guard:
        return _engines.get(meeting_id)


def remember(meeting_id: int, engine: Engine) -> None:
    with _guard:
        _engines[meeting_id] = engine
        _engines.move_to_end(meeting_id)
        while len(_engines) > MAX_CACHED:
            _engines.popitem(last=False)


# ------------------------------------------------------------------------------- roster, profile


def voting_roster(meeting: Meeting) -> list[dict[str, Any]]:
    return [r for r in meeting.roster or [] if r.get("voting", True)]


def members_of(meeting: Meeting) -> list[Member]:
    return [Member(str(r["id"]), int(r.get("weight") or 1)) for r in voting_roster(meeting)]


def profile_of(meeting: Meeting) -> RuleProfile:
    # The snapshot holds every setting, so the base only supplies nothing the snapshot lacks. A
    # snapshot frozen before ``rules_version`` existed was held under the first edition of the
    # rules, and replays under it (the floor did not yet end at the time limit, and so on).
    snapshot = dict(meeting.profile_snapshot or {})
    if snapshot:
        snapshot.setdefault("rules_version", 1)
    return profile_from_dict(RONR, snapshot)


# ------------------------------------------------------------------------------------- storage


def payload_for(event: Event) -> dict[str, Any]:
    """The JSON stored in ``MeetingEvent.payload``: the engine's log entry (``engine.log[-1]``),
    never the event as a client sent it (no ``expected_version``: a request detail)."""
    return event_to_dict(event, with_version=False)


def event_from_payload(payload: dict[str, Any]) -> Event:
    return event_from_dict(dict(payload))


def is_secret_ballot_open(engine: Engine) -> bool:
    return engine.ballot is not None and engine.ballot.method is VoteMethod.SECRET_BALLOT


def store_ballot_box(meeting: Meeting, engine: Engine, seq: int) -> None:
    """Keep the secret ballot's box beside the log after event ``seq`` (called in the same
    transaction as the event row): opened at the call, its sorted slips rewritten at each vote,
    closed at the result (its slips stay, for a recount)."""
    if is_secret_ballot_open(engine):
        assert engine.ballot is not None
        slips = [[c.value, w] for c, w in engine.ballot_box()]
        box = BallotBox.objects.filter(meeting=meeting, open=True).first()
        if box is None:
            BallotBox.objects.create(meeting=meeting, called_seq=seq, motion_id=engine.ballot.motion_id, slips=slips)
        elif box.slips != slips:
            box.slips = slips
            box.save(update_fields=["slips"])
        return
    BallotBox.objects.filter(meeting=meeting, open=True).update(open=False)


def _restore_open_box(meeting: Meeting, engine: Engine) -> None:
    """A replayed or caught-up engine has the roll of an open secret ballot but not its slips."""
    b = engine.ballot
    if b is None or not b.secret or len(b.anonymous) == len(b.voters):
        return
    box = BallotBox.objects.filter(meeting_id=meeting.pk, open=True).first()
    engine.restore_box((c, w) for c, w in (box.slips if box else []))


def rebuild(meeting: Meeting, upto: int | None = None) -> Engine:
    """Replay the stored events (all, or up to ``seq == upto``)."""
    qs = MeetingEvent.objects.filter(meeting_id=meeting.pk).order_by("seq")
    if upto is not None:
        qs = qs.filter(seq__lte=upto)
    events: Iterable[Event] = (event_from_payload(p) for p in qs.values_list("payload", flat=True).iterator())
    engine = Engine.replay(events, members=members_of(meeting), profile=profile_of(meeting),
                           prior=prior_decisions(meeting), agenda=[str(t) for t in meeting.agenda_snapshot or []])
    if upto is None or upto >= meeting.version:
        _restore_open_box(meeting, engine)
    return engine


def prior_decision_id(meeting_id: int, motion_id: str) -> str:
    """How a decision of an earlier meeting is named in a later one: ``mtg12-m11``."""
    return f"mtg{meeting_id}-{motion_id}"


_PRIOR_ID = re.compile(r"mtg(\d+)-")


def prior_meeting_pk(decision_id: str) -> int | None:
    """The earlier meeting a decision id names (``mtg12-m11`` → 12; None for this meeting's)."""
    match = _PRIOR_ID.match(decision_id)
    return int(match.group(1)) if match else None


_earlier_cache: OrderedDict[int, str] = OrderedDict()


def earlier_meetings(engine: Engine) -> dict[int, str]:
    """pk → "title, date" of the earlier meetings whose decisions ``engine`` knows: how a choice
    to rescind names the meeting that adopted it. An adjourned meeting's title and date do not
    change, so each is read once per process."""
    pks = {pk for pk in map(prior_meeting_pk, engine.decided) if pk is not None}
    missing = [pk for pk in pks if pk not in _earlier_cache]
    if missing:
        for pk, title, at in Meeting.objects.filter(pk__in=missing).values_list("pk", "title", "scheduled_at"):
            with _guard:
                _earlier_cache[pk] = f"{title}，{timezone.localtime(at).date().isoformat()}"
                while len(_earlier_cache) > MAX_CACHED * 4:
                    _earlier_cache.popitem(last=False)
    return {pk: _earlier_cache[pk] for pk in pks if pk in _earlier_cache}


def prior_decisions(meeting: Meeting) -> tuple[Decision, ...]:
    """The main motions decided at earlier meetings of the same council, as they stand after the
    last of them (rescinded or amended since, or not), so that rescind and amend something
    previously adopted (RONR §35) can name them. Read by replaying the latest earlier adjourned
    meeting, whose own prior comes from the one before it, and so on."""
    earlier = (
        Meeting.objects.filter(council_id=meeting.council_id, status=MeetingStatus.ADJOURNED, version__gt=0)
        .exclude(pk=meeting.pk)
        .filter(Q(scheduled_at__lt=meeting.scheduled_at) | Q(scheduled_at=meeting.scheduled_at, pk__lt=meeting.pk))
        .order_by("-scheduled_at", "-pk")
        .first()
    )
    if earlier is None:
        return ()
    held = rebuild(earlier)
    return tuple(
        replace(d, motion_id=prior_decision_id(earlier.pk, d.motion_id), prevailing=None) if d.this_meeting else d
        for d in held.decided.values()
    )


def engine_at(meeting: Meeting, version: int | None = None) -> Engine:
    """The engine of ``meeting`` at ``version`` (default: the row's). Hold ``meeting_lock``."""
    version = meeting.version if version is None else version
    engine = cached(meeting.pk)
    if engine is not None and engine.version == version:
        return engine
    if engine is not None and engine.version < version:
        # Another process wrote: catch up on the new rows only. Replaying the whole log on every
        # foreign write cost a full replay per vote with two daphne processes (bench/meeting.py).
        caught = _catch_up(meeting, engine, version)
        if caught is not None:
            remember(meeting.pk, caught)
            return caught
    engine = rebuild(meeting, version)
    if engine.version != version:
        # Rows and version disagree (a write committed between our reads): trust the rows we saw
        # and let the caller's version check decide.
        return engine
    remember(meeting.pk, engine)
    return engine


def _catch_up(meeting: Meeting, engine: Engine, version: int) -> Engine | None:
    rows = MeetingEvent.objects.filter(meeting_id=meeting.pk, seq__gt=engine.version, seq__lte=version).order_by("seq")
    try:
        engine.extend(event_from_payload(payload) for payload in rows.values_list("payload", flat=True))
        _restore_open_box(meeting, engine)
    except Exception:
        forget(meeting.pk)  # the cached engine may be half-advanced: never reuse it
        return None
    return engine if engine.version == version else None
