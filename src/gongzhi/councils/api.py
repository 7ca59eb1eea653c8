"""``/api/v1/councils``: councils, meetings, the meeting room's actions, minutes.

Status codes:

* **404** — no such object, or one outside the caller's jurisdiction (never 403 for that).
Every error answer has the platform's one shape (``gongzhi.core.errors.error_body``):
``{"detail": [{"loc", "msg", "type", "field", "message", "code"}], ...}`` plus, beside
``detail``, what a client can act on:

* **409** — ``POST /meetings/{id}/actions`` with an ``expected_version`` the meeting has moved
  past (``code`` ``stale``, ``current_version``: N); fetch the state (or ``/events?after=``) and
  retry.
* **422** — bad input, or an action the rules of order refuse (``code`` ``refused``, ``rule``: the
  engine's code, ``message_en``). Nothing is stored.
* **403** — the caller sees the meeting but may not do this.

``GET /minutes`` (approved minutes) is public and needs no token.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import Field

from gongzhi.core.errors import ActionError, error_body
from gongzhi.councils import actions, queries
from gongzhi.councils.models import Council, Meeting, Minutes
from gongzhi.councils.room import UnknownCode, state_message
from gongzhi.councils.room import why_not as room_why_not

router = Router(tags=["councils"])

DB_INT = 2**31 - 1
DbId = Annotated[int, Field(ge=1, le=DB_INT)]


# ------------------------------------------------------------------------------ schemas


class ErrorItem(Schema):
    loc: list[str | int]
    msg: str
    type: str
    field: str = Field("", description="出错的字段")
    message: str = Field("", description="中文说明")
    code: str = Field("", description="错误代码：refused、stale、not_allowed……")


class ErrorOut(Schema):
    detail: list[ErrorItem]


class RefusedOut(ErrorOut):
    rule: str = Field(description="被违反的规则代码，如 precedence、speech_limit、double_vote")
    message_en: str = ""


class StaleOut(ErrorOut):
    current_version: int


class CouncilOut(Schema):
    id: int
    name: str
    kind: str
    place: str
    profile: str
    weighted: bool
    members: int


class MeetingOut(Schema):
    id: int
    council_id: int
    council: str
    title: str
    scheduled_at: datetime
    location: str
    status: str
    in_person: bool
    version: int
    moderator: str | None
    agenda: list[str]


class StateOut(Schema):
    """The meeting as the caller's screen shows it — the same projection the room's pages and
    sockets carry (``councils.room.snapshot``): ``state`` is what every viewer sees (an open
    ballot shows only how many have voted), ``you`` the caller's part (``legal``: the action
    codes the rules allow the caller now), ``roster`` the ids' display names."""

    version: int
    state: dict[str, Any]
    you: dict[str, Any]
    roster: dict[str, str]


class ActionIn(Schema):
    action: dict[str, Any] = Field(description='如 {"type": "move", "kind": "main", "text": "…"}')
    expected_version: Annotated[int, Field(ge=0, le=DB_INT)] | None = Field(
        None, description="客户端看到的会议版本；已过时则 409")
    on_behalf_of: Annotated[str, Field(max_length=40, pattern=r"^[A-Za-z0-9-]{1,40}$")] | None = Field(
        None, description="现场模式：主持人代为记录的成员编号")


class ActionOut(Schema):
    version: int
    outcomes: list[dict[str, Any]]
    state: StateOut


class EventOut(Schema):
    seq: int
    kind: str
    payload: dict[str, Any]
    created_at: str
    recorded_by: int | None


class EventsQuery(Schema):
    after: Annotated[int, Field(ge=0, le=DB_INT)] = 0
    limit: Annotated[int, Field(ge=1, le=500)] = 500


class MinutesOut(Schema):
    meeting: int
    title: str
    status: str
    digest: str
    generated_at: datetime
    chair_approved_at: datetime | None
    secretary_approved_at: datetime | None
    published_at: datetime | None
    verified: bool
    content: dict[str, Any]


class PublicMinutesOut(Schema):
    meeting: int
    title: str
    council: str
    place: str
    scheduled_at: datetime
    published_at: datetime | None
    digest: str


# ----------------------------------------------------------------------------- converters


def _council_out(c: Council) -> CouncilOut:
    return CouncilOut(id=c.pk, name=c.name, kind=c.kind, place=c.place.name, profile=c.profile.key,
                      weighted=c.weighted, members=c.members.count())


def _meeting_out(m: Meeting) -> MeetingOut:
    return MeetingOut(id=m.pk, council_id=m.council_id, council=m.council.name, title=m.title,
                      scheduled_at=m.scheduled_at, location=m.location, status=m.status, in_person=m.in_person,
                      version=m.version, moderator=m.moderator.display_name if m.moderator else None,
                      agenda=[a.title for a in m.agenda.all()])


def _minutes_out(m: Minutes) -> MinutesOut:
    return MinutesOut(meeting=m.meeting_id, title=m.meeting.title, status=m.status, digest=m.digest,
                      generated_at=m.generated_at, chair_approved_at=m.chair_approved_at,
                      secretary_approved_at=m.secretary_approved_at, published_at=m.published_at,
                      verified=queries.verify_minutes(m).ok, content=m.content)


# ----------------------------------------------------------------------------- operations


