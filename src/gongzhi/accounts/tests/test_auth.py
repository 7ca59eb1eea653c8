"""Logins (lockout, audit) and API tokens (valid, revoked, expired) against real endpoints."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import authenticate
from django.test import Client, RequestFactory
from django.utils import timezone

from gongzhi.accounts.actions import do_issue_api_token, do_revoke_api_token, do_unlock_user
from gongzhi.accounts.domain.tokens import hash_token
from gongzhi.accounts.enums import Role
from gongzhi.accounts.models import ApiToken, LoginFailure, User
from gongzhi.accounts.policy import login_throttled_until
from gongzhi.core.models import AuditEvent
from gongzhi.core.tests.actors import SYSTEM as TEST_SYSTEM

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"


def _login(username: str, password: str):
    request = RequestFactory().post("/accounts/login/")
    return authenticate(request, username=username, password=password), request


def test_five_failures_throttle_then_correct_password_refused_then_expires(place_tree, make_user, settings):
    settings.LOCKOUT_THRESHOLD = 5
    user = make_user(Role.WINDOW_CLERK, place_tree.pingshan, username="lockme", password=PASSWORD)
    for _i in range(4):
        authed, request = _login("lockme", "wrong")
        assert authed is None and getattr(request, "login_throttled_until", None) is None
    authed, request = _login("lockme", "wrong")
    assert authed is None
    until = login_throttled_until("lockme", "127.0.0.1")
    assert until is not None and until > timezone.now()
    assert request.login_throttled_until == until
    # While throttled, even the right password is refused (and not checked).
    assert _login("lockme", PASSWORD)[0] is None
    assert AuditEvent.objects.filter(verb="account.login_refused", object_id=str(user.pk)).count() == 1
    # Time passes: the throttle has expired.
    LoginFailure.objects.update(at=timezone.now() - timedelta(minutes=settings.LOCKOUT_MINUTES, seconds=1))
    authed, _ = _login("lockme", PASSWORD)
    assert authed == user
    assert not LoginFailure.objects.filter(username="lockme").exists()
    verbs = list(AuditEvent.objects.filter(object_id=str(user.pk), verb__startswith="account.").values_list("verb", flat=True).order_by("id"))
    assert verbs.count("account.login_failed") == 5 and verbs.count("account.throttled") == 1


def test_success_resets_counter(place_tree, make_user):
    user = make_user(Role.WINDOW_CLERK, place_tree.pingshan, username="resetme", password=PASSWORD)
    _login("resetme", "wrong")
    _login("resetme", "wrong")
    assert _login("resetme", PASSWORD)[0] == user
    assert not LoginFailure.objects.filter(username="resetme").exists()


def test_admin_unlocks(place_tree, make_user):
    user = make_user(Role.WINDOW_CLERK, place_tree.pingshan, username="unlockme", password=PASSWORD)
    for _i in range(5):
        _login("unlockme", "wrong")
    assert _login("unlockme", PASSWORD)[0] is None
    admin = make_user(Role.ADMINISTRATOR, place_tree.taoyuan)
    do_unlock_user(user, actor=admin)
    assert _login("unlockme", PASSWORD)[0] == user
    assert AuditEvent.objects.filter(verb="user.unlock", actor=admin).exists()


def test_login_through_client_is_audited_and_unknown_user_failure_too(place_tree, make_user, client):
    user = make_user(Role.WINDOW_CLERK, place_tree.pingshan, username="viaclient", password=PASSWORD)
    assert client.login(username="viaclient", password=PASSWORD)
    assert AuditEvent.objects.filter(verb="account.login", actor=user).exists()
    assert not client.login(username="nobody-here", password="x")
    event = AuditEvent.objects.get(verb="account.login_failed")
    assert event.after["username"] == "nobody-here" and event.after["known"] is False


@pytest.fixture
def issued(place_tree, make_user):
    clerk = make_user(Role.WINDOW_CLERK, place_tree.pingshan, username="system-x")
    token, secret = do_issue_api_token(clerk, "窗口叫号系统", actor=TEST_SYSTEM)
    return clerk, token, secret


def test_only_hash_and_prefix_stored(issued):
    _, token, secret = issued
    row = ApiToken.objects.get(pk=token.pk)
    assert row.key_hash == hash_token(secret) and secret not in row.key_hash
    assert secret.startswith(row.prefix) and len(row.prefix) < len(secret) // 3
    event = AuditEvent.objects.get(verb="token.issue")
    assert secret not in str(event.after)


def test_valid_token_authenticates(issued, client):
    _clerk, _, secret = issued
    response = client.get("/api/v1/accounts/me", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 200
    body = response.json()
    assert body["username"] == "system-x"
    assert [r["role"] for r in body["roles"]] == ["window_clerk"]
    assert body["roles"][0]["place_name"] == "平山社区"


def test_revoked_token_refused(issued, client):
    _, token, secret = issued
    do_revoke_api_token(token, actor=TEST_SYSTEM)
    assert client.get("/api/v1/accounts/me", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 401


def test_expired_token_refused(issued, client):
    _, token, secret = issued
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get("/api/v1/accounts/me", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 401


def test_wrong_token_and_inactive_user_refused(issued, client):
    clerk, _, secret = issued
    assert client.get("/api/v1/accounts/me", HTTP_AUTHORIZATION=f"Bearer {secret}x").status_code == 401
    User.objects.filter(pk=clerk.pk).update(is_active=False)
    assert client.get("/api/v1/accounts/me", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 401


def test_token_api_for_administrators(place_tree, make_user, client):
    admin = make_user(Role.ADMINISTRATOR, place_tree.taoyuan)
    clerk = make_user(Role.WINDOW_CLERK, place_tree.pingshan)
    outsider = make_user(Role.WINDOW_CLERK, place_tree.wenhua)
    client.force_login(admin)
    response = client.post(
        "/api/v1/accounts/tokens", {"user_id": clerk.pk, "name": "对接系统"}, content_type="application/json"
    )
    assert response.status_code == 201
    secret = response.json()["secret"]
    assert client.get("/api/v1/accounts/me", HTTP_AUTHORIZATION=f"Bearer {secret}").json()["username"] == clerk.username
    # Outside the admin's scope: 404, and no token made.
    response = client.post(
        "/api/v1/accounts/tokens", {"user_id": outsider.pk, "name": "x"}, content_type="application/json"
    )
    assert response.status_code == 404
    # Empty name: 422 with field and Chinese message.
    response = client.post("/api/v1/accounts/tokens", {"user_id": clerk.pk, "name": " "}, content_type="application/json")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "name"] and "命名" in response.json()["detail"][0]["msg"]
    token_id = response_id = client.get("/api/v1/accounts/tokens").json()[0]["id"]
    assert client.delete(f"/api/v1/accounts/tokens/{token_id}").status_code == 204
    # A fresh client: this one also carries the admin's session cookie, which would answer instead.
    assert Client().get("/api/v1/accounts/me", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 401
    assert ApiToken.objects.filter(user=outsider).count() == 0 and response_id
    # A non-administrator cannot manage tokens at all.
    client.force_login(clerk)
    assert client.get("/api/v1/accounts/tokens").status_code == 403
    assert client.post("/api/v1/accounts/tokens", {"user_id": clerk.pk, "name": "x"}, content_type="application/json").status_code == 403
