"""Pages of the service hall: window desk (一窗办), online hall (一网办), back office, the
supervisor's board (阳光办) and the public progress and on-time pages.

Views only parse input, read through ``services.queries`` (scoped; ``access_*`` raise 404) and
write through ``services.actions``; an action's error is shown next to the input it names and
nothing is stored. Pages a role may not use answer 404, like an object outside one's scope.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from gongzhi.accounts.enums import SUPERVISOR_ROLES, Role
from gongzhi.accounts.queries import departments_for_user
from gongzhi.accounts.scope import has_role
from gongzhi.core.crypto import decrypt
from gongzhi.core.domain.identifiers import IdentifierKind, check_identifier
from gongzhi.core.errors import ActionError
from gongzhi.people.errors import number_error
from gongzhi.people.queries import (
    find_organisation_by_uscc,
    find_person_by_number,
    organisations_for_user,
    own_person,
    wallet_for,
)
from gongzhi.services import actions, queries, tracking
from gongzhi.services.enums import (
    CLOSED_CASE_STATUSES,
    CaseStatus,
    Channel,
    DeliveryMethod,
    SlaState,
    TaskStatus,
)
from gongzhi.services.errors import FormInvalid, MaterialsMissing, TaskConflict
from gongzhi.services.forms import (
    DOC_PREFIX,
    FILE_PREFIX,
    DecideForm,
    DeliverForm,
    LookupForm,
    ReviewForm,
    SupplementForm,
    TrackForm,
    material_rows,
    merged_schema,
    put_errors,
    schema_form,
    schema_values,
)
from gongzhi.services.models import Bundle, Case
from gongzhi.services.policy import can_deliver_result, can_reveal_numbers
from gongzhi.services.stats import fold_dirty_cases

PUBLIC_APPLICANT_ROLES = (Role.RESIDENT, Role.ENTERPRISE_AGENT)
BOARD_ROLES = (*SUPERVISOR_ROLES, Role.AUDITOR, Role.ADMINISTRATOR)
NOTICE_SALT = "services.missing-notice"
ITEM_CODE = re.compile(r"[A-Za-z0-9._-]{1,40}")


def _require(user: Any, *roles: str) -> None:
    if not has_role(user, *roles):
        raise Http404("page not available for this role")


# ------------------------------------------------------------------------------ shared parts


@dataclass
class Applicant:
    """Who the window (or the portal) is serving; ``number`` is the full number, kept only in
    the page's POST body (never in a URL, so it is not written to access logs)."""

    number: str
    kind: str  # person | org | new
    name: str = ""
    masked: str = ""
    owner: Any = None
    wallet: list[Any] = field(default_factory=list)
    cases: list[Any] = field(default_factory=list)
    pickups: set[int] = field(default_factory=set)  # approved cases this user may hand out (统一出件)


def _lookup(user: Any, number: str, name: str = "") -> Applicant:
    """一号办: one number finds the person or organisation, their wallet and their cases."""
    result = check_identifier(number)
    if not result.valid:
        raise number_error(result, field="number")
    if result.kind == IdentifierKind.USCC:
        org = find_organisation_by_uscc(user, result.normalized)
        if org is None:
            raise ActionError(_("未找到该统一社会信用代码对应的单位，请先办理单位登记"), field="number")
        cases = list(queries.cases_for_user(user).filter(applicant_org=org).order_by("-accepted_at")[:20])
        return Applicant(result.normalized, "org", org.name, org.uscc, org, list(wallet_for(org)), cases,
                         _pickups(user, cases))
    person = find_person_by_number(user, result.normalized)
    if person is None:
        return Applicant(result.normalized, "new", name.strip())
    cases = list(queries.cases_for_user(user).filter(applicant_person=person).order_by("-accepted_at")[:20])
    return Applicant(result.normalized, "person", person.name, person.number_masked, person,
                     list(wallet_for(person)), cases, _pickups(user, cases))


def _pickups(user: Any, cases: list[Any]) -> set[int]:
    return {c.pk for c in cases if c.status == CaseStatus.APPROVED and can_deliver_result(user, c)}


def _bundles() -> list[Bundle]:
    # The catalog is public information (every item and bundle is published): read unscoped.
    return list(queries.bundles())


