"""Second factor (TOTP) for staff with broad scope: administrators, superusers, subdistrict and
district supervisors (issue #10)."""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
import pytest
from django.test import Client
from django.utils import timezone

from gongzhi.accounts import actions
from gongzhi.accounts.enums import Role
from gongzhi.accounts.models import LoginFailure, TotpDevice
from gongzhi.accounts.queries import requires_second_factor
from gongzhi.core.models import AuditEvent
from gongzhi.core.tests.actors import SYSTEM as TEST_SYSTEM

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def _code(secret: str = SECRET, *, offset: int = 0) -> str:
    totp = pyotp.TOTP(secret)
    return totp.at(timezone.now() + timedelta(seconds=offset))


@pytest.fixture
def supervisor(place_tree, make_user):
    user = make_user(Role.DISTRICT_SUPERVISOR, place_tree.nanshan, username="sup", password=PASSWORD)
    actions.do_enrol_totp(user, SECRET, _code(), actor=TEST_SYSTEM)
    # Enrolment used this step's code; the tests' logins use the next step's.
    TotpDevice.objects.filter(user=user).update(last_step=None)
    return user


def test_who_needs_a_second_factor(place_tree, make_user):
    assert requires_second_factor(make_user(Role.ADMINISTRATOR, place_tree.pingshan))
    assert requires_second_factor(make_user(Role.DISTRICT_SUPERVISOR, place_tree.nanshan))
    assert requires_second_factor(make_user(Role.SUBDISTRICT_SUPERVISOR, place_tree.taoyuan))
    assert requires_second_factor(make_user(None, superuser=True))
    assert not requires_second_factor(make_user(Role.WINDOW_CLERK, place_tree.pingshan))
    assert not requires_second_factor(make_user(Role.COMMUNITY_SUPERVISOR, place_tree.pingshan))
    assert not requires_second_factor(make_user(Role.RESIDENT, place_tree.pingshan))


