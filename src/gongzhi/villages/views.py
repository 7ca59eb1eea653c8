"""Pages of the villages app: the portfolio, a project, its Gantt chart (server-rendered HTML and
CSS, no script and no CDN), weekly progress with photos, and the published housing results."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gongzhi.core import clock
from gongzhi.core.errors import ActionError
from gongzhi.villages import actions, queries
from gongzhi.villages.enums import AlertKind
from gongzhi.villages.models import Project

# A plan with this little float left (days) is shown as at risk on the portfolio.
RISK_FLOAT_DAYS = 10


@login_required
def portfolio(request: HttpRequest) -> HttpResponse:
    rows = list(queries.projects_for_user(request.user)[:500])
    return render(request, "villages/portfolio.html", {"rows": rows, "risk_days": RISK_FLOAT_DAYS})


def gantt_rows(project: Project) -> dict[str, Any]:
    """Rows of the chart: percentages of the span from the start to the later of the deadline and
    the projected finish; the critical chain marked."""
    tasks = list(project.tasks.all())
    sched = actions.build_schedule(project, tasks=tasks)
    critical = set(sched.critical_chain())
    deadline = (project.deadline - project.start_date).days + 1
    today = (clock.localdate() - project.start_date).days
    span = max(deadline, sched.projected_finish, 1)

    def pct(x: int) -> float:
        return round(100 * max(0, min(x, span)) / span, 2)

    rows = []
    for t in tasks:
        tt = sched.times[t.key]
        rows.append({
            "task": t, "critical": t.key in critical, "float": tt.float,
            "start": actions.day_of(project, tt.es), "finish": actions.day_of(project, tt.ef, finish=True),
            "latest_start": actions.day_of(project, tt.ls), "latest_finish": actions.day_of(project, tt.lf, finish=True),
            "left": pct(tt.es), "width": max(pct(tt.ef) - pct(tt.es), 0.6),
            "late_left": pct(tt.ls), "late_width": max(pct(tt.lf) - pct(tt.ls), 0.6),
            "done_width": round((pct(tt.ef) - pct(tt.es)) * t.percent / 100, 2),
        })
    return {"rows": rows, "deadline_left": pct(deadline), "today_left": pct(today) if 0 <= today <= span else None,
            "schedule": sched, "critical": [t.name for t in tasks if t.key in critical],
            "projected_finish": actions.day_of(project, sched.projected_finish, finish=True)}


def _project_context(request: HttpRequest, project: Project) -> dict[str, Any]:
    reports = list(project.reports.select_related("task").prefetch_related("photos")[:20])
    alerts = list(project.alerts.filter(closed_at__isnull=True, recipient_id=request.user.pk).order_by("task_key"))
    return {"project": project, "reports": reports, "alerts": alerts, "kinds": dict(AlertKind.choices),
            "may_manage": queries.may_manage(request.user, project), "tasks": list(project.tasks.all()),
            "today": clock.localdate(), **gantt_rows(project)}


@login_required
def project_detail(request: HttpRequest, project_id: int) -> HttpResponse:
    project = queries.access_project(request.user, project_id)
    return render(request, "villages/project.html", _project_context(request, project))


@login_required
def gantt(request: HttpRequest, project_id: int) -> HttpResponse:
    project = queries.access_project(request.user, project_id)
    return render(request, "villages/gantt.html", {"project": project, **gantt_rows(project)})


def _date(value: str, field: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ActionError(_("日期格式应为 YYYY-MM-DD"), field=field) from None


@login_required
@require_POST
def progress(request: HttpRequest, project_id: int) -> HttpResponse:
    project = queries.access_project(request.user, project_id)
    if not queries.may_manage(request.user, project):
        return render(request, "403.html", status=403)
    data = request.POST
    try:
        try:
            percent = int(data.get("percent", ""))
        except ValueError:
            raise ActionError(_("完成百分比须为0到100的整数"), field="percent") from None
        actions.do_report_progress(
            project, data.get("task", ""), week_of=_date(data.get("week_of", ""), "week_of") or clock.localdate(),
            percent=percent, started_on=_date(data.get("started_on", ""), "started_on"),
            finished_on=_date(data.get("finished_on", ""), "finished_on"), note=data.get("note", ""),
            photos=request.FILES.getlist("photos"), actor=request.user)
    except ActionError as e:
        ctx = _project_context(request, project)
        ctx["errors"] = e.entries()
        return render(request, "villages/project.html", ctx, status=e.status)
    return redirect("villages:project", project_id=project.pk)


@login_required
def photo(request: HttpRequest, project_id: int, photo_id: int) -> FileResponse:
    project = queries.access_project(request.user, project_id)
    item = queries.access_photo(request.user, project, photo_id)
    try:
        handle = item.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(handle, content_type=item.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    return response


def talent_ranking(request: HttpRequest, village_id: int, round_id: int) -> HttpResponse:
    rnd = queries.published_talent_round(village_id, round_id)
    return render(request, "villages/talent_ranking.html", {"round": rnd})


def resettlement_order(request: HttpRequest, village_id: int, round_id: int) -> HttpResponse:
    rnd = queries.drawn_resettlement_round(village_id, round_id)
    households = {h.ref: h for h in rnd.households.all()}
    units: dict[int, list[str]] = {}
    for u in rnd.units.filter(household__isnull=False).order_by("selected_at"):
        units.setdefault(u.household_id or 0, []).append(f"{u.building}-{u.number}（{u.area}㎡）")
    rows = [{"turn": i + 1, "ref": ref, "area": households[ref].entitled_area,
             "units": households[ref].entitled_units, "chosen": units.get(households[ref].pk, [])}
            for i, ref in enumerate(rnd.order)]
    return render(request, "villages/resettlement_order.html", {"round": rnd, "rows": rows})
