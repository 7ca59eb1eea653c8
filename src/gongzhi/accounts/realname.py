"""Real-name providers (实名认证): who, besides a window clerk, may confirm that a self-registered
account belongs to the person whose number it gave.

``settings.GONGZHI_REALNAME_PROVIDER`` names a class with ``confirm(number, name) -> bool``. The
default confirms nobody, so accounts stay unverified until a clerk checks the ID card at the
window; a deployment plugs in its provider's adapter (a public-security real-name service, an
e-ID app), tests a double. The provider is asked once, after the account is made; a refusal or an
error leaves the account unverified, never blocks the registration.
"""

from __future__ import annotations

import logging
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

log = logging.getLogger("gongzhi.accounts")


class RealNameProvider(Protocol):
    def confirm(self, number: str, name: str) -> bool: ...


class NoProvider:
    """The default: no provider is configured, nobody is confirmed online."""

    def confirm(self, number: str, name: str) -> bool:
        return False


def provider() -> RealNameProvider:
    return import_string(settings.GONGZHI_REALNAME_PROVIDER)()


def confirmed(number: str, name: str) -> bool:
    """Does the configured provider confirm this number and name? An error counts as "no"."""
    try:
        return bool(provider().confirm(number, name))
    except Exception:
        log.exception("real-name provider failed; the account stays unverified")
        return False
