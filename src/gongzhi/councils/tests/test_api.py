"""``/api/v1/councils``: state, actions (200/409/422), events, minutes, public list."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from gongzhi.councils import actions
from gongzhi.councils.models import Meeting, MeetingEvent
from gongzhi.councils.tests.helpers import act, build_council, run_meeting

pytestmark = pytest.mark.django_db
BASE = "/api/v1/councils"


@pytest.fixture
def room(place_tree: Any, make_user: Callable[..., Any]) -> Any:
    return build_council(place_tree, make_user)


def client_for(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_lists_and_state_for_the_caller(room: Any) -> None:
    c = client_for(room.users[0])
    assert [x["id"] for x in c.get(f"{BASE}/councils").json()] == [room.council.pk]
    meetings = c.get(f"{BASE}/meetings").json()
    assert meetings[0]["id"] == room.meeting.pk and meetings[0]["agenda"][0] == "加装空调滴水管套管整改项目"
    state = c.get(f"{BASE}/meetings/{room.meeting.pk}").json()
    assert state["you"]["member"] == room.ids[0] and "arrive" in state["you"]["legal"]
    assert state["roster"][room.ids[0]] == "成员1" and state["state"]["agenda"]["items"][0]["title"]


def test_post_action_ok_stale_and_refused(room: Any) -> None:
    c = client_for(room.users[0])
    url = f"{BASE}/meetings/{room.meeting.pk}/actions"
    r = c.post(url, {"action": {"type": "arrive"}, "expected_version": 1}, content_type="application/json")
    assert r.status_code == 200, r.content
    assert r.json()["version"] == 2 and r.json()["state"]["state"]["quorum"]["present_members"] == 1
    r = c.post(url, {"action": {"type": "leave"}, "expected_version": 1}, content_type="application/json")
    assert r.status_code == 409 and r.json()["current_version"] == 2
    assert r.json()["detail"][0]["code"] == "stale" and "刷新" in r.json()["detail"][0]["message"]
    r = c.post(url, {"action": {"type": "speak", "stance": "pro"}}, content_type="application/json")
    assert r.status_code == 422 and r.json()["rule"] in ("no_floor", "nothing_pending")
    assert r.json()["detail"][0]["code"] == "refused" and r.json()["detail"][0]["message"]
    assert r.json()["message_en"]
    assert MeetingEvent.objects.filter(meeting=room.meeting).count() == 2


def test_action_errors_have_the_platforms_one_shape(room: Any) -> None:
    """Every refusal is ``{"detail": [{"loc", "msg", "type", "field", "message", "code"}], ...}``."""
    url = f"{BASE}/meetings/{room.meeting.pk}/actions"
    member = client_for(room.users[0])
    keys = {"loc", "msg", "type", "field", "message", "code"}
    # Recording for another member is for the chair or the secretary only: 403.
    r = member.post(url, {"action": {"type": "arrive"}, "on_behalf_of": room.ids[1]}, content_type="application/json")
    assert r.status_code in (403, 422)
    assert set(r.json()["detail"][0]) == keys
    # An unknown action type names the field at fault.
    r = member.post(url, {"action": {"type": "dance"}}, content_type="application/json")
    assert r.status_code == 422 and set(r.json()["detail"][0]) == keys and r.json()["rule"] == "invalid"
    # A secretary who is no member may not act for themselves: refused, one shape.
    r = client_for(room.secretary).post(url, {"action": {"type": "arrive"}}, content_type="application/json")
    assert r.status_code == 422 and set(r.json()["detail"][0]) == keys and r.json()["rule"] == "not_member"


def test_events_after_for_resync(room: Any) -> None:
    act(room, 0, "arrive")
    act(room, 1, "arrive")
    events = client_for(room.users[2]).get(f"{BASE}/meetings/{room.meeting.pk}/events?after=1").json()
    assert [e["seq"] for e in events] == [2, 3] and events[0]["payload"]["type"] == "Arrive"


def test_outside_jurisdiction_is_404(room: Any, place_tree: Any, make_user: Any) -> None:
    other = make_user("council_moderator", place_tree.community_a)  # 平山社区, another district
    c = client_for(other)
    assert c.get(f"{BASE}/meetings/{room.meeting.pk}").status_code == 404
    assert c.post(f"{BASE}/meetings/{room.meeting.pk}/actions", {"action": {"type": "arrive"}},
                  content_type="application/json").status_code == 404
    assert c.get(f"{BASE}/meetings").json() == []


def test_minutes_endpoints_and_public_list(room: Any) -> None:
    run_meeting(room)
    minutes = actions.do_generate_minutes(Meeting.objects.get(pk=room.meeting.pk), actor=room.mod_user)
    anon = Client()
    assert anon.get(f"{BASE}/minutes").json() == []
    assert anon.get(f"{BASE}/meetings/{room.meeting.pk}/minutes").status_code in (401, 404)
    member = client_for(room.users[0])
    data = member.get(f"{BASE}/meetings/{room.meeting.pk}/minutes").json()
    assert data["status"] == "draft" and data["verified"] is True
    actions.do_approve_minutes(minutes, actor=room.mod_user, as_role="chair")
    actions.do_approve_minutes(minutes, actor=room.secretary, as_role="secretary")
    public = anon.get(f"{BASE}/minutes").json()
    assert public[0]["meeting"] == room.meeting.pk and public[0]["digest"] == minutes.digest
    pdf = member.get(f"{BASE}/meetings/{room.meeting.pk}/minutes.pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf" and pdf.content[:4] == b"%PDF"
    docx = member.get(f"{BASE}/meetings/{room.meeting.pk}/minutes.docx")
    assert docx.status_code == 200 and docx.content[:2] == b"PK"


def test_openapi_lists_the_operations() -> None:
    schema = Client().get("/api/v1/openapi.json").json()
    paths = schema["paths"]
    for p in ("/councils", "/meetings", "/meetings/{meeting_id}", "/meetings/{meeting_id}/actions",
              "/meetings/{meeting_id}/events", "/meetings/{meeting_id}/minutes", "/minutes"):
        assert f"/api/v1/councils{p}" in paths
