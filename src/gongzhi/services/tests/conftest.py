"""A small service hall: four departments, items with materials and co-processors, people."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from gongzhi.accounts.actions import do_create_department
from gongzhi.accounts.enums import Role
from gongzhi.core.tests.actors import SYSTEM as TEST_SYSTEM
from gongzhi.services.models import Bundle, ItemCoDepartment, ItemMaterial, ServiceItem

SYSTEM = TEST_SYSTEM
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def id_number(body17: str) -> str:
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    total = sum(int(c) * w for c, w in zip(body17, weights, strict=True))
    return body17 + "10X98765432"[total % 11]


def pdf(name: str = "scan.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


@pytest.fixture(autouse=True)
def _fresh_intake_cache() -> None:
    from gongzhi.services.routing import clear_intake_cache

    clear_intake_cache()


@pytest.fixture
def hall(place_tree: SimpleNamespace, make_user: Callable[..., Any]) -> SimpleNamespace:
    from gongzhi.people.actions import do_add_document, do_link_user_to_person, do_register_person

    t = place_tree
    civil = do_create_department("T-MZ", "民政局", t.nanshan, actor=SYSTEM)
    hr = do_create_department("T-RS", "人力资源和社会保障局", t.nanshan, actor=SYSTEM)
    market = do_create_department("T-SJ", "市场监督管理局", t.nanshan, actor=SYSTEM)
    housing = do_create_department("T-ZJ", "住房和建设局", t.nanshan, actor=SYSTEM)
    form = [
        {"name": "reason", "label": "申请事由", "type": "text", "required": True, "max_length": 50},
        {"name": "household_size", "label": "家庭人口", "type": "int", "min": 1, "max": 20},
    ]
    subsidy = ServiceItem.objects.create(
        code="T-MZ-001", name="临时救助申请", department=civil, promised_days=5, statutory_days=20,
        form_schema=form, co_timeout_default=False,
    )
    ItemMaterial.objects.create(item=subsidy, key="id_card", name="身份证件", doc_type="id_card", kind="mandatory")
    ItemMaterial.objects.create(item=subsidy, key="income", name="收入证明", kind="secondary", doc_type="")
    ItemCoDepartment.objects.create(item=subsidy, department=hr, limit_days=3)
    ItemCoDepartment.objects.create(item=subsidy, department=housing, limit_days=3)
    instant = ServiceItem.objects.create(
        code="T-RS-002", name="社保参保证明打印", department=hr, promised_days=0, statutory_days=1, mode="instant",
        form_schema=[{"name": "purpose", "label": "用途", "type": "choice", "choices": ["购房", "入学", "其他"], "required": True}],
        instant_rules=[{"field": "purpose", "op": "present"}], result_doc_type="social_insurance",
    )
    ItemMaterial.objects.create(item=instant, key="id_card", name="身份证件", doc_type="id_card")
    license_item = ServiceItem.objects.create(
        code="T-SJ-003", name="个体工商户登记", department=market, promised_days=3, statutory_days=15,
        applicant_type="person", result_doc_type="business_license",
        form_schema=[{"name": "shop_name", "label": "字号名称", "type": "text", "required": True}],
    )
    ItemMaterial.objects.create(item=license_item, key="id_card", name="身份证件", doc_type="id_card")
    ItemMaterial.objects.create(item=license_item, key="tenancy", name="经营场所证明", doc_type="tenancy")
    ItemCoDepartment.objects.create(item=license_item, department=housing, limit_days=2)
    bundle = Bundle.objects.create(code="T-BUNDLE-1", name="开办小店一件事")
    bundle.items.set([license_item, instant, subsidy])

    clerk = make_user(Role.WINDOW_CLERK, t.pingshan, username="clerk")
    officers = {
        d.code: make_user(Role.DEPARTMENT_OFFICER, t.nanshan, d, username=f"officer_{d.code}")
        for d in (civil, hr, market, housing)
    }
    officers2 = make_user(Role.DEPARTMENT_OFFICER, t.nanshan, civil, username="officer2_MZ")
    resident_user = make_user(Role.RESIDENT, t.pingshan, username="resident")
    number = id_number("44030519850101123")
    person = do_register_person(number, "张伟明", home_place=t.pingshan, phone="13812345678", actor=SYSTEM)
    do_link_user_to_person(resident_user, person, actor=SYSTEM)
    do_add_document(person, "id_card", "居民身份证", pdf(), actor=SYSTEM)
    other_user = make_user(Role.RESIDENT, t.wenhua, username="other")
    other_number = id_number("44030319900202456")
    other = do_register_person(other_number, "李芳", home_place=t.wenhua, actor=SYSTEM)
    do_link_user_to_person(other_user, other, actor=SYSTEM)
    return SimpleNamespace(
        civil=civil, hr=hr, market=market, housing=housing, subsidy=subsidy, instant=instant,
        license_item=license_item, bundle=bundle, clerk=clerk, officers=officers, officer2=officers2,
        resident_user=resident_user, person=person, number=number, other_user=other_user, other=other,
        other_number=other_number, tree=t,
    )
