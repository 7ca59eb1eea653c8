"""Who may take a step on a case that is not a task's own step.

One module used by ``actions`` (to refuse) and ``views`` (to show the form only to those who may),
so the rule is written once (cf. ``people/policy.py``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _

from gongzhi.accounts.enums import CASE_READ_ROLES, COUNTER_ROLES, PUBLIC_ROLES, Role
from gongzhi.accounts.permissions import may_reveal_numbers
from gongzhi.accounts.policy import identity_unverified
from gongzhi.accounts.scope import active_assignments, has_role, path_in_scope, scope_q
from gongzhi.people.models import Organisation, Person
from gongzhi.people.queries import own_person
from gongzhi.services.models import Case, ServiceItem

# The register's permission to see a full personal number (people.actions.do_reveal_number): the
# same permission unlocks a number typed into an application form — one rule, not a second one.

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


def assurance_refusal(user: Any, items: Iterable[ServiceItem]) -> str:
    """Why a self-registered account not yet verified may not apply for ``items`` ("" if it may).

    An unverified account (accounts.policy.identity_unverified) applies only for items the
    catalogue marks ``low_assurance``; the rest wait for the clerk's check of the ID card.
    """
    if not identity_unverified(user):
        return ""
    refused = [item for item in items if not item.low_assurance]
    if not refused:
        return ""
    return _("您的账户尚未实名核验，不能申请“%(items)s”：请携带身份证件到任一综合窗口核验账户；未核验前只能申请标注“未核验可申请”的事项") % {
        "items": "、".join(item.name for item in refused)
    }


def may_apply_for(
    user: Any, person: Person | None, org: Organisation | None, items: Iterable[ServiceItem] = ()
) -> bool:
    """Whom ``user`` may file an application for, whatever the channel or the way they signed in.

    Window clerks and department officers (``COUNTER_ROLES``) serve whoever walks in (一窗办),
    at the desk or through their system's token. Everyone else applies only as themselves or for
    an organisation they are an agent of: an enterprise agent may *see* the company's legal
    representative, but is not that person. Decided by who acts, never by the channel, so a
    browser page, a session and an API token get the same answer.

    With ``items``, also whether this user may apply for those: an account not yet verified only
    for low-assurance items (:func:`assurance_refusal` says why not). The counters serve people
    whose card they see, so that limit is not theirs.
    """
    if has_role(user, *COUNTER_ROLES):
        return True
    if not getattr(user, "is_authenticated", False):
        return False
    if assurance_refusal(user, items):
        return False
    if org is not None:
        return org.agents.filter(pk=user.pk).exists()
    mine = own_person(user)
    return person is not None and mine is not None and mine.pk == person.pk


def can_reveal_numbers(user: Any) -> bool:
    """May ``user`` see full personal numbers of people other than themselves (with a reason,
    audited)? The register's permission, held by a few named officers."""
    return may_reveal_numbers(user)


def case_q(user: Any) -> Q:
    """Cases ``user`` may read: the one case read rule (pages, API, receipts, actions' checks)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return Q(pk__in=[])
    # Only the roles that may read case files count towards the jurisdiction: a council member
    # of the same community has a place scope too, for other things.
    q = scope_q(user, field="place_path", roles=set(CASE_READ_ROLES))
    depts = [ra.department_id for ra in active_assignments(user) if ra.role == Role.DEPARTMENT_OFFICER and ra.department_id]
    if depts:
        q |= Q(tasks__department_id__in=depts)
    if any(ra.role in PUBLIC_ROLES for ra in active_assignments(user)) or not active_assignments(user):
        q |= Q(applicant_person__user_id=user.pk) | Q(applicant_org__agents=user)
    return q
