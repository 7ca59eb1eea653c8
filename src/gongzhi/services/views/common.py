"""What the service-hall pages share: the applicant lookup (一号办), the chosen items, the
form context and how an action's error lands on the page."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core import signing
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _

from gongzhi.accounts.enums import SUPERVISOR_ROLES, Role
from gongzhi.accounts.scope import has_role
from gongzhi.core.domain.identifiers import IdentifierKind, check_identifier, identity_facts
from gongzhi.core.errors import ActionError
from gongzhi.core.i18n import localized, localized_choice
from gongzhi.people.actions import check_upload
from gongzhi.people.errors import number_error
from gongzhi.people.queries import (
    find_organisation_by_uscc,
    find_person_by_number,
    wallet_for,
)
from gongzhi.services import actions, queries, uploads
from gongzhi.services.domain.forms import derived_values, identity_values
from gongzhi.services.enums import (
    CaseStatus,
)
from gongzhi.services.forms import (
    DOC_PREFIX,
    FILE_PREFIX,
    FORM_PREFIX,
    PENDING_PREFIX,
    material_rows,
    schema_form,
    schema_values,
)
from gongzhi.services.models import Bundle, Case
from gongzhi.services.policy import can_deliver_result
from gongzhi.services.routing import resolve_choice
from gongzhi.services.views.hall import SHOW_WHOLE_BELOW

PUBLIC_APPLICANT_ROLES = (Role.RESIDENT, Role.ENTERPRISE_AGENT)
BOARD_ROLES = (*SUPERVISOR_ROLES, Role.AUDITOR, Role.ADMINISTRATOR)
NOTICE_SALT = "services.missing-notice"




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


def resolve_items(codes: list[str], bundle_code: str) -> tuple[Bundle | None, list[Any], str]:
    """The chosen items — a bundle's items plus any extra items ticked, each once — or the reason
    they cannot be taken (nothing chosen, not in the catalogue, or items that cannot share one
    application). The same rule as intake's (``routing.resolve_choice``), so the page never
    shows a choice the submission would then change."""
    try:
        bundle, items = resolve_choice(codes, bundle_code)
    except ActionError as err:
        return None, [], err.message
    return bundle, items, ""


def picker_context(query: str = "", chosen: Any = (), bundle_code: str = "") -> dict[str, Any]:
    """The window's item picker: every item (a ticked one stays in the form whatever the search),
    those the search does not find hidden; bundles first. The search is the catalogue's own
    (``queries.search_catalog``: words, code, pinyin initials); ``picker_keys`` feed the page's
    local filter (services/picker.js) so typing filters at once when JavaScript runs."""
    everything = queries.search_catalog("")
    found = queries.search_catalog(query) if query.strip() else everything
    matches = {i.code for i in found.items}
    chosen = set(chosen)
    keys = queries.filter_keys(everything.items)
    groups = []
    for department, items in everything.grouped():
        rows = [(item, item.code in matches or item.code in chosen, keys[item.code]) for item in items]
        small = len(everything.items) < SHOW_WHOLE_BELOW
        groups.append((department, rows, any(row[1] for row in rows) and bool(query.strip() or chosen or small)))
    return {
        "picker_q": query, "picker_groups": groups, "picker_found": len(matches), "bundles": everything.bundles,
        "chosen": chosen, "chosen_bundle": bundle_code,
    }


def posted_files(request: HttpRequest) -> dict[str, UploadedFile]:
    out: dict[str, UploadedFile] = {}
    for name in request.FILES:
        upload = request.FILES.get(name)
        if isinstance(upload, UploadedFile):
            out[name] = upload
    return out


def application_form(schema: list[dict[str, Any]], applicant: Applicant, data: Any = None) -> Any:
    """The application form for this applicant: what the ID number says is shown, not asked
    (``identity.*`` fields), and the person record offers its phone and address."""
    derived = derived_values(schema, identity_values(identity_facts(applicant.number)))
    record: dict[str, str] = {}
    owner = applicant.owner
    if applicant.kind == "person" and owner is not None:
        record = {"person.phone": owner.phone_masked, "person.address": owner.address}
    return schema_form(schema, data, derived=derived, record=record)


def intake_from_post(request: HttpRequest, number: str, codes: list[str], bundle_code: str, form: Any,
            applicant_name: str = "") -> actions.Intake:
    """The intake a page posted. Files are the new uploads, plus the scans kept from an earlier
    round-trip of the same form (``pending-<key>`` tokens; a new upload replaces a kept one)."""
    documents: dict[str, int] = {}
    for key in request.POST:
        value = request.POST.get(key, "").strip()
        if key.startswith(DOC_PREFIX) and value.isdigit() and len(value) < 12:
            documents[key[len(DOC_PREFIX):]] = int(value)
    files = {key: upload for key, (upload, _token) in kept_uploads(request).items()}
    files.update({k[len(FILE_PREFIX):]: f for k, f in posted_files(request).items() if k.startswith(FILE_PREFIX)})
    return actions.Intake(
        applicant_number=number,
        item_codes=codes,  # with a bundle too: its items plus these (routing.resolve_choice)
        bundle_code=bundle_code,
        form=schema_values(form),
        files=files,
        documents=documents,
        applicant_name=applicant_name,
        commitment=request.POST.get("commitment") == "on",
        accept_gaps=request.POST.get("accept_gaps") == "on",
    )


def kept_uploads(request: HttpRequest) -> dict[str, tuple[Any, str]]:
    """Material key → (upload, token) for every valid kept-scan token the form carried."""
    out: dict[str, tuple[Any, str]] = {}
    for name in request.POST:
        if not name.startswith(PENDING_PREFIX):
            continue
        found = uploads.restore(request.POST.get(name, ""), user_id=int(request.user.pk or 0))
        if found is not None and found[0] == name[len(PENDING_PREFIX):]:
            out[found[0]] = (found[1], found[2])
    return out


def keep_uploads(request: HttpRequest, intake: actions.Intake) -> dict[str, tuple[str, str]]:
    """After a refused submission: keep every scan that passed the upload check, so the re-shown
    form (or the one-time notice's way back) still has it. Material key → (token, file name)."""
    kept = {key: token for key, (_u, token) in kept_uploads(request).items()}
    out: dict[str, tuple[str, str]] = {}
    posted = {k[len(FILE_PREFIX):] for k in posted_files(request) if k.startswith(FILE_PREFIX)}
    for key, upload in intake.files.items():
        if key in posted:
            try:
                check_upload(upload)
            except ActionError:
                continue  # a wrong file is not kept: its error says to choose another
            if key in kept:
                uploads.discard(kept[key])  # replaced by the new scan
            out[key] = (uploads.stash(upload, user_id=int(request.user.pk or 0), key=key), uploads.file_label(upload))
        elif key in kept:
            out[key] = (kept[key], uploads.file_label(upload))
    return out


def discard_uploads(request: HttpRequest) -> None:
    """The application was accepted: the kept scans are in the wallet now, drop the copies."""
    for _upload, token in kept_uploads(request).values():
        uploads.discard(token)


def carried_values(request: HttpRequest, pending: dict[str, tuple[str, str]]) -> list[tuple[str, str]]:
    """What the one-time notice carries back to the form (hidden fields in its POST body — never
    in a URL): the typed values, the wallet choices, the two checkboxes, the kept scans' tokens
    and the idempotency key."""
    out: list[tuple[str, str]] = []
    for name in request.POST:
        value = request.POST.get(name, "")
        if name.startswith((f"{FORM_PREFIX}-", DOC_PREFIX)) or name in {"commitment", "accept_gaps", "idempotency_key"}:
            out.append((name, value))
    out += [(PENDING_PREFIX + key, token) for key, (token, _name) in pending.items()]
    return out


def submit_application(intake: actions.Intake, user: Any, channel: str, key: str) -> Any:
    try:
        return actions.do_submit_application(intake, actor=user, channel=channel, idempotency_key=key)
    except IntegrityError:
        # A double click sends two requests with the same key at once: the loser of the race on
        # the unique key asks again and gets the winner's application (the action's retry path).
        for upload in intake.files.values():
            upload.seek(0)
        return actions.do_submit_application(intake, actor=user, channel=channel, idempotency_key=key)


def form_context(items: list[Any], applicant: Applicant, form: Any, key: str, *,
                 request: HttpRequest | None = None, pending: dict[str, tuple[str, str]] | None = None) -> dict[str, Any]:
    """What the application form page shows. With ``request`` (a form shown again), the wallet
    documents chosen before come back selected; ``pending`` are the scans kept."""
    chosen: dict[str, int] = {}
    if request is not None:
        for name in request.POST:
            value = request.POST.get(name, "")
            if name.startswith(DOC_PREFIX) and value.isdigit() and len(value) < 12:
                chosen[name[len(DOC_PREFIX):]] = int(value)
    rows = material_rows(items, applicant.wallet, chosen=chosen, pending=pending)
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
            ctx["error"] = _("材料有误，请按提示修改。")  # the summary at the top links to the row
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
