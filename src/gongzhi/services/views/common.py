"""What the service-hall pages share: the applicant lookup (一号办), the chosen items, the
form context and how an action's error lands on the page."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.core import signing
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _

from gongzhi.accounts.enums import SUPERVISOR_ROLES, Role
from gongzhi.accounts.scope import has_role
from gongzhi.core.domain.identifiers import IdentifierKind, check_identifier
from gongzhi.core.errors import ActionError
from gongzhi.core.i18n import localized, localized_choice
from gongzhi.people.errors import number_error
from gongzhi.people.queries import (
    find_organisation_by_uscc,
    find_person_by_number,
    wallet_for,
)
from gongzhi.services import actions, queries
from gongzhi.services.enums import (
    CaseStatus,
)
from gongzhi.services.forms import (
    DOC_PREFIX,
    FILE_PREFIX,
    material_rows,
    schema_values,
)
from gongzhi.services.models import Bundle, Case
from gongzhi.services.policy import can_deliver_result

PUBLIC_APPLICANT_ROLES = (Role.RESIDENT, Role.ENTERPRISE_AGENT)
BOARD_ROLES = (*SUPERVISOR_ROLES, Role.AUDITOR, Role.ADMINISTRATOR)
NOTICE_SALT = "services.missing-notice"
ITEM_CODE = re.compile(r"[A-Za-z0-9._-]{1,40}")




def require_role(user: Any, *roles: str) -> None:
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


def lookup_applicant(user: Any, number: str, name: str = "") -> Applicant:
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
                         pickups_for(user, cases))
    person = find_person_by_number(user, result.normalized)
    if person is None:
        return Applicant(result.normalized, "new", name.strip())
    cases = list(queries.cases_for_user(user).filter(applicant_person=person).order_by("-accepted_at")[:20])
    return Applicant(result.normalized, "person", person.name, person.number_masked, person,
                     list(wallet_for(person)), cases, pickups_for(user, cases))


def pickups_for(user: Any, cases: list[Any]) -> set[int]:
    return {c.pk for c in cases if c.status == CaseStatus.APPROVED and can_deliver_result(user, c)}


def all_bundles() -> list[Bundle]:
    # The catalog is public information (every item and bundle is published): read unscoped.
    return list(queries.bundles())


def resolve_items(codes: list[str], bundle_code: str) -> tuple[Bundle | None, list[Any], str]:
    """The chosen items, in the order chosen; an error message instead when the choice is empty
    or names something not in the catalog."""
    bundle = None
    if bundle_code:
        bundle = next((b for b in all_bundles() if b.code == bundle_code), None)
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


def grouped_catalog() -> list[tuple[Any, list[Any]]]:
    groups: dict[int, tuple[Any, list[Any]]] = {}
    for item in queries.catalog().order_by("department__code", "code"):
        groups.setdefault(item.department_id, (item.department, []))[1].append(item)
    return list(groups.values())


def posted_files(request: HttpRequest) -> dict[str, UploadedFile]:
    out: dict[str, UploadedFile] = {}
    for name in request.FILES:
        upload = request.FILES.get(name)
        if isinstance(upload, UploadedFile):
            out[name] = upload
    return out


def intake_from_post(request: HttpRequest, number: str, codes: list[str], bundle_code: str, form: Any,
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
        files={k[len(FILE_PREFIX):]: f for k, f in posted_files(request).items() if k.startswith(FILE_PREFIX)},
        documents=documents,
        applicant_name=applicant_name,
        commitment=request.POST.get("commitment") == "on",
        accept_gaps=request.POST.get("accept_gaps") == "on",
    )


def submit_application(intake: actions.Intake, user: Any, channel: str, key: str) -> Any:
    try:
        return actions.do_submit_application(intake, actor=user, channel=channel, idempotency_key=key)
    except IntegrityError:
        # A double click sends two requests with the same key at once: the loser of the race on
        # the unique key asks again and gets the winner's application (the action's retry path).
        for upload in intake.files.values():
            upload.seek(0)
        return actions.do_submit_application(intake, actor=user, channel=channel, idempotency_key=key)


def form_context(items: list[Any], applicant: Applicant, form: Any, key: str) -> dict[str, Any]:
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


def apply_error(err: ActionError, ctx: dict[str, Any]) -> None:
    """Put an action error where the user looks for it: a material, the applicant, or the top."""
    for row in ctx.get("materials", []):
        if err.field in (row.key, row.input_name):
            row.error = err.message
            return
    if err.field == "file":
        ctx["materials_error"] = err.message
    else:
        ctx["error"] = err.message


def notice_token(items: list[Any], missing: list[str], applicant_name: str) -> str:
    # The refusal notice stores nothing (一次性告知 happens before acceptance), so the printable
    # PDF is rebuilt from a signed token: the clerk cannot print a notice the server never gave.
    return signing.dumps({"items": [i.code for i in items], "missing": missing, "name": applicant_name},
                         salt=NOTICE_SALT, compress=True)


def cases_of_application(user: Any, number: str) -> list[Case]:
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



def form_rows(case: Case) -> list[tuple[str, Any, str]]:
    """(label, value as stored — personal numbers masked, name of a sealed field or ""). Labels
    and choice values are ``core.i18n.Localized``: templates show them with ``|localized``."""
    specs = {s["name"]: s for s in case.item.form_schema or []}
    sealed = case.form_sealed or {}
    rows = []
    for key, value in (case.form_data or {}).items():
        spec = specs.get(key, {})
        if value is True:
            value = _("是")
        elif value is False:
            value = _("否")
        elif spec.get("choices") and isinstance(value, str):
            value = localized_choice(spec, value)  # stored canonical; shown in the reader's language
        label = localized(spec, "label") if spec.get("label") else key
        rows.append((label, value, key if key in sealed else ""))
    return rows
