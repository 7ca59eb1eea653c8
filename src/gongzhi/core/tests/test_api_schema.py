"""Schemathesis over every /api/v1/ operation, as four kinds of caller (issue #10).

For each operation and each of a resident, a window clerk, a district supervisor and an
administrator (users, roles and tokens made through the accounts actions), Hypothesis generates
requests from the published schema and every answer must: not be a server error, carry a status
code the schema documents for that operation, and match the documented body schema and content
type. Runs in-process through WSGI (FIELD-NOTES: found a real 500 in seconds on a toy API).
``max_examples`` is bounded so the whole run stays a CI-sized test (~1 min on 2 cores).
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from gongzhi.core.tests.actors import SYSTEM as TEST_SYSTEM
from gongzhi.wsgi import application

CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance, content_type_conformance]
EXAMPLES_PER_ROLE = 8

# Apps whose api.py still renders some errors itself (``{"detail": "…"}``, items without
# ``field``/``code``) instead of letting them reach gongzhi/api.py's one handler: their engineers
# are replacing those helpers (issue #10). Until that is merged their *error* answers are checked
# for everything but the body's shape (still: no 5xx, documented status, JSON). Delete an entry
# when its app is converted — the full check then applies to it.
OWN_ERROR_BODIES: tuple[str, ...] = ()


@pytest.fixture
def role_tokens(db: None) -> dict[str, str]:
    from gongzhi.accounts.actions import do_assign_role, do_create_user, do_issue_api_token
    from gongzhi.accounts.enums import Role
    from gongzhi.places.actions import do_create_place

    city = do_create_place("city", "440300", "深圳市", None, actor=TEST_SYSTEM)
    district = do_create_place("district", "440305", "南山区", city, actor=TEST_SYSTEM)
    subdistrict = do_create_place("subdistrict", "440305002", "南头街道", district, actor=TEST_SYSTEM)
    community = do_create_place("community", "440305002001", "同乐社区", subdistrict, actor=TEST_SYSTEM)
    tokens: dict[str, str] = {}
    for role, place in [
        (Role.RESIDENT, community),
        (Role.WINDOW_CLERK, community),
        (Role.DISTRICT_SUPERVISOR, district),
        (Role.ADMINISTRATOR, city),
    ]:
        user = do_create_user(f"schema-{role.value}", f"接口测试{role.label}", actor=TEST_SYSTEM)
        do_assign_role(user, role, place, actor=TEST_SYSTEM)
        _, secret = do_issue_api_token(user, "schemathesis", actor=TEST_SYSTEM)
        tokens[role.value] = secret
    return tokens


def _schema() -> Any:
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)


def test_api_conforms_to_its_schema(role_tokens: dict[str, str]) -> None:
    """Each operation × role gets its own Hypothesis run; every failure is collected and reported."""
    # Schemathesis calls the WSGI app directly; Django would close the test transaction's
    # connection at each request start (Django's own test client disconnects this signal too).
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        failures, operations = _run_all(role_tokens)
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
    assert operations >= 30  # every app's router is in the schema
    assert not failures, f"{len(failures)} failing operation/role pairs:\n\n" + "\n\n".join(failures)


def _property(operation: Any, token: str) -> Any:
    @given(case=operation.as_strategy())
    @settings(max_examples=EXAMPLES_PER_ROLE, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def check(case: Any) -> None:
        # positive_data_acceptance is left out on purpose: the API validates meaning beyond what
        # JSON Schema can say (no 2026-02-30, dates in a supported range) and answers such input
        # with a documented 422 — which is correct, not a violation.
        response = case.call(headers={"Authorization": f"Bearer {token}"})
        checks = CHECKS
        if response.status_code >= 400 and operation.path.startswith(OWN_ERROR_BODIES):
            checks = [c for c in CHECKS if c is not response_schema_conformance]
        case.validate_response(response, checks=checks, headers={"Authorization": f"Bearer {token}"})

    return check


def _run_all(role_tokens: dict[str, str]) -> tuple[list[str], int]:
    failures: list[str] = []
    operations = 0
    for result in _schema().get_all_operations():
        operation = result.ok()
        operations += 1
        for role, token in role_tokens.items():
            check = _property(operation, token)
            try:
                check()
            except (Exception, BaseExceptionGroup) as exc:  # collect: one run reports every break
                failures.append(f"{operation.method.upper()} {operation.path} as {role}: {str(exc)[:1500]}")
    return failures, operations
