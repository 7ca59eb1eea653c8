"""Admin for users, roles, departments and tokens. Every write goes through ``accounts.actions``.

Forms check each change with the actions' ``check_*`` functions in ``clean()``, so a refusal is
shown on the form and nothing is saved; ``save_model``/``save_related`` then call the ``do_*``
actions, which check again and raise (never swallowed) if the world changed in between.
Deleting is not offered: users are deactivated, roles ended, tokens revoked — history stays.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm, UserChangeForm
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from gongzhi.accounts import actions
from gongzhi.accounts.models import ApiToken, Department, RoleAssignment, User
from gongzhi.accounts.queries import requires_second_factor, users_for_user
from gongzhi.accounts.scope import is_administrator
from gongzhi.core.actors import Actor
from gongzhi.core.errors import ActionError

# The admin user behind the current request, for forms Django builds without the request
# (the password form). A ContextVar, not a class attribute: each request thread has its own.
_current_actor: ContextVar[Any] = ContextVar("gongzhi_admin_actor", default=None)


class SecondFactorAdminLoginForm(AdminAuthenticationForm):
    """The admin's own login page has no second step: users who need one log in at
    ``accounts:login`` (password, then code) and come back to the admin already logged in."""

    def confirm_login_allowed(self, user: Any) -> None:
        super().confirm_login_allowed(user)
        if requires_second_factor(user):
            raise ValidationError(
                _("此账户需要两步验证，请从平台登录页（/accounts/login/）登录后再进入后台。"), code="second_factor"
            )


admin.site.login_form = SecondFactorAdminLoginForm


def _check(form: forms.BaseForm, check: Any, *args: Any, **kwargs: Any) -> None:
    """Run an action's check and put its refusal on ``form`` (on the field when it names one)."""
    try:
        check(*args, **kwargs)
    except (ActionError, PermissionDenied) as exc:
        field = getattr(exc, "field", "") or None
        message = getattr(exc, "message", None) or str(exc)
        form.add_error(field if field in form.fields else None, message)


class _AdministratorsManage:
    """Administrators (in their jurisdiction, enforced by the actions) manage accounts."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and (request.user.is_superuser or is_administrator(request.user))

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class RoleAssignmentFormSet(forms.BaseInlineFormSet):
    # Set by the admin before validation; unset, the form acts as nobody and every check refuses it.
    actor: Actor = AnonymousUser()

    def clean(self) -> None:
        super().clean()
        for form in self.forms:
            if not form.has_changed() or not getattr(form, "cleaned_data", None) or form.cleaned_data.get("DELETE"):
                if form.cleaned_data.get("DELETE") and form.instance.pk:
                    _check(form, actions.ensure_admin_over, self.actor, form.instance.place.path)
                continue
            data = form.cleaned_data
            if data.get("role") is None or data.get("place") is None:
                continue
            _check(
                form,
                actions.check_assign_role,
                data["role"],
                data["place"],
                data.get("department"),
                data.get("valid_from"),
                data.get("valid_to"),
                actor=self.actor,
            )
        if any(form.errors for form in self.forms):
            raise ValidationError(_("请修改下面标出的角色授权"))


class RoleAssignmentInline(_AdministratorsManage, admin.TabularInline):
    model = RoleAssignment
    formset = RoleAssignmentFormSet
    extra = 1
    fields = ("role", "place", "department", "valid_from", "valid_to")
    autocomplete_fields = ("department",)
    raw_id_fields = ("place",)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # "Delete" on a role ends it (do_revoke_role keeps the row for 问责倒查).
        return self.has_module_permission(request)

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        formset = super().get_formset(request, obj, **kwargs)
        return type(formset.__name__, (formset,), {"actor": request.user})


class GongzhiUserChangeForm(UserChangeForm):
    # Set by the admin before validation; unset, the form acts as nobody and every check refuses it.
    actor: Actor = AnonymousUser()
    new_phone = forms.CharField(
        label=_("新手机号"),
        required=False,
        max_length=20,
        help_text=_("用于接收密码重置验证码；留空则不修改。当前登记的号码只显示掩码。"),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        user = User.objects.get(pk=self.instance.pk)
        if cleaned.get("new_phone"):
            _check(self, actions.ensure_admin_over_user, self.actor, user)
            try:
                actions.check_phone(cleaned["new_phone"])
            except ActionError as exc:
                self.add_error("new_phone", exc.message)
        profile = {f: cleaned.get(f) for f in actions.PROFILE_FIELDS if f in self.changed_data}
        if profile:
            _check(self, actions.check_update_user, user, profile, actor=self.actor)
        if "is_active" in self.changed_data:
            _check(self, actions.ensure_admin_over_user, self.actor, user)
            if not cleaned.get("is_active") and self.actor == user:
                self.add_error("is_active", _("不能停用自己的账户"))
        if "is_staff" in self.changed_data:
            _check(self, actions.ensure_admin_over_user, self.actor, user)
        if "is_superuser" in self.changed_data:
            _check(self, actions.check_set_superuser, user, bool(cleaned.get("is_superuser")), actor=self.actor)
        if {"user_permissions", "groups"} & set(self.changed_data):
            _check(self, actions.check_set_permissions, user, actor=self.actor)
        return cleaned


class GongzhiPasswordChangeForm(AdminPasswordChangeForm):
    """The admin's "set password" page, through ``do_set_password`` (validated, audited)."""

    def save(self, commit: bool = True) -> Any:
        actor = _current_actor.get()
        if actor is None:
            raise PermissionDenied
        password = self.cleaned_data.get("password1")
        if password:
            actions.do_set_password(self.user, password, actor=actor)
        else:
            # "Disable password-based authentication" (Django 5.1+).
            actions.do_disable_password(self.user, actor=actor)
        return self.user


