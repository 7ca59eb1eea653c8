"""Issue #10: documents are served by their detected type, to readers chosen by the document's purpose."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from gongzhi.accounts.enums import Role
from gongzhi.core.tests.actors import SYSTEM as TEST_SYSTEM
from gongzhi.people import actions, queries
from gongzhi.people.numbers import make_id_number, make_uscc

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n%%EOF\n"


def number(n: int) -> str:
    return make_id_number("440305", date(1980, 1, 1 + n % 28), 100 + n)


@pytest.fixture
def clerk(place_tree, make_user):
    return make_user(Role.WINDOW_CLERK, place_tree.pingshan)


# --- 2. Downloads: detected type, safe headers, access by the document's purpose ----------------


def test_download_is_named_and_typed_by_the_detected_type(client, place_tree, make_user):
    user = make_user(None)
    person = actions.do_register_person(number(1), "张伟", home_place=place_tree.pingshan, actor=TEST_SYSTEM)
    actions.do_link_user_to_person(user, person, actor=TEST_SYSTEM)
    doc = actions.do_add_document(person, "other", "材料", SimpleUploadedFile("evil.html", PDF, "text/html"), actor=user)
    client.force_login(user)
    response = client.get(f"/people/documents/{doc.pk}/download/")
    assert response.status_code == 200
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment") and ".pdf" in disposition and ".html" not in disposition
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.fixture
def company(place_tree, make_user):
    agent = make_user(None)
    rep = actions.do_register_person(number(5), "法人", home_place=place_tree.pingshan, actor=TEST_SYSTEM)
    org = actions.do_register_organisation(
        make_uscc("9", "1", "440300", "MA5F00001"), "企业", "enterprise", place_tree.pingshan,
        legal_representative=rep, actor=TEST_SYSTEM,
    )
    actions.do_add_agent(org, agent, actor=TEST_SYSTEM)
    id_scan = actions.do_add_document(rep, "id_card", "身份证", SimpleUploadedFile("id.pdf", PDF), actor=TEST_SYSTEM)
    hukou = actions.do_add_document(rep, "hukou", "户口簿", SimpleUploadedFile("hk.pdf", PDF), actor=TEST_SYSTEM)
    licence = actions.do_add_document(org, "business_license", "营业执照", SimpleUploadedFile("bl.pdf", PDF), actor=TEST_SYSTEM)
    return agent, rep, org, id_scan, hukou, licence


def test_agent_uses_the_organisations_documents_not_the_representatives_papers(client, company):
    agent, rep, org, id_scan, hukou, licence = company
    assert set(queries.documents_for_user(agent)) == {licence}
    client.force_login(agent)
    assert client.get(f"/people/documents/{licence.pk}/download/").status_code == 200
    for doc in (id_scan, hukou):
        assert client.get(f"/people/documents/{doc.pk}/download/").status_code == 404
    listed = client.get(f"/api/v1/people/persons/{rep.pk}/documents").json()
    assert listed == []
    page = client.get(f"/people/persons/{rep.pk}/").content.decode()
    assert "户口簿" not in page and f"/people/documents/{hukou.pk}/" not in page
    org_docs = client.get(f"/api/v1/people/organisations/{org.pk}/documents").json()
    assert [d["id"] for d in org_docs] == [licence.pk]


def test_staff_in_scope_still_read_the_representatives_papers(company, place_tree, make_user):
    _agent, _rep, _org, id_scan, hukou, licence = company
    worker = make_user(Role.COMMUNITY_WORKER, place_tree.pingshan)
    assert {id_scan, hukou, licence} <= set(queries.documents_for_user(worker))


def test_personal_papers_in_an_organisation_wallet_need_a_personal_data_role(company, place_tree, make_user):
    agent, _rep, org, *_ = company
    copy = actions.do_add_document(org, "id_card", "法人身份证复印件", SimpleUploadedFile("c.pdf", PDF), actor=TEST_SYSTEM)
    manager = make_user(Role.ASSET_MANAGER, place_tree.pingshan)
    assert copy not in queries.documents_for_user(manager)  # asset managers read no personal data
    assert copy in queries.documents_for_user(agent)  # the agent filed it for the organisation


