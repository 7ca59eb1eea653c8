"""The demo loader builds the villages' share through the actions, once."""

from __future__ import annotations

import pytest

from gongzhi.core.tests.actors import SYSTEM

pytestmark = pytest.mark.django_db


def test_demo_loads_projects_housing_and_access() -> None:
    from gongzhi.accounts.demo import load_demo_users
    from gongzhi.places.demo import load_demo_places
    from gongzhi.villages.demo import load_demo_villages
    from gongzhi.villages.enums import DenyStatus
    from gongzhi.villages.models import (
        DenyEntry,
        FaceConsent,
        Project,
        RepairRequest,
        ResettlementRound,
        TalentRound,
    )

    load_demo_places(actor=SYSTEM)
    load_demo_users(actor=SYSTEM)
    load_demo_villages(actor=SYSTEM)
    load_demo_villages(actor=SYSTEM)  # idempotent
    floats = dict(Project.objects.values_list("code", "min_float"))
    assert floats["DEMO-ONTRACK"] >= 0 and floats["DEMO-LATE"] < 0
    assert Project.objects.get(code="DEMO-ATRISK").alerts.filter(kind="late_start").exists()
    assert TalentRound.objects.get().ranking
    assert ResettlementRound.objects.get().drawn_at
    assert FaceConsent.objects.filter(withdrawn_at__isnull=False).count() == 1
    assert DenyEntry.objects.get().status == DenyStatus.CONTESTED
    assert RepairRequest.objects.count() == 1
