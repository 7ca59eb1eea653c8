"""Rules the accounts actions and reads share: the login and sign-up throttles, and whether an
account's real name is verified.

Below ``actions`` and ``queries`` (both call it), so the rule that refuses a login and the rule
that records a failure read the same numbers.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from gongzhi.accounts.enums import IdentityStatus, Role
from gongzhi.accounts.models import LoginFailure, SignupCode
from gongzhi.accounts.scope import has_role
from gongzhi.core.actors import Actor, system_may


def _until(rows: QuerySet[Any], threshold: int, window: timedelta, at: str = "at") -> datetime | None:
    """When the ``threshold``-th most recent row in the window (by its ``at`` field) ages out, if
    there are that many."""
    recent = list(
        rows.filter(**{f"{at}__gt": timezone.now() - window}).order_by(f"-{at}").values_list(at, flat=True)[:threshold]
    )
    if threshold <= 0 or len(recent) < threshold:
        return None
    return recent[-1] + window


def login_throttled_until(username_key: str, address: str) -> datetime | None:
    """Until when logins for this (normalised) username from this address are refused, if they are.

    Two throttles, as django-axes' ``[["username", "ip_address"], "ip_address"]``: the pair
    (a guesser at one account from one address) and the address (spraying across accounts).
    """
    window = timedelta(minutes=settings.LOCKOUT_MINUTES)
    pair = _until(
        LoginFailure.objects.filter(username=username_key, address=address), settings.LOCKOUT_THRESHOLD, window
    )
    by_address = _until(
        LoginFailure.objects.filter(address=address), settings.LOCKOUT_ADDRESS_THRESHOLD, window
    )
    candidates = [t for t in (pair, by_address) if t is not None]
    return max(candidates) if candidates else None




def signup_throttled_until(address: str, number_bidx: str, phone_bidx: str) -> datetime | None:
    """Until when self-registration codes are refused for this number, phone or address.

    The same sliding-window count as the login throttle, over the durable ``SignupCode`` rows:
    ``SIGNUP_MAX_PER_HOUR`` codes an hour per number and per phone (a person retrying), three
    times that per address (one address trying many numbers). Counted whatever became of each
    request — registered number or not — so the refusal itself tells nothing about a number.
    """
    window = timedelta(hours=1)
    limit = settings.SIGNUP_MAX_PER_HOUR
    rows = SignupCode.objects
    candidates = [
        _until(rows.filter(number_bidx=number_bidx), limit, window, at="created_at"),
        _until(rows.filter(phone_bidx=phone_bidx), limit, window, at="created_at"),
        _until(rows.filter(address=address), limit * 3, window, at="created_at"),
    ]
    found = [t for t in candidates if t is not None]
    return max(found) if found else None


def identity_unverified(user: Any) -> bool:
    """A self-registered account whose real name nobody has checked yet (accounts.enums.IdentityStatus)."""
    return bool(getattr(user, "is_authenticated", False)) and (
        getattr(user, "identity_status", IdentityStatus.VERIFIED) == IdentityStatus.UNVERIFIED
    )


def may_verify_identity(actor: Actor) -> bool:
    """Who confirms a self-registered account's real name: a window clerk, who sees the ID card
    (一窗办: any clerk, wherever the resident lives), or the real-name provider's system actor."""
    return system_may(actor, "accounts.verify_identity") or has_role(actor, Role.WINDOW_CLERK)
