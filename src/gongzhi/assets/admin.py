"""Admin: read-only views of the register for administrators. Every write goes through
``actions`` (the console pages and the API), so the admin offers no add, change or delete; a
counterparty's number shows only masked (the ciphertext and blind index are not listed)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from gongzhi.assets.models import Alert, Asset, Company, Deal, Lease, TradingRule


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(TradingRule)
class TradingRuleAdmin(_ReadOnly):
    list_display = ["district", "valid_from", "area_threshold", "monthly_rent_threshold", "window_days",
                    "notice_working_days"]


@admin.register(Company)
class CompanyAdmin(_ReadOnly):
    list_display = ["name", "uscc", "place"]
    search_fields = ["name", "uscc"]


@admin.register(Asset)
class AssetAdmin(_ReadOnly):
    list_display = ["code", "name", "kind", "use_type", "area", "occupancy", "company"]
    list_filter = ["kind", "use_type", "occupancy"]


@admin.register(Lease)
class LeaseAdmin(_ReadOnly):
    list_display = ["contract_no", "company", "counterparty_name", "counterparty_shown", "area", "monthly_rent",
                    "starts_on", "ends_on", "deal"]
    exclude = ["counterparty_number_cipher", "counterparty_number_bidx", "counterparty_key"]


@admin.register(Deal)
class DealAdmin(_ReadOnly):
    list_display = ["title", "company", "status", "reserve_monthly_rent", "listed_on", "notice_until"]
    list_filter = ["status"]


@admin.register(Alert)
class AlertAdmin(_ReadOnly):
    list_display = ["kind", "company", "status", "owner", "deadline"]
    list_filter = ["kind", "status"]
