""""Apply only as yourself or for the organisation you act for" — one rule for page, session and token.

Window clerks and department officers serve whoever walks in (一窗办), through the desk or their
system's token. Everyone else — residents, enterprise agents — files only as themselves or for
an organisation they are an agent of, however they are authenticated.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client

from gongzhi.accounts.actions import do_issue_api_token
from gongzhi.accounts.enums import Role
from gongzhi.core.tests.actors import SYSTEM as TEST_SYSTEM
from gongzhi.people.actions import do_add_agent, do_register_organisation
from gongzhi.people.numbers import make_uscc
from gongzhi.services.actions import Intake, do_submit_application
from gongzhi.services.errors import NotAllowed
from gongzhi.services.models import Application, ServiceItem

pytestmark = pytest.mark.django_db
SYSTEM = TEST_SYSTEM


@pytest.fixture
def agency(hall: SimpleNamespace, make_user: Callable[..., Any]) -> SimpleNamespace:
    """An enterprise whose legal representative is hall.person, and an agent acting for it."""
    org = do_register_organisation(make_uscc("9", "1", "440305", "MA5DXXXX0"), "平山小店有限公司", "enterprise",
                                   hall.tree.pingshan, legal_representative=hall.person, actor=SYSTEM)
    agent = make_user(Role.ENTERPRISE_AGENT, hall.tree.pingshan, username="agent")
    do_add_agent(org, agent, actor=SYSTEM)
    ServiceItem.objects.create(code="T-SJ-009", name="企业信息变更", department=hall.market, promised_days=3,
                               statutory_days=10, applicant_type="enterprise",
                               form_schema=[{"name": "note", "label": "说明", "type": "text"}])
    return SimpleNamespace(org=org, agent=agent)


def _post(client: Client, body: dict[str, Any], key: str, headers: dict[str, str] | None = None) -> Any:
    return client.post("/api/v1/services/applications", json.dumps(body), content_type="application/json",
                       headers={"Idempotency-Key": key, **(headers or {})})


def _as_legal_rep(hall: SimpleNamespace) -> dict[str, Any]:
    return {"applicant_number": hall.number, "item_codes": ["T-MZ-001"],
            "form": {"reason": "家中突发困难"}, "accept_gaps": True}


def test_agent_token_cannot_apply_as_the_legal_representative(hall: SimpleNamespace, agency: SimpleNamespace) -> None:
    _row, secret = do_issue_api_token(agency.agent, "企业对接", actor=SYSTEM)
    r = _post(Client(), _as_legal_rep(hall), "agent-token-1", {"Authorization": f"Bearer {secret}"})
    assert r.status_code == 403, r.content
    assert [d["field"] for d in r.json()["detail"]] == ["applicant_number"]
    assert not Application.objects.exists()


def test_agent_session_gets_the_same_answer(hall: SimpleNamespace, agency: SimpleNamespace) -> None:
    client = Client()
    client.force_login(agency.agent)
    r = _post(client, _as_legal_rep(hall), "agent-session-1")
    assert r.status_code == 403 and not Application.objects.exists()


@pytest.mark.parametrize("channel", ["online", "api"])
def test_the_action_refuses_whatever_the_channel(hall: SimpleNamespace, agency: SimpleNamespace, channel: str) -> None:
    intake = Intake(applicant_number=hall.number, item_codes=["T-MZ-001"], form={"reason": "x"}, accept_gaps=True)
    with pytest.raises(NotAllowed) as err:
        do_submit_application(intake, actor=agency.agent, channel=channel, idempotency_key=f"a-{channel}")
    assert err.value.field == "applicant_number"
    assert not Application.objects.exists()


def test_agent_token_applies_for_its_organisation(hall: SimpleNamespace, agency: SimpleNamespace) -> None:
    _row, secret = do_issue_api_token(agency.agent, "企业对接", actor=SYSTEM)
    body = {"applicant_number": agency.org.uscc, "item_codes": ["T-SJ-009"], "form": {"note": "变更地址"}}
    r = _post(Client(), body, "agent-org-1", {"Authorization": f"Bearer {secret}"})
    assert r.status_code == 201, r.content
    assert Application.objects.get().applicant_org == agency.org


def test_resident_token_cannot_apply_for_someone_else(hall: SimpleNamespace) -> None:
    _row, secret = do_issue_api_token(hall.resident_user, "个人", actor=SYSTEM)
    body = {**_as_legal_rep(hall), "applicant_number": hall.other_number}
    r = _post(Client(), body, "resident-token-1", {"Authorization": f"Bearer {secret}"})
    assert r.status_code == 403 and not Application.objects.exists()


def test_clerk_token_still_serves_any_applicant(hall: SimpleNamespace) -> None:
    _row, secret = do_issue_api_token(hall.clerk, "窗口系统", actor=SYSTEM)
    r = _post(Client(), _as_legal_rep(hall), "clerk-token-1", {"Authorization": f"Bearer {secret}"})
    assert r.status_code == 201, r.content
