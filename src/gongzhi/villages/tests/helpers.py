"""Builders shared by the villages tests and the authorization matrix's world."""

from __future__ import annotations

from datetime import date, timedelta
from types import SimpleNamespace
from typing import Any

from gongzhi.core.tests.actors import SYSTEM
from gongzhi.villages import actions as va
from gongzhi.villages.enums import ProjectStatus

USCC = "91440300MA5DC4N92Y"  # checked below with core's check


def uscc(body17: str) -> str:
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    total = sum(alphabet.index(c) * w for c, w in zip(body17, weights, strict=True))
    return body17 + alphabet[(31 - total % 31) % 31]


BUILDER = uscc("91440300192174135")

PLAN = [
    va.TaskSpec("survey", "测绘与方案", 10),
    va.TaskSpec("pipes", "雨污分流管网", 30, ("survey",)),
    va.TaskSpec("facade", "外立面整治", 40, ("survey",)),
    va.TaskSpec("fire", "消防设施", 20, ("pipes",)),
    va.TaskSpec("accept", "竣工验收", 5, ("fire", "facade")),
]


def build_project(place: Any, key: str, *, start: date, deadline: date, owner: Any = None, supervisor: Any = None,
                  plan: list[va.TaskSpec] | None = None) -> SimpleNamespace:
    village = va.do_create_village(place, f"V-{key}", f"{key}村", 2026, actor=SYSTEM)
    project = va.do_create_project(
        village, code=f"P-{key}", name=f"{key}村综合整治", scope="雨污分流、消防、外立面", budget="12500000.00",
        agent_builder_uscc=BUILDER, agent_builder_name="华润置地（深圳）有限公司", start_date=start, deadline=deadline,
        owner=owner, supervisor=supervisor, actor=SYSTEM)
    va.do_set_project_status(project, ProjectStatus.APPROVED, actor=SYSTEM)
    sched = va.do_set_plan(project, plan or PLAN, actor=SYSTEM)
    return SimpleNamespace(village=village, project=project, schedule=sched)


def matrix_objects(place: Any, side: str) -> dict[str, Any]:
    """A village with a project (and a progress photo), a published talent round and a drawn
    resettlement round, for the authorization matrix's world."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from gongzhi.core import clock

    today = clock.localdate()
    ns = build_project(place, f"MX{side}", start=today - timedelta(days=20), deadline=today + timedelta(days=200))
    png = SimpleUploadedFile("p.png", b"\x89PNG\r\n\x1a\n" + b"0" * 64, content_type="image/png")
    report = va.do_report_progress(ns.project, "survey", week_of=today, percent=50, photos=[png], actor=SYSTEM)
    rnd = va.do_open_talent_round(ns.village, "人才房第一批", 1, {"require": [], "score": []}, actor=SYSTEM)
    va.do_publish_ranking(rnd, actor=SYSTEM)
    rr, _seed = va.do_open_resettlement_round(ns.village, "回迁选房", "一号地块", "queue", actor=SYSTEM)
    return {"village": ns.village, "project": ns.project, "photo": report.photos.get(), "talent_round": rnd,
            "resettlement_round": rr}
