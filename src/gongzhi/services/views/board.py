"""阳光办: the supervisor's board."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from gongzhi.accounts.queries import departments_for_user
from gongzhi.services import queries
from gongzhi.services.enums import (
    SlaState,
)
from gongzhi.services.stats import fold_dirty_cases
from gongzhi.services.views.common import (
    BOARD_ROLES,
    require_role,
)


@login_required
def board(request: HttpRequest) -> HttpResponse:
    """阳光办: the 5×100% figures, on-time rates per department and the overdue trace."""
    require_role(request.user, *BOARD_ROLES)
    # The roll-up is folded by the worker every tick; a supervisor opening the board must see
    # cases accepted a second ago too, and folding is idempotent and cheap (only dirty cases,
    # rows claimed with SKIP LOCKED, so it never waits on the worker doing the same).
    fold_dirty_cases()
    by_dept = queries.figures_by_department(request.user)
    # Departments to filter by: those serving the user's places, plus any with figures here
    # (a district department's cases may come from every community below it).
    departments = list(departments_for_user(request.user).order_by("code"))
    departments += [d for d, _f in by_dept if d not in departments]
    dept_id: int | None = None
    raw = request.GET.get("department", "")
    if raw.isdigit() and any(d.pk == int(raw) for d in departments):
        dept_id = int(raw)
    figures = queries.figures_for_user(request.user, department_id=dept_id)
    trace = queries.accountability_for_user(request.user).order_by("-detected_at")
    overdue = queries.cases_for_user(request.user).filter(sla=SlaState.OVERDUE, closed_at__isnull=True)
    if dept_id:
        trace = trace.filter(department_id=dept_id)
        overdue = overdue.filter(department_id=dept_id)
        by_dept = [(d, f) for d, f in by_dept if d.pk == dept_id]
    return render(request, "services/board.html", {
        "figures": figures, "by_dept": by_dept, "departments": departments, "department_id": dept_id,
        "trace": trace[:200], "overdue": overdue.order_by("deadline")[:200],
    })
