"""The on-platform trading rule (进场交易), pure: no database, no Django.

Seed (Longhua): any collective asset transaction of **≥ 3,000 m²** or **≥ RMB 100,000 a month**
must be traded on the platform. The thresholds are a district's, dated (a deal is judged by the
rule in force on the day it is signed), and configurable (DOMAIN.md, collective assets).

Splitting a deal does not escape the rule: a deal is also judged together with the company's
earlier *off-platform* deals that share its leased asset, its land parcel or its counterparty
signed within the rolling window (default 365 days). A deal already traded on the platform has
been traded in the sun and is not added up again.

The parcel key is only set for leases of land: adding up every building on one industrial parcel
would flag an ordinary multi-tenant park; splitting a building among tenants is caught through
the asset (the same unit or building) or the counterparty (the same tenant).

Civil Code Art. 705: a lease may not exceed twenty years (the excess is void), so a term beyond
twenty years is refused outright rather than registered and half-void.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

DEFAULT_AREA_THRESHOLD = Decimal("3000.00")
DEFAULT_RENT_THRESHOLD = Decimal("100000.00")
DEFAULT_WINDOW_DAYS = 365
MAX_LEASE_YEARS = 20  # Civil Code Art. 705

GROUP_KEYS = ("asset", "parcel", "counterparty")


@dataclass(frozen=True)
class Rule:
    """A district's threshold from ``valid_from`` on."""

    valid_from: date = date(2000, 1, 1)
    area_threshold: Decimal = DEFAULT_AREA_THRESHOLD
    monthly_rent_threshold: Decimal = DEFAULT_RENT_THRESHOLD
    window_days: int = DEFAULT_WINDOW_DAYS

    def crosses(self, area: Decimal, monthly_rent: Decimal) -> bool:
        return area >= self.area_threshold or monthly_rent >= self.monthly_rent_threshold


DEFAULT_RULE = Rule()


def rule_on(rules: Iterable[Rule], day: date) -> Rule:
    """The rule in force on ``day``: the latest that started on or before it (else the default)."""
    current = [r for r in rules if r.valid_from <= day]
    return max(current, key=lambda r: r.valid_from) if current else DEFAULT_RULE


@dataclass(frozen=True)
class DealFacts:
    """What the rule needs to know about one deal (a contract, registered or proposed)."""

    ref: str
    company: str
    area: Decimal
    monthly_rent: Decimal
    signed_on: date
    asset: str | None = None
    parcel: str | None = None  # set for leases of land only (see the module docstring)
    counterparty: str | None = None
    on_platform: bool = False


@dataclass(frozen=True)
class Verdict:
    must_trade: bool
    alone: bool = False  # the deal crosses the threshold by itself
    grouped_by: str = ""  # "asset" / "parcel" / "counterparty" when deals add up to it
    related: tuple[str, ...] = ()  # refs of the earlier deals it was added up with
    total_area: Decimal = Decimal("0.00")
    total_monthly_rent: Decimal = Decimal("0.00")
    rule: Rule = field(default=DEFAULT_RULE)

    @property
    def is_split(self) -> bool:
        return self.must_trade and not self.alone


def in_window(a: date, b: date, window_days: int) -> bool:
    return abs((a - b).days) < window_days


def judge(deal: DealFacts, others: Sequence[DealFacts], rule: Rule) -> Verdict:
    """Must ``deal`` be traded on the platform, alone or added up with ``others``?"""
    if rule.crosses(deal.area, deal.monthly_rent):
        return Verdict(True, alone=True, total_area=deal.area, total_monthly_rent=deal.monthly_rent, rule=rule)
    for key in GROUP_KEYS:
        value = getattr(deal, key)
        if value is None:
            continue
        related = [
            o for o in others
            if o.ref != deal.ref and o.company == deal.company and not o.on_platform
            and getattr(o, key) == value and in_window(o.signed_on, deal.signed_on, rule.window_days)
        ]
        if not related:
            continue
        area = deal.area + sum((o.area for o in related), Decimal("0.00"))
        rent = deal.monthly_rent + sum((o.monthly_rent for o in related), Decimal("0.00"))
        if rule.crosses(area, rent):
            return Verdict(True, grouped_by=key, related=tuple(o.ref for o in related), total_area=area,
                           total_monthly_rent=rent, rule=rule)
    return Verdict(False, total_area=deal.area, total_monthly_rent=deal.monthly_rent, rule=rule)


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February → 28 February
        return day.replace(year=day.year + years, day=28)


def term_too_long(starts_on: date, ends_on: date) -> bool:
    """Civil Code Art. 705: more than twenty years from the start (``ends_on`` is the last day)."""
    return ends_on >= add_years(starts_on, MAX_LEASE_YEARS)


def term_months(starts_on: date, ends_on: date) -> int:
    """Whole months from ``starts_on`` to the day after ``ends_on`` (the last day of the lease)."""
    after = ends_on + timedelta(days=1)
    return (after.year - starts_on.year) * 12 + after.month - starts_on.month - (1 if after.day < starts_on.day else 0)
