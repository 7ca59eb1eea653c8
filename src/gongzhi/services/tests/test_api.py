"""``/api/v1/services``: every endpoint, idempotent retries, bad input, scope, conflicts, tracking."""

from __future__ import annotations

import json
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client

from gongzhi.accounts.actions import do_issue_api_token
from gongzhi.accounts.enums import Role
from gongzhi.core.models import AuditEvent, Timer
from gongzhi.core.tests.actors import SYSTEM as TEST_SYSTEM
from gongzhi.people.models import Document
from gongzhi.services.enums import CaseStatus, TaskRole
from gongzhi.services.models import Application, Case, Review, SupplementRequest, Task
from gongzhi.services.stats import fold_dirty_cases

pytestmark = pytest.mark.django_db
BASE = "/api/v1/services"


def token_for(user: Any) -> str:
    _row, secret = do_issue_api_token(user, "测试对接", actor=TEST_SYSTEM)
    return secret


class Api:
    """A JSON client speaking as one user: by bearer token (a system) or by session (a browser)."""

    def __init__(self, user: Any = None, *, session: bool = False) -> None:
        self.client = Client()
        self.headers: dict[str, str] = {}
        if user is not None and session:
            self.client.force_login(user)
        elif user is not None:
            self.headers["Authorization"] = f"Bearer {token_for(user)}"

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(BASE + path, params, headers=self.headers)

    def post(self, path: str, body: Any = None, *, key: str | None = None) -> Any:
        headers = dict(self.headers)
        if key is not None:
            headers["Idempotency-Key"] = key
        return self.client.post(BASE + path, json.dumps(body if body is not None else {}),
                                content_type="application/json", headers=headers)


def counts() -> tuple[int, ...]:
    return (Application.objects.count(), Case.objects.count(), Task.objects.count(), Timer.objects.count(),
            Document.objects.count(), AuditEvent.objects.count())


def subsidy_body(hall: SimpleNamespace, **extra: Any) -> dict[str, Any]:
    body = {"applicant_number": hall.number, "item_codes": ["T-MZ-001"],
            "form": {"reason": "家中突发困难", "household_size": "3"}, "accept_gaps": True,
            "address": "南山区桃源街道平山一路8号"}
    body.update(extra)
    return body


@pytest.fixture
def clerk_api(hall: SimpleNamespace) -> Api:
    return Api(hall.clerk)


@pytest.fixture
def submitted(hall: SimpleNamespace, clerk_api: Api) -> Case:
    r = clerk_api.post("/applications", subsidy_body(hall), key="app-1")
    assert r.status_code == 201, r.content
    return Case.objects.get(number=r.json()["cases"][0]["number"])


@pytest.fixture(autouse=True)
def _fresh_track_budget() -> None:
    # The throttle lives in the (process-wide) cache: start each test with a full budget.
    from django.core.cache import cache
    from django.test import RequestFactory

    from gongzhi.services.tracking import track_bucket

    cache.delete(track_bucket(RequestFactory().get("/").META["REMOTE_ADDR"]))


def error_fields(response: Any) -> list[str]:
    return [d["field"] for d in response.json()["detail"]]


# ------------------------------------------------------------------------------ catalog


def test_catalog_is_public_with_materials_limits_and_fees(hall: SimpleNamespace) -> None:
    r = Client().get(f"{BASE}/catalog")
    assert r.status_code == 200
    items = {i["code"]: i for i in r.json()}
    assert set(items) == {"T-MZ-001", "T-RS-002", "T-SJ-003"}
    subsidy = items["T-MZ-001"]
    assert subsidy["department"] == {"code": "T-MZ", "name": "民政局", "display_name": "民政局"}
    assert subsidy["promised_days"] == 5 and subsidy["statutory_days"] == 20
    assert subsidy["fee"] == "0.00" and subsidy["fee_display"] == "¥0.00"
    assert subsidy["mode"] == "complex"
    assert [(m["key"], m["kind"]) for m in subsidy["materials"]] == [("id_card", "mandatory"), ("income", "secondary")]
    assert {c["code"] for c in subsidy["co_departments"]} == {"T-RS", "T-ZJ"}
    assert subsidy["form_schema"][0]["name"] == "reason"


def test_catalog_item_and_unknown_code(hall: SimpleNamespace) -> None:
    r = Client().get(f"{BASE}/catalog/T-RS-002")
    assert r.status_code == 200 and r.json()["mode"] == "instant"
    r = Client().get(f"{BASE}/catalog/NO-SUCH")
    assert r.status_code == 404 and r.json()["detail"]


