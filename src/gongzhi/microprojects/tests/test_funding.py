"""The funding rule (pure): never over budget, reproducible, knapsack optimal (brute force)."""

from __future__ import annotations

from decimal import Decimal
from itertools import combinations

from hypothesis import given, settings
from hypothesis import strategies as st

from gongzhi.microprojects.domain.funding import Candidate, choose, sort_key

costs = st.integers(min_value=1, max_value=5_000_000).map(lambda fen: Decimal(fen) / 100)
candidates = st.lists(st.builds(Candidate, id=st.integers(1, 10_000), cost=costs,
                                supporters=st.integers(0, 60)),
                      max_size=9, unique_by=lambda c: c.id)
budgets = st.integers(min_value=0, max_value=15_000_000).map(lambda fen: Decimal(fen) / 100)


@settings(max_examples=150, deadline=None)
@given(candidates, budgets, st.sampled_from(["knapsack", "ranked"]))
def test_never_over_budget_and_reproducible(cands: list[Candidate], budget: Decimal, method: str) -> None:
    a = choose(method, cands, budget)
    assert a.total <= budget
    assert a.total == sum((c.cost for c in cands if c.id in a.chosen), Decimal(0))
    # the same inputs in any order give the same list
    assert choose(method, list(reversed(cands)), budget) == a


@settings(max_examples=150, deadline=None)
@given(candidates, budgets)
def test_knapsack_is_the_best_set(cands: list[Candidate], budget: Decimal) -> None:
    best = min((ids for r in range(len(cands) + 1) for ids in combinations([c.id for c in cands], r)
                if sum((c.cost for c in cands if c.id in ids), Decimal(0)) <= budget),
               key=lambda ids: sort_key(ids, cands))
    assert choose("knapsack", cands, budget).chosen == tuple(sorted(best))


@settings(max_examples=100, deadline=None)
@given(candidates, budgets)
def test_ranked_takes_the_most_supported_that_fit(cands: list[Candidate], budget: Decimal) -> None:
    got = choose("ranked", cands, budget)
    left = budget - got.total
    for c in cands:
        if c.id not in got.chosen:
            # anything left out either does not fit what is left or was beaten by the order
            assert c.cost > left or any(o.id in got.chosen for o in cands)


def test_examples() -> None:
    cands = [Candidate(1, Decimal("60000"), 30), Candidate(2, Decimal("50000"), 20),
             Candidate(3, Decimal("50000"), 20), Candidate(4, Decimal("1000"), 1)]
    budget = Decimal("100000")
    assert choose("ranked", cands, budget).chosen == (1, 4)
    assert choose("knapsack", cands, budget).chosen == (2, 3)  # 40 supporters beat 31
    assert choose("knapsack", [], budget).chosen == ()
    assert choose("ranked", cands, Decimal("0")).chosen == ()
