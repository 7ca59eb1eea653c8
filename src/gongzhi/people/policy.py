"""Who may see and change persons, organisations and documents.

One module used by both ``actions`` (writes) and ``queries`` (reads), so the read rule and the
write rule cannot drift apart.

* Staff in ``PERSON_READ_ROLES`` see persons homed under their jurisdiction; those in
  ``PERSON_WRITE_ROLES`` may also change them. Supervisors and auditors only read.
* A resident sees their own person (``Person.user``); an enterprise agent their organisations.
* Superusers see everything (they can anyway, through the database).
* Outside what a user may see, a single read raises 404, never 403, so ids cannot be probed.
* Documents are decided by their *purpose* — what kind of paper, whose wallet — not by who
  may see the wallet's owner (``document_q``): an enterprise agent sees the legal
  representative's name to file for the organisation, never the representative's ID scan or
  household register.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404
from django.utils.translation import gettext as _

from gongzhi.accounts.enums import (
    COUNTER_ROLES,
    ORG_READ_ROLES,
    ORG_WRITE_ROLES,
    PERSON_READ_ROLES,
    PERSON_WRITE_ROLES,
)
from gongzhi.accounts.scope import has_role, path_in_scope, scope_q
from gongzhi.core.actors import Actor, SystemActor, system_may
from gongzhi.people.enums import DocumentType
from gongzhi.people.models import Document, Organisation, Person


def is_system(actor: Actor) -> bool:
    """A system actor granted the register (the demo loader, the console): granted explicitly."""
    return system_may(actor, "people.manage")


def _authenticated(user: Any) -> bool:
    return user is not None and not isinstance(user, SystemActor) and bool(getattr(user, "is_authenticated", False))


def person_q(user: Any) -> Q:
    """Persons ``user`` may read."""
    if not _authenticated(user):
        return Q(pk__in=[])
    if user.is_superuser:
        return Q()
    q = scope_q(user, "home_place__path", set(PERSON_READ_ROLES)) | Q(user_id=user.pk)
    # An enterprise agent sees the legal representative of an organisation they act for.
    # (A subquery, not a join, so a person is never listed twice.)
    represented = Organisation.objects.filter(agents=user, legal_representative__isnull=False)
    q |= Q(pk__in=represented.values("legal_representative_id"))
    return q


def organisation_q(user: Any) -> Q:
    if not _authenticated(user):
        return Q(pk__in=[])
    if user.is_superuser:
        return Q()
    agent_of = Organisation.agents.through.objects.filter(user_id=user.pk).values("organisation_id")
    return scope_q(user, "place__path", set(ORG_READ_ROLES)) | Q(pk__in=agent_of)


# Papers about one natural person (PIPL: personal, some sensitive). Wherever they are filed, only
# the person themself and roles that may read personal data (``PERSON_READ_ROLES``) see them.
PERSONAL_PAPERS = frozenset(
    {
        DocumentType.ID_CARD_COPY,
        DocumentType.HOUSEHOLD_REGISTER,
        DocumentType.RESIDENCE_PERMIT,
        DocumentType.MARRIAGE_CERT,
        DocumentType.BIRTH_CERT,
        DocumentType.PHOTO,
        DocumentType.DEGREE,
        DocumentType.SOCIAL_INSURANCE,
    }
)


def document_q(user: Any) -> Q:
    """Documents ``user`` may read, by whose wallet they are in and what kind of paper they are.

    ============================  ==========================================================
    document                      readers
    ============================  ==========================================================
    in a person's wallet          the person; staff in ``PERSON_READ_ROLES`` over their home
                                  (never an agent of an organisation the person represents)
    in an organisation's wallet   its agents; staff in ``ORG_READ_ROLES`` over its place —
                                  but a personal paper filed there (the representative's ID
                                  copy) only staff in ``PERSON_READ_ROLES``, not e.g. an
                                  asset manager
    ============================  ==========================================================
    """
    if not _authenticated(user):
        return Q(pk__in=[])
    if user.is_superuser:
        return Q()
    own_or_scoped = scope_q(user, "home_place__path", set(PERSON_READ_ROLES)) | Q(user_id=user.pk)
    personal = Q(doc_type__in=PERSONAL_PAPERS)
    agent_of = Organisation.agents.through.objects.filter(user_id=user.pk).values("organisation_id")
    org_staff = Organisation.objects.filter(scope_q(user, "place__path", set(ORG_READ_ROLES))).values("pk")
    org_person_staff = Organisation.objects.filter(scope_q(user, "place__path", set(PERSON_READ_ROLES))).values("pk")
    return (
        Q(person__in=Person.objects.filter(own_or_scoped).values("pk"))
        | Q(organisation__in=agent_of)
        | (Q(organisation__in=org_staff) & ~personal)
        | (Q(organisation__in=org_person_staff) & personal)
    )


def can_read_document(user: Any, document: Document) -> bool:
    if is_system(user):
        return True
    return Document.objects.filter(document_q(user), pk=document.pk).exists()


def can_read_person(user: Any, person: Person) -> bool:
    if is_system(user):
        return True
    return Person.objects.filter(person_q(user), pk=person.pk).exists()


def can_write_person(user: Any, person: Person) -> bool:
    if is_system(user):
        return True
    if not _authenticated(user):
        return False
    if user.is_superuser or person.user_id == user.pk:
        return True
    if person.home_place is None:
        # A walk-in who lives outside the district is in nobody's jurisdiction; the window and
        # department counters that serve them (and registered them) keep their wallet.
        return has_role(user, *COUNTER_ROLES)
    return path_in_scope(user, person.home_place.path, set(PERSON_WRITE_ROLES))


def ensure_can_write_person(user: Any, person: Person) -> None:
    """404 if the person is invisible to ``user`` (don't leak existence), 403 if read-only."""
    if can_write_person(user, person):
        return
    if not can_read_person(user, person):
        raise Http404("person not found")
    raise PermissionDenied(_("您的角色只能查看，不能修改此人的信息"))


def can_read_organisation(user: Any, org: Organisation) -> bool:
    if is_system(user):
        return True
    return Organisation.objects.filter(organisation_q(user), pk=org.pk).exists()


def can_write_organisation(user: Any, org: Organisation) -> bool:
    if is_system(user):
        return True
    if not _authenticated(user):
        return False
    if user.is_superuser or org.agents.filter(pk=user.pk).exists():
        return True
    return org.place is not None and path_in_scope(user, org.place.path, set(ORG_WRITE_ROLES))


def ensure_can_write_organisation(user: Any, org: Organisation) -> None:
    if can_write_organisation(user, org):
        return
    if not can_read_organisation(user, org):
        raise Http404("organisation not found")
    raise PermissionDenied(_("您的角色只能查看，不能修改该组织的信息"))


def ensure_can_file_at(user: Any, place: Any, roles: frozenset[str], field: str = "home_place") -> None:
    """Creating a record homed at ``place`` needs a write role over it."""
    if is_system(user):
        return
    if not _authenticated(user):
        raise PermissionDenied(_("请先登录"))
    if user.is_superuser:
        return
    if place is None or not path_in_scope(user, place.path, set(roles)):
        from gongzhi.people.errors import PlaceOutOfScope

        raise PlaceOutOfScope(_("所选区域不在您的管辖范围内"), field=field)
