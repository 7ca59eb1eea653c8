"""阳光办: the supervisor's board — the 5×100% figures as the district defines them, for a chosen
place and period, each with the cases behind it (a list page and an Excel export)."""

from __future__ import annotations

from datetime import date, timedelta
from io import BytesIO
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from openpyxl import Workbook
from openpyxl.styles import Font

from gongzhi.accounts.queries import departments_for_user
from gongzhi.core.errors import ActionError
from gongzhi.services import queries
from gongzhi.services.actions.board import do_record_board_export
from gongzhi.services.enums import (
    SlaState,
)
from gongzhi.services.stats import fold_dirty_cases
from gongzhi.services.views.common import (
    BOARD_ROLES,
    require_role,
)

PAGE_SIZE = 100
DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class BoardFilterForm(forms.Form):
    """Place and period of the board (the URL's ``place``, ``from`` and ``to``)."""

    def __init__(self, data: Any, places: list[Any]) -> None:
        super().__init__(data)
        self.fields["place"] = forms.ChoiceField(
            label=_l("区域"), required=False,
            choices=[(p.code, f"{'　' * max(0, p.path.count('/') - places[0].path.count('/'))}{p.name}") for p in places],
        )
        self.fields["from"] = forms.DateField(label=_l("起始日期"), required=False, widget=DATE_INPUT)
        self.fields["to"] = forms.DateField(label=_l("结束日期"), required=False, widget=DATE_INPUT)


def _presets(place_code: str, today: date) -> list[tuple[str, str]]:
    """(label, query string) of the period shortcuts: this month, last 30 days, last 90 days."""
    spans = [
        (_("本月"), today.replace(day=1), today),
        (_("近30天"), today - timedelta(days=29), today),
        (_("近90天"), today - timedelta(days=89), today),
    ]
    return [(label, urlencode({"place": place_code, "from": a.isoformat(), "to": b.isoformat()}))
            for label, a, b in spans]


def _board_scope(request: HttpRequest) -> tuple[BoardFilterForm, Any, queries.Period | None]:
    """The filter form and the place and period it asks for (period None: the form has errors,
    which the page shows by their fields with a 400)."""
    places = queries.board_places(request.user)
    form = BoardFilterForm(request.GET, places)
    if not places:
        form.is_valid()
        form.add_error(None, _("您没有可查看的辖区。"))
        return form, None, None
    if not form.is_valid():
        return form, places[0], None
    try:
        place, period = queries.resolve_board_scope(
            request.user, form.cleaned_data.get("place") or None, form.cleaned_data.get("from"),
            form.cleaned_data.get("to"),
        )
    except ActionError as err:
        form.add_error(err.field if err.field in form.fields else None, err.message)
        return form, places[0], None
    # Show the place and dates counted (the defaults filled in), not empty inputs.
    shown = BoardFilterForm({"place": place.code, "from": period.since, "to": period.until}, places)
    shown.is_valid()
    return shown, place, period


def _query(place: Any, period: queries.Period, **extra: str) -> str:
    return urlencode({"place": place.code, "from": period.since.isoformat(), "to": period.until.isoformat(), **extra})


@login_required
def board(request: HttpRequest) -> HttpResponse:
    """阳光办: the five measures (and the on-time rate) for a place and period, each defined
    beside its figure and linked to its cases; per department on-time rates; the overdue trace."""
    require_role(request.user, *BOARD_ROLES)
    # The roll-up is folded by the worker every tick; a supervisor opening the board must see
    # cases accepted a second ago too, and folding is idempotent and cheap (only dirty cases,
    # rows claimed with SKIP LOCKED, so it never waits on the worker doing the same).
    fold_dirty_cases()
    form, place, period = _board_scope(request)
    today = timezone.localdate()
    ctx: dict[str, Any] = {"form": form, "place": place, "period": period,
                           "presets": _presets(place.code if place else "", today)}
    if period is None or place is None:
        return render(request, "services/board.html", ctx, status=400)
    departments = list(departments_for_user(request.user).order_by("code"))
    by_dept = queries.board_by_department(request.user, place, period)
    departments += [r.department for r in by_dept if r.department not in departments]
    dept_id: int | None = None
    raw = request.GET.get("department", "")
    if raw.isdigit() and any(d.pk == int(raw) for d in departments):
        dept_id = int(raw)
    trace = queries.accountability_for_user(request.user).filter(
        case__place_path__startswith=place.path).order_by("-detected_at")
    overdue = queries.cases_for_user(request.user).filter(
        place_path__startswith=place.path, sla=SlaState.OVERDUE, closed_at__isnull=True)
    if dept_id:
        trace = trace.filter(department_id=dept_id)
        overdue = overdue.filter(department_id=dept_id)
        by_dept = [r for r in by_dept if r.department.pk == dept_id]
    measures = queries.board_measures(request.user, place, period)
    base = _query(place, period)
    ctx.update({
        "measures": [(m, f"{base}&{urlencode({'measure': m.key})}") for m in measures], "measures_list": measures,
        "by_dept": by_dept, "departments": departments, "department_id": dept_id,
        "trace": trace[:200], "overdue": overdue.order_by("deadline")[:200], "query": base,
    })
    return render(request, "services/board.html", ctx)


