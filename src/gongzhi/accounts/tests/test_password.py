"""Password change for every logged-in user; reset by a one-time code sent to the phone (or
e-mail) on record through the outbox (issue #10)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from gongzhi.accounts import actions
from gongzhi.accounts.enums import Role
from gongzhi.accounts.models import OutboxMessage, PasswordResetCode, User
from gongzhi.core.models import AuditEvent
from gongzhi.core.tests.actors import SYSTEM as TEST_SYSTEM

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"
NEW = "a-brand-new-passphrase"
SENT: list[Any] = []


class Capture:
    """A notification backend that keeps what it is asked to send."""

    def send(self, note: Any) -> None:
        SENT.append(note)


@pytest.fixture(autouse=True)
def _capture(settings):
    settings.GONGZHI_NOTIFY_BACKEND = "gongzhi.accounts.tests.test_password.Capture"
    SENT.clear()


@pytest.fixture
def resident(place_tree, make_user):
    user = make_user(Role.RESIDENT, place_tree.pingshan, username="li", password=PASSWORD)
    actions.do_set_phone(user, "13800138000", actor=TEST_SYSTEM)
    return user


def _sent_code() -> str:
    actions.send_outbox()
    assert SENT, "nothing was sent"
    return re.search(r"\b(\d{6})\b", SENT[-1].body).group(1)


# --- change -----------------------------------------------------------------------------------


def test_logged_in_user_changes_password(resident):
    client = Client()
    client.force_login(resident)
    assert client.get("/accounts/password/").status_code == 200
    html = client.post(
        "/accounts/password/", {"old_password": "wrong", "new_password1": NEW, "new_password2": NEW}
    ).content.decode()
    assert "旧密码" in html or "不正确" in html
    response = client.post(
        "/accounts/password/", {"old_password": PASSWORD, "new_password1": NEW, "new_password2": NEW}
    )
    assert response.status_code == 302
    assert User.objects.get(pk=resident.pk).check_password(NEW)
    assert AuditEvent.objects.filter(verb="user.set_password", actor=resident).exists()
    # This session stays logged in.
    assert client.get("/accounts/").status_code == 200


def test_password_change_needs_login():
    response = Client().get("/accounts/password/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- reset ------------------------------------------------------------------------------------


def test_reset_by_code_sent_to_the_phone_on_record(resident):
    client = Client()
    response = client.post("/accounts/password/reset/", {"username": "li"})
    assert response.status_code == 302
    code = _sent_code()
    assert SENT[-1].recipient == "13800138000"
    # Stored encrypted, and emptied once sent.
    message = OutboxMessage.objects.get()
    assert "13800138000" not in message.recipient and code not in message.body and message.sent_at is not None
    response = client.post("/accounts/password/reset/confirm/", {"code": code, "new_password1": NEW, "new_password2": NEW})
    assert response.status_code == 302
    assert User.objects.get(pk=resident.pk).check_password(NEW)
    assert AuditEvent.objects.filter(verb="user.reset_password", object_id=str(resident.pk)).exists()
    # Single use.
    with pytest.raises(actions.CodeInvalid) as exc:
        actions.do_reset_password_with_code("li", code, PASSWORD, "")
    assert exc.value.message == "验证码不正确或已过期，请重新获取"
    assert User.objects.get(pk=resident.pk).check_password(NEW)


def test_unknown_account_answers_exactly_like_a_known_one(resident):
    known, unknown = Client(), Client()
    a = known.post("/accounts/password/reset/", {"username": "li"})
    b = unknown.post("/accounts/password/reset/", {"username": "no-such-user"})
    assert (a.status_code, a["Location"]) == (b.status_code, b["Location"])
    page_a = known.get(a["Location"]).content.decode()
    page_b = unknown.get(b["Location"]).content.decode()
    strip = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"|"X-CSRFToken": "[^"]+"')
    assert strip.sub("", page_a) == strip.sub("", page_b)
    html = unknown.post(
        "/accounts/password/reset/confirm/", {"code": "123456", "new_password1": NEW, "new_password2": NEW}
    ).content.decode()
    assert "验证码不正确或已过期" in html


def test_expired_code_refused(resident):
    client = Client()
    client.post("/accounts/password/reset/", {"username": "li"})
    code = _sent_code()
    PasswordResetCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    html = client.post(
        "/accounts/password/reset/confirm/", {"code": code, "new_password1": NEW, "new_password2": NEW}
    ).content.decode()
    assert "验证码不正确或已过期" in html
    assert User.objects.get(pk=resident.pk).check_password(PASSWORD)


def test_wrong_guesses_burn_the_code(resident, settings):
    settings.PASSWORD_RESET_MAX_ATTEMPTS = 5
    client = Client()
    client.post("/accounts/password/reset/", {"username": "li"})
    code = _sent_code()
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        client.post("/accounts/password/reset/confirm/", {"code": wrong, "new_password1": NEW, "new_password2": NEW})
    html = client.post(
        "/accounts/password/reset/confirm/", {"code": code, "new_password1": NEW, "new_password2": NEW}
    ).content.decode()
    assert "验证码不正确或已过期" in html
    assert User.objects.get(pk=resident.pk).check_password(PASSWORD)


def test_codes_are_rate_limited_per_account(resident, settings):
    settings.PASSWORD_RESET_MAX_PER_HOUR = 3
    for _ in range(5):
        Client().post("/accounts/password/reset/", {"username": "li"})
    assert PasswordResetCode.objects.filter(user=resident).count() == 3
    assert OutboxMessage.objects.count() == 3


def test_weak_new_password_refused_and_code_kept(resident):
    client = Client()
    client.post("/accounts/password/reset/", {"username": "li"})
    code = _sent_code()
    html = client.post(
        "/accounts/password/reset/confirm/", {"code": code, "new_password1": "123", "new_password2": "123"}
    ).content.decode()
    assert "密码" in html and User.objects.get(pk=resident.pk).check_password(PASSWORD)
    response = client.post("/accounts/password/reset/confirm/", {"code": code, "new_password1": NEW, "new_password2": NEW})
    assert response.status_code == 302


def test_email_is_used_without_a_phone(place_tree, make_user):
    user = make_user(Role.WINDOW_CLERK, place_tree.pingshan, username="wang", password=PASSWORD)
    actions.do_update_user(user, {"email": "wang@example.cn"}, actor=TEST_SYSTEM)
    Client().post("/accounts/password/reset/", {"username": "wang"})
    _sent_code()
    assert SENT[-1].recipient == "wang@example.cn"


def test_phone_is_validated_encrypted_and_masked(resident):
    user = User.objects.get(pk=resident.pk)
    assert "13800138000" not in user.phone_cipher and user.phone_masked == "138****8000"
    with pytest.raises(actions.ActionError) as exc:
        actions.do_set_phone(user, "12345", actor=TEST_SYSTEM)
    assert exc.value.field == "phone"
