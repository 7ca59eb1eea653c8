"""Insert model instances with a statement compiled once per process (the intake hot path).

Why this exists: Django compiles the SQL of every ``save()``/``bulk_create()`` afresh — quoting
every column name, building expression trees, checking features — which costs more CPU than the
database spends storing the row (bench/intake.py: ~0.4 ms of Python per row on a 2-core box,
against ~0.05 ms for SQLite to write it). Intake writes seven kinds of rows per submission, so
that compile cost was a large share of the service hall's throughput.

``insert()`` keeps Django's field semantics — ``pre_save`` (``auto_now_add``),
``get_db_prep_save`` (time zones, JSON, decimals, per-database adaptation), skipped only where
it provably returns the value unchanged (``_plain_fields``) or where a one-line conversion gives
exactly what it returns on this connection (``_converted_fields``: SQLite's text for aware
datetimes, dates and JSON, checked against Django's own output), and the check ``save()`` makes for
unsaved related objects (``_check_related``) — and caches the statement text per (model, number
of rows, database), run on ``connection.cursor()``. Public Django only: ``_meta``'s documented
field lists, field methods, and the documented ``Model._state`` flags ``bulk_create`` sets.
It sends no signals, like ``bulk_create``; use it only for models without save() overrides or
signal receivers. Anything else — another database vendor, a database default, a generic
relation, an instance with its key already set, or ``GONGZHI_DB_SHORTCUTS`` off — goes to
``bulk_create`` (``_supported`` decides).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from functools import cache
from typing import Any, NamedTuple

from django.db import connections, models
from django.db.models import Field, Model

from gongzhi.core.db import shortcuts_on
from gongzhi.core.db.rows import quote

_AUTO = (models.AutoField, models.BigAutoField, models.SmallAutoField)
_VENDORS = ("sqlite", "postgresql")  # both quote with "…" and return ids with RETURNING

_STATEMENTS: dict[tuple[type[Model], int, str, str, bool], _Statement] = {}


class _Statement(NamedTuple):
    sql: str  # Django's parameter style, run on connection.cursor()
    returning: bool
    # Per field, in order: (field, attname, the one Python type it has a shortcut for or None,
    # the conversion for that type — None when the value is sent unchanged)
    columns: list[tuple[Field[Any, Any], str, type | None, Callable[[Any], Any] | None]]


@cache  # models do not change while a process runs; this is asked on every insert
def _supported(model: type[Model]) -> bool:
    opts = model._meta
    if any(f.many_to_one and not f.concrete for f in opts.get_fields()):
        return False  # a generic foreign key: Django's save() checks its object; bulk_create does too
    for f in opts.concrete_fields:
        if f.has_db_default():
            return False  # a database-side default needs the ORM's DEFAULT handling
        if hasattr(f, "get_placeholder"):
            return False  # e.g. geometry fields wrap their placeholder in a function
    return model.save is Model.save


# Field classes whose database value *is* the Python value for one exact Python type (and None):
# their get_db_prep_save chain (get_prep_value → to_python → adapt) returns the value unchanged.
# Exact classes only — a subclass may prepare values differently. Whether the database adapter
# wraps the value anyway (psycopg 3 wraps integers as Int2/Int4/Int8) is checked per connection.
_PLAIN_TYPES: dict[type[Field[Any, Any]], type] = {
    models.CharField: str, models.TextField: str, models.SlugField: str,
    models.IntegerField: int, models.BigIntegerField: int, models.PositiveIntegerField: int,
    models.SmallIntegerField: int, models.PositiveSmallIntegerField: int, models.BooleanField: bool,
}
_SAMPLES: dict[type, tuple[Any, ...]] = {str: ("", "样本"), int: (0, 7), bool: (True, False)}


@cache
def _plain_fields(model: type[Model], alias: str) -> dict[Field[Any, Any], type]:
    """The model's fields that send plain values as they are on this connection, with that type
    (ForeignKeys to an integer key included). Fields with ``pre_save`` logic are never plain."""
    conn = connections[alias]
    plain: dict[Field[Any, Any], type] = {}
    for f in model._meta.concrete_fields:
        target = f.target_field if isinstance(f, models.ForeignKey) else f
        kind = _PLAIN_TYPES.get(type(target))
        if kind is None and isinstance(f, models.ForeignKey) and isinstance(target, _AUTO):
            kind = int
        if kind is None or type(f).pre_save is not Field.pre_save:
            continue
        unchanged = all(
            type(out := f.get_db_prep_save(v, connection=conn)) is type(v) and out == v for v in (*_SAMPLES[kind], None)
        )
        if unchanged:
            plain[f] = kind
    return plain


_UTC8 = timezone(timedelta(hours=8))
_SLOW = object()  # a conversion's answer for "not this value: ask Django"
# Samples the conversions below are checked against, for each field, on each connection.
_CONVERTED_SAMPLES: dict[type, tuple[Any, ...]] = {
    datetime: (datetime(2026, 12, 5, 9, 30, tzinfo=_UTC8), datetime(2026, 1, 1, 0, 0, 0, 123456, tzinfo=UTC),
               datetime(1999, 12, 31, 23, 59, 59, 1, tzinfo=_UTC8)),
    date: (date(2026, 12, 5), date(1, 1, 1), date(9999, 12, 31)),
    dict: ({}, {"材料": ["身份证", 1, 2.5, None, True]}, {"a": {"b": "引号\"与\\斜杠"}}),
    list: ([], ["深圳", {"k": 1}]),
}


def _conversions(f: Field[Any, Any], conn: Any) -> dict[type, Callable[[Any], Any]]:
    """Candidate one-line conversions for a field on SQLite (its backend stores datetimes, dates
    and JSON as text); PostgreSQL's adapter takes these values as they are (``_plain_fields``
    would need no conversion, and JSON goes to psycopg's own wrapper, so nothing here)."""
    if conn.vendor != "sqlite":
        return {}
    kind = type(f)
    if kind is models.DateTimeField and not (f.auto_now or f.auto_now_add):  # type: ignore[attr-defined]
        tz = conn.timezone  # what Django makes an aware value naive in (UTC unless configured)
        # A naive datetime takes Django's own path (it warns and assumes the current time zone).
        return {datetime: lambda v: str(v.astimezone(tz).replace(tzinfo=None)) if v.tzinfo is not None else _SLOW}
    if kind is models.DateField and not (f.auto_now or f.auto_now_add):  # type: ignore[attr-defined]
        return {date: str}
    if kind is models.JSONField:
        encoder = f.encoder  # type: ignore[attr-defined]

        def dumps(v: Any) -> str:
            return json.dumps(v, cls=encoder)

        return {dict: dumps, list: dumps}
    return {}


