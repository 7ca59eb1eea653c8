from __future__ import annotations

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from gongzhi.core.models import AuditEvent
from gongzhi.core.tests.actors import SYSTEM as TEST_SYSTEM
from gongzhi.people import actions
from gongzhi.people.models import Document, Person
from gongzhi.people.numbers import make_id_number

pytestmark = pytest.mark.django_db

NUMBER = make_id_number("440305", date(1988, 3, 9), 113)
PDF = b"%PDF-1.4\n%%EOF\n"


@pytest.fixture
def clerk(place_tree, make_user):
    return make_user("window_clerk", place_tree.pingshan, perms=["reveal_personal_number"])


def test_register_via_api_is_idempotent_and_masked(client, clerk, place_tree):
    client.force_login(clerk)
    payload = {"number": NUMBER, "name": "张伟", "phone": "13800138000", "home_place_id": place_tree.pingshan.pk}
    first = client.post("/api/v1/people/persons", payload, content_type="application/json")
    assert first.status_code == 201
    again = client.post("/api/v1/people/persons", payload, content_type="application/json")
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert Person.objects.count() == 1
    body = first.content.decode()
    assert NUMBER not in body and "13800138000" not in body
    assert first.json()["number_masked"] == NUMBER[:4] + "*" * 10 + NUMBER[-4:]
    found = client.get("/api/v1/people/persons", {"number": NUMBER}).json()
    assert found["count"] == 1 and NUMBER not in str(found)


def test_bad_number_is_422_with_field_and_chinese_message(client, clerk, place_tree):
    client.force_login(clerk)
    bad = NUMBER[:-1] + ("0" if NUMBER[-1] != "0" else "1")
    response = client.post("/api/v1/people/persons", {"number": bad, "name": "张伟"}, content_type="application/json")
    assert response.status_code == 422
    detail = response.json()["detail"][0]
    assert detail["loc"] == ["body", "number"] and "校验位" in detail["msg"] and detail["type"] == "check_character"
    response = client.get("/api/v1/people/persons", {"number": "123"})
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["query", "number"]
    assert Person.objects.count() == 0


def test_supervisor_cannot_register_via_api(client, place_tree, make_user):
    sup = make_user("community_supervisor", place_tree.pingshan)
    client.force_login(sup)
    response = client.post("/api/v1/people/persons", {"number": NUMBER, "name": "张伟",
                                                       "home_place_id": place_tree.pingshan.pk}, content_type="application/json")
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "home_place"]
    assert Person.objects.count() == 0


def test_unauthenticated_api_is_refused(client):
    assert client.get("/api/v1/people/persons").status_code == 401


@pytest.fixture
def resident(place_tree, make_user):
    user = make_user(None)
    person = actions.do_register_person(NUMBER, "张伟", home_place=place_tree.pingshan, actor=TEST_SYSTEM)
    actions.do_link_user_to_person(user, person, actor=TEST_SYSTEM)
    return user, person


def test_wallet_upload_shows_chinese_errors_and_stores_nothing(client, resident, settings):
    user, person = resident
    client.force_login(user)
    response = client.post("/people/me/wallet/", {"doc_type": "id_card", "title": "身份证",
                                                  "file": SimpleUploadedFile("x.pdf", b"GIF89a....")})
    assert response.status_code == 422
    assert "不支持的文件类型：仅限 PDF、JPEG、PNG" in response.content.decode()
    settings.DOCUMENT_MAX_BYTES = 1024 * 1024
    response = client.post("/people/me/wallet/", {"doc_type": "id_card", "title": "身份证",
                                                  "file": SimpleUploadedFile("x.pdf", b"%PDF-" + b"0" * 1600 * 1024)})
    assert "文件过大：1.6 MB，上限 1 MB" in response.content.decode()
    assert Document.objects.count() == 0
    response = client.post("/people/me/wallet/", {"doc_type": "id_card", "title": "身份证",
                                                  "file": SimpleUploadedFile("证件.pdf", PDF)})
    assert response.status_code == 302
    page = client.get("/people/me/wallet/").content.decode()
    assert "身份证" in page and NUMBER not in page and person.number_masked in page


def test_download_streams_as_attachment(client, resident):
    user, person = resident
    doc = actions.do_add_document(person, "id_card", "身份证", SimpleUploadedFile("证件.pdf", PDF), actor=user)
    client.force_login(user)
    response = client.get(f"/people/documents/{doc.pk}/download/")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content) == PDF


def test_reveal_view_audits_and_shows_once(client, clerk, place_tree):
    person = actions.do_register_person(NUMBER, "张伟", home_place=place_tree.pingshan, actor=TEST_SYSTEM)
    client.force_login(clerk)
    page = client.get(f"/people/persons/{person.pk}/").content.decode()
    assert NUMBER not in page and "查看完整号码" in page
    response = client.post(f"/people/persons/{person.pk}/reveal/", {"field": "number", "reason": "核对身份"})
    assert response.status_code == 200 and NUMBER in response.content.decode()
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]
    assert AuditEvent.objects.filter(verb="person.reveal", actor=clerk).count() == 1
    assert client.get(f"/people/persons/{person.pk}/reveal/").status_code == 405


def test_reveal_view_refused_without_permission(client, place_tree, make_user):
    person = actions.do_register_person(NUMBER, "张伟", home_place=place_tree.pingshan, actor=TEST_SYSTEM)
    worker = make_user("community_worker", place_tree.pingshan)
    client.force_login(worker)
    assert "查看完整号码" not in client.get(f"/people/persons/{person.pk}/").content.decode()
    assert client.post(f"/people/persons/{person.pk}/reveal/", {"field": "number", "reason": "x"}).status_code == 403
    assert not AuditEvent.objects.filter(verb="person.reveal").exists()


def test_admin_search_by_number_uses_blind_index(client, place_tree, make_user):
    person = actions.do_register_person(NUMBER, "张伟", home_place=place_tree.pingshan, actor=TEST_SYSTEM)
    actions.do_register_person(make_id_number("440305", date(1990, 1, 1), 22), "李娜", home_place=place_tree.pingshan, actor=TEST_SYSTEM)
    su = make_user(None, superuser=True)
    client.force_login(su)
    response = client.get("/admin/people/person/", {"q": NUMBER})
    assert [p.pk for p in response.context["cl"].result_list] == [person.pk]
    assert NUMBER[6:14] not in response.content.decode().replace(NUMBER, "")  # only the typed query echoes
    detail = client.get(f"/admin/people/person/{person.pk}/change/").content.decode()
    assert NUMBER not in detail and "v1:" not in detail
