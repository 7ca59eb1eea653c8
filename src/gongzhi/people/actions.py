"""Every write to persons, organisations, wallets and consents (DESIGN.md §2).

Actions check the actor's right to make the change themselves (see ``people.policy``): a user
outside the record's jurisdiction gets 404 as if it did not exist; a read-only role gets 403.
``actor`` may also be a ``core.actors.SystemActor``: it may do what it was granted
(``people.manage``: the demo loader, the console; ``wallet.file``: intake and result issuing).
"""

from __future__ import annotations

import hashlib
import re
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import date, timedelta
from typing import Any, TypeGuard

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Count, Min, Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.accounts.enums import COUNTER_ROLES, ORG_WRITE_ROLES, PERSON_WRITE_ROLES, Role
from gongzhi.accounts.models import RoleAssignment, User
from gongzhi.accounts.permissions import may_reveal_numbers
from gongzhi.accounts.scope import clear_scope_cache, has_role
from gongzhi.core import clock
from gongzhi.core.actors import Actor, SystemActor, system_may, user_id_of
from gongzhi.core.audit import new_event, record_event, record_events
from gongzhi.core.crypto import blind_index, decrypt, encrypt, mask_phone
from gongzhi.core.db.inserts import insert
from gongzhi.core.domain.identifiers import Sex, check_person_number, check_uscc
from gongzhi.core.models import AuditEvent
from gongzhi.people.enums import ConsentPurpose, DocumentType, NumberKind, OrgKind
from gongzhi.people.errors import (
    AlreadyLinked,
    FileTooLarge,
    InvalidChoice,
    InvalidDates,
    InvalidName,
    InvalidPhone,
    LookupRateLimited,
    PlaceOutOfScope,
    RevealRefused,
    UnsupportedFileType,
    number_error,
)
from gongzhi.people.models import Consent, Document, NumberLookup, Organisation, Person
from gongzhi.people.policy import (
    can_read_organisation,
    can_read_person,
    ensure_can_file_at,
    ensure_can_write_organisation,
    ensure_can_write_person,
    is_system,
)

UNSET: Any = object()

# Magic bytes → (content type, extension). The client's Content-Type is never trusted: it is
# whatever the browser guessed from the file name.
_SIGNATURES: tuple[tuple[bytes, str, str], ...] = (
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
)


# --- Helpers --------------------------------------------------------------------------------


def clean_phone(raw: str) -> str:
    """Normalise a phone number or raise :class:`InvalidPhone`.

    Accepts mainland mobiles (11 digits from 13–19, optionally +86), mainland landlines with
    area code (0755…), and Hong Kong / Macao (+852 / +853, 8 digits) and Taiwan (+886) numbers.
    """
    text = re.sub(r"[\s\-()（）]", "", raw or "")
    if text.startswith("+86"):
        text = text[3:]
    elif text.startswith("0086"):
        text = text[4:]
    if re.fullmatch(r"1[3-9]\d{9}", text) or re.fullmatch(r"0\d{9,11}", text):
        return text
    if re.fullmatch(r"\+?(852|853)\d{8}", text) or re.fullmatch(r"\+?886\d{9}", text):
        return text if text.startswith("+") else "+" + text
    raise InvalidPhone(
        _("电话号码格式不正确：应为 11 位手机号、带区号的固定电话，或 +852/+853/+886 开头的号码"),
        field="phone",
    )


def _clean_name(name: str, field: str = "name", max_length: int = 60) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise InvalidName(_("请输入姓名") if field == "name" else _("请输入名称"), field=field)
    if len(name) > max_length:
        raise InvalidName(_("不能超过 %(n)d 个字") % {"n": max_length}, field=field)
    return name


def _person_snapshot(person: Person) -> dict[str, Any]:
    # Masked values only: the audit log is read by auditors, who need no full numbers.
    return {
        "name": person.name,
        "number": person.number_masked,
        "kind": person.number_kind,
        "phone": person.phone_masked,
        "home_place": person.home_place_id,
        "address": person.address,
    }


def _place_path(place: Any) -> str:
    return place.path if place is not None else ""


def _save_changes(
    obj: Any, changes: dict[str, Any], verb: str, snapshot: Callable[[Any], dict[str, Any]],
    place_of: Callable[[Any], Any], *, actor: Actor,
) -> Any:
    """Write ``changes`` (already validated) and audit ``verb`` with the masked snapshots before
    and after, in one transaction (persons and organisations are updated the same way)."""
    before = snapshot(obj)
    with transaction.atomic():
        for key, value in changes.items():
            setattr(obj, key, value)
        obj.save()
        record_event(verb, actor=actor, obj=obj, place_path=_place_path(place_of(obj)), before=before,
                     after=snapshot(obj))
    return obj


def _find_rule_allows(actor: Actor, person: Person) -> bool:
    """May ``actor``, who typed this person's full number, be handed the existing record?

    Same rule as ``queries.find_person_by_number``: counter roles serve anyone by number.
    """
    return is_system(actor) or can_read_person(actor, person) or has_role(actor, *COUNTER_ROLES)


# --- Lookups by full number (一号办 finds anyone: so each lookup is audited and rate-limited) -----

# (window in seconds, most *distinct* numbers one user may look up in it). Distinct, because the
# window desk looks the same applicant up at every step; a clerk serves perhaps a hundred
# applicants a day, someone trying numbers in a row is stopped after the first minute's 20.
# Overridable with ``settings.PEOPLE_LOOKUP_LIMITS`` (tests, or a district with busier windows).
LOOKUP_LIMITS: tuple[tuple[int, int], ...] = ((60, 20), (3600, 120), (86400, 400))


