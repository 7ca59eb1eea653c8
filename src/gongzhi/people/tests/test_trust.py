"""Issue #10: lookups by full number are audited and rate-limited; registering tells outsiders nothing."""

from __future__ import annotations

from datetime import date

import pytest

from gongzhi.accounts.enums import Role
from gongzhi.core.models import AuditEvent
from gongzhi.core.tests.actors import SYSTEM as TEST_SYSTEM
from gongzhi.people import actions, errors, queries
from gongzhi.people.models import Person
from gongzhi.people.numbers import make_id_number

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n%%EOF\n"


def number(n: int) -> str:
    return make_id_number("440305", date(1980, 1, 1 + n % 28), 100 + n)


@pytest.fixture
def clerk(place_tree, make_user):
    return make_user(Role.WINDOW_CLERK, place_tree.pingshan)


# --- 1. Lookups by full number are audited and rate-limited ----------------------------------


def test_every_lookup_by_number_is_audited_with_the_masked_number(clerk, place_tree):
    person = actions.do_register_person(number(1), "张伟", home_place=place_tree.wenhua, actor=TEST_SYSTEM)
    assert queries.find_person_by_number(clerk, number(1)) == person
    assert queries.find_person_by_number(clerk, number(2)) is None
    # The lookups are logged at once and become audit events on the worker's next pass.
    assert actions.fold_lookups_into_audit() == 2
    assert actions.fold_lookups_into_audit() == 0  # folded once only
    from gongzhi.core.registry import REGISTRY

    assert REGISTRY.periodic["people.fold_lookups"] is actions.fold_lookups_into_audit
    events = list(AuditEvent.objects.filter(verb="person.lookup", actor=clerk).order_by("pk"))
    assert [e.after["found"] for e in events] == [True, False]
    assert events[0].object_id == str(person.pk)
    assert events[0].after["number"] == number(1)[:4] + "*" * 10 + number(1)[-4:]
    for event in events:
        assert number(1) not in str(event.after) and number(2) not in str(event.after)


def test_lookups_by_number_are_limited_per_user(clerk, place_tree, make_user, settings):
    settings.PEOPLE_LOOKUP_LIMITS = ((60, 3),)
    for n in range(3):
        queries.find_person_by_number(clerk, number(n))
    # The same applicant again (the window desk looks them up at every step) costs nothing.
    queries.find_person_by_number(clerk, number(0))
    with pytest.raises(errors.LookupRateLimited) as refused:
        queries.find_person_by_number(clerk, number(3))
    assert refused.value.status == 429 and "过于频繁" in refused.value.message
    # The refusal is audited once, not once per refused try (no flood of the audit log).
    with pytest.raises(errors.LookupRateLimited):
        queries.find_person_by_number(clerk, number(4))
    assert AuditEvent.objects.filter(verb="person.lookup_refused", actor=clerk).count() == 1
    # Another clerk has their own quota.
    other = make_user(Role.WINDOW_CLERK, place_tree.pingshan)
    assert queries.find_person_by_number(other, number(3)) is None


def test_api_answers_an_exhausted_quota_with_429(client, clerk, settings):
    settings.PEOPLE_LOOKUP_LIMITS = ((60, 2),)
    client.force_login(clerk)
    for n in range(2):
        assert client.get("/api/v1/people/persons", {"number": number(n)}).status_code == 200
    response = client.get("/api/v1/people/persons", {"number": number(2)})
    assert response.status_code == 429
    detail = response.json()["detail"][0]
    assert detail["field"] == "number" and detail["code"] == "rate_limited" and "过于频繁" in detail["message"]
    assert response.json()["retry_after"] > 0


def test_register_via_api_does_not_tell_outsiders_whether_a_number_exists(client, place_tree, make_user):
    actions.do_register_person(number(1), "张伟", home_place=place_tree.wenhua, actor=TEST_SYSTEM)
    for outsider in (make_user(None), make_user(Role.COMMUNITY_SUPERVISOR, place_tree.pingshan)):
        client.force_login(outsider)
        answers = []
        for n in (1, 2):  # registered elsewhere / never registered
            response = client.post(
                "/api/v1/people/persons",
                {"number": number(n), "name": "张伟", "home_place_id": place_tree.pingshan.pk},
                content_type="application/json",
            )
            answers.append((response.status_code, response.json()))
        assert answers[0] == answers[1]
        assert answers[0][0] == 422
    assert Person.objects.count() == 1


def test_register_counts_as_a_lookup(place_tree, make_user, settings):
    settings.PEOPLE_LOOKUP_LIMITS = ((60, 1),)
    worker = make_user(Role.COMMUNITY_WORKER, place_tree.pingshan)
    actions.do_register_person(number(1), "张伟", home_place=place_tree.pingshan, actor=worker)
    with pytest.raises(errors.LookupRateLimited):
        actions.do_register_person(number(2), "李娜", home_place=place_tree.pingshan, actor=worker)
    assert Person.objects.count() == 1


# --- 6. One error shape ------------------------------------------------------------------------


def test_api_errors_have_the_platform_shape(client, clerk):
    client.force_login(clerk)
    bad = number(1)[:-1] + ("0" if number(1)[-1] != "0" else "1")
    response = client.post("/api/v1/people/persons", {"number": bad, "name": "张伟"}, content_type="application/json")
    assert response.status_code == 422
    detail = response.json()["detail"][0]
    assert detail["field"] == "number" and detail["code"] == "check_character" and "校验位" in detail["message"]
    assert detail["loc"] == ["body", "number"] and detail["msg"] == detail["message"]



def test_systems_with_the_permission_have_no_quota_but_are_audited(place_tree, make_user, settings):
    from django.contrib.auth.models import Permission

    settings.PEOPLE_LOOKUP_LIMITS = ((60, 1),)
    system = make_user(Role.WINDOW_CLERK, place_tree.pingshan)
    system.user_permissions.add(Permission.objects.get(codename="unlimited_number_lookup"))
    system = type(system).objects.get(pk=system.pk)
    for n in range(3):
        queries.find_person_by_number(system, number(n))
    assert actions.fold_lookups_into_audit() == 3


def test_the_fold_drops_audited_rows_past_the_longest_window(clerk, settings):
    from datetime import timedelta

    from django.utils import timezone

    from gongzhi.people.models import NumberLookup

    settings.PEOPLE_LOOKUP_LIMITS = ((60, 5),)
    queries.find_person_by_number(clerk, number(1))
    NumberLookup.objects.update(at=timezone.now() - timedelta(seconds=120))
    assert actions.fold_lookups_into_audit() == 1  # not yet audited: kept until folded
    queries.find_person_by_number(clerk, number(2))
    actions.fold_lookups_into_audit()
    assert [row.number_masked for row in NumberLookup.objects.all()] == [number(2)[:4] + "*" * 10 + number(2)[-4:]]


def test_a_writer_told_a_number_is_on_file_elsewhere_is_audited(place_tree, make_user):
    other = actions.do_register_person(number(1), "张伟", home_place=place_tree.wenhua, actor=TEST_SYSTEM)
    worker = make_user(Role.COMMUNITY_WORKER, place_tree.pingshan)
    with pytest.raises(errors.PlaceOutOfScope):
        actions.do_register_person(number(1), "张伟", home_place=place_tree.pingshan, actor=worker)
    actions.fold_lookups_into_audit()
    event = AuditEvent.objects.get(verb="person.lookup", actor=worker)
    assert event.object_id == str(other.pk) and event.after["via"] == "register_refused"
    assert number(1) not in str(event.after)
