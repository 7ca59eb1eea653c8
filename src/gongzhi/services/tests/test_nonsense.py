"""Nonsense at every Open311 and services URL answers 4xx, never 500 (and Open311 in its own
error format)."""

from __future__ import annotations

import json
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from gongzhi.accounts.enums import Role
from gongzhi.services.actions import Intake, do_submit_application
from gongzhi.services.models import Case

pytestmark = pytest.mark.django_db

FAR_DATES = [
    "0001-01-01", "9999-12-31", "0001-01-01T00:00:00+08:00", "9999-12-31T23:59:59-12:00",
    "0001-01-01T00:00:00Z", "9999-12-31T23:59:59+14:00", "10000-01-01", "2026-02-30", "2026-13-01",
    "2026-11-26T25:00:00", "-1", "", " ", "x" * 500, "2026-11-26T00:00:00+99:00",
]


@pytest.fixture(autouse=True)
def _budget() -> Any:
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def case(hall: SimpleNamespace) -> Case:
    intake = Intake(applicant_number=hall.number, item_codes=["T-MZ-001"], form={"reason": "x"}, accept_gaps=True)
    return do_submit_application(intake, actor=hall.clerk, channel="window", idempotency_key="nonsense").cases.get()


def _client(user: Any = None) -> Client:
    client = Client(raise_request_exception=False)
    if user is not None:
        client.force_login(user)
    return client


@pytest.mark.parametrize("name", ["start_date", "end_date"])
@pytest.mark.parametrize("value", FAR_DATES)
def test_open311_far_or_broken_dates_are_400(case: Case, name: str, value: str) -> None:
    for fmt in ("json", "xml"):
        r = _client().get(f"/open311/v2/requests.{fmt}", {name: value})
        assert r.status_code in (200, 400), (value, r.status_code)
        if r.status_code == 400:
            if fmt == "json":
                (err,) = r.json()
                assert err["code"] == 400 and err["description"]
            else:
                assert b"<errors>" in r.content


@pytest.mark.parametrize("value", ["0001-01-01", "9999-12-31"])
def test_the_reported_dates_are_refused_with_a_reason(case: Case, value: str) -> None:
    name = "start_date" if value.startswith("0001") else "end_date"
    r = _client().get("/open311/v2/requests.json", {name: value})
    assert r.status_code == 400
    assert name in r.json()[0]["description"]


OPEN311_NONSENSE = [
    ("/open311/v2/requests.json", {"service_request_id": ",".join(["x"] * 101)}),
    ("/open311/v2/requests.json", {"service_request_id": "\x00"}),
    ("/open311/v2/requests.json", {"service_code": "\x00"}),
    ("/open311/v2/requests.json", {"service_code": "ä" * 5000}),
    ("/open311/v2/requests.json", {"status": "maybe"}),
    ("/open311/v2/requests.json", {"start_date": "2026-11-26", "end_date": "2026-11-01"}),
    ("/open311/v2/requests.json", {"start_date": "\x00"}),
    ("/open311/v2/requests.xml", {"service_request_id": "a" * 10000}),
    ("/open311/v2/requests/" + "9" * 200 + ".json", {}),
    ("/open311/v2/requests/NO-SUCH.xml", {}),
    ("/open311/v2/services/NO-SUCH.json", {}),
    ("/open311/v2/services/" + "a" * 300 + ".xml", {}),
    ("/open311/v2/services.csv", {}),
    ("/open311/v2/services.json", {"jurisdiction_id": "\x00"}),
]


@pytest.mark.parametrize(("path", "params"), OPEN311_NONSENSE)
def test_open311_nonsense_is_4xx(case: Case, path: str, params: dict[str, str]) -> None:
    r = _client().get(path, params)
    assert r.status_code < 500, (path, params, r.status_code)


