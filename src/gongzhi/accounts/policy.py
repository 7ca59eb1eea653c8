"""Rules the accounts actions and reads share: the login throttle.

Below ``actions`` and ``queries`` (both call it), so the rule that refuses a login and the rule
that records a failure read the same numbers.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from gongzhi.accounts.models import LoginFailure


def _until(rows: QuerySet[LoginFailure], threshold: int, window: timedelta) -> datetime | None:
    """When the ``threshold``-th most recent failure in the window ages out, if there are that many."""
    recent = list(rows.filter(at__gt=timezone.now() - window).order_by("-at").values_list("at", flat=True)[:threshold])
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


