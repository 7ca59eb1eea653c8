"""Every write to users, roles, departments and API tokens (DESIGN.md §2).

Each ``do_*`` function validates, writes inside one transaction and appends an audit event.
Bad input raises an :class:`ActionError` subclass carrying a user-facing Chinese message and
changes nothing.

``actor`` is either a :class:`User` (checked: only administrators whose jurisdiction covers the
place may manage roles and tokens there) or a ``core.actors.SystemActor``
granted ``accounts.manage`` (the demo loader, the console) — system actors are code, not people.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.contrib.auth.hashers import identify_hasher
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import F, Model, Q
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _

from gongzhi.accounts.domain import totp
from gongzhi.accounts.domain.addresses import throttle_username
from gongzhi.accounts.domain.tokens import hash_token
from gongzhi.accounts.enums import SUPERVISOR_PLACE_KIND, IdentityStatus, Role
from gongzhi.accounts.models import (
    ApiToken,
    Department,
    LoginFailure,
    OutboxMessage,
    PasswordResetCode,
    RoleAssignment,
    SignupCode,
    TotpDevice,
    User,
)
from gongzhi.accounts.policy import may_verify_identity, signup_throttled_until
from gongzhi.accounts.scope import clear_scope_cache, is_administrator, path_in_scope, scope_paths
from gongzhi.core import crypto
from gongzhi.core.actors import Actor, system_may
from gongzhi.core.audit import record_event
from gongzhi.core.errors import ActionError, NotAllowedError
from gongzhi.core.i18n import draft_hant_on

logger = logging.getLogger("gongzhi.accounts")

M = TypeVar("M", bound=Model)

TOKEN_PREFIX = "gz_"  # noqa: S105 — a marker so leaked tokens are recognisable, not a secret


class InvalidUsername(ActionError):
    code = "username"


class WeakPassword(ActionError):
    code = "password"


class RoleNotAllowed(ActionError):
    code = "role"


class DepartmentRequired(ActionError):
    code = "department_required"


class WrongPlaceKind(ActionError):
    code = "place_kind"


class InvalidValidity(ActionError):
    code = "validity"


class DuplicateDepartment(ActionError):
    code = "duplicate"


def has_control_characters(text: str) -> bool:
    """NUL and the other C0/C1 control characters (tab and newline included): never in a name."""
    return any(ord(ch) < 32 or 127 <= ord(ch) < 160 for ch in text)


def is_system_actor(actor: Actor) -> bool:
    """A system actor granted account management (the demo loader, the console)."""
    return system_may(actor, "accounts.manage")


def _actor_user(actor: Actor) -> User | None:
    return actor if isinstance(actor, User) else None


def ensure_admin_over(actor: Actor, path: str | None) -> None:
    """Only administrators whose jurisdiction covers ``path`` (or superusers) manage it.

    ``path=None`` means "not tied to a place" (e.g. a user with no roles yet): any administrator.
    """
    if is_system_actor(actor):
        return
    user = _actor_user(actor)
    if user is None or not user.is_authenticated:
        raise PermissionDenied(_("请先登录"))
    if user.is_superuser:
        return
    if not is_administrator(user):
        raise PermissionDenied(_("只有系统管理员可以执行此操作"))
    if path is not None and not path_in_scope(user, path, {Role.ADMINISTRATOR}):
        raise PermissionDenied(_("该区域不在您的管辖范围内"))


def ensure_admin_over_user(actor: Actor, user: User) -> None:
    """An administrator manages a user if any of the user's role places is in their scope."""
    if is_system_actor(actor):
        return
    admin = _actor_user(actor)
    if admin is not None and admin.is_superuser:
        return
    paths = [ra.place.path for ra in user.roles.select_related("place")]
    if not paths:
        # A user with no role yet belongs to nobody's jurisdiction: only superusers and system
        # actors manage them, so one community's administrator cannot take over stray accounts.
        ensure_admin_over(actor, "\x00no-place")
        return
    ensure_admin_over(actor, None)
    assert admin is not None
    admin_paths = scope_paths(admin, {Role.ADMINISTRATOR})
    if not any(p.startswith(a) for p in paths for a in admin_paths):
        raise PermissionDenied(_("该用户不在您的管辖范围内"))


# --- Users ----------------------------------------------------------------------------------


def do_create_user(
    username: str,
    display_name: str,
    password: str | None = None,
    *,
    actor: Actor,
    email: str = "",
    validate: bool = True,
) -> User:
    """Create a user; without ``password`` the account cannot log in until one is set.

    ``validate=False`` skips the password-strength validators (demo data only).
    Side effects: audit ``user.create``.
    """
    ensure_admin_over(actor, None)
    username = (username or "").strip()
    if not username:
        raise InvalidUsername(_("请输入用户名"), field="username")
    if len(username) > 150:
        raise InvalidUsername(_("用户名不能超过 150 个字符"), field="username")
    if User.objects.filter(username__iexact=username).exists():
        raise InvalidUsername(_("用户名“%(name)s”已被使用") % {"name": username}, field="username")
    user = User(username=username, display_name=(display_name or "").strip()[:60], email=email)
    if password:
        if validate:
            try:
                validate_password(password, user)
            except DjangoValidationError as exc:
                raise WeakPassword("；".join(exc.messages), field="password") from exc
        user.set_password(password)
    else:
        user.set_unusable_password()
    with transaction.atomic():
        user.save()
        record_event(
            "user.create",
            actor=actor,
            obj=user,
            after={"username": user.username, "display_name": user.display_name},
        )
    return user


