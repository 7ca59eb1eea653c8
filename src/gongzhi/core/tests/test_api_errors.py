"""Every error the API gives has one shape (issue #10): ``{"detail": [{loc, msg, type, field,
message, code}], ...}`` — an action's ActionError, ninja's validation and HTTP errors, 404, 403."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.test import Client, RequestFactory
from ninja.errors import AuthenticationError, HttpError

from gongzhi.api import api
from gongzhi.core.errors import ConflictError, NotAllowedError

KEYS = {"loc", "msg", "type", "field", "message", "code"}


def _body(response: Any) -> dict[str, Any]:
    body = json.loads(response.content)
    assert isinstance(body["detail"], list) and body["detail"], body
    for item in body["detail"]:
        assert set(item) == KEYS, item
    return body


def _handled(exc: Exception) -> Any:
    return api.on_exception(RequestFactory().get("/api/v1/x"), exc)


def test_action_errors_render_with_their_status_field_code_and_extra() -> None:
    response = _handled(ConflictError("版本已变化", field="version", extra={"current": 3}))
    assert response.status_code == 409
    body = _body(response)
    assert body["current"] == 3
    assert body["detail"][0]["field"] == "version" and body["detail"][0]["code"] == "conflict"
    assert _handled(NotAllowedError("不可")).status_code == 403


def test_several_faults_are_several_items() -> None:
    from gongzhi.core.errors import ActionError

    body = _body(_handled(ActionError("x", errors=[("a", "甲有误"), ("b.c", "乙有误")])))
    assert [(i["field"], i["message"]) for i in body["detail"]] == [("a", "甲有误"), ("b.c", "乙有误")]
    assert body["detail"][1]["loc"] == ["body", "b", "c"]


@pytest.mark.parametrize(
    ("exc", "status", "code"),
    [
        (Http404("Place matching query does not exist"), 404, "not_found"),
        (PermissionDenied(), 403, "not_allowed"),
        (HttpError(404, "区划代码 X 不存在"), 404, "not_found"),
        (AuthenticationError(), 401, "not_authenticated"),
        (HttpError(400, "Cannot parse request body"), 400, "bad_request"),
    ],
)
def test_django_and_ninja_errors_render_the_same_shape(exc: Exception, status: int, code: str) -> None:
    response = _handled(exc)
    assert response.status_code == status
    item = _body(response)["detail"][0]
    assert item["code"] == code and item["message"]
    assert "matching query" not in item["message"]  # Http404's text stays on the server


@pytest.mark.django_db
def test_validation_errors_name_the_field_and_do_not_echo_the_input(client: Client) -> None:
    response = client.get("/api/v1/calendar/deadline", {"start": "440305199001011239", "working_days": "x"})
    assert response.status_code == 422
    body = _body(response)
    fields = {i["field"]: i for i in body["detail"]}
    assert set(fields) == {"start", "working_days"}
    assert fields["working_days"]["loc"] == ["query", "working_days"]
    assert fields["working_days"]["message"] == "应为整数"
    assert "440305199001011239" not in response.content.decode()


@pytest.mark.django_db
def test_action_error_from_an_endpoint(client: Client) -> None:
    response = client.get("/api/v1/calendar/deadline", {"start": "9999-12-31", "working_days": "1"})
    assert response.status_code == 422
    item = _body(response)["detail"][0]
    assert item["field"] == "start" and item["code"] == "out_of_range" and item["loc"] == ["body", "start"]


@pytest.mark.django_db
def test_unauthenticated_and_unknown_places_answer_the_shape(client: Client) -> None:
    _body(client.get("/api/v1/places/NOPE"))
    schema = client.get("/api/v1/openapi.json").json()
    error_out = schema["components"]["schemas"]["ErrorOut"]
    assert error_out["properties"]["detail"]["items"] == {"$ref": "#/components/schemas/ErrorItemOut"}
    assert set(schema["components"]["schemas"]["ErrorItemOut"]["required"]) == KEYS
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            for status, answer in operation["responses"].items():
                if status.startswith("4"):
                    ref = answer["content"]["application/json"]["schema"]
                    assert ref == {"$ref": "#/components/schemas/ErrorOut"}, (method, path, status)
