from __future__ import annotations

from datetime import date

import pytest

from gongzhi.core.models import AuditEvent
from gongzhi.places import queries
from gongzhi.places.actions import (
    PlaceError,
    SplitTarget,
    do_abolish_place,
    do_create_place,
    do_merge_places,
    do_split_place,
)
from gongzhi.places.enums import ChangeKind, PlaceKind
from gongzhi.places.models import Place, PlaceChange

from .conftest import ACTOR, SPLIT_DAY, Tree, counts, split_jiangshi

NEW_NAMES = ["将围社区", "新庄社区", "石家社区", "石围社区"]


def test_split_closes_the_old_place_and_opens_four(split_tree: tuple[Tree, list[Place]]) -> None:
    t, new = split_tree
    old = Place.objects.get(pk=t.jiangshi.pk)
    assert old.valid_to == SPLIT_DAY
    assert old.path == t.jiangshi.path  # historic rows never move
    assert [p.name for p in new] == NEW_NAMES
    for p in new:
        assert p.parent_id == t.matian.pk and p.valid_from == SPLIT_DAY and p.valid_to is None
        assert p.path == f"{t.matian.path}{p.pk}/"
    change = PlaceChange.objects.get(kind=ChangeKind.SPLIT)
    assert list(change.sources.all()) == [old]
    assert sorted(change.targets.values_list("code", flat=True)) == [p.code for p in new]
    event = AuditEvent.objects.get(verb="place.split")
    assert event.after["targets"] == [p.code for p in new]
    assert event.place_path == old.path


def test_split_lineage_both_ways(split_tree: tuple[Tree, list[Place]]) -> None:
    t, new = split_tree
    assert queries.successors(t.jiangshi) == new
    for p in new:
        assert queries.predecessors(p) == [Place.objects.get(pk=t.jiangshi.pk)]


def test_case_filed_in_2016_reports_under_jiangshi_for_2016(split_tree: tuple[Tree, list[Place]]) -> None:
    t, new = split_tree
    filed_against, filed_on = Place.objects.get(pk=t.jiangshi.pk), date(2016, 5, 20)
    assert queries.reporting_places(filed_against, filed_on) == [filed_against]
    assert queries.reporting_place(filed_against, filed_on) == filed_against
    assert queries.name_on(filed_against, filed_on) == "将石社区"
    # The 2016 tree still shows 将石 and none of the four.
    on_2016 = {p.name for p in queries.places_on(filed_on).filter(kind=PlaceKind.COMMUNITY)}
    assert "将石社区" in on_2016 and not (on_2016 & set(NEW_NAMES))
    # For a 2024 report 将石's successors are the four; no single answer.
    assert queries.reporting_places(filed_against, date(2024, 1, 1)) == new
    assert queries.reporting_place(filed_against, date(2024, 1, 1)) is None
    assert queries.current_places_for(filed_against) == new
    # Before the split (day before), still 将石; on the split day, the four.
    assert queries.reporting_places(filed_against, date(2017, 8, 31)) == [filed_against]
    assert queries.reporting_places(filed_against, SPLIT_DAY) == new


def test_split_carries_residents_groups_as_successor_rows(split_tree: tuple[Tree, list[Place]]) -> None:
    t, new = split_tree
    g3 = Place.objects.get(pk=t.groups[2].pk)
    # The old group row keeps its path under 将石: a 2016 case there stays in 将石's jurisdiction.
    assert g3.valid_to == SPLIT_DAY and g3.path.startswith(t.jiangshi.path)
    (successor,) = queries.successors(g3)
    assert successor.code == "440311006-C07-G3"
    assert successor.name == g3.name and successor.parent == new[1]
    assert successor.path.startswith(new[1].path)
    assert queries.reporting_place(g3, date(2016, 1, 1)) == g3
    assert queries.reporting_place(g3, date(2024, 1, 1)) == successor
    assert queries.predecessors(successor) == [g3]
    assert [c.name for c in queries.children(new[1])] == ["第3居民小组", "第4居民小组"]
    assert queries.children(Place.objects.get(pk=t.jiangshi.pk)) == []
    assert PlaceChange.objects.filter(kind=ChangeKind.MOVE).count() == 8


