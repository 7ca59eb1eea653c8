"""The public front door, catalogue search (words, code, pinyin initials), guide pages, the
window's item picker search, and a bundle combined with extra items (window, online, API)."""

from __future__ import annotations

import json
import re
from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from gongzhi.services import queries
from gongzhi.services.actions import Intake, do_submit_application
from gongzhi.services.domain.catalog_search import entry_keys, score
from gongzhi.services.domain.choice import combine_codes
from gongzhi.services.models import Application, ItemMaterial, ServiceItem
from gongzhi.services.tests.conftest import pdf

pytestmark = pytest.mark.django_db


def _client(user: Any = None) -> Client:
    c = Client()
    if user is not None:
        c.force_login(user)
    return c


def _text(response: Any) -> str:
    return response.content.decode()


@pytest.fixture
def extra(hall: SimpleNamespace) -> ServiceItem:
    """An item outside the bundle, with guide texts, for a person."""
    item = ServiceItem.objects.create(
        code="T-ZJ-004", name="城乡居民养老保险参保登记", department=hall.housing, promised_days=5,
        statutory_days=10, fee="20.00", fee_note="工本费",
        conditions="年满 16 周岁、未参加职工养老保险的城乡居民。", legal_basis="《中华人民共和国社会保险法》第二十条",
        location="南山区政务服务中心二楼", accept_with_gaps=True,
        form_schema=[{"name": "phone", "label": "联系电话", "type": "phone"}],
    )
    ItemMaterial.objects.create(item=item, key="hukou", name="户口簿", doc_type="hukou", submit_as="both")
    ItemMaterial.objects.create(item=item, key="photo", name="证件照", kind="secondary", submit_as="original")
    return item


# ------------------------------------------------------------------------------ search


def test_search_by_chinese_word(hall: SimpleNamespace) -> None:
    found = queries.search_catalog("救助")
    assert [i.code for i in found.items] == ["T-MZ-001"]
    # a longer phrase is matched by its words, not only as one substring
    assert [i.code for i in queries.search_catalog("临时 救助").items] == ["T-MZ-001"]


def test_search_by_code_whole_or_in_part(hall: SimpleNamespace) -> None:
    assert [i.code for i in queries.search_catalog("T-SJ-003").items] == ["T-SJ-003"]
    assert [i.code for i in queries.search_catalog("sj003").items] == ["T-SJ-003"]
    assert queries.search_catalog("T-XX-999").items == []


def test_search_by_pinyin_initials(hall: SimpleNamespace, extra: ServiceItem) -> None:
    assert [i.code for i in queries.search_catalog("ylbx").items] == ["T-ZJ-004"]  # 养老保险
    assert queries.search_catalog("LSJZ").items[0].code == "T-MZ-001"  # 临时救助, any case
    assert queries.search_catalog("yanglao").items[0].code == "T-ZJ-004"  # full syllables


def test_search_finds_bundles_and_ranks_code_first() -> None:
    keys = entry_keys("NS-MZ-001", "最低生活保障申请")
    assert score("NS-MZ-001", keys) > score("zdsh", keys) > 0
    assert score("zdsh xyz", keys) == 0  # every word must match


def test_search_bundles_and_browse_filters(hall: SimpleNamespace, extra: ServiceItem) -> None:
    assert [b.code for b in queries.search_catalog("开办").bundles] == ["T-BUNDLE-1"]
    assert [b.code for b in queries.search_catalog("kbxd").bundles] == ["T-BUNDLE-1"]
    hall.license_item.applicant_type = "enterprise"
    hall.license_item.save()
    firms = queries.search_catalog("", applicant_type="enterprise")
    assert [i.code for i in firms.items] == ["T-SJ-003"]
    persons = queries.search_catalog("", applicant_type="person")
    assert "T-SJ-003" not in {i.code for i in persons.items} and persons.bundles == []
    by_dept = queries.search_catalog("", department="T-ZJ")
    assert [i.code for i in by_dept.items] == ["T-ZJ-004"]


def test_api_search_is_public_and_the_same_search(hall: SimpleNamespace, extra: ServiceItem) -> None:
    r = Client().get("/api/v1/services/catalog/search", {"q": "ylbx"})
    assert r.status_code == 200, r.content
    body = r.json()
    assert [i["code"] for i in body["items"]] == ["T-ZJ-004"]
    assert body["items"][0]["guide_url"] == reverse("services:guide", args=["T-ZJ-004"])
    bundles = Client().get("/api/v1/services/catalog/search", {"q": "开办"}).json()["bundles"]
    assert [b["code"] for b in bundles] == ["T-BUNDLE-1"]
    assert Client().get("/api/v1/services/catalog/search", {"applicant_type": "alien"}).status_code == 422
    item = Client().get("/api/v1/services/catalog/T-ZJ-004").json()
    assert item["legal_basis"].startswith("《中华人民共和国社会保险法》")
    assert {m["key"]: m["submit_as"] for m in item["materials"]} == {"hukou": "both", "photo": "original"}


