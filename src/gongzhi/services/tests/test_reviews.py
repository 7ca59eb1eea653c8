"""好差评 (State Council 2019 No. 51): five levels, rectification with call-back, appeals."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from django.utils import timezone

from gongzhi.accounts.enums import Role
from gongzhi.core.calendar import add_working_days
from gongzhi.core.models import AuditEvent
from gongzhi.services.actions import (
    RECTIFY_DAYS,
    Intake,
    do_complete_rectification,
    do_decide_appeal,
    do_file_appeal,
    do_review_case,
    do_submit_application,
)
from gongzhi.services.enums import AppealStatus, RectificationStatus, ReviewLevel
from gongzhi.services.errors import NotAllowed, ReviewError
from gongzhi.services.models import Appeal, Case, Rectification, Review

pytestmark = pytest.mark.django_db


def closed_case(hall: SimpleNamespace, key: str) -> Case:
    """An instant item (社保参保证明打印) is decided on the spot: closed, ready to be reviewed."""
    app = do_submit_application(Intake(hall.number, ["T-RS-002"], form={"purpose": "入学"}),
                                actor=hall.clerk, channel="window", idempotency_key=key)
    case = app.cases.get()
    assert case.closed_at is not None
    return case


@pytest.fixture
def bad_review(hall: SimpleNamespace) -> Review:
    return do_review_case(closed_case(hall, "bad"), ReviewLevel.DISSATISFIED, "窗口态度差", actor=hall.resident_user)


@pytest.fixture
def supervisor(hall: SimpleNamespace, make_user: Callable[..., Any]) -> Any:
    return make_user(Role.SUBDISTRICT_SUPERVISOR, hall.tree.taoyuan)


@pytest.mark.parametrize("level", [5, 4, 3])
def test_good_and_middling_levels_open_no_rectification(hall: SimpleNamespace, level: int) -> None:
    case = closed_case(hall, f"good-{level}")
    review = do_review_case(case, level, "", actor=hall.resident_user)
    assert review.level == level and review.reviewer == hall.resident_user
    assert not Rectification.objects.exists()
    assert AuditEvent.objects.filter(verb="case.review", object_id=str(case.pk)).exists()


@pytest.mark.parametrize("level", [2, 1])
def test_bad_levels_open_a_rectification_with_a_deadline(hall: SimpleNamespace, level: int) -> None:
    case = closed_case(hall, f"bad-{level}")
    review = do_review_case(case, level, "办理太慢", actor=hall.resident_user)
    rect = Rectification.objects.get(review=review)
    assert rect.status == RectificationStatus.OPEN
    assert rect.department == case.department
    assert rect.due == add_working_days(timezone.localdate(), RECTIFY_DAYS).deadline


def test_rectification_deadline_is_configurable(hall: SimpleNamespace, settings: Any) -> None:
    settings.SERVICES_RECTIFY_DAYS = 5
    review = do_review_case(closed_case(hall, "cfg"), 1, actor=hall.resident_user)
    assert review.rectification.due == add_working_days(timezone.localdate(), 5).deadline


@pytest.mark.parametrize("level", [0, 6, -1])
def test_levels_outside_one_to_five_are_refused(hall: SimpleNamespace, level: int) -> None:
    with pytest.raises(ReviewError) as err:
        do_review_case(closed_case(hall, f"lvl{level}"), level, actor=hall.resident_user)
    assert err.value.field == "level"
    assert not Review.objects.exists()


def test_rectification_completed_with_call_back(hall: SimpleNamespace, bad_review: Review) -> None:
    rect = bad_review.rectification
    officer = hall.officers["T-RS"]  # the case's department (人社局)
    with pytest.raises(ReviewError):
        do_complete_rectification(rect, action_note="已培训窗口人员", callback_note=" ", actor=officer)
    with pytest.raises(NotAllowed):
        do_complete_rectification(rect, action_note="整改", callback_note="回访", actor=hall.officers["T-MZ"])
    rect.refresh_from_db()
    assert rect.status == RectificationStatus.OPEN

    done = do_complete_rectification(rect, action_note="已培训窗口人员", callback_note="电话回访，申请人表示满意",
                                     actor=officer)
    assert done.status == RectificationStatus.DONE and done.callback_at is not None
    assert done.callback_note == "电话回访，申请人表示满意"
    assert AuditEvent.objects.filter(verb="review.rectify").count() == 1
    with pytest.raises(ReviewError):
        do_complete_rectification(done, action_note="再次", callback_note="再次", actor=officer)


def test_department_appeals_and_supervisor_upholds(hall: SimpleNamespace, bad_review: Review, supervisor: Any) -> None:
    officer = hall.officers["T-RS"]
    with pytest.raises(ReviewError):
        do_file_appeal(bad_review, "  ", actor=officer)
    with pytest.raises(NotAllowed):
        do_file_appeal(bad_review, "恶意差评", actor=hall.officers["T-SJ"])  # not the case's department
    appeal = do_file_appeal(bad_review, "申请人当日未到窗口，评价与事实不符", actor=officer)
    assert appeal.status == AppealStatus.PENDING
    with pytest.raises(ReviewError):
        do_file_appeal(bad_review, "再次申诉", actor=officer)

    with pytest.raises(NotAllowed):
        do_decide_appeal(appeal, upheld=True, actor=officer)  # a department cannot judge its own appeal
    decided = do_decide_appeal(appeal, upheld=True, note="经核实监控，申诉成立", actor=supervisor)
    assert decided.status == AppealStatus.UPHELD and decided.decided_by == supervisor
    assert Rectification.objects.get(review=bad_review).status == RectificationStatus.VOIDED
    with pytest.raises(ReviewError):
        do_decide_appeal(decided, upheld=False, actor=supervisor)
    assert AuditEvent.objects.filter(verb="review.appeal_decide").count() == 1


def test_dismissed_appeal_keeps_the_rectification(hall: SimpleNamespace, bad_review: Review, supervisor: Any) -> None:
    appeal = do_file_appeal(bad_review, "恶意差评", actor=hall.officers["T-RS"])
    do_decide_appeal(appeal, upheld=False, note="证据不足", actor=supervisor)
    assert Appeal.objects.get(pk=appeal.pk).status == AppealStatus.DISMISSED
    assert Rectification.objects.get(review=bad_review).status == RectificationStatus.OPEN


def test_supervisor_outside_the_case_scope_cannot_decide(
    hall: SimpleNamespace, bad_review: Review, make_user: Callable[..., Any]
) -> None:
    appeal = do_file_appeal(bad_review, "恶意差评", actor=hall.officers["T-RS"])
    far = make_user(Role.SUBDISTRICT_SUPERVISOR, hall.tree.huangbei)
    with pytest.raises(NotAllowed):
        do_decide_appeal(appeal, upheld=True, actor=far)
    assert Appeal.objects.get(pk=appeal.pk).status == AppealStatus.PENDING


def test_good_review_cannot_be_appealed(hall: SimpleNamespace) -> None:
    review = do_review_case(closed_case(hall, "fine"), 4, actor=hall.resident_user)
    with pytest.raises(ReviewError):
        do_file_appeal(review, "不服", actor=hall.officers["T-RS"])
    assert not Appeal.objects.exists()


def test_only_the_applicant_reviews_once_after_closing(hall: SimpleNamespace) -> None:
    case = closed_case(hall, "once")
    for stranger in (hall.other_user, hall.clerk, hall.officers["T-RS"]):
        with pytest.raises(ReviewError) as err:
            do_review_case(case, 5, actor=stranger)
        assert "本人" in err.value.message
    do_review_case(case, 5, "很快", actor=hall.resident_user)
    with pytest.raises(ReviewError) as err:
        do_review_case(case, 1, "改评差评", actor=hall.resident_user)
    assert "重复" in err.value.message
    assert Review.objects.get(case=case).level == 5 and not Rectification.objects.exists()


def test_open_case_cannot_be_reviewed(hall: SimpleNamespace) -> None:
    app = do_submit_application(Intake(hall.number, ["T-MZ-001"], form={"reason": "困难"}, accept_gaps=True),
                                actor=hall.clerk, channel="window", idempotency_key="open")
    with pytest.raises(ReviewError) as err:
        do_review_case(app.cases.get(), 5, actor=hall.resident_user)
    assert "办结" in err.value.message
    assert not Review.objects.exists()
