"""Portfolio, plans, progress and alerts through the actions (both databases)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from gongzhi.core import clock
from gongzhi.core.errors import ActionError, NotAllowedError
from gongzhi.core.models import AuditEvent, Timer
from gongzhi.core.tests.actors import SYSTEM
from gongzhi.villages import actions as va
from gongzhi.villages.models import ScheduleAlert
from gongzhi.villages.tests.helpers import BUILDER, PLAN, build_project

pytestmark = pytest.mark.django_db
PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 64


def test_a_plan_with_room_is_on_track(place_tree: Any, users: dict[str, Any]) -> None:
    today = clock.localdate()
    ns = build_project(place_tree.pingshan, "ok", start=today, deadline=today + timedelta(days=120),
                       owner=users["community_worker"], supervisor=users["community_supervisor"])
    assert ns.schedule.feasible and ns.schedule.critical_chain() == ["survey", "pipes", "fire", "accept"]
    ns.project.refresh_from_db()
    assert ns.project.projected_finish == today + timedelta(days=64) and ns.project.min_float == 56
    assert not ScheduleAlert.objects.exists()
    assert Timer.objects.filter(kind=va.CHECK_TIMER, payload__project_id=ns.project.pk).exists()


def test_an_infeasible_deadline_alerts_owner_and_supervisor(place_tree: Any, users: dict[str, Any]) -> None:
    today = clock.localdate()
    owner, sup = users["community_worker"], users["community_supervisor"]
    ns = build_project(place_tree.pingshan, "late", start=today, deadline=today + timedelta(days=49),
                       owner=owner, supervisor=sup)
    assert not ns.schedule.feasible and ns.schedule.min_float == -15
    alerts = ScheduleAlert.objects.filter(project=ns.project, closed_at__isnull=True, kind="negative_float")
    assert {a.recipient_id for a in alerts} == {owner.pk, sup.pk}
    assert {a.task_key for a in alerts} == {"survey", "pipes", "fire", "accept", "facade"}  # facade: -5


def test_progress_report_with_photo_reprojects_and_closes_alerts(place_tree: Any, users: dict[str, Any]) -> None:
    today = clock.localdate()
    owner = users["community_worker"]
    ns = build_project(place_tree.pingshan, "prog", start=today - timedelta(days=20),
                       deadline=today + timedelta(days=60), owner=owner)
    # nothing reported: survey should have started 13 days before the latest start passed → late
    assert ScheduleAlert.objects.filter(project=ns.project, kind="late_start", task_key="survey").exists()
    photo = SimpleUploadedFile("site.png", PNG, content_type="image/png")
    report = va.do_report_progress(ns.project, "survey", week_of=today, percent=100,
                                   started_on=today - timedelta(days=20), finished_on=today - timedelta(days=11),
                                   photos=[photo], actor=owner)
    assert report.photos.count() == 1
    assert not ScheduleAlert.objects.filter(project=ns.project, task_key="survey", closed_at__isnull=True).exists()
    assert AuditEvent.objects.filter(verb="villages.report_progress").exists()


def test_bad_input_is_refused_and_nothing_stored(place_tree: Any, users: dict[str, Any]) -> None:
    today = clock.localdate()
    ns = build_project(place_tree.pingshan, "bad", start=today, deadline=today + timedelta(days=100))
    with pytest.raises(ActionError) as e:
        va.do_set_plan(ns.project, [va.TaskSpec("a", "甲", 1, ("b",)), va.TaskSpec("b", "乙", 1, ("a",))], actor=SYSTEM)
    assert e.value.field == "tasks" and e.value.code == "cycle"
    assert ns.project.tasks.count() == len(PLAN)
    with pytest.raises(ActionError) as e:
        va.do_report_progress(ns.project, "survey", week_of=today, percent=30,
                              photos=[SimpleUploadedFile("x.png", b"not an image", content_type="image/png")],
                              actor=SYSTEM)
    assert e.value.field == "file"
    assert not ns.project.reports.exists()
    with pytest.raises(ActionError) as e:
        va.do_create_project(ns.village, code="X", name="x", scope="", budget="1", agent_builder_uscc=BUILDER[:-1] + "0",
                             agent_builder_name="x", start_date=today, deadline=today + timedelta(days=1), actor=SYSTEM)
    assert e.value.field == "agent_builder_uscc"
    with pytest.raises(ActionError):
        va.do_create_project(ns.village, code="X", name="x", scope="", budget="1", agent_builder_uscc=BUILDER,
                             agent_builder_name="x", start_date=today, deadline=today, actor=SYSTEM)


def test_outside_the_jurisdiction_is_not_allowed(place_tree: Any, users: dict[str, Any], make_user: Any) -> None:
    today = clock.localdate()
    ns = build_project(place_tree.wenhua, "far", start=today, deadline=today + timedelta(days=100))
    with pytest.raises(NotAllowedError):
        va.do_report_progress(ns.project, "survey", week_of=today, percent=10, actor=users["community_worker"])
    with pytest.raises(NotAllowedError):
        va.do_report_progress(ns.project, "survey", week_of=today, percent=10, actor=users["council_member"])


def test_the_daily_timer_raises_late_starts_as_days_pass(place_tree: Any, users: dict[str, Any]) -> None:
    start = date(2026, 3, 2)
    owner = users["community_worker"]
    with clock.frozen_at(clock.now().replace(year=2026, month=3, day=2, hour=2)):
        ns = build_project(place_tree.pingshan, "tick", start=start, deadline=start + timedelta(days=70), owner=owner)
    assert not ScheduleAlert.objects.filter(project=ns.project).exists()
    timer = Timer.objects.get(kind=va.CHECK_TIMER, payload__project_id=ns.project.pk)
    with clock.frozen_at(clock.now().replace(year=2026, month=3, day=20, hour=2)):
        va.handle_schedule_check(timer)
        assert ScheduleAlert.objects.filter(project=ns.project, kind="late_start", task_key="survey").exists()
        assert Timer.objects.filter(kind=va.CHECK_TIMER, payload__project_id=ns.project.pk).count() == 2
