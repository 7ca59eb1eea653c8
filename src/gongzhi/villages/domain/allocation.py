"""Housing allocation rules (pure): talent-apartment eligibility and ranking, resettlement order.

Everything is reproducible from the published inputs: the rules (data), each applicant's facts,
and the seed. Ties are broken by ``sha256(seed + application number)``, never by arrival order
or by a random generator whose state nobody can check. A resettlement lottery commits to its
seed first (its SHA-256 is published before the draw) and reveals it at the draw, so anyone can
recompute the order and see it was not chosen after the fact.

Rules (``TalentRound.rules``)::

    {"require": [{"fact": "owns_home_in_city", "op": "eq", "value": false},
                 {"fact": "years_social_insurance", "op": "ge", "value": 1}],
     "score":   [{"fact": "talent_level", "points": {"A": 60, "B": 40, "C": 20}},
                 {"fact": "years_in_district", "per": 5, "max": 25}]}
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

OPS = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "ge": lambda a, b: a is not None and a >= b,
    "le": lambda a, b: a is not None and a <= b,
    "in": lambda a, b: a in b,
}


class RuleError(ValueError):
    pass


def check_rules(rules: Mapping[str, Any]) -> None:
    """Refuse rules that cannot be applied (an unknown operator, points that are not numbers)."""
    for r in rules.get("require", []):
        if r.get("op") not in OPS or "fact" not in r or "value" not in r:
            raise RuleError(f"bad eligibility rule {r!r}")
    for r in rules.get("score", []):
        if "fact" not in r or not ("points" in r or "per" in r):
            raise RuleError(f"bad scoring rule {r!r}")


@dataclass(frozen=True)
class Ranked:
    number: str
    eligible: bool
    score: int
    rank: int | None  # 1-based among the eligible
    allocated: bool
    failed: tuple[str, ...]  # the facts of the rules not met
    tie_break: str


def tie_break(seed: str, number: str) -> str:
    return hashlib.sha256(f"{seed}:{number}".encode()).hexdigest()


def evaluate(rules: Mapping[str, Any], facts: Mapping[str, Any]) -> tuple[bool, int, tuple[str, ...]]:
    failed = tuple(r["fact"] for r in rules.get("require", []) if not OPS[r["op"]](facts.get(r["fact"]), r["value"]))
    score = 0
    for r in rules.get("score", []):
        value = facts.get(r["fact"])
        if "points" in r:
            score += int(r["points"].get(str(value), 0))
        elif isinstance(value, int | float):
            score += min(int(value * r["per"]), int(r.get("max", 10**6)))
    return not failed, score, failed


def rank(rules: Mapping[str, Any], applications: Sequence[tuple[str, Mapping[str, Any]]], units: int,
         seed: str) -> list[Ranked]:
    """Eligible applicants by score (highest first), ties by the seeded hash; the first ``units``
    are allocated. The input order does not matter."""
    check_rules(rules)
    rows = []
    for number, facts in applications:
        ok, score, failed = evaluate(rules, facts)
        rows.append((number, ok, score, failed, tie_break(seed, number)))
    eligible = sorted((r for r in rows if r[1]), key=lambda r: (-r[2], r[4]))
    out = [Ranked(n, True, s, i + 1, i < units, f, t) for i, (n, _ok, s, f, t) in enumerate(eligible)]
    out += [Ranked(n, False, s, None, False, f, t) for n, ok, s, f, t in sorted(rows, key=lambda r: r[0]) if not ok]
    return out


def seed_commitment(seed: str) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()


def lottery_order(seed: str, refs: Sequence[str]) -> list[str]:
    """The selection order of a published lottery: by ``sha256(seed:ref)``."""
    return sorted(refs, key=lambda r: (tie_break(seed, r), r))


def queue_order(queue: Mapping[str, int]) -> list[str]:
    return sorted(queue, key=lambda r: (queue[r], r))
