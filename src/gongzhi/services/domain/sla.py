"""SLA arithmetic (阳光办) — pure, on top of core's working-day calendar.

A limit of N working days starts the day after acceptance (Civil Code Art. 201). Time paused
for a supplement request does not count: the deadline moves by the working days paused.
Warning at ``warning_share`` of the limit used; overdue once the deadline day has ended.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from gongzhi.core.domain.workdays import WorkCalendar


@dataclass(frozen=True)
class Clock:
    deadline: date
    provisional: bool
    warning_on: date  # first day on which the case shows as a warning


def clock_for(cal: WorkCalendar, accepted_on: date, limit_days: int, paused_days: int, warning_share: Decimal) -> Clock:
    total = limit_days + paused_days
    result = cal.add_working_days(accepted_on, total)
    # Warn once this many working days of the limit are used (at least one day before the end).
    used = min(max(math.ceil(limit_days * float(warning_share)), 0), max(limit_days - 1, 0))
    warn = cal.add_working_days(accepted_on, used + paused_days) if limit_days else result
    return Clock(result.deadline, result.provisional, warn.deadline)


def paused_working_days(cal: WorkCalendar, paused_on: date, resumed_on: date) -> int:
    """Working days lost to a pause from ``paused_on`` (its day counts as paused) to ``resumed_on``.

    A supplement requested and answered the same day pauses nothing.
    """
    if resumed_on <= paused_on:
        return 0
    days = cal.working_days_between(paused_on, resumed_on)
    return days
