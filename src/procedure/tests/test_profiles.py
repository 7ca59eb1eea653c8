"""Rule profiles: the data (dict round trip, validation) and the effect of every parameter."""

from __future__ import annotations

import dataclasses
import json

import pytest

from procedure import (
    NANTANG,
    PROFILES,
    RONR,
    Arrive,
    CallVote,
    CastVote,
    ChairVotes,
    CutOff,
    Member,
    MotionKind,
    Move,
    ProfileError,
    QuorumRule,
    Recognize,
    RequestFloor,
    RuleProfile,
    Speak,
    SpeechOverrun,
    Stance,
    StateQuestion,
    Threshold,
    VoteChoice,
    VoteMethod,
    YieldFloor,
    profile_from_dict,
    profile_to_dict,
)
from procedure.tests.helpers import CHAIR, Room

# --------------------------------------------------------------------------------------- as data


def test_ronr_defaults() -> None:
    assert (RONR.seconds_required, RONR.speech_seconds, RONR.max_speeches) == (True, 600, 2)
    assert RONR.quorum_rule is QuorumRule.MAJORITY and RONR.chair_votes is ChairVotes.WHEN_DECISIVE
    assert not RONR.chair_may_debate and RONR.first_time_first and not RONR.stance_required


def test_nantang_is_the_thirteen_rules() -> None:
    # 2 minutes x 2 speeches, stance first, pro/con alternation, neutral chair votes last,
    # no seconds, abstainers never asked, first-time speakers first.
    assert NANTANG.name == "nantang"
    assert (NANTANG.speech_seconds, NANTANG.max_speeches) == (120, 2)
    assert NANTANG.stance_required and NANTANG.alternate_stances and NANTANG.first_time_first
    assert not NANTANG.seconds_required and not NANTANG.chair_may_debate
    assert NANTANG.chair_votes is ChairVotes.LAST and not NANTANG.abstentions_asked
    assert NANTANG.main_threshold is Threshold.MAJORITY  # adopted if ayes exceed noes, a tie fails


@pytest.mark.parametrize("profile", list(PROFILES.values()), ids=lambda p: p.name)
def test_dict_round_trip_is_json(profile: RuleProfile) -> None:
    data = profile_to_dict(profile)
    assert profile_from_dict(RONR, json.loads(json.dumps(data))) == profile
    assert set(data) == {f.name for f in dataclasses.fields(RuleProfile)}


def test_local_profile_is_overrides_on_a_base() -> None:
    luohu = profile_from_dict("nantang", {"name": "luohu", "speech_seconds": 180, "chair_votes": "never"})
    assert luohu.name == "luohu" and luohu.speech_seconds == 180 and luohu.chair_votes is ChairVotes.NEVER
    assert luohu.alternate_stances  # inherited from the base
    assert profile_from_dict(NANTANG, {}) == NANTANG


@pytest.mark.parametrize(
    ("base", "overrides", "fragment"),
    [
        ("ronr", {"speach_seconds": 60}, "unknown setting(s) speach_seconds"),
        ("ronr", {"speech_seconds": "60"}, "speech_seconds: expected int, got str"),
        ("ronr", {"speech_seconds": True}, "speech_seconds: expected int, got bool"),
        ("ronr", {"seconds_required": 1}, "seconds_required: expected bool, got int"),
        ("ronr", {"chair_votes": "sometimes"}, "chair_votes: 'sometimes' is not one of"),
        ("ronr", {"speech_seconds": 0}, "speech_seconds must be at least 1"),
        ("ronr", {"max_speeches": 0}, "max_speeches must be at least 1"),
        ("ronr", {"quorum_rule": "count"}, 'quorum_count must be at least 1 when quorum_rule is "count"'),
        ("ronr", {"quorum_count": -1}, "quorum_count must not be negative"),
        ("ronr", {"main_threshold": "chair_rules"}, "main_threshold must be one of"),
        ("ronr", {"name": ""}, "name must not be empty"),
        ("luohu", {}, "unknown base profile 'luohu'"),
    ],
)
def test_invalid_profiles_are_refused_with_the_setting_named(
    base: str, overrides: dict[str, object], fragment: str
) -> None:
    with pytest.raises(ProfileError) as info:
        profile_from_dict(base, overrides)
    assert fragment in info.value.message_en
    assert info.value.rule == "invalid_profile" and "议事规则配置错误" in info.value.message_zh
    assert isinstance(info.value, ValueError)


# ------------------------------------------------------------------------------ each parameter


@pytest.mark.parametrize("required", [True, False])
def test_seconds_required(required: bool) -> None:
    room = Room(RuleProfile(seconds_required=required))
    room.floor("a")
    room.push(Move, "a", kind=MotionKind.MAIN, text="motion")
    if required:
        room.refused(StateQuestion, CHAIR, "not_seconded")
    else:
        room.push(StateQuestion, CHAIR)


