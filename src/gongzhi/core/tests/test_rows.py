"""core/db/rows.py: rows of written-out SQL load as the ORM loads them, on both databases."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.apps import apps
from django.db import connection, models
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from gongzhi.core.db import rows
from gongzhi.core.db.rows import fetch, load, select_list
from gongzhi.core.models import Timer
from gongzhi.people import queries
from gongzhi.people.models import Document, Person

pytestmark = pytest.mark.django_db


def _person(n: int, place: Any) -> Person:
    return Person.objects.create(number_kind="resident_id", number_cipher="c", number_bidx=f"{n:064d}",
                                 number_masked="m", name=f"张伟{n}", home_place=place)


def _fields(obj: Any) -> dict[str, Any]:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


@pytest.mark.parametrize("shortcuts", [True, False], ids=["sql", "orm"])
def test_person_with_home_place_equals_the_orms(place_tree, shortcuts: bool) -> None:  # type: ignore[no-untyped-def]
    people = [_person(1, place_tree.pingshan), _person(2, None)]
    with override_settings(GONGZHI_DB_SHORTCUTS=shortcuts):
        for p in people:
            mine = queries._person_by_bidx(p.number_bidx)
            theirs = Person.objects.select_related("home_place").get(pk=p.pk)
            assert mine is not None and _fields(mine) == _fields(theirs)
            assert not mine._state.adding and mine._state.db == "default"
            with CaptureQueriesContext(connection) as q:  # the related object came with the row
                home = mine.home_place
            assert len(q.captured_queries) == 0
            if theirs.home_place is None:
                assert home is None
            else:
                assert home is not None and _fields(home) == _fields(theirs.home_place)
                assert not home._state.adding and home._state.db == "default"
        assert queries._person_by_bidx("0" * 64) is None  # no row: None, as the ORM gives


def test_the_setting_switches_the_read_path(place_tree) -> None:  # type: ignore[no-untyped-def]
    person = _person(3, place_tree.pingshan)
    seen = {}
    for on in (True, False):
        with override_settings(GONGZHI_DB_SHORTCUTS=on), CaptureQueriesContext(connection) as q:
            assert queries._person_by_bidx(person.number_bidx) is not None
        (query,) = q.captured_queries
        seen[on] = query["sql"]
    assert '"p"."id"' in seen[True]  # the statement written out in people/queries.py
    assert '"p"."id"' not in seen[False] and '"people_person"."id"' in seen[False]  # the ORM's


def test_values_converted_as_the_orm_converts_them(place_tree) -> None:  # type: ignore[no-untyped-def]
    owner = _person(4, place_tree.pingshan)
    Document.objects.create(person=owner, doc_type="id_card", title="身份证", issued_on=date(2020, 2, 29),
                            expires_on=date(2040, 2, 29))
    Document.objects.create(person=owner, doc_type="hukou", title="户口簿")
    for on in (True, False):
        with override_settings(GONGZHI_DB_SHORTCUTS=on):
            mine = queries._current_documents(owner)
        theirs = list(Document.objects.filter(person=owner).values_list(*queries._DOC_COLUMNS))
        assert sorted(mine, key=str) == sorted(theirs, key=str)
        issued = next(r[2] for r in mine if r[0] == "id_card")
        assert issued == date(2020, 2, 29) and type(issued) is date  # SQLite's text became a date


def test_json_and_aware_datetimes_come_back_as_the_orm_gives() -> None:
    due = datetime(2026, 9, 30, 16, 0, tzinfo=UTC)
    Timer.objects.create(kind="k", key="rows-1", due_at=due, payload={"任务": 7, "list": [1, 2]})
    (row,) = fetch(f"SELECT {select_list(Timer, 't')} FROM core_timer t WHERE t.key = %s", ["rows-1"])  # noqa: S608
    mine = load(Timer, row)
    assert mine is not None
    assert mine.payload == {"任务": 7, "list": [1, 2]} and mine.due_at == due and mine.due_at.tzinfo is not None
    assert _fields(mine) == _fields(Timer.objects.get(key="rows-1"))


def test_every_model_loads_as_the_orm_loads_it(place_tree) -> None:  # type: ignore[no-untyped-def]
    """Every stored row of every model with a written-out conversion, through ``load``: the
    same values (and types) as the ORM's instances."""
    _person(5, place_tree.pingshan)
    Timer.objects.create(kind="k", key="rows-2", due_at=datetime(2026, 1, 1, tzinfo=UTC), payload={"a": [1]})
    checked = 0
    for model in apps.get_models():
        try:
            sql = f"SELECT {select_list(model, 'x')} FROM {rows.quote(model._meta.db_table)} x ORDER BY x.{rows.quote(str(model._meta.pk.column))}"  # noqa: S608
            loaded = [load(model, r) for r in fetch(sql, [])]
        except TypeError:
            continue  # a field type without a written-out conversion: refused, never guessed
        orm = list(model._default_manager.order_by("pk"))
        assert [_fields(o) for o in loaded] == [_fields(o) for o in orm], model
        assert [{k: type(v) for k, v in _fields(o).items()} for o in loaded] == [
            {k: type(v) for k, v in _fields(o).items()} for o in orm], model
        checked += len(orm)
    assert checked >= 5


def test_a_field_without_a_written_out_conversion_is_refused() -> None:
    field = models.DurationField()
    field.set_attributes_from_name("took")
    with pytest.raises(TypeError, match="no written-out conversion"):
        rows._converter(field, "default")
    decimal = models.DecimalField(max_digits=6, decimal_places=2)
    convert = rows._converter(decimal, "default")
    if connection.vendor == "sqlite":  # quantized to the field's places, as Django's converter does
        assert convert is not None and str(convert(Decimal("1.5"))) == "1.50"
