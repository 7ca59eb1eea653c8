"""Login (password, then a TOTP code for staff with broad scope), logout, two-factor enrolment
and the per-role landing page (``accounts:home``)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import qrcode
import qrcode.image.svg
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.contrib.auth.views import LoginView, LogoutView, PasswordChangeView
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse_lazy
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters

from gongzhi.accounts import actions
from gongzhi.accounts.domain import totp
from gongzhi.accounts.domain.addresses import client_address
from gongzhi.accounts.enums import Role
from gongzhi.accounts.models import User
from gongzhi.accounts.queries import landing_for, requires_second_factor, totp_device_for
from gongzhi.core.templatetags.gongzhi_tags import NavLink, cn_time, resolve_links

# Links every landing page of a role shows even before the owning app registers them; each is
# kept only if its URL exists, so an app that is not installed yet never breaks the page.
FALLBACK_LANDING_LINKS: dict[str, list[tuple[str, Any]]] = {
    Role.RESIDENT.value: [("people:wallet", _("我的证照"))],
    Role.ENTERPRISE_AGENT.value: [("people:wallet", _("我的证照"))],
}


class LoginForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("用户名或密码不正确。请注意区分大小写；连续输错 5 次账户将被锁定 15 分钟。"),
        "inactive": _("该账户已停用，请联系管理员。"),
    }

    def __init__(self, request: HttpRequest | None = None, *args: Any, **kwargs: Any) -> None:
        super().__init__(request, *args, **kwargs)
        self.fields["username"].label = _("用户名")
        self.fields["password"].label = _("密码")

    def get_invalid_login_error(self) -> ValidationError:
        # The backend refuses a throttled (username, address) without checking the password and
        # leaves the end of the throttle on the request; say so instead of "wrong password",
        # which would send the user on retrying a password that may well be right.
        until = getattr(self.request, "login_throttled_until", None)
        if until is not None:
            return ValidationError(
                _("账户已锁定，请于 %(time)s 后再试"), code="locked", params={"time": cn_time(until)}
            )
        return super().get_invalid_login_error()


# The password step leaves this in the (not yet logged-in) session; the code step reads it.
PENDING = "gongzhi_pending_login"
PENDING_SECONDS = 300  # five minutes to open the authenticator app and type the code
SETUP = "gongzhi_totp_setup"
ISSUER = "共治 Gongzhi"


class GongzhiLoginView(LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form: Any) -> HttpResponse:
        user = form.get_user()
        if not requires_second_factor(user):
            return super().form_valid(form)
        # The password was right; the login is not complete until the code is.
        self.request.session[PENDING] = {
            "uid": user.pk,
            "backend": user.backend,
            "at": int(time.time()),
            "tries": 0,
            "next": self.get_success_url(),
        }
        return redirect("accounts:login_verify")


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("验证码"),
        max_length=10,
        help_text=_("验证器应用（如微信小程序“腾讯身份验证器”、Google Authenticator）显示的 6 位数字"),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )


class EnrolForm(CodeForm):
    password = forms.CharField(label=_("当前密码"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))

    field_order = ["password", "code"]


def _qr_svg(uri: str) -> str:
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    # Our own SVG (paths only; the URI is not embedded as text), safe to inline.
    return mark_safe(image.to_string(encoding="unicode"))  # noqa: S308


def _enrolment_context(user: Any, secret: str) -> dict[str, Any]:
    uri = totp.provisioning_uri(secret, user.get_username(), ISSUER)
    # Grouped in fours so that it can be typed into an app by hand.
    return {"qr_svg": _qr_svg(uri), "secret": secret, "secret_grouped": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))}


def _restart_login(request: HttpRequest, message: Any) -> HttpResponseRedirect:
    request.session.pop(PENDING, None)
    messages.error(request, message)
    return redirect("accounts:login")


@sensitive_post_parameters("code")
@csrf_protect
@never_cache
def login_verify(request: HttpRequest) -> HttpResponse:
    """Second login step: the TOTP code, or (first time) enrolment of the authenticator."""
    pending = request.session.get(PENDING)
    if not isinstance(pending, dict) or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        return _restart_login(request, _("登录已超时，请重新输入用户名和密码。"))
    user = User.objects.filter(pk=int(pending.get("uid") or 0), is_active=True).first()
    if user is None:
        return _restart_login(request, _("请重新登录。"))
    enrol = totp_device_for(user) is None
    if enrol and "secret" not in pending:
        pending["secret"] = totp.new_secret()
        request.session[PENDING] = pending
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        code = form.cleaned_data["code"]
        if enrol:
            try:
                actions.do_enrol_totp(user, pending["secret"], code, actor=user)
                passed = True
            except actions.WrongCode:
                actions.do_record_failed_login(user, client_address(request), reason="second_factor")
                passed = False
        else:
            passed = actions.do_verify_second_factor(user, code, client_address(request))
        if passed:
            request.session.pop(PENDING, None)
            login(request, user, backend=pending["backend"])
            return HttpResponseRedirect(pending.get("next") or resolve_url(settings.LOGIN_REDIRECT_URL))
        pending["tries"] = int(pending.get("tries", 0)) + 1
        request.session[PENDING] = pending
        if pending["tries"] >= settings.LOCKOUT_THRESHOLD:
            return _restart_login(request, _("验证码错误次数过多，请重新登录。"))
        form.add_error("code", _("验证码不正确，请输入验证器当前显示的 6 位数字"))
    context: dict[str, Any] = {"form": form, "enrol": enrol, "pending_user": user}
    if enrol:
        context.update(_enrolment_context(user, pending["secret"]))
    return render(request, "accounts/login_verify.html", context)


@sensitive_post_parameters("password", "code")
@login_required
def two_factor(request: HttpRequest) -> HttpResponse:
    """Bind (or replace) the authenticator of the logged-in user; the password is asked again so
    that a borrowed, unlocked session cannot move the second factor to another phone."""
    user: Any = request.user
    secret = request.session.get(SETUP)
    if not isinstance(secret, str) or not totp.is_valid_secret(secret):
        secret = totp.new_secret()
        request.session[SETUP] = secret
    form = EnrolForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if not user.check_password(form.cleaned_data["password"]):
            actions.do_record_failed_login(user, client_address(request), reason="reauthenticate")
            form.add_error("password", _("密码不正确"))
        else:
            try:
                actions.do_enrol_totp(user, secret, form.cleaned_data["code"], actor=user)
            except actions.ActionError as exc:
                form.add_error("code" if exc.field == "code" else None, exc.message)
            else:
                request.session.pop(SETUP, None)
                messages.success(request, _("两步验证已启用。"))
                return redirect("accounts:home")
    context = {
        "form": form,
        "enrolled": totp_device_for(user) is not None,
        "required": requires_second_factor(user),
        **_enrolment_context(user, secret),
    }
    return render(request, "accounts/two_factor.html", context)


class GongzhiLogoutView(LogoutView):
    """POST only (Django ≥ 5.0): a GET link could log people out from a forged image tag."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = super().post(request, *args, **kwargs)
        messages.info(request, _("您已安全退出登录。"))
        return response


