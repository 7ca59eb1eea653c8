"""送达: the back office's last step — who may deliver, each method, once only; API and page."""

from __future__ import annotations

import importlib
import json
import re
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Sum
from django.forms.models import model_to_dict
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime

from gongzhi.accounts.actions import do_issue_api_token
from gongzhi.accounts.enums import Role
from gongzhi.core.models import AuditEvent
from gongzhi.core.tests.actors import SYSTEM as TEST_SYSTEM
from gongzhi.people.models import Document
from gongzhi.services.actions import (
    Intake,
    do_claim_task,
    do_decide_task,
    do_deliver_result,
    do_submit_application,
)
from gongzhi.services.enums import CaseStatus, DeliveryMethod, TaskRole
from gongzhi.services.errors import InvalidInput, NotAllowed, TaskConflict
from gongzhi.services.models import Case, MonthlyFigure, Notification
from gongzhi.services.stats import fold_dirty_cases

pytestmark = pytest.mark.django_db
BASE = "/api/v1/services"
ADDRESS = "广东省深圳市南山区桃源街道平山一路8号"


# ------------------------------------------------------------------------------ helpers


def _instant_case(hall: SimpleNamespace, key: str = "inst") -> Case:
    """Applied online, decided on the spot: approved, lead department 人社 (T-RS), licence in the
    wallet, no visit so far."""
    intake = Intake(hall.number, ["T-RS-002"], form={"purpose": "入学"})
    app = do_submit_application(intake, actor=hall.resident_user, channel="online", idempotency_key=key)
    case = app.cases.get()
    assert case.status == CaseStatus.APPROVED and case.visits == 0
    return case


def _submitted(hall: SimpleNamespace, key: str = "win") -> Case:
    """Accepted at the window (one visit): lead 民政 (T-MZ), co-processors 人社 and 住建."""
    intake = Intake(hall.number, ["T-MZ-001"], form={"reason": "困难"}, accept_gaps=True)
    app = do_submit_application(intake, actor=hall.clerk, channel="window", idempotency_key=key)
    return app.cases.get()


def _decide(hall: SimpleNamespace, case: Case, *, approve: bool = True) -> Case:
    for task in case.tasks.select_related("department").order_by("role"):  # co before lead
        officer = hall.officers[task.department.code]
        do_claim_task(task, actor=officer)
        lead = task.role == TaskRole.LEAD
        do_decide_task(task, approve=approve or not lead, reason="符合条件" if approve or not lead else "材料不实",
                       actor=officer)
    case.refresh_from_db()
    return case


def _state(case: Case) -> tuple[Any, ...]:
    """Everything a delivery may change: a refused delivery must leave all of it as it was."""
    fresh = Case.objects.get(pk=case.pk)
    events = AuditEvent.objects.filter(object_type="services.case", object_id=str(case.pk)).count()
    return (fresh.status, fresh.version, fresh.visits, fresh.stats_dirty, fresh.delivered_at, fresh.delivery_method,
            events, Notification.objects.filter(case=case).count())


def _deliveries(case: Case) -> list[dict[str, Any]]:
    events = AuditEvent.objects.filter(verb="case.deliver", object_type="services.case", object_id=str(case.pk))
    return [e.after for e in events.order_by("pk")]


def _last_note(case: Case) -> Notification:
    note = Notification.objects.filter(case=case).order_by("-pk").first()
    assert note is not None
    return note


# ------------------------------------------------------------------------------ the action


def test_electronic_delivery_by_the_lead_department(hall: SimpleNamespace) -> None:
    case = _instant_case(hall)
    assert Document.objects.filter(person=hall.person, doc_type="social_insurance").exists()  # the licence
    fold_dirty_cases()
    version = Case.objects.get(pk=case.pk).version
    delivered = do_deliver_result(case, actor=hall.officers["T-RS"], method=DeliveryMethod.ELECTRONIC,
                                  expected_version=version)
    assert delivered.status == CaseStatus.DELIVERED and delivered.version == version + 1
    fresh = Case.objects.get(pk=case.pk)
    assert fresh.status == CaseStatus.DELIVERED
    assert fresh.visits == 0 and not fresh.stats_dirty  # 零跑动 stays 零跑动; nothing to recount
    assert _deliveries(case) == [{"method": "electronic"}]
    note = _last_note(case)
    assert note.subject == "办理结果已送达" and note.recipient == "张伟明"
    assert case.number in note.body and "证照库" in note.body


