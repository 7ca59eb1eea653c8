"""Vocabulary of the rules-of-order engine.

Every enum is a ``StrEnum`` so that its values are the stable codes stored in the event log,
sent over the API and written into rule profiles; renaming a member is fine, changing a value
is a data migration.
"""

from __future__ import annotations

from enum import StrEnum


class MotionKind(StrEnum):
    # Privileged motions (RONR §§19-22), highest rank first.
    FIX_TIME_TO_ADJOURN = "fix_time_to_adjourn"
    ADJOURN = "adjourn"
    RECESS = "recess"
    QUESTION_OF_PRIVILEGE = "question_of_privilege"
    ORDERS_OF_THE_DAY = "orders_of_the_day"
    # Subsidiary motions (RONR §§11-17).
    LAY_ON_THE_TABLE = "lay_on_the_table"
    PREVIOUS_QUESTION = "previous_question"
    LIMIT_DEBATE = "limit_debate"
    POSTPONE_TO_CERTAIN_TIME = "postpone_to_certain_time"
    COMMIT = "commit"
    AMEND = "amend"
    POSTPONE_INDEFINITELY = "postpone_indefinitely"
    # The main motion (RONR §10).
    MAIN = "main"
    # Incidental motions (RONR §§23-29).
    POINT_OF_ORDER = "point_of_order"
    APPEAL = "appeal"
    SUSPEND_RULES = "suspend_rules"
    OBJECTION_TO_CONSIDERATION = "objection_to_consideration"
    DIVISION_OF_QUESTION = "division_of_question"
    DIVISION_OF_ASSEMBLY = "division_of_assembly"
    # Motions that bring a question again before the assembly (RONR §§34-37).
    TAKE_FROM_TABLE = "take_from_table"
    RESCIND = "rescind"
    AMEND_PREVIOUSLY_ADOPTED = "amend_previously_adopted"
    RECONSIDER = "reconsider"


class Category(StrEnum):
    PRIVILEGED = "privileged"
    SUBSIDIARY = "subsidiary"
    MAIN = "main"
    INCIDENTAL = "incidental"
    BRING_BACK = "bring_back"


class Threshold(StrEnum):
    MAJORITY = "majority"  # more than half of the votes cast, abstentions not counted (RONR 44:1)
    TWO_THIRDS = "two_thirds"  # at least two-thirds of the votes cast (RONR 44:3)
    MAJORITY_OF_MEMBERSHIP = "majority_of_membership"  # more than half of all members (RONR 44:9)
    MAJORITY_PRESENT = "majority_present"  # more than half of those present when the vote was called
    # Rescind without notice: two-thirds of votes cast, or a majority of the entire membership
    # (RONR 35:2); with previous notice a plain majority is enough.
    RESCIND_WITHOUT_NOTICE = "rescind_without_notice"
    # Appeal: the question is "shall the decision of the chair stand"; a majority or a tie
    # sustains the chair (RONR §24).
    SUSTAIN_CHAIR = "sustain_chair"
    # Objection to consideration: sustained by two-thirds voting *against* consideration (RONR §26).
    TWO_THIRDS_AGAINST = "two_thirds_against"
    CHAIR_RULES = "chair_rules"  # no vote: the chair decides, subject to appeal
    NONE = "none"  # a demand: no vote at all


class Stance(StrEnum):
    PRO = "pro"
    CON = "con"
    NEUTRAL = "neutral"


class VoteChoice(StrEnum):
    AYE = "aye"
    NO = "no"
    ABSTAIN = "abstain"


class VoteMethod(StrEnum):
    SHOW_OF_HANDS = "show_of_hands"
    ROLL_CALL = "roll_call"
    SECRET_BALLOT = "secret_ballot"  # noqa: S105 -- a voting method, not a password


class ChairVotes(StrEnum):
    WHEN_DECISIVE = "when_decisive"  # RONR 44:12: only when it changes the result, or by ballot
    LAST = "last"  # 南塘十三条: a chair with a vote votes last
    NEVER = "never"


class QuorumRule(StrEnum):
    MAJORITY = "majority"  # more than half of the members (RONR §40 default)
    TWO_THIRDS = "two_thirds"  # at least two-thirds, common in shareholders' meetings
    COUNT = "count"  # a fixed number (or number of shares) set in the profile


class Session(StrEnum):
    NOT_STARTED = "not_started"
    IN_SESSION = "in_session"
    RECESS = "recess"
    ADJOURNED = "adjourned"


class MotionStatus(StrEnum):
    PROPOSED = "proposed"  # made, not yet stated by the chair
    PENDING = "pending"  # stated; under consideration
    VOTING = "voting"
    ADOPTED = "adopted"
    LOST = "lost"
    RULED = "ruled"  # decided by the chair (point of order, question of privilege ...)
    WITHDRAWN = "withdrawn"
    NOT_SECONDED = "not_seconded"
    TABLED = "tabled"
    POSTPONED = "postponed"
    COMMITTED = "committed"
    KILLED = "killed"  # postponed indefinitely
    NOT_CONSIDERED = "not_considered"  # objection to consideration sustained
    DIVIDED = "divided"
    RESCINDED = "rescinded"
    QUEUED = "queued"  # a part of a divided question waiting its turn


class ActionKind(StrEnum):
    CALL_TO_ORDER = "call_to_order"
    ARRIVE = "arrive"
    LEAVE = "leave"
    MOVE = "move"
    SECOND = "second"
    STATE_QUESTION = "state_question"
    NO_SECOND = "no_second"
    WITHDRAW = "withdraw"
    REQUEST_FLOOR = "request_floor"
    RECOGNIZE = "recognize"
    SPEAK = "speak"
    YIELD_FLOOR = "yield_floor"
    CUT_OFF = "cut_off"
    RULE = "rule"
    CALL_VOTE = "call_vote"
    CAST_VOTE = "cast_vote"
    ANNOUNCE_RESULT = "announce_result"
    HAND_OVER_CHAIR = "hand_over_chair"
    DECLARE_ADJOURNED = "declare_adjourned"
    TAKE_UP_ITEM = "take_up_item"
