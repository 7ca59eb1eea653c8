"""SLA timer handlers: the compiled reads give what the ORM gave; a re-run changes nothing twice."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from gongzhi.core.models import AuditEvent
from gongzhi.services.actions import Intake, do_claim_task, do_submit_application, handle_task_overdue
from gongzhi.services.enums import SlaState, TaskRole
from gongzhi.services.models import Accountability, Case, Task

pytestmark = pytest.mark.django_db


def _lead(hall: SimpleNamespace, key: str) -> Task:
    intake = Intake(hall.number, ["T-MZ-001"], form={"reason": "困难"}, accept_gaps=True)
    app = do_submit_application(intake, actor=hall.clerk, channel="window", idempotency_key=key)
    case = app.cases.get()
    return case.tasks.get(role=TaskRole.LEAD)


@pytest.mark.parametrize("as_text", [False, True], ids=["int-id", "text-id"])
def test_overdue_traces_the_holder_once(hall: SimpleNamespace, as_text: bool) -> None:
    lead = _lead(hall, f"sla-{as_text}")
    do_claim_task(lead, actor=hall.officers["T-MZ"])
    timer = SimpleNamespace(payload={"task": str(lead.pk) if as_text else lead.pk})
    handle_task_overdue(timer)
    handle_task_overdue(timer)  # a re-run (a retried timer) keeps the first record
    (acc,) = Accountability.objects.filter(task=lead)
    assert acc.holder == hall.officers["T-MZ"] and acc.case_id == lead.case_id
    assert acc.department_id == lead.department_id and acc.deadline == lead.deadline
    assert [h["user"] for h in acc.trace] == ["officer_T-MZ"]
    lead.refresh_from_db()
    assert lead.sla == SlaState.OVERDUE
    case = Case.objects.get(pk=lead.case_id)
    assert case.sla == SlaState.OVERDUE and case.stats_dirty
    assert AuditEvent.objects.filter(verb="task.overdue", object_id=str(lead.pk)).exists()


def test_missing_task_is_ignored(hall: SimpleNamespace) -> None:
    handle_task_overdue(SimpleNamespace(payload={"task": 987654}))
    handle_task_overdue(SimpleNamespace(payload={}))
    assert not Accountability.objects.exists()
