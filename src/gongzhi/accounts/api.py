"""``/api/v1/accounts``: who am I, and API-token management for administrators."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from pydantic import Field

from gongzhi.accounts import actions, queries
from gongzhi.accounts.models import ApiToken
from gongzhi.accounts.permissions import may_reveal_numbers
from gongzhi.accounts.scope import is_administrator
from gongzhi.core.errors import ActionError, NotAllowedError, error_body

router = Router(tags=["accounts"])


class ErrorItem(Schema):
    """One entry of ``gongzhi.core.errors.error_body`` (the platform's one error shape)."""

    loc: list[str]
    msg: str
    type: str
    field: str
    message: str
    code: str


class ErrorOut(Schema):
    detail: list[ErrorItem]


class NotFoundOut(Schema):
    detail: str


class RoleOut(Schema):
    role: str
    label: str
    place_id: int | None
    place_code: str | None
    place_name: str | None
    department: str | None


class MeOut(Schema):
    id: int
    username: str
    display_name: str
    is_administrator: bool
    can_reveal_numbers: bool
    roles: list[RoleOut]


@router.get("/me", response=MeOut, summary="The calling user and their roles, widest first")
def me(request: HttpRequest) -> MeOut:
    user: Any = request.user
    return MeOut(
        id=user.pk,
        username=user.username,
        display_name=user.display_name,
        is_administrator=is_administrator(user),
        can_reveal_numbers=may_reveal_numbers(user),
        roles=[
            RoleOut(
                role=r.role,
                label=r.label,
                place_id=r.place.pk if r.place else None,
                place_code=r.place.code if r.place else None,
                place_name=r.place.name if r.place else None,
                department=r.department.name if r.department else None,
            )
            for r in queries.landing_for(user)
        ],
    )


class TokenIn(Schema):
    user_id: int
    name: str = Field(..., max_length=80, description="对接系统名称")
    expires_at: datetime | None = None


class TokenOut(Schema):
    id: int
    user_id: int
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class IssuedTokenOut(TokenOut):
    secret: str = Field(..., description="只显示这一次；平台只保存其 SHA-256")


def _token_out(t: ApiToken) -> dict[str, Any]:
    return {
        "id": t.pk,
        "user_id": t.user_id,
        "name": t.name,
        "prefix": t.prefix,
        "created_at": t.created_at,
        "expires_at": t.expires_at,
        "last_used_at": t.last_used_at,
        "revoked_at": t.revoked_at,
    }


def _forbidden(message: str | None = None) -> Status[Any]:
    exc = NotAllowedError(message or _("只有系统管理员可以管理接口令牌"))
    return Status(exc.status, error_body(exc))


def _refused(exc: ActionError) -> Status[Any]:
    return Status(exc.status, error_body(exc))


@router.get("/tokens", response={200: list[TokenOut], 403: ErrorOut}, summary="Tokens of users you manage")
def list_tokens(request: HttpRequest) -> Any:
    if not is_administrator(request.user):
        return _forbidden()
    return Status(200, [_token_out(t) for t in queries.tokens_for_user(request.user)])


@router.post(
    "/tokens",
    response={201: IssuedTokenOut, 403: ErrorOut, 404: NotFoundOut, 409: ErrorOut, 422: ErrorOut},
    summary="Issue a token for a user you manage (the secret is returned once)",
)
def issue_token(request: HttpRequest, payload: TokenIn) -> Any:
    if not is_administrator(request.user):
        return _forbidden()
    target = queries.access_user(request.user, payload.user_id)  # 404 outside scope
    try:
        token, secret = actions.do_issue_api_token(target, payload.name, payload.expires_at, actor=request.user)
    except ActionError as exc:
        return _refused(exc)
    except PermissionDenied as exc:
        return _forbidden(str(exc) or None)
    return Status(201, {**_token_out(token), "secret": secret})


@router.delete("/tokens/{token_id}", response={204: None, 403: ErrorOut, 404: NotFoundOut, 409: ErrorOut, 422: ErrorOut}, summary="Revoke a token")
def revoke_token(request: HttpRequest, token_id: int) -> Any:
    if not is_administrator(request.user):
        return _forbidden()
    token = queries.access_token(request.user, token_id)
    try:
        actions.do_revoke_api_token(token, actor=request.user)
    except ActionError as exc:
        return _refused(exc)
    except PermissionDenied as exc:
        return _forbidden(str(exc) or None)
    return Status(204, None)
