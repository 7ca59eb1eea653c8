"""The one error type every action raises on bad input, and how it is rendered.

Every app's ``actions.py`` raises an :class:`ActionError` (or a subclass) carrying a message for
the user, the input field at fault and a machine-readable ``code``. Nothing stored has changed
when it is raised (the action's transaction rolls back). Interfaces never format these
themselves: the API renders them through :func:`error_body` (one exception handler in
``gongzhi/api.py``), pages show ``message`` next to ``field``.

It lives in ``core`` because every app raises it and ``core`` sits below every app.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class ActionError(Exception):
    """Bad input to an action. ``message`` is for the user; ``field`` names the input at fault.

    ``status`` is the HTTP status an interface answers with (422 bad input, 403 not allowed,
    409 conflict with the current state). ``errors`` lists several ``(field, message)`` pairs
    when one submission has more than one fault; ``extra`` carries data a client can act on
    (the missing materials, the current version) and is rendered beside ``detail``.
    """

    code = "invalid"
    status = 422

    def __init__(
        self,
        message: str,
        *,
        field: str = "",
        code: str | None = None,
        errors: Sequence[tuple[str, str]] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code
        self.errors: list[tuple[str, str]] = list(errors or [])
        self.extra: dict[str, Any] = dict(extra or {})

    def entries(self) -> list[tuple[str, str]]:
        """Every ``(field, message)`` pair this error reports (at least one)."""
        return self.errors or [(self.field or "__all__", self.message)]


class NotAllowedError(ActionError):
    """The actor may not take this step (rendered 403)."""

    code = "not_allowed"
    status = 403


class NotFoundError(ActionError):
    """The object named does not exist, or lies outside the actor's jurisdiction (rendered 404 —
    the same answer for both, so a guesser learns nothing)."""

    code = "not_found"
    status = 404


class ConflictError(ActionError):
    """The step conflicts with the object's current state, e.g. a stale version (rendered 409)."""

    code = "conflict"
    status = 409


def error_item(field: str, message: str, code: str, where: str = "body") -> dict[str, Any]:
    """One entry of an error answer: the same keys for every error the platform gives.

    ``loc``/``msg``/``type`` are the keys pydantic's validation errors use; ``field``/``message``
    /``code`` are the plain names a client reads. Both are kept so that a validation error and an
    action's error look the same.
    """
    loc = [where, *field.split(".")] if field else [where]
    return {"loc": loc, "msg": message, "type": code, "field": field, "message": message, "code": code}


def error_body(exc: ActionError, where: str = "body") -> dict[str, Any]:
    """The JSON body of an error answer: ``{"detail": [item, ...], **extra}``."""
    return {"detail": [error_item(f, m, exc.code, where) for f, m in exc.entries()], **exc.extra}
