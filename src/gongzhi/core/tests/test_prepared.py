"""core/db/prepared.py: a read compiled once returns exactly what the ORM returns, on both databases."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from django.db import connection
from django.db.models import Count, QuerySet
from django.test.utils import CaptureQueriesContext

from gongzhi.core.db.prepared import Prepared
from gongzhi.core.models import Timer
from gongzhi.people.models import Document, Person
from gongzhi.places.models import Place

pytestmark = pytest.mark.django_db


def _person(n: int, place: Any) -> Person:
    return Person.objects.create(number_kind="resident_id", number_cipher="c", number_bidx=f"{n:064d}",
                                 number_masked="m", name=f"张伟{n}", home_place=place)


def _fields(obj: Any) -> dict[str, Any]:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


def test_model_instances_with_select_related_equal_the_orms(place_tree) -> None:  # type: ignore[no-untyped-def]
    people = [_person(1, place_tree.pingshan), _person(2, None)]
    build = lambda bidx: Person.objects.select_related("home_place").filter(number_bidx=bidx)[:1]  # noqa: E731
    by_bidx: Prepared[Person] = Prepared(build)
    for p in people:
        mine = by_bidx.first(p.number_bidx)
        theirs = build(p.number_bidx)[0]
        assert mine is not None and _fields(mine) == _fields(theirs)
        assert not mine._state.adding and mine._state.db == "default"
        with CaptureQueriesContext(connection) as q:  # the related object came with the row
            home = mine.home_place
        assert len(q.captured_queries) == 0
        if theirs.home_place is None:
            assert home is None
        else:
            assert _fields(home) == _fields(theirs.home_place)
    assert by_bidx.first("0" * 64) is None  # no row: None, as first() gives


def test_one_query_and_values_converted(place_tree) -> None:  # type: ignore[no-untyped-def]
    owner = _person(3, place_tree.pingshan)
    Document.objects.create(person=owner, doc_type="id_card", title="身份证", issued_on=date(2020, 2, 29),
                            expires_on=date(2040, 2, 29))
    Document.objects.create(person=owner, doc_type="hukou", title="户口簿")
    build = lambda pk: Document.objects.filter(person_id=pk).values_list("doc_type", "issued_on", "expires_on", "uploaded_at")  # noqa: E731
    docs: Prepared[tuple[Any, ...]] = Prepared(build)
    docs(owner.pk)  # compiled
    with CaptureQueriesContext(connection) as q:
        rows = docs(owner.pk)
    assert len(q.captured_queries) == 1
    assert sorted(rows, key=str) == sorted(build(owner.pk), key=str)
    issued = next(r[1] for r in rows if r[0] == "id_card")
    assert issued == date(2020, 2, 29) and isinstance(issued, date)  # SQLite's text became a date
    assert all(isinstance(r[3], datetime) and r[3].tzinfo is not None for r in rows)  # aware, as the ORM gives


def test_json_and_aware_datetimes_come_back_as_the_orm_gives() -> None:
    due = datetime(2026, 9, 30, 16, 0, tzinfo=UTC)
    Timer.objects.create(kind="k", key="prep-1", due_at=due, payload={"任务": 7, "list": [1, 2]})
    by_key: Prepared[Timer] = Prepared(lambda key: Timer.objects.filter(key=key))
    mine = by_key.first("prep-1")
    assert mine is not None
    assert mine.payload == {"任务": 7, "list": [1, 2]} and mine.due_at == due
    assert _fields(mine) == _fields(Timer.objects.get(key="prep-1"))


def test_flat_values_annotations_and_a_value_used_twice(place_tree) -> None:  # type: ignore[no-untyped-def]
    _person(4, place_tree.pingshan)
    _person(5, place_tree.longlian)
    names: Prepared[str] = Prepared(lambda code: Person.objects.filter(home_place__code=code).values_list("name", flat=True))
    assert names(place_tree.pingshan.code) == ["张伟4"]
    assert names(place_tree.longlian.code) == ["张伟5"]
    counted: Prepared[Place] = Prepared(
        lambda code: Place.objects.filter(code=code).annotate(people=Count("residents"))
    )
    first = counted.first(place_tree.pingshan.code)
    assert first is not None and first.people == 1  # type: ignore[attr-defined]
    either: Prepared[str] = Prepared(
        lambda name: Person.objects.filter(name=name).values_list("name", flat=True).union(
            Person.objects.filter(name=name).values_list("name", flat=True))
    )
    with pytest.raises(TypeError):
        either("张伟4")  # set operations: refused when compiled, not silently wrong
    twice: Prepared[str] = Prepared(
        lambda name: Person.objects.filter(name=name).exclude(number_masked=name).values_list("name", flat=True)
    )
    assert twice("张伟4") == ["张伟4"]  # the same argument reaches two parameters


def test_unsupported_shapes_and_arguments_are_refused_at_once() -> None:
    with pytest.raises(TypeError):
        Prepared(lambda pk: Person.objects.filter(pk=pk).values("name"))(1)  # dict rows
    with pytest.raises(TypeError):
        Prepared(lambda pk: Person.objects.filter(pk=pk).prefetch_related("documents"))(1)
    with pytest.raises(TypeError):
        Prepared(lambda name: Person.objects.filter(name__contains=name))("张伟")  # the lookup wraps the value
    with pytest.raises(TypeError):
        Prepared(lambda day: Person.objects.filter(created_at__date=day))(date(2026, 1, 1))  # type: ignore[arg-type]


def test_queryset_builder_is_called_once_per_database_and_argument_types(place_tree) -> None:  # type: ignore[no-untyped-def]
    calls: list[Any] = []

    def build(bidx: str) -> QuerySet[Person]:
        calls.append(bidx)
        return Person.objects.filter(number_bidx=bidx)

    person = _person(6, place_tree.pingshan)
    by_bidx: Prepared[Person] = Prepared(build)
    for _ in range(3):
        found = by_bidx.first(person.number_bidx)
        assert found is not None and found.pk == person.pk
    assert len(calls) == 1 and calls[0] != person.number_bidx  # compiled with a marker, not a real value
