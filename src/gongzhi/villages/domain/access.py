"""Access-control rules (pure): what a gate may do with a credential.

* A face credential needs a live, separate consent; withdrawing it revokes the face credential.
* A non-face way in always exists: a person's last non-face credential cannot be revoked while
  they hold any credential, and a face credential is issued only beside a non-face one.
* The deny list acts on credentials: an entry in force (started, not expired, not lifted) makes
  the gate *ask a person* — the device never refuses on its own. A contested entry stays in
  force until decided, and the guard sees that it is contested.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

MAX_DENY_DAYS = 180  # an entry expires; a longer restriction needs a new decision


@dataclass(frozen=True)
class DenyWindow:
    starts_at: datetime
    expires_at: datetime
    status: str  # DenyStatus value


def in_force(entry: DenyWindow, now: datetime) -> bool:
    return entry.status in ("active", "contested", "upheld") and entry.starts_at <= now < entry.expires_at


def deny_period_error(starts_at: datetime, expires_at: datetime) -> str | None:
    if expires_at <= starts_at:
        return "expires_before_start"
    if expires_at - starts_at > timedelta(days=MAX_DENY_DAYS):
        return "too_long"
    return None


def gate_answer(credential_active: bool, entries_in_force: int) -> str:
    """``admit``, ``unknown`` (no valid credential) or ``ask_person`` (a deny entry in force)."""
    if not credential_active:
        return "unknown"
    return "ask_person" if entries_in_force else "admit"
