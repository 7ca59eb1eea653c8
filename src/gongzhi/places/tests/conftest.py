from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest

from gongzhi.core.models import AuditEvent
from gongzhi.core.tests.actors import SYSTEM as TEST_SYSTEM
from gongzhi.places.actions import SplitTarget, do_create_place, do_split_place
from gongzhi.places.enums import PlaceKind
from gongzhi.places.models import Place, PlaceChange, PlaceName

ACTOR = TEST_SYSTEM
SPLIT_DAY = date(2017, 9, 1)


def counts() -> tuple[int, int, int, int]:
    """Everything a places action may write; equal before/after means nothing was stored."""
    return (
        Place.objects.count(),
        PlaceName.objects.count(),
        PlaceChange.objects.count(),
        AuditEvent.objects.count(),
    )


@dataclass
class Tree:
    city: Place
    district: Place
    matian: Place
    jiangshi: Place
    groups: list[Place]
    mashan: Place


@pytest.fixture
def tree(db: None) -> Tree:
    city = do_create_place(PlaceKind.CITY, "440300", "深圳市", None, actor=ACTOR)
    district = do_create_place(PlaceKind.DISTRICT, "440311", "光明区", city, actor=ACTOR)
    matian = do_create_place(PlaceKind.SUBDISTRICT, "440311006", "马田街道", district, actor=ACTOR)
    jiangshi = do_create_place(
        PlaceKind.COMMUNITY, "440311006-C01", "将石社区", matian, date(2005, 1, 1), actor=ACTOR
    )
    groups = [
        do_create_place(
            PlaceKind.GROUP, f"440311006-C01-G{i}", f"第{i}居民小组", jiangshi, date(2005, 1, 1), actor=ACTOR
        )
        for i in range(1, 9)
    ]
    mashan = do_create_place(PlaceKind.COMMUNITY, "440311006-C02", "马山头社区", matian, actor=ACTOR)
    return Tree(city, district, matian, jiangshi, groups, mashan)


def split_jiangshi(t: Tree) -> list[Place]:
    """The seed's split: 将石 → 将围、新庄、石家、石围, two residents' groups each."""
    g = t.groups
    return do_split_place(
        t.jiangshi,
        SPLIT_DAY,
        [
            SplitTarget("440311006-C06", "将围社区", [g[0], g[1]]),
            SplitTarget("440311006-C07", "新庄社区", [g[2], g[3]]),
            SplitTarget("440311006-C08", "石家社区", [g[4], g[5]]),
            SplitTarget("440311006-C09", "石围社区", [g[6], g[7]]),
        ],
        actor=ACTOR,
        note="马田办事处将原将石社区分设为 4 个社区",
    )


@pytest.fixture
def split_tree(tree: Tree) -> tuple[Tree, list[Place]]:
    return tree, split_jiangshi(tree)
