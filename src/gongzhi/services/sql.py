"""The SLA sweep's reads, written out as SQL (core/db/rows.py builds the instances).

A backlog of due timers (a midnight sweep) runs the warning and overdue handlers thousands of
times in a row; building the SQL of a task with its case, item, department and holder cost the
ORM several times what the database spends answering. Each function here returns exactly what
the queryset in its docstring returns — which is what runs when ``GONGZHI_DB_SHORTCUTS`` is off
(``services/tests/test_sql.py`` compares the two).
"""

from __future__ import annotations

from django.contrib.auth import get_user_model

from gongzhi.accounts.models import Department
from gongzhi.core.db import shortcuts_on
from gongzhi.core.db.rows import fetch, load, select_list, width
from gongzhi.services.models import Case, Hold, ServiceItem, Task

User = get_user_model()

# Only column lists built from the models' own fields (select_list) are formatted into these.

_TASK_FOR_WARNING = (
    f"SELECT {select_list(Task, 't')}, {select_list(Case, 'c')}, {select_list(Department, 'd')}"  # noqa: S608
    " FROM services_task t JOIN services_case c ON c.id = t.case_id"
    " JOIN accounts_department d ON d.id = t.department_id WHERE t.id = %s"
)
_TASK_FOR_OVERDUE = (
    f"SELECT {select_list(Task, 't')}, {select_list(Case, 'c')}, {select_list(ServiceItem, 'i')},"  # noqa: S608
    f" {select_list(Department, 'd')}, {select_list(User, 'u')}"
    " FROM services_task t JOIN services_case c ON c.id = t.case_id"
    " JOIN services_serviceitem i ON i.id = c.item_id JOIN accounts_department d ON d.id = t.department_id"
    " LEFT JOIN accounts_user u ON u.id = t.holder_id WHERE t.id = %s"
)
_HOLDS = (  # in Hold's Meta ordering, as task.holds.all()
    f"SELECT {select_list(Hold, 'h')}, {select_list(User, 'u')}"  # noqa: S608
    " FROM services_hold h LEFT JOIN accounts_user u ON u.id = h.user_id"
    " WHERE h.task_id = %s ORDER BY h.started_at, h.id"
)


def task_for_warning(task_id: int) -> Task | None:
    """``Task.objects.select_related("case", "department").filter(pk=task_id).first()``"""
    if not shortcuts_on():
        return Task.objects.select_related("case", "department").filter(pk=task_id).first()
    rows = fetch(_TASK_FOR_WARNING, [task_id])
    if not rows:
        return None
    row = rows[0]
    task = load(Task, row)
    assert task is not None
    at = width(Task)
    task.case = load(Case, row, at)  # type: ignore[assignment]  # an inner join: never None
    task.department = load(Department, row, at + width(Case))  # type: ignore[assignment]
    return task


def task_for_overdue(task_id: int) -> Task | None:
    """``Task.objects.select_related("case__item", "department", "holder").filter(pk=task_id).first()``"""
    if not shortcuts_on():
        return Task.objects.select_related("case__item", "department", "holder").filter(pk=task_id).first()
    rows = fetch(_TASK_FOR_OVERDUE, [task_id])
    if not rows:
        return None
    row = rows[0]
    task = load(Task, row)
    assert task is not None
    at = width(Task)
    case = load(Case, row, at)
    assert case is not None
    at += width(Case)
    case.item = load(ServiceItem, row, at)  # type: ignore[assignment]
    at += width(ServiceItem)
    task.case = case
    task.department = load(Department, row, at)  # type: ignore[assignment]
    task.holder = load(User, row, at + width(Department))
    return task


def task_holds(task_id: int) -> list[Hold]:
    """``list(Hold.objects.select_related("user").filter(task_id=task_id))``"""
    if not shortcuts_on():
        return list(Hold.objects.select_related("user").filter(task_id=task_id))
    holds = []
    for row in fetch(_HOLDS, [task_id]):
        hold = load(Hold, row)
        assert hold is not None
        hold.user = load(User, row, width(Hold))
        holds.append(hold)
    return holds
