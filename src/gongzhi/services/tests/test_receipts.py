"""受理回执, 一次性告知书 and 补正通知书 as PDF: they parse, and say what they must.

Text checks read the PDF back with poppler's ``pdftotext`` (STSong CID text is encoded, so the
raw bytes cannot be searched); without poppler those tests skip, the structure checks still run.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from types import SimpleNamespace

import pytest

from gongzhi.core.tests.actors import SYSTEM as TEST_SYSTEM
from gongzhi.services.actions import Intake, do_claim_task, do_request_supplement, do_submit_application
from gongzhi.services.enums import TaskRole
from gongzhi.services.errors import MaterialsMissing
from gongzhi.services.models import Application
from gongzhi.services.receipts import (
    acceptance_receipt_pdf,
    missing_materials_notice_pdf,
    supplement_notice_pdf,
    track_url,
)

pytestmark = pytest.mark.django_db
PDFTOTEXT = shutil.which("pdftotext")
needs_poppler = pytest.mark.skipif(PDFTOTEXT is None, reason="poppler-utils (pdftotext) not installed")


def text_of(pdf: bytes) -> str:
    assert PDFTOTEXT is not None
    out = subprocess.run([PDFTOTEXT, "-layout", "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True,  # noqa: S603
                         check=True)
    return re.sub(r"[ \t]+", " ", out.stdout.decode("utf-8"))


def assert_pdf(data: bytes) -> None:
    assert data.startswith(b"%PDF-")
    assert data.rstrip().endswith(b"%%EOF")
    assert b"/STSong-Light" in data  # the built-in CID font, no font file embedded
    assert b"/Type /Page" in data


def _bundle_application(hall: SimpleNamespace) -> Application:
    from gongzhi.people.actions import do_add_document
    from gongzhi.services.tests.conftest import pdf

    do_add_document(hall.person, "tenancy", "房屋租赁合同", pdf(), actor=TEST_SYSTEM)
    intake = Intake(hall.number, bundle_code="T-BUNDLE-1",
                    form={"reason": "开店", "shop_name": "南山小馆", "purpose": "其他"}, accept_gaps=True)
    return do_submit_application(intake, actor=hall.clerk, channel="window", idempotency_key="receipt-1")


def test_receipt_is_a_pdf_with_a_qr_per_case(hall: SimpleNamespace) -> None:
    app = _bundle_application(hall)
    data = acceptance_receipt_pdf(app)
    assert_pdf(data)
    assert app.cases.count() == 3
    # Each case's QR code doubles as a link annotation to the public progress page.
    for case in app.cases.all():
        assert f"/URI ({track_url(case.number)})".encode() in data


@needs_poppler
def test_receipt_lists_cases_deadlines_materials_and_masks_the_number(hall: SimpleNamespace) -> None:
    app = _bundle_application(hall)
    text = text_of(acceptance_receipt_pdf(app))
    assert "受理回执" in text and app.number in text
    for case in app.cases.select_related("item", "department"):
        assert case.number in text
        assert case.item.name in text and case.department.name in text
        if not case.instant:
            assert f"{case.deadline:%Y年%m月%d日}" in text
    subsidy = app.cases.get(item__code="T-MZ-001")
    assert "证照库复用（居民身份证）" in text
    assert f"容缺受理，承诺于 {subsidy.gaps_due:%Y年%m月%d日} 前补交" in text
    assert "即办件，已当场办结" in text
    assert "张伟明" in text and hall.person.number_masked in text
    assert hall.number not in text  # the full ID number never goes on paper
    assert "平山社区综合窗口" in text  # the clerk's hall
    assert hall.clerk.display_name in text


@needs_poppler
def test_provisional_deadline_is_marked(hall: SimpleNamespace) -> None:
    app = do_submit_application(Intake(hall.number, ["T-MZ-001"], form={"reason": "困难"}, accept_gaps=True),
                                actor=hall.clerk, channel="window", idempotency_key="receipt-prov")
    app.cases.update(deadline_provisional=True)
    assert "暂定" in text_of(acceptance_receipt_pdf(app))


def test_qr_points_at_the_public_track_page(settings: object) -> None:
    settings.GONGZHI_PUBLIC_URL = "https://gongzhi.example.gov.cn/"  # type: ignore[attr-defined]
    assert track_url("GZ2611260000000101") == "https://gongzhi.example.gov.cn/services/track?number=GZ2611260000000101"


@needs_poppler
def test_missing_materials_notice_lists_every_material_once(hall: SimpleNamespace) -> None:
    with pytest.raises(MaterialsMissing) as err:
        do_submit_application(
            Intake(hall.other_number, ["T-MZ-001", "T-SJ-003"], form={"reason": "x", "shop_name": "小店"}),
            actor=hall.clerk, channel="window", idempotency_key="k-missing",
        )
    missing = err.value.missing
    data = missing_materials_notice_pdf([hall.subsidy, hall.license_item], missing, "李芳", hall.clerk)
    assert_pdf(data)
    text = text_of(data)
    assert "一次性告知书" in text and "李芳" in text and "第三十二条" in text
    for n, label in enumerate(missing, start=1):
        assert f"{n}. {label}" in text
    assert "临时救助申请" in text and "个体工商户登记" in text


@needs_poppler
def test_supplement_notice(hall: SimpleNamespace) -> None:
    app = do_submit_application(Intake(hall.number, ["T-MZ-001"], form={"reason": "困难"}, accept_gaps=True),
                                actor=hall.clerk, channel="window", idempotency_key="receipt-sup")
    case = app.cases.get()
    lead = case.tasks.get(role=TaskRole.LEAD)
    officer = hall.officers["T-MZ"]
    do_claim_task(lead, actor=officer)
    req = do_request_supplement(lead, ["收入证明原件", "户口簿首页"], reason="收入证明无公章", actor=officer)
    data = supplement_notice_pdf(req)
    assert_pdf(data)
    text = text_of(data)
    assert case.number in text and "1. 收入证明原件" in text and "2. 户口簿首页" in text
    assert f"请于 {req.due:%Y年%m月%d日} 前补正" in text and "收入证明无公章" in text
    assert "民政局" in text and hall.number not in text


def test_long_notice_breaks_onto_more_pages(hall: SimpleNamespace) -> None:
    missing = [f"第{n}项材料：" + "很长的说明" * 12 for n in range(80)]
    data = missing_materials_notice_pdf([hall.subsidy], missing, "张伟明", hall.clerk)
    assert_pdf(data)
    assert len(re.findall(rb"/Type /Page\b", data)) >= 3
