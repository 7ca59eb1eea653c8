"""网上办事大厅 (一网办): the catalogue, applying online, the applicant's own cases."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from gongzhi.core.crypto import decrypt
from gongzhi.core.errors import ActionError
from gongzhi.core.i18n import localized_text
from gongzhi.people.queries import (
    organisations_for_user,
    own_person,
    wallet_for,
)
from gongzhi.services import actions, queries, tracking
from gongzhi.services.domain.wording import collection_text, task_status_text
from gongzhi.services.enums import (
    CLOSED_CASE_STATUSES,
    OPEN_CASE_STATUSES,
    Channel,
)
from gongzhi.services.errors import FormInvalid, MaterialsMissing
from gongzhi.services.forms import (
    FILE_PREFIX,
    ReviewForm,
    merged_schema,
    put_errors,
)
from gongzhi.services.models import Case
from gongzhi.services.views.common import (
    PUBLIC_APPLICANT_ROLES,
    Applicant,
    application_form,
    apply_error,
    discard_uploads,
    form_context,
    form_rows,
    intake_from_post,
    keep_uploads,
    posted_files,
    require_role,
    resolve_items,
    submit_application,
)
from gongzhi.services.views.hall import hall_context


def _online_applicants(user: Any) -> list[tuple[str, str, Any]]:
    """(value, label, owner) the user may apply for online: themselves and their organisations."""
    out: list[tuple[str, str, Any]] = []
    person = own_person(user)
    if person is not None:
        out.append(("self", _("本人：%(name)s（%(number)s）") % {"name": person.name, "number": person.number_masked},
                    person))
    for org in organisations_for_user(user).filter(agents=user):
        out.append((org.uscc, _("单位：%(name)s（%(uscc)s）") % {"name": org.name, "uscc": org.uscc}, org))
    return out


@login_required
def online(request: HttpRequest) -> HttpResponse:
    """网上办事大厅: the whole catalog — every item the window handles is also online (一网办)."""
    require_role(request.user, *PUBLIC_APPLICANT_ROLES)
    return render(request, "services/online.html",
                  hall_context(request, mode="online", action=reverse("services:online")))


@login_required
def online_apply(request: HttpRequest) -> HttpResponse:
    require_role(request.user, *PUBLIC_APPLICANT_ROLES)
    source = request.POST if request.method == "POST" else request.GET
    codes = source.getlist("items")
    bundle_code = source.get("bundle", "").strip()
    bundle, items, problem = resolve_items(codes, bundle_code)
    if problem:
        messages.error(request, problem)
        return redirect("services:online")
    choices = _online_applicants(request.user)
    if not choices:
        return render(request, "services/online_apply.html", {"no_applicant": True, "items": items})
    chosen = source.get("applicant", choices[0][0])
    current = next((c for c in choices if c[0] == chosen), choices[0])
    owner = current[2]
    applicant = Applicant(
        # The applicant's own number keys the application; it is decrypted only for that and
        # never shown (screens show the masked form).
        number=owner.uscc if current[0] != "self" else decrypt(owner.number_cipher),
        kind="person" if current[0] == "self" else "org", name=owner.name,
        masked=owner.uscc if current[0] != "self" else owner.number_masked, owner=owner,
        wallet=list(wallet_for(owner)),
    )
    ctx: dict[str, Any] = {"bundle": bundle, "codes": [i.code for i in items], "bundle_code": bundle_code,
                           "applicants": choices, "applicant_choice": current[0], "applicant": applicant}
    schema = merged_schema(items)
    if request.method != "POST" or request.POST.get("step") == "switch":
        ctx.update(form_context(items, applicant, application_form(schema, applicant), uuid.uuid4().hex))
        return render(request, "services/online_apply.html", ctx)
    form = application_form(schema, applicant, request.POST)
    key = request.POST.get("idempotency_key", "")
    intake = intake_from_post(request, applicant.number, codes, bundle_code, form)
    try:
        app = submit_application(intake, request.user, Channel.ONLINE, key)
    except ActionError as err:
        # Nothing typed, chosen or attached is lost: the scans are kept (services/uploads.py).
        pending = keep_uploads(request, intake)
        ctx.update(form_context(items, applicant, form, key, request=request, pending=pending))
        if isinstance(err, FormInvalid):
            ctx["loose_errors"] = put_errors(form, err.errors)
            ctx["error"] = _("申请表有误，请按提示修改后再提交。")
        elif isinstance(err, MaterialsMissing):
            ctx["missing"] = err.missing
            ctx["error"] = _("材料不齐，请一次性补齐下列材料后再提交。")
        else:
            apply_error(err, ctx)
        return render(request, "services/online_apply.html", ctx)
    discard_uploads(request)
    messages.success(request, _("申请已提交并受理，申请编号 %(number)s。") % {"number": app.number})
    return redirect("services:application", number=app.number)


@login_required
def my_cases(request: HttpRequest) -> HttpResponse:
    """我的办件: the applicant's own cases (residents and agents see only their own)."""
    require_role(request.user, *PUBLIC_APPLICANT_ROLES)
    cases = queries.cases_for_user(request.user).order_by("-accepted_at")[:200]
    return render(request, "services/my_cases.html", {"cases": cases})


