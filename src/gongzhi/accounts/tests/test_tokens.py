"""API tokens: revocation takes effect at once in every process; bad token input answers 422."""

from __future__ import annotations

import pytest
from django.test import Client, RequestFactory
from django.utils import timezone

from gongzhi.accounts.actions import do_assign_role, do_deactivate_user, do_issue_api_token, do_revoke_role
from gongzhi.accounts.auth import TokenAuth
from gongzhi.accounts.enums import Role
from gongzhi.accounts.models import ApiToken, RoleAssignment, User
from gongzhi.accounts.scope import active_assignments
from gongzhi.core.tests.actors import SYSTEM as TEST_SYSTEM

pytestmark = pytest.mark.django_db


@pytest.fixture
def issued(place_tree, make_user):
    clerk = make_user(Role.WINDOW_CLERK, place_tree.pingshan, username="system-y")
    token, secret = do_issue_api_token(clerk, "叫号系统", actor=TEST_SYSTEM)
    return clerk, token, secret


def _me(secret: str) -> int:
    return Client().get("/api/v1/accounts/me", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code


def test_revocation_by_another_process_applies_at_once(issued):
    _clerk, token, secret = issued
    assert _me(secret) == 200  # this process has now seen the token
    # Another web process revokes it: this process runs no code of that revocation, it only
    # shares the database.
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
    assert _me(secret) == 401


def test_role_change_by_another_process_applies_at_once(issued, place_tree):
    clerk, _token, secret = issued
    first = Client().get("/api/v1/accounts/me", HTTP_AUTHORIZATION=f"Bearer {secret}").json()
    assert [r["role"] for r in first["roles"]] == ["window_clerk"]
    # Another process ends the role and grants another one; this process keeps the roles of
    # token users, but the change reaches it through the user's roles_version.
    do_revoke_role(RoleAssignment.objects.get(user=clerk), actor=TEST_SYSTEM)
    do_assign_role(User.objects.get(pk=clerk.pk), Role.COMMUNITY_WORKER, place_tree.longlian, actor=TEST_SYSTEM)
    again = Client().get("/api/v1/accounts/me", HTTP_AUTHORIZATION=f"Bearer {secret}").json()
    assert [(r["role"], r["place_name"]) for r in again["roles"]] == [("community_worker", "龙联社区")]


def test_token_user_roles_cost_no_query_while_unchanged(issued, django_assert_num_queries):
    _clerk, _token, secret = issued
    auth = TokenAuth()
    active_assignments(auth.authenticate(RequestFactory().get("/"), secret))
    # The token (with its user) is read every time; the unchanged roles are not.
    with django_assert_num_queries(1):
        user = auth.authenticate(RequestFactory().get("/"), secret)
        assert [ra.role for ra in active_assignments(user)] == ["window_clerk"]


def test_deactivation_revokes_tokens(issued):
    clerk, token, secret = issued
    assert _me(secret) == 200
    do_deactivate_user(clerk, actor=TEST_SYSTEM)
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert _me(secret) == 401


@pytest.fixture
def admin_client(place_tree, make_user):
    admin = make_user(Role.ADMINISTRATOR, place_tree.taoyuan)
    clerk = make_user(Role.WINDOW_CLERK, place_tree.pingshan)
    client = Client()
    client.force_login(admin)
    return client, clerk


def test_expiry_without_time_zone_is_422_not_500(admin_client):
    client, clerk = admin_client
    response = client.post(
        "/api/v1/accounts/tokens",
        {"user_id": clerk.pk, "name": "对接系统", "expires_at": "2030-01-01T00:00:00"},
        content_type="application/json",
    )
    assert response.status_code == 422
    item = response.json()["detail"][0]
    assert item["field"] == "expires_at" and item["loc"] == ["body", "expires_at"]
    assert "时区" in item["message"] and item["code"] == "validity"
    assert ApiToken.objects.count() == 0


def test_expiry_with_time_zone_is_accepted(admin_client):
    client, clerk = admin_client
    response = client.post(
        "/api/v1/accounts/tokens",
        {"user_id": clerk.pk, "name": "对接系统", "expires_at": "2030-01-01T00:00:00+08:00"},
        content_type="application/json",
    )
    assert response.status_code == 201


@pytest.mark.parametrize("name", ["对接\x00系统", "\x00", "a\x07b"])
def test_control_characters_in_name_refused(admin_client, name):
    client, clerk = admin_client
    response = client.post(
        "/api/v1/accounts/tokens", {"user_id": clerk.pk, "name": name}, content_type="application/json"
    )
    assert response.status_code == 422
    body = response.json()
    assert body["detail"][0]["field"] == "name" and body["detail"][0]["code"] == "invalid"
    assert ApiToken.objects.count() == 0


def test_errors_have_the_one_shape(admin_client):
    client, clerk = admin_client
    response = client.post("/api/v1/accounts/tokens", {"user_id": clerk.pk, "name": " "}, content_type="application/json")
    assert response.status_code == 422
    item = response.json()["detail"][0]
    assert set(item) == {"loc", "msg", "type", "field", "message", "code"}
    client.force_login(clerk)
    response = client.get("/api/v1/accounts/tokens")
    assert response.status_code == 403
    item = response.json()["detail"][0]
    assert set(item) == {"loc", "msg", "type", "field", "message", "code"} and item["code"] == "not_allowed"


@pytest.mark.parametrize("shortcuts", ["on", "off"])
def test_live_token_reads_what_the_orm_reads(issued, settings, shortcuts):
    from django.forms.models import model_to_dict

    from gongzhi.accounts.domain.tokens import hash_token
    from gongzhi.accounts.queries import live_token

    settings.GONGZHI_DB_SHORTCUTS = shortcuts == "on"
    clerk, token, secret = issued
    found = live_token(hash_token(secret))
    orm = ApiToken.objects.select_related("user").get(pk=token.pk)
    assert found is not None and model_to_dict(found) == model_to_dict(orm)
    assert model_to_dict(found.user) == model_to_dict(orm.user)
    assert live_token(hash_token(secret + "x")) is None
    do_deactivate_user(clerk, actor=TEST_SYSTEM)
    assert live_token(hash_token(secret)) is None  # an inactive user's token reads as nothing
