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


def test_batch_claim_returns_due_order_and_marks_the_claim() -> None:
    now = timezone.now()
    for i in range(5):
        do_schedule_timer("test.fire", f"b{i}", now - timedelta(minutes=10 - i))
    claimed = claim_due_timers(now=now, worker_id="w1")
    assert [t.key for t in claimed] == [f"b{i}" for i in range(5)]
    assert all(t.status == TimerStatus.RUNNING and t.claimed_by == "w1" and t.claimed_at == now for t in claimed)


@pytest.mark.parametrize("returning", [True, False], ids=["update-returning", "row-by-row"])
def test_batch_claim_never_hands_a_timer_to_two_workers(returning: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    from gongzhi.core import actions

    if not returning:
        monkeypatch.setattr(actions, "_update_returning", lambda conn: False)
    now = timezone.now()
    ids = [do_schedule_timer("test.fire", f"r{i}", now - timedelta(seconds=1)).pk for i in range(6)]
    # Worker 1 claims half of them between worker 2's read of the candidates and its UPDATE.
    assert actions._claim(ids[:3], now, "w1") == set(ids[:3])
    assert actions._claim(ids, now, "w2") == set(ids[3:])
    assert actions._claim(ids, now, "w3") == set()
    owners = dict(Timer.objects.values_list("id", "claimed_by"))
    assert [owners[i] for i in ids] == ["w1"] * 3 + ["w2"] * 3


def test_claims_of_two_workers_do_not_overlap() -> None:
    now = timezone.now()
    for i in range(7):
        do_schedule_timer("test.fire", f"s{i}", now - timedelta(seconds=1))
    first = claim_due_timers(now=now, limit=4, worker_id="w1")
    second = claim_due_timers(now=now, limit=4, worker_id="w2")
    assert len(first) == 4 and len(second) == 3
    assert not {t.pk for t in first} & {t.pk for t in second}


def test_a_failing_timer_in_a_batch_does_not_affect_the_others() -> None:
    now = timezone.now()
    do_schedule_timer("test.fire", "ok1", now - timedelta(seconds=3))
    do_schedule_timer("test.fire", "bad", now - timedelta(seconds=2), {"fail": True})
    do_schedule_timer("test.fire", "ok2", now - timedelta(seconds=1))
    assert Worker(poll_seconds=0).tick() == 3
    assert FIRED == ["ok1", "ok2"]
    assert Timer.objects.get(key="ok1").status == TimerStatus.DONE
    assert Timer.objects.get(key="ok2").status == TimerStatus.DONE
    bad = Timer.objects.get(key="bad")
    assert bad.status == TimerStatus.PENDING and bad.attempts == 1 and "boom" in bad.last_error
    assert bad.due_at > timezone.now() + timedelta(seconds=20)  # retried after a 30 s backoff


def test_a_timer_that_keeps_failing_is_failed_after_five_attempts() -> None:
    timer = do_schedule_timer("test.fire", "always", timezone.now() - timedelta(seconds=1), {"fail": True})
    for attempt in range(1, 6):
        Timer.objects.filter(pk=timer.pk).update(due_at=timezone.now() - timedelta(seconds=1))
        (claimed,) = claim_due_timers()
        assert run_timer(claimed) is False
        timer.refresh_from_db()
        assert timer.attempts == attempt
    assert timer.status == TimerStatus.FAILED
    assert claim_due_timers(now=timezone.now() + timedelta(days=1)) == []


def test_the_batch_claim_looks_timers_up_by_id_not_by_status() -> None:
    """With millions of pending timers, a claim must touch only the ids it names (SQLite, having
    no statistics, otherwise walks the whole status index)."""
    from django.db import connection

    from gongzhi.core.actions import _claim_sql

    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL plans with statistics; the hint is SQLite's")
    sql = _claim_sql(connection, 3).replace("%s", "?")
    with connection.cursor() as cur:
        plan = " ".join(str(row) for row in cur.connection.execute(
            "EXPLAIN QUERY PLAN " + sql, ["running", "w", "2026-01-01", 1, 2, 3, "pending"]))
    assert "PRIMARY KEY" in plan and "timer_due_idx" not in plan, plan


@pytest.mark.parametrize("shortcuts", [True, False], ids=["on", "off"])
def test_the_setting_switches_the_batch_claim_to_the_orm(shortcuts: bool) -> None:
    from django.db import connection
    from django.test import override_settings
    from django.test.utils import CaptureQueriesContext

    from gongzhi.core import actions

    now = timezone.now()
    ids = [do_schedule_timer("test.fire", f"s{i}", now - timedelta(seconds=1)).pk for i in range(3)]
    with override_settings(GONGZHI_DB_SHORTCUTS=shortcuts), CaptureQueriesContext(connection) as q:
        assert actions._claim(ids, now, "w1") == set(ids)
    # On: one UPDATE … RETURNING for the batch; off: the ORM's conditional UPDATE per timer.
    assert len(q.captured_queries) == (1 if shortcuts else 3)
