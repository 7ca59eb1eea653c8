from __future__ import annotations

import pytest
from django.test import Client

from gongzhi.accounts.models import User
from gongzhi.core.models import AuditEvent
from gongzhi.places import queries
from gongzhi.places.models import Place

from .conftest import Tree, counts


@pytest.fixture
def admin_client(db: None) -> Client:
    user = User.objects.create_superuser("root", "root@example.org", "pw-not-used")
    client = Client()
    client.force_login(user)
    return client


def _form(**over: object) -> dict[str, object]:
    data: dict[str, object] = {
        "kind": "community", "code": "440311006-C03", "name": "合水口社区", "parent": "",
        "valid_from": "", "name_en": "", "area_km2": "", "lat": "", "lng": "", "note": "", "boundary": "null",
        "names-TOTAL_FORMS": "0", "names-INITIAL_FORMS": "0", "names-MIN_NUM_FORMS": "0", "names-MAX_NUM_FORMS": "0",
    }  # fmt: skip
    data.update(over)
    return data


def test_admin_add_goes_through_the_action(admin_client: Client, tree: Tree) -> None:
    response = admin_client.post("/admin/places/place/add/", _form(parent=tree.matian.pk))
    assert response.status_code == 302, response.content.decode()[:2000]
    place = Place.objects.get(code="440311006-C03")
    assert place.path == f"{tree.matian.path}{place.pk}/"
    assert AuditEvent.objects.filter(verb="place.create", object_id=str(place.pk)).exists()


def test_admin_add_with_wrong_parent_kind_shows_the_error(admin_client: Client, tree: Tree) -> None:
    before = counts()
    response = admin_client.post("/admin/places/place/add/", _form(parent=tree.district.pk))
    assert response.status_code == 200
    assert "「社区」只能设在「街道」之下" in response.content.decode()
    assert counts() == before


def test_admin_change_name_renames(admin_client: Client, tree: Tree) -> None:
    url = f"/admin/places/place/{tree.mashan.pk}/change/"
    response = admin_client.post(url, _form(code="ignored", name="马田社区", lat="22.75"))
    assert response.status_code == 302, response.content.decode()[:2000]
    tree.mashan.refresh_from_db()
    assert tree.mashan.name == "马田社区" and tree.mashan.code == "440311006-C02"
    assert str(tree.mashan.lat) == "22.750000"
    assert [n.name for n in queries.name_history(tree.mashan)] == ["马山头社区", "马田社区"]


def test_admin_lists_and_change_log_pages(admin_client: Client, split_tree: object) -> None:
    assert admin_client.get("/admin/places/place/?q=将石").status_code == 200
    assert admin_client.get("/admin/places/placechange/").status_code == 200
    assert admin_client.get("/admin/places/place/add/").status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "/admin/places/place/?q=%00",
        "/admin/places/place/?q=" + "9" * 5000,
        "/admin/places/place/?kind=%00",
        "/admin/places/place/?valid_to__isempty=x",
        "/admin/places/place/%00/change/",
        "/admin/places/place/abc/change/",
        "/admin/places/place/99999999999999999999999/change/",
        "/admin/places/placechange/?q=%00",
    ],
)
def test_admin_answers_nonsense_without_a_server_error(admin_client: Client, tree: Tree, url: str) -> None:
    assert admin_client.get(url).status_code < 500