def _measure_key(request: HttpRequest) -> tuple[str, str, str]:
    """(measure, part, error): the drill-down's figure and side, checked against the table."""
    key = request.GET.get("measure", "one_number")
    part = request.GET.get("part", queries.PART_NUMERATOR)
    if key not in queries.MEASURES:
        return key, part, _("没有这一项指标。")
    if part not in queries.PARTS:
        return key, part, _("只能查看分子或分母的办件。")
    return key, part, ""


@login_required
def board_cases(request: HttpRequest) -> HttpResponse:
    """The cases behind one figure (its numerator or denominator), scoped like every case list."""
    require_role(request.user, *BOARD_ROLES)
    form, place, period = _board_scope(request)
    key, part, problem = _measure_key(request)
    ctx: dict[str, Any] = {"form": form, "place": place, "period": period, "problem": problem,
                           "extra_hidden": [("measure", key), ("part", part)]}
    if period is None or place is None or problem:
        return render(request, "services/board_cases.html", ctx, status=400)
    measure = queries.MEASURE_FUNCTIONS[key](request.user, place, period)
    cases = queries.measure_cases(request.user, key, place, period, part).select_related("application")
    page = Paginator(cases, PAGE_SIZE).get_page(request.GET.get("page"))
    items = list(queries.measure_items(key, place, part)) if measure.basis == queries.BASIS_ITEMS else []
    base = _query(place, period, measure=key)
    ctx.update({
        "measure": measure, "spec": measure.spec, "part": part, "page": page, "items": items,
        "query": base, "page_query": f"{base}&{urlencode({'part': part})}",
        "other_part": queries.PART_DENOMINATOR if part == queries.PART_NUMERATOR else queries.PART_NUMERATOR,
    })
    return render(request, "services/board_cases.html", ctx)


def _case_row(case: Any) -> list[Any]:
    """One exported case: no name, no number, no address, no form answers (PIPL minimum
    necessary: the board counts cases; who applied is on the case page, by permission)."""
    return [
        case.number, case.item.code, case.item.name, case.department.name, case.place.name,
        str(case.get_channel_display()), str(case.get_status_display()),
        timezone.localtime(case.accepted_at).strftime("%Y-%m-%d %H:%M"), case.visits,
        "" if case.closed_at is None else timezone.localtime(case.closed_at).strftime("%Y-%m-%d %H:%M"),
        "" if case.closed_on_time is None else (_("是") if case.closed_on_time else _("否")),
    ]


CASE_COLUMNS = (_l("办件编号"), _l("事项编码"), _l("事项"), _l("主办部门"), _l("区域"), _l("受理渠道"), _l("状态"),
                _l("受理时间"), _l("到场次数"), _l("办结时间"), _l("按时办结"))


@login_required
def board_export(request: HttpRequest) -> HttpResponse:
    """The drill-down as an Excel workbook: the figure and its definition, then the cases (and,
    for an items measure, the items). Every export is audited (who, which figure, how many rows)."""
    require_role(request.user, *BOARD_ROLES)
    form, place, period = _board_scope(request)
    key, part, problem = _measure_key(request)
    if period is None or place is None or problem:
        ctx = {"form": form, "place": place, "period": period, "problem": problem}
        return render(request, "services/board_cases.html", ctx, status=400)
    measure = queries.MEASURE_FUNCTIONS[key](request.user, place, period)
    spec = measure.spec
    cases = list(queries.measure_cases(request.user, key, place, period, part))
    book = Workbook()
    sheet = book.active
    sheet.title = _("指标")
    part_label = _("分子") if part == queries.PART_NUMERATOR else _("分母")
    for row in (
        (_("指标"), str(spec.label)), (_("定义"), str(spec.definition)),
        (_("区域"), place.name), (_("起始日期"), period.since.isoformat()), (_("结束日期"), period.until.isoformat()),
        (_("分子"), measure.numerator), (_("分母"), measure.denominator),
        (_("比例（%）"), "" if measure.share is None else measure.share),
        (_("本表列出"), part_label),
    ):
        sheet.append(list(row))
    sheet.column_dimensions["A"].width = 14
    sheet.column_dimensions["B"].width = 80
    listing = book.create_sheet(_("办件"))
    listing.append([str(c) for c in CASE_COLUMNS])
    for case in cases:
        listing.append(_case_row(case))
    if measure.basis == queries.BASIS_ITEMS:
        items_sheet = book.create_sheet(_("事项"))
        items_sheet.append([_("事项编码"), _("事项"), _("部门")])
        for item in queries.measure_items(key, place, part):
            items_sheet.append([item.code, item.name, item.department.name])
    for ws in book.worksheets:
        for cell in ws[1]:
            cell.font = Font(bold=True)
    out = BytesIO()
    book.save(out)
    do_record_board_export(measure=key, part=part, place=place, since=period.since, until=period.until,
                           rows=len(cases), actor=request.user)
    response = HttpResponse(
        out.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    name = f"board-{key}-{part}-{period.since.isoformat()}-{period.until.isoformat()}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
