"""The ``/api/v1/`` root: each app contributes a ninja Router from its ``api.py``."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import ValidationError

from gongzhi.accounts.api import router as accounts_router
from gongzhi.accounts.auth import SessionOrToken
from gongzhi.core.api import router as core_router
from gongzhi.people.api import router as people_router
from gongzhi.places.api import router as places_router

api = NinjaAPI(
    title="Gongzhi 共治 API",
    version="1.0.0",
    urls_namespace="api-v1",
    description="社区共治平台接口。Token auth: `Authorization: Bearer <token>`; browsers use the session.",
    auth=SessionOrToken(),
)


@api.exception_handler(ValidationError)
def validation_errors(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return api.create_response(request, {"detail": exc.errors}, status=422)


api.add_router("/", core_router)
api.add_router("/places", places_router)
api.add_router("/accounts", accounts_router)
api.add_router("/people", people_router)