def test_bundles_list_their_items(hall: SimpleNamespace) -> None:
    r = Client().get(f"{BASE}/bundles")
    assert r.status_code == 200
    (bundle,) = r.json()
    assert bundle["code"] == "T-BUNDLE-1" and bundle["name"] == "开办小店一件事"
    assert {i["code"] for i in bundle["items"]} == {"T-MZ-001", "T-RS-002", "T-SJ-003"}


# ------------------------------------------------------------------------- applications


def test_token_submission_is_channel_api_and_retry_is_idempotent(hall: SimpleNamespace, clerk_api: Api) -> None:
    r = clerk_api.post("/applications", subsidy_body(hall), key="retry-1")
    assert r.status_code == 201, r.content
    first = r.json()
    assert first["channel"] == "api"
    (case,) = first["cases"]
    assert case["item"]["code"] == "T-MZ-001" and case["department"]["code"] == "T-MZ"
    stored = Case.objects.get(number=case["number"])
    assert stored.channel == "api" and stored.visits == 0 and stored.with_gaps
    before = counts()
    again = clerk_api.post("/applications", subsidy_body(hall), key="retry-1")
    assert again.status_code == 200
    assert again.json()["number"] == first["number"]
    assert again.json()["cases"][0]["number"] == case["number"]
    assert counts() == before


def test_idempotency_key_may_come_in_the_body(hall: SimpleNamespace, clerk_api: Api) -> None:
    r = clerk_api.post("/applications", subsidy_body(hall, idempotency_key="body-key"))
    assert r.status_code == 201
    assert Application.objects.get(idempotency_key="body-key").number == r.json()["number"]


def test_key_used_by_someone_else_is_refused(hall: SimpleNamespace, clerk_api: Api) -> None:
    assert clerk_api.post("/applications", subsidy_body(hall), key="shared").status_code == 201
    officer = Api(hall.officers["T-MZ"])
    before = counts()
    r = officer.post("/applications", subsidy_body(hall), key="shared")
    assert r.status_code == 422 and error_fields(r) == ["idempotency_key"]
    assert counts() == before


def test_resident_session_submits_online_for_themselves_only(hall: SimpleNamespace) -> None:
    api = Api(hall.resident_user, session=True)
    r = api.post("/applications", subsidy_body(hall), key="online-1")
    assert r.status_code == 201, r.content
    assert r.json()["channel"] == "online"
    before = counts()
    r = api.post("/applications", subsidy_body(hall, applicant_number=hall.other_number), key="online-2")
    assert r.status_code == 403  # not the caller's to do (services.policy.may_apply_for)
    assert error_fields(r) == ["applicant_number"] and "本人" in r.json()["detail"][0]["message"]
    assert counts() == before


@pytest.mark.parametrize(
    ("change", "key", "field"),
    [
        ({}, None, "idempotency_key"),
        ({"item_codes": ["NO-SUCH"]}, "bad-1", "item_codes"),
        ({"item_codes": []}, "bad-2", "item_codes"),
        ({"bundle_code": "NO-BUNDLE"}, "bad-3", "bundle_code"),
        ({"applicant_number": "440305198501011230"}, "bad-4", "applicant_number"),
        ({"form": {"household_size": "99", "colour": "红"}}, "bad-5", "reason"),
        ({"address": "平山\x00"}, "bad-6", "address"),
        ({"form": {"reason": "\x00"}}, "bad-7", "form"),
    ],
)
def test_bad_input_answers_422_with_field_and_stores_nothing(
    hall: SimpleNamespace, clerk_api: Api, change: dict[str, Any], key: str | None, field: str
) -> None:
    before = counts()
    r = clerk_api.post("/applications", subsidy_body(hall, **change), key=key)
    assert r.status_code == 422, r.content
    assert field in error_fields(r)
    for entry in r.json()["detail"]:
        assert entry["message"] and entry["msg"] == entry["message"] and entry["loc"][-1] == entry["field"]
    assert counts() == before


def test_form_errors_name_every_field(hall: SimpleNamespace, clerk_api: Api) -> None:
    r = clerk_api.post("/applications", subsidy_body(hall, form={"household_size": "99", "colour": "红"}), key="f")
    assert r.status_code == 422
    assert set(error_fields(r)) == {"reason", "household_size", "colour"}


