from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse

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
