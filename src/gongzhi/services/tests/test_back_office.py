"""Back office: parallel tasks, claims, supplements pausing the clock, overdue tracing."""

from __future__ import annotations

import threading
from datetime import date, datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection

from gongzhi.core.tests.actors import SYSTEM as TEST_SYSTEM
from gongzhi.core.worker import Worker
from gongzhi.services.actions import (
    Intake,
    do_claim_task,
    do_decide_task,
    do_fulfil_supplement,
    do_request_supplement,
    do_submit_application,
)
from gongzhi.services.enums import CaseStatus, SlaState, TaskRole, TaskStatus
from gongzhi.services.errors import InvalidInput, NotAllowed, SupplementLate, TaskConflict
from gongzhi.services.models import Accountability, Case
from gongzhi.services.stats import fold_dirty_cases

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def at(y: int, m: int, d: int, hh: int = 10) -> datetime:
    return datetime(y, m, d, hh, 0, tzinfo=SH)


def _submit(hall: SimpleNamespace, codes: list[str] | None = None, key: str = "k", **kw: object) -> Case:
    intake = Intake(hall.number, codes or ["T-MZ-001"], form={"reason": "困难"}, accept_gaps=True, **kw)  # type: ignore[arg-type]
    return do_submit_application(intake, actor=hall.clerk, channel="window", idempotency_key=key).cases.first()  # type: ignore[return-value]


def test_case_accepted_just_before_national_day(hall: SimpleNamespace) -> None:
    # DOMAIN.md: accepted Wed 2026-09-30, the holiday runs 10-01..10-07, Sat 10-10 is worked.
    with time_machine.travel(at(2026, 9, 30, 16), tick=False):
        case = _submit(hall)
    assert case.accepted_on == date(2026, 9, 30)
    # 5 working days after 09-30: 10-08, 10-09, 10-10 (make-up Saturday), 10-12, 10-13.
    assert case.deadline == date(2026, 10, 13)
    assert not case.deadline_provisional
    co = case.tasks.filter(role=TaskRole.CO).first()
    assert co is not None and co.deadline == date(2026, 10, 10)  # 3 working days


def test_claim_race_one_wins(hall: SimpleNamespace) -> None:
    case = _submit(hall)
    lead = case.tasks.get(role=TaskRole.LEAD)
    do_claim_task(lead, actor=hall.officers["T-MZ"])
    with pytest.raises(TaskConflict) as err:
        do_claim_task(lead, actor=hall.officer2)
    assert "认领" in str(err.value)


