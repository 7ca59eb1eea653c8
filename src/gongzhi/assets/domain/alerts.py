"""Monitoring findings (预警), pure: each function takes plain facts and returns the findings a
recomputation turns into alerts. Thresholds are arguments with the defaults seen on existing
platforms (DOMAIN.md)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

EXPIRY_STEPS = (30, 60, 90)  # days before the end of a lease with no re-tender under way
VACANCY_DAYS = 90  # an asset empty this long is reported
ARREARS_GRACE_DAYS = 0  # a charge is in arrears the day after it is due


@dataclass(frozen=True)
class ChargeFacts:
    due_on: date
    amount_due: Decimal
    amount_paid: Decimal


def arrears(charges: Sequence[ChargeFacts], today: date, grace_days: int = ARREARS_GRACE_DAYS) -> Decimal:
    """What is overdue and unpaid."""
    owed = Decimal("0.00")
    for c in charges:
        if c.due_on + timedelta(days=grace_days) < today and c.amount_paid < c.amount_due:
            owed += c.amount_due - c.amount_paid
    return owed


def expiry_step(ends_on: date, today: date, retender_under_way: bool) -> int | None:
    """30, 60 or 90 — the tightest step the lease's end falls within; None otherwise."""
    if retender_under_way or ends_on < today:
        return None
    left = (ends_on - today).days
    for step in EXPIRY_STEPS:
        if left <= step:
            return step
    return None


def below_benchmark(monthly_rent: Decimal, area: Decimal, benchmark_per_m2: Decimal | None,
                    tolerance: Decimal = Decimal("0.90")) -> bool:
    """Rent per m² under the area's benchmark by more than the tolerance (default 10 % below)."""
    if benchmark_per_m2 is None or area <= 0:
        return False
    return monthly_rent / area < benchmark_per_m2 * tolerance


def vacant_too_long(vacant_since: date | None, today: date, days: int = VACANCY_DAYS) -> bool:
    return vacant_since is not None and (today - vacant_since).days >= days


def deadline_for(kind: str, today: date) -> date:
    """How long the owner has to act on an alert of ``kind`` (calendar days)."""
    days = {"off_platform": 5, "split_deal": 5, "term_too_long": 5, "arrears": 15, "expiring": 10,
            "vacant": 30, "below_benchmark": 15, "at_reserve": 10, "single_bidder": 10}.get(kind, 15)
    return today + timedelta(days=days)
