"""Merging and abolishing places from a page and the API: administrators only, within their
jurisdiction, bad input → 4xx with nothing stored (issue #10)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.test import Client

from gongzhi.accounts.enums import Role
from gongzhi.places.actions import do_create_place
from gongzhi.places.enums import PlaceKind
from gongzhi.places.models import Place

from .conftest import ACTOR, Tree, counts

DAY = "2026-01-01"


def _user(username: str, role: str, place: Place) -> Any:
    from gongzhi.accounts.actions import do_assign_role, do_create_user

    user = do_create_user(username, username, "correct-horse-battery", actor=ACTOR, validate=False)
    do_assign_role(user, role, place, actor=ACTOR)
    return user


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _token(user: Any) -> dict[str, str]:
    from gongzhi.accounts.actions import do_issue_api_token

    _, secret = do_issue_api_token(user, "test", actor=ACTOR)
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


@pytest.fixture
def other_district(tree: Tree) -> Place:
    district = do_create_place(PlaceKind.DISTRICT, "440305", "南山区", tree.city, actor=ACTOR)
    sub = do_create_place(PlaceKind.SUBDISTRICT, "440305002", "南头街道", district, actor=ACTOR)
    do_create_place(PlaceKind.COMMUNITY, "440305002001", "同乐社区", sub, actor=ACTOR)
    return district


@pytest.fixture
def admin(tree: Tree) -> Any:
    return _user("guangming-admin", Role.ADMINISTRATOR, tree.district)


# --- pages ------------------------------------------------------------------------------------


def test_administrator_merges_two_communities_on_the_page(tree: Tree, admin: Any) -> None:
    client = _client(admin)
    assert "合并行政区划" in client.get("/places/").content.decode()
    page = client.get("/places/merge/?codes=440311006-C02")
    assert page.status_code == 200 and "440311006-C02" in page.content.decode()
    response = client.post(
        "/places/merge/",
        {"codes": "440311006-C01, 440311006-C02", "code": "440311006-C10", "name": "将山社区", "effective": DAY},
    )
    assert response.status_code == 302 and response["Location"] == "/places/440311006-C10/"
    merged = Place.objects.get(code="440311006-C10")
    assert merged.parent == tree.matian and merged.valid_from == date(2026, 1, 1)
    assert Place.objects.get(code="440311006-C01").valid_to == date(2026, 1, 1)
    assert merged.children.filter(valid_to__isnull=True).count() == 8  # 将石's groups moved along


def test_the_pages_speak_the_users_language(tree: Tree, admin: Any) -> None:
    client = _client(admin)
    client.cookies["gongzhi_language"] = "en"
    html = client.get("/places/merge/").content.decode()
    assert "Merge places" in html and "Codes of the places to merge" in html
    client.cookies["gongzhi_language"] = "zh-hant"
    assert "撤銷本單位" in client.get("/places/440311006-C02/").content.decode()


def test_administrator_abolishes_a_childless_place_on_the_page(tree: Tree, admin: Any) -> None:
    client = _client(admin)
    assert "撤销本单位" in client.get("/places/440311006-C02/").content.decode()
    response = client.post("/places/440311006-C02/abolish/", {"effective": DAY, "document_ref": "光府〔2025〕1号"})
    assert response.status_code == 302
    assert Place.objects.get(code="440311006-C02").valid_to == date(2026, 1, 1)


@pytest.mark.parametrize(
    ("url", "data", "message"),
    [
        ("/places/440311006-C01/abolish/", {"effective": DAY}, "还有有效的下级单位"),
        ("/places/440311006-C02/abolish/", {"effective": "2026-02-30"}, ""),
        ("/places/440311006-C02/abolish/", {}, ""),
        ("/places/merge/", {"codes": "440311006-C01", "code": "X1", "name": "甲", "effective": DAY}, "至少需要两个"),
        ("/places/merge/", {"codes": "440311006-C01 440311006", "code": "X1", "name": "甲", "effective": DAY}, "同一层级"),
        ("/places/merge/", {"codes": "440311006-C01 440311006-C02", "code": "440311", "name": "甲", "effective": DAY}, "永不复用"),
        ("/places/merge/", {"codes": "440311006-C01 440305002001", "code": "X1", "name": "甲", "effective": DAY}, "不存在"),
        ("/places/merge/", {"codes": "\x00 \x00x", "code": "X1", "name": "甲", "effective": DAY}, ""),
        ("/places/merge/", {}, ""),
    ],
)
def test_bad_input_is_a_400_and_stores_nothing(
    tree: Tree, admin: Any, other_district: Place, url: str, data: dict[str, str], message: str
) -> None:
    client = _client(admin)  # logging in writes an audit event
    before = counts()
    response = client.post(url, data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert counts() == before


def test_pages_are_for_administrators_within_their_jurisdiction(tree: Tree, other_district: Place) -> None:
    assert Client().get("/places/merge/").status_code == 302  # to the login page
    clerk = _client(_user("clerk", Role.WINDOW_CLERK, tree.mashan))
    assert clerk.get("/places/merge/").status_code == 403
    assert clerk.post("/places/440311006-C02/abolish/", {"effective": DAY}).status_code == 403
    assert "撤销本单位" not in clerk.get("/places/440311006-C02/").content.decode()
    nanshan = _client(_user("nanshan-admin", Role.ADMINISTRATOR, other_district))
    before = counts()
    assert nanshan.post("/places/440311006-C02/abolish/", {"effective": DAY}).status_code == 404
    assert nanshan.get("/places/NOPE/abolish/").status_code == 404
    assert counts() == before


# --- API --------------------------------------------------------------------------------------


def test_api_merge_and_abolish(tree: Tree, admin: Any) -> None:
    client, auth = Client(), _token(admin)
    response = client.post(
        "/api/v1/places/merges",
        {"codes": ["440311006-C01", "440311006-C02"], "effective": DAY, "code": "440311006-C10", "name": "将山社区"},
        content_type="application/json",
        **auth,
    )
    assert response.status_code == 201, response.content
    assert response.json()["code"] == "440311006-C10"
    group = "440311006-C01-G1"  # moved on the merge: the old row is closed, its successor is open
    successor = Place.objects.get(parent__code="440311006-C10", name="第1居民小组")
    response = client.post(f"/api/v1/places/{successor.code}/abolition", {"effective": "2026-06-01"},
                           content_type="application/json", **auth)
    assert response.status_code == 200 and response.json()["valid_to"] == "2026-06-01"
    closed = client.post(f"/api/v1/places/{group}/abolition", {"effective": "2026-06-01"},
                         content_type="application/json", **auth)
    assert closed.status_code == 422 and closed.json()["detail"][0]["code"] == "place"


def test_api_refuses_others_and_bad_input(tree: Tree, admin: Any, other_district: Place) -> None:
    client = Client()
    before = counts()
    body = {"codes": ["440311006-C01", "440311006-C02"], "effective": DAY, "code": "X1", "name": "甲"}
    assert client.post("/api/v1/places/merges", body, content_type="application/json").status_code == 401
    clerk = _token(_user("clerk", Role.WINDOW_CLERK, tree.mashan))
    refused = client.post("/api/v1/places/merges", body, content_type="application/json", **clerk)
    assert refused.status_code == 403 and refused.json()["detail"][0]["code"] == "not_allowed"
    nanshan = _token(_user("nanshan-admin", Role.ADMINISTRATOR, other_district))
    hidden = client.post("/api/v1/places/merges", body, content_type="application/json", **nanshan)
    assert hidden.status_code == 404 and hidden.json()["detail"][0]["field"] == "codes"
    auth = _token(admin)
    for bad in [
        {**body, "codes": ["440311006-C01"]},
        {**body, "effective": "2026-02-30"},
        {**body, "name": ""},
        {**body, "code": "440311"},
    ]:
        response = client.post("/api/v1/places/merges", bad, content_type="application/json", **auth)
        assert response.status_code == 422, (bad, response.content)
    assert client.post("/api/v1/places/merges", "{", content_type="application/json", **auth).status_code == 400
    assert counts()[0] == before[0]  # no place was made (issuing the tokens wrote audit events)
