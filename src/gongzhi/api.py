"""The ``/api/v1/`` root: each app contributes a ninja Router from its ``api.py``.

Every error the API gives has one shape, ``{"detail": [{"loc", "msg", "type", "field", "message",
"code"}], ...}`` (``core/errors.py::error_item``), documented once as ``ErrorOut``: the handlers
below render an action's ``ActionError`` and ninja's/Django's own errors through it, so an app's
``api.py`` simply lets them propagate.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from gongzhi.accounts.api import router as accounts_router
from gongzhi.accounts.auth import SessionOrToken
from gongzhi.assets.api import router as assets_router
from gongzhi.core.api import router as core_router
from gongzhi.core.errors import ActionError, error_body, error_item
from gongzhi.core.schemas import ErrorItemOut, ErrorOut
from gongzhi.councils.api import router as councils_router
from gongzhi.microprojects.api import router as microprojects_router
from gongzhi.people.api import router as people_router
from gongzhi.places.api import router as places_router
from gongzhi.services.api import router as services_router
from gongzhi.villages.api import router as villages_router

# Where a parameter came from (ninja's first ``loc`` element); the rest of ``loc`` is the field.
_SOURCES = {"body", "query", "path", "form", "file", "header", "cookie"}

_ERROR_REF = {"$ref": "#/components/schemas/ErrorOut"}


def _documented(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ERROR_REF}}}


class GongzhiAPI(NinjaAPI):
    """Documents the error answers every operation can give, so the schema tells the truth.

    Every operation may answer 422 (bad input, with field and reason); operations with a request
    body 400 (a body that is not JSON at all); operations behind auth 401 (no or a bad token) and
    403 (the user's role does not allow the step); operations addressing one object by path 404
    (also what a user gets for an object outside their jurisdiction — never 403 for that, which
    would leak existence); writes 409 (a conflict with the object's current state).
    """

    def get_openapi_schema(self, *args: Any, **kwargs: Any) -> Any:
        schema = super().get_openapi_schema(*args, **kwargs)
        # One definition of the error shape, whatever local ``ErrorOut`` an app's api.py declared
        # (components are keyed by class name, so the last one seen would otherwise win).
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components["ErrorItemOut"] = ErrorItemOut.model_json_schema()
        components["ErrorOut"] = ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
        components["ErrorOut"].pop("$defs", None)
        for path, methods in schema.get("paths", {}).items():
            for method, operation in methods.items():
                # ninja keys responses by int; one key type, so a status is never listed twice.
                responses = {str(k): v for k, v in operation.get("responses", {}).items()}
                operation["responses"] = responses
                for status in [s for s in responses if s.startswith(("4", "5"))]:
                    responses[status] = _documented(responses[status].get("description") or "Error")
                responses.setdefault("422", _documented(_("输入有误")))
                if "requestBody" in operation:
                    responses.setdefault("400", _documented(_("请求体无法解析")))
                if operation.get("security"):
                    responses.setdefault("401", _documented(_("未登录或令牌无效")))
                    responses.setdefault("403", _documented(_("无权进行此操作")))
                if "{" in path:
                    responses.setdefault("404", _documented(_("不存在或不在管辖范围内")))
                if method != "get":
                    responses.setdefault("409", _documented(_("与当前状态冲突")))
        return schema


api = GongzhiAPI(
    title="Gongzhi 共治 API",
    version="1.0.0",
    urls_namespace="api-v1",
    description="社区共治平台接口。Token auth: `Authorization: Bearer <token>`; browsers use the session.",
    auth=SessionOrToken(),
)


def _answer(request: HttpRequest, status: int, body: dict[str, Any]) -> HttpResponse:
    return api.create_response(request, body, status=status)


@api.exception_handler(ActionError)
def action_errors(request: HttpRequest, exc: ActionError) -> HttpResponse:
    return _answer(request, exc.status, error_body(exc))


# pydantic's messages are English; the common ones are said in the user's language, the rest
# keep pydantic's wording (``msg`` always does, for clients that parse it).
def _validation_message(err: dict[str, Any]) -> str:
    kind = str(err.get("type", ""))
    ctx = err.get("ctx") or {}
    known = {
        "missing": _("必填"),
        "int_parsing": _("应为整数"),
        "float_parsing": _("应为数字"),
        "decimal_parsing": _("应为数字"),
        "bool_parsing": _("应为 true 或 false"),
        "date_from_datetime_parsing": _("日期格式应为 YYYY-MM-DD"),
        "date_parsing": _("日期格式应为 YYYY-MM-DD"),
        "datetime_parsing": _("时间格式应为 ISO 8601"),
        "datetime_from_date_parsing": _("时间格式应为 ISO 8601"),
        "enum": _("取值不在允许范围内"),
        "literal_error": _("取值不在允许范围内"),
        "json_invalid": _("不是有效的 JSON"),
    }
    if kind in known:
        return known[kind]
    if kind == "string_too_long" and "max_length" in ctx:
        return _("最多 %(n)s 个字符") % {"n": ctx["max_length"]}
    if kind == "string_too_short" and "min_length" in ctx:
        return _("至少 %(n)s 个字符") % {"n": ctx["min_length"]}
    if kind in {"greater_than_equal", "greater_than"} and ("ge" in ctx or "gt" in ctx):
        return _("应不小于 %(n)s") % {"n": ctx.get("ge", ctx.get("gt"))}
    if kind in {"less_than_equal", "less_than"} and ("le" in ctx or "lt" in ctx):
        return _("应不大于 %(n)s") % {"n": ctx.get("le", ctx.get("lt"))}
    return str(err.get("msg", ""))


@api.exception_handler(ValidationError)
def validation_errors(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    # pydantic's ``input``/``ctx`` are dropped: the input may be a personal number, and it must
    # not come back in a body a proxy or a client log keeps.
    detail = []
    for err in exc.errors:
        loc = [p if isinstance(p, int) else str(p) for p in err.get("loc", ())]
        where = str(loc[0]) if loc and loc[0] in _SOURCES else "body"
        parts = [str(p) for p in loc[1:] if p != "payload"] if loc and loc[0] in _SOURCES else [str(p) for p in loc]
        item = error_item(".".join(parts), _validation_message(err), str(err.get("type", "invalid")), where)
        item["loc"] = loc or [where]
        item["msg"] = str(err.get("msg", item["message"]))
        detail.append(item)
    return _answer(request, 422, {"detail": detail})


_HTTP_CODES = {400: "bad_request", 401: "not_authenticated", 403: "not_allowed", 404: "not_found", 429: "throttled"}


@api.exception_handler(HttpError)
def http_errors(request: HttpRequest, exc: HttpError) -> HttpResponse:
    message = str(exc)
    if isinstance(exc, AuthenticationError):
        message = _("未登录或令牌无效")
    elif exc.status_code == 400 and message == "Cannot parse request body":
        message = _("请求体无法解析：应为 JSON")
    code = _HTTP_CODES.get(exc.status_code, "error")
    return _answer(request, exc.status_code, {"detail": [error_item("", message, code)]})


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    # Http404's own text may name what was looked up; the answer says only "not found" (the
    # same for an object that does not exist and one outside the user's jurisdiction).
    return _answer(request, 404, {"detail": [error_item("", _("不存在或不在管辖范围内"), "not_found", "path")]})


@api.exception_handler(PermissionDenied)
def permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return _answer(request, 403, {"detail": [error_item("", _("无权进行此操作"), "not_allowed")]})


api.add_router("/", core_router)
api.add_router("/places", places_router)
api.add_router("/accounts", accounts_router)
api.add_router("/people", people_router)
api.add_router("/services", services_router)
api.add_router("/councils", councils_router)
api.add_router("/assets", assets_router)
api.add_router("/microprojects", microprojects_router)
api.add_router("/villages", villages_router)