def do_set_password(user: User, password: str, *, actor: Actor, validate: bool = True, hashed: bool = False) -> None:
    """Set ``user``'s password. ``hashed=True``: ``password`` is already a ``make_password``
    hash — for system actors only (the demo loader hashes its one public demo password once: an
    Argon2 hash costs up to a second on a busy machine, and the demo has dozens of logins)."""
    if not is_system_actor(actor) and actor != user:
        ensure_admin_over_user(actor, user)
    if hashed:
        if not is_system_actor(actor):
            raise TypeError("a prepared password hash is set by system actors only")
        identify_hasher(password)  # a ValueError for anything that is not a hash: a bug, not input
        with transaction.atomic():
            user.password = password
            user.save(update_fields=["password"])
            record_event("user.set_password", actor=actor, obj=user)
        return
    if validate:
        try:
            validate_password(password, user)
        except DjangoValidationError as exc:
            raise WeakPassword("；".join(exc.messages), field="password") from exc
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        record_event("user.set_password", actor=actor, obj=user)


def do_disable_password(user: User, *, actor: Actor) -> None:
    """Make password login impossible for ``user`` (e.g. a system account with tokens only)."""
    ensure_admin_over_user(actor, user)
    with transaction.atomic():
        user.set_unusable_password()
        user.save(update_fields=["password"])
        record_event("user.disable_password", actor=actor, obj=user)


def do_unlock_user(user: User, *, actor: Actor) -> None:
    """Lift the login throttles on ``user``'s name from every address. Audit ``user.unlock``."""
    ensure_admin_over_user(actor, user)
    with transaction.atomic():
        cleared, _rows = LoginFailure.objects.filter(username=throttle_username(user.username)).delete()
        record_event("user.unlock", actor=actor, obj=user, after={"failures_cleared": cleared})


def do_deactivate_user(user: User, *, actor: Actor) -> None:
    """Stop ``user`` from logging in: revoke every API token and end every session.

    Sessions end because the authentication backend refuses inactive users when the session is
    read (``ModelBackend.get_user``), in every process, at the next request.
    Side effects: audit ``user.deactivate`` (with the revoked token prefixes).
    """
    ensure_admin_over_user(actor, user)
    if _actor_user(actor) is not None and _actor_user(actor) == user:
        raise ActionError(_("不能停用自己的账户"), field="is_active")
    with transaction.atomic():
        now = timezone.now()
        live = ApiToken.objects.filter(user=user, revoked_at__isnull=True)
        prefixes = list(live.values_list("prefix", flat=True))
        live.update(revoked_at=now)
        User.objects.filter(pk=user.pk).update(is_active=False)
        user.is_active = False
        record_event("user.deactivate", actor=actor, obj=user, after={"revoked_tokens": prefixes})


def do_reactivate_user(user: User, *, actor: Actor) -> None:
    """Let a deactivated user log in again (their old tokens stay revoked). Audit ``user.reactivate``."""
    ensure_admin_over_user(actor, user)
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(is_active=True)
        user.is_active = True
        record_event("user.reactivate", actor=actor, obj=user)


# Fields of a user that an administrator may edit as plain profile data.
PROFILE_FIELDS = ("username", "first_name", "last_name", "email", "display_name", "preferred_language")


def check_update_user(user: User, changes: dict[str, Any], *, actor: Actor) -> dict[str, Any]:
    """Validate a profile edit without writing; returns the normalised changes."""
    ensure_admin_over_user(actor, user)
    unknown = set(changes) - set(PROFILE_FIELDS)
    if unknown:
        raise ActionError(_("不能在此修改：%(fields)s") % {"fields": "、".join(sorted(unknown))})
    clean: dict[str, Any] = {}
    for name, value in changes.items():
        value = (value or "").strip()
        if has_control_characters(value):
            raise ActionError(_("不能包含控制字符"), field=name)
        clean[name] = value
    if "username" in clean:
        if not clean["username"]:
            raise InvalidUsername(_("请输入用户名"), field="username")
        if User.objects.filter(username__iexact=clean["username"]).exclude(pk=user.pk).exists():
            raise InvalidUsername(_("用户名“%(name)s”已被使用") % {"name": clean["username"]}, field="username")
    if len(clean.get("display_name", "")) > 60:
        raise ActionError(_("姓名不能超过 60 个字符"), field="display_name")
    return clean


def _save_changed_fields(
    obj: M, changed: dict[str, Any], verb: str, *, actor: Actor, place_path: Callable[[M], str] = lambda _o: ""
) -> M:
    """Write ``changed`` (field → new value, already checked) and audit ``verb`` with the old and
    new values (related rows by primary key), in one transaction."""

    def plain(value: Any) -> Any:
        return value.pk if isinstance(value, Model) else value

    with transaction.atomic():
        before = {k: plain(getattr(obj, k)) for k in changed}
        for k, v in changed.items():
            setattr(obj, k, v)
        obj.save(update_fields=list(changed))
        after = {k: plain(v) for k, v in changed.items()}
        record_event(verb, actor=actor, obj=obj, place_path=place_path(obj), before=before, after=after)
    return obj


def do_update_user(user: User, changes: dict[str, Any], *, actor: Actor) -> User:
    """Edit profile fields (``PROFILE_FIELDS``). Side effects: audit ``user.update`` with before/after."""
    clean = check_update_user(user, changes, actor=actor)
    clean = {k: v for k, v in clean.items() if getattr(user, k) != v}
    if not clean:
        return user
    return _save_changed_fields(user, clean, "user.update", actor=actor)


def check_set_superuser(user: User, value: bool, *, actor: Actor) -> None:
    """Only a superuser (or a system actor) grants or withdraws superuser status."""
    if is_system_actor(actor):
        return
    admin = _actor_user(actor)
    if admin is None or not admin.is_superuser:
        raise NotAllowedError(_("只有超级用户可以授予或取消超级用户权限"), field="is_superuser")
    if admin == user and not value:
        raise ActionError(_("不能取消自己的超级用户权限"), field="is_superuser")