def test_window_pickup_counts_one_visit_and_is_recounted(hall: SimpleNamespace) -> None:
    case = _instant_case(hall)
    fold_dirty_cases()
    figures = MonthlyFigure.objects.aggregate(zero=Sum("zero_visit"), one=Sum("max_one_visit"))
    assert figures == {"zero": 1, "one": 1}
    do_deliver_result(case, actor=hall.clerk, method=DeliveryMethod.WINDOW)
    fresh = Case.objects.get(pk=case.pk)
    assert fresh.status == CaseStatus.DELIVERED and fresh.visits == 1 and fresh.stats_dirty
    assert _deliveries(case) == [{"method": "window"}]
    assert "窗口领取" in _last_note(case).body
    assert fold_dirty_cases() == 1
    figures = MonthlyFigure.objects.aggregate(zero=Sum("zero_visit"), one=Sum("max_one_visit"))
    assert figures == {"zero": 0, "one": 1}  # no longer 零跑动, still 最多跑一次


def test_window_pickup_after_window_intake_is_the_second_visit(hall: SimpleNamespace) -> None:
    case = _decide(hall, _submitted(hall))
    assert case.status == CaseStatus.APPROVED and case.visits == 1
    do_deliver_result(case, actor=hall.officers["T-MZ"], method="窗口领取")  # the Chinese label works too
    assert Case.objects.get(pk=case.pk).visits == 2
    assert _deliveries(case) == [{"method": "window"}]


def test_mail_needs_an_address_and_keeps_it_in_the_audit(hall: SimpleNamespace) -> None:
    case = _instant_case(hall)
    before = _state(case)
    for blank in ("", "   "):
        with pytest.raises(InvalidInput) as err:
            do_deliver_result(case, actor=hall.officers["T-RS"], method=DeliveryMethod.MAIL, address=blank)
        assert err.value.field == "address" and "收件地址" in err.value.message
    with pytest.raises(InvalidInput) as err:
        do_deliver_result(case, actor=hall.officers["T-RS"], method=DeliveryMethod.MAIL, address="地" * 201)
    assert err.value.field == "address"
    assert _state(case) == before
    do_deliver_result(case, actor=hall.officers["T-RS"], method=DeliveryMethod.MAIL, address=f"  {ADDRESS} ")
    fresh = Case.objects.get(pk=case.pk)
    assert fresh.status == CaseStatus.DELIVERED and fresh.visits == 0
    assert _deliveries(case) == [{"method": "mail", "address": ADDRESS}]
    assert ADDRESS in _last_note(case).body


def test_chinese_label_accepted_whatever_the_language(hall: SimpleNamespace) -> None:
    case = _instant_case(hall)
    with translation.override("en"):
        do_deliver_result(case, actor=hall.officers["T-RS"], method="邮寄送达", address=ADDRESS)
    assert _deliveries(case) == [{"method": "mail", "address": ADDRESS}]
    assert Case.objects.get(pk=case.pk).delivery_method == "mail"  # the value, not the label


@pytest.mark.parametrize("method", ["", "fax", "电子邮件", "ELECTRONIC"])
def test_unknown_method_is_refused(hall: SimpleNamespace, method: str) -> None:
    case = _instant_case(hall)
    before = _state(case)
    with pytest.raises(InvalidInput) as err:
        do_deliver_result(case, actor=hall.officers["T-RS"], method=method)
    assert err.value.field == "method"
    assert "电子送达" in err.value.message and "窗口领取" in err.value.message and "邮寄送达" in err.value.message
    assert _state(case) == before


def test_officer_of_another_department_may_not_deliver(hall: SimpleNamespace) -> None:
    case = _decide(hall, _submitted(hall))
    before = _state(case)
    # 人社 co-processed this case and 市场监管 has nothing to do with it: neither hands it out,
    # although both sit over the whole district.
    for code in ("T-RS", "T-SJ"):
        with pytest.raises(NotAllowed) as err:
            do_deliver_result(case, actor=hall.officers[code], method=DeliveryMethod.ELECTRONIC)
        assert err.value.field == "case" and "主办部门" in err.value.message
    assert _state(case) == before
    do_deliver_result(case, actor=hall.officer2, method=DeliveryMethod.ELECTRONIC)  # any officer of 民政
    assert Case.objects.get(pk=case.pk).status == CaseStatus.DELIVERED


def test_resident_and_clerk_out_of_scope_may_not_deliver(
    hall: SimpleNamespace, make_user: Callable[..., Any]
) -> None:
    case = _instant_case(hall)
    before = _state(case)
    far_clerk = make_user(Role.WINDOW_CLERK, hall.tree.wenhua, username="clerk_luohu")
    for actor in (hall.resident_user, hall.other_user, far_clerk, "worker"):
        with pytest.raises(NotAllowed) as err:
            do_deliver_result(case, actor=actor, method=DeliveryMethod.ELECTRONIC)
        assert err.value.field == "case"
    assert _state(case) == before


