"""Read-only admin pages for 民生微实事: every write goes through the actions (the office
console), so the admin only shows the records (nothing here saves a model)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from gongzhi.microprojects.models import CommunityBudget, FundingList, Proposal


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Proposal)
class ProposalAdmin(ReadOnlyAdmin):
    list_display = ("title", "place", "year", "status", "outcome", "estimated_cost", "funded_amount", "progress")
    list_filter = ("year", "status", "outcome")
    search_fields = ("title",)


@admin.register(CommunityBudget)
class CommunityBudgetAdmin(ReadOnlyAdmin):
    list_display = ("place", "year", "total", "ceiling", "method")


@admin.register(FundingList)
class FundingListAdmin(ReadOnlyAdmin):
    list_display = ("place", "year", "method", "budget", "total", "decided_at")
