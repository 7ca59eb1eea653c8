"""The accounts admin writes only through the actions (issue #10): deactivation revokes tokens
and ends sessions, privilege changes are checked and audited, errors show on the form."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from gongzhi.accounts.actions import do_issue_api_token
from gongzhi.accounts.enums import Role
from gongzhi.accounts.models import ApiToken, Department, RoleAssignment, User
from gongzhi.core.models import AuditEvent
from gongzhi.core.tests.actors import SYSTEM as TEST_SYSTEM

pytestmark = pytest.mark.django_db


def _change_data(user: User, **overrides: Any) -> dict[str, Any]:
    """The POST body of the admin's user change page, as the browser would send it unchanged."""
    data: dict[str, Any] = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "display_name": user.display_name,
        "preferred_language": user.preferred_language,
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
        "roles-TOTAL_FORMS": "0",
        "roles-INITIAL_FORMS": "0",
        "roles-MIN_NUM_FORMS": "0",
        "roles-MAX_NUM_FORMS": "1000",
        "_save": "保存",
    }
    if user.is_active:
        data["is_active"] = "on"
    if user.is_staff:
        data["is_staff"] = "on"
    if user.is_superuser:
        data["is_superuser"] = "on"
    for key, value in overrides.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


@pytest.fixture
def admin_setup(place_tree, make_user):
    admin = make_user(Role.ADMINISTRATOR, place_tree.taoyuan)
    User.objects.filter(pk=admin.pk).update(is_staff=True)
    admin = User.objects.get(pk=admin.pk)
    clerk = make_user(Role.WINDOW_CLERK, place_tree.pingshan)
    client = Client()
    client.force_login(admin)
    return admin, clerk, client


