"""Routing by item × place (like FixMyStreet's body/category): the route whose place is the
nearest ancestor of the case's place wins; otherwise the item's own department."""

from __future__ import annotations

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
