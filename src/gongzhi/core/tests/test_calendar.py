"""Working-day calendar: the 2026 schedule, make-up workdays, provisional deadlines, loading."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from gongzhi.core import calendar as cal
from gongzhi.core.actions import do_load_calendar, do_set_calendar_day
from gongzhi.core.domain.workdays import WorkCalendar
from gongzhi.core.models import CalendarDay, CalendarYear
from gongzhi.core.registry import REGISTRY, on_calendar_changed
from gongzhi.core.tests.actors import SYSTEM as TEST_SYSTEM

pytestmark = pytest.mark.django_db


def test_seeded_from_library_through_2026() -> None:
    assert CalendarYear.objects.filter(year=2026, complete=True).exists()
    assert not CalendarYear.objects.filter(year=2027).exists()


@pytest.mark.parametrize(
    "day",
    # DOMAIN.md: 2026 weekend days worked in lieu.
    [date(2026, 1, 4), date(2026, 2, 14), date(2026, 2, 28), date(2026, 5, 9), date(2026, 9, 20), date(2026, 10, 10)],
)
def test_2026_make_up_workdays(day: date) -> None:
    assert day.weekday() >= 5
    assert cal.work_calendar().is_workday(day)


@pytest.mark.parametrize(
    "day",
    [date(2026, 1, 2), date(2026, 2, 16), date(2026, 2, 23), date(2026, 4, 6), date(2026, 5, 5),
     date(2026, 6, 19), date(2026, 9, 25), date(2026, 10, 1), date(2026, 10, 7)],
)
def test_2026_weekday_holidays(day: date) -> None:
    assert day.weekday() < 5
    assert not cal.work_calendar().is_workday(day)


def test_domain_example_national_day() -> None:
    # DOMAIN.md: accepted Wed 2026-09-30 with 1 working day → due Thu 2026-10-08.
    result = cal.add_working_days(date(2026, 9, 30), 1)
    assert result.deadline == date(2026, 10, 8)
    assert result.provisional is False


def test_make_up_saturday_counts() -> None:
    # Fri 2026-10-09 + 1 working day → Sat 2026-10-10 (a make-up workday), not Mon 10-12.
    assert cal.add_working_days(date(2026, 10, 9), 1).deadline == date(2026, 10, 10)


def test_acceptance_day_not_counted() -> None:
    # Mon 2026-11-23 + 5 → Mon 2026-11-30 (Civil Code Art. 201: the first day is not counted).
    assert cal.add_working_days(date(2026, 11, 23), 5).deadline == date(2026, 11, 30)


def test_zero_days_is_on_the_spot() -> None:
    assert cal.add_working_days(date(2026, 10, 3), 0).deadline == date(2026, 10, 8)
    assert cal.add_working_days(date(2026, 11, 26), 0).deadline == date(2026, 11, 26)


def test_beyond_known_schedule_is_provisional_never_an_error() -> None:
    result = cal.add_working_days(date(2026, 12, 28), 10)
    assert result.provisional is True
    # Weekday fallback: 12-29,30,31, 1-1(Fri),1-4..1-8, 1-11 → 10th working day.
    assert result.deadline == date(2027, 1, 11)
    far = cal.add_working_days(date(2150, 6, 1), 3)
    assert far.provisional is True


def test_deadline_within_known_year_not_provisional() -> None:
    assert cal.add_working_days(date(2026, 3, 2), 20).provisional is False


def _write_2027(tmp_path: Path) -> Path:
    path = tmp_path / "2027.json"
    path.write_text(
        json.dumps(
            {
                "years": [2027],
                "days": [
                    {"date": "2027-01-01", "kind": "off", "name": "元旦"},
                    {"date": "2027-01-04", "kind": "off", "name": "元旦（演示）"},
                    {"date": "2027-01-09", "kind": "work", "name": "元旦调休（演示）"},
                ],
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    return path


def test_calendar_listeners_run_after_load(tmp_path: Path, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    """Apps recompute their provisional deadlines from these listeners (services does), with the
    new year already in the calendar."""
    seen: list[date] = []

    def listener() -> None:
        seen.append(cal.add_working_days(date(2026, 12, 28), 10).deadline)

    on_calendar_changed(listener)
    try:
        assert cal.add_working_days(date(2026, 12, 28), 10).provisional
        with django_capture_on_commit_callbacks(execute=True):
            do_load_calendar(_write_2027(tmp_path), actor=TEST_SYSTEM)
    finally:
        REGISTRY.calendar_listeners.remove(listener)
    # 2027-01-01 and 01-04 off, Sat 01-09 worked: 12-29,30,31, 1-5,6,7,8,9, 1-11,12 → 10th = 1-12.
    assert seen == [date(2027, 1, 12)]
    assert CalendarYear.objects.get(year=2027).complete


def test_calendar_load_command(tmp_path: Path) -> None:
    call_command("calendar", "load", str(_write_2027(tmp_path)))
    assert CalendarDay.objects.filter(date__year=2027).count() == 3
    assert cal.add_working_days(date(2027, 1, 8), 1).deadline == date(2027, 1, 9)


def test_bad_calendar_file_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("date,kind,name\n2027-01-01,off,元旦\n2027-02-30,off,春节\n2027-02-01,holiday,x\n", encoding="utf-8")
    before = CalendarDay.objects.count()
    with pytest.raises(CommandError) as err:
        call_command("calendar", "load", str(path))
    assert "第 2 行" in str(err.value) and "第 3 行" in str(err.value)
    assert CalendarDay.objects.count() == before
    assert not CalendarYear.objects.filter(year=2027).exists()


def test_csv_with_chinese_kinds(tmp_path: Path) -> None:
    path = tmp_path / "2027.csv"
    path.write_text("2027-01-01,休,元旦\n2027-01-09,班,调休\n", encoding="utf-8")
    do_load_calendar(path, actor=TEST_SYSTEM)
    assert cal.work_calendar().is_workday(date(2027, 1, 9))


def test_admin_edit_takes_effect(django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    day = date(2026, 12, 1)  # a Tuesday
    assert cal.work_calendar().is_workday(day)
    with django_capture_on_commit_callbacks(execute=True):
        do_set_calendar_day(day, "off", "台风停工", actor=TEST_SYSTEM)
    assert not cal.work_calendar().is_workday(day)
    with django_capture_on_commit_callbacks(execute=True):
        do_set_calendar_day(day, None, actor=TEST_SYSTEM)
    assert cal.work_calendar().is_workday(day)


def test_pure_calendar_between() -> None:
    wc = WorkCalendar(exceptions={date(2026, 10, 1): False}, known_years=frozenset({2026}))
    assert wc.working_days_between(date(2026, 9, 30), date(2026, 10, 2)) == 1
    with pytest.raises(ValueError):
        wc.add_working_days(date(2026, 1, 1), -1)


def test_deadline_api(client) -> None:  # type: ignore[no-untyped-def]
    r = client.get("/api/v1/calendar/deadline", {"start": "2026-09-30", "working_days": 1})
    assert r.status_code == 200
    assert r.json() == {"start": "2026-09-30", "working_days": 1, "deadline": "2026-10-08", "provisional": False}
    r = client.get("/api/v1/calendar/deadline", {"start": "2026-12-30", "working_days": 3})
    assert r.json()["provisional"] is True
    assert client.get("/api/v1/calendar/deadline", {"start": "2026-02-30", "working_days": 1}).status_code == 422
    assert client.get("/api/v1/calendar/deadline", {"start": "2026-02-03", "working_days": -1}).status_code == 422
