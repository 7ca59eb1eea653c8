"""The platform-wide, hash-chained audit log.

Writing: ``record_event`` inserts an unsealed row inside the caller's transaction — no lock on
any shared row, so the audit log never serialises the write path.

Sealing: ``seal_pending_events`` (run by the worker every tick, and before ``verify``) takes the
committed unsealed rows in id order, gives each the next ``chain_seq`` and
``hash = sha256(prev_hash ‖ canonical body)``. Chain order is the order the sealer first sees a
row, so a transaction that commits late simply lands later in the chain (as in Certificate
Transparency logs: entries are sequenced after submission with a bounded merge delay).

Verifying: ``verify_chain`` recomputes every link in ``chain_seq`` order and names the first
broken one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ParamSpec

from django.db import transaction

from gongzhi.core import clock
from gongzhi.core.actors import Actor, SystemActor
from gongzhi.core.db.inserts import insert
from gongzhi.core.db.updates import update_fields
from gongzhi.core.models import AuditEvent, ChainHead

GENESIS = "0" * 64
SEAL_BATCH = 500
P = ParamSpec("P")


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return str(value)


def jsonable(data: Any) -> Any:
    """Round-trip through JSON so what is hashed is exactly what the JSON column stores."""
    if data is None:
        return None
    return json.loads(json.dumps(data, default=_default, ensure_ascii=False, sort_keys=True))


def canonical_body(event: AuditEvent) -> bytes:
    body = {
        "seq": event.chain_seq,
        "id": event.pk,
        "at": event.created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "actor": event.actor_id,
        "actor_label": event.actor_label,
        "verb": event.verb,
        "object": [event.object_type, event.object_id],
        "place": event.place_path,
        "before": event.before,
        "after": event.after,
    }
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def link_hash(prev_hash: str, event: AuditEvent) -> str:
    return hashlib.sha256(prev_hash.encode() + canonical_body(event)).hexdigest()


def new_event(
    verb: str,
    *,
    actor: Actor | None = None,
    obj: Any = None,
    object_type: str = "",
    object_id: str | int = "",
    place_path: str = "",
    before: Any = None,
    after: Any = None,
) -> AuditEvent:
    """An event not yet stored: built before a write transaction, stored inside it with
    ``record_events`` (intake keeps SQLite's single write lock only for the inserts).
    ``object_id`` may be set once the object has its primary key."""
    if obj is not None:
        object_type = object_type or f"{obj._meta.app_label}.{obj._meta.model_name}"
        object_id = object_id or (obj.pk if obj.pk is not None else "")
    label = ""
    actor_id = None
    if isinstance(actor, SystemActor):
        label = actor.label  # "worker", or "intake:clerk_li" for a step on a user's behalf
        if actor.on_behalf_of is not None:
            actor_id = actor.on_behalf_of.pk
    elif isinstance(actor, str):
        # Before SystemActor any string was an all-powerful actor; a string now is a bug.
        raise TypeError(f"actor must be a user or a core.actors.SystemActor, not the string {actor!r}")
    elif actor is not None and getattr(actor, "is_authenticated", False):
        actor_id = actor.pk
        label = actor.get_username()
    return AuditEvent(
        created_at=clock.now(),
        actor_id=actor_id,
        actor_label=label[:150],
        verb=verb,
        object_type=object_type,
        object_id=str(object_id),
        place_path=place_path,
        before=jsonable(before),
        after=jsonable(after),
    )


def _stored(make: Callable[P, AuditEvent]) -> Callable[P, AuditEvent]:
    def store(*args: P.args, **kwargs: P.kwargs) -> AuditEvent:
        event = make(*args, **kwargs)
        insert([event])  # every action writes one: the statement is compiled once (core/db/inserts.py)
        return event

    return store


record_event = _stored(new_event)
"""Append one event now (arguments as ``new_event``). Call from inside an action's transaction."""


def record_events(events: list[AuditEvent]) -> None:
    """Store events built by ``new_event`` (call inside the action's transaction)."""
    if any(not e.object_id and e.object_type for e in events):
        raise ValueError("an audit event names an object type but no object id")
    insert(events)


def seal_pending_events(limit: int = 10_000) -> int:
    """Link committed unsealed events into the chain; returns how many were sealed."""
    if not AuditEvent.objects.filter(chain_seq__isnull=True).exists():
        return 0
    sealed = 0
    while sealed < limit:
        with transaction.atomic():
            head, _ = ChainHead.objects.select_for_update().get_or_create(id=1)
            batch = list(AuditEvent.objects.filter(chain_seq__isnull=True).order_by("id")[:SEAL_BATCH])
            if not batch:
                break
            seq, prev = head.last_seq, head.last_hash
            for event in batch:
                seq += 1
                event.chain_seq = seq
                event.prev_hash = prev
                event.hash = link_hash(prev, event)
                prev = event.hash
            update_fields(batch, ["chain_seq", "prev_hash", "hash"])  # not bulk_update: see core/db/updates.py
            head.last_seq, head.last_hash = seq, prev
            head.save(update_fields=["last_seq", "last_hash", "updated_at"])
            sealed += len(batch)
    return sealed


@dataclass(frozen=True)
class ChainBreak:
    event_id: int | None
    chain_seq: int
    reason: str


@dataclass(frozen=True)
class VerifyReport:
    checked: int
    unsealed: int
    first_break: ChainBreak | None

    @property
    def ok(self) -> bool:
        return self.first_break is None


def _iter_chain() -> Iterator[AuditEvent]:
    last = 0
    while True:
        batch = list(AuditEvent.objects.filter(chain_seq__gt=last).order_by("chain_seq")[:2000])
        if not batch:
            return
        yield from batch
        last = batch[-1].chain_seq or last


def verify_chain() -> VerifyReport:
    """Recompute every link; report the first event whose stored hash or position is wrong."""
    prev = GENESIS
    expected_seq = 1
    checked = 0
    for event in _iter_chain():
        if event.chain_seq != expected_seq:
            return VerifyReport(
                checked,
                0,
                ChainBreak(event.pk, expected_seq, f"链位 {expected_seq} 缺失（事件被删除？）/ chain position {expected_seq} is missing"),
            )
        if event.prev_hash != prev:
            return VerifyReport(
                checked,
                0,
                ChainBreak(event.pk, expected_seq, "前一哈希不符 / previous-hash link does not match"),
            )
        if link_hash(prev, event) != event.hash:
            return VerifyReport(
                checked,
                0,
                ChainBreak(event.pk, expected_seq, "内容与哈希不符（事件被改动）/ content does not match its hash (event altered)"),
            )
        prev = event.hash
        expected_seq += 1
        checked += 1
    head = ChainHead.objects.filter(id=1).first()
    if head is not None and head.last_seq != checked:
        return VerifyReport(
            checked,
            0,
            ChainBreak(None, checked + 1, f"链尾应为第 {head.last_seq} 条，实际只有 {checked} 条 / chain truncated"),
        )
    unsealed = AuditEvent.objects.filter(chain_seq__isnull=True).count()
    return VerifyReport(checked, unsealed, None)
