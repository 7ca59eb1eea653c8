"""Pages and API of the villages app: the Gantt chart, progress with photos, published results."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from gongzhi.core import clock
from gongzhi.villages.tests.helpers import build_project

pytestmark = pytest.mark.django_db
PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 64


def test_gantt_marks_the_critical_chain(client: Any, place_tree: Any, users: dict[str, Any]) -> None:
    today = clock.localdate()
    ns = build_project(place_tree.pingshan, "g", start=today, deadline=today + timedelta(days=49))
    client.force_login(users["community_supervisor"])
    page = client.get(reverse("villages:gantt", args=[ns.project.pk])).content.decode()
    assert 'data-task="pipes" data-critical="1"' in page and 'data-task="facade" data-critical="0"' in page
    assert 'id="vg-infeasible"' in page
    assert "<script" not in page.split("<main", 1)[-1]  # no script in the chart


def test_progress_form_stores_a_photo_and_refuses_bad_input(client: Any, place_tree: Any, users: dict[str, Any]) -> None:
    today = clock.localdate()
    ns = build_project(place_tree.pingshan, "f", start=today - timedelta(days=5), deadline=today + timedelta(days=100))
    client.force_login(users["community_worker"])
    url = reverse("villages:progress", args=[ns.project.pk])
    bad = client.post(url, {"task": "survey", "percent": "abc"})
    assert bad.status_code == 422 and "完成百分比" in bad.content.decode()
    bad = client.post(url, {"task": "nope", "percent": "10"})
    assert bad.status_code == 422
    assert not ns.project.reports.exists()
    ok = client.post(url, {"task": "survey", "percent": "40",
                           "photos": SimpleUploadedFile("a.png", PNG, content_type="image/png")})
    assert ok.status_code == 302
    photo = ns.project.reports.get().photos.get()
    got = client.get(reverse("villages:photo", args=[ns.project.pk, photo.pk]))
    assert got.status_code == 200 and b"".join(got.streaming_content).startswith(b"\x89PNG")
    # a supervisor reads but does not write
    client.force_login(users["community_supervisor"])
    assert client.post(url, {"task": "survey", "percent": "50"}).status_code == 403


def test_outsiders_get_404(client: Any, place_tree: Any, users: dict[str, Any]) -> None:
    today = clock.localdate()
    ns = build_project(place_tree.wenhua, "far", start=today, deadline=today + timedelta(days=100))
    client.force_login(users["community_worker"])
    assert client.get(reverse("villages:project", args=[ns.project.pk])).status_code == 404
    assert client.get(f"/api/v1/villages/projects/{ns.project.pk}/schedule").status_code == 404
    assert client.get("/api/v1/villages/projects").json() == []


def test_schedule_api(client: Any, place_tree: Any, users: dict[str, Any]) -> None:
    today = clock.localdate()
    ns = build_project(place_tree.pingshan, "api", start=today, deadline=today + timedelta(days=49))
    client.force_login(users["district_supervisor"])
    body = client.get(f"/api/v1/villages/projects/{ns.project.pk}/schedule").json()
    assert body["feasible"] is False and body["min_float"] == -15
    assert body["critical_chain"] == ["survey", "pipes", "fire", "accept"]


def test_portfolio_badges(client: Any, place_tree: Any, users: dict[str, Any]) -> None:
    today = clock.localdate()
    build_project(place_tree.pingshan, "late", start=today, deadline=today + timedelta(days=49))
    build_project(place_tree.pingshan, "tight", start=today, deadline=today + timedelta(days=70))
    build_project(place_tree.pingshan, "easy", start=today, deadline=today + timedelta(days=200))
    client.force_login(users["community_worker"])
    page = client.get(reverse("villages:portfolio")).content.decode()
    assert page.count("已无法按期完成") == 1 and page.count("有延期风险") == 1 and page.count("进度正常") == 1