# ------------------------------------------------------------------------------ public pages


def test_front_door_logged_out_links_everything_public(hall: SimpleNamespace) -> None:
    html = _text(_client().get(reverse("core:index")))
    for url in (reverse("services:catalog"), reverse("services:track"), reverse("services:ontime"),
                "/open311/v2/services.json", reverse("services:bundle_guide", args=["T-BUNDLE-1"]),
                reverse("services:catalog") + "?type=person", reverse("services:catalog") + "?type=enterprise",
                reverse("services:catalog") + "?dept=T-MZ", reverse("accounts:login")):
        assert f'href="{url}"' in html, url
    assert 'name="q"' in html and "开办小店一件事" in html and "公开的会议纪要" in html
    # life events come before the browse-by-department list
    assert html.index("开办小店一件事") < html.index('href="/services/catalog/?dept=T-MZ"')


def test_public_catalogue_search_and_bundles_first(hall: SimpleNamespace, extra: ServiceItem) -> None:
    r = _client().get(reverse("services:catalog"), {"q": "ylbx"})
    html = _text(r)
    assert r.status_code == 200 and "城乡居民养老保险参保登记" in html and "临时救助申请" not in html
    page = _text(_client().get(reverse("services:catalog")))
    assert page.index("开办小店一件事") < page.index("临时救助申请")


def test_guide_page_says_what_where_and_how(hall: SimpleNamespace, extra: ServiceItem) -> None:
    r = _client().get(reverse("services:guide", args=["T-ZJ-004"]))
    assert r.status_code == 200
    html = _text(r)
    for text in ("年满 16 周岁、未参加职工养老保险的城乡居民。", "《中华人民共和国社会保险法》第二十条",
                 "南山区政务服务中心二楼", "住房和建设局", "户口簿", "原件核验，复印件留存", "证件照",
                 "可容缺受理", "20.00", "工本费", "10 个工作日", "5 个工作日"):
        assert text in html, text
    assert f'href="{reverse("services:online_apply")}?items=T-ZJ-004"' in html
    assert _client().get(reverse("services:guide", args=["NO-SUCH"])).status_code == 404
    bundle = _text(_client().get(reverse("services:bundle_guide", args=["T-BUNDLE-1"])))
    assert reverse("services:guide", args=["T-MZ-001"]) in bundle and "?bundle=T-BUNDLE-1" in bundle


def test_online_hall_uses_the_same_layout(hall: SimpleNamespace) -> None:
    html = _text(_client(hall.resident_user).get(reverse("services:online"), {"q": "lsjz"}))
    assert f'{reverse("services:online_apply")}?items=T-MZ-001' in html and "社保参保证明打印" not in html
    assert f'href="{reverse("services:guide", args=["T-MZ-001"])}"' in html


# ------------------------------------------------------------------------------ the window picker


def _hidden_rows(html: str) -> set[str]:
    return set(re.findall(r'<li data-picker-item="[^"]*" hidden><input type="checkbox" name="items" value="([^"]+)"', html))


def test_window_picker_search_without_js_keeps_ticks(hall: SimpleNamespace, extra: ServiceItem) -> None:
    r = _client(hall.clerk).post(reverse("services:window"), {
        "step": "pick", "number": hall.number, "picker_search": "1", "picker_q": "ylbx", "items": ["T-SJ-003"]})
    html = _text(r)
    assert r.status_code == 200 and 'name="picker_q"' in html
    hidden = _hidden_rows(html)
    assert "T-ZJ-004" not in hidden and "T-SJ-003" not in hidden  # found; ticked
    assert {"T-MZ-001", "T-RS-002"} <= hidden
    assert re.search(r'value="T-SJ-003" id="item-T-SJ-003" checked', html)
    assert not Application.objects.exists()  # a search writes nothing


# ------------------------------------------------------------------------------ bundle + items


def test_combine_codes_keeps_extras_once() -> None:
    assert combine_codes(["A", "B"], ["B", "C", "", "C"]) == ["A", "B", "C"]


def test_window_bundle_plus_item_combines(hall: SimpleNamespace, extra: ServiceItem) -> None:
    r = _client(hall.clerk).post(reverse("services:window"), {
        "step": "pick", "number": hall.number, "bundle": "T-BUNDLE-1", "items": ["T-ZJ-004", "T-MZ-001"]})
    html = _text(r)
    assert r.status_code == 200
    # the bundle's items, then the extra one; T-MZ-001 (ticked and in the bundle) only once
    assert [i.code for i in r.context["items"]] == ["T-MZ-001", "T-RS-002", "T-SJ-003", "T-ZJ-004"]
    assert "城乡居民养老保险参保登记" in html and "另加事项" in html
    assert 'name="bundle" value="T-BUNDLE-1"' in html and 'name="items" value="T-ZJ-004"' in html


