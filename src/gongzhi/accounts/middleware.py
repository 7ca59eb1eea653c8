"""Idle session timeout: a session unused for too long is logged out at its next request.

Staff get ``SESSION_IDLE_SECONDS_STAFF`` (30 min by default) because their sessions reach other
people's personal data and case files across a jurisdiction, often on shared counter and office
machines; a resident or enterprise agent sees only their own records and gets
``SESSION_IDLE_SECONDS_PUBLIC`` (2 h), long enough to fill in an application with breaks.
``SESSION_COOKIE_AGE`` (8 h) still bounds every session absolutely.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

LAST_SEEN = "gongzhi_last_seen"
IDLE_LIMIT = "gongzhi_idle_limit"
# Refresh the stamp at most this often, so a burst of requests does not write the session each time.
TOUCH_EVERY_SECONDS = 60


def idle_limit_for(user: Any) -> int:
    from gongzhi.accounts.enums import PUBLIC_ROLES
    from gongzhi.accounts.scope import active_assignments

    staff = user.is_staff or user.is_superuser or any(ra.role not in PUBLIC_ROLES for ra in active_assignments(user))
    return int(settings.SESSION_IDLE_SECONDS_STAFF if staff else settings.SESSION_IDLE_SECONDS_PUBLIC)


def start_idle_clock(request: HttpRequest, user: Any) -> None:
    """At login: which limit applies (read once, not every request) and the first stamp."""
    session = getattr(request, "session", None)
    if session is None:
        return
    session[IDLE_LIMIT] = idle_limit_for(user)
    session[LAST_SEEN] = int(time.time())


class IdleSessionMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            now = int(time.time())
            limit = request.session.get(IDLE_LIMIT)
            if limit is None:
                limit = idle_limit_for(user)
                request.session[IDLE_LIMIT] = limit
            last = request.session.get(LAST_SEEN)
            if isinstance(last, int) and now - last > int(limit):
                from gongzhi.accounts.actions import do_record_idle_logout

                do_record_idle_logout(user, idle_seconds=now - last)
                logout(request)  # flushes the session: the old key is useless everywhere
                messages.info(request, _("由于长时间未操作，您已自动退出登录，请重新登录。"))
            elif not isinstance(last, int) or now - last >= TOUCH_EVERY_SECONDS:
                request.session[LAST_SEEN] = now
        return self.get_response(request)
