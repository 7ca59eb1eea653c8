"""Reads of persons, organisations and wallets, scoped by jurisdiction (rules in ``policy``)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from gongzhi.accounts.enums import COUNTER_ROLES
from gongzhi.accounts.scope import has_role
from gongzhi.core.crypto import blind_index
from gongzhi.core.db import shortcuts_on
from gongzhi.core.db.rows import convert, fetch, load, select_list, width
from gongzhi.core.domain.identifiers import check_person_number, check_uscc
from gongzhi.people.actions import check_lookup_quota, do_record_person_lookup
from gongzhi.people.errors import number_error
from gongzhi.people.models import Consent, Document, Organisation, Person
from gongzhi.people.policy import document_q, organisation_q, person_q
from gongzhi.places.models import Place


def persons_for_user(user: Any) -> QuerySet[Person]:
    """Persons ``user`` may see: jurisdiction for staff, themselves for residents."""
    return Person.objects.filter(person_q(user)).select_related("home_place").order_by("name", "pk")


def access_person(user: Any, person_id: Any) -> Person:
    """One person by id, or 404 — also for ids outside the user's scope (no probing)."""
    try:
        pk = int(person_id)
    except (TypeError, ValueError):
        raise Http404("person not found") from None
    person = persons_for_user(user).filter(pk=pk).first()
    if person is None:
        raise Http404("person not found")
    return person


def find_person_by_number(user: Any, number: str) -> Person | None:
    """一号办: find a person by the full number on their card (exact match on the blind index).

    Raises ``people.errors.InvalidNumber`` for a malformed number (so the user learns what is
    wrong with what they typed rather than "not found"), and ``LookupRateLimited`` (429) once
    the user has looked up too many different numbers in a row (``actions.check_lookup_quota``).

    Who finds whom — a deliberate decision:
    window clerks and department officers (``COUNTER_ROLES``) find *any* registered applicant,
    because 一窗办 means a window serves whoever walks in, wherever they live; they need the
    applicant's full number, which the applicant hands over with the card. Because that makes
    the whole register answerable by number, every lookup is rate-limited per user and leaves
    an audit event (masked number, who was found), so it cannot be used to browse unseen.
    Everyone else — other staff, supervisors, residents — only finds people they could list
    anyway (their jurisdiction, or themselves). Fetching a person by *id* stays
    jurisdiction-scoped for every role (``access_person``), so ids cannot be probed.
    """
    result = check_person_number(number)
    if not result.valid:
        raise number_error(result)
    bidx = blind_index(result.normalized, purpose="id")
    check_lookup_quota(user, bidx)
    if has_role(user, *COUNTER_ROLES):
        found = _person_by_bidx(bidx)  # every intake
    else:
        qs = Person.objects.select_related("home_place").filter(number_bidx=bidx).filter(person_q(user))
        # The blind index is unique: no ORDER BY needed (``first()`` would add one).
        found = next(iter(qs[:1]), None)
    do_record_person_lookup(bidx, result.masked, found, actor=user)
    return found


def _person_by_bidx(bidx: str) -> Person | None:
    """``Person.objects.select_related("home_place").filter(number_bidx=bidx)[:1]``, on every
    intake: written out (core/db/rows.py — the ORM spent ~0.9 ms building this one-row lookup)."""
    if not shortcuts_on():
        return next(iter(Person.objects.select_related("home_place").filter(number_bidx=bidx)[:1]), None)
    rows = fetch(_PERSON_BY_BIDX_SQL, [bidx])
    if not rows:
        return None
    person = load(Person, rows[0])
    assert person is not None
    person.home_place = load(Place, rows[0], width(Person))  # cached on the person, as select_related
    return person


_PERSON_BY_BIDX_SQL = (  # the blind index is unique: no ORDER BY
    f"SELECT {select_list(Person, 'p')}, {select_list(Place, 'h')} FROM people_person p"  # noqa: S608  (column lists of the models' own fields)
    " LEFT JOIN places_place h ON h.id = p.home_place_id WHERE p.number_bidx = %s LIMIT 1"
)


def organisations_for_user(user: Any) -> QuerySet[Organisation]:
    return Organisation.objects.filter(organisation_q(user)).select_related("place").order_by("name", "pk")


def access_organisation(user: Any, org_id: Any) -> Organisation:
    try:
        pk = int(org_id)
    except (TypeError, ValueError):
        raise Http404("organisation not found") from None
    org = organisations_for_user(user).filter(pk=pk).first()
    if org is None:
        raise Http404("organisation not found")
    return org


def find_organisation_by_uscc(user: Any, uscc: str) -> Organisation | None:
    """By USCC, within what the user may see (counter roles: any, as for persons)."""
    result = check_uscc(uscc)
    if not result.valid:
        raise number_error(result, field="uscc")
    qs = Organisation.objects.select_related("place").filter(uscc=result.normalized)
    if not has_role(user, *COUNTER_ROLES):
        qs = qs.filter(organisation_q(user))
    return qs.first()


