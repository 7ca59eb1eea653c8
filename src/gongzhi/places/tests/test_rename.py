from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from gongzhi.core.models import AuditEvent
from gongzhi.places import queries
from gongzhi.places.actions import PlaceError, do_rename_place
from gongzhi.places.models import Place

from .conftest import ACTOR, Tree, counts


def test_rename_keeps_the_row_and_the_name_history(tree: Tree) -> None:
    pk, code, path = tree.mashan.pk, tree.mashan.code, tree.mashan.path
    do_rename_place(tree.mashan, "马田社区", date(2019, 3, 1), actor=ACTOR)
    place = Place.objects.get(pk=pk)
    assert (place.code, place.path, place.name) == (code, path, "马田社区")
    assert queries.name_on(place, date(2018, 12, 31)) == "马山头社区"
    assert queries.name_on(place, date(2019, 3, 1)) == "马田社区"
    assert [(n.name, n.valid_to) for n in queries.name_history(place)] == [
        ("马山头社区", date(2019, 3, 1)),
        ("马田社区", None),
    ]
    assert queries.valid_on(place, date(2024, 1, 1))
    assert queries.successors(place) == []  # a rename is history, not lineage
    event = AuditEvent.objects.filter(verb="place.rename").get()
    assert event.before == {"name": "马山头社区"}


@pytest.mark.parametrize(
    ("new_name", "effective", "message"),
    [
        ("马山头社区", date(2019, 1, 1), "新名称与现名称相同。"),
        ("将石社区", date(2019, 1, 1), "「马田街道」下已有名为「将石社区」的有效单位"),
        ("  ", date(2019, 1, 1), "名称不能为空。"),
        ("新名", timezone.localdate() + timedelta(days=30), "更名生效日期不能晚于今天。"),
    ],
)
def test_bad_rename_stores_nothing(tree: Tree, new_name: str, effective: date, message: str) -> None:
    before = counts()
    with pytest.raises(PlaceError) as exc:
        do_rename_place(tree.mashan, new_name, effective, actor=ACTOR)
    assert message in exc.value.message
    assert counts() == before


def test_rename_not_before_the_current_name(tree: Tree) -> None:
    do_rename_place(tree.mashan, "马田社区", date(2019, 3, 1), actor=ACTOR)
    before = counts()
    with pytest.raises(PlaceError, match="生效日期必须晚于现名称的启用日期 2019-03-01"):
        do_rename_place(tree.mashan, "又一名", date(2019, 1, 1), actor=ACTOR)
    assert counts() == before


def test_rename_before_place_began_is_refused(tree: Tree) -> None:
    with pytest.raises(PlaceError, match="必须晚于「将石社区」的设立日期 2005-01-01"):
        do_rename_place(tree.jiangshi, "将石村", date(2004, 1, 1), actor=ACTOR)