def test_only_approved_cases_are_delivered(hall: SimpleNamespace) -> None:
    pending = _submitted(hall, "pending")
    before = _state(pending)
    with pytest.raises(NotAllowed) as err:
        do_deliver_result(pending, actor=hall.officers["T-MZ"], method=DeliveryMethod.WINDOW)
    assert "只有准予许可" in err.value.message and "已受理" in err.value.message
    assert _state(pending) == before

    rejected = _decide(hall, _submitted(hall, "rejected"), approve=False)
    assert rejected.status == CaseStatus.REJECTED
    before = _state(rejected)
    with pytest.raises(NotAllowed) as err:
        do_deliver_result(rejected, actor=hall.officers["T-MZ"], method=DeliveryMethod.MAIL, address=ADDRESS)
    assert "只有准予许可" in err.value.message and "不予许可" in err.value.message
    assert _state(rejected) == before


def test_second_delivery_is_refused_and_changes_nothing(hall: SimpleNamespace) -> None:
    case = _instant_case(hall)
    do_deliver_result(case, actor=hall.clerk, method=DeliveryMethod.WINDOW)
    before = _state(case)
    for method in (DeliveryMethod.WINDOW, DeliveryMethod.ELECTRONIC):
        with pytest.raises(NotAllowed) as err:
            do_deliver_result(case, actor=hall.officers["T-RS"], method=method)
        assert err.value.message == f"办件 {case.number} 的办理结果已经送达，不能重复送达"
    assert _state(case) == before
    assert Case.objects.get(pk=case.pk).visits == 1
    assert len(_deliveries(case)) == 1


@pytest.mark.django_db(transaction=True)
def test_two_deliveries_at_once_count_one_visit(hall: SimpleNamespace) -> None:
    if connection.vendor == "sqlite" and "memory" in str(connection.settings_dict["NAME"]):
        pytest.skip("in-memory SQLite shares one connection between threads")
    case = _instant_case(hall)
    results: list[str] = []
    barrier = threading.Barrier(2)

    def deliver(user: object) -> None:
        from django.db import connections

        barrier.wait()
        try:
            do_deliver_result(case, actor=user, method=DeliveryMethod.WINDOW)
            results.append("delivered")
        except NotAllowed as err:
            results.append(err.message)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=deliver, args=(u,)) for u in (hall.clerk, hall.officers["T-RS"])]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["delivered", f"办件 {case.number} 的办理结果已经送达，不能重复送达"]
    fresh = Case.objects.get(pk=case.pk)
    assert fresh.status == CaseStatus.DELIVERED and fresh.visits == 1
    assert len(_deliveries(case)) == 1 and Notification.objects.filter(subject="办理结果已送达").count() == 1


def test_stale_version_is_a_conflict(hall: SimpleNamespace) -> None:
    case = _instant_case(hall)
    before = _state(case)
    with pytest.raises(TaskConflict) as err:
        do_deliver_result(case, actor=hall.clerk, method=DeliveryMethod.WINDOW, expected_version=case.version + 1)
    assert "已被他人变更" in err.value.message
    assert _state(case) == before


# ------------------------------------------------------------------------------ API


class Api:
    def __init__(self, user: Any, *, session: bool = False) -> None:
        self.client = Client()
        self.headers: dict[str, str] = {}
        if session:
            self.client.force_login(user)
        else:
            _row, secret = do_issue_api_token(user, "送达测试", actor=TEST_SYSTEM)
            self.headers["Authorization"] = f"Bearer {secret}"

    def deliver(self, number: str, body: Any) -> Any:
        data = body if isinstance(body, str) else json.dumps(body)
        return self.client.post(f"{BASE}/cases/{number}/deliver", data, content_type="application/json",
                                headers=self.headers)


def _messages(response: Any) -> list[tuple[str, str]]:
    return [(d["field"], d["message"]) for d in response.json()["detail"]]


def test_api_delivers_and_answers_with_the_case(hall: SimpleNamespace) -> None:
    case = _instant_case(hall)
    clerk = Api(hall.clerk)
    shown = clerk.client.get(f"{BASE}/cases/{case.number}", headers=clerk.headers).json()
    assert shown["status"] == "approved" and shown["visits"] == 0
    r = clerk.deliver(case.number, {"method": "window", "expected_version": shown["version"]})
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["number"] == case.number and body["status"] == "delivered" and body["visits"] == 1
    assert body["status_display"] == "已送达" and body["version"] == shown["version"] + 1
    assert _deliveries(case) == [{"method": "window"}]


