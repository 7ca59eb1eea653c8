"""Pages and API: scoped console, the lease form under the rule, the deal steps, public pages."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from django.test import Client

from gongzhi.assets import actions
from gongzhi.assets.models import Alert, Lease
from gongzhi.core.tests.authz_world import uscc

from .conftest import PERSON_NUMBER, TENANT_USCC
from .test_trading import at, listed_deal


def _form(estate: SimpleNamespace, area: str, number: str = TENANT_USCC, kind: str = "org", no: str = "W-1") -> dict[str, str]:
    return {"asset": str(estate.building.pk), "contract_no": no, "counterparty_kind": kind,
            "counterparty_name": "深圳某科技有限公司", "counterparty_number": number, "area": area,
            "monthly_rent": "20000", "deposit": "40000", "signed_on": "2026-03-01", "starts_on": "2026-03-01",
            "ends_on": "2029-02-28"}


def test_manager_registers_and_is_refused_with_reason(estate: SimpleNamespace, client: Client) -> None:
    client.force_login(estate.manager)
    url = f"/assets/companies/{estate.company.pk}/leases/new/"
    assert client.get(url).status_code == 200
    refused = client.post(url, _form(estate, "3000"))
    assert refused.status_code == 409
    assert "进场交易" in refused.content.decode() and not Lease.objects.exists()
    assert Alert.objects.filter(kind="off_platform").exists()
    bad = client.post(url, _form(estate, "100", number="123"))
    assert bad.status_code == 400
    ok = client.post(url, _form(estate, "100", number=PERSON_NUMBER, kind="person"))
    assert ok.status_code == 302
    page = client.get(f"/assets/companies/{estate.company.pk}/").content.decode()
    assert PERSON_NUMBER not in page and PERSON_NUMBER[:4] + "**********" + PERSON_NUMBER[-4:] in page
    console = client.get("/assets/")
    assert console.status_code == 200 and estate.company.name in console.content.decode()


def test_scope_and_roles(estate: SimpleNamespace, client: Client, make_user: Any) -> None:
    from gongzhi.accounts.enums import Role

    client.force_login(make_user(Role.ASSET_MANAGER, estate.tree.community_c))
    assert client.get(f"/assets/companies/{estate.company.pk}/").status_code == 404
    assert estate.company.name not in client.get("/assets/").content.decode()
    client.force_login(make_user(Role.DISTRICT_SUPERVISOR, estate.tree.nanshan))
    assert client.get(f"/assets/companies/{estate.company.pk}/").status_code == 200
    assert client.get(f"/assets/companies/{estate.company.pk}/leases/new/").status_code == 403
    client.force_login(make_user(Role.WINDOW_CLERK, estate.tree.community_a))
    assert client.get("/assets/").status_code == 403


def test_deal_steps_through_the_page_and_public_notice(estate: SimpleNamespace, client: Client) -> None:
    m = estate.manager
    deal = listed_deal(estate)
    reg = actions.do_register_bidder(deal, counterparty_kind="person", counterparty_number=PERSON_NUMBER,
                                     counterparty_name="李四", deposit_paid="50000", actor=m, at=at(date(2026, 3, 10)))
    actions.do_place_bid(deal, reg, "200000", idempotency_key="p1", actor=m, at=at(date(2026, 3, 11)))
    anon = Client()
    listing = anon.get(f"/assets/trading/{deal.pk}/")
    assert listing.status_code == 200 and "挂牌公告" in listing.content.decode()
    client.force_login(m)
    response = client.post(f"/assets/deals/{deal.pk}/step/", {"step": "award"})
    assert response.status_code == 302
    response = client.post(f"/assets/deals/{deal.pk}/step/", {"step": "notice"})
    assert response.status_code == 302
    bad = client.post(f"/assets/deals/{deal.pk}/step/", {"step": "contract", "contract_no": "C1", "starts_on": "x"})
    assert bad.status_code == 400
    ok = client.post(f"/assets/deals/{deal.pk}/step/", {"step": "contract", "contract_no": "C1", "starts_on": "2026-04-01"})
    assert ok.status_code == 302
    notice = anon.get(f"/assets/trading/{deal.pk}/").content.decode()
    assert "成交结果公告" in notice and "李某" in notice and "李四" not in notice and PERSON_NUMBER not in notice
    assert deal.title in anon.get("/").content.decode()  # reachable from the front door
    assert deal.title in anon.get("/assets/trading/").content.decode()
    api = anon.get("/api/v1/assets/public/deals").json()
    assert api[0]["winner"] == "李某"


def test_api_lease_refusal_and_alert_close(estate: SimpleNamespace, client: Client) -> None:
    client.force_login(estate.manager)
    body = {"asset_id": estate.units[0].pk, "contract_no": "API-1", "counterparty_kind": "org",
            "counterparty_number": uscc("91440300MA5G00031"), "counterparty_name": "乙公司", "area": "1600",
            "monthly_rent": "30000", "signed_on": "2026-03-01", "starts_on": "2026-03-01", "ends_on": "2028-02-29"}
    url = f"/api/v1/assets/companies/{estate.company.pk}/leases"
    assert client.post(url, json.dumps(body), content_type="application/json").status_code == 201
    second = {**body, "asset_id": estate.units[1].pk, "contract_no": "API-2"}
    refused = client.post(url, json.dumps(second), content_type="application/json")
    assert refused.status_code == 409 and refused.json()["detail"][0]["code"] == "must_trade_on_platform"
    alerts = client.get("/api/v1/assets/alerts").json()
    assert [a["kind"] for a in alerts] == ["split_deal"]
    closed = client.post(f"/api/v1/assets/alerts/{alerts[0]['id']}/close", json.dumps({"note": "已改为进场交易"}),
                         content_type="application/json")
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert client.post("/api/v1/assets/alerts/recompute").status_code == 403
    assert client.get("/api/v1/assets/companies").json()[0]["uscc"] == estate.company.uscc


def test_a_refused_lease_is_sent_to_a_new_deal(estate: SimpleNamespace, client: Client) -> None:
    client.force_login(estate.manager)
    url = f"/assets/companies/{estate.company.pk}/deals/new/"
    page = client.get(url + f"?asset={estate.building.pk}&area=3000")
    assert page.status_code == 200
    bad = client.post(url, {"asset": estate.building.pk, "title": "A栋", "area": "9000", "term_months": "36",
                            "mode": "open", "decision_ref": "决议", "decided_on": "2026-03-02"})
    assert bad.status_code == 400 and "资产面积" in bad.content.decode()
    ok = client.post(url, {"asset": estate.building.pk, "title": "A栋", "area": "3000", "term_months": "36",
                           "mode": "open", "decision_ref": "决议", "decided_on": "2026-03-02"})
    assert ok.status_code == 302
    from gongzhi.assets.models import Appraisal, Deal

    deal = Deal.objects.get()
    step = f"/assets/deals/{deal.pk}/step/"
    refused = client.post(step, {"step": "appraise", "appraised_on": "2026-03-05", "value": "-1", "appraiser": "某"})
    assert refused.status_code == 400 and not Appraisal.objects.exists()
    client.post(step, {"step": "appraise", "appraised_on": "2026-03-05", "value": "60000", "appraiser": "某评估"})
    deal.refresh_from_db()
    assert deal.status == "appraised" and deal.appraisal is not None


def test_rent_trend_against_the_district(estate: SimpleNamespace, client: Client, make_user: Any) -> None:
    from gongzhi.accounts.enums import Role
    from gongzhi.assets import queries

    from .test_leases import lease

    lease(estate, estate.units[0], "T-1", "1000", "30000")
    from gongzhi.core.tests.actors import SYSTEM

    other = actions.do_register_company(uscc("N2440305MA5F00077"), "南头城股份合作公司", estate.tree.community_c,
                                       actor=SYSTEM)

    b = actions.do_register_asset(other, "building", "NT-1", "南头楼", "industrial", "2000", actor=SYSTEM)
    actions.do_register_lease(other, b, counterparty_kind="org", counterparty_number=uscc("91440300MA5G00051"),
                              counterparty_name="丙", area="1000", monthly_rent="50000", signed_on=date(2026, 3, 1),
                              starts_on=date(2026, 3, 1), ends_on=date(2027, 2, 28), contract_no="NT-1", actor=SYSTEM)
    rows = queries.rent_trend(estate.manager)
    assert rows == [{"year": 2026, "use_type": "industrial", "use_label": "工业", "mine": Decimal("30.00"),
                     "district": Decimal("40.00")}]
    client.force_login(estate.manager)
    assert client.get("/api/v1/assets/analysis/rent-trend").json()[0]["district"] == "40.00"
    assert "全区" in client.get("/assets/").content.decode()
    assert queries.rent_trend(make_user(Role.WINDOW_CLERK, estate.place)) == []
