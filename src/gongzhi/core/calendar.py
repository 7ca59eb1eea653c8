"""The working-day calendar backed by the ``CalendarDay`` / ``CalendarYear`` tables.

The tables are seeded from the ``chinesecalendar`` library (which raises for years it does not
know, hence the table in front of it — FIELD-NOTES), edited by administrators, and extended by
``gongzhi calendar load FILE`` when the State Council publishes a new year.
"""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from django.db import transaction

from gongzhi.core.domain.workdays import DeadlineResult, WorkCalendar, calendar_from_rows
from gongzhi.core.enums import CalendarSource, DayKind
from gongzhi.core.models import CalendarDay, CalendarYear

_CACHE_SECONDS = 60  # other processes see admin edits within a minute; this process at once


_memo: tuple[float, WorkCalendar] | None = None


def work_calendar() -> WorkCalendar:
    """The calendar, kept in this process for ``_CACHE_SECONDS`` (intake computes several
    deadlines per submission; the table changes a few times a year)."""
    global _memo
    now = time.monotonic()
    if _memo is not None and now - _memo[0] < _CACHE_SECONDS:
        return _memo[1]
    rows = [(d, k == DayKind.WORK) for d, k in CalendarDay.objects.values_list("date", "kind")]
    years = CalendarYear.objects.filter(complete=True).values_list("year", flat=True)
    cal = calendar_from_rows(rows, years)
    _memo = (now, cal)
    return cal


def invalidate_calendar_cache() -> None:
    """Forget the memo in this process; other processes refresh within ``_CACHE_SECONDS``."""
    global _memo
    _memo = None


def add_working_days(start: date, working_days: int) -> DeadlineResult:
    return work_calendar().add_working_days(start, working_days)


# --- seeding and import ---------------------------------------------------------------------


@dataclass(frozen=True)
class DayRow:
    date: date
    kind: str  # DayKind value
    name: str = ""


def library_rows(year: int) -> list[DayRow] | None:
    """The year's exceptions from ``chinesecalendar``, or None if the library does not know it."""
    import chinese_calendar

    rows: list[DayRow] = []
    day = date(year, 1, 1)
    try:
        while day.year == year:
            on_holiday, name = chinese_calendar.get_holiday_detail(day)
            weekday = day.weekday() < 5
            if weekday and on_holiday:
                rows.append(DayRow(day, DayKind.OFF, str(name or "")))
            elif not weekday and not on_holiday:
                rows.append(DayRow(day, DayKind.WORK, str(name or "")))
            day += timedelta(days=1)
    except NotImplementedError:
        return None
    return rows


class CalendarFileError(ValueError):
    pass


def parse_calendar_file(path: Path) -> tuple[list[int], list[DayRow]]:
    """Read a schedule file: CSV ``date,kind,name`` (kind ``off``/``work``, or 休/班) or JSON
    ``{"years": [2027], "days": [{"date": "2027-01-01", "kind": "off", "name": "元旦"}]}``.

    Every bad row is reported at once; nothing is applied when any row is bad.
    """
    text = path.read_text(encoding="utf-8-sig")
    raw: list[dict[str, str]]
    years: set[int] = set()
    if path.suffix.lower() == ".json":
        data = json.loads(text)
        raw = list(data.get("days", []))
        years.update(int(y) for y in data.get("years", []))
    else:
        raw = [
            {"date": r[0], "kind": r[1], "name": r[2] if len(r) > 2 else ""}
            for r in csv.reader(text.splitlines())
            if r and not r[0].startswith("#") and r[0].strip().lower() != "date"
        ]
    kinds = {"off": DayKind.OFF, "休": DayKind.OFF, "work": DayKind.WORK, "班": DayKind.WORK}
    rows: list[DayRow] = []
    errors: list[str] = []
    for n, item in enumerate(raw, start=1):
        try:
            day = date.fromisoformat(str(item["date"]).strip())
        except (KeyError, ValueError):
            errors.append(f"第 {n} 行：日期格式应为 YYYY-MM-DD，实际为 {item.get('date')!r}")
            continue
        kind = kinds.get(str(item.get("kind", "")).strip().lower())
        if kind is None:
            errors.append(f"第 {n} 行：类型应为 off/work（休/班），实际为 {item.get('kind')!r}")
            continue
        rows.append(DayRow(day, kind, str(item.get("name", "")).strip()))
        years.add(day.year)
    if errors:
        raise CalendarFileError("\n".join(errors))
    if not years:
        raise CalendarFileError("文件中没有任何日期")
    return sorted(years), rows


@transaction.atomic
def replace_years(years: Iterable[int], rows: Iterable[DayRow], source: str) -> None:
    """Replace the schedule of ``years`` with ``rows`` and mark them complete."""
    years = list(years)
    CalendarDay.objects.filter(date__year__in=years).delete()
    CalendarDay.objects.bulk_create(
        [CalendarDay(date=r.date, kind=r.kind, name=r.name, source=source) for r in rows]
    )
    for year in years:
        CalendarYear.objects.update_or_create(year=year, defaults={"complete": True, "source": source})


def seed_from_library(first_year: int = 2004) -> list[int]:
    """Seed every year the library knows that the table does not have yet."""
    loaded: list[int] = []
    year = first_year
    while True:
        rows = library_rows(year)
        if rows is None:
            break
        if not CalendarYear.objects.filter(year=year).exists():
            replace_years([year], rows, CalendarSource.LIBRARY)
            loaded.append(year)
        year += 1
    invalidate_calendar_cache()
    return loaded
