from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

# No inline scripts or styles anywhere, so the policy can forbid them: every asset is local.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "font-src 'self'; connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'self'; "
    "form-action 'self'; object-src 'none'"
)


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
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