@cache
def _converted_fields(model: type[Model], alias: str) -> dict[Field[Any, Any], tuple[type, Callable[[Any], Any]]]:
    """Fields whose ``get_db_prep_save`` is, for one exact Python type, the conversion above:
    checked on this connection against Django's own output for every sample before it is used.
    A JSON field gets the shortcut for dicts, the common case."""
    conn = connections[alias]
    found: dict[Field[Any, Any], tuple[type, Callable[[Any], Any]]] = {}
    for f in model._meta.concrete_fields:
        for kind, convert in _conversions(f, conn).items():
            if all(type(out := convert(v)) is type(django := f.get_db_prep_save(v, connection=conn)) and out == django
                   for v in _CONVERTED_SAMPLES[kind]):
                found[f] = (kind, convert)
                break
    return found


def _statement(model: type[Model], rows: int, alias: str, ignore_conflicts: bool) -> _Statement:
    conn = connections[alias]
    key = (model, rows, conn.vendor, alias, ignore_conflicts)
    found = _STATEMENTS.get(key)
    if found is not None:
        return found
    opts = model._meta
    fields = [f for f in opts.concrete_fields if not (f.primary_key and isinstance(f, _AUTO))]
    qn = quote
    one = "(" + ", ".join(["%s"] * len(fields)) + ")"
    head = "INSERT OR IGNORE INTO" if ignore_conflicts and conn.vendor == "sqlite" else "INSERT INTO"
    sql = f"{head} {qn(opts.db_table)} ({', '.join(qn(str(f.column)) for f in fields)}) VALUES {', '.join([one] * rows)}"
    if ignore_conflicts and conn.vendor != "sqlite":
        sql += " ON CONFLICT DO NOTHING"
    # With ignored conflicts some rows may not come back, so ids cannot be matched to objects.
    returning = not ignore_conflicts  # both vendors (_VENDORS) return rows from a multi-row INSERT
    if returning:
        sql += f" RETURNING {qn(str(opts.pk.column))}"
    plain = _plain_fields(model, alias)
    converted = _converted_fields(model, alias)
    columns: list[tuple[Field[Any, Any], str, type | None, Callable[[Any], Any] | None]] = []
    for f in fields:
        if f in plain:
            columns.append((f, str(f.attname), plain[f], None))
        elif f in converted:
            columns.append((f, str(f.attname), *converted[f]))
        else:
            columns.append((f, str(f.attname), None, None))
    found = _Statement(sql, returning, columns)
    _STATEMENTS[key] = found
    return found