def _resolve(codes: list[str], bundle_code: str) -> tuple[Bundle | None, list[Any], str]:
    """The chosen items, in the order chosen; an error message instead when the choice is empty
    or names something not in the catalog."""
    bundle = None
    if bundle_code:
        bundle = next((b for b in _bundles() if b.code == bundle_code), None)
        if bundle is None:
            return None, [], _("没有这个“一件事”，请重新选择")
        codes = [i.code for i in bundle.items.all()]
    codes = list(dict.fromkeys(c for c in codes if c))
    if not codes:
        return None, [], _("请至少选择一个办理事项，或选择一个“一件事”")
    # Only code-shaped values reach the database (a NUL byte would make PostgreSQL fail the query).
    found = {i.code: i for i in queries.catalog().filter(code__in=[c for c in codes if ITEM_CODE.fullmatch(c)])
             .prefetch_related("materials")}
    missing = [c for c in codes if c not in found]
    if missing:
        return None, [], _("事项编码不存在或已停用：%(codes)s") % {"codes": "、".join(missing)}
    return bundle, [found[c] for c in codes], ""


def _grouped_catalog() -> list[tuple[Any, list[Any]]]:
    groups: dict[int, tuple[Any, list[Any]]] = {}
    for item in queries.catalog().order_by("department__code", "code"):
        groups.setdefault(item.department_id, (item.department, []))[1].append(item)
    return list(groups.values())


def _uploads(request: HttpRequest) -> dict[str, UploadedFile]:
    out: dict[str, UploadedFile] = {}
    for name in request.FILES:
        upload = request.FILES.get(name)
        if isinstance(upload, UploadedFile):
            out[name] = upload
    return out


def _intake(request: HttpRequest, number: str, codes: list[str], bundle_code: str, form: Any,
            applicant_name: str = "") -> actions.Intake:
    documents: dict[str, int] = {}
    for key in request.POST:
        value = request.POST.get(key, "").strip()
        if key.startswith(DOC_PREFIX) and value.isdigit():
            documents[key[len(DOC_PREFIX):]] = int(value)
    return actions.Intake(
        applicant_number=number,
        item_codes=[] if bundle_code else codes,
        bundle_code=bundle_code,
        form=schema_values(form),
        files={k[len(FILE_PREFIX):]: f for k, f in _uploads(request).items() if k.startswith(FILE_PREFIX)},
        documents=documents,
        applicant_name=applicant_name,
        commitment=request.POST.get("commitment") == "on",
        accept_gaps=request.POST.get("accept_gaps") == "on",
    )


def _submit(intake: actions.Intake, user: Any, channel: str, key: str) -> Any:
    try:
        return actions.do_submit_application(intake, actor=user, channel=channel, idempotency_key=key)
    except IntegrityError:
        # A double click sends two requests with the same key at once: the loser of the race on
        # the unique key asks again and gets the winner's application (the action's retry path).
        for upload in intake.files.values():
            upload.seek(0)
        return actions.do_submit_application(intake, actor=user, channel=channel, idempotency_key=key)


def _form_context(items: list[Any], applicant: Applicant, form: Any, key: str) -> dict[str, Any]:
    rows = material_rows(items, applicant.wallet)
    return {
        "items": items,
        "form": form,
        "materials": rows,
        "idempotency_key": key,
        "wallet": applicant.wallet,
        # 容缺受理 only helps when a secondary material is not already in the wallet.
        "allow_gaps": any(i.accept_with_gaps for i in items) and any(r.secondary and not r.wallet_doc for r in rows),
        "allow_commitment": any(r.commitment_ok and not r.wallet_doc for r in rows),
    }


def _apply_error(err: ActionError, ctx: dict[str, Any]) -> None:
    """Put an action error where the user looks for it: a material, the applicant, or the top."""
    for row in ctx.get("materials", []):
        if err.field in (row.key, row.input_name):
            row.error = err.message
            return
    if err.field == "file":
        ctx["materials_error"] = err.message
    else:
        ctx["error"] = err.message


def _notice_token(items: list[Any], missing: list[str], applicant_name: str) -> str:
    # The refusal notice stores nothing (一次性告知 happens before acceptance), so the printable
    # PDF is rebuilt from a signed token: the clerk cannot print a notice the server never gave.
    return signing.dumps({"items": [i.code for i in items], "missing": missing, "name": applicant_name},
                         salt=NOTICE_SALT, compress=True)