def test_deactivating_in_admin_revokes_tokens_and_ends_sessions(admin_setup):
    admin, clerk, client = admin_setup
    token, secret = do_issue_api_token(clerk, "叫号系统", actor=TEST_SYSTEM)
    clerk_browser = Client()
    clerk_browser.force_login(clerk)
    assert clerk_browser.get("/accounts/").status_code == 200
    response = client.post(f"/admin/accounts/user/{clerk.pk}/change/", _change_data(clerk, is_active=None))
    assert response.status_code == 302, response.content.decode()[:2000]
    clerk.refresh_from_db()
    token.refresh_from_db()
    assert clerk.is_active is False and token.revoked_at is not None
    assert AuditEvent.objects.filter(verb="user.deactivate", object_id=str(clerk.pk), actor=admin).exists()
    assert Client().get("/api/v1/accounts/me", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 401
    # The clerk's open browser session is over.
    assert clerk_browser.get("/accounts/").status_code == 302


def test_reactivating_in_admin_is_an_action(admin_setup):
    admin, clerk, client = admin_setup
    User.objects.filter(pk=clerk.pk).update(is_active=False)
    clerk.refresh_from_db()
    response = client.post(f"/admin/accounts/user/{clerk.pk}/change/", _change_data(clerk, is_active="on"))
    assert response.status_code == 302
    assert User.objects.get(pk=clerk.pk).is_active
    assert AuditEvent.objects.filter(verb="user.reactivate", object_id=str(clerk.pk), actor=admin).exists()


def test_an_administrator_cannot_make_a_superuser(admin_setup):
    _admin, clerk, client = admin_setup
    response = client.post(f"/admin/accounts/user/{clerk.pk}/change/", _change_data(clerk, is_superuser="on"))
    # The form shows the refusal instead of saving: nothing changed.
    assert response.status_code == 200
    assert "超级用户" in response.content.decode()
    assert User.objects.get(pk=clerk.pk).is_superuser is False


def test_superuser_grants_superuser_through_the_action(place_tree, make_user, admin_setup):
    _admin, clerk, _client = admin_setup
    root = make_user(None, superuser=True)
    client = Client()
    client.force_login(root)
    response = client.post(f"/admin/accounts/user/{clerk.pk}/change/", _change_data(clerk, is_superuser="on"))
    assert response.status_code == 302
    assert User.objects.get(pk=clerk.pk).is_superuser is True
    event = AuditEvent.objects.get(verb="user.set_superuser", object_id=str(clerk.pk))
    assert event.after == {"is_superuser": True}


def test_profile_edit_is_an_action_with_before_and_after(admin_setup):
    admin, clerk, client = admin_setup
    response = client.post(f"/admin/accounts/user/{clerk.pk}/change/", _change_data(clerk, display_name="新名字"))
    assert response.status_code == 302
    assert User.objects.get(pk=clerk.pk).display_name == "新名字"
    event = AuditEvent.objects.get(verb="user.update", object_id=str(clerk.pk))
    assert event.after == {"display_name": "新名字"} and event.actor == admin


def test_bad_role_in_inline_is_shown_and_nothing_is_saved(admin_setup, place_tree):
    _admin, clerk, client = admin_setup
    data = _change_data(
        clerk,
        display_name="改了名字",
        **{
            "roles-TOTAL_FORMS": "1",
            "roles-0-role": Role.SUBDISTRICT_SUPERVISOR.value,
            "roles-0-place": str(place_tree.pingshan.pk),  # a community, not a subdistrict
            "roles-0-user": str(clerk.pk),
        },
    )
    response = client.post(f"/admin/accounts/user/{clerk.pk}/change/", data)
    assert response.status_code == 200
    assert "只能授予在" in response.content.decode()
    assert User.objects.get(pk=clerk.pk).display_name != "改了名字"
    assert not RoleAssignment.objects.filter(user=clerk, role=Role.SUBDISTRICT_SUPERVISOR).exists()


def test_role_outside_the_admins_scope_is_refused_on_the_form(admin_setup, place_tree):
    _admin, clerk, client = admin_setup
    data = _change_data(
        clerk,
        **{
            "roles-TOTAL_FORMS": "1",
            "roles-0-role": Role.COMMUNITY_WORKER.value,
            "roles-0-place": str(place_tree.wenhua.pk),
            "roles-0-user": str(clerk.pk),
        },
    )
    response = client.post(f"/admin/accounts/user/{clerk.pk}/change/", data)
    assert response.status_code == 200
    assert "不在您的管辖范围内" in response.content.decode()
    assert not RoleAssignment.objects.filter(user=clerk, place=place_tree.wenhua).exists()


def test_department_edit_goes_through_the_action(admin_setup, place_tree):
    admin, _clerk, client = admin_setup
    from gongzhi.accounts.actions import do_create_department

    dept = do_create_department("TY-MZ", "民政科", place_tree.taoyuan, actor=TEST_SYSTEM)
    response = client.post(
        f"/admin/accounts/department/{dept.pk}/change/",
        {"code": "TY-MZ", "name": "民政和社会事务科", "name_en": "", "place": str(place_tree.taoyuan.pk), "_save": "1"},
    )
    assert response.status_code == 302
    assert Department.objects.get(pk=dept.pk).name == "民政和社会事务科"
    event = AuditEvent.objects.get(verb="department.update", object_id=str(dept.pk))
    # The 繁體 name was an OpenCC draft of the old name: it follows the rename, in the same event.
    assert event.before == {"name": "民政科", "name_zh_hant": "民政科"} and event.actor == admin
    assert event.after == {"name": "民政和社会事务科", "name_zh_hant": "民政和社會事務科"}


def test_department_moved_outside_scope_is_refused_on_the_form(admin_setup, place_tree):
    _admin, _clerk, client = admin_setup
    from gongzhi.accounts.actions import do_create_department

    dept = do_create_department("TY-RS", "人社科", place_tree.taoyuan, actor=TEST_SYSTEM)
    response = client.post(
        f"/admin/accounts/department/{dept.pk}/change/",
        {"code": "TY-RS", "name": "人社科", "name_en": "", "place": str(place_tree.wenhua.pk), "_save": "1"},
    )
    assert response.status_code == 200
    assert "不在您的管辖范围内" in response.content.decode()
    assert Department.objects.get(pk=dept.pk).place_id == place_tree.taoyuan.pk


def test_revoking_a_token_in_admin(admin_setup):
    admin, clerk, client = admin_setup
    token, _secret = do_issue_api_token(clerk, "叫号系统", actor=TEST_SYSTEM)
    response = client.post(
        "/admin/accounts/apitoken/", {"action": "revoke", "_selected_action": [str(token.pk)], "index": "0"}
    )
    assert response.status_code == 302
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
    assert AuditEvent.objects.filter(verb="token.revoke", actor=admin).exists()


def test_valid_role_in_inline_is_assigned_through_the_action(admin_setup, place_tree):
    admin, clerk, client = admin_setup
    data = _change_data(
        clerk,
        **{
            "roles-TOTAL_FORMS": "1",
            "roles-0-role": Role.COMMUNITY_WORKER.value,
            "roles-0-place": str(place_tree.longlian.pk),
            "roles-0-user": str(clerk.pk),
        },
    )
    response = client.post(f"/admin/accounts/user/{clerk.pk}/change/", data)
    assert response.status_code == 302
    assert RoleAssignment.objects.filter(user=clerk, role=Role.COMMUNITY_WORKER, place=place_tree.longlian).exists()
    assert AuditEvent.objects.filter(verb="role.assign", actor=admin).exists()


def test_admin_password_page_goes_through_the_action(admin_setup):
    admin, clerk, client = admin_setup
    response = client.post(
        f"/admin/accounts/user/{clerk.pk}/password/",
        {"password1": "a-new-long-passphrase", "password2": "a-new-long-passphrase", "usable_password": "true"},
    )
    assert response.status_code == 302
    assert User.objects.get(pk=clerk.pk).check_password("a-new-long-passphrase")
    assert AuditEvent.objects.filter(verb="user.set_password", object_id=str(clerk.pk), actor=admin).exists()


def test_phone_on_record_is_set_through_the_action(admin_setup):
    _admin, clerk, client = admin_setup
    response = client.post(f"/admin/accounts/user/{clerk.pk}/change/", _change_data(clerk, new_phone="12"))
    assert response.status_code == 200 and "11 位手机号码" in response.content.decode()
    response = client.post(f"/admin/accounts/user/{clerk.pk}/change/", _change_data(clerk, new_phone="13900001111"))
    assert response.status_code == 302
    stored = User.objects.get(pk=clerk.pk)
    assert stored.phone_masked == "139****1111" and "13900001111" not in stored.phone_cipher
    assert AuditEvent.objects.get(verb="user.set_phone").after == {"phone": "139****1111"}


def test_adding_a_user_with_a_role_goes_through_the_actions(admin_setup, place_tree):
    admin, _clerk, client = admin_setup
    response = client.post(
        "/admin/accounts/user/add/",
        {
            "username": "new-clerk",
            "usable_password": "true",
            "password1": "a-long-enough-passphrase",
            "password2": "a-long-enough-passphrase",
            "roles-TOTAL_FORMS": "1",
            "roles-INITIAL_FORMS": "0",
            "roles-MIN_NUM_FORMS": "0",
            "roles-MAX_NUM_FORMS": "1000",
            "roles-0-role": Role.WINDOW_CLERK.value,
            "roles-0-place": str(place_tree.pingshan.pk),
            "_save": "1",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    user = User.objects.get(username="new-clerk")
    assert user.check_password("a-long-enough-passphrase")
    assert RoleAssignment.objects.filter(user=user, role=Role.WINDOW_CLERK).exists()
    assert AuditEvent.objects.filter(verb="user.create", actor=admin).exists()
    assert AuditEvent.objects.filter(verb="role.assign", actor=admin).exists()


def test_admin_pages_render(admin_setup):
    _admin, clerk, client = admin_setup
    for url in (
        "/admin/accounts/user/",
        f"/admin/accounts/user/{clerk.pk}/change/",
        "/admin/accounts/user/add/",
        f"/admin/accounts/user/{clerk.pk}/password/",
        "/admin/accounts/department/",
        "/admin/accounts/apitoken/",
    ):
        assert client.get(url).status_code == 200, url