def test_missing_materials_listed_at_once(hall: SimpleNamespace, clerk_api: Api) -> None:
    before = counts()
    body = {"applicant_number": hall.other_number, "item_codes": ["T-MZ-001", "T-SJ-003"],
            "form": {"reason": "x", "shop_name": "小店"}}
    r = clerk_api.post("/applications", body, key="missing")
    assert r.status_code == 422
    missing = r.json()["missing"]
    assert any("身份证件" in m for m in missing) and any("收入证明" in m for m in missing)
    assert any("经营场所证明" in m for m in missing)
    assert error_fields(r) == ["materials"]
    assert counts() == before


def test_wallet_document_chosen_by_id(hall: SimpleNamespace, clerk_api: Api) -> None:
    from gongzhi.people.actions import do_add_document
    from gongzhi.services.tests.conftest import pdf

    doc = do_add_document(hall.person, "other", "2026年收入证明", pdf(), actor=TEST_SYSTEM)
    r = clerk_api.post("/applications", subsidy_body(hall, accept_gaps=False, documents={"income": doc.pk}),
                       key="wallet")
    assert r.status_code == 201, r.content
    case = Case.objects.get(number=r.json()["cases"][0]["number"])
    assert case.materials.get(material__key="income").document_id == doc.pk and not case.with_gaps


def test_submission_needs_login(hall: SimpleNamespace) -> None:
    r = Client().post(f"{BASE}/applications", json.dumps(subsidy_body(hall)), content_type="application/json",
                      headers={"Idempotency-Key": "anon"})
    assert r.status_code == 401 and Application.objects.count() == 0


# --------------------------------------------------------------------------------- cases


def test_cases_are_scoped_and_searchable(hall: SimpleNamespace, submitted: Case, make_user: Callable[..., Any]) -> None:
    api = Api(hall.clerk)
    r = api.get("/cases")
    assert r.status_code == 200 and r.json()["count"] == 1
    row = r.json()["items"][0]
    assert row["number"] == submitted.number and row["applicant_masked"] == hall.person.number_masked
    assert hall.number not in json.dumps(r.json(), ensure_ascii=False)
    assert api.get("/cases", q="张伟").json()["count"] == 1
    assert api.get("/cases", q="临时救助").json()["count"] == 1
    assert api.get("/cases", q="李芳").json()["count"] == 0
    assert api.get("/cases", status="accepted", department="T-MZ").json()["count"] == 1
    assert api.get("/cases", status="approved").json()["count"] == 0

    outsider = Api(make_user(Role.WINDOW_CLERK, hall.tree.wenhua))
    assert outsider.get("/cases").json()["count"] == 0
    assert outsider.get("/cases", q=submitted.number).json()["count"] == 0
    assert outsider.get(f"/cases/{submitted.number}").status_code == 404


def test_case_detail(hall: SimpleNamespace, submitted: Case) -> None:
    r = Api(hall.clerk).get(f"/cases/{submitted.number}")
    assert r.status_code == 200
    body = r.json()
    assert body["form_data"] == {"reason": "家中突发困难", "household_size": 3}
    assert {m["key"]: m["status"] for m in body["materials"]} == {"id_card": "wallet", "income": "gap"}
    assert sorted(t["role"] for t in body["tasks"]) == ["co", "co", "lead"]
    assert body["review"] is None


def test_application_links_its_receipt(hall: SimpleNamespace, clerk_api: Api) -> None:
    r = clerk_api.post("/applications", subsidy_body(hall), key="receipt-link")
    number = r.json()["number"]
    assert r.json()["receipt_url"] == f"/services/applications/{number}/receipt.pdf"
    assert Api(hall.clerk).get("/cases/NO-SUCH-CASE").status_code == 404


def test_case_list_bad_filters_and_page_bounds(hall: SimpleNamespace, submitted: Case) -> None:
    api = Api(hall.clerk)
    r = api.get("/cases", status="lost")
    assert r.status_code == 422 and error_fields(r) == ["status"]
    assert api.get("/cases", limit=101).status_code == 422
    assert api.get("/cases", limit=1, offset=1).json() == {"count": 1, "items": []}
    assert Client().get(f"{BASE}/cases").status_code == 401


def test_resident_sees_only_own_cases(hall: SimpleNamespace, submitted: Case) -> None:
    assert Api(hall.resident_user, session=True).get("/cases").json()["count"] == 1
    other = Api(hall.other_user, session=True)
    assert other.get("/cases").json()["count"] == 0
    assert other.get(f"/cases/{submitted.number}").status_code == 404


# --------------------------------------------------------------------------------- tasks


