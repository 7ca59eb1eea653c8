"""API operations for reviews and visits: the same actions and scopes as the pages."""

from __future__ import annotations

import json
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client

from gongzhi.accounts.enums import Role
from gongzhi.services.actions import Intake, do_review_case, do_submit_application
from gongzhi.services.enums import AppealStatus, RectificationStatus, ReviewLevel
from gongzhi.services.models import Appeal, Case, Rectification, Review

pytestmark = pytest.mark.django_db
API = "/api/v1/services"


def _as(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _post(client: Client, path: str, body: dict[str, Any]) -> Any:
    return client.post(API + path, json.dumps(body), content_type="application/json")


@pytest.fixture
def review(hall: SimpleNamespace) -> Review:
    app = do_submit_application(Intake(hall.number, ["T-RS-002"], form={"purpose": "入学"}),
                                actor=hall.clerk, channel="window", idempotency_key="rev-api")
    return do_review_case(app.cases.get(), ReviewLevel.VERY_DISSATISFIED, "等了很久", actor=hall.resident_user)


def test_visit_by_the_counter_only(hall: SimpleNamespace, review: Review) -> None:
    number = review.case.number
    assert _post(_as(hall.resident_user), f"/cases/{number}/visits", {}).status_code == 403
    r = _post(_as(hall.clerk), f"/cases/{number}/visits", {"purpose": "咨询"})
    assert r.status_code == 200 and r.json()["visits"] == 2
    assert Case.objects.get(pk=review.case.pk).visits == 2


def test_rectify_appeal_and_decide(hall: SimpleNamespace, review: Review, make_user: Callable[..., Any]) -> None:
    officer = _as(hall.officers["T-RS"])
    (row,) = officer.get(f"{API}/rectifications").json()
    assert row["review_id"] == review.pk and row["status"] == "open" and not row["appealed"]
    assert _as(hall.officers["T-MZ"]).get(f"{API}/rectifications").json() == []
    r = _post(officer, f"/rectifications/{row['id']}/complete", {"action_note": " ", "callback_note": " "})
    assert r.status_code == 422
    r = _post(officer, f"/reviews/{review.pk}/appeal", {"reason": "当日系统故障，非窗口原因"})
    assert r.status_code == 201 and r.json()["status"] == "pending"
    assert _post(officer, f"/reviews/{review.pk}/appeal", {"reason": "再次"}).status_code == 422
    assert _post(_as(hall.officers["T-MZ"]), f"/reviews/{review.pk}/appeal", {"reason": "x"}).status_code == 404

    far = _as(make_user(Role.SUBDISTRICT_SUPERVISOR, hall.tree.huangbei))
    assert far.get(f"{API}/appeals").json() == []
    appeal = Appeal.objects.get()
    assert _post(far, f"/appeals/{appeal.pk}/decide", {"upheld": True}).status_code == 404
    boss = _as(make_user(Role.SUBDISTRICT_SUPERVISOR, hall.tree.taoyuan))
    (listed,) = boss.get(f"{API}/appeals").json()
    assert listed["reason"] == "当日系统故障，非窗口原因"
    r = _post(boss, f"/appeals/{appeal.pk}/decide", {"upheld": False, "note": "属实差评"})
    assert r.status_code == 200 and r.json()["status"] == AppealStatus.DISMISSED
    r = _post(officer, f"/rectifications/{row['id']}/complete",
              {"action_note": "优化叫号", "callback_note": "已回访"})
    assert r.status_code == 200 and r.json()["status"] == RectificationStatus.DONE
    assert Rectification.objects.get().status == RectificationStatus.DONE
