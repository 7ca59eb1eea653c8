"""Read-only admin pages: every write goes through the actions (DESIGN.md §2)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from gongzhi.villages import models


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(models.Project)
class ProjectAdmin(ReadOnly):
    list_display = ("code", "name", "village", "status", "deadline", "projected_finish", "min_float")
    list_filter = ("status",)


@admin.register(models.DenyEntry)
class DenyEntryAdmin(ReadOnly):
    list_display = ("village", "person", "status", "starts_at", "expires_at", "approver")
    list_filter = ("status",)


for model in (models.Village, models.TalentRound, models.ResettlementRound, models.Credential, models.FaceConsent,
              models.Gate, models.GateEvent):
    admin.site.register(model, ReadOnly)