@dataclass
class RoleCard:
    role: str
    label: str
    place: str
    department: str
    links: list[NavLink] = field(default_factory=list)


def role_cards(user: Any) -> list[RoleCard]:
    """One card per active role, widest responsibility first (``accounts.queries.landing_for``)."""
    cards: list[RoleCard] = []
    for entry in landing_for(user):
        pairs = list(entry.links) + FALLBACK_LANDING_LINKS.get(entry.role, [])
        cards.append(
            RoleCard(
                role=entry.role,
                # Re-read the label so it follows the active language, not the one at query time.
                label=str(Role(entry.role).label) if entry.role in Role.values else entry.label,
                place=str(entry.place) if entry.place is not None else "",
                department=str(entry.department) if entry.department is not None else "",
                links=resolve_links(pairs),
            )
        )
    return cards


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/home.html", {"cards": role_cards(request.user)})


# --- Password change and reset ---------------------------------------------------------------


class GongzhiPasswordChangeForm(PasswordChangeForm):
    def save(self, commit: bool = True) -> Any:
        # Through the action: validated and audited like every other password write.
        actions.do_set_password(self.user, self.cleaned_data["new_password1"], actor=self.user, validate=False)
        return self.user


class GongzhiPasswordChangeView(PasswordChangeView):
    """Every logged-in user may change their password; this session stays logged in, every other
    session of the user ends (Django checks the password hash in each session)."""

    template_name = "accounts/password_change.html"
    form_class = GongzhiPasswordChangeForm
    success_url = reverse_lazy("accounts:home")

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        messages.success(self.request, _("密码已修改。"))
        return response


RESET_USERNAME = "gongzhi_reset_username"


class ResetRequestForm(forms.Form):
    username = forms.CharField(label=_("用户名"), max_length=150)


class ResetConfirmForm(forms.Form):
    code = forms.CharField(
        label=_("验证码"),
        max_length=10,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )
    # Strength is checked by the action, against the account the code belongs to.
    new_password1 = forms.CharField(
        label=_("新密码"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    new_password2 = forms.CharField(
        label=_("再次输入新密码"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def clean_new_password2(self) -> str:
        one, two = self.cleaned_data.get("new_password1"), self.cleaned_data.get("new_password2")
        if one and two and one != two:
            raise ValidationError(_("两次输入的密码不一致"), code="password_mismatch")
        return str(two or "")


@sensitive_post_parameters()
@csrf_protect
@never_cache
def password_reset(request: HttpRequest) -> HttpResponse:
    """Step 1: the username. The next page reads the same whether or not it exists."""
    form = ResetRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        username = form.cleaned_data["username"]
        actions.do_request_password_reset(username, client_address(request))
        request.session[RESET_USERNAME] = username
        return redirect("accounts:password_reset_confirm")
    return render(request, "accounts/password_reset.html", {"form": form})


@sensitive_post_parameters("code", "new_password1", "new_password2")
@csrf_protect
@never_cache
def password_reset_confirm(request: HttpRequest) -> HttpResponse:
    """Step 2: the code from the message and the new password."""
    username = request.session.get(RESET_USERNAME)
    if not isinstance(username, str):
        return redirect("accounts:password_reset")
    form = ResetConfirmForm(data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.do_reset_password_with_code(
                username, form.cleaned_data["code"], form.cleaned_data["new_password1"], client_address(request)
            )
        except actions.ActionError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            request.session.pop(RESET_USERNAME, None)
            messages.success(request, _("密码已重置，请用新密码登录。"))
            return redirect("accounts:login")
    return render(request, "accounts/password_reset_confirm.html", {"form": form})
