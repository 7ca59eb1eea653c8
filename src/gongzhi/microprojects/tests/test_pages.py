"""Pages and API: public pages without login, the resident's form, the office console; the demo
year through the actions."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.test import Client

from gongzhi.core.tests.actors import SYSTEM
from gongzhi.microprojects import actions
from gongzhi.microprojects.models import Proposal

pytestmark = pytest.mark.django_db


def test_resident_proposes_on_the_phone_form(micro: SimpleNamespace, client: Client) -> None:
    client.force_login(micro.residents[0])
    assert client.get("/microprojects/propose/").status_code == 200
    bad = client.post("/microprojects/propose/", {"title": "座椅", "description": "加座椅", "estimated_cost": "十万"})
    assert bad.status_code == 422 and "须为数字" in bad.content.decode() and not Proposal.objects.exists()
    ok = client.post("/microprojects/propose/", {"title": "座椅", "description": "加座椅", "estimated_cost": "24000"})
    p = Proposal.objects.get()
    assert ok.status_code == 302 and ok["Location"] == f"/microprojects/{p.pk}/"
    client.force_login(micro.residents[1])
    assert client.post(f"/microprojects/{p.pk}/support/").status_code == 302
    assert p.supports.count() == 1
    client.logout()
    page = Client().get(f"/microprojects/{p.pk}/")
    assert page.status_code == 200 and "座椅" in page.content.decode()
    assert micro.residents[0].display_name not in page.content.decode()  # the proposer is masked
    assert Client().get(f"/microprojects/community/{micro.place.code}/").status_code == 200
    assert "民生微实事" in Client().get("/").content.decode()  # reachable from the front door


def test_office_console_scoped(micro: SimpleNamespace, client: Client) -> None:
    p = actions.do_propose(micro.place, actor=micro.residents[0], title="座椅", description="x", estimated_cost="100")
    client.force_login(micro.other_worker)
    assert client.get(f"/microprojects/office/{micro.place.code}/").status_code == 404
    assert client.post(f"/microprojects/office/proposal/{p.pk}/", {"op": "screen", "eligible": "1"}).status_code == 404
    client.force_login(micro.worker)
    assert client.get(f"/microprojects/office/{micro.place.code}/").status_code == 200
    r = client.post(f"/microprojects/office/proposal/{p.pk}/", {"op": "screen", "eligible": "0", "reason": ""})
    assert r.status_code == 302
    p.refresh_from_db()
    assert p.status == "proposed"  # a rejection needs a reason: nothing changed
    client.post(f"/microprojects/office/proposal/{p.pk}/", {"op": "screen", "eligible": "1", "reason": "符合"})
    p.refresh_from_db()
    assert p.status == "eligible"


def test_api(micro: SimpleNamespace, client: Client) -> None:
    client.force_login(micro.residents[0])
    r = client.post("/api/v1/microprojects/proposals", {"community": micro.place.code, "title": "座椅",
                                                         "description": "x", "estimated_cost": "abc"},
                    content_type="application/json")
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "estimated_cost"
    r = client.post("/api/v1/microprojects/proposals", {"community": micro.other.code, "title": "座椅",
                                                         "description": "x", "estimated_cost": "100"},
                    content_type="application/json")
    assert r.status_code == 403 and not Proposal.objects.exists()
    r = client.post("/api/v1/microprojects/proposals", {"community": micro.place.code, "title": "座椅",
                                                         "description": "x", "estimated_cost": "100"},
                    content_type="application/json")
    assert r.status_code == 201
    pid = r.json()["id"]
    anon = Client()
    assert anon.get(f"/api/v1/microprojects/proposals/{pid}").json()["trail"][0]["verb"] == "microproject.propose"
    assert anon.get(f"/api/v1/microprojects/communities/{micro.place.code}/figures").json()["proposals"] == 1
    assert anon.post(f"/api/v1/microprojects/proposals/{pid}/screen", {"eligible": True},
                     content_type="application/json").status_code == 401


def test_demo_year(place_tree: SimpleNamespace, settings: object, tmp_path: object) -> None:
    from gongzhi.councils.demo import load_demo_councils
    from gongzhi.microprojects.demo import load_demo_microprojects

    settings.VAR_DIR = str(tmp_path)  # type: ignore[attr-defined]
    load_demo_councils(actor=SYSTEM)
    load_demo_microprojects(actor=SYSTEM)
    load_demo_microprojects(actor=SYSTEM)  # idempotent
    statuses = set(Proposal.objects.values_list("status", flat=True))
    assert {"proposed", "eligible", "on_agenda", "merged", "rejected", "voted_down", "funded", "accepted"} <= statuses
    outcomes = set(Proposal.objects.values_list("outcome", flat=True))
    assert {"adopted", "amended", "rejected"} <= outcomes
    drip = Proposal.objects.get(title="加装空调滴水管套管")
    assert drip.outcome == "amended" and "3号楼与4号楼" in drip.outcome_text and drip.minutes.status == "approved"
    accepted = Proposal.objects.filter(status="accepted").first()
    assert accepted is not None and accepted.ratings.count() == 4
    page = Client().get(f"/microprojects/{accepted.pk}/")
    assert page.status_code == 200 and "居民验收" in page.content.decode()


def test_photos_served_safely_and_figures_registered(micro: SimpleNamespace) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from gongzhi.core.registry import REGISTRY

    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
    # a PNG declared as HTML is stored as what its bytes are
    p = actions.do_propose(micro.place, actor=micro.residents[0], title="座椅", description="x", estimated_cost="100",
                           photos=[SimpleUploadedFile("a.html", png, "text/html")])
    photo = p.photos.get()
    assert photo.content_type == "image/png" and oct(actions.photo_path(photo).stat().st_mode & 0o777) == "0o600"
    r = Client().get(f"/microprojects/photos/{photo.pk}/")
    assert r.status_code == 200 and r["Content-Type"] == "image/png" and r["X-Content-Type-Options"] == "nosniff"
    assert b"".join(r.streaming_content) == png  # type: ignore[attr-defined]
    assert Client().get("/microprojects/photos/999999/").status_code == 404
    figures = REGISTRY.figures["microprojects"].figures(micro.place, micro.year)
    assert figures["proposals"] == 1 and figures["participants"] == 1
