"""Who performs an action: a user, or a named piece of the system granted named powers.

Every ``do_*`` action takes ``actor``. A person acts as their ``User`` and is checked against
the permission table and their jurisdiction. Code that acts on nobody's behalf — the worker
firing a timer, the demo loader, an operator's console command — passes a :class:`SystemActor`,
which may do only what it was granted when it was declared here. A plain string is *not* an
actor: before this type existed any string was treated as all-powerful, so a typo or an
``f"intake:{username}"`` could bypass a check.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

EVERYTHING = "*"


@dataclass(frozen=True)
class SystemActor:
    """A named part of the system. ``grants`` are permission names (``EVERYTHING`` = all).

    ``on_behalf_of`` names the user whose step made the system act (intake files the scans a
    clerk took into the applicant's wallet): the audit event carries that user and both names.
    """

    name: str
    grants: frozenset[str]
    on_behalf_of: Any = None

    def may(self, permission: str) -> bool:
        return EVERYTHING in self.grants or permission in self.grants

    @property
    def label(self) -> str:
        """The audit log's actor label: ``worker``, or ``intake:clerk_li`` for a step on a user's behalf."""
        user = self.on_behalf_of
        return f"{self.name}:{user.get_username()}" if user is not None else self.name

    def __str__(self) -> str:
        return self.label


def on_behalf_of(user: Any, name: str, *grants: str) -> SystemActor:
    """A system step taken because ``user`` did something, granted only ``grants``."""
    return SystemActor(name, frozenset(grants), on_behalf_of=user)


# The demo loader builds a whole district through the actions, as an administrator would.
DEMO = SystemActor("demo", frozenset({EVERYTHING}))
# An operator at the server's console (`gongzhi …` commands) has the machine, hence everything.
CLI = SystemActor("cli", frozenset({EVERYTHING}))
# The worker fires durable timers and periodic jobs: SLA marks, accountability, sealing, roll-ups.
WORKER = SystemActor("worker", frozenset({"case.sla", "audit.seal", "figures.rollup"}))
# The collective-asset monitor: posts each month's rent due and recomputes the alerts, daily.
ASSETS_MONITOR = SystemActor("assets-monitor", frozenset({"assets.monitor"}))
# Imports of the service catalogue and the holiday schedule.
IMPORT = SystemActor("import", frozenset({"catalog.edit", "calendar.edit"}))
# The service hall files a result licence (电子证照) into the applicant's wallet when it is issued.
RESULTS = SystemActor("services", frozenset({"wallet.file"}))

# Who an action may be called by: a user (a page's ``request.user`` may be anonymous — the
# action's own check refuses it), or a declared system actor.
Actor: TypeAlias = "AbstractBaseUser | AnonymousUser | SystemActor"


def user_id_of(actor: Actor | None) -> int | None:
    """The acting user's id, or None for a system actor or an anonymous user."""
    if isinstance(actor, SystemActor) or actor is None or not actor.is_authenticated:
        return None
    pk = actor.pk
    return int(pk) if pk is not None else None


def is_system(actor: Any) -> bool:
    """True for a declared system actor; a string or ``None`` is never one."""
    return isinstance(actor, SystemActor)


def system_may(actor: Any, permission: str) -> bool:
    return isinstance(actor, SystemActor) and actor.may(permission)
