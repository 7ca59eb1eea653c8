"""Open311 GeoReport v2 (https://wiki.open311.org/GeoReport_v2), read-only, at ``/open311/v2/``.

* ``services.{json,xml}`` — the catalog as service types (group = the department).
* ``services/<code>.{json,xml}`` — a service definition: the item's form fields as attributes.
* ``requests.{json,xml}`` — public case list with the spec's field names.
* ``requests/<number>.{json,xml}`` — one case, as a list of one element (as the spec says).

What is public: the case number, item, department, status, dates and the *community* the case
belongs to. Never the applicant's name, number, street address, form answers or result note —
GeoReport ``address`` carries only the community name and ``lat``/``long`` that community's
centre, so a case cannot be placed on a particular household.

Submitting (``POST requests``) is deliberately not offered: an application needs a verified
identity (一号办), an idempotency key and the applicant's wallet, which the token-authenticated
``/api/v1/services/applications`` provides. Open311's anonymous POST with an API key and free
text cannot, so any non-GET method answers 405 with an Open311 error explaining where to go.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Max, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, re_path
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from gongzhi.core.i18n import localized_choice, localized_text, plain
from gongzhi.core.templatetags.gongzhi_tags import cn_date
from gongzhi.services import queries
from gongzhi.services.domain.wording import case_status_text
from gongzhi.services.enums import OPEN_CASE_STATUSES, HandlingMode
from gongzhi.services.models import Case, ServiceItem

SHANGHAI = ZoneInfo("Asia/Shanghai")
DEFAULT_DAYS = 90  # spec: without a date range, the last 90 days
MAX_REQUESTS = 1000  # spec: at most 1000 requests per answer
MAX_IDS = 100

# form_schema type → GeoReport datatype
DATATYPES = {
    "text": "string",
    "phone": "string",
    "textarea": "text",
    "int": "number",
    "decimal": "number",
    "date": "datetime",
    "choice": "singlevaluelist",
    "bool": "singlevaluelist",
}


class Open311Error(Exception):
    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


# ------------------------------------------------------------------------------ rendering


def _json(data: Any, status: int = 200) -> HttpResponse:
    return HttpResponse(json.dumps(data, ensure_ascii=False), status=status,
                        content_type="application/json; charset=utf-8")


def _xml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _add(parent: ET.Element, tag: str, value: Any) -> None:
    """A child element; lists become repeated children, dicts nested ones, None an empty one."""
    el = ET.SubElement(parent, tag)
    if value is None:
        return
    if isinstance(value, dict):
        for k, v in value.items():
            _add(el, k, v)
    elif isinstance(value, list):
        child_tag = {"values": "value", "attributes": "attribute"}.get(tag, "item")
        for v in value:
            _add(el, child_tag, v)
    else:
        el.text = _xml_value(value)


def _xml(root_tag: str, child_tag: str | None, rows: Any, status: int = 200) -> HttpResponse:
    root = ET.Element(root_tag)
    if child_tag is None:
        for k, v in rows.items():
            _add(root, k, v)
    else:
        for row in rows:
            el = ET.SubElement(root, child_tag)
            for k, v in row.items():
                _add(el, k, v)
    body = ET.tostring(root, encoding="unicode", xml_declaration=False)
    return HttpResponse('<?xml version="1.0" encoding="utf-8"?>\n' + body, status=status,
                        content_type="text/xml; charset=utf-8")


def _render(fmt: str, root: str, child: str | None, data: Any, status: int = 200) -> HttpResponse:
    return _json(data, status) if fmt == "json" else _xml(root, child, data, status)


def _error(fmt: str, err: Open311Error) -> HttpResponse:
    rows = [{"code": err.status, "description": err.description}]
    return _render(fmt, "errors", "error", rows, err.status)


def _read_only(view: Any) -> Any:
    """GET/HEAD only; anything else is a clear Open311 error (see the module docstring).

    CSRF-exempt on purpose: the views never write, and an exempt view lets a POST reach the
    explanation below instead of a bare CSRF 403.
    """

    @csrf_exempt
    def wrapped(request: HttpRequest, *args: Any, fmt: str = "json", **kwargs: Any) -> HttpResponse:
        if request.method not in ("GET", "HEAD"):
            response = _error(fmt, Open311Error(
                405, _("本接口只读：提交申请请使用经身份核验的 /api/v1/services/applications 接口"),
            ))
            response["Allow"] = "GET, HEAD"
            return response
        try:
            return view(request, *args, fmt=fmt, **kwargs)
        except Open311Error as err:
            return _error(fmt, err)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


# ------------------------------------------------------------------------------ services


def service_row(item: ServiceItem) -> dict[str, Any]:
    return {
        "service_code": item.code,
        "service_name": localized_text(item),
        "description": localized_text(item, "description") if item.description else _(
            "%(item)s（%(dept)s，承诺 %(days)s 个工作日）"
        ) % {"item": localized_text(item), "dept": localized_text(item.department), "days": item.promised_days},
        # Per the spec, ``metadata`` says whether a service definition with attributes exists:
        # true for items whose application form has fields.
        "metadata": bool(item.form_schema),
        # Every case gets its number the moment it is accepted (also for items decided later in
        # the back office), which is what the spec calls "realtime".
        "type": "realtime",
        "keywords": ",".join(
            k for k in (item.code, localized_text(item.department), str(item.get_mode_display()),
                        _("即办") if item.mode == HandlingMode.INSTANT else "") if k
        ),
        "group": localized_text(item.department),
    }


def _attribute(n: int, spec: dict[str, Any]) -> dict[str, Any]:
    kind = spec.get("type", "text")
    label = localized_text(spec, "label") if spec.get("label") else str(spec.get("name", ""))
    described = {
        "text": _("文本，最多 %(n)s 字") % {"n": spec.get("max_length", 200)},
        "textarea": _("长文本，最多 %(n)s 字") % {"n": spec.get("max_length", 2000)},
        "phone": _("手机号或座机号"),
        "int": _("整数"),
        "decimal": _("数字（可带小数，以字符串提交）"),
        "date": _("日期 YYYY-MM-DD"),
        "choice": _("单选"),
        "bool": _("是 / 否"),
    }.get(kind, "")
    if kind in ("int", "decimal") and ("min" in spec or "max" in spec):
        described += _("，范围 %(min)s–%(max)s") % {"min": spec.get("min", ""), "max": spec.get("max", "")}
    if kind == "choice":
        values = [{"key": str(c), "name": plain(localized_choice(spec, c))} for c in spec.get("choices", [])]
    elif kind == "bool":
        values = [{"key": "true", "name": _("是")}, {"key": "false", "name": _("否")}]
    else:
        values = []
    row: dict[str, Any] = {
        "variable": True,
        "code": str(spec.get("name", "")),
        "datatype": DATATYPES.get(kind, "string"),
        "required": bool(spec.get("required")),
        "datatype_description": described,
        "order": n,
        "description": label,
    }
    if values:
        row["values"] = values
    return row


@_read_only
def services_list(request: HttpRequest, *, fmt: str) -> HttpResponse:
    rows = [service_row(i) for i in queries.catalog()]
    return _render(fmt, "services", "service", rows)


@_read_only
def service_definition(request: HttpRequest, code: str, *, fmt: str) -> HttpResponse:
    item = queries.catalog().filter(code=code).first()
    if item is None:
        raise Open311Error(404, _("没有编码为 %(code)s 的服务事项（service_code not found）") % {"code": code})
    data = {
        "service_code": item.code,
        "attributes": [_attribute(n, spec) for n, spec in enumerate(item.form_schema or [], start=1)],
    }
    return _render(fmt, "service_definition", None, data)


# ------------------------------------------------------------------------------ requests


def iso(moment: datetime | None) -> str | None:
    """W3C / ISO 8601 with the Shanghai offset, e.g. 2026-11-26T09:30:00+08:00."""
    if moment is None:
        return None
    return timezone.localtime(moment, SHANGHAI).replace(microsecond=0).isoformat()


def expected_datetime(deadline: date) -> str:
    """The promised limit ends with the deadline day (Asia/Shanghai): its last second."""
    end = datetime.combine(deadline, time(23, 59, 59), tzinfo=SHANGHAI)
    return end.isoformat()


def _public_cases() -> QuerySet[Case]:
    """Every case, unscoped: only the public fields below are ever read from it (阳光办)."""
    return Case.objects.select_related("item", "department", "place").annotate(
        last_task_decided=Max("tasks__decided_at"),
        last_task_claimed=Max("tasks__held_since"),
        last_supplement=Max("supplements__requested_at"),
        last_fulfilled=Max("supplements__fulfilled_at"),
    )


def request_row(case: Any) -> dict[str, Any]:
    is_open = case.status in OPEN_CASE_STATUSES
    moments = [case.accepted_at, case.closed_at, case.delivered_at] + [
        getattr(case, a, None) for a in ("last_task_decided", "last_task_claimed", "last_supplement", "last_fulfilled")
    ]
    updated = max(m for m in moments if m is not None)
    notice = _("承诺 %(days)s 个工作日内办结，%(date)s前") % {"days": case.limit_days, "date": cn_date(case.deadline)}
    if case.deadline_provisional:
        notice += _("（暂定：次年节假日安排公布后重算）")
    place = case.place
    return {
        "service_request_id": case.number,
        "status": "open" if is_open else "closed",
        "status_notes": case_status_text(case.status),  # the resident-facing wording (domain/wording.py)
        "service_name": localized_text(case.item),
        "service_code": case.item.code,
        "description": _("%(item)s（%(channel)s受理）") % {"item": localized_text(case.item), "channel": case.get_channel_display()},
        "agency_responsible": localized_text(case.department),
        "service_notice": notice,
        "requested_datetime": iso(case.accepted_at),
        "updated_datetime": iso(updated),
        "expected_datetime": expected_datetime(case.deadline),
        "address": localized_text(place),
        "address_id": "",
        "zipcode": "",
        "lat": float(place.lat) if place.lat is not None else None,
        "long": float(place.lng) if place.lng is not None else None,
        "media_url": "",
    }


# Dates a query may name. Python's datetime stops at years 1 and 9999, so 0001-01-01 in Shanghai
# (before year 1 in UTC) and the day after 9999-12-31 cannot even be computed; a fixed range
# with room on both sides gives the same clear 400 on SQLite and PostgreSQL alike.
EARLIEST = datetime(1900, 1, 1, tzinfo=SHANGHAI)
LATEST = datetime(9999, 1, 1, tzinfo=SHANGHAI)


def _parse_moment(value: str, name: str, *, end: bool = False) -> datetime:
    value = value.strip().replace(" ", "+")  # a '+' offset arrives as a space when not URL-encoded
    moment = None
    try:
        # A bare date first: parse_datetime would read it as midnight, and an end_date given as a
        # day means "through the end of that day".
        day = parse_date(value)
        if day is not None:
            moment = datetime.combine(day + timedelta(days=1) if end else day, time(0, 0))
        else:
            moment = parse_datetime(value)
    except (ValueError, OverflowError):
        moment = None
    if moment is None:
        if _far_day(value):
            raise Open311Error(400, _("%(name)s 超出可查询的范围（1900-01-01 至 9998-12-31）：%(value)s") % {"name": name, "value": value})
        raise Open311Error(400, _("%(name)s 不是有效的 W3C 日期时间（如 2026-11-26T00:00:00+08:00）：%(value)s") % {"name": name, "value": value})
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=SHANGHAI)
    try:
        in_range = EARLIEST <= moment <= LATEST
    except OverflowError:  # an offset that pushes year 1 or 9999 past what datetime can hold
        in_range = False
    if not in_range:
        raise Open311Error(400, _("%(name)s 超出可查询的范围（1900-01-01 至 9998-12-31）：%(value)s") % {"name": name, "value": value})
    return moment


def _far_day(value: str) -> bool:
    """Is ``value`` a real date whose day after cannot be computed (9999-12-31)?"""
    try:
        return parse_date(value) is not None
    except ValueError:
        return False


@_read_only
def requests_list(request: HttpRequest, *, fmt: str) -> HttpResponse:
    params = request.GET
    if any("\x00" in v for values in params.lists() for v in values[1]):
        raise Open311Error(400, _("参数中含有不允许的空字符"))
    qs = _public_cases()
    ids = [i.strip() for i in params.get("service_request_id", "").split(",") if i.strip()]
    if ids:
        # Spec: with service_request_id given, every other parameter is ignored.
        if len(ids) > MAX_IDS:
            raise Open311Error(400, _("service_request_id 一次最多 %(n)s 个") % {"n": MAX_IDS})
        by_number = {c.number: c for c in qs.filter(number__in=ids)}
        rows = [request_row(by_number[i]) for i in dict.fromkeys(ids) if i in by_number]
        return _render(fmt, "service_requests", "request", rows)
    codes = [c.strip() for c in params.get("service_code", "").split(",") if c.strip()]
    if codes:
        qs = qs.filter(item__code__in=codes)
    start = _parse_moment(params["start_date"], "start_date") if params.get("start_date") else None
    end = _parse_moment(params["end_date"], "end_date", end=True) if params.get("end_date") else None
    if start is None and end is None:
        start = timezone.now() - timedelta(days=DEFAULT_DAYS)
    if start is not None and end is not None and start > end:
        raise Open311Error(400, _("start_date 晚于 end_date"))
    if start is not None:
        qs = qs.filter(accepted_at__gte=start)
    if end is not None:
        qs = qs.filter(accepted_at__lt=end)
    statuses = {s.strip().lower() for s in params.get("status", "").split(",") if s.strip()}
    if statuses - {"open", "closed"}:
        raise Open311Error(400, _("status 只能是 open 或 closed"))
    if statuses == {"open"}:
        qs = qs.filter(status__in=OPEN_CASE_STATUSES)
    elif statuses == {"closed"}:
        qs = qs.filter(~Q(status__in=OPEN_CASE_STATUSES))
    rows = [request_row(c) for c in qs.order_by("-accepted_at", "-pk")[:MAX_REQUESTS]]
    return _render(fmt, "service_requests", "request", rows)


@_read_only
def request_detail(request: HttpRequest, number: str, *, fmt: str) -> HttpResponse:
    case = _public_cases().filter(number=number).first()
    if case is None:
        raise Open311Error(404, _("没有编号为 %(number)s 的办件（service_request_id not found）") % {"number": number})
    return _render(fmt, "service_requests", "request", [request_row(case)])


urlpatterns: list[URLPattern] = [
    re_path(r"^services\.(?P<fmt>json|xml)$", services_list, name="open311-services"),
    re_path(r"^services/(?P<code>[A-Za-z0-9._-]+)\.(?P<fmt>json|xml)$", service_definition,
            name="open311-service"),
    re_path(r"^requests\.(?P<fmt>json|xml)$", requests_list, name="open311-requests"),
    re_path(r"^requests/(?P<number>[A-Za-z0-9-]+)\.(?P<fmt>json|xml)$", request_detail, name="open311-request"),
]
