"""Model backend with login throttling by (username, address) and by address (settings.LOCKOUT_*).

Failures, throttles and refused attempts are recorded through ``accounts.actions`` so each is an
audit event. While throttled, the password is not checked at all, so a throttled guesser learns
nothing; the real user at another address is unaffected.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from gongzhi.accounts.domain.addresses import client_address, throttle_username
from gongzhi.accounts.models import User


class LockoutModelBackend(ModelBackend):
    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> User | None:
        from gongzhi.accounts.actions import (
            do_clear_login_failures,
            do_record_failed_login,
            do_record_refused_login,
        )
        from gongzhi.accounts.policy import login_throttled_until

        if username is None or password is None:
            return None
        user = User.objects.filter(username=username).first()
        until = login_throttled_until(throttle_username(username), client_address(request))
        if until is not None:
            if request is not None:
                request.login_throttled_until = until  # type: ignore[attr-defined]
            do_record_refused_login(username, user, client_address(request), until)
            return None
        authed = super().authenticate(request, username=username, password=password, **kwargs)
        if authed is None:
            until = do_record_failed_login(user, client_address(request), username=username)
            if until is not None and request is not None:
                request.login_throttled_until = until  # type: ignore[attr-defined]
            return None
        do_clear_login_failures(username, client_address(request))
        return authed