@pytest.mark.parametrize("limit", [600, 120])
def test_speech_seconds(limit: int) -> None:
    room = Room(RuleProfile(speech_seconds=limit))
    room.main()
    room.floor("c")
    room.push(Speak, "c")
    room.refused(CutOff, CHAIR, "not_overrun", advance=limit - 1)
    out = room.push(RequestFloor, "d", advance=1)  # exactly at the limit: not over yet
    assert not any(isinstance(o, SpeechOverrun) for o in out)
    out = room.push(RequestFloor, "e", advance=1)
    assert [o for o in out if isinstance(o, SpeechOverrun)] == [SpeechOverrun("c", room.m.stack[-1], limit)]
    room.push(CutOff, CHAIR, reason="overrun")
    speech = room.m.speeches[-1]
    # The floor ended at the limit itself; the chair's cut-off only acknowledges it.
    assert speech.overrun and speech.cut_off == "overrun" and speech.seconds == limit


@pytest.mark.parametrize("limit", [1, 2, 3])
def test_max_speeches(limit: int) -> None:
    room = Room(RuleProfile(max_speeches=limit))
    room.main()
    for _ in range(limit):
        room.speak("c")
    room.floor("c")
    room.refused(Speak, "c", "speech_limit")


@pytest.mark.parametrize("enforced", [True, False])
def test_first_time_first(enforced: bool) -> None:
    room = Room(RuleProfile(first_time_first=enforced))
    room.main()
    room.speak("c")
    room.push(RequestFloor, "c")
    room.push(RequestFloor, "d")
    if enforced:
        room.refused(Recognize, CHAIR, "first_time_first", member="c")
        room.push(Recognize, CHAIR, member="d")
    else:
        room.push(Recognize, CHAIR, member="c")


@pytest.mark.parametrize("enforced", [True, False])
def test_alternate_stances(enforced: bool) -> None:
    room = Room(dataclasses.replace(NANTANG, alternate_stances=enforced))
    room.main()
    room.speak("c", Stance.PRO)
    room.push(RequestFloor, "d", stance=Stance.PRO)
    room.push(RequestFloor, "e", stance=Stance.CON)
    if enforced:
        error = room.refused(Recognize, CHAIR, "alternation", member="d")
        assert "反" in error.message_zh and "con" in error.message_en
        room.push(Recognize, CHAIR, member="e")
    else:
        room.push(Recognize, CHAIR, member="d")


def test_alternation_waits_for_nobody_when_only_one_side_asks() -> None:
    room = Room(NANTANG)
    room.main()
    room.speak("c", Stance.PRO)
    room.push(RequestFloor, "d", stance=Stance.PRO)
    room.push(Recognize, CHAIR, member="d")


@pytest.mark.parametrize("required", [True, False])
def test_stance_required(required: bool) -> None:
    room = Room(RuleProfile(stance_required=required))
    room.main()
    room.floor("c")
    if required:
        room.refused(Speak, "c", "stance_required")
        room.refused(Speak, "c", "stance_required", stance=Stance.NEUTRAL)
        room.push(Speak, "c", stance=Stance.CON)
    else:
        room.push(Speak, "c")


@pytest.mark.parametrize("allowed", [True, False])
def test_chair_may_debate(allowed: bool) -> None:
    room = Room(RuleProfile(chair_may_debate=allowed), chair="a")
    room.main(by="b", second="c")
    if allowed:
        room.floor("a")
        room.push(Speak, "a")
    else:
        room.refused(RequestFloor, "a", "chair_debating")


def test_chair_votes_never() -> None:
    room = Room(RuleProfile(chair_votes=ChairVotes.NEVER), chair="a")
    room.main(by="b", second="c")
    room.push(CallVote, "a")
    room.refused(CastVote, "a", "chair_vote", choice=VoteChoice.AYE)


def test_chair_votes_last_closes_the_vote() -> None:
    room = Room(NANTANG, chair="a")
    room.main(by="b", second="c")
    room.push(CallVote, "a")
    room.push(CastVote, "b", choice=VoteChoice.AYE)
    room.push(CastVote, "a", choice=VoteChoice.NO)
    room.refused(CastVote, "c", "vote_closed", choice=VoteChoice.AYE)


def test_chair_votes_when_decisive() -> None:
    room = Room(RONR, chair="a", present=["a", "b", "c", "d", "e"])
    room.main(by="b", second="c")
    room.push(CallVote, "a")
    room.push(CastVote, "b", choice=VoteChoice.AYE)
    room.push(CastVote, "c", choice=VoteChoice.AYE)
    room.push(CastVote, "d", choice=VoteChoice.NO)
    room.refused(CastVote, "a", "chair_votes_first", choice=VoteChoice.NO)  # e has not voted yet
    room.push(CastVote, "e", choice=VoteChoice.ABSTAIN)
    room.refused(CastVote, "a", "not_decisive", choice=VoteChoice.AYE)  # 3-1 or 2-1: adopted anyway
    room.push(CastVote, "a", choice=VoteChoice.NO)  # makes a tie: the motion fails (RONR 44:12)
    room.refused(CastVote, "e", "double_vote", choice=VoteChoice.AYE)
    room.push(Arrive, "f")
    room.refused(CastVote, "f", "vote_closed", choice=VoteChoice.AYE)


