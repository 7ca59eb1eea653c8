"""Template filters and tags for the web shell: dates, money, area, the per-role navigation.

Dates are written the way a Shenzhen clerk writes them on a receipt (``2026年11月26日``) in both
Chinese scripts; English pages get ``26 November 2026``. Datetimes are shown in Asia/Shanghai
(DESIGN.md §3: stored in UTC, shown in local time).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django import template
from django.forms import BoundField
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext

from gongzhi.accounts.enums import Role
from gongzhi.accounts.scope import active_assignments, is_administrator
from gongzhi.core.domain.money import MoneyError, format_area, format_yuan, to_area, to_yuan
from gongzhi.core.registry import REGISTRY

register = template.Library()

_EN_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


def _is_chinese() -> bool:
    return (get_language() or "zh-hans").lower().startswith("zh")


def _local(value: datetime) -> datetime:
    return timezone.localtime(value) if timezone.is_aware(value) else value


@register.filter
def cn_date(value: date | datetime | None) -> str:
    """``2026年11月26日`` (Chinese) or ``26 November 2026`` (English); empty for None."""
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):
        value = _local(value).date()
    if _is_chinese():
        return f"{value.year}年{value.month}月{value.day}日"
    return f"{value.day} {_EN_MONTHS[value.month - 1]} {value.year}"


@register.filter
def cn_datetime(value: datetime | None) -> str:
    """``2026年11月26日 14:05`` in Asia/Shanghai."""
    if value is None or value == "":
        return ""
    local = _local(value)
    return f"{cn_date(local)} {local:%H:%M}"


@register.filter
def cn_time(value: datetime | None) -> str:
    """``14:05`` in Asia/Shanghai (lockout messages, meeting times)."""
    if value is None or value == "":
        return ""
    return f"{_local(value):%H:%M}"


@register.filter
def yuan(value: Any) -> str:
    """``¥1,234,567.80``; a value that is not an amount is shown as given, never as a float."""
    if value is None or value == "":
        return ""
    try:
        amount = value if isinstance(value, Decimal) else to_yuan(value)
    except MoneyError:
        return str(value)
    return format_yuan(amount)


@register.filter
def area(value: Any) -> str:
    """``12,345.67 m²``."""
    if value is None or value == "":
        return ""
    try:
        amount = value if isinstance(value, Decimal) else to_area(value)
    except MoneyError:
        return str(value)
    return format_area(amount)


@dataclass(frozen=True)
class NavLink:
    url: str
    label: str


def resolve_links(pairs: list[tuple[str, str]]) -> list[NavLink]:
    """Registry entries whose URL exists; a feature app not installed yet must not break pages."""
    links: list[NavLink] = []
    seen: set[str] = set()
    for url_name, label in pairs:
        try:
            url = reverse(url_name)
        except NoReverseMatch:
            continue
        if url in seen:
            continue
        seen.add(url)
        # Labels are usually lazy translations; a plain Chinese string is looked up here too.
        links.append(NavLink(url, gettext(str(label))))
    return links


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
    return ("、" if _is_chinese() else ", ").join(labels)


@register.filter
def html_lang(language_code: str | None) -> str:
    """BCP 47 tag for ``<html lang>``: zh-CN, zh-Hant, en (screen readers pick a voice by it)."""
    code = (language_code or "").lower()
    if code.startswith("zh"):
        return "zh-Hant" if "hant" in code else "zh-CN"
    return "en"


@register.filter
def described_widget(bound_field: BoundField) -> str:
    """Render a field's widget with its help text and errors tied by ``aria-describedby``.

    Screen readers then read the error when the field takes focus, not only when the alert
    first appears. Ids follow Django's own convention (``<auto_id>_helptext``).
    """
    ids: list[str] = []
    attrs: dict[str, str | bool] = {}
    if bound_field.help_text:
        ids.append(f"{bound_field.auto_id}_helptext")
    if bound_field.errors:
        ids.append(f"{bound_field.auto_id}_errors")
        attrs["aria-invalid"] = "true"
    if ids:
        attrs["aria-describedby"] = " ".join(ids)
    return bound_field.as_widget(attrs=attrs)
