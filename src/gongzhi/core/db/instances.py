"""Build new model instances for the intake hot path: ``build(Case, number=..., item=item)``
gives what ``Case(number=..., item=item)`` gives.

Why this exists: ``Model.__init__`` walks every field of the model and sets each one through
``setattr`` and its descriptor, and related objects through the relation descriptor's checks.
Intake builds eleven instances per submission (a case has 39 fields), and py-spy on the bench's
web workers put ``Model.__init__`` at ~10% of a submission's CPU. Here each model's defaults are
worked out once per process, and an instance is the defaults plus the given values written
straight into its ``__dict__`` (where Django's own descriptors keep them too).

Kept exactly as Django does it: callable defaults are called per instance and only for fields
not given; a related object is type-checked, its key copied and the object cached, and both
instances take a database as Django's router would assign it. Anything else goes to
``Model(**values)`` unchanged: models with ``pre_init``/``post_init`` receivers, custom
descriptors (file fields…), generated or database-default fields, inheritance, one-to-one and
multi-column relations, database routers, a name that is not a concrete field (a property), a
related object of the wrong class, a relation across databases. ``core/tests/test_instances.py``
compares both ways field by field for every model the hot path builds.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from inspect import getattr_static
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, router
from django.db.models import ForeignKey, Model, OneToOneField
from django.db.models.base import DEFERRED, ModelState
from django.db.models.fields.related_descriptors import (
    ForeignKeyDeferredAttribute,
    ForwardManyToOneDescriptor,
)
from django.db.models.query_utils import DeferredAttribute
from django.db.models.signals import post_init, pre_init

M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class _Recipe:
    static: dict[str, Any]  # attname → default that is the same for every instance
    dynamic: list[tuple[str, str, Any]]  # (name, attname, field): default computed per instance
    plain: dict[str, str]  # keyword → attname for values stored as given
    related: dict[str, tuple[str, str, type[Model], str]]  # FK name → (attname, target attname, model, cache name)


@cache
def _recipe(model: type[Model]) -> _Recipe | None:
    opts = model._meta
    if opts.abstract or opts.private_fields or opts.parents or opts.proxy:
        return None
    static: dict[str, Any] = {}
    dynamic: list[tuple[str, str, Any]] = []
    plain: dict[str, str] = {}
    related: dict[str, tuple[str, str, type[Model], str]] = {}
    for f in opts.fields:
        if f.column is None or f.generated or f.has_db_default():
            return None
        if type(getattr_static(model, f.attname)) not in (DeferredAttribute, ForeignKeyDeferredAttribute):
            return None  # a custom descriptor (files, images…) does more than store the value
        if f.is_relation:
            if type(f) is not ForeignKey or isinstance(f, OneToOneField) or len(f.related_fields) != 1:
                return None
            if type(getattr_static(model, f.name)) is not ForwardManyToOneDescriptor:
                return None
            target = f.related_fields[0][1]
            concrete = f.remote_field.model._meta.concrete_model
            if concrete is None:
                return None
            related[f.name] = (f.attname, target.attname, concrete, f.cache_name)
        plain[f.attname] = f.attname  # a foreign key may also be given by its id (``item_id=3``)
        if f.has_default() and callable(f.default):
            dynamic.append((f.name, f.attname, f))
        else:
            static[f.attname] = f.get_default()
    return _Recipe(static, dynamic, plain, related)


def build(model: type[M], /, **values: Any) -> M:
    """``model(**values)``, faster for plain models (see the module docstring)."""
    recipe = _recipe(model)
    if recipe is None or router.routers or pre_init.has_listeners(model) or post_init.has_listeners(model):
        return model(**values)
    obj = model.__new__(model)
    state = obj._state = ModelState()
    data = obj.__dict__
    data.update(recipe.static)
    for name, attname, f in recipe.dynamic:
        if name not in values and attname not in values:
            data[attname] = f.get_default()  # only when not given, as Django (no needless side effects)
    for name, value in values.items():
        if value is DEFERRED:
            return model(**values)
        rel = recipe.related.get(name)
        if rel is not None:
            attname, target, related_model, cache_name = rel
            if value is not None:
                if not isinstance(value, related_model):
                    return model(**values)  # Django's own error
                # What Django's router does without routers: both sides on one database.
                if state.db is None:
                    state.db = value._state.db or DEFAULT_DB_ALIAS
                if value._state.db is None:
                    value._state.db = state.db
                if value._state.db != state.db:
                    return model(**values)  # Django refuses the relation
                data[attname] = getattr(value, target)
            else:
                data[attname] = None
            state.fields_cache[cache_name] = value
            continue
        plain = recipe.plain.get(name)
        if plain is None:
            return model(**values)  # a property or an unknown name: Django decides
        data[plain] = value
    return obj
