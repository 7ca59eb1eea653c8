"""API authentication: a bearer token for other systems, or the browser session (with CSRF)."""

from __future__ import annotations

import hashlib
import time
from copy import copy as clone
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja.security import APIKeyCookie, HttpBearer

from gongzhi.accounts.models import ApiToken


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


# Systems post through the API at high rates (a city's intake peaks at dozens a second), so each
# process keeps a recently seen token with its user and role assignments for a short time instead
# of two queries per request. Revoking a token, deactivating a user or changing roles clears
# this memo at once in the process that made the change, and other processes within
# TOKEN_MEMO_SECONDS (docs/operations.md).
TOKEN_MEMO_SECONDS = 30.0
_memo: dict[str, tuple[float, ApiToken, Any, list[Any]]] = {}


def forget_tokens() -> None:
    _memo.clear()


def _from_memo(request: HttpRequest, key_hash: str) -> Any:
    hit = _memo.get(key_hash)
    if hit is None or time.monotonic() - hit[0] >= TOKEN_MEMO_SECONDS:
        return None
    _at, row, user, assignments = hit
    if row.expires_at and row.expires_at <= timezone.now():
        _memo.pop(key_hash, None)
        return None
    # A fresh copy per request: views may cache things on request.user.
    copy = clone(user)
    copy._gongzhi_assignments = list(assignments)
    request.user = copy
    request.api_token = row  # type: ignore[attr-defined]
    return copy


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        key_hash = hash_token(token)
        remembered = _from_memo(request, key_hash)
        if remembered is not None:
            return remembered
        now = timezone.now()
        row = (
            ApiToken.objects.select_related("user")
            .filter(key_hash=key_hash, revoked_at__isnull=True, user__is_active=True)
            .first()
        )
        if row is None or (row.expires_at and row.expires_at <= now):
            return None
        # Touch at most once a minute so token traffic does not turn every read into a write.
        if row.last_used_at is None or (now - row.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
        from gongzhi.accounts.scope import active_assignments

        assignments = active_assignments(row.user)
        pristine = clone(row.user)
        pristine.__dict__.pop("_gongzhi_assignments", None)
        _memo[key_hash] = (time.monotonic(), row, pristine, assignments)
        request.user = row.user
        request.api_token = row  # type: ignore[attr-defined]  # lets views tell a system from a browser
        return row.user


class SessionAuth(APIKeyCookie):
    """Django session cookie; ninja's cookie auth enforces CSRF on unsafe methods."""

    param_name = "sessionid"

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return user
        return None


def SessionOrToken() -> list[Any]:
    return [TokenAuth(), SessionAuth()]