def test_api_mail_needs_an_address(hall: SimpleNamespace) -> None:
    case = _instant_case(hall)
    api = Api(hall.officers["T-RS"])
    before = _state(case)
    r = api.deliver(case.number, {"method": "mail"})
    assert r.status_code == 422 and _messages(r) == [("address", "邮寄送达须填写收件地址")]
    r = api.deliver(case.number, {"method": "mail", "address": "平山\x00一路"})
    assert r.status_code == 422 and _messages(r)[0][0] == "address"
    assert _state(case) == before
    r = api.deliver(case.number, {"method": "mail", "address": ADDRESS})
    assert r.status_code == 200 and r.json()["status"] == "delivered"
    assert _deliveries(case) == [{"method": "mail", "address": ADDRESS}]


def test_api_refusals(hall: SimpleNamespace) -> None:
    case = _instant_case(hall)
    before = _state(case)
    clerk = Api(hall.clerk)
    # Bad input: 422 naming the field (ninja's own validation speaks the same shape).
    r = clerk.deliver(case.number, {"method": "fax"})
    assert r.status_code == 422 and [f for f, _m in _messages(r)] == ["method"]
    r = clerk.deliver(case.number, {})
    assert r.status_code == 422 and [f for f, _m in _messages(r)] == ["method"]
    r = clerk.deliver(case.number, "{not json")
    assert r.status_code == 400
    # Sees the case, may not deliver it: 403 — the applicant, an officer of another department.
    r = Api(hall.resident_user, session=True).deliver(case.number, {"method": "electronic"})
    assert r.status_code == 403 and "主办部门" in _messages(r)[0][1]
    r = Api(hall.officers["T-MZ"]).deliver(case.number, {"method": "electronic"})
    assert r.status_code == 403 and _messages(r)[0][0] == "case"
    # Not theirs to see, or no such case: 404, never 403.
    assert Api(hall.other_user, session=True).deliver(case.number, {"method": "electronic"}).status_code == 404
    assert clerk.deliver("GZ000000000000000", {"method": "electronic"}).status_code == 404
    # Someone changed the case since it was shown: 409.
    r = clerk.deliver(case.number, {"method": "electronic", "expected_version": case.version + 3})
    assert r.status_code == 409 and "已被他人变更" in _messages(r)[0][1]
    assert _state(case) == before
    # Delivered once; the second time is refused by name and changes nothing.
    assert clerk.deliver(case.number, {"method": "electronic"}).status_code == 200
    before = _state(case)
    r = clerk.deliver(case.number, {"method": "window"})
    assert r.status_code == 403 and "不能重复送达" in _messages(r)[0][1]
    assert _state(case) == before


def test_api_wrong_status_is_403(hall: SimpleNamespace) -> None:
    case = _submitted(hall)
    r = Api(hall.officers["T-MZ"]).deliver(case.number, {"method": "electronic"})
    assert r.status_code == 403 and "只有准予许可" in _messages(r)[0][1]
    assert Case.objects.get(pk=case.pk).status == CaseStatus.ACCEPTED


def test_api_session_needs_csrf(hall: SimpleNamespace) -> None:
    case = _instant_case(hall)
    c = Client(enforce_csrf_checks=True)
    c.force_login(hall.clerk)
    r = c.post(f"{BASE}/cases/{case.number}/deliver", json.dumps({"method": "window"}),
               content_type="application/json")
    assert r.status_code == 403
    assert Case.objects.get(pk=case.pk).status == CaseStatus.APPROVED


