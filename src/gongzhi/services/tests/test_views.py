"""The service-hall pages: who may see each, every error path, idempotent accept, stale forms."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from gongzhi.accounts.enums import Role
from gongzhi.core.models import Timer
from gongzhi.core.tests.actors import SYSTEM as TEST_SYSTEM
from gongzhi.people.models import Document, Person
from gongzhi.services.actions import (
    Intake,
    do_claim_task,
    do_decide_task,
    do_request_supplement,
    do_submit_application,
    handle_task_overdue,
)
from gongzhi.services.enums import CaseStatus, TaskRole, TaskStatus
from gongzhi.services.models import Application, Case, Review, Task
from gongzhi.services.tests.conftest import id_number, pdf

pytestmark = pytest.mark.django_db


def _counts() -> tuple[int, int, int, int, int]:
    return (Application.objects.count(), Case.objects.count(), Task.objects.count(), Timer.objects.count(),
            Document.objects.count())


def _client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _text(response: Any) -> str:
    return response.content.decode()


@pytest.fixture
def supervisor(hall: SimpleNamespace, make_user: Any) -> Any:
    return make_user(Role.DISTRICT_SUPERVISOR, hall.tree.nanshan, username="sup")


def _window_accept(c: Client, number: str, codes: list[str], key: str, form: dict[str, str] | None = None,
                   files: dict[str, Any] | None = None, **extra: str) -> Any:
    data: dict[str, Any] = {"step": "accept", "number": number, "items": codes, "idempotency_key": key, **extra}
    for k, v in (form or {}).items():
        data[f"form-{k}"] = v
    for k, f in (files or {}).items():
        data[f"file-{k}"] = f
    return c.post(reverse("services:window"), data)


def _submit(hall: SimpleNamespace, key: str = "k", codes: list[str] | None = None) -> Case:
    intake = Intake(hall.number, codes or ["T-MZ-001"], form={"reason": "困难"}, accept_gaps=True)
    app = do_submit_application(intake, actor=hall.clerk, channel="window", idempotency_key=key)
    return app.cases.order_by("number").first()  # type: ignore[return-value]


# ------------------------------------------------------------------------------ access


@pytest.mark.parametrize(
    ("url_name", "allowed", "refused"),
    [
        ("services:window", "clerk", ["resident_user", "officer"]),
        ("services:online", "resident_user", ["clerk", "officer"]),
        ("services:my_cases", "resident_user", ["clerk", "supervisor"]),
        ("services:online_apply", "resident_user", ["clerk"]),
        ("services:tasks", "officer", ["clerk", "resident_user"]),
        ("services:board", "supervisor", ["clerk", "resident_user", "officer"]),
    ],
)
def test_pages_by_role(hall: SimpleNamespace, supervisor: Any, url_name: str, allowed: str, refused: list[str]) -> None:
    people = {"clerk": hall.clerk, "resident_user": hall.resident_user, "officer": hall.officers["T-MZ"],
              "supervisor": supervisor}
    url = reverse(url_name) + ("?items=T-MZ-001" if url_name == "services:online_apply" else "")
    anon = Client().get(url)
    assert anon.status_code == 302 and reverse("accounts:login") in anon["Location"]
    assert _client(people[allowed]).get(url).status_code == 200
    for name in refused:
        assert _client(people[name]).get(url).status_code == 404, name


def test_public_pages_need_no_login(hall: SimpleNamespace) -> None:
    assert Client().get(reverse("services:track")).status_code == 200
    assert Client().get(reverse("services:ontime")).status_code == 200


# ------------------------------------------------------------------------------ window desk


def test_window_lookup_shows_person_wallet_and_masked_number(hall: SimpleNamespace) -> None:
    _submit(hall, "earlier")
    r = _client(hall.clerk).post(reverse("services:window"), {"step": "lookup", "number": hall.number})
    html = _text(r)
    assert "张伟明" in html and hall.person.number_masked in html
    assert hall.number not in html.replace(f'value="{hall.number}"', "")  # full number only in the hidden input
    assert "居民身份证" in html and "临时救助申请" in html  # wallet and past case
    assert 'name="items" value="T-SJ-003"' in html  # the picker lists every department's items


def test_window_lookup_bad_number_names_the_fault(hall: SimpleNamespace) -> None:
    r = _client(hall.clerk).post(reverse("services:window"), {"step": "lookup", "number": hall.number[:-1] + "0"})
    assert "校验位应为 1" in _text(r)
    assert "选择办理事项" not in _text(r)


def test_window_unknown_person_asks_for_name_and_registers_at_acceptance(hall: SimpleNamespace) -> None:
    c = _client(hall.clerk)
    new = id_number("44030519920315002")
    r = c.post(reverse("services:window"), {"step": "lookup", "number": new})
    assert "尚未登记" in _text(r) and 'name="applicant_name"' in _text(r)
    r = c.post(reverse("services:window"), {"step": "pick", "number": new, "items": ["T-RS-002"]})
    assert "请填写申请人姓名" in _text(r)
    before = Person.objects.count()
    # A first-time applicant has an empty wallet: the one-time notice, and no half-registration.
    r = _window_accept(c, new, ["T-RS-002"], "new-1", {"purpose": "购房"}, applicant_name="陈新来")
    assert "一次性告知" in _text(r) and "身份证件" in _text(r) and "陈新来" in _text(r)
    assert Person.objects.count() == before and not Case.objects.exists()


def test_window_accepts_uploads_for_walk_in_from_elsewhere(hall: SimpleNamespace) -> None:
    c = _client(hall.clerk)
    new = id_number("44030519920315002")
    r = _window_accept(c, new, ["T-RS-002"], "new-2", {"purpose": "购房"}, {"id_card": pdf()},
                       applicant_name="陈新来")
    assert r.status_code == 302
    assert Case.objects.get().applicant_name == "陈新来"
    r = _window_accept(c, hall.other_number, ["T-MZ-001"], "else-1", {"reason": "困难"},
                       {"income": pdf(), "id_card": pdf()})
    assert r.status_code == 302


def test_window_form_from_schema_with_wallet_marks(hall: SimpleNamespace) -> None:
    r = _client(hall.clerk).post(reverse("services:window"),
                                 {"step": "pick", "number": hall.number, "items": ["T-MZ-001", "T-SJ-003"]})
    html = _text(r)
    assert "申请事由" in html and "家庭人口" in html and "字号名称" in html
    assert "证照库已有" in html  # the ID card is in the wallet
    assert 'name="file-income"' in html and 'name="file-tenancy"' in html
    assert 'name="file-id_card"' not in html
    assert 'name="idempotency_key"' in html and "容缺受理" in html


def test_window_pick_without_items_says_so(hall: SimpleNamespace) -> None:
    r = _client(hall.clerk).post(reverse("services:window"), {"step": "pick", "number": hall.number})
    assert "请至少选择一个办理事项" in _text(r)


def test_window_accept_two_departments_and_double_submit_makes_one(hall: SimpleNamespace) -> None:
    c = _client(hall.clerk)
    form = {"reason": "家中困难", "household_size": "3", "shop_name": "平山小卖部"}
    r = _window_accept(c, hall.number, ["T-MZ-001", "T-SJ-003"], "dbl-1", form,
                       {"income": pdf(), "tenancy": pdf("lease.pdf")})
    assert r.status_code == 302
    app = Application.objects.get()
    assert r["Location"] == reverse("services:application", args=[app.number])
    before = _counts()
    again = _window_accept(c, hall.number, ["T-MZ-001", "T-SJ-003"], "dbl-1", form,
                           {"income": pdf(), "tenancy": pdf("lease.pdf")})
    assert again.status_code == 302 and again["Location"] == r["Location"]
    assert _counts() == before and Application.objects.count() == 1
    page = _text(c.get(r["Location"]))
    for case in app.cases.all():
        assert case.number in page
    assert "年" in page and "月" in page and reverse("services:receipt_pdf", args=[app.number]) in page


def test_window_form_invalid_shows_errors_by_field_and_stores_nothing(hall: SimpleNamespace) -> None:
    before = _counts()
    r = _window_accept(_client(hall.clerk), hall.number, ["T-MZ-001"], "bad-1",
                       {"reason": "", "household_size": "99"}, {"income": pdf()})
    html = _text(r)
    assert r.status_code == 200
    assert "“申请事由”为必填项" in html and "“家庭人口”不能大于 20" in html
    assert 'id="id_form-reason_errors"' in html and 'aria-describedby="id_form-reason_errors"' in html
    assert 'value="bad-1"' in html  # the same key again: a corrected resubmit is still one case
    assert _counts() == before


def test_window_materials_missing_lists_all_once_and_stores_nothing(hall: SimpleNamespace) -> None:
    before = _counts()
    c = _client(hall.clerk)
    r = _window_accept(c, hall.other_number, ["T-MZ-001", "T-SJ-003"], "miss-1",
                       {"reason": "困难", "shop_name": "小店"})
    html = _text(r)
    assert "一次性告知" in html
    for name in ("身份证件", "收入证明", "经营场所证明"):
        assert name in html
    assert _counts() == before
    token = r.context["notice_token"]
    notice = c.post(reverse("services:notice_pdf"), {"token": token})
    assert notice.status_code == 200 and notice.content.startswith(b"%PDF")
    assert c.post(reverse("services:notice_pdf"), {"token": token + "x"}).status_code == 404


def test_window_bad_upload_is_refused(hall: SimpleNamespace) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    before = _counts()
    fake = SimpleUploadedFile("x.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    r = _window_accept(_client(hall.clerk), hall.number, ["T-MZ-001"], "up-1", {"reason": "困难"}, {"income": fake})
    assert "不支持的文件类型" in _text(r)
    assert _counts() == before


def test_receipt_pdf_for_submitter_only(hall: SimpleNamespace) -> None:
    case = _submit(hall, "rcpt")
    url = reverse("services:receipt_pdf", args=[case.application.number])
    r = _client(hall.clerk).get(url)
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf" and r.content.startswith(b"%PDF")
    assert _client(hall.resident_user).get(url).status_code == 200  # the applicant
    assert _client(hall.other_user).get(url).status_code == 404


# ------------------------------------------------------------------------------ online hall


def test_online_catalog_lists_every_item_and_bundle(hall: SimpleNamespace) -> None:
    html = _text(_client(hall.resident_user).get(reverse("services:online")))
    for name in ("临时救助申请", "社保参保证明打印", "个体工商户登记", "开办小店一件事"):
        assert name in html


def test_online_apply_for_oneself_idempotent_and_listed(hall: SimpleNamespace) -> None:
    c = _client(hall.resident_user)
    page = c.get(reverse("services:online_apply") + "?items=T-MZ-001")
    html = _text(page)
    assert "证照库已有" in html and hall.person.number_masked in html and hall.number not in html
    key = page.context["idempotency_key"]
    data = {"items": ["T-MZ-001"], "applicant": "self", "idempotency_key": key, "form-reason": "失业",
            "file-income": pdf()}
    r = c.post(reverse("services:online_apply"), data)
    assert r.status_code == 302
    data["file-income"] = pdf()
    assert c.post(reverse("services:online_apply"), data).status_code == 302
    case = Case.objects.get()
    assert case.channel == "online" and case.visits == 0
    listing = _text(c.get(reverse("services:my_cases")))
    assert case.number in listing and "已受理" in listing
    assert _client(hall.other_user).get(reverse("services:my_case", args=[case.number])).status_code == 404
    assert case.number not in _text(_client(hall.other_user).get(reverse("services:my_cases")))


def test_online_form_invalid_and_missing(hall: SimpleNamespace) -> None:
    c = _client(hall.resident_user)
    before = _counts()
    base = {"items": ["T-MZ-001"], "applicant": "self", "idempotency_key": "on-bad"}
    r = c.post(reverse("services:online_apply"), {**base, "form-household_size": "abc"})
    assert "“申请事由”为必填项" in _text(r) and "“家庭人口”应为数字" in _text(r)
    r = c.post(reverse("services:online_apply"), {**base, "form-reason": "失业"})
    assert "收入证明" in _text(r) and "一次性" in _text(r)
    assert _counts() == before


def test_online_unknown_item_goes_back_to_catalog(hall: SimpleNamespace) -> None:
    r = _client(hall.resident_user).get(reverse("services:online_apply") + "?items=NOPE")
    assert r.status_code == 302 and r["Location"] == reverse("services:online")


def test_supplement_answered_online(hall: SimpleNamespace) -> None:
    case = _submit(hall, "supp")
    lead = case.tasks.get(role=TaskRole.LEAD)
    officer = hall.officers["T-MZ"]
    do_claim_task(lead, actor=officer)
    do_request_supplement(lead, ["户口簿复印件", "近三个月收入证明"], actor=officer)
    c = _client(hall.resident_user)
    page = _text(c.get(reverse("services:my_case", args=[case.number])))
    assert "户口簿复印件" in page and "近三个月收入证明" in page
    r = c.post(reverse("services:my_case_supplement", args=[case.number]), {"file-0": pdf(), "file-1": pdf()})
    assert r.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_PROGRESS
    assert Document.objects.filter(person=hall.person, title__contains="户口簿复印件").exists()


def _close(hall: SimpleNamespace, case: Case) -> None:
    for task in case.tasks.select_related("department").order_by("role"):  # co before lead
        officer = hall.officers[task.department.code]
        do_claim_task(task, actor=officer)
        do_decide_task(task, approve=True, reason="同意", actor=officer)


def test_review_on_closed_case_once(hall: SimpleNamespace) -> None:
    case = _submit(hall, "rev")
    c = _client(hall.resident_user)
    assert "好差评" not in _text(c.get(reverse("services:my_case", args=[case.number])))
    _close(hall, case)
    assert "非常满意" in _text(c.get(reverse("services:my_case", args=[case.number])))
    r = c.post(reverse("services:my_case_review", args=[case.number]), {"level": "9"})
    assert Review.objects.count() == 0 and "评价等级应为五级之一" in _text(r)
    r = c.post(reverse("services:my_case_review", args=[case.number]), {"level": "5", "comment": "很快"})
    assert r.status_code == 302 and Review.objects.get().level == 5
    r = c.post(reverse("services:my_case_review", args=[case.number]), {"level": "1"})
    assert Review.objects.count() == 1


# ------------------------------------------------------------------------------ back office


def test_task_queue_detail_claim_and_conflict(hall: SimpleNamespace) -> None:
    case = _submit(hall, "tq")
    lead = case.tasks.get(role=TaskRole.LEAD)
    officer, second = _client(hall.officers["T-MZ"]), _client(hall.officer2)
    queue = _text(officer.get(reverse("services:tasks")))
    assert case.number in queue and "正常" in queue
    assert case.number not in _text(_client(hall.officers["T-SJ"]).get(reverse("services:tasks")))
    assert _client(hall.officers["T-SJ"]).get(reverse("services:task", args=[lead.pk])).status_code == 404
    detail = _text(officer.get(reverse("services:task", args=[lead.pk])))
    assert "申请事由" in detail and "困难" in detail and "居民身份证" in detail
    assert reverse("people:document_download", args=[case.materials.get(material__key="id_card").document_id]) in detail
    r = officer.post(reverse("services:task_claim", args=[lead.pk]), {"version": lead.version})
    assert r.status_code == 302
    r = second.post(reverse("services:task_claim", args=[lead.pk]), {"version": lead.version})
    assert f"该任务已被{hall.officers['T-MZ'].display_name}认领" in _text(r)
    lead.refresh_from_db()
    assert lead.holder_id == hall.officers["T-MZ"].pk


def test_stale_version_refused_and_reject_needs_reason(hall: SimpleNamespace) -> None:
    case = _submit(hall, "stale")
    co = case.tasks.get(role=TaskRole.CO, department=hall.hr)
    c = _client(hall.officers["T-RS"])
    c.post(reverse("services:task_claim", args=[co.pk]), {"version": co.version})
    co.refresh_from_db()
    stale = co.version - 1
    r = c.post(reverse("services:task_decide", args=[co.pk]), {"version": stale, "decision": "approve"})
    assert "任务已被他人变更" in _text(r)
    r = c.post(reverse("services:task_supplement", args=[co.pk]), {"version": stale, "items": "户口簿"})
    assert "任务已被他人变更" in _text(r)
    co.refresh_from_db()
    assert co.status == TaskStatus.CLAIMED and not co.supplements.exists()
    r = c.post(reverse("services:task_decide", args=[co.pk]), {"version": co.version, "decision": "reject"})
    assert "不予许可必须说明理由" in _text(r)
    r = c.post(reverse("services:task_decide", args=[co.pk]), {"version": co.version})
    assert "请选择同意或不同意" in _text(r)
    co.refresh_from_db()
    assert co.status == TaskStatus.CLAIMED
    r = c.post(reverse("services:task_decide", args=[co.pk]),
               {"version": co.version, "decision": "reject", "reason": "不符合条件"})
    assert r.status_code == 302
    co.refresh_from_db()
    assert co.status == TaskStatus.REJECTED


def test_supplement_request_from_back_office(hall: SimpleNamespace) -> None:
    case = _submit(hall, "bo-supp")
    lead = case.tasks.get(role=TaskRole.LEAD)
    c = _client(hall.officers["T-MZ"])
    c.post(reverse("services:task_claim", args=[lead.pk]), {"version": lead.version})
    lead.refresh_from_db()
    r = c.post(reverse("services:task_supplement", args=[lead.pk]), {"version": lead.version, "items": "  \n "})
    assert "请列明需补正的全部材料" in _text(r)
    r = c.post(reverse("services:task_supplement", args=[lead.pk]),
               {"version": lead.version, "items": "户口簿\n收入证明原件\n"})
    assert r.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.SUPPLEMENT
    assert case.supplements.get().items == ["户口簿", "收入证明原件"]


# ------------------------------------------------------------------------------ board


def test_board_figures_current_and_overdue_trace(hall: SimpleNamespace, supervisor: Any) -> None:
    case = _submit(hall, "board")
    lead = case.tasks.get(role=TaskRole.LEAD)
    do_claim_task(lead, actor=hall.officers["T-MZ"])
    handle_task_overdue(SimpleNamespace(payload={"task": lead.pk}))
    c = _client(supervisor)
    r = c.get(reverse("services:board"))
    html = _text(r)
    assert {m.key: m.denominator for m in r.context["measures_list"]}["one_visit"] == 1
    assert "民政局" in html and case.number in html and "已超时" in html
    assert hall.officers["T-MZ"].display_name in html
    r = c.get(reverse("services:board") + f"?department={hall.market.pk}")
    assert case.number not in _text(r)
    outsider = _client(hall.other_user)
    assert outsider.get(reverse("services:board")).status_code == 404


# ------------------------------------------------------------------------------ public


def test_track_shows_progress_never_personal_data(hall: SimpleNamespace) -> None:
    case = _submit(hall, "track")
    c = Client()
    r = c.get(reverse("services:track"), {"number": case.number, "tail": hall.number[-4:]})
    html = _text(r)
    assert "临时救助申请" in html and "已受理" in html and "民政局" in html
    assert "张伟明" not in html and hall.person.number_masked not in html
    r = c.get(reverse("services:track"), {"number": case.number, "tail": "0000"})
    assert "没有查到该办件" in _text(r) and "临时救助申请" not in _text(r)
    r = c.get(reverse("services:track"), {"number": case.number, "tail": "12"})
    assert r.status_code == 200 and "临时救助申请" not in _text(r)


def test_track_is_rate_limited(hall: SimpleNamespace) -> None:
    from django.core.cache import cache

    cache.clear()
    c = Client()
    for _ in range(30):
        c.get(reverse("services:track"), {"number": "GZ1", "tail": "0000"})
    r = c.get(reverse("services:track"), {"number": "GZ1", "tail": "0000"})
    assert r.status_code == 429 and "查询过于频繁" in _text(r)
    cache.clear()


def test_ontime_published(hall: SimpleNamespace) -> None:
    case = _submit(hall, "ontime")
    _close(hall, case)
    from gongzhi.services.stats import fold_dirty_cases

    fold_dirty_cases()
    html = _text(Client().get(reverse("services:ontime")))
    assert "民政局" in html and "100.0%" in html


def test_instant_item_closes_on_the_spot(hall: SimpleNamespace) -> None:
    r = _window_accept(_client(hall.clerk), hall.number, ["T-RS-002"], "instant", {"purpose": "购房"})
    assert r.status_code == 302
    assert Case.objects.get().status == CaseStatus.APPROVED
    assert Task.objects.filter(status=TaskStatus.APPROVED).exists()


def test_enterprise_agent_applies_for_their_organisation(hall: SimpleNamespace, make_user: Any) -> None:
    from gongzhi.core.domain.identifiers import uscc_check_character
    from gongzhi.people.actions import do_add_agent, do_register_organisation
    from gongzhi.services.models import ServiceItem

    body = "91440300MA5D" + "ABCDE"
    uscc = body + uscc_check_character(body)
    org = do_register_organisation(uscc, "平山科技有限公司", "enterprise", hall.tree.pingshan, actor=TEST_SYSTEM)
    agent = make_user(Role.ENTERPRISE_AGENT, hall.tree.pingshan, username="agent")
    do_add_agent(org, agent, actor=TEST_SYSTEM)
    ServiceItem.objects.filter(code="T-MZ-001").update(applicant_type="both")
    c = _client(agent)
    page = c.get(reverse("services:online_apply") + "?items=T-MZ-001")
    assert "平山科技有限公司" in _text(page)
    r = c.post(reverse("services:online_apply"), {
        "items": ["T-MZ-001"], "applicant": uscc, "idempotency_key": "agent-1", "form-reason": "经营困难",
        "file-id_card": pdf(), "file-income": pdf(),
    })
    assert r.status_code == 302
    case = Case.objects.get()
    assert case.applicant_org_id == org.pk and case.channel == "online"
    assert case.number in _text(c.get(reverse("services:my_cases")))
    # Someone else's organisation is not offered and cannot be chosen by typing its code.
    outsider = _client(hall.resident_user)
    r = outsider.post(reverse("services:online_apply"), {
        "items": ["T-MZ-001"], "applicant": uscc, "idempotency_key": "agent-2", "form-reason": "x",
    })
    assert Case.objects.count() == 1 and "平山科技有限公司" not in _text(r)
