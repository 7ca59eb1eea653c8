"""The hash-chained audit log: sealing after commit, verification naming the first broken link."""

from __future__ import annotations

import itertools

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from gongzhi.core.audit import record_event, seal_pending_events, verify_chain
from gongzhi.core.models import AuditEvent, ChainHead
from gongzhi.core.tests.actors import SYSTEM as TEST_SYSTEM

pytestmark = pytest.mark.django_db


def _events(n: int) -> list[AuditEvent]:
    return [
        record_event("test.verb", actor=TEST_SYSTEM, object_type="test.thing", object_id=i, after={"n": i, "名": "将石"})
        for i in range(n)
    ]


def test_events_are_written_unsealed_then_sealed_in_order() -> None:
    events = _events(5)
    assert all(e.chain_seq is None for e in events)
    assert seal_pending_events() == 5
    sealed = list(AuditEvent.objects.order_by("chain_seq"))
    assert [e.chain_seq for e in sealed] == [1, 2, 3, 4, 5]
    assert sealed[0].prev_hash == "0" * 64
    for a, b in itertools.pairwise(sealed):
        assert b.prev_hash == a.hash
    assert ChainHead.objects.get().last_seq == 5
    assert seal_pending_events() == 0
    report = verify_chain()
    assert report.ok and report.checked == 5


def test_later_events_extend_the_chain() -> None:
    _events(3)
    seal_pending_events()
    _events(2)
    seal_pending_events()
    assert verify_chain().checked == 5


def test_editing_a_stored_event_breaks_verify_and_names_it() -> None:
    events = _events(6)
    seal_pending_events()
    target = events[3]
    # Tamper directly in the database, as an attacker with SQL access would.
    AuditEvent.objects.filter(pk=target.pk).update(after={"n": 999})
    report = verify_chain()
    assert not report.ok
    assert report.first_break is not None
    assert report.first_break.event_id == target.pk
    assert report.first_break.chain_seq == 4
    with pytest.raises(CommandError) as err:
        call_command("audit", "verify")
    assert f"event id {target.pk}" in str(err.value)
    assert "chain position 4" in str(err.value)


def test_editing_a_hash_is_caught_at_the_next_link() -> None:
    events = _events(4)
    seal_pending_events()
    AuditEvent.objects.filter(pk=events[1].pk).update(verb="test.other")
    assert verify_chain().first_break.event_id == events[1].pk  # type: ignore[union-attr]


def test_deleting_an_event_is_detected() -> None:
    events = _events(4)
    seal_pending_events()
    AuditEvent.objects.filter(pk=events[2].pk).delete()
    report = verify_chain()
    assert not report.ok and report.first_break is not None
    assert report.first_break.chain_seq == 3


def test_truncating_the_tail_is_detected() -> None:
    events = _events(3)
    seal_pending_events()
    AuditEvent.objects.filter(pk=events[2].pk).delete()
    assert not verify_chain().ok


def test_verify_command_ok(capsys) -> None:  # type: ignore[no-untyped-def]
    _events(2)
    call_command("audit", "verify")
    assert "2 event(s) verified" in capsys.readouterr().out


def test_rolled_back_event_leaves_no_gap() -> None:
    from django.db import transaction

    _events(1)
    with pytest.raises(RuntimeError), transaction.atomic():
        _events(1)
        raise RuntimeError("rollback")
    _events(1)
    seal_pending_events()
    report = verify_chain()
    assert report.ok and report.checked == 2
