"""People screens: a resident's profile and 我的证照 wallet, staff person pages, document download.

Screens show masked numbers only; the full number is shown once, after an audited reveal.
Documents are streamed by a permission-checked view, never from a public media URL.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from gongzhi.accounts.permissions import may_reveal_numbers
from gongzhi.core.errors import ActionError
from gongzhi.people import actions, queries
from gongzhi.people.forms import DocumentUploadForm, RevealForm
from gongzhi.people.models import Document, Person
from gongzhi.people.policy import can_write_person


def _documents_context(user: Any, person: Person) -> dict[str, Any]:
    # Seeing a person does not mean seeing their papers (an agent sees the representative).
    valid_ids = set(queries.wallet_for_user(user, person).values_list("pk", flat=True))
    docs = list(queries.all_documents_of_for_user(user, person))
    return {"documents": docs, "valid_ids": valid_ids, "today": timezone.localdate()}


def _handle_upload(request: HttpRequest, person: Person, form: DocumentUploadForm) -> bool:
    if not form.is_valid():
        return False
    data = form.cleaned_data
    try:
        actions.do_add_document(
            person,
            data["doc_type"],
            data["title"],
            data.get("file"),
            issued_on=data.get("issued_on"),
            expires_on=data.get("expires_on"),
            issuer=data.get("issuer") or "",
            source="上传",
            actor=request.user,
        )
    except ActionError as exc:
        form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        return False
    return True


@login_required
def my_profile(request: HttpRequest) -> HttpResponse:
    person = queries.own_person(request.user)
    return render(
        request,
        "people/profile.html",
        {"person": person, "consents": queries.consents_of(person) if person else [], "own": True},
    )


@login_required
@require_http_methods(["GET", "POST"])
def my_wallet(request: HttpRequest) -> HttpResponse:
    person = queries.own_person(request.user)
    if person is None:
        return render(request, "people/wallet.html", {"person": None})
    form = DocumentUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and _handle_upload(request, person, form):
        return redirect("people:wallet")
    status = 422 if request.method == "POST" else 200
    return render(
        request, "people/wallet.html", {"person": person, "form": form, **_documents_context(request.user, person)}, status=status
    )


@login_required
@require_http_methods(["GET", "POST"])
def person_detail(request: HttpRequest, person_id: int) -> HttpResponse:
    person = queries.access_person(request.user, person_id)
    writable = can_write_person(request.user, person)
    form = DocumentUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if not writable:
            raise PermissionDenied
        if _handle_upload(request, person, form):
            return redirect("people:person_detail", person_id=person.pk)
    return render(
        request,
        "people/person_detail.html",
        {
            "person": person,
            "form": form if writable else None,
            "can_reveal": may_reveal_numbers(request.user) or person.user_id == request.user.pk,
            "consents": queries.consents_of(person),
            **_documents_context(request.user, person),
        },
        status=422 if request.method == "POST" else 200,
    )


@login_required
@require_POST
@never_cache
def reveal(request: HttpRequest, person_id: int) -> HttpResponse:
    """Show a full number once. POST only, so it is never in history, logs or a prefetch."""
    person = queries.access_person(request.user, person_id)
    form = RevealForm(request.POST)
    if not form.is_valid():
        raise Http404
    try:
        value = actions.do_reveal_number(
            person, form.cleaned_data["field"], actor=request.user, reason=form.cleaned_data["reason"]
        )
    except ActionError as exc:
        return render(
            request, "people/reveal.html", {"person": person, "error": exc.message, "form": form}, status=422
        )
    return render(
        request, "people/reveal.html", {"person": person, "value": value, "field": form.cleaned_data["field"]}
    )


def _download_name(doc: Document, ext: str) -> str:
    # The uploader's name without its extension (it may say .html for a PDF), plus the
    # extension of the type the bytes really are; control characters dropped.
    stem = "".join(ch for ch in PurePath(doc.filename or "").stem if ch.isprintable()).strip()
    return f"{stem or f'document-{doc.pk}'}{ext}"


@login_required
def document_download(request: HttpRequest, document_id: int) -> FileResponse:
    """Stream a wallet document as a download, typed by what its bytes are.

    Access is ``policy.document_q`` (through ``access_document``). The type is sniffed again
    from the stored bytes rather than read from the row or the upload: the file is served as
    an attachment named and typed by that, with ``nosniff`` and a sandboxing CSP, so a file
    that starts like a PDF but is named ``evil.html`` never opens as a page of this site.
    """
    doc = queries.access_document(request.user, document_id)
    if not doc.file:
        raise Http404("no file")
    try:
        handle = doc.file.open("rb")
    except FileNotFoundError:
        raise Http404("file missing") from None
    head = handle.read(8)
    handle.seek(0)
    sniffed = actions.sniff_content_type(head)
    if sniffed is None or sniffed[0] not in settings.DOCUMENT_ALLOWED_TYPES:
        sniffed = ("application/octet-stream", ".bin")
    content_type, ext = sniffed
    response = FileResponse(handle, as_attachment=True, filename=_download_name(doc, ext), content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "no-store, private"
    return response