def test_openapi_documents_the_operation(hall: SimpleNamespace) -> None:
    schema = Client().get("/api/v1/openapi.json").json()
    operation = schema["paths"][f"{BASE}/cases/{{number}}/deliver"]["post"]
    assert {"200", "400", "403", "404", "409", "422"} <= set(operation["responses"])
    assert "送达" in operation["summary"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    ref = body["$ref"].rsplit("/", 1)[-1]
    props = schema["components"]["schemas"][ref]["properties"]
    assert set(props) == {"method", "address", "expected_version"}


# ------------------------------------------------------------------------------ the page


def _page(c: Client, task_id: int) -> str:
    return c.get(reverse("services:task", args=[task_id])).content.decode()


def test_deliver_form_shown_only_when_approved_and_to_the_lead(hall: SimpleNamespace) -> None:
    case = _submitted(hall)
    lead = case.tasks.get(role=TaskRole.LEAD)
    co = case.tasks.get(role=TaskRole.CO, department=hall.hr)
    officer = Client()
    officer.force_login(hall.officers["T-MZ"])
    url = reverse("services:task_deliver", args=[lead.pk])
    assert url not in _page(officer, lead.pk)  # still being handled
    _decide(hall, case)
    page = _page(officer, lead.pk)
    assert url in page and "送达办理结果" in page and "窗口领取" in page and "邮寄送达" in page
    assert 'name="csrfmiddlewaretoken"' in page
    assert f'name="version" value="{Case.objects.get(pk=case.pk).version}"' in page
    form = page[page.index(url):]
    form = form[: form.index("</form>")]
    assert "<script" not in form and "style=" not in form  # strict CSP
    co_officer = Client()
    co_officer.force_login(hall.officers["T-RS"])
    assert reverse("services:task_deliver", args=[co.pk]) not in _page(co_officer, co.pk)


def test_deliver_from_the_page(hall: SimpleNamespace) -> None:
    case = _decide(hall, _submitted(hall))
    lead = case.tasks.get(role=TaskRole.LEAD)
    c = Client()
    c.force_login(hall.officers["T-MZ"])
    url = reverse("services:task_deliver", args=[lead.pk])
    before = _state(case)

    r = c.post(url, {"version": case.version, "method": "mail", "address": " "})
    assert r.status_code == 200 and "邮寄送达须填写收件地址" in r.content.decode()
    r = c.post(url, {"version": case.version, "method": ""})
    assert r.status_code == 200 and "请选择送达方式" in r.content.decode()
    r = c.post(url, {"version": case.version - 1, "method": "window"})
    assert r.status_code == 200 and "办件已被他人变更" in r.content.decode()
    assert _state(case) == before

    r = c.post(url, {"version": case.version, "method": "mail", "address": ADDRESS}, follow=True)
    assert r.redirect_chain == [(reverse("services:task", args=[lead.pk]), 302)]
    page = r.content.decode()
    assert "办理结果已送达（邮寄送达），已通知申请人。" in page
    assert url not in page  # delivered: the form is gone
    assert Case.objects.get(pk=case.pk).status == CaseStatus.DELIVERED
    assert _deliveries(case) == [{"method": "mail", "address": ADDRESS}]

    before = _state(case)
    r = c.post(url, {"version": case.version + 1, "method": "window"})
    assert r.status_code == 200 and "不能重复送达" in r.content.decode()
    assert _state(case) == before


def test_page_refuses_co_processor_and_needs_csrf(hall: SimpleNamespace) -> None:
    case = _decide(hall, _submitted(hall))
    co = case.tasks.get(role=TaskRole.CO, department=hall.hr)
    before = _state(case)
    c = Client()
    c.force_login(hall.officers["T-RS"])
    r = c.post(reverse("services:task_deliver", args=[co.pk]), {"version": case.version, "method": "window"})
    assert r.status_code == 200 and "主办部门" in r.content.decode()
    # Another department's task is not even visible; a clerk has no back-office page.
    lead = case.tasks.get(role=TaskRole.LEAD)
    r = c.post(reverse("services:task_deliver", args=[lead.pk]), {"version": case.version, "method": "window"})
    assert r.status_code == 404
    clerk = Client()
    clerk.force_login(hall.clerk)
    r = clerk.post(reverse("services:task_deliver", args=[lead.pk]), {"version": case.version, "method": "window"})
    assert r.status_code == 404
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(hall.officers["T-MZ"])
    r = strict.post(reverse("services:task_deliver", args=[lead.pk]), {"version": case.version, "method": "window"})
    assert r.status_code == 403
    assert strict.get(reverse("services:task_deliver", args=[lead.pk])).status_code == 405
    assert _state(case) == before


# ------------------------------------------------------------------------------ the window desk (统一出件)


def _window(c: Client, number: str) -> str:
    r = c.post(reverse("services:window"), {"step": "lookup", "number": number})
    assert r.status_code == 200
    return r.content.decode()


def _action(url: str) -> str:
    return f'action="{url}"'


def _pickup(c: Client, case: Case, number: str, **extra: Any) -> Any:
    data = {"version": case.version, "method": "window", "number": number, **extra}
    return c.post(reverse("services:window_pickup", args=[case.number]), data)


def test_window_shows_pickup_only_for_approved_cases_in_scope(hall: SimpleNamespace) -> None:
    approved = _instant_case(hall)
    accepted = _submitted(hall)
    assert accepted.status == CaseStatus.ACCEPTED
    c = Client()
    c.force_login(hall.clerk)
    page = _window(c, hall.number)
    url = reverse("services:window_pickup", args=[approved.number])
    assert accepted.number in page and approved.number in page
    assert _action(url) in page and "窗口领取" in page
    assert _action(reverse("services:window_pickup", args=[accepted.number])) not in page
    form = page[page.index(url):]
    form = form[: form.index("</form>")]
    assert 'name="csrfmiddlewaretoken"' in form and 'name="method" value="window"' in form
    assert f'name="version" value="{Case.objects.get(pk=approved.pk).version}"' in form
    assert "<script" not in form and "style=" not in form  # strict CSP


def test_window_pickup_delivers_and_shows_the_applicant_again(hall: SimpleNamespace) -> None:
    case = _instant_case(hall)
    case.refresh_from_db()
    c = Client()
    c.force_login(hall.clerk)
    r = _pickup(c, case, hall.number)
    assert r.status_code == 200
    page = r.content.decode()
    assert f"办件 {case.number} 已窗口领取（计一次跑动）" in page
    assert "张伟明" in page and "已送达" in page  # the same applicant, the case now delivered
    assert _action(reverse("services:window_pickup", args=[case.number])) not in page
    fresh = Case.objects.get(pk=case.pk)
    assert fresh.status == CaseStatus.DELIVERED and fresh.visits == case.visits + 1
    assert _deliveries(case) == [{"method": "window"}]
    # Posted again (a reload): refused by name, nothing changes.
    before = _state(case)
    r = _pickup(c, case, hall.number)
    assert "不能重复送达" in r.content.decode() and _state(case) == before


def test_window_pickup_in_english(hall: SimpleNamespace) -> None:
    case = _instant_case(hall)
    case.refresh_from_db()
    c = Client()
    c.force_login(hall.clerk)
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert "Hand over at the window" in _window(c, hall.number)
    r = _pickup(c, case, hall.number)
    assert f"Case {case.number} collected at the window (counted as one visit)" in r.content.decode()


def test_window_pickup_refusals_change_nothing(hall: SimpleNamespace, make_user: Callable[..., Any]) -> None:
    from gongzhi.accounts.actions import do_assign_role

    case = _instant_case(hall)
    case.refresh_from_db()
    before = _state(case)
    # A clerk of 罗湖 who also supervises 平山: sees the case, but it is not his window's to hand out.
    far_clerk = make_user(Role.WINDOW_CLERK, hall.tree.wenhua, username="clerk_luohu")
    do_assign_role(far_clerk, Role.COMMUNITY_SUPERVISOR, hall.tree.pingshan, actor=TEST_SYSTEM)
    c = Client()
    c.force_login(far_clerk)
    assert _action(reverse("services:window_pickup", args=[case.number])) not in _window(c, hall.number)
    r = _pickup(c, case, hall.number)
    assert r.status_code == 200 and "只有主办部门审批人员或本辖区综合窗口人员可以送达办理结果" in r.content.decode()
    # A clerk who cannot see the case at all, and a resident: 404.
    plain = Client()
    plain.force_login(make_user(Role.WINDOW_CLERK, hall.tree.wenhua, username="clerk_wenhua"))
    assert _pickup(plain, case, hall.number).status_code == 404
    resident = Client()
    resident.force_login(hall.resident_user)
    assert _pickup(resident, case, hall.number).status_code == 404
    # Our own clerk, but a stale version or a tampered method.
    mine = Client()
    mine.force_login(hall.clerk)
    r = _pickup(mine, case, hall.number, version=case.version - 1)
    assert "办件已被他人变更" in r.content.decode()
    r = _pickup(mine, case, hall.number, method="mail")
    assert "窗口领取请求无效" in r.content.decode() and "张伟明" in r.content.decode()
    assert _state(case) == before


def test_window_pickup_needs_post_and_csrf(hall: SimpleNamespace) -> None:
    case = _instant_case(hall)
    case.refresh_from_db()
    before = _state(case)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(hall.clerk)
    url = reverse("services:window_pickup", args=[case.number])
    assert strict.get(url).status_code == 405
    assert _pickup(strict, case, hall.number).status_code == 403
    assert _state(case) == before


# ------------------------------------------------------------------------------ when and how: on the case, on the pages

SH = ZoneInfo("Asia/Shanghai")
# 2026-11-26 16:30 UTC is already the 27th in Shenzhen: a page showing UTC would show the wrong day.
MOMENT = datetime(2026, 11, 26, 16, 30, 15, tzinfo=UTC)


def _deliver_at(moment: datetime, monkeypatch: pytest.MonkeyPatch, case: Case, **kwargs: Any) -> Case:
    with monkeypatch.context() as m:
        m.setattr(timezone, "now", lambda: moment)
        return do_deliver_result(case, **kwargs)


def _delivery_line(page: str) -> tuple[str, str] | None:
    """The (label, text) of the delivery line of a facts list, or None when there is none."""
    found = re.findall(r'<dt>([^<]*)</dt><dd class="delivery">([^<]*)</dd>', page)
    assert len(found) <= 1
    return found[0] if found else None


def _track(c: Client, case: Case, hall: SimpleNamespace) -> str:
    r = c.get(reverse("services:track"), {"number": case.number, "tail": hall.number[-4:]})
    assert r.status_code == 200
    return r.content.decode()


@pytest.fixture
def track_budget() -> Any:
    cache.clear()  # public lookups are rate-limited per address in the shared cache
    yield
    cache.clear()


@pytest.mark.parametrize(("method", "by_clerk", "address"), [
    (DeliveryMethod.ELECTRONIC, False, ""),
    (DeliveryMethod.WINDOW, True, ""),
    (DeliveryMethod.MAIL, False, ADDRESS),
])
def test_delivery_keeps_when_and_how_on_the_case(
    hall: SimpleNamespace, method: DeliveryMethod, by_clerk: bool, address: str
) -> None:
    case = _instant_case(hall)
    fresh = Case.objects.get(pk=case.pk)
    assert fresh.delivered_at is None and fresh.delivery_method == ""
    start = timezone.now()
    delivered = do_deliver_result(case, actor=hall.clerk if by_clerk else hall.officers["T-RS"], method=method,
                                  address=address)
    end = timezone.now()
    fresh = Case.objects.get(pk=case.pk)
    assert fresh.delivery_method == method.value and fresh.get_delivery_method_display() == method.label
    assert fresh.delivered_at is not None and start <= fresh.delivered_at <= end
    assert (delivered.delivered_at, delivered.delivery_method) == (fresh.delivered_at, method.value)
    # The postal address stays in the audit event only: no column of the case holds it.
    assert ADDRESS not in json.dumps(model_to_dict(fresh), ensure_ascii=False, default=str)


def test_refused_delivery_sets_neither_and_a_second_keeps_the_first(hall: SimpleNamespace) -> None:
    case = _instant_case(hall)
    refusals: list[dict[str, Any]] = [
        {"actor": hall.other_user, "method": DeliveryMethod.ELECTRONIC},  # not allowed
        {"actor": hall.clerk, "method": DeliveryMethod.MAIL},  # no address
        {"actor": hall.clerk, "method": DeliveryMethod.WINDOW, "expected_version": case.version + 1},  # stale
    ]
    for kwargs in refusals:
        with pytest.raises((NotAllowed, InvalidInput, TaskConflict)):
            do_deliver_result(case, **kwargs)
        fresh = Case.objects.get(pk=case.pk)
        assert (fresh.status, fresh.delivered_at, fresh.delivery_method) == (CaseStatus.APPROVED, None, "")
    do_deliver_result(case, actor=hall.clerk, method=DeliveryMethod.WINDOW)
    first = Case.objects.get(pk=case.pk)
    with pytest.raises(NotAllowed):
        do_deliver_result(case, actor=hall.officers["T-RS"], method=DeliveryMethod.MAIL, address=ADDRESS)
    again = Case.objects.get(pk=case.pk)
    assert (again.delivered_at, again.delivery_method) == (first.delivered_at, "window")


def test_progress_page_shows_how_and_when_never_where_or_who(
    hall: SimpleNamespace, monkeypatch: pytest.MonkeyPatch, track_budget: Any
) -> None:
    case = _instant_case(hall)
    c = Client()
    page = _track(c, case, hall)
    assert "社保参保证明打印" in page and _delivery_line(page) is None  # not delivered yet
    officer = hall.officers["T-RS"]
    _deliver_at(MOMENT, monkeypatch, case, actor=officer, method=DeliveryMethod.MAIL, address=ADDRESS)
    page = _track(c, case, hall)
    assert _delivery_line(page) == ("已送达", "邮寄送达 · 2026年11月27日 00:30")  # Shenzhen time
    assert ADDRESS not in page and "平山一路" not in page
    assert officer.username not in page and "张伟明" not in page
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hant"
    assert _delivery_line(_track(c, case, hall)) == ("已送達", "郵寄送達 · 2026年11月27日 00:30")
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert _delivery_line(_track(c, case, hall)) == ("Delivered", "Delivery by post · 27 November 2026 00:30")


def test_own_case_page_and_back_office_show_it_too(hall: SimpleNamespace, monkeypatch: pytest.MonkeyPatch) -> None:
    case = _instant_case(hall)
    resident = Client()
    resident.force_login(hall.resident_user)
    officer = Client()
    officer.force_login(hall.officers["T-RS"])
    own = reverse("services:my_case", args=[case.number])
    back = reverse("services:task", args=[case.tasks.get(role=TaskRole.LEAD).pk])
    assert _delivery_line(resident.get(own).content.decode()) is None
    assert _delivery_line(officer.get(back).content.decode()) is None
    _deliver_at(datetime(2026, 11, 27, 6, 30, tzinfo=UTC), monkeypatch, case, actor=hall.clerk,
                method=DeliveryMethod.WINDOW)
    expected = ("已送达", "窗口领取 · 2026年11月27日 14:30")
    assert _delivery_line(resident.get(own).content.decode()) == expected
    assert _delivery_line(officer.get(back).content.decode()) == expected


def _ms(moment: datetime) -> datetime:
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)  # JSON keeps milliseconds


