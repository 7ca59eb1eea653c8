"""services/sql.py: the SLA sweep's written-out reads give what their querysets give."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from gongzhi.services import sql
from gongzhi.services.actions import Intake, do_claim_task, do_submit_application
from gongzhi.services.enums import TaskRole
from gongzhi.services.models import Hold, Task

pytestmark = pytest.mark.django_db


def _fields(obj: Any) -> dict[str, Any]:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


def _same(mine: Any, theirs: Any, path: str) -> None:
    """Equal fields along ``path`` (a__b), each related object already loaded (no query)."""
    with CaptureQueriesContext(connection) as q:
        for name in ["", *path.split("__")]:
            if name:
                mine, theirs = getattr(mine, name), getattr(theirs, name)
            if theirs is None:
                assert mine is None
                break
            assert _fields(mine) == _fields(theirs)
            assert not mine._state.adding and mine._state.db == "default"
    assert q.captured_queries == []


@pytest.mark.parametrize("shortcuts", [True, False], ids=["sql", "orm"])
def test_sweep_reads_equal_the_orms(hall: SimpleNamespace, shortcuts: bool) -> None:
    app = do_submit_application(Intake(hall.number, ["T-MZ-001"], form={"reason": "困难"}, accept_gaps=True),
                                actor=hall.clerk, channel="window", idempotency_key="sql-1")
    tasks = list(Task.objects.filter(case__application=app))
    lead = next(t for t in tasks if t.role == TaskRole.LEAD)
    do_claim_task(lead, actor=hall.officers["T-MZ"])
    assert Hold.objects.filter(task=lead).exists()
    with override_settings(GONGZHI_DB_SHORTCUTS=shortcuts):
        for t in tasks:
            warn = sql.task_for_warning(t.pk)
            theirs = Task.objects.select_related("case", "department").get(pk=t.pk)
            for path in ("case", "department"):
                _same(warn, theirs, path)
            over = sql.task_for_overdue(t.pk)
            theirs = Task.objects.select_related("case__item", "department", "holder").get(pk=t.pk)
            for path in ("case__item", "department", "holder"):
                _same(over, theirs, path)
            holds = sql.task_holds(t.pk)
            orm = list(Hold.objects.select_related("user").filter(task_id=t.pk))
            assert len(holds) == len(orm)
            for mine, their in zip(holds, orm, strict=True):
                _same(mine, their, "user")
        assert sql.task_for_warning(987654) is None and sql.task_for_overdue(987654) is None
        assert sql.task_holds(987654) == []


def test_the_setting_switches_the_sweep_reads(hall: SimpleNamespace) -> None:
    app = do_submit_application(Intake(hall.number, ["T-MZ-001"], form={"reason": "困难"}, accept_gaps=True),
                                actor=hall.clerk, channel="window", idempotency_key="sql-2")
    task = Task.objects.filter(case__application=app).first()
    assert task is not None
    seen = {}
    for on in (True, False):
        with override_settings(GONGZHI_DB_SHORTCUTS=on), CaptureQueriesContext(connection) as q:
            sql.task_for_overdue(task.pk)
        seen[on] = q.captured_queries[0]["sql"]
    assert '"t"."id"' in seen[True] and '"t"."id"' not in seen[False]
