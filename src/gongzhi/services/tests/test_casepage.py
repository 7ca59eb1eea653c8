"""Issue 11, after submitting: one reference number for tracking, the resident's case page
(timeline, plain status, 容缺 materials owed and handed in), the back office's 待送达 and
已办结 queues, the warning before approving with a material still owed, the material's
source told truthfully, and the receipt's office, clerk, hotline and collection."""

from __future__ import annotations

import json
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from gongzhi.core.models import AuditEvent
from gongzhi.people.models import Document
from gongzhi.services.actions import (
    Intake,
    do_claim_task,
    do_decide_task,
    do_deliver_result,
    do_submit_application,
)
from gongzhi.services.enums import CaseMaterialStatus, CaseStatus, TaskRole, TaskStatus
from gongzhi.services.errors import InvalidInput
from gongzhi.services.models import Application, Case, CaseMaterial
from gongzhi.services.tests.conftest import pdf
from gongzhi.services.tracking import TRACK_LIMIT, track_steps

pytestmark = pytest.mark.django_db
API = "/api/v1/services"


@pytest.fixture(autouse=True)
def _track_budget() -> Iterator[None]:
    cache.clear()  # public lookups are limited per address in the shared cache
    yield
    cache.clear()


def _online(hall: SimpleNamespace, key: str = "cp-1") -> Application:
    """Two items, two departments, online by the resident; the subsidy's 收入证明 owed under 容缺."""
    intake = Intake(hall.number, ["T-MZ-001", "T-SJ-003"], form={"reason": "困难", "shop_name": "南山小馆"},
                    files={"tenancy": pdf()}, accept_gaps=True)
    return do_submit_application(intake, actor=hall.resident_user, channel="online", idempotency_key=key)


def _window(hall: SimpleNamespace, key: str = "cp-w") -> Case:
    intake = Intake(hall.number, ["T-MZ-001"], form={"reason": "困难"}, accept_gaps=True)
    app = do_submit_application(intake, actor=hall.clerk, channel="window", idempotency_key=key)
    return app.cases.get()


def _subsidy_case(app: Application) -> Case:
    return app.cases.get(item__code="T-MZ-001")


def _co_agree(hall: SimpleNamespace, case: Case) -> Any:
    """Both co-processors agree; the lead is claimed by the civil officer and returned."""
    for task in case.tasks.filter(role=TaskRole.CO).select_related("department"):
        officer = hall.officers[task.department.code]
        do_decide_task(do_claim_task(task, actor=officer), approve=True, actor=officer)
    return do_claim_task(case.tasks.get(role=TaskRole.LEAD), actor=hall.officers["T-MZ"])


