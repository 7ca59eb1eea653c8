"""The shell's per-user parts — header navigation and role labels — which need roles.

They live here, not in ``core/templatetags``, because ``core`` sits below every app and must not
import ``accounts`` (DESIGN.md §2). ``base.html`` loads this library.
"""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils.translation import get_language, gettext

from gongzhi.accounts.enums import Role
from gongzhi.accounts.scope import active_assignments, is_administrator
from gongzhi.core.registry import REGISTRY
from gongzhi.core.templatetags.gongzhi_tags import NavLink, resolve_links

register = template.Library()


@register.simple_tag(takes_context=True)
def shell_nav(context: template.Context) -> list[NavLink]:
    """Header navigation: the links registered for each role the user holds, then admin."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return []
    pairs: list[tuple[str, str]] = []
    for assignment in active_assignments(user):
        pairs.extend(REGISTRY.landing_links.get(assignment.role, []))
    links = resolve_links(pairs)
    # Django admin only lets staff in: showing the link to anyone else would lead to a refusal.
    if user.is_staff and (is_administrator(user) or user.is_superuser):
        links.append(NavLink(reverse("admin:index"), gettext("后台管理")))
    return links


@register.simple_tag(takes_context=True)
def user_role_labels(context: template.Context) -> str:
    """The user's roles, distinct, in the active language (``综合窗口受理员、居民``)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return ""
    labels: list[str] = []
    for assignment in active_assignments(user):
        label = str(Role(assignment.role).label) if assignment.role in Role.values else assignment.role
        if label not in labels:
            labels.append(label)
    chinese = (get_language() or "zh-hans").lower().startswith("zh")
    return ("、" if chinese else ", ").join(labels)
