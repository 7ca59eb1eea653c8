"""Reads of users and roles, scoped by jurisdiction (DESIGN.md §2)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from gongzhi.accounts.enums import LANDING_ORDER, SECOND_FACTOR_ROLES, Role
from gongzhi.accounts.models import ApiToken, Department, RoleAssignment, TotpDevice, User
from gongzhi.accounts.scope import active_assignments, is_administrator, scope_paths
from gongzhi.core.db import shortcuts_on
from gongzhi.core.db.rows import fetch, load, quote, select_list, width


def _admin_paths(user: Any) -> list[str]:
    return scope_paths(user, {Role.ADMINISTRATOR})


def users_for_user(user: Any) -> QuerySet[User]:
    """Users an administrator manages: those holding a role at a place in the admin's scope.

    Superusers see everyone; non-administrators see only themselves.
    """
    if user is None or not getattr(user, "is_authenticated", False):
        return User.objects.none()
    if user.is_superuser:
        return User.objects.all().order_by("username")
    if not is_administrator(user):
        return User.objects.filter(pk=user.pk)
    q = Q()
    for p in _admin_paths(user):
        q |= Q(place__path__startswith=p)
    managed = RoleAssignment.objects.filter(q).values("user_id")
    return User.objects.filter(Q(pk__in=managed) | Q(pk=user.pk)).order_by("username")


def access_user(user: Any, user_id: int) -> User:
    found = users_for_user(user).filter(pk=user_id).first()
    if found is None:
        raise Http404("user not found")
    return found


def departments_for_user(user: Any) -> QuerySet[Department]:
    if user is None or not getattr(user, "is_authenticated", False):
        return Department.objects.none()
    if user.is_superuser:
        return Department.objects.all()
    paths = scope_paths(user)
    if not paths:
        return Department.objects.none()
    q = Q()
    for p in paths:
        # A department at the district serves the communities below it, and vice versa a
        # district user sees the subdistrict offices under it.
        q |= Q(place__path__startswith=p)
        q |= Q(place__path__in=[p[: i + 1] for i in range(len(p)) if p[i] == "/"])
    return Department.objects.filter(q).select_related("place")


def tokens_for_user(user: Any) -> QuerySet[ApiToken]:
    """Tokens an administrator may see (those of users they manage); never the secret."""
    if not is_administrator(user):
        return ApiToken.objects.none()
    return ApiToken.objects.filter(user__in=users_for_user(user)).select_related("user").order_by("-created_at")


def access_token(user: Any, token_id: int) -> ApiToken:
    found = tokens_for_user(user).filter(pk=token_id).first()
    if found is None:
        raise Http404("token not found")
    return found


@dataclass(frozen=True)
class LandingRole:
    """One role the user holds, for the landing page the web shell shows."""

    role: str
    label: str
    place: Any  # places.Place or None (a superuser with no role)
    department: Department | None = None
    assignment_id: int | None = None
    links: list[tuple[str, str]] = field(default_factory=list)


def landing_for(user: Any) -> list[LandingRole]:
    """The user's active roles with their places, widest responsibility first.

    The first entry is the landing page to open by default; the rest are offered as switches.
    A superuser without an administrator role still gets an administrator entry (place None).
    """
    from gongzhi.core.registry import REGISTRY

    order = {role: i for i, role in enumerate(LANDING_ORDER)}
    rows = sorted(
        active_assignments(user),
        key=lambda ra: (order.get(Role(ra.role), 99), ra.place.path, ra.department_id or 0),
    )
    result = [
        LandingRole(
            role=ra.role,
            label=str(Role(ra.role).label),
            place=ra.place,
            department=ra.department,
            assignment_id=ra.pk,
            links=list(REGISTRY.landing_links.get(ra.role, [])),
        )
        for ra in rows
    ]
    if getattr(user, "is_superuser", False) and not any(r.role == Role.ADMINISTRATOR for r in result):
        result.insert(
            0,
            LandingRole(
                role=Role.ADMINISTRATOR,
                label=str(Role.ADMINISTRATOR.label),
                place=None,
                links=list(REGISTRY.landing_links.get(Role.ADMINISTRATOR, [])),
            ),
        )
    return result


# --- Login throttling -----------------------------------------------------------------------


# --- Second factor --------------------------------------------------------------------------


def requires_second_factor(user: Any) -> bool:
    """Superusers and holders of a ``SECOND_FACTOR_ROLES`` role must pass TOTP at login."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return True
    return any(ra.role in SECOND_FACTOR_ROLES for ra in active_assignments(user))


def totp_device_for(user: Any) -> TotpDevice | None:
    return TotpDevice.objects.filter(user_id=user.pk).first()


def live_token(key_hash: str) -> ApiToken | None:
    """The unrevoked token with this hash, of an active user, with that user loaded.

    Read on every API request made with a token (revocation must apply at once in every
    process, so nothing is memoised): written out (core/db/rows.py), as the ORM spent about a
    millisecond building this one-row lookup. With ``GONGZHI_DB_SHORTCUTS=off``, the queryset below.
    """
    if not shortcuts_on():
        return (
            ApiToken.objects.select_related("user")
            .filter(key_hash=key_hash, revoked_at__isnull=True, user__is_active=True)
            .first()
        )
    rows = fetch(_LIVE_TOKEN_SQL, [key_hash, True])
    if not rows:
        return None
    token, user = load(ApiToken, rows[0]), load(User, rows[0], width(ApiToken))
    assert token is not None and user is not None  # an inner join: both are there
    token.user = user  # cached on the token, as select_related
    return token


_LIVE_TOKEN_SQL = (  # key_hash is unique: no ORDER BY
    f"SELECT {select_list(ApiToken, 't')}, {select_list(User, 'u')}"  # noqa: S608  (the models' own column lists)
    f" FROM {quote(ApiToken._meta.db_table)} t JOIN {quote(User._meta.db_table)} u ON u.id = t.user_id"
    " WHERE t.key_hash = %s AND t.revoked_at IS NULL AND u.is_active = %s LIMIT 1"
)
