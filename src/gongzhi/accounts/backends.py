"""Model backend with account lockout after repeated failures (settings.LOCKOUT_*).

The counter and the lock are changed through ``accounts.actions`` so that every failure, lock
and refused attempt is an audit event.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest
from django.utils import timezone

from gongzhi.accounts.models import User


class AccountLocked(Exception):
    def __init__(self, until: Any) -> None:
        super().__init__(str(until))
        self.until = until


class LockoutModelBackend(ModelBackend):
    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> User | None:
        from gongzhi.accounts.actions import do_record_failed_login, do_record_refused_login

        if username is None or password is None:
            return None
        user = User.objects.filter(username=username).first()
        now = timezone.now()
        if user is not None and user.locked_until and user.locked_until > now:
            # Refuse without checking the password, so a locked account cannot be brute-forced.
            if request is not None:
                request.account_locked_until = user.locked_until  # type: ignore[attr-defined]
            do_record_refused_login(user, request)
            return None
        authed = super().authenticate(request, username=username, password=password, **kwargs)
        if authed is None:
            if user is not None:
                until = do_record_failed_login(user, request)
                if until is not None and request is not None:
                    request.account_locked_until = until  # type: ignore[attr-defined]
            return None
        if authed.failed_logins or authed.locked_until:
            User.objects.filter(pk=authed.pk).update(failed_logins=0, locked_until=None)
            authed.failed_logins, authed.locked_until = 0, None
        return authed