@router.get("/councils", response=list[CouncilOut], summary="我可见的议事会")
def list_councils(request: HttpRequest) -> list[CouncilOut]:
    return [_council_out(c) for c in queries.councils_for_user(request.user).order_by("id")[:500]]


@router.get("/meetings", response=list[MeetingOut], summary="我可见的会议")
def list_meetings(request: HttpRequest) -> list[MeetingOut]:
    qs = queries.meetings_for_user(request.user).prefetch_related("agenda")[:500]
    return [_meeting_out(m) for m in qs]


@router.get("/meetings/{meeting_id}", response=StateOut, summary="会议实时状态（按调用者视角）")
def meeting_state(request: HttpRequest, meeting_id: DbId) -> dict[str, Any]:
    meeting = queries.access_meeting(request.user, meeting_id)
    return state_message(meeting, request.user)


@router.post(
    "/meetings/{meeting_id}/actions",
    response={200: ActionOut, 403: ErrorOut, 409: StaleOut, 422: RefusedOut},
    summary="在会议中操作（动议、附议、申请发言、表决……）",
)
def meeting_action(request: HttpRequest, meeting_id: DbId, body: ActionIn) -> Any:
    meeting = queries.access_meeting(request.user, meeting_id)
    try:
        result = actions.do_apply_meeting_action(
            meeting, body.action, actor=request.user, expected_version=body.expected_version,
            on_behalf_of=body.on_behalf_of,
        )
    except ActionError as exc:
        return Status(exc.status, error_body(exc))
    return Status(200, {"version": result.version, "outcomes": result.outcomes,
                        "state": state_message(meeting, request.user)})


class WhyNotQuery(Schema):
    code: Annotated[str, Field(min_length=1, max_length=120, pattern=r"^[a-z_]+(:[A-Za-z0-9_.-]+){0,2}$")] = Field(
        description="按钮的操作代码，如 call_vote:secret_ballot、move:amend、take_up_item")


class WhyNotOut(Schema):
    code: str
    legal: bool = Field(description="true：这个操作现在可以进行")
    rule: str = Field("", description="不能进行时违反的规则代码")
    message: str = Field("", description="不能进行的原因（按请求的语言）")


@router.get("/meetings/{meeting_id}/why-not", response={200: WhyNotOut, 422: ErrorOut},
            summary="某个操作现在为什么不能进行（灰色按钮的说明）")
def meeting_why_not(request: HttpRequest, meeting_id: DbId, q: Query[WhyNotQuery]) -> Any:
    meeting = queries.access_meeting(request.user, meeting_id)
    try:
        return Status(200, room_why_not(meeting, request.user, q.code))
    except UnknownCode:
        return Status(422, error_body(ActionError(_("未知的操作代码。"), field="code")))


@router.get("/meetings/{meeting_id}/events", response=list[EventOut], summary="会议事件（断线重连补齐）")
def meeting_events(request: HttpRequest, meeting_id: DbId, q: Query[EventsQuery]) -> list[dict[str, Any]]:
    meeting = queries.access_meeting(request.user, meeting_id)
    return queries.meeting_events(meeting, after=q.after, limit=q.limit)


@router.get("/meetings/{meeting_id}/minutes", response=MinutesOut, summary="会议纪要（已公开的任何人可看）")
def meeting_minutes(request: HttpRequest, meeting_id: DbId) -> MinutesOut:
    return _minutes_out(queries.access_minutes(request.user, meeting_id))


_PDF = {"200": {"description": "PDF", "content": {"application/pdf": {"schema": {"type": "string",
                                                                              "format": "binary"}}}}}
_DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_DOCX = {"200": {"description": "Word", "content": {_DOCX_TYPE: {"schema": {"type": "string", "format": "binary"}}}}}


def _file(data: bytes, content_type: str, name: str) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@router.get("/meetings/{meeting_id}/minutes.pdf", summary="会议纪要 PDF", openapi_extra={"responses": _PDF})
def meeting_minutes_pdf(request: HttpRequest, meeting_id: DbId) -> HttpResponse:
    from gongzhi.councils.minutes import render_minutes_pdf

    minutes = queries.access_minutes(request.user, meeting_id)
    return _file(render_minutes_pdf(minutes), "application/pdf", f"minutes-{meeting_id}.pdf")


@router.get("/meetings/{meeting_id}/minutes.docx", summary="会议纪要 Word", openapi_extra={"responses": _DOCX})
def meeting_minutes_docx(request: HttpRequest, meeting_id: DbId) -> HttpResponse:
    from gongzhi.councils.minutes import render_minutes_docx

    minutes = queries.access_minutes(request.user, meeting_id)
    return _file(render_minutes_docx(minutes), _DOCX_TYPE, f"minutes-{meeting_id}.docx")


@router.get("/minutes", response=list[PublicMinutesOut], auth=None, summary="已公开的会议纪要（公开）")
def list_public_minutes(request: HttpRequest) -> list[PublicMinutesOut]:
    return [
        PublicMinutesOut(meeting=m.meeting_id, title=m.meeting.title, council=m.meeting.council.name,
                         place=m.meeting.council.place.name, scheduled_at=m.meeting.scheduled_at,
                         published_at=m.published_at, digest=m.digest)
        for m in queries.public_minutes()[:200]
    ]
