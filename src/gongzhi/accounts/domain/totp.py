"""TOTP (RFC 6238) checks, pure: a secret, a code, the time and the last accepted step."""

from __future__ import annotations

from datetime import datetime

import pyotp

STEP_SECONDS = 30
# Accept the previous and next step too: phones' clocks drift by some seconds.
DRIFT_STEPS = 1


def new_secret() -> str:
    return pyotp.random_base32(32)


def is_valid_secret(secret: str) -> bool:
    try:
        pyotp.TOTP(secret).now()
    except Exception:  # binascii.Error and ValueError from a secret that is not base32
        return False
    return len(secret) >= 16


def matching_step(secret: str, code: str, at: datetime, last_step: int | None) -> int | None:
    """The time step whose code equals ``code`` (within the drift), newer than ``last_step``.

    ``None`` when the code is wrong, malformed, or already used (a replay).
    """
    code = (code or "").strip().replace(" ", "")
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, interval=STEP_SECONDS)
    now_step = int(at.timestamp()) // STEP_SECONDS
    for step in range(now_step - DRIFT_STEPS, now_step + DRIFT_STEPS + 1):
        if last_step is not None and step <= last_step:
            continue
        if pyotp.utils.strings_equal(totp.generate_otp(step), code):
            return step
    return None


def code_at(secret: str, at: datetime) -> str:
    return pyotp.TOTP(secret, interval=STEP_SECONDS).at(at)


def provisioning_uri(secret: str, account: str, issuer: str) -> str:
    return pyotp.TOTP(secret, interval=STEP_SECONDS).provisioning_uri(name=account, issuer_name=issuer)
