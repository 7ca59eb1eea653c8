"""A secret ballot stored the way paper works (issue 12): a roll of who voted in the log, a box of
slips naming nobody beside it; count, minutes and replay rebuilt from them; recount possible."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from django.apps import apps

from gongzhi.core.crypto import encrypt
from gongzhi.core.models import AuditEvent
from gongzhi.councils import engine
from gongzhi.councils.actions import minutes_content
from gongzhi.councils.models import BallotBox, Meeting, MeetingEvent
from gongzhi.councils.queries import meeting_events
from gongzhi.councils.room import state_message
from gongzhi.councils.tests.helpers import act, arrive_all, build_council, floor

unseal = importlib.import_module("gongzhi.councils.migrations.0002_secret_ballot_box_and_agenda_snapshot").unseal_into_boxes


def _result(meeting_id: int, ns: Any) -> dict[str, Any]:
    """The last result as the room shows it (its one state builder)."""
    return dict(state_message(Meeting.objects.get(pk=meeting_id), ns.secretary)["state"]["result"])


def _ballot(ns: Any, choices: list[str]) -> dict[str, Any]:
    arrive_all(ns)
    floor(ns, 0)
    act(ns, 0, "move", kind="main", text="动议一")
    act(ns, "chair", "state_question")
    act(ns, "chair", "call_vote", method="secret_ballot")
    for i, choice in enumerate(choices):
        act(ns, i + 1, "cast_vote", choice=choice)
    act(ns, "chair", "announce_result")
    return _result(ns.meeting.pk, ns)


def _normalised(ns: Any, value: Any) -> Any:
    """Member ids as their index, timestamps and database ids dropped: what two meetings share."""
    index = {mid: f"#{i}" for i, mid in enumerate(ns.ids)}
    index[ns.chair_id] = "chair"
    if isinstance(value, dict):
        return {k: _normalised(ns, v) for k, v in value.items() if k not in ("at", "meeting", "seq")}
    if isinstance(value, list):
        return [_normalised(ns, v) for v in value]
    return index.get(value, value) if isinstance(value, str) else value


def _stored(ns: Any) -> dict[str, Any]:
    m = Meeting.objects.get(pk=ns.meeting.pk)
    events = list(MeetingEvent.objects.filter(meeting=m).order_by("seq").values_list("kind", "payload", "actor_id"))
    users = {u.pk: f"u{i}" for i, u in enumerate(ns.users)}
    audits = [
        [a.verb, a.after]
        for a in AuditEvent.objects.filter(
            object_id=str(m.pk), verb__in=["council.meeting.vote", "council.meeting.result"]
        ).order_by("id")
    ]
    content = minutes_content(m)
    return _normalised(ns, {
        "events": [[kind, payload, users.get(actor)] for kind, payload, actor in events],
        "boxes": [list(b) for b in BallotBox.objects.filter(meeting=m).values_list("slips", "open", "motion_id")],
        "audit": audits,
        "api": [e["payload"] for e in meeting_events(m)],
        "minutes_motions": content["record"]["motions"],
    })


def test_shuffled_ballots_leave_identical_records(place_tree: Any, make_user: Callable[..., Any]) -> None:
    one = build_council(place_tree, make_user, key="secret-one")
    two = build_council(place_tree, make_user, key="secret-two")
    first = _ballot(one, ["aye", "no", "aye", "no", "aye"])
    second = _ballot(two, ["no", "aye", "aye", "aye", "no"])  # same ballots, other voters
    assert first["status"] == second["status"] == "adopted" and first["roll"] == second["roll"] == []
    a, b = _stored(one), _stored(two)
    ((slips, is_open, _motion),) = a["boxes"]
    assert slips == [["aye", 1], ["aye", 1], ["aye", 1], ["no", 1], ["no", 1]] and not is_open
    for key in a:
        assert _strip_times(a[key]) == _strip_times(b[key]), key
    votes = [p for kind, p, _ in a["events"] if kind == "CastVote"]
    assert votes and all(p["choice"] is None for p in votes)
    (result,) = [p for kind, p, _ in a["events"] if kind == "AnnounceResult"]
    assert result["box"] == [["aye", 1], ["aye", 1], ["aye", 1], ["no", 1], ["no", 1]]


def _strip_times(value: Any) -> Any:
    """Times differ between two meetings, and the roll is sorted by member id, which differs."""
    if isinstance(value, dict):
        return {
            k: sorted(v) if k == "voters" else _strip_times(v)
            for k, v in value.items()
            if not k.endswith(("_at", "at", "started", "ended"))
        }
    if isinstance(value, list | tuple):
        return [_strip_times(v) for v in value]
    return value


def test_box_survives_a_restart_and_another_process(place_tree: Any, make_user: Callable[..., Any]) -> None:
    ns = build_council(place_tree, make_user)
    arrive_all(ns)
    floor(ns, 0)
    act(ns, 0, "move", kind="main", text="动议一")
    act(ns, "chair", "state_question")
    act(ns, "chair", "call_vote", method="secret_ballot")
    act(ns, 1, "cast_vote", choice="no")
    act(ns, 2, "cast_vote", choice="aye")
    engine.forget()  # a restart: the slips come back from the box row
    act(ns, 3, "cast_vote", choice="aye")
    m = Meeting.objects.get(pk=ns.meeting.pk)
    # Another process wrote the last vote: our cached engine is one event behind and catches up.
    stale = engine.rebuild(m, upto=m.version - 1)
    engine.remember(m.pk, stale)
    act(ns, "chair", "announce_result")
    result = _result(m.pk, ns)
    assert (result["ayes"], result["noes"]) == (2, 1)
    box = BallotBox.objects.get(meeting=m)
    assert box.slips == [["aye", 1], ["aye", 1], ["no", 1]] and not box.open
    engine.forget()
    rebuilt = engine.rebuild(Meeting.objects.get(pk=m.pk))
    motion = next(x for x in rebuilt.motions.values() if x.ballots)
    assert rebuilt.recount(motion.id) == motion.ballots[-1].result


def test_migration_unseals_old_choices_into_a_box(place_tree: Any, make_user: Callable[..., Any]) -> None:
    ns = build_council(place_tree, make_user)
    _ballot(ns, ["aye", "no", "aye"])
    m = Meeting.objects.get(pk=ns.meeting.pk)
    # Rewrite the stored log into the old shape: choices sealed on the votes, no box anywhere.
    choices = iter(["aye", "no", "aye"])
    for row in MeetingEvent.objects.filter(meeting=m, kind="CastVote").order_by("seq"):
        payload = {k: v for k, v in row.payload.items() if k != "choice"}
        payload["choice_sealed"] = encrypt(next(choices))
        row.payload = payload
        row.save(update_fields=["payload"])
    row = MeetingEvent.objects.get(meeting=m, kind="AnnounceResult")
    row.payload = {k: v for k, v in row.payload.items() if k != "box"}
    row.save(update_fields=["payload"])
    BallotBox.objects.all().delete()

    unseal(apps, None)

    assert not MeetingEvent.objects.filter(meeting=m, payload__has_key="choice_sealed").exists()
    assert MeetingEvent.objects.get(meeting=m, kind="AnnounceResult").payload["box"] == [
        ["aye", 1], ["aye", 1], ["no", 1]
    ]
    assert BallotBox.objects.get(meeting=m).slips == [["aye", 1], ["aye", 1], ["no", 1]]
    engine.forget()
    last = _result(m.pk, ns)
    assert (last["ayes"], last["noes"]) == (2, 1)
