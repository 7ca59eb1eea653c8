"""好差评: rectifications and appeals of the department, appeal decisions of the supervisor."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gongzhi.accounts.enums import SUPERVISOR_ROLES, Role
from gongzhi.core.errors import ActionError
from gongzhi.services import actions, queries
from gongzhi.services.views.common import (
    require_role,
)


def _reviews_page(request: HttpRequest, status: int = 200, **extra: Any) -> HttpResponse:
    ctx: dict[str, Any] = {
        "rectifications": queries.rectifications_for_user(request.user)[:200],
        "reviews": queries.appealable_reviews_for_user(request.user)[:200],
    }
    ctx.update(extra)
    return render(request, "services/reviews.html", ctx, status=status)


@login_required
def reviews(request: HttpRequest) -> HttpResponse:
    """差评整改与申诉: the department's rectifications to carry out and bad reviews it may appeal."""
    require_role(request.user, Role.DEPARTMENT_OFFICER)
    return _reviews_page(request)


@login_required
@require_POST
def rectification_complete(request: HttpRequest, rect_id: int) -> HttpResponse:
    require_role(request.user, Role.DEPARTMENT_OFFICER)
    rect = queries.access_rectification(request.user, rect_id)
    try:
        actions.do_complete_rectification(rect, action_note=request.POST.get("action_note", ""),
                                          callback_note=request.POST.get("callback_note", ""), actor=request.user)
    except ActionError as err:
        return _reviews_page(request, err.status, error=err.message, error_rect=rect.pk)
    messages.success(request, _("整改已完成并记录回访。"))
    return redirect("services:reviews")


@login_required
@require_POST
def review_appeal(request: HttpRequest, review_id: int) -> HttpResponse:
    require_role(request.user, Role.DEPARTMENT_OFFICER)
    review = queries.access_review_for_appeal(request.user, review_id)
    try:
        actions.do_file_appeal(review, request.POST.get("reason", ""), actor=request.user)
    except ActionError as err:
        return _reviews_page(request, err.status, error=err.message, error_review=review.pk)
    messages.success(request, _("申诉已提交，等待督导审核。"))
    return redirect("services:reviews")


def _appeals_page(request: HttpRequest, status: int = 200, **extra: Any) -> HttpResponse:
    ctx: dict[str, Any] = {"appeals": queries.appeals_for_user(request.user)[:200]}
    ctx.update(extra)
    return render(request, "services/appeals.html", ctx, status=status)


@login_required
def appeals(request: HttpRequest) -> HttpResponse:
    """差评申诉审核: pending appeals of the cases in the supervisor's jurisdiction."""
    require_role(request.user, *SUPERVISOR_ROLES)
    return _appeals_page(request)


@login_required
@require_POST
def appeal_decide(request: HttpRequest, appeal_id: int) -> HttpResponse:
    require_role(request.user, *SUPERVISOR_ROLES)
    appeal = queries.access_appeal(request.user, appeal_id)
    decision = request.POST.get("decision", "")
    if decision not in ("uphold", "dismiss"):
        return _appeals_page(request, 422, error=_("请选择“申诉成立”或“申诉不成立”"), error_appeal=appeal.pk)
    try:
        actions.do_decide_appeal(appeal, upheld=decision == "uphold", note=request.POST.get("note", "")[:2000],
                                 actor=request.user)
    except ActionError as err:
        return _appeals_page(request, err.status, error=err.message, error_appeal=appeal.pk)
    messages.success(request, _("申诉审核结果已记录。"))
    return redirect("services:appeals")
