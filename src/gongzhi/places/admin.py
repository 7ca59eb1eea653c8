"""Admin for the administrative tree: read-mostly; every write goes through ``actions``."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gongzhi.core.actors import Actor
from gongzhi.places import queries
from gongzhi.places.actions import (
    DETAIL_FIELDS,
    PlaceError,
    do_create_place,
    do_rename_place,
    do_update_place_details,
)
from gongzhi.places.models import Place, PlaceChange


class _DryRun(Exception):
    """Raised to roll back a trial run of an action."""


class PlaceAdminForm(forms.ModelForm):
    """Runs the action once inside a rolled-back transaction so its errors show on the form."""

    # Set by the admin before validation; unset, the form acts as nobody and every check refuses it.
    actor: Actor = AnonymousUser()

    class Meta:
        model = Place
        fields = [
            "kind", "code", "name", "parent", "valid_from",
            "name_en", "area_km2", "lat", "lng", "note", "boundary",
        ]  # fmt: skip

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        try:
            with transaction.atomic():
                _apply(self.instance if self.instance.pk else None, data, self.changed_data, self.actor)
                raise _DryRun
        except _DryRun:
            pass
        except PlaceError as exc:
            raise ValidationError({exc.field: exc.message} if exc.field in data else exc.message) from exc
        return data


def _apply(existing: Place | None, data: dict[str, Any], changed: list[str], actor: Actor) -> Place:
    if existing is None:
        return do_create_place(
            data["kind"],
            data["code"],
            data["name"],
            data.get("parent"),
            data.get("valid_from"),
            actor=actor,
            name_en=data.get("name_en") or "",
            area_km2=data.get("area_km2"),
            lat=data.get("lat"),
            lng=data.get("lng"),
            note=data.get("note") or "",
        )
    current = Place.objects.get(pk=existing.pk)
    if data.get("name") and data["name"] != current.name:
        current = do_rename_place(current, data["name"], timezone.localdate(), actor=actor)
    details = {k: data[k] for k in DETAIL_FIELDS if k in changed and k in data}
    if details:
        current = do_update_place_details(current, actor=actor, **details)
    return current


@admin.register(Place)
class PlaceAdmin(admin.ModelAdmin):
    form = PlaceAdminForm
    list_display = ["name", "kind", "code", "parent", "valid_from", "valid_to"]
    list_filter = ["kind", ("valid_to", admin.EmptyFieldListFilter)]
    search_fields = ["name", "code"]
    raw_id_fields = ["parent"]
    fields = [
        "kind", "code", "name", "parent", "valid_from", "valid_to", "path",
        "name_en", "area_km2", "lat", "lng", "note", "boundary", "name_history",
    ]  # fmt: skip
    # Identity fields change only through split / merge / rename / abolish actions.
    identity_fields = ["kind", "code", "parent", "valid_from", "valid_to", "path"]

    def get_readonly_fields(self, request: HttpRequest, obj: Place | None = None) -> list[str]:
        return (
            [*self.identity_fields, "name_history"]
            if obj is not None
            else ["valid_to", "path", "name_history"]
        )

    @admin.display(description=_("名称沿革"))
    def name_history(self, obj: Place) -> str:
        return "；".join(
            _("%(name)s（%(start)s 至 %(end)s）") % {"name": n.name, "start": n.valid_from or "—", "end": n.valid_to or _("今")}
            for n in queries.name_history(obj)
        )

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # places are closed, never deleted: objects and history point at them

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        form.actor = request.user  # type: ignore[attr-defined]
        return form

    def save_model(self, request: HttpRequest, obj: Place, form: Any, change: bool) -> None:
        saved = _apply(obj if change else None, form.cleaned_data, form.changed_data, request.user)
        obj.pk = saved.pk


@admin.register(PlaceChange)
class PlaceChangeAdmin(admin.ModelAdmin):
    list_display = ["effective", "kind", "note", "document_ref", "recorded_at"]
    list_filter = ["kind"]
    search_fields = ["note", "document_ref", "sources__name", "targets__name"]
    date_hierarchy = "effective"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