def _cases_of_application(user: Any, number: str) -> list[Case]:
    if not queries.plausible_number(number):
        raise Http404("application not found")
    cases = list(queries.cases_for_user(user).filter(application__number=number).order_by("number"))
    if not cases:
        # 一窗办: a window accepts for applicants from anywhere, so the case may lie outside the
        # clerk's jurisdiction; whoever submitted an application may still see its receipt.
        cases = list(
            Case.objects.select_related("item", "department", "application")
            .filter(application__number=number, application__submitted_by_id=user.pk)
            .order_by("number")
        )
    if not cases:
        raise Http404("application not found")
    return cases


# ------------------------------------------------------------------------------ window desk


@login_required
def window(request: HttpRequest) -> HttpResponse:
    """综合窗口: look up → choose items → fill the form → accept. Every step posts, so the full
    ID number stays out of URLs; only the last step writes, and it redirects (POST/redirect/GET)."""
    _require(request.user, Role.WINDOW_CLERK)
    if request.method != "POST":
        return render(request, "services/window.html", {"lookup": LookupForm(), "catalog": _grouped_catalog(),
                                                        "bundles": _bundles()})
    step = request.POST.get("step", "lookup")
    lookup = LookupForm(request.POST)
    number = request.POST.get("number", "").strip()
    name = request.POST.get("applicant_name", "").strip()
    ctx: dict[str, Any] = {"lookup": lookup, "catalog": _grouped_catalog(), "bundles": _bundles()}
    if not lookup.is_valid():
        return render(request, "services/window.html", ctx)
    try:
        applicant = _lookup(request.user, number, name)
    except ActionError as err:
        lookup.add_error("number", err.message)
        return render(request, "services/window.html", ctx)
    ctx["applicant"] = applicant
    codes = request.POST.getlist("items")
    bundle_code = request.POST.get("bundle", "").strip()
    if step == "lookup":
        return render(request, "services/window.html", ctx)
    if applicant.kind == "new" and not applicant.name:
        ctx["name_error"] = _("该证件号码尚未登记：请填写申请人姓名，受理时一并登记")
        ctx["chosen"] = set(codes)
        return render(request, "services/window.html", ctx)
    bundle, items, problem = _resolve(codes, bundle_code)
    if problem:
        ctx["pick_error"] = problem
        ctx["chosen"] = set(codes)
        return render(request, "services/window.html", ctx)
    ctx.update(bundle=bundle, codes=[i.code for i in items], bundle_code=bundle_code)
    schema = merged_schema(items)
    if step == "pick":
        ctx.update(_form_context(items, applicant, schema_form(schema), uuid.uuid4().hex))
        return render(request, "services/window_form.html", ctx)

    # step == "accept"
    form = schema_form(schema, request.POST)
    key = request.POST.get("idempotency_key", "")
    ctx.update(_form_context(items, applicant, form, key))
    intake = _intake(request, applicant.number, codes, bundle_code, form, applicant.name)
    try:
        app = _submit(intake, request.user, Channel.WINDOW, key)
    except FormInvalid as err:
        ctx["loose_errors"] = put_errors(form, err.errors)
        ctx["error"] = _("申请表有误，请按提示修改后再受理。")
        return render(request, "services/window_form.html", ctx)
    except MaterialsMissing as err:
        ctx.update(missing=err.missing, notice_token=_notice_token(items, err.missing, applicant.name))
        return render(request, "services/window_notice.html", ctx)
    except ActionError as err:
        _apply_error(err, ctx)
        return render(request, "services/window_form.html", ctx)
    return redirect("services:application", number=app.number)


@login_required
@require_POST
def window_pickup(request: HttpRequest, number: str) -> HttpResponse:
    """统一出件: the applicant collects an approved result at this window (one more visit); the
    page shows the same applicant again, whose number came back in the POST body."""
    _require(request.user, Role.WINDOW_CLERK)
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
    _require(request.user, Role.WINDOW_CLERK)
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
    ctx: dict[str, Any] = {"lookup": lookup, "catalog": _grouped_catalog(), "bundles": _bundles()}
    if lookup.is_valid():
        try:
            ctx["applicant"] = _lookup(request.user, applicant_number)
        except ActionError as err:
            lookup.add_error("number", err.message)
    return render(request, "services/window.html", ctx)


