from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from gongzhi.places.models import Place

from .conftest import Tree


@pytest.fixture
def client() -> Client:
    return Client()


def get(client: Client, url: str, status: int = 200) -> Any:
    response = client.get(url)
    assert response.status_code == status, response.content
    return response.json()


def test_list_filters(client: Client, split_tree: tuple[Tree, list[Place]]) -> None:
    body = get(client, "/api/v1/places?kind=community&parent=440311006&as_of=2016-06-01")
    assert body["count"] == 2
    assert [i["name"] for i in body["items"]] == ["将石社区", "马山头社区"]
    item = body["items"][0]
    assert (
        item["parent_code"] == "440311006"
        and item["kind_label"] == "社区"
        and item["valid_to"] == "2017-09-01"
    )
    now = get(client, "/api/v1/places?kind=community&parent=440311006&as_of=2024-06-01")
    assert now["count"] == 5
    everything = get(client, "/api/v1/places?kind=community")
    assert everything["count"] == 6
    page = get(client, "/api/v1/places?limit=2&offset=1")
    assert page["limit"] == 2 and len(page["items"]) == 2 and page["count"] == Place.objects.count()


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("as_of=2016-13-01", 422),
        ("as_of=yesterday", 422),
        ("kind=county", 422),
        ("limit=0", 422),
        ("limit=100000", 422),
        ("parent=NOPE", 404),
    ],
)
def test_list_bad_input(client: Client, tree: Tree, query: str, status: int) -> None:
    body = get(client, f"/api/v1/places?{query}", status)
    assert "detail" in body


def test_detail(client: Client, split_tree: tuple[Tree, list[Place]]) -> None:
    body = get(client, "/api/v1/places/440311006-C01")
    assert body["name"] == "将石社区" and body["valid_to"] == "2017-09-01"
    assert [a["name"] for a in body["ancestors"]] == ["深圳市", "光明区", "马田街道"]
    assert [s["code"] for s in body["successors"]] == [
        "440311006-C06",
        "440311006-C07",
        "440311006-C08",
        "440311006-C09",
    ]
    assert body["predecessors"] == [] and body["children"] == []
    assert body["names"] == [{"name": "将石社区", "valid_from": "2005-01-01", "valid_to": "2017-09-01"}]
    new = get(client, "/api/v1/places/440311006-C07")
    assert [p["name"] for p in new["predecessors"]] == ["将石社区"]
    assert [c["code"] for c in new["children"]] == ["440311006-C07-G3", "440311006-C07-G4"]


def test_lineage(client: Client, split_tree: tuple[Tree, list[Place]]) -> None:
    body = get(client, "/api/v1/places/440311006-C01/lineage")
    (change,) = body["changes"]
    assert (
        change["kind"] == "split" and change["effective"] == "2017-09-01" and change["kind_label"] == "拆分"
    )
    assert [s["code"] for s in change["sources"]] == ["440311006-C01"]
    assert len(change["targets"]) == 4
    assert [p["name"] for p in body["current"]] == ["将围社区", "新庄社区", "石家社区", "石围社区"]


@pytest.mark.parametrize("url", ["/api/v1/places/NOPE", "/api/v1/places/NOPE/lineage"])
def test_unknown_code_is_404_with_detail(client: Client, tree: Tree, url: str) -> None:
    item = get(client, url, 404)["detail"][0]
    assert (item["message"], item["code"], item["field"]) == ("区划代码 NOPE 不存在", "not_found", "code")


def test_place_answers_match_the_published_schema(client: Client, split_tree: tuple[Tree, list[Place]]) -> None:
    """``PlaceRef`` was also the name of services' ``{id, name}`` schema; the schema kept one of
    them, so every /places/{code} answer broke the published schema."""
    from jsonschema_rs import Draft202012Validator  # schemathesis's own validator

    doc = get(client, "/api/v1/openapi.json")
    for path, url in [
        ("/places/{code}", "/api/v1/places/440311006-C01"),
        ("/places/{code}/lineage", "/api/v1/places/440311006-C01/lineage"),
        ("/places", "/api/v1/places?as_of=2016-06-01"),
    ]:
        answer = doc["paths"][f"/api/v1{path}"]["get"]["responses"]["200"]
        body_schema = {**answer["content"]["application/json"]["schema"], "components": doc["components"]}
        errors = list(Draft202012Validator(body_schema).iter_errors(get(client, url)))
        assert not errors, (url, [e.message for e in errors[:3]])


def test_openapi_lists_the_endpoints(client: Client, db: None) -> None:
    paths = get(client, "/api/v1/openapi.json")["paths"]
    assert {"/api/v1/places", "/api/v1/places/{code}", "/api/v1/places/{code}/lineage"} <= set(paths)


@pytest.mark.parametrize(
    ("url", "status"),
    [
        # PostgreSQL refuses NUL bytes outright: must not be a 500 (core's middleware answers).
        ("/api/v1/places/a%00b", 422),
        ("/api/v1/places/a%00b/lineage", 422),
        ("/api/v1/places?parent=a%00b", 422),
        ("/api/v1/places?q=%00", 422),
        ("/places/a%00b/", 400),
        ("/api/v1/places/" + "9" * 41, 404),
    ],
)
def test_hostile_codes_are_not_server_errors(client: Client, tree: Tree, url: str, status: int) -> None:
    assert client.get(url).status_code == status