def test_split_moves_grandchildren_too(tree: Tree) -> None:
    """Splitting a subdistrict carries its communities and their groups."""
    do_create_place(PlaceKind.GRID, "440311006-C02-W01", "第1网格", tree.mashan, actor=ACTOR)
    new = do_split_place(
        tree.matian,
        date(2020, 1, 1),
        [
            SplitTarget("440311007", "马田北街道", [tree.jiangshi]),
            SplitTarget("440311008", "马田南街道", [tree.mashan]),
        ],
        actor=ACTOR,
    )
    south_mashan = queries.children(new[1])[0]
    assert south_mashan.code == "440311008-C02"
    assert [g.code for g in queries.children(south_mashan)] == ["440311008-C02-W01"]
    assert len(queries.children(queries.children(new[0])[0])) == 8


def _targets(t: Tree) -> list[SplitTarget]:
    return [SplitTarget("N1", "甲社区", t.groups[:4]), SplitTarget("N2", "乙社区", t.groups[4:])]


@pytest.mark.parametrize(
    ("make_targets", "effective", "message"),
    [
        (lambda t: [], date(2017, 1, 1), "拆分至少需要两个新单位（收到 0 个）"),
        (
            lambda t: [SplitTarget("N1", "甲社区", t.groups)],
            date(2017, 1, 1),
            "拆分至少需要两个新单位（收到 1 个）",
        ),
        (_targets, date(2004, 12, 31), "生效日期 2004-12-31 必须晚于「将石社区」的设立日期 2005-01-01"),
        (_targets, date(2005, 1, 1), "必须晚于「将石社区」的设立日期"),
        (
            lambda t: [SplitTarget("N1", "甲社区", t.groups[:4]), SplitTarget("N1", "乙社区", t.groups[4:])],
            date(2017, 1, 1),
            "区划代码 N1 在本次变更中重复。",
        ),
        (
            lambda t: [
                SplitTarget("440311006-C02", "甲社区", t.groups[:4]),
                SplitTarget("N2", "乙社区", t.groups[4:]),
            ],
            date(2017, 1, 1),
            "区划代码 440311006-C02 已被「马山头社区」使用",
        ),
        (
            lambda t: [SplitTarget("N1", "甲社区", t.groups[:4]), SplitTarget("N2", "甲社区", t.groups[4:])],
            date(2017, 1, 1),
            "新单位名称「甲社区」重复。",
        ),
        (
            lambda t: [
                SplitTarget("N1", "马山头社区", t.groups[:4]),
                SplitTarget("N2", "乙社区", t.groups[4:]),
            ],
            date(2017, 1, 1),
            "「马田街道」下已有名为「马山头社区」的有效单位",
        ),
        (
            lambda t: [SplitTarget("N1", "甲社区", t.groups[:3]), SplitTarget("N2", "乙社区", t.groups[4:])],
            date(2017, 1, 1),
            "以下下级单位未指定拆分后的去向：第4居民小组。",
        ),
        (
            lambda t: [SplitTarget("N1", "甲社区", t.groups[:5]), SplitTarget("N2", "乙社区", t.groups[4:])],
            date(2017, 1, 1),
            "「第5居民小组」被分配到多个新单位。",
        ),
        (
            lambda t: [
                SplitTarget("N1", "甲社区", [*t.groups[:4], t.mashan]),
                SplitTarget("N2", "乙社区", t.groups[4:]),
            ],
            date(2017, 1, 1),
            "「马山头社区」不是「将石社区」现有的下级单位。",
        ),
    ],
)
def test_bad_split_stores_nothing(tree: Tree, make_targets, effective: date, message: str) -> None:  # type: ignore[no-untyped-def]
    before = counts()
    with pytest.raises(PlaceError) as exc:
        do_split_place(tree.jiangshi, effective, make_targets(tree), actor=ACTOR)
    assert message in exc.value.message
    assert counts() == before
    assert Place.objects.get(pk=tree.jiangshi.pk).valid_to is None


def test_acting_on_a_closed_place_is_refused(split_tree: tuple[Tree, list[Place]]) -> None:
    t, _new = split_tree
    before = counts()
    for attempt in (
        lambda: split_jiangshi(t),
        lambda: do_abolish_place(t.jiangshi, date(2020, 1, 1), actor=ACTOR),
        lambda: do_merge_places([t.jiangshi, t.mashan], date(2020, 1, 1), "M1", "合并社区", actor=ACTOR),
    ):
        with pytest.raises(PlaceError, match="「将石社区」已于 2017-09-01 撤销或变更，不能再办理区划变更"):
            attempt()
    assert counts() == before


