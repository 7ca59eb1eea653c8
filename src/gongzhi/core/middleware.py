from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.defaults import bad_request

from gongzhi.core.errors import ActionError, error_body

# No inline scripts or styles anywhere, so the policy can forbid them: every asset is local.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "font-src 'self'; connect-src {connect}; frame-ancestors 'none'; base-uri 'self'; "
    "form-action 'self'; object-src 'none'"
)


def connect_sources(request: HttpRequest) -> str:
    """``'self'`` plus websockets to our own host only: on the socket port under ``gongzhi run``
    (HTTP port + 1, ``GONGZHI_WS_PORT``), else on the page's own host and port.

    ``ws:``/``wss:`` alone would let an injected script open a socket to any host on the internet.
    """
    try:
        host = request.get_host()  # validated against ALLOWED_HOSTS: safe to put in a header
    except DisallowedHost:
        return "'self'"
    scheme = "wss" if request.is_secure() else "ws"
    port = str(settings.GONGZHI_WS_PORT or "")
    if port:
        name = host if host.endswith("]") else host.rsplit(":", 1)[0]
        host = f"{name}:{port}"
    return f"'self' {scheme}://{host}"


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CSP.format(connect=connect_sources(request)))
        response.headers.setdefault("Permissions-Policy", "camera=(self), microphone=(), geolocation=(self)")
        if request.path.startswith(("/accounts/", "/admin/")) or (getattr(request, "user", None) and request.user.is_authenticated):
            # Pages behind a login may show personal data: never cache them in shared caches.
            response.headers.setdefault("Cache-Control", "no-store, private")
        return response


class DisplayPreferencesMiddleware:
    """Large-text mode (适老化) from a cookie, available as ``request.large_text``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.large_text = request.COOKIES.get("gongzhi_large_text") == "1"  # type: ignore[attr-defined]
        return self.get_response(request)


class RejectNulCharactersMiddleware:
    """A NUL character in the path or the query string answers 400 (pages) / 422 (the API).

    No input of ours may contain one, and PostgreSQL refuses it outright — a NUL reaching a query
    (an admin list filter, a lookup by code) was a server error there, never on SQLite. Form and
    JSON bodies are left to the forms and schemas, which reject NUL per field.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        field = None
        if "\x00" in request.path:
            field = ""
        else:
            for name, values in request.GET.lists():
                if "\x00" in name or any("\x00" in v for v in values):
                    field = name.replace("\x00", "")
                    break
        if field is None:
            return self.get_response(request)
        message = _("不能包含空字符（NUL）")
        if request.path.startswith("/api/"):
            exc = ActionError(message, field=field, code="nul_character")
            return JsonResponse(error_body(exc, where="path" if field == "" else "query"), status=422)
        return bad_request(request, ActionError(message))