def test_password_alone_does_not_log_a_supervisor_in(supervisor):
    client = Client()
    response = client.post("/accounts/login/", {"username": "sup", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/verify/")
    # Not logged in yet: the landing page sends them back to log in.
    assert client.get("/accounts/").status_code == 302
    assert "_auth_user_id" not in client.session


def test_right_code_completes_the_login(supervisor):
    client = Client()
    client.post("/accounts/login/", {"username": "sup", "password": PASSWORD, "next": "/accounts/"})
    response = client.post("/accounts/login/verify/", {"code": _code()})
    assert response.status_code == 302 and response["Location"] == "/accounts/"
    assert client.get("/accounts/").status_code == 200
    assert AuditEvent.objects.filter(verb="account.login", actor=supervisor).exists()
    # The same code cannot be used again (replay), even within its 30 seconds.
    other = Client()
    other.post("/accounts/login/", {"username": "sup", "password": PASSWORD})
    html = other.post("/accounts/login/verify/", {"code": _code()}).content.decode()
    assert "验证码不正确" in html
    assert "_auth_user_id" not in other.session


def test_wrong_codes_count_as_failures_and_end_the_attempt(supervisor, settings):
    settings.LOCKOUT_THRESHOLD = 5
    client = Client()
    client.post("/accounts/login/", {"username": "sup", "password": PASSWORD})
    for _ in range(4):
        html = client.post("/accounts/login/verify/", {"code": "000000"}).content.decode()
        assert "验证码不正确" in html
    response = client.post("/accounts/login/verify/", {"code": "000000"})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert LoginFailure.objects.filter(username="sup").count() == 5
    # The password step from this address is now throttled as well.
    html = client.post("/accounts/login/", {"username": "sup", "password": PASSWORD}).content.decode()
    assert "后再试" in html


def test_verify_step_without_a_password_step_goes_back_to_login(supervisor):
    response = Client().post("/accounts/login/verify/", {"code": _code()})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_pending_login_expires(supervisor):
    client = Client()
    client.post("/accounts/login/", {"username": "sup", "password": PASSWORD})
    session = client.session
    pending = session["gongzhi_pending_login"]
    pending["at"] -= 600
    session["gongzhi_pending_login"] = pending
    session.save()
    response = client.post("/accounts/login/verify/", {"code": _code()})
    assert response.status_code == 302 and "_auth_user_id" not in client.session


def test_first_login_enrols_with_a_qr_code(place_tree, make_user):
    make_user(Role.ADMINISTRATOR, place_tree.taoyuan, username="newadmin", password=PASSWORD)
    client = Client()
    client.post("/accounts/login/", {"username": "newadmin", "password": PASSWORD})
    html = client.get("/accounts/login/verify/").content.decode()
    assert "<svg" in html and "otpauth" not in html.split("<svg")[0][-20:]
    secret = re.search(r'data-totp-secret="([A-Z2-7]+)"', html).group(1)
    assert client.post("/accounts/login/verify/", {"code": "123456"}).status_code == 200
    response = client.post("/accounts/login/verify/", {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 302
    assert client.get("/accounts/").status_code == 200
    device = TotpDevice.objects.get(user__username="newadmin")
    assert device.confirmed_at is not None and SECRET not in device.secret and secret not in device.secret
    assert AuditEvent.objects.filter(verb="totp.enrol", object_id=str(device.user_id)).exists()


def test_clerk_logs_in_with_password_only(place_tree, make_user):
    make_user(Role.WINDOW_CLERK, place_tree.pingshan, username="clerk1", password=PASSWORD)
    client = Client()
    response = client.post("/accounts/login/", {"username": "clerk1", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/accounts/"


def test_admin_site_login_refuses_second_factor_users(supervisor):
    actions.do_set_staff(supervisor, True, actor=TEST_SYSTEM)
    client = Client()
    html = client.post("/admin/login/", {"username": "sup", "password": PASSWORD}).content.decode()
    assert "两步验证" in html
    assert "_auth_user_id" not in client.session


def test_enrolment_page_for_a_logged_in_user(place_tree, make_user):
    clerk = make_user(Role.WINDOW_CLERK, place_tree.pingshan, password=PASSWORD)
    client = Client()
    client.force_login(clerk)
    html = client.get("/accounts/two-factor/").content.decode()
    secret = re.search(r'data-totp-secret="([A-Z2-7]+)"', html).group(1)
    html = client.post("/accounts/two-factor/", {"password": "wrong", "code": pyotp.TOTP(secret).now()}).content.decode()
    assert "密码不正确" in html and not TotpDevice.objects.filter(user=clerk).exists()
    response = client.post("/accounts/two-factor/", {"password": PASSWORD, "code": pyotp.TOTP(secret).now()})
    assert response.status_code == 302
    assert TotpDevice.objects.get(user=clerk).confirmed_at is not None


def test_administrator_resets_a_device(supervisor, place_tree, make_user):
    admin = make_user(Role.ADMINISTRATOR, place_tree.nanshan)
    actions.do_reset_totp(supervisor, actor=admin)
    assert not TotpDevice.objects.filter(user=supervisor).exists()
    assert AuditEvent.objects.filter(verb="totp.reset", actor=admin).exists()


def test_enrol_refuses_a_wrong_code(place_tree, make_user):
    user = make_user(Role.ADMINISTRATOR, place_tree.pingshan)
    with pytest.raises(actions.ActionError) as exc:
        actions.do_enrol_totp(user, SECRET, "12345x", actor=user)
    assert exc.value.field == "code"
    assert not TotpDevice.objects.exists()


def test_demo_users_with_broad_scope_are_enrolled_and_the_code_is_printed(place_tree, monkeypatch):
    """The demo stays usable: its second-factor users share a documented secret, printed with the logins."""
    import io

    from django.core.management import call_command

    from gongzhi.accounts.demo import DEFAULT_DEMO_TOTP_SECRET, load_demo_users
    from gongzhi.core.management.commands.demo import print_logins

    monkeypatch.delenv("GONGZHI_DEMO_TOTP_SECRET", raising=False)
    logins = load_demo_users(actor=TEST_SYSTEM)
    enrolled = set(TotpDevice.objects.values_list("user__username", flat=True))
    assert enrolled == {"admin", "sup_district", "sup_subdistrict"}
    out = io.StringIO()
    print_logins(out, logins)
    assert DEFAULT_DEMO_TOTP_SECRET in out.getvalue() and "sup_district" in out.getvalue()
    out = io.StringIO()
    call_command("demo_totp", stdout=out)
    code = re.search(r"code: (\d{6})", out.getvalue()).group(1)
    # That code logs the demo district supervisor in.
    client = Client()
    from gongzhi.accounts.demo import DEFAULT_DEMO_PASSWORD

    client.post("/accounts/login/", {"username": "sup_district", "password": DEFAULT_DEMO_PASSWORD})
    assert client.post("/accounts/login/verify/", {"code": code}).status_code == 302
    assert client.get("/accounts/").status_code == 200
