"""Registering leases under the trading rule: edges, splitting, refusals recorded, terms, numbers."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest

from gongzhi.assets import actions
from gongzhi.assets.models import Alert, Lease, RentCharge
from gongzhi.core.errors import ActionError, NotFoundError
from gongzhi.core.models import AuditEvent
from gongzhi.core.tests.authz_world import uscc

from .conftest import PERSON_NUMBER, TENANT_USCC


def lease(estate: SimpleNamespace, asset: Any, no: str, area: str, rent: str = "10000", *, party: str = TENANT_USCC,
          kind: str = "org", signed: date = date(2026, 3, 1), ends: date = date(2029, 2, 28), actor: Any = None) -> Lease:
    return actions.do_register_lease(
        estate.company, asset, counterparty_kind=kind, counterparty_number=party, counterparty_name="深圳某科技有限公司",
        area=area, monthly_rent=rent, signed_on=signed, starts_on=signed, ends_on=ends, contract_no=no,
        actor=actor or estate.manager)


def test_just_below_the_threshold_registers(estate: SimpleNamespace) -> None:
    made = lease(estate, estate.building, "HT-1", "2999.99", "99999.99")
    assert made.area == Decimal("2999.99") and made.deal_id is None
    assert made.building_id == estate.building.pk and made.parcel_id == estate.land.pk
    assert AuditEvent.objects.filter(verb="asset.lease_register", object_id=str(made.pk)).exists()
    assert RentCharge.objects.filter(lease=made).exists()  # the ledger is posted to date


@pytest.mark.parametrize(("area", "rent"), [("3000", "1000"), ("100", "100000")])
def test_at_the_threshold_refused_and_recorded(estate: SimpleNamespace, area: str, rent: str) -> None:
    with pytest.raises(actions.MustTradeOnPlatform) as err:
        lease(estate, estate.building, "HT-2", area, rent)
    assert "进场交易" in err.value.message and err.value.status == 409
    assert not Lease.objects.exists()
    refused = AuditEvent.objects.get(verb="asset.lease_refused")
    assert refused.after["contract_no"] == "HT-2" and refused.actor_id == estate.manager.pk
    alert = Alert.objects.get(kind="off_platform")
    assert alert.owner == estate.manager and alert.status == "open" and alert.deadline


def test_two_leases_to_one_tenant_of_one_building_caught(estate: SimpleNamespace) -> None:
    lease(estate, estate.units[0], "HT-3", "1600", signed=date(2026, 3, 1))
    with pytest.raises(actions.MustTradeOnPlatform) as err:
        lease(estate, estate.units[1], "HT-4", "1600", signed=date(2026, 5, 1))
    assert "拆分" in err.value.message
    assert err.value.extra["grouped_by"] == "counterparty"
    assert Lease.objects.count() == 1
    alert = Alert.objects.get(kind="split_deal")
    assert alert.facts["related"] == [str(Lease.objects.get().pk)]


def test_another_tenant_in_another_unit_is_not_a_split(estate: SimpleNamespace) -> None:
    lease(estate, estate.units[0], "HT-5", "1600")
    lease(estate, estate.units[1], "HT-6", "1600", party=uscc("91440300MA5G00003"))
    assert Lease.objects.count() == 2


def test_term_beyond_twenty_years_refused(estate: SimpleNamespace) -> None:
    with pytest.raises(ActionError) as err:
        lease(estate, estate.units[0], "HT-7", "100", signed=date(2026, 1, 1), ends=date(2046, 1, 1))
    assert err.value.code == "term_too_long" and "二十年" in err.value.message
    assert lease(estate, estate.units[0], "HT-7", "100", signed=date(2026, 1, 1), ends=date(2045, 12, 31))


def test_person_counterparty_number_is_encrypted_indexed_masked(estate: SimpleNamespace) -> None:
    made = lease(estate, estate.units[0], "HT-8", "50", party=PERSON_NUMBER, kind="person")
    assert made.counterparty_uscc == ""
    assert PERSON_NUMBER not in made.counterparty_number_cipher
    assert made.counterparty_number_masked == PERSON_NUMBER[:4] + "*" * 10 + PERSON_NUMBER[-4:]
    assert made.counterparty_key == made.counterparty_number_bidx and len(made.counterparty_key) == 64
    event = AuditEvent.objects.get(verb="asset.lease_register")
    assert PERSON_NUMBER not in str(event.after)


def test_bad_input_is_refused_clearly(estate: SimpleNamespace) -> None:
    with pytest.raises(ActionError) as err:
        lease(estate, estate.units[0], "HT-9", "50", party="440305198001011230", kind="person")
    assert err.value.field == "counterparty_number"
    with pytest.raises(ActionError) as err:
        lease(estate, estate.units[0], "HT-9", "1700")
    assert err.value.field == "area"  # larger than the unit
    with pytest.raises(ActionError):
        lease(estate, estate.units[0], "HT-9", "abc")
    assert not Lease.objects.exists()


def test_outside_jurisdiction_is_not_found(estate: SimpleNamespace, make_user: Any) -> None:
    from gongzhi.accounts.enums import Role

    other = make_user(Role.ASSET_MANAGER, estate.tree.community_b)
    with pytest.raises(NotFoundError):
        lease(estate, estate.units[0], "HT-10", "50", actor=other)
    supervisor = make_user(Role.SUBDISTRICT_SUPERVISOR, estate.tree.taoyuan)
    with pytest.raises(ActionError) as err:
        lease(estate, estate.units[0], "HT-10", "50", actor=supervisor)
    assert err.value.status == 403


def test_reveal_needs_the_permission_and_is_audited(estate: SimpleNamespace, make_user: Any, client: Any) -> None:
    from gongzhi.accounts.enums import Role

    made = lease(estate, estate.units[0], "HT-R", "50", party=PERSON_NUMBER, kind="person")
    url = f"/assets/companies/{estate.company.pk}/leases/{made.pk}/reveal/"
    client.force_login(estate.manager)
    assert client.post(url, {"reason": "核对合同"}).status_code == 403
    allowed = make_user(Role.ASSET_MANAGER, estate.place, perms=["reveal_personal_number"])
    client.force_login(allowed)
    assert client.post(url, {"reason": ""}).status_code == 400
    shown = client.post(url, {"reason": "核对合同"})
    assert shown.status_code == 200 and PERSON_NUMBER in shown.content.decode()
    event = AuditEvent.objects.get(verb="asset.reveal")
    assert event.actor_id == allowed.pk and event.after["reason"] == "核对合同" and PERSON_NUMBER not in str(event.after)
    client.force_login(make_user(Role.ASSET_MANAGER, estate.tree.community_c, perms=["reveal_personal_number"]))
    assert client.post(url, {"reason": "核对合同"}).status_code == 404