def _as(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _owed(case: Case) -> CaseMaterial:
    return case.materials.get(material__key="income")


# ------------------------------------------------------------------ one reference number


def test_tracker_takes_the_application_number_and_shows_every_case(hall: SimpleNamespace) -> None:
    app = _online(hall)
    tail = hall.number[-4:]
    numbers = sorted(app.cases.values_list("number", flat=True))
    r = Client().get(f"{API}/track", {"number": app.number, "tail": tail})
    assert r.status_code == 200
    body = r.json()
    assert body["application_number"] == app.number
    assert [c["number"] for c in body["cases"]] == numbers
    assert all(c["status_text"] == "已受理，等待部门审核" and c["steps"] for c in body["cases"])
    page = Client().get(reverse("services:track"), {"number": app.number, "tail": tail})
    assert page.status_code == 200
    html = page.content.decode()
    assert all(n in html for n in numbers)
    # never a name or a number of the applicant
    for text in (html, json.dumps(body, ensure_ascii=False)):
        assert "张伟明" not in text and hall.number not in text


def test_tracker_takes_a_case_number_too(hall: SimpleNamespace) -> None:
    app = _online(hall)
    case = _subsidy_case(app)
    body = Client().get(f"{API}/track", {"number": case.number, "tail": hall.number[-4:]}).json()
    assert body["number"] == case.number and body["application_number"] == app.number
    assert [c["number"] for c in body["cases"]] == [case.number]


def test_wrong_tail_with_either_number_looks_like_a_wrong_number(hall: SimpleNamespace) -> None:
    app = _online(hall)
    answers = [
        Client().get(f"{API}/track", {"number": number, "tail": tail})
        for number, tail in ((app.number, "0000"), (_subsidy_case(app).number, "0000"),
                             ("GZ0000000000000001", hall.number[-4:]))
    ]
    assert {a.status_code for a in answers} == {404}
    assert len({a.json()["detail"][0]["message"] for a in answers}) == 1
    page = Client().get(reverse("services:track"), {"number": app.number, "tail": "0000"})
    assert page.status_code == 404 and "张伟明" not in page.content.decode()


def test_one_guess_budget_for_both_numbers_page_and_api(hall: SimpleNamespace) -> None:
    app = _online(hall)
    client = Client()
    for n in range(TRACK_LIMIT):
        number = app.number if n % 2 else _subsidy_case(app).number
        url = f"{API}/track" if n % 3 else reverse("services:track")
        assert client.get(url, {"number": number, "tail": "0000"}).status_code == 404
    right = {"number": app.number, "tail": hall.number[-4:]}
    assert client.get(f"{API}/track", right).status_code == 429
    assert client.get(reverse("services:track"), right).status_code == 429


def test_pages_take_either_number(hall: SimpleNamespace) -> None:
    app = _online(hall)
    case = _subsidy_case(app)
    c = _as(hall.resident_user)
    r = c.get(reverse("services:my_case", args=[app.number]))
    assert r.status_code == 302 and r.url == reverse("services:application", args=[app.number])
    page = c.get(reverse("services:application", args=[case.number]))
    assert page.status_code == 200
    html = page.content.decode()
    assert app.number in html and all(n in html for n in app.cases.values_list("number", flat=True))
    assert reverse("services:my_case", args=[case.number]) in html
    # another resident finds neither
    other = _as(hall.other_user)
    assert other.get(reverse("services:application", args=[case.number])).status_code == 404


# ------------------------------------------------------------------------ the case page


def test_case_page_shows_the_timeline_plain_status_and_what_is_owed(hall: SimpleNamespace) -> None:
    app = _online(hall)
    case = _subsidy_case(app)
    html = _as(hall.resident_user).get(reverse("services:my_case", args=[case.number])).content.decode()
    steps = track_steps(case)
    assert any("容缺" in s.label for s in steps)
    for step in steps:
        assert step.label in html
    assert "已受理，等待部门审核" in html and "待认领" not in html
    assert "收入证明" in html and reverse("services:my_case_hand_in", args=[case.number, _owed(case).pk]) in html
    assert reverse("services:receipt_pdf", args=[app.number]) in html
    # the API's case answer carries the same timeline and the owed material
    body = _as(hall.resident_user).get(f"{API}/cases/{case.number}").json()
    assert [s["label"] for s in body["timeline"]] == [s.label for s in steps]
    assert [m["key"] for m in body["owed_materials"]] == ["income"]
    assert body["status_text"] == "已受理，等待部门审核"


def test_gap_due_is_never_after_the_promised_date(hall: SimpleNamespace) -> None:
    hall.subsidy.promised_days = 2  # shorter than the 5-day supplement period
    hall.subsidy.save()
    case = _window(hall)
    assert case.with_gaps and case.gaps_due is not None
    assert case.gaps_due <= case.deadline


def test_status_wording_is_translated(hall: SimpleNamespace) -> None:
    app = _online(hall)
    c = Client(headers={"accept-language": "en"})
    body = c.get(f"{API}/track", {"number": app.number, "tail": hall.number[-4:]}).json()
    assert body["cases"][0]["status_text"] == "Accepted, awaiting the department's review"


# -------------------------------------------------------------------- 容缺 hand-in


def test_resident_hands_in_the_owed_material(hall: SimpleNamespace) -> None:
    app = _online(hall)
    case = _subsidy_case(app)
    owed = _owed(case)
    url = reverse("services:my_case_hand_in", args=[case.number, owed.pk])
    docs = Document.objects.filter(person=hall.person).count()
    r = _as(hall.resident_user).post(url, {"file": pdf("income.pdf")})
    assert r.status_code == 302
    owed.refresh_from_db()
    assert owed.status == CaseMaterialStatus.SCANNED and owed.document is not None
    assert owed.document.person_id == hall.person.pk and owed.document.source == "容缺补交"
    assert Document.objects.filter(person=hall.person).count() == docs + 1
    event = AuditEvent.objects.get(verb="case.gap_hand_in")
    assert event.after["material"] == "income" and event.after["late"] is False
    labels = [s.label for s in track_steps(case)]
    assert "已补交容缺材料：收入证明" in labels and not any("待补交" in s for s in labels)
    html = _as(hall.resident_user).get(reverse("services:my_case", args=[case.number])).content.decode()
    assert url not in html
    # once only
    again = _as(hall.resident_user).post(url, {"file": pdf("income.pdf")})
    assert again.status_code == 403
    assert Document.objects.filter(person=hall.person).count() == docs + 1


def test_hand_in_refuses_bad_input_and_strangers(hall: SimpleNamespace) -> None:
    app = _online(hall)
    case = _subsidy_case(app)
    url = reverse("services:my_case_hand_in", args=[case.number, _owed(case).pk])
    before = (Document.objects.count(), AuditEvent.objects.filter(verb="case.gap_hand_in").count())
    no_file = _as(hall.resident_user).post(url, {})
    assert no_file.status_code == 422 and "请选择要补交的材料文件" in no_file.content.decode()
    not_pdf = SimpleUploadedFile("x.pdf", b"MZ not a pdf", content_type="application/pdf")
    assert _as(hall.resident_user).post(url, {"file": not_pdf}).status_code in (400, 422)
    assert _as(hall.other_user).post(url, {"file": pdf()}).status_code == 404
    # a material that was not accepted under 容缺
    id_card = case.materials.get(material__key="id_card")
    wrong = reverse("services:my_case_hand_in", args=[case.number, id_card.pk])
    assert _as(hall.resident_user).post(wrong, {"file": pdf()}).status_code == 403
    assert (Document.objects.count(), AuditEvent.objects.filter(verb="case.gap_hand_in").count()) == before
    assert _owed(case).document_id is None


def test_the_api_takes_the_owed_material_too(hall: SimpleNamespace) -> None:
    """POST /cases/{number}/materials/{key}/hand-in: the same action as the case page."""
    case = _subsidy_case(_online(hall))
    url = f"{API}/cases/{case.number}/materials/income/hand-in"
    client = _as(hall.resident_user)
    before = (Document.objects.count(), AuditEvent.objects.filter(verb="case.gap_hand_in").count())
    assert client.post(url, {}).status_code == 422  # no file
    assert client.post(f"{API}/cases/{case.number}/materials/no_such/hand-in", {"file": pdf()}).status_code == 404
    assert client.post(f"{API}/cases/{case.number}/materials/id_card/hand-in", {"file": pdf()}).status_code == 403
    assert _as(hall.other_user).post(url, {"file": pdf()}).status_code == 404
    assert (Document.objects.count(), AuditEvent.objects.filter(verb="case.gap_hand_in").count()) == before
    r = client.post(url, {"file": pdf("income.pdf")})
    assert r.status_code == 200, r.content
    body = r.json()
    income = next(m for m in body["materials"] if m["key"] == "income")
    assert income["status"] == CaseMaterialStatus.SCANNED and income["document_id"]
    assert AuditEvent.objects.filter(verb="case.gap_hand_in").count() == before[1] + 1
    assert client.post(url, {"file": pdf("income.pdf")}).status_code == 403  # once only


# -------------------------------------------------------- approving with a material owed


def test_approving_with_a_material_owed_needs_a_reason(hall: SimpleNamespace) -> None:
    case = _subsidy_case(_online(hall))
    lead = _co_agree(hall, case)
    officer = hall.officers["T-MZ"]
    with pytest.raises(InvalidInput) as refused:
        do_decide_task(lead, approve=True, actor=officer)
    assert refused.value.field == "reason" and refused.value.code == "owed_materials"
    assert "收入证明" in refused.value.message
    lead.refresh_from_db()
    case.refresh_from_db()
    assert lead.status == TaskStatus.CLAIMED and case.status == CaseStatus.IN_PROGRESS
    do_decide_task(lead, approve=True, reason="原件已当面核验", actor=officer)
    case.refresh_from_db()
    assert case.status == CaseStatus.APPROVED
    event = AuditEvent.objects.filter(verb="task.decide", object_id=str(lead.pk)).get()
    assert event.after == {"approve": True, "reason": "原件已当面核验", "owed_materials": ["收入证明"]}


def test_no_warning_once_the_material_is_handed_in(hall: SimpleNamespace) -> None:
    case = _subsidy_case(_online(hall))
    url = reverse("services:my_case_hand_in", args=[case.number, _owed(case).pk])
    assert _as(hall.resident_user).post(url, {"file": pdf()}).status_code == 302
    lead = _co_agree(hall, case)
    do_decide_task(lead, approve=True, actor=hall.officers["T-MZ"])
    assert Case.objects.get(pk=case.pk).status == CaseStatus.APPROVED


def test_the_warning_on_the_page_and_the_api(hall: SimpleNamespace) -> None:
    case = _subsidy_case(_online(hall))
    lead = _co_agree(hall, case)
    officer = _as(hall.officers["T-MZ"])
    page = officer.get(reverse("services:task", args=[lead.pk])).content.decode()
    assert "仍有容缺材料未补交" in page and "owed-warning" in page
    refused = officer.post(reverse("services:task_decide", args=[lead.pk]),
                           {"decision": "approve", "reason": "", "version": lead.version})
    assert refused.status_code == 200 and "如确需先行同意" in refused.content.decode()
    api = officer.post(f"{API}/tasks/{lead.pk}/decide", json.dumps({"approve": True}),
                       content_type="application/json")
    assert api.status_code == 422
    detail = api.json()["detail"][0]
    assert detail["field"] == "reason" and detail["code"] == "owed_materials"
    ok = officer.post(f"{API}/tasks/{lead.pk}/decide", json.dumps({"approve": True, "reason": "已核验原件"}),
                      content_type="application/json")
    assert ok.status_code == 200 and ok.json()["status"] == "approved"


# ------------------------------------------------------------------- the back office


def test_approved_cases_wait_in_the_delivery_queue_until_delivered(hall: SimpleNamespace) -> None:
    case = _subsidy_case(_online(hall))
    lead = _co_agree(hall, case)
    do_decide_task(lead, approve=True, reason="已核验", actor=hall.officers["T-MZ"])
    officer = _as(hall.officers["T-MZ"])
    queue = officer.get(reverse("services:tasks"), {"queue": "deliver"}).content.decode()
    assert case.number in queue
    assert case.number not in officer.get(reverse("services:tasks")).content.decode()
    assert [t["case_number"] for t in officer.get(f"{API}/tasks", {"queue": "deliver"}).json()] == [case.number]
    # a co-processing department does not deliver another department's result
    hr = _as(hall.officers["T-RS"])
    assert case.number not in hr.get(reverse("services:tasks"), {"queue": "deliver"}).content.decode()
    # the lead task's page (linked from the queue) carries the delivery form
    assert reverse("services:task_deliver", args=[lead.pk]) in officer.get(
        reverse("services:task", args=[lead.pk])).content.decode()
    r = officer.post(reverse("services:task_deliver", args=[lead.pk]),
                     {"method": "electronic", "address": "", "version": Case.objects.get(pk=case.pk).version})
    assert r.status_code == 302
    assert case.number not in officer.get(reverse("services:tasks"), {"queue": "deliver"}).content.decode()
    assert case.number in officer.get(reverse("services:tasks"), {"queue": "done"}).content.decode()
    assert officer.get(reverse("services:tasks"), {"queue": "nonsense"}).status_code == 200


def test_closed_tasks_queue_lists_decided_tasks(hall: SimpleNamespace) -> None:
    case = _subsidy_case(_online(hall))
    _co_agree(hall, case)
    hr = _as(hall.officers["T-RS"])
    assert case.number in hr.get(reverse("services:tasks"), {"queue": "done"}).content.decode()
    assert case.number not in hr.get(reverse("services:tasks")).content.decode()
    assert [t["case_number"] for t in hr.get(f"{API}/tasks", {"queue": "done"}).json()] == [case.number]


# ------------------------------------------------------------- where a material came from


def test_material_source_is_told_truthfully(hall: SimpleNamespace) -> None:
    app = _online(hall)
    shop = app.cases.get(item__code="T-SJ-003")
    officer = _as(hall.officers["T-SJ"])
    task = shop.tasks.get(role=TaskRole.LEAD)
    page = officer.get(reverse("services:task", args=[task.pk])).content.decode()
    assert "网上上传" in page and "现场扫描" not in page
    body = officer.get(f"{API}/cases/{shop.number}").json()
    tenancy = next(m for m in body["materials"] if m["key"] == "tenancy")
    assert tenancy["status_display"] == "网上上传"
    intake = Intake(hall.number, ["T-SJ-003"], form={"shop_name": "南山小馆"}, files={"tenancy": pdf()})
    window = do_submit_application(intake, actor=hall.clerk, channel="window", idempotency_key="cp-w2").cases.get()
    page = officer.get(reverse("services:task", args=[window.tasks.get(role=TaskRole.LEAD).pk])).content.decode()
    assert "窗口扫描" in page and "网上上传" not in page


# --------------------------------------------------------------------------- receipt


@pytest.mark.skipif(__import__("shutil").which("pdftotext") is None, reason="poppler-utils not installed")
def test_receipt_names_office_clerk_hotline_and_collection(hall: SimpleNamespace, settings: Any) -> None:
    from gongzhi.services.receipts import acceptance_receipt_pdf
    from gongzhi.services.tests.test_receipts import text_of

    settings.GONGZHI_SERVICE_HOTLINE = "0755-12345"
    case = _window(hall)
    text = text_of(acceptance_receipt_pdf(case.application))
    assert "出具单位" in text and "政务服务中心" in text
    assert hall.clerk.display_name in text and hall.clerk.username not in text
    assert "0755-12345" in text
    assert "窗口领取" in text  # the subsidy issues no electronic licence: collected at the window
    online = _online(hall)
    text = text_of(acceptance_receipt_pdf(online))
    assert "网上自动受理" in text and "电子送达" in text  # the shop licence goes into the wallet
    assert "网上上传" in text and "现场扫描" not in text


def test_delivered_result_reaches_the_wallet(hall: SimpleNamespace) -> None:
    app = _online(hall)
    shop = app.cases.get(item__code="T-SJ-003")
    lead = _co_agree_shop(hall, shop)
    do_decide_task(lead, approve=True, actor=hall.officers["T-SJ"])
    do_deliver_result(shop, actor=hall.officers["T-SJ"], method="electronic")
    assert Document.objects.filter(person=hall.person, doc_type="business_license").exists()
    html = _as(hall.resident_user).get(reverse("services:my_case", args=[shop.number])).content.decode()
    assert "已批准，结果已送达" in html


def _co_agree_shop(hall: SimpleNamespace, case: Case) -> Any:
    for task in case.tasks.filter(role=TaskRole.CO).select_related("department"):
        officer = hall.officers[task.department.code]
        do_decide_task(do_claim_task(task, actor=officer), approve=True, actor=officer)
    return do_claim_task(case.tasks.get(role=TaskRole.LEAD), actor=hall.officers["T-SJ"])


def test_the_api_finds_an_application_by_either_number(hall: SimpleNamespace) -> None:
    """GET /applications/{number}: the application number or any of its case numbers; a stranger 404s."""
    app = _online(hall)
    numbers = sorted(app.cases.values_list("number", flat=True))
    for asked in (app.number, numbers[1]):
        r = _as(hall.resident_user).get(f"{API}/applications/{asked}")
        assert r.status_code == 200, r.content
        assert r.json()["number"] == app.number and [c["number"] for c in r.json()["cases"]] == numbers
    assert _as(hall.other_user).get(f"{API}/applications/{app.number}").status_code == 404
    assert _as(hall.resident_user).get(f"{API}/applications/NOPE-1").status_code == 404
    assert _as(hall.resident_user).get(f"{API}/applications/%00").status_code in (404, 422)