def do_set_superuser(user: User, value: bool, *, actor: Actor) -> None:
    """Grant or withdraw superuser status. Side effects: audit ``user.set_superuser``."""
    check_set_superuser(user, value, actor=actor)
    with transaction.atomic():
        fields = {"is_superuser": value}
        if value:
            fields["is_staff"] = True  # a superuser who cannot open the admin would be useless
        User.objects.filter(pk=user.pk).update(**fields)
        for k, v in fields.items():
            setattr(user, k, v)
        record_event("user.set_superuser", actor=actor, obj=user, after={"is_superuser": value})


def do_set_staff(user: User, value: bool, *, actor: Actor) -> None:
    """Let a user into (or out of) the admin site. Side effects: audit ``user.set_staff``."""
    ensure_admin_over_user(actor, user)
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(is_staff=value)
        user.is_staff = value
        record_event("user.set_staff", actor=actor, obj=user, after={"is_staff": value})


def check_set_permissions(user: User, *, actor: Actor) -> None:
    """Django permissions and groups reach beyond any jurisdiction: superusers only."""
    if is_system_actor(actor):
        return
    admin = _actor_user(actor)
    if admin is None or not admin.is_superuser:
        raise NotAllowedError(_("只有超级用户可以修改用户的权限和组"), field="user_permissions")


def do_set_permissions(user: User, permissions: Any, groups: Any, *, actor: Actor) -> None:
    """Replace a user's Django permissions and groups. Side effects: audit ``user.set_permissions``."""
    check_set_permissions(user, actor=actor)
    with transaction.atomic():
        before = {
            "permissions": sorted(p.codename for p in user.user_permissions.all()),
            "groups": sorted(g.name for g in user.groups.all()),
        }
        user.user_permissions.set(permissions)
        user.groups.set(groups)
        after = {
            "permissions": sorted(p.codename for p in user.user_permissions.all()),
            "groups": sorted(g.name for g in user.groups.all()),
        }
        if before != after:
            record_event("user.set_permissions", actor=actor, obj=user, before=before, after=after)


# --- Logins (called by the auth backend and the auth signals) --------------------------------


def do_record_login(user: User, address: str) -> None:
    """A successful login: audit ``account.login``."""
    record_event("account.login", actor=user, obj=user, after={"ip": address})


def do_record_idle_logout(user: User, *, idle_seconds: int) -> None:
    """A session ended for inactivity (accounts.middleware). Audit ``account.idle_logout``."""
    record_event("account.idle_logout", actor=user, obj=user, after={"idle_seconds": idle_seconds})


def do_clear_login_failures(username: str, address: str) -> None:
    """The right password from this address: its failures for this username no longer count.

    Only the pair's rows: the address's failures on other accounts still count against it.
    """
    LoginFailure.objects.filter(username=throttle_username(username), address=address).delete()


def do_record_failed_login(
    user: User | None, address: str, *, username: str = "", reason: str = "password"
) -> datetime | None:
    """A failed login for ``user`` (or an unknown ``username``); returns until when it is now throttled.

    Side effects: a ``LoginFailure`` row, audit ``account.login_failed`` and, when this failure
    starts a throttle, ``account.throttled``.
    """
    from gongzhi.accounts.policy import login_throttled_until

    name = user.username if user is not None else username
    key = throttle_username(name)
    with transaction.atomic():
        LoginFailure.objects.create(username=key, address=address, at=timezone.now())
        record_event(
            "account.login_failed",
            actor=None,
            obj=user,
            after={"username": name[:150], "ip": address, "known": user is not None, "reason": reason},
        )
        until = login_throttled_until(key, address)
        if until is not None:
            record_event(
                "account.throttled",
                actor=None,
                obj=user,
                    after={"username": name[:150], "ip": address, "until": until},
            )
    return until


def do_record_refused_login(username: str, user: User | None, address: str, until: datetime) -> None:
    """A login attempt while throttled (the password was not even checked)."""
    record_event(
        "account.login_refused",
        actor=None,
        obj=user,
        after={"username": username[:150], "reason": "throttled", "until": until, "ip": address},
    )


def prune_login_failures() -> int:
    """Delete failures older than the throttle window (the worker runs this every tick)."""
    cutoff = timezone.now() - timedelta(minutes=settings.LOCKOUT_MINUTES)
    old = LoginFailure.objects.filter(at__lt=cutoff)
    # Read first: on SQLite a DELETE takes the single write lock even when it matches nothing,
    # and this runs every worker tick.
    if not old.exists():
        return 0
    deleted, _rows = old.delete()
    return deleted


# --- Roles and departments ------------------------------------------------------------------


def _validate_role(role: str, place: Any, department: Department | None) -> None:
    if role not in Role.values:
        raise RoleNotAllowed(_("未知角色：%(role)s") % {"role": role}, field="role")
    if role == Role.DEPARTMENT_OFFICER and department is None:
        raise DepartmentRequired(_("部门审批人员必须指定所属部门"), field="department")
    needed = SUPERVISOR_PLACE_KIND.get(Role(role))
    if needed is not None and place.kind != needed:
        from gongzhi.places.enums import PlaceKind

        raise WrongPlaceKind(
            _("%(role)s只能授予在%(kind)s一级，而“%(place)s”是%(actual)s")
            % {
                "role": Role(role).label,
                "kind": PlaceKind(needed).label,
                "place": place.name,
                "actual": PlaceKind(place.kind).label if place.kind in PlaceKind.values else place.kind,
            },
            field="place",
        )
    if department is not None and not (
        place.path.startswith(department.place.path) or department.place.path.startswith(place.path)
    ):
        raise RoleNotAllowed(
            _("部门“%(dept)s”不在“%(place)s”范围内") % {"dept": department.name, "place": place.name},
            field="department",
        )


