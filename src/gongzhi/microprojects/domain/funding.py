"""Choosing the year's projects within a budget (pure; no Django).

Two rules, both deterministic and reproducible from their inputs alone:

* ``ranked`` (ranked approval): by supporters, most first (ties: cheaper first, then the lower
  id); take each project that still fits in what is left of the budget.
* ``knapsack``: the set with the most supporters in total that fits the budget — exact dynamic
  programming on the cost in fen (分). Ties between equally supported sets: the cheaper total,
  then the set whose ids sorted ascending come first lexicographically.

Neither ever exceeds the budget. Money is ``Decimal`` yuan with two places, never float.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

METHODS = ("knapsack", "ranked")


@dataclass(frozen=True)
class Candidate:
    id: int
    cost: Decimal  # yuan, 2 places, > 0
    supporters: int  # ≥ 0


@dataclass(frozen=True)
class Choice:
    method: str
    budget: Decimal
    chosen: tuple[int, ...]  # ids, ascending
    total: Decimal
    supporters: int


def _fen(amount: Decimal) -> int:
    return int((amount * 100).to_integral_value())


def ranked(candidates: Sequence[Candidate], budget: Decimal) -> Choice:
    left = _fen(budget)
    chosen: list[Candidate] = []
    for c in sorted(candidates, key=lambda c: (-c.supporters, c.cost, c.id)):
        if _fen(c.cost) <= left:
            chosen.append(c)
            left -= _fen(c.cost)
    return _choice("ranked", budget, chosen)


def knapsack(candidates: Sequence[Candidate], budget: Decimal) -> Choice:
    """Exact: dynamic programming over the reachable costs in fen, keeping only the Pareto
    frontier (no kept set is both dearer and less supported than another), so the table stays
    small whatever the budget. Items are taken in ascending id, which keeps the id tie-break
    exact (every later id is larger than all earlier ones)."""
    cap = _fen(budget)
    items = sorted(candidates, key=lambda c: c.id)
    frontier: list[tuple[int, int, tuple[int, ...]]] = [(0, 0, ())]  # (cost fen, supporters, ids)
    for c in items:
        w = _fen(c.cost)
        grown = [(cost + w, s + c.supporters, (*ids, c.id)) for cost, s, ids in frontier if cost + w <= cap]
        merged = sorted(frontier + grown, key=lambda t: (t[0], -t[1], t[2]))
        frontier = []
        for state in merged:
            if not frontier or state[1] > frontier[-1][1]:
                frontier.append(state)
    by_id = {c.id: c for c in items}
    return _choice("knapsack", budget, [by_id[i] for i in frontier[-1][2]])


def sort_key(ids: Sequence[int], candidates: Sequence[Candidate]) -> tuple[int, int, tuple[int, ...]]:
    """The order ``knapsack`` prefers sets in (smaller is better): most supporters, then the
    cheapest, then the smallest ids."""
    by_id = {c.id: c for c in candidates}
    return (-sum(by_id[i].supporters for i in ids), sum(_fen(by_id[i].cost) for i in ids), tuple(sorted(ids)))


def choose(method: str, candidates: Sequence[Candidate], budget: Decimal) -> Choice:
    if method not in METHODS:
        raise ValueError(f"unknown funding method {method!r}")
    if budget < 0:
        raise ValueError("budget must not be negative")
    for c in candidates:
        if c.cost <= 0:
            raise ValueError("a candidate's cost must be positive")
    return knapsack(candidates, budget) if method == "knapsack" else ranked(candidates, budget)


def _choice(method: str, budget: Decimal, chosen: Sequence[Candidate]) -> Choice:
    total = sum((c.cost for c in chosen), Decimal("0.00"))
    assert total <= budget
    return Choice(method, budget, tuple(sorted(c.id for c in chosen)), total, sum(c.supporters for c in chosen))
