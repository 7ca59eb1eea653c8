"""Public core endpoints: health, identifier check, working-day deadline."""

from __future__ import annotations

from datetime import date

from django.db import connection
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema

from gongzhi.core.calendar import add_working_days
from gongzhi.core.domain.identifiers import check_identifier
from gongzhi.core.domain.workdays import FIRST_SUPPORTED, LAST_SUPPORTED
from gongzhi.core.errors import ActionError

router = Router(tags=["core"])


class HealthOut(Schema):
    status: str
    database: str


@router.get("/health", response=HealthOut, auth=None, summary="Liveness and database check")
def health(request: HttpRequest) -> HealthOut:
    with connection.cursor() as cur:
        cur.execute("SELECT 1")
    return HealthOut(status="ok", database=connection.vendor)


class IdentifierErrorOut(Schema):
    code: str
    message: str
    message_zh: str
    message_en: str
    position: int | None = None


class IdentifierOut(Schema):
    valid: bool
    kind: str | None
    kind_label: str | None = None
    normalized: str
    errors: list[IdentifierErrorOut]


@router.get("/identifiers/check", response=IdentifierOut, auth=None, summary="Check an ID, permit or USCC number")
def identifiers_check(request: HttpRequest, number: str = Query(..., max_length=64)) -> IdentifierOut:
    result = check_identifier(number)
    lang = getattr(request, "LANGUAGE_CODE", "zh-hans")
    errors = []
    for err in result.errors:
        msg = err.message_en if lang == "en" else err.message_zh_hant if lang == "zh-hant" else err.message_zh
        errors.append(
            IdentifierErrorOut(
                code=err.code, message=msg, message_zh=err.message_zh, message_en=err.message_en, position=err.position
            )
        )
    label = None
    if result.kind is not None:
        label = result.kind.label_en if lang == "en" else result.kind.label_zh
    return IdentifierOut(
        valid=result.valid,
        kind=str(result.kind) if result.kind else None,
        kind_label=label,
        normalized=result.normalized,
        errors=errors,
    )


class DeadlineOut(Schema):
    start: date
    working_days: int
    deadline: date
    provisional: bool


@router.get("/calendar/deadline", response=DeadlineOut, auth=None, summary="Deadline N working days after a start date")
def calendar_deadline(
    request: HttpRequest,
    start: date,
    working_days: int = Query(..., ge=0, le=3650),
) -> DeadlineOut:
    if not FIRST_SUPPORTED <= start <= LAST_SUPPORTED:
        raise ActionError(
            _("受理日期应在 %(first)s 至 %(last)s 之间") % {"first": FIRST_SUPPORTED, "last": LAST_SUPPORTED},
            field="start",
            code="out_of_range",
        )
    result = add_working_days(start, working_days)
    return DeadlineOut(start=start, working_days=working_days, deadline=result.deadline, provisional=result.provisional)