def test_services_nonsense_is_4xx(hall: SimpleNamespace, case: Case, make_user: Callable[..., Any]) -> None:
    supervisor = make_user(Role.DISTRICT_SUPERVISOR, hall.tree.nanshan)
    officer = hall.officers["T-MZ"]
    users = [None, hall.clerk, officer, hall.resident_user, supervisor]
    api = "/api/v1/services"
    gets = [
        (f"{api}/cases", {"offset": "99999999999999999999"}),
        (f"{api}/cases", {"limit": "-1"}),
        (f"{api}/cases", {"q": "\x00"}),
        (f"{api}/cases", {"q": "%" * 100}),
        (f"{api}/cases", {"department": "\x00"}),
        (f"{api}/cases", {"status": "\x00"}),
        (f"{api}/cases/{'9' * 30}", {}),
        (f"{api}/cases/%00", {}),
        (f"{api}/catalog/%00", {}),
        (f"{api}/catalog", {"applicant_type": "robot"}),
        (f"{api}/tasks", {"offset": "-5"}),
        (f"{api}/tasks", {"limit": "10000"}),
        (f"{api}/track", {"number": "\x00", "tail": "\x00"}),
        (f"{api}/track", {"number": "x" * 100, "tail": "1"}),
        (f"{api}/track", {}),
        (f"{api}/figures", {"place_id": "0"}),
        (f"{api}/figures", {"place_id": "99999999999999999999"}),
        (f"{api}/figures", {"department": "%%%"}),
        ("/services/track", {"number": "\x00", "tail": "\x00\x00\x00\x00"}),
        ("/services/track", {"number": "x" * 1000, "tail": "1234"}),
        ("/services/board/", {"department": "99999999999999999999999"}),
        ("/services/board/", {"department": "\x00"}),
        ("/services/tasks/", {"status": "\x00", "mine": "\x00"}),
        ("/services/tasks/99999999999999999999999/", {}),
        ("/services/applications/%00/", {}),
        ("/services/applications/" + "9" * 300 + "/receipt.pdf", {}),
        ("/services/online/apply/", {"items": "\x00"}),
        ("/services/online/apply/", {"bundle": "\x00"}),
        ("/services/online/cases/%00/", {}),
        ("/services/online/cases/" + "x" * 500 + "/", {}),
    ]
    posts = [
        (f"{api}/cases/{case.number}/reveal", {"field": "\x00", "reason": "x"}),
        (f"{api}/cases/{case.number}/supplement", {}),
        (f"{api}/cases/{case.number}/review", {"level": 99999999999999999999}),
        (f"{api}/cases/{case.number}/deliver", {"method": "mail", "address": "\x00"}),
        (f"{api}/tasks/1/claim", {"expected_version": 99999999999999999999}),
        (f"{api}/tasks/1/decide", {"approve": "maybe"}),
        (f"{api}/tasks/1/supplement", {"items": ["\x00"]}),
        (f"{api}/applications", {"applicant_number": "\x00", "item_codes": ["\x00"]}),
        (f"{api}/applications", {"applicant_number": hall.number, "item_codes": ["T-MZ-001"],
                                 "form": {"reason": {"nested": [1, 2]}}, "idempotency_key": "n-1"}),
        (f"{api}/applications", {"applicant_number": hall.number, "item_codes": ["T-MZ-001"],
                                 "form": {"household_size": "1e999999"}, "idempotency_key": "n-2"}),
        (f"{api}/applications", {"applicant_number": hall.number, "item_codes": ["T-MZ-001"],
                                 "documents": {"id_card": 0}, "idempotency_key": "n-3"}),
    ]
    for user in users:
        client = _client(user)
        for path, params in gets:
            r = client.get(path, params)
            assert r.status_code < 500, (user, path, params, r.status_code)
        for path, body in posts:
            r = client.post(path, json.dumps(body), content_type="application/json")
            assert r.status_code < 500, (user, path, body, r.status_code)
        for path, form in [
            (f"/services/cases/{case.number}/reveal/", {"field": "\x00"}),
            ("/services/window/", {"step": "accept", "number": "\x00"}),
            ("/services/window/", {"step": "\x00", "number": hall.number, "items": "\x00"}),
            (f"/services/window/cases/{case.number}/pickup/", {"method": "\x00", "version": "x"}),
            ("/services/window/notice.pdf", {"token": "\x00"}),
            ("/services/tasks/1/claim/", {"version": "99999999999999999999999"}),
            ("/services/tasks/1/decide/", {"decision": "\x00", "version": "-1"}),
            ("/services/tasks/1/supplement/", {"items": "\x00", "version": "1"}),
            ("/services/tasks/1/deliver/", {"method": "mail", "version": "99999999999999999999"}),
            (f"/services/online/cases/{case.number}/review/", {"level": "99999999999999999999"}),
            (f"/services/online/cases/{case.number}/supplement/", {}),
            ("/services/online/apply/", {"items": "T-MZ-001", "applicant": "\x00", "idempotency_key": "x" * 200}),
        ]:
            r = client.post(path, form)
            assert r.status_code < 500, (user, path, form, r.status_code)
