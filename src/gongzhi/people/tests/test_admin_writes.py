"""Issue #10: every admin write goes through an action; refusals are form errors, never silent."""

from __future__ import annotations

from datetime import date

import pytest

from gongzhi.accounts.enums import Role
from gongzhi.core.models import AuditEvent
from gongzhi.core.tests.actors import SYSTEM as TEST_SYSTEM
from gongzhi.people import actions
from gongzhi.people.models import Organisation, Person
from gongzhi.people.numbers import make_id_number, make_uscc

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n%%EOF\n"


def number(n: int) -> str:
    return make_id_number("440305", date(1980, 1, 1 + n % 28), 100 + n)


@pytest.fixture
def clerk(place_tree, make_user):
    return make_user(Role.WINDOW_CLERK, place_tree.pingshan)


# --- 3. Admin writes go through actions and validate in the form -------------------------------


@pytest.fixture
def admin_client(client, make_user):
    client.force_login(make_user(None, superuser=True))
    return client


def test_admin_add_person_with_a_bad_number_is_a_form_error(admin_client, place_tree):
    bad = number(1)[:-1] + ("0" if number(1)[-1] != "0" else "1")
    response = admin_client.post(
        "/admin/people/person/add/",
        {"number": bad, "name": "张伟", "phone": "", "home_place": place_tree.pingshan.pk, "address": ""},
    )
    assert response.status_code == 200
    assert "校验位" in response.content.decode()
    assert response.context["adminform"].form.errors
    assert Person.objects.count() == 0


def test_admin_add_person_with_a_bad_phone_is_a_form_error(admin_client, place_tree):
    response = admin_client.post(
        "/admin/people/person/add/",
        {"number": number(1), "name": "张伟", "phone": "12345", "home_place": place_tree.pingshan.pk, "address": ""},
    )
    assert response.status_code == 200
    assert "phone" in response.context["adminform"].form.errors
    assert Person.objects.count() == 0


def test_admin_person_change_saves_every_field_through_actions(admin_client, place_tree):
    person = actions.do_register_person(number(1), "张伟", home_place=place_tree.pingshan, actor=TEST_SYSTEM)
    response = admin_client.post(
        f"/admin/people/person/{person.pk}/change/",
        {"name": "张伟伟", "home_place": place_tree.pingshan.pk, "address": "新地址", "user": "", "bad_credit": "on"},
    )
    assert response.status_code == 302
    person.refresh_from_db()
    assert (person.name, person.address, person.bad_credit) == ("张伟伟", "新地址", True)
    assert AuditEvent.objects.filter(verb="person.update", object_id=str(person.pk)).exists()
    assert AuditEvent.objects.filter(verb="person.credit", object_id=str(person.pk)).exists()


def test_admin_organisation_change_goes_through_an_action(admin_client, place_tree):
    org = actions.do_register_organisation(
        make_uscc("9", "1", "440300", "MA5F00002"), "旧名称", "enterprise", place_tree.pingshan, actor=TEST_SYSTEM
    )
    form = {"name": "新名称", "kind": "enterprise", "place": place_tree.pingshan.pk, "address": "",
            "legal_representative": "", "bad_credit": "", "documents-TOTAL_FORMS": "0",
            "documents-INITIAL_FORMS": "0", "documents-MIN_NUM_FORMS": "0", "documents-MAX_NUM_FORMS": "1000"}
    response = admin_client.post(f"/admin/people/organisation/{org.pk}/change/", form)
    assert response.status_code == 302
    org.refresh_from_db()
    assert org.name == "新名称"
    event = AuditEvent.objects.get(verb="organisation.update", object_id=str(org.pk))
    assert event.before["name"] == "旧名称" and event.after["name"] == "新名称"


def test_admin_organisation_change_refused_by_the_action_is_a_form_error(client, place_tree, make_user):
    # A community worker over 平山 may not move an organisation to 文华 (outside their scope).
    worker = make_user(Role.COMMUNITY_WORKER, place_tree.pingshan)
    worker.is_staff = True
    worker.save(update_fields=["is_staff"])
    from django.contrib.auth.models import Permission

    worker.user_permissions.add(*Permission.objects.filter(content_type__app_label="people"))
    org = actions.do_register_organisation(
        make_uscc("9", "1", "440300", "MA5F00003"), "企业", "enterprise", place_tree.pingshan, actor=TEST_SYSTEM
    )
    client.force_login(type(worker).objects.get(pk=worker.pk))
    form = {"name": "企业", "kind": "enterprise", "place": place_tree.wenhua.pk, "address": "",
            "legal_representative": "", "bad_credit": "", "documents-TOTAL_FORMS": "0",
            "documents-INITIAL_FORMS": "0", "documents-MIN_NUM_FORMS": "0", "documents-MAX_NUM_FORMS": "1000"}
    response = client.post(f"/admin/people/organisation/{org.pk}/change/", form)
    assert response.status_code == 200
    assert "place" in response.context["adminform"].form.errors
    org.refresh_from_db()
    assert org.place_id == place_tree.pingshan.pk




def _org_form(**fields):
    return {"name": "企业", "kind": "enterprise", "address": "", "legal_representative": "", "bad_credit": "",
            "documents-TOTAL_FORMS": "0", "documents-INITIAL_FORMS": "0", "documents-MIN_NUM_FORMS": "0",
            "documents-MAX_NUM_FORMS": "1000", **fields}


def test_admin_add_organisation_validates_in_the_form_and_registers_through_the_action(
    admin_client, place_tree, make_user
):
    uscc = make_uscc("9", "1", "440300", "MA5F00004")
    bad = uscc[:-1] + ("0" if uscc[-1] != "0" else "1")
    response = admin_client.post("/admin/people/organisation/add/", _org_form(uscc=bad, place=place_tree.pingshan.pk))
    assert response.status_code == 200 and "uscc" in response.context["adminform"].form.errors
    assert not Organisation.objects.exists()
    agent = make_user(None)
    response = admin_client.post(
        "/admin/people/organisation/add/",
        _org_form(uscc=uscc, place=place_tree.pingshan.pk, agents=[agent.pk], bad_credit="on"),
    )
    assert response.status_code == 302
    org = Organisation.objects.get(uscc=uscc)
    assert list(org.agents.all()) == [agent] and org.bad_credit
    verbs = set(AuditEvent.objects.filter(object_id=str(org.pk)).values_list("verb", flat=True))
    assert {"organisation.register", "organisation.add_agent", "organisation.credit"} <= verbs
    again = admin_client.post("/admin/people/organisation/add/", _org_form(uscc=uscc, place=place_tree.pingshan.pk))
    assert again.status_code == 200 and "uscc" in again.context["adminform"].form.errors


def test_admin_document_and_consent_pages_write_nothing_outside_the_actions(admin_client, place_tree):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    person = actions.do_register_person(number(1), "张伟", home_place=place_tree.pingshan, actor=TEST_SYSTEM)
    doc = actions.do_add_document(person, "id_card", "身份证", SimpleUploadedFile("id.pdf", b"%PDF-1.4\n"), actor=TEST_SYSTEM)
    consent = actions.do_grant_consent(person, "data_sharing", "窗口", actor=TEST_SYSTEM)
    for url in (f"/admin/people/document/{doc.pk}/change/", f"/admin/people/consent/{consent.pk}/change/"):
        with CaptureQueriesContext(connection) as ctx:
            response = admin_client.post(url, {})
        assert response.status_code == 302
        writes = [q["sql"] for q in ctx.captured_queries if q["sql"].lstrip().upper().startswith("UPDATE")]
        assert not [sql for sql in writes if "people_" in sql], writes
