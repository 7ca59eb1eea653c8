"""Login throttling by (username, address) and by address (issue #10: per-account lockout let
anyone lock any known account, while spraying across accounts ran unthrottled)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import authenticate
from django.test import RequestFactory
from django.utils import timezone

from gongzhi.accounts.actions import do_unlock_user
from gongzhi.accounts.domain.addresses import client_address
from gongzhi.accounts.enums import Role
from gongzhi.accounts.models import LoginFailure
from gongzhi.core.models import AuditEvent

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"
ATTACKER = "203.0.113.9"
OWNER = "198.51.100.20"


def _login(username: str, password: str, address: str, **meta: str):
    request = RequestFactory().post("/accounts/login/", REMOTE_ADDR=address, **meta)
    return authenticate(request, username=username, password=password), request


@pytest.fixture
def victim(place_tree, make_user, settings):
    settings.LOCKOUT_THRESHOLD = 5
    settings.LOCKOUT_ADDRESS_THRESHOLD = 20
    settings.LOCKOUT_MINUTES = 15
    return make_user(Role.WINDOW_CLERK, place_tree.pingshan, username="victim", password=PASSWORD)


def test_attacker_elsewhere_cannot_lock_the_owner_out(victim):
    for _ in range(10):
        assert _login("victim", "guess", ATTACKER)[0] is None
    # The attacker is throttled for this account: even the right password is refused there…
    authed, request = _login("victim", PASSWORD, ATTACKER)
    assert authed is None and request.login_throttled_until > timezone.now()
    # …while the real user, from their own address, still gets in.
    assert _login("victim", PASSWORD, OWNER)[0] == victim


def test_five_failures_from_one_address_throttle_that_pair(victim):
    for _ in range(4):
        assert _login("victim", "guess", ATTACKER)[0] is None
    assert _login("victim", PASSWORD, ATTACKER)[0] == victim  # four failures: not yet throttled
    # A success clears the pair's failures; five new ones throttle it.
    for _ in range(5):
        _login("victim", "guess", ATTACKER)
    assert _login("victim", PASSWORD, ATTACKER)[0] is None
    assert AuditEvent.objects.filter(verb="account.throttled").count() == 1
    refused = AuditEvent.objects.get(verb="account.login_refused")
    assert refused.after["ip"] == ATTACKER and refused.after["reason"] == "throttled"


def test_password_spraying_across_accounts_is_throttled_by_address(place_tree, make_user, victim):
    others = [make_user(Role.RESIDENT, place_tree.pingshan, username=f"r{i}", password=PASSWORD) for i in range(25)]
    for user in others[:20]:
        assert _login(user.username, "Spring2026!", ATTACKER)[0] is None  # one try each
    # The address is now throttled for every account, a right password included.
    authed, request = _login(others[20].username, PASSWORD, ATTACKER)
    assert authed is None and request.login_throttled_until is not None
    # Nobody else is affected.
    assert _login(others[20].username, PASSWORD, OWNER)[0] == others[20]


def test_unknown_usernames_count_for_the_address(victim):
    for i in range(20):
        assert _login(f"nobody{i}", "x", ATTACKER)[0] is None
    assert _login("victim", PASSWORD, ATTACKER)[0] is None
    event = AuditEvent.objects.filter(verb="account.login_failed").first()
    assert event.after["known"] is False


def test_throttle_expires(victim):
    for _ in range(5):
        _login("victim", "guess", ATTACKER)
    assert _login("victim", PASSWORD, ATTACKER)[0] is None
    LoginFailure.objects.update(at=timezone.now() - timedelta(minutes=16))
    assert _login("victim", PASSWORD, ATTACKER)[0] == victim


def test_username_case_does_not_escape_the_throttle(victim):
    for name in ["victim", "VICTIM", "Victim", "vIctim", "viCtim"]:
        _login(name, "guess", ATTACKER)
    assert _login("victim", PASSWORD, ATTACKER)[0] is None


def test_administrator_lifts_the_throttle_for_a_user(victim, place_tree, make_user):
    for _ in range(5):
        _login("victim", "guess", ATTACKER)
    admin = make_user(Role.ADMINISTRATOR, place_tree.taoyuan)
    do_unlock_user(victim, actor=admin)
    assert _login("victim", PASSWORD, ATTACKER)[0] == victim
    assert AuditEvent.objects.filter(verb="user.unlock", actor=admin).exists()


def test_forwarded_for_is_ignored_without_a_trusted_proxy(victim, settings):
    settings.GONGZHI_TRUSTED_PROXY_COUNT = 0
    request = RequestFactory().get("/", REMOTE_ADDR=ATTACKER, HTTP_X_FORWARDED_FOR="10.9.9.9")
    assert client_address(request) == ATTACKER
    # Rotating a forged header does not escape the throttle.
    for i in range(5):
        _login("victim", "guess", ATTACKER, HTTP_X_FORWARDED_FOR=f"10.0.0.{i}")
    assert _login("victim", PASSWORD, ATTACKER, HTTP_X_FORWARDED_FOR="10.0.0.99")[0] is None


def test_forwarded_for_from_a_trusted_proxy(settings):
    settings.GONGZHI_TRUSTED_PROXY_COUNT = 1
    rf = RequestFactory()
    # The one trusted proxy appended the address it saw; anything before it is the client's claim.
    request = rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.9")
    assert client_address(request) == "203.0.113.9"
    # Missing or garbage header: fall back to the proxy's own address, never crash.
    assert client_address(rf.get("/", REMOTE_ADDR="10.0.0.1")) == "10.0.0.1"
    assert client_address(rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="not-an-ip")) == "10.0.0.1"
    settings.GONGZHI_TRUSTED_PROXY_COUNT = 2
    request = rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.9, 10.0.0.2")
    assert client_address(request) == "203.0.113.9"
