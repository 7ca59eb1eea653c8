"""Template filters and tags for the web shell: dates, money, area, form widgets.

The per-user parts of the shell (navigation by role, role labels) need ``accounts`` and live in
``accounts/templatetags/accounts_shell.py``: ``core`` imports no feature app.

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
from django.utils.safestring import SafeString
from django.utils.translation import get_language, gettext

from gongzhi.core.domain.money import MoneyError, format_area, format_yuan, to_area, to_yuan
from gongzhi.core.i18n import localized_choice as _localized_choice
from gongzhi.core.i18n import localized_html as _localized_html
from gongzhi.core.i18n import localized_text as _localized_text
from gongzhi.core.i18n import plain as _plain

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


@register.filter
def localized(obj: Any, field: str = "name") -> SafeString:
    """Content (an item, material, department, bundle, place, form field) in the reader's language.

    ``{{ item|localized }}``, ``{{ spec|localized:"label" }}``. An English page with no English
    text stored shows the Chinese text in ``lang="zh-Hans"`` with a visible "(untranslated)"
    marker; see ``gongzhi.core.i18n``. Inside attributes and ``<option>`` use ``localized_text``.
    """
    return _localized_html(obj, field)


@register.filter
def localized_text(obj: Any, field: str = "name") -> str:
    """Plain-text ``localized`` (for attributes, ``<option>``, ``<title>``): no markup, the
    "(untranslated)" marker written out."""
    return _localized_text(obj, field)


@register.filter
def localized_choice(spec: Any, value: Any) -> str:
    """One value of a form field's ``choices`` in the reader's language (plain text)."""
    return _plain(_localized_choice(spec, value))


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