def _bump_roles_version(user: User) -> None:
    # Every process's memo of this user's roles (accounts.auth) is stale from this commit on.
    User.objects.filter(pk=user.pk).update(roles_version=F("roles_version") + 1)


def check_assign_role(
    role: str,
    place: Any,
    department: Department | None = None,
    valid_from: date | None = None,
    valid_to: date | None = None,
    *,
    actor: Actor,
) -> None:
    """Validate a grant without writing (the admin's inline form runs this in ``clean()``)."""
    ensure_admin_over(actor, place.path)
    _validate_role(role, place, department)
    if valid_from and valid_to and valid_to <= valid_from:
        raise InvalidValidity(_("授权截止日必须晚于起始日"), field="valid_to")


def do_assign_role(
    user: User,
    role: str,
    place: Any,
    department: Department | None = None,
    valid_from: date | None = None,
    valid_to: date | None = None,
    *,
    actor: Actor,
) -> RoleAssignment:
    """Give ``user`` a ``role`` over ``place`` (and ``department`` for officers).

    Assigning a role the user already holds (same place and department) re-opens it with the
    new validity instead of adding a duplicate. Side effects: audit ``role.assign``.
    """
    check_assign_role(role, place, department, valid_from, valid_to, actor=actor)
    with transaction.atomic():
        ra = (
            RoleAssignment.objects.select_for_update()
            .filter(user=user, role=role, place=place, department=department)
            .first()
        )
        before = None
        if ra is None:
            ra = RoleAssignment.objects.create(
                user=user, role=role, place=place, department=department, valid_from=valid_from, valid_to=valid_to
            )
        else:
            before = {"valid_from": ra.valid_from, "valid_to": ra.valid_to}
            ra.valid_from, ra.valid_to = valid_from, valid_to
            ra.save(update_fields=["valid_from", "valid_to"])
        _bump_roles_version(user)
        record_event(
            "role.assign",
            actor=actor,
            obj=ra,
            place_path=place.path,
            before=before,
            after={
                "user": user.username,
                "role": role,
                "place": place.pk,
                "department": department.code if department else None,
                "valid_from": valid_from,
                "valid_to": valid_to,
            },
        )
    clear_scope_cache(user)
    return ra


def do_revoke_role(assignment: RoleAssignment, *, actor: Actor, on: date | None = None) -> RoleAssignment:
    """End a role from ``on`` (default today; exclusive end, so it stops applying at once).

    The row stays so that "who held this role when" remains answerable (问责倒查).
    """
    ensure_admin_over(actor, assignment.place.path)
    end = on or timezone.localdate()
    with transaction.atomic():
        before = {"valid_to": assignment.valid_to}
        # A role that has not started yet ends where it starts: an empty interval, never active.
        assignment.valid_to = max(end, assignment.valid_from) if assignment.valid_from else end
        assignment.save(update_fields=["valid_to"])
        _bump_roles_version(assignment.user)
        record_event(
            "role.revoke",
            actor=actor,
            obj=assignment,
            place_path=assignment.place.path,
            before=before,
            after={"valid_to": end, "role": assignment.role, "user": assignment.user.username},
        )
    clear_scope_cache(assignment.user)
    return assignment


def do_create_department(
    code: str, name: str, place: Any, *, actor: Actor, name_en: str = "", name_zh_hant: str = ""
) -> Department:
    """Create a department; an empty 繁體 name is drafted by OpenCC and marked for review."""
    ensure_admin_over(actor, place.path)
    code, name = (code or "").strip(), (name or "").strip()
    if not code:
        raise ActionError(_("请输入部门编码"), field="code")
    if not name:
        raise ActionError(_("请输入部门名称"), field="name")
    if Department.objects.filter(code=code).exists():
        raise DuplicateDepartment(_("部门编码“%(code)s”已存在") % {"code": code}, field="code")
    with transaction.atomic():
        dept = Department(code=code, name=name, name_en=name_en, name_zh_hant=name_zh_hant.strip(), place=place)
        draft_hant_on(dept, supplied=["name_zh_hant"] if dept.name_zh_hant else [])
        dept.save()
        record_event(
            "department.create", actor=actor, obj=dept, place_path=place.path, after={"code": code, "name": name}
        )
    return dept


def check_update_department(dept: Department, changes: dict[str, Any], *, actor: Actor) -> dict[str, Any]:
    """Validate a department edit (code, name, English name, place) without writing."""
    ensure_admin_over(actor, dept.place.path)
    clean: dict[str, Any] = {}
    for name in ("code", "name", "name_zh_hant", "name_en"):
        if name in changes:
            value = (changes[name] or "").strip()
            if has_control_characters(value):
                raise ActionError(_("不能包含控制字符"), field=name)
            clean[name] = value
    if "code" in clean:
        if not clean["code"]:
            raise ActionError(_("请输入部门编码"), field="code")
        if Department.objects.filter(code=clean["code"]).exclude(pk=dept.pk).exists():
            raise DuplicateDepartment(_("部门编码“%(code)s”已存在") % {"code": clean["code"]}, field="code")
    if "name" in clean and not clean["name"]:
        raise ActionError(_("请输入部门名称"), field="name")
    if "place" in changes:
        place = changes["place"]
        if place is None:
            raise ActionError(_("请选择部门所在区域"), field="place")
        try:
            ensure_admin_over(actor, place.path)
        except PermissionDenied as exc:
            raise NotAllowedError(str(exc), field="place") from exc
        clean["place"] = place
    return clean


