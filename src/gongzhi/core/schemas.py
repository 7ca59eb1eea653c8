"""The API's error answer as a ninja schema: one ``ErrorOut`` for every documented error.

``gongzhi/api.py`` renders every error (an action's :class:`~gongzhi.core.errors.ActionError`,
ninja's validation and HTTP errors, 404, 403) in this shape, and documents it once under
``components.schemas.ErrorOut``; apps name it in their ``response={...}`` maps.
"""

from __future__ import annotations

from ninja import Schema
from pydantic import ConfigDict, Field


class ErrorItemOut(Schema):
    """One fault: ``loc``/``msg``/``type`` as pydantic writes them, ``field``/``message``/``code``
    as a client reads them (``core/errors.py::error_item``)."""

    loc: list[str | int] = Field(description="出错位置，如 [\"query\", \"start\"]")
    msg: str
    type: str
    field: str = Field(description="出错的字段（点分路径）；空表示整个请求")
    message: str = Field(description="给用户看的说明（用户的语言）")
    code: str = Field(description="机器可读的错误代码")


class ErrorOut(Schema):
    """``{"detail": [item, ...]}``; an action may add data a client can act on beside ``detail``
    (the missing materials, the current version), hence extra keys are allowed."""

    model_config = ConfigDict(extra="allow")

    detail: list[ErrorItemOut]