def test_online_bundle_plus_item_combines(hall: SimpleNamespace, extra: ServiceItem) -> None:
    r = _client(hall.resident_user).get(reverse("services:online_apply") + "?bundle=T-BUNDLE-1&items=T-ZJ-004")
    assert r.status_code == 200
    assert "T-ZJ-004" in [i.code for i in r.context["items"]] and len(r.context["items"]) == 4


def test_api_bundle_plus_item_makes_a_case_each(hall: SimpleNamespace, extra: ServiceItem) -> None:
    from gongzhi.services.tests.test_api import Api

    body = {"applicant_number": hall.number, "bundle_code": "T-BUNDLE-1", "item_codes": ["T-ZJ-004", "T-SJ-003"],
            "form": {"shop_name": "张记", "purpose": "其他", "reason": "开店"}, "accept_gaps": True}
    r = Api(hall.clerk).post("/applications", body, key="bundle-plus")
    assert r.status_code == 422, r.content  # materials missing (tenancy, hukou): nothing half-accepted
    assert not Application.objects.exists()
    app = do_submit_application(
        Intake(hall.number, item_codes=["T-ZJ-004", "T-SJ-003"], bundle_code="T-BUNDLE-1",
               form={"shop_name": "张记", "purpose": "其他", "reason": "开店"},
               files={"tenancy": pdf(), "hukou": pdf()}, accept_gaps=True),
        actor=hall.clerk, channel="window", idempotency_key="bundle-plus-window")
    assert app.bundle_id == hall.bundle.pk
    assert sorted(c.item.code for c in app.cases.all()) == ["T-MZ-001", "T-RS-002", "T-SJ-003", "T-ZJ-004"]


def test_api_bundle_plus_item_through_http(hall: SimpleNamespace, extra: ServiceItem) -> None:
    from gongzhi.services.tests.test_api import Api

    extra.materials.all().delete()
    body = {"applicant_number": hall.number, "bundle_code": "T-BUNDLE-1", "item_codes": ["T-ZJ-004"],
            "form": {"shop_name": "张记", "purpose": "其他", "reason": "开店"}, "accept_gaps": True,
            "documents": {}}
    # the tenancy proof is needed by the bundle; put one in the wallet first
    from gongzhi.core.tests.actors import SYSTEM
    from gongzhi.people.actions import do_add_document

    do_add_document(hall.person, "tenancy", "租赁备案凭证", pdf(), actor=SYSTEM)
    r = Api(hall.clerk).post("/applications", body, key="bundle-plus-api")
    assert r.status_code == 201, json.dumps(r.json(), ensure_ascii=False)
    assert r.json()["bundle"] == "T-BUNDLE-1"
    assert sorted(c["item"]["code"] for c in r.json()["cases"]) == ["T-MZ-001", "T-RS-002", "T-SJ-003", "T-ZJ-004"]


def test_bundle_plus_incompatible_item_is_explained(hall: SimpleNamespace, extra: ServiceItem) -> None:
    extra.applicant_type = "enterprise"
    extra.save()
    r = _client(hall.clerk).post(reverse("services:window"), {
        "step": "pick", "number": hall.number, "bundle": "T-BUNDLE-1", "items": ["T-ZJ-004"]})
    html = _text(r)
    assert "申请人类型互不相容" in html and "请分开申请" in html
    assert re.search(r'value="T-ZJ-004" id="item-T-ZJ-004" checked', html)  # the choice is kept to fix


def test_demo_catalogue_guides_and_search(place_tree: SimpleNamespace) -> None:
    """The data file's guide section fills every item; the issue's searches find demo items."""
    from gongzhi.core.tests.actors import SYSTEM
    from gongzhi.services.demo import load_demo_catalog

    load_demo_catalog(actor=SYSTEM)
    assert not ServiceItem.objects.filter(legal_basis="").exists()
    assert not ServiceItem.objects.filter(conditions="").exists()
    assert not ServiceItem.objects.filter(location="").exists()
    assert not ItemMaterial.objects.filter(submit_as="").exists()
    assert ServiceItem.objects.get(code="NS-JD-004").location.startswith("所在街道")
    assert queries.search_catalog("zdsh").items[0].code == "NS-MZ-001"
    assert {"NS-RS-005", "NS-RS-007"} <= {i.code for i in queries.search_catalog("ylbx").items}
    assert [i.code for i in queries.search_catalog("NS-HZ-005").items] == ["NS-HZ-005"]
    assert queries.search_catalog("出生").bundles[0].code == "NS-YJS-002"
    html = _text(_client().get(reverse("services:guide", args=["NS-MZ-001"])))
    assert "《社会救助暂行办法》" in html and "南山区政务服务中心" in html