def test_api_case_and_public_track_show_when_and_how(hall: SimpleNamespace, track_budget: Any) -> None:
    case = _instant_case(hall)
    clerk = Api(hall.clerk)
    shown = clerk.client.get(f"{BASE}/cases/{case.number}", headers=clerk.headers).json()
    assert shown["delivered_at"] is None and shown["delivery_method"] is None
    r = clerk.deliver(case.number, {"method": "mail", "address": ADDRESS})
    assert r.status_code == 200, r.content
    fresh = Case.objects.get(pk=case.pk)
    assert fresh.delivered_at is not None
    answers = [
        r.json(),
        clerk.client.get(f"{BASE}/cases/{case.number}", headers=clerk.headers).json(),
        next(c for c in clerk.client.get(f"{BASE}/cases", headers=clerk.headers).json()["items"]
             if c["number"] == case.number),
        Client().get(f"{BASE}/track", {"number": case.number, "tail": hall.number[-4:]}).json(),
    ]
    for body in answers:
        assert body["delivery_method"] == "mail"
        delivered_at = parse_datetime(body["delivered_at"])
        assert delivered_at is not None and _ms(delivered_at) == _ms(fresh.delivered_at)
        assert ADDRESS not in json.dumps(body, ensure_ascii=False)
    labels = [step["label"] for step in answers[-1]["steps"]]
    assert labels[-2:] == ["办结：已办结（准予）", "已送达（邮寄送达）"]  # the approval is not relabelled 已送达
    schema = Client().get("/api/v1/openapi.json").json()["components"]["schemas"]
    for name in ("CaseOut", "CaseDetailOut", "TrackOut"):
        assert {"delivered_at", "delivery_method"} <= set(schema[name]["properties"])