@login_required
@require_POST
def missing_notice_pdf(request: HttpRequest) -> HttpResponse:
    """一次性告知书 (PDF) for a refused intake, rebuilt from the signed notice token."""
    _require(request.user, Role.WINDOW_CLERK)
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
    cases = _cases_of_application(request.user, number)
    return render(request, "services/application.html", {
        "number": number, "cases": cases, "application": cases[0].application,
        "is_clerk": has_role(request.user, Role.WINDOW_CLERK),
        "is_applicant": has_role(request.user, *PUBLIC_APPLICANT_ROLES),
    })


@login_required
def receipt_pdf(request: HttpRequest, number: str) -> HttpResponse:
    cases = _cases_of_application(request.user, number)
    from gongzhi.services import receipts  # written alongside; imported lazily (reportlab is heavy)

    return _pdf_response(receipts.acceptance_receipt_pdf(cases[0].application), f"受理回执-{number}.pdf")


# ------------------------------------------------------------------------------ online hall


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
    _require(request.user, *PUBLIC_APPLICANT_ROLES)
    return render(request, "services/online.html", {"catalog": _grouped_catalog(), "bundles": _bundles()})


@login_required
def online_apply(request: HttpRequest) -> HttpResponse:
    _require(request.user, *PUBLIC_APPLICANT_ROLES)
    source = request.POST if request.method == "POST" else request.GET
    codes = source.getlist("items")
    bundle_code = source.get("bundle", "").strip()
    bundle, items, problem = _resolve(codes, bundle_code)
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
        ctx.update(_form_context(items, applicant, schema_form(schema), uuid.uuid4().hex))
        return render(request, "services/online_apply.html", ctx)
    form = schema_form(schema, request.POST)
    key = request.POST.get("idempotency_key", "")
    ctx.update(_form_context(items, applicant, form, key))
    intake = _intake(request, applicant.number, codes, bundle_code, form)
    try:
        app = _submit(intake, request.user, Channel.ONLINE, key)
    except FormInvalid as err:
        ctx["loose_errors"] = put_errors(form, err.errors)
        ctx["error"] = _("申请表有误，请按提示修改后再提交。")
        return render(request, "services/online_apply.html", ctx)
    except MaterialsMissing as err:
        ctx["missing"] = err.missing
        ctx["error"] = _("材料不齐，请一次性补齐下列材料后再提交。")
        return render(request, "services/online_apply.html", ctx)
    except ActionError as err:
        _apply_error(err, ctx)
        return render(request, "services/online_apply.html", ctx)
    messages.success(request, _("申请已提交并受理，申请编号 %(number)s。") % {"number": app.number})
    return redirect("services:application", number=app.number)


@login_required
def my_cases(request: HttpRequest) -> HttpResponse:
    """我的办件: the applicant's own cases (residents and agents see only their own)."""
    _require(request.user, *PUBLIC_APPLICANT_ROLES)
    cases = queries.cases_for_user(request.user).order_by("-accepted_at")[:200]
    return render(request, "services/my_cases.html", {"cases": cases})


def _my_case_context(request: HttpRequest, case: Case) -> dict[str, Any]:
    supplement = case.supplements.filter(fulfilled_at__isnull=True).last()
    review = getattr(case, "review", None)  # reverse one-to-one: None when not reviewed yet
    return {
        "case": case,
        "tasks": case.tasks.select_related("department").order_by("role", "id"),
        "supplement": supplement if case.status == "supplement" else None,
        "supplement_rows": [(f"{FILE_PREFIX}{n}", text) for n, text in enumerate(supplement.items)] if supplement else [],
        "review": review,
        "can_review": case.status in CLOSED_CASE_STATUSES and case.closed_at is not None and review is None,
        "review_form": ReviewForm(),
        "form_rows": _form_rows(case),
    }


def _form_rows(case: Case) -> list[tuple[str, Any, str]]:
    """(label, value as stored — personal numbers masked, name of a sealed field or "")."""
    labels = {s["name"]: s.get("label", s["name"]) for s in case.item.form_schema or []}
    sealed = case.form_sealed or {}
    rows = []
    for key, value in (case.form_data or {}).items():
        if value is True:
            value = _("是")
        elif value is False:
            value = _("否")
        rows.append((labels.get(key, key), value, key if key in sealed else ""))
    return rows


