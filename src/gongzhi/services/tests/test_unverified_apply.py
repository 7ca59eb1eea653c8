"""An account a resident opened online is unverified (issue 11): it may apply only for items the
catalogue marks ``low_assurance``, at the online hall and on the API alike — one rule,
services.policy.may_apply_for — until a window clerk verifies it."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from gongzhi.accounts.enums import IdentityStatus
from gongzhi.accounts.models import User
from gongzhi.core.models import AuditEvent
from gongzhi.people.actions import do_verify_account_at_window
from gongzhi.services.models import Application, Case, ServiceItem
from gongzhi.services.tests.conftest import pdf

pytestmark = pytest.mark.django_db
API = "/api/v1/services/applications"


def _unverified(user: User) -> Client:
    User.objects.filter(pk=user.pk).update(identity_status=IdentityStatus.UNVERIFIED)
    client = Client()
    client.force_login(user)
    return client


def _api(client: Client, body: dict[str, Any], key: str) -> Any:
    return client.post(API, json.dumps(body), content_type="application/json", headers={"Idempotency-Key": key})


def _subsidy(hall: SimpleNamespace) -> dict[str, Any]:
    return {"applicant_number": hall.number, "item_codes": ["T-MZ-001"],
            "form": {"reason": "家中突发困难", "household_size": "3"}, "accept_gaps": True}


def _counts() -> tuple[int, int, int]:
    return Application.objects.count(), Case.objects.count(), AuditEvent.objects.count()


def test_unverified_account_is_refused_other_items_on_page_and_api(hall: SimpleNamespace) -> None:
    client = _unverified(hall.resident_user)
    before = _counts()
    r = _api(client, _subsidy(hall), "unverified-1")
    assert r.status_code == 403, r.content
    detail = r.json()["detail"][0]
    assert detail["code"] == "unverified" and "尚未实名核验" in detail["message"] and "临时救助申请" in detail["message"]
    page = client.post(reverse("services:online_apply"), {
        "items": ["T-MZ-001"], "applicant": "self", "idempotency_key": "unverified-2", "form-reason": "失业",
        "file-income": pdf()})
    assert "尚未实名核验" in page.content.decode()
    assert _counts() == before

    # Low-assurance items are open to it.
    ServiceItem.objects.filter(code="T-RS-002").update(low_assurance=True)
    r = _api(client, {"applicant_number": hall.number, "item_codes": ["T-RS-002"], "form": {"purpose": "购房"}},
             "unverified-3")
    assert r.status_code == 201, r.content
    # A bundle mixing both is refused whole, naming the items that wait for the check.
    r = _api(client, {**_subsidy(hall), "item_codes": ["T-RS-002", "T-MZ-001"]}, "unverified-4")
    assert r.status_code == 403 and "临时救助申请" in r.json()["detail"][0]["message"]
    assert "社保参保证明打印" not in r.json()["detail"][0]["message"]


def test_verified_by_the_clerk_applies_for_everything(hall: SimpleNamespace) -> None:
    client = _unverified(hall.resident_user)
    assert _api(client, _subsidy(hall), "v-1").status_code == 403
    do_verify_account_at_window(hall.person, actor=hall.clerk)
    r = _api(client, _subsidy(hall), "v-2")
    assert r.status_code == 201, r.content


def test_the_window_is_not_limited_by_the_applicants_account(hall: SimpleNamespace) -> None:
    User.objects.filter(pk=hall.resident_user.pk).update(identity_status=IdentityStatus.UNVERIFIED)
    clerk = Client()
    clerk.force_login(hall.clerk)
    # The clerk sees the card: the applicant's online account status does not matter at the window.
    r = _api(clerk, _subsidy(hall), "w-1")
    assert r.status_code == 201, r.content


def test_the_hall_says_what_unverified_means_and_which_items_are_open(hall: SimpleNamespace) -> None:
    ServiceItem.objects.filter(code="T-RS-002").update(low_assurance=True)
    client = _unverified(hall.resident_user)
    html = client.get(reverse("services:online")).content.decode()
    assert "账户状态：未实名核验" in html and html.count("未核验可申请") >= 1
    item_lines = [li for li in html.split('<li class="hall-item">')[1:] if "社保参保证明打印" in li.split("</li>")[0]]
    assert item_lines and "未核验可申请" in item_lines[0].split("</li>")[0]
    User.objects.filter(pk=hall.resident_user.pk).update(identity_status=IdentityStatus.VERIFIED)
    assert "账户状态：未实名核验" not in client.get(reverse("services:online")).content.decode()