def do_update_department(dept: Department, changes: dict[str, Any], *, actor: Actor) -> Department:
    """Edit a department. Side effects: audit ``department.update`` with before/after."""
    clean = check_update_department(dept, changes, actor=actor)
    clean = {k: v for k, v in clean.items() if getattr(dept, k) != v}
    if not clean:
        return dept
    if "name" in clean or "name_zh_hant" in clean:  # keep the 繁體 name and its review mark right
        probe = Department(name=clean.get("name", dept.name), name_zh_hant=clean.get("name_zh_hant", dept.name_zh_hant),
                           zh_hant_source=dept.zh_hant_source)
        draft_hant_on(probe, supplied=[k for k in clean if k == "name_zh_hant"])
        clean |= {k: getattr(probe, k) for k in ("name_zh_hant", "zh_hant_source")
                  if getattr(probe, k) != getattr(dept, k)}
    return _save_changed_fields(dept, clean, "department.update", actor=actor, place_path=lambda d: d.place.path)


# --- API tokens -----------------------------------------------------------------------------


def do_issue_api_token(
    user: User, name: str, expires_at: datetime | None = None, *, actor: Actor
) -> tuple[ApiToken, str]:
    """Issue a bearer token for ``user``; returns the row and the secret, shown this once.

    Only the SHA-256 of the secret is stored (a stolen database yields no usable token) and a
    short prefix so that administrators can tell tokens apart.
    """
    ensure_admin_over_user(actor, user)
    name = (name or "").strip()
    if not name:
        raise ActionError(_("请为令牌命名（例如对接的系统名称）"), field="name")
    if has_control_characters(name):
        # PostgreSQL refuses NUL in text (a 500), SQLite stores it; neither belongs in a name.
        raise ActionError(_("令牌名称不能包含控制字符"), field="name")
    if len(name) > 80:
        raise ActionError(_("令牌名称不能超过 80 个字符"), field="name")
    if expires_at is not None and timezone.is_naive(expires_at):
        # Comparing a naive time with the aware clock raised TypeError (a 500); guessing the
        # zone would move the expiry by eight hours for a client that meant UTC.
        raise InvalidValidity(
            _("令牌过期时间必须带时区，例如 2030-01-01T00:00:00+08:00"), field="expires_at"
        )
    if expires_at is not None and expires_at <= timezone.now():
        raise InvalidValidity(_("令牌过期时间必须晚于当前时间"), field="expires_at")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user, name=name[:80], prefix=secret[:10], key_hash=hash_token(secret), expires_at=expires_at
        )
        record_event(
            "token.issue",
            actor=actor,
            obj=token,
            after={"user": user.username, "name": token.name, "prefix": token.prefix, "expires_at": expires_at},
        )
    return token, secret


def do_revoke_api_token(token: ApiToken, *, actor: Actor) -> ApiToken:
    ensure_admin_over_user(actor, token.user)
    with transaction.atomic():
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
            record_event("token.revoke", actor=actor, obj=token, after={"prefix": token.prefix})
    return token


# --- Second factor (TOTP) -------------------------------------------------------------------


class WrongCode(ActionError):
    code = "second_factor"


def do_enrol_totp(user: User, secret: str, code: str, *, actor: Actor) -> TotpDevice:
    """Register (or replace) ``user``'s authenticator after they prove it shows ``code``.

    The user themselves (at login or on the two-factor page), or a system actor (the demo).
    Side effects: audit ``totp.enrol``; the secret is stored encrypted and never audited.
    """
    if not is_system_actor(actor) and actor != user:
        raise NotAllowedError(_("只能为自己的账户绑定验证器"))
    if not totp.is_valid_secret(secret):
        raise ActionError(_("验证器密钥无效"), field="secret")
    step = totp.matching_step(secret, code, timezone.now(), None)
    if step is None:
        raise WrongCode(_("验证码不正确，请输入验证器当前显示的 6 位数字"), field="code")
    with transaction.atomic():
        replaced = TotpDevice.objects.filter(user=user).delete()[0] > 0
        device = TotpDevice.objects.create(
            user=user, secret=crypto.encrypt(secret), confirmed_at=timezone.now(), last_step=step
        )
        record_event("totp.enrol", actor=actor, obj=user, after={"replaced": replaced})
    return device


def do_verify_second_factor(user: User, code: str, address: str) -> bool:
    """Check a login's TOTP code; a wrong one counts as a failed login for throttling.

    The accepted step is stored with a conditional UPDATE, so two requests racing with the same
    code cannot both succeed.
    """
    device = TotpDevice.objects.filter(user=user).first()
    if device is not None:
        step = totp.matching_step(crypto.decrypt(device.secret), code, timezone.now(), device.last_step)
        if step is not None:
            newer = Q(last_step__isnull=True) | Q(last_step__lt=step)
            if TotpDevice.objects.filter(newer, pk=device.pk).update(last_step=step) == 1:
                return True
    do_record_failed_login(user, address, reason="second_factor")
    return False


def do_reset_totp(user: User, *, actor: Actor) -> None:
    """Remove ``user``'s authenticator (lost phone); they enrol a new one at their next login.

    Side effects: audit ``totp.reset``.
    """
    ensure_admin_over_user(actor, user)
    with transaction.atomic():
        TotpDevice.objects.filter(user=user).delete()
        record_event("totp.reset", actor=actor, obj=user)


# --- Phone on record, password reset by a one-time code ------------------------------------

# Mainland mobile numbers (the reset codes go by SMS): 11 digits starting 13–19.
_MOBILE = re.compile(r"^1[3-9]\d{9}$")


