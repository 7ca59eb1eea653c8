"""Reads whose SQL is compiled once per process and re-run with new values (the intake hot path).

Why this exists: for a one-row lookup Django spends far more CPU building the SQL — resolving
lookups, joins for ``select_related``, quoting, converters — than the database spends answering
(measured here on SQLite: ~1.0 ms to find a person with their home place through the ORM, ~0.14 ms
for the same SQL on a bare cursor). Intake runs two such reads on every submission.

``Prepared(build)`` calls ``build`` once per database with *marker* values, compiles the
queryset, and remembers where each marker landed among the statement's parameters. Every later
call executes the same statement with the real values and turns the rows into what the ORM would
have returned: model instances (with ``select_related`` objects and annotations) or
``values_list`` tuples, through the ORM's own ``from_db``, related populators and converters
(time zones, dates, JSON, decimals).

Limits, checked when the statement is compiled (a programming error, raised at once):
arguments are ``str`` or ``int`` values compared as they are (use ``person_id=...``, not a model
instance); no ``prefetch_related``, ``values()`` dicts, ``extra()``, set operations or
``iterator()`` shapes. A value that the field would transform before the query (for example
a lowercasing lookup) must not be a marker — the compile step then cannot find the marker and
refuses the shape.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from django.db import connections
from django.db.models import QuerySet
from django.db.models.query import (
    FlatValuesListIterable,
    ModelIterable,
    ValuesListIterable,
    get_related_populators,
)

from gongzhi.core.db.direct import execute, native_sql

T = TypeVar("T")


class _Compiled:
    """One database's statement and the recipe to turn its rows into results."""

    def __init__(self, qs: QuerySet[Any], markers: list[Any], alias: str) -> None:
        private = (qs._prefetch_related_lookups, qs._known_related_objects)  # type: ignore[attr-defined]
        if any(private) or qs.query.combinator or qs.query.extra:
            raise TypeError("Prepared: prefetch_related, extra(), set operations and related managers are not supported")
        kind = qs._iterable_class
        if kind not in (ModelIterable, ValuesListIterable, FlatValuesListIterable):
            raise TypeError(f"Prepared: {kind.__name__} results are not supported (use model instances or values_list)")
        if kind is not ModelIterable and qs.query.annotation_select:
            raise TypeError("Prepared: values_list with annotations is not supported")
        compiler = qs.query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        self.sql = sql
        self.native = native_sql(sql, connections[alias].vendor)
        self.params = list(params)
        # Which statement parameter takes which argument (a value may be used more than once).
        self.slots: list[tuple[int, int]] = []
        for pos, value in enumerate(self.params):
            for arg, marker in enumerate(markers):
                if type(value) is type(marker) and value == marker:
                    self.slots.append((pos, arg))
        found = {arg for _pos, arg in self.slots}
        if found != set(range(len(markers))):
            raise TypeError("Prepared: an argument does not reach the SQL unchanged (transformed by a lookup?)")
        self.kind = kind
        self.alias = alias
        self.columns = compiler.col_count
        self.converters = compiler.get_converters([s[0] for s in compiler.select[: compiler.col_count]])
        if kind is ModelIterable:
            klass_info = compiler.klass_info
            select = compiler.select
            assert klass_info is not None
            fields = klass_info["select_fields"]
            self.start, self.end = fields[0], fields[-1] + 1
            self.init_list = [f[0].target.attname for f in select[self.start : self.end]]
            self.model_cls = klass_info["model"]
            self.populators = get_related_populators(klass_info, select, alias)  # type: ignore[call-arg]  # stubs: 6.x
            self.annotations = dict(compiler.annotation_col_map or {})

    def run(self, args: tuple[Any, ...]) -> list[Any]:
        params = list(self.params)
        for pos, arg in self.slots:
            params[pos] = args[arg]
        connection = connections[self.alias]
        rows = execute(self.alias, self.sql, self.native, params, fetch=True)
        if self.converters:
            rows = [self._convert(list(row), connection) for row in rows]
        if self.kind is FlatValuesListIterable:
            return [row[0] for row in rows]
        if self.kind is ValuesListIterable:
            return [tuple(row[: self.columns]) for row in rows]
        out = []
        for row in rows:
            obj = self.model_cls.from_db(self.alias, self.init_list, row[self.start : self.end])
            for populator in self.populators:
                populator.populate(row, obj)
            for name, pos in self.annotations.items():
                setattr(obj, name, row[pos])
            out.append(obj)
        return out

    def _convert(self, row: list[Any], connection: Any) -> list[Any]:
        for pos, (functions, expression) in self.converters.items():
            value = row[pos]
            for convert in functions:
                value = convert(value, expression, connection)
            row[pos] = value
        return row


class Prepared(Generic[T]):
    """A read compiled once per process and database; call it with the values to look up.

    >>> by_code = Prepared(lambda code: Place.objects.filter(code=code)[:1])
    >>> by_code("B440305007")  # → [<Place …>] — the same objects the queryset would give
    """

    def __init__(self, build: Callable[..., QuerySet[Any]]) -> None:
        self.build = build
        self._compiled: dict[tuple[str, str, tuple[type, ...]], _Compiled] = {}

    def __call__(self, *args: str | int, using: str = "default") -> list[T]:
        types = tuple(type(a) for a in args)
        key = (using, connections[using].vendor, types)
        compiled = self._compiled.get(key)
        if compiled is None:
            markers = [_marker(t, i) for i, t in enumerate(types)]
            compiled = _Compiled(self.build(*markers), markers, using)
            self._compiled[key] = compiled  # a race compiles twice, harmlessly
        return compiled.run(args)

    def first(self, *args: str | int, using: str = "default") -> T | None:
        rows = self(*args, using=using)
        return rows[0] if rows else None


# Marker values: unlikely to occur as real parameters of the same statement.
_SALT = secrets.randbelow(2**40)


def _marker(t: type, i: int) -> Any:
    if t is str:  # %, _ and \ make any LIKE escaping or wrapping visible (and so refused)
        return f"\x1f%_\\prepared-{_SALT}-{i}\x1f"
    if t is int:  # inside a 32-bit column's range: Django drops an out-of-range lookup at compile time
        return -2_000_000_000 - (_SALT % 1_000_000) * 64 - i
    raise TypeError(f"Prepared: arguments must be str or int, not {t.__name__}")
