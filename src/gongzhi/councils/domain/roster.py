"""Who is who in a meeting's frozen roster (pure: reads the roster list, touches no database).

The roster is frozen when the meeting starts (``Meeting.roster``): one entry per member plus the
presiding moderator (``mod-<Moderator.pk>``, not a voting member).
"""

from __future__ import annotations

from typing import Any


def moderator_member_id(moderator_pk: int) -> str:
    """The engine id of a trained moderator presiding (the engine accepts it as chair only)."""
    return f"mod-{moderator_pk}"


def roster_entry(roster: list[dict[str, Any]] | None, member_id: str) -> dict[str, Any] | None:
    return next((r for r in roster or [] if str(r["id"]) == member_id), None)


def participant_id(meeting: Any, user: Any) -> str | None:
    """The roster id under which ``user`` acts in ``meeting`` (moderator first), or None.

    ``user`` may be a system actor (a string naming code, not a person): it is nobody in a roster.
    """
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    for entry in meeting.roster or []:
        if entry.get("user_id") == user.pk:
            return str(entry["id"])
    return None
