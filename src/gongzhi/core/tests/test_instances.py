"""core/db/instances.py: ``build(Model, **values)`` gives what ``Model(**values)`` gives."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.db.models import Model
from django.db.models.signals import post_init
from django.utils import timezone

from gongzhi.core.db import instances
from gongzhi.core.db.instances import build
from gongzhi.core.models import AuditEvent, Timer
from gongzhi.people.models import Person
from gongzhi.places.models import Place
from gongzhi.services.models import Application, Case, CaseMaterial, Notification, Task


def _same(a: Model, b: Model) -> None:
    assert type(a) is type(b)
    mine = {k: v for k, v in a.__dict__.items() if k != "_state"}
    theirs = {k: v for k, v in b.__dict__.items() if k != "_state"}
    assert mine == theirs
    assert a._state.db == b._state.db and a._state.adding == b._state.adding
    assert a._state.fields_cache == b._state.fields_cache


def _both(model: type[Model], **values: Any) -> tuple[Model, Model]:
    return build(model, **values), model(**values)


@pytest.mark.django_db
def test_every_hot_path_model_built_as_django_builds_it() -> None:
    now = timezone.now()
    place = Place.objects.create(kind="community", code="B4403050070", name="社区", path="1.2.3")
    person = Person(name="张伟", home_place=place)
    person.pk = 7
    person._state.adding = False
    cases = [
        (Application, dict(number="GZ1", idempotency_key="k", channel="window", place=place, applicant_person=person,
                           submitted_at=now, bundle=None)),
        (Case, dict(number="GZ101", channel="api", applicant_person=person, applicant_org=None, applicant_name="张伟",
                    place=place, place_path=place.path, form_data={"reason": "困难"}, status="accepted",
                    accepted_at=now, accepted_on=date(2026, 9, 30), limit_days=5, deadline=date(2026, 10, 14),
                    visits=1, search_text=" 南山 ")),
        (Case, dict(number="GZ102", place_id=place.pk, applicant_person_id=7)),  # foreign keys given by id
        (CaseMaterial, dict(status="wallet", document_id=3)),
        (Task, dict(role="lead", limit_days=5, deadline=date(2026, 10, 14), deadline_provisional=False)),
        (Timer, dict(kind="services.task_overdue", key="task-overdue:1", due_at=now, payload={"task": 1})),
        (Timer, dict(kind="x", key="k2", due_at=now)),  # payload: a callable default (dict)
        (AuditEvent, dict(created_at=now, actor_id=None, actor_label="worker", verb="case.accept",
                          object_type="services.case", object_id="1", place_path="1.2", before=None, after={"a": 1})),
        (Notification, dict(recipient="张伟", created_at=now, subject="受理", body="……")),
        (Place, dict(kind="community", code="X", name="社区", parent=place)),
    ]
    for model, values in cases:
        mine, theirs = _both(model, **values)
        _same(mine, theirs)
    # the related object takes the database as Django's descriptor gives it
    fresh = Place(kind="community", code="Y", name="新社区")
    assert fresh._state.db is None
    built = build(Case, number="GZ103", place=fresh)
    assert fresh._state.db == "default" and built._state.db == "default"


@pytest.mark.django_db
def test_every_model_without_values_matches_django() -> None:
    """Defaults for every model of the platform: the same values, or the same kind where the
    default is computed per instance (a time, a fresh dict)."""
    for model in apps.get_models():
        recipe = instances._recipe(model)
        mine, theirs = build(model), model()
        if recipe is None:
            _same(mine, theirs)
            continue
        dynamic = {attname for _name, attname, _f in recipe.dynamic}
        for key, value in theirs.__dict__.items():
            if key == "_state":
                continue
            if key in dynamic:
                assert type(mine.__dict__[key]) is type(value), (model, key)
            else:
                assert mine.__dict__[key] == value, (model, key)
        assert set(mine.__dict__) == set(theirs.__dict__), model


def test_callable_default_not_called_when_given() -> None:
    calls = []
    field = Timer._meta.get_field("payload")
    original = field.default

    def counting() -> dict[str, int]:
        calls.append(1)
        return {}

    field.default = counting
    field.__dict__.pop("_get_default", None)  # Django caches the default's callable
    try:
        build(Timer, kind="k", key="k", due_at=timezone.now(), payload={"a": 1})
        assert calls == []
        assert build(Timer, kind="k", key="k", due_at=timezone.now()).payload == {}
        assert calls == [1]
    finally:
        field.default = original
        field.__dict__.pop("_get_default", None)


def test_refusals_are_djangos() -> None:
    place = Place(kind="community", code="Z", name="社区")
    with pytest.raises(ValueError, match="must be a \"Place\" instance"):
        build(Case, place=get_user_model()(username="x"))  # wrong related class
    with pytest.raises(TypeError, match="unexpected keyword arguments: 'nonsense'"):
        build(Case, nonsense=1, place=place)
    elsewhere = Place(kind="community", code="Q", name="别库")
    elsewhere._state.db = "other"  # an object read from another database: the new one follows it
    assert build(Case, place=elsewhere)._state.db == Case(place=elsewhere)._state.db == "other"


def test_receivers_and_unusual_models_take_djangos_path() -> None:
    seen: list[Model] = []

    def receiver(sender: Any, instance: Model, **kwargs: Any) -> None:
        seen.append(instance)

    post_init.connect(receiver, sender=Timer)
    try:
        timer = build(Timer, kind="k", key="k", due_at=timezone.now())
        assert seen == [timer]  # Django's __init__ ran and sent the signal
    finally:
        post_init.disconnect(receiver, sender=Timer)
    user_model = get_user_model()
    assert isinstance(build(user_model, username="u"), user_model)
