"""Open311 GeoReport v2: spec field names, XML variants, expected_datetime, no personal data."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from gongzhi.services.actions import Intake, do_submit_application
from gongzhi.services.models import Case
from gongzhi.services.open311 import expected_datetime

pytestmark = pytest.mark.django_db
BASE = "/open311/v2"
SH = ZoneInfo("Asia/Shanghai")

SERVICE_FIELDS = {"service_code", "service_name", "description", "metadata", "type", "keywords", "group"}
REQUEST_FIELDS = {
    "service_request_id", "status", "status_notes", "service_name", "service_code", "description",
    "agency_responsible", "service_notice", "requested_datetime", "updated_datetime", "expected_datetime",
    "address", "address_id", "zipcode", "lat", "long", "media_url",
}
ATTRIBUTE_FIELDS = {"variable", "code", "datatype", "required", "datatype_description", "order", "description"}


@pytest.fixture
def case(hall: SimpleNamespace) -> Case:
    from gongzhi.places.models import Place

    Place.objects.filter(pk=hall.tree.pingshan.pk).update(lat=Decimal("22.561234"), lng=Decimal("113.951234"))
    intake = Intake(hall.number, ["T-MZ-001"], form={"reason": "家中突发困难"}, accept_gaps=True,
                    address="平山一路8号301房")
    app = do_submit_application(intake, actor=hall.clerk, channel="window", idempotency_key="o311")
    return app.cases.get()


def parse_xml(content: bytes) -> ET.Element:
    return ET.fromstring(content)  # noqa: S314 — our own response, not untrusted input


def get_json(path: str, **params: Any) -> Any:
    r = Client().get(BASE + path, params)
    assert r.status_code == 200, r.content
    assert r["Content-Type"].startswith("application/json")
    return r.json()


def get_xml(path: str, **params: Any) -> ET.Element:
    r = Client().get(BASE + path, params)
    assert r.status_code == 200, r.content
    assert r["Content-Type"].startswith("text/xml")
    return parse_xml(r.content)


def test_service_list_json(hall: SimpleNamespace) -> None:
    rows = get_json("/services.json")
    assert {r["service_code"] for r in rows} == {"T-MZ-001", "T-RS-002", "T-SJ-003"}
    for row in rows:
        assert set(row) == SERVICE_FIELDS
        assert row["type"] in {"realtime", "batch", "blackbox"}
        assert isinstance(row["metadata"], bool)
    subsidy = next(r for r in rows if r["service_code"] == "T-MZ-001")
    assert subsidy["service_name"] == "临时救助申请" and subsidy["group"] == "民政局"
    assert subsidy["metadata"] is True and "T-MZ-001" in subsidy["keywords"].split(",")


def test_service_list_xml(hall: SimpleNamespace) -> None:
    root = get_xml("/services.xml")
    assert root.tag == "services"
    services = root.findall("service")
    assert len(services) == 3
    assert {child.tag for child in services[0]} == SERVICE_FIELDS
    subsidy = next(s for s in services if s.findtext("service_code") == "T-MZ-001")
    assert subsidy.findtext("service_name") == "临时救助申请" and subsidy.findtext("metadata") == "true"


def test_service_definition_attributes(hall: SimpleNamespace) -> None:
    data = get_json("/services/T-MZ-001.json")
    assert data["service_code"] == "T-MZ-001"
    reason, size = data["attributes"]
    assert set(reason) == ATTRIBUTE_FIELDS
    assert reason["code"] == "reason" and reason["datatype"] == "string" and reason["required"] is True
    assert reason["order"] == 1 and reason["description"] == "申请事由" and reason["variable"] is True
    assert "50" in reason["datatype_description"]
    assert size["datatype"] == "number" and size["required"] is False and "1–20" in size["datatype_description"]

    choice = get_json("/services/T-RS-002.json")["attributes"][0]
    assert choice["datatype"] == "singlevaluelist"
    assert choice["values"] == [{"key": "购房", "name": "购房"}, {"key": "入学", "name": "入学"},
                                {"key": "其他", "name": "其他"}]

    root = get_xml("/services/T-RS-002.xml")
    assert root.tag == "service_definition" and root.findtext("service_code") == "T-RS-002"
    attribute = root.find("attributes/attribute")
    assert attribute is not None and attribute.findtext("datatype") == "singlevaluelist"
    assert [v.findtext("key") for v in attribute.findall("values/value")] == ["购房", "入学", "其他"]


def test_unknown_service_is_an_open311_error(hall: SimpleNamespace) -> None:
    r = Client().get(f"{BASE}/services/NOPE.json")
    assert r.status_code == 404
    (error,) = r.json()
    assert error["code"] == 404 and error["description"]
    r = Client().get(f"{BASE}/services/NOPE.xml")
    root = parse_xml(r.content)
    assert root.tag == "errors" and root.findtext("error/code") == "404"


def test_requests_json_fields_and_values(hall: SimpleNamespace, case: Case) -> None:
    (row,) = get_json("/requests.json")
    assert set(row) == REQUEST_FIELDS
    assert row["service_request_id"] == case.number
    assert row["status"] == "open" and row["status_notes"] == "已受理，等待部门审核"
    assert row["service_code"] == "T-MZ-001" and row["service_name"] == "临时救助申请"
    assert row["agency_responsible"] == "民政局"
    assert row["address"] == "平山社区"
    assert row["lat"] == pytest.approx(22.561234) and row["long"] == pytest.approx(113.951234)
    assert row["media_url"] == ""
    requested = datetime.fromisoformat(row["requested_datetime"])
    assert requested.utcoffset() == timedelta(hours=8)
    assert abs(requested - case.accepted_at) < timedelta(seconds=1)
    assert row["expected_datetime"] == f"{case.deadline.isoformat()}T23:59:59+08:00"
    assert "5 个工作日" in row["service_notice"]


def test_no_personal_data_in_requests(hall: SimpleNamespace, case: Case) -> None:
    for fmt in ("json", "xml"):
        body = Client().get(f"{BASE}/requests.{fmt}").content.decode()
        body += Client().get(f"{BASE}/requests/{case.number}.{fmt}").content.decode()
        for secret in ("张伟明", hall.number, hall.person.number_masked, "平山一路", "家中突发困难", "13812345678"):
            assert secret not in body


def test_expected_datetime_is_the_end_of_the_deadline_day() -> None:
    assert expected_datetime(date(2026, 10, 8)) == "2026-10-08T23:59:59+08:00"
    moment = datetime.fromisoformat(expected_datetime(date(2026, 12, 31)))
    assert moment.astimezone(ZoneInfo("UTC")).isoformat() == "2026-12-31T15:59:59+00:00"


def test_requests_xml_and_single_request(hall: SimpleNamespace, case: Case) -> None:
    root = get_xml("/requests.xml")
    assert root.tag == "service_requests"
    (request,) = root.findall("request")
    assert {c.tag for c in request} == REQUEST_FIELDS
    assert request.findtext("service_request_id") == case.number
    assert request.findtext("expected_datetime") == f"{case.deadline.isoformat()}T23:59:59+08:00"

    single = get_json(f"/requests/{case.number}.json")
    assert isinstance(single, list) and len(single) == 1 and single[0]["service_request_id"] == case.number
    root = get_xml(f"/requests/{case.number}.xml")
    assert root.tag == "service_requests" and len(root.findall("request")) == 1
    r = Client().get(f"{BASE}/requests/GZ0000.json")
    assert r.status_code == 404 and r.json()[0]["code"] == 404


def test_request_filters(hall: SimpleNamespace, case: Case) -> None:
    from gongzhi.services.actions import do_decide_task  # noqa: F401 — closed cases come from instant items

    instant = do_submit_application(Intake(hall.number, ["T-RS-002"], form={"purpose": "入学"}),
                                    actor=hall.clerk, channel="window", idempotency_key="o311-instant").cases.get()
    assert {r["service_request_id"] for r in get_json("/requests.json")} == {case.number, instant.number}
    assert [r["service_request_id"] for r in get_json("/requests.json", status="open")] == [case.number]
    closed = get_json("/requests.json", status="closed")
    assert [r["service_request_id"] for r in closed] == [instant.number] and closed[0]["status"] == "closed"
    assert [r["service_request_id"] for r in get_json("/requests.json", service_code="T-RS-002")] == [instant.number]
    both = get_json("/requests.json", service_request_id=f"{instant.number},{case.number},NOPE", status="open")
    assert [r["service_request_id"] for r in both] == [instant.number, case.number]  # other params ignored

    today = case.accepted_on
    assert len(get_json("/requests.json", start_date=today.isoformat(), end_date=today.isoformat())) == 2
    tomorrow = (today + timedelta(days=1)).isoformat()
    assert get_json("/requests.json", start_date=f"{tomorrow}T00:00:00+08:00") == []
    # Older than 90 days: outside the default window, inside an explicit one.
    Case.objects.filter(pk=case.pk).update(accepted_at=case.accepted_at - timedelta(days=120))
    assert [r["service_request_id"] for r in get_json("/requests.json")] == [instant.number]
    start = (today - timedelta(days=200)).isoformat()
    assert len(get_json("/requests.json", start_date=start)) == 2


def test_bad_parameters_are_open311_errors(hall: SimpleNamespace) -> None:
    r = Client().get(f"{BASE}/requests.json", {"start_date": "2026-02-30"})
    assert r.status_code == 400 and "start_date" in r.json()[0]["description"]
    r = Client().get(f"{BASE}/requests.xml", {"status": "pending"})
    assert r.status_code == 400 and parse_xml(r.content).findtext("error/code") == "400"


def test_read_only(hall: SimpleNamespace) -> None:
    r = Client().post(f"{BASE}/requests.json", {"service_code": "T-MZ-001", "description": "x"})
    assert r.status_code == 405 and r["Allow"] == "GET, HEAD"
    assert "/api/v1/services/applications" in r.json()[0]["description"]
    assert Case.objects.count() == 0
    assert json.loads(Client().get(f"{BASE}/requests.json").content) == []
