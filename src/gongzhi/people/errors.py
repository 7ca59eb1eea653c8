"""Specific errors of the people app; each carries a user-facing Chinese message and a field."""

from __future__ import annotations

from typing import Any

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from gongzhi.core.errors import ActionError


class InvalidNumber(ActionError):
    """An ID / permit number or USCC failed validation.

    ``identifier_errors`` are the identifier library's errors; ``errors`` stays ActionError's
    ``(field, message)`` list, which ``core.errors.error_body`` renders.
    """

    code = "number"

    def __init__(
        self, message: str, *, field: str = "number", code: str | None = None, identifier_errors: tuple = ()
    ) -> None:
        super().__init__(message, field=field, code=code)
        self.identifier_errors = identifier_errors


class InvalidPhone(ActionError):
    code = "phone"


class InvalidName(ActionError):
    code = "name"


class PlaceOutOfScope(ActionError):
    code = "place"


class AlreadyLinked(ActionError):
    code = "linked"


class FileTooLarge(ActionError):
    code = "file_too_large"


class UnsupportedFileType(ActionError):
    code = "file_type"


class InvalidDates(ActionError):
    code = "dates"


class InvalidChoice(ActionError):
    code = "choice"


class RevealRefused(ActionError):
    code = "reveal"


class LookupRateLimited(ActionError):
    """Too many different numbers looked up in a row (``actions.check_lookup_quota``)."""

    code = "rate_limited"
    status = 429


def number_error(result: Any, field: str = "number") -> InvalidNumber:
    """An :class:`InvalidNumber` from an invalid ``IdentifierResult``, in the user's language."""
    lang = get_language()
    message = "；".join(err.message(lang) for err in result.errors) or _("号码无效")
    code = str(result.errors[0].code) if result.errors else "invalid"
    return InvalidNumber(message, field=field, code=code, identifier_errors=tuple(result.errors))
