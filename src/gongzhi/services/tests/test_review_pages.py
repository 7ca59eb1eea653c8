"""Pages for the people who act on reviews and visits: the department rectifies and appeals, the
supervisor decides appeals, the window records a visit. Each page is scoped like its action."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from gongzhi.accounts.enums import Role
from gongzhi.services.actions import (
    Intake,
    do_file_appeal,
    do_record_visit,
    do_review_case,
    do_submit_application,
)
from gongzhi.services.enums import AppealStatus, RectificationStatus, ReviewLevel
from gongzhi.services.errors import NotAllowed
from gongzhi.services.models import Appeal, Case, Rectification, Review

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def review(hall: SimpleNamespace) -> Review:
    """A bad review of an instant case (人社 decided it on the spot): a rectification is open."""
    app = do_submit_application(Intake(hall.number, ["T-RS-002"], form={"purpose": "入学"}),
                                actor=hall.clerk, channel="window", idempotency_key="rev")
    return do_review_case(app.cases.get(), ReviewLevel.DISSATISFIED, "窗口态度差", actor=hall.resident_user)


@pytest.fixture
def supervisor(hall: SimpleNamespace, make_user: Callable[..., Any]) -> Any:
    return make_user(Role.SUBDISTRICT_SUPERVISOR, hall.tree.taoyuan)


# --------------------------------------------------------------------------------- visits


def test_only_the_counter_records_a_visit(hall: SimpleNamespace, review: Review) -> None:
    case = review.case
    for actor in (hall.resident_user, hall.other_user, "worker"):
        with pytest.raises(NotAllowed):
            do_record_visit(case, actor=actor, purpose="x")
    assert Case.objects.get(pk=case.pk).visits == 1
    do_record_visit(case, actor=hall.clerk, purpose="咨询")
    assert Case.objects.get(pk=case.pk).visits == 2


def test_window_records_a_visit_and_shows_the_applicant_again(hall: SimpleNamespace, review: Review) -> None:
    r = _client(hall.clerk).post(reverse("services:window_visit", args=[review.case.number]),
                                 {"number": hall.number, "purpose": "补交材料"})
    assert r.status_code == 200 and "张伟明" in r.content.decode()
    assert Case.objects.get(pk=review.case.pk).visits == 2
    r = _client(hall.resident_user).post(reverse("services:window_visit", args=[review.case.number]),
                                         {"number": hall.number})
    assert r.status_code == 404
    assert Case.objects.get(pk=review.case.pk).visits == 2


# ------------------------------------------------------------------------- rectification


def test_department_sees_and_completes_its_rectification(hall: SimpleNamespace, review: Review) -> None:
    officer = _client(hall.officers["T-RS"])
    page = officer.get(reverse("services:reviews"))
    assert page.status_code == 200 and "窗口态度差" in page.content.decode()
    rect = review.rectification
    r = officer.post(reverse("services:rectification_complete", args=[rect.pk]),
                     {"action_note": "", "callback_note": ""})
    assert r.status_code == 422
    assert Rectification.objects.get(pk=rect.pk).status == RectificationStatus.OPEN
    r = officer.post(reverse("services:rectification_complete", args=[rect.pk]),
                     {"action_note": "窗口人员培训", "callback_note": "已电话回访，申请人表示满意"})
    assert r.status_code == 302
    assert Rectification.objects.get(pk=rect.pk).status == RectificationStatus.DONE


def test_other_departments_and_roles_do_not_see_it(hall: SimpleNamespace, review: Review,
                                                   make_user: Callable[..., Any]) -> None:
    other = _client(hall.officers["T-MZ"])
    assert "窗口态度差" not in other.get(reverse("services:reviews")).content.decode()
    assert other.post(reverse("services:rectification_complete", args=[review.rectification.pk]),
                      {"action_note": "x", "callback_note": "y"}).status_code == 404
    for user in (hall.resident_user, hall.clerk, make_user(Role.COUNCIL_MEMBER, hall.tree.pingshan)):
        assert _client(user).get(reverse("services:reviews")).status_code == 404
        assert _client(user).get(reverse("services:appeals")).status_code == 404


# ------------------------------------------------------------------------------- appeals


def test_department_appeals_and_supervisor_decides(hall: SimpleNamespace, review: Review, supervisor: Any) -> None:
    officer = _client(hall.officers["T-RS"])
    r = officer.post(reverse("services:review_appeal", args=[review.pk]), {"reason": ""})
    assert r.status_code == 422 and not Appeal.objects.exists()
    r = officer.post(reverse("services:review_appeal", args=[review.pk]), {"reason": "申请人当日未到窗口"})
    assert r.status_code == 302
    appeal = Appeal.objects.get()
    boss = _client(supervisor)
    page = boss.get(reverse("services:appeals"))
    assert page.status_code == 200 and "申请人当日未到窗口" in page.content.decode()
    r = boss.post(reverse("services:appeal_decide", args=[appeal.pk]), {"decision": "uphold", "note": "核实属实"})
    assert r.status_code == 302
    assert Appeal.objects.get().status == AppealStatus.UPHELD
    assert Rectification.objects.get().status == RectificationStatus.VOIDED


def test_supervisor_outside_the_place_does_not_see_the_appeal(
    hall: SimpleNamespace, review: Review, make_user: Callable[..., Any]
) -> None:
    appeal = do_file_appeal(review, "恶意差评", actor=hall.officers["T-RS"])
    far = _client(make_user(Role.SUBDISTRICT_SUPERVISOR, hall.tree.huangbei))
    assert "恶意差评" not in far.get(reverse("services:appeals")).content.decode()
    assert far.post(reverse("services:appeal_decide", args=[appeal.pk]), {"decision": "uphold"}).status_code == 404
    assert Appeal.objects.get().status == AppealStatus.PENDING
