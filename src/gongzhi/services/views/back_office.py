"""部门审批: the department's task queue and a task's claim, decision, supplement and delivery."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gongzhi.accounts.enums import Role
from gongzhi.core.errors import ActionError
from gongzhi.services import actions, queries
from gongzhi.services.enums import (
    CaseStatus,
    DeliveryMethod,
    TaskStatus,
)
from gongzhi.services.errors import TaskConflict
from gongzhi.services.forms import (
    DecideForm,
    DeliverForm,
    SupplementForm,
)
from gongzhi.services.policy import can_deliver_result, can_reveal_numbers
from gongzhi.services.views.common import (
    form_rows,
    require_role,
)


@login_required
def tasks(request: HttpRequest) -> HttpResponse:
    """部门审批: three queues — open tasks (earliest deadline first), 待送达 (approved, result not
    yet delivered: the lead department delivers from here) and 已办结 (decided, latest first)."""
    require_role(request.user, Role.DEPARTMENT_OFFICER)
    queue = request.GET.get("queue", "open")
    if queue not in queries.TASK_QUEUES:
        queue = "open"
    qs = queries.task_queue(request.user, queue)
    status = request.GET.get("status", "") if queue == "open" else ""
    if status in (TaskStatus.PENDING, TaskStatus.CLAIMED, TaskStatus.SUPPLEMENT):
        qs = qs.filter(status=status)
    if request.GET.get("mine") == "1":
        qs = qs.filter(holder_id=request.user.pk)
    queues = [("open", _("未办结")), ("deliver", _("待送达")), ("done", _("已办结"))]
    return render(request, "services/tasks.html", {
        "tasks": qs[:300], "status": status, "mine": request.GET.get("mine") == "1", "queue": queue,
        "queues": [(key, label, queries.task_queue(request.user, key).count()) for key, label in queues],
        "statuses": [(s.value, s.label) for s in (TaskStatus.PENDING, TaskStatus.CLAIMED, TaskStatus.SUPPLEMENT)],
    })


def _task_context(request: HttpRequest, task: Any, **extra: Any) -> dict[str, Any]:
    case = task.case
    ctx = {
        "task": task,
        "case": case,
        "form_rows": form_rows(case),
        "materials": case.materials.select_related("material", "document").order_by("material__order", "id"),
        "siblings": case.tasks.select_related("department", "holder").order_by("role", "id"),
        "supplements": case.supplements.all(),
        # 容缺 materials still owed: the page warns before approving (the action requires a reason)
        "owed": list(queries.owed_materials(case)),
        "decide_form": DecideForm(initial={"version": task.version}),
        "supplement_form": SupplementForm(initial={"version": task.version}),
        "is_holder": task.holder_id == request.user.pk,
        "can_reveal": can_reveal_numbers(request.user),
        "can_deliver": case.status == CaseStatus.APPROVED and can_deliver_result(request.user, case),
        "deliver_form": DeliverForm(initial={"version": case.version, "address": case.address}),
    }
    ctx.update(extra)
    return ctx


@login_required
def task_detail(request: HttpRequest, task_id: int) -> HttpResponse:
    require_role(request.user, Role.DEPARTMENT_OFFICER)
    task = queries.access_task(request.user, task_id)
    return _task_page(request, task)


def _task_page(request: HttpRequest, task: Any, **extra: Any) -> HttpResponse:
    """The task page, e.g. again with a posted form and its errors (one render for every step)."""
    return render(request, "services/task_detail.html", _task_context(request, task, **extra))


def _posted_version(request: HttpRequest) -> int | None:
    try:
        return int(request.POST.get("version", ""))
    except ValueError:
        return None


def _task_refused(request: HttpRequest, task: Any, err: ActionError, **extra: Any) -> HttpResponse:
    fresh = queries.access_task(request.user, task.pk)  # show the task as it is now
    return _task_page(request, fresh, error=err.message, conflict=isinstance(err, TaskConflict), **extra)


@login_required
@require_POST
def task_claim(request: HttpRequest, task_id: int) -> HttpResponse:
    require_role(request.user, Role.DEPARTMENT_OFFICER)
    task = queries.access_task(request.user, task_id)
    try:
        actions.do_claim_task(task, actor=request.user, expected_version=_posted_version(request))
    except ActionError as err:
        return _task_refused(request, task, err)
    messages.success(request, _("已认领，请在期限内办结。"))
    return redirect("services:task", task_id=task.pk)


@login_required
@require_POST
def task_decide(request: HttpRequest, task_id: int) -> HttpResponse:
    require_role(request.user, Role.DEPARTMENT_OFFICER)
    task = queries.access_task(request.user, task_id)
    form = DecideForm(request.POST)
    if not form.is_valid():
        return _task_page(request, task, decide_form=form)
    try:
        actions.do_decide_task(task, approve=form.cleaned_data["decision"] == "approve",
                               reason=form.cleaned_data["reason"], actor=request.user,
                               expected_version=form.cleaned_data["version"])
    except ActionError as err:
        if err.field == "reason":
            form.add_error("reason", err.message)
            return _task_page(request, task, decide_form=form)
        return _task_refused(request, task, err)
    messages.success(request, _("审批意见已提交。"))
    return redirect("services:tasks")


@login_required
@require_POST
def task_supplement(request: HttpRequest, task_id: int) -> HttpResponse:
    require_role(request.user, Role.DEPARTMENT_OFFICER)
    task = queries.access_task(request.user, task_id)
    form = SupplementForm(request.POST)
    if not form.is_valid():
        return _task_page(request, task, supplement_form=form)
    try:
        # The version the form was shown with: the action compares it under the task's row lock,
        # so a notice is never sent on what someone saw before another officer acted.
        actions.do_request_supplement(task, form.item_list(), reason=form.cleaned_data["reason"], actor=request.user,
                                      expected_version=form.cleaned_data["version"])
    except ActionError as err:
        if err.field == "items":
            form.add_error("items", err.message)
            return _task_page(request, task, supplement_form=form)
        return _task_refused(request, task, err)
    messages.success(request, _("补正通知已发出，办理时限暂停计算。"))
    return redirect("services:task", task_id=task.pk)


@login_required
@require_POST
def task_deliver(request: HttpRequest, task_id: int) -> HttpResponse:
    """送达: the lead department hands the approved result to the applicant."""
    require_role(request.user, Role.DEPARTMENT_OFFICER)
    task = queries.access_task(request.user, task_id)
    form = DeliverForm(request.POST)
    if not form.is_valid():
        return _task_page(request, task, deliver_form=form)
    try:
        actions.do_deliver_result(task.case, actor=request.user, method=form.cleaned_data["method"],
                                  address=form.cleaned_data["address"], expected_version=form.cleaned_data["version"])
    except ActionError as err:
        if err.field in ("method", "address"):
            form.add_error(err.field, err.message)
            return _task_page(request, task, deliver_form=form)
        return _task_refused(request, task, err)
    method = DeliveryMethod(form.cleaned_data["method"]).label
    messages.success(request, _("办理结果已送达（%(method)s），已通知申请人。") % {"method": method})
    return redirect("services:task", task_id=task.pk)