def check_phone(phone: str) -> str:
    """The normalised mobile number, or an error naming what is wrong."""
    phone = "".join((phone or "").split()).removeprefix("+86")
    if phone and not _MOBILE.match(phone):
        raise ActionError(_("请输入 11 位手机号码"), field="phone")
    return phone


def do_set_phone(user: User, phone: str, *, actor: Actor) -> None:
    """Record (or clear, with ``""``) the user's mobile number. Audit ``user.set_phone`` (masked)."""
    if not is_system_actor(actor) and actor != user:
        ensure_admin_over_user(actor, user)
    phone = check_phone(phone)
    with transaction.atomic():
        before = user.phone_masked
        user.phone_cipher = crypto.encrypt(phone) if phone else ""
        user.phone_masked = crypto.mask_phone(phone) if phone else ""
        user.save(update_fields=["phone_cipher", "phone_masked"])
        record_event("user.set_phone", actor=actor, obj=user, before={"phone": before}, after={"phone": user.phone_masked})


def _code_hash(user_id: int, code: str) -> str:
    # Keyed by SECRET_KEY and the user: a copied table does not yield the codes by enumeration.
    return salted_hmac("gongzhi.accounts.reset", f"{user_id}:{code}", algorithm="sha256").hexdigest()


def do_request_password_reset(username: str, address: str) -> None:
    """Send a one-time code to the phone (else e-mail) on record of ``username``, if any.

    Answers nothing: the caller shows the same page whether or not the account exists, has a
    channel, or hit the rate limit, so the form cannot be used to find accounts. At most
    ``PASSWORD_RESET_MAX_PER_HOUR`` codes per account and per client address an hour.
    Side effects: a ``PasswordResetCode`` (hash only), an ``OutboxMessage``, audit
    ``account.reset_requested``.
    """
    now = timezone.now()
    hour = now - timedelta(hours=1)
    limit = settings.PASSWORD_RESET_MAX_PER_HOUR
    user = User.objects.filter(username=(username or "").strip()[:150], is_active=True).first()
    if PasswordResetCode.objects.filter(address=address, created_at__gt=hour).count() >= limit * 3:
        return  # one address asking for many accounts: say nothing more to it for now
    if user is None:
        return
    phone = crypto.decrypt(user.phone_cipher) if user.phone_cipher else ""
    channel, recipient = ("sms", phone) if phone else ("email", user.email) if user.email else ("", "")
    if not recipient:
        return
    if PasswordResetCode.objects.filter(user=user, created_at__gt=hour).count() >= limit:
        return
    code = f"{secrets.randbelow(1_000_000):06d}"
    minutes = settings.PASSWORD_RESET_CODE_MINUTES
    with transaction.atomic():
        # A new code replaces the older ones: only the latest message is the one to use.
        PasswordResetCode.objects.filter(user=user, used_at__isnull=True).update(used_at=now)
        PasswordResetCode.objects.create(
            user=user,
            code_hash=_code_hash(user.pk, code),
            channel=channel,
            address=address,
            created_at=now,
            expires_at=now + timedelta(minutes=minutes),
        )
        body = _("您的共治平台密码重置验证码：%(code)s，%(minutes)s 分钟内有效。如非本人操作，请忽略并联系管理员。") % {
            "code": code,
            "minutes": minutes,
        }
        OutboxMessage.objects.create(
            channel=channel,
            recipient=crypto.encrypt(recipient),
            subject=str(_("共治平台密码重置")),
            body=crypto.encrypt(body),
            created_at=now,
        )
        record_event(
            "account.reset_requested",
            actor=None,
            obj=user,
            after={"channel": channel, "to": crypto.mask_phone(recipient) if channel == "sms" else "e-mail", "ip": address},
        )


class CodeInvalid(ActionError):
    code = "reset_code"


def do_reset_password_with_code(username: str, code: str, password: str, address: str) -> User:
    """Set a new password if ``code`` is the account's live code; the code is then used up.

    Every wrong code counts against the live code (``PASSWORD_RESET_MAX_ATTEMPTS``, then it is
    void). Unknown account, no code, expired, used or wrong: one and the same error.
    Side effects: audit ``user.reset_password``; the failures of this account are cleared.
    """
    invalid = CodeInvalid(_("验证码不正确或已过期，请重新获取"), field="code")
    user = User.objects.filter(username=(username or "").strip()[:150], is_active=True).first()
    if user is None:
        raise invalid
    now = timezone.now()
    live = (
        PasswordResetCode.objects.filter(user=user, used_at__isnull=True, expires_at__gt=now)
        .order_by("-created_at")
        .first()
    )
    if live is None or live.attempts >= settings.PASSWORD_RESET_MAX_ATTEMPTS:
        raise invalid
    if not constant_time_compare(live.code_hash, _code_hash(user.pk, (code or "").strip())):
        PasswordResetCode.objects.filter(pk=live.pk).update(attempts=F("attempts") + 1)
        raise invalid
    try:
        validate_password(password, user)
    except DjangoValidationError as exc:
        raise WeakPassword("；".join(exc.messages), field="new_password1") from exc
    with transaction.atomic():
        # Conditional: two requests with the same code cannot both set a password.
        if PasswordResetCode.objects.filter(pk=live.pk, used_at__isnull=True).update(used_at=now) != 1:
            raise invalid
        user.set_password(password)
        user.save(update_fields=["password"])
        LoginFailure.objects.filter(username=throttle_username(user.username)).delete()
        record_event("user.reset_password", actor=None, obj=user, after={"channel": live.channel, "ip": address})
    return user


