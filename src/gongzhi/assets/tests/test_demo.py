"""The living demo: built through the actions, idempotent, with every story the issue asks for."""

from __future__ import annotations

from typing import Any

import pytest

from gongzhi.assets.demo import load_demo_assets
from gongzhi.assets.models import Alert, Company, Deal, Lease
from gongzhi.core.models import AuditEvent
from gongzhi.core.tests.actors import SYSTEM

pytestmark = pytest.mark.django_db


def test_demo_tells_every_story_and_is_idempotent(place_tree: Any) -> None:
    from gongzhi.accounts.demo import load_demo_users

    load_demo_users(actor=SYSTEM)
    messages: list[str] = []
    load_demo_assets(actor=SYSTEM, progress=messages.append)
    assert Company.objects.count() == 2
    finished = Deal.objects.get(status="contracted")
    assert finished.lease.monthly_rent == finished.awarded_bid.monthly_rent
    assert finished.registrations.count() == 3
    assert Deal.objects.filter(status="listed").exists()
    assert AuditEvent.objects.filter(verb="asset.lease_refused").count() == 1
    kinds = set(Alert.objects.filter(status="open").values_list("kind", flat=True))
    assert {"split_deal", "arrears", "expiring", "below_benchmark", "vacant"} <= kinds, kinds
    assert all(a.owner is not None for a in Alert.objects.filter(company__name__startswith="深圳市平山"))
    assert Lease.objects.filter(counterparty_kind="person").exists()
    before = (Company.objects.count(), Lease.objects.count(), Alert.objects.count())
    load_demo_assets(actor=SYSTEM)
    assert before == (Company.objects.count(), Lease.objects.count(), Alert.objects.count())
