"""Rules as data: the motion table and the rule profiles.

The ranked rows follow the RONR (12th ed.) table in DOMAIN.md exactly; incidental motions and the
motions that bring a question again have their own rows.  The engine in ``meeting.py`` reads
these records and never hard-codes a motion's properties.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from procedure.enums import Category, ChairVotes, MotionKind, QuorumRule, Threshold
from procedure.errors import ProfileError

Debatable = bool | Literal["inherits"]


@dataclass(frozen=True, slots=True)
class MotionSpec:
    kind: MotionKind
    category: Category
    # Precedence among the ranked motions, 13 (highest) to 1 (main).  None for incidental motions,
    # which take no rank: they are in order when the need for them arises (RONR §6).
    rank: int | None
    # True if the motion may interrupt a speaker, so it needs no recognition by the chair.
    interrupts: bool
    needs_second: bool
    # "inherits": debatable exactly when the motion it applies to is (amend RONR §12, reconsider §37).
    debatable: Debatable
    amendable: bool
    threshold: Threshold
    name_zh: str
    name_en: str
    ronr: str


def _spec(
    kind: MotionKind,
    category: Category,
    rank: int | None,
    interrupts: bool,
    second: bool,
    debatable: Debatable,
    amendable: bool,
    threshold: Threshold,
    zh: str,
    en: str,
    ronr: str,
) -> MotionSpec:
    return MotionSpec(kind, category, rank, interrupts, second, debatable, amendable, threshold, zh, en, ronr)


_K, _C, _T = MotionKind, Category, Threshold

# fmt: off
MOTIONS: Mapping[MotionKind, MotionSpec] = {
    s.kind: s
    for s in (
        # kind, category, rank, interrupts, second, debatable, amendable, vote
        _spec(_K.FIX_TIME_TO_ADJOURN, _C.PRIVILEGED, 13, False, True, False, True, _T.MAJORITY,
              "确定续会时间", "fix the time to which to adjourn", "RONR §22"),
        _spec(_K.ADJOURN, _C.PRIVILEGED, 12, False, True, False, False, _T.MAJORITY,
              "散会", "adjourn", "RONR §21"),
        _spec(_K.RECESS, _C.PRIVILEGED, 11, False, True, False, True, _T.MAJORITY,
              "休会", "recess", "RONR §20"),
        _spec(_K.QUESTION_OF_PRIVILEGE, _C.PRIVILEGED, 10, True, False, False, False, _T.CHAIR_RULES,
              "权益问题", "raise a question of privilege", "RONR §19"),
        _spec(_K.ORDERS_OF_THE_DAY, _C.PRIVILEGED, 9, True, False, False, False, _T.NONE,
              "要求按议程进行", "call for the orders of the day", "RONR §18"),
        _spec(_K.LAY_ON_THE_TABLE, _C.SUBSIDIARY, 8, False, True, False, False, _T.MAJORITY,
              "暂时搁置", "lay on the table", "RONR §17"),
        _spec(_K.PREVIOUS_QUESTION, _C.SUBSIDIARY, 7, False, True, False, False, _T.TWO_THIRDS,
              "停止辩论立即表决", "previous question", "RONR §16"),
        _spec(_K.LIMIT_DEBATE, _C.SUBSIDIARY, 6, False, True, False, True, _T.TWO_THIRDS,
              "限制或延长辩论", "limit or extend debate", "RONR §15"),
        _spec(_K.POSTPONE_TO_CERTAIN_TIME, _C.SUBSIDIARY, 5, False, True, True, True, _T.MAJORITY,
              "推迟到指定时间", "postpone to a certain time", "RONR §14"),
        _spec(_K.COMMIT, _C.SUBSIDIARY, 4, False, True, True, True, _T.MAJORITY,
              "付委", "commit or refer", "RONR §13"),
        _spec(_K.AMEND, _C.SUBSIDIARY, 3, False, True, "inherits", True, _T.MAJORITY,
              "修正", "amend", "RONR §12"),
        _spec(_K.POSTPONE_INDEFINITELY, _C.SUBSIDIARY, 2, False, True, True, False, _T.MAJORITY,
              "无限期推迟", "postpone indefinitely", "RONR §11"),
        _spec(_K.MAIN, _C.MAIN, 1, False, True, True, True, _T.MAJORITY,
              "主动议", "main motion", "RONR §10"),
        # Incidental motions.
        _spec(_K.POINT_OF_ORDER, _C.INCIDENTAL, None, True, False, False, False, _T.CHAIR_RULES,
              "秩序问题", "point of order", "RONR §23"),
        # Appeal is debatable (RONR §24); the chair explains the ruling when making it.
        _spec(_K.APPEAL, _C.INCIDENTAL, None, True, True, True, False, _T.SUSTAIN_CHAIR,
              "申诉", "appeal from the decision of the chair", "RONR §24"),
        _spec(_K.SUSPEND_RULES, _C.INCIDENTAL, None, False, True, False, False, _T.TWO_THIRDS,
              "暂停规则", "suspend the rules", "RONR §25"),
        _spec(_K.OBJECTION_TO_CONSIDERATION, _C.INCIDENTAL, None, True, False, False, False,
              _T.TWO_THIRDS_AGAINST, "反对审议", "objection to the consideration of a question", "RONR §26"),
        # RONR §27 lets the parts be amended; the engine takes the parts as given (withdraw and
        # move again to change them), so it is not amendable here.
        _spec(_K.DIVISION_OF_QUESTION, _C.INCIDENTAL, None, False, True, False, False, _T.MAJORITY,
              "分拆议题", "division of a question", "RONR §27"),
        _spec(_K.DIVISION_OF_ASSEMBLY, _C.INCIDENTAL, None, True, False, False, False, _T.NONE,
              "要求重新清点表决", "division of the assembly", "RONR §29"),
        # Motions that bring a question again; the engine admits them only when nothing is pending,
        # at the level of a main motion.
        _spec(_K.TAKE_FROM_TABLE, _C.BRING_BACK, 1, False, True, False, False, _T.MAJORITY,
              "恢复审议搁置议题", "take from the table", "RONR §34"),
        _spec(_K.RESCIND, _C.BRING_BACK, 1, False, True, True, True, _T.RESCIND_WITHOUT_NOTICE,
              "撤销已通过的决议", "rescind", "RONR §35"),
        # RONR §35: the same motion as rescind, proposing new wording for the decision.
        _spec(_K.AMEND_PREVIOUSLY_ADOPTED, _C.BRING_BACK, 1, False, True, True, True, _T.RESCIND_WITHOUT_NOTICE,
              "修改已通过的决议", "amend something previously adopted", "RONR §35"),
        _spec(_K.RECONSIDER, _C.BRING_BACK, 1, False, True, "inherits", False, _T.MAJORITY,
              "复议", "reconsider", "RONR §37"),
    )
}
# fmt: on

RANKED: tuple[MotionSpec, ...] = tuple(
    sorted(
        (
            s
            for s in MOTIONS.values()
            if s.category in (Category.PRIVILEGED, Category.SUBSIDIARY, Category.MAIN)
        ),
        key=lambda s: -(s.rank or 0),
    )
)

# Rules a two-thirds vote to suspend the rules (RONR §25) may set aside for the question pending.
SUSPENDABLE_RULES: frozenset[str] = frozenset(
    {"speech_limit", "speech_time", "first_time_first", "alternation", "stance_required"}
)

# Thresholds a profile may set for main motions: the ones that are about counting votes.
MAIN_THRESHOLDS: frozenset[Threshold] = frozenset(
    {Threshold.MAJORITY, Threshold.TWO_THIRDS, Threshold.MAJORITY_OF_MEMBERSHIP, Threshold.MAJORITY_PRESENT}
)


@dataclass(frozen=True, slots=True)
class RuleProfile:
    """Every setting a council can change.  Defaults are RONR's."""

    name: str = "ronr"
    # RONR §4; small boards (about a dozen members or fewer, RONR 49:21) may do without seconds.
    seconds_required: bool = True
    # RONR 43:8: ten minutes a speech, two speeches per member per question per day.
    speech_seconds: int = 600
    max_speeches: int = 2
    # RONR 43:8 and DOMAIN.md: a second turn only after everyone wanting a first has had it.
    first_time_first: bool = True
    alternate_stances: bool = False  # 南塘十三条: the chair alternates pro and con speakers
    stance_required: bool = False  # 南塘十三条: a speaker states pro or con first
    chair_may_debate: bool = False  # RONR 43:29; 南塘: the chair only runs the procedure
    chair_votes: ChairVotes = ChairVotes.WHEN_DECISIVE
    abstentions_asked: bool = True  # 南塘: ayes counted, then noes; abstainers are never asked
    motions_need_floor: bool = True  # RONR §42: a member must obtain the floor to make a motion
    # The chair puts the question only after the speeches are used up (RONR §43; 南塘).
    vote_after_debate: bool = True
    quorum_rule: QuorumRule = QuorumRule.MAJORITY  # RONR §40
    quorum_count: int = 0  # used when quorum_rule is "count"; in shares when votes are weighted
    # Shareholders' meetings of collective companies vote by shares, and their quorum counts shares.
    vote_by_weight: bool = False
    main_threshold: Threshold = Threshold.MAJORITY
    # Which edition of the engine's rules a stored log was recorded under, so that a meeting held
    # before a rule was tightened replays as it was held.  1: before issue 12 (no floor expiry at
    # the time limit, the chair could vote first when decisive, a vote stood when the quorum was
    # lost meanwhile, only main motions and amendments needed text).  2: now.
    rules_version: int = 2

    def __post_init__(self) -> None:
        problems = _profile_problems(self)
        if problems:
            raise ProfileError(detail="; ".join(problems))