def test_task_queue_claim_conflict_and_decide(hall: SimpleNamespace, submitted: Case) -> None:
    officer, rival = Api(hall.officers["T-MZ"]), Api(hall.officer2)
    queue = officer.get("/tasks").json()
    (lead,) = [t for t in queue if t["case_number"] == submitted.number]
    assert lead["role"] == "lead" and lead["status"] == "pending" and lead["holder"] is None

    r = officer.post(f"/tasks/{lead['id']}/claim", {"expected_version": lead["version"]})
    assert r.status_code == 200 and r.json()["status"] == "claimed" and r.json()["holder"]
    r = rival.post(f"/tasks/{lead['id']}/claim", {})
    assert r.status_code == 409
    assert "认领" in r.json()["detail"][0]["message"]

    # The lead decides last: co-processors still open → refused, nothing changes.
    r = officer.post(f"/tasks/{lead['id']}/decide", {"approve": True})
    assert r.status_code == 403 and "协办" in r.json()["detail"][0]["message"]
    # A rejection needs a reason: that is the input's fault → 422 naming the field.
    r = officer.post(f"/tasks/{lead['id']}/decide", {"approve": False, "reason": "  "})
    assert r.status_code == 422 and error_fields(r) == ["reason"]
    assert Task.objects.get(pk=lead["id"]).status == "claimed"

    for code in ("T-RS", "T-ZJ"):
        co = Api(hall.officers[code])
        (task,) = [t for t in co.get("/tasks").json() if t["case_number"] == submitted.number]
        assert co.post(f"/tasks/{task['id']}/claim", {}).status_code == 200
        assert co.post(f"/tasks/{task['id']}/decide", {"approve": True}).json()["status"] == "approved"
    r = officer.post(f"/tasks/{lead['id']}/decide", {"approve": True, "reason": "符合条件"})
    assert r.status_code == 200 and r.json()["status"] == "approved"
    submitted.refresh_from_db()
    assert submitted.status == CaseStatus.APPROVED
    assert officer.get("/tasks").json() == []
    assert len(officer.get("/tasks", include_closed=True).json()) == 1


def test_stale_version_is_a_conflict(hall: SimpleNamespace, submitted: Case) -> None:
    lead = submitted.tasks.get(role=TaskRole.LEAD)
    r = Api(hall.officers["T-MZ"]).post(f"/tasks/{lead.pk}/claim", {"expected_version": lead.version + 5})
    assert r.status_code == 409
    assert Task.objects.get(pk=lead.pk).status == "pending"


def test_task_of_another_department_is_404(hall: SimpleNamespace, submitted: Case) -> None:
    lead = submitted.tasks.get(role=TaskRole.LEAD)
    market = Api(hall.officers["T-SJ"])
    assert market.post(f"/tasks/{lead.pk}/claim", {}).status_code == 404
    assert market.post(f"/tasks/{lead.pk}/decide", {"approve": True}).status_code == 404
    assert market.post(f"/tasks/{lead.pk}/supplement", {"items": ["x"]}).status_code == 404
    assert Api(hall.officers["T-MZ"]).post("/tasks/999999/claim", {}).status_code == 404
    assert Task.objects.get(pk=lead.pk).status == "pending"


def test_supplement_request_and_fulfil(hall: SimpleNamespace, submitted: Case) -> None:
    officer = Api(hall.officers["T-MZ"])
    lead = submitted.tasks.get(role=TaskRole.LEAD)
    officer.post(f"/tasks/{lead.pk}/claim", {})
    r = officer.post(f"/tasks/{lead.pk}/supplement", {"items": []})
    assert r.status_code == 422 and error_fields(r) == ["items"]
    assert not SupplementRequest.objects.exists()
    r = officer.post(f"/tasks/{lead.pk}/supplement", {"items": ["收入证明原件", "户口簿"], "reason": "无公章"})
    assert r.status_code == 201
    assert r.json()["items"] == ["收入证明原件", "户口簿"] and r.json()["case_number"] == submitted.number
    assert Api(hall.clerk).get(f"/cases/{submitted.number}").json()["status"] == "supplement"

    assert Api(hall.other_user, session=True).post(f"/cases/{submitted.number}/supplement").status_code == 404
    resident = Api(hall.resident_user, session=True)
    r = resident.post(f"/cases/{submitted.number}/supplement")
    assert r.status_code == 200 and r.json()["status"] == "in_progress"
    assert r.json()["supplements"][0]["fulfilled_at"] is not None
    r = resident.post(f"/cases/{submitted.number}/supplement")
    assert r.status_code == 403 and "没有待补正" in r.json()["detail"][0]["message"]


