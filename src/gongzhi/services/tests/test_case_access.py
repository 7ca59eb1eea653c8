"""Who reads case files: one rule (``accounts.enums.CASE_READ_ROLES``) behind every interface.

Council members, moderators and asset managers hold staff roles over a community, but running a
meeting or a collective company needs no access to residents' applications (the same reason the
people register leaves them out, PIPL Art. 6). Case numbers are public (Open311), so every
interface that takes a number must answer 404 to them.
"""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client

from gongzhi.accounts.enums import CASE_READ_ROLES, PERSON_READ_ROLES, Role
from gongzhi.services import queries
from gongzhi.services.actions import Intake, do_submit_application
from gongzhi.services.models import Case

pytestmark = pytest.mark.django_db

NO_CASE_ROLES = [Role.COUNCIL_MEMBER, Role.COUNCIL_MODERATOR, Role.ASSET_MANAGER]


@pytest.fixture
def case(hall: SimpleNamespace) -> Case:
    intake = Intake(applicant_number=hall.number, item_codes=["T-MZ-001"],
                    form={"reason": "家中突发困难", "household_size": "3"}, accept_gaps=True,
                    address="南山区桃源街道平山一路8号")
    app = do_submit_application(intake, actor=hall.clerk, channel="window", idempotency_key="access-1")
    return app.cases.get()


def test_case_readers_are_the_register_readers() -> None:
    # A case file holds the applicant's name, address and form: whoever may not read the
    # register may not read it here either.
    assert CASE_READ_ROLES == PERSON_READ_ROLES
    assert not CASE_READ_ROLES & set(NO_CASE_ROLES)


@pytest.mark.parametrize("role", NO_CASE_ROLES)
def test_roles_without_case_access_get_404_everywhere(
    hall: SimpleNamespace, case: Case, make_user: Callable[..., Any], role: str
) -> None:
    user = make_user(role, hall.tree.pingshan)
    assert not queries.cases_for_user(user).exists()
    assert not queries.search_cases(user, "平山").exists()
    client = Client()
    client.force_login(user)
    api = "/api/v1/services"
    assert client.get(f"{api}/cases/{case.number}").status_code == 404
    listing = client.get(f"{api}/cases")
    assert listing.status_code == 200 and listing.json()["count"] == 0
    assert client.get(f"{api}/cases", {"q": "张伟明"}).json()["count"] == 0
    number = case.application.number
    assert client.get(f"/services/applications/{number}/receipt.pdf").status_code == 404
    assert client.get(f"/services/applications/{number}/").status_code == 404


@pytest.mark.parametrize("role", [Role.COMMUNITY_WORKER, Role.COMMUNITY_SUPERVISOR, Role.AUDITOR])
def test_case_read_roles_still_read_cases_in_their_jurisdiction(
    hall: SimpleNamespace, case: Case, make_user: Callable[..., Any], role: str
) -> None:
    place = hall.tree.pingshan
    user = make_user(role, place)
    client = Client()
    client.force_login(user)
    assert client.get(f"/api/v1/services/cases/{case.number}").status_code == 200
    assert client.get(f"/services/applications/{case.application.number}/receipt.pdf").status_code == 200
