"""Public pages, no login: progress lookup and the published on-time rates."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from gongzhi.services import queries, tracking
from gongzhi.services.forms import (
    TrackForm,
)


def _client_ip(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def track(request: HttpRequest) -> HttpResponse:
    """办件进度查询 (no login): the application number or a case number + last four of the
    applicant's number. Shows each case's item, status and timeline — never a name or a number. The same lookup as the API's
    (services/tracking.py): one budget per address, one wording, one timeline."""
    form = TrackForm(request.GET or None)
    ctx: dict[str, Any] = {"form": form}
    if form.is_bound and form.is_valid():
        found = tracking.lookup_progress(form.cleaned_data["number"], form.cleaned_data["tail"],
                                         client=_client_ip(request))
        ctx.update(found=found.cases, application_number=found.application_number, error=found.error)
        return render(request, "services/track.html", ctx, status=found.status)
    return render(request, "services/track.html", ctx)


def ontime(request: HttpRequest) -> HttpResponse:
    """阳光办 published: on-time rates of one place (``?place=<code>``, default the demo
    district) and everything below it, per department, from the same roll-up as the board. The
    title names the place: the figures count only its cases, never another district's."""
    code = request.GET.get("place", "").strip()
    place = queries.public_board_place(code or None)
    ctx: dict[str, Any] = {"place": place, "places": queries.public_board_places(), "place_code": code}
    if place is None:
        ctx["error"] = _("没有这个区域，请从列表中选择。") if code else _("暂无可公示的区域。")
        return render(request, "services/ontime.html", ctx, status=404 if code else 200)
    ctx.update(overall=queries.public_figures(place_path=place.path),
               by_dept=queries.figures_by_department(place_path=place.path))
    return render(request, "services/ontime.html", ctx)
