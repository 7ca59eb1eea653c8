"""The living demo (services/demo_cases.py): ninety days of cases through the actions, every state
present, every routed department staffed, the same counts for the same seed, a second run a no-op."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from django.utils import timezone

from gongzhi.accounts.demo import load_demo_users
from gongzhi.accounts.enums import Role
from gongzhi.accounts.models import RoleAssignment, User
from gongzhi.core import clock
from gongzhi.core.enums import TimerStatus
from gongzhi.core.models import AuditEvent, Timer
from gongzhi.core.tests.actors import SYSTEM as TEST_SYSTEM
from gongzhi.people.demo import load_demo_people
from gongzhi.people.models import Document, Organisation, Person
from gongzhi.services.demo import load_demo_catalog
from gongzhi.services.demo_cases import DAYS, _routed_departments, load_demo_cases
from gongzhi.services.models import (
    Accountability,
    Appeal,
    Case,
    Rectification,
    Review,
    SupplementRequest,
    Task,
)

pytestmark = pytest.mark.django_db(transaction=False)

END = datetime(2026, 11, 27, 18, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
SIZE = 260
SEED = 11


@pytest.fixture
def demo_base(place_tree: SimpleNamespace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GONGZHI_DEMO_CASES", raising=False)
    load_demo_users(actor=TEST_SYSTEM)
    load_demo_people(actor=TEST_SYSTEM)
    load_demo_catalog(actor=TEST_SYSTEM)


def snapshot() -> dict[str, Any]:
    """What the demo made, as counts (case numbers are random by design; counts are not)."""
    return {
        "case_status": Counter(Case.objects.values_list("status", flat=True)),
        "case_sla": Counter(Case.objects.values_list("sla", flat=True)),
        "channel": Counter(Case.objects.values_list("channel", flat=True)),
        "delivery": Counter(Case.objects.values_list("delivery_method", flat=True)),
        "task_status": Counter(Task.objects.values_list("status", flat=True)),
        "accountability": Counter(Accountability.objects.values_list("step", flat=True)),
        "supplements": Counter(SupplementRequest.objects.filter(fulfilled_at__isnull=True).values_list("case__status", flat=True)),
        "fulfilled": SupplementRequest.objects.filter(fulfilled_at__isnull=False).count(),
        "reviews": Counter(Review.objects.values_list("level", flat=True)),
        "rectifications": Counter(Rectification.objects.values_list("status", flat=True)),
        "appeals": Counter(Appeal.objects.values_list("status", flat=True)),
        "timers": Counter(Timer.objects.values_list("status", flat=True)),
        "users": User.objects.count(), "persons": Person.objects.count(),
        "organisations": Organisation.objects.count(), "documents": Document.objects.count(),
        "instant": Case.objects.filter(instant=True).count(), "gaps": Case.objects.filter(with_gaps=True).count(),
    }


def test_demo_cases_cover_every_state_staff_every_department_and_repeat(demo_base: None) -> None:
    # Same seed, same size, same end: the same counts (the first run is rolled back).
    with transaction.atomic():
        load_demo_cases(actor=TEST_SYSTEM, cases=SIZE, seed=SEED, end=END)
        first = snapshot()
        transaction.set_rollback(True)
    assert Case.objects.count() == 0
    load_demo_cases(actor=TEST_SYSTEM, cases=SIZE, seed=SEED, end=END)
    second = snapshot()
    assert second == first

    cases = Case.objects.count()
    assert SIZE * 0.85 <= cases <= SIZE * 1.2
    # Every state of a case's life is there.
    assert set(second["case_status"]) >= {"accepted", "in_progress", "supplement", "approved", "rejected", "delivered"}
    assert {"window", "mail", "electronic"} <= set(second["delivery"])
    assert {"window", "online"} <= set(second["channel"])
    assert {"pending", "claimed", "supplement", "approved", "rejected", "defaulted"} <= set(second["task_status"])
    assert second["fulfilled"] > 0 and second["supplements"]["supplement"] > 0  # answered, and still waiting
    assert {"on_track", "warning", "overdue"} <= set(second["case_sla"])
    assert second["instant"] > 0
    # Overdue tasks were found by the SLA timers (the worker's sweep), each with its trace.
    assert Accountability.objects.exists() and Timer.objects.filter(status=TimerStatus.DONE).exists()
    for record in Accountability.objects.select_related("task"):
        assert isinstance(record.trace, list) and timezone.localtime(record.detected_at).date() > record.deadline
    assert AuditEvent.objects.filter(verb="task.overdue", actor_label="worker").count() == Task.objects.filter(
        sla="overdue").count()
    assert any(level >= 4 for level in second["reviews"]) and any(level <= 2 for level in second["reviews"])
    assert {"done", "open"} <= set(second["rectifications"])
    assert {"upheld", "dismissed"} <= set(second["appeals"])
    # In the past ninety days, nothing in the future.
    first_day = Case.objects.order_by("accepted_at").values_list("accepted_at", flat=True).first()
    last_day = Case.objects.order_by("-accepted_at").values_list("accepted_at", flat=True).first()
    assert first_day is not None and last_day is not None
    assert (END - first_day).days <= DAYS and last_day <= END
    assert not Case.objects.filter(closed_at__gt=END).exists()
    assert not AuditEvent.objects.filter(created_at__gt=clock.now()).exists()
    # Every department a demo item routes to has an officer.
    for dept in _routed_departments():
        assert RoleAssignment.objects.filter(role=Role.DEPARTMENT_OFFICER, department=dept).exists(), dept.code
    # The printed demo logins have cases of their own.
    assert Case.objects.filter(applicant_person__user__username="resident").exists()

    # A second run changes nothing at all.
    events = AuditEvent.objects.count()
    logins = load_demo_cases(actor=TEST_SYSTEM, cases=SIZE, seed=SEED, end=END)
    assert snapshot() == second
    assert AuditEvent.objects.count() == events
    assert any(username.startswith("officer_") for username, *_rest in logins)
