"""Configuration screens for councils. Writes go through ``actions`` where rules apply (rule
profiles are validated by the engine's own ``profile_from_dict``); the event log and minutes are
read-only here — they are records, not settings."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html_join
from django.utils.safestring import SafeString

from gongzhi.councils import actions
from gongzhi.councils.models import (
    AgendaItem,
    Council,
    CouncilMember,
    Meeting,
    MeetingEvent,
    Minutes,
    Moderator,
    ModeratorAssignment,
    NeutralityComplaint,
    RuleProfileRecord,
)


class RuleProfileForm(forms.ModelForm):
    class Meta:
        model = RuleProfileRecord
        fields = ["key", "name", "base", "overrides", "description"]
        help_texts = {"overrides": "JSON 对象，例如 {\"speech_seconds\": 180, \"max_speeches\": 2}；只写与基础规则不同的参数。"}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        try:
            actions.resolve_profile(data.get("base") or "", data.get("overrides") or {})
        except actions.CouncilError as exc:
            self.add_error(exc.field if exc.field in ("base", "overrides") else None, exc.message)
        return data


@admin.register(RuleProfileRecord)
class RuleProfileAdmin(admin.ModelAdmin):
    form = RuleProfileForm
    list_display = ["key", "name", "base"]
    readonly_fields = ["resolved"]

    @admin.display(description="生效参数")
    def resolved(self, obj: RuleProfileRecord) -> SafeString | str:
        if obj.pk is None:
            return "—"
        try:
            params = actions.resolve_profile(obj.base, obj.overrides)
        except actions.CouncilError as exc:
            return exc.message
        rows = [(k, json.dumps(v, ensure_ascii=False), "✓" if k in obj.overrides else "")
                for k, v in params.items()]
        return format_html_join("", "<div><code>{}</code> = {} <strong>{}</strong></div>", rows)

    def save_model(self, request: HttpRequest, obj: RuleProfileRecord, form: Any, change: bool) -> None:
        if change:
            original = RuleProfileRecord.objects.get(pk=obj.pk)
            actions.do_update_profile(original, actor=request.user, name=obj.name, base=obj.base,
                                      overrides=obj.overrides, description=obj.description)
        else:
            saved = actions.do_create_profile(obj.key, obj.name, obj.base, obj.overrides, actor=request.user,
                                              description=obj.description)
            obj.pk = saved.pk


class MemberInline(admin.TabularInline):
    model = CouncilMember
    extra = 0
    fields = ["display_name", "user", "role", "sector", "weight", "term_start", "term_end"]
    raw_id_fields = ["user"]


class AssignmentInline(admin.TabularInline):
    model = ModeratorAssignment
    extra = 0


@admin.register(Council)
class CouncilAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "place", "profile", "weighted", "active"]
    list_filter = ["kind", "weighted", "active"]
    inlines = [MemberInline, AssignmentInline]
    raw_id_fields = ["place", "organisation"]


class ComplaintInline(admin.TabularInline):
    model = NeutralityComplaint
    extra = 0
    fields = ["meeting", "filed_by", "filed_at", "text", "status", "resolution"]
    readonly_fields = ["meeting", "filed_by", "filed_at", "text"]


@admin.register(Moderator)
class ModeratorAdmin(admin.ModelAdmin):
    list_display = ["display_name", "place", "training_hours", "certificate_no", "certified_on", "active"]
    list_filter = ["active"]
    inlines = [AssignmentInline, ComplaintInline]
    raw_id_fields = ["user", "place"]


class AgendaInline(admin.TabularInline):
    model = AgendaItem
    extra = 0


@admin.register(Meeting)
class MeetingAdmin(admin.ModelAdmin):
    list_display = ["title", "council", "scheduled_at", "status", "version", "in_person"]
    list_filter = ["status", "in_person"]
    inlines = [AgendaInline]
    # Roster, rules and version are frozen by the start of the meeting and moved only by actions.
    readonly_fields = ["status", "roster", "profile_snapshot", "version", "notice_sent_at"]
    raw_id_fields = ["secretary"]


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(MeetingEvent)
class MeetingEventAdmin(ReadOnlyAdmin):
    list_display = ["meeting", "seq", "kind", "actor", "recorded_by", "created_at"]
    list_filter = ["kind"]


@admin.register(Minutes)
class MinutesAdmin(ReadOnlyAdmin):
    list_display = ["meeting", "status", "generated_at", "published_at", "digest"]
    list_filter = ["status"]
