"""The trading lifecycle's rules, pure: which step may follow which, the reserve price, which bid
is valid and which wins.

Steps run in order (DOMAIN.md): decision → appraisal → reserve price (never below the appraised
value) → listing with a public notice period → registration with deposit → bids → award to the
best valid bid → result notice → contract generated from the award.

Bids are monthly rents. Open ascending bidding (公开增价): each bid must reach the reserve and
beat the highest bid so far by at least the increment. Sealed bids (密封报价): one bid per
registered bidder, at least the reserve; the highest wins, the earliest on a tie.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

ORDER = ("decided", "appraised", "priced", "listed", "awarded", "noticed", "contracted")


def next_status(status: str) -> str | None:
    i = ORDER.index(status) if status in ORDER else -1
    return ORDER[i + 1] if 0 <= i < len(ORDER) - 1 else None


@dataclass(frozen=True)
class BidFacts:
    ref: str
    bidder: str  # registration key
    amount: Decimal
    at: datetime


def reserve_ok(reserve: Decimal, appraised: Decimal) -> bool:
    return reserve >= appraised


def bid_problem(mode: str, amount: Decimal, bidder: str, reserve: Decimal, increment: Decimal,
                earlier: Sequence[BidFacts]) -> str:
    """Why a bid is not valid ("" when it is): ``below_reserve``, ``increment``, ``sealed_twice``."""
    if amount < reserve:
        return "below_reserve"
    if mode == "sealed":
        return "sealed_twice" if any(b.bidder == bidder for b in earlier) else ""
    if earlier:
        top = max(b.amount for b in earlier)
        if amount < top + increment:
            return "increment"
    return ""


def best_bid(bids: Sequence[BidFacts]) -> BidFacts | None:
    """The highest amount; the earliest among equals."""
    if not bids:
        return None
    return sorted(bids, key=lambda b: (-b.amount, b.at, b.ref))[0]


def notice_open(listed_on: date | None, notice_until: date | None, today: date) -> bool:
    """Bids and registrations are taken from the listing up to the end of the notice period."""
    return listed_on is not None and notice_until is not None and listed_on <= today <= notice_until