def queue_user_message(user: User, subject: str, body: str) -> bool:
    """Queue a text message to ``user``'s phone on record, in the caller's transaction (the
    outbox ``send_outbox`` empties). False, and nothing queued, when no phone is on record.
    For other apps' notices to a person (a council meeting's notice); the number never leaves
    this app in clear."""
    if not user.phone_cipher:
        return False
    OutboxMessage.objects.create(channel="sms", recipient=user.phone_cipher, subject=subject[:200],
                                 body=crypto.encrypt(body), created_at=timezone.now())
    return True


def send_outbox(limit: int = 100) -> int:
    """Send unsent account messages through the notification backend (the worker, every tick).

    A failed send stays unsent and is retried on a later tick; a sent body is emptied.
    """
    from types import SimpleNamespace

    from django.utils.module_loading import import_string

    pending = list(OutboxMessage.objects.filter(sent_at__isnull=True).order_by("id")[:limit])
    if not pending:
        return 0
    backend = import_string(settings.GONGZHI_NOTIFY_BACKEND)()
    sent = 0
    for message in pending:
        note = SimpleNamespace(
            pk=message.pk,
            channel=message.channel,
            recipient=crypto.decrypt(message.recipient),
            subject=message.subject,
            body=crypto.decrypt(message.body),
        )
        try:
            backend.send(note)
        except Exception:
            logger.exception("account message %s not sent; will retry", message.pk)
            continue
        OutboxMessage.objects.filter(pk=message.pk).update(sent_at=timezone.now(), body="")
        sent += 1
    return sent


# --- Self-registration (自助注册) and real-name verification ------------------------------------
# The register (people) decides whether the number may get a new account and calls these; they
# keep the code, the messages and the account itself (people.actions.do_start_signup).


class SignupThrottled(ActionError):
    code = "rate_limited"
    status = 429


class SignupCodeError(ActionError):
    code = "signup_code"


def _signup_code_hash(ticket: str, code: str) -> str:
    # Keyed by SECRET_KEY and the row's ticket: a copied table does not yield the codes.
    return salted_hmac("gongzhi.accounts.signup", f"{ticket}:{code}", algorithm="sha256").hexdigest()


def _queue_message(phone: str, subject: str, body: str, now: datetime) -> None:
    OutboxMessage.objects.create(
        channel="sms", recipient=crypto.encrypt(phone), subject=subject, body=crypto.encrypt(body), created_at=now
    )


