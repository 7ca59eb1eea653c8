"""core.clock: the actions' clock, frozen for the demo's replay of simulated time."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from django.utils import timezone

from gongzhi.core import clock
from gongzhi.core.audit import record_event
from gongzhi.core.models import AuditEvent
from gongzhi.core.tests.actors import SYSTEM

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_frozen_at_sets_now_and_local_date_and_restores() -> None:
    assert not clock.is_frozen()
    when = datetime(2026, 3, 1, 23, 30, tzinfo=SHANGHAI)
    with clock.frozen_at(when):
        assert clock.now() == when and clock.is_frozen()
        assert clock.localdate() == date(2026, 3, 1)  # the local day, not UTC's (15:30 the same day)
        later = datetime(2026, 3, 2, 8, 0, tzinfo=SHANGHAI)
        with clock.frozen_at(later):
            assert clock.now() == later
        assert clock.now() == when
    assert not clock.is_frozen()
    assert abs((clock.now() - timezone.now()).total_seconds()) < 5


def test_frozen_at_refuses_a_naive_time() -> None:
    with pytest.raises(ValueError), clock.frozen_at(datetime(2026, 3, 1, 9, 0)):
        pass


def test_frozen_at_is_restored_after_an_error() -> None:
    with pytest.raises(RuntimeError), clock.frozen_at(datetime(2026, 3, 1, 9, 0, tzinfo=SHANGHAI)):
        raise RuntimeError("boom")
    assert not clock.is_frozen()


@pytest.mark.django_db
def test_actions_write_the_frozen_time() -> None:
    when = datetime(2026, 2, 3, 10, 0, tzinfo=SHANGHAI)
    with clock.frozen_at(when), transaction.atomic():
        event = record_event("clock.test", actor=SYSTEM)
    assert AuditEvent.objects.get(pk=event.pk).created_at == when
