"""Idle sessions end (issue #10): staff after 30 minutes without a request, the public after 2 hours."""

from __future__ import annotations

import time

import pytest
from django.test import Client

from gongzhi.accounts.enums import Role
from gongzhi.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def _idle(client: Client, seconds: int) -> None:
    session = client.session
    session["gongzhi_last_seen"] = int(time.time()) - seconds
    session.save()


@pytest.fixture
def clerk_client(place_tree, make_user):
    clerk = make_user(Role.WINDOW_CLERK, place_tree.pingshan)
    client = Client()
    client.force_login(clerk)
    return clerk, client


def test_staff_session_ends_after_thirty_idle_minutes(clerk_client, settings):
    settings.SESSION_IDLE_SECONDS_STAFF = 30 * 60
    clerk, client = clerk_client
    assert client.get("/accounts/").status_code == 200
    _idle(client, 31 * 60)
    response = client.get("/accounts/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert AuditEvent.objects.filter(verb="account.idle_logout", actor=clerk).exists()
    # The session is really gone, not just this request.
    assert client.get("/accounts/").status_code == 302


def test_activity_keeps_the_session(clerk_client, settings):
    settings.SESSION_IDLE_SECONDS_STAFF = 30 * 60
    _clerk, client = clerk_client
    _idle(client, 29 * 60)
    assert client.get("/accounts/").status_code == 200
    # That request counted as activity: the clock starts again.
    assert int(time.time()) - client.session["gongzhi_last_seen"] < 5
    assert client.get("/accounts/").status_code == 200


def test_public_users_get_longer(place_tree, make_user, settings):
    settings.SESSION_IDLE_SECONDS_STAFF = 30 * 60
    settings.SESSION_IDLE_SECONDS_PUBLIC = 2 * 3600
    resident = make_user(Role.RESIDENT, place_tree.pingshan)
    client = Client()
    client.force_login(resident)
    _idle(client, 31 * 60)
    assert client.get("/accounts/").status_code == 200
    _idle(client, 2 * 3600 + 60)
    assert client.get("/accounts/").status_code == 302