# ------------------------------------------------------------------------------- reviews


def _instant_case(hall: SimpleNamespace) -> Case:
    api = Api(hall.resident_user, session=True)
    body = {"applicant_number": hall.number, "item_codes": ["T-RS-002"], "form": {"purpose": "入学"}}
    r = api.post("/applications", body, key="instant")
    assert r.status_code == 201, r.content
    return Case.objects.get(number=r.json()["cases"][0]["number"])


def test_review_by_the_applicant_once(hall: SimpleNamespace) -> None:
    case = _instant_case(hall)
    assert case.status == CaseStatus.APPROVED
    api = Api(hall.resident_user, session=True)
    r = api.post(f"/cases/{case.number}/review", {"level": 9})
    assert r.status_code == 422 and error_fields(r) == ["level"]
    r = api.post(f"/cases/{case.number}/review", {"level": 1, "comment": "等太久"})
    assert r.status_code == 201
    assert r.json()["level_display"] == "非常不满意" and r.json()["rectification_due"]
    r = api.post(f"/cases/{case.number}/review", {"level": 5})
    assert r.status_code == 422 and "重复" in r.json()["detail"][0]["message"]
    assert Review.objects.count() == 1
    assert Api(hall.clerk).get(f"/cases/{case.number}").json()["review"]["level"] == 1


def test_review_of_someone_elses_case(hall: SimpleNamespace) -> None:
    case = _instant_case(hall)
    assert Api(hall.other_user, session=True).post(f"/cases/{case.number}/review", {"level": 5}).status_code == 404
    r = Api(hall.clerk).post(f"/cases/{case.number}/review", {"level": 5})  # sees it, is not the applicant
    assert r.status_code == 422 and "本人" in r.json()["detail"][0]["message"]
    assert not Review.objects.exists()


# ------------------------------------------------------------------------------ tracking


def test_public_track_with_the_right_tail(hall: SimpleNamespace, submitted: Case) -> None:
    r = Client().get(f"{BASE}/track", {"number": submitted.number, "tail": hall.number[-4:]})
    assert r.status_code == 200
    body = r.json()
    assert body["number"] == submitted.number and body["status"] == "accepted" and not body["closed"]
    assert body["item"]["name"] == "临时救助申请" and body["department"]["name"] == "民政局"
    assert body["deadline"] == submitted.deadline.isoformat()
    assert body["steps"][0]["label"].startswith("已受理")
    text = json.dumps(body, ensure_ascii=False)
    assert "张伟明" not in text and hall.number not in text and "平山一路" not in text
    assert body["applicant_masked"] == hall.person.number_masked


def test_track_wrong_tail_and_wrong_number_look_the_same(hall: SimpleNamespace, submitted: Case) -> None:
    wrong_tail = Client().get(f"{BASE}/track", {"number": submitted.number, "tail": "0000"})
    wrong_number = Client().get(f"{BASE}/track", {"number": "GZ0000000000000001", "tail": hall.number[-4:]})
    assert wrong_tail.status_code == wrong_number.status_code == 404
    assert wrong_tail.json() == wrong_number.json()


def test_track_is_throttled_per_address(hall: SimpleNamespace, submitted: Case) -> None:
    from gongzhi.services.tracking import TRACK_LIMIT

    client = Client()
    for _ in range(TRACK_LIMIT):
        assert client.get(f"{BASE}/track", {"number": submitted.number, "tail": "0000"}).status_code == 404
    r = client.get(f"{BASE}/track", {"number": submitted.number, "tail": hall.number[-4:]})
    assert r.status_code == 429 and r.json()["detail"]


# ------------------------------------------------------------------------------- figures


def test_figures_for_the_users_scope(hall: SimpleNamespace, submitted: Case, make_user: Callable[..., Any]) -> None:
    fold_dirty_cases()
    api = Api(hall.clerk)
    r = api.get("/figures")
    assert r.status_code == 200
    body = r.json()
    assert body["cases"] == 1 and body["one_number"] == 100.0 and body["online"] == 100.0
    assert body["zero_visit"] == 100.0 and body["on_time"] is None
    assert api.get("/figures", department="T-SJ").json()["cases"] == 0
    assert api.get("/figures", place_id=hall.tree.pingshan.pk).json()["cases"] == 1
    r = api.get("/figures", department="NOPE")
    assert r.status_code == 422 and error_fields(r) == ["department"]
    assert Api(make_user(Role.WINDOW_CLERK, hall.tree.wenhua)).get("/figures").json()["cases"] == 0