def _lookup_limits() -> tuple[tuple[int, int], ...]:
    return tuple(getattr(settings, "PEOPLE_LOOKUP_LIMITS", LOOKUP_LIMITS))


def _counts_lookups(actor: Actor) -> TypeGuard[User]:
    # System actors (demo loader, imports) are trusted code, not someone at a keyboard; an
    # anonymous user finds nobody (``policy.person_q``), so there is nothing to count.
    return isinstance(actor, User) and actor.is_authenticated


def _window_text(seconds: int) -> str:
    if seconds % 3600 == 0:
        return _("%(n)d 小时") % {"n": seconds // 3600}
    return _("%(n)d 分钟") % {"n": max(1, seconds // 60)}


# user id → (monotonic time read, exempt?). ``has_perm`` costs two queries (the user's and their
# groups' permissions) on every intake by token, where the user object is new each request; an
# exemption granted or withdrawn reaches every process within EXEMPT_MEMO_SECONDS. A withdrawn
# exemption lasting that long is a bounded, audited risk (every lookup is still logged), unlike
# a revoked token, which is read from the database on every request.
_exempt_memo: dict[int, tuple[float, bool]] = {}
EXEMPT_MEMO_SECONDS = 60.0


def _exempt_from_quota(actor: User) -> bool:
    if actor.is_superuser:
        return True
    now = time.monotonic()
    hit = _exempt_memo.get(actor.pk)
    if hit is None or now - hit[0] >= EXEMPT_MEMO_SECONDS:
        if len(_exempt_memo) >= 10_000:
            _exempt_memo.clear()
        hit = (now, actor.has_perm("people.unlimited_number_lookup"))
        _exempt_memo[actor.pk] = hit
    return hit[1]


def forget_quota_exemptions() -> None:
    """Drop the memo (tests that grant or withdraw the exemption)."""
    _exempt_memo.clear()


def check_lookup_quota(actor: Actor, number_bidx: str) -> None:
    """Refuse (429) a lookup of one more number once ``actor`` has used up a window's quota.

    A number already looked up inside the window is always allowed again. The first refusal in
    a window is audited (``person.lookup_refused``) so supervisors see probing; later refusals in
    the same window are not, so a script hammering the endpoint cannot flood the audit log.
    Concurrent lookups by one user may overshoot a limit by the few requests in flight: the
    quota stops enumeration, it is not an exact meter.
    """
    if not _counts_lookups(actor) or _exempt_from_quota(actor):
        # Superusers, and other systems' accounts given this permission by an administrator
        # (they submit thousands of applicants a day): no quota; still logged and audited.
        return
    limits = _lookup_limits()
    now = clock.now()
    longest = max(window for window, _limit in limits)
    counts = (
        NumberLookup.objects.filter(user_id=actor.pk, at__gte=now - timedelta(seconds=longest))
        .exclude(number_bidx=number_bidx)
        .aggregate(
            **{
                f"w{window}": Count("number_bidx", distinct=True, filter=Q(at__gte=now - timedelta(seconds=window)))
                for window, _limit in limits
            }
        )
    )
    for window, limit in limits:
        if counts[f"w{window}"] < limit:
            continue
        since = now - timedelta(seconds=window)
        oldest = NumberLookup.objects.filter(user_id=actor.pk, at__gte=since).aggregate(m=Min("at"))["m"]
        retry_after = int(((oldest or now) + timedelta(seconds=window) - now).total_seconds()) + 1
        if not AuditEvent.objects.filter(verb="person.lookup_refused", actor_id=actor.pk, created_at__gte=since).exists():
            with transaction.atomic():
                record_event("person.lookup_refused", actor=actor, after={"window": window, "limit": limit})
        raise LookupRateLimited(
            _("按证件号码查询过于频繁：%(window)s内最多查询 %(limit)d 个不同的号码，请 %(minutes)d 分钟后再试")
            % {"window": _window_text(window), "limit": limit, "minutes": max(1, (retry_after + 59) // 60)},
            field="number",
            extra={"retry_after": retry_after},
        )


def do_record_person_lookup(
    number_bidx: str, number_masked: str, found: Person | None, *, actor: Actor, via: str = "lookup"
) -> None:
    """Note that ``actor`` looked a person up by full number (quota and audit).

    Writes one ``NumberLookup`` row, which counts towards the quota at once and becomes a
    ``person.lookup`` audit event (masked number, the person found as its object) when the worker
    next runs :func:`fold_lookups_into_audit`. One INSERT and nothing else: intake looks the
    applicant up on its hot path.
    """
    if not _counts_lookups(actor):
        return
    row = NumberLookup(
        user_id=actor.pk, number_bidx=number_bidx, number_masked=number_masked, person=found, via=via,
        at=clock.now(),
    )
    batch = _LOOKUP_BATCH.get()
    if batch is not None:
        batch.rows.append(row)  # written by the caller's transaction (``lookups_batched``)
        return
    insert([row])


@dataclass
class LookupBatch:
    """Lookups noted inside :func:`lookups_batched`, waiting for the caller's transaction."""

    rows: list[NumberLookup] = dataclass_field(default_factory=list)  # noted, not yet written
    written: list[NumberLookup] = dataclass_field(default_factory=list)  # gone if that transaction rolls back

    def write(self) -> None:
        """INSERT the lookups noted so far; call it inside the caller's write transaction."""
        if self.rows:
            insert(self.rows)
            self.written += self.rows
            self.rows = []


_LOOKUP_BATCH: ContextVar[LookupBatch | None] = ContextVar("people_lookup_batch", default=None)


@contextmanager
def lookups_batched() -> Iterator[LookupBatch]:
    """Let a write path record its number lookups in its own transaction.

    Intake looks the applicant up before its write transaction; logged on its own, the lookup
    was a second write transaction per submission (on SQLite a second turn at the database's one
    write lock — bench/intake.py). Inside this block lookups are held; the caller calls
    ``batch.write()`` inside its transaction. If the block fails — a refused submission, or a
    transaction rolled back after ``write()`` — every lookup it made is written on the way out
    all the same (a refused intake still counts towards the quota and is still audited). The
    block must end right after the caller's transaction: a failure after a commit would write
    the committed lookups twice.
    """
    batch = LookupBatch()
    token = _LOOKUP_BATCH.set(batch)
    try:
        yield batch
    except BaseException:
        _LOOKUP_BATCH.reset(token)
        again = [_fresh_lookup(row) for row in [*batch.written, *batch.rows]]
        if again:
            insert(again)
        raise
    _LOOKUP_BATCH.reset(token)
    batch.write()  # lookups noted after the caller's write (none on intake's path)


def _fresh_lookup(row: NumberLookup) -> NumberLookup:
    return NumberLookup(user_id=row.user_id, number_bidx=row.number_bidx, number_masked=row.number_masked,
                        person_id=row.person_id, via=row.via, at=row.at)


def fold_lookups_into_audit(limit: int = 1000) -> int:
    """Turn logged lookups into ``person.lookup`` audit events; returns how many (worker job).

    Rows are claimed inside one transaction (``skip_locked`` on PostgreSQL; SQLite's write lock
    serialises workers), so two workers never audit a lookup twice. Audited rows older than the
    longest quota window are deleted here too (off the request path): the quota no longer
    needs them and the audit chain holds the record.
    """
    longest = max(window for window, _limit in _lookup_limits())
    NumberLookup.objects.filter(audited=True, at__lt=timezone.now() - timedelta(seconds=longest)).delete()
    with transaction.atomic():
        rows = list(
            NumberLookup.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(audited=False)
            .select_related("user", "person__home_place")
            .order_by("id")[:limit]
        )
        if not rows:
            return 0
        events = []
        for row in rows:
            event = new_event(
                "person.lookup",
                actor=row.user,
                obj=row.person,
                place_path=_place_path(row.person.home_place) if row.person is not None else "",
                after={"number": row.number_masked, "found": row.person is not None, "via": row.via},
            )
            event.created_at = row.at  # when the lookup happened, not when it was folded
            events.append(event)
        record_events(events)
        NumberLookup.objects.filter(pk__in=[row.pk for row in rows]).update(audited=True)
    return len(rows)


# --- Persons --------------------------------------------------------------------------------


def do_register_person(
    number: str,
    name: str,
    *,
    phone: str | None = None,
    home_place: Any = None,
    address: str = "",
    actor: Actor,
) -> Person:
    """See :func:`do_register_person_with_status`; returns only the person."""
    person, _created = do_register_person_with_status(
        number, name, phone=phone, home_place=home_place, address=address, actor=actor
    )
    return person


def _clean_person_input(number: str, name: str, phone: str | None) -> tuple[Any, str, str]:
    """The checked number (an ``IdentifierResult``), name and phone, or the first ActionError."""
    result = check_person_number(number)
    if not result.valid:
        raise number_error(result)
    return result, _clean_name(name), clean_phone(phone) if phone else ""


def _ensure_can_register_at(actor: Actor, home_place: Any) -> None:
    # Window clerks and department officers may register a walk-in with no home place in the
    # district; everyone else needs a write role over the home place.
    if not (home_place is None and (is_system(actor) or has_role(actor, *COUNTER_ROLES))):
        ensure_can_file_at(actor, home_place, PERSON_WRITE_ROLES)


def validate_register_person(
    number: str, name: str, *, phone: str | None = None, home_place: Any = None, actor: Actor
) -> None:
    """Raise the ActionError :func:`do_register_person` would raise for this input (forms' clean)."""
    result, _name, _phone = _clean_person_input(number, name, phone)
    _ensure_can_register_at(actor, home_place)
    check_lookup_quota(actor, blind_index(result.normalized, purpose="id"))


def do_register_person_with_status(
    number: str,
    name: str,
    *,
    phone: str | None = None,
    home_place: Any = None,
    address: str = "",
    actor: Actor,
) -> tuple[Person, bool]:
    """Register a person by ID-card / residence-permit / travel-permit number (一号).

    Idempotent: registering a number that is already on file returns the existing person
    unchanged (the blind index is unique), so a retried submission never makes a duplicate —
    provided the actor may find that person by number (``queries.find_person_by_number``).
    Needs a write role over ``home_place``; window clerks and department officers may register a
    walk-in applicant with no home place in the district.

    The answer must not tell someone who may not see a registered person that the number is on
    file: so the right to register at ``home_place`` is checked *before* the number is looked
    up, and a user without it gets the same refusal whether or not the number exists. A user
    who may register there but not see the existing person (a community worker, the person
    being on file in another community) is told the number is on file elsewhere — they need
    that to send the resident to the window — and that check is a lookup by number like any
    other: rate-limited and audited (``check_lookup_quota``, ``person.lookup``).
    Side effects: audit ``person.register`` (masked values only), or ``person.lookup``.
    """
    result, clean_name, clean = _clean_person_input(number, name, phone)
    bidx = blind_index(result.normalized, purpose="id")
    check_lookup_quota(actor, bidx)
    existing = Person.objects.select_related("home_place").filter(number_bidx=bidx).first()
    if existing is not None and _find_rule_allows(actor, existing):
        do_record_person_lookup(bidx, result.masked, existing, actor=actor, via="register")
        return existing, False
    _ensure_can_register_at(actor, home_place)
    if existing is not None:
        # The actor learns only "on file elsewhere"; the audit names whom they probed.
        do_record_person_lookup(bidx, result.masked, existing, actor=actor, via="register_refused")
        raise PlaceOutOfScope(_("该证件号码已在其他辖区登记，请到综合窗口办理"), field="number")
    assert result.kind is not None
    person = Person(
        number_kind=NumberKind(str(result.kind)),
        number_cipher=encrypt(result.normalized),
        number_bidx=bidx,
        number_masked=result.masked,
        name=clean_name,
        birth_date=result.birth_date,
        sex={Sex.MALE: "M", Sex.FEMALE: "F"}.get(result.sex, "") if result.sex else "",
        phone_cipher=encrypt(clean) if clean else "",
        phone_bidx=blind_index(clean, purpose="phone") if clean else "",
        phone_masked=mask_phone(clean) if clean else "",
        home_place=home_place,
        address=(address or "").strip()[:200],
    )
    try:
        with transaction.atomic():
            person.save()
            if _counts_lookups(actor):
                # Counts towards the quota like any lookup (the answer "not on file" is news too);
                # the register event below is its audit record, so it is not folded again.
                NumberLookup.objects.create(
                    user_id=actor.pk, number_bidx=bidx, number_masked=result.masked, person=person,
                    via="register", at=timezone.now(), audited=True,
                )
            record_event(
                "person.register",
                actor=actor,
                obj=person,
                place_path=_place_path(home_place),
                after=_person_snapshot(person),
            )
    except IntegrityError:
        # A concurrent registration of the same number won the unique index: return theirs.
        winner = Person.objects.filter(number_bidx=bidx).first()
        if winner is None:
            raise
        return winner, False
    return person, True


def do_update_person_contact(
    person: Person,
    *,
    phone: str | None = UNSET,
    address: str = UNSET,
    home_place: Any = UNSET,
    name: str = UNSET,
    actor: Actor,
) -> Person:
    """Change a person's phone (``""`` clears it), address, home place or name.

    Moving a person to another home place needs a write role over the new place too.
    Side effects: audit ``person.update`` with masked before/after.
    """
    changes = validate_update_person_contact(
        person, phone=phone, address=address, home_place=home_place, name=name, actor=actor
    )
    if not changes:
        return person
    return _save_changes(person, changes, "person.update", _person_snapshot, lambda p: p.home_place, actor=actor)


def validate_update_person_contact(
    person: Person,
    *,
    phone: str | None = UNSET,
    address: str = UNSET,
    home_place: Any = UNSET,
    name: str = UNSET,
    actor: Actor,
) -> dict[str, Any]:
    """The field changes :func:`do_update_person_contact` would make, or its error (forms' clean)."""
    ensure_can_write_person(actor, person)
    changes: dict[str, Any] = {}
    if phone is not UNSET:
        clean = clean_phone(phone) if phone else ""
        changes.update(
            phone_cipher=encrypt(clean) if clean else "",
            phone_bidx=blind_index(clean, purpose="phone") if clean else "",
            phone_masked=mask_phone(clean) if clean else "",
        )
    if address is not UNSET:
        changes["address"] = (address or "").strip()[:200]
    if name is not UNSET:
        changes["name"] = _clean_name(name)
    if home_place is not UNSET and home_place != person.home_place:
        if home_place is not None or not (is_system(actor) or getattr(actor, "is_superuser", False)):
            ensure_can_file_at(actor, home_place, PERSON_WRITE_ROLES)
        changes["home_place"] = home_place
    return changes


def do_link_user_to_person(user: User, person: Person, *, actor: Actor) -> Person:
    """Tie a login to a person (the resident's own account) and give it the resident role.

    Side effects: audit ``person.link_user``; a ``resident`` role over the home place.
    """
    validate_link_user_to_person(user, person, actor=actor)
    with transaction.atomic():
        if person.user_id != user.pk:
            person.user = user
            person.save(update_fields=["user", "updated_at"])
            record_event(
                "person.link_user",
                actor=actor,
                obj=person,
                place_path=_place_path(person.home_place),
                after={"user": user.username},
            )
        if person.home_place is not None:
            _grant_public_role(user, Role.RESIDENT, person.home_place, actor=actor)
    return person


def validate_link_user_to_person(user: User, person: Person, *, actor: Actor) -> None:
    """Raise what :func:`do_link_user_to_person` would raise (forms' clean)."""
    ensure_can_write_person(actor, person)
    if person.user_id is not None and person.user_id != user.pk:
        raise AlreadyLinked(_("此人已关联其他账号"), field="user")
    other = Person.objects.filter(user=user).exclude(pk=person.pk).first()
    if other is not None:
        raise AlreadyLinked(_("该账号已关联其他人员"), field="user")


def do_set_bad_credit(owner: Person | Organisation, bad_credit: bool, *, actor: Actor) -> Person | Organisation:
    """Mark or clear a 失信 record (it rules out 容缺受理 for the owner's applications).

    Side effects: audit ``person.credit`` / ``organisation.credit`` with before and after.
    """
    _ensure_can_write_owner(actor, owner)
    if owner.bad_credit == bool(bad_credit):
        return owner
    verb = "person.credit" if isinstance(owner, Person) else "organisation.credit"
    with transaction.atomic():
        before = owner.bad_credit
        owner.bad_credit = bool(bad_credit)
        owner.save(update_fields=["bad_credit", "updated_at"])
        record_event(
            verb,
            actor=actor,
            obj=owner,
            place_path=_owner_place_path(owner),
            before={"bad_credit": before},
            after={"bad_credit": owner.bad_credit},
        )
    return owner


def _grant_public_role(user: User, role: str, place: Any, *, actor: Actor) -> None:
    """Residents and agents get their public role as a consequence of a link, not an admin act."""
    ra, created = RoleAssignment.objects.get_or_create(user=user, role=role, place=place, department=None)
    if created:
        record_event(
            "role.assign",
            actor=actor,
            obj=ra,
            place_path=place.path,
            after={"user": user.username, "role": role, "place": place.pk, "department": None},
        )
        clear_scope_cache(user)


def do_reveal_number(person: Person, field: str = "number", *, actor: Actor, reason: str = "") -> str:
    """Return the full ID number or phone of ``person``; always audited as ``person.reveal``.

    The person themself may always see their own numbers. Anyone else needs the permission
    ``accounts.reveal_personal_number`` *and* the person in their jurisdiction, and must give a
    reason. Outside the jurisdiction: 404 (as if the person did not exist); without the
    permission: 403.
    """
    if field not in ("number", "phone"):
        raise InvalidChoice(_("只能查看证件号码或电话"), field="field")
    if is_system(actor) or not getattr(actor, "is_authenticated", False):
        raise PermissionDenied(_("请先登录"))
    self_view = person.user_id == user_id_of(actor)
    reason = " ".join((reason or "").split())
    if not self_view:
        if not can_read_person(actor, person):
            raise Http404("person not found")
        if not may_reveal_numbers(actor):
            raise PermissionDenied(_("您没有查看完整号码的权限"))
        if not reason:
            raise RevealRefused(_("请填写查看完整号码的原因（将记录在审计日志中）"), field="reason")
    cipher = person.number_cipher if field == "number" else person.phone_cipher
    if not cipher:
        raise RevealRefused(_("此人没有登记电话号码"), field="field")
    with transaction.atomic():
        record_event(
            "person.reveal",
            actor=actor,
            obj=person,
            place_path=_place_path(person.home_place),
            after={"field": field, "reason": reason[:200] or "本人查看", "self": self_view},
        )
    return decrypt(cipher)


# --- Organisations --------------------------------------------------------------------------


def do_register_organisation(
    uscc: str,
    name: str,
    kind: str,
    place: Any,
    *,
    legal_representative: Person | None = None,
    address: str = "",
    actor: Actor,
) -> Organisation:
    """Register an enterprise or other organisation by its USCC (GB 32100). Idempotent by USCC.

    Side effects: audit ``organisation.register``.
    """
    result, clean_name = _clean_organisation_input(uscc, name, kind)
    existing = Organisation.objects.filter(uscc=result.normalized).first()
    if existing is not None:
        if not can_read_organisation(actor, existing):
            raise PlaceOutOfScope(_("该统一社会信用代码已在其他辖区登记"), field="uscc")
        return existing
    if not (place is None and is_system(actor)):
        ensure_can_file_at(actor, place, ORG_WRITE_ROLES, field="place")
    if legal_representative is not None and not can_read_person(actor, legal_representative):
        raise Http404("person not found")
    org = Organisation(
        uscc=result.normalized,
        name=clean_name,
        kind=kind,
        place=place,
        address=(address or "").strip()[:200],
        legal_representative=legal_representative,
    )
    try:
        with transaction.atomic():
            org.save()
            record_event(
                "organisation.register",
                actor=actor,
                obj=org,
                place_path=_place_path(place),
                after={"uscc": org.uscc, "name": org.name, "kind": kind, "place": getattr(place, "pk", None)},
            )
    except IntegrityError:
        winner = Organisation.objects.filter(uscc=result.normalized).first()
        if winner is None:
            raise
        return winner
    return org


def _clean_organisation_input(uscc: str, name: str, kind: str) -> tuple[Any, str]:
    result = check_uscc(uscc)
    if not result.valid:
        raise number_error(result, field="uscc")
    clean_name = _clean_name(name, field="name", max_length=120)
    if kind not in OrgKind.values:
        raise InvalidChoice(_("未知的组织类型：%(kind)s") % {"kind": kind}, field="kind")
    return result, clean_name


def validate_register_organisation(
    uscc: str, name: str, kind: str, place: Any, *, legal_representative: Person | None = None, actor: Actor
) -> None:
    """Raise what :func:`do_register_organisation` would raise for a new organisation (forms)."""
    _clean_organisation_input(uscc, name, kind)
    if not (place is None and is_system(actor)):
        ensure_can_file_at(actor, place, ORG_WRITE_ROLES, field="place")
    if legal_representative is not None and not can_read_person(actor, legal_representative):
        raise Http404("person not found")


def _organisation_snapshot(org: Organisation) -> dict[str, Any]:
    return {
        "name": org.name,
        "kind": org.kind,
        "place": org.place_id,
        "address": org.address,
        "legal_representative": org.legal_representative_id,
    }


def validate_update_organisation(
    org: Organisation,
    *,
    name: str = UNSET,
    kind: str = UNSET,
    place: Any = UNSET,
    address: str = UNSET,
    legal_representative: Person | None = UNSET,
    actor: Actor,
) -> dict[str, Any]:
    """The field changes :func:`do_update_organisation` would make, or its error (forms' clean)."""
    ensure_can_write_organisation(actor, org)
    changes: dict[str, Any] = {}
    if name is not UNSET:
        changes["name"] = _clean_name(name, field="name", max_length=120)
    if kind is not UNSET:
        if kind not in OrgKind.values:
            raise InvalidChoice(_("未知的组织类型：%(kind)s") % {"kind": kind}, field="kind")
        changes["kind"] = kind
    if address is not UNSET:
        changes["address"] = (address or "").strip()[:200]
    if place is not UNSET and place != org.place:
        # Moving an organisation needs a write role over the new place as well as the old.
        if not (place is None and (is_system(actor) or getattr(actor, "is_superuser", False))):
            ensure_can_file_at(actor, place, ORG_WRITE_ROLES, field="place")
        changes["place"] = place
    if legal_representative is not UNSET and legal_representative != org.legal_representative:
        if legal_representative is not None and not can_read_person(actor, legal_representative):
            raise PlaceOutOfScope(_("所选法定代表人不在您的管辖范围内"), field="legal_representative")
        changes["legal_representative"] = legal_representative
    return {key: value for key, value in changes.items() if getattr(org, key) != value}


def do_update_organisation(
    org: Organisation,
    *,
    name: str = UNSET,
    kind: str = UNSET,
    place: Any = UNSET,
    address: str = UNSET,
    legal_representative: Person | None = UNSET,
    actor: Actor,
) -> Organisation:
    """Change an organisation's name, kind, place, address or legal representative (not its USCC).

    Side effects: audit ``organisation.update`` with before/after.
    """
    changes = validate_update_organisation(
        org, name=name, kind=kind, place=place, address=address, legal_representative=legal_representative, actor=actor
    )
    if not changes:
        return org
    return _save_changes(org, changes, "organisation.update", _organisation_snapshot, lambda o: o.place, actor=actor)


def do_add_agent(org: Organisation, user: User, *, actor: Actor) -> Organisation:
    """Let ``user`` act for ``org`` (企业经办人). Side effects: audit ``organisation.add_agent``."""
    ensure_can_write_organisation(actor, org)
    with transaction.atomic():
        if not org.agents.filter(pk=user.pk).exists():
            org.agents.add(user)
            record_event(
                "organisation.add_agent",
                actor=actor,
                obj=org,
                place_path=_place_path(org.place),
                after={"user": user.username},
            )
        if org.place is not None:
            _grant_public_role(user, Role.ENTERPRISE_AGENT, org.place, actor=actor)
    return org


def do_remove_agent(org: Organisation, user: User, *, actor: Actor) -> Organisation:
    ensure_can_write_organisation(actor, org)
    with transaction.atomic():
        if org.agents.filter(pk=user.pk).exists():
            org.agents.remove(user)
            record_event(
                "organisation.remove_agent",
                actor=actor,
                obj=org,
                place_path=_place_path(org.place),
                after={"user": user.username},
            )
    return org


# --- Documents (证照/材料库) -----------------------------------------------------------------


def _megabytes(size: int) -> str:
    value = size / (1024 * 1024)
    return f"{value:.0f}" if value == int(value) else f"{value:.1f}"


def sniff_content_type(head: bytes) -> tuple[str, str] | None:
    for magic, content_type, ext in _SIGNATURES:
        if head.startswith(magic):
            return content_type, ext
    return None


def check_upload(uploaded: UploadedFile) -> tuple[str, str]:
    limit = settings.DOCUMENT_MAX_BYTES
    size = uploaded.size or 0
    if size > limit:
        raise FileTooLarge(
            _("文件过大：%(size)s MB，上限 %(limit)s MB") % {"size": _megabytes(size), "limit": _megabytes(limit)},
            field="file",
        )
    if size == 0:
        raise UnsupportedFileType(_("文件是空的"), field="file")
    uploaded.seek(0)
    head = uploaded.read(8)
    uploaded.seek(0)
    sniffed = sniff_content_type(head)
    if sniffed is None or sniffed[0] not in settings.DOCUMENT_ALLOWED_TYPES:
        raise UnsupportedFileType(_("不支持的文件类型：仅限 PDF、JPEG、PNG"), field="file")
    return sniffed


def _owner_fields(owner: Person | Organisation) -> dict[str, Any]:
    if isinstance(owner, Person):
        return {"person": owner}
    if isinstance(owner, Organisation):
        return {"organisation": owner}
    raise TypeError("a document belongs to a Person or an Organisation")


def _owner_place_path(owner: Person | Organisation) -> str:
    place = owner.home_place if isinstance(owner, Person) else owner.place
    return _place_path(place)


def _ensure_can_write_owner(actor: Actor, owner: Person | Organisation) -> None:
    if system_may(actor, "wallet.file") and not system_may(actor, "people.manage"):
        # Intake and result issuing file papers into a wallet (the step that caused it was
        # checked: the clerk's right to accept, the officer's decision); nothing else.
        return
    if isinstance(owner, Person):
        ensure_can_write_person(actor, owner)
    else:
        ensure_can_write_organisation(actor, owner)


def do_add_document(
    owner: Person | Organisation,
    doc_type: str,
    title: str,
    uploaded_file: UploadedFile | None = None,
    issued_on: date | None = None,
    expires_on: date | None = None,
    issuer: str = "",
    source: str = "",
    *,
    actor: Actor,
) -> Document:
    """Put a document in ``owner``'s wallet, with or without a scanned file.

    The file must be at most ``DOCUMENT_MAX_BYTES`` and a PDF, JPEG or PNG by its first bytes.
    It is stored under ``MEDIA_ROOT`` with a random name, with its SHA-256 and size. Bad input
    stores nothing — no row and no file on disk.
    Side effects: audit ``document.add``.
    """
    fields = _owner_fields(owner)
    _ensure_can_write_owner(actor, owner)
    if doc_type not in DocumentType.values:
        raise InvalidChoice(_("未知的材料类型：%(t)s") % {"t": doc_type}, field="doc_type")
    clean_title = _clean_name(title, field="title", max_length=120)
    if issued_on and expires_on and expires_on < issued_on:
        raise InvalidDates(_("有效期截止日（%(e)s）早于签发日（%(i)s）") % {"e": expires_on, "i": issued_on}, field="expires_on")
    doc = Document(
        doc_type=doc_type,
        title=clean_title,
        issuer=(issuer or "").strip()[:120],
        issued_on=issued_on,
        expires_on=expires_on,
        source=(source or "").strip()[:40],
        **fields,
    )
    stored_name = ""
    if uploaded_file is not None:
        content_type, ext = check_upload(uploaded_file)
        digest = hashlib.sha256()
        size = 0
        for chunk in uploaded_file.chunks():
            digest.update(chunk)
            size += len(chunk)
        # The declared size can lie (a streamed upload); the bytes actually read decide.
        if size > settings.DOCUMENT_MAX_BYTES:
            raise FileTooLarge(
                _("文件过大：%(size)s MB，上限 %(limit)s MB")
                % {"size": _megabytes(size), "limit": _megabytes(settings.DOCUMENT_MAX_BYTES)},
                field="file",
            )
        uploaded_file.seek(0)
        now = timezone.now()
        stored_name = default_storage.save(f"wallet/{now:%Y}/{now:%m}/{uuid.uuid4().hex}{ext}", uploaded_file)
        doc.file.name = stored_name
        doc.filename = (uploaded_file.name or "").replace("/", "_").replace("\\", "_")[-200:]
        doc.content_type = content_type
        doc.size = size
        doc.sha256 = digest.hexdigest()
    try:
        with transaction.atomic():
            doc.save()
            record_event(
                "document.add",
                actor=actor,
                obj=doc,
                place_path=_owner_place_path(owner),
                after={
                    "owner": [next(iter(fields)), owner.pk],
                    "doc_type": doc_type,
                    "title": clean_title,
                    "sha256": doc.sha256,
                    "size": doc.size,
                    "issued_on": issued_on,
                    "expires_on": expires_on,
                },
            )
    except BaseException:
        # The row did not commit: take the file back off the disk so nothing is left behind.
        if stored_name:
            default_storage.delete(stored_name)
        raise
    return doc


def do_revoke_document(document: Document, *, actor: Actor, reason: str = "") -> Document:
    """Withdraw a document from reuse (a wrong scan, a cancelled certificate). The file is kept."""
    owner: Person | Organisation = document.person if document.person_id else document.organisation  # type: ignore[assignment]
    _ensure_can_write_owner(actor, owner)
    if document.revoked_at is not None:
        return document
    with transaction.atomic():
        document.revoked_at = timezone.now()
        document.save(update_fields=["revoked_at"])
        record_event(
            "document.revoke",
            actor=actor,
            obj=document,
            place_path=_owner_place_path(owner),
            after={"reason": (reason or "")[:200]},
        )
    return document


# --- Consents (PIPL Art. 14: specific, informed, withdrawable) ------------------------------


def do_grant_consent(
    person: Person, purpose: str, channel: str = "", *, actor: Actor, text_version: str = "v1"
) -> Consent:
    """Record a person's consent for ``purpose``; granting an already standing consent is a no-op."""
    ensure_can_write_person(actor, person)
    if purpose not in ConsentPurpose.values:
        raise InvalidChoice(_("未知的授权事项：%(p)s") % {"p": purpose}, field="purpose")
    existing = Consent.objects.filter(person=person, purpose=purpose, withdrawn_at__isnull=True).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            consent = Consent.objects.create(
                person=person,
                purpose=purpose,
                channel=(channel or "")[:20],
                text_version=text_version[:20],
                granted_at=timezone.now(),
            )
            record_event(
                "consent.grant",
                actor=actor,
                obj=consent,
                place_path=_place_path(person.home_place),
                after={"person": person.pk, "purpose": purpose, "channel": channel, "text_version": text_version},
            )
    except IntegrityError:
        return Consent.objects.get(person=person, purpose=purpose, withdrawn_at__isnull=True)
    return consent


def do_withdraw_consent(consent: Consent, *, actor: Actor) -> Consent:
    """Withdraw a consent (as easy as giving it, PIPL Art. 15)."""
    ensure_can_write_person(actor, consent.person)
    if consent.withdrawn_at is not None:
        return consent
    with transaction.atomic():
        consent.withdrawn_at = timezone.now()
        consent.save(update_fields=["withdrawn_at"])
        record_event(
            "consent.withdraw",
            actor=actor,
            obj=consent,
            place_path=_place_path(consent.person.home_place),
            after={"person": consent.person_id, "purpose": consent.purpose},
        )
    return consent


# --- Self-registration (自助注册, issue 11) ----------------------------------------------------
# A resident opens their own online account: number, name, phone, community; the phone proves
# itself with a code (accounts.actions.do_request_signup_code); the account starts unverified.

# Self-registration writes the register and makes an account for nobody logged in yet: granted
# just those two, declared here where it is used.
SIGNUP = SystemActor("signup", frozenset({"accounts.manage", "people.manage"}))
# The real-name provider (accounts.realname) confirming an account.
REALNAME = SystemActor("realname", frozenset({"accounts.verify_identity"}))


def _signup_home_place(home_place: Any) -> Any:
    """The community a self-registering resident lives in (their resident role is held over it)."""
    from gongzhi.places.enums import PlaceKind
    from gongzhi.places.queries import valid_on

    if home_place is None or home_place.kind != PlaceKind.COMMUNITY or not valid_on(home_place, timezone.localdate()):
        raise InvalidChoice(_("请选择您居住的社区"), field="home_place")
    return home_place


def do_start_signup(number: str, name: str, phone: str, home_place: Any, *, address: str) -> Any:
    """Step 1: check the input and send a code to ``phone``, unless the number may not get a new
    account here. Returns the ``accounts.SignupCode`` row (its ticket goes into the session).

    Who gets a code: a number not on file; or a person on file with no account whose phone on
    record is the phone typed (the code then proves the phone the window wrote down). Otherwise —
    the number has an account, or its record has another phone or none — no code goes to the phone
    typed, a notice goes to the phone on record, and the answer is the same: nobody learns from
    this page whether a number is registered. Bad input raises the specific error, writes nothing.
    """
    from gongzhi.accounts.actions import check_phone, do_request_signup_code

    result, clean_name, _phone = _clean_person_input(number, name, None)
    clean = check_phone(phone)
    if not clean:
        raise InvalidPhone(_("请输入 11 位手机号码"), field="phone")
    place = _signup_home_place(home_place)
    bidx = blind_index(result.normalized, purpose="id")
    person = Person.objects.select_related("user").filter(number_bidx=bidx).first()
    send_code, notice = True, ""
    if person is not None:
        on_record = decrypt(person.phone_cipher) if person.phone_cipher else ""
        if person.user is not None:
            send_code = False
            user_phone = decrypt(person.user.phone_cipher) if person.user.phone_cipher else ""
            notice = user_phone or on_record
        elif person.phone_bidx != blind_index(clean, purpose="phone"):
            send_code, notice = False, on_record
    return do_request_signup_code(
        number=result.normalized, number_bidx=bidx, number_masked=result.masked, name=clean_name, phone=clean,
        home_place=place, address=address, send_code=send_code, notice_phone=notice,
    )


def do_complete_signup(ticket: str, code: str, username: str, password: str) -> User:
    """Step 2: the code from the message, a username and a password → the unverified account,
    linked to the person on file (or a new record) with the resident role over their community.

    Every check runs before anything is written: a wrong, expired, replayed or voided code, a
    taken username or a weak password each get their own message and change nothing (a wrong
    code counts one attempt). The code is used up in the same transaction that makes the
    account, so a retry never makes a second one. The real-name provider is then asked
    (``accounts.realname``); if it confirms, the account is verified at once.
    Side effects: audit ``account.signup``, ``user.create``, ``person.register`` /
    ``person.link_user``, ``role.assign``; possibly ``account.verify_identity``.
    """
    from gongzhi.accounts.actions import (
        check_new_account,
        check_signup_code,
        do_create_self_registered_user,
        do_verify_identity,
    )
    from gongzhi.accounts.realname import confirmed

    row = check_signup_code(ticket, code)
    clean_username = check_new_account(username, password)
    number = decrypt(row.number_cipher)
    phone = decrypt(row.phone_cipher)
    with transaction.atomic():
        user = do_create_self_registered_user(row, clean_username, password, actor=SIGNUP)
        person, _created = do_register_person_with_status(
            number, row.name, phone=phone, home_place=row.home_place, actor=SIGNUP
        )
        if person.user_id is not None:
            # Linked to an account since the code was sent: roll the whole registration back.
            raise AlreadyLinked(_("该证件号码已开通账号，请直接登录或到综合窗口办理"), field="number")
        if person.home_place is None and row.home_place is not None:
            do_update_person_contact(person, home_place=row.home_place, actor=SIGNUP)
        do_link_user_to_person(user, person, actor=SIGNUP)
    if confirmed(number, person.name):
        do_verify_identity(user, via="provider", actor=REALNAME)
    return user


def do_verify_account_at_window(person: Person, *, actor: Actor) -> User:
    """A window clerk has seen ``person``'s ID card: their online account is verified.

    Side effects: audit ``account.verify_identity`` (via ``window``).
    """
    from gongzhi.accounts.actions import do_verify_identity

    if person.user is None:
        raise InvalidChoice(_("该证件号码没有网上账户：请为申请人在窗口办理，或请其先在网上注册"), field="number")
    return do_verify_identity(person.user, via="window", actor=actor)


# --- community restructuring (places.RestructurePlan, core.registry.register_place_move) -------


def count_residents_at(place_ids: list[int]) -> int:
    return Person.objects.filter(home_place_id__in=place_ids).count()


def count_organisations_at(place_ids: list[int]) -> int:
    return Organisation.objects.filter(place_id__in=place_ids).count()


def move_residents(moves: dict[int, tuple[int, str]], effective: date) -> int:
    """A split or merge took effect: residents' home place follows to the successor place."""
    return sum(Person.objects.filter(home_place_id=old).update(home_place_id=new) for old, (new, _path) in moves.items())


def move_organisations(moves: dict[int, tuple[int, str]], effective: date) -> int:
    """Organisations (股份合作公司 among them) registered at a closed place follow to its successor."""
    return sum(Organisation.objects.filter(place_id=old).update(place_id=new) for old, (new, _path) in moves.items())
