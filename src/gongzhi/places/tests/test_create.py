from __future__ import annotations

from datetime import date

import pytest

from gongzhi.core.models import AuditEvent
from gongzhi.places.actions import PlaceError, do_abolish_place, do_create_place
from gongzhi.places.enums import PlaceKind

from .conftest import ACTOR, Tree, counts


def test_paths_are_parent_path_plus_own_pk(tree: Tree) -> None:
    assert tree.city.path == f"/{tree.city.pk}/"
    assert tree.district.path == f"/{tree.city.pk}/{tree.district.pk}/"
    g = tree.groups[0]
    assert g.path == f"{tree.jiangshi.path}{g.pk}/"
    assert g.depth == 5
    assert g.names.get().name == "第1居民小组"


def test_create_writes_one_audit_event(tree: Tree) -> None:
    before = AuditEvent.objects.filter(verb="place.create").count()
    p = do_create_place(PlaceKind.COMMUNITY, "440311006-C03", "合水口社区", tree.matian, actor=ACTOR)
    event = AuditEvent.objects.filter(verb="place.create").latest("id")
    assert AuditEvent.objects.filter(verb="place.create").count() == before + 1
    assert event.object_id == str(p.pk)
    assert event.place_path == p.path
    assert event.after["code"] == "440311006-C03"


@pytest.mark.parametrize(
    ("kind", "code", "name", "parent_attr", "valid_from", "message"),
    [
        (
            PlaceKind.COMMUNITY,
            "X1",
            "某社区",
            "district",
            None,
            "「社区」只能设在「街道」之下，「光明区」是「区」。",
        ),
        (PlaceKind.GRID, "X2", "某网格", "matian", None, "「网格」只能设在「社区」之下"),
        (PlaceKind.SUBDISTRICT, "X3", "某街道", None, None, "「街道」必须隶属于一个「区」。"),
        (PlaceKind.CITY, "X4", "某市", "city", None, "「市」是根节点，不能有上级。"),
        (
            PlaceKind.COMMUNITY,
            "440311006-C01",
            "新社区",
            "matian",
            None,
            "区划代码 440311006-C01 已被「将石社区」使用",
        ),
        (
            PlaceKind.COMMUNITY,
            "X5",
            "将石社区",
            "matian",
            None,
            "「马田街道」下已有名为「将石社区」的有效单位",
        ),
        (PlaceKind.COMMUNITY, "  ", "某社区", "matian", None, "区划代码不能为空。"),
        (PlaceKind.COMMUNITY, "X 6", "某社区", "matian", None, "区划代码不能包含空格、斜杠或控制字符。"),
        (PlaceKind.COMMUNITY, "X7", "", "matian", None, "名称不能为空。"),
        (PlaceKind.COMMUNITY, "X7", "某\x00社区", "matian", None, "名称不能包含控制字符。"),
        (PlaceKind.COMMUNITY, "X\x007", "某社区", "matian", None, "区划代码不能包含空格、斜杠或控制字符。"),
        (PlaceKind.COMMUNITY, "X" * 41, "某社区", "matian", None, "区划代码不能超过 40 个字符。"),
        ("county", "X8", "某县", "matian", None, "未知的区划层级：county。"),
        (
            PlaceKind.GROUP,
            "X9",
            "某小组",
            "jiangshi",
            date(2000, 1, 1),
            "设立日期不能早于上级「将石社区」的设立日期 2005-01-01。",
        ),
    ],
)
def test_bad_create_is_refused_and_stores_nothing(
    tree: Tree,
    kind: str,
    code: str,
    name: str,
    parent_attr: str | None,
    valid_from: date | None,
    message: str,
) -> None:
    parent = getattr(tree, parent_attr) if parent_attr else None
    before = counts()
    with pytest.raises(PlaceError) as exc:
        do_create_place(kind, code, name, parent, valid_from, actor=ACTOR)
    assert message in exc.value.message
    assert counts() == before


def test_no_children_under_a_closed_place(tree: Tree) -> None:
    do_abolish_place(tree.mashan, date(2020, 1, 1), actor=ACTOR)
    before = counts()
    with pytest.raises(PlaceError, match="已于 2020-01-01 撤销或变更，不能再设立下级单位"):
        do_create_place(PlaceKind.GRID, "W1", "第1网格", tree.mashan, actor=ACTOR)
    assert counts() == before
