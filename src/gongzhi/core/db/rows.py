"""Turn rows of written-out SQL into what the ORM would return (the hot paths' reads).

Why this exists: for a one-row lookup Django spends far more CPU building the SQL — resolving
lookups, joins for ``select_related``, quoting, converters — than the database spends answering
(measured on SQLite: ~1.0 ms to find a person with their home place through the ORM, ~0.14 ms for
the same SQL on a cursor). So the few reads that run on every submission or every due timer are
written out as SQL in the module that owns them; this module supplies the pieces they share:

- ``select_list(Model, "t")`` — every concrete column of the model, in field order, qualified by
  the table alias ``t`` (so a new field is read without editing the statement);
- ``fetch(sql, params)`` — run it on ``connection.cursor()`` (Django's error classes, query
  logging and transaction checks all apply);
- ``load(Model, row, start)`` — the instance from ``row[start:start + width(Model)]`` through
  ``Model.from_db``, after the conversions the ORM would apply (see ``_converter``);
  ``None`` when the key is NULL (a LEFT JOIN that found nothing);
- ``convert(Model, names, rows)`` — ``values_list`` tuples of the named fields.

A related object is attached by assigning it (``task.case = case``): the descriptor caches it as
``select_related`` does. Only field types whose conversion is written out here are accepted; any
other raises ``TypeError`` on first use (a programming error; ``core/tests/test_rows.py`` loads every
model the hot paths read and compares it with the ORM's, field by field, on both databases).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from typing import Any, TypeVar

from django.conf import settings
from django.db import connections
from django.db.models import Field, Model
from django.utils.dateparse import parse_date, parse_datetime

M = TypeVar("M", bound=Model)
Converter = Callable[[Any], Any]

# Internal types whose value the drivers already return as the ORM gives it (on SQLite, Django
# registers converters for the declared types bool, date, datetime and decimal with the driver).
_AS_IS = frozenset({
    "AutoField", "BigAutoField", "SmallAutoField", "IntegerField", "BigIntegerField", "SmallIntegerField",
    "PositiveIntegerField", "PositiveBigIntegerField", "PositiveSmallIntegerField", "FloatField",
    "CharField", "TextField", "SlugField", "FileField", "ForeignKey", "OneToOneField",
})


def quote(name: str) -> str:
    """An SQL identifier, quoted as SQLite and PostgreSQL both read it (the two databases the
    platform runs on; ``inserts``/``updates`` fall back to the ORM on any other)."""
    return '"' + name.replace('"', '""') + '"'


@cache
def select_list(model: type[Model], alias: str) -> str:
    """``"alias"."col", …`` for every concrete field of ``model``, in ``_meta.concrete_fields`` order."""
    return ", ".join(f"{quote(alias)}.{quote(str(f.column))}" for f in model._meta.concrete_fields)


@cache
def width(model: type[Model]) -> int:
    """How many columns ``select_list(model, …)`` selects."""
    return len(model._meta.concrete_fields)


def fetch(sql: str, params: Sequence[Any], *, using: str = "default") -> list[tuple[Any, ...]]:
    """All rows of ``sql`` (Django's ``%s`` parameter style) on ``connections[using].cursor()``."""
    with connections[using].cursor() as cur:
        cur.execute(sql, params)
        return list(cur.fetchall())


def _converter(field: Field[Any, Any], alias: str) -> Converter | None:
    """What the ORM does to a value of ``field`` read on ``alias`` — written out for the types the
    platform uses; ``None`` when the driver's value is already the ORM's."""
    conn = connections[alias]
    if hasattr(field, "from_db_value"):  # the field's own documented hook (JSONField, custom fields)
        from_db_value = field.from_db_value
        return lambda v: from_db_value(v, None, conn)
    kind = field.get_internal_type()
    if kind in _AS_IS:
        return None
    if kind == "DateTimeField":
        if not settings.USE_TZ:
            return None
        if conn.settings_dict.get("TIME_ZONE") is not None:
            raise TypeError("rows: a database TIME_ZONE setting is not supported (stored times are UTC)")

        def aware(v: Any) -> Any:
            if isinstance(v, str):  # SQLite without the declared type's converter
                v = parse_datetime(v)
            if isinstance(v, datetime) and v.tzinfo is None:
                return v.replace(tzinfo=UTC)  # stored in UTC, as Django's backends make it aware
            return v

        return aware
    if kind == "DateField":
        return lambda v: parse_date(v) if isinstance(v, str) else v
    if kind == "BooleanField":
        return lambda v: bool(v) if type(v) is int else v  # SQLite's 0/1 without its converter
    if kind == "DecimalField" and conn.vendor == "sqlite":
        places = getattr(field, "decimal_places", None)
        step = Decimal(1).scaleb(-places) if places is not None else None

        def decimal(v: Any) -> Any:  # as Django's SQLite converter: quantized to the field's places
            if v is None:
                return None
            d = v if isinstance(v, Decimal) else Decimal(str(v))
            return d.quantize(step) if step is not None else d

        return decimal
    if kind == "DecimalField":
        return None  # PostgreSQL's numeric comes back as Decimal with the column's scale
    owner = getattr(getattr(field, "model", None), "__name__", "?")
    raise TypeError(f"rows: {type(field).__name__} {owner}.{field.name} has no written-out conversion")


@cache
def _recipe(model: type[Model], alias: str) -> tuple[list[str], int, list[tuple[int, Converter]]]:
    fields = model._meta.concrete_fields
    names = [str(f.attname) for f in fields]
    pk_at = names.index(str(model._meta.pk.attname))
    converters = [(i, c) for i, f in enumerate(fields) if (c := _converter(f, alias)) is not None]
    return names, pk_at, converters


def load(model: type[M], row: Sequence[Any], start: int = 0, *, using: str = "default") -> M | None:
    """The ``model`` instance in ``row[start:start + width(model)]`` (columns as ``select_list``),
    loaded from database ``using`` as the ORM loads it; ``None`` if its primary key is NULL."""
    names, pk_at, converters = _recipe(model, using)
    values = list(row[start:start + len(names)])
    if values[pk_at] is None:
        return None
    for i, convert in converters:
        if values[i] is not None:
            values[i] = convert(values[i])
    return model.from_db(using, names, values)


@cache
def _converters(model: type[Model], names: tuple[str, ...], alias: str) -> list[Converter | None]:
    opts = model._meta
    return [_converter(opts.pk if n == "pk" else opts.get_field(n), alias) for n in names]  # type: ignore[arg-type]


def convert(model: type[Model], names: Sequence[str], rows: Iterable[Sequence[Any]],
            *, using: str = "default") -> list[tuple[Any, ...]]:
    """``values_list(*names)`` tuples from rows selecting those fields' columns in that order."""
    converters = _converters(model, tuple(names), using)
    return [tuple(v if v is None or c is None else c(v) for v, c in zip(row, converters, strict=True)) for row in rows]