def _profile_problems(p: RuleProfile) -> list[str]:
    problems = []
    if not p.name:
        problems.append("name must not be empty")
    if p.speech_seconds < 1:
        problems.append("speech_seconds must be at least 1")
    if p.max_speeches < 1:
        problems.append("max_speeches must be at least 1")
    if p.quorum_count < 0:
        problems.append("quorum_count must not be negative")
    if p.quorum_rule is QuorumRule.COUNT and p.quorum_count < 1:
        problems.append('quorum_count must be at least 1 when quorum_rule is "count"')
    if p.rules_version not in (1, 2):
        problems.append("rules_version must be 1 or 2")
    if p.main_threshold not in MAIN_THRESHOLDS:
        problems.append(f"main_threshold must be one of {sorted(t.value for t in MAIN_THRESHOLDS)}")
    return problems


RONR = RuleProfile()

# 南塘十三条 (Nantang thirteen rules, DOMAIN.md): neutral chair, 2 minutes x 2 speeches, stance first,
# pro/con alternation, no seconds, the chair votes last, abstainers never asked.
NANTANG = RuleProfile(
    name="nantang",
    seconds_required=False,
    speech_seconds=120,
    max_speeches=2,
    first_time_first=True,
    alternate_stances=True,
    stance_required=True,
    chair_may_debate=False,
    chair_votes=ChairVotes.LAST,
    abstentions_asked=False,
)

