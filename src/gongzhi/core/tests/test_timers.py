"""Durable timers: rows claimed once, retried on failure, never duplicated."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from gongzhi.core import registry
from gongzhi.core.actions import claim_due_timers, do_cancel_timer, do_schedule_timer, run_timer
from gongzhi.core.enums import TimerStatus
from gongzhi.core.models import Timer
from gongzhi.core.worker import Worker

pytestmark = pytest.mark.django_db

FIRED: list[str] = []


def _handler(timer: Timer) -> None:
    if timer.payload.get("fail"):
        raise RuntimeError("boom")
    FIRED.append(timer.key)


@pytest.fixture(autouse=True)
def _register() -> None:
    FIRED.clear()
    registry.register_timer("test.fire", _handler)


def test_same_key_schedules_once() -> None:
    now = timezone.now()
    a = do_schedule_timer("test.fire", "k1", now)
    b = do_schedule_timer("test.fire", "k1", now + timedelta(days=1))
    assert a.pk == b.pk and Timer.objects.count() == 1


def test_only_due_timers_fire_once() -> None:
    now = timezone.now()
    do_schedule_timer("test.fire", "due", now - timedelta(seconds=1))
    do_schedule_timer("test.fire", "later", now + timedelta(hours=1))
    assert Worker(poll_seconds=0).tick() == 1
    assert FIRED == ["due"]
    assert Worker(poll_seconds=0).tick() == 0
    assert Timer.objects.get(key="due").status == TimerStatus.DONE
    assert Timer.objects.get(key="later").status == TimerStatus.PENDING


def test_second_worker_cannot_claim_a_claimed_timer() -> None:
    do_schedule_timer("test.fire", "race", timezone.now() - timedelta(seconds=1))
    first = claim_due_timers(worker_id="w1")
    second = claim_due_timers(worker_id="w2")
    assert [t.key for t in first] == ["race"] and second == []


def test_abandoned_claim_is_released() -> None:
    do_schedule_timer("test.fire", "stale", timezone.now() - timedelta(hours=1))
    claim_due_timers(worker_id="dead")
    later = timezone.now() + timedelta(hours=1)
    again = claim_due_timers(now=later, worker_id="alive")
    assert [t.key for t in again] == ["stale"]


def test_failure_is_recorded_and_retried() -> None:
    do_schedule_timer("test.fire", "bad", timezone.now() - timedelta(seconds=1), {"fail": True})
    (timer,) = claim_due_timers()
    assert run_timer(timer) is False
    timer.refresh_from_db()
    assert timer.status == TimerStatus.PENDING and timer.attempts == 1 and "boom" in timer.last_error
    assert timer.due_at > timezone.now()


def test_cancel() -> None:
    do_schedule_timer("test.fire", "c", timezone.now() - timedelta(seconds=1))
    assert do_cancel_timer("c") == 1
    assert claim_due_timers() == []
