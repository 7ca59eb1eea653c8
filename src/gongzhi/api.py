"""The ``/api/v1/`` root: each app contributes a ninja Router from its ``api.py``."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import ValidationError

from gongzhi.accounts.api import router as accounts_router
from gongzhi.accounts.auth import SessionOrToken
from gongzhi.core.api import router as core_router
from gongzhi.councils.api import router as councils_router
from gongzhi.people.api import router as people_router
from gongzhi.places.api import router as places_router
from gongzhi.services.api import router as services_router


class GongzhiAPI(NinjaAPI):
    """Documents the error answers every operation can give, so the schema tells the truth.

    Every operation may answer 422 (bad input, with field and reason); operations behind auth
    may answer 401; operations addressing one object by path may answer 404 (also what a user
    gets for an object outside their jurisdiction — never 403, which would leak existence).
    """

    def get_openapi_schema(self, *args: Any, **kwargs: Any) -> Any:
        schema = super().get_openapi_schema(*args, **kwargs)
        error = {
            "description": "Error",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}},
        }
        schema.setdefault("components", {}).setdefault("schemas", {})["ErrorOut"] = {
            "title": "ErrorOut",
            "type": "object",
            "properties": {"detail": {"title": "Detail"}},
            "required": ["detail"],
        }
        for path, methods in schema.get("paths", {}).items():
            for operation in methods.values():
                responses = operation.setdefault("responses", {})
                responses.setdefault("422", error)
                if operation.get("security"):
                    responses.setdefault("401", error)
                if "{" in path:
                    responses.setdefault("404", error)
        return schema


api = GongzhiAPI(
    title="Gongzhi 共治 API",
    version="1.0.0",
    urls_namespace="api-v1",
    description="社区共治平台接口。Token auth: `Authorization: Bearer <token>`; browsers use the session.",
    auth=SessionOrToken(),
)


@api.exception_handler(ValidationError)
def validation_errors(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    # Same shape as the actions' errors: every entry names the field and says what is wrong.
    detail = []
    for err in exc.errors:
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path", "payload")]
        detail.append({**err, "field": ".".join(loc), "message": str(err.get("msg", ""))})
    return api.create_response(request, {"detail": detail}, status=422)


api.add_router("/", core_router)
api.add_router("/places", places_router)
api.add_router("/accounts", accounts_router)
api.add_router("/people", people_router)
api.add_router("/services", services_router)
api.add_router("/councils", councils_router)