def do_request_signup_code(
    *,
    number: str,
    number_bidx: str,
    number_masked: str,
    name: str,
    phone: str,
    home_place: Any,
    address: str,
    send_code: bool,
    notice_phone: str = "",
) -> SignupCode:
    """Step 1 of self-registration: a ``SignupCode`` row, and a code to ``phone`` if ``send_code``.

    When the register says the number may not get a new account here (``send_code=False``), no
    code goes to the phone typed; a notice goes to ``notice_phone`` (the phone on record), and the
    caller answers exactly as if a code had been sent. Throttled by number, phone and address
    (``policy.signup_throttled_until``): refused with a 429 and nothing written. A repeat of the
    same number and phone within ``SIGNUP_RESEND_SECONDS`` returns the live row (a double click
    sends one message). A new code voids the number's older ones.
    Side effects: an ``OutboxMessage`` (code or notice), audit ``account.signup_requested``.
    """
    now = timezone.now()
    phone_bidx = crypto.blind_index(phone, purpose="phone")
    recent = (
        SignupCode.objects.filter(
            number_bidx=number_bidx, phone_bidx=phone_bidx, used_at__isnull=True, expires_at__gt=now,
            created_at__gt=now - timedelta(seconds=settings.SIGNUP_RESEND_SECONDS),
        )
        .order_by("-created_at")
        .first()
    )
    if recent is not None:
        return recent
    until = signup_throttled_until(address, number_bidx, phone_bidx)
    if until is not None:
        minutes = max(1, int((until - now).total_seconds() + 59) // 60)
        raise SignupThrottled(
            _("获取验证码过于频繁，请 %(minutes)d 分钟后再试") % {"minutes": minutes},
            field="phone", extra={"retry_after": int((until - now).total_seconds()) + 1},
        )
    ticket = secrets.token_hex(16)
    code = f"{secrets.randbelow(1_000_000):06d}"
    minutes = settings.SIGNUP_CODE_MINUTES
    with transaction.atomic():
        SignupCode.objects.filter(number_bidx=number_bidx, used_at__isnull=True, expires_at__gt=now).update(
            expires_at=now
        )
        row = SignupCode.objects.create(
            ticket=ticket, number_bidx=number_bidx, number_cipher=crypto.encrypt(number), number_masked=number_masked,
            name=name, phone_bidx=phone_bidx, phone_cipher=crypto.encrypt(phone), phone_masked=crypto.mask_phone(phone),
            home_place=home_place, code_hash=_signup_code_hash(ticket, code) if send_code else "", address=address,
            created_at=now, expires_at=now + timedelta(minutes=minutes),
        )
        if send_code:
            _queue_message(
                phone, str(_("共治平台注册验证码")),
                _("您的共治平台注册验证码：%(code)s，%(minutes)s 分钟内有效。请勿告诉他人。") % {"code": code, "minutes": minutes},
                now,
            )
        elif notice_phone:
            _queue_message(
                notice_phone, str(_("共治平台注册提醒")),
                _("有人正在用您的证件号码（%(number)s）在共治平台注册账号。您已有账号或登记记录的，请直接登录（忘记密码可在登录页找回），或携带证件到综合窗口开通。如非本人操作，请忽略。")
                % {"number": number_masked},
                now,
            )
        record_event(
            "account.signup_requested", actor=None, obj=row,
            place_path=home_place.path if home_place is not None else "",
            after={"number": number_masked, "phone": row.phone_masked, "code_sent": send_code,
                   "notice_sent": bool(not send_code and notice_phone), "ip": address},
        )
    return row


def check_signup_code(ticket: str, code: str) -> SignupCode:
    """The live row of ``ticket`` if ``code`` is its code; else the specific error.

    A wrong code counts against the row (``SIGNUP_MAX_ATTEMPTS``, then it is void) and changes
    nothing else. A row for which no code was sent fails like a wrong code.
    """
    row = SignupCode.objects.filter(ticket=(ticket or "")[:32]).first() if ticket else None
    if row is None:
        raise SignupCodeError(_("注册已超时，请重新填写并获取验证码"), field="code", code="signup_missing")
    if row.used_at is not None:
        raise SignupCodeError(_("该验证码已经使用过，不能再次使用。请重新获取验证码"), field="code", code="signup_used")
    if row.expires_at <= timezone.now():
        raise SignupCodeError(_("验证码已过期，请重新获取"), field="code", code="signup_expired")
    limit = settings.SIGNUP_MAX_ATTEMPTS
    if row.attempts >= limit:
        raise SignupCodeError(_("验证码错误次数过多，已失效，请重新获取"), field="code", code="signup_void")
    code = "".join((code or "").split())
    if not row.code_hash or not constant_time_compare(row.code_hash, _signup_code_hash(row.ticket, code)):
        SignupCode.objects.filter(pk=row.pk).update(attempts=F("attempts") + 1)
        left = limit - row.attempts - 1
        if left <= 0:
            raise SignupCodeError(_("验证码错误次数过多，已失效，请重新获取"), field="code", code="signup_void")
        raise SignupCodeError(
            _("验证码不正确，还可以再试 %(n)d 次") % {"n": left}, field="code", code="signup_wrong"
        )
    return row


def check_new_account(username: str, password: str) -> str:
    """The normalised username for a self-registered account, or the error (nothing written)."""
    username = (username or "").strip()
    if not username:
        raise InvalidUsername(_("请输入用户名"), field="username")
    if len(username) > 150 or not re.fullmatch(r"[\w.@+-]+", username):
        raise InvalidUsername(_("用户名只能使用字母、数字和 @ . + - _，不超过 150 个字符"), field="username")
    if User.objects.filter(username__iexact=username).exists():
        raise InvalidUsername(_("用户名“%(name)s”已被使用") % {"name": username}, field="username")
    try:
        validate_password(password, User(username=username))
    except DjangoValidationError as exc:
        raise WeakPassword("；".join(exc.messages), field="password1") from exc
    return username


def do_create_self_registered_user(row: SignupCode, username: str, password: str, *, actor: Actor) -> User:
    """Use up ``row`` (conditionally: two requests with one code cannot both pass) and make the
    unverified account with the phone it proved. Call inside the caller's transaction, after
    :func:`check_signup_code` and :func:`check_new_account`.
    Side effects: audit ``user.create``, ``user.set_phone``, ``account.signup``.
    """
    now = timezone.now()
    if SignupCode.objects.filter(pk=row.pk, used_at__isnull=True).update(used_at=now) != 1:
        raise SignupCodeError(_("该验证码已经使用过，不能再次使用。请重新获取验证码"), field="code", code="signup_used")
    user = do_create_user(username, row.name, password, actor=actor, validate=False)
    User.objects.filter(pk=user.pk).update(identity_status=IdentityStatus.UNVERIFIED)
    user.identity_status = IdentityStatus.UNVERIFIED
    do_set_phone(user, crypto.decrypt(row.phone_cipher), actor=actor)
    SignupCode.objects.filter(pk=row.pk).update(user=user)
    record_event("account.signup", actor=actor, obj=user,
                 after={"number": row.number_masked, "phone": row.phone_masked, "ip": row.address})
    return user


def prune_signup_codes() -> int:
    """Delete sign-up rows a day past their expiry (the worker, every tick): the throttles count
    only the last hour, and a row holds an encrypted number and phone nobody needs after that."""
    old = SignupCode.objects.filter(expires_at__lt=timezone.now() - timedelta(days=1))
    if not old.exists():  # on SQLite a DELETE takes the write lock even when it matches nothing
        return 0
    deleted, _rows = old.delete()
    return deleted


IDENTITY_VIA = ("window", "provider")


def do_verify_identity(user: User, *, via: str, actor: Actor) -> User:
    """Mark ``user``'s real name verified: a window clerk who checked the ID card, or the
    real-name provider (a system actor granted ``accounts.verify_identity``).

    Idempotent: an account already verified stays as it was (no second event).
    Side effects: audit ``account.verify_identity`` with who and how.
    """
    if via not in IDENTITY_VIA:
        raise ActionError(_("未知的核验方式"), field="via")
    if not may_verify_identity(actor):
        raise NotAllowedError(_("只有综合窗口受理员可以核验账户的实名信息"))
    now = timezone.now()
    # Decided by the conditional UPDATE, not the (possibly stale) instance: one event at most.
    with transaction.atomic():
        updated = User.objects.filter(pk=user.pk, identity_status=IdentityStatus.UNVERIFIED).update(
            identity_status=IdentityStatus.VERIFIED, identity_verified_at=now, identity_verified_via=via
        )
        if updated:
            record_event(
                "account.verify_identity", actor=actor, obj=user,
                before={"identity_status": IdentityStatus.UNVERIFIED},
                after={"identity_status": IdentityStatus.VERIFIED, "via": via},
            )
    user.refresh_from_db(fields=["identity_status", "identity_verified_at", "identity_verified_via"])
    return user