@login_required
def my_case(request: HttpRequest, number: str) -> HttpResponse:
    _require(request.user, *PUBLIC_APPLICANT_ROLES)
    case = queries.access_case_by_number(request.user, number)
    return render(request, "services/my_case.html", _my_case_context(request, case))


@login_required
@require_POST
def my_case_supplement(request: HttpRequest, number: str) -> HttpResponse:
    _require(request.user, *PUBLIC_APPLICANT_ROLES)
    case = queries.access_case_by_number(request.user, number)
    ctx = _my_case_context(request, case)
    texts = dict(ctx["supplement_rows"])
    # Each upload is keyed by the line of the notice it answers, so the wallet title says what it is.
    files = {texts[k][:60]: f for k, f in _uploads(request).items() if k in texts}
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
    _require(request.user, *PUBLIC_APPLICANT_ROLES)
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
    labels = {s["name"]: s.get("label", s["name"]) for s in case.item.form_schema or []}
    ctx: dict[str, Any] = {"case": case, "field": field_name, "label": labels.get(field_name, "")}
    try:
        ctx["value"] = actions.do_reveal_form_value(case, field_name, actor=request.user,
                                                    reason=request.POST.get("reason", ""))
    except ActionError as err:
        ctx["error"] = err.message
        return render(request, "services/reveal.html", ctx, status=err.status)
    return render(request, "services/reveal.html", ctx)


# ------------------------------------------------------------------------------ back office


@login_required
def tasks(request: HttpRequest) -> HttpResponse:
    """部门审批: the department's open tasks, earliest deadline first."""
    _require(request.user, Role.DEPARTMENT_OFFICER)
    qs = queries.tasks_for_user(request.user)
    status = request.GET.get("status", "")
    if status in (TaskStatus.PENDING, TaskStatus.CLAIMED, TaskStatus.SUPPLEMENT):
        qs = qs.filter(status=status)
    if request.GET.get("mine") == "1":
        qs = qs.filter(holder_id=request.user.pk)
    return render(request, "services/tasks.html", {
        "tasks": qs[:300], "status": status, "mine": request.GET.get("mine") == "1",
        "statuses": [(s.value, s.label) for s in (TaskStatus.PENDING, TaskStatus.CLAIMED, TaskStatus.SUPPLEMENT)],
    })


