from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from gongzhi.accounts.enums import Role
from gongzhi.accounts.models import RoleAssignment, User
from gongzhi.core.models import AuditEvent
from gongzhi.places import queries
from gongzhi.places.actions import PlaceError, do_update_place_details
from gongzhi.places.models import Place

from .conftest import ACTOR, Tree


def test_tree_as_of_a_date(split_tree: tuple[Tree, list[Place]]) -> None:
    _t, _new = split_tree

    def communities(on: date) -> list[str]:
        (city,) = queries.place_tree(on)
        (district,) = city.children
        (matian,) = district.children
        return [n.place.name for n in matian.children]

    assert communities(date(2016, 1, 1)) == ["将石社区", "马山头社区"]
    assert communities(date(2024, 1, 1)) == ["马山头社区", "将围社区", "新庄社区", "石家社区", "石围社区"]
    # Before 将石 was set up (2005) only 马山头 (no start date) shows.
    assert communities(date(2004, 1, 1)) == ["马山头社区"]
    # Depth limit: the tree page stops at communities.
    (city,) = queries.place_tree(date(2016, 1, 1), max_depth=4)
    assert all(not n.children for n in city.children[0].children[0].children)


def test_ancestors_and_lookup(split_tree: tuple[Tree, list[Place]]) -> None:
    t, new = split_tree
    group = queries.children(new[0])[0]
    assert [p.name for p in queries.ancestors(group)] == ["深圳市", "光明区", "马田街道", "将围社区"]
    assert queries.ancestors(t.city) == []
    assert queries.get_by_code("440311006-C06") == new[0]
    assert queries.get_by_code("nope") is None


def test_children_respects_dates(split_tree: tuple[Tree, list[Place]]) -> None:
    t, _new = split_tree
    jiangshi = Place.objects.get(pk=t.jiangshi.pk)
    assert len(queries.children(jiangshi, date(2016, 1, 1))) == 8
    assert queries.children(jiangshi, date(2018, 1, 1)) == []


def test_places_for_user_is_scoped(split_tree: tuple[Tree, list[Place]]) -> None:
    _t, new = split_tree
    worker = User.objects.create_user("worker-jw", password="x")  # test setup; accounts has no actions yet
    RoleAssignment.objects.create(user=worker, role=Role.COMMUNITY_WORKER, place=new[0])
    seen = set(queries.places_for_user(worker).values_list("code", flat=True))
    assert seen == {"440311006-C06", "440311006-C06-G1", "440311006-C06-G2"}
    # The old 将石 groups (and their 2016 history) are not in 将围's scope.
    assert "440311006-C01-G1" not in seen
    nobody = User.objects.create_user("nobody", password="x")
    assert not queries.places_for_user(nobody).exists()
    admin = User.objects.create_user("admin", password="x", is_superuser=True)
    assert queries.places_for_user(admin, as_of=date(2016, 1, 1)).filter(code="440311006-C01").exists()


def test_update_details_only_descriptive_fields(tree: Tree) -> None:
    do_update_place_details(tree.district, actor=ACTOR, lat=Decimal("22.748"), lng=Decimal("113.936"))
    assert tree.district.lat == Decimal("22.748000")
    assert AuditEvent.objects.filter(verb="place.update").count() == 1
    with pytest.raises(PlaceError, match="这些字段不能直接修改：code"):
        do_update_place_details(tree.district, actor=ACTOR, code="X")
    with pytest.raises(PlaceError, match="坐标超出范围"):
        do_update_place_details(tree.district, actor=ACTOR, lat=Decimal("91"))


def test_district_centres_layer(tree: Tree) -> None:
    from gongzhi.core.registry import REGISTRY

    do_update_place_details(tree.district, actor=ACTOR, lat=Decimal("22.748"), lng=Decimal("113.936"))
    layer = REGISTRY.map_layers["places.districts"].features(None)
    assert layer["type"] == "FeatureCollection"
    (feature,) = layer["features"]
    assert feature["properties"]["name"] == "光明区"
    assert feature["geometry"]["coordinates"] == [113.936, 22.748]
