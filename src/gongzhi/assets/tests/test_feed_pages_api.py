"""Feed runs on the pages and the API (supervisors), the command, and the public OCDS export."""

from __future__ import annotations

import json
from datetime import date
from io import StringIO
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client

from gongzhi.assets import actions
from gongzhi.assets.models import FeedRun

from .conftest import PERSON_NUMBER
from .test_feed_runs import FIXTURES, _bytes
from .test_trading import at, listed_deal

pytestmark = pytest.mark.django_db


@pytest.fixture
def supervisor(place_tree: SimpleNamespace, make_user: Any) -> Any:
    from gongzhi.accounts.enums import Role

    return make_user(Role.DISTRICT_SUPERVISOR, place_tree.nanshan)


def test_supervisor_uploads_a_file_and_reads_the_run(supervisor: Any, estate: SimpleNamespace, client: Client) -> None:
    client.force_login(supervisor)
    assert client.get("/assets/feeds/").status_code == 200
    upload = SimpleUploadedFile("exchange_broken.csv", _bytes("exchange_broken.csv"), content_type="text/csv")
    response = client.post("/assets/feeds/", {"source": "exchange", "file": upload})
    assert response.status_code == 302
    run = FeedRun.objects.get()
    page = client.get(f"/assets/feeds/{run.pk}/").content.decode()
    assert "第" in page and "440309198001010018" not in page
    again = SimpleUploadedFile("x.csv", _bytes("exchange_broken.csv"), content_type="text/csv")
    dup = client.post("/assets/feeds/", {"source": "exchange", "file": again})
    assert dup.status_code == 409 and FeedRun.objects.count() == 1
    assert client.post("/assets/feeds/", {"source": "nowhere"}).status_code == 400
    assert "/assets/feeds/" in client.get("/assets/").content.decode()


def test_managers_do_not_see_feeds(estate: SimpleNamespace, client: Client) -> None:
    client.force_login(estate.manager)
    assert client.get("/assets/feeds/").status_code == 403
    assert client.get("/api/v1/assets/feeds").json() == []
    upload = SimpleUploadedFile("e.csv", _bytes("exchange_good.csv"))
    assert client.post("/api/v1/assets/feeds/exchange/import", {"file": upload}).status_code == 403
    assert FeedRun.objects.count() == 0


def test_api_import_pull_and_read(supervisor: Any, estate: SimpleNamespace, client: Client) -> None:
    client.force_login(supervisor)
    upload = SimpleUploadedFile("p.json", _bytes("procurement_releases.json"))
    created = client.post("/api/v1/assets/feeds/procurement/import", {"file": upload})
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["status"] == "applied" and body["records"] >= 1
    bad = client.post("/api/v1/assets/feeds/procurement/import", {"file": SimpleUploadedFile("b.json", b"{")})
    assert bad.status_code == 422 and bad.json()["status"] == "failed"
    assert client.post("/api/v1/assets/feeds/nowhere/import",
                       {"file": SimpleUploadedFile("b.json", b"{")}).status_code == 404
    wrong = client.post("/api/v1/assets/feeds/exchange/pull", json.dumps({"url": "file:///etc/passwd"}),
                        content_type="application/json")
    assert wrong.status_code == 422
    runs = client.get("/api/v1/assets/feeds").json()
    assert len(runs) == 2
    detail = client.get(f"/api/v1/assets/feeds/{body['id']}").json()
    assert isinstance(detail["items"], list)


def test_management_command(estate: SimpleNamespace) -> None:
    out = StringIO()
    call_command("import_feed", "trading_centre", str(FIXTURES / "tc_page1.json"), stdout=out)
    assert "feed run" in out.getvalue()
    assert FeedRun.objects.get().source == "trading_centre"


def test_ocds_export_is_public_valid_and_masks_people(estate: SimpleNamespace, client: Client) -> None:
    from gongzhi.assets.domain.feeds import validate_release_package

    m = estate.manager
    deal = listed_deal(estate)
    reg = actions.do_register_bidder(deal, counterparty_kind="person", counterparty_number=PERSON_NUMBER,
                                     counterparty_name="李四", deposit_paid="50000", actor=m, at=at(date(2026, 3, 10)))
    actions.do_place_bid(deal, reg, "200000", idempotency_key="p1", actor=m, at=at(date(2026, 3, 11)))
    actions.do_award_deal(deal, actor=m, today=date(2026, 3, 20))
    actions.do_publish_result(deal, actor=m)
    actions.do_generate_contract(deal, contract_no="C1", starts_on=date(2026, 4, 1), actor=m)
    anon = Client()
    response = anon.get("/api/v1/assets/ocds/releases.json")
    assert response.status_code == 200
    package = json.loads(response.content)
    assert validate_release_package(package) == []
    text = response.content.decode()
    assert PERSON_NUMBER not in text and "李四" not in text
    release = package["releases"][0]
    assert release["contracts"][0]["lease"]["monthlyRent"]["amount"] == 200000
    ext = package["extensions"][0]
    assert ext.endswith("/api/v1/assets/ocds/lease-extension/extension.json")
    served = anon.get(ext.split("testserver", 1)[1])
    assert served.status_code == 200 and json.loads(served.content)["compatibility"] == ["1.1"]
    assert anon.get("/api/v1/assets/ocds/lease-extension/release-schema.json").status_code == 200
    assert anon.get("/api/v1/assets/ocds/lease-extension/secret.json").status_code == 404
