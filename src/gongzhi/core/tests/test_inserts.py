"""core/db/inserts.py: the compiled-once INSERT keeps Django's field semantics on both databases."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from datetime import timezone as timezone_of
from typing import Any
from unittest import mock

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import QuerySet
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from gongzhi.core.db import inserts
from gongzhi.core.db.inserts import insert
from gongzhi.core.models import AuditEvent, CalendarYear, Timer
from gongzhi.people.models import Person

pytestmark = pytest.mark.django_db


def test_rows_read_back_as_the_orm_wrote_them() -> None:
    due = datetime(2026, 10, 1, 16, 0, tzinfo=UTC)
    mine = [Timer(kind="k", key=f"ins-{i}", due_at=due + timedelta(hours=i), payload={"task": i, "名": "张伟"})
            for i in range(3)]
    theirs = Timer(kind="k", key="orm-0", due_at=due, payload={"task": 0, "名": "张伟"})
    theirs.save()
    insert(mine)
    assert all(t.pk is not None and not t._state.adding and t._state.db == "default" for t in mine)
    assert len({t.pk for t in mine} | {theirs.pk}) == 4
    for i, t in enumerate(mine):
        back = Timer.objects.get(pk=t.pk)  # primary keys matched to the right objects
        assert back.key == f"ins-{i}"
        assert back.due_at == due + timedelta(hours=i)  # aware datetime stored as the ORM stores it
        assert back.payload == {"task": i, "名": "张伟"}  # JSON, non-ASCII intact
        assert back.status == "pending" and back.attempts == 0  # model defaults
    assert Timer.objects.filter(due_at=due).count() == 2  # same representation: one filter finds both


def test_one_statement_for_many_rows() -> None:
    rows = [Timer(kind="k", key=f"one-{i}", due_at=timezone.now()) for i in range(4)]
    with CaptureQueriesContext(connection) as q:
        insert(rows)
    assert len(q.captured_queries) == 1
    assert Timer.objects.filter(key__startswith="one-").count() == 4


def test_auto_now_add_and_related_ids(place_tree) -> None:  # type: ignore[no-untyped-def]
    before = timezone.now()
    person = Person(number_kind="resident_id", number_cipher="c", number_bidx="b" * 64, number_masked="m",
                    name="张伟", home_place=place_tree.taoyuan)
    insert([person])
    back = Person.objects.get(pk=person.pk)
    assert back.created_at is not None and back.created_at >= before  # pre_save ran (auto_now_add)
    assert back.home_place_id == place_tree.taoyuan.pk


def test_ignore_conflicts_keeps_the_first_row() -> None:
    insert([Timer(kind="first", key="dup", due_at=timezone.now())])
    insert([Timer(kind="second", key="dup", due_at=timezone.now()),
            Timer(kind="second", key="fresh", due_at=timezone.now())], ignore_conflicts=True)
    assert Timer.objects.get(key="dup").kind == "first"
    assert Timer.objects.filter(key="fresh").exists()


def test_a_conflict_without_ignore_raises_and_writes_nothing() -> None:
    insert([Timer(kind="a", key="taken", due_at=timezone.now())])
    with pytest.raises(IntegrityError), transaction.atomic():
        insert([Timer(kind="b", key="new-1", due_at=timezone.now()), Timer(kind="b", key="taken", due_at=timezone.now())])
    assert not Timer.objects.filter(key="new-1").exists()


@override_settings(GONGZHI_DB_SHORTCUTS=True)  # the shortcut's own cache (CI also runs the suite with it off)
def test_statement_is_cached_per_shape() -> None:
    inserts._STATEMENTS.clear()
    insert([AuditEvent(created_at=timezone.now(), verb="t.one", object_type="x", object_id="1", after={"n": "1.5"})])
    insert([AuditEvent(created_at=timezone.now(), verb="t.two", object_type="x", object_id="2")])
    assert len([k for k in inserts._STATEMENTS if k[0] is AuditEvent]) == 1
    assert AuditEvent.objects.filter(verb__startswith="t.").count() == 2


def test_models_outside_the_fast_path_fall_back_to_the_orm() -> None:
    # A natural primary key (not an auto id): handed to bulk_create, still stored.
    insert([CalendarYear(year=2031, complete=False, source="seed")])
    assert CalendarYear.objects.filter(year=2031).exists()
    with pytest.raises(TypeError):
        insert([Timer(kind="k", key="x", due_at=timezone.now()), CalendarYear(year=2032, source="seed")])


def test_plain_fields_send_exactly_what_django_would() -> None:
    """The fast path skips get_db_prep_save for plain fields: for every model of the platform it
    may take, Django's own preparation must return the very same value (and type)."""
    from django.apps import apps

    samples: dict[type, list[object]] = {str: ["", "张伟", "a'b%_\\"], int: [0, 7, 65535], bool: [True, False]}
    checked = 0
    for model in apps.get_models():
        if not inserts._supported(model):
            continue
        for f, kind in inserts._plain_fields(model, "default").items():
            for value in [*samples[kind], None]:
                prepared = f.get_db_prep_save(value, connection=connection)
                assert prepared == value and type(prepared) is type(value), (model, f.name, value)
                checked += 1
    assert checked > 100  # the platform's models really were covered (strings on both databases)