def test_chair_votes_by_ballot_like_everyone() -> None:
    room = Room(RONR, chair="a")
    room.main(by="b", second="c")
    room.push(CallVote, "a", method=VoteMethod.SECRET_BALLOT)
    room.push(CastVote, "a", choice=VoteChoice.AYE)
    room.push(CastVote, "b", choice=VoteChoice.AYE)


@pytest.mark.parametrize("asked", [True, False])
def test_abstentions_asked(asked: bool) -> None:
    room = Room(RuleProfile(abstentions_asked=asked))
    room.main()
    room.push(CallVote, CHAIR)
    if asked:
        room.push(CastVote, "c", choice=VoteChoice.ABSTAIN)
        tally = room.m.current_tally()
        assert tally is not None and tally.abstentions == 1 and not tally.adopted
    else:
        room.refused(CastVote, "c", "abstain_not_asked", choice=VoteChoice.ABSTAIN)


@pytest.mark.parametrize("needed", [True, False])
def test_motions_need_floor(needed: bool) -> None:
    room = Room(RuleProfile(motions_need_floor=needed))
    if needed:
        room.refused(Move, "a", "no_floor", kind=MotionKind.MAIN, text="motion")
    else:
        room.push(Move, "a", kind=MotionKind.MAIN, text="motion")


@pytest.mark.parametrize("enforced", [True, False])
def test_vote_after_debate(enforced: bool) -> None:
    room = Room(RuleProfile(vote_after_debate=enforced))
    room.main()
    room.push(RequestFloor, "c")
    if enforced:
        room.refused(CallVote, CHAIR, "debate_open")
        room.push(Recognize, CHAIR, member="c")
        room.push(Speak, "c")
        room.refused(CallVote, CHAIR, "floor_held")
        room.push(YieldFloor, "c")
    room.push(CallVote, CHAIR)


@pytest.mark.parametrize(
    ("rule", "count", "needed"),
    [(QuorumRule.MAJORITY, 0, 4), (QuorumRule.TWO_THIRDS, 0, 5), (QuorumRule.COUNT, 3, 3)],
)
def test_quorum_rule_and_count(rule: QuorumRule, count: int, needed: int) -> None:
    profile = RuleProfile(quorum_rule=rule, quorum_count=count)
    present = ["a", "b", "c", "d", "e", "f", "g"][: needed - 1]
    room = Room(profile, present=present)
    assert room.m.quorum_needed() == needed and not room.m.has_quorum()
    room.main(by="a", second="b")
    room.refused(CallVote, CHAIR, "no_quorum")
    room.push(Arrive, "g")
    assert room.m.has_quorum()
    room.push(CallVote, CHAIR)


def test_vote_by_weight_counts_shares_for_quorum_and_votes() -> None:
    shareholders = [Member("big", 60), Member("s1", 10), Member("s2", 10), Member("s3", 10), Member("s4", 10)]
    weighted = RuleProfile(name="shares", vote_by_weight=True)
    room = Room(weighted, members=shareholders, present=["s1", "s2", "s3", "s4"])
    assert (room.m.present_weight(), room.m.quorum_needed()) == (40, 51)
    room.main(by="s1", second="s2")
    room.refused(CallVote, CHAIR, "no_quorum")
    room.push(Arrive, "big")
    result = room.vote(ayes=["big"], noes=["s1", "s2", "s3"])
    assert result.adopted and (result.ayes_weight, result.noes_weight, result.membership_weight) == (
        60,
        30,
        100,
    )
    heads = Room(RONR, members=shareholders)
    heads.main(by="s1", second="s2")
    assert not heads.vote(ayes=["big"], noes=["s1", "s2", "s3"]).adopted


@pytest.mark.parametrize(
    ("threshold", "ayes", "noes", "adopted"),
    [
        (Threshold.MAJORITY, 4, 3, True),
        (Threshold.TWO_THIRDS, 4, 3, False),
        (Threshold.MAJORITY_OF_MEMBERSHIP, 3, 0, False),
        (Threshold.MAJORITY_PRESENT, 3, 1, False),
    ],
)
def test_main_threshold(threshold: Threshold, ayes: int, noes: int, adopted: bool) -> None:
    room = Room(RuleProfile(main_threshold=threshold))
    room.main()
    voters = ["a", "b", "c", "d", "e", "f", "g"]
    result = room.vote(ayes=voters[:ayes], noes=voters[ayes : ayes + noes])
    assert result.threshold is threshold and result.adopted is adopted


def test_name_is_carried_into_the_minutes() -> None:
    from procedure import build_minutes

    room = Room(profile_from_dict("nantang", {"name": "luohu"}))
    assert build_minutes(room.m).profile == "luohu"
