"""Counting votes: one pure function, one frozen result.

Weights are whole numbers: 1 per member in an ordinary council, the number of shares in a
shareholders' meeting of a collective company.  Head counts are reported beside the weights so the
minutes can show both.  The result never names a voter, so it is safe to publish for a secret ballot.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from procedure.enums import Threshold, VoteChoice


@dataclass(frozen=True, slots=True)
class TallyResult:
    threshold: Threshold
    ayes: int
    noes: int
    abstentions: int
    ayes_weight: int
    noes_weight: int
    abstentions_weight: int
    membership_weight: int  # the whole body, present or not
    present_weight: int  # present when the vote was called
    adopted: bool
    reason: str  # stable code, e.g. "tie_fails", "two_thirds_not_reached"

    @property
    def cast_weight(self) -> int:
        """Votes cast: abstentions are not votes (RONR 44:1)."""
        return self.ayes_weight + self.noes_weight


def _two_thirds(yes: int, no: int) -> bool:
    # "At least two-thirds of the votes cast" (RONR 44:3), in integers to avoid rounding: with
    # nobody voting there is no two-thirds.
    return yes > 0 and 3 * yes >= 2 * (yes + no)


def _decide(threshold: Threshold, ayes: int, noes: int, membership: int, present: int) -> tuple[bool, str]:
    if threshold is Threshold.MAJORITY:
        # More than half of the votes cast; a tie fails (RONR 44:1, 南塘十三条).
        if ayes == noes:
            return False, "tie_fails"
        return (True, "majority_reached") if ayes > noes else (False, "majority_not_reached")
    if threshold is Threshold.TWO_THIRDS:
        ok = _two_thirds(ayes, noes)
        return ok, "two_thirds_reached" if ok else "two_thirds_not_reached"
    if threshold is Threshold.MAJORITY_OF_MEMBERSHIP:
        ok = 2 * ayes > membership  # RONR 44:9
        return ok, "membership_majority_reached" if ok else "membership_majority_not_reached"
    if threshold is Threshold.MAJORITY_PRESENT:
        ok = 2 * ayes > present
        return ok, "present_majority_reached" if ok else "present_majority_not_reached"
    if threshold is Threshold.RESCIND_WITHOUT_NOTICE:
        # RONR 35:2: without previous notice, two-thirds of votes cast or a majority of the
        # entire membership, whichever the assembly reaches.
        if _two_thirds(ayes, noes):
            return True, "two_thirds_reached"
        if 2 * ayes > membership:
            return True, "membership_majority_reached"
        return False, "two_thirds_not_reached"
    if threshold is Threshold.SUSTAIN_CHAIR:
        # The question is "shall the decision of the chair stand?": a majority against is needed
        # to reverse it, so a tie sustains the chair (RONR §24).
        return (True, "chair_sustained") if ayes >= noes else (False, "chair_overruled")
    if threshold is Threshold.TWO_THIRDS_AGAINST:
        # "Shall the question be considered?": the objection is sustained (the question dropped)
        # when two-thirds vote against consideration (RONR §26).
        ok = _two_thirds(noes, ayes)
        return ok, "objection_sustained" if ok else "objection_not_sustained"
    raise ValueError(f"threshold {threshold.value!r} is not decided by a vote")


def tally(
    votes: Iterable[tuple[VoteChoice, int]],
    threshold: Threshold,
    *,
    membership_weight: int,
    present_weight: int | None = None,
) -> TallyResult:
    """Count ``(choice, weight)`` pairs against ``threshold``.

    ``membership_weight`` is the weight of the entire membership; ``present_weight`` the weight
    present when the vote was called (defaults to the membership).  Raises ``ValueError`` for the
    thresholds that are not a vote (``chair_rules``, ``none``) or for a negative weight.
    """
    heads = dict.fromkeys(VoteChoice, 0)
    weights = dict.fromkeys(VoteChoice, 0)
    for choice, weight in votes:
        if weight < 0:
            raise ValueError("vote weights must not be negative")
        heads[choice] += 1
        weights[choice] += weight
    present = membership_weight if present_weight is None else present_weight
    adopted, reason = _decide(
        threshold, weights[VoteChoice.AYE], weights[VoteChoice.NO], membership_weight, present
    )
    return TallyResult(
        threshold=threshold,
        ayes=heads[VoteChoice.AYE],
        noes=heads[VoteChoice.NO],
        abstentions=heads[VoteChoice.ABSTAIN],
        ayes_weight=weights[VoteChoice.AYE],
        noes_weight=weights[VoteChoice.NO],
        abstentions_weight=weights[VoteChoice.ABSTAIN],
        membership_weight=membership_weight,
        present_weight=present,
        adopted=adopted,
        reason=reason,
    )
