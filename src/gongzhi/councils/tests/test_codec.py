"""Events to JSON and back: every event type round-trips; bad dicts get Chinese errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from gongzhi.councils.domain.codec import (
    CodecError,
    event_from_client,
    event_from_dict,
    event_to_dict,
    outcome_to_dict,
)
from procedure import (
    EVENT_TYPES,
    AnnounceResult,
    ChairRuling,
    CutOff,
    Event,
    HandOverChair,
    MotionKind,
    Move,
    Recognize,
    RequestFloor,
    ResultAnnounced,
    Speak,
    Stance,
    TakeUpItem,
    VoteChoice,
    VoteMethod,
    Withdraw,
    tally,
)
from procedure.enums import MotionStatus, Threshold
from procedure.events import CallVote, CastVote

T = datetime(2026, 3, 1, 9, 0, 0, 123456, tzinfo=UTC)

SAMPLES: dict[type[Event], dict[str, Any]] = {
    Move: {"kind": MotionKind.DIVISION_OF_QUESTION, "text": "分拆", "target": "m3", "parts": ("一", "二"),
           "notice": True, "scope_all": True, "speech_seconds": 60, "max_speeches": 1,
           "rules": ("speech_limit",), "item": 2},
    Withdraw: {"motion_id": "m2"},
    RequestFloor: {"stance": Stance.CON},
    Recognize: {"member": "7"},
    Speak: {"stance": Stance.PRO},
    CutOff: {"reason": "off_topic"},
    ChairRuling: {"well_taken": False, "text": "不成立"},
    CallVote: {"method": VoteMethod.SECRET_BALLOT},
    CastVote: {"choice": VoteChoice.NO},
    HandOverChair: {"to": "3"},
    TakeUpItem: {"item": 2},
    AnnounceResult: {"box": ((VoteChoice.ABSTAIN, 1), (VoteChoice.AYE, 3))},  # a secret ballot's opened box
}


@pytest.mark.parametrize("cls", EVENT_TYPES, ids=lambda c: c.__name__)
def test_every_event_type_round_trips_through_json(cls: type[Event]) -> None:
    event = cls(actor="12", at=T, expected_version=4, **SAMPLES.get(cls, {}))
    data = json.loads(json.dumps(event_to_dict(event)))
    assert data["type"] == cls.__name__
    assert event_from_dict(data) == event
    # Stored form drops the version; the rest still round-trips.
    stored = event_to_dict(event, with_version=False)
    assert "expected_version" not in stored
    assert event_from_dict(stored) == cls(actor="12", at=T, **SAMPLES.get(cls, {}))


def test_short_action_codes_are_accepted() -> None:
    e = event_from_dict({"type": "move", "actor": "1", "at": T.isoformat(), "kind": "main", "text": "x"})
    assert isinstance(e, Move) and e.kind is MotionKind.MAIN


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"type": "fly"}, "type"),
        ({}, "type"),
        ({"type": "move", "actor": "1", "at": T.isoformat()}, "kind"),
        ({"type": "move", "actor": "1", "at": T.isoformat(), "kind": "coup"}, "kind"),
        ({"type": "cast_vote", "actor": "1", "at": T.isoformat(), "choice": "maybe"}, "choice"),
        ({"type": "arrive", "actor": "1", "at": "2026-03-01T09:00:00"}, "at"),
        ({"type": "arrive", "actor": "1", "at": "yesterday"}, "at"),
        ({"type": "arrive", "actor": 1, "at": T.isoformat()}, "actor"),
        ({"type": "arrive", "actor": "1", "at": T.isoformat(), "colour": "red"}, "colour"),
        ({"type": "rule", "actor": "1", "at": T.isoformat(), "well_taken": 1}, "well_taken"),
        ({"type": "move", "actor": "1", "at": T.isoformat(), "kind": "limit_debate", "speech_seconds": True},
         "speech_seconds"),
        ({"type": "move", "actor": "1", "at": T.isoformat(), "kind": "main", "parts": "ab"}, "parts"),
    ],
)
def test_bad_dicts_are_refused_with_the_field(data: dict[str, Any], field: str) -> None:
    with pytest.raises(CodecError) as info:
        event_from_dict(data)
    assert info.value.field == field
    assert info.value.message


def test_client_cannot_choose_actor_or_time() -> None:
    with pytest.raises(CodecError) as info:
        event_from_client({"type": "arrive", "actor": "9"}, actor="1", at=T)
    assert info.value.field == "actor"
    e = event_from_client({"type": "cast_vote", "choice": "aye"}, actor="1", at=T, expected_version=3)
    assert (e.actor, e.at, e.expected_version) == ("1", T, 3)


def test_outcomes_become_plain_json() -> None:
    result = tally([(VoteChoice.AYE, 2)], Threshold.MAJORITY, membership_weight=3)
    data = outcome_to_dict(ResultAnnounced("m1", result, MotionStatus.ADOPTED))
    json.dumps(data)
    assert data["type"] == "ResultAnnounced" and data["status"] == "adopted" and data["result"]["ayes"] == 1
