"""What intake needs of the catalogue: the items with their routes, and routing by item × place.

Routing works like FixMyStreet's body/category: the route whose place is the nearest ancestor of
the case's place wins; otherwise the item's own department. These are reads of the write path
(the catalogue is public, not scoped by user), so they sit below ``actions``."""

from __future__ import annotations

import re
import time
from typing import Any

from django.utils.translation import gettext as _

from gongzhi.accounts.models import Department
from gongzhi.services.domain.choice import choice_conflicts, combine_codes
from gongzhi.services.errors import InvalidInput, UnknownItem
from gongzhi.services.models import Bundle, ServiceItem


def route_department(item: ServiceItem, place: Any) -> Department:
    routes = list(item.routes.all())  # prefetched with place and department by items_for_intake
    best = None
    for route in routes:
        if place.path.startswith(route.place.path) and (best is None or len(route.place.path) > len(best.place.path)):
            best = route
    return best.department if best is not None else item.department


ITEM_CODE = re.compile(r"[A-Za-z0-9._-]{1,40}")

_INTAKE_CACHE: dict[str, tuple[float, ServiceItem]] = {}
INTAKE_CACHE_SECONDS = 30.0


def items_for_intake(codes: list[str]) -> dict[str, ServiceItem]:
    """Active items with everything intake needs (materials, co-departments, routes), by code.

    Intake is the hot path (hundreds of submissions a second at peak) and the catalog changes a
    few times a month, so each process keeps the loaded items for INTAKE_CACHE_SECONDS: a
    catalog edit reaches every web process within that time. The cached instances are only read.
    """
    now = time.monotonic()
    found: dict[str, ServiceItem] = {}
    missing: list[str] = []
    for code in codes:
        hit = _INTAKE_CACHE.get(code)
        if hit is not None and now - hit[0] < INTAKE_CACHE_SECONDS:
            found[code] = hit[1]
        else:
            missing.append(code)
    if missing:
        for item in (
            ServiceItem.objects.filter(code__in=missing, active=True)
            .select_related("department__place")
            .prefetch_related("materials", "co_departments__department", "routes__place", "routes__department")
        ):
            _INTAKE_CACHE[item.code] = (now, item)
            found[item.code] = item
    return found


def clear_intake_cache() -> None:
    _INTAKE_CACHE.clear()


def resolve_choice(item_codes: list[str], bundle_code: str = "") -> tuple[Bundle | None, list[ServiceItem]]:
    """The items of a choice: a bundle's items plus any extra items, each once
    (``domain.choice.combine_codes``); refused with the reason when the items cannot share one
    application. The window, the online hall and the API all choose through here."""
    bundle = None
    bundle_codes: list[str] = []
    if bundle_code:
        bundle = Bundle.objects.filter(code=bundle_code, active=True).prefetch_related("items").first()
        if bundle is None:
            raise UnknownItem(_("没有编码为 %(code)s 的“一件事”") % {"code": bundle_code}, field="bundle_code")
        bundle_codes = [i.code for i in bundle.items.all()]
    codes = combine_codes(bundle_codes, item_codes)
    if not codes:
        raise UnknownItem(_("请至少选择一个办理事项，或选择一个“一件事”"), field="item_codes")
    # Only code-shaped values reach the database (a NUL byte would make PostgreSQL fail the query).
    items = items_for_intake([c for c in codes if ITEM_CODE.fullmatch(c)])
    unknown = [c for c in codes if c not in items]
    if unknown:
        raise UnknownItem(_("事项编码不存在或已停用：%(codes)s") % {"codes": "、".join(unknown)}, field="item_codes")
    chosen = [items[c] for c in codes]
    conflicts = choice_conflicts([{"code": i.code, "applicant_type": i.applicant_type,
                                   "form_schema": i.form_schema} for i in chosen])
    if conflicts:
        raise InvalidInput(_("这些事项不能在一份申请中一起办理：%(conflicts)s。请分开申请。") % {"conflicts": "；".join(conflicts)},
                           field="item_codes")
    return bundle, chosen
