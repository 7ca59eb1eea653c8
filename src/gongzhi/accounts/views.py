"""Login, logout and the per-role landing page (``accounts:home``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView, LogoutView
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from gongzhi.accounts.enums import Role
from gongzhi.accounts.queries import landing_for
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


class GongzhiLoginView(LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


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
