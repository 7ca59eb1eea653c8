"""People screens: a resident's profile and 我的证照 wallet, staff person pages, document download.

Screens show masked numbers only; the full number is shown once, after an audited reveal.
Documents are streamed by a permission-checked view, never from a public media URL.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from gongzhi.accounts.domain.addresses import client_address
from gongzhi.accounts.permissions import may_reveal_numbers
from gongzhi.accounts.policy import identity_unverified, may_verify_identity
from gongzhi.core.errors import ActionError
from gongzhi.people import actions, queries
from gongzhi.people.forms import DocumentUploadForm, RevealForm
from gongzhi.people.models import Document, Person
from gongzhi.people.policy import can_write_person
from gongzhi.places.enums import PlaceKind
from gongzhi.places.models import Place
from gongzhi.places.queries import places_on


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


# --- Self-registration (自助注册) and the clerk's real-name check (issue 11) ---------------------

SIGNUP_TICKET = "gongzhi_signup"  # {"ticket": ..., "phone": masked phone typed} between the steps
VERIFY_PERSON = "gongzhi_verify_person"  # the person the clerk found, between "find" and "verify"


def _community_label(place: Place) -> str:
    """「桃源街道 · 平山社区」: the subdistrict tells apart communities of the same name."""
    return f"{place.parent.name if place.parent else ''} · {place.name}"


class SignupForm(forms.Form):
    number = forms.CharField(
        label=_("身份证件号码"), max_length=30,
        help_text=_("居民身份证号码，或港澳台居民居住证、港澳居民来往内地通行证号码"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    name = forms.CharField(label=_("姓名"), max_length=60, widget=forms.TextInput(attrs={"autocomplete": "name"}))
    phone = forms.CharField(
        label=_("手机号码"), max_length=20, help_text=_("验证码将以短信发送到这个号码"),
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    home_place = forms.ModelChoiceField(
        label=_("居住社区"), queryset=Place.objects.none(), empty_label=_("请选择"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["home_place"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = (
            places_on(timezone.localdate()).filter(kind=PlaceKind.COMMUNITY).select_related("parent").order_by("path")
        )
        field.label_from_instance = _community_label  # type: ignore[method-assign,assignment]


class SignupConfirmForm(forms.Form):
    code = forms.CharField(
        label=_("短信验证码"), max_length=10,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )
    username = forms.CharField(
        label=_("用户名"), max_length=150, help_text=_("以后用它登录；字母、数字和 @ . + - _"),
        widget=forms.TextInput(attrs={"autocomplete": "username"}),
    )
    password1 = forms.CharField(
        label=_("密码"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    password2 = forms.CharField(
        label=_("再次输入密码"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def clean_password2(self) -> str:
        one, two = self.cleaned_data.get("password1"), self.cleaned_data.get("password2")
        if one and two and one != two:
            raise forms.ValidationError(_("两次输入的密码不一致"), code="password_mismatch")
        return str(two or "")


def _put_error(form: forms.Form, exc: ActionError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


@sensitive_post_parameters("number", "phone")
@csrf_protect
@never_cache
def signup(request: HttpRequest) -> HttpResponse:
    """Step 1: number, name, phone, community → a code by SMS (or, where the number may not get a
    new account, a notice to the phone on record — the next page reads the same either way)."""
    if request.user.is_authenticated:
        return redirect("accounts:home")
    form = SignupForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                row = actions.do_start_signup(
                    data["number"], data["name"], data["phone"], data["home_place"], address=client_address(request)
                )
            except ActionError as exc:
                _put_error(form, exc)
                status = exc.status if exc.status == 429 else 400
            else:
                request.session[SIGNUP_TICKET] = {"ticket": row.ticket, "phone": row.phone_masked}
                return redirect("people:signup_confirm")
        else:
            status = 400
    return render(request, "people/signup.html", {"form": form}, status=status)


@sensitive_post_parameters("code", "password1", "password2")
@csrf_protect
@never_cache
def signup_confirm(request: HttpRequest) -> HttpResponse:
    """Step 2: the code, a username and a password → logged in (unverified) in the online hall."""
    if request.user.is_authenticated:
        return redirect("services:online")
    pending = request.session.get(SIGNUP_TICKET)
    if not isinstance(pending, dict) or not pending.get("ticket"):
        return redirect("people:signup")
    form = SignupConfirmForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                user = actions.do_complete_signup(pending["ticket"], data["code"], data["username"], data["password1"])
            except ActionError as exc:
                _put_error(form, exc)
            else:
                request.session.pop(SIGNUP_TICKET, None)
                login(request, user, backend=settings.AUTHENTICATION_BACKENDS[0])
                if identity_unverified(user):
                    messages.success(request, _("注册成功，欢迎使用网上办事大厅。您的账户尚未实名核验，目前只能申请标注“未核验可申请”的事项；携带身份证件到任一综合窗口核验后，即可申请全部事项。"))
                else:
                    messages.success(request, _("注册成功，您的实名信息已核验，欢迎使用网上办事大厅。"))
                return redirect("services:online")
    context = {"form": form, "phone": pending.get("phone", ""), "minutes": settings.SIGNUP_CODE_MINUTES}
    return render(request, "people/signup_confirm.html", context, status=status)


class VerifyFindForm(forms.Form):
    number = forms.CharField(
        label=_("身份证件号码"), max_length=30, help_text=_("请核对申请人出示的证件原件后输入"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def verify_account(request: HttpRequest) -> HttpResponse:
    """实名核验 at the window: the clerk finds the resident by the number on the card they hold
    (a counted, audited lookup) and confirms the account behind it."""
    if not may_verify_identity(request.user):
        raise PermissionDenied(_("只有综合窗口受理员可以核验账户"))
    form = VerifyFindForm(request.POST if request.POST.get("step") == "find" else None)
    found: Person | None = None
    status = 200
    if request.method == "POST" and request.POST.get("step") == "verify":
        person = Person.objects.select_related("user").filter(pk=request.session.get(VERIFY_PERSON) or 0).first()
        if person is None or person.user is None:
            messages.error(request, _("请先按证件号码查找账户"))
            return redirect("people:verify_account")
        try:
            actions.do_verify_account_at_window(person, actor=request.user)
        except ActionError as exc:
            messages.error(request, exc.message)
        else:
            request.session.pop(VERIFY_PERSON, None)
            messages.success(request, _("已核验 %(name)s（%(number)s）的账户实名信息。") % {
                "name": person.name, "number": person.number_masked})
        return redirect("people:verify_account")
    if request.method == "POST" and form.is_valid():
        try:
            found = queries.find_person_by_number(request.user, form.cleaned_data["number"])
        except ActionError as exc:
            _put_error(form, exc)
            status = exc.status if exc.status == 429 else 400
        else:
            if found is None or found.user_id is None:
                form.add_error("number", _("该证件号码没有网上账户：请为申请人在窗口办理，或请其先在网上注册"))
                found, status = None, 404
            else:
                request.session[VERIFY_PERSON] = found.pk
                form = VerifyFindForm()  # the full number is not echoed back onto the screen
    return render(request, "people/verify_account.html", {"form": form, "found": found}, status=status)
