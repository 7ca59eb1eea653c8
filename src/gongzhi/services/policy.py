"""Who may take a step on a case that is not a task's own step.

One module used by ``actions`` (to refuse) and ``views`` (to show the form only to those who may),
so the rule is written once (cf. ``people/policy.py``).
"""

from __future__ import annotations

from typing import Any

from gongzhi.accounts.enums import Role
from gongzhi.accounts.scope import active_assignments, path_in_scope
from gongzhi.services.models import Case

# The window that hands results out (出件窗口) serves the cases of its own jurisdiction.
DELIVERY_COUNTER_ROLES = frozenset({Role.WINDOW_CLERK})


def can_deliver_result(user: Any, case: Case) -> bool:
    """送达: an officer of the case's lead department (wherever their post is), or a window clerk
    whose clerk jurisdiction covers the case's place. Officers of other departments — the
    co-processors included — do not hand out another department's result."""
    if not getattr(user, "is_authenticated", False):
        return False
    for ra in active_assignments(user):
        if ra.role == Role.DEPARTMENT_OFFICER and ra.department_id == case.department_id:
            return True
    return path_in_scope(user, case.place_path, set(DELIVERY_COUNTER_ROLES))