@settings(max_examples=60, deadline=None)
@given(
    moment=st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(9998, 12, 30),
                        timezones=st.sampled_from([UTC, timezone_of(timedelta(hours=8)), timezone_of(timedelta(hours=-5, minutes=-30))])),
    day=st.dates(),
    data=st.dictionaries(st.text(max_size=6), st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3), max_leaves=8),
        max_size=4),
)
def test_converted_fields_send_exactly_what_django_would(moment: datetime, day: date, data: dict[str, Any]) -> None:
    """Where the fast path converts a value itself (SQLite's text for aware datetimes, dates and
    JSON), the result must be Django's own get_db_prep_save output, type included."""
    from django.apps import apps

    samples: dict[type, object] = {datetime: moment, date: day, dict: data, list: [data, day.isoformat()]}
    checked = 0
    for model in apps.get_models():
        if not inserts._supported(model):
            continue
        for f, (kind, convert) in inserts._converted_fields(model, "default").items():
            django = f.get_db_prep_save(samples[kind], connection=connection)
            mine = convert(samples[kind])
            assert mine == django and type(mine) is type(django), (model, f.name, samples[kind])
            checked += 1
    assert checked > 20 if connection.vendor == "sqlite" else checked == 0


def test_a_naive_datetime_takes_djangos_own_path() -> None:
    naive = datetime(2026, 12, 5, 9, 30)
    with pytest.warns(RuntimeWarning):  # Django's "received a naive datetime" warning, as with save()
        insert([Timer(kind="k", key="naive-1", due_at=naive)])
    stored = Timer.objects.get(key="naive-1").due_at
    assert stored == timezone.make_aware(naive)


def test_the_statement_runs_on_djangos_cursor_with_its_checks() -> None:
    """insert() uses connection.cursor(): its queries are captured, Django's exception classes and
    the broken-transaction guard apply."""
    from django.db import connections
    from django.db.transaction import TransactionManagementError

    conn = connections["default"]
    with CaptureQueriesContext(connection) as q:
        insert([Timer(kind="a", key="direct-1", due_at=timezone.now())])
    assert len(q.captured_queries) == 1 and q.captured_queries[0]["sql"].startswith('INSERT INTO "core_timer"')
    with transaction.atomic():
        with pytest.raises(IntegrityError):  # django.db's class, not the driver's
            insert([Timer(kind="a", key="direct-1", due_at=timezone.now())])
        conn.needs_rollback = True  # as after an error caught inside the block
        with pytest.raises(TransactionManagementError):
            insert([Timer(kind="a", key="direct-2", due_at=timezone.now())])
        conn.needs_rollback = False
        transaction.set_rollback(True)
    assert Timer.objects.filter(key__startswith="direct-").count() == 1


