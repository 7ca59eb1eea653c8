"""Server-rendered pages of the administrative tree (public data: no login needed)."""

from __future__ import annotations

from datetime import date, timedelta

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.places import queries

# The tree page stops at communities (city=1 … community=4); groups and grids are listed on
# each community's page, which keeps the page small with a full district's thousands of grids.
COMMUNITY_DEPTH = 4


def _as_of(request: HttpRequest) -> tuple[date, str]:
    """The ``as_of`` query parameter, or today; a bad value falls back to today with a message."""
    raw = request.GET.get("as_of", "").strip()
    if not raw:
        return timezone.localdate(), ""
    try:
        return date.fromisoformat(raw), ""
    except ValueError:
        return timezone.localdate(), _("日期格式应为 YYYY-MM-DD，已显示今天的区划。")


def tree(request: HttpRequest) -> HttpResponse:
    as_of, error = _as_of(request)
    # A bad date still shows today's tree (with the message), but answers 400: bad input is 4xx.
    return render(
        request,
        "places/tree.html",
        {"as_of": as_of, "error": error, "roots": queries.place_tree(as_of, max_depth=COMMUNITY_DEPTH)},
        status=400 if error else 200,
    )


def detail(request: HttpRequest, code: str) -> HttpResponse:
    place = queries.get_by_code(code)
    if place is None:
        raise Http404(_("区划代码不存在"))
    # A closed place shows the children it had on its last day, so 将石 still lists its 8 groups.
    children_on = place.valid_to - timedelta(days=1) if place.valid_to else timezone.localdate()
    return render(
        request,
        "places/detail.html",
        {
            "place": place,
            "ancestors": queries.ancestors(place),
            "children": queries.children(place, children_on),
            "names": queries.name_history(place),
            "changes": queries.changes_for(place),
            "predecessors": queries.predecessors(place),
            "successors": queries.successors(place),
            "current": queries.current_places_for(place),
        },
    )
