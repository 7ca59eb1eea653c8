"""Admin for users, roles, departments and tokens. Every save goes through ``accounts.actions``."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from gongzhi.accounts import actions
from gongzhi.accounts.models import ApiToken, Department, RoleAssignment, User
from gongzhi.accounts.queries import users_for_user


class RoleAssignmentInline(admin.TabularInline):
    model = RoleAssignment
    extra = 1
    fields = ("role", "place", "department", "valid_from", "valid_to")
    autocomplete_fields = ("department",)
    raw_id_fields = ("place",)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    inlines = [RoleAssignmentInline]
    list_display = ("username", "display_name", "is_active", "is_superuser", "locked_until", "last_login")
    search_fields = ("username", "display_name", "email")
    fieldsets = (
        *(DjangoUserAdmin.fieldsets or ()),
        (_("共治"), {"fields": ("display_name", "preferred_language", "failed_logins", "locked_until")}),
    )
    readonly_fields = ("failed_logins", "locked_until", "last_login", "date_joined")
    actions = ["unlock_users", "issue_token"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        return users_for_user(request.user)

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        if not change:
            password = form.cleaned_data.get("password1") or None
            created = actions.do_create_user(obj.username, obj.display_name, password, actor=request.user, validate=False)
            obj.pk = created.pk
            obj.password = created.password
            obj._state.adding = False
            return
        # Editing identity fields of an existing user: Django's own form has validated them.
        actions.ensure_admin_over_user(request.user, obj)
        super().save_model(request, obj, form, change)
        from gongzhi.core.audit import record_event

        record_event("user.update", actor=request.user, obj=obj, after={"changed": form.changed_data})

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is not RoleAssignment:
            super().save_formset(request, form, formset, change)
            return
        try:
            for inline_form in formset.forms:
                if not inline_form.has_changed() or not inline_form.cleaned_data:
                    continue
                data = inline_form.cleaned_data
                existing = inline_form.instance if inline_form.instance.pk else None
                if data.get("DELETE") and existing is not None:
                    actions.do_revoke_role(RoleAssignment.objects.get(pk=existing.pk), actor=request.user)
                    continue
                if existing is not None and {"role", "place", "department"} & set(inline_form.changed_data):
                    # A different role/place is a different grant: end the old one, keep its history.
                    actions.do_revoke_role(RoleAssignment.objects.get(pk=existing.pk), actor=request.user)
                actions.do_assign_role(
                    form.instance,
                    data["role"],
                    data["place"],
                    data.get("department"),
                    data.get("valid_from"),
                    data.get("valid_to"),
                    actor=request.user,
                )
        except (actions.ActionError, PermissionDenied) as exc:
            self.message_user(request, getattr(exc, "message", str(exc)), messages.ERROR)

    @admin.action(description=_("解除锁定"))
    def unlock_users(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        for user in queryset:
            actions.do_unlock_user(user, actor=request.user)
        self.message_user(request, _("已解除锁定"))

    @admin.action(description=_("签发接口令牌（只显示一次）"))
    def issue_token(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        for user in queryset:
            try:
                _token, secret = actions.do_issue_api_token(user, "admin", actor=request.user)
            except (actions.ActionError, PermissionDenied) as exc:
                self.message_user(request, getattr(exc, "message", str(exc)), messages.ERROR)
                continue
            # Shown once in the flash message; only its SHA-256 is stored.
            self.message_user(
                request,
                _("%(user)s 的令牌（请立即复制，只显示这一次）：%(secret)s") % {"user": user.username, "secret": secret},
                messages.WARNING,
            )


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "place")
    search_fields = ("code", "name")
    raw_id_fields = ("place",)

    def save_model(self, request: HttpRequest, obj: Department, form: Any, change: bool) -> None:
        if not change:
            created = actions.do_create_department(obj.code, obj.name, obj.place, actor=request.user, name_en=obj.name_en)
            obj.pk = created.pk
            obj._state.adding = False
            return
        actions.ensure_admin_over(request.user, obj.place.path)
        super().save_model(request, obj, form, change)
        from gongzhi.core.audit import record_event

        record_event("department.update", actor=request.user, obj=obj, after={"changed": form.changed_data})


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Read-only: tokens are issued from the user list (action "签发接口令牌") and revoked here."""

    list_display = ("name", "user", "prefix", "created_at", "last_used_at", "expires_at", "revoked_at")
    readonly_fields = ("user", "name", "prefix", "created_at", "last_used_at", "expires_at", "revoked_at")
    exclude = ("key_hash",)
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[ApiToken]:
        return ApiToken.objects.filter(user__in=users_for_user(request.user)).select_related("user")

    @admin.action(description=_("吊销所选令牌"), permissions=["view"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        for token in queryset:
            actions.do_revoke_api_token(token, actor=request.user)
        self.message_user(request, _("已吊销"))