PROFILES: Mapping[str, RuleProfile] = {"ronr": RONR, "nantang": NANTANG}

_FIELDS = {f.name: f for f in dataclasses.fields(RuleProfile)}
_FIELD_TYPES: dict[str, type] = {
    "name": str,
    "seconds_required": bool,
    "speech_seconds": int,
    "max_speeches": int,
    "first_time_first": bool,
    "alternate_stances": bool,
    "stance_required": bool,
    "chair_may_debate": bool,
    "chair_votes": ChairVotes,
    "abstentions_asked": bool,
    "motions_need_floor": bool,
    "vote_after_debate": bool,
    "quorum_rule": QuorumRule,
    "quorum_count": int,
    "vote_by_weight": bool,
    "main_threshold": Threshold,
    "rules_version": int,
}
assert set(_FIELD_TYPES) == set(_FIELDS), "every profile field needs a declared type"


def _coerce(name: str, value: object) -> object:
    expected = _FIELD_TYPES[name]
    if issubclass(expected, enum.Enum):
        try:
            return expected(value)
        except ValueError:
            choices = ", ".join(str(m.value) for m in expected)
            raise ProfileError(detail=f"{name}: {value!r} is not one of {choices}") from None
    # bool is a subclass of int: refuse True where a number is wanted, and 1 where a flag is.
    if type(value) is not expected:
        raise ProfileError(detail=f"{name}: expected {expected.__name__}, got {type(value).__name__}")
    return value


def profile_from_dict(base: RuleProfile | str, overrides: Mapping[str, object]) -> RuleProfile:
    """Build a council's profile from a base profile (or its name) and a dict of settings.

    Unknown names, wrong types and out-of-range values raise :class:`ProfileError` naming the
    setting, so an admin form can show the message next to the field.
    """
    if isinstance(base, str):
        if base not in PROFILES:
            raise ProfileError(detail=f"unknown base profile {base!r}; choose from {', '.join(PROFILES)}")
        base = PROFILES[base]
    unknown = sorted(set(overrides) - set(_FIELDS))
    if unknown:
        raise ProfileError(detail=f"unknown setting(s) {', '.join(unknown)}; valid: {', '.join(_FIELDS)}")
    changes: dict[str, Any] = {name: _coerce(name, value) for name, value in overrides.items()}
    return dataclasses.replace(base, **changes)


def profile_to_dict(profile: RuleProfile) -> dict[str, object]:
    """Plain JSON-ready dict; ``profile_from_dict(RONR, profile_to_dict(p)) == p``."""
    out: dict[str, object] = {}
    for name in _FIELDS:
        value = getattr(profile, name)
        out[name] = value.value if isinstance(value, enum.Enum) else value
    return out
