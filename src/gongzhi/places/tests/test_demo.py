from __future__ import annotations

from datetime import date

import pytest

from gongzhi.core.tests.actors import SYSTEM as TEST_SYSTEM
from gongzhi.places import queries
from gongzhi.places.demo import load_demo_places
from gongzhi.places.enums import PlaceKind
from gongzhi.places.models import Place, PlaceChange

from .conftest import counts

EXPECTED = {
    "罗湖区": 10,
    "福田区": 10,
    "南山区": 8,
    "宝安区": 10,
    "龙岗区": 11,
    "盐田区": 4,
    "龙华区": 6,
    "坪山区": 6,
    "光明区": 6,
    "大鹏新区": 3,
}


@pytest.mark.django_db
def test_demo_loads_74_subdistricts_and_is_idempotent() -> None:
    messages: list[str] = []
    first = load_demo_places(actor=TEST_SYSTEM, progress=messages.append)
    assert first["subdistricts"] == 74
    assert first["existing"] == 0 and first["changes"] == 1
    assert messages
    districts = Place.objects.filter(kind=PlaceKind.DISTRICT)
    assert {d.name: d.children.count() for d in districts} == EXPECTED
    assert Place.objects.get(code="440307-DP").name == "大鹏新区"
    assert all(d.lat is not None and d.lng is not None for d in districts)

    after_first = counts()
    second = load_demo_places(actor=TEST_SYSTEM)
    assert counts() == after_first
    assert second["created"] == 0 and second["changes"] == 0 and second["subdistricts"] == 74


@pytest.mark.django_db
def test_demo_has_the_seed_places_and_the_jiangshi_split() -> None:
    load_demo_places(actor=TEST_SYSTEM)
    for code, name, parent in [
        ("440309002-C01", "北站社区", "民治街道"),
        ("440303002-C01", "文华社区", "黄贝街道"),
        ("440305008-C01", "平山社区", "桃源街道"),
        ("440311006-C01", "将石社区", "马田街道"),
    ]:
        p = Place.objects.get(code=code)
        assert (p.name, p.parent.name if p.parent else None) == (name, parent)
    assert [g.kind for g in queries.children(Place.objects.get(code="440303002-C01"))] == ["grid", "grid"]
    jiangshi = Place.objects.get(code="440311006-C01")
    assert str(jiangshi.area_km2) == "8.80"
    assert len(queries.children(jiangshi, date(2016, 1, 1))) == 8
    assert jiangshi.valid_to is not None
    assert [p.name for p in queries.current_places_for(jiangshi)] == [
        "将围社区",
        "新庄社区",
        "石家社区",
        "石围社区",
    ]
    assert "將園" in Place.objects.get(code="440311006-C06").note
    assert PlaceChange.objects.filter(kind="split").count() == 1
    # Matian had five communities before the split (seed) and eight after.
    matian = Place.objects.get(name="马田街道")
    assert len(queries.children(matian, date(2016, 1, 1))) == 5
    assert len(queries.children(matian, date(2024, 1, 1))) == 8


@pytest.mark.django_db
def test_demo_replays_the_jiangshi_split_as_an_approved_plan_and_shows_a_pending_one() -> None:
    from gongzhi.places.enums import PlanStatus
    from gongzhi.places.models import RestructurePlan

    first = load_demo_places(actor=TEST_SYSTEM)
    assert first["plans"] == 1
    split = RestructurePlan.objects.get(kind="split")
    assert split.status == PlanStatus.APPLIED and split.effective == date(2017, 9, 1)
    assert split.approved_at is not None and split.approved_at.date() < split.effective <= split.closed_at.date()
    assert split.change is not None and split.change.kind == "split"
    assert [p.code for p in split.sources.all()] == ["440311006-C01"]
    assert "將園" in Place.objects.get(code="440311006-C06").note  # the target's note came through the plan
    pending = RestructurePlan.objects.get(kind="merge")
    assert pending.status == PlanStatus.DRAFT and "demo" in pending.note
    assert not Place.objects.filter(code="440311006-C10").exists()
    load_demo_places(actor=TEST_SYSTEM)
    assert RestructurePlan.objects.count() == 2