def insert(objs: Sequence[Model], *, using: str = "default", ignore_conflicts: bool = False) -> None:
    """INSERT unsaved instances of one model in one statement; set their primary keys.

    Falls back to ``bulk_create`` for models this fast path does not cover, and for everything
    when ``GONGZHI_DB_SHORTCUTS`` is off.
    """
    if not objs:
        return
    model = type(objs[0])
    if any(type(o) is not model for o in objs):
        raise TypeError("insert() takes instances of one model")
    conn = connections[using]
    if (not shortcuts_on() or conn.vendor not in _VENDORS or not _supported(model)
            or any(o.pk is not None for o in objs)):
        model._default_manager.db_manager(using).bulk_create(list(objs), ignore_conflicts=ignore_conflicts)
        return
    statement = _statement(model, len(objs), using, ignore_conflicts)
    relations = _relations(model)
    check = bool(relations)
    params: list[Any] = []
    for obj in objs:
        if check:
            _check_related(obj, relations)
        _add_params(params, statement, obj.__dict__, obj, conn)
    with conn.cursor() as cur:
        cur.execute(statement.sql, params)
        rows = cur.fetchall() if statement.returning else []
    if statement.returning:
        for obj, row in zip(objs, rows, strict=True):
            obj.pk = row[0]
    for obj in objs:
        # Saved, on this database: what bulk_create records. ``Model._state`` and its ``adding``
        # and ``db`` flags are documented (Model instance reference, "_state").
        obj._state.adding = False
        obj._state.db = using


def _add_params(params: list[Any], statement: _Statement, values: Mapping[str, Any], obj: Model | None,
                conn: Any) -> None:
    """Append one row's database values: the shortcuts where they provably give Django's own
    answer, else the field's ``pre_save`` (an instance) or the value itself (a row of values)
    through ``get_db_prep_save``."""
    for f, attname, kind, convert in statement.columns:
        if attname in values:
            value = values[attname]
        elif obj is not None:
            value = getattr(obj, attname)
        else:
            value = f.get_default()  # what Model.__init__ would have set
        if kind is not None:
            if value is None:
                params.append(None)
                continue
            if type(value) is kind:
                # What get_db_prep_save would return, without its calls.
                if convert is None:
                    params.append(value)
                    continue
                out = convert(value)
                if out is not _SLOW:
                    params.append(out)
                    continue
        if obj is not None:
            value = f.pre_save(obj, True)
        params.append(f.get_db_prep_save(value, connection=conn))


@cache
def _takes_rows(model: type[Model]) -> bool:
    """Can rows of plain values stand in for instances? Only when no field computes its value on
    save (``auto_now``, a custom ``pre_save``) and nothing else would need an instance."""
    if not _supported(model) or _relations(model):
        return False
    for f in model._meta.concrete_fields:
        if type(f).pre_save is Field.pre_save:
            continue
        if isinstance(f, models.DateField) and not (f.auto_now or f.auto_now_add):
            continue  # DateField/DateTimeField.pre_save only fills auto_now(_add)
        return False
    return True


def insert_values(model: type[Model], rows: Sequence[Mapping[str, Any]], *, using: str = "default",
                  ignore_conflicts: bool = False) -> None:
    """INSERT rows given as ``{attname: value}`` (missing ones take the field's default), for
    rows nobody reads back — e.g. the timers intake arms: building a model instance per row
    cost more than the database spent storing it. Models that need instances (relations to
    check, values computed on save) and ``GONGZHI_DB_SHORTCUTS`` off go through ``insert``."""
    if not rows:
        return
    conn = connections[using]
    if not shortcuts_on() or conn.vendor not in _VENDORS or not _takes_rows(model):
        insert([model(**row) for row in rows], using=using, ignore_conflicts=ignore_conflicts)
        return
    statement = _statement(model, len(rows), using, ignore_conflicts)
    params: list[Any] = []
    for row in rows:
        unknown = set(row) - {attname for _f, attname, _k, _c in statement.columns}
        if unknown:
            raise TypeError(f"insert_values(): {model.__name__} has no field(s) {sorted(unknown)}")
        _add_params(params, statement, row, None, conn)
    with conn.cursor() as cur:
        cur.execute(statement.sql, params)
        if statement.returning:
            cur.fetchall()


@cache
def _relations(model: type[Model]) -> tuple[Any, ...]:
    return tuple(f for f in model._meta.concrete_fields if f.is_relation)


def _check_related(obj: Model, relations: tuple[Any, ...]) -> None:
    """What ``save()``/``bulk_create`` check before writing foreign keys, through the relation
    fields' public cache methods: refuse an unsaved related object, take the id of one saved
    after it was assigned, forget a cached object whose id no longer matches."""
    for field in relations:
        if not field.is_cached(obj):
            continue
        related = field.get_cached_value(obj)
        if related is None:
            continue
        if related.pk is None:
            if not field.remote_field.multiple:
                field.remote_field.delete_cached_value(related)
            raise ValueError(f"insert() prohibited to prevent data loss due to unsaved related object '{field.name}'.")
        if getattr(obj, field.attname) in field.empty_values:
            setattr(obj, field.name, related)
        if getattr(related, field.target_field.attname) != getattr(obj, field.attname):
            field.delete_cached_value(obj)