@pytest.mark.django_db(transaction=True)
def test_two_officers_claim_at_once_from_two_connections(hall: SimpleNamespace) -> None:
    if connection.vendor == "sqlite" and "memory" in str(connection.settings_dict["NAME"]):
        pytest.skip("in-memory SQLite shares one connection between threads")
    case = _submit(hall)
    lead = case.tasks.get(role=TaskRole.LEAD)
    results: list[str] = []
    barrier = threading.Barrier(2)

    def claim(user: object) -> None:
        from django.db import connections

        barrier.wait()
        try:
            do_claim_task(lead, actor=user, expected_version=1)
            results.append("won")
        except TaskConflict:
            results.append("lost")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=claim, args=(u,)) for u in (hall.officers["T-MZ"], hall.officer2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["lost", "won"]


def test_only_the_departments_officers_act(hall: SimpleNamespace) -> None:
    case = _submit(hall)
    lead = case.tasks.get(role=TaskRole.LEAD)
    with pytest.raises(NotAllowed):
        do_claim_task(lead, actor=hall.officers["T-RS"])
    with pytest.raises(NotAllowed):
        do_claim_task(lead, actor=hall.clerk)


def test_lead_waits_for_co_processors_then_closes(hall: SimpleNamespace) -> None:
    case = _submit(hall)
    lead = do_claim_task(case.tasks.get(role=TaskRole.LEAD), actor=hall.officers["T-MZ"])
    with pytest.raises(NotAllowed) as err:
        do_decide_task(lead, approve=True, actor=hall.officers["T-MZ"])
    assert "协办" in str(err.value)
    for code in ("T-RS", "T-ZJ"):
        co = do_claim_task(case.tasks.get(department__code=code), actor=hall.officers[code])
        do_decide_task(co, approve=True, actor=hall.officers[code])
    with pytest.raises(InvalidInput):
        do_decide_task(lead, approve=False, actor=hall.officers["T-MZ"])  # a rejection needs reasons
    do_decide_task(lead, approve=True, reason="符合条件", actor=hall.officers["T-MZ"])
    case.refresh_from_db()
    assert case.status == CaseStatus.APPROVED and case.closed_on_time


def test_supplement_pauses_the_clock(hall: SimpleNamespace) -> None:
    with time_machine.travel(at(2026, 11, 2), tick=False):  # Monday
        case = _submit(hall)
    assert case.deadline == date(2026, 11, 9)  # 5 working days
    officer = hall.officers["T-MZ"]
    with time_machine.travel(at(2026, 11, 3), tick=False):
        lead = do_claim_task(case.tasks.get(role=TaskRole.LEAD), actor=officer)
        with pytest.raises(InvalidInput):
            do_request_supplement(lead, [], actor=officer)  # the notice must list what is missing
        do_request_supplement(lead, ["收入证明原件", "户口簿首页"], reason="材料不清晰", actor=officer)
    case.refresh_from_db()
    assert case.status == CaseStatus.SUPPLEMENT
    with time_machine.travel(at(2026, 11, 6), tick=False):  # Friday: paused Wed, Thu, Fri
        do_fulfil_supplement(case, actor=hall.resident_user)
    case.refresh_from_db()
    assert case.paused_days == 3 and case.status == CaseStatus.IN_PROGRESS
    assert case.deadline == date(2026, 11, 12)
    lead.refresh_from_db()
    assert lead.status == TaskStatus.CLAIMED and lead.deadline == date(2026, 11, 12)


def test_supplement_after_its_deadline_is_refused(hall: SimpleNamespace) -> None:
    officer = hall.officers["T-MZ"]
    with time_machine.travel(at(2026, 11, 2), tick=False):
        case = _submit(hall)
        lead = do_claim_task(case.tasks.get(role=TaskRole.LEAD), actor=officer)
        do_request_supplement(lead, ["收入证明"], actor=officer)
    with time_machine.travel(at(2026, 11, 20), tick=False), pytest.raises(SupplementLate) as err:
        do_fulfil_supplement(case, actor=hall.resident_user)
    assert "2026年11月9日" in str(err.value)  # cn_date, the project's one date style
    case.refresh_from_db()
    assert case.status == CaseStatus.SUPPLEMENT


def test_bundle_across_three_departments_with_an_overdue_co_processor(hall: SimpleNamespace) -> None:
    from gongzhi.services.tests.conftest import pdf

    with time_machine.travel(at(2026, 11, 2), tick=False):
        app = do_submit_application(
            Intake(hall.number, bundle_code="T-BUNDLE-1", form={"shop_name": "张记", "purpose": "其他", "reason": "周转"},
                   files={"tenancy": pdf()}, accept_gaps=True),
            actor=hall.clerk, channel="window", idempotency_key="bundle-overdue",
        )
    licence = app.cases.get(item__code="T-SJ-003")
    housing_task = licence.tasks.get(department__code="T-ZJ")  # co-processor, 2 working days → 11-04
    assert housing_task.deadline == date(2026, 11, 4)
    with time_machine.travel(at(2026, 11, 3), tick=False):
        do_claim_task(housing_task, actor=hall.officers["T-ZJ"])
    # Everyone else finishes; housing sits on it past its limit.
    with time_machine.travel(at(2026, 11, 5, 9), tick=False):
        Worker(poll_seconds=0).tick()
    housing_task.refresh_from_db()
    assert housing_task.sla == SlaState.OVERDUE
    trace = Accountability.objects.get(task=housing_task)
    assert trace.holder == hall.officers["T-ZJ"] and trace.department.code == "T-ZJ"
    assert trace.deadline == date(2026, 11, 4) and trace.trace[0]["user"] == "officer_T-ZJ"
    # Other departments' tasks are still on track; the lead case is not overdue (its limit is later).
    lead = licence.tasks.get(role=TaskRole.LEAD)
    lead.refresh_from_db()
    assert lead.sla != SlaState.OVERDUE
    # The firing is durable and single: another tick does nothing new.
    with time_machine.travel(at(2026, 11, 5, 10), tick=False):
        Worker(poll_seconds=0).tick()
    assert Accountability.objects.filter(task=housing_task).count() == 1


def test_co_timeout_default_agrees(hall: SimpleNamespace) -> None:
    hall.subsidy.co_timeout_default = True
    hall.subsidy.save()
    with time_machine.travel(at(2026, 11, 2), tick=False):
        case = _submit(hall, key="default")
    with time_machine.travel(at(2026, 11, 6, 9), tick=False):
        Worker(poll_seconds=0).tick()
    statuses = set(case.tasks.filter(role=TaskRole.CO).values_list("status", flat=True))
    assert statuses == {TaskStatus.DEFAULTED}
    lead = do_claim_task(case.tasks.get(role=TaskRole.LEAD), actor=hall.officers["T-MZ"])
    # accepted under 容缺 with the material still owed: approving needs a reason (recorded)
    do_decide_task(lead, approve=True, reason="收入证明已核实原件", actor=hall.officers["T-MZ"])
    case.refresh_from_db()
    assert case.status == CaseStatus.APPROVED


def test_figures_roll_up(hall: SimpleNamespace) -> None:
    from gongzhi.services.queries import figures_for_user

    _submit(hall, key="f1")
    do_submit_application(Intake(hall.number, ["T-RS-002"], form={"purpose": "购房"}),
                          actor=hall.resident_user, channel="online", idempotency_key="f2")
    assert fold_dirty_cases() == 2
    assert fold_dirty_cases() == 0
    figs = figures_for_user(hall.clerk)
    assert figs.cases == 2 and figs.window == 50.0 and figs.online == 50.0 and figs.one_number == 100.0
    assert figs.zero_visit == 50.0 and figs.max_one_visit == 100.0 and figs.on_time == 100.0
    # A case changing state is re-folded, not double counted.
    case = Case.objects.get(channel="window")
    from gongzhi.services.actions import do_record_visit

    do_record_visit(case, actor=hall.clerk)
    fold_dirty_cases()
    figs = figures_for_user(hall.clerk)
    assert figs.cases == 2 and figs.max_one_visit == 50.0
    assert figures_for_user(hall.other_user).cases == 0
    # The board: one row per department, each equal to that department's own figures.
    from gongzhi.services.queries import figures_by_department

    board = figures_by_department(hall.clerk)
    assert [d.code for d, _f in board] == sorted({c.department.code for c in Case.objects.all()})
    for dept, row in board:
        assert row == figures_for_user(hall.clerk, department_id=dept.pk)
    assert sum(f.cases for _d, f in board) == 2
    assert figures_by_department(hall.other_user) == []  # another district sees nothing


def test_provisional_case_deadline_recomputed_when_the_new_year_is_loaded(
    hall: SimpleNamespace, tmp_path: object, django_capture_on_commit_callbacks: object
) -> None:
    import json
    from pathlib import Path

    from gongzhi.core.actions import do_load_calendar

    with time_machine.travel(at(2026, 12, 28), tick=False):  # Monday; 2027 has no schedule yet
        case = _submit(hall, key="newyear")
    assert case.deadline_provisional and case.deadline == date(2027, 1, 4)  # Mon–Fri fallback
    path = Path(str(tmp_path)) / "2027.json"
    path.write_text(json.dumps({"years": [2027], "days": [
        {"date": "2027-01-01", "kind": "off", "name": "元旦"},
        {"date": "2027-01-04", "kind": "off", "name": "元旦（演示）"},
    ]}, ensure_ascii=False), encoding="utf-8")
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        do_load_calendar(path, actor=TEST_SYSTEM)
    case.refresh_from_db()
    # 12-29, 12-30, 12-31, (01-01 off), (01-04 off), 01-05 → the 5th working day is 01-06.
    assert not case.deadline_provisional and case.deadline == date(2027, 1, 6)
    lead = case.tasks.get(role=TaskRole.LEAD)
    assert not lead.deadline_provisional and lead.deadline == date(2027, 1, 6)
