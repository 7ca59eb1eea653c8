"""The public service hall (no login): the catalogue with search and browse (个人/法人, by
department, by life event 一件事), and a guide page (办事指南) per item and per bundle.

The online hall (``views.online.online``) shows the same layout with apply links; the search
behind both — and behind the window's item picker and the API — is ``queries.search_catalog``.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from gongzhi.services import queries
from gongzhi.services.enums import ApplicantType, HandlingMode, MaterialKind

# A catalogue this small is shown whole; a larger one opens per department (or by search) so the
# page stays short on a phone.
SHOW_WHOLE_BELOW = 12


def hall_context(request: HttpRequest, *, mode: str, action: str) -> dict[str, Any]:
    """Search and browse parameters from the query string → what ``services/_hall.html`` shows.
    ``mode`` is "public" (links to guides) or "online" (links to apply as well)."""
    q = request.GET.get("q", "")[:100]
    found = queries.search_catalog(q, applicant_type=request.GET.get("type", ""),
                                   department=request.GET.get("dept", "")[:40])
    dept_names = {d.code: d.name for d, _n in found.departments}
    return {
        "hall": found,
        "hall_mode": mode,
        "hall_action": action,
        "hall_groups": found.grouped(),
        "hall_open": bool(found.query or found.applicant_type or found.department)
        or len(found.items) < SHOW_WHOLE_BELOW,
        "hall_dept_name": dept_names.get(found.department, ""),
        "applicant_types": [("", _("全部")), (ApplicantType.PERSON, _("个人办事")),
                            (ApplicantType.ENTERPRISE, _("法人办事"))],
    }


def catalog(request: HttpRequest) -> HttpResponse:
    """事项清单 (public): search by words, code or pinyin initials; browse by 一件事, by 个人/法人
    and by department."""
    return render(request, "services/catalog.html",
                  hall_context(request, mode="public", action=reverse("services:catalog")))


def _material_notes(item: Any) -> list[dict[str, Any]]:
    rows = []
    for m in item.materials.all():
        rows.append({
            "material": m,
            "gap_ok": m.kind == MaterialKind.SECONDARY and item.accept_with_gaps,
            "commitment_ok": m.commitment_ok and item.commitment_allowed,
            "wallet_ok": bool(m.doc_type) and m.doc_type != "other",
        })
    return rows


def item_guide(request: HttpRequest, code: str) -> HttpResponse:
    """办事指南: conditions, materials (原件/复印件, 容缺, 告知承诺), legal basis, fees, time
    limits, where to go (the routed department and its window), channels, and how to apply."""
    item = queries.catalog_item(code)
    routes = sorted(item.routes.all(), key=lambda r: r.place.path)
    return render(request, "services/guide.html", {
        "item": item,
        "materials": _material_notes(item),
        "routes": routes,
        "co_departments": list(item.co_departments.all()),
        "bundles": [b for b in item.bundles.all() if b.active],
        "online_only": item.mode in (HandlingMode.INSTANT, HandlingMode.SIMPLE),
    })


def bundle_guide(request: HttpRequest, code: str) -> HttpResponse:
    """一件事 guide: the items it combines (each with its guide), shared materials asked once."""
    bundle = queries.catalog_bundle(code)
    items = [i for i in bundle.items.all() if i.active]
    return render(request, "services/bundle_guide.html", {
        "bundle": bundle, "items": items,
        "promised_days": max((i.promised_days for i in items), default=0),
    })


def front_door_context(request: HttpRequest) -> dict[str, Any]:
    """The service hall's panel on the public home page (registered in ``apps.py``)."""
    everything = queries.search_catalog("")
    person = sum(1 for i in everything.items if i.applicant_type in (ApplicantType.PERSON, ApplicantType.BOTH))
    enterprise = sum(1 for i in everything.items if i.applicant_type in (ApplicantType.ENTERPRISE, ApplicantType.BOTH))
    return {"bundles": everything.bundles, "departments": everything.departments, "item_count": len(everything.items),
            "person_count": person, "enterprise_count": enterprise}
