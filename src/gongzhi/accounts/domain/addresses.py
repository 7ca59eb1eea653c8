"""The client's address for login throttling, honouring only proxies the deployment trusts.

``X-Forwarded-For`` is whatever the client sends unless a proxy we run rewrote it: each proxy
appends the address it saw, so with N trusted proxies in front of the app the client is the N-th
entry from the right. With none (the default, ``GONGZHI_TRUSTED_PROXY_COUNT=0``) the header is
ignored — otherwise an attacker would pick a fresh "address" for every guess.
"""

from __future__ import annotations

import ipaddress
from typing import Any


def _valid(text: str) -> str | None:
    text = text.strip()
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def pick_client_address(remote_addr: str, forwarded_for: str, trusted_proxies: int) -> str:
    """The address to throttle by (pure: no settings, no request)."""
    remote = _valid(remote_addr or "") or ""
    if trusted_proxies <= 0 or not forwarded_for:
        return remote
    hops = [h for h in forwarded_for.split(",") if h.strip()]
    if len(hops) < trusted_proxies:
        return remote
    return _valid(hops[-trusted_proxies]) or remote


def client_address(request: Any) -> str:
    if request is None:
        return ""
    from django.conf import settings

    meta = getattr(request, "META", {})
    return pick_client_address(
        str(meta.get("REMOTE_ADDR", "")),
        str(meta.get("HTTP_X_FORWARDED_FOR", "")),
        int(getattr(settings, "GONGZHI_TRUSTED_PROXY_COUNT", 0)),
    )


def throttle_username(username: str) -> str:
    """One key per account name whatever its case, so ``Admin``/``ADMIN`` share one counter."""
    return (username or "").strip().casefold()[:150]