@admin.register(User)
class UserAdmin(_AdministratorsManage, DjangoUserAdmin):
    form = GongzhiUserChangeForm
    change_password_form = GongzhiPasswordChangeForm
    inlines = [RoleAssignmentInline]
    list_display = ("username", "display_name", "is_active", "is_superuser", "last_login")
    search_fields = ("username", "display_name", "email")
    fieldsets = (
        *(DjangoUserAdmin.fieldsets or ()),
        (_("共治"), {"fields": ("display_name", "preferred_language", "phone_masked", "new_phone")}),
    )
    readonly_fields = ("last_login", "date_joined", "phone_masked")
    actions = ["unlock_users", "issue_token", "deactivate_users", "reset_two_factor"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        return users_for_user(request.user)

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"actor": request.user})

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = "") -> HttpResponse:
        token = _current_actor.set(request.user)
        try:
            return super().user_change_password(request, id, form_url)
        finally:
            _current_actor.reset(token)

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        actor = request.user
        if not change:
            password = form.cleaned_data.get("password1") or None
            # Django's creation form has already run the password validators.
            created = actions.do_create_user(obj.username, obj.display_name, password, actor=actor, validate=False)
            obj.pk = created.pk
            obj.password = created.password
            obj._state.adding = False
            return
        # ``obj`` carries the form's values; the stored row is what the actions change.
        user = User.objects.get(pk=obj.pk)
        changed = set(form.changed_data)
        profile = {f: form.cleaned_data.get(f) for f in actions.PROFILE_FIELDS if f in changed}
        if profile:
            actions.do_update_user(user, profile, actor=actor)
        if "is_superuser" in changed:
            actions.do_set_superuser(user, bool(form.cleaned_data["is_superuser"]), actor=actor)
        if "is_staff" in changed:
            actions.do_set_staff(user, bool(form.cleaned_data["is_staff"]), actor=actor)
        if form.cleaned_data.get("new_phone"):
            actions.do_set_phone(user, form.cleaned_data["new_phone"], actor=actor)
        if "is_active" in changed:
            if form.cleaned_data["is_active"]:
                actions.do_reactivate_user(user, actor=actor)
            else:
                actions.do_deactivate_user(user, actor=actor)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        # Not form.save_m2m(): permissions and groups go through their action.
        if {"user_permissions", "groups"} & set(form.changed_data):
            actions.do_set_permissions(
                User.objects.get(pk=form.instance.pk),
                form.cleaned_data.get("user_permissions", []),
                form.cleaned_data.get("groups", []),
                actor=request.user,
            )
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is not RoleAssignment:
            raise PermissionDenied  # every inline of this admin is listed above
        user = User.objects.get(pk=form.instance.pk)
        # What Django's change message reads (formset.save() would have set these).
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for inline_form in formset.forms:
            if not inline_form.has_changed() or not inline_form.cleaned_data:
                continue
            data = inline_form.cleaned_data
            existing = inline_form.instance if inline_form.instance.pk else None
            if data.get("DELETE"):
                if existing is not None:
                    actions.do_revoke_role(RoleAssignment.objects.get(pk=existing.pk), actor=request.user)
                    formset.changed_objects.append((existing, ["valid_to"]))
                continue
            if existing is not None and {"role", "place", "department"} & set(inline_form.changed_data):
                # A different role/place is a different grant: end the old one, keep its history.
                actions.do_revoke_role(RoleAssignment.objects.get(pk=existing.pk), actor=request.user)
            assigned = actions.do_assign_role(
                user,
                data["role"],
                data["place"],
                data.get("department"),
                data.get("valid_from"),
                data.get("valid_to"),
                actor=request.user,
            )
            formset.new_objects.append(assigned)

    def _each(self, request: HttpRequest, queryset: QuerySet[User], action: Any, done: Any) -> None:
        ok = 0
        for user in queryset:
            try:
                action(user, actor=request.user)
                ok += 1
            except (ActionError, PermissionDenied) as exc:
                # Shown, not swallowed: one refusal does not hide the others' results.
                self.message_user(request, f"{user.username}：{getattr(exc, 'message', None) or exc}", messages.ERROR)
        if ok:
            self.message_user(request, done)

    @admin.action(description=_("解除登录限制"))
    def unlock_users(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        self._each(request, queryset, actions.do_unlock_user, _("已解除登录限制"))

    @admin.action(description=_("停用所选用户（吊销令牌、结束会话）"))
    def deactivate_users(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        self._each(request, queryset, actions.do_deactivate_user, _("已停用"))

    @admin.action(description=_("重置两步验证（手机丢失时；下次登录重新绑定）"))
    def reset_two_factor(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        self._each(request, queryset, actions.do_reset_totp, _("已重置两步验证"))

    @admin.action(description=_("签发接口令牌（只显示一次）"))
    def issue_token(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        for user in queryset:
            try:
                _token, secret = actions.do_issue_api_token(user, "admin", actor=request.user)
            except (ActionError, PermissionDenied) as exc:
                self.message_user(request, getattr(exc, "message", None) or str(exc), messages.ERROR)
                continue
            # Shown once in the flash message; only its SHA-256 is stored.
            self.message_user(
                request,
                _("%(user)s 的令牌（请立即复制，只显示这一次）：%(secret)s") % {"user": user.username, "secret": secret},
                messages.WARNING,
            )


class DepartmentForm(forms.ModelForm):
    # Set by the admin before validation; unset, the form acts as nobody and every check refuses it.
    actor: Actor = AnonymousUser()

    class Meta:
        model = Department
        fields = ("code", "name", "name_en", "place")

    def validate_unique(self) -> None:
        # The action names a duplicate code in its own words (check_update_department).
        pass

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.instance.pk is None:
            place = cleaned.get("place")
            if place is not None:
                _check(self, actions.ensure_admin_over, self.actor, place.path)
            return cleaned
        dept = Department.objects.select_related("place").get(pk=self.instance.pk)
        changes = {f: cleaned.get(f) for f in self.changed_data if f in cleaned}
        if changes:
            _check(self, actions.check_update_department, dept, changes, actor=self.actor)
        return cleaned


@admin.register(Department)
class DepartmentAdmin(_AdministratorsManage, admin.ModelAdmin):
    form = DepartmentForm
    list_display = ("code", "name", "place")
    search_fields = ("code", "name")
    raw_id_fields = ("place",)

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"actor": request.user})

    def save_model(self, request: HttpRequest, obj: Department, form: Any, change: bool) -> None:
        if not change:
            created = actions.do_create_department(obj.code, obj.name, obj.place, actor=request.user, name_en=obj.name_en)
            obj.pk = created.pk
            obj._state.adding = False
            return
        dept = Department.objects.select_related("place").get(pk=obj.pk)
        changes = {f: form.cleaned_data.get(f) for f in form.changed_data}
        actions.do_update_department(dept, changes, actor=request.user)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        pass  # a department has no many-to-many fields or inlines


@admin.register(ApiToken)
class ApiTokenAdmin(_AdministratorsManage, admin.ModelAdmin):
    """Read-only: tokens are issued from the user list (action "签发接口令牌") and revoked here."""

    list_display = ("name", "user", "prefix", "created_at", "last_used_at", "expires_at", "revoked_at")
    readonly_fields = ("user", "name", "prefix", "created_at", "last_used_at", "expires_at", "revoked_at")
    exclude = ("key_hash",)
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[ApiToken]:
        return ApiToken.objects.filter(user__in=users_for_user(request.user)).select_related("user")

    @admin.action(description=_("吊销所选令牌"), permissions=["view"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        ok = 0
        for token in queryset:
            try:
                actions.do_revoke_api_token(token, actor=request.user)
                ok += 1
            except (ActionError, PermissionDenied) as exc:
                self.message_user(request, f"{token.prefix}：{getattr(exc, 'message', None) or exc}", messages.ERROR)
        if ok:
            self.message_user(request, _("已吊销"))
