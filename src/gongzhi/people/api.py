"""``/api/v1/people``: persons (一号) and organisations, masked, jurisdiction-scoped.

* Output never carries a full ID or phone number, only the masked forms.
* Outside the caller's jurisdiction every single-object endpoint answers 404, as for an id
  that does not exist, so ids cannot be probed.
* Bad input answers with the platform's one error shape (``core.errors.error_body``:
  ``{"detail": [{"loc", "msg", "type", "field", "message", "code"}], **extra}``), a Chinese
  message and the error's own status (422 bad input, 403 not allowed, 429 too many lookups).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import Field

from gongzhi.core.errors import ActionError, NotAllowedError, error_body
from gongzhi.people import actions, queries
from gongzhi.people.models import Document, Organisation, Person

router = Router(tags=["people"])

MAX_LIMIT = 200
MAX_OFFSET = 1_000_000  # larger offsets overflow the database integer type (found by schemathesis)


class ErrorItem(Schema):
    loc: list[str]
    msg: str
    type: str
    field: str
    message: str
    code: str


class ErrorOut(Schema):
    detail: list[ErrorItem]


class RateLimitedOut(ErrorOut):
    retry_after: int = Field(..., description="几秒后可再按号码查询")


class NotFoundOut(Schema):
    detail: str


class PlaceRefOut(Schema):
    id: int
    code: str
    name: str


class PersonOut(Schema):
    id: int
    name: str
    number_kind: str
    number_masked: str
    phone_masked: str
    birth_date: date | None
    sex: str
    home_place: PlaceRefOut | None
    address: str
    linked_user: bool


class PersonPage(Schema):
    count: int
    items: list[PersonOut]


class PersonIn(Schema):
    number: str = Field(..., max_length=64, description="身份证 / 居住证 / 回乡证号码")
    name: str = Field(..., max_length=60)
    phone: str | None = Field(None, max_length=30)
    home_place_id: int | None = None
    address: str = Field("", max_length=200)


class OrganisationOut(Schema):
    id: int
    uscc: str
    name: str
    kind: str
    place: PlaceRefOut | None
    address: str
    legal_representative: str | None = Field(None, description="法定代表人姓名（证件号码不输出）")


class OrganisationPage(Schema):
    count: int
    items: list[OrganisationOut]


class DocumentOut(Schema):
    id: int
    doc_type: str
    title: str
    issuer: str
    issued_on: date | None
    expires_on: date | None
    content_type: str
    size: int
    sha256: str
    uploaded_at: datetime
    revoked: bool
    valid_today: bool
    download_url: str | None


def _place(place: Any) -> PlaceRefOut | None:
    if place is None:
        return None
    return PlaceRefOut(id=place.pk, code=place.code, name=place.name)


def person_out(p: Person) -> PersonOut:
    return PersonOut(
        id=p.pk,
        name=p.name,
        number_kind=p.number_kind,
        number_masked=p.number_masked,
        phone_masked=p.phone_masked,
        birth_date=p.birth_date,
        sex=p.sex,
        home_place=_place(p.home_place),
        address=p.address,
        linked_user=p.user_id is not None,
    )


def organisation_out(o: Organisation) -> OrganisationOut:
    rep = o.legal_representative
    return OrganisationOut(
        id=o.pk,
        uscc=o.uscc,
        name=o.name,
        kind=o.kind,
        place=_place(o.place),
        address=o.address,
        legal_representative=rep.name if rep is not None else None,
    )


def document_out(d: Document, valid_ids: set[int]) -> DocumentOut:
    from django.urls import reverse

    return DocumentOut(
        id=d.pk,
        doc_type=d.doc_type,
        title=d.title,
        issuer=d.issuer,
        issued_on=d.issued_on,
        expires_on=d.expires_on,
        content_type=d.content_type,
        size=d.size,
        sha256=d.sha256,
        uploaded_at=d.uploaded_at,
        revoked=d.revoked_at is not None,
        valid_today=d.pk in valid_ids,
        download_url=reverse("people:document_download", args=[d.pk]) if d.file else None,
    )


@router.get(
    "/persons",
    response={200: PersonPage, 422: ErrorOut, 429: RateLimitedOut},
    summary="List persons in scope, or find one by full ID / permit number (一号办)",
)
def list_persons(
    request: HttpRequest,
    number: str | None = Query(None, max_length=64),
    limit: int = Query(50, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
) -> Any:
    if number is not None:
        try:
            found = queries.find_person_by_number(request.user, number)
        except ActionError as exc:
            return Status(exc.status, error_body(exc, "query"))
        items = [found] if found is not None else []
        return Status(200, PersonPage(count=len(items), items=[person_out(p) for p in items]))
    qs = queries.persons_for_user(request.user)
    return Status(200, PersonPage(count=qs.count(), items=[person_out(p) for p in qs[offset : offset + limit]]))


@router.get("/persons/{person_id}", response={200: PersonOut, 404: NotFoundOut}, summary="One person (masked)")
def get_person(request: HttpRequest, person_id: int) -> PersonOut:
    return person_out(queries.access_person(request.user, person_id))


@router.post(
    "/persons",
    response={200: PersonOut, 201: PersonOut, 403: ErrorOut, 404: NotFoundOut, 422: ErrorOut, 429: RateLimitedOut},
    summary="Register a person; the same number again returns the existing person (200)",
)
def register_person(request: HttpRequest, payload: PersonIn) -> Any:
    from gongzhi.places.models import Place

    home_place = None
    if payload.home_place_id is not None:
        home_place = Place.objects.filter(pk=payload.home_place_id).first()
        if home_place is None:
            return Status(422, error_body(ActionError(_("所选区域不存在"), field="home_place_id", code="place")))
    try:
        person, created = actions.do_register_person_with_status(
            payload.number,
            payload.name,
            phone=payload.phone or None,
            home_place=home_place,
            address=payload.address,
            actor=request.user,
        )
    except ActionError as exc:
        return Status(exc.status, error_body(exc))
    except PermissionDenied as exc:
        return Status(403, error_body(NotAllowedError(str(exc) or _("无权操作"), code="permission")))
    return Status((201 if created else 200), person_out(person))


@router.get("/persons/{person_id}/documents", response={200: list[DocumentOut], 404: NotFoundOut}, summary="A person's document wallet")
def person_documents(request: HttpRequest, person_id: int, include_invalid: bool = False) -> list[DocumentOut]:
    person = queries.access_person(request.user, person_id)
    # Seeing a person does not mean seeing their papers (an agent sees the representative).
    valid = list(queries.wallet_for_user(request.user, person))
    valid_ids = {d.pk for d in valid}
    docs = list(queries.all_documents_of_for_user(request.user, person)) if include_invalid else valid
    return [document_out(d, valid_ids) for d in docs]


@router.get(
    "/organisations",
    response={200: OrganisationPage, 422: ErrorOut},
    summary="List organisations in scope, or find one by USCC",
)
def list_organisations(
    request: HttpRequest,
    uscc: str | None = Query(None, max_length=64),
    limit: int = Query(50, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
) -> Any:
    if uscc is not None:
        try:
            found = queries.find_organisation_by_uscc(request.user, uscc)
        except ActionError as exc:
            return Status(exc.status, error_body(exc, "query"))
        items = [found] if found is not None else []
        return Status(200, OrganisationPage(count=len(items), items=[organisation_out(o) for o in items]))
    qs = queries.organisations_for_user(request.user).select_related("legal_representative")
    return Status(200, OrganisationPage(count=qs.count(), items=[organisation_out(o) for o in qs[offset : offset + limit]]))


@router.get("/organisations/{org_id}", response={200: OrganisationOut, 404: NotFoundOut}, summary="One organisation")
def get_organisation(request: HttpRequest, org_id: int) -> OrganisationOut:
    return organisation_out(queries.access_organisation(request.user, org_id))


@router.get("/organisations/{org_id}/documents", response={200: list[DocumentOut], 404: NotFoundOut}, summary="An organisation's wallet")
def organisation_documents(request: HttpRequest, org_id: int) -> list[DocumentOut]:
    org = queries.access_organisation(request.user, org_id)
    valid = list(queries.wallet_for_user(request.user, org))
    return [document_out(d, {d.pk for d in valid}) for d in valid]