@pytest.mark.parametrize("shortcuts", [True, False], ids=["on", "off"])
def test_the_setting_switches_insert_to_bulk_create(shortcuts: bool) -> None:
    calls: list[int] = []
    real = QuerySet.bulk_create

    def counted(self: QuerySet[Any], objs: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(len(objs))
        return real(self, objs, *args, **kwargs)

    rows = [Timer(kind="k", key=f"switch-{i}", due_at=timezone.now()) for i in range(2)]
    with override_settings(GONGZHI_DB_SHORTCUTS=shortcuts), mock.patch.object(QuerySet, "bulk_create", counted):
        insert(rows)
    assert calls == ([] if shortcuts else [2])
    assert all(t.pk is not None and not t._state.adding for t in rows)  # the same outcome either way
    assert Timer.objects.filter(key__startswith="switch-").count() == 2


def test_an_unsaved_related_object_is_refused_as_django_refuses_it(place_tree) -> None:  # type: ignore[no-untyped-def]
    unsaved = place_tree.taoyuan.__class__(kind="community", code="B-NEW", name="新社区", path="x")
    person = Person(number_kind="resident_id", number_cipher="c", number_bidx="c" * 64, number_masked="m",
                    name="李娜", home_place=unsaved)
    with pytest.raises(ValueError, match="unsaved related object 'home_place'"):
        insert([person])
    unsaved.save()  # saved after it was assigned: its new id is taken, as Django's save() does
    insert([person])
    assert Person.objects.get(pk=person.pk).home_place_id == unsaved.pk


@pytest.mark.parametrize("shortcuts", [True, False], ids=["on", "off"])
def test_the_setting_switches_update_fields_to_bulk_update(shortcuts: bool) -> None:
    from gongzhi.core.db.updates import update_fields

    calls: list[int] = []
    real = QuerySet.bulk_update

    def counted(self: QuerySet[Any], objs: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(len(objs))
        return real(self, objs, *args, **kwargs)

    rows = [Timer(kind="k", key=f"upd-{i}", due_at=timezone.now()) for i in range(2)]
    insert(rows)
    for t in rows:
        t.attempts, t.last_error = 3, "失败"
    with override_settings(GONGZHI_DB_SHORTCUTS=shortcuts), mock.patch.object(QuerySet, "bulk_update", counted):
        update_fields(rows, ["attempts", "last_error"])
    assert calls == ([] if shortcuts else [2])
    assert sorted(Timer.objects.filter(key__startswith="upd-").values_list("attempts", "last_error")) == [(3, "失败")] * 2


def test_rows_of_values_store_what_instances_would() -> None:
    """insert_values: missing fields take their defaults, values are prepared as save() would."""
    due = datetime(2026, 10, 1, 16, 0, tzinfo=UTC)
    inserts.insert_values(Timer, [{"kind": "k", "key": f"val-{i}", "due_at": due, "payload": {"task": i, "名": "张伟"}}
                                  for i in range(2)])
    Timer.objects.create(kind="k", key="orm-v", due_at=due, payload={"task": 0, "名": "张伟"})
    cols = ["kind", "due_at", "status", "payload", "attempts", "claimed_by", "claimed_at", "done_at", "last_error"]
    mine = list(Timer.objects.filter(key="val-0").values(*cols))
    theirs = list(Timer.objects.filter(key="orm-v").values(*cols))
    assert mine == theirs
    # a retry of the same key is ignored, as intake's timers want
    inserts.insert_values(Timer, [{"kind": "k", "key": "val-0", "due_at": due}], ignore_conflicts=True)
    assert Timer.objects.filter(key="val-0").count() == 1
    with pytest.raises(TypeError):
        inserts.insert_values(Timer, [{"kind": "k", "key": "val-x", "due_at": due, "nonsense": 1}])


def test_rows_of_values_fall_back_to_instances_where_a_field_computes_its_value() -> None:
    # AuditEvent rows relate to a user: not taken as plain rows (the relation check needs instances).
    assert not inserts._takes_rows(AuditEvent) and inserts._takes_rows(Timer)
