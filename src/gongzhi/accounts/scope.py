"""Jurisdiction: the one place where a user's place scope is turned into a query filter.

Every staff role is held over a place; the user may see everything whose place lies under any of
those places (materialised-path prefix match). Public users (residents, enterprise agents) have
no jurisdiction: their queries filter by ownership instead (see each app's ``queries.py``).
"""

from __future__ import annotations

from datetime import date
from typing import Any, TypeVar

from django.db.models import Model, Q, QuerySet
from django.utils import timezone

from gongzhi.accounts.enums import PUBLIC_ROLES, Role

M = TypeVar("M", bound=Model)


def is_active_on(assignment: Any, today: date) -> bool:
    """Validity is half-open: from ``valid_from`` (inclusive) to ``valid_to`` (exclusive)."""
    return (assignment.valid_from is None or assignment.valid_from <= today) and (
        assignment.valid_to is None or assignment.valid_to > today
    )


def all_assignments(user: Any) -> list[Any]:
    """Every role row of ``user`` (past and future too), with place and department."""
    return list(user.roles.select_related("place", "department").all())


def use_assignments(user: Any, assignments: list[Any], *, today: date | None = None) -> None:
    """Give ``user`` its roles from rows already read (``accounts.auth`` keeps them per process)."""
    today = today or timezone.localdate()
    user._gongzhi_assignments = [ra for ra in assignments if is_active_on(ra, today)]


def active_assignments(user: Any, *, today: date | None = None) -> list[Any]:
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    cache_attr = "_gongzhi_assignments"
    cached = getattr(user, cache_attr, None)
    if cached is None:
        today = today or timezone.localdate()
        cached = [ra for ra in all_assignments(user) if is_active_on(ra, today)]
        setattr(user, cache_attr, cached)
    return cached


def clear_scope_cache(user: Any) -> None:
    """Forget the cached assignments (call after a user's roles change)."""
    if user is not None and hasattr(user, "_gongzhi_assignments"):
        delattr(user, "_gongzhi_assignments")


def user_roles(user: Any) -> set[str]:
    return {ra.role for ra in active_assignments(user)}


def has_role(user: Any, *roles: str) -> bool:
    return bool(user_roles(user) & set(roles))


def scope_paths(user: Any, roles: set[str] | None = None) -> list[str]:
    """Materialised paths of the places the user's staff roles cover (optionally only ``roles``)."""
    paths = {
        ra.place.path
        for ra in active_assignments(user)
        if ra.role not in PUBLIC_ROLES and (roles is None or ra.role in roles)
    }
    # Drop paths covered by a shorter one: /1/2/ covers /1/2/7/.
    return sorted(p for p in paths if not any(p != q and p.startswith(q) for q in paths))


def scope_q(user: Any, field: str = "place__path", roles: set[str] | None = None) -> Q:
    """A Q matching rows whose ``field`` (a place path) lies in the user's jurisdiction.

    No jurisdiction → a Q that matches nothing (never everything).
    """
    paths = scope_paths(user, roles)
    if not paths:
        return Q(pk__in=[])
    q = Q()
    for p in paths:
        q |= Q(**{f"{field}__startswith": p})
    return q


def in_scope(qs: QuerySet[M], user: Any, field: str = "place__path", roles: set[str] | None = None) -> QuerySet[M]:
    return qs.filter(scope_q(user, field, roles))


def path_in_scope(user: Any, path: str, roles: set[str] | None = None) -> bool:
    return any(path.startswith(p) for p in scope_paths(user, roles))


def is_administrator(user: Any) -> bool:
    return bool(getattr(user, "is_superuser", False)) or has_role(user, Role.ADMINISTRATOR)