def test_merge(split_tree: tuple[Tree, list[Place]]) -> None:
    t, new = split_tree
    merged = do_merge_places(new[2:], date(2022, 1, 1), "440311006-C10", "石家围社区", actor=ACTOR)
    assert merged.parent_id == t.matian.pk and merged.valid_from == date(2022, 1, 1)
    for p in new[2:]:
        p.refresh_from_db()
        assert p.valid_to == date(2022, 1, 1)
        assert queries.successors(p) == [merged]
    assert queries.predecessors(merged)[:2] == new[2:]  # nearest generation first
    assert Place.objects.get(pk=t.jiangshi.pk) in queries.predecessors(merged)
    # The four groups of 石家 and 石围 now hang under the merged community.
    assert [g.code for g in queries.children(merged)] == [
        "440311006-C10-G5",
        "440311006-C10-G6",
        "440311006-C10-G7",
        "440311006-C10-G8",
    ]
    # 将石 in 2023: 将围、新庄 and the merged community.
    assert {p.name for p in queries.current_places_for(t.jiangshi)} == {"将围社区", "新庄社区", "石家围社区"}
    assert AuditEvent.objects.filter(verb="place.merge", object_id=str(merged.pk)).count() == 1


def test_merge_resolves_child_code_clashes(tree: Tree) -> None:
    other = do_create_place(PlaceKind.COMMUNITY, "440311006-C03", "合水口社区", tree.matian, actor=ACTOR)
    do_create_place(PlaceKind.GRID, "440311006-C02-W01", "马山头第1网格", tree.mashan, actor=ACTOR)
    do_create_place(PlaceKind.GRID, "440311006-C03-W01", "合水口第1网格", other, actor=ACTOR)
    merged = do_merge_places([tree.mashan, other], date(2022, 1, 1), "440311006-C11", "马合社区", actor=ACTOR)
    assert [g.code for g in queries.children(merged)] == [
        "440311006-C11-440311006-C03-W01",
        "440311006-C11-W01",
    ]


@pytest.mark.parametrize(
    ("pick", "code", "name", "message"),
    [
        (lambda t: [t.mashan], "M1", "合并社区", "合并至少需要两个不同的单位。"),
        (lambda t: [t.mashan, t.mashan], "M1", "合并社区", "合并至少需要两个不同的单位。"),
        (lambda t: [t.mashan, t.groups[0]], "M1", "合并社区", "只能合并同一层级的单位。"),
        (lambda t: [t.mashan, t.jiangshi], "440300", "合并社区", "区划代码 440300 已被「深圳市」使用"),
        (lambda t: [t.mashan, t.jiangshi], "M1", "", "名称不能为空。"),
    ],
)
def test_bad_merge_stores_nothing(tree: Tree, pick, code: str, name: str, message: str) -> None:  # type: ignore[no-untyped-def]
    before = counts()
    with pytest.raises(PlaceError) as exc:
        do_merge_places(pick(tree), date(2022, 1, 1), code, name, actor=ACTOR)
    assert message in exc.value.message
    assert counts() == before


def test_merge_across_parents_is_refused(tree: Tree) -> None:
    other_sub = do_create_place(PlaceKind.SUBDISTRICT, "440311005", "玉塘街道", tree.district, actor=ACTOR)
    other = do_create_place(PlaceKind.COMMUNITY, "440311005-C01", "田寮社区", other_sub, actor=ACTOR)
    with pytest.raises(PlaceError, match="只能合并同一上级下的单位"):
        do_merge_places([tree.mashan, other], date(2022, 1, 1), "M1", "合并社区", actor=ACTOR)


def test_abolish(tree: Tree) -> None:
    before = counts()
    with pytest.raises(PlaceError, match="「将石社区」下还有有效的下级单位（第1居民小组、"):
        do_abolish_place(tree.jiangshi, date(2020, 1, 1), actor=ACTOR)
    assert counts() == before
    do_abolish_place(tree.mashan, date(2020, 1, 1), actor=ACTOR)
    tree.mashan.refresh_from_db()
    assert tree.mashan.valid_to == date(2020, 1, 1)
    assert not queries.valid_on(tree.mashan, date(2020, 1, 1))
    assert queries.valid_on(tree.mashan, date(2019, 12, 31))
    assert queries.current_places_for(tree.mashan) == []
    assert PlaceChange.objects.filter(kind=ChangeKind.ABOLISH, sources=tree.mashan).exists()