def test_open311_updated_datetime_is_the_delivery(hall: SimpleNamespace, monkeypatch: pytest.MonkeyPatch) -> None:
    case = _instant_case(hall)
    later = timezone.now() + timedelta(hours=3)
    _deliver_at(later, monkeypatch, case, actor=hall.clerk, method=DeliveryMethod.WINDOW)
    row = Client().get(f"/open311/v2/requests/{case.number}.json").json()[0]
    assert row["status"] == "closed" and row["status_notes"] == "已批准，结果已送达"
    assert row["updated_datetime"] == later.astimezone(SH).replace(microsecond=0).isoformat()


def test_migration_fills_earlier_deliveries_from_the_audit(hall: SimpleNamespace) -> None:
    migration = importlib.import_module("gongzhi.services.migrations.0004_case_delivery")
    mailed = _instant_case(hall, "mailed")
    do_deliver_result(mailed, actor=hall.officers["T-RS"], method=DeliveryMethod.MAIL, address=ADDRESS)
    waiting = _instant_case(hall, "waiting")
    Case.objects.filter(pk=mailed.pk).update(delivered_at=None, delivery_method="")  # as before 0004
    migration.backfill_from_audit(apps, SimpleNamespace(connection=connection))
    event = AuditEvent.objects.get(verb="case.deliver", object_type="services.case", object_id=str(mailed.pk))
    fresh = Case.objects.get(pk=mailed.pk)
    assert (fresh.delivered_at, fresh.delivery_method) == (event.created_at, "mail")
    assert Case.objects.filter(pk=waiting.pk, delivered_at=None, delivery_method="").exists()
