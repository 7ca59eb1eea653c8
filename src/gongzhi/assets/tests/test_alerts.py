"""Each alert: found by the recomputation, owned, with a deadline, closed with a note."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace
from typing import Any

import pytest

from gongzhi.assets import actions
from gongzhi.assets.models import Alert, Lease, RentCharge
from gongzhi.core.errors import ActionError
from gongzhi.core.models import AuditEvent
from gongzhi.core.tests.actors import SYSTEM
from gongzhi.core.tests.authz_world import uscc

from .conftest import TENANT_USCC
from .test_leases import lease


def kinds() -> set[str]:
    return set(Alert.objects.values_list("kind", flat=True))


def _imported(estate: SimpleNamespace, asset: Any, no: str, area: str, rent: str, party: str,
              signed: date, ends: date) -> Lease:
    # Books imported from before the platform: leases that never passed the rule (written as the
    # import would, bypassing the refusal), which monitoring must still find.
    party_fields = actions.counterparty("org", party, "旧账承租方").fields()
    building, parcel = actions._building_and_parcel(asset)
    return Lease.objects.create(company=estate.company, asset=asset, building=building, parcel=parcel,
                                contract_no=no, area=area, monthly_rent=rent, signed_on=signed, starts_on=signed,
                                ends_on=ends, **party_fields)


def test_off_platform_split_and_term_found_in_old_books(estate: SimpleNamespace) -> None:
    _imported(estate, estate.building, "OLD-1", "5000", "50000", uscc("91440300MA5G00021"), date(2020, 1, 1),
              date(2041, 12, 31))
    _imported(estate, estate.units[0], "OLD-2", "1600", "30000", uscc("91440300MA5G00022"), date(2026, 1, 1),
              date(2027, 12, 31))
    _imported(estate, estate.units[1], "OLD-3", "1600", "30000", uscc("91440300MA5G00022"), date(2026, 2, 1),
              date(2027, 12, 31))
    actions.do_recompute_alerts(actor=SYSTEM, today=date(2026, 6, 1))
    assert {"off_platform", "split_deal", "term_too_long"} <= kinds()
    split = Alert.objects.get(kind="split_deal")
    assert split.lease.contract_no == "OLD-3"
    # Idempotent: a second run opens nothing new.
    assert actions.do_recompute_alerts(actor=SYSTEM, today=date(2026, 6, 1)).opened == 0
    # Opened in a batch, each still with its owner and its own audit event.
    from gongzhi.core.models import AuditEvent

    assert split.owner_id == estate.manager.pk
    opened_keys = {e.after["key"] for e in AuditEvent.objects.filter(verb="asset.alert_open")}
    assert set(Alert.objects.values_list("key", flat=True)) <= opened_keys


def test_arrears_expiry_benchmark_vacancy(estate: SimpleNamespace) -> None:
    made = lease(estate, estate.units[0], "HT-A", "1000", "20000", signed=date(2026, 1, 1), ends=date(2026, 12, 31))
    for charge in RentCharge.objects.filter(lease=made).order_by("period")[:3]:
        actions.do_record_payment(charge, "20000", charge.due_on, actor=estate.manager)
    actions.do_set_benchmark(estate.tree.taoyuan, "industrial", "25", date(2026, 1, 1), actor=SYSTEM)
    # 2,600 m² of units 2–4 were registered vacant when the fixture ran (today): make one long empty.
    from gongzhi.assets.models import Asset

    Asset.objects.filter(pk=estate.units[3].pk).update(vacant_since=date(2026, 1, 1))
    actions.do_recompute_alerts(actor=SYSTEM, today=date(2026, 10, 15))
    found = kinds()
    assert {"arrears", "expiring", "below_benchmark", "vacant"} <= found
    arrears = Alert.objects.get(kind="arrears")
    assert arrears.facts["owed"] == "140000.00"  # April–October, each due on the 1st
    expiring = Alert.objects.get(kind="expiring")
    assert expiring.key.endswith(":90")
    actions.do_recompute_alerts(actor=SYSTEM, today=date(2026, 12, 2))
    assert Alert.objects.filter(kind="expiring").count() == 2  # the 30-day step opens a new one


def test_a_retender_under_way_silences_the_expiry(estate: SimpleNamespace) -> None:
    lease(estate, estate.units[0], "HT-B", "1000", "40000", signed=date(2026, 1, 1), ends=date(2026, 12, 31))
    actions.do_open_deal(estate.company, estate.units[0], "A栋1层重新招租", "1000", 36, decision_ref="决议第5号",
                         decided_on=date(2026, 9, 1), actor=estate.manager)
    actions.do_recompute_alerts(actor=SYSTEM, today=date(2026, 10, 15))
    assert "expiring" not in kinds()


def test_close_with_a_note(estate: SimpleNamespace, make_user: Any) -> None:
    from gongzhi.accounts.enums import Role

    with pytest.raises(actions.MustTradeOnPlatform):
        lease(estate, estate.building, "HT-C", "5000", party=TENANT_USCC)
    alert = Alert.objects.get()
    assert alert.owner == estate.manager
    with pytest.raises(ActionError):
        actions.do_close_alert(alert, "  ", actor=estate.manager)
    outsider = make_user(Role.ASSET_MANAGER, estate.tree.community_c)
    with pytest.raises(ActionError) as err:
        actions.do_close_alert(alert, "已处理", actor=outsider)
    assert err.value.status == 404
    supervisor = make_user(Role.SUBDISTRICT_SUPERVISOR, estate.tree.taoyuan)
    actions.do_close_alert(alert, "已约谈公司负责人，改为进场交易", actor=supervisor)
    alert.refresh_from_db()
    assert alert.status == "closed" and alert.closed_by == supervisor and "进场" in alert.closing_note
    assert AuditEvent.objects.filter(verb="asset.alert_close", object_id=str(alert.pk)).exists()
    with pytest.raises(ActionError):
        actions.do_close_alert(alert, "again", actor=supervisor)


def test_only_supervisors_recompute(estate: SimpleNamespace) -> None:
    with pytest.raises(ActionError):
        actions.do_recompute_alerts(actor=estate.manager)


def test_the_daily_timer_posts_rent_and_recomputes(estate: SimpleNamespace) -> None:
    from gongzhi.core.actions import claim_due_timers, run_timer
    from gongzhi.core.models import Timer

    with pytest.raises(actions.MustTradeOnPlatform):
        lease(estate, estate.building, "HT-D", "5000", party=TENANT_USCC)
    Alert.objects.all().delete()
    actions._armed_for.clear()
    actions.arm_daily_monitoring()
    actions.arm_daily_monitoring()  # once a day
    timer = Timer.objects.get(kind=actions.DAILY_TIMER)
    from datetime import timedelta

    from django.utils import timezone

    claimed = claim_due_timers(now=timer.due_at + timedelta(seconds=1))
    assert [t.pk for t in claimed] == [timer.pk]
    assert run_timer(claimed[0])
    assert timezone.now() and Timer.objects.get(pk=timer.pk).status == "done"
