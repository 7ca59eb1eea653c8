"""What intake needs of the catalogue: the items with their routes, and routing by item × place.

Routing works like FixMyStreet's body/category: the route whose place is the nearest ancestor of
the case's place wins; otherwise the item's own department. These are reads of the write path
(the catalogue is public, not scoped by user), so they sit below ``actions``."""

from __future__ import annotations

import time
from typing import Any

from gongzhi.accounts.models import Department
from gongzhi.services.models import ServiceItem


def route_department(item: ServiceItem, place: Any) -> Department:
    routes = list(item.routes.all())  # prefetched with place and department by items_for_intake
    best = None
    for route in routes:
        if place.path.startswith(route.place.path) and (best is None or len(route.place.path) > len(best.place.path)):
            best = route
    return best.department if best is not None else item.department


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