def _task_context(request: HttpRequest, task: Any, **extra: Any) -> dict[str, Any]:
    case = task.case
    ctx = {
        "task": task,
        "case": case,
        "form_rows": _form_rows(case),
        "materials": case.materials.select_related("material", "document").order_by("material__order", "id"),
        "siblings": case.tasks.select_related("department", "holder").order_by("role", "id"),
        "supplements": case.supplements.all(),
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
    _require(request.user, Role.DEPARTMENT_OFFICER)
    task = queries.access_task(request.user, task_id)
    return render(request, "services/task_detail.html", _task_context(request, task))


def _posted_version(request: HttpRequest) -> int | None:
    try:
        return int(request.POST.get("version", ""))
    except ValueError:
        return None


def _task_refused(request: HttpRequest, task: Any, err: ActionError, **extra: Any) -> HttpResponse:
    fresh = queries.access_task(request.user, task.pk)  # show the task as it is now
    return render(request, "services/task_detail.html",
                  _task_context(request, fresh, error=err.message, conflict=isinstance(err, TaskConflict), **extra))


@login_required
@require_POST
def task_claim(request: HttpRequest, task_id: int) -> HttpResponse:
    _require(request.user, Role.DEPARTMENT_OFFICER)
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
    _require(request.user, Role.DEPARTMENT_OFFICER)
    task = queries.access_task(request.user, task_id)
    form = DecideForm(request.POST)
    if not form.is_valid():
        return render(request, "services/task_detail.html", _task_context(request, task, decide_form=form))
    try:
        actions.do_decide_task(task, approve=form.cleaned_data["decision"] == "approve",
                               reason=form.cleaned_data["reason"], actor=request.user,
                               expected_version=form.cleaned_data["version"])
    except ActionError as err:
        if err.field == "reason":
            form.add_error("reason", err.message)
            return render(request, "services/task_detail.html", _task_context(request, task, decide_form=form))
        return _task_refused(request, task, err)
    messages.success(request, _("审批意见已提交。"))
    return redirect("services:tasks")


@login_required
@require_POST
def task_supplement(request: HttpRequest, task_id: int) -> HttpResponse:
    _require(request.user, Role.DEPARTMENT_OFFICER)
    task = queries.access_task(request.user, task_id)
    form = SupplementForm(request.POST)
    if not form.is_valid():
        return render(request, "services/task_detail.html", _task_context(request, task, supplement_form=form))
    try:
        # The version the form was shown with: the action compares it under the task's row lock,
        # so a notice is never sent on what someone saw before another officer acted.
        actions.do_request_supplement(task, form.item_list(), reason=form.cleaned_data["reason"], actor=request.user,
                                      expected_version=form.cleaned_data["version"])
    except ActionError as err:
        if err.field == "items":
            form.add_error("items", err.message)
            return render(request, "services/task_detail.html", _task_context(request, task, supplement_form=form))
        return _task_refused(request, task, err)
    messages.success(request, _("补正通知已发出，办理时限暂停计算。"))
    return redirect("services:task", task_id=task.pk)


@login_required
@require_POST
def task_deliver(request: HttpRequest, task_id: int) -> HttpResponse:
    """送达: the lead department hands the approved result to the applicant."""
    _require(request.user, Role.DEPARTMENT_OFFICER)
    task = queries.access_task(request.user, task_id)
    form = DeliverForm(request.POST)
    if not form.is_valid():
        return render(request, "services/task_detail.html", _task_context(request, task, deliver_form=form))
    try:
        actions.do_deliver_result(task.case, actor=request.user, method=form.cleaned_data["method"],
                                  address=form.cleaned_data["address"], expected_version=form.cleaned_data["version"])
    except ActionError as err:
        if err.field in ("method", "address"):
            form.add_error(err.field, err.message)
            return render(request, "services/task_detail.html", _task_context(request, task, deliver_form=form))
        return _task_refused(request, task, err)
    method = DeliveryMethod(form.cleaned_data["method"]).label
    messages.success(request, _("办理结果已送达（%(method)s），已通知申请人。") % {"method": method})
    return redirect("services:task", task_id=task.pk)


# ------------------------------------------------------------------------------ reviews (好差评)


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
    _require(request.user, Role.DEPARTMENT_OFFICER)
    return _reviews_page(request)


@login_required
@require_POST
def rectification_complete(request: HttpRequest, rect_id: int) -> HttpResponse:
    _require(request.user, Role.DEPARTMENT_OFFICER)
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
    _require(request.user, Role.DEPARTMENT_OFFICER)
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
    _require(request.user, *SUPERVISOR_ROLES)
    return _appeals_page(request)


@login_required
@require_POST
def appeal_decide(request: HttpRequest, appeal_id: int) -> HttpResponse:
    _require(request.user, *SUPERVISOR_ROLES)
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


# ------------------------------------------------------------------------------ supervisor board


@login_required
def board(request: HttpRequest) -> HttpResponse:
    """阳光办: the 5×100% figures, on-time rates per department and the overdue trace."""
    _require(request.user, *BOARD_ROLES)
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


# ------------------------------------------------------------------------------ public pages


def _client_ip(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def track(request: HttpRequest) -> HttpResponse:
    """办件进度查询 (no login): case number + last four of the applicant's number. Shows the
    item, status and the timeline — never a name or a number. The same lookup as the API's
    (services/tracking.py): one budget per address, one wording, one timeline."""
    form = TrackForm(request.GET or None)
    ctx: dict[str, Any] = {"form": form}
    if form.is_bound and form.is_valid():
        found = tracking.lookup_progress(form.cleaned_data["number"], form.cleaned_data["tail"],
                                         client=_client_ip(request))
        ctx.update(case=found.case, steps=found.steps, error=found.error)
        return render(request, "services/track.html", ctx, status=found.status)
    return render(request, "services/track.html", ctx)


def ontime(request: HttpRequest) -> HttpResponse:
    """阳光办 published: on-time rates per department, from the same roll-up as the board."""
    return render(request, "services/ontime.html", {
        "overall": queries.public_figures(), "by_dept": queries.figures_by_department(),
    })