def documents_for_user(user: Any) -> QuerySet[Document]:
    """Documents ``user`` may read (``policy.document_q``: by the document's purpose)."""
    return Document.objects.filter(document_q(user)).order_by("-uploaded_at", "-pk")


def access_document(user: Any, document_id: Any) -> Document:
    try:
        pk = int(document_id)
    except (TypeError, ValueError):
        raise Http404("document not found") from None
    doc = documents_for_user(user).select_related("person", "organisation").filter(pk=pk).first()
    if doc is None:
        raise Http404("document not found")
    return doc


def wallet_for(owner: Person | Organisation, *, valid_on: date | None = None) -> QuerySet[Document]:
    """The reusable documents of ``owner`` on ``valid_on`` (default today, Asia/Shanghai).

    Not revoked, already issued and not expired on that day (``expires_on`` is the last valid
    day). This is what services reuse so nobody submits the same paper twice; the caller must
    already have access to ``owner`` (via ``access_person`` / ``find_person_by_number``).
    """
    day = valid_on or timezone.localdate()
    owner_q = Q(person=owner) if isinstance(owner, Person) else Q(organisation=owner)
    return (
        Document.objects.filter(owner_q, revoked_at__isnull=True)
        .filter(Q(expires_on__isnull=True) | Q(expires_on__gte=day))
        .filter(Q(issued_on__isnull=True) | Q(issued_on__lte=day))
        .order_by("doc_type", "-issued_on", "-pk")
    )


def wallet_index(owner: Person | Organisation, *, valid_on: date | None = None) -> dict[str, int]:
    """doc_type → id of the newest valid document of that type (what intake reuses).

    Same validity rule as ``wallet_for`` but applied in Python over a two-condition query: intake
    runs this on every submission, and the OR-ed date conditions and ordering cost more to
    compile than to evaluate on the handful of documents one owner holds. Newest = latest
    ``issued_on`` (undated documents after dated ones), then the latest upload.
    """
    day = valid_on or timezone.localdate()
    rows = _current_documents(owner)
    best: dict[str, tuple[tuple[bool, date, int], int]] = {}
    for doc_type, pk, issued, expires in rows:
        if (expires is not None and expires < day) or (issued is not None and issued > day):
            continue
        rank = (issued is not None, issued or date.min, pk)
        if doc_type not in best or rank > best[doc_type][0]:
            best[doc_type] = (rank, pk)
    return {doc_type: pk for doc_type, (_rank, pk) in best.items()}


_DOC_COLUMNS = ("doc_type", "pk", "issued_on", "expires_on")


def _current_documents(owner: Person | Organisation) -> list[tuple[str, int, date | None, date | None]]:
    """(type, id, issued, expires) of the owner's unrevoked documents; read on every intake, so
    written out when the shortcuts are on (core/db/rows.py)."""
    column = "person_id" if isinstance(owner, Person) else "organisation_id"
    if not shortcuts_on():
        return list(Document.objects.filter(**{column: owner.pk, "revoked_at__isnull": True}).values_list(*_DOC_COLUMNS))
    # Only one of two fixed column names is formatted in.
    sql = f"SELECT doc_type, id, issued_on, expires_on FROM people_document WHERE {column} = %s AND revoked_at IS NULL"  # noqa: S608
    return convert(Document, _DOC_COLUMNS, fetch(sql, [owner.pk]))


def all_documents_of(owner: Person | Organisation) -> QuerySet[Document]:
    """Every document of ``owner`` including revoked and expired ones (history on screens)."""
    owner_q = Q(person=owner) if isinstance(owner, Person) else Q(organisation=owner)
    return Document.objects.filter(owner_q).order_by("-uploaded_at", "-pk")


def wallet_for_user(user: Any, owner: Person | Organisation, *, valid_on: date | None = None) -> QuerySet[Document]:
    """``wallet_for(owner)`` narrowed to what ``user`` may read (``policy.document_q``)."""
    return wallet_for(owner, valid_on=valid_on).filter(document_q(user))


def all_documents_of_for_user(user: Any, owner: Person | Organisation) -> QuerySet[Document]:
    """``all_documents_of(owner)`` narrowed to what ``user`` may read (``policy.document_q``)."""
    return all_documents_of(owner).filter(document_q(user))


def consents_of(person: Person, *, active_only: bool = True) -> QuerySet[Consent]:
    qs = Consent.objects.filter(person=person)
    if active_only:
        qs = qs.filter(withdrawn_at__isnull=True)
    return qs.order_by("purpose", "-granted_at")


def own_person(user: Any) -> Person | None:
    """The person record linked to ``user`` (a resident's own profile), if any."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return Person.objects.select_related("home_place").filter(user_id=user.pk).first()
