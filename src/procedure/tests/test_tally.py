"""The tally: every threshold, weights, abstentions, and the frozen result."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from procedure import TallyResult, Threshold, VoteChoice, tally

A, N, X = VoteChoice.AYE, VoteChoice.NO, VoteChoice.ABSTAIN


def votes(ayes: int, noes: int, abstain: int = 0, weight: int = 1) -> list[tuple[VoteChoice, int]]:
    return [(A, weight)] * ayes + [(N, weight)] * noes + [(X, weight)] * abstain


@pytest.mark.parametrize(
    ("threshold", "ayes", "noes", "abstain", "members", "adopted", "reason"),
    [
        # majority of votes cast: abstentions never count, a tie fails (RONR 44:1)
        (Threshold.MAJORITY, 3, 2, 0, 7, True, "majority_reached"),
        (Threshold.MAJORITY, 3, 3, 0, 7, False, "tie_fails"),
        (Threshold.MAJORITY, 2, 3, 0, 7, False, "majority_not_reached"),
        (Threshold.MAJORITY, 1, 0, 6, 7, True, "majority_reached"),
        (Threshold.MAJORITY, 0, 0, 5, 7, False, "tie_fails"),
        # two-thirds of votes cast (RONR 44:3)
        (Threshold.TWO_THIRDS, 4, 2, 0, 7, True, "two_thirds_reached"),
        (Threshold.TWO_THIRDS, 3, 2, 0, 7, False, "two_thirds_not_reached"),
        (Threshold.TWO_THIRDS, 2, 1, 4, 7, True, "two_thirds_reached"),
        (Threshold.TWO_THIRDS, 0, 0, 3, 7, False, "two_thirds_not_reached"),
        # majority of the entire membership (RONR 44:9)
        (Threshold.MAJORITY_OF_MEMBERSHIP, 4, 0, 0, 7, True, "membership_majority_reached"),
        (Threshold.MAJORITY_OF_MEMBERSHIP, 3, 0, 0, 7, False, "membership_majority_not_reached"),
        (Threshold.MAJORITY_OF_MEMBERSHIP, 3, 0, 0, 6, False, "membership_majority_not_reached"),
        # rescind without notice: two-thirds of votes cast, or a majority of the membership (RONR 35:2)
        (Threshold.RESCIND_WITHOUT_NOTICE, 2, 1, 0, 7, True, "two_thirds_reached"),
        (Threshold.RESCIND_WITHOUT_NOTICE, 4, 3, 0, 7, True, "membership_majority_reached"),
        (Threshold.RESCIND_WITHOUT_NOTICE, 3, 2, 0, 7, False, "two_thirds_not_reached"),
        # appeal: a tie sustains the chair (RONR §24)
        (Threshold.SUSTAIN_CHAIR, 2, 2, 0, 7, True, "chair_sustained"),
        (Threshold.SUSTAIN_CHAIR, 0, 0, 0, 7, True, "chair_sustained"),
        (Threshold.SUSTAIN_CHAIR, 2, 3, 0, 7, False, "chair_overruled"),
        # objection to consideration: two-thirds against consideration (RONR §26)
        (Threshold.TWO_THIRDS_AGAINST, 1, 2, 0, 7, True, "objection_sustained"),
        (Threshold.TWO_THIRDS_AGAINST, 2, 3, 0, 7, False, "objection_not_sustained"),
    ],
)
def test_thresholds(
    threshold: Threshold, ayes: int, noes: int, abstain: int, members: int, adopted: bool, reason: str
) -> None:
    r = tally(votes(ayes, noes, abstain), threshold, membership_weight=members)
    assert (r.adopted, r.reason) == (adopted, reason)
    assert (r.ayes, r.noes, r.abstentions) == (ayes, noes, abstain)
    assert r.cast_weight == ayes + noes


def test_majority_of_those_present_counts_abstentions_against() -> None:
    r = tally(votes(3, 1, 2), Threshold.MAJORITY_PRESENT, membership_weight=9, present_weight=6)
    assert not r.adopted and r.reason == "present_majority_not_reached"
    assert tally(votes(4, 1, 1), Threshold.MAJORITY_PRESENT, membership_weight=9, present_weight=6).adopted


def test_weighted_votes_count_shares_not_heads() -> None:
    # A shareholders' meeting: one holder of 60 shares against three of 10.
    r = tally([(A, 60), (N, 10), (N, 10), (N, 10)], Threshold.MAJORITY, membership_weight=100)
    assert r.adopted and (r.ayes, r.noes) == (1, 3) and (r.ayes_weight, r.noes_weight) == (60, 30)
    r = tally([(A, 60), (N, 10)], Threshold.MAJORITY_OF_MEMBERSHIP, membership_weight=130)
    assert not r.adopted


@pytest.mark.parametrize("threshold", [Threshold.CHAIR_RULES, Threshold.NONE])
def test_thresholds_that_are_not_votes_raise(threshold: Threshold) -> None:
    with pytest.raises(ValueError, match="not decided by a vote"):
        tally(votes(1, 0), threshold, membership_weight=3)


def test_negative_weight_raises() -> None:
    with pytest.raises(ValueError, match="negative"):
        tally([(A, -1)], Threshold.MAJORITY, membership_weight=3)


def test_result_is_frozen_and_names_nobody() -> None:
    r = tally(votes(2, 1), Threshold.MAJORITY, membership_weight=3)
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.adopted = False  # type: ignore[misc]
    assert {f.name for f in dataclasses.fields(TallyResult)}.isdisjoint({"roll", "voters", "names"})


@settings(max_examples=200, database=None)
@given(
    st.lists(st.tuples(st.sampled_from(list(VoteChoice)), st.integers(1, 50)), max_size=30),
    st.sampled_from([t for t in Threshold if t not in (Threshold.CHAIR_RULES, Threshold.NONE)]),
    st.integers(0, 200),
)
def test_tally_matches_a_plain_recount(
    cast: list[tuple[VoteChoice, int]], threshold: Threshold, extra_members: int
) -> None:
    from fractions import Fraction

    membership = sum(w for _, w in cast) + extra_members
    r = tally(cast, threshold, membership_weight=membership)
    y = sum(w for c, w in cast if c is A)
    n = sum(w for c, w in cast if c is N)
    assert (r.ayes_weight, r.noes_weight) == (y, n)
    assert r.abstentions == sum(1 for c, _ in cast if c is X)
    two_thirds = y + n > 0 and Fraction(y, y + n) >= Fraction(2, 3)
    expected = {
        Threshold.MAJORITY: y > n,
        Threshold.TWO_THIRDS: two_thirds,
        Threshold.MAJORITY_OF_MEMBERSHIP: Fraction(y) > Fraction(membership, 2),
        Threshold.MAJORITY_PRESENT: Fraction(y) > Fraction(membership, 2),
        Threshold.RESCIND_WITHOUT_NOTICE: two_thirds or Fraction(y) > Fraction(membership, 2),
        Threshold.SUSTAIN_CHAIR: y >= n,
        Threshold.TWO_THIRDS_AGAINST: y + n > 0 and Fraction(n, y + n) >= Fraction(2, 3),
    }[threshold]
    assert r.adopted is expected
