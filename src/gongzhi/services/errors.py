"""Specific errors of the service hall; each names what is wrong in the user's language."""

from __future__ import annotations

from gongzhi.core.errors import ActionError, ConflictError, NotAllowedError


class ServiceError(ActionError):
    code = "service"


class UnknownItem(ServiceError):
    code = "unknown_item"


class ApplicantError(ServiceError):
    code = "applicant"


class FormInvalid(ServiceError):
    """The form broke the item's schema; ``errors`` lists every field at fault."""

    code = "form"

    def __init__(self, message: str, errors: list[tuple[str, str]]) -> None:
        super().__init__(message, field="form")
        self.errors = errors


class NotEligible(FormInvalid):
    """申请条件 not met (an age the ID number contradicts…): each rule's message, by its field."""

    code = "not_eligible"


class MaterialsMissing(ServiceError):
    """一次性告知: every missing material, listed once, in one notice."""

    code = "materials_missing"

    def __init__(self, message: str, missing: list[str]) -> None:
        # ``missing`` is rendered beside ``detail`` (core.errors.error_body) for a client to act on.
        super().__init__(message, field="materials", extra={"missing": missing})
        self.missing = missing


class IdempotencyConflict(ServiceError):
    code = "idempotency_conflict"


class TaskConflict(ServiceError, ConflictError):
    """Someone else acted on the task first (claimed it, or changed it since it was shown): 409."""

    code = "conflict"


class NotAllowed(ServiceError, NotAllowedError):
    """The actor may not take this step, or not in the object's present state: 403."""

    code = "not_allowed"


class InvalidInput(ServiceError):
    """A value the user gave is wrong (a missing reason, an unknown delivery method): 422."""

    code = "invalid"


class SupplementLate(ServiceError):
    code = "supplement_late"


class ReviewError(ServiceError):
    code = "review"
