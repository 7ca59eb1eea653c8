"""Working-day arithmetic — pure, no database.

Rules (DOMAIN.md "Time limits"): limits count working days by the State Council schedule,
make-up workdays included. Civil Code Arts. 201/203: the day of acceptance is not counted; N
working days after acceptance ends at the end of the Nth working day that follows it.
A date in a year whose schedule is unknown falls back to Monday–Friday and the result is
marked provisional — never an error (DESIGN.md §3).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

# The dates the calculators accept. Beyond them a limit can run past ``date.max`` (an
# OverflowError, i.e. a server error); no case, meeting or lease has a date outside them.
FIRST_SUPPORTED = date(1900, 1, 1)
LAST_SUPPORTED = date(2200, 12, 31)


class DateOutOfRange(ValueError):
    """A start date outside ``FIRST_SUPPORTED``–``LAST_SUPPORTED``."""


@dataclass(frozen=True)
class DeadlineResult:
    deadline: date
    provisional: bool


@dataclass(frozen=True)
class WorkCalendar:
    """``exceptions`` maps a date to True (make-up workday) or False (holiday on a weekday)."""

    exceptions: Mapping[date, bool] = field(default_factory=dict)
    known_years: frozenset[int] = frozenset()

    def is_known(self, day: date) -> bool:
        return day.year in self.known_years

    def is_workday(self, day: date) -> bool:
        if day in self.exceptions:
            return self.exceptions[day]
        return day.weekday() < 5

    def add_working_days(self, start: date, working_days: int) -> DeadlineResult:
        """The end of the ``working_days``-th working day after ``start`` (start not counted).

        ``working_days == 0`` means "on the spot": the start day itself if it is a working day,
        else the next working day.
        """
        if working_days < 0:
            raise ValueError("working_days must be ≥ 0")
        if not FIRST_SUPPORTED <= start <= LAST_SUPPORTED:
            raise DateOutOfRange(f"start {start} outside {FIRST_SUPPORTED}–{LAST_SUPPORTED}")
        provisional = False
        day = start
        if working_days == 0:
            provisional = not self.is_known(day)
            while not self.is_workday(day):
                day += timedelta(days=1)
                provisional = provisional or not self.is_known(day)
            return DeadlineResult(day, provisional)
        remaining = working_days
        while remaining:
            day += timedelta(days=1)
            provisional = provisional or not self.is_known(day)
            if self.is_workday(day):
                remaining -= 1
        return DeadlineResult(day, provisional)

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in (start, end] — how many of a limit have been used by ``end``."""
        if end <= start:
            return 0
        count = 0
        day = start
        while day < end:
            day += timedelta(days=1)
            if self.is_workday(day):
                count += 1
        return count


def calendar_from_rows(rows: Iterable[tuple[date, bool]], known_years: Iterable[int]) -> WorkCalendar:
    return WorkCalendar(exceptions=dict(rows), known_years=frozenset(known_years))
