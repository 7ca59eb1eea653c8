"""综合窗口 (一窗办): look up the applicant by one number, choose items, accept; pick-up and
visits at the window; the acceptance page and receipt."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gongzhi.accounts.enums import Role
from gongzhi.accounts.scope import has_role
from gongzhi.core.errors import ActionError
from gongzhi.services import actions, queries, uploads
from gongzhi.services.enums import (
    Channel,
    DeliveryMethod,
)
from gongzhi.services.errors import FormInvalid, MaterialsMissing
from gongzhi.services.forms import (
    DeliverForm,
    LookupForm,
    merged_schema,
    put_errors,
)
from gongzhi.services.views.common import (
    NOTICE_SALT,
    PUBLIC_APPLICANT_ROLES,
    application_form,
    apply_error,
    carried_values,
    discard_uploads,
    form_context,
    intake_from_post,
    keep_uploads,
    kept_uploads,
    lookup_applicant,
    notice_token,
    picker_context,
    require_role,
    resolve_items,
    submit_application,
)


@login_required
def window(request: HttpRequest) -> HttpResponse:
    """综合窗口: look up → choose items → fill the form → accept. Every step posts, so the full
    ID number stays out of URLs; only the last step writes, and it redirects (POST/redirect/GET)."""
    require_role(request.user, Role.WINDOW_CLERK)
    if request.method != "POST":
        return render(request, "services/window.html", {"lookup": LookupForm(), **picker_context()})
    step = request.POST.get("step", "lookup")
    lookup = LookupForm(request.POST)
    number = request.POST.get("number", "").strip()
    name = request.POST.get("applicant_name", "").strip()
    codes = request.POST.getlist("items")
    bundle_code = request.POST.get("bundle", "").strip()
    ctx: dict[str, Any] = {"lookup": lookup,
                           **picker_context(request.POST.get("picker_q", "")[:100], codes, bundle_code)}
    if not lookup.is_valid():
        return render(request, "services/window.html", ctx)
    try:
        applicant = lookup_applicant(request.user, number, name)
    except ActionError as err:
        lookup.add_error("number", err.message)
        return render(request, "services/window.html", ctx)
    ctx["applicant"] = applicant
    if step == "lookup" or "picker_search" in request.POST:
        # 搜索 in the picker (without JavaScript): the same page, the ticks kept, matches shown.
        return render(request, "services/window.html", ctx)
    if applicant.kind == "new" and not applicant.name:
        ctx["name_error"] = _("该证件号码尚未登记：请填写申请人姓名，受理时一并登记")
        return render(request, "services/window.html", ctx)
    bundle, items, problem = resolve_items(codes, bundle_code)
    if problem:
        ctx["pick_error"] = problem
        return render(request, "services/window.html", ctx)
    ctx.update(bundle=bundle, codes=[i.code for i in items], bundle_code=bundle_code)
    schema = merged_schema(items)
    if step == "pick":
        ctx.update(form_context(items, applicant, application_form(schema, applicant), uuid.uuid4().hex))
        return render(request, "services/window_form.html", ctx)
    key = request.POST.get("idempotency_key", "") or uuid.uuid4().hex
    if step == "back":
        # 返回补充材料 from the one-time notice: the form as it was posted, scans kept.
        form = application_form(schema, applicant, request.POST)
        pending = {k: (token, uploads.file_label(u)) for k, (u, token) in kept_uploads(request).items()}
        ctx.update(form_context(items, applicant, form, key, request=request, pending=pending))
        return render(request, "services/window_form.html", ctx)

    # step == "accept"
    form = application_form(schema, applicant, request.POST)
    intake = intake_from_post(request, applicant.number, codes, bundle_code, form, applicant.name)
    try:
        app = submit_application(intake, request.user, Channel.WINDOW, key)
    except ActionError as err:
        pending = keep_uploads(request, intake)
        ctx.update(form_context(items, applicant, form, key, request=request, pending=pending))
        if isinstance(err, MaterialsMissing):
            ctx.update(missing=err.missing, notice_token=notice_token(items, err.missing, applicant.name),
                       carried=carried_values(request, pending))
            return render(request, "services/window_notice.html", ctx)
        if isinstance(err, FormInvalid):
            ctx["loose_errors"] = put_errors(form, err.errors)
            ctx["error"] = _("申请表有误，请按提示修改后再受理。")
        else:
            apply_error(err, ctx)
        return render(request, "services/window_form.html", ctx)
    discard_uploads(request)
    return redirect("services:application", number=app.number)


@login_required
@require_POST
def window_pickup(request: HttpRequest, number: str) -> HttpResponse:
    """统一出件: the applicant collects an approved result at this window (one more visit); the
    page shows the same applicant again, whose number came back in the POST body."""
    require_role(request.user, Role.WINDOW_CLERK)
    case = queries.access_case_by_number(request.user, number)
    form = DeliverForm(request.POST)
    if not form.is_valid() or form.cleaned_data["method"] != DeliveryMethod.WINDOW:
        messages.error(request, _("窗口领取请求无效，请重新查询申请人后再试"))
    else:
        try:
            actions.do_deliver_result(case, actor=request.user, method=DeliveryMethod.WINDOW,
                                      expected_version=form.cleaned_data["version"])
        except ActionError as err:
            messages.error(request, err.message)
        else:
            messages.success(request, _("办件 %(number)s 已窗口领取（计一次跑动）") % {"number": case.number})
    return _window_with_applicant(request)


@login_required
@require_POST
def window_visit(request: HttpRequest, number: str) -> HttpResponse:
    """登记到场: the applicant came to this window again for a case (一次办 counts visits); the
    page shows the same applicant again, whose number came back in the POST body."""
    require_role(request.user, Role.WINDOW_CLERK)
    case = queries.access_case_by_number(request.user, number)
    try:
        actions.do_record_visit(case, actor=request.user, purpose=request.POST.get("purpose", "").strip()[:200])
    except ActionError as err:
        messages.error(request, err.message)
    else:
        messages.success(request, _("已登记办件 %(number)s 的一次到场") % {"number": case.number})
    return _window_with_applicant(request)


def _window_with_applicant(request: HttpRequest) -> HttpResponse:
    applicant_number = request.POST.get("number", "").strip()
    lookup = LookupForm({"number": applicant_number})
    ctx: dict[str, Any] = {"lookup": lookup, **picker_context()}
    if lookup.is_valid():
        try:
            ctx["applicant"] = lookup_applicant(request.user, applicant_number)
        except ActionError as err:
            lookup.add_error("number", err.message)
    return render(request, "services/window.html", ctx)


@login_required
@require_POST
def missing_notice_pdf(request: HttpRequest) -> HttpResponse:
    """一次性告知书 (PDF) for a refused intake, rebuilt from the signed notice token."""
    require_role(request.user, Role.WINDOW_CLERK)
    try:
        data = signing.loads(request.POST.get("token", ""), salt=NOTICE_SALT, max_age=86400)
    except signing.BadSignature as exc:
        raise Http404("notice expired or forged") from exc
    from gongzhi.services import receipts  # written alongside; imported lazily (reportlab is heavy)

    found = {i.code: i for i in queries.catalog().filter(code__in=data["items"])}
    items = [found[c] for c in data["items"] if c in found]
    pdf = receipts.missing_materials_notice_pdf(items, data["missing"], data["name"], request.user)
    return _pdf_response(pdf, "一次性告知书.pdf")


def _pdf_response(pdf: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f"inline; filename*=UTF-8''{_quote(filename)}"
    response["Cache-Control"] = "no-store, private"  # personal data: never in a shared cache
    return response


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name)


@login_required
def application(request: HttpRequest, number: str) -> HttpResponse:
    """Acceptance result: the case numbers, each deadline, the receipt to print."""
    cases = queries.cases_of_application(request.user, number)
    return render(request, "services/application.html", {
        "number": cases[0].application.number, "cases": cases, "application": cases[0].application,
        "is_clerk": has_role(request.user, Role.WINDOW_CLERK),
        "is_applicant": has_role(request.user, *PUBLIC_APPLICANT_ROLES),
    })


@login_required
def receipt_pdf(request: HttpRequest, number: str) -> HttpResponse:
    cases = queries.cases_of_application(request.user, number)
    from gongzhi.services import receipts  # written alongside; imported lazily (reportlab is heavy)

    return _pdf_response(receipts.acceptance_receipt_pdf(cases[0].application), f"受理回执-{number}.pdf")
