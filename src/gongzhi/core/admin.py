"""Admin for configuration: the calendar is editable (through actions); the audit log and the
timers are read-only windows."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from gongzhi.core.actions import do_mark_calendar_year, do_set_calendar_day
from gongzhi.core.models import AuditEvent, CalendarDay, CalendarYear, Timer


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    list_display = ["date", "kind", "name", "source"]
    list_filter = ["kind", "source"]
    date_hierarchy = "date"
    search_fields = ["name"]
    readonly_fields = ["source"]

    def save_model(self, request: HttpRequest, obj: CalendarDay, form: Any, change: bool) -> None:
        if change and "date" in form.changed_data:
            do_set_calendar_day(form.initial["date"], None, actor=request.user)
        do_set_calendar_day(obj.date, obj.kind, obj.name, actor=request.user)

    def delete_model(self, request: HttpRequest, obj: CalendarDay) -> None:
        do_set_calendar_day(obj.date, None, actor=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for obj in queryset:
            do_set_calendar_day(obj.date, None, actor=request.user)


@admin.register(CalendarYear)
class CalendarYearAdmin(admin.ModelAdmin):
    list_display = ["year", "complete", "source", "loaded_at"]
    readonly_fields = ["source", "loaded_at"]

    def save_model(self, request: HttpRequest, obj: CalendarYear, form: Any, change: bool) -> None:
        do_mark_calendar_year(obj.year, obj.complete, actor=request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["id", "chain_seq", "created_at", "actor_label", "verb", "object_type", "object_id"]
    list_filter = ["verb"]
    search_fields = ["verb", "object_type", "object_id", "actor_label"]
    date_hierarchy = "created_at"


@admin.register(Timer)
class TimerAdmin(ReadOnlyAdmin):
    list_display = ["kind", "key", "due_at", "status", "attempts", "claimed_by"]
    list_filter = ["kind", "status"]
    search_fields = ["key"]