def _my_case_context(request: HttpRequest, case: Case) -> dict[str, Any]:
    supplement = case.supplements.filter(fulfilled_at__isnull=True).last()
    review = getattr(case, "review", None)  # reverse one-to-one: None when not reviewed yet
    progress = tracking.progress_of(case)  # the tracker's timeline and wording, one builder
    tasks = list(case.tasks.select_related("department").order_by("role", "id"))
    for t in tasks:
        t.status_text = task_status_text(t.status)  # type: ignore[attr-defined]
    return {
        "case": case,
        "status_text": progress.status_text,
        "collection": collection_text(case),
        "steps": progress.steps,
        "owed": list(queries.owed_materials(case)) if case.status in OPEN_CASE_STATUSES else [],
        "tasks": tasks,
        "supplement": supplement if case.status == "supplement" else None,
        "supplement_rows": [(f"{FILE_PREFIX}{n}", text) for n, text in enumerate(supplement.items)] if supplement else [],
        "review": review,
        "can_review": case.status in CLOSED_CASE_STATUSES and case.closed_at is not None and review is None,
        "review_form": ReviewForm(),
        "form_rows": form_rows(case),
    }


@login_required
def my_case(request: HttpRequest, number: str) -> HttpResponse:
    require_role(request.user, *PUBLIC_APPLICANT_ROLES)
    if queries.is_application_number(number):  # one reference number: the application lists its cases
        return redirect("services:application", number=number)
    case = queries.access_case_by_number(request.user, number)
    return render(request, "services/my_case.html", _my_case_context(request, case))


@login_required
@require_POST
def my_case_hand_in(request: HttpRequest, number: str, material_id: int) -> HttpResponse:
    """Hand in a material still owed under 容缺 (actions.do_hand_in_owed_material, audited)."""
    require_role(request.user, *PUBLIC_APPLICANT_ROLES)
    case = queries.access_case_by_number(request.user, number)
    try:
        cm = actions.do_hand_in_owed_material(case, material_id, request.FILES.get("file"), actor=request.user)
    except ActionError as err:
        ctx = _my_case_context(request, case)
        ctx["owed_error"], ctx["owed_error_id"] = err.message, material_id
        return render(request, "services/my_case.html", ctx, status=err.status)
    messages.success(request, _("已补交材料：%(name)s。") % {"name": cm.material.name})
    return redirect("services:my_case", number=case.number)


@login_required
@require_POST
def my_case_supplement(request: HttpRequest, number: str) -> HttpResponse:
    require_role(request.user, *PUBLIC_APPLICANT_ROLES)
    case = queries.access_case_by_number(request.user, number)
    ctx = _my_case_context(request, case)
    texts = dict(ctx["supplement_rows"])
    # Each upload is keyed by the line of the notice it answers, so the wallet title says what it is.
    files = {texts[k][:60]: f for k, f in posted_files(request).items() if k in texts}
    try:
        actions.do_fulfil_supplement(case, actor=request.user, files=files)
    except ActionError as err:
        ctx["supplement_error"] = err.message
        return render(request, "services/my_case.html", ctx)
    messages.success(request, _("补正材料已提交，办理时限恢复计算。"))
    return redirect("services:my_case", number=case.number)


@login_required
@require_POST
def my_case_review(request: HttpRequest, number: str) -> HttpResponse:
    require_role(request.user, *PUBLIC_APPLICANT_ROLES)
    case = queries.access_case_by_number(request.user, number)
    form = ReviewForm(request.POST)
    ctx = _my_case_context(request, case)
    ctx["review_form"] = form
    if not form.is_valid():
        return render(request, "services/my_case.html", ctx)
    try:
        actions.do_review_case(case, form.cleaned_data["level"], form.cleaned_data["comment"], actor=request.user)
    except ActionError as err:
        form.add_error("level" if err.field == "level" else None, err.message)
        return render(request, "services/my_case.html", ctx)
    messages.success(request, _("感谢您的评价。"))
    return redirect("services:my_case", number=case.number)


@login_required
@require_POST
@never_cache
def case_reveal(request: HttpRequest, number: str) -> HttpResponse:
    """A personal number typed into an application form, shown once (POST only: never in history,
    logs or a prefetch). Who may: ``actions.do_reveal_form_value`` (the register's rule)."""
    case = queries.access_case_by_number(request.user, number)
    field_name = request.POST.get("field", "")
    labels = {s["name"]: localized_text(s, "label") for s in case.item.form_schema or [] if s.get("label")}
    ctx: dict[str, Any] = {"case": case, "field": field_name, "label": labels.get(field_name, "")}
    try:
        ctx["value"] = actions.do_reveal_form_value(case, field_name, actor=request.user,
                                                    reason=request.POST.get("reason", ""))
    except ActionError as err:
        ctx["error"] = err.message
        return render(request, "services/reveal.html", ctx, status=err.status)
    return render(request, "services/reveal.html", ctx)
